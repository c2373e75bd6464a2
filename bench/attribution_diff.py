#!/usr/bin/env python3
"""Attributions of a database's clusters with the code checked out, saved and compared (issue #17).

usage: python bench/attribution_diff.py --db NAME --save FILE            # every member text's attributions
       python bench/attribution_diff.py --db NAME --against FILE [--show N]   # what changed since FILE
       python bench/attribution_diff.py --db NAME --samples                  # ✓ rows of the read samples

``--save`` writes, for each cluster, its voted attribution and each member text's own attributions
(:func:`attributions`), so that a rule can be checked on the whole corpus: ``--against`` counts the member
texts and the clusters whose attribution changes and prints up to ``--show`` of them with the text around
the old and the new name. ``--samples`` recomputes the clusters of every read sample
(``bench/results/attribution_sample*.md``) and lists the rows read ✓ whose attribution is no longer the one
read; none should be.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from attribution_sample import clusters_of  # noqa: E402
from common import RESULTS  # noqa: E402

from newsdedup.tasks.attribution import attributions, vote_attribution  # noqa: E402


def compute(cs: list[dict]) -> dict:
    out = {}
    for c in cs:
        found = [attributions(m.get("text") or "", m.get("outlet")) for m in c["members"]]
        out[c["cluster_id"]] = {"kind": c.get("kind"), "n_outlets": c["n_outlets"],
                                "attribution": vote_attribution(found), "members": [[list(x) for x in f] for f in found]}
    return out


def digest(res: dict) -> str:
    return hashlib.sha256(json.dumps(res, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


def around(text: str, pos: int, width: int = 90) -> str:
    return text[max(0, pos - 30):pos + width].replace("\n", " ")


def sample_rows() -> list[tuple[str, int, str, str, str]]:
    rows = []
    for f in sorted(RESULTS.glob("attribution_sample*.md")):
        for line in f.read_text(encoding="utf-8").splitlines():
            cells = [x.strip() for x in re.split(r"(?<!\\)\|", line)[1:-1]]
            if len(cells) == 6 and cells[1].startswith("`"):
                rows.append((f.name, int(cells[0]), cells[1].strip("`"), cells[3], cells[5]))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--save")
    ap.add_argument("--against")
    ap.add_argument("--show", type=int, default=40)
    ap.add_argument("--samples", action="store_true")
    args = ap.parse_args()
    cs = clusters_of(args.db)
    if args.samples:
        by_id = {c["cluster_id"]: c for c in cs}
        rows = sample_rows()
        bad = missing = ok = 0
        for name, i, cid, attr, verdict in rows:
            if not verdict.startswith("✓"):
                continue
            c = by_id.get(cid)
            if c is None:
                missing += 1
                continue
            now = vote_attribution([attributions(m.get("text") or "", m.get("outlet")) for m in c["members"]])
            if (now or "") != attr:
                bad += 1
                print(f"{name} #{i} {cid}: read ✓ {attr!r} -> now {now!r}")
            else:
                ok += 1
        print(json.dumps({"rows": len(rows), "checked_ok": ok, "changed": bad, "not_in_db": missing}))
        return
    res = compute(cs)
    print(json.dumps({"clusters": len(res), "member_texts": sum(len(r["members"]) for r in res.values()),
                      "hash": digest(res)}))
    if args.save:
        Path(args.save).write_text(json.dumps(res, ensure_ascii=False), encoding="utf-8")
    if args.against:
        old = json.loads(Path(args.against).read_text(encoding="utf-8"))
        texts = {c["cluster_id"]: c for c in cs}
        mem = clu = claim_attr = 0
        shown = 0
        for cid, r in res.items():
            o = old.get(cid)
            if o is None:
                continue
            for k, (a, b) in enumerate(zip(o["members"], r["members"])):
                if a != b:
                    mem += 1
                    if shown < args.show:
                        shown += 1
                        m = texts[cid]["members"][k]
                        text = m.get("text") or ""
                        print(f"--- {cid} [{k}] {m.get('outlet')}")
                        gone = [n for p, n in a if [p, n] not in b]
                        came = [n for p, n in b if [p, n] not in a]
                        print(f"  - {gone}  + {came}")
                        for p in sorted({p for p, _ in a} | {p for p, _ in b}):
                            print(f"    …{around(text, p)}…")
            if o["attribution"] != r["attribution"]:
                clu += 1
                if r["kind"] == "claim" and r["n_outlets"] >= 2:
                    claim_attr += 1
        print(json.dumps({"member_texts_changed": mem, "clusters_changed": clu, "claims_2plus_changed": claim_attr}))


if __name__ == "__main__":
    main()
