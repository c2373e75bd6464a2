"""The explorer's in-memory catalog of one database: what the list pages filter, sort and count.

Why a catalog and not a query per page: the embedded server (SecantusDB) answers
equality lookups on an index in milliseconds, but reads every matching record for
a range, a sort or ``distinct`` (on SaudiNewsNet: the 11,107 clusters with two or
more outlets in 1.7 s, ``distinct("outlet")`` in 3 s, the documents' segments in
7 s). Sorting claims by spread, filtering them by outlet, date and attribution,
searching their text and summing each outlet's copied share are therefore done
here, over one pass of plain rows read when the database changes
(:mod:`newsdedup.web.store` reads them; this module never talks to MongoDB).
Pages about one claim or one document read the database live, by id.

Free-text search uses the same matching as ``newsdedup query search``
(:func:`newsdedup.query.rank_texts`: normalized text, a shared informative word,
rapidfuzz partial alignment, the same threshold) over the claims' passages; a
word index only narrows which texts are scored.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from array import array
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..query import SEARCH_MIN_SCORE, query_terms, rank_texts
from ..tasks.normalize import WORD_RE, normalize_text

KINDS = ("claim", "self", "template", "formula")
DERIVED = ("wholly", "partially")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
SEARCHES_KEPT = 32
_SEARCH_LOCK = threading.Lock()
REPRESENTATIVE_CHARS = 600  # shown in the list; the claim page reads the whole cluster


def day_of(published: Any) -> int | None:
    """Proleptic ordinal of the day of an ISO date or date-time string (None when unknown)."""
    if not isinstance(published, str):
        return None
    m = _DAY.match(published)
    if not m:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3])).toordinal()
    except ValueError:
        return None


def day_str(ordinal: int | None) -> str:
    return dt.date.fromordinal(ordinal).isoformat() if ordinal else ""


@dataclass(slots=True)
class ClaimRow:
    """One cluster as the claims list shows it."""

    idx: int
    cluster_id: str
    kind: str | None  # None: a database written before cluster kinds
    confidence: float | None
    size: int
    n_outlets: int
    outlets: tuple[str | None, ...]
    fs_doc: str | None
    fs_outlet: str | None
    fs_published: str | None
    fs_day: int | None
    attribution: str | None
    attribution_norm: str
    representative: str
    days: tuple[tuple[int, int], ...]  # (day ordinal, member documents published that day)
    undated: int  # member documents with no known date
    n_docs: int


@dataclass(slots=True)
class OutletRow:
    outlet: str | None
    documents: int = 0
    chars: int = 0  # characters of all passages
    boilerplate_chars: int = 0
    reused_chars: int = 0  # in claims first seen at another outlet (clusters)
    copied_chars: float = 0.0  # body characters covered by derivations from an earlier document (derivations)
    derived_documents: int = 0
    wholly_documents: int = 0
    first_seen_claims: int = 0

    @property
    def body_chars(self) -> int:
        return self.chars - self.boilerplate_chars

    def share(self, part: float, whole: float) -> float | None:
        return part / whole if whole else None


@dataclass
class Catalog:
    generation: str
    built_at: float
    build_seconds: float = 0.0
    kinds_computed: bool = False
    has_derivations: bool = False
    claims: list[ClaimRow] = field(default_factory=list)  # widest spread first
    docs: dict[str, tuple[str | None, str | None, str]] = field(default_factory=dict)  # id -> outlet, published, ext id
    duplicates: dict[str, list[str]] = field(default_factory=dict)  # doc id -> ids of documents repeating it
    outlets: dict[str | None, OutletRow] = field(default_factory=dict)
    matrix: dict[tuple[str | None, str | None], list[int]] = field(default_factory=dict)  # (source, derived) -> [docs, wholly]
    claim_matrix: dict[tuple[str | None, str | None], list[int]] = field(default_factory=dict)  # (first seen, repeated by) -> [claims]
    kinds: Counter = field(default_factory=Counter)
    attributions: list[tuple[str, int]] = field(default_factory=list)
    first_day: int | None = None
    last_day: int | None = None
    n_derivations: int = 0
    # search: distinct normalized passage texts, the claims each belongs to, and a word index
    texts: list[str] = field(default_factory=list)
    text_claims: list[array] = field(default_factory=list)
    words: dict[str, array] = field(default_factory=dict)

    # ------------------------------------------------------------------ queries
    def is_claim(self, row: ClaimRow) -> bool:
        return row.kind == "claim" if self.kinds_computed else row.n_outlets >= 2

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_searches", None)  # answers to recent searches are not saved with the catalog
        return state

    def search(self, text: str, min_score: float = SEARCH_MIN_SCORE) -> dict[int, float]:
        """Best score per claim row (by ``idx``) of the passages that contain ``text``; the last
        :data:`SEARCHES_KEPT` answers are kept (the next page of a search does not search again)."""
        key = (text, min_score)
        with _SEARCH_LOCK:  # request threads share the catalog
            cache: OrderedDict = self.__dict__.setdefault("_searches", OrderedDict())
            if key in cache:
                cache.move_to_end(key)
                return cache[key]
        best = self._search(text, min_score)
        with _SEARCH_LOCK:
            cache[key] = best
            while len(cache) > SEARCHES_KEPT:
                cache.popitem(last=False)
        return best

    def _search(self, text: str, min_score: float) -> dict[int, float]:
        qn, qwords = query_terms(text)
        if not qn:
            return {}
        cand: set[int] = set()
        for w in qwords:
            ids = self.words.get(w)
            if ids is not None:
                cand.update(ids)
        order = sorted(cand)
        best: dict[int, float] = {}
        for j, score in rank_texts(qn, qwords, [self.texts[i] for i in order], min_score, words_checked=True,
                                   workers=-1):
            for c in self.text_claims[order[j]]:
                if score > best.get(c, -1.0):
                    best[c] = score
        return best

    def filter_claims(self, *, kind: str = "claim", min_outlets: int = 1, outlet: str | None = None,
                      attribution: str | None = None, day_from: int | None = None, day_to: int | None = None,
                      q: str | None = None) -> tuple[list[ClaimRow], dict[int, float] | None]:
        """Rows passing every filter, widest spread first (best match first when searching)."""
        scores = self.search(q) if q else None
        att = normalize_text(attribution).strip() if attribution else ""
        out = []
        rows = self.claims if scores is None else [self.claims[i] for i in scores]
        for r in rows:
            if kind != "all":
                if self.kinds_computed and r.kind != kind:
                    continue
                if not self.kinds_computed and (kind != "claim" or r.n_outlets < 2):
                    continue
            if r.n_outlets < min_outlets:
                continue
            if outlet is not None and outlet not in r.outlets:
                continue
            if att and att not in r.attribution_norm:
                continue
            if (day_from is not None or day_to is not None) and (
                    r.fs_day is None or (day_from is not None and r.fs_day < day_from)
                    or (day_to is not None and r.fs_day > day_to)):
                continue
            out.append(r)
        if scores is not None:
            out.sort(key=lambda r: (-scores[r.idx], r.idx))
        return out, scores

    def outlet_names(self) -> list[str | None]:
        return sorted(self.outlets, key=lambda o: (o is None, o or ""))


# ---------------------------------------------------------------------- build
def _member_days(members: Iterable[Mapping[str, Any]], docs: Mapping[str, tuple]) -> tuple[tuple, int, int]:
    seen: set[str] = set()
    per_day: Counter = Counter()
    undated = 0
    for m in members:
        d = m.get("doc_id")
        if d in seen:
            continue
        seen.add(d)
        meta = docs.get(d)
        day = day_of(m.get("published") if m.get("published") else (meta[1] if meta else None))
        if day is None:
            undated += 1
        else:
            per_day[day] += 1
    return tuple(sorted(per_day.items())), undated, len(seen)


def _union_length(spans: list[tuple[int, int]]) -> int:
    total = 0
    end = -1
    for s, e in sorted(spans):
        if e <= end:
            continue
        total += e - max(s, end)
        end = e
    return total


def build_catalog(generation: str, doc_rows: Iterable[Mapping[str, Any]], cluster_rows: Iterable[Mapping[str, Any]],
                  derivation_rows: Iterable[Mapping[str, Any]] | None) -> Catalog:
    """One pass over documents (``_id, outlet, published, external_id, segments, duplicate_of``), clusters
    (whole, members with ``doc_id, outlet, start, end, text``) and derivations (None: no such collection)."""
    t0 = time.monotonic()
    cat = Catalog(generation=generation, built_at=time.time(), has_derivations=derivation_rows is not None)
    body: dict[str, int] = {}
    days: list[int] = []
    for d in doc_rows:
        doc_id = d["_id"]
        o = d.get("outlet")
        cat.docs[doc_id] = (o, d.get("published"), d.get("external_id") or "")
        row = cat.outlets.get(o) or cat.outlets.setdefault(o, OutletRow(o))
        row.documents += 1
        chars = bp = 0
        for seg in d.get("segments") or ():
            n = int(seg[1]) - int(seg[0])
            chars += n
            if seg[6]:
                bp += n
        row.chars += chars
        row.boilerplate_chars += bp
        body[doc_id] = chars - bp
        if d.get("duplicate_of"):
            cat.duplicates.setdefault(d["duplicate_of"], []).append(doc_id)
        day = day_of(d.get("published"))
        if day is not None:
            days.append(day)
    if days:
        cat.first_day, cat.last_day = min(days), max(days)

    text_index: dict[str, int] = {}
    raw_norm: dict[str, str] = {}  # members repeat texts (and the representative is one of them)
    text_claims: list[set[int]] = []
    elsewhere: list[list[tuple[str, int, int]]] = []  # per row: member spans at outlets other than the first seen
    attributions: Counter = Counter()
    rows: list[ClaimRow] = []
    for c in cluster_rows:
        if c.get("kind") is not None:
            cat.kinds_computed = True
        members = c.get("members") or ()
        fs = c.get("first_seen") or {}
        per_day, undated, n_docs = _member_days(members, cat.docs)
        rep = c.get("representative") or ""
        row = ClaimRow(
            idx=-1, cluster_id=c.get("cluster_id") or c["_id"], kind=c.get("kind"), confidence=c.get("confidence"),
            size=int(c.get("size") or len(members)), n_outlets=int(c.get("n_outlets") or 0),
            outlets=tuple(c.get("outlets") or ()), fs_doc=fs.get("doc_id"), fs_outlet=fs.get("outlet"),
            fs_published=fs.get("published"), fs_day=day_of(fs.get("published")), attribution=c.get("attribution"),
            attribution_norm=normalize_text(c.get("attribution") or ""), representative=rep[:REPRESENTATIVE_CHARS],
            days=per_day, undated=undated, n_docs=n_docs)
        rows.append(row)
        elsewhere.append([(m["doc_id"], int(m["start"]), int(m["end"])) for m in members
                          if m.get("outlet") != row.fs_outlet and m.get("doc_id") and m.get("end") is not None])
        row_texts = [rep, *(m.get("text") for m in members)]
        row.idx = len(rows) - 1
        for t in row_texts:
            if not t:
                continue
            n = raw_norm.get(t)
            if n is None:
                n = raw_norm[t] = normalize_text(t)
            k = text_index.get(n)
            if k is None:
                k = text_index[n] = len(text_claims)
                text_claims.append(set())
            text_claims[k].add(row.idx)
    # widest spread first; row.idx is the position in this order
    order = sorted(range(len(rows)), key=lambda i: (-rows[i].n_outlets, -rows[i].size, rows[i].cluster_id))
    remap = {old: new for new, old in enumerate(order)}
    cat.claims = [rows[i] for i in order]
    elsewhere = [elsewhere[i] for i in order]
    for new, r in enumerate(cat.claims):
        r.idx = new
    cat.texts = list(text_index)
    cat.text_claims = [array("i", sorted(remap[i] for i in s)) for s in text_claims]
    words: dict[str, list[int]] = defaultdict(list)
    for k, t in enumerate(cat.texts):
        for w in set(WORD_RE.findall(t)):
            words[w].append(k)
    cat.words = {w: array("i", ids) for w, ids in words.items()}
    del raw_norm, text_index

    # second look at the clusters, now that rows are final: kinds, attributions, reused spans per outlet
    reused: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for r, spans in zip(cat.claims, elsewhere):
        cat.kinds[r.kind if cat.kinds_computed else ("claim" if r.n_outlets >= 2 else None)] += 1
        if not cat.is_claim(r):
            continue
        if r.attribution:
            attributions[r.attribution] += 1
        if r.fs_outlet in cat.outlets:
            cat.outlets[r.fs_outlet].first_seen_claims += 1
        for o in r.outlets:
            if o != r.fs_outlet:
                cat.claim_matrix.setdefault((r.fs_outlet, o), [0])[0] += 1
        for doc_id, s, e in spans:
            reused[doc_id].append((s, e))
    for doc_id, sp in reused.items():
        meta = cat.docs.get(doc_id)
        if meta is not None:
            cat.outlets[meta[0]].reused_chars += _union_length(sp)
    cat.attributions = attributions.most_common(200)

    if derivation_rows is not None:
        _add_derivations(cat, derivation_rows, body)
    cat.build_seconds = round(time.monotonic() - t0, 3)
    return cat


def derived_side(r: Mapping[str, Any]) -> str | None:
    """The document of a derivation row that derives from the other: the side that is not ``source_doc_id``
    (the earlier one), or ``derived_doc_id`` where it is stored (the pipeline names the derived side even when
    both were published the same day and neither is the source); None when neither is known."""
    a, b = r.get("a_doc_id"), r.get("b_doc_id")
    if r.get("derived_doc_id") in (a, b):
        return r["derived_doc_id"]
    src = r.get("source_doc_id")
    return b if src == a and a else (a if src == b and b else None)


def _add_derivations(cat: Catalog, rows: Iterable[Mapping[str, Any]], body: Mapping[str, int]) -> None:
    """Per derived document, the best coverage by each source outlet; summed into outlet shares and the
    source → outlet matrix (a document counts once per source outlet it derives from)."""
    best: dict[str, dict[str | None, tuple[float, bool]]] = defaultdict(dict)
    for r in rows:
        cat.n_derivations += 1
        if r.get("derivation") not in DERIVED:
            continue
        derived = derived_side(r)
        if derived is None:
            continue
        src, cov = ((r.get("b_doc_id"), r.get("a_coverage")) if derived == r.get("a_doc_id")
                    else (r.get("a_doc_id"), r.get("b_coverage")))
        if derived not in cat.docs or src not in cat.docs:
            continue
        so = cat.docs[src][0]
        cov = float(cov or 0.0)
        prev = best[derived].get(so)
        wholly = r.get("derivation") == "wholly"
        if prev is None or cov > prev[0]:
            best[derived][so] = (cov, wholly or (prev[1] if prev else False))
        elif wholly:
            best[derived][so] = (prev[0], True)
    for derived, by_src in best.items():
        do = cat.docs[derived][0]
        row = cat.outlets[do]
        row.derived_documents += 1
        row.wholly_documents += any(w for _, w in by_src.values())
        row.copied_chars += max(c for c, _ in by_src.values()) * body.get(derived, 0)
        for so, (_, wholly) in by_src.items():
            cell = cat.matrix.setdefault((so, do), [0, 0])
            cell[0] += 1
            cell[1] += int(wholly)
