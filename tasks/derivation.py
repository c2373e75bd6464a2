"""Document derivation: is this article a rewrite of that one, wholly, partially, or not at all?

The question journalists ask first ("is this a rewrite of the wire story, and how much of
it?") is about documents, not passages. Every pair of documents that shares at least one
match gets one row (contract ``derivations``), computed from three interpretable things:

- **which side could be derived**: the later published one (``source_doc_id`` is the
  earlier side). When both were published the same day or a date is unknown, either side
  could be; both are measured, the stronger is kept, and ``source_doc_id`` stays null;
- **copied coverage**: the share of the candidate's *body* characters (its passages that are not
  boilerplate) covered by passages copied from the other document (its matches other than
  retold sentences, :mod:`~newsdedup.tasks.rewrite`, and other than templates: ``kind:
  template``, a market close or weather report whose numbers differ, is not a copy). The
  exported ``a_coverage``/``b_coverage`` are the contract's: every match counts. (Counting
  retold sentences in the strength made partially derived articles look wholly derived: a
  retold sentence covers its whole sentence whatever it kept of it.);
- **words shared**: the rarity-weighted share of the candidate's body vocabulary found in
  the other document (:func:`~newsdedup.tasks.rewrite.words_shared`, stored on every match of
  the pair). A rewrite keeps its source's names, numbers and uncommon words even where every
  phrase was changed, and adds few of its own; an independent report of the same event adds
  many. On the 300 labelled pairs of counter-dev it separates derived from non-derived pairs
  better than any passage measure.

``strength`` = the larger of the two; below ``derived`` the pair is ``non`` (they share text,
but as a quote, a formula, a stock phrase or a template), from ``wholly`` up it is ``wholly``,
in between ``partially``. A pair whose every match is a template is ``non`` whatever its
numbers. The thresholds were chosen by cross-validation on counter-dev and are stable across
folds (``bench/derivation.py``, README "Quality").

Everything is a plain function of plain records, deterministic, in any order of input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .dates import later_side
from .rewrite import REWRITE

__all__ = ["DerivationParams", "DERIVATION_PARAMS", "body_spans", "coverage", "classify", "derivation_row",
           "derivation_rows", "derivation_id", "later_side", "run_derivations", "DOC_FIELDS", "LABELS"]

LABELS = ("wholly", "partially", "non")


@dataclass(frozen=True, slots=True)
class DerivationParams:
    derived: float = 0.21  # strength from which a pair is derived (partially)
    wholly: float = 0.66  # ... and wholly
    min_rare: int = 2  # a derived pair shares at least this many story-specific words (when known)


DERIVATION_PARAMS = DerivationParams()


def derivation_id(a_doc_id: str, b_doc_id: str) -> str:
    """The row id of a document pair, ``a_doc_id~b_doc_id`` (smaller id first: the same pair, the same id)."""
    a, b = sorted((a_doc_id, b_doc_id))
    return f"{a}~{b}"


def body_spans(doc: Mapping[str, Any]) -> list[tuple[int, int]]:
    """The body of a stored document: ``(start, end)`` of the text outside its boilerplate passages
    (from its compact ``segments``: ``[start, end, line, sentence, lang, conf, boilerplate, reason]``,
    and its ``text`` or ``body_chars`` for the end); the whole text when nothing is flagged."""
    segs = doc.get("segments") or ()
    text = doc.get("text")
    end = len(text) if text is not None else max((int(s[1]) for s in segs), default=0)
    out, pos = [], 0
    for s in sorted((int(s[0]), int(s[1])) for s in segs if s[6]):
        if s[0] > pos:
            out.append((pos, s[0]))
        pos = max(pos, s[1])
    if end > pos:
        out.append((pos, end))
    return out


def _union(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for s, e in sorted(spans):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _is_union(spans: Sequence[tuple[int, int]]) -> bool:
    """Sorted, non-empty and disjoint already (the union of itself)."""
    return all(s < e for s, e in spans) and all(spans[i][1] < spans[i + 1][0] for i in range(len(spans) - 1))


def coverage(spans: Iterable[tuple[int, int]], body: Sequence[tuple[int, int]] | int) -> float:
    """Share of the body's characters inside the union of ``spans`` (0–1); ``body`` is its spans, or
    its number of characters (``body_chars``) when the spans are known to lie inside it."""
    if isinstance(body, int):  # the body's size only: the spans lie in it (matches never reach into boilerplate)
        return min(1.0, sum(e - s for s, e in _union(spans)) / body) if body > 0 else 0.0
    body = body if _is_union(body) else _union(body)
    total = sum(e - s for s, e in body)
    if not total:
        return 0.0
    got = 0
    cov = _union(spans)
    j = 0
    for s, e in body:
        while j < len(cov) and cov[j][1] <= s:
            j += 1
        k = j
        while k < len(cov) and cov[k][0] < e:
            got += max(0, min(e, cov[k][1]) - max(s, cov[k][0]))
            k += 1
    return got / total


def classify(strength: float, templates_only: bool = False, rare_words: int | None = None,
             params: DerivationParams = DERIVATION_PARAMS) -> str:
    """``wholly`` | ``partially`` | ``non`` from the derived side's strength (see the module docstring)."""
    if templates_only or strength < params.derived or (rare_words is not None and rare_words < params.min_rare):
        return "non"
    return "wholly" if strength >= params.wholly else "partially"


def derivation_row(a: Mapping[str, Any], b: Mapping[str, Any], matches: Sequence[Mapping[str, Any]],
                   params: DerivationParams = DERIVATION_PARAMS) -> dict:
    """The derivation row of documents ``a`` and ``b`` (``a["doc_id"] < b["doc_id"]``) from their matches.

    ``a``/``b``: ``doc_id``, ``external_id``, ``published`` and ``body`` (:func:`body_spans`).
    ``matches``: the pair's match rows (``a_start`` … ``b_end`` on the a/b sides, ``kind``,
    ``method``, ``a_words``, ``b_words``; missing ``kind`` means reuse)."""
    if a["doc_id"] > b["doc_id"]:
        a, b = b, a
        matches = [_swap(m) for m in matches]
    copies = [m for m in matches if (m.get("kind") or "reuse") != "template"]
    copied = [m for m in copies if m.get("method") != REWRITE]  # passages copied, not sentences retold
    cov = {k: coverage(((m[f"{k}_start"], m[f"{k}_end"]) for m in matches), side.get("body") or ())
           for k, side in (("a", a), ("b", b))}
    copy_cov = {k: coverage(((m[f"{k}_start"], m[f"{k}_end"]) for m in copied), side.get("body") or ())
                for k, side in (("a", a), ("b", b))}
    words = {"a": _words(copies, "a_words"), "b": _words(copies, "b_words")}
    strength = {k: max(copy_cov[k], words[k] if words[k] is not None else 0.0) for k in ("a", "b")}
    later = later_side(a.get("published"), b.get("published"))
    side = later if later is not None else max(("a", "b"), key=lambda k: (strength[k], k == "b"))
    rare = [int(m["rare_words"]) for m in copies if m.get("rare_words") is not None]
    rare_words = max(rare) if rare else None
    label = classify(strength[side], templates_only=bool(matches) and not copies, rare_words=rare_words,
                     params=params)
    source = None if later is None else (a if later == "b" else b)["doc_id"]
    return {
        "_id": derivation_id(a["doc_id"], b["doc_id"]),
        "a_doc_id": a["doc_id"], "a_external_id": a.get("external_id"),
        "b_doc_id": b["doc_id"], "b_external_id": b.get("external_id"),
        "a_coverage": round(cov["a"], 4), "b_coverage": round(cov["b"], 4),
        "source_doc_id": source, "derivation": label,
        # documented extras: what the label was decided from
        "derived_doc_id": (a if side == "a" else b)["doc_id"] if label != "non" else None,
        "strength": round(strength[side], 4),
        "a_copied": round(copy_cov["a"], 4), "b_copied": round(copy_cov["b"], 4),
        "a_words": None if words["a"] is None else round(words["a"], 4),
        "b_words": None if words["b"] is None else round(words["b"], 4),
        "rare_words": rare_words,
        "n_matches": len(matches), "n_templates": len(matches) - len(copies),
        "methods": sorted({m.get("method") or "" for m in matches}),
    }


def _words(matches: Sequence[Mapping[str, Any]], key: str) -> float | None:
    vals = [float(m[key]) for m in matches if m.get(key) is not None]
    return max(vals) if vals else None


def _swap(m: Mapping[str, Any]) -> dict:
    out = dict(m)
    for x, y in (("a_start", "b_start"), ("a_end", "b_end"), ("a_words", "b_words"), ("a_doc_id", "b_doc_id"),
                 ("a_external_id", "b_external_id")):
        out[x], out[y] = m.get(y), m.get(x)
    return out


def derivation_rows(pair_matches: Mapping[tuple[str, str], Sequence[Mapping[str, Any]]],
                    docs: Mapping[str, Mapping[str, Any]],
                    params: DerivationParams = DERIVATION_PARAMS) -> list[dict]:
    """Rows of every pair in ``pair_matches`` (``(a_doc_id, b_doc_id)`` -> match rows, as stored:
    ``a_*`` fields on the ``a_doc_id`` side), sorted by ``(a_doc_id, b_doc_id)``. ``docs``: doc_id ->
    ``external_id``, ``published`` and ``body_chars`` (stored by the analysis; else ``segments`` and
    ``text``, or ``body``: spans or a size); a pair whose document is missing
    is left out (it is computed again when the document is back)."""
    rows = []
    sides: dict[str, dict] = {}  # each document's body worked out once

    def side(doc_id: str) -> dict:
        got = sides.get(doc_id)
        if got is None:
            got = sides[doc_id] = _side(doc_id, docs[doc_id])
        return got

    for a_id, b_id in sorted(pair_matches):
        ms = pair_matches[(a_id, b_id)]
        if not ms or a_id not in docs or b_id not in docs:
            continue
        a, b = side(a_id), side(b_id)
        rows.append(derivation_row(a, b, [m if m["a_doc_id"] == a_id else _swap(m) for m in ms], params))
    rows.sort(key=lambda r: (r["a_doc_id"], r["b_doc_id"]))
    return rows


def _side(doc_id: str, doc: Mapping[str, Any]) -> dict:
    if "body" in doc:
        body = doc["body"] if isinstance(doc["body"], int) else _union(doc["body"])
    elif doc.get("body_chars") is not None:
        body = int(doc["body_chars"])
    else:
        body = _union(body_spans(doc))
    return {"doc_id": doc_id, "external_id": doc.get("external_id"), "published": doc.get("published"), "body": body}


DOC_FIELDS = {"external_id": 1, "published": 1, "body_chars": 1}  # what a pair's documents are read with


def run_derivations(state: Any, new_rows: Sequence[Mapping[str, Any]],
                    read_docs: Callable[[set[str], Mapping[str, int]], Mapping[str, dict]], run_id: str,
                    params: DerivationParams = DERIVATION_PARAMS) -> list[dict]:
    """The rows of every document pair a run's matches name, from all the pair's matches.

    A pair is aligned once, when its later document is matched, so its matches are all among this
    run's (or a killed run's, redone): only those pairs change. ``state`` is the
    :class:`~newsdedup.tasks.cluster_state.ClusterState` (the retold-sentence matches, which clustering
    never sees, are added to it here); ``read_docs(ids, projection)`` reads stored documents."""
    state.add_matches(r for r in new_rows if r["method"] == REWRITE)
    pairs = state.pair_matches({(r["a_doc_id"], r["b_doc_id"]) for r in new_rows})
    docs = {k: dict(v) for k, v in read_docs({d for p in pairs for d in p}, DOC_FIELDS).items()}
    older = {d for d, doc in docs.items() if doc.get("body_chars") is None}  # analyzed before body_chars existed
    for d, doc in (read_docs(older, {"segments": 1, "text": 1}) if older else {}).items():
        docs[d].update(segments=doc.get("segments"), text=doc.get("text"))
    rows = derivation_rows(pairs, docs, params)
    for r in rows:
        r["run_id"] = run_id
    return rows
