"""Identity of passages and clusters, shared by every stage that names them."""

from __future__ import annotations

__all__ = ["passage_id", "passage_id_range"]

_START_DIGITS = 8  # texts are capped well below 10^8 characters (tasks/ingest.py max_bytes)


def passage_id(doc_id: str, start: int) -> str:
    """``doc_id:start`` with the start zero-padded, so ids sort by document, then offset.

    Stable across runs (the document id is a content hash), and as ``_id`` it lets
    the primary index serve "passages of a document, in order" with a range, so
    passages need no secondary index (each one costs inserts ~40% of their speed).
    A cluster is named by :func:`cluster_id`.
    """
    return f"{doc_id}:{start:0{_START_DIGITS}d}"


def cluster_id(doc_id: str, start: int, end: int) -> str:
    """``doc_id:start-end`` of a cluster's anchor member (see :func:`tasks.cluster.build_clusters`).

    The end is part of the name because two clusters may have members starting at the same
    offset of one document (a whole article reprinted, its first paragraph quoted elsewhere)."""
    return f"{passage_id(doc_id, start)}-{end:0{_START_DIGITS}d}"


def passage_id_range(doc_id: str) -> dict:
    """A ``_id`` filter matching every passage id of ``doc_id`` (':' < ';' in ASCII)."""
    return {"$gte": f"{doc_id}:", "$lt": f"{doc_id};"}
