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
published member (to the second where the input has times, see :func:`dates.published_key`;
undated ones last), ties broken by doc_id and offsets. Not the
smallest member, as first designed: document ids are content hashes, so with the
smallest-member rule half of the clusters a new day's article joins would be renamed,
and every earlier passage of them rewritten. News arrives in date order, so the
earliest member rarely changes; and the rule depends on the members only, not on the
order they were ingested in.

``first_seen`` is the earliest member by published date and time (:func:`dates.published_key`:
within a day the timed members by time, then the date-only ones; undated last), then
``ingest_seq``, then doc_id. Every member carries its document's ``published``. ``representative`` is the first-seen member's text.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .align import Match
from .attribution import attributions, vote_attribution
from .dates import published_key
from .ids import cluster_id

__all__ = ["build_clusters", "grow_clusters", "Grown", "span_groups", "span_nodes", "connected_matches", "match_ends", "NODE_OVERLAP"]


class _UF:
    def __init__(self, n: int) -> None:
        self.p = list(range(n))

    def add(self) -> int:
        """A new singleton element; its number."""
        self.p.append(len(self.p))
        return len(self.p) - 1

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
    seq = d.get("ingest_seq")
    return (*published_key(d.get("published")), seq if seq is not None else float("inf"), m["doc_id"], m["start"])


def _anchor_key(m: dict, docs: Mapping[str, dict]) -> tuple:
    return (*published_key(docs.get(m["doc_id"], {}).get("published")), m["doc_id"], m["start"], m["end"])


def build_clusters(matches: Sequence[Match], docs: Mapping[str, dict],
                   attribs: dict[tuple[str, int, int], tuple] | None = None) -> list[dict]:
    """Clusters in the contract shape, sorted by cluster_id.

    docs: doc_id -> {"external_id", "outlet", "published" (ISO date or None), "ingest_seq", "text"}.
    ``attribs``, if given, receives every member's attributions (non-empty ones) by member span."""
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
                            "published": info.get("published"), "start": s, "end": e,
                            "text": text[s:e] if text is not None else None, "score": round(best[i], 2)})
        found = [tuple(attributions(m["text"] or "")) for m in members]
        if attribs is not None:
            attribs.update(((m["doc_id"], m["start"], m["end"]), f) for m, f in zip(members, found) if f)
        clusters.append(_cluster_doc(members, members, docs, found))
    clusters.sort(key=lambda c: c["cluster_id"])
    return clusters


def _cluster_doc(members: list[dict], candidates: Sequence[dict], docs: Mapping[str, dict],
                 found: Sequence[Sequence[tuple[int, str]]]) -> dict:
    """A cluster in the contract shape from its sorted members; the first-seen and anchor members are the
    smallest ``candidates`` (``docs`` needs their documents), ``found`` the members' attributions."""
    first = min(candidates, key=lambda m: _first_seen_key(m, docs))
    anchor = min(candidates, key=lambda m: _anchor_key(m, docs))
    outlets = sorted({m["outlet"] for m in members if m["outlet"]})
    return {
        "cluster_id": cluster_id(anchor["doc_id"], anchor["start"], anchor["end"]),
        "size": len(members),
        "outlets": outlets,
        "n_outlets": len(outlets),
        "first_seen": {"doc_id": first["doc_id"], "outlet": first["outlet"],
                       "published": docs.get(first["doc_id"], {}).get("published")},
        "representative": first["text"],
        "attribution": vote_attribution(found),
        "members": members,
    }


class Grown(NamedTuple):
    """What :func:`grow_clusters` recomputed: the clusters, the stored ids they replace, the documents of
    earlier runs whose cluster spans may have changed, and the new clusters' members' attributions."""
    clusters: list[dict]
    stale: set[str]
    earlier: list[str]
    attribs: dict[tuple[str, int, int], tuple]


@dataclass
class _Regrouped:
    """Phase 1 of :func:`grow_clusters`: the passages recomputed where new matches end.

    ``uf``/``number``: a union–find over recomputed passages (``("n", doc, start, end)``) and the stored
    clusters they continue (``("c", cluster id)``); ``node_of``: each new match end's passage;
    ``continues``: per recomputed passage, the old passages it contains."""

    uf: _UF = field(default_factory=lambda: _UF(0))
    number: dict[tuple, int] = field(default_factory=dict)
    node_of: dict[tuple[str, int, int], tuple[str, int, int]] = field(default_factory=dict)
    continues: dict[tuple[str, int, int], list[tuple[str, int, int]]] = field(default_factory=dict)

    def item(self, key: tuple) -> int:
        got = self.number.get(key)
        if got is None:
            got = self.number[key] = self.uf.add()
        return got


def _spans_of(state: Any, d: str, mids: Iterable[str]) -> set[tuple[int, int]]:
    """The spans document ``d`` has in the matches ``mids``."""
    out = set()
    for mid in mids:
        v = state.match_values(mid)
        if v[1] == d:
            out.add((v[2], v[3]))
        if v[4] == d:
            out.add((v[5], v[6]))
    return out


def _regroup(state: Any, new_ids: Sequence[str], fresh: set[str]) -> _Regrouped | None:
    """Regroup the passages of every document where a new match ends (the groups of :func:`span_groups`
    over its old and new spans); a recomputed passage is joined to the stored clusters of the old passages
    it contains. None when growing is not possible: an old passage in no stored cluster or in one whose
    attributions are unknown, or a fresh document with matches or clusters of an earlier run."""
    new_set = set(new_ids)
    ends_new: dict[str, list[str]] = defaultdict(list)
    for mid in new_ids:
        v = state.match_values(mid)
        ends_new[v[1]].append(mid)
        if v[4] != v[1]:
            ends_new[v[4]].append(mid)
    rg = _Regrouped()
    for d in sorted(ends_new):
        old_mids = [m for m in state.match_ids_of(d) if m not in new_set]
        if d in fresh and (old_mids or state.member_spans_of(d)):
            return None  # a document of a killed run, matched or clustered before: rebuild
        new_sp, old_sp = _spans_of(state, d, ends_new[d]), _spans_of(state, d, old_mids)
        old_node = {sp: (s, e) for s, e, g in span_groups(old_sp) for sp in g}
        member_of = state.member_spans_of(d)
        for s, e, g in span_groups(old_sp | new_sp):
            if not any(sp in new_sp for sp in g):
                continue  # an old passage nothing new reaches: unchanged
            node = (d, s, e)
            rg.item(("n", *node))
            olds = sorted({old_node[sp] for sp in g if sp in old_node})
            for o in olds:
                cid = member_of.get(o)
                if cid is None or not state.attrib_known(cid):
                    return None
                rg.uf.union(rg.item(("n", *node)), rg.item(("c", cid)))
            rg.continues[node] = [(d, *o) for o in olds]
            for sp in g:
                if sp in new_sp:
                    rg.node_of[(d, *sp)] = node
    return rg


def _join_new_matches(rg: _Regrouped, state: Any, new_ids: Sequence[str]
                      ) -> tuple[list[tuple[list[str], list[tuple[str, int, int]]]], dict[tuple[str, int, int], float]]:
    """Phase 2: the new matches join their passages; the components, as (stored cluster ids, recomputed
    passages), and each recomputed passage's best new score."""
    best: dict[tuple[str, int, int], float] = defaultdict(float)
    for mid in new_ids:
        v = state.match_values(mid)
        na, nb = rg.node_of[(v[1], v[2], v[3])], rg.node_of[(v[4], v[5], v[6])]
        rg.uf.union(rg.item(("n", *na)), rg.item(("n", *nb)))
        best[na] = max(best[na], float(v[7]))
        best[nb] = max(best[nb], float(v[7]))
    comps: dict[int, list[tuple]] = defaultdict(list)
    for k, i in rg.number.items():
        comps[rg.uf.find(i)].append(k)
    groups = [(sorted(k[1] for k in ks if k[0] == "c"), sorted(k[1:] for k in ks if k[0] == "n"))
              for ks in comps.values()]
    return groups, best


def _grown_members(nodes: Sequence[tuple[str, int, int]], stored_members: dict, rg: _Regrouped,
                   best: Mapping[tuple[str, int, int], float], docs: Mapping[str, Mapping[str, Any]]) -> set:
    """Phase 4, one component: its stored members with the recomputed passages in place of the old ones
    they contain (``stored_members`` is updated); returns the passages that are new or reshaped."""
    changed = set()  # members whose attributions are found anew (new or reshaped passages)
    for node in nodes:
        score = best[node]
        same = None  # the stored member this passage is, when its extent did not change
        for o in rg.continues[node]:
            old = stored_members.pop(o, None)
            if old is not None:
                score = max(score, float(old["score"]))
                if o == node:
                    same = old
        if same is not None:
            stored_members[node] = {**same, "score": round(score, 2)}
            continue
        d, s, e = node
        info = docs.get(d, {})
        text = info.get("text")
        stored_members[node] = {"doc_id": d, "external_id": info.get("external_id"), "outlet": info.get("outlet"),
                                "published": info.get("published"), "start": s, "end": e,
                                "text": text[s:e] if text is not None else None, "score": round(score, 2)}
        changed.add(node)
    return changed


def grow_clusters(state: Any, new_ids: Sequence[str], fresh: set[str],
                  read_clusters: Callable[[list[str]], Mapping[str, Mapping[str, Any]]],
                  read_docs: Callable[[list[str]], Mapping[str, Mapping[str, Any]]]) -> Grown | None:
    """The clusters a run's new matches change, computed from the stored clusters they touch.

    Why: rebuilding them from their matches means walking every match of every member and reading
    every member's document; a day of SaudiNewsNet touches template clusters of up to 2,000 members
    that way (4,800 documents, 47,000 matches), for a few new members each.

    The result is the one :func:`build_clusters` gives on all their matches (the tests compare), in
    four phases: passages of a document are recomputed where a new match ends (:func:`_regroup`), every
    other passage is unchanged, and a recomputed passage continues the old passages it contains, so its
    cluster is theirs; new matches join clusters (:func:`_join_new_matches`); the stored clusters and
    the documents needed are read (``read_clusters``: cluster documents by id; ``read_docs``: the
    documents of new passages and of the candidates for first-seen and anchor); members, scores,
    outlets, first-seen and anchor members and the attribution vote are updated (:func:`_grown_members`).

    ``state`` is the :class:`~newsdedup.tasks.cluster_state.ClusterState` with the new matches
    (``new_ids``) added; ``fresh`` the run's documents. Returns None when a cluster cannot be grown
    this way and the caller must rebuild: an old passage in no stored cluster, a stored cluster whose
    attributions or member texts are not known, or a fresh document with matches of an earlier run.
    """
    rg = _regroup(state, new_ids, fresh)
    if rg is None:
        return None
    groups, best = _join_new_matches(rg, state, new_ids)
    # phase 3: what is read
    stored = read_clusters(sorted({c for cids, _ in groups for c in cids}))
    if any(c not in stored or stored[c].get("members_text_omitted") or stored[c].get("members_truncated")
           for cids, _ in groups for c in cids):
        return None
    # the stored clusters' first-seen and anchor documents: their members may still be first seen or the anchor
    firsts = {c: {stored[c]["first_seen"]["doc_id"],
                  *(m["doc_id"] for m in stored[c]["members"] if cluster_id(m["doc_id"], m["start"], m["end"]) == c)}
              for cids, _ in groups for c in cids}
    # documents read: those and the documents of new or reshaped passages (texts)
    need = {d for _, nodes in groups for d, s, e in nodes if (d, s, e) not in rg.continues[(d, s, e)]}
    docs = read_docs(sorted(need.union(*firsts.values())))
    # phase 4: the grown clusters
    clusters: list[dict] = []
    attribs: dict[tuple[str, int, int], tuple] = {}
    stale: set[str] = set()
    earlier: set[str] = {d for _, nodes in groups for d, _, _ in nodes if d not in fresh}
    for cids, nodes in groups:
        members = {(m["doc_id"], m["start"], m["end"]): m for c in cids for m in stored[c]["members"]}
        candidates = set().union(*(firsts[c] for c in cids))
        changed = _grown_members(nodes, members, rg, best, docs)
        stale.update(cids)
        order = sorted(members)
        if len(order) < 2:  # stored clusters whose passages became one: gone
            earlier.update(d for d, _, _ in order if d not in fresh)
            continue
        member_list = [members[k] for k in order]
        found = [tuple(attributions(members[k]["text"] or "")) if k in changed else state.attributions_of(k)
                 for k in order]
        attribs.update((k, f) for k, f in zip(order, found) if f)
        # the smallest of the old members were the stored first-seen and anchor: only the members in their
        # documents and the new or reshaped ones can be smaller (and only their documents are read)
        pick = [members[k] for k in order if k in changed or k[0] in candidates]
        c = _cluster_doc(member_list, pick, docs, found)
        clusters.append(c)
        if len(cids) > 1 or (cids and cids[0] != c["cluster_id"]):  # renamed or merged: every member moves
            earlier.update(d for d, _, _ in order if d not in fresh)
    clusters.sort(key=lambda c: c["cluster_id"])
    return Grown(clusters, stale, sorted(earlier), attribs)
