#!/usr/bin/env python3
"""Why some derived pairs of counter-dev have no derivation row: the stages in process, pair by pair.

usage: python bench/derivation_unmatched.py

Prepares the 600 counter-dev documents as the reuse stage does (no boilerplate: the corpus has none), indexes
them, and for every labelled pair records whether the index proposes it (``candidate``), how many matches the
aligner gives it with the corpus rarity (``matches``, retold sentences included), and both sides' rarity-weighted
words shared (:func:`~newsdedup.tasks.rewrite.shared_vocabulary`: ``words_derived`` is the share of the derived
side's vocabulary found in its source). Then, among the pairs without any match, how many derived and how many
non-derived pairs reach each level of words shared: if the two counts are alike, rows for unmatched pairs
would add as many false derivations as true ones. Writes ``bench/results/derivation_unmatched.json``.
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, SHARED, write_json  # noqa: E402

from newsdedup.tasks.align import PARAMS, ReuseDoc, align_pair, prepare  # noqa: E402
from newsdedup.tasks.candidates import CandidateIndex  # noqa: E402
from newsdedup.tasks.rewrite import shared_vocabulary  # noqa: E402

COUNTER = SHARED / "bench" / "counter-dev"


def main() -> int:
    docs = [json.loads(line) for line in open(COUNTER / "documents.jsonl", encoding="utf-8") if line.strip()]
    prepared = [prepare(ReuseDoc(str(d["id"]), d["text"], published=d.get("published"))) for d in docs]
    by_id = {p.doc_id: p for p in prepared}
    index = CandidateIndex()
    index.add(prepared)
    cands = {pair for pair, _ in index.candidate_counts(prepared)}
    rarity = index.rarity()
    rows = []
    for t in (json.loads(line) for line in open(COUNTER / "truth.jsonl", encoding="utf-8") if line.strip()):
        for s in t.get("sources") or [t["a"]]:
            if t["b"] not in by_id or s not in by_id:
                continue
            a, b = sorted((t["b"], s))
            ms = align_pair(by_id[a], by_id[b], PARAMS, None, rarity)
            wd, ws, rare = shared_vocabulary(by_id[t["b"]], by_id[s], rarity)
            rows.append({"derived": t["b"], "source": s, "label": t["label"], "candidate": (a, b) in cands,
                         "matches": len(ms), "methods": sorted({m.method for m in ms}),
                         "words_derived": round(wd, 3), "words_source": round(ws, 3), "rare_words": rare})
    unmatched = [r for r in rows if r["matches"] == 0]
    by_label = collections.Counter(r["label"] for r in unmatched)
    levels = {}
    for th in (0.15, 0.2, 0.25, 0.3, 0.35):
        levels[str(th)] = {
            "derived_side": {k: sum(1 for r in unmatched if r["label"] == k and r["words_derived"] >= th)
                             for k in ("wholly", "partially", "non")},
            "either_side": {k: sum(1 for r in unmatched if r["label"] == k
                                   and max(r["words_derived"], r["words_source"]) >= th)
                            for k in ("wholly", "partially", "non")}}
    out = {"command": "python bench/derivation_unmatched.py", "pairs": len(rows),
           "unmatched_by_label": dict(by_label),
           "unmatched_derived_candidates": sum(1 for r in unmatched if r["label"] != "non" and r["candidate"]),
           "unmatched_reaching_words_shared": levels,
           "unmatched_derived": [r for r in unmatched if r["label"] != "non"]}
    write_json(RESULTS / "derivation_unmatched.json", out)
    print(json.dumps({k: v for k, v in out.items() if k != "unmatched_derived"}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
