"""What a run changed for the people watching claims spread, as plain event records.

Compared with the stored clusters a run's recomputed clusters replace (:mod:`~newsdedup.tasks.cluster_update`
keeps what it read of them), a claim is new across outlets, gained an outlet, or reached a configured
number of outlets. The flow sends the records to Prefect (``flows/claim_events.py``), where
Automations react to them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .cluster_state import ClusterState
from .cluster_update import ClusterUpdate, ReadClusters

__all__ = ["claim_events", "CLAIM_NEW", "CLAIM_GAINED_OUTLET", "CLAIM_REACHED_OUTLETS", "REPRESENTATIVE_CHARS"]

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

    ``read_summaries(ids)``: stored clusters by id with at least :data:`~newsdedup.tasks.cluster_update.SUMMARY_FIELDS`, for the
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
               "threshold": threshold, "size": c.get("size"), "confidence": c.get("confidence"),
               "first_seen": {k: (str(v) if v is not None and k == "published" else v) for k, v in first.items()},
               "attribution": c.get("attribution"), "representative": rep[:REPRESENTATIVE_CHARS],
               "url": link(cid) if link else None, "replaces": replaced, "run_id": run_id, "database": database}
    return {"event": name, "resource": resource, "related": related, "payload": payload,
            "key": f"{database}|{run_id}|{name}|{cid}"}
