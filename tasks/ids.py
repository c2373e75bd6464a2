"""Identity of everything newsdedup stores: documents, passages, matches, clusters, rejects, runs.

One module, so every stage (and the store) names a record the same way. All ids are
deterministic: the same input gives the same ids on every machine, run after run.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["stable_id", "make_doc_id", "passage_id", "passage_id_range", "match_id", "cluster_id"]

_START_DIGITS = 8  # texts are capped well below 10^8 characters (tasks/readers max_bytes)


def stable_id(*parts: Any, length: int = 24) -> str:
    """Deterministic hex id from JSON-serializable parts (rejects, run keys, tokens)."""
    raw = json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:length]


def make_doc_id(source_kind: str, external_id: str, content_sha256: str) -> str:
    """First 24 hex digits of sha256 of source kind, external id and content sha256 joined by U+001F:
    a changed text is a new version with its own id."""
    key = "\x1f".join((source_kind, external_id, content_sha256)).encode("utf-8")
    return hashlib.sha256(key).hexdigest()[:24]


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


def match_id(a_doc_id: str, a_start: int, a_end: int, b_doc_id: str, b_start: int, b_end: int) -> str:
    """A match is named by its two spans."""
    raw = f"{a_doc_id}|{a_start}|{a_end}|{b_doc_id}|{b_start}|{b_end}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]
