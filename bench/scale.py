#!/usr/bin/env python3
"""Scale benchmark on SaudiNewsNet: growth, incremental day, quality at scale (issue #7).

usage: python bench/scale.py [--fractions 0.125,0.25,0.5,1] [--incremental] [--quality]
                             [--workers N] [--dask ADDRESS|local] [--label NAME] [--sample-seed 7]

For every fraction f the first round(f * 31,030) articles (zip names sorted, JSON array
order) are written as one JSONL file per day into a temp folder, then ingested end to end
with ``newsdedup run DIR --map text=content,outlet=source,published=date_extracted --json``
into a fresh ``NEWSDEDUP_HOME`` (own embedded database server and local Prefect server,
both started before the clock starts and timed separately, both stopped at the end).
Every run is measured by:
- wall time of the CLI process and the run summary's stage ``timings``
  (read, analyze, reuse, cluster, total), plus its counts;
- peak resident memory (psutil, every 0.5 s) of the newsdedup process tree (CLI + any
  worker processes), of the embedded database server, and of both together.

``--incremental``: in another fresh home, ingest every day but the last, then the last
day (1,686 articles) into the same database; the second run's time is compared with the
full (fraction 1) run.
``--quality``: on the largest fraction's database, how many ``was`` (Saudi Press Agency)
articles are in a cluster with at least one other outlet, and a random sample (fixed
seed) of 50 clusters written to ``bench/results/cluster_sample.md`` for checking by eye.

Writes ``bench/results/scale.json`` (``scale_<label>.json`` with ``--label``) and prints
tables. Numbers only; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (EYE_MARK, RESULTS, SAUDI, SAUDI_MAP, FreshHome, cli, code_fingerprint, fmt_table,  # noqa: E402
                    run_cli, saudinewsnet_records, saudinewsnet_zips, write_cluster_sample, write_json,
                    write_jsonl_days)
from common import snip as _snip  # noqa: E402

GIANT = 100  # clusters larger than this are chained components (stock text), reported apart
TARGET_S = 600
TARGET_MB = 4096


def _run_args(data: Path, args: argparse.Namespace) -> list[str]:
    out = ["run", str(data), "--map", SAUDI_MAP, "--db", "scale", "--json"]
    if args.workers is not None:
        out += ["--workers", str(args.workers)]
    if args.dask:
        out += ["--dask", args.dask]
    return out


NON_STAGE = {"run", "articles", "wall_s", "total", "n_docs", "n_passages", "n_pairs", "n_matches", "n_clusters",
             "n_rejects", "peak_newsdedup_mb", "peak_db_mb", "peak_nd_db_mb", "peak_prefect_mb", "peak_newsdedup_pss_mb",
             "peak_nd_db_pss_mb"}


def _row(label: str, n: int, res: dict) -> dict:
    s = res["summary"] or {}
    t = s.get("timings") or {}
    c = s.get("counts") or {}
    row = {"run": label, "articles": n, "wall_s": res["wall_s"]}
    row.update({k: v for k, v in t.items() if k != "total"})
    row["total"] = t.get("total")
    row.update({"n_docs": c.get("documents"), "n_passages": c.get("passages"),
                "n_pairs": c.get("candidate_pairs"), "n_matches": c.get("matches"),
                "n_clusters": c.get("clusters"), "n_rejects": c.get("rejects"),
                "peak_newsdedup_mb": res["memory"]["newsdedup_tree_mb"],
                "peak_newsdedup_pss_mb": res["memory"].get("newsdedup_tree_pss_mb"),
                "peak_db_mb": res["memory"]["db_server_mb"],
                "peak_nd_db_mb": res["memory"]["peak_newsdedup_plus_db_mb"],
                "peak_nd_db_pss_mb": res["memory"].get("peak_newsdedup_plus_db_pss_mb"),
                "peak_prefect_mb": res["memory"]["prefect_server_mb"]})
    return row


def _mongo(home: FreshHome):
    from pymongo import MongoClient

    uri = cli(["db", "uri"], home.env).stdout.strip()
    return MongoClient(uri, tz_aware=True)["scale"]


# ---------------------------------------------------------------------------- quality
def quality(home: FreshHome, seed: int, sample_n: int, out_md: Path) -> dict:
    db = _mongo(home)
    was_total = db.documents.count_documents({"outlet": "was"})
    was_in_multi: set[str] = set()
    was_in_multi_small: set[str] = set()  # ... counting only clusters of at most GIANT members
    other_with_was: set[str] = set()
    clusters_total = clusters_multi = clusters_with_was_multi = 0
    sizes: list[int] = []
    ids: list[str] = []
    largest: list[tuple[int, str]] = []
    for c in db.clusters.find({}, {"cluster_id": 1, "members.doc_id": 1, "members.outlet": 1, "n_outlets": 1,
                                   "outlets": 1, "size": 1}):
        clusters_total += 1
        ids.append(c["cluster_id"])
        size = int(c.get("size") or 0)
        sizes.append(size)
        largest.append((size, c["cluster_id"]))
        outlets = set(c.get("outlets") or [])
        if len(outlets) >= 2:
            clusters_multi += 1
        if "was" in outlets and len(outlets) >= 2:
            clusters_with_was_multi += 1
            for m in c.get("members") or []:
                if m.get("outlet") == "was":
                    was_in_multi.add(m["doc_id"])
                    if size <= GIANT:
                        was_in_multi_small.add(m["doc_id"])
                else:
                    other_with_was.add(m["doc_id"])
    largest.sort(reverse=True)
    top = []
    for size, cid in largest[:5]:
        c = db.clusters.find_one({"_id": cid}) or db.clusters.find_one({"cluster_id": cid}) or {}
        members = c.get("members") or []
        texts = Counter(" ".join((m.get("text") or "").split())[:80] for m in members)
        top.append({"cluster_id": cid, "size": size, "n_outlets": c.get("n_outlets"),
                    "members_per_outlet": dict(Counter(m.get("outlet") for m in members).most_common()),
                    "documents": len({m["doc_id"] for m in members}),
                    "representative": _snip(c.get("representative"), 200),
                    "most_common_member_texts": texts.most_common(5)})
    # was articles matched (any span) with another outlet's article, from the matches themselves
    was_docs = {d["_id"] for d in db.documents.find({"outlet": "was"}, {"_id": 1})}
    was_matched: set[str] = set()
    for m in db.matches.find({}, {"a_doc_id": 1, "b_doc_id": 1}):
        a, b = m["a_doc_id"], m["b_doc_id"]
        if (a in was_docs) == (b in was_docs):
            continue
        was_matched.add(a if a in was_docs else b)
    ids.sort()
    rng = random.Random(seed)
    picked = sorted(rng.sample(ids, min(sample_n, len(ids))))
    sample = [db.clusters.find_one({"_id": cid}) or db.clusters.find_one({"cluster_id": cid}) for cid in picked]
    _write_sample(out_md, sample, seed, clusters_total)
    sizes.sort()
    return {"was_articles": was_total,
            "was_articles_in_cluster_with_other_outlet": len(was_in_multi),
            "was_share_in_cluster_with_other_outlet": round(len(was_in_multi) / was_total, 4) if was_total else None,
            f"was_articles_in_cluster_with_other_outlet_size_le_{GIANT}": len(was_in_multi_small),
            "was_articles_matched_with_other_outlet": len(was_matched),
            "other_outlet_articles_sharing_a_cluster_with_was": len(other_with_was),
            "clusters": clusters_total, "clusters_multi_outlet": clusters_multi,
            "clusters_with_was_and_other_outlet": clusters_with_was_multi,
            "cluster_size_median": sizes[len(sizes) // 2] if sizes else None,
            "cluster_size_max": sizes[-1] if sizes else None,
            f"clusters_over_{GIANT}_members": sum(x > GIANT for x in sizes),
            f"passages_in_clusters_over_{GIANT}": sum(x for x in sizes if x > GIANT),
            "largest_clusters": top,
            "sample": {"seed": seed, "n": len(sample), "file": str(out_md.relative_to(RESULTS.parent.parent))}}


def _write_sample(path: Path, clusters: list[dict], seed: int, total: int) -> None:
    header = [f"# Random sample of {len(clusters)} clusters (seed {seed}) of {total}",
              "",
              "From `python bench/scale.py --quality` on the largest fraction run. Each cluster: its id, size,",
              "outlets, the representative passage and up to 6 members (outlet, external id, snippet).",
              f"The verdicts of the eye check are in the section `{EYE_MARK}` at the end (written by hand).", ""]
    write_cluster_sample(
        path, clusters, header,
        lambda i, c: f"## {i}. `{c['cluster_id']}` — size {c.get('size')}, {c.get('n_outlets')} outlet(s): "
                     f"{', '.join(o or '?' for o in c.get('outlets') or [])}",
        lambda m: f"- **{m.get('outlet')}** `{m.get('external_id')}` [{m.get('start')}:{m.get('end')}] "
                  f"{_snip(m.get('text'), 220)}")


# ---------------------------------------------------------------------------- report
def report(result: dict) -> None:
    """Print the tables of a result (also ``--report FILE``); adds ``table`` and ``growth`` to it."""
    rows = [_row(f"{r['fraction']:g}", r["articles"], r) for r in result["runs"]]
    inc = result.get("incremental")
    if inc:
        rows.append(_row("incr-base", inc["base_articles"], inc["base"]))
        rows.append(_row(f"incr +{inc['last_day']}", inc["new_articles"], inc["added_day"]))
    stages = [k for k in dict.fromkeys(k for r in rows for k in r) if k not in NON_STAGE]
    cols = ["run", "articles", "wall_s", *stages, "total", "n_docs", "n_passages", "n_pairs", "n_matches",
            "n_clusters", "peak_newsdedup_mb", "peak_newsdedup_pss_mb", "peak_db_mb", "peak_nd_db_mb",
            "peak_nd_db_pss_mb"]
    print("\n== runs (seconds; stage times from the run summary; memory: peak MB, RSS sums and PSS sums) ==")
    print(fmt_table(rows, cols))
    result["table"] = rows
    fr = result["runs"]
    if len(fr) >= 2:
        base = fr[0]
        growth = []
        for r in fr:
            t = r["summary"]["timings"]["total"]
            growth.append({"fraction": r["fraction"], "articles": r["articles"], "total_s": t,
                           "ratio_vs_smallest": round(t / base["summary"]["timings"]["total"], 2),
                           "articles_ratio": round(r["articles"] / base["articles"], 2),
                           "wall_s": r["wall_s"], "wall_ratio": round(r["wall_s"] / base["wall_s"], 2)})
        result["growth"] = growth
        print("\n== growth (relative to the smallest fraction) ==")
        print(fmt_table(growth, list(growth[0])))
    if inc:
        print(f"\n== incremental: +{inc['new_articles']} articles ({inc['last_day']}) onto {inc['base_articles']}: "
              f"{inc['added_day']['summary']['timings']['total']:.1f} s = "
              f"{inc['share_of_full_run'] if inc['share_of_full_run'] is not None else '?'} of the full run, "
              f"{inc['share_of_base_run']} of the base run")
        if "full_after" in inc:
            print(f"   against the full run made after it: {inc['share_of_full_run_after']} (wall "
                  f"{inc['wall_share_of_full_run_after']}); against the mean of both full runs: "
                  f"{inc.get('share_of_full_runs_mean', '?')} (wall {inc.get('wall_share_of_full_runs_mean', '?')})")
    q = result.get("quality")
    if q:
        print(f"\n== quality (fraction {q['fraction']:g}) ==")
        for k, v in q.items():
            if k not in ("sample", "largest_clusters"):
                print(f"  {k}: {v}")
        for c in q.get("largest_clusters") or []:
            print(f"  largest: size {c['size']}, {c['documents']} documents, {c['n_outlets']} outlets; "
                  f"{c['representative'][:120]}")
            for t, n in c["most_common_member_texts"][:3]:
                print(f"      {n} x {t}")
        print(f"  sample: {q['sample']}")


# ---------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fractions", default="0.125,0.25,0.5,1")
    ap.add_argument("--incremental", action="store_true", help="time adding the last day to all earlier days")
    ap.add_argument("--quality", action="store_true", help="was-reprint recall and a 50-cluster sample (largest run)")
    ap.add_argument("--workers", type=int, default=None,
                    help="passed to newsdedup run --workers (default: not passed, i.e. the CLI's default)")
    ap.add_argument("--dask", default=None)
    ap.add_argument("--label", default=None, help="results go to bench/results/scale_<label>.json")
    ap.add_argument("--sample-seed", type=int, default=7)
    ap.add_argument("--sample-size", type=int, default=50)
    ap.add_argument("--data", default=str(SAUDI), help="SaudiNewsNet folder (zips)")
    ap.add_argument("--tmp", default=None, help="parent folder for the temp data and homes")
    ap.add_argument("--report", default=None, metavar="JSON", help="only print the tables of an earlier result")
    ap.add_argument("--bracket", action="store_true",
                    help="with --incremental: run the whole corpus again after the one-day run and report the day's "
                         "share against the full runs before and after it too (a machine whose speed drifts during "
                         "the benchmark biases a share taken against a run made ten minutes earlier)")
    ap.add_argument("--baseline", default=None, metavar="JSON",
                    help="take the full (fraction 1) run from an earlier result, e.g. with --fractions '' "
                         "--incremental --label incremental to measure only the incremental day")
    args = ap.parse_args(argv)
    if args.report:
        report(json.loads(Path(args.report).read_text(encoding="utf-8")))
        return 0

    root = Path(args.data)
    fractions = sorted({float(x) for x in args.fractions.split(",") if x.strip()})
    total = sum(1 for _ in saudinewsnet_records(None, root))
    out_path = RESULTS / (f"scale_{args.label}.json" if args.label else "scale.json")
    result: dict = {"started": datetime.now(timezone.utc).isoformat(), "corpus_articles": total,
                    "workers": args.workers, "dask": args.dask, "command": " ".join(sys.argv),
                    "targets": {"full_run_s": TARGET_S, "peak_mb": TARGET_MB, "growth_ratio_max": 10,
                                "incremental_share_max": 0.10},
                    "runs": [], "notes": []}
    tmp = Path(tempfile.mkdtemp(prefix="nd-scale-", dir=args.tmp))
    print(f"corpus: {total} articles in {len(saudinewsnet_zips(root))} zips; temp {tmp}", flush=True)

    for f in fractions:
        n = max(1, round(f * total))
        data = tmp / f"data-{n}"
        per_day = write_jsonl_days(saudinewsnet_records(n, root), data)
        with FreshHome(base=args.tmp) as home:
            boot = home.start_servers()
            code = code_fingerprint()
            print(f"[{f:g}] {n} articles in {len(per_day)} day files; servers up {boot}; code {code}", flush=True)
            res = run_cli(_run_args(data, args), home)
            row = _row(f"{f:g}", n, res)
            result["runs"].append({"fraction": f, "articles": n, "days": len(per_day), "servers": boot,
                                   "code": code,
                                   "loadavg_after": os.getloadavg(),
                                   "wall_s": res["wall_s"], "summary": res["summary"], "memory": res["memory"],
                                   "memory_series_mb": res["memory_series_mb"]})
            print(fmt_table([row], list(row)), flush=True)
            if args.quality and f == fractions[-1]:
                md = RESULTS / "cluster_sample.md"
                q = quality(home, args.sample_seed, args.sample_size, md)
                q["fraction"] = f
                result["quality"] = q
        write_json(out_path, result)

    if args.incremental:
        zips = saudinewsnet_zips(root)
        last_day = zips[-1].stem
        base_dir, new_dir = tmp / "incr-base", tmp / "incr-new"
        base_n = sum(write_jsonl_days(((d, r) for d, r in saudinewsnet_records(None, root) if d != last_day),
                                      base_dir).values())
        new_n = sum(write_jsonl_days(((d, r) for d, r in saudinewsnet_records(None, root) if d == last_day),
                                     new_dir).values())
        with FreshHome(base=args.tmp) as home:
            boot = home.start_servers()
            print(f"[incremental] base: {base_n} articles (all days before {last_day}); servers up {boot}", flush=True)
            code = code_fingerprint()
            r1 = run_cli(_run_args(base_dir, args), home)
            row = _row("incr-base", base_n, r1)
            print(fmt_table([row], list(row)), flush=True)
            r2 = run_cli(_run_args(new_dir, args), home)
            row = _row(f"incr +{last_day}", new_n, r2)
            print(fmt_table([row], list(row)), flush=True)
            runs = result["runs"]
            if args.baseline:
                runs = runs + json.loads(Path(args.baseline).read_text(encoding="utf-8"))["runs"]
            full = next((r for r in runs if r["fraction"] == 1.0), None)
            full_total = (full["summary"]["timings"]["total"] if full else None)
            inc_total = r2["summary"]["timings"]["total"]
            result["incremental"] = {
                "last_day": last_day, "base_articles": base_n, "new_articles": new_n, "code": code,
                "base": {"wall_s": r1["wall_s"], "summary": r1["summary"], "memory": r1["memory"]},
                "added_day": {"wall_s": r2["wall_s"], "summary": r2["summary"], "memory": r2["memory"]},
                "full_run_from": args.baseline or "this result",
                "share_of_full_run": round(inc_total / full_total, 4) if full_total else None,
                "share_of_base_run": round(inc_total / r1["summary"]["timings"]["total"], 4),
                "wall_share_of_full_run": round(r2["wall_s"] / full["wall_s"], 4) if full else None,
            }
        if args.bracket:
            data = tmp / f"data-{total}"
            if not data.exists():
                write_jsonl_days(saudinewsnet_records(total, root), data)
            with FreshHome(base=args.tmp) as home:
                boot = home.start_servers()
                print(f"[full again] {total} articles; servers up {boot}", flush=True)
                r3 = run_cli(_run_args(data, args), home)
                row = _row("full again", total, r3)
                print(fmt_table([row], list(row)), flush=True)
            inc = result["incremental"]
            after_total = r3["summary"]["timings"]["total"]
            inc["full_after"] = {"wall_s": r3["wall_s"], "summary": r3["summary"], "memory": r3["memory"],
                                 "code": code_fingerprint()}
            inc["share_of_full_run_after"] = round(inc_total / after_total, 4)
            inc["wall_share_of_full_run_after"] = round(r2["wall_s"] / r3["wall_s"], 4)
            if full:
                inc["share_of_full_runs_mean"] = round(inc_total / ((full_total + after_total) / 2), 4)
                inc["wall_share_of_full_runs_mean"] = round(r2["wall_s"] / ((full["wall_s"] + r3["wall_s"]) / 2), 4)
        write_json(out_path, result)

    report(result)
    result["ended"] = datetime.now(timezone.utc).isoformat()
    write_json(out_path, result)
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nwrote {out_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
