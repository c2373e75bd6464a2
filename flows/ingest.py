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
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.exceptions import TerminationSignal
from prefect.runtime import flow_run as runtime_flow_run
from prefect.task_runners import ThreadPoolTaskRunner

from newsdedup import __version__, interrupts, progress
from newsdedup.config import alert_outlets, load_settings, redact_uri
from newsdedup.db import Store, resolve_uri
from newsdedup.flows.claim_events import emit_claim_events
from newsdedup.flows.runtime import ProgressArtifact, in_process, quote, write_behind
from newsdedup.flows.steps import (align_batch, analyze_batch, list_input_files, open_store, outlet_statistics,
                                   prepare_batch, record_run_end, record_run_start, store_documents, store_matches,
                                   settle_passages, store_passages, store_rejects, update_clusters, update_derivations,
                                   update_search_index)
from newsdedup.processes import process_identity
from newsdedup.tasks import (cluster_update, dedup, derived_state, intake, match_stage, resident, reuse,
                             search_index)
from newsdedup.tasks.cluster_state import MATCH_KEYS, ClusterState
from newsdedup.tasks.parallel import chunks
from newsdedup.tasks.provenance import package_versions, run_key, run_name
from newsdedup.tasks.readers import ReadContext, open_context
from newsdedup.tasks.recovery import aligned_prefix_seq, plan_recovery
from newsdedup.tasks.report import claims_markdown, run_claims
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


# ---------------------------------------------------------------------------- stages
def _read_stage(store: Store, plan: intake.InputPlan, ctx: ReadContext, manifest_rejects: list,
                manifest: str | None, run_id: str, batch_size: int, workers: int, directory: Path,
                every_input: bool = True) -> dict:
    """Two passes over one read of the inputs (:mod:`~newsdedup.tasks.intake`): outlet statistics, then
    analyze and insert the new documents and the rejects; copies of kept documents are stored as
    duplicates (:mod:`~newsdedup.tasks.dedup`). The line counts and the kept documents' signatures,
    now with the inserted documents, are saved for the next run."""
    kept, kept_current = derived_state.load_dedup_index(store, directory, store.dedup_rows, store.counts()["documents"])
    upto = kept.committed  # also the positions it held when loaded: kept documents and aliases
    first, stats_all, line_stats, from_file, input_files = outlet_statistics(
        store, quote(manifest_rejects + plan.rejects), quote(plan.to_read), quote(ctx), manifest, quote(plan.skipped),
        every_input, directory, quote(kept), f"{len(plan.to_read)}-files")
    counts: Counter = Counter()
    inserted: list[str] = []
    inserted_seqs: list[int] = []
    futures: deque = deque()  # two analysis batches in flight while one is stored
    progress.stage("analyze", len(first.new_keys))

    def drain(limit: int) -> None:
        while len(futures) > limit:
            label, docs, fut = futures.popleft()
            new, dups = dedup.resolve(kept, docs, {f["doc_id"]: f for f in fut.result()})
            done = set(store_documents(store, quote(new + dups), label))
            inserted.extend(r["_id"] for r in new if r["_id"] in done)
            inserted_seqs.extend(r["ingest_seq"] for r in new if r["_id"] in done)
            counts["duplicates_new"] += sum(1 for r in dups if r["_id"] in done)
            line_stats.add_all((r["outlet"], r["ingest_seq"], r["line_keys"]) for r in new if r["_id"] in done)
            progress.advance("analyze", len(docs))

    for kind, batch, segments in intake.batches(first, run_id, store.next_ingest_seq(), counts, batch_size):
        if kind == "rejects":
            counts["rejects_new"] += store_rejects(store, quote(batch))
            continue
        if kind == "duplicates":
            counts["duplicates_new"] += len(store_documents(store, quote(batch), f"duplicates-{len(batch)}"))
            progress.advance("analyze", len(batch))
            continue
        label = f"docs-{counts['documents_read'] - len(batch) + 1}-{counts['documents_read']}"
        futures.append((label, batch, analyze_batch.submit(
            quote(batch), quote(intake.batch_outlet_stats(batch, stats_all)), quote(segments),
            quote(kept) if in_process() else None, upto, workers, label)))
        drain(2)
    drain(0)
    progress.finish("analyze")
    counts["documents_new"] = len(inserted)
    counts["input_files"] = len(input_files)
    derived_state.save_line_stats(store, line_stats, directory, changed=bool(inserted) or not from_file)
    if len(kept.doc_ids) > upto or not kept_current:  # kept documents or aliases added
        derived_state.save_dedup_index(store, kept, directory)
    per_file = intake.documents_per_file([f.path for f in input_files], first.source_paths)
    return {"stats": dict(counts), "inserted": inserted, "inserted_seqs": inserted_seqs,
            "rejects_by_reason": first.rejects.summary(),
            "input_files": [{"path": f.path, "size": f.size, "sha256": f.sha256, "documents": per_file.get(f.path, 0)}
                            for f in input_files]}


def _reuse_stage(store: Store, directory: Path, run_id: str, work: list[str], batch_size: int,
                 workers: int, logger, index_first: list[str], on_batch: Any) -> dict:
    """Index ``work`` documents (and ``index_first``, aligned before an interruption), align ``work`` with
    its candidates, store the matches (:func:`~newsdedup.tasks.match_stage.match_documents`); the index
    is saved in a thread."""
    if not work and not index_first:
        return {"matches_new": 0, "pairs": 0, "rows": [], "pending": None, "saved": None,
                "timings": match_stage.MatchOutcome().timings}
    fields = {**reuse.DOC_FIELDS, "external_id": 1}
    ext_ids: dict[str, str] = {}

    def prepare(ids: list[str], label: str) -> list:
        docs = store.get_documents(ids, fields)
        batch = [docs[i] for i in ids if i in docs]
        ext_ids.update((d["doc_id"], d["external_id"]) for d in batch)
        return prepare_batch(quote(batch), workers, label)

    work_set = set(work) | set(index_first)
    index, spill, rebuilt = derived_state.load_index(
        store, directory, lambda: [i for i in store.all_doc_ids() if i not in work_set],
        lambda ids: store.get_documents(ids, reuse.DOC_FIELDS).values())
    if rebuilt is not None:
        logger.info("rebuilt the candidate index from %d stored documents", rebuilt)
    try:
        out = match_stage.match_documents(
            work, batch_size, index, reuse.PreparedCache(spill, PREPARED_CACHE), run_id, ext_ids, prepare=prepare,
            align=lambda pairs, rarity, label: align_batch.submit(quote(pairs), quote(rarity), workers, label),
            write=lambda rows: write_behind(store_matches, store, quote(rows)),
            # in-process workers fork inside one task per batch; otherwise chunks go to the task runner
            align_chunk=10**9 if workers > 1 else ALIGN_CHUNK, index_first=index_first, on_batch=on_batch,
            progress=progress.tracker())
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
    kept = False  # a served process keeps the index and its open store for the next run
    try:
        kept = derived_state.save_index(store, index, spill, directory)
    finally:
        if not kept:
            spill.close()


def _load_cluster_state(store: Store, directory: Path, logger) -> ClusterState:
    """The cluster state, distrusted from now on until it is saved (matches are about to be written)."""
    state, rebuilt = derived_state.load_cluster_state(
        store, directory, lambda: ClusterState.from_rows(store.all_matches(MATCH_KEYS), store.cluster_memberships()))
    if rebuilt:
        logger.info("rebuilt the cluster state from the stored matches and clusters")
    return state


def _cluster_stage(store: Store, directory: Path, state: ClusterState | None, fresh: list[str], reuse_out: dict,
                   run_id: str) -> tuple[list, dict, list]:
    """Update the clusters of ``fresh`` documents' matches (and the claim events), then the derivations of
    the document pairs they name, with the index saved and the last matches written before the state is
    saved again (it was distrusted when loaded). A run is ``clusters_done`` only after both."""
    clusters: list[dict] = []
    times: dict[str, float] = {}
    events: list[dict] = []
    try:
        if state is not None and fresh:
            clusters, times, events = update_clusters(store, quote(state), quote(reuse_out["rows"]), quote(fresh),
                                                      run_id)
            t = time.monotonic()
            reuse_out["derivations_new"] = update_derivations(store, quote(state), quote(reuse_out["rows"]), run_id)
            times["derivations"] = round(time.monotonic() - t, 3)
        if reuse_out["pending"] is not None:
            reuse_out["matches_new"] += reuse_out["pending"].result()
    finally:  # the index is saved before the lock is let go, even when clustering failed
        if reuse_out["saved"] is not None:
            wait([reuse_out["saved"]])
    if reuse_out["saved"] is not None:
        reuse_out["saved"].result()
    if state is not None:
        derived_state.save_cluster_state(store, state, directory)
    return clusters, times, events


def _passage_stage(store: Store, groups: list[tuple[str, list[str]]], spans: dict) -> tuple[int, int]:
    """Write the passages of this run's documents (and of unfinished runs') with their final cluster ids.

    ``groups``: ``(mode, documents)`` in order (see :func:`store_passages`); ``spans``: every
    document's cluster spans. The ``doc_id`` index is dropped while a run writes many passages, so the
    unfinished runs' passages are settled first, on the index."""
    n = n_bp = 0
    if any(mode != "new" and ids for mode, ids in groups):
        groups = settle_passages(store, groups)
    total = sum(len(ids) for _, ids in groups)
    progress.stage("passages", total)
    with store.passage_index_for_bulk(total):
        writing: deque = deque()  # two batches in flight: one is read and expanded while the server inserts the other
        jobs = [(mode, list(ids)) for mode, docs in groups for ids in chunks(docs, PASSAGE_BATCH)]
        done = dict.fromkeys((mode for mode, _ in groups), 0)
        for j, (mode, ids) in enumerate(jobs):
            k = done[mode]
            done[mode] += len(ids)
            label = f"docs-{k + 1}-{k + len(ids)}" if mode == "new" else f"{mode}-docs-{k + 1}-{k + len(ids)}"
            writing.append((len(ids), write_behind(store_passages, store, ids,
                                                   quote({i: spans[i] for i in ids if i in spans}), mode, label)))
            while len(writing) > 1 or (writing and j + 1 == len(jobs)):
                n_docs, fut = writing.popleft()
                a, bp = fut.result()
                n += a
                n_bp += bp
                progress.advance("passages", n_docs)
    progress.finish("passages")
    return n, n_bp


def _publish_artifacts(store: Store, counts: dict, totals: dict, run_id: str, clusters: list[dict],
                       fresh: set[str]) -> None:
    rows = [{"what": k, "this run": counts.get(k, 0), "in database": totals.get(k, "")}
            for k in ("documents", "duplicates", "passages", "boilerplate", "matches", "clusters", "derivations",
                      "rejects")]
    create_table_artifact(key="ingest-counts", table=rows, description=f"newsdedup run {run_id}: counts")
    web = configured_base_url()  # NEWSDEDUP_WEB_URL: the claim explorer, linked from each claim
    md = claims_markdown(run_id, run_claims(clusters, fresh, limit=10), store.top_clusters(10, members=False, kind="claim"),
                         link=(lambda cid: claim_url(web, cid)) if web else None)
    create_markdown_artifact(key="top-claims", markdown=md,
                             description="Claims this run added or spread, then the most widely reused")


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
           workers: int = 1, reprocess: bool = False, only: list[str] | None = None) -> dict:
    """Run the whole pipeline on ``paths`` (default: the bundled seeds) and return a summary.

    ``only``: read just these files or folders among the inputs under ``paths`` (what a watcher
    saw change); manifest rows naming other inputs are then not reported as unused.

    ``workers`` > 1 forks that many processes inside the analysis and alignment
    tasks (inputs are inherited, not shipped); with a Dask task runner keep it 1
    and let the cluster provide the parallelism. ``reprocess`` reads every input file
    again, also those read before with the same options.

    Progress is tracked per run: documents are inserted complete, then matched,
    clustered, and their passages written last; the run records how far it got
    (``runs.progress``). A run stopped by Ctrl-C or SIGTERM is recorded ``interrupted``,
    one whose process died ``killed``; the next run does what they left
    (:mod:`newsdedup.tasks.recovery`) and marks them recovered.
    """
    logger = get_run_logger()
    t0 = time.monotonic()
    settings = load_settings(db)
    alert_outlets()  # a bad NEWSDEDUP_ALERT_OUTLETS fails the run here, before anything is written
    held = resident.active()  # a served process: derived state kept in memory between runs
    if held is not None:
        held.begin_run()
    if not paths:
        paths, default_manifest = seeds_inputs()
        manifest = manifest or default_manifest
    paths = [str(p) for p in paths]
    uri = resolve_uri(settings)
    store = open_store(settings)
    store.counts()  # running totals: recounted here, before any write, if the database has none yet
    directory = derived_state.index_dir(settings.home, redact_uri(uri), settings.db_name)
    timings: dict[str, float] = {}
    progress.reset()  # this run's stages only (a terminal display installed by the CLI stays)
    bar = ProgressArtifact()

    ctx, manifest_rejects = open_context(field_map=field_map, manifest=manifest, default_outlet=outlet, input_files=[])
    listing, ctx.digests, manifest_file = list_input_files(paths, ctx.skip_real, manifest, only)
    plan = intake.plan_inputs(listing, ctx.digests, store.known_inputs, manifest_file, reprocess=reprocess,
                              options=intake.reading_options(field_map, outlet, manifest_file))
    params = {"paths": paths, "manifest": manifest, "outlet": outlet, "field_map": field_map, "batch_size": batch_size,
              **({"only": sorted(map(str, only))} if only is not None else {})}
    run_id = record_run_start(store, {
        "run_key": run_key(params, plan.key_inputs()),
        "status": "running", "started_at": datetime.now(timezone.utc), "ended_at": None,
        "flow_run_id": str(runtime_flow_run.id) if runtime_flow_run.id else None,
        "flow_run_name": runtime_flow_run.name, "deployment_id": _deployment_id(),
        "parameters": {**params, "reprocess": bool(reprocess), "db": settings.db_name},
        "database": {"uri": redact_uri(uri), "name": settings.db_name, "embedded": settings.embedded},
        "inputs": plan.inputs(), "progress": {"aligned_seq": None, "clusters_done": False},
        "versions": package_versions(__version__), "host": socket.gethostname(), **process_identity(),
    })
    logger.info("run %s: %d input files (%d read before with the same options)", run_id, len(plan.entries),
                len(plan.skipped))
    try:
        read = {"stats": {}, "input_files": [], "inserted": [], "inserted_seqs": [], "rejects_by_reason": []}
        if plan.to_read or plan.rejects or not plan.entries:  # something to read, or a path to reject
            read = _read_stage(store, plan, ctx, manifest_rejects, manifest, run_id, batch_size, workers, directory,
                               every_input=only is None)
        timings["read_analyze"] = round(time.monotonic() - t0, 3)

        with store.lock("reuse"):
            # what runs that did not finish left undone is done here (tasks/recovery.py)
            orphans = store.unfinished_runs(exclude=run_id)
            redo = plan_recovery(orphans, {r["_id"]: store.doc_seqs_of_runs([r["_id"]]) for r in orphans},
                                 exclude=set(read["inserted"]))
            work, fresh = redo.to_align(read["inserted"]), redo.to_cluster(read["inserted"])
            t = time.monotonic()
            state = _load_cluster_state(store, directory, logger) if (fresh or redo.passages_only) else None

            def aligned(k: int) -> None:  # the first k batches' matches are stored: record how far the run got
                seq = aligned_prefix_seq(k, batch_size, read["inserted_seqs"])
                if seq is not None:
                    store.update_run(run_id, {"progress.aligned_seq": seq})

            reuse_out = _reuse_stage(store, directory, run_id, work, batch_size, workers, logger, redo.index_only,
                                     aligned)
            if redo.index_only:  # aligned before the interruption: their stored matches are clustered now
                have = {r["_id"] for r in reuse_out["rows"]}
                reuse_out["rows"] += [m for m in store.matches_of_docs(redo.index_only, MATCH_KEYS)
                                      if m["_id"] not in have]
            timings["reuse"] = round(time.monotonic() - t, 3)
            timings.update(reuse_out["timings"])
            t = time.monotonic()
            progress.stage("clusters", 1)
            clusters, cluster_times, events = _cluster_stage(store, directory, state, fresh, reuse_out, run_id)
            if state is not None:
                aligned(-(-len(work) // batch_size))  # every batch's matches are stored
                for r in [run_id, *(o["_id"] for o in orphans)]:
                    store.update_run(r, {"progress.clusters_done": True})
            progress.finish("clusters")
            timings.update(cluster_times)
            timings["cluster"] = round(time.monotonic() - t, 3)
            t = time.monotonic()
            claim_events = emit_claim_events(events)  # after the clusters are written: the claims are there
            timings["claim_events"] = round(time.monotonic() - t, 3)
            t = time.monotonic()
            spans = cluster_update.passage_spans(clusters, state, [*redo.passages_only, *redo.index_only])
            passages_new, boilerplate_new = _passage_stage(store, redo.passage_groups(read["inserted"]), spans)
            timings["passages"] = round(time.monotonic() - t, 3)
            if orphans:
                store.mark_runs_recovered([o["_id"] for o in orphans], run_id)
        store.mark_inputs_done([{**f, "key": intake.input_key(f["sha256"], plan.options), "options": plan.options}
                                for f in read["input_files"] if f.get("documents")], run_id)
        t = time.monotonic()
        update_search_index(store, derived_state.search_dir(settings.home, redact_uri(uri), settings.db_name),
                            search_index.DOC_FIELDS)
        timings["search_index"] = round(time.monotonic() - t, 3)

        st = read["stats"]
        counts = {"documents": st.get("documents_new", 0), "duplicates": st.get("duplicates_new", 0),
                  "documents_read": st.get("documents_read", 0),
                  "documents_known": st.get("documents_known", 0), "passages": passages_new,
                  "boilerplate": boilerplate_new, "matches": reuse_out["matches_new"],
                  "candidate_pairs": reuse_out["pairs"], "clusters": len(clusters),
                  "derivations": reuse_out.get("derivations_new", 0), "rejects": st.get("rejects", 0),
                  "input_files_read": st.get("input_files", 0), "input_files_skipped": len(plan.skipped),
                  "recovered_runs": len(orphans), "recovered_documents": len(redo), "claim_events": claim_events}
        # a killed run may have stopped between a write and its running total: count anew after a recovery
        totals = store.recount() if orphans else store.counts()
        timings["total"] = round(time.monotonic() - t0, 3)
        nothing_read = counts["documents_read"] == 0 and counts["rejects"] > 0 and not plan.skipped
        status = "completed" if not nothing_read else "completed-nothing-read"
        state_from = dict(held.last) if held is not None else None  # what came from memory, kind by kind
        _publish_artifacts(store, counts, totals, run_id, clusters, set(fresh))
        summary = {"run_id": run_id, "status": status, "counts": counts, "totals": totals, "timings": timings,
                   "rejects_by_reason": read["rejects_by_reason"], "nothing_read": nothing_read,
                   "database": settings.db_name, "resident_state": state_from}
        interrupts.checkpoint()  # the last point where Ctrl-C leaves the run interrupted
        with interrupts.deferred():  # recorded completed, and known to be: a Ctrl-C from here on came after
            record_run_end(store, run_id, {"ended_at": datetime.now(timezone.utc), "input_files": read["input_files"],
                                           **{k: v for k, v in summary.items() if k not in ("run_id", "nothing_read",
                                                                                            "database")}})
            interrupts.note_completed(run_id)
        bar.done()
        logger.info("run %s %s: %s", run_id, status, counts)
        return summary
    except BaseException as exc:
        stopped = isinstance(exc, (KeyboardInterrupt, TerminationSignal))
        if interrupts.completed_run() == run_id:
            if isinstance(exc, KeyboardInterrupt):  # on its way out: the run stays completed (here and in
                return summary  # Prefect); the CLI sees the press recorded and says what it stopped
            raise
        try:
            store.update_run(run_id, {"status": "interrupted" if stopped else "failed",
                                      "ended_at": datetime.now(timezone.utc),
                                      "error": ("stopped by Ctrl-C or a termination signal" if stopped else
                                                f"{type(exc).__name__}: {exc}"[:2000]), "timings": timings})
        except Exception:  # noqa: BLE001 - the original error matters more
            pass
        raise
    finally:
        bar.done(complete=False)  # stops its thread (a finished run has set 100 % already)
        store.close()
