"""Which passages of a group of reused passages are one claim, and what kind of group it is.

**No chaining.** Matches link passages (nodes: the spans of a document that overlap by at
least half the longer, :func:`~newsdedup.tasks.cluster.span_groups`). A connected set of them
is not one claim: a story copied by five outlets is linked, through the official's title its
lead repeats, to every other story carrying that title. A passage therefore joins a claim only
if it matches the claim's own text:

- the claim's *anchor* is its earliest member (published date, then doc id and offsets, the
  rule that names clusters) and its text is the claim's text;
- a passage joins when it has a match with a member whose matched span covers at least
  :data:`SAME_TEXT` of the text that member holds for the claim (for the anchor, its whole
  passage; for any other member, the span by which it joined) and vice versa, so a title two
  members share is not the claim;
- passages a claim does not take start claims of their own, earliest first.

This *peeling* is a function of the connected group alone (its passages, its matches and the
anchor order), so recomputing the groups a run touches gives what a rebuild gives.

**Kinds.** ``template`` groups hold template matches only (:mod:`~newsdedup.tasks.evidence`);
a reuse group is ``self`` when one outlet reuses its own text, ``formula`` when its text is
a recurring block of many unrelated stories (members published on many different days over
weeks, none of the links carrying much information of its own), otherwise ``claim``. Days are
calendar days: a story published at five different times of two days is news spreading, not a
formula, and so is one retold over three or four days (an aid shipment, a festival). ``confidence`` in 0-1 is
how strongly the claim's links say "copied": the evidence of its best links relative to
what a match needs.
"""

from __future__ import annotations

import math
from datetime import date
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

__all__ = ["SAME_TEXT", "peel_claims", "cluster_kind", "cluster_confidence"]

SAME_TEXT = 0.5  # a link carries a member's claim text when it covers this share of it (and of itself)

Node = tuple[str, int, int]  # (doc_id, start, end)
Link = tuple[Node, tuple[int, int], Node, tuple[int, int], Any]  # node, its span, other node, its span, sort key


def _covers(span: tuple[int, int], region: tuple[int, int]) -> bool:
    """``span`` and ``region`` (of one document) are the same text: they overlap by at least
    :data:`SAME_TEXT` of the longer of the two."""
    ov = min(span[1], region[1]) - max(span[0], region[0])
    return ov > 0 and ov >= SAME_TEXT * max(span[1] - span[0], region[1] - region[0])


def peel_claims(nodes: Iterable[Node], links: Iterable[tuple[Node, tuple[int, int], Node, tuple[int, int], Any]],
                anchor_key: Callable[[Node], Any]) -> list[list[Node]]:
    """Split one connected group of passages into claims (see the module docstring).

    ``links``: ``(node_a, span_in_a, node_b, span_in_b, key)`` per match, ``key`` a sortable,
    unique tie-breaker (the match id). Returns every claim as its sorted nodes, claims of one
    passage included, in the order they were peeled."""
    adj: dict[Node, list[tuple[Any, tuple[int, int], Node, tuple[int, int]]]] = defaultdict(list)
    all_nodes = set(nodes)
    for na, sa, nb, sb, key in links:
        all_nodes.add(na)
        all_nodes.add(nb)
        if na == nb:
            continue
        adj[na].append((key, sa, nb, sb))
        adj[nb].append((key, sb, na, sa))
    for lst in adj.values():
        lst.sort(key=lambda x: x[0])
    order = sorted(all_nodes, key=lambda n: (anchor_key(n), n))
    taken: set[Node] = set()
    claims: list[list[Node]] = []
    for root in order:
        if root in taken:
            continue
        taken.add(root)
        region = {root: (root[1], root[2])}
        members = [root]
        frontier = [root]
        while frontier:
            nxt: list[Node] = []
            for u in frontier:
                for _, su, v, sv in adj.get(u, ()):
                    if v in taken or not _covers(su, region[u]) or not _covers(sv, (v[1], v[2])):
                        continue
                    taken.add(v)
                    region[v] = sv
                    members.append(v)
                    nxt.append(v)
            frontier = sorted(nxt, key=lambda n: (anchor_key(n), n))
        claims.append(sorted(members))
    return claims


FORMULA_DAYS = 4  # a formula recurs: its members were published on at least this many different days ...
FORMULA_SPAN = 7  # ... spread over at least this many days (a claim spreads within days, a formula recurs for weeks) ...
FORMULA_MEMBERS = 5  # ... it has at least this many members ...
FORMULA_CHARS = 200  # ... they are short blocks (median length in characters at most this) ...
FORMULA_RATIO = 2.0  # ... and no link shares more than this multiple of what a match needs
TEMPLATE_SUFFIX = "-t"  # a template cluster's id: its anchor's cluster id + this (a claim may share the anchor)


def cluster_kind(link_kind: str, members: Sequence[Mapping[str, Any]], best_ratio: float) -> str:
    """``template`` for template links; for reuse, ``self`` when every member has the same known
    outlet, ``formula`` for a short block recurring on many days whose links share little more than a
    match needs (``best_ratio``: the best link's evidence as a multiple of that), else ``claim``."""
    if link_kind == "template":
        return "template"
    outlets = [m.get("outlet") for m in members]
    if all(outlets) and len(set(outlets)) == 1:
        return "self"
    days = _days(m.get("published") for m in members)
    lengths = sorted(int(m["end"]) - int(m["start"]) for m in members)
    if (len(members) >= FORMULA_MEMBERS and len(days) >= FORMULA_DAYS and (days[-1] - days[0]).days >= FORMULA_SPAN
            and lengths[len(lengths) // 2] <= FORMULA_CHARS and best_ratio < FORMULA_RATIO):
        return "formula"
    return "claim"


def _days(published: Iterable[Any]) -> list[date]:
    """The distinct calendar days of ISO dates or date-times (two times of one day are one day), sorted;
    what does not parse is left out."""
    out = set()
    for p in published:
        try:
            out.add(date.fromisoformat(str(p)[:10]))
        except ValueError:
            continue
    return sorted(out)


def cluster_confidence(best_ratio: float, n_outlets: int) -> float:
    """0-1 from the best link's evidence as a multiple of what a match needs (``best_ratio``): 0.5 at
    exactly what it needs, the doubt halving with every further multiple, and a quarter of a multiple
    more for every outlet beyond the second. A link of unknown evidence (stored before evidence was
    kept) counts as exactly enough."""
    x = max(0.0, best_ratio - 1.0) + 0.25 * max(0, n_outlets - 2)
    return round(1.0 - 0.5 * math.pow(0.5, x), 3)


def evidence_ratio(evidence: float | None, method: str, need: Callable[[str], float]) -> float:
    """A match's evidence as a multiple of what a match of its method needs (1.0 when unknown)."""
    if evidence is None:
        return 1.0
    n = need(method)
    return float(evidence) / n if n > 0 else 1.0
