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
``ingest_seq``, then doc_id. Every member carries its document's ``published``. ``representative`` is the
first-seen member's text. Which passages form one claim, and the kinds: :mod:`~newsdedup.tasks.claims`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from .align import PARAMS, Match
from .attribution import attributions, vote_attribution
from .claims import TEMPLATE_SUFFIX, cluster_confidence, cluster_kind, evidence_ratio, peel_claims
from .dates import published_key
from .ids import cluster_id

__all__ = ["build_clusters", "make_clusters", "grow_clusters", "Grown", "stale_clusters", "span_groups", "span_nodes",
           "connected_matches", "match_ends", "NODE_OVERLAP"]


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




def _need(method: str) -> float:
    """Evidence a match of ``method`` needs (:class:`~newsdedup.tasks.align.AlignParams`)."""
    return PARAMS.evidence_min_islands if method in ("phrases", "bag-of-words") else PARAMS.evidence_min


MemberBase = Callable[[Sequence[tuple[str, int, int]]], Mapping[tuple[str, int, int], dict]]


def make_clusters(matches: Sequence[Match], base: MemberBase, seq: Callable[[Sequence[str]], Mapping[str, Any]],
                  found: Callable[[tuple[str, int, int], str | None], tuple]) -> list[dict]:
    """Clusters in the contract shape from the matches of whole connected groups, sorted by cluster_id.

    Per match kind (templates group only with templates): passages (:func:`span_nodes`), their
    connected groups, the claims peeled from each group (:func:`~newsdedup.tasks.claims.peel_claims`:
    no chaining), and for every claim of two or more passages its cluster with ``kind`` and
    ``confidence``. ``base(nodes)`` gives each member passage's ``{doc_id, external_id, outlet,
    published, start, end, text}``; ``seq(doc_ids)`` the ``ingest_seq`` of documents (asked only
    for those tied for first seen); ``found(node, text)`` the member's attributions."""
    out: list[dict] = []
    for kind in sorted({m.kind for m in matches}):
        ms = sorted((m for m in matches if m.kind == kind), key=_match_key)
        keys, where = span_nodes(ms)
        uf = _UF(len(keys))
        best: dict[int, float] = defaultdict(float)
        links: list[tuple[int, int, Match]] = []
        for m in ms:
            na = where[(m.a_doc_id, m.a_start, m.a_end)]
            nb = where[(m.b_doc_id, m.b_start, m.b_end)]
            uf.union(na, nb)
            best[na] = max(best[na], float(m.score))
            best[nb] = max(best[nb], float(m.score))
            links.append((na, nb, m))
        comps: dict[int, list[int]] = defaultdict(list)
        for i in range(len(keys)):
            comps[uf.find(i)].append(i)
        comp_links: dict[int, list[tuple[int, int, Match]]] = defaultdict(list)
        for na, nb, m in links:
            comp_links[uf.find(na)].append((na, nb, m))
        groups = [[keys[i] for i in idx] for idx in comps.values() if len(idx) >= 2]
        info = base(sorted({n for g in groups for n in g}))

        def anchor_key(n: tuple[str, int, int]) -> tuple:
            return (*published_key(info[n].get("published")), n[0], n[1], n[2])

        claims: list[tuple[list[tuple[str, int, int]], list[Match]]] = []
        for root, idx in comps.items():
            if len(idx) < 2:
                continue
            lk = [(keys[na], (m.a_start, m.a_end), keys[nb], (m.b_start, m.b_end), _match_key(m))
                  for na, nb, m in comp_links[root]]
            for claim in peel_claims([keys[i] for i in idx], lk, anchor_key):
                if len(claim) >= 2:
                    inside = set(claim)
                    claims.append((claim, [m for na, nb, m in comp_links[root]
                                           if keys[na] in inside and keys[nb] in inside]))
        # documents tied for first seen: their ingestion order decides
        ties: set[str] = set()
        for claim, _ in claims:
            lo = min(published_key(info[n].get("published")) for n in claim)
            tied = {n[0] for n in claim if published_key(info[n].get("published")) == lo}
            if len(tied) > 1:
                ties |= tied
        seqs = seq(sorted(ties)) if ties else {}
        number = {k: i for i, k in enumerate(keys)}
        for claim, inner in claims:
            members = [{**info[n], "score": round(best[number[n]], 2)} for n in claim]
            attrs = [tuple(found(n, info[n].get("text"))) for n in claim]
            ratio = max(evidence_ratio(m.evidence, m.method, _need) for m in inner)
            out.append(_cluster_doc(members, attrs, seqs, kind, ratio))
    out.sort(key=lambda c: c["cluster_id"])
    return out


def _match_key(m: Match) -> tuple:
    return (m.a_doc_id, m.a_start, m.a_end, m.b_doc_id, m.b_start, m.b_end, m.score, m.method)


def _cluster_doc(members: list[dict], found: Sequence[Sequence[tuple[int, str]]], seqs: Mapping[str, Any],
                 link_kind: str, ratio: float) -> dict:
    """A cluster in the contract shape from its sorted members and their attributions."""
    def first_key(m: dict) -> tuple:
        sq = seqs.get(m["doc_id"])
        return (*published_key(m.get("published")), sq if sq is not None else float("inf"), m["doc_id"], m["start"])

    def anchor_key(m: dict) -> tuple:
        return (*published_key(m.get("published")), m["doc_id"], m["start"], m["end"])

    first = min(members, key=first_key)
    anchor = min(members, key=anchor_key)
    outlets = sorted({m["outlet"] for m in members if m["outlet"]})
    cid = cluster_id(anchor["doc_id"], anchor["start"], anchor["end"])
    return {
        "cluster_id": cid + TEMPLATE_SUFFIX if link_kind == "template" else cid,
        "kind": cluster_kind(link_kind, members, ratio),
        "confidence": cluster_confidence(ratio, len(outlets)),
        "size": len(members),
        "outlets": outlets,
        "n_outlets": len(outlets),
        "first_seen": {"doc_id": first["doc_id"], "outlet": first["outlet"], "published": first.get("published")},
        "representative": first["text"],
        "attribution": vote_attribution(found),
        "members": members,
    }


def _doc_base(docs: Mapping[str, dict]) -> MemberBase:
    def base(nodes: Sequence[tuple[str, int, int]]) -> dict:
        out = {}
        for d, s, e in nodes:
            info = docs.get(d, {})
            text = info.get("text")
            out[(d, s, e)] = {"doc_id": d, "external_id": info.get("external_id"), "outlet": info.get("outlet"),
                              "published": info.get("published"), "start": s, "end": e,
                              "text": text[s:e] if text is not None else None}
        return out
    return base


def build_clusters(matches: Sequence[Match], docs: Mapping[str, dict],
                   attribs: dict[tuple[str, int, int], tuple] | None = None) -> list[dict]:
    """Clusters in the contract shape, sorted by cluster_id (:func:`make_clusters` over all matches).

    docs: doc_id -> {"external_id", "outlet", "published" (ISO date or None), "ingest_seq", "text"}.
    ``attribs``, if given, receives every member's attributions (non-empty ones) by member span."""
    def found(n: tuple[str, int, int], text: str | None) -> tuple:
        got = tuple(attributions(text or ""))
        if got and attribs is not None:
            attribs[n] = got
        return got

    return make_clusters(matches, _doc_base(docs), lambda ids: {d: docs.get(d, {}).get("ingest_seq") for d in ids},
                         found)


def stale_clusters(old: Sequence[Match], spans_of: Callable[[list[str]], Mapping[str, Sequence[tuple[int, int, str]]]]
                   ) -> set[str]:
    """Stored clusters a recomputation of the groups of ``old`` matches (the stored matches of those
    groups) replaces: those with a member that is a passage of these matches, of the same kind."""
    stale: set[str] = set()
    for kind in {m.kind for m in old}:
        nodes = set(span_nodes([m for m in old if m.kind == kind])[0])
        for d, sp in spans_of(sorted({n[0] for n in nodes})).items():
            for s, e, cid in sp:
                if (d, s, e) in nodes and (cid.endswith(TEMPLATE_SUFFIX)) == (kind == "template"):
                    stale.add(cid)
    return stale


class Grown(NamedTuple):
    """What :func:`grow_clusters` recomputed: the clusters, the stored ids they replace, the documents of
    earlier runs whose cluster spans may have changed, and the new clusters' members' attributions."""
    clusters: list[dict]
    stale: set[str]
    earlier: list[str]
    attribs: dict[tuple[str, int, int], tuple]


def _value_match(v: Sequence[Any]) -> Match:
    """A :class:`Match` from values in :data:`~newsdedup.tasks.cluster_state.MATCH_KEYS` order."""
    ev = v[9]
    return Match(v[1], int(v[2]), int(v[3]), v[4], int(v[5]), int(v[6]), float(v[7]), v[8],
                 None if ev is None else float(ev), v[10] or "reuse")


def grow_clusters(state: Any, new_ids: Sequence[str], fresh: set[str],
                  read_clusters: Callable[[list[str]], Mapping[str, Mapping[str, Any]]],
                  read_docs: Callable[[list[str]], Mapping[str, Mapping[str, Any]]]) -> Grown | None:
    """The clusters a run's new matches change, computed from the matches in ``state`` and the stored
    clusters they touch.

    Why: rebuilding them from the database means reading every match and every member's document of
    the groups a day touches. Here the groups are walked in memory (``state`` holds every match), and a
    member passage that a stored cluster already holds keeps its stored text, outlet and date, so only
    the documents of new or reshaped passages (and of members tied for first seen) are read.

    The result is the one :func:`build_clusters` gives on all matches (the tests compare): the connected
    groups of the new matches, per kind, are walked whole (:func:`connected_matches`) and made into
    clusters by the same :func:`make_clusters`.

    ``state`` is the :class:`~newsdedup.tasks.cluster_state.ClusterState` with the new matches
    (``new_ids``) added; ``fresh`` the run's documents. Returns None when a fresh document has matches
    of an earlier run (a killed run being redone): the caller rebuilds."""
    new_set = set(new_ids)
    new = [state.match_values(mid) for mid in new_ids]
    for d in sorted({x for v in new for x in (v[1], v[4])} & fresh):
        if any(m not in new_set for m in state.match_ids_of(d)) or state.member_spans_of(d):
            return None
    walked: dict[str, Match] = {}
    for kind in sorted({v[10] or "reuse" for v in new}):
        seeds = [x for v in new if (v[10] or "reuse") == kind for x in ((v[1], v[2], v[3]), (v[4], v[5], v[6]))]

        def of_kind(doc_ids: list[str], kind: str = kind) -> list[dict]:
            return [r for r in state.matches_of(doc_ids) if (r.get("kind") or "reuse") == kind]

        for r in connected_matches(seeds, of_kind):
            walked[r["_id"]] = _value_match(state.match_values(r["_id"]))
    matches = [walked[k] for k in sorted(walked)]
    stale = stale_clusters([walked[k] for k in sorted(walked) if k not in new_set], state.cluster_spans_of)
    stored = read_clusters(sorted(stale))
    known: dict[tuple[str, int, int], dict] = {}
    attrib_known: set[tuple[str, int, int]] = set()
    for cid in sorted(stale):
        c = stored.get(cid)
        if c is None:
            continue
        for m in c.get("members") or ():
            node = (m["doc_id"], m["start"], m["end"])
            if "published" in m and m.get("text") is not None:
                known[node] = {k: m.get(k) for k in ("doc_id", "external_id", "outlet", "published", "start", "end",
                                                     "text")}
            if state.attrib_known(cid):
                attrib_known.add(node)
    read: dict[str, Mapping[str, Any]] = {}

    def docs_of(ids: Sequence[str]) -> Mapping[str, Mapping[str, Any]]:
        missing = sorted(set(ids) - read.keys())
        if missing:
            got = read_docs(missing)
            for d in missing:
                read[d] = got.get(d, {})
        return read

    def base(nodes: Sequence[tuple[str, int, int]]) -> dict:
        need = docs_of([n[0] for n in nodes if n not in known])
        out = dict(_doc_base(need)([n for n in nodes if n not in known]))
        out.update((n, dict(known[n])) for n in nodes if n in known)
        return out

    attribs: dict[tuple[str, int, int], tuple] = {}

    def found(n: tuple[str, int, int], text: str | None) -> tuple:
        got = state.attributions_of(n) if n in attrib_known else tuple(attributions(text or ""))
        if got:
            attribs[n] = tuple(got)
        return tuple(got)

    clusters = make_clusters(matches, base, lambda ids: {d: docs_of(ids)[d].get("ingest_seq") for d in ids}, found)
    earlier = sorted({x for m in matches for x in (m.a_doc_id, m.b_doc_id)} - fresh)
    return Grown(clusters, stale, earlier, attribs)
