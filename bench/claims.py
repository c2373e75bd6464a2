#!/usr/bin/env python3
"""Quality of matches and clusters (issue #17): evidence, templates, cluster kinds, no chaining.

usage: python bench/claims.py [--counter] [--plag] [--seeds] [--snn] [--fraction F] [--baseline REF]
                              [--workers N] [--sample-seed 17] [--label NAME]

Every part runs the product end to end (``newsdedup run`` into a fresh ``NEWSDEDUP_HOME``), exports
and scores with the shared scorers:

- ``--counter``: ``../shared/bench/counter-dev`` (Urdu document derivation), ``eval_derivation.py``;
  without ``derivations`` it reports binary precision/recall/F1 of "a match links the pair"; also
  the matches by method and kind, and the matches linking documents the truth does not pair;
- ``--plag``: araplagdet-dev, ``plagdet.py`` (plagdet, case recall per obfuscation);
- ``--seeds``: the seed corpus, ``eval_seeds.py`` (and the kind of the DEBKA cluster);
- ``--snn``: SaudiNewsNet (``--fraction`` of it, default all): run time, matches by kind, clusters
  by kind, the 20 widest claims, and a random sample (``--sample-seed``) of 50 ``claim`` clusters
  with at least two outlets written to ``bench/results/claims_sample.md`` for reading by eye (its
  hand-written ``# Eye check`` section is kept while the sample is the same).
  ``--baseline REF``: first the same run with the code of git ``REF`` (its files, not installed:
  the package is laid out from ``git archive`` and put first on ``PYTHONPATH``), so the two run
  times come from one benchmark run.

Writes ``bench/results/claims.json`` (``claims_<label>.json``). Numbers only; nothing asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (EYE_MARK, RESULTS, ROOT, SAUDI, SAUDI_MAP, SHARED, FreshHome, cli, code_fingerprint,  # noqa: E402
                    run_cli, write_cluster_sample, write_json)
from common import snip as _snip  # noqa: E402

SAMPLE_MD = RESULTS / "claims_sample.md"


def _export(home: FreshHome, db: str, kinds: list[str], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for k in kinds:
        cli(["export", k, "--db", db, "-o", str(out / f"{k}.jsonl")], home.env)


def _load(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _score(script: str, *args: str) -> dict:
    res = subprocess.run([sys.executable, str(SHARED / "bench" / script), *args], capture_output=True, text=True,
                         check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- counter-dev
def counter(workers: int | None) -> dict:
    root = SHARED / "bench" / "counter-dev"
    with FreshHome(prefix="nd-claims-counter-") as home, tempfile.TemporaryDirectory() as tmp:
        args = ["run", str(root / "documents.jsonl"), "--db", "counter", "--json"]
        if workers:
            args += ["--workers", str(workers)]
        run = run_cli(args, home)
        out = Path(tmp)
        _export(home, "counter", ["documents", "matches"], out)
        score = _score("eval_derivation.py", str(root / "truth.jsonl"), str(out))
        docs = {d["doc_id"]: d["external_id"] for d in _load(out / "documents.jsonl")}
        matches = _load(out / "matches.jsonl")
    truth = _load(root / "truth.jsonl")
    paired = {frozenset((t["b"], s)) for t in truth for s in t["sources"]}
    unpaired = sum(frozenset((docs[m["a_doc_id"]], docs[m["b_doc_id"]])) not in paired for m in matches)
    return {"binary": score["binary"], "confusion": score["confusion"],
            "mean_coverage_by_label": score["mean_coverage_by_label"], "matches": len(matches),
            "matches_by_method_kind": dict(Counter(f"{m['method']}/{m.get('kind')}" for m in matches).most_common()),
            "matches_between_documents_the_truth_does_not_pair": unpaired, "wall_s": run["wall_s"]}


# ---------------------------------------------------------------------------- araplagdet-dev
def plag(workers: int | None) -> dict:
    root = SHARED / "bench" / "araplagdet-dev"
    with FreshHome(prefix="nd-claims-plag-") as home, tempfile.TemporaryDirectory() as tmp:
        args = ["run", str(root / "docs"), "--manifest", str(root / "manifest.csv"), "--db", "plag", "--json"]
        if workers:
            args += ["--workers", str(workers)]
        run_cli(args, home)
        _export(home, "plag", ["matches"], Path(tmp))
        score = _score("plagdet.py", str(root / "truth.jsonl"), str(Path(tmp) / "matches.jsonl"))
        kinds = Counter(m.get("kind") for m in _load(Path(tmp) / "matches.jsonl"))
    return {**score, "matches_by_kind": dict(kinds)}


# ---------------------------------------------------------------------------- seeds
def seeds() -> dict:
    with FreshHome(prefix="nd-claims-seeds-") as home, tempfile.TemporaryDirectory() as tmp:
        cli(["run", str(SHARED / "seeds"), "--db", "seeds"], home.env)
        _export(home, "seeds", ["documents", "passages", "matches", "clusters"], Path(tmp))
        score = _score("eval_seeds.py", str(SHARED / "gold" / "seeds.json"), tmp)
        clusters = _load(Path(tmp) / "clusters.jsonl")
    debka = [c for c in clusters if c.get("attribution") == "ديبكا"]
    return {"pass": score.get("pass"), "claim_clusters": score.get("claim_clusters"),
            "debka_cluster_kind": [c.get("kind") for c in debka], "debka_confidence": [c.get("confidence") for c in debka],
            "clusters_by_kind": dict(Counter(c.get("kind") for c in clusters))}


# ---------------------------------------------------------------------------- SaudiNewsNet
def _baseline_package(ref: str, where: Path) -> Path:
    """The package of git ``ref`` laid out for import (``newsdedup`` with ``flows`` and ``tasks`` inside)."""
    src = where / "src"
    src.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", ref], cwd=str(ROOT), capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    pkg = where / "pkg"
    shutil.copytree(src / "newsdedup", pkg / "newsdedup")
    for sub in ("flows", "tasks"):
        os.symlink(src / sub, pkg / "newsdedup" / sub)
    return pkg


def _snn_input(fraction: float, tmp: Path) -> Path:
    if fraction >= 1:
        return SAUDI
    from common import count_records, saudinewsnet_records, write_jsonl_days

    n = round(fraction * count_records())
    out = tmp / "snn"
    write_jsonl_days(saudinewsnet_records(n), out)
    return out


def _timed_run(home: FreshHome, data: Path, workers: int | None, pythonpath: Path | None = None) -> dict:
    args = ["run", str(data), "--map", SAUDI_MAP, "--db", "snn", "--json"]
    if workers:
        args += ["--workers", str(workers)]
    if pythonpath is None:
        return run_cli(args, home)
    env = {**home.env, "PYTHONPATH": str(pythonpath)}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "newsdedup.cli", *args], env=env, capture_output=True, text=True,
                          cwd=str(pythonpath))  # not the worktree: its folders would shadow the laid-out package
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"baseline run failed: {proc.stderr[-2000:]}")
    summary = json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1])
    return {"wall_s": round(wall, 2), "summary": summary}


def snn(fraction: float, workers: int | None, baseline: str | None, seed: int, sample_n: int) -> dict:
    out: dict = {"fraction": fraction}
    with tempfile.TemporaryDirectory(prefix="nd-claims-snn-") as tmp:
        data = _snn_input(fraction, Path(tmp))
        if baseline:
            pkg = _baseline_package(baseline, Path(tmp) / "base")
            with FreshHome(prefix="nd-claims-base-") as home:
                home.start_servers()
                res = _timed_run(home, data, workers, pkg)
            out["baseline"] = {"ref": baseline, "wall_s": res["wall_s"], "timings": res["summary"]["timings"],
                               "counts": res["summary"]["counts"]}
        with FreshHome(prefix="nd-claims-snn-") as home:
            home.start_servers()
            res = _timed_run(home, data, workers)
            out["run"] = {"wall_s": res["wall_s"], "timings": res["summary"]["timings"],
                          "counts": res["summary"]["counts"], "memory": res.get("memory")}
            out.update(_snn_quality(home, seed, sample_n))
    if baseline:
        b, n = out["baseline"], out["run"]
        out["slowdown"] = {"wall": round(n["wall_s"] / b["wall_s"] - 1, 4),
                           "stage_total": round(n["timings"]["total"] / b["timings"]["total"] - 1, 4)}
    return out


def _snn_quality(home: FreshHome, seed: int, sample_n: int) -> dict:
    from pymongo import MongoClient

    uri = cli(["db", "uri"], home.env).stdout.strip()
    db = MongoClient(uri)["snn"]
    matches = Counter((m.get("kind"), m.get("method")) for m in db.matches.find({}, {"kind": 1, "method": 1}))
    by_kind: Counter = Counter()
    multi: Counter = Counter()
    passages: Counter = Counter()
    candidates: list[str] = []
    for c in db.clusters.find({}, {"_id": 1, "kind": 1, "n_outlets": 1, "size": 1}):
        by_kind[c.get("kind")] += 1
        passages[c.get("kind")] += int(c.get("size") or 0)
        if (c.get("n_outlets") or 0) >= 2:
            multi[c.get("kind")] += 1
            if c.get("kind") == "claim":
                candidates.append(c["_id"])
    widest = sorted(db.clusters.find({"kind": "claim"}, {"_id": 0, "members": 0}),
                    key=lambda c: (-(c.get("n_outlets") or 0), -(c.get("size") or 0), c["cluster_id"]))[:20]
    top = [{"cluster_id": c["cluster_id"], "n_outlets": c["n_outlets"], "size": c["size"],
            "confidence": c.get("confidence"), "first_seen": c.get("first_seen"), "attribution": c.get("attribution"),
            "representative": _snip(c.get("representative"), 300)} for c in widest]
    candidates.sort()
    picked = sorted(random.Random(seed).sample(candidates, min(sample_n, len(candidates))))
    sample = [db.clusters.find_one({"_id": cid}) for cid in picked]
    _write_sample(SAMPLE_MD, sample, seed, len(candidates))
    return {"matches_by_kind_method": {f"{k}/{m}": n for (k, m), n in sorted(matches.items(), key=str)},
            "matches_by_kind": dict(sum((Counter({k: n}) for (k, _), n in matches.items()), Counter())),
            "clusters_by_kind": dict(by_kind), "clusters_with_2_outlets_by_kind": dict(multi),
            "passages_in_clusters_by_kind": dict(passages), "widest_claims": top,
            "sample": {"seed": seed, "n": len(sample), "of": len(candidates),
                       "file": str(SAMPLE_MD.relative_to(ROOT))}}


def _write_sample(path: Path, clusters: list[dict], seed: int, total: int) -> None:
    header = [f"# Random sample of {len(clusters)} claim clusters with two or more outlets (seed {seed}) of {total}",
              "", "From `python bench/claims.py --snn` (SaudiNewsNet, every article). Each cluster: id, kind, "
              "confidence, size, outlets, first seen, attribution, the representative passage and up to 6 members.",
              f"The verdicts are in the section `{EYE_MARK}` at the end (written by hand).", ""]
    write_cluster_sample(
        path, clusters, header,
        lambda i, c: f"## {i}. `{c['cluster_id']}` — {c.get('kind')} {c.get('confidence')}, size {c.get('size')}, "
                     f"{c.get('n_outlets')} outlets: {', '.join(o or '?' for o in c.get('outlets') or [])}",
        lambda m: f"- **{m.get('outlet')}** {m.get('published')} `{m.get('external_id')}` "
                  f"[{m.get('start')}:{m.get('end')}] {_snip(m.get('text'), 220)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--counter", action="store_true")
    ap.add_argument("--plag", action="store_true")
    ap.add_argument("--seeds", action="store_true")
    ap.add_argument("--snn", action="store_true")
    ap.add_argument("--fraction", type=float, default=1.0)
    ap.add_argument("--baseline", metavar="REF", help="also run SaudiNewsNet with the code of this git ref, first")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sample-seed", type=int, default=17)
    ap.add_argument("--sample-size", type=int, default=50)
    ap.add_argument("--label")
    args = ap.parse_args()
    if not (args.counter or args.plag or args.seeds or args.snn):
        args.counter = args.plag = args.seeds = args.snn = True
    result: dict = {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "code": code_fingerprint()}
    if args.seeds:
        result["seeds"] = seeds()
        print("seeds:", json.dumps(result["seeds"], ensure_ascii=False))
    if args.plag:
        result["araplagdet_dev"] = plag(args.workers)
        print("araplagdet-dev:", json.dumps(result["araplagdet_dev"], ensure_ascii=False))
    if args.counter:
        result["counter_dev"] = counter(args.workers)
        print("counter-dev:", json.dumps(result["counter_dev"], ensure_ascii=False))
    if args.snn:
        result["saudinewsnet"] = snn(args.fraction, args.workers, args.baseline, args.sample_seed, args.sample_size)
        s = result["saudinewsnet"]
        print("saudinewsnet:", json.dumps({k: v for k, v in s.items() if k not in ("widest_claims",)},
                                          ensure_ascii=False, default=str))
        for c in s["widest_claims"]:
            print(f"  {c['n_outlets']:2d} outlets / {c['size']:4d}  {c['confidence']}  {c['representative'][:110]}")
    name = f"claims_{args.label}.json" if args.label else "claims.json"
    write_json(RESULTS / name, result)
    print(f"wrote {RESULTS / name}")


if __name__ == "__main__":
    main()
