#!/usr/bin/env python3
"""Candidate generation side by side on the first N SaudiNewsNet articles (issue #7).

usage: python bench/compare_candidates.py [--n 2000] [--recompute-brute] [--min-chars 40] [--threshold 80]

Sentences: ``newsdedup.tasks.segment.segment`` of each article's text, normalized with
``normalize_text``, kept when at least ``--min-chars`` (40) normalized characters long.
Articles: the first N, zip names sorted, JSON array order.

- **brute force** (the reference): rapidfuzz ``process.cdist`` with ``fuzz.ratio`` and
  ``score_cutoff`` = threshold (80) over all pairs of sentences (upper triangle, row
  chunks so memory stays bounded, ``workers=-1``); cross-article pairs only. Slow, so the
  result is cached in ``bench/results/compare_brute_<hash>.json``, keyed by a hash of the
  sentences, parameters and rapidfuzz version; ``--recompute-brute`` ignores the cache.
- **MinHashLSH** (datasketch): 128 permutations, threshold 0.5, word 3-grams of the same
  sentences; candidate sentence pairs verified with ``fuzz.ratio >= threshold``.
- **word 5-gram inverted index** (plain baseline): sentences sharing a word 5-gram,
  verified the same way.
- **ours**: ``CandidateIndex`` over ``prepare(ReuseDoc(...))`` of the N articles (no
  boilerplate exclusions, like the other methods); a brute-force sentence pair counts as
  found when its document pair is a candidate (candidate-stage recall). End to end: the
  candidates aligned with ``align_pairs`` (as the flow does); a pair counts as found when a
  match overlaps both sentences.

Recall is against the brute-force pairs. Prints a table, writes ``bench/results/compare.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, SAUDI, fmt_table, saudinewsnet_records, write_json  # noqa: E402


# ---------------------------------------------------------------------------- data
def load_docs(n: int, root: Path) -> list[tuple[str, str, str]]:
    """(doc_id, text, outlet) of the first n articles; doc_id = '<day>:<1-based record>'."""
    out = []
    counter: dict[str, int] = defaultdict(int)
    for day, rec in saudinewsnet_records(n, root):
        counter[day] += 1
        out.append((f"{day}:{counter[day]}", rec.get("content") or "", rec.get("source") or ""))
    return out


def sentences(docs, min_chars: int):
    """(doc index array, start array, end array, normalized texts) of the kept sentences."""
    from newsdedup.tasks.normalize import normalize_text
    from newsdedup.tasks.segment import segment

    di, st, en, norm = [], [], [], []
    for i, (_, text, _) in enumerate(docs):
        for s in segment(text):
            t = normalize_text(text[s.start:s.end]).strip()
            if len(t) >= min_chars:
                di.append(i)
                st.append(s.start)
                en.append(s.end)
                norm.append(t)
    return np.asarray(di, np.int32), np.asarray(st, np.int64), np.asarray(en, np.int64), norm


def cache_key(docs, norm, di, args) -> str:
    import rapidfuzz

    h = hashlib.sha256()
    h.update(json.dumps({"n": args.n, "min_chars": args.min_chars, "threshold": args.threshold,
                         "rapidfuzz": rapidfuzz.__version__, "v": 1}).encode())
    for d in docs:
        h.update(d[0].encode())
        h.update(b"\0")
    for i, t in zip(di.tolist(), norm):
        h.update(f"{i}\t{t}\n".encode())
    return h.hexdigest()[:16]


# ---------------------------------------------------------------------------- methods
def brute_force(norm, di, threshold: int, chunk: int) -> tuple[set[tuple[int, int]], float]:
    from rapidfuzz import fuzz, process

    t0 = time.perf_counter()
    pairs: set[tuple[int, int]] = set()
    n = len(norm)
    for r0 in range(0, n, chunk):
        r1 = min(n, r0 + chunk)
        # upper triangle only: rows r0..r1 against columns r0..n
        m = process.cdist(norm[r0:r1], norm[r0:], scorer=fuzz.ratio, score_cutoff=threshold, dtype=np.uint8,
                          workers=-1)
        ii, jj = np.nonzero(m)
        ii = ii + r0
        jj = jj + r0
        keep = (jj > ii) & (di[ii] != di[jj])
        pairs.update(zip(ii[keep].tolist(), jj[keep].tolist()))
        del m
        print(f"  brute force: rows {r1}/{n}, {len(pairs)} pairs, {time.perf_counter() - t0:.0f} s", flush=True)
    return pairs, time.perf_counter() - t0


def verify(cands, norm, di, threshold: int) -> set[tuple[int, int]]:
    from rapidfuzz import fuzz

    out = set()
    for i, j in cands:
        if di[i] != di[j] and fuzz.ratio(norm[i], norm[j], score_cutoff=threshold):
            out.add((i, j) if i < j else (j, i))
    return out


def _word_ngrams(t: str, k: int) -> list[str]:
    w = t.split()
    if len(w) < k:
        return [" ".join(w)]
    return [" ".join(w[i:i + k]) for i in range(len(w) - k + 1)]


def minhash_lsh(norm, di, threshold: int, num_perm: int = 128, lsh_threshold: float = 0.5):
    from datasketch import MinHash, MinHashLSH

    t0 = time.perf_counter()
    hashes = MinHash.bulk([[g.encode("utf-8") for g in _word_ngrams(t, 3)] for t in norm], num_perm=num_perm)
    t_sig = time.perf_counter() - t0
    lsh = MinHashLSH(threshold=lsh_threshold, num_perm=num_perm)
    with lsh.insertion_session() as sess:
        for i, m in enumerate(hashes):
            sess.insert(i, m, check_duplication=False)
    cands = set()
    for i, m in enumerate(hashes):
        for j in lsh.query(m):
            if j != i and di[j] != di[i]:
                cands.add((i, j) if i < j else (j, i))
    t_cand = time.perf_counter() - t0
    found = verify(cands, norm, di, threshold)
    return found, {"seconds": time.perf_counter() - t0, "signatures_s": t_sig, "candidates_s": t_cand,
                   "candidate_pairs": len(cands)}


def ngram_index(norm, di, threshold: int, k: int = 5):
    t0 = time.perf_counter()
    post: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(norm):
        for g in set(_word_ngrams(t, k)):
            post[g].append(i)
    cands = set()
    for ids in post.values():
        if len(ids) < 2:
            continue
        for a in range(len(ids)):
            for b in range(a + 1, len(ids)):
                x, y = ids[a], ids[b]
                if di[x] != di[y]:
                    cands.add((x, y))
    t_cand = time.perf_counter() - t0
    found = verify(cands, norm, di, threshold)
    return found, {"seconds": time.perf_counter() - t0, "candidates_s": t_cand, "candidate_pairs": len(cands)}


def ours(docs, align: bool):
    from newsdedup.tasks.align import ReuseDoc, align_pairs, prepare
    from newsdedup.tasks.candidates import CandidateIndex

    t0 = time.perf_counter()
    prepared = [prepare(ReuseDoc(doc_id, text)) for doc_id, text, _ in docs]
    t_prep = time.perf_counter() - t0
    t1 = time.perf_counter()
    index = CandidateIndex()
    index.add(prepared)
    pairs = index.candidates(prepared)
    t_cand = time.perf_counter() - t1
    info = {"prepare_s": t_prep, "index_and_query_s": t_cand, "candidate_doc_pairs": len(pairs),
            "index": index.stats()}
    matches = None
    if align:
        by_id = {p.doc_id: p for p in prepared}
        t2 = time.perf_counter()
        matches = align_pairs((by_id[a], by_id[b]) for a, b in pairs)
        info["align_s"] = time.perf_counter() - t2
        info["matches"] = len(matches)
    return pairs, matches, info


def _overlap(a0, a1, b0, b1) -> bool:
    return min(a1, b1) - max(a0, b0) > 0


# ---------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--min-chars", type=int, default=40)
    ap.add_argument("--threshold", type=int, default=80)
    ap.add_argument("--recompute-brute", action="store_true")
    ap.add_argument("--no-brute", action="store_true", help="skip brute force unless cached (recall vs cache only)")
    ap.add_argument("--chunk", type=int, default=1000, help="brute-force rows per cdist call")
    ap.add_argument("--skip-align", action="store_true")
    ap.add_argument("--data", default=str(SAUDI))
    ap.add_argument("--out", default=None, help="default bench/results/compare.json (compare_<n>.json if n != 2000)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    docs = load_docs(args.n, Path(args.data))
    di, st, en, norm = sentences(docs, args.min_chars)
    t_sent = time.perf_counter() - t0
    print(f"{len(docs)} articles, {len(norm)} sentences of >= {args.min_chars} normalized chars "
          f"({t_sent:.1f} s to segment and normalize)", flush=True)

    key = cache_key(docs, norm, di, args)
    cache = RESULTS / f"compare_brute_{key}.json"
    brute_info: dict
    if cache.exists() and not args.recompute_brute:
        data = json.loads(cache.read_text())
        brute = {tuple(p) for p in data["pairs"]}
        brute_info = {"seconds": data["seconds"], "cached": True, "cache_file": cache.name,
                      "measured_at": data.get("measured_at")}
        print(f"brute force: {len(brute)} pairs from cache {cache.name} (measured {data['seconds']:.0f} s)")
    elif args.no_brute:
        raise SystemExit(f"no cached brute-force result {cache.name}; run without --no-brute")
    else:
        brute, secs = brute_force(norm, di, args.threshold, args.chunk)
        brute_info = {"seconds": secs, "cached": False, "cache_file": cache.name,
                      "measured_at": datetime.now(timezone.utc).isoformat()}
        write_json(cache, {"key": key, "n": args.n, "min_chars": args.min_chars, "threshold": args.threshold,
                           "sentences": len(norm), "seconds": secs, "measured_at": brute_info["measured_at"],
                           "pairs": sorted([int(i), int(j)] for i, j in brute)})
    brute_secs = brute_info["seconds"]
    rows = [{"method": "brute force cdist", "seconds": brute_secs, "pairs_found": len(brute), "recall": 1.0,
             "speedup": 1.0, "candidates": len(norm) * (len(norm) - 1) // 2}]

    def recall(found: set) -> float:
        return len(found & brute) / len(brute) if brute else 1.0

    mh, mh_info = minhash_lsh(norm, di, args.threshold)
    rows.append({"method": "MinHashLSH 128/0.5 w3", "seconds": mh_info["seconds"], "pairs_found": len(mh),
                 "recall": recall(mh), "speedup": brute_secs / mh_info["seconds"],
                 "candidates": mh_info["candidate_pairs"]})
    print(f"MinHashLSH: {mh_info}", flush=True)
    ng, ng_info = ngram_index(norm, di, args.threshold)
    rows.append({"method": "word-5-gram index", "seconds": ng_info["seconds"], "pairs_found": len(ng),
                 "recall": recall(ng), "speedup": brute_secs / ng_info["seconds"],
                 "candidates": ng_info["candidate_pairs"]})
    print(f"5-gram index: {ng_info}", flush=True)

    pairs, matches, o_info = ours(docs, align=not args.skip_align)
    print(f"ours: { {k: v for k, v in o_info.items() if k != 'index'} }", flush=True)
    ids = [d[0] for d in docs]
    cand = set(pairs)
    stage_found = {(i, j) for i, j in brute if tuple(sorted((ids[di[i]], ids[di[j]]))) in cand}
    missed = sorted(brute - stage_found)
    rows.append({"method": "ours: CandidateIndex (doc pairs)", "seconds": o_info["index_and_query_s"],
                 "pairs_found": len(stage_found), "recall": recall(stage_found),
                 "speedup": brute_secs / o_info["index_and_query_s"], "candidates": len(pairs)})
    rows.append({"method": "ours: prepare + CandidateIndex", "seconds": o_info["prepare_s"] + o_info["index_and_query_s"],
                 "pairs_found": len(stage_found), "recall": recall(stage_found),
                 "speedup": brute_secs / (o_info["prepare_s"] + o_info["index_and_query_s"]), "candidates": len(pairs)})
    e2e = None
    if matches is not None:
        by_pair: dict[tuple[str, str], list] = defaultdict(list)
        for m in matches:
            by_pair[(m.a_doc_id, m.b_doc_id)].append(m)
        e2e = set()
        for i, j in brute:
            x, y = ids[di[i]], ids[di[j]]
            si, sj = (i, j) if x < y else (j, i)
            a, b = (x, y) if x < y else (y, x)
            for m in by_pair.get((a, b), ()):
                if _overlap(m.a_start, m.a_end, st[si], en[si]) and _overlap(m.b_start, m.b_end, st[sj], en[sj]):
                    e2e.add((i, j))
                    break
        secs = o_info["prepare_s"] + o_info["index_and_query_s"] + o_info["align_s"]
        rows.append({"method": "ours end to end (+ align_pairs)", "seconds": secs, "pairs_found": len(e2e),
                     "recall": recall(e2e), "speedup": brute_secs / secs, "candidates": o_info["matches"]})

    # misses of our candidate stage, for inspection
    outlets = [d[2] for d in docs]
    miss_examples = [{"a": ids[di[i]], "a_outlet": outlets[di[i]], "a_text": norm[i][:200],
                      "b": ids[di[j]], "b_outlet": outlets[di[j]], "b_text": norm[j][:200]} for i, j in missed[:25]]
    e2e_missed = sorted(brute - e2e) if e2e is not None else []
    e2e_examples = [{"a": ids[di[i]], "a_outlet": outlets[di[i]], "a_text": norm[i][:200],
                     "b": ids[di[j]], "b_outlet": outlets[di[j]], "b_text": norm[j][:200]} for i, j in e2e_missed[:25]]
    cross_outlet = sum(outlets[di[i]] != outlets[di[j]] for i, j in brute)

    print()
    print(fmt_table([{**r, "seconds": round(r["seconds"], 2), "recall": round(r["recall"], 4),
                      "speedup": round(r["speedup"], 1)} for r in rows],
                    ["method", "seconds", "candidates", "pairs_found", "recall", "speedup"]))
    mh_recall = rows[1]["recall"]
    print(f"\nbrute force: {len(brute)} cross-article sentence pairs ({cross_outlet} cross-outlet) among {len(norm)} "
          f"sentences; goal: candidate recall >= 0.995 at >= 100x brute-force speed")
    out = Path(args.out) if args.out else RESULTS / ("compare.json" if args.n == 2000 else f"compare_{args.n}.json")
    write_json(out, {"measured_at": datetime.now(timezone.utc).isoformat(), "n_articles": len(docs),
                     "sentences": len(norm), "min_chars": args.min_chars, "threshold": args.threshold,
                     "sentence_prep_s": t_sent, "brute": {**brute_info, "pairs": len(brute),
                                                          "cross_outlet_pairs": cross_outlet},
                     "minhash": {**mh_info, "recall": mh_recall}, "ngram5": {**ng_info, "recall": rows[2]["recall"]},
                     "ours": o_info, "table": rows,
                     "ours_candidate_misses": {"count": len(missed), "examples": miss_examples},
                     "ours_e2e_misses": {"count": len(e2e_missed), "examples": e2e_examples},
                     "command": " ".join(sys.argv)})
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
