#!/usr/bin/env python3
"""A random sample of claim clusters with an attribution, for reading by eye (issue #17 part 5).

usage: python bench/attribution_sample.py --db NAME [--n 50] [--seed 17] [--min-outlets 2]
                                          [--out bench/results/attribution_sample.md]

Reads the ``clusters`` export of a database already built (for the issue's measurement: the whole of
SaudiNewsNet, ``newsdedup run ../shared/bench/saudinewsnet --map text=content,outlet=source,published=date_extracted
--db saudi``), keeps the ``claim`` clusters (every cluster when the database has no kinds) with at least
``--min-outlets`` outlets and a non-null ``attribution``, and draws ``--n`` of them with a fixed seed. For
each it writes the attribution, the outlets, and the member text around the cue that names it (the first
member whose own attributions include it), so a reader can say whether it names the real source.

Writes a Markdown file with a verdict column left empty (``?``) and a JSON twin; the verdicts are filled
in by hand and counted at the end of the Markdown file.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, ROOT  # noqa: E402

from newsdedup.tasks.attribution import attributions, vote_attribution  # noqa: E402
from newsdedup.tasks.normalize import normalize_text  # noqa: E402

CONTEXT = 110


def clusters_of(db: str) -> list[dict]:
    proc = subprocess.run([sys.executable, "-m", "newsdedup.cli", "export", "clusters", "--db", db],
                          capture_output=True, text=True, check=True, cwd=str(ROOT))
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def evidence(c: dict) -> dict:
    """The member and the text around the position where its own attributions name the cluster's."""
    want = normalize_text(c["attribution"])
    for m in c["members"]:
        text = m.get("text") or ""
        for pos, name in attributions(text, m.get("outlet")):
            if normalize_text(name) == want:
                lo, hi = max(0, pos - CONTEXT), min(len(text), pos + len(name) + CONTEXT)
                return {"outlet": m.get("outlet"), "external_id": m.get("external_id"),
                        "context": ("…" if lo else "") + text[lo:hi].replace("\n", " ") + ("…" if hi < len(text) else "")}
    return {"outlet": None, "external_id": None, "context": None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--min-outlets", type=int, default=2)
    ap.add_argument("--out", default=str(RESULTS / "attribution_sample.md"))
    ap.add_argument("--recompute", action="store_true",
                    help="vote the attributions again from the members' texts with the current code (the functions the "
                         "cluster stage calls) instead of reading the stored ones")
    args = ap.parse_args()
    cs = clusters_of(args.db)
    if args.recompute:
        for c in cs:
            c["attribution"] = vote_attribution([attributions(m.get("text") or "", m.get("outlet")) for m in c["members"]])
    has_kind = any("kind" in c for c in cs)
    pool = [c for c in cs if (c.get("kind") == "claim" or not has_kind) and c["n_outlets"] >= args.min_outlets
            and c.get("attribution")]
    sample = random.Random(args.seed).sample(pool, min(args.n, len(pool)))
    sample.sort(key=lambda c: c["cluster_id"])
    rows = [{"cluster_id": c["cluster_id"], "kind": c.get("kind"), "n_outlets": c["n_outlets"], "size": c["size"],
             "attribution": c["attribution"], **evidence(c), "verdict": "?"} for c in sample]
    claims = [c for c in cs if c.get("kind") == "claim" or not has_kind]
    stats = {"clusters": len(cs), "claims": len(claims),
             "claims_min_outlets": sum(1 for c in claims if c["n_outlets"] >= args.min_outlets),
             "with_attribution": len(pool), "sampled": len(rows), "seed": args.seed}
    out = Path(args.out)
    lines = [f"# Attribution sample: {len(rows)} random claim clusters with ≥ {args.min_outlets} outlets and an "
             f"attribution (database `{args.db}`)", "",
             f"`python bench/attribution_sample.py --db {args.db} --n {args.n} --seed {args.seed}"
             f"{' --recompute' if args.recompute else ''}` — "
             f"{stats['with_attribution']} of {stats['claims_min_outlets']} such claims have an attribution "
             f"({stats['clusters']} clusters in all). Verdict: ✓ names the real source of the claim, ✗ does not "
             "(a name merely mentioned, a wrong span, the outlet's own name), ~ names it with extra or missing words.",
             "", "| # | cluster | outlets | attribution | where (member outlet: text around the cue) | verdict |",
             "|---|---|---|---|---|---|"]
    for i, r in enumerate(rows, 1):
        ctx = (r["context"] or "").replace("|", "\\|")
        lines.append(f"| {i} | `{r['cluster_id']}` | {r['n_outlets']} | {r['attribution']} | {r['outlet']}: {ctx} | "
                     f"{r['verdict']} |")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps({"stats": stats, "rows": rows}, ensure_ascii=False, indent=1) + "\n",
                                        encoding="utf-8")
    print(json.dumps(stats))
    print(f"wrote {out} and {out.with_suffix('.json')}")


if __name__ == "__main__":
    main()
