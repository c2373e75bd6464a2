#!/usr/bin/env python3
"""An Arabic precision proxy for document derivation (issue #17): SaudiNewsNet articles of two days two weeks
apart, every cross-outlet candidate pair aligned and its derivation row computed in process.

usage: python bench/derivation_snn_proxy.py [--per-day 800] [--days 2015-07-21 2015-08-04] [--exact-words]

Prepares the first ``--per-day`` articles of each day (as the reuse stage does, without boilerplate flags),
indexes them, aligns every candidate pair of two different outlets (:func:`~newsdedup.tasks.align.align_pair`
with the corpus rarity) and labels each pair with matches (:func:`~newsdedup.tasks.derivation.derivation_row`).
Pairs of different days (two weeks apart: almost always different stories) labelled derived are the proxy;
same-day pairs labelled derived (most are reprints of the agency wire) say what is found. ``--exact-words``: the
words shared without spelling variants (:func:`~newsdedup.tasks.rewrite.variant_shares` replaced by the exact
shares) and the thresholds before them (0.20 / 0.66), for a before/after. Numbers only; nothing asserts.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import SHARED  # noqa: E402

import newsdedup.tasks.align as align  # noqa: E402
from newsdedup.tasks.align import PARAMS, ReuseDoc, align_pair, prepare  # noqa: E402
from newsdedup.tasks.candidates import CandidateIndex  # noqa: E402
from newsdedup.tasks.derivation import DERIVATION_PARAMS, DerivationParams, derivation_row  # noqa: E402
from newsdedup.tasks.rewrite import shared_vocabulary  # noqa: E402

SNN = SHARED / "bench" / "saudinewsnet"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-day", type=int, default=800)
    ap.add_argument("--days", nargs=2, default=["2015-07-21", "2015-08-04"])
    ap.add_argument("--exact-words", action="store_true")
    args = ap.parse_args()
    params = DERIVATION_PARAMS
    if args.exact_words:
        align.variant_shares = lambda a, b, rarity, p=None: shared_vocabulary(a, b, rarity)[:2]
        params = DerivationParams(derived=0.20, wholly=0.66)
    docs = []
    for day in args.days:
        arr = json.load(zipfile.ZipFile(SNN / f"{day}.zip").open(f"{day}.json"))
        docs += [{"id": f"{day}_{k}", "text": d["content"], "outlet": d["source"], "published": day}
                 for k, d in enumerate(arr[: args.per_day]) if d.get("content")]
    by_id = {d["id"]: d for d in docs}
    prepared = {d["id"]: prepare(ReuseDoc(d["id"], d["text"], published=d["published"])) for d in docs}
    index = CandidateIndex()
    index.add(list(prepared.values()))
    cands = sorted(pair for pair, _ in index.candidate_counts(list(prepared.values())))
    rarity = index.rarity()
    got: collections.Counter = collections.Counter()
    for a, b in cands:
        if by_id[a]["outlet"] == by_id[b]["outlet"]:
            continue
        ms = align_pair(prepared[a], prepared[b], PARAMS, None, rarity)
        if not ms:
            continue
        rows = [dict(a_start=m.a_start, a_end=m.a_end, b_start=m.b_start, b_end=m.b_end, kind=m.kind, method=m.method,
                     a_words=m.a_words, b_words=m.b_words, rare_words=m.rare_words) for m in ms]
        side = {k: {"doc_id": k, "external_id": k, "published": by_id[k]["published"], "body": len(by_id[k]["text"])}
                for k in (a, b)}
        row = derivation_row(side[a], side[b], rows, params)
        got[("two weeks apart" if by_id[a]["published"] != by_id[b]["published"] else "same day", row["derivation"])] += 1
    print(json.dumps({"documents": len(docs), "candidate_pairs": len(cands), "exact_words": args.exact_words,
                      "thresholds": [params.derived, params.wholly],
                      "rows": {f"{k[0]}: {k[1]}": v for k, v in sorted(got.items())}}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
