#!/usr/bin/env python3
"""Reuse-detection dev benchmark, no database: araplagdet-dev (PAN plagdet) + seed check.

usage: python bench/reuse_dev.py [--shared /work/shared] [--out bench/results] [--skip-plag] [--skip-seeds]

Runs prepare -> CandidateIndex.add -> candidates -> align_pairs on the araplagdet-dev
documents, writes the matches as JSONL with external ids, scores them with the
shared ``plagdet.py`` and does the seed check (required DEBKA link, must_not_match
violations, reuse precision, cluster attribution). Prints and writes
``bench/results/reuse_dev.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from newsdedup.tasks.align import ReuseDoc, align_pairs, prepare
from newsdedup.tasks.candidates import CandidateIndex

HERE = Path(__file__).resolve().parent


def _run_plag(shared: Path, out: Path) -> dict:
    root = shared / "bench" / "araplagdet-dev"
    files = sorted((root / "docs").glob("*.txt"))
    t: dict[str, float] = {}
    cpu: dict[str, float] = {}
    c0 = time.process_time()
    t0 = time.perf_counter()
    docs = [ReuseDoc(f.stem, f.read_text(encoding="utf-8-sig")) for f in files]
    t["read"] = time.perf_counter() - t0
    cpu["read"] = time.process_time() - c0
    c0, t0 = time.process_time(), time.perf_counter()
    prepared = [prepare(d) for d in docs]
    t["prepare"] = time.perf_counter() - t0
    cpu["prepare"] = time.process_time() - c0
    c0, t0 = time.process_time(), time.perf_counter()
    index = CandidateIndex()
    index.add(prepared)
    t["index"] = time.perf_counter() - t0
    cpu["index"] = time.process_time() - c0
    c0, t0 = time.process_time(), time.perf_counter()
    pairs = index.candidates(prepared)
    t["candidates"] = time.perf_counter() - t0
    cpu["candidates"] = time.process_time() - c0
    by_id = {p.doc_id: p for p in prepared}
    c0, t0 = time.process_time(), time.perf_counter()
    # as the flow does: n-grams in >= 20 indexed docs never count as 'phrases' evidence
    matches = align_pairs(((by_id[x], by_id[y]) for x, y in pairs), common=index.common_shingles(20))
    t["align"] = time.perf_counter() - t0
    cpu["align"] = time.process_time() - c0
    mpath = out / "reuse_dev_matches.jsonl"
    with open(mpath, "w", encoding="utf-8") as fh:
        for m in matches:
            fh.write(json.dumps({"a_external_id": m.a_doc_id, "a_start": m.a_start, "a_end": m.a_end,
                                 "b_external_id": m.b_doc_id, "b_start": m.b_start, "b_end": m.b_end,
                                 "score": m.score, "method": m.method}, ensure_ascii=False) + "\n")
    res = subprocess.run([sys.executable, str(shared / "bench" / "plagdet.py"), str(root / "truth.jsonl"), str(mpath)],
                         capture_output=True, text=True, check=True)
    score = json.loads(res.stdout)
    methods: dict[str, int] = {}
    for m in matches:
        methods[m.method] = methods.get(m.method, 0) + 1
    cross = sum(1 for m in matches if m.a_doc_id.split("-")[0] != m.b_doc_id.split("-")[0])
    return {**score, "docs": len(docs), "candidate_pairs": len(pairs), "matches": len(matches),
            "susp_source_matches": cross, "matches_by_method": dict(sorted(methods.items())),
            "index": index.stats(), "seconds": {k: round(v, 3) for k, v in t.items()},
            "cpu_seconds": {k: round(v, 3) for k, v in cpu.items()}}


def _ov(a, b):
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _run_seeds(shared: Path) -> dict:
    from newsdedup.tasks.cluster import build_clusters

    gold = json.loads((shared / "gold" / "seeds.json").read_text(encoding="utf-8"))
    files = sorted((shared / "seeds").glob("*.txt"))
    texts = {f.stem: f.read_text(encoding="utf-8-sig") for f in files}
    # gold boilerplate lines are excluded, as the boilerplate stage would flag them
    excl: dict[str, list] = {k: [] for k in texts}
    for g in gold["boilerplate"]:
        excl[g["external_id"]].append((g["start"], g["end"]))
    t0 = time.perf_counter()
    prepared = [prepare(ReuseDoc(k, v, tuple(excl[k]))) for k, v in texts.items()]
    index = CandidateIndex()
    pairs = index.candidates(prepared)
    index.add(prepared)
    by_id = {p.doc_id: p for p in prepared}
    matches = align_pairs(((by_id[x], by_id[y]) for x, y in pairs), common=index.common_shingles(20))
    meta = {g["external_id"]: g for g in gold["documents"]}
    docs = {k: {"external_id": k, "outlet": meta[k]["outlet"], "published": meta[k]["published"],
                "ingest_seq": i, "text": texts[k]} for i, k in enumerate(sorted(texts))}
    clusters = build_clusters(matches, docs)
    secs = time.perf_counter() - t0

    def linked(a, b):
        for m in matches:
            x = (m.a_doc_id, (m.a_start, m.a_end))
            y = (m.b_doc_id, (m.b_start, m.b_end))
            for u, v in ((x, y), (y, x)):
                if u[0] == a["external_id"] and v[0] == b["external_id"] and _ov(u[1], (a["start"], a["end"])) and _ov(v[1], (b["start"], b["end"])):
                    return True
        return False

    req = req_ok = exp = exp_ok = 0
    gold_reuse = []
    claim = []
    for c in gold["reuse_clusters"]:
        mem = c["members"]
        gold_reuse += mem
        for i, j in c["required_links"]:
            req += 1
            req_ok += linked(mem[i], mem[j])
        for i, j in c["expected_links"]:
            exp += 1
            exp_ok += linked(mem[i], mem[j])
        found = None
        for cl in clusters:
            hit = {g["external_id"] for g in mem if any(m["doc_id"] == g["external_id"] and _ov((m["start"], m["end"]), (g["start"], g["end"])) for m in cl["members"])}
            if len(hit) >= 2:
                found = {"cluster_id": cl["cluster_id"], "attribution": cl["attribution"], "size": cl["size"],
                         "first_seen": cl["first_seen"], "gold_attribution": c["attribution"]}
        claim.append(found)
    violations = [n["why"] for n in gold["must_not_match"] if linked(n["a"], n["b"])]

    def touches(ext, span):
        return any(g["external_id"] == ext and _ov(span, (g["start"], g["end"])) for g in gold_reuse)

    good = [m for m in matches if touches(m.a_doc_id, (m.a_start, m.a_end)) and touches(m.b_doc_id, (m.b_start, m.b_end))]
    return {"required_links": req_ok / req if req else None, "expected_links": exp_ok / exp if exp else None,
            "must_not_match_violations": len(violations), "violations": violations,
            "cross_doc_matches": len(matches), "reuse_precision": round(len(good) / len(matches), 4) if matches else 0.0,
            "claim_clusters": claim,
            "attribution_ok": all(c and c["attribution"] == c["gold_attribution"] for c in claim),
            "matches": [{"a": m.a_doc_id[:3], "a_span": [m.a_start, m.a_end], "b": m.b_doc_id[:3],
                         "b_span": [m.b_start, m.b_end], "score": m.score, "method": m.method} for m in matches],
            "seconds": round(secs, 3)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=Path("/work/shared"))
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--skip-plag", action="store_true")
    ap.add_argument("--skip-seeds", action="store_true")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    result: dict = {}
    if not args.skip_plag:
        result["araplagdet_dev"] = _run_plag(args.shared, args.out)
    if not args.skip_seeds:
        result["seeds"] = _run_seeds(args.shared)
    (args.out / "reuse_dev.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    summary = {k: {kk: vv for kk, vv in v.items() if kk != "matches"} for k, v in result.items()}
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
