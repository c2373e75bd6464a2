"""The ``ingest`` flow: inputs → documents → analysis → reuse → clusters → MongoDB.

Only wiring lives here: tasks with their retries and caching, batching, task runners,
artifacts and the flow function. Every stage is a plain function in ``newsdedup.tasks``
(see the README's "Architecture"); every write goes through :class:`newsdedup.db.Store` in
tasks with ``NO_CACHE`` (writes must never be skipped by Prefect's input cache).

Stages run over whatever the store says is pending, so a run that was killed is
completed by the next one.
"""

from __future__ import annotations

import os
import socket
import time
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime, timezone
from itertools import chain
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.runtime import flow_run as runtime_flow_run
from prefect.task_runners import ThreadPoolTaskRunner

from newsdedup import __version__
from newsdedup.config import Settings, load_settings, redact_uri
from newsdedup.db import Store, resolve_uri
from newsdedup.flows.runtime import COMPUTE_TASK, DB_TASK, in_process, quote, write_behind
from newsdedup.processes import process_identity
from newsdedup.tasks import analyze, cluster_update, dedup, derived_state, intake, match_stage, reuse
from newsdedup.tasks.align import align_pairs
from newsdedup.tasks.cluster_state import MATCH_KEYS, ClusterState
from newsdedup.tasks.line_stats import merged
from newsdedup.tasks.parallel import chunks
from newsdedup.tasks.provenance import package_versions, run_key, run_name
from newsdedup.tasks.readers import (InputEntry, ReadContext, digest_file, digest_inputs, list_inputs, open_context,
                                     read_inputs)
from newsdedup.tasks.records import expand_passages
from newsdedup.tasks.report import top_claims_markdown
from newsdedup.web.links import claim_url, configured_base_url

SEEDS_DIR = Path(os.environ.get("NEWSDEDUP_SEEDS") or Path(__file__).resolve().parent.parent / "seeds")
INSERT_BATCH = 500
ALIGN_CHUNK = 400
PASSAGE_BATCH = 200
PREPARED_CACHE = 12000  # prepared documents kept in memory for alignment (~300 MB); the rest is on disk


def seeds_inputs() -> tuple[list[str], str | None]:
    """The bundled demo corpus: seeds/*.txt with seeds/manifest.csv."""
    manifest = SEEDS_DIR / "manifest.csv"
    return [str(SEEDS_DIR)], (str(manifest) if manifest.exists() else None)


# ---------------------------------------------------------------------------- tasks
@task(name="open-store", **DB_TASK)
def open_store(settings: Settings) -> Store:
    return Store.open(settings)


@task(name="list-inputs", **COMPUTE_TASK)
def list_input_files(paths: list[str], skip_real: set[str], manifest: str | None) -> tuple[list, dict, Any]:
    """Every input file under ``paths`` (one walker for all inputs) and the manifest, each with its sha256."""
    listing = list(list_inputs(paths, skip_real=skip_real))
    return listing, digest_inputs(x for x in listing if isinstance(x, InputEntry)), digest_file(manifest)


@task(name="record-run-start", **DB_TASK)
def record_run_start(store: Store, run: dict) -> str:
    """Insert the run's provenance record (status ``running``); returns the run id."""
    store.mark_abandoned_runs()  # earlier runs on this host whose process was killed
    return store.start_run(run)


@task(name="outlet-statistics", task_run_name="outlet-statistics-{label}", **DB_TASK)
def outlet_statistics(store: Store, items: list, entries: list[InputEntry], ctx: ReadContext, manifest: str | None,
                      skipped: list[InputEntry], directory: Path, kept: dedup.DedupIndex, label: str) -> tuple:
    """First pass (:func:`~newsdedup.tasks.intake.first_pass`): every input read once, which documents are
    new (a byte-for-byte copy of a kept one is a duplicate at once), and per outlet how often each line
    recurs, stored documents' counts included."""
    ctx = ctx.fresh()
    upto = kept.committed
    first = intake.first_pass(chain(items, read_inputs(entries, ctx, manifest=manifest, skipped=skipped)),
                              store.existing_doc_ids, directory,
                              copy_of=lambda d: kept.find_key(d.content_sha256, d.outlet, upto))
    stored, from_file = derived_state.load_line_stats(store, directory, store.line_key_rows,
                                                      store.counts()["documents"])
    return first, merged(stored.of(first.run_counts), first.run_counts), stored, from_file, ctx.input_files


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
def align_batch(pairs: list, common: Any, workers: int, label: str) -> list:
    """Align prepared pairs; ``common`` (the index's stock n-grams) never counts as phrase evidence."""
    return align_pairs(pairs, common=common, workers=workers)


@task(name="store-matches", **DB_TASK)
def store_matches(store: Store, rows: list[dict]) -> int:
    return store.save_matches(rows)


@task(name="update-clusters", **DB_TASK)
def update_clusters(store: Store, state: ClusterState, new_rows: list[dict], fresh: list[str]
                    ) -> tuple[list[dict], dict[str, float]]:
    """Recompute the clusters this run's matches change (:mod:`~newsdedup.tasks.cluster_update`), write
    them while the passages of earlier documents to re-point are worked out, then re-point those."""
    upd = cluster_update.recompute_clusters(state, new_rows, fresh, store.get_clusters, store.get_documents)
    if not upd.clusters and not upd.stale:
        return [], upd.times
    t = time.monotonic()
    with ThreadPoolExecutor(max_workers=1) as pool:
        written = pool.submit(store.write_clusters, upd.clusters, upd.stale, dict(state.sha))
        changes = cluster_update.passage_changes(upd, state, store.get_documents)
        shas, _ = written.result()
    upd.times["cluster_write"] = round(time.monotonic() - t, 3)
    t = time.monotonic()
    store.set_passage_clusters(changes)
    cluster_update.record_in_state(state, upd, shas)
    upd.times["cluster_repoint"] = round(time.monotonic() - t, 3)
    return upd.clusters, upd.times


@task(name="store-passages", task_run_name="store-passages-{label}", **DB_TASK)
def store_passages(store: Store, doc_ids: list[str], spans: dict, redo: bool, label: str) -> tuple[int, int]:
    """Write the passages of documents from their stored segments, with their cluster ids."""
    docs = store.get_documents(doc_ids, {"doc_id": 1, "external_id": 1, "outlet": 1, "text": 1, "segments": 1})
    passages = [p for i in doc_ids if i in docs for p in expand_passages(docs[i], spans.get(i, ()))]
    if redo:
        store.delete_passages_of(doc_ids)  # written by a run that was killed: rewrite them whole
    store.insert_new("passages", passages)
    return len(passages), sum(p["boilerplate"] for p in passages)


@task(name="record-run-end", **DB_TASK)
def record_run_end(store: Store, run_id: str, fields: dict) -> None:
    store.update_run(run_id, fields)


# ---------------------------------------------------------------------------- stages
def _read_stage(store: Store, plan: intake.InputPlan, ctx: ReadContext, manifest_rejects: list,
                manifest: str | None, run_id: str, batch_size: int, workers: int, directory: Path) -> dict:
    """Two passes over one read of the inputs (:mod:`~newsdedup.tasks.intake`): outlet statistics, then
    analyze and insert the new documents and the rejects; copies of kept documents are stored as
    duplicates (:mod:`~newsdedup.tasks.dedup`). The line counts and the kept documents' signatures,
    now with the inserted documents, are saved for the next run."""
    kept, kept_current = derived_state.load_dedup_index(store, directory, store.dedup_rows, store.counts()["documents"])
    upto = kept.committed
    first, stats_all, line_stats, from_file, input_files = outlet_statistics(
        store, quote(manifest_rejects + plan.rejects), quote(plan.to_read), quote(ctx), manifest, quote(plan.skipped),
        directory, quote(kept), f"{len(plan.to_read)}-files")
    counts: Counter = Counter()
    inserted: list[str] = []
    futures: deque = deque()  # two analysis batches in flight while one is stored

    def drain(limit: int) -> None:
        while len(futures) > limit:
            label, docs, fut = futures.popleft()
            new, dups = dedup.resolve(kept, docs, {f["doc_id"]: f for f in fut.result()})
            done = set(store_documents(store, quote(new + dups), label))
            inserted.extend(r["_id"] for r in new if r["_id"] in done)
            counts["duplicates_new"] += sum(1 for r in dups if r["_id"] in done)
            line_stats.add_all((r["outlet"], r["ingest_seq"], r["line_keys"]) for r in new if r["_id"] in done)

    for kind, batch, segments in intake.batches(first, run_id, store.next_ingest_seq(), counts, batch_size):
        if kind == "rejects":
            counts["rejects_new"] += store_rejects(store, quote(batch))
            continue
        if kind == "duplicates":
            counts["duplicates_new"] += len(store_documents(store, quote(batch), f"duplicates-{len(batch)}"))
            continue
        label = f"docs-{counts['documents_read'] - len(batch) + 1}-{counts['documents_read']}"
        futures.append((label, batch, analyze_batch.submit(
            quote(batch), quote(intake.batch_outlet_stats(batch, stats_all)), quote(segments),
            quote(kept) if in_process() else None, upto, workers, label)))
        drain(2)
    drain(0)
    counts["documents_new"] = len(inserted)
    counts["input_files"] = len(input_files)
    if inserted or not from_file:
        derived_state.save_line_stats(store, line_stats, directory)
    if inserted or not kept_current:
        derived_state.save_dedup_index(store, kept, directory)
    return {"stats": dict(counts), "inserted": inserted,
            "input_files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in input_files]}


def _reuse_stage(store: Store, directory: Path, run_id: str, work: list[str], batch_size: int,
                 workers: int, logger) -> dict:
    """Index ``work`` documents, align them with their candidates, store the matches
    (:func:`~newsdedup.tasks.match_stage.match_documents`); the index is saved in a thread."""
    if not work:
        return {"matches_new": 0, "pairs": 0, "rows": [], "pending": None, "saved": None,
                "timings": match_stage.MatchOutcome().timings}
    fields = {**reuse.DOC_FIELDS, "external_id": 1}
    ext_ids: dict[str, str] = {}

    def prepare(ids: list[str], label: str) -> list:
        docs = store.get_documents(ids, fields)
        batch = [docs[i] for i in ids if i in docs]
        ext_ids.update((d["doc_id"], d["external_id"]) for d in batch)
        return prepare_batch(quote(batch), workers, label)

    work_set = set(work)
    index, spill, rebuilt = derived_state.load_index(
        store, directory, lambda: [i for i in store.all_doc_ids() if i not in work_set],
        lambda ids: store.get_documents(ids, reuse.DOC_FIELDS).values())
    if rebuilt is not None:
        logger.info("rebuilt the candidate index from %d stored documents", rebuilt)
    try:
        out = match_stage.match_documents(
            work, batch_size, index, reuse.PreparedCache(spill, PREPARED_CACHE), run_id, ext_ids, prepare=prepare,
            align=lambda pairs, common, label: align_batch.submit(quote(pairs), quote(common), workers, label),
            write=lambda rows: write_behind(store_matches, store, quote(rows)),
            # in-process workers fork inside one task per batch; otherwise chunks go to the task runner
            align_chunk=10**9 if workers > 1 else ALIGN_CHUNK)
    except BaseException:
        spill.close()
        raise
    # The caller clusters while the last batch's matches are written (the cluster stage reads no match
    # from the database) and while the index files are saved (a thread: the writes release the GIL).
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="save-index")
    saved = pool.submit(_save_and_close, store, index, spill, directory)
    pool.shutdown(wait=False)
    return {"matches_new": out.matches_new, "pairs": out.pairs, "rows": out.rows, "pending": out.pending,
            "saved": saved, "timings": out.timings}


def _save_and_close(store: Store, index: Any, spill: Any, directory: Path) -> None:
    try:
        derived_state.save_index(store, index, spill, directory)
    finally:
        spill.close()


def _load_cluster_state(store: Store, directory: Path, logger) -> ClusterState:
    """The cluster state, distrusted from now on until it is saved (matches are about to be written)."""
    state, rebuilt = derived_state.load_cluster_state(
        store, directory, lambda: ClusterState.from_rows(store.all_matches(MATCH_KEYS), store.cluster_memberships()))
    if rebuilt:
        logger.info("rebuilt the cluster state from the stored matches and clusters")
    return state


def _cluster_stage(store: Store, directory: Path, state: ClusterState | None, work: list[str], reuse_out: dict
                   ) -> tuple[list, dict]:
    """Update the clusters, with the index saved and the last matches written before the state is saved."""
    clusters: list[dict] = []
    times: dict[str, float] = {}
    try:
        if state is not None:
            clusters, times = update_clusters(store, quote(state), quote(reuse_out["rows"]), quote(work))
        if reuse_out["pending"] is not None:
            reuse_out["matches_new"] += reuse_out["pending"].result()
    finally:  # the index is saved before the lock is let go, even when clustering failed
        if reuse_out["saved"] is not None:
            wait([reuse_out["saved"]])
    if reuse_out["saved"] is not None:
        reuse_out["saved"].result()
    if state is not None:
        derived_state.save_cluster_state(store, state, directory)
    return clusters, times


def _passage_stage(store: Store, work: list[str], redo: set[str], clusters: list[dict]) -> tuple[int, int]:
    """Write the passages of this run's documents (and of killed runs') with their final cluster ids."""
    spans = reuse.cluster_spans(clusters)
    n = n_bp = 0
    writing: deque = deque()  # two batches in flight: one is read and expanded while the server inserts the other
    parts = [list(ids) for ids in chunks(work, PASSAGE_BATCH)]
    for k, ids in enumerate(parts):
        sub = {i: spans[i] for i in ids if i in spans}
        writing.append(write_behind(store_passages, store, ids, quote(sub), any(i in redo for i in ids),
                                     f"docs-{k * PASSAGE_BATCH + 1}-{k * PASSAGE_BATCH + len(ids)}"))
        while len(writing) > 1 or (writing and k + 1 == len(parts)):
            a, bp = writing.popleft().result()
            n += a
            n_bp += bp
    return n, n_bp


def _publish_artifacts(store: Store, counts: dict, totals: dict, run_id: str) -> None:
    rows = [{"what": k, "this run": counts.get(k, 0), "in database": totals.get(k, "")}
            for k in ("documents", "duplicates", "passages", "boilerplate", "matches", "clusters", "rejects")]
    create_table_artifact(key="ingest-counts", table=rows, description=f"newsdedup run {run_id}: counts")
    web = configured_base_url()  # NEWSDEDUP_WEB_URL: the claim explorer, linked from each claim
    top = store.top_clusters(10, members=False)
    create_markdown_artifact(key="top-claims", markdown=top_claims_markdown(
        top, run_id, link=(lambda cid: claim_url(web, cid)) if web else None),
                             description="Most widely reused passages")


def _deployment_id() -> str | None:
    from prefect.runtime import deployment

    return str(deployment.id) if deployment.id else None


def _run_name() -> str:
    return run_name((runtime_flow_run.parameters or {}).get("paths"), datetime.now(timezone.utc))


# ---------------------------------------------------------------------------- the flow
@flow(name="ingest", flow_run_name=_run_name, task_runner=ThreadPoolTaskRunner(max_workers=2),
      description="Ingest documents, flag boilerplate, find reused passages across outlets, store with provenance.")
def ingest(paths: list[str] | None = None, manifest: str | None = None, outlet: str | None = None,
           field_map: dict[str, str] | None = None, db: str | None = None, batch_size: int = 1000,
           workers: int = 1) -> dict:
    """Run the whole pipeline on ``paths`` (default: the bundled seeds) and return a summary.

    ``workers`` > 1 forks that many processes inside the analysis and alignment
    tasks (inputs are inherited, not shipped); with a Dask task runner keep it 1
    and let the cluster provide the parallelism.

    Progress is tracked per run: documents are inserted complete, then matched,
    clustered, and their passages written last. A run that was killed stays
    ``killed`` in ``runs``; the next run redoes the reuse, cluster and passage
    stages for its documents (every write is idempotent) and marks it recovered.
    """
    logger = get_run_logger()
    t0 = time.monotonic()
    settings = load_settings(db)
    if not paths:
        paths, default_manifest = seeds_inputs()
        manifest = manifest or default_manifest
    paths = [str(p) for p in paths]
    uri = resolve_uri(settings)
    store = open_store(settings)
    store.counts()  # running totals: recounted here, before any write, if the database has none yet
    directory = derived_state.index_dir(settings.home, redact_uri(uri), settings.db_name)
    timings: dict[str, float] = {}

    ctx, manifest_rejects = open_context(field_map=field_map, manifest=manifest, default_outlet=outlet, input_files=[])
    listing, ctx.digests, manifest_file = list_input_files(paths, ctx.skip_real, manifest)
    plan = intake.plan_inputs(listing, ctx.digests, store.known_inputs, manifest_file)
    params = {"paths": paths, "manifest": manifest, "outlet": outlet, "field_map": field_map, "batch_size": batch_size}
    run_id = record_run_start(store, {
        "run_key": run_key(params, plan.key_inputs()),
        "status": "running", "started_at": datetime.now(timezone.utc), "ended_at": None,
        "flow_run_id": str(runtime_flow_run.id) if runtime_flow_run.id else None,
        "flow_run_name": runtime_flow_run.name, "deployment_id": _deployment_id(),
        "parameters": {**params, "db": settings.db_name},
        "database": {"uri": redact_uri(uri), "name": settings.db_name, "embedded": settings.embedded},
        "inputs": plan.inputs(), "versions": package_versions(__version__), "host": socket.gethostname(),
        **process_identity(),
    })
    logger.info("run %s: %d input files (%d already ingested)", run_id, len(plan.entries), len(plan.skipped))
    try:
        read = {"stats": {}, "input_files": [], "inserted": []}
        if plan.to_read or plan.rejects or not plan.entries:  # something to read, or a path to reject
            read = _read_stage(store, plan, ctx, manifest_rejects, manifest, run_id, batch_size, workers, directory)
        timings["read_analyze"] = round(time.monotonic() - t0, 3)

        with store.lock("reuse"):
            # documents of runs that were killed before they finished are completed here
            orphans = store.unfinished_runs(exclude=run_id)
            inserted = set(read["inserted"])
            redo = [i for i in store.doc_ids_of_runs(orphans) if i not in inserted]
            work = list(read["inserted"]) + redo
            t = time.monotonic()
            state = _load_cluster_state(store, directory, logger) if work else None
            reuse_out = _reuse_stage(store, directory, run_id, work, batch_size, workers, logger)
            timings["reuse"] = round(time.monotonic() - t, 3)
            timings.update(reuse_out["timings"])
            t = time.monotonic()
            clusters, cluster_times = _cluster_stage(store, directory, state, work, reuse_out)
            timings.update(cluster_times)
            timings["cluster"] = round(time.monotonic() - t, 3)
            t = time.monotonic()
            passages_new, boilerplate_new = _passage_stage(store, work, set(redo), clusters)
            timings["passages"] = round(time.monotonic() - t, 3)
            if orphans:
                store.mark_runs_recovered(orphans, run_id)
        store.mark_inputs_done(read["input_files"], run_id)

        st = read["stats"]
        counts = {"documents": st.get("documents_new", 0), "duplicates": st.get("duplicates_new", 0),
                  "documents_read": st.get("documents_read", 0),
                  "documents_known": st.get("documents_known", 0), "passages": passages_new,
                  "boilerplate": boilerplate_new, "matches": reuse_out["matches_new"],
                  "candidate_pairs": reuse_out["pairs"], "clusters": len(clusters), "rejects": st.get("rejects", 0),
                  "input_files_read": st.get("input_files", 0), "input_files_skipped": len(plan.skipped),
                  "recovered_runs": len(orphans), "recovered_documents": len(redo)}
        # a killed run may have stopped between a write and its running total: count anew after a recovery
        totals = store.recount() if orphans else store.counts()
        timings["total"] = round(time.monotonic() - t0, 3)
        nothing_read = counts["documents_read"] == 0 and counts["rejects"] > 0 and not plan.skipped
        status = "completed" if not nothing_read else "completed-nothing-read"
        record_run_end(store, run_id, {"status": status, "ended_at": datetime.now(timezone.utc),
                                       "counts": counts, "totals": totals, "timings": timings,
                                       "input_files": read["input_files"]})
        _publish_artifacts(store, counts, totals, run_id)
        logger.info("run %s %s: %s", run_id, status, counts)
        return {"run_id": run_id, "status": status, "counts": counts, "totals": totals, "timings": timings,
                "nothing_read": nothing_read, "database": settings.db_name}
    except BaseException as exc:
        try:
            store.update_run(run_id, {"status": "failed", "ended_at": datetime.now(timezone.utc),
                                      "error": f"{type(exc).__name__}: {exc}"[:2000], "timings": timings})
        except Exception:  # noqa: BLE001 - the original error matters more
            pass
        raise
    finally:
        store.close()
