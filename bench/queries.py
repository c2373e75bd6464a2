"""Query speed and search ranking on an ingested corpus (issue #15, point 8).

    newsdedup run ../shared/bench/saudinewsnet --map text=content,outlet=source,published=date_extracted --db saudi
    python bench/queries.py --db saudi

Measured as a user meets them, with the console script in a subprocess (interpreter start-up
included) and, for the database side alone, in this process:

* ``newsdedup query search CLAIM`` for claims taken from stored clusters (every k-th cluster seen
  in at least two outlets, its representative text): seconds, and whether the cluster holding the
  exact claim ranks first (a result whose matched passage is that text);
* ``newsdedup query doc EXTERNAL_ID`` for sampled documents;
* ``db.passages.find({doc_id: …})`` through pymongo and, when it is installed, mongosh;
* the search index rebuilt from scratch (what the first search on a database without one pays).

Writes ``bench/results/queries.json``. Timings taken while other jobs share the machine are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pymongo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, ROOT, code_fingerprint, write_json  # noqa: E402

from newsdedup.config import load_settings  # noqa: E402
from newsdedup.db import Store, resolve_uri  # noqa: E402
from newsdedup.query import claim_score, search, search_folder, update_search_index  # noqa: E402
from newsdedup.tasks.normalize import normalize_text  # noqa: E402


def _cli(*args: str) -> tuple[float, subprocess.CompletedProcess]:
    t = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "newsdedup.cli", *args], capture_output=True, text=True,
                          cwd=str(ROOT), timeout=600)
    return time.monotonic() - t, proc


def _stats(xs: list[float]) -> dict:
    xs = sorted(xs)
    return {"n": len(xs), "median": round(statistics.median(xs), 3), "max": round(xs[-1], 3),
            "p90": round(xs[min(len(xs) - 1, int(0.9 * len(xs)))], 3)}


def _mongosh() -> str | None:
    for c in (os.environ.get("MONGOSH"), shutil.which("mongosh"), str(ROOT / "node_modules" / ".bin" / "mongosh")):
        if c and Path(c).is_file():
            return c
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--claims", type=int, default=20, help="claims searched (default 20)")
    ap.add_argument("--docs", type=int, default=20, help="documents looked up (default 20)")
    ap.add_argument("--out", type=Path, default=RESULTS / "queries.json")
    args = ap.parse_args()

    settings = load_settings(args.db)
    store = Store.open(settings)
    uri = subprocess.check_output([sys.executable, "-m", "newsdedup.cli", "db", "uri", "--db", args.db],
                                  text=True).strip()
    db = store.db
    counts = store.counts()
    clusters = sorted((c for c in db.clusters.find({"n_outlets": {"$gte": 2}}, {"_id": 1, "representative": 1,
                                                                              "n_outlets": 1})
                       if 60 <= len(c.get("representative") or "") <= 400), key=lambda c: c["_id"])
    step = max(1, len(clusters) // args.claims)
    sample = clusters[::step][: args.claims]

    # ---- search: the index as the last run left it (warm), through the console script
    search_rows = []
    for c in sample:
        claim = c["representative"]
        secs, proc = _cli("query", "search", claim, "--json", "--db", args.db)
        rows = [json.loads(x) for x in proc.stdout.splitlines() if x.strip()]
        top = rows[0] if rows else {}
        # the first result holds the exact claim: its cluster, or a passage containing the claim whole
        exact_first = bool(top) and (top.get("cluster_id") == c["_id"] or claim_score(
            normalize_text(claim), normalize_text(top["matched_passage"]["text"])) >= 97)
        rank = next((i + 1 for i, r in enumerate(rows) if r.get("cluster_id") == c["_id"]), None)
        search_rows.append({"cluster_id": c["_id"], "n_outlets": c["n_outlets"], "seconds": round(secs, 3),
                            "exact_claim_first": exact_first, "rank_of_its_cluster": rank,
                            "top_is_one_word": bool(top) and len(top["matched_passage"]["text"].split()) <= 1})
    t = time.monotonic()
    folder = search_folder(settings, resolve_uri(settings))
    index = update_search_index(store, folder)
    in_process = []
    for c in sample:
        t1 = time.monotonic()
        search(store, index, c["representative"])
        in_process.append(time.monotonic() - t1)
    load_seconds = time.monotonic() - t - sum(in_process)

    # ---- a claim with «الرياض» in it: no one-word passage above it
    riyadh = next((c for c in clusters if "الرياض" in (c.get("representative") or "")), None)
    riyadh_row = None
    if riyadh:
        secs, proc = _cli("query", "search", riyadh["representative"], "--json", "--db", args.db)
        rows = [json.loads(x) for x in proc.stdout.splitlines() if x.strip()]
        riyadh_row = {"cluster_id": riyadh["_id"], "seconds": round(secs, 3),
                      "top_cluster_id": rows[0].get("cluster_id") if rows else None,
                      "top_text": rows[0]["matched_passage"]["text"][:120] if rows else None,
                      "one_word_results_above_it": sum(1 for r in rows[: next((i for i, r in enumerate(rows)
                                                                                 if r.get("cluster_id") == riyadh["_id"]),
                                                                                len(rows))]
                                                       if len(r["matched_passage"]["text"].split()) <= 1)}

    # ---- query doc and passages by doc_id
    docs = sorted(db.documents.find({}, {"_id": 1, "external_id": 1}).limit(5000), key=lambda d: d["_id"])
    dstep = max(1, len(docs) // args.docs)
    dsample = docs[::dstep][: args.docs]
    doc_secs, find_secs, mongosh_secs = [], [], []
    for d in dsample:
        secs, proc = _cli("query", "doc", d["external_id"], "--json", "--db", args.db)
        assert proc.returncode == 0, proc.stderr
        doc_secs.append(secs)
        t1 = time.monotonic()
        list(pymongo.MongoClient(uri).get_default_database().passages.find({"doc_id": d["_id"]}))
        find_secs.append(time.monotonic() - t1)
    sh = _mongosh()
    if sh:
        for d in dsample[:5]:
            t1 = time.monotonic()
            subprocess.run([sh, uri, "--quiet", "--norc", "--eval",
                            f'db.passages.find({{doc_id: "{d["_id"]}"}}).toArray().length'],
                           capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
            mongosh_secs.append(time.monotonic() - t1)

    # ---- the index rebuilt from scratch
    tmp = Path(folder).with_name(Path(folder).name + "-bench-rebuild")
    shutil.rmtree(tmp, ignore_errors=True)
    meta = store.get_meta("search_index")
    t1 = time.monotonic()
    rebuilt = update_search_index(store, tmp)
    rebuild = time.monotonic() - t1
    store.set_meta("search_index", meta or {})  # the real index stays the current one
    shutil.rmtree(tmp, ignore_errors=True)
    store.close()

    result = {
        "db": args.db, "database_counts": counts, "code": code_fingerprint(),
        "search_cli_seconds": _stats([r["seconds"] for r in search_rows]),
        "search_in_process_seconds": _stats(in_process), "search_index_load_seconds": round(load_seconds, 3),
        "exact_claim_first": sum(r["exact_claim_first"] for r in search_rows), "claims": len(search_rows),
        "top_result_one_word": sum(r["top_is_one_word"] for r in search_rows),
        "riyadh_claim": riyadh_row,
        "query_doc_cli_seconds": _stats(doc_secs), "passages_find_by_doc_id_seconds": _stats(find_secs),
        "mongosh_find_by_doc_id_seconds": _stats(mongosh_secs) if mongosh_secs else None,
        "search_index_rebuild_seconds": round(rebuild, 1), "search_index_entries": len(rebuilt),
        "searches": search_rows,
    }
    write_json(args.out, result)
    print(json.dumps({k: v for k, v in result.items() if k != "searches"}, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
