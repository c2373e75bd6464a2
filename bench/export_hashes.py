#!/usr/bin/env python3
"""Hashes of every export kind on the seeds, araplagdet-dev and the SaudiNewsNet 1/8 subset.

usage: python bench/export_hashes.py [--corpora seeds,plag,saudi8] [--label NAME] [--keep DIR]

Each corpus is ingested (from a fixed path: source paths and run ids depend on it) into a fresh ``NEWSDEDUP_HOME`` (its own embedded database and local
Prefect server), then ``newsdedup export KIND`` is run for every kind the CLI offers and the
sha256 of each export's bytes is recorded with its line count. Two commits whose hashes are
equal produce byte-identical output on these corpora: this is how a restructuring is shown to
change no behaviour. ``--keep DIR`` keeps the exports (``DIR/<corpus>/<kind>.jsonl``).

Writes ``bench/results/export_hashes.json`` (``export_hashes_<label>.json`` with ``--label``).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (RESULTS, SHARED, SAUDI_MAP, FreshHome, cli, code_fingerprint, saudinewsnet_records,  # noqa: E402
                    write_json, write_jsonl_days)

PLAG = SHARED / "bench" / "araplagdet-dev"
SAUDI_EIGHTH = 3879  # round(31,030 / 8), as bench/scale.py's 1/8 fraction


def export_kinds() -> list[str]:
    """The kinds ``newsdedup export`` accepts (read from its help, so new kinds are hashed too)."""
    from newsdedup.cli import EXPORT_KINDS

    return list(EXPORT_KINDS)


CORPORA = Path(tempfile.gettempdir()) / "newsdedup-bench-corpora"  # a fixed path: source paths and run ids hash it


def corpus_args(name: str) -> list[str]:
    if name == "seeds":
        return ["run"]
    if name == "plag":
        return ["run", str(PLAG / "docs"), "--manifest", str(PLAG / "manifest.csv")]
    if name == "saudi8":
        data = CORPORA / "saudi8"
        shutil.rmtree(data, ignore_errors=True)
        write_jsonl_days(saudinewsnet_records(SAUDI_EIGHTH), data)
        return ["run", str(data), "--map", SAUDI_MAP]
    raise SystemExit(f"unknown corpus {name!r}")


def hash_corpus(name: str, workers: int | None, keep: Path | None) -> dict:
    with FreshHome(prefix="nd-hash-home-") as home:
        args = corpus_args(name) + ["--db", "hashes"]
        if workers:
            args += ["--workers", str(workers)]
        cli(args, home.env, timeout=7200)
        out: dict[str, dict] = {}
        for kind in export_kinds():
            proc = subprocess.run([sys.executable, "-m", "newsdedup.cli", "export", kind, "--db", "hashes"],
                                  env=home.env, capture_output=True, check=True)
            data = proc.stdout
            out[kind] = {"sha256": hashlib.sha256(data).hexdigest(), "lines": data.count(b"\n")}
            if keep is not None:
                (keep / name).mkdir(parents=True, exist_ok=True)
                (keep / name / f"{kind}.jsonl").write_bytes(data)
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpora", default="seeds,plag,saudi8")
    ap.add_argument("--label")
    ap.add_argument("--workers", type=int)
    ap.add_argument("--keep", type=Path)
    args = ap.parse_args()
    result = {"code": code_fingerprint(), "corpora": {}}
    for name in [c for c in args.corpora.split(",") if c]:
        result["corpora"][name] = hash_corpus(name, args.workers, args.keep)
        for kind, h in result["corpora"][name].items():
            print(f"{name:8s} {kind:12s} {h['lines']:8d} {h['sha256'][:16]}")
    path = RESULTS / (f"export_hashes_{args.label}.json" if args.label else "export_hashes.json")
    write_json(path, result)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
