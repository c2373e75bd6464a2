"""The shapes of what is stored: document, reject and passage records built from plain data.

One module, so the read stage, the passage stage and the cluster stage agree on every field
(and on how a passage is assigned to a cluster) without reading each other's code.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from .ids import passage_id, stable_id
from .readers import Document, Reject

__all__ = ["document_record", "duplicate_record", "reject_record", "expand_passages", "assign_cluster",
           "segment_rows"]


def document_record(doc: Document, run_id: str, ingest_seq: int, line_keys: Sequence[str]) -> dict:
    """A document as read, before analysis adds its language, segments and boilerplate flags."""
    return {
        "_id": doc.doc_id, "doc_id": doc.doc_id, "external_id": doc.external_id,
        "source_path": doc.source_path, "source_kind": doc.source_kind, "record": doc.record,
        "outlet": doc.outlet, "title": doc.title, "url": doc.url,
        "published": doc.published, "published_raw": doc.published_raw,
        "published_source": "input" if doc.published else None, "language": doc.language,
        "text": doc.text, "content_sha256": doc.content_sha256, "encoding": doc.encoding,
        "notes": list(doc.notes), "run_id": run_id, "ingest_seq": ingest_seq,
        "line_keys": list(line_keys),
    }


def duplicate_record(record: Mapping[str, Any], duplicate_of: str, kind: str, lang: str | None,
                     lang_confidence: float | None, body: list[list[int]] | None = None) -> dict:
    """A document that repeats a kept one (:mod:`~newsdedup.tasks.dedup`), from its record as read: its
    own provenance and text as received, the kept document's id and language, and no segments,
    passages or line keys of its own (the kept document stands for it in every match and cluster).
    ``body``: for a ``near`` duplicate, the ``[start, end]`` spans of the body it was recognised by
    (stored as ``duplicate_body``: the deduplication index looks it up too)."""
    out = {k: v for k, v in record.items() if k not in _ANALYSIS_FIELDS}
    out.update({"duplicate_of": duplicate_of, "duplicate_kind": kind, "lang": lang, "lang_confidence": lang_confidence,
                "clean_text": None, "segments": [], "boilerplate_spans": [], "line_keys": [], "n_passages": 0,
                "n_boilerplate": 0})
    if body is not None:
        out["duplicate_body"] = body
    return out


# what analysis adds to a record (a duplicate's record gets none of it)
_ANALYSIS_FIELDS = frozenset({"lang", "lang_confidence", "clean_text", "segments", "boilerplate_spans", "line_keys",
                              "n_passages", "n_boilerplate"})


def reject_record(reject: Reject, run_id: str) -> dict:
    """A reject, named by its file, record and reason (the same reject is stored once)."""
    rid = stable_id(reject.source_path, reject.record, reject.reason)
    return {"_id": rid, "reject_id": rid, "source_path": reject.source_path, "record": reject.record,
            "reason": reject.reason, "run_id": run_id}


def assign_cluster(start: int, end: int, spans: Iterable[Sequence[Any]]) -> str | None:
    """The cluster whose member span overlaps ``[start, end)`` most (ties: smallest id), else None."""
    best: tuple[int, str] | None = None
    for s0, e0, cid in spans:
        ov = min(e0, end) - max(s0, start)
        if ov > 0 and (best is None or ov > best[0] or (ov == best[0] and cid < best[1])):
            best = (ov, cid)
    return best[1] if best else None


def expand_passages(doc: Mapping[str, Any], cluster_spans: Iterable[Sequence[Any]] = ()) -> list[dict]:
    """Passage records of a stored document from its compact ``segments``
    (see :func:`~newsdedup.tasks.analyze.analyze_document`), with their clusters."""
    text: str = doc["text"]
    spans = list(cluster_spans)
    out = []
    for start, end, line, sentence, lang, conf, bp, reason in doc.get("segments") or ():
        pid = passage_id(doc["doc_id"], start)
        out.append({
            "_id": pid, "passage_id": pid, "doc_id": doc["doc_id"], "external_id": doc["external_id"],
            "outlet": doc.get("outlet"), "start": start, "end": end, "text": text[start:end],
            "lang": lang, "lang_confidence": conf, "boilerplate": bool(bp), "boilerplate_reason": reason,
            "cluster_id": None if bp else assign_cluster(start, end, spans),
            "line": line, "sentence": sentence,
        })
    return out


def segment_rows(doc: Mapping[str, Any]) -> Iterator[dict]:
    """``_id, doc_id, start, end, boilerplate`` of a stored document's passages, from its compact
    ``segments`` (the document read with at least ``_id`` and ``segments``)."""
    for seg in doc.get("segments") or ():
        yield {"_id": passage_id(doc["_id"], seg[0]), "doc_id": doc["_id"], "start": seg[0], "end": seg[1],
               "boilerplate": bool(seg[6])}
