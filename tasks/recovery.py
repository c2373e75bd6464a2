"""What a run must still do for the documents of runs that did not finish (Ctrl-C, a kill, a crash).

A run records how far it got in ``runs.progress``: ``aligned_seq`` (its documents up to this
``ingest_seq`` are aligned and their matches stored) and ``clusters_done`` (its matches are
clustered, the clusters written, the index and cluster state saved). The next run then does only
what is left, per document:

* ``passages_only``: clusters done; only the passages not written yet are written;
* ``index_only``: aligned; indexed again (other documents are matched against them) and their
  stored matches clustered, but not aligned again;
* ``align``: everything after reading (the documents themselves are stored complete).

Before, every document of a killed run went through the whole reuse stage again and had its
passages deleted one by one (hours on SaudiNewsNet).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RecoveryPlan:
    passages_only: list[str] = field(default_factory=list)
    index_only: list[str] = field(default_factory=list)
    align: list[str] = field(default_factory=list)

    @property
    def documents(self) -> list[str]:
        return [*self.passages_only, *self.index_only, *self.align]

    def __len__(self) -> int:
        return len(self.passages_only) + len(self.index_only) + len(self.align)

    def to_align(self, inserted: Sequence[str]) -> list[str]:
        """The documents the run aligns: its own, then those of unfinished runs not aligned yet."""
        return [*inserted, *self.align]

    def to_cluster(self, inserted: Sequence[str]) -> list[str]:
        """The documents whose matches the run clusters (and whose passages it writes after)."""
        return [*inserted, *self.align, *self.index_only]

    def passage_groups(self, inserted: Sequence[str]) -> list[tuple[str, list[str]]]:
        """``(mode, documents)`` for the passage stage: the run's own documents are ``new``; those
        clustered again are ``redo`` (any passages they have are rewritten); those whose clusters were
        done are ``missing`` (only passages not written yet)."""
        return [("new", list(inserted)), ("redo", [*self.align, *self.index_only]), ("missing", self.passages_only)]


def settle_passage_groups(groups: Sequence[tuple[str, Sequence[str]]],
                          with_passages: Callable[[Sequence[str]], set[str]],
                          delete_passages: Callable[[Sequence[str]], object]) -> list[tuple[str, list[str]]]:
    """Resolve ``redo`` and ``missing`` into plain inserts before the passages are written.

    It must run while the passages' ``doc_id`` index exists: a run that writes many passages drops
    that index for speed, and without it every lookup by ``doc_id`` scans all passages (a recovery
    after Ctrl-C in the passage stage of SaudiNewsNet wrote 1,200 of 30,676 documents in 222 s,
    ~95 min in all). ``redo`` documents lose the passages they have; ``missing`` keeps only those
    without any. Every returned group is then written by inserts alone."""
    out: list[tuple[str, list[str]]] = []
    for mode, ids in groups:
        ids = list(ids)
        if mode != "new" and ids:
            have = with_passages(ids)
            if mode == "redo" and have:
                delete_passages(sorted(have))
            if mode == "missing":
                ids = [i for i in ids if i not in have]
        out.append((mode, ids))
    return out


def plan_recovery(orphans: Sequence[Mapping[str, Any]], docs_of: Mapping[str, Sequence[tuple[int, str]]],
                  exclude: set[str] = frozenset()) -> RecoveryPlan:
    """Sort the documents of unfinished runs by what is left to do.

    ``orphans``: run records (``_id``, ``progress``); ``docs_of``: run id → ``(ingest_seq, doc_id)``
    of its documents in ingestion order; ``exclude``: documents this run handles anyway."""
    plan = RecoveryPlan()
    seen: set[str] = set(exclude)
    for run in orphans:
        progress = run.get("progress") or {}
        aligned = progress.get("aligned_seq")
        for seq, doc_id in docs_of.get(run["_id"], ()):
            if doc_id in seen:
                continue
            seen.add(doc_id)
            if progress.get("clusters_done"):
                plan.passages_only.append(doc_id)
            elif aligned is not None and seq <= int(aligned):
                plan.index_only.append(doc_id)
            else:
                plan.align.append(doc_id)
    return plan


def aligned_prefix_seq(batches_done: int, batch_size: int, own: Sequence[int]) -> int | None:
    """The ``aligned_seq`` a run can record once its first ``batches_done`` batches are aligned and
    stored: the ``ingest_seq`` of the last of its own documents in them (its own documents come first,
    in ingestion order, with their sequence numbers in ``own``), None if none is done yet."""
    k = min(len(own), batches_done * batch_size)
    return int(own[k - 1]) if k > 0 else None
