#!/usr/bin/env python3
"""Document deduplication on SaudiNewsNet ingested twice (issue #20).

usage: python bench/dedup.py [--measure] [--runs] [--fraction F] [--workers N] [--seed S] [--label NAME]

The second ingest comes from a *second export* of the same articles, written by
:func:`write_second_export` the way another crawler or an API dump would give them: every
record under another id and URL (https, tracking parameters, mobile host), in another field
layout (``id, text, outlet, url, published, title`` instead of SaudiNewsNet's keys, so no
``--map``), records shuffled across files of other sizes (JSONL, gzipped JSONL, a zip of
JSONL parts), some without an outlet, some titles with the site name appended, and the text
of some records changed as exports change it:

========================  =============================================================
``unchanged``             the same text
``typography``            CRLF line ends, doubled spaces, other quote marks, tatweel
``byline``                a byline line added at the top or the first short line replaced
``trailing-link``         «رابط الخبر: URL», «المصدر: …», «للمزيد: URL» appended
``widget``                share/print widgets appended or a font widget at the top, or a
                          «اقرأ أيضا: …» link between two paragraphs
``dateline``              a date line added at the top, or a place prefix («جدة - ») on the
                          first paragraph
``byline+link``           both a byline and a trailing link
========================  =============================================================

``--measure`` (no database): signatures of every article and every copy (segments and
boilerplate flags as the analysis computes them), and
- for every copy, how its body lines up with its original (the words left over at each end, the
  common run, its share) and whether the sketch lookup finds the original: this is what
  "nearly identical" must accept;
- for every pair of *different* articles of the corpus that the lookup compares (its
  candidates: a shared sketch value, or a short body held whole), the same numbers: what it must
  reject. Pairs that would be
  accepted are written out with the words that differ, to be read by eye
  (``bench/results/dedup_pairs.md``); pairs that word-shingle Jaccard ≥ 0.8 (MinHash dedup as in
  datatrove / text-dedup) would merge but this rule keeps apart are listed too;
- a sweep of the edge and share thresholds over both.

``--runs``: in a fresh ``NEWSDEDUP_HOME``, ``newsdedup run`` on the corpus
(``--map text=content,outlet=source,published=date_extracted``), then on the second export;
the second run must add 0 clusters and 0 matches and record as many duplicates as the first
run stored documents, and its cost is compared with the first run's (wall time and stage
total).

Writes ``bench/results/dedup.json`` (``dedup_<label>.json`` with ``--label``). Numbers only.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
import zipfile
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (RESULTS, SAUDI_MAP, FreshHome, code_fingerprint, fmt_table, run_cli,  # noqa: E402
                    saudinewsnet_records, write_json)

MODS = [("unchanged", 0.55), ("typography", 0.10), ("byline", 0.08), ("trailing-link", 0.08), ("widget", 0.06),
        ("dateline", 0.08), ("byline+link", 0.05)]
NO_OUTLET_SHARE = 0.03
TITLE_SUFFIX_SHARE = 0.10
SITES = {"alriyadh": "www.alriyadh.com", "aljazirah": "www.al-jazirah.com", "alyaum": "www.alyaum.com",
         "aawsat": "aawsat.com", "aleqtisadiya": "www.aleqt.com", "okaz": "www.okaz.com.sa",
         "alwatan": "www.alwatan.com.sa", "almadina": "www.al-madina.com", "alweeam": "www.alweeam.com.sa",
         "3alyoum": "www.3alyoum.com", "sabq": "sabq.org", "was": "www.spa.gov.sa", "arreyadi": "www.arreyadi.com.sa",
         "arriyadiyah": "www.arriyadiyah.com"}
BYLINES = ["متابعات", "الرياض - واس", "جدة - محرر الشؤون المحلية", "كتب - فريق التحرير", "الدمام - خاص",
           "بقلم: محمد العتيبي", "مكة المكرمة - عبدالله الزهراني"]
CITIES = ["الرياض", "جدة", "الدمام", "مكة المكرمة", "المدينة المنورة", "لندن", "القاهرة"]
MONTHS = ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر",
          "ديسمبر"]
WEEKDAYS = ["الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"]


# ---------------------------------------------------------------------------- the second export
def _url(rec: dict, rng: random.Random) -> str:
    url = (rec.get("url") or "").strip()
    if not url:
        return f"https://{SITES.get(rec.get('source'), 'example.com')}/article/{rng.randrange(10**7)}"
    url = re.sub(r"^http://", "https://", url)
    r = rng.random()
    if r < 0.4:
        url += ("&" if "?" in url else "?") + rng.choice(["utm_source=rss&utm_medium=feed", "ref=newsletter",
                                                           "utm_campaign=share"])
    elif r < 0.6:
        url = re.sub(r"^https://(www\.)?", "https://m.", url)
    elif r < 0.7:
        url = url.rstrip("/") + "/amp"
    return url


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _dateline(published: str | None, rng: random.Random) -> str:
    try:
        d = datetime.strptime((published or "")[:10], "%Y-%m-%d")
    except ValueError:
        d = datetime(2015, 7, 21)
    fmt = rng.randrange(3)
    if fmt == 0:
        return f"{WEEKDAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]} {d.year}"
    if fmt == 1:
        return f"{WEEKDAYS[d.weekday()]} {d.day:02d}/{d.month:02d}/{d.year} - {rng.randrange(1, 12):02d}:{rng.randrange(60):02d} م"
    return f"{rng.choice(CITIES)} - {d.day} {MONTHS[d.month - 1]} {d.year}"


def modify(text: str, kind: str, rec: dict, new_url: str, other_title: str, rng: random.Random) -> str:
    """The text of a record as the second export gives it (see the module docstring)."""
    if kind == "unchanged":
        return text
    if kind == "typography":
        out = text.replace("\n", "\r\n")
        out = re.sub(r"(?<=\S) (?=\S)", lambda m: "  " if rng.random() < 0.05 else " ", out)
        out = out.replace("«", '"').replace("»", '"').replace("“", '"').replace("”", '"')
        return re.sub(r"(?<=[بتثجحخسشصضطظعغفقكلمنهي])(?=[بتثجحخسشصضطظعغفقكلمنهي])",
                      lambda m: "ـ" if rng.random() < 0.01 else "", out)
    if kind == "byline":
        author = (rec.get("author") or "").strip()
        if len(author.split()) > 8:  # a scraper put text in the author field: not a byline
            author = ""
        line = author if author and rng.random() < 0.6 else rng.choice(BYLINES)
        ls = _lines(text)
        if author and len(ls) > 1 and ls[0].strip() == author:  # the export had the byline: another one
            return "\n".join([line if line != author else rng.choice(BYLINES), *ls[1:]])
        return line + "\n" + text
    if kind == "trailing-link":
        site = SITES.get(rec.get("source"), "example.com")
        tail = rng.choice([f"رابط الخبر: {new_url}", f"المصدر: {site}", f"للمزيد: {new_url}",
                           f"رابط مختصر: https://{site}/?p={rng.randrange(10**6)}"])
        return text.rstrip() + rng.choice(["\n", "\n\n"]) + tail
    if kind == "widget":
        r = rng.random()
        if r < 0.4:
            return text.rstrip() + "\n" + rng.choice(["شارك\nطباعة", "شارك على: تويتر فيسبوك واتساب", "طباعة\nإرسال"])
        if r < 0.7:
            return rng.choice(["+ الخط -", "A A A", "طباعة"]) + "\n" + text
        ls = _lines(text)
        paras = [i for i, ln in enumerate(ls) if ln.strip()]
        if len(paras) < 3:
            return text.rstrip() + "\nشارك"
        i = paras[len(paras) // 2]
        return "\n".join([*ls[:i], f"اقرأ أيضا: {other_title}", *ls[i:]])
    if kind == "dateline":
        if rng.random() < 0.5:
            return _dateline(rec.get("date_extracted"), rng) + "\n" + text
        return f"{rng.choice(CITIES)} - " + text.lstrip()
    if kind == "byline+link":
        return modify(modify(text, "byline", rec, new_url, other_title, rng), "trailing-link", rec, new_url,
                      other_title, rng)
    raise ValueError(kind)


def _pick(rng: random.Random) -> str:
    r = rng.random()
    acc = 0.0
    for kind, share in MODS:
        acc += share
        if r < acc:
            return kind
    return MODS[0][0]


def write_second_export(records: list[dict], out: Path, seed: int = 20) -> list[dict]:
    """Write the second export of ``records`` under ``out``; returns, per written record, its
    original index, new id and modification (``kind``), in the order the files list them."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    order = list(range(len(records)))
    rng.shuffle(order)
    rows: list[tuple[dict, dict]] = []
    for i in order:
        rec = records[i]
        kind = _pick(rng)
        new_url = _url(rec, rng)
        other = records[rng.randrange(len(records))].get("title") or "خبر ذو صلة"
        text = rec.get("content")
        new = {"id": f"{rec.get('source') or 'x'}-{hashlib.sha1(f'{seed}:{i}'.encode()).hexdigest()[:12]}",
               "text": modify(text, kind, rec, new_url, other, rng) if isinstance(text, str) and text.strip() else text,
               "url": new_url}
        if rng.random() >= NO_OUTLET_SHARE and rec.get("source"):
            new["outlet"] = rec["source"]
        if rec.get("date_extracted"):
            new["published"] = str(rec["date_extracted"]).replace(" ", "T")
        title = rec.get("title")
        if title and rng.random() < TITLE_SUFFIX_SHARE:
            title = f"{title} | {SITES.get(rec.get('source'), 'موقع')}"
        if title:
            new["title"] = title
        rows.append((new, {"orig": i, "id": new["id"], "kind": kind, "outlet": new.get("outlet")}))
    # files of other sizes: plain JSONL, gzipped JSONL, and a zip of JSONL parts
    parts: list[list[tuple[dict, dict]]] = []
    k = 0
    while k < len(rows):
        n = rng.randrange(500, 4000)
        parts.append(rows[k:k + n])
        k += n
    manifest: list[dict] = []
    zipped = set(rng.sample(range(len(parts)), min(3, len(parts)))) if len(parts) > 4 else set()
    gz = {j for j in range(len(parts)) if j not in zipped and rng.random() < 0.3}
    zf = zipfile.ZipFile(out / "archive-b.zip", "w", zipfile.ZIP_DEFLATED) if zipped else None
    try:
        for j, part in enumerate(parts):
            body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r, _ in part).encode("utf-8")
            name = f"dump-{j + 1:04d}.jsonl"
            if j in zipped:
                zf.writestr(f"parts/{name}", body)  # type: ignore[union-attr]
            elif j in gz:
                with gzip.open(out / f"{name}.gz", "wb") as fh:
                    fh.write(body)
            else:
                (out / name).write_bytes(body)
            manifest.extend(m for _, m in part)
    finally:
        if zf is not None:
            zf.close()
    return manifest


# ---------------------------------------------------------------------------- threshold measurement
def _signatures(items: list[tuple[str, str | None, str]], workers: int) -> list[Any]:
    """Signatures of (text, title, sha) with the analysis's segments and flags (learned lines aside)."""
    from newsdedup.tasks.parallel import fork_map

    return [s for part in fork_map(_sig_chunk, list(range(len(items))), workers=workers, chunk_size=500,
                                   state={"items": items}) for s in part]


def _sig_chunk(idx: list[int]) -> list[Any]:
    from newsdedup.tasks.boilerplate import flag_boilerplate
    from newsdedup.tasks.dedup import body_spans, signature
    from newsdedup.tasks.parallel import shared
    from newsdedup.tasks.segment import segment

    out = []
    for i in idx:
        text, title, sha = shared["items"][i]
        segs = segment(text)
        out.append(signature(text, body_spans(segs, flag_boilerplate(text, segs, title=title)), sha, title=title))
    return out


def _words(text: str, title: str | None) -> list[str]:
    """Body words of a text, as the signature sees them (for showing what differs)."""
    from newsdedup.tasks.boilerplate import flag_boilerplate
    from newsdedup.tasks.dedup import body_spans, body_words
    from newsdedup.tasks.segment import segment

    segs = segment(text)
    return body_words(text, body_spans(segs, flag_boilerplate(text, segs, title=title)))


def _shingle_set(sig) -> set[int]:
    from newsdedup.tasks.align import ngram_hashes

    return set(ngram_hashes(sig.ids, 4).tolist())


def measure(records: list[dict], manifest: list[dict], export_texts: dict[int, str], workers: int,
            out_md: Path) -> dict:
    """Positives (every copy against its original) and negatives (different articles sharing a sketch value)."""
    from newsdedup.tasks.dedup import PARAMS, DedupIndex, compare, is_near, outlets_compatible

    t0 = time.perf_counter()
    keep = [i for i, r in enumerate(records) if isinstance(r.get("content"), str) and r["content"].strip()]
    orig_items = [(records[i]["content"], records[i].get("title"),
                   hashlib.sha256(records[i]["content"].encode("utf-8")).hexdigest()) for i in keep]
    sigs_o = dict(zip(keep, _signatures(orig_items, workers)))
    copies = [m for m in manifest if m["orig"] in sigs_o]
    copy_items = [(export_texts[m["orig"]], m.get("title"),
                   hashlib.sha256(export_texts[m["orig"]].encode("utf-8")).hexdigest()) for m in copies]
    sigs_c = _signatures(copy_items, workers)
    t_sig = time.perf_counter() - t0

    index = DedupIndex()
    pos_of: dict[int, int] = {}
    for i in keep:
        pos_of[i] = index.add(str(i), records[i].get("source"), sigs_o[i])
    index.commit()

    # positives: each copy against its original
    pos_rows = []
    for m, s in zip(copies, sigs_c):
        o = sigs_o[m["orig"]]
        row = {"kind": m["kind"], "n_new": s.n, "n_old": o.n}
        if s.sha == o.sha or s.text == o.text:
            row["tier"] = "identical"
        elif s.body is not None and s.body == o.body and s.n >= PARAMS.min_body:
            row["tier"] = "same-body"
        else:
            v = compare(s, o.compact())
            same = s.title is not None and s.title == o.title
            row["tier"] = "near" if is_near(s, o.compact()) else "missed"
            row["bare"] = _bare(s, o)
            if v is not None:
                row.update(core=v.core, edges=v.edges, kept=v.kept, diff=v.differing, contained=v.contained,
                           same_title=same, lines=_adds_lines(v, s, o), share=round(v.share(s.n, o.n), 4))
            row["sketch_shared"] = len(set(s.sketch.tolist()) & set(o.sketch.tolist()))
        hit = index.find(s, m.get("outlet"))
        row["found"] = hit.doc_id if hit else None
        row["found_right"] = hit is not None and (hit.doc_id == str(m["orig"]) or
                                                  _same_text(records, int(hit.doc_id), m["orig"]))
        row["orig"] = m["orig"]
        pos_rows.append(row)

    # the same lookup as the second run makes it: against the documents the first run *kept* (in reading
    # order, each looked up before it is kept, so a corpus article that repeats an earlier one is not kept
    # and its copy must be recognised through what it repeats)
    kept_index = DedupIndex()
    first_dup: dict[int, str] = {}
    for i in keep:
        hit = kept_index.find(sigs_o[i], records[i].get("source"))
        if hit is None:
            kept_index.add(str(i), records[i].get("source"), sigs_o[i])
        else:
            first_dup[i] = hit.doc_id
            kept_index.add_duplicate(str(i), records[i].get("source"), sigs_o[i], hit)  # as resolve() does
    kept_index.commit()
    missed_after_first = []
    for m, s in zip(copies, sigs_c):
        if kept_index.find(s, m.get("outlet")) is None:
            missed_after_first.append({"orig": m["orig"], "kind": m["kind"], "orig_duplicate_of": first_dup.get(m["orig"]),
                                       "n_new": s.n, "n_old": sigs_o[m["orig"]].n})

    # negatives: pairs of different corpus articles the lookup would compare (its candidates)
    pairs: set[tuple[int, int]] = set()
    for i in keep:
        for p in index.candidates(sigs_o[i]):
            j = int(index.doc_ids[p])
            if j != i and outlets_compatible(records[i].get("source"), records[j].get("source")):
                pairs.add((min(i, j), max(i, j)))
    neg_rows = []
    for a, b in sorted(pairs):
        sa, sb = sigs_o[a], sigs_o[b]
        row = {"a": a, "b": b, "outlet": records[a].get("source"), "n_a": sa.n, "n_b": sb.n}
        if sa.sha == sb.sha or sa.text == sb.text:
            row["tier"] = "identical"
        elif sa.body == sb.body and sa.n >= PARAMS.min_body:
            row["tier"] = "same-body"
        else:
            v = compare(sb, sa.compact())
            same = sa.title is not None and sa.title == sb.title
            row["bare"] = _bare(sb, sa)
            if v is not None:
                row.update(core=v.core, edges=v.edges, kept=v.kept, diff=v.differing, contained=v.contained,
                           same_title=same, lines=_adds_lines(v, sb, sa), share=round(v.share(sb.n, sa.n), 4))
            row["tier"] = "near" if is_near(sb, sa.compact()) else "different"
            ja, jb = _shingle_set(sa), _shingle_set(sb)
            row["jaccard"] = round(len(ja & jb) / max(1, len(ja | jb)), 4)
        neg_rows.append(row)

    # sweep of (edge, share) over positives that need ``near`` and negatives with a verdict
    sweep = []
    for edge in (8, 12, 16, 24, 32):
        for share in (0.7, 0.8, 0.9):
            for min_core in (4, 8, 10, 20, 30):
                for max_kept in (0, 1, 2, 3, 99):
                    for few in (0, 4, 8, 12):
                        def ok(r: dict) -> bool:
                            return (r.get("bare") is not None and r["bare"] <= few) or ("core" in r and r["edges"] <= edge and r["kept"] <= max_kept
                                    and ((r["core"] >= min_core and r["share"] >= share)
                                         or (r["contained"] and (r["same_title"] or r["lines"]) and r["diff"] <= few)))
                        acc_pos = sum(1 for r in pos_rows if r["tier"] in ("identical", "same-body") or ok(r))
                        acc_neg = sum(1 for r in neg_rows if r["tier"] in ("near", "different") and ok(r))
                        sweep.append({"edge": edge, "min_share": share, "min_core": min_core, "max_kept": max_kept,
                                      "few": few, "copies_accepted": acc_pos, "copies": len(pos_rows),
                                      "corpus_pairs_accepted": acc_neg})
    _write_pairs(records, neg_rows, out_md)
    summary = _summarize(pos_rows, neg_rows)
    summary.update({"first_run_duplicates": len(first_dup), "copies_missed_after_first_run": len(missed_after_first),
                    "copies_missed_after_first_run_rows": missed_after_first[:50],
                    "signature_seconds": round(t_sig, 2), "articles": len(keep), "copies": len(copies),
                    "sweep": sweep, "params": {k: getattr(PARAMS, k) for k in PARAMS.__dataclass_fields__}})
    return summary


def _adds_lines(v, new, old) -> bool:
    """The rule's other way for a short text: a title missing, the newcomer adds whole lines."""
    return (new.title is None or old.title is None) and v.adds_lines(new.n, new.lines)


def _bare(new, old) -> int | None:
    """For a pair where one body is empty, under one title: the other body's length (the rule's input)."""
    if min(new.n, old.n) == 0 and new.title is not None and new.title == old.title:
        return max(new.n, old.n)
    return None


def _same_text(records: list[dict], a: int, b: int) -> bool:
    from newsdedup.tasks.normalize import normalize_text

    return normalize_text(records[a]["content"]) == normalize_text(records[b]["content"])


def _pct(values: list[float], qs=(0, 0.5, 0.9, 0.99, 1)) -> dict:
    if not values:
        return {}
    v = sorted(values)
    return {f"p{int(q * 100)}": v[min(len(v) - 1, int(q * (len(v) - 1) + 0.5))] for q in qs}


def _summarize(pos_rows: list[dict], neg_rows: list[dict]) -> dict:
    by_kind: dict[str, dict] = {}
    for kind in sorted({r["kind"] for r in pos_rows}):
        rows = [r for r in pos_rows if r["kind"] == kind]
        need = [r for r in rows if r["tier"] in ("near", "missed")]
        by_kind[kind] = {"copies": len(rows), "tiers": dict(Counter(r["tier"] for r in rows)),
                         "found": sum(1 for r in rows if r["found"]),
                         "found_right_original": sum(1 for r in rows if r["found_right"]),
                         "edge_words": _pct([r["edges"] for r in need if "edges" in r]),
                         "share": _pct([r["share"] for r in need if "share" in r])}
    diff = [r for r in neg_rows if r["tier"] in ("near", "different")]
    return {
        "copies_by_kind": by_kind,
        "copies_found": sum(1 for r in pos_rows if r["found"]),
        "copies_found_right": sum(1 for r in pos_rows if r["found_right"]),
        "copies_missed": [r for r in pos_rows if not r["found"]][:50],
        "corpus_pairs": {"compared": len(neg_rows), "tiers": dict(Counter(r["tier"] for r in neg_rows)),
                         "with_a_common_run": sum(1 for r in diff if "core" in r),
                         "edge_words_of_different": _pct([r["edges"] for r in diff if "core" in r and
                                                          r["tier"] == "different"]),
                         "jaccard_ge_0.8_kept_apart": sum(1 for r in diff if r["tier"] == "different"
                                                          and r.get("jaccard", 0) >= 0.8),
                         "near_pairs": [r for r in neg_rows if r["tier"] == "near"][:200]},
    }


def _diff_words(wa: list[str], wb: list[str]) -> tuple[str, str]:
    from difflib import SequenceMatcher

    sm = SequenceMatcher(None, wa, wb, autojunk=False)
    da, db = [], []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op != "equal":
            da.append(" ".join(wa[i1:i2]) or "∅")
            db.append(" ".join(wb[j1:j2]) or "∅")
    return " | ".join(da)[:300], " | ".join(db)[:300]


def _write_pairs(records: list[dict], neg_rows: list[dict], path: Path) -> None:
    near = [r for r in neg_rows if r["tier"] == "near"]
    jac = [r for r in neg_rows if r["tier"] == "different" and r.get("jaccard", 0) >= 0.8]
    same_body = [r for r in neg_rows if r["tier"] == "same-body"]
    lines = ["# Corpus pairs the dedup rule accepts or that Jaccard would merge (bench/dedup.py --measure)", "",
             "Pairs of *different* SaudiNewsNet articles (other record, other text) of one outlet that the lookup",
             "compares (a shared sketch value, or a short body held whole). `a`/`b` are record numbers (zip-name order, array order). The columns show only the",
             "words that differ (∅: nothing on that side).", ""]
    for title, rows in (("Accepted as `near` duplicates", near), ("Accepted as `same-body` duplicates", same_body),
                        ("Jaccard ≥ 0.8 but kept apart (something differs inside the body)", jac)):
        lines += [f"## {title}: {len(rows)}", "", "| a | b | outlet | words a/b | core | edges | jaccard | differs in a | differs in b |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in rows[:60]:
            ra, rb = records[r["a"]], records[r["b"]]
            da, db = _diff_words(_words(ra["content"], ra.get("title")), _words(rb["content"], rb.get("title")))
            lines.append(f"| {r['a']} | {r['b']} | {r['outlet']} | {r['n_a']}/{r['n_b']} | {r.get('core', '')} | "
                         f"{r.get('edges', '')} | {r.get('jaccard', '')} | {da.replace('|', '¦')} | {db.replace('|', '¦')} |")
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------- the two runs
def _summary_row(label: str, res: dict) -> dict:
    s = res["summary"] or {}
    c, t, tot = s.get("counts") or {}, s.get("timings") or {}, s.get("totals") or {}
    return {"run": label, "wall_s": res["wall_s"], "stage_total_s": t.get("total"),
            "documents": c.get("documents"), "duplicates": c.get("duplicates"), "matches": c.get("matches"),
            "clusters": c.get("clusters"), "rejects": c.get("rejects"), "db_documents": tot.get("documents"),
            "db_duplicates": tot.get("duplicates"), "db_matches": tot.get("matches"),
            "db_clusters": tot.get("clusters"), "peak_nd_db_pss_mb": res["memory"].get("peak_newsdedup_plus_db_pss_mb")}


def runs(data: Path, second: Path, workers: int | None, tmp: str | None, keep_home: bool = False) -> dict:
    out: dict = {}
    with FreshHome(base=tmp, keep=keep_home) as home:
        if keep_home:
            print(f"home kept for inspection: NEWSDEDUP_HOME={home.path} (database 'dedup')", flush=True)
        boot = home.start_servers()
        code = code_fingerprint()
        extra = ["--workers", str(workers)] if workers else []
        r1 = run_cli(["run", str(data), "--map", SAUDI_MAP, "--db", "dedup", "--json", *extra], home)
        print(fmt_table([_summary_row("first", r1)], list(_summary_row("first", r1))), flush=True)
        r2 = run_cli(["run", str(second), "--db", "dedup", "--json", *extra], home)
        print(fmt_table([_summary_row("second export", r2)], list(_summary_row("second export", r2))), flush=True)
        from pymongo import MongoClient

        from common import cli

        db = MongoClient(cli(["db", "uri"], home.env).stdout.strip())["dedup"]
        kinds = Counter(d.get("duplicate_kind") for d in db.documents.find({"duplicate_of": {"$ne": None}},
                                                                             {"duplicate_kind": 1}))
        s1, s2 = r1["summary"], r2["summary"]
        out = {"servers": boot, "code": code, "loadavg_after": os.getloadavg(),
               "first": {"wall_s": r1["wall_s"], "summary": s1, "memory": r1["memory"]},
               "second": {"wall_s": r2["wall_s"], "summary": s2, "memory": r2["memory"]},
               "duplicate_kinds_in_db": dict(kinds),
               "checks": {
                   "new_clusters": s2["totals"]["clusters"] - s1["totals"]["clusters"],
                   "new_matches": s2["totals"]["matches"] - s1["totals"]["matches"],
                   "clusters_this_run": s2["counts"]["clusters"], "matches_this_run": s2["counts"]["matches"],
                   "new_documents": s2["counts"]["documents"],
                   "duplicates_second_run": s2["counts"].get("duplicates"),
                   "documents_stored_by_first_run": s1["counts"]["documents"] + s1["counts"].get("duplicates", 0),
                   "records_read_second_run": s2["counts"]["documents_read"],
                   "wall_share": round(r2["wall_s"] / r1["wall_s"], 4),
                   "stage_share": round(s2["timings"]["total"] / s1["timings"]["total"], 4),
               }}
        c = out["checks"]
        c["duplicates_equal_articles"] = c["duplicates_second_run"] == c["documents_stored_by_first_run"]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--measure", action="store_true", help="threshold measurement (no database)")
    ap.add_argument("--runs", action="store_true", help="ingest the corpus, then the second export")
    ap.add_argument("--fraction", type=float, default=1.0, help="the first round(F * articles) articles only")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20)
    ap.add_argument("--label", default=None)
    ap.add_argument("--tmp", default=None, help="parent folder for the temp data and home")
    ap.add_argument("--keep-export", default=None, metavar="DIR", help="also write the second export here")
    ap.add_argument("--keep-home", action="store_true",
                    help="--runs: keep the NEWSDEDUP_HOME (servers stopped) to inspect the database afterwards")
    args = ap.parse_args(argv)
    if not (args.measure or args.runs):
        args.measure = args.runs = True

    records = [r for _, r in saudinewsnet_records(None)]
    n = max(1, round(args.fraction * len(records)))
    records = records[:n]
    out_path = RESULTS / (f"dedup_{args.label}.json" if args.label else "dedup.json")
    result: dict = json.loads(out_path.read_text(encoding="utf-8")) if out_path.exists() else {}
    result.update({"started": datetime.now(timezone.utc).isoformat(), "command": " ".join(sys.argv),
                   "articles": n, "seed": args.seed, "modifications": dict(MODS),
                   "no_outlet_share": NO_OUTLET_SHARE, "title_suffix_share": TITLE_SUFFIX_SHARE})
    tmp = Path(tempfile.mkdtemp(prefix="nd-dedup-", dir=args.tmp))
    try:
        second = Path(args.keep_export) if args.keep_export else tmp / "second"
        manifest = write_second_export(records, second, args.seed)
        result["second_export"] = {"records": len(manifest), "kinds": dict(Counter(m["kind"] for m in manifest)),
                                   "files": sorted(p.name for p in second.iterdir()),
                                   "without_outlet": sum(1 for m in manifest if not m["outlet"])}
        if args.measure:
            texts = _export_texts(second)
            by_id = {m["id"]: m for m in manifest}
            ex = {by_id[i]["orig"]: (t, title) for i, (t, title) in texts.items()}
            for m in manifest:
                m["title"] = ex.get(m["orig"], (None, None))[1]
            result["measure"] = measure(records, manifest, {k: v[0] for k, v in ex.items()}, args.workers,
                                        RESULTS / "dedup_pairs.md")
            write_json(out_path, result)
            _report_measure(result["measure"])
        if args.runs:
            data = tmp / "first"
            data.mkdir()
            days: dict[str, list] = defaultdict(list)
            for (day, rec), _ in zip(saudinewsnet_records(None), range(n)):
                days[day].append(rec)
            for day, recs in days.items():
                (data / f"{day}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs),
                                                   encoding="utf-8")
            result["runs"] = runs(data, second, args.workers, args.tmp, args.keep_home)
            print(json.dumps(result["runs"]["checks"], indent=2))
        result["ended"] = datetime.now(timezone.utc).isoformat()
        write_json(out_path, result)
        print(f"wrote {out_path}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _export_texts(folder: Path) -> dict[str, tuple[str, str | None]]:
    """id → (text, title) of the second export, read back from its files."""
    out: dict[str, tuple[str, str | None]] = {}

    def take(raw: bytes) -> None:
        for line in raw.decode("utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                if isinstance(r.get("text"), str):
                    out[r["id"]] = (r["text"], r.get("title"))

    for p in sorted(folder.iterdir()):
        if p.name.endswith(".jsonl"):
            take(p.read_bytes())
        elif p.name.endswith(".jsonl.gz"):
            take(gzip.decompress(p.read_bytes()))
        elif p.suffix == ".zip":
            with zipfile.ZipFile(p) as zf:
                for name in sorted(zf.namelist()):
                    take(zf.read(name))
    return out


def _report_measure(m: dict) -> None:
    rows = [{"kind": k, **{t: v["tiers"].get(t, 0) for t in ("identical", "same-body", "near", "missed")},
             "found": v["found"], "edge p50": v["edge_words"].get("p50"), "edge max": v["edge_words"].get("p100"),
             "share min": v["share"].get("p0")} for k, v in m["copies_by_kind"].items()]
    print(fmt_table(rows, list(rows[0])) if rows else "no copies")
    print("corpus pairs:", json.dumps({k: v for k, v in m["corpus_pairs"].items() if k != "near_pairs"},
                                      ensure_ascii=False))
    print(f"corpus articles repeating an earlier one (not kept by the first run): {m['first_run_duplicates']}; "
          f"copies not recognised against what the first run kept: {m['copies_missed_after_first_run']}")
    p = m["params"]
    rows = [r for r in m["sweep"] if sum(r[k] != p[k] for k in ("edge", "min_share", "min_core", "max_kept", "few")) <= 1]
    print(fmt_table(rows, list(rows[0])))


if __name__ == "__main__":
    raise SystemExit(main())
