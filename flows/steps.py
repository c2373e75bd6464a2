"""The Prefect tasks of the ``ingest`` flow: each a thin wrapper of one stage of ``newsdedup.tasks``.

Retries and caching are set here: every task that writes to MongoDB uses ``DB_TASK`` (no input
cache, retried with backoff on connection errors only); compute tasks use ``COMPUTE_TASK``.
Big inputs are passed through :class:`~newsdedup.flows.runtime.quote` by the flow.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from pathlib import Path
from typing import Any

from prefect import task

from newsdedup import progress
from newsdedup.config import Settings, alert_outlets
from newsdedup.db import Store
from newsdedup.flows.runtime import COMPUTE_TASK, DB_TASK
from newsdedup.tasks import analyze, claim_events, cluster_update, dedup, derived_state, intake, reuse
from newsdedup.tasks.align import align_pairs
from newsdedup.tasks.cluster_state import ClusterState
from newsdedup.tasks.derivation import run_derivations
from newsdedup.tasks.line_stats import merged
from newsdedup.tasks.readers import (InputEntry, ReadContext, digest_file, digest_inputs, list_inputs, read_inputs,
                                     within)
from newsdedup.tasks.records import expand_passages
from newsdedup.tasks.recovery import settle_passage_groups
from newsdedup.web.links import claim_url, configured_base_url


@task(name="open-store", **DB_TASK)
def open_store(settings: Settings) -> Store:
    return Store.open(settings)


@task(name="list-inputs", **COMPUTE_TASK)
def list_input_files(paths: list[str], skip_real: set[str], manifest: str | None, only: list[str] | None
                     ) -> tuple[list, dict, Any]:
    """Every input file under ``paths`` (one walker for all inputs; ``only``: just those files or folders
    among them) and the manifest, each with its sha256."""
    listing = within(list_inputs(paths, skip_real=skip_real), only)
    return listing, digest_inputs(x for x in listing if isinstance(x, InputEntry)), digest_file(manifest)


@task(name="record-run-start", **DB_TASK)
def record_run_start(store: Store, run: dict) -> str:
    """Insert the run's provenance record (status ``running``); returns the run id."""
    store.mark_abandoned_runs()  # earlier runs on this host whose process was killed
    return store.start_run(run)


@task(name="outlet-statistics", task_run_name="outlet-statistics-{label}", **DB_TASK)
def outlet_statistics(store: Store, items: list, entries: list[InputEntry], ctx: ReadContext, manifest: str | None,
                      skipped: list[InputEntry], every_input: bool, directory: Path, kept: dedup.DedupIndex,
                      label: str) -> tuple:
    """First pass (:func:`~newsdedup.tasks.intake.first_pass`): every input read once, which documents are
    new (a byte-for-byte copy of a kept one is a duplicate at once), and per outlet how often each line
    recurs, stored documents' counts included."""
    ctx = ctx.fresh()
    progress.stage("scan", len(entries))
    upto = kept.committed
    read = read_inputs(entries, ctx, manifest=manifest, skipped=skipped, unused=every_input)
    first = intake.first_pass(chain(items, _files_counted(read, ctx)), store.existing_doc_ids, directory,
                              copy_of=lambda d: kept.find_key(d.content_sha256, d.outlet, upto, d.title))
    progress.finish("scan")
    stored, from_file = derived_state.load_line_stats(store, directory, store.line_key_rows,
                                                      store.counts()["documents"])
    return first, merged(stored.of(first.run_counts), first.run_counts), stored, from_file, ctx.input_files


def _files_counted(items: Any, ctx: ReadContext) -> Any:
    """``items`` as they are read, telling the progress display about each input file opened."""
    n = 0
    for item in items:
        if len(ctx.input_files) > n:
            progress.advance("scan", len(ctx.input_files) - n)
            n = len(ctx.input_files)
        yield item


@task(name="analyze-batch", task_run_name="analyze-{label}", **COMPUTE_TASK)
def analyze_batch(docs: list[dict], outlet_stats: dict, segments: dict, kept: dedup.DedupIndex | None,
                  upto: int, workers: int, label: str) -> list[dict]:
    """Analyze documents; ``kept`` (the index of the documents kept before this run, its first ``upto``)
    stops a copy of one of them before its language is detected."""
    return analyze.analyze_batch(docs, outlet_stats, workers=workers, segments=segments, dedup=kept, upto=upto)


@task(name="store-documents", task_run_name="store-documents-{label}", **DB_TASK)
def store_documents(store: Store, docs: list[dict], label: str) -> list[str]:
    """Insert analyzed documents; returns the ids this run inserted (another run may have won a race)."""
    return store.insert_documents(docs)


@task(name="store-rejects", **DB_TASK)
def store_rejects(store: Store, rejects: list[dict]) -> int:
    return store.insert_new("rejects", rejects)


@task(name="prepare-batch", task_run_name="prepare-{label}", **COMPUTE_TASK)
def prepare_batch(docs: list[dict], workers: int, label: str) -> list:
    """Normalize, tokenize and hash documents for the index and the aligner."""
    return reuse.prepare_docs(docs, workers=workers)


@task(name="align-batch", task_run_name="align-{label}", **COMPUTE_TASK)
def align_batch(pairs: list, rarity: Any, workers: int, label: str) -> list:
    """Align prepared pairs; ``rarity`` (the index's word frequencies and stock n-grams) weighs the evidence."""
    return align_pairs(pairs, rarity=rarity, workers=workers)


@task(name="store-matches", **DB_TASK)
def store_matches(store: Store, rows: list[dict]) -> int:
    return store.save_matches(rows)


@task(name="update-clusters", **DB_TASK)
def update_clusters(store: Store, state: ClusterState, new_rows: list[dict], fresh: list[str], run_id: str
                    ) -> tuple[list[dict], dict[str, float], list[dict]]:
    """Recompute the clusters this run's matches change (:mod:`~newsdedup.tasks.cluster_update`), write
    them while the passages of earlier documents to re-point and the claim events
    (:mod:`~newsdedup.tasks.claim_events`) are worked out, then re-point those passages."""
    upd = cluster_update.recompute_clusters(state, new_rows, fresh, store.get_clusters, store.get_documents)
    if not upd.clusters and not upd.stale:
        return [], upd.times, []
    t = time.monotonic()
    with ThreadPoolExecutor(max_workers=1) as pool:
        written = pool.submit(store.write_clusters, upd.clusters, upd.stale, dict(state.sha))
        changes = cluster_update.passage_changes(upd, state, store.get_documents)
        events = _claim_events(store, upd, state, run_id)
        shas, _ = written.result()
    upd.times["cluster_write"] = round(time.monotonic() - t, 3)
    t = time.monotonic()
    store.set_passage_clusters(changes)
    cluster_update.record_in_state(state, upd, shas)
    upd.times["cluster_repoint"] = round(time.monotonic() - t, 3)
    return upd.clusters, upd.times, events


def _claim_events(store: Store, upd: cluster_update.ClusterUpdate, state: ClusterState, run_id: str) -> list[dict]:
    """The claim events of an update, compared with the stored clusters (read before they are replaced),
    linked to the claim explorer when ``NEWSDEDUP_WEB_URL`` is set."""
    web = configured_base_url()
    return claim_events.claim_events(
        upd, state, lambda ids: store.get_clusters(ids, cluster_update.SUMMARY_FIELDS), threshold=alert_outlets(),
        run_id=run_id, database=store.db_name, link=(lambda cid: claim_url(web, cid)) if web else None)


@task(name="update-derivations", **DB_TASK)
def update_derivations(store: Store, state: ClusterState, new_rows: list[dict], run_id: str) -> int:
    """The derivation of every document pair this run's matches name
    (:func:`~newsdedup.tasks.derivation.run_derivations`), written; returns how many pairs were new."""
    return store.write_derivations(run_derivations(state, new_rows, store.get_documents, run_id))


@task(name="store-passages", task_run_name="store-passages-{label}", **DB_TASK)
def store_passages(store: Store, doc_ids: list[str], spans: dict, mode: str, label: str) -> tuple[int, int]:
    """Write the passages of documents from their stored segments, with their cluster ids, by inserts
    alone (``mode`` names the group in the task name only: recovery groups are settled before, by
    :func:`settle_passages`)."""
    docs = store.get_documents(doc_ids, {"doc_id": 1, "external_id": 1, "outlet": 1, "text": 1, "segments": 1})
    passages = [p for i in doc_ids if i in docs for p in expand_passages(docs[i], spans.get(i, ()))]
    store.insert_new("passages", passages)
    return len(passages), sum(p["boilerplate"] for p in passages)


@task(name="settle-unfinished-passages", **DB_TASK)
def settle_passages(store: Store, groups: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """Passages of unfinished runs' documents: deleted (``redo``) or found (``missing``) on the ``doc_id``
    index, before the passage stage may drop it."""
    return settle_passage_groups(groups, store.doc_ids_with_passages, store.delete_passages_of)


@task(name="record-run-end", **DB_TASK)
def record_run_end(store: Store, run_id: str, fields: dict) -> None:
    store.update_run(run_id, fields)


@task(name="update-search-index", **DB_TASK)
def update_search_index(store: Store, folder: Path, fields: dict) -> None:
    """Bring the word index of ``query search`` up to date with this run's documents, so the first
    search after a run does not pay for it."""
    derived_state.load_search_index(store, folder, store.counts()["documents"],
                                    lambda seq: store.documents_after_seq(seq, fields))
