"""Group matches into clusters of reused passages (contract shape).

Why union–find over spans: a claim copied by five outlets gives up to ten pairwise
matches whose spans differ slightly in every pair. Spans of one document that overlap
by at least half of the longer one (``NODE_OVERLAP``) are the same passage, so they
become one node (the extent of their union); every match joins its two nodes;
connected components are clusters.

Why not any overlap: a long span (a whole compilation article reprinted elsewhere, a
cabinet-session report) contains many short ones (each story of the compilation quoted
by another outlet, the stock opening line shared with last week's report). Merging on
any overlap chains them all into one component: on SaudiNewsNet a single cluster of
16,563 passages from 12,167 articles. With the half-of-the-longer rule the long span and
the short ones stay separate passages, each with its own cluster.

Everything is sorted, so the same matches always give the same clusters and ids.
``cluster_id`` (:func:`ids.cluster_id`) names the cluster's anchor: its earliest
published member (undated ones last), ties broken by doc_id and offsets. Not the
smallest member, as first designed: document ids are content hashes, so with the
smallest-member rule half of the clusters a new day's article joins would be renamed,
and every earlier passage of them rewritten. News arrives in date order, so the
earliest member rarely changes; and the rule depends on the members only, not on the
order they were ingested in.

``first_seen`` is the earliest member by published date (dated before undated), then
``ingest_seq``, then doc_id. ``representative`` is the first-seen member's text.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .align import Match
from .attribution import find_attribution
from .ids import cluster_id

__all__ = ["build_clusters", "span_groups", "span_nodes", "connected_matches", "match_ends", "NODE_OVERLAP"]


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


NODE_OVERLAP = 0.5  # spans of one document overlapping by this share of the longer are one passage


def span_groups(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """One document's matched spans grouped into passages: ``(start, end, member spans)``,
    sorted. Two spans are grouped when they overlap by at least ``NODE_OVERLAP`` of the
    longer one (transitively)."""
    ss = sorted(set(spans))
    uf = _UF(len(ss))
    for i, (s, e) in enumerate(ss):
        for j in range(i + 1, len(ss)):
            s2, e2 = ss[j]
            if s2 >= e:
                break
            if min(e, e2) - s2 >= NODE_OVERLAP * max(e - s, e2 - s2):
                uf.union(i, j)
    groups: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for i, sp in enumerate(ss):
        groups[uf.find(i)].append(sp)
    return sorted((min(x[0] for x in g), max(x[1] for x in g), g) for g in groups.values())


def span_nodes(matches: Sequence[Match]) -> tuple[list[tuple[str, int, int]], dict[tuple[str, int, int], int]]:
    """Passage nodes ``(doc_id, start, end)`` in sorted order, and the node of every matched span."""
    spans: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for m in matches:
        spans[m.a_doc_id].add((m.a_start, m.a_end))
        spans[m.b_doc_id].add((m.b_start, m.b_end))
    nodes: list[tuple[str, int, int]] = []
    where: dict[tuple[str, int, int], int] = {}
    for d in sorted(spans):
        for s, e, members in span_groups(spans[d]):
            for sp in members:
                where[(d, *sp)] = len(nodes)
            nodes.append((d, s, e))
    return nodes, where


def match_ends(m: Mapping[str, Any]) -> tuple[tuple[str, int, int], tuple[str, int, int]]:
    """The two spans ``(doc_id, start, end)`` of a stored match row."""
    return (m["a_doc_id"], m["a_start"], m["a_end"]), (m["b_doc_id"], m["b_start"], m["b_end"])


def connected_matches(seeds: Iterable[tuple[str, int, int]],
                      matches_of: Callable[[list[str]], Iterable[Mapping[str, Any]]]) -> list[dict]:
    """The stored matches of every passage connected to the ``seeds`` spans, sorted by ``_id``.

    Walks passage nodes, not documents: a document is connected to nearly every other
    one through some match, a passage only to its own cluster. ``matches_of(doc_ids)``
    returns the stored matches naming any of the documents (rows with ``_id``)."""
    of_doc: dict[str, list[Mapping[str, Any]]] = {}
    group: dict[str, dict[tuple[int, int], int]] = {}
    by_group: dict[str, dict[int, list[Mapping[str, Any]]]] = {}
    active: dict[str, set[int]] = defaultdict(set)
    found: dict[str, Mapping[str, Any]] = {}
    frontier = set(seeds)
    while frontier:
        new_docs = sorted({d for d, _, _ in frontier} - of_doc.keys())
        fresh = set(new_docs)
        for d in new_docs:
            of_doc[d] = []
        for m in matches_of(new_docs) if new_docs else ():
            for d in {m["a_doc_id"], m["b_doc_id"]} & fresh:
                of_doc[d].append(m)
        for d in new_docs:
            rows = of_doc[d]
            mine = [x for m in rows for x in match_ends(m) if x[0] == d]
            g: dict[tuple[int, int], int] = {}
            for k, (_, _, members) in enumerate(span_groups((s, e) for _, s, e in mine)):
                for sp in members:
                    g[sp] = k
            group[d] = g
            bg: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
            for m in rows:
                for x in match_ends(m):
                    if x[0] == d:
                        bg[g[(x[1], x[2])]].append(m)
            by_group[d] = bg
        nxt: set[tuple[str, int, int]] = set()
        for d, s, e in sorted(frontier):
            k = group[d].get((s, e))
            if k is None or k in active[d]:
                continue
            active[d].add(k)
            for m in by_group[d][k]:
                found[m["_id"]] = m
                for x in match_ends(m):
                    if x[0] != d or group[d].get((x[1], x[2])) != k:
                        nxt.add(x)
        frontier = nxt
    return [dict(found[k]) for k in sorted(found)]


def _first_seen_key(m: dict, docs: Mapping[str, dict]) -> tuple:
    d = docs.get(m["doc_id"], {})
    pub = d.get("published")
    seq = d.get("ingest_seq")
    return (pub is None, str(pub or ""), seq if seq is not None else float("inf"), m["doc_id"], m["start"])


def _anchor_key(m: dict, docs: Mapping[str, dict]) -> tuple:
    pub = docs.get(m["doc_id"], {}).get("published")
    return (pub is None, str(pub or ""), m["doc_id"], m["start"], m["end"])


def build_clusters(matches: Sequence[Match], docs: Mapping[str, dict]) -> list[dict]:
    """Clusters in the contract shape, sorted by cluster_id.

    docs: doc_id -> {"external_id", "outlet", "published" (ISO date or None), "ingest_seq", "text"}."""
    keys, where = span_nodes(matches)
    uf = _UF(len(keys))
    best: dict[int, float] = defaultdict(float)
    for m in matches:
        na = where[(m.a_doc_id, m.a_start, m.a_end)]
        nb = where[(m.b_doc_id, m.b_start, m.b_end)]
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
        for i in sorted(members_idx):  # node numbers follow (doc_id, start, end) order
            d, s, e = keys[i]
            info = docs.get(d, {})
            text = info.get("text")
            members.append({"doc_id": d, "external_id": info.get("external_id"), "outlet": info.get("outlet"),
                            "start": s, "end": e, "text": text[s:e] if text is not None else None,
                            "score": round(best[i], 2)})
        first = min(members, key=lambda m: _first_seen_key(m, docs))
        anchor = min(members, key=lambda m: _anchor_key(m, docs))
        outlets = sorted({m["outlet"] for m in members if m["outlet"]})
        clusters.append({
            "cluster_id": cluster_id(anchor["doc_id"], anchor["start"], anchor["end"]),
            "size": len(members),
            "outlets": outlets,
            "n_outlets": len(outlets),
            "first_seen": {"doc_id": first["doc_id"], "outlet": first["outlet"],
                           "published": docs.get(first["doc_id"], {}).get("published")},
            "representative": first["text"],
            "attribution": find_attribution([m["text"] or "" for m in members]),
            "members": members,
        })
    clusters.sort(key=lambda c: c["cluster_id"])
    return clusters
