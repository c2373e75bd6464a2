#!/usr/bin/env python3
"""Score the text-analysis stages directly (no database, no Prefect).

usage: python bench/eval_text.py [--shared DIR] [--speed-docs N]

* seeds: segment + language + dateline + boilerplate on seeds/*.txt, scored against
  gold/seeds.json exactly as shared/bench/eval_seeds.py scores the exports
  (boilerplate recall / character precision / body kept, languages, dateline dates);
* languages: detect_document on every record of araplagdet-dev/languages.jsonl
  (gold_lang is read only for scoring), scored as shared/bench/eval_lang.py does;
* speed: articles/s of detect_document (with one span per segment) on a sample of
  SaudiNewsNet articles spread over all days, and of segment + boilerplate.

Prints one JSON line and writes it to bench/results/text.json.
"""

from __future__ import annotations

import argparse
import glob
import json
import time
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

from newsdedup.tasks.boilerplate import document_line_keys, flag_boilerplate
from newsdedup.tasks.dateline import find_dateline
from newsdedup.tasks.language import detect_document
from newsdedup.tasks.segment import segment

ROOT = Path(__file__).resolve().parents[1]


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def analyse(text: str, title: str | None = None) -> dict:
    """Everything the text stages say about one document, as the flow would compute it."""
    segs = segment(text)
    (lang, conf), span_langs = detect_document(text, [(s.start, s.end) for s in segs])
    date, date_seg = find_dateline(text, segs)
    flags = flag_boilerplate(text, segs, title=title)
    return {"segments": segs, "lang": lang, "lang_confidence": conf, "span_langs": span_langs,
            "published": date, "dateline_segment": date_seg, "flags": flags}


def score_seeds(seeds_dir: Path, gold: dict) -> dict:
    """Boilerplate, language and dateline scores of the seed documents against the gold."""
    docs = {}
    for path in sorted(seeds_dir.glob("*.txt")):
        text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
        docs[path.stem] = analyse(text)

    def flagged(ext):
        r = docs[ext]
        return [(s.start, s.end) for s, (bad, _) in zip(r["segments"], r["flags"]) if bad]

    def share(g):
        span = (g["start"], g["end"])
        return sum(_overlap(span, f) for f in flagged(g["external_id"])) / max(1, span[1] - span[0])

    hits = [g for g in gold["boilerplate"] if share(g) >= 0.8]
    lost = [g for g in gold["body_not_boilerplate"] if share(g) > 0.2]
    gold_bp = defaultdict(list)
    for g in gold["boilerplate"]:
        gold_bp[g["external_id"]].append((g["start"], g["end"]))
    n_flagged = inside = 0
    for ext in docs:
        for f in flagged(ext):
            n = f[1] - f[0]
            n_flagged += n
            inside += min(n, sum(_overlap(f, s) for s in gold_bp[ext]))
    gdocs = {g["external_id"]: g for g in gold["documents"]}
    return {
        "boilerplate_recall": round(len(hits) / len(gold["boilerplate"]), 4),
        "boilerplate_missed": [f'{g["external_id"][:3]}:L{g["line"]}' for g in gold["boilerplate"] if g not in hits],
        "boilerplate_precision": round(inside / n_flagged, 4) if n_flagged else 0.0,
        "body_kept": round(1 - len(lost) / len(gold["body_not_boilerplate"]), 4),
        "body_flagged": [f'{g["external_id"][:3]}:L{g["line"]}' for g in lost],
        "languages": {ext: r["lang"] for ext, r in docs.items()},
        "span_languages": {ext: dict(Counter(l for l, _ in r["span_langs"])) for ext, r in docs.items()},
        "language_accuracy": round(sum(docs[e]["lang"] == g["lang"] for e, g in gdocs.items()) / len(gdocs), 4),
        "datelines": {ext: r["published"] for ext, r in docs.items()},
        "dateline_ok": all(docs[e]["published"] == g["published"] for e, g in gdocs.items() if g["published"]),
        "reasons": dict(Counter(r for d in docs.values() for bad, r in d["flags"] if bad)),
    }


def score_languages(path: Path) -> dict:
    """Document-level language accuracy on a labelled sentence set (eval_lang.py's metric)."""
    per = defaultdict(lambda: [0, 0])
    long_ok = long_n = 0
    confusion: Counter = Counter()
    t0 = time.perf_counter()
    n = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        (pred, _), _ = detect_document(rec["text"], [])  # gold_lang is only used below, for scoring
        gold_lang = rec["gold_lang"]
        letters = sum(ch.isalpha() for ch in rec["text"])
        n += 1
        per[gold_lang][1] += 1
        per[gold_lang][0] += pred == gold_lang
        if letters >= 30:
            long_n += 1
            long_ok += pred == gold_lang
        if gold_lang in ("ar", "fa", "ur") and pred in ("ar", "fa", "ur") and pred != gold_lang:
            confusion[f"{gold_lang}->{pred}"] += 1
    dt = time.perf_counter() - t0
    arabic_script = sum(per[k][1] for k in ("ar", "fa", "ur"))
    return {
        "accuracy": round(sum(v[0] for v in per.values()) / n, 4),
        "accuracy_30_letters": round(long_ok / long_n, 4) if long_n else None,
        "per_language": {k: round(v[0] / v[1], 4) for k, v in sorted(per.items())},
        "arabic_script_confusions": dict(confusion),
        "arabic_script_confusion_rate": round(sum(confusion.values()) / arabic_script, 4) if arabic_script else 0.0,
        "sentences_per_s": round(n / dt, 1),
    }


def snn_sample(bench_dir: Path, n: int) -> list[dict]:
    """About ``n`` SaudiNewsNet articles, taken evenly from every day's archive."""
    files = sorted(glob.glob(str(bench_dir / "saudinewsnet" / "*.zip")))
    per_file = max(1, n // max(1, len(files)))
    out = []
    for f in files:
        with zipfile.ZipFile(f) as z:
            for name in z.namelist():
                arts = json.loads(z.read(name))
                step = max(1, len(arts) // per_file)
                out += arts[::step][:per_file]
    return out[:n]


def measure_speed(arts: list[dict]) -> dict:
    texts = [a["content"] for a in arts]
    t0 = time.perf_counter()
    segs = [segment(t) for t in texts]
    t1 = time.perf_counter()
    for t, s in zip(texts, segs):
        detect_document(t, [(x.start, x.end) for x in s])
    t2 = time.perf_counter()
    counts: dict[str, Counter] = defaultdict(Counter)
    docs: Counter = Counter()
    for a, s in zip(arts, segs):
        docs[a["source"]] += 1
        counts[a["source"]].update(document_line_keys(a["content"], s))
    t3 = time.perf_counter()
    n_flagged = 0
    for a, s in zip(arts, segs):
        fl = flag_boilerplate(a["content"], s, outlet_key_counts=counts[a["source"]],
                              outlet_docs=docs[a["source"]], title=a.get("title"))
        n_flagged += sum(b for b, _ in fl)
    t4 = time.perf_counter()
    n = len(texts)
    return {
        "articles": n,
        "chars": sum(map(len, texts)),
        "detect_document_articles_per_s": round(n / (t2 - t1), 1),
        "segment_articles_per_s": round(n / (t1 - t0), 1),
        "line_keys_articles_per_s": round(n / (t3 - t2), 1),
        "flag_boilerplate_articles_per_s": round(n / (t4 - t3), 1),
        "all_text_stages_articles_per_s": round(n / (t4 - t0), 1),
        "flagged_segments": n_flagged,
    }


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    ap.add_argument("--speed-docs", type=int, default=3000)
    ap.add_argument("-o", "--output", type=Path, default=ROOT / "bench" / "results" / "text.json")
    args = ap.parse_args(argv)
    gold = json.loads((args.shared / "gold" / "seeds.json").read_text(encoding="utf-8"))
    res = {"seeds": score_seeds(args.seeds, gold),
           "languages": score_languages(args.shared / "bench" / "araplagdet-dev" / "languages.jsonl"),
           "speed": measure_speed(snn_sample(args.shared / "bench", args.speed_docs))}
    line = json.dumps(res, ensure_ascii=False)
    print(line)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(line + "\n", encoding="utf-8")
    return res


if __name__ == "__main__":
    main()
