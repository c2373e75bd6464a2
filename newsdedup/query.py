"""Read-side queries behind ``newsdedup query``: clusters, one document, fuzzy claim search.

Query text is only ever used as a string to compare with rapidfuzz; it never
reaches MongoDB as a filter, so operator-looking input such as
``{"$where": "1"}`` is searched as literal text.

``query search`` reads a word index of the stored passages kept next to the database's state
(:mod:`newsdedup.tasks.search_index`), brought up to date with the documents stored since it was
last saved, instead of aligning the claim with every passage of the database.
"""

from __future__ import annotations

import datetime as _dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Settings, redact_uri
from .db import IN_CHUNK, Store
from .tasks import derived_state, search_index
from .tasks.dates import parse_date
from .tasks.normalize import WORD_RE, normalize_text

if TYPE_CHECKING:  # numpy and rapidfuzz are imported by search only: `query doc` starts faster without them
    from .tasks.search_index import SearchIndex

SEARCH_MIN_SCORE = 70.0
KINDS = ("claim", "self", "template", "formula")


def kind_arg(kind: str | None) -> str | None:
    """``--kind`` as the store takes it: None for ``any``."""
    return None if kind in (None, "any") else kind
SEARCH_CANDIDATES = 400  # entries aligned with rapidfuzz per query


# ---------------------------------------------------------------------------- filters
@dataclass(frozen=True)
class Filters:
    """``--since`` / ``--until`` (inclusive, ISO date or date-time) and ``--outlet``."""

    since: str | None = None
    until: str | None = None
    outlet: str | None = None

    @classmethod
    def parse(cls, since: str | None = None, until: str | None = None, outlet: str | None = None) -> "Filters":
        """Raises ``ValueError`` naming the option whose date cannot be read."""
        def day(opt: str, raw: str | None) -> str | None:
            if raw is None:
                return None
            got = parse_date(raw)
            if got is None:
                raise ValueError(f"{opt}: not a date: {raw!r} (use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)")
            return got

        return cls(day("--since", since), day("--until", until), outlet)

    @property
    def active(self) -> bool:
        return bool(self.since or self.until or self.outlet)

    @property
    def _until_bound(self) -> tuple[str, bool] | None:
        """Upper bound for ISO strings and whether it is inclusive: the day after a date-only
        ``--until`` (exclusive), so that a date-time on that day is inside."""
        if not self.until:
            return None
        if "T" in self.until:
            return self.until, True
        nxt = _dt.date.fromisoformat(self.until) + _dt.timedelta(days=1)
        return nxt.isoformat(), False

    def date_ok(self, published: str | None) -> bool:
        if not (self.since or self.until):
            return True
        if not published:
            return False
        if self.since and published < self.since:
            return False
        bound = self._until_bound
        if bound is not None:
            value, inclusive = bound
            if published > value or (published == value and not inclusive):
                return False
        return True

    def keep(self, outlet: str | None, published: str | None) -> bool:
        return (not self.outlet or outlet == self.outlet) and self.date_ok(published)

    def member_query(self) -> dict[str, Any]:
        """A MongoDB filter on clusters: a member from the outlet, published in the range."""
        cond: dict[str, Any] = {}
        if self.outlet:
            cond["outlet"] = self.outlet
        rng: dict[str, str] = {}
        if self.since:
            rng["$gte"] = self.since
        bound = self._until_bound
        if bound is not None:
            rng["$lte" if bound[1] else "$lt"] = bound[0]
        if rng:
            cond["published"] = rng
        if not cond:
            return {}
        if list(cond) == ["outlet"]:
            return {"outlets": self.outlet}
        return {"members": {"$elemMatch": cond}}


NO_FILTERS = Filters()


# ---------------------------------------------------------------------------- runs
def incomplete_run_note(store: Store) -> str | None:
    """One line when the database's results are incomplete: a run is still going, or the last one
    was interrupted or failed and no run has completed its documents yet; else None."""
    store.mark_abandoned_runs()  # a 'running' run whose process is gone was killed
    runs = list(store.db.runs.find({"status": {"$in": ["running", "killed", "interrupted", "failed"]},
                                    "recovered_by": None},
                                   {"_id": 1, "status": 1, "started_at": 1, "parameters": 1},
                                   sort=[("started_at", -1)], limit=5))
    if not runs:
        return None
    r = runs[0]
    when = r.get("started_at")
    when = when.strftime("%Y-%m-%d %H:%M") if hasattr(when, "strftime") else str(when or "?")
    if r["status"] == "running":
        return (f"note: run {r['_id']} (started {when}) is still running: results are incomplete "
                "until it finishes")
    more = f" (and {len(runs) - 1} more)" if len(runs) > 1 else ""
    return (f"note: the last run {r['_id']} (started {when}) was {r['status']}{more} before it finished: "
            "its documents are stored but not all matched or clustered yet; run the same "
            "`newsdedup run` again to complete them")


# ---------------------------------------------------------------------------- clusters & documents
def top_clusters(store: Store, *, min_outlets: int = 1, limit: int = 20, filters: Filters = NO_FILTERS,
                 kind: str | None = "claim") -> list[dict]:
    """The widest clusters of ``kind`` (``claim`` by default; None: every kind)."""
    return store.top_clusters(int(limit), min_outlets=int(min_outlets), filt=filters.member_query(), kind=kind)


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


def _clusters_by_id(store: Store, ids: list[str], projection: dict | None = None) -> dict[str, dict]:
    """Clusters by ``_id`` (the primary index), ``$in`` lists kept short (see ``db.IN_CHUNK``)."""
    out: dict[str, dict] = {}
    ids = sorted(set(ids))
    for i in range(0, len(ids), IN_CHUNK):
        for c in store.db.clusters.find({"_id": {"$in": ids[i:i + IN_CHUNK]}}, projection or {}):
            c.pop("_id", None)
            out[c["cluster_id"]] = c
    return out


_DOC_VIEW = {"line_keys": 0, "boilerplate_spans": 0, "segments": 0}


def document(store: Store, external_id: str, filters: Filters = NO_FILTERS) -> list[dict]:
    """The document(s) with this external id (every stored version, newest first) with passages, clusters
    and derivations (which documents it was derived from, which were derived from it).

    A duplicate has no passages of its own: its entry carries ``original``, the document it
    duplicates with that one's passages, clusters and derivations."""
    docs = list(store.db.documents.find({"external_id": str(external_id)}, _DOC_VIEW))
    docs.sort(key=lambda d: (-(d.get("ingest_seq") or 0), d["_id"]))
    out = []
    for d in docs:
        if not filters.keep(d.get("outlet"), d.get("published")):
            continue
        entry = _document_entry(store, d)
        if d.get("duplicate_of"):
            orig = store.db.documents.find_one({"_id": d["duplicate_of"]}, _DOC_VIEW)
            entry["original"] = _document_entry(store, orig) if orig else None
        out.append(entry)
    return out


def _document_entry(store: Store, d: dict) -> dict:
    d.pop("_id", None)
    passages = [{k: v for k, v in p.items() if k != "_id"} for p in store.passages_of(d["doc_id"])]
    cids = sorted({p["cluster_id"] for p in passages if p.get("cluster_id")})
    clusters = _clusters_by_id(store, cids)
    return {"document": d, "passages": passages, "clusters": [clusters[c] for c in sorted(clusters)],
            "derivations": _derivations(store, d["doc_id"])}


# ---------------------------------------------------------------------------- search
def search_folder(settings: Settings, uri: str) -> Path:
    """Where the search index of this database lives (keyed by server and database)."""
    return derived_state.search_dir(settings.home, redact_uri(uri), settings.db_name)


def update_search_index(store: Store, folder: Path) -> "SearchIndex":
    """The search index in ``folder``, first brought up to date with the database
    (:func:`~newsdedup.tasks.derived_state.load_search_index`)."""
    return derived_state.load_search_index(store, folder, store.counts()["documents"],
                                           lambda seq: store.documents_after_seq(seq, search_index.DOC_FIELDS))


class _Widened:
    """A hit widened to neighbouring passages (:meth:`SearchIndex.around`) that remembers its own entry."""

    def __init__(self, window: Any, entry: Any):
        self.__dict__.update({k: getattr(window, k) for k in ("doc_id", "start", "end", "outlet", "published", "norm")})
        self.entry_start = entry.start


def _claim_combine(partial: float, words: float, share: float) -> float:
    base = partial * share
    return round(0.8 * base + 0.2 * min(words, base), 2)


def claim_score(query_norm: str, candidate_norm: str) -> float:
    """How much of the claim a stored passage holds (0-100).

    rapidfuzz's partial alignment finds the claim inside a longer passage; a passage shorter than
    the claim can hold at most its own length of it, so its score is scaled by that share (else a
    one-word passage such as «الرياض», found whole inside the claim, would score 100)."""
    from rapidfuzz import fuzz

    if not candidate_norm or not query_norm:
        return 0.0
    return _claim_combine(fuzz.partial_ratio(query_norm, candidate_norm),
                          fuzz.token_set_ratio(query_norm, candidate_norm),
                          min(1.0, len(candidate_norm) / len(query_norm)))


def query_terms(text: str) -> tuple[str, set[str]]:
    """The normalized query and its informative words (3+ letters, or digits); empty when it has none."""
    qn = normalize_text(str(text))
    qwords = {w for w in WORD_RE.findall(qn) if len(w) >= 3 or w.isdigit()}
    return (qn, qwords) if qn and qwords else ("", set())


def rank_texts(qn: str, qwords: set[str], norms: list[str], min_score: float = SEARCH_MIN_SCORE, *,
               words_checked: bool = False, workers: int = 1) -> list[tuple[int, float]]:
    """``(index, score)`` of the normalized texts that hold the claim, by :func:`claim_score` (batch form:
    rapidfuzz scores in C++), for callers that keep their own texts (the claim explorer's catalog).
    ``words_checked``: the caller already kept only texts sharing an informative word of the query."""
    import numpy as np
    from rapidfuzz import fuzz, process

    keep = (list(range(len(norms))) if words_checked
            else [i for i, nrm in enumerate(norms) if qwords & set(WORD_RE.findall(nrm))])
    keep = [i for i in keep if norms[i]]
    if not keep or not qn:
        return []
    texts = [norms[i] for i in keep]
    # claim_score <= partial_ratio: texts whose partial alignment misses the threshold cannot pass
    partial = process.cdist([qn], texts, scorer=fuzz.partial_ratio, score_cutoff=min_score, dtype=np.float64,
                            workers=workers)[0]
    passed = [j for j in range(len(keep)) if partial[j] >= min_score]
    if not passed:
        return []
    words = process.cdist([qn], [texts[j] for j in passed], scorer=fuzz.token_set_ratio, dtype=np.float64,
                          workers=workers)[0]
    out = []
    for k, j in enumerate(passed):
        s = _claim_combine(float(partial[j]), float(words[k]), min(1.0, len(texts[j]) / len(qn)))
        if s >= min_score:
            out.append((keep[j], s))
    return out


def search(store: Store, index: "SearchIndex", text: str, *, limit: int = 10, min_score: float = SEARCH_MIN_SCORE,
           filters: Filters = NO_FILTERS, kind: str | None = "claim") -> list[dict]:
    """Clusters of ``kind`` (``claim`` by default, None: any) and unclustered passages that contain the
    claim, best first. A passage of a cluster of another kind (a template, an outlet's own reuse) is
    not listed (clusters stored before kinds existed count as claims).

    Candidates are the passages holding most of the query's rare words (the index); the
    ranking is :func:`claim_score`, so a retold claim with a word missing or changed still
    ranks high, and a passage that is only a piece of the claim does not."""
    qn = normalize_text(str(text))
    if not qn or not WORD_RE.search(qn):
        return []
    hits = index.candidates(qn, limit=SEARCH_CANDIDATES, keep=filters.keep if filters.active else None)
    scored = []
    for h in hits:
        s = claim_score(qn, h.norm)
        if len(h.norm) < 0.9 * len(qn):  # a claim of several sentences: score it with its neighbours too
            entry = h
            for direction in ("after", "before", "both"):
                w = index.around(entry, len(qn), direction)
                sw = claim_score(qn, w.norm) if w is not entry else 0.0
                if sw > s:
                    s, h = sw, _Widened(w, entry)
        scored.append((s, h))
    scored.sort(key=lambda x: (-x[0], x[1].doc_id, x[1].start))
    scored = [(s, h) for s, h in scored if s >= min_score]
    from .tasks.ids import passage_id

    pids = [passage_id(h.doc_id, getattr(h, "entry_start", h.start)) for _, h in scored]
    stored: dict[str, dict] = {}
    for i in range(0, len(pids), IN_CHUNK):
        for p in store.db.passages.find({"_id": {"$in": pids[i:i + IN_CHUNK]}},
                                        {"passage_id": 1, "doc_id": 1, "external_id": 1, "outlet": 1, "start": 1,
                                         "end": 1, "text": 1, "cluster_id": 1}):
            stored[p.pop("_id")] = p
    best: dict[str, tuple[float, Any, dict]] = {}
    missing: list[tuple[float, Any]] = []
    for (s, h), pid in zip(scored, pids):
        p = stored.get(pid)
        if p is None:  # passages of a run that has not written them yet
            missing.append((s, h))
            continue
        key = p.get("cluster_id") or pid
        if key not in best:
            best[key] = (s, h, p)
    if missing:
        texts = store.get_documents({h.doc_id for _, h in missing}, {"text": 1, "external_id": 1})
        for s, h in missing:
            d = texts.get(h.doc_id) or {}
            pid = passage_id(h.doc_id, h.start)
            best.setdefault(pid, (s, h, {"passage_id": pid, "doc_id": h.doc_id, "external_id": d.get("external_id"),
                                         "outlet": h.outlet, "start": h.start, "end": h.end,
                                         "text": (d.get("text") or "")[h.start:h.end], "cluster_id": None}))
    widened = [k for k, v in best.items() if isinstance(v[1], _Widened)]
    if widened:  # the text shown is the whole window, as received
        texts = store.get_documents({best[k][1].doc_id for k in widened}, {"text": 1})
        for k in widened:
            s, h, p = best[k]
            text = (texts.get(h.doc_id, {}).get("text") or "")[h.start:h.end]
            best[k] = (s, h, {**p, "start": h.start, "end": h.end, "text": text or p.get("text")})
    clusters = _clusters_by_id(store, [k for k, v in best.items() if v[2].get("cluster_id")], {"members": 0})
    if kind is not None:
        best = {k: v for k, v in best.items() if not v[2].get("cluster_id")
                or (clusters.get(v[2]["cluster_id"]) or {}).get("kind", "claim") == kind}

    def n_outlets(key: str) -> int:
        c = clusters.get(best[key][2].get("cluster_id") or "")
        return int(c["n_outlets"]) if c else 1

    ranked = sorted(best, key=lambda k: (-best[k][0], -n_outlets(k), k))[: max(0, int(limit))]
    out = []
    for key in ranked:
        s, h, p = best[key]
        matched = {k: p.get(k) for k in ("doc_id", "external_id", "outlet", "start", "end", "text")}
        c = clusters.get(p.get("cluster_id") or "")
        if c:
            out.append({"kind": "cluster", "cluster_kind": c.get("kind", "claim"), "confidence": c.get("confidence"),
                        "score": s, "cluster_id": c["cluster_id"], "outlets": c["outlets"],
                        "n_outlets": c["n_outlets"], "first_seen": c["first_seen"],
                        "attribution": c.get("attribution"), "representative": c["representative"],
                        "matched_passage": matched})
        else:
            out.append({"kind": "passage", "score": s, "cluster_id": None, "outlets": [h.outlet], "n_outlets": 1,
                        "first_seen": {"doc_id": h.doc_id, "outlet": h.outlet, "published": h.published},
                        "attribution": None, "representative": p.get("text"), "matched_passage": matched})
    return out


def open_search_index(store: Store, settings: Settings, uri: str) -> tuple["SearchIndex", Path | None]:
    """The up-to-date search index of this database, and a temporary folder to delete afterwards
    when ``NEWSDEDUP_HOME`` cannot hold it (a read-only home with ``MONGODB_URI`` set)."""
    folder = search_folder(settings, uri)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        return update_search_index(store, folder), None
    except OSError:
        tmp = Path(tempfile.mkdtemp(prefix="newsdedup-search-"))
        return update_search_index(store, tmp / "index"), tmp


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
    return out


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
