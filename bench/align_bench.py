#!/usr/bin/env python3
"""The pairwise stage alone: align the candidate pairs of a stored corpus, timed and hashed (issue #17/#19).

usage: python bench/align_bench.py --home HOME [--db scale] [--cache FILE] [--repeat 1] [--profile OUT]
                                   [--limit N | --sample N] [--label NAME]

Reads every document of the database of ``HOME`` (an existing ``NEWSDEDUP_HOME``, e.g. one kept
after ``newsdedup run`` on SaudiNewsNet 1/8), prepares them, indexes them in batches of 1,000 as a
run does and collects each batch's candidate pairs; this snapshot (prepared documents, pairs,
the index's word frequencies and stock n-grams) is pickled to ``--cache`` so later calls, with other code, align exactly the
same pairs. Then it aligns all pairs in this process (one core, no fork, no Prefect, no
database) ``--repeat`` times and prints wall and CPU seconds (CPU time of this one process is what
to compare on a shared machine: it does not count the time other jobs hold the cores), CPU µs per pair, the match count and the sha256 of
the matches (every field, in order): two commits with equal hashes found the same matches. Code from before match evidence (#17) runs
on the same snapshot with the stock n-grams only, which gives the pairwise cost that evidence added.
``--profile OUT`` writes a cProfile of one pass. ``--warm K`` adds, per pair, the fastest of K
calls of ``align_pair`` (tables built): summed, it is the measure least moved by other jobs on the
machine (a slow call is one that was interrupted; the fastest is the code's own cost). Writes ``bench/results/align_<label>.json``
with ``--label``. Numbers only.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import pickle
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, code_fingerprint, write_json  # noqa: E402


def snapshot(home: str, db_name: str) -> dict:
    """Prepared documents, candidate pairs (as positions) and rarity, as a run would see them."""
    from pymongo import MongoClient

    from newsdedup.tasks.candidates import CandidateIndex
    from newsdedup.tasks.reuse import DOC_FIELDS, prepare_docs

    env = dict(os.environ, NEWSDEDUP_HOME=home)
    uri = subprocess.run([sys.executable, "-m", "newsdedup.cli", "db", "uri"], env=env, check=True,
                         capture_output=True, text=True).stdout.strip()
    db = MongoClient(uri)[db_name]
    docs = list(db.documents.find({}, DOC_FIELDS).sort("_id", 1))
    prepared = prepare_docs(docs)
    index = CandidateIndex()
    for k in range(0, len(prepared), 1000):
        index.add(prepared[k:k + 1000], commit=False)
    index.commit()
    rarity = index.rarity()
    pos = {p.doc_id: i for i, p in enumerate(prepared)}
    pairs = []
    for k in range(0, len(prepared), 1000):
        batch = prepared[k:k + 1000]
        upto = max(index.position(p.doc_id) for p in batch) + 1
        pairs.extend((pos[x], pos[y]) for x, y in index.candidates(batch, upto=upto))
    # plain arrays, so that code from before tasks/evidence.py existed can read the snapshot too
    return {"prepared": prepared, "pairs": pairs, "rarity": {"n_docs": rarity.n_docs, "word_keys": rarity.word_keys,
                                                              "word_df": rarity.word_df, "common": rarity.common}}


def matches_hash(matches) -> str:
    h = hashlib.sha256()
    for m in matches:
        h.update(repr((m.a_doc_id, m.a_start, m.a_end, m.b_doc_id, m.b_start, m.b_end, m.score, m.method,
                       getattr(m, "evidence", None), getattr(m, "kind", None))).encode())
    return h.hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", help="NEWSDEDUP_HOME holding the corpus (needed to build the cache)")
    ap.add_argument("--db", default="scale")
    ap.add_argument("--cache", default="/tmp/align_snapshot.pkl")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--limit", type=int, default=None, help="align only the first N pairs")
    ap.add_argument("--sample", type=int, default=None, metavar="N",
                    help="align N pairs drawn at random (seed 0, in snapshot order): the whole corpus's mix of pairs "
                         "at a fraction of the time, where --limit takes the first batches' (small-index) pairs")
    ap.add_argument("--profile", default=None)
    ap.add_argument("--label", default=None)
    ap.add_argument("--workers", type=int, default=1, help="fork this many workers, as a run with --workers does")
    ap.add_argument("--warm", type=int, default=0, metavar="K",
                    help="also: the sum over the pairs of each pair's fastest of K align_pair calls (warm tables)")
    args = ap.parse_args(argv)
    cache = Path(args.cache)
    if not cache.exists():
        if not args.home:
            raise SystemExit("no cache yet: pass --home")
        t = time.perf_counter()
        snap = snapshot(args.home, args.db)
        with open(cache, "wb") as fh:
            pickle.dump(snap, fh, protocol=pickle.HIGHEST_PROTOCOL)
        print(f"snapshot: {len(snap['prepared'])} documents, {len(snap['pairs'])} pairs "
              f"({time.perf_counter() - t:.1f} s) -> {cache}", flush=True)
    from newsdedup.tasks.align import align_pairs

    with open(cache, "rb") as fh:
        snap = pickle.load(fh)
    docs, stats = snap["prepared"], snap["rarity"]
    try:
        from newsdedup.tasks.evidence import Rarity
        kwargs = {"rarity": Rarity(**stats)}
    except ImportError:  # code before match evidence (#17): the stock n-grams were all it had
        kwargs = {"common": stats["common"]}
    pairs = snap["pairs"][: args.limit]
    if args.sample and args.sample < len(pairs):
        import random

        pick = sorted(random.Random(0).sample(range(len(pairs)), args.sample))
        pairs = [pairs[k] for k in pick]
    work = [(docs[i], docs[j]) for i, j in pairs]
    runs = []
    for r in range(args.repeat):
        for d in docs:  # every pass starts cold, as a run's first batch does
            for slot in ("_sorted", "_rare", "_sents", "_numeric", "_weights", "_segs"):
                if hasattr(d, slot):
                    setattr(d, slot, None)
        prof = cProfile.Profile() if args.profile and r == 0 else None
        t, c = time.perf_counter(), time.process_time()
        if prof:
            prof.enable()
        out = align_pairs(work, workers=args.workers, **kwargs)
        if prof:
            prof.disable()
            prof.dump_stats(args.profile)
        s, cpu = time.perf_counter() - t, time.process_time() - c
        runs.append({"seconds": round(s, 3), "cpu_s": round(cpu, 3), "cpu_us_per_pair": round(1e6 * cpu / max(1, len(work)), 1)})
        print(f"pass {r + 1}: {s:.2f} s wall, {cpu:.2f} s CPU, {1e6 * cpu / max(1, len(work)):.1f} CPU µs/pair, "
              f"{len(out)} matches, hash {matches_hash(out)}", flush=True)
    warm = None
    if args.warm:
        from newsdedup.tasks.align import align_pair

        total = 0.0
        for a, b in work:
            best = float("inf")
            for _ in range(args.warm):
                t = time.perf_counter()
                align_pair(a, b, **kwargs)
                best = min(best, time.perf_counter() - t)
            total += best
        warm = {"k": args.warm, "seconds": round(total, 3), "us_per_pair": round(1e6 * total / max(1, len(work)), 1)}
        print(f"warm: fastest of {args.warm} per pair, summed: {total:.3f} s = {warm['us_per_pair']} µs/pair", flush=True)
    import newsdedup

    tree = Path(newsdedup.__file__).resolve().parent.parent  # the code aligned: the importing venv's checkout
    head = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    result = {"started": datetime.now(timezone.utc).isoformat(), "tree": str(tree), "tree_head": head,
              "bench_code": code_fingerprint(),
              "command": " ".join(sys.argv), "documents": len(docs), "pairs": len(work), "matches": len(out),
              "matches_sha256": matches_hash(out), "runs": runs, "warm": warm, "loadavg": os.getloadavg()}
    if args.label:
        write_json(RESULTS / f"align_{args.label}.json", result)
    print(json.dumps({k: v for k, v in result.items() if k != "bench_code"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
