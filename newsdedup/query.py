"""Read-side queries behind ``newsdedup query``: clusters, one document, fuzzy claim search.

Query text is only ever used as a string to compare with rapidfuzz; it never
reaches MongoDB as a filter, so operator-looking input such as
``{"$where": "1"}`` is searched as literal text.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from .db import Store
from .tasks.normalize import normalize_text, tokenize

SEARCH_MIN_SCORE = 70.0


def top_clusters(store: Store, *, min_outlets: int = 1, limit: int = 20) -> list[dict]:
    return store.top_clusters(int(limit), min_outlets=int(min_outlets))


def document(store: Store, external_id: str) -> list[dict]:
    """The document(s) with this external id (every stored version, newest first) with passages and clusters.

    A duplicate has no passages of its own: its entry carries ``original``, the document it
    duplicates with that one's passages and clusters."""
    docs = list(store.db.documents.find({"external_id": str(external_id)},
                                        {"line_keys": 0, "boilerplate_spans": 0}).sort([("ingest_seq", -1)]))
    out = []
    for d in docs:
        entry = _document_entry(store, d)
        if d.get("duplicate_of"):
            orig = store.db.documents.find_one({"_id": d["duplicate_of"]}, {"line_keys": 0, "boilerplate_spans": 0})
            entry["original"] = _document_entry(store, orig) if orig else None
        out.append(entry)
    return out


def _document_entry(store: Store, d: dict) -> dict:
    d.pop("_id", None)
    passages = [{k: v for k, v in p.items() if k != "_id"} for p in store.passages_of(d["doc_id"])]
    cids = sorted({p["cluster_id"] for p in passages if p.get("cluster_id")})
    clusters = list(store.db.clusters.find({"cluster_id": {"$in": cids}}, {"_id": 0}).sort([("cluster_id", 1)]))
    return {"document": d, "passages": passages, "clusters": clusters}


def _combine(partial: float, words: float) -> float:
    """How well a stored text contains the claim: partial alignment, tempered by shared words."""
    return round(0.7 * partial + 0.3 * min(words, partial), 2)


def query_terms(text: str) -> tuple[str, set[str]]:
    """The normalized query and its informative words (3+ letters, or digits); empty when it has none."""
    qn = normalize_text(str(text))
    qwords = {t.text for t in tokenize(qn) if len(t.text) >= 3 or t.text.isdigit()}
    return (qn, qwords) if qn and qwords else ("", set())


def rank_texts(qn: str, qwords: set[str], norms: list[str], min_score: float = SEARCH_MIN_SCORE, *,
               words_checked: bool = False, workers: int = 1) -> list[tuple[int, float]]:
    """``(index, score)`` of the normalized texts that contain the claim: those sharing at least one
    informative word of the query whose score reaches ``min_score`` (rapidfuzz scores in C++).
    ``words_checked``: the caller already kept only texts sharing a word (e.g. from a word index)."""
    keep = (list(range(len(norms))) if words_checked
            else [i for i, nrm in enumerate(norms) if qwords & {t.text for t in tokenize(nrm)}])
    if not keep:
        return []
    texts = [norms[i] for i in keep]
    partial = process.cdist([qn], texts, scorer=fuzz.partial_ratio, score_cutoff=min_score, dtype=np.float64,
                            workers=workers)[0]
    passed = [j for j in range(len(keep)) if partial[j] >= min_score and texts[j]]
    if not passed:
        return []
    words = process.cdist([qn], [texts[j] for j in passed], scorer=fuzz.token_set_ratio, dtype=np.float64,
                          workers=workers)[0]
    out = []
    for k, j in enumerate(passed):
        s = _combine(float(partial[j]), float(words[k]))
        if s >= min_score:
            out.append((keep[j], s))
    return out


def search(store: Store, text: str, *, limit: int = 10, min_score: float = SEARCH_MIN_SCORE) -> list[dict]:
    """Clusters and unclustered passages that contain the claim, best first.

    Candidates are passages sharing at least one informative word of the query
    (found with a literal, escaped regex-free scan of the normalized text); the
    ranking is rapidfuzz's partial alignment, so a retold claim with a word
    missing or changed still ranks high.
    """
    qn, qwords = query_terms(text)
    if not qn:
        return []
    hits: dict[str, dict] = {}
    # Score every non-boilerplate passage; streaming keeps memory flat, cdist scores in C++.
    batch: list[dict] = []

    def flush() -> None:
        if not batch:
            return
        norms = [normalize_text(p["text"]) for p in batch]
        for i, s in rank_texts(qn, qwords, norms, min_score):
            p = batch[i]
            key = p.get("cluster_id") or p["passage_id"]
            prev = hits.get(key)
            if prev is None or s > prev["score"]:
                hits[key] = {"score": s, "passage": p}
        batch.clear()

    for p in store.db.passages.find({"boilerplate": False}, {"_id": 0, "passage_id": 1, "doc_id": 1,
                                                             "external_id": 1, "outlet": 1, "start": 1, "end": 1,
                                                             "text": 1, "cluster_id": 1}, batch_size=5000):
        batch.append(p)
        if len(batch) >= 5000:
            flush()
    flush()
    ranked = sorted(hits.items(), key=lambda kv: (-kv[1]["score"], kv[0]))[: max(0, int(limit))]
    cids = [k for k, v in ranked if v["passage"].get("cluster_id")]
    clusters = {c["cluster_id"]: c for c in store.db.clusters.find({"cluster_id": {"$in": cids}}, {"_id": 0})}
    docs = store.get_documents({v["passage"]["doc_id"] for _, v in ranked}, {"published": 1, "outlet": 1})
    out = []
    for key, v in ranked:
        p = v["passage"]
        c = clusters.get(p.get("cluster_id") or "")
        if c:
            out.append({"kind": "cluster", "score": v["score"], "cluster_id": c["cluster_id"],
                        "outlets": c["outlets"], "n_outlets": c["n_outlets"], "first_seen": c["first_seen"],
                        "attribution": c.get("attribution"), "representative": c["representative"],
                        "matched_passage": {k: p[k] for k in ("doc_id", "external_id", "outlet", "start", "end", "text")}})
        else:
            d = docs.get(p["doc_id"], {})
            out.append({"kind": "passage", "score": v["score"], "cluster_id": None, "outlets": [p.get("outlet")],
                        "n_outlets": 1, "first_seen": {"doc_id": p["doc_id"], "outlet": p.get("outlet"),
                                                       "published": d.get("published")},
                        "attribution": None, "representative": p["text"],
                        "matched_passage": {k: p[k] for k in ("doc_id", "external_id", "outlet", "start", "end", "text")}})
    return out


# ---------------------------------------------------------------------------- text output
def _short(s: str | None, n: int = 160) -> str:
    s = (s or "").replace("\n", " ")
    return s if len(s) <= n else s[: n - 1] + "…"


def _first_seen(fs: dict[str, Any] | None) -> str:
    fs = fs or {}
    return f"{fs.get('outlet') or '(unknown outlet)'}, {fs.get('published') or 'date unknown'}"


def format_clusters(rows: list[dict]) -> str:
    if not rows:
        return "no reused passages found"
    out = []
    for c in rows:
        out.append(f"{c['cluster_id']}  {c['n_outlets']} outlets / {c['size']} passages"
                   + (f"  source: {c['attribution']}" if c.get("attribution") else ""))
        out.append(f"  first seen: {_first_seen(c.get('first_seen'))}")
        out.append(f"  outlets: {', '.join(o or '(unknown)' for o in c['outlets'])}")
        out.append(f"  « {_short(c.get('representative'))} »")
    return "\n".join(out)


def format_document(rows: list[dict]) -> str:
    out = []
    for r in rows:
        out.extend(_document_lines(r))
        if r["document"].get("duplicate_of"):
            o = r.get("original")
            od = (o or {}).get("document") or {}
            out.append(f"  duplicate of {od.get('external_id', '(missing)')}  doc {r['document']['duplicate_of']}  "
                       f"outlet {od.get('outlet') or '(unknown)'}  ({r['document'].get('duplicate_kind') or 'duplicate'}; "
                       "no passages of its own)")
            if o:
                out.extend("  " + line for line in _document_lines(o))
    return "\n".join(out)


def _document_lines(r: dict) -> list[str]:
    d = r["document"]
    out = [f"{d['external_id']}  doc {d['doc_id']}  outlet {d.get('outlet') or '(unknown)'}  "
           f"published {d.get('published') or '?'}  lang {d.get('lang')} ({d.get('lang_confidence')})",
           f"  source: {d.get('source_path')}  run {d.get('run_id')}"]
    for p in r["passages"]:
        flag = f"[{p['boilerplate_reason']}]" if p.get("boilerplate") else ("[reused]" if p.get("cluster_id") else "")
        out.append(f"  {p['start']:>6}-{p['end']:<6} {flag:<16} {_short(p['text'], 110)}")
    for c in r["clusters"]:
        out.append(f"  cluster {c['cluster_id']}: {c['n_outlets']} outlets, first seen {_first_seen(c.get('first_seen'))}")
    return out


def format_search(rows: list[dict]) -> str:
    if not rows:
        return "no match"
    out = []
    for r in rows:
        head = f"{r['score']:5.1f}  {r['kind']}"
        if r["cluster_id"]:
            head += f" {r['cluster_id']}"
        head += f"  {r['n_outlets']} outlet(s): {', '.join(o or '(unknown)' for o in r['outlets'])}"
        out.append(head)
        out.append(f"       first seen: {_first_seen(r.get('first_seen'))}"
                   + (f"  source: {r['attribution']}" if r.get("attribution") else ""))
        out.append(f"       « {_short(r['matched_passage']['text'])} »")
    return "\n".join(out)
