"""The matching stage of a run: index its documents, then align each batch with its candidates.

Two passes. First every document of the run is prepared once (appended to the prepared store on
disk next to the index) and indexed, so that document frequencies, caps and the stock-phrase
list are those of the whole corpus whatever the batch order. Then batch after batch: candidate
partners among the documents indexed up to the end of the batch (each pair once), their
alignment, the match rows handed to the writer. Memory holds a bounded LRU of prepared
documents (:class:`~newsdedup.tasks.reuse.PreparedCache`).

How documents are read and prepared, how pairs are aligned and how rows are written are the
caller's (``prepare``, ``align``, ``write``), so the flow can run them as tasks on any runner and
overlap the writes with the next batch's alignment; this module only decides what is done.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .align import Match, Prepared
from .candidates import CandidateIndex
from .cluster_state import MATCH_KEYS
from .parallel import chunks
from .reuse import PreparedCache, match_rows

__all__ = ["MatchOutcome", "match_documents", "Pending", "Progress"]


class Pending(Protocol):
    """A value being computed elsewhere (a Prefect future, a ``concurrent.futures.Future``)."""

    def result(self) -> Any: ...


class Progress(Protocol):
    """Where the stage reports how far it is (``newsdedup.progress``'s tracker)."""

    def stage(self, name: str, total: int | None) -> None: ...

    def advance(self, name: str, n: int = 1) -> None: ...

    def finish(self, name: str) -> None: ...


class _Silent:
    def stage(self, name: str, total: int | None) -> None:
        pass

    def advance(self, name: str, n: int = 1) -> None:
        pass

    def finish(self, name: str) -> None:
        pass


@dataclass
class MatchOutcome:
    """Matches stored (except the last batch's, still ``pending``), candidate pairs, this run's match
    rows as the cluster stage reads them, and seconds per phase."""

    matches_new: int = 0
    pairs: int = 0
    rows: list[dict] = field(default_factory=list)
    pending: Pending | None = None
    timings: dict[str, float] = field(default_factory=lambda: dict.fromkeys(
        ("reuse_prepare_index", "reuse_candidates", "reuse_partners", "reuse_align", "reuse_store"), 0.0))


def match_documents(work: Sequence[str], batch_size: int, index: CandidateIndex, cache: PreparedCache, run_id: str,
                    external_ids: dict[str, str], *, prepare: Callable[[list[str], str], list[Prepared]],
                    align: Callable[[list[tuple[Prepared, Prepared]], Any, str], list[Pending]],
                    write: Callable[[list[dict]], Pending], align_chunk: int, index_first: Sequence[str] = (),
                    on_batch: Callable[[int], None] | None = None, progress: Progress | None = None
                    ) -> MatchOutcome:
    """Index ``work`` and align it with its candidates; ``external_ids`` is filled by ``prepare``.

    ``prepare(ids, label)`` reads and prepares documents (missing ones are left out);
    ``align(pairs, rarity, label)`` starts aligning one chunk of at most ``align_chunk`` pairs and
    returns pending lists of :class:`~newsdedup.tasks.align.Match`; ``write(rows)`` starts storing
    match rows and returns the pending count of rows inserted. ``index_first``: documents of an
    unfinished run that are aligned already: indexed before ``work`` (they are candidates for it)
    but not aligned again. ``on_batch(k)`` is called once the matches of the first ``k`` batches are
    stored (the run records how far it got)."""
    out = MatchOutcome()
    times = out.timings
    progress = progress or _Silent()
    batches = [list(ids) for ids in chunks(work, batch_size)]
    to_index = [list(ids) for ids in chunks(list(index_first), batch_size)] + batches
    t = time.monotonic()
    progress.stage("index", sum(len(ids) for ids in to_index))
    for b, ids in enumerate(to_index):
        prepared = prepare(ids, f"index-b{b + 1}")
        for p in prepared:
            cache.add(p)
        index.add([p for p in prepared if p.doc_id not in index], commit=False)
        progress.advance("index", len(ids))
    index.commit()
    progress.finish("index")
    rarity = index.rarity()  # document frequencies of the whole corpus, this run's documents included
    times["reuse_prepare_index"] += time.monotonic() - t
    progress.stage("align", len(work))
    for b, ids in enumerate(batches):
        t = time.monotonic()
        prepared = [p for p in (cache.get(i) for i in ids) if p is not None]
        upto = max((index.position(p.doc_id) for p in prepared), default=-1) + 1
        pairs = index.candidates(prepared, upto=upto)
        out.pairs += len(pairs)
        t1 = time.monotonic()
        live = cache.pinned((x for pair in pairs for x in pair), lambda missing: prepare(missing, f"partners-b{b + 1}"))
        todo = [p for p in pairs if p[0] in live and p[1] in live]
        t2 = time.monotonic()
        futures = [align([(live[x], live[y]) for x, y in chunk], rarity, f"b{b + 1}-pairs-{k * align_chunk + 1}")
                   for k, chunk in enumerate(chunks(todo, align_chunk))]
        found: list[Match] = [m for fut in futures for m in fut.result()]
        t3 = time.monotonic()
        if out.pending is not None:
            out.matches_new += out.pending.result()
            if on_batch is not None:
                on_batch(b)  # the matches of the batches before this one are stored
        batch_rows = match_rows(found, external_ids, run_id)
        out.pending = write(batch_rows)  # stored while the next batch aligns
        out.rows.extend({k: r[k] for k in MATCH_KEYS} for r in batch_rows)
        times["reuse_candidates"] += t1 - t
        times["reuse_partners"] += t2 - t1
        times["reuse_align"] += t3 - t2
        times["reuse_store"] += time.monotonic() - t3
        progress.advance("align", len(ids))
    progress.finish("align")
    out.timings = {k: round(v, 3) for k, v in times.items()}
    return out
