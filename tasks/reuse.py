"""Glue between stored documents and the reuse stages (align, candidates, cluster).

Converts stored records to the plain inputs the reuse stages take and their
outputs back to stored rows, so the flow only wires and the stages stay free of
storage concerns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .align import Match, Prepared, ReuseDoc, align_pairs, prepare
from .analyze import assign_cluster

__all__ = ["reuse_doc", "prepare_docs", "match_rows", "align_batch", "match_id", "cluster_spans",
           "passage_cluster_changes"]

DOC_FIELDS = {"_id": 1, "doc_id": 1, "text": 1, "boilerplate_spans": 1}


def reuse_doc(doc: Mapping[str, Any]) -> ReuseDoc:
    spans = tuple((int(s), int(e)) for s, e in (doc.get("boilerplate_spans") or ()))
    return ReuseDoc(doc_id=doc["doc_id"], text=doc["text"], excluded=spans)


def prepare_docs(docs: Iterable[Mapping[str, Any]]) -> list[Prepared]:
    return [prepare(reuse_doc(d)) for d in docs]


def match_id(m: Match) -> str:
    raw = f"{m.a_doc_id}|{m.a_start}|{m.a_end}|{m.b_doc_id}|{m.b_start}|{m.b_end}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def match_rows(matches: Sequence[Match], external_ids: Mapping[str, str], run_id: str) -> list[dict]:
    """Stored/exported rows for verified matches (``a_doc_id < b_doc_id`` as the contract says)."""
    rows = []
    for m in matches:
        mid = match_id(m)
        rows.append({
            "_id": mid, "match_id": mid,
            "a_doc_id": m.a_doc_id, "a_external_id": external_ids.get(m.a_doc_id), "a_start": m.a_start, "a_end": m.a_end,
            "b_doc_id": m.b_doc_id, "b_external_id": external_ids.get(m.b_doc_id), "b_start": m.b_start, "b_end": m.b_end,
            "score": round(float(m.score), 2), "method": m.method, "run_id": run_id,
        })
    return rows


def align_batch(pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> list[Match]:
    """Align pairs given as stored documents (plain data: safe to ship to process or Dask workers)."""
    cache: dict[str, Prepared] = {}

    def prep(d: Mapping[str, Any]) -> Prepared:
        p = cache.get(d["doc_id"])
        if p is None:
            p = cache[d["doc_id"]] = prepare(reuse_doc(d))
        return p

    return align_pairs([(prep(a), prep(b)) for a, b in pairs])


def cluster_spans(clusters: Iterable[Mapping[str, Any]]) -> dict[str, list[tuple[int, int, str]]]:
    """Per document, the member spans of every cluster with its id: what passages are assigned from."""
    out: dict[str, list[tuple[int, int, str]]] = {}
    for c in clusters:
        for m in c["members"]:
            out.setdefault(m["doc_id"], []).append((m["start"], m["end"], c["cluster_id"]))
    return out


def passage_cluster_changes(passages: Iterable[Mapping[str, Any]],
                            spans: Mapping[str, Sequence[tuple[int, int, str]]]) -> dict[str | None, list[str]]:
    """Stored passages whose ``cluster_id`` must change: ``{new cluster id or None: [passage ids]}``.

    Only changes are returned, because updates are the expensive write.
    """
    changes: dict[str | None, list[str]] = {}
    for p in passages:
        new = None if p.get("boilerplate") else assign_cluster(p["start"], p["end"], spans.get(p["doc_id"], ()))
        if new != p.get("cluster_id"):
            changes.setdefault(new, []).append(p["_id"])
    return changes
