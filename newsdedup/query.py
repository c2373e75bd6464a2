"""Read-side queries behind ``newsdedup query``: clusters, one document, fuzzy claim search.

Query text is only ever used as a string to compare with rapidfuzz; it never
reaches MongoDB as a filter, so operator-looking input such as
``{"$where": "1"}`` is searched as literal text.
"""

from __future__ import annotations

from typing import Any

from rapidfuzz import fuzz, process

from .db import Store
from .tasks.normalize import normalize_text, tokenize

SEARCH_MIN_SCORE = 70.0
KINDS = ("claim", "self", "template", "formula")


def kind_arg(kind: str | None) -> str | None:
    """``--kind`` as the store takes it: None for ``any``."""
    return None if kind in (None, "any") else kind


def top_clusters(store: Store, *, min_outlets: int = 1, limit: int = 20, kind: str | None = "claim") -> list[dict]:
    """The widest clusters of ``kind`` (``claim`` by default; None: every kind)."""
    return store.top_clusters(int(limit), min_outlets=int(min_outlets), kind=kind)


def _derivations(store: Store, doc_id: str) -> list[dict]:
    """The document's derivation rows, each with ``other`` (the other document: doc_id, external_id,
    outlet, published) and ``relation`` from this document's side: ``derived from`` (it is the later,
    derived side), ``source of`` (the other one is derived from it), ``derived (either way)`` (a
    derived pair whose dates do not tell which came first) or ``shares text with`` (``non``)."""
    rows = store.derivations_of(doc_id)
    others = store.get_documents({r["b_doc_id"] if r["a_doc_id"] == doc_id else r["a_doc_id"] for r in rows},
                                 {"external_id": 1, "outlet": 1, "published": 1})
    out = []
    for r in rows:
        mine = "a" if r["a_doc_id"] == doc_id else "b"
        theirs = "b" if mine == "a" else "a"
        other_id = r[f"{theirs}_doc_id"]
        o = others.get(other_id, {})
        if r["derivation"] == "non":
            relation = "shares text with"
        elif r.get("source_doc_id") == other_id:
            relation = "derived from"
        elif r.get("source_doc_id") == doc_id:
            relation = "source of"
        else:
            relation = "derived (either way)"
        out.append({**r, "relation": relation, "coverage": r[f"{mine}_coverage"],
                    "other": {"doc_id": other_id, "external_id": o.get("external_id", r.get(f"{theirs}_external_id")),
                              "outlet": o.get("outlet"), "published": o.get("published")}})
    order = {"derived from": 0, "derived (either way)": 1, "source of": 2, "shares text with": 3}
    out.sort(key=lambda x: (order[x["relation"]], -(x.get("strength") or 0), x["other"]["doc_id"]))
    return out


def document(store: Store, external_id: str) -> list[dict]:
    """The document(s) with this external id (every stored version, newest first) with passages, clusters
    and derivations (which documents it was derived from, which were derived from it)."""
    docs = list(store.db.documents.find({"external_id": str(external_id)},
                                        {"line_keys": 0, "boilerplate_spans": 0}).sort([("ingest_seq", -1)]))
    out = []
    for d in docs:
        d.pop("_id", None)
        passages = [{k: v for k, v in p.items() if k != "_id"} for p in store.passages_of(d["doc_id"])]
        cids = sorted({p["cluster_id"] for p in passages if p.get("cluster_id")})
        clusters = list(store.db.clusters.find({"cluster_id": {"$in": cids}}, {"_id": 0}).sort([("cluster_id", 1)]))
        out.append({"document": d, "passages": passages, "clusters": clusters,
                    "derivations": _derivations(store, d["doc_id"])})
    return out


def _score(query_norm: str, candidate_norm: str) -> float:
    """How well a stored text contains the claim: partial alignment, tempered by shared words."""
    if not candidate_norm:
        return 0.0
    partial = fuzz.partial_ratio(query_norm, candidate_norm)
    words = fuzz.token_set_ratio(query_norm, candidate_norm)
    return round(0.7 * partial + 0.3 * min(words, partial), 2)


def search(store: Store, text: str, *, limit: int = 10, min_score: float = SEARCH_MIN_SCORE,
           kind: str | None = "claim") -> list[dict]:
    """Clusters of ``kind`` (``claim`` by default, None: any) and unclustered passages that contain the
    claim, best first. A passage of a cluster of another kind (a template, an outlet's own reuse) is
    not listed.

    Candidates are passages sharing at least one informative word of the query
    (found with a literal, escaped regex-free scan of the normalized text); the
    ranking is rapidfuzz's partial alignment, so a retold claim with a word
    missing or changed still ranks high.
    """
    qn = normalize_text(str(text))
    qwords = {t.text for t in tokenize(qn) if len(t.text) >= 3 or t.text.isdigit()}
    if not qn or not qwords:
        return []
    hits: dict[str, dict] = {}
    # Score every non-boilerplate passage; streaming keeps memory flat, cdist scores in C++.
    batch: list[dict] = []

    def flush() -> None:
        if not batch:
            return
        norms = [normalize_text(p["text"]) for p in batch]
        keep = [i for i, nrm in enumerate(norms) if qwords & {t.text for t in tokenize(nrm)}]
        if keep:
            scores = process.cdist([qn], [norms[i] for i in keep], scorer=fuzz.partial_ratio, workers=1)[0]
            for j, i in enumerate(keep):
                if scores[j] < min_score:
                    continue
                s = _score(qn, norms[i])
                if s < min_score:
                    continue
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
    ranked = sorted(hits.items(), key=lambda kv: (-kv[1]["score"], kv[0]))
    cids = sorted({v["passage"]["cluster_id"] for _, v in ranked if v["passage"].get("cluster_id")})
    clusters = {}
    for i in range(0, len(cids), 25):  # short $in lists (see db.IN_CHUNK)
        for c in store.db.clusters.find({"cluster_id": {"$in": cids[i:i + 25]}}, {"_id": 0}):
            clusters[c["cluster_id"]] = c
    if kind is not None:  # clusters stored before kinds existed count as claims
        ranked = [(k, v) for k, v in ranked if not v["passage"].get("cluster_id")
                  or (clusters.get(v["passage"]["cluster_id"]) or {}).get("kind", "claim") == kind]
    ranked = ranked[: max(0, int(limit))]
    docs = store.get_documents({v["passage"]["doc_id"] for _, v in ranked}, {"published": 1, "outlet": 1})
    out = []
    for key, v in ranked:
        p = v["passage"]
        c = clusters.get(p.get("cluster_id") or "")
        if c:
            out.append({"kind": "cluster", "cluster_kind": c.get("kind", "claim"), "confidence": c.get("confidence"),
                        "score": v["score"], "cluster_id": c["cluster_id"],
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
        out.append(f"{c['cluster_id']}  {c.get('kind', 'claim')}  {c['n_outlets']} outlets / {c['size']} passages"
                   + (f"  confidence {c['confidence']:.2f}" if c.get("confidence") is not None else "")
                   + (f"  source: {c['attribution']}" if c.get("attribution") else ""))
        out.append(f"  first seen: {_first_seen(c.get('first_seen'))}")
        out.append(f"  outlets: {', '.join(o or '(unknown)' for o in c['outlets'])}")
        out.append(f"  « {_short(c.get('representative'))} »")
    return "\n".join(out)


def format_document(rows: list[dict]) -> str:
    out = []
    for r in rows:
        d = r["document"]
        out.append(f"{d['external_id']}  doc {d['doc_id']}  outlet {d.get('outlet') or '(unknown)'}  "
                   f"published {d.get('published') or '?'}  lang {d.get('lang')} ({d.get('lang_confidence')})")
        out.append(f"  source: {d.get('source_path')}  run {d.get('run_id')}")
        for p in r["passages"]:
            flag = f"[{p['boilerplate_reason']}]" if p.get("boilerplate") else ("[reused]" if p.get("cluster_id") else "")
            out.append(f"  {p['start']:>6}-{p['end']:<6} {flag:<16} {_short(p['text'], 110)}")
        for c in r["clusters"]:
            out.append(f"  cluster {c['cluster_id']} ({c.get('kind', 'claim')}): {c['n_outlets']} outlets, "
                       f"first seen {_first_seen(c.get('first_seen'))}")
        for x in r.get("derivations") or ():
            o = x["other"]
            who = f"{o.get('external_id')} ({o.get('outlet') or 'unknown outlet'}, {o.get('published') or 'date unknown'})"
            side = "b" if x["b_doc_id"] == d["doc_id"] else "a"
            words, copied = x.get(f"{side}_words"), x.get(f"{side}_copied")
            detail = f"{round(100 * x['coverage'])}% of this body matched" + (
                f" ({round(100 * copied)}% copied)" if copied is not None else "") + (
                f", {round(100 * words)}% of its words found in the other" if words is not None else "")
            if x["derivation"] == "non":
                out.append(f"  {x['relation']} {who}: not derived ({detail})")
            else:
                out.append(f"  {x['relation']} {who} ({x['derivation']}, {round(100 * (x.get('strength') or 0))}%; {detail})")
    return "\n".join(out)


def format_search(rows: list[dict]) -> str:
    if not rows:
        return "no match"
    out = []
    for r in rows:
        head = f"{r['score']:5.1f}  {r['kind']}"
        if r["cluster_id"]:
            head += f" {r['cluster_id']} ({r.get('cluster_kind', 'claim')})"
        head += f"  {r['n_outlets']} outlet(s): {', '.join(o or '(unknown)' for o in r['outlets'])}"
        out.append(head)
        out.append(f"       first seen: {_first_seen(r.get('first_seen'))}"
                   + (f"  source: {r['attribution']}" if r.get("attribution") else ""))
        out.append(f"       « {_short(r['matched_passage']['text'])} »")
    return "\n".join(out)
