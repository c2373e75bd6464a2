#!/usr/bin/env python3
"""Score the product as outside checks do: ``newsdedup run`` → ``newsdedup export`` → the shared scorers.

Runs, in a fresh temporary NEWSDEDUP_HOME (its own embedded database and Prefect server):
- the seeds against ../shared/gold/seeds.json (``eval_seeds.py``),
- the 3,000-sentence language set (``eval_lang.py``),
- araplagdet-dev with its manifest (``plagdet.py``, PAN measures).
Prints one JSON object and writes it to bench/results/product_eval.json.

usage: python bench/eval_product.py [--only seeds,lang,plag] [--shared ../shared]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cli(env: dict, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "newsdedup.cli", *args], env=env, capture_output=True, text=True,
                          cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"newsdedup {' '.join(args)} failed: {proc.stderr.strip()[-500:]}")
    return proc.stdout


def run_and_export(env: dict, db: str, run_args: list[str], kinds: list[str], out: Path) -> dict:
    t0 = time.monotonic()
    summary = json.loads(cli(env, "run", *run_args, "--db", db, "--json").strip().splitlines()[-1])
    wall = round(time.monotonic() - t0, 2)
    out.mkdir(parents=True, exist_ok=True)
    for k in kinds:
        cli(env, "export", k, "--db", db, "-o", str(out / f"{k}.jsonl"))
    return {"wall_s": wall, "timings": summary["timings"], "counts": summary["counts"]}


def score(script: Path, *args: Path) -> dict:
    proc = subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True, text=True)
    return json.loads(proc.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="seeds,lang,plag")
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    args = ap.parse_args()
    shared = Path(args.shared)
    bench = shared / "bench"
    only = set(args.only.split(","))
    result: dict = {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    with tempfile.TemporaryDirectory(prefix="nd-eval-") as tmp:
        env = dict(os.environ, NEWSDEDUP_HOME=str(Path(tmp) / "home"))
        env.pop("MONGODB_URI", None)
        try:
            if "seeds" in only:
                out = Path(tmp) / "seeds"
                result["seeds_run"] = run_and_export(env, "seeds", [], ["documents", "passages", "matches", "clusters"], out)
                result["seeds"] = score(bench / "eval_seeds.py", shared / "gold" / "seeds.json", out)
            if "lang" in only:
                out = Path(tmp) / "lang"
                lang = bench / "araplagdet-dev" / "languages.jsonl"
                result["lang_run"] = run_and_export(env, "langs", [str(lang)], ["documents"], out)
                result["lang"] = score(bench / "eval_lang.py", lang, out / "documents.jsonl")
            if "plag" in only:
                out = Path(tmp) / "plag"
                d = bench / "araplagdet-dev"
                result["plag_run"] = run_and_export(env, "plag", [str(d / "docs"), "--manifest", str(d / "manifest.csv")],
                                                    ["matches"], out)
                result["plag"] = score(bench / "plagdet.py", d / "truth.jsonl", out / "matches.jsonl")
        finally:
            subprocess.run([sys.executable, "-m", "newsdedup.cli", "db", "stop"], env=env, capture_output=True)
    dest = ROOT / "bench" / "results" / "product_eval.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result.get("seeds", {}).get("pass", True) else 1


if __name__ == "__main__":
    sys.exit(main())
