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

It also tells what a run changed for the people watching claims spread (:func:`claim_events`):
which claims are new across outlets, gained an outlet, or reached a configured number of outlets,
as plain event records the flow sends to Prefect.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .cluster import build_clusters, connected_matches, grow_clusters, match_ends, span_nodes
from .cluster_state import ClusterState
from .records import segment_rows
from .reuse import cluster_spans, match_from_row, passage_cluster_changes

__all__ = ["ClusterUpdate", "recompute_clusters", "passage_changes", "record_in_state", "claim_events",
           "CLUSTER_DOC_FIELDS", "SUMMARY_FIELDS", "CLAIM_NEW", "CLAIM_GAINED_OUTLET", "CLAIM_REACHED_OUTLETS"]

CLUSTER_DOC_FIELDS = {"external_id": 1, "outlet": 1, "published": 1, "ingest_seq": 1, "text": 1}  # what members need
ReadClusters = Callable[[list[str]], Mapping[str, Mapping[str, Any]]]
ReadDocs = Callable[[Iterable[str], Mapping[str, int]], Mapping[str, Mapping[str, Any]]]
SUMMARY_FIELDS = ("outlets", "n_outlets", "kind")  # what the claim events need of a stored cluster


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
    previous: dict[str, dict] = field(default_factory=dict)  # stored clusters read meanwhile: SUMMARY_FIELDS


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
    previous: dict[str, dict] = {}

    def reading(ids: list[str]) -> Mapping[str, Mapping[str, Any]]:
        got = read_clusters(ids)  # whole stored clusters: what they were is kept for the claim events
        previous.update((cid, {k: c.get(k) for k in SUMMARY_FIELDS if k in c}) for cid, c in got.items())
        return got

    if not first:
        # grown from the stored clusters: nothing to walk, only new passages' documents read
        grown = grow_clusters(state, [r["_id"] for r in new_rows], fresh_set, reading,
                              lambda ids: read_docs(ids, CLUSTER_DOC_FIELDS))
        if grown is not None:
            return ClusterUpdate(grown.clusters, grown.stale, grown.earlier, grown.attribs, None,
                                 {"cluster_grow": round(time.monotonic() - t, 3)}, previous)
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
    old_nodes = set(span_nodes(old)[0])
    earlier = sorted(docs_in - fresh)
    stale = {cid for d, sp in state.cluster_spans_of(earlier).items() for s, e, cid in sp if (d, s, e) in old_nodes}
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


# ---------------------------------------------------------------------------- claim events
CLAIM_NEW = "newsdedup.claim.new"  # a claim now seen in two or more outlets that was not a claim before
CLAIM_GAINED_OUTLET = "newsdedup.claim.gained-outlet"  # a claim seen in outlets it was not in before
CLAIM_REACHED_OUTLETS = "newsdedup.claim.reached-outlets"  # a claim's outlets went from below to at least N
REPRESENTATIVE_CHARS = 300  # of the first-seen text, in the payload


def _is_claim(c: Mapping[str, Any]) -> bool:
    """A cluster that counts as a claim spreading: ``kind == "claim"`` when clusters carry a kind (not a
    template, a formula or an outlet reusing itself), else any cluster spanning two or more outlets."""
    if "kind" in c and c["kind"] is not None:
        return c["kind"] == "claim" and len(c.get("outlets") or ()) >= 2
    return len(c.get("outlets") or ()) >= 2


def _predecessors(update: ClusterUpdate, state: ClusterState) -> dict[str, list[str]]:
    """For each recomputed cluster, the stored clusters it replaces that shared a passage with it
    (a member span overlapping one of theirs in the same document). Read from ``state`` before
    :func:`record_in_state`, while it still holds the stored memberships."""
    stale_spans: dict[str, list[tuple[int, int, str]]] = {}
    for d, spans in state.cluster_spans_of({m["doc_id"] for c in update.clusters for m in c["members"]}).items():
        kept = [x for x in spans if x[2] in update.stale]
        if kept:
            stale_spans[d] = kept
    out: dict[str, list[str]] = {}
    for c in update.clusters:
        found = {cid for m in c["members"] for s, e, cid in stale_spans.get(m["doc_id"], ())
                 if min(e, m["end"]) > max(s, m["start"])}
        out[c["cluster_id"]] = sorted(found)
    return out


def claim_events(update: ClusterUpdate, state: ClusterState, read_summaries: ReadClusters, *,
                 threshold: int, run_id: str, database: str, link: Callable[[str], str] | None = None
                 ) -> list[dict]:
    """What the run changed for claims spreading, as Prefect event records (plain data).

    For every recomputed cluster that is a claim (:func:`_is_claim`) compared with the stored
    claim it continues (among the stored clusters it replaces and shared a passage with, the one
    of the same id, else the one with the most outlets): :data:`CLAIM_NEW` when it continues no
    claim, :data:`CLAIM_GAINED_OUTLET` when it has outlets that one did not have, and
    :data:`CLAIM_REACHED_OUTLETS` when its outlets went from below ``threshold`` to at least it.

    ``read_summaries(ids)``: stored clusters by id with at least :data:`SUMMARY_FIELDS`, for the
    replaced clusters the update did not read already. Each record has ``event``, ``resource``
    (the cluster: ``prefect.resource.id`` = ``newsdedup.cluster.<cluster_id>`` with labels to match
    on), ``related`` (outlets, the first-seen outlet, the run), ``payload`` and ``key`` (unique per run,
    event and cluster: a retried emission is the same event). Sorted by cluster id, then event."""
    if not update.clusters:
        return []
    preds = _predecessors(update, state)
    need = sorted({p for ps in preds.values() for p in ps} - update.previous.keys())
    previous = dict(update.previous)
    if need:
        previous.update((cid, dict(c)) for cid, c in read_summaries(need).items())
    out: list[dict] = []
    for c in update.clusters:
        if not _is_claim(c):
            continue
        claims = [p for p in preds.get(c["cluster_id"], ()) if p in previous and _is_claim(previous[p])]
        main = None
        if claims:
            main = c["cluster_id"] if c["cluster_id"] in claims else min(
                claims, key=lambda p: (-len(previous[p].get("outlets") or ()), p))
        before = sorted(set(previous[main].get("outlets") or ())) if main else []
        now = list(c.get("outlets") or ())
        gained = sorted(set(now) - set(before))
        names = []
        if main is None:
            names.append(CLAIM_NEW)
        elif gained:
            names.append(CLAIM_GAINED_OUTLET)
        if len(before) < threshold <= len(now):
            names.append(CLAIM_REACHED_OUTLETS)
        for name in names:
            out.append(_claim_event(name, c, before, gained, preds.get(c["cluster_id"], []), threshold, run_id,
                                    database, link))
    return out


def _claim_event(name: str, c: Mapping[str, Any], before: list[str], gained: list[str], replaced: list[str],
                 threshold: int, run_id: str, database: str, link: Callable[[str], str] | None) -> dict:
    cid = c["cluster_id"]
    first = dict(c.get("first_seen") or {})
    outlets = list(c.get("outlets") or ())
    rep = c.get("representative") or ""
    resource = {"prefect.resource.id": f"newsdedup.cluster.{cid}",
                "prefect.resource.name": " ".join(rep.split())[:80],
                "newsdedup.database": database,
                "newsdedup.kind": str(c.get("kind") or "claim"),
                "newsdedup.attribution": str(c.get("attribution") or ""),
                "newsdedup.first-seen.outlet": str(first.get("outlet") or ""),
                "newsdedup.n-outlets": str(len(outlets))}
    related = [{"prefect.resource.id": f"newsdedup.outlet.{o}", "prefect.resource.role": "outlet",
                "prefect.resource.name": o} for o in outlets]
    if first.get("outlet"):
        related.append({"prefect.resource.id": f"newsdedup.outlet.{first['outlet']}",
                        "prefect.resource.role": "first-seen", "prefect.resource.name": first["outlet"]})
    if c.get("attribution"):
        related.append({"prefect.resource.id": f"newsdedup.source.{c['attribution']}",
                        "prefect.resource.role": "attribution", "prefect.resource.name": c["attribution"]})
    related.append({"prefect.resource.id": f"newsdedup.run.{run_id}", "prefect.resource.role": "newsdedup-run",
                    "prefect.resource.name": run_id})
    payload = {"cluster_id": cid, "kind": c.get("kind") or "claim", "outlets": outlets, "n_outlets": len(outlets),
               "new_outlets": gained if before else outlets, "previous_outlets": before,
               "threshold": threshold, "size": c.get("size"),
               "first_seen": {k: (str(v) if v is not None and k == "published" else v) for k, v in first.items()},
               "attribution": c.get("attribution"), "representative": rep[:REPRESENTATIVE_CHARS],
               "url": link(cid) if link else None, "replaces": replaced, "run_id": run_id, "database": database}
    return {"event": name, "resource": resource, "related": related, "payload": payload,
            "key": f"{database}|{run_id}|{name}|{cid}"}
