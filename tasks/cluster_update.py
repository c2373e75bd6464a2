"""The cluster stage of a run: which stored clusters its new matches change, and how.

The clusters of every passage connected to a run's new matches are recomputed: grown from the
stored clusters they touch (:func:`~newsdedup.tasks.cluster.grow_clusters`), or rebuilt from all
their matches (:func:`~newsdedup.tasks.cluster.build_clusters`) on the first run and whenever they
cannot be grown. The stage also says which stored clusters the new ones replace (``stale``), which
passages of earlier documents change cluster (fresh documents get their passages written afterwards
with the right ``cluster_id``), and finally records the result in the cluster state.

Plain functions over the :class:`~newsdedup.tasks.cluster_state.ClusterState` and two readers the
caller passes (stored clusters by id, stored documents by id with a projection): the writes are the
caller's, so it can overlap them with the work here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .cluster import build_clusters, connected_matches, grow_clusters, match_ends, stale_clusters
from .cluster_state import ClusterState
from .records import segment_rows
from .reuse import cluster_spans, match_from_row, passage_cluster_changes

__all__ = ["ClusterUpdate", "recompute_clusters", "passage_changes", "record_in_state", "passage_spans",
           "CLUSTER_DOC_FIELDS"]

CLUSTER_DOC_FIELDS = {"external_id": 1, "outlet": 1, "published": 1, "ingest_seq": 1, "text": 1}  # what members need
ReadClusters = Callable[[list[str]], Mapping[str, Mapping[str, Any]]]
ReadDocs = Callable[[Iterable[str], Mapping[str, int]], Mapping[str, Mapping[str, Any]]]


@dataclass
class ClusterUpdate:
    """The recomputed clusters, the stored ids they replace, the earlier documents involved, their
    members' attributions, the documents a rebuild read with their segments (None when grown), and
    the time each phase took."""

    clusters: list[dict] = field(default_factory=list)
    stale: set[str] = field(default_factory=set)
    earlier: list[str] = field(default_factory=list)
    attribs: dict = field(default_factory=dict)
    segments: Mapping[str, Mapping[str, Any]] | None = None
    times: dict[str, float] = field(default_factory=dict)


def recompute_clusters(state: ClusterState, new_rows: Sequence[Mapping[str, Any]], fresh: Sequence[str],
                       read_clusters: ReadClusters, read_docs: ReadDocs) -> ClusterUpdate:
    """Add this run's match rows to ``state`` and recompute the clusters they change.

    ``fresh``: this run's documents (every new match names one). ``state`` is not told about the new
    clusters until :func:`record_in_state`, after the caller wrote them: a retried attempt starts from
    the same state."""
    t = time.monotonic()
    fresh_set = set(fresh)
    touched = {d for r in new_rows for d in (r["a_doc_id"], r["b_doc_id"])}
    state.add_matches(new_rows)
    if not touched:
        return ClusterUpdate()
    first = all(d in fresh_set for d in state.documents())  # nothing matched before this run: all are connected
    if not first:
        # grown from the stored clusters: nothing to walk, only new passages' documents read
        grown = grow_clusters(state, [r["_id"] for r in new_rows], fresh_set, read_clusters,
                              lambda ids: read_docs(ids, CLUSTER_DOC_FIELDS))
        if grown is not None:
            return ClusterUpdate(grown.clusters, grown.stale, grown.earlier, grown.attribs, None,
                                 {"cluster_grow": round(time.monotonic() - t, 3)})
    return _rebuild(state, fresh_set, touched, first, read_docs)


def _rebuild(state: ClusterState, fresh: set[str], touched: set[str], first: bool, read_docs: ReadDocs
             ) -> ClusterUpdate:
    """The clusters connected to this run's matches rebuilt from all their matches. ``first``: no
    document was matched before this run, so every match is connected and none is walked to."""
    t = time.monotonic()
    if first:
        matches = state.all_matches()
    else:
        seeds = [x for m in state.matches_of(sorted(fresh & touched)) for x in match_ends(m)]
        matches = connected_matches(seeds, state.matches_of)
    times = {"cluster_walk": round(time.monotonic() - t, 3)}
    t = time.monotonic()
    docs_in = {d for m in matches for d in (m["a_doc_id"], m["b_doc_id"])}
    # the segments too: the earlier documents whose passages change cluster are re-pointed from them
    meta = read_docs(docs_in, {**CLUSTER_DOC_FIELDS, "segments": 1})
    objs = [match_from_row(m) for m in matches]
    attribs: dict = {}
    clusters = build_clusters(objs, meta, attribs)
    # the passages these components had before this run: the stored clusters naming one are replaced
    old = [m for m in objs if m.a_doc_id not in fresh and m.b_doc_id not in fresh]
    earlier = sorted(docs_in - fresh)
    stale = stale_clusters(old, state.cluster_spans_of)
    times["cluster_build"] = round(time.monotonic() - t, 3)
    return ClusterUpdate(clusters, stale, earlier, attribs, meta, times)


def passage_changes(update: ClusterUpdate, state: ClusterState, read_docs: ReadDocs) -> dict[str | None, list[str]]:
    """Passages of earlier documents whose ``cluster_id`` changes: ``{new id or None: [passage ids]}``.

    A passage's cluster is the one overlapping it most among all clusters of its document: before,
    among the stored ones; now, among the recomputed ones and the stored ones not replaced. A
    document whose cluster spans are the same set as before keeps every assignment and is not read."""
    if not update.earlier:
        return {}
    before = state.cluster_spans_of(update.earlier)
    spans = cluster_spans(update.clusters)
    for d, sp in before.items():
        spans.setdefault(d, []).extend(x for x in sp if x[2] not in update.stale)
    changed = [d for d in update.earlier if set(before.get(d, ())) != set(spans.get(d, ()))]
    segs = update.segments if update.segments is not None else read_docs(changed, {"segments": 1})
    return passage_cluster_changes((row for d in changed for row in segment_rows(segs.get(d) or {"_id": d})),
                                   spans, before)


def record_in_state(state: ClusterState, update: ClusterUpdate, shas: Mapping[str, str]) -> None:
    """The written clusters (with their stored content hashes) replace the stale ones in ``state``."""
    for cid in update.stale:
        state.drop_cluster(cid)
    for c in update.clusters:
        state.set_cluster(c["cluster_id"], shas[c["cluster_id"]],
                          [(m["doc_id"], m["start"], m["end"]) for m in c["members"]], update.attribs)


def passage_spans(clusters: Iterable[Mapping[str, Any]], state: ClusterState | None, also: Sequence[str] = ()
                  ) -> dict[str, list[tuple[int, int, str]]]:
    """Per document, the cluster spans its passages are assigned from: those of the recomputed
    ``clusters``, and for the documents in ``also`` (an unfinished run's, clustered before) their spans
    in the stored clusters (``state``) where no recomputed cluster names them."""
    spans = cluster_spans(clusters)
    if state is not None and also:
        for d, sp in state.cluster_spans_of(also).items():
            spans.setdefault(d, sp)
    return spans
