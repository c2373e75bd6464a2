"""Group matches into clusters of reused passages (contract shape).

Why union–find over spans: a claim copied by five outlets gives up to ten pairwise
matches whose spans differ slightly in every pair. Overlapping spans of one document
are the same passage, so they become one node (their union); every match joins its two
nodes; connected components are clusters. Everything is sorted, so the same matches
always give the same clusters and ids: ``cluster_id`` is the passage id (:func:`ids.passage_id`) of the
smallest member (doc_id, start).

``first_seen`` is the earliest member by published date (dated before undated), then
``ingest_seq``, then doc_id. ``representative`` is the first-seen member's text.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Mapping, Sequence

from .align import Match
from .attribution import find_attribution
from .ids import passage_id

__all__ = ["build_clusters", "span_nodes"]


class _UF:
    def __init__(self, n: int) -> None:
        self.p = list(range(n))

    def find(self, x: int) -> int:
        while self.p[x] != x:
            self.p[x] = self.p[self.p[x]]
            x = self.p[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if ra < rb:
                self.p[rb] = ra
            else:
                self.p[ra] = rb


def span_nodes(matches: Sequence[Match]) -> dict[str, list[tuple[int, int]]]:
    """Per document, the union of overlapping matched spans, sorted."""
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for m in matches:
        spans[m.a_doc_id].append((m.a_start, m.a_end))
        spans[m.b_doc_id].append((m.b_start, m.b_end))
    out: dict[str, list[tuple[int, int]]] = {}
    for d in sorted(spans):
        merged: list[list[int]] = []
        for s, e in sorted(spans[d]):
            if merged and s < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        out[d] = [(s, e) for s, e in merged]
    return out


def _find_node(nodes: list[tuple[int, int]], s: int, e: int) -> int:
    """Index of the node containing span [s, e) (nodes are disjoint and sorted)."""
    lo, hi = 0, len(nodes) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if nodes[mid][0] <= s:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _first_seen_key(m: dict, docs: Mapping[str, dict]) -> tuple:
    d = docs.get(m["doc_id"], {})
    pub = d.get("published")
    seq = d.get("ingest_seq")
    return (pub is None, str(pub or ""), seq if seq is not None else float("inf"), m["doc_id"], m["start"])


def build_clusters(matches: Sequence[Match], docs: Mapping[str, dict]) -> list[dict]:
    """Clusters in the contract shape, sorted by cluster_id.

    docs: doc_id -> {"external_id", "outlet", "published" (ISO date or None), "ingest_seq", "text"}."""
    nodes = span_nodes(matches)
    keys: list[tuple[str, int, int]] = [(d, s, e) for d in sorted(nodes) for s, e in nodes[d]]
    num = {k: i for i, k in enumerate(keys)}
    uf = _UF(len(keys))
    best: dict[int, float] = defaultdict(float)
    for m in matches:
        na = num[(m.a_doc_id, *nodes[m.a_doc_id][_find_node(nodes[m.a_doc_id], m.a_start, m.a_end)])]
        nb = num[(m.b_doc_id, *nodes[m.b_doc_id][_find_node(nodes[m.b_doc_id], m.b_start, m.b_end)])]
        uf.union(na, nb)
        best[na] = max(best[na], float(m.score))
        best[nb] = max(best[nb], float(m.score))
    comps: dict[int, list[int]] = defaultdict(list)
    for i in range(len(keys)):
        comps[uf.find(i)].append(i)
    clusters = []
    for members_idx in comps.values():
        if len(members_idx) < 2:
            continue
        members = []
        for i in sorted(members_idx, key=lambda i: keys[i]):
            d, s, e = keys[i]
            info = docs.get(d, {})
            text = info.get("text")
            members.append({"doc_id": d, "external_id": info.get("external_id"), "outlet": info.get("outlet"),
                            "start": s, "end": e, "text": text[s:e] if text is not None else None,
                            "score": round(best[i], 2)})
        first = min(members, key=lambda m: _first_seen_key(m, docs))
        outlets = sorted({m["outlet"] for m in members if m["outlet"]})
        clusters.append({
            "cluster_id": passage_id(members[0]["doc_id"], members[0]["start"]),
            "size": len(members),
            "outlets": outlets,
            "n_outlets": len(outlets),
            "first_seen": {"doc_id": first["doc_id"], "outlet": first["outlet"],
                           "published": docs.get(first["doc_id"], {}).get("published")},
            "representative": first["text"],
            "attribution": find_attribution([m["text"] or "" for m in members]),
            "members": members,
        })
    clusters.sort(key=lambda c: (c["members"][0]["doc_id"], c["members"][0]["start"]))
    return clusters
