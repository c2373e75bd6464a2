"""The ``ingest`` flow: inputs → documents → analysis → reuse → clusters → MongoDB.

Only wiring lives here: parameters, batching, task runners, retries, artifacts.
The work is done by plain functions in ``newsdedup.tasks``; every write goes
through :class:`newsdedup.db.Store` in tasks with ``NO_CACHE`` (writes must
never be skipped by Prefect's input cache).

Stages run over whatever the store says is pending (document ``status``), so a
run that was killed is completed by the next one.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import socket
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.runtime import flow_run as runtime_flow_run
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff
from prefect.utilities.annotations import quote as _prefect_quote
from pymongo.errors import AutoReconnect, ConnectionFailure, DuplicateKeyError, ServerSelectionTimeoutError

from newsdedup import __version__
from newsdedup.config import Settings, load_settings, redact_uri
from newsdedup.db import Store, process_identity, resolve_uri, segment_rows, stable_id
from newsdedup.tasks import analyze as analyze_mod
from newsdedup.tasks import reuse as reuse_mod
from newsdedup.tasks.candidates import CandidateIndex
from newsdedup.tasks.cluster import build_clusters, connected_matches, grow_clusters, match_ends, stale_clusters
from newsdedup.tasks.cluster_state import MATCH_KEYS, ClusterState
from newsdedup.tasks.derivation import run_derivations
from newsdedup.tasks.rewrite import REWRITE
from newsdedup.tasks.ingest import Document, InputFile, Reject, iter_inputs
from newsdedup.tasks.line_stats import LineStats, merged

SEEDS_DIR = Path(os.environ.get("NEWSDEDUP_SEEDS") or Path(__file__).resolve().parent.parent / "seeds")
DB_ERRORS = (AutoReconnect, ConnectionFailure, ServerSelectionTimeoutError)
INSERT_BATCH = 500
ALIGN_CHUNK = 400
PASSAGE_BATCH = 200
CLUSTER_STATE = "clusters.pkl"  # next to the candidate index
LINE_STATS = "line_stats.pkl"  # likewise
CLUSTER_DOC_FIELDS = {"external_id": 1, "outlet": 1, "published": 1, "ingest_seq": 1, "text": 1}  # what members need
PREPARED_CACHE = 12000  # prepared documents kept in memory for alignment (~300 MB); the rest is on disk


class quote(_prefect_quote):
    """Prefect's ``quote``: big task inputs (documents, passages, prepared pairs) are passed as they are.

    Without it Prefect walks every element of every task input looking for futures
    (``visit_collection``), which cost more than the alignment itself (2.7 s per 400
    prepared pairs vs 0.25 s to align them). Prefect's own class does not survive
    pickling (it comes back wrapped twice, as a 1-tuple), which process-pool and Dask
    workers need, hence ``__getnewargs__``."""

    __slots__ = ()

    def __getnewargs__(self):
        return (self[0],)


def _retry_on_db_error(task, task_run, state) -> bool:  # noqa: ARG001 - Prefect's signature
    """Retry only when MongoDB was unreachable: other errors are bugs or bad data, retrying won't help."""
    try:
        state.result()
    except DB_ERRORS:
        return True
    except Exception:  # noqa: BLE001
        return False
    return False


DB_TASK = dict(cache_policy=NO_CACHE, retries=4, retry_delay_seconds=exponential_backoff(backoff_factor=2),
               retry_jitter_factor=0.5, retry_condition_fn=_retry_on_db_error)
COMPUTE_TASK = dict(cache_policy=NO_CACHE)


# ---------------------------------------------------------------------------- helpers (no Prefect)
def seeds_inputs() -> tuple[list[str], str | None]:
    """The bundled demo corpus: seeds/*.txt with seeds/manifest.csv."""
    manifest = SEEDS_DIR / "manifest.csv"
    return [str(SEEDS_DIR)], (str(manifest) if manifest.exists() else None)


def list_files(paths: Sequence[str]) -> list[Path]:
    """Files under the input paths, folders walked recursively and sorted (missing paths kept for rejects)."""
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            out.extend(sorted((f for f in path.rglob("*") if f.is_file()), key=lambda f: str(f)))
        else:
            out.append(path)
    return out


def file_sha256(path: Path) -> str | None:
    try:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()
    except OSError:
        return None


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "newsdedup": __version__}
    for name in ("prefect", "pymongo", "rapidfuzz", "langdetect", "secantusdb", "numpy", "charset-normalizer"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def _chunks(seq: Sequence[Any], n: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def index_dir(settings: Settings, uri: str) -> Path:
    """Where the candidate index of this database lives (keyed by server and database)."""
    key = stable_id(redact_uri(uri), settings.db_name, length=16)
    return settings.home / "index" / f"{settings.db_name}-{key}"


# ---------------------------------------------------------------------------- tasks
@task(name="open-store", **DB_TASK)
def open_store(settings: Settings) -> Store:
    return Store.open(settings)


@task(name="record-run-start", **DB_TASK)
def record_run_start(store: Store, run: dict) -> str:
    """Insert the run's provenance record (status ``running``); returns the run id."""
    store.mark_abandoned_runs()  # earlier runs on this host whose process was killed
    for attempt in range(100):
        n = store.runs_with_prefix(run["run_key"]) + 1 + attempt
        run_id = f"{run['run_key']}-{n}"
        try:
            store.start_run({**run, "run_id": run_id, "run_number": n})
            return run_id
        except DuplicateKeyError:
            continue
    raise RuntimeError("could not allocate a run id")


@task(name="outlet-statistics", task_run_name="outlet-statistics-{label}", **DB_TASK)
def outlet_statistics(store: Store, files: list[str], label: str, manifest: str | None, outlet: str | None,
                      field_map: dict[str, str] | None, directory: Path) -> dict:
    """First pass over the inputs: which documents are new (with their line keys), and per outlet how
    often each line recurs.

    Boilerplate such as «// انتهى //» is learned from line frequencies across an
    outlet's documents, so they are counted (stored documents + this run's new
    ones) before any document is flagged. Only ids and line keys are kept. The stored
    documents' counts come from the file the last run saved (:mod:`~newsdedup.tasks.line_stats`)
    when the database says it is current, else from reading every document.
    """
    new_keys: dict[str, list[str]] = {}  # line keys of the new documents (the second pass reuses them)
    seen: set[str] = set()
    pending: list[tuple[str, str | None, str]] = []
    run_counts: dict[str | None, tuple[int, Counter]] = {}

    def flush() -> None:
        known = store.existing_doc_ids([d for d, _, _ in pending])
        for doc_id, o, text in pending:
            if doc_id in known:
                continue
            keys = new_keys[doc_id] = analyze_mod.line_keys_of(text)
            n, c = run_counts.get(o, (0, Counter()))
            c.update(keys)
            run_counts[o] = (n + 1, c)
        pending.clear()

    for item in iter_inputs(files, field_map=field_map, manifest=manifest, default_outlet=outlet):
        if isinstance(item, Reject) or item.doc_id in seen:
            continue
        seen.add(item.doc_id)
        pending.append((item.doc_id, item.outlet, item.text))
        if len(pending) >= INSERT_BATCH:
            flush()
    flush()
    stored, reused = LineStats.current(directory / LINE_STATS, (store.get_meta("line_stats") or {}).get("token"),
                                       store.line_key_rows, store.counts()["documents"])
    return {"new_keys": new_keys, "stats": merged(stored.of(run_counts), run_counts), "stored": stored,
            "stored_from_file": reused}


def _save_with_token(store: Store, key: str, write: Any, **fields: Any) -> None:
    """Write derived state next to the index with a new token (``write(token)``), then name that token
    in the database's ``meta[key]``: a file another run writes in between no longer matches it and is
    not trusted. (The index, the cluster state and the line counts are all kept this way.)"""
    token = stable_id(key, time.time_ns(), os.getpid())
    write(token)
    store.set_meta(key, {"token": token, **fields})


@task(name="analyze-batch", task_run_name="analyze-{label}", **COMPUTE_TASK)
def analyze_batch(docs: list[dict], outlet_stats: dict, workers: int, label: str) -> list[dict]:
    return analyze_mod.analyze_batch(docs, outlet_stats, workers=workers)


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
    return reuse_mod.prepare_docs(docs, workers=workers)


@task(name="align-batch", task_run_name="align-{label}", **COMPUTE_TASK)
def align_batch(pairs: list, rarity: Any, workers: int, label: str) -> list:
    """Align prepared pairs; ``rarity`` (the index's word frequencies and stock n-grams) weighs the evidence."""
    from newsdedup.tasks.align import align_pairs

    return align_pairs(pairs, rarity=rarity, workers=workers)


@task(name="store-matches", **DB_TASK)
def store_matches(store: Store, rows: list[dict]) -> int:
    return store.save_matches(rows)


@task(name="update-clusters", **DB_TASK)
def update_clusters(store: Store, state: ClusterState, new_rows: list[dict], fresh: list[str]
                    ) -> tuple[list[dict], dict[str, float]]:
    """Recompute the clusters of every passage connected to this run's matches: grown from the stored
    clusters (:func:`grow_clusters`), or rebuilt from all their matches when they cannot be.

    ``state``: the matches and stored clusters before this run (updated here once the writes
    are done, so a retried attempt starts from the same state); ``new_rows``: this run's match
    rows; ``fresh``: this run's documents (all new matches name one). Passages of earlier
    documents are re-pointed here; fresh documents get their passages written afterwards
    with the right ``cluster_id``.
    """
    times: dict[str, float] = {}
    t = time.monotonic()
    fresh_set = set(fresh)
    touched = {d for r in new_rows for d in (r["a_doc_id"], r["b_doc_id"])}
    state.add_matches(new_rows)
    if not touched:
        return [], times
    meta: dict | None = None  # the rebuild reads the segments with the other fields
    attribs: dict = {}
    grown = None
    first = all(d in fresh_set for d in state.documents())  # nothing matched before this run: all are connected
    if not first:
        # clusters grown from the stored ones: nothing to walk, only new passages' documents read
        grown = grow_clusters(state, [r["_id"] for r in new_rows], fresh_set, store.get_clusters,
                              lambda ids: store.get_documents(ids, CLUSTER_DOC_FIELDS))
    if grown is not None:
        clusters, stale, earlier, attribs = grown
        times["cluster_grow"] = round(time.monotonic() - t, 3)
    else:
        clusters, stale, earlier, meta = _rebuild_clusters(store, state, fresh_set, touched, first, attribs, times)
    t = time.monotonic()
    before = state.cluster_spans_of(earlier)  # every stored cluster of the earlier documents
    # the database server writes the clusters while this process works out which passages to re-point
    with ThreadPoolExecutor(max_workers=1) as pool:
        written = pool.submit(store.write_clusters, clusters, stale, dict(state.sha))
        changes: dict = {}
        if earlier:
            # a passage's cluster is the one overlapping it most among all clusters of its document: before,
            # among the stored ones; now, among the recomputed ones and the stored ones not replaced
            spans = reuse_mod.cluster_spans(clusters)
            for d, sp in before.items():
                spans.setdefault(d, []).extend(x for x in sp if x[2] not in stale)
            # a document whose cluster spans are the same set as before keeps every assignment: not read
            changed = [d for d in earlier if set(before.get(d, ())) != set(spans.get(d, ()))]
            segs = meta if meta is not None else store.get_documents(changed, {"segments": 1})
            changes = reuse_mod.passage_cluster_changes(
                (row for d in changed for row in segment_rows(segs.get(d) or {"_id": d})), spans, before)
        shas, _ = written.result()
    times["cluster_write"] = round(time.monotonic() - t, 3)
    t = time.monotonic()
    store.set_passage_clusters(changes)
    for cid in stale:
        state.drop_cluster(cid)
    for c in clusters:
        state.set_cluster(c["cluster_id"], shas[c["cluster_id"]],
                          [(m["doc_id"], m["start"], m["end"]) for m in c["members"]], attribs)
    times["cluster_repoint"] = round(time.monotonic() - t, 3)
    return clusters, times


def _rebuild_clusters(store: Store, state: ClusterState, fresh_set: set[str], touched: set[str], first: bool,
                      attribs: dict, times: dict[str, float]) -> tuple[list[dict], set[str], list[str], dict]:
    """The clusters connected to this run's matches rebuilt from all their matches (the first run, and
    whenever :func:`grow_clusters` cannot grow them): clusters, the stored ids they replace, the
    earlier documents involved, and those documents read with their segments. ``first``: no document
    was matched before this run, so every match is connected and none is walked to."""
    t = time.monotonic()
    if first:
        matches = state.all_matches()
    else:
        seeds = [x for m in state.matches_of(sorted(fresh_set & touched)) for x in match_ends(m)]
        matches = connected_matches(seeds, state.matches_of)
    times["cluster_walk"] = round(time.monotonic() - t, 3)
    t = time.monotonic()
    docs_in = {d for m in matches for d in (m["a_doc_id"], m["b_doc_id"])}
    # the segments too: the earlier documents whose passages change cluster are re-pointed from them
    meta = store.get_documents(docs_in, {**CLUSTER_DOC_FIELDS, "segments": 1})
    objs = [reuse_mod.match_from_row(m) for m in matches]
    clusters = build_clusters(objs, meta, attribs)
    # the passages these components had before this run: the stored clusters naming one are replaced
    old = [m for m in objs if m.a_doc_id not in fresh_set and m.b_doc_id not in fresh_set]
    earlier = sorted(docs_in - fresh_set)
    stale = stale_clusters(old, state.cluster_spans_of)
    times["cluster_build"] = round(time.monotonic() - t, 3)
    return clusters, stale, earlier, meta


@task(name="update-derivations", **DB_TASK)
def update_derivations(store: Store, state: ClusterState, new_rows: list[dict], run_id: str) -> int:
    """The derivation of every document pair this run's matches name (:func:`~newsdedup.tasks.derivation.
    run_derivations`), written; returns how many pairs were new."""
    return store.write_derivations(run_derivations(state, new_rows, store.get_documents, run_id))


@task(name="store-passages", task_run_name="store-passages-{label}", **DB_TASK)
def store_passages(store: Store, doc_ids: list[str], spans: dict, redo: bool, label: str) -> tuple[int, int]:
    """Write the passages of documents from their stored segments, with their cluster ids."""
    docs = store.get_documents(doc_ids, {"doc_id": 1, "external_id": 1, "outlet": 1, "text": 1, "segments": 1})
    passages = [p for i in doc_ids if i in docs
                for p in analyze_mod.expand_passages(docs[i], spans.get(i, ()))]
    if redo:
        store.delete_passages_of(doc_ids)  # written by a run that was killed: rewrite them whole
    store.insert_new("passages", passages)
    return len(passages), sum(p["boilerplate"] for p in passages)


@task(name="record-run-end", **DB_TASK)
def record_run_end(store: Store, run_id: str, fields: dict) -> None:
    store.update_run(run_id, fields)


# ---------------------------------------------------------------------------- stages
def _read_stage(store: Store, files: list[str], run_id: str, manifest: str | None, outlet: str | None,
                field_map: dict[str, str] | None, skipped_names: list[str], batch_size: int, workers: int,
                directory: Path) -> dict:
    """Two passes over the inputs: outlet statistics, then analyze and insert new documents and rejects;
    the stored documents' line counts, now with the inserted ones, are saved for the next run."""
    first = outlet_statistics(store, files, f"{len(files)}-files", manifest, outlet, field_map, directory)
    new_keys = first["new_keys"]
    stats_all = first["stats"]
    line_stats: LineStats = first["stored"]
    seq = store.next_ingest_seq()
    input_files: list[InputFile] = []
    counts = Counter()
    inserted: list[str] = []
    rejects: list[dict] = []
    batch: list[dict] = []
    futures: list[tuple[str, Any]] = []
    skipped = set(skipped_names)
    seen: set[str] = set()

    def submit() -> None:
        if not batch:
            return
        keys = {k for d in batch for k in d["line_keys"]}
        sub = {}
        for o in {d.get("outlet") for d in batch}:
            total, c = stats_all.get(o, (0, {}))
            sub[o] = (total, {k: c[k] for k in keys if k in c})
        label = f"docs-{counts['documents_read'] - len(batch) + 1}-{counts['documents_read']}"
        futures.append((label, batch.copy(), analyze_batch.submit(quote(batch.copy()), quote(sub), workers, label)))
        batch.clear()

    def drain(limit: int) -> None:
        while len(futures) > limit:
            label, docs, fut = futures.pop(0)
            analysis = {f["doc_id"]: f for f in fut.result()}
            records = [{**d, **analysis[d["doc_id"]]} for d in docs]
            done = store_documents(store, quote(records), label)
            inserted.extend(done)
            done_set = set(done)
            line_stats.add_all((r["outlet"], r["ingest_seq"], r["line_keys"]) for r in records if r["_id"] in done_set)

    for item in iter_inputs(files, field_map=field_map, manifest=manifest, default_outlet=outlet,
                            input_files=input_files):
        if isinstance(item, Reject):
            if skipped and "manifest" in item.reason and any(name in item.reason for name in skipped):
                continue  # the manifest names a file already ingested by an earlier run
            counts["rejects"] += 1
            rid = stable_id(item.source_path, item.record, item.reason)
            rejects.append({"_id": rid, "reject_id": rid, "source_path": item.source_path, "record": item.record,
                            "reason": item.reason, "run_id": run_id})
            if len(rejects) >= INSERT_BATCH:
                counts["rejects_new"] += store_rejects(store, quote(rejects))
                rejects.clear()
            continue
        doc: Document = item
        counts["documents_read"] += 1
        if doc.doc_id in seen or doc.doc_id not in new_keys:
            counts["documents_known" if doc.doc_id not in seen else "documents_duplicate_in_run"] += 1
            continue
        seen.add(doc.doc_id)
        batch.append({
            "_id": doc.doc_id, "doc_id": doc.doc_id, "external_id": doc.external_id,
            "source_path": doc.source_path, "source_kind": doc.source_kind, "record": doc.record,
            "outlet": doc.outlet, "title": doc.title, "url": doc.url,
            "published": doc.published, "published_raw": doc.published_raw,
            "published_source": "input" if doc.published else None, "language": doc.language,
            "text": doc.text, "content_sha256": doc.content_sha256, "encoding": doc.encoding,
            "notes": list(doc.notes), "run_id": run_id, "ingest_seq": seq,
            "line_keys": new_keys[doc.doc_id],
        })
        seq += 1
        if len(batch) >= batch_size:
            submit()
            drain(2)
    submit()
    drain(0)
    if rejects:
        counts["rejects_new"] += store_rejects(store, quote(rejects))
    counts["documents_new"] = len(inserted)
    counts["input_files"] = len(input_files)
    if inserted or not first["stored_from_file"]:
        _save_with_token(store, "line_stats", lambda token: line_stats.save(directory / LINE_STATS, token),
                         documents=line_stats.n_docs, max_seq=line_stats.max_seq)
    return {"stats": dict(counts), "inserted": inserted,
            "input_files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in input_files]}


def _load_index(store: Store, directory: Path, exclude: set[str], logger) -> tuple[CandidateIndex, Any]:
    """The on-disk index and prepared-document store if they belong to this database's current
    state (their token matches the one stored in the database), else both rebuilt from the store."""
    meta = store.get_meta("index") or {}
    token_file = directory / "TOKEN"
    token = token_file.read_text().strip() if token_file.exists() else None
    if meta.get("token") and token == meta.get("token"):
        try:
            return CandidateIndex.load(directory), reuse_mod.PreparedStore(directory / "prepared")
        except ValueError as exc:  # written by an older version: rebuilt below
            logger.info("%s", exc)
    shutil.rmtree(directory / "prepared", ignore_errors=True)
    prepared = reuse_mod.PreparedStore(directory / "prepared")
    index = CandidateIndex()
    ids = [i for i in store.all_doc_ids() if i not in exclude]
    logger.info("rebuilding the candidate index from %d stored documents", len(ids))
    for chunk in _chunks(ids, 1000):
        batch = reuse_mod.prepare_docs(store.get_documents(chunk, reuse_mod.DOC_FIELDS).values())
        index.add(batch, commit=False)
        for p in batch:
            prepared.put(p)
    index.commit()
    return index, prepared


def _save_index(store: Store, index: CandidateIndex, prepared: Any, directory: Path) -> None:
    """Save the index and the prepared store, then name a new token in the file and the database.
    The old token file goes first: a run killed halfway through the writes leaves a mix of old and
    new files, which the next run must rebuild rather than trust."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "TOKEN").unlink(missing_ok=True)
    index.save(directory)
    prepared.save()
    _save_with_token(store, "index", (directory / "TOKEN").write_text, documents=len(index))


def _load_cluster_state(store: Store, directory: Path, logger) -> ClusterState:
    """The cluster state saved by the last run if the database says it is current, else rebuilt
    from the database; then marked not current until :func:`_save_cluster_state` (matches and
    clusters are about to change)."""
    state = ClusterState.load(directory / CLUSTER_STATE, (store.get_meta("cluster_state") or {}).get("token"))
    if state is None:
        logger.info("rebuilding the cluster state from the stored matches and clusters")
        state = ClusterState.from_rows(store.all_matches(), store.cluster_memberships())
    store.set_meta("cluster_state", {"token": None})
    return state


def _save_cluster_state(store: Store, state: ClusterState, directory: Path) -> None:
    _save_with_token(store, "cluster_state", lambda token: state.save(directory / CLUSTER_STATE, token),
                     matches=state.n_matches, clusters=state.n_clusters)


def _reuse_stage(store: Store, directory: Path, run_id: str, work: list[str], batch_size: int,
                 workers: int, logger) -> dict:
    """Index ``work`` documents, align them with their candidates, store the matches.

    Two passes. First every document of the run is prepared (once, appended to the prepared
    store on disk next to the index) and indexed, so that document frequencies, caps and the stock-phrase list are
    those of the whole corpus whatever the batch order. Then batch after batch: candidate
    partners among documents indexed up to the end of the batch (each pair once), their
    alignment, the matches stored. Memory holds a bounded LRU of prepared documents."""
    times = {"reuse_prepare_index": 0.0, "reuse_candidates": 0.0, "reuse_partners": 0.0, "reuse_align": 0.0,
             "reuse_store": 0.0}
    if not work:
        return {"matches_new": 0, "pairs": 0, "rows": [], "pending": None, "saved": None, "timings": times}
    index, spill = _load_index(store, directory, set(work), logger)
    cache: OrderedDict[str, Any] = OrderedDict()  # prepared documents, least recently used first
    rows: list[dict] = []  # this run's matches, as the cluster stage reads them
    writing = None  # the previous batch's matches, being stored
    matches_new = pairs_total = 0
    ext_ids: dict[str, str] = {}
    fields = {**reuse_mod.DOC_FIELDS, "external_id": 1}
    batches = [list(ids) for ids in _chunks(work, batch_size)]

    def keep(p: Any) -> None:
        cache[p.doc_id] = p
        cache.move_to_end(p.doc_id)
        while len(cache) > PREPARED_CACHE:  # memory stays bounded (~25 KB per prepared document)
            cache.popitem(last=False)

    try:
        t = time.monotonic()
        for b, ids in enumerate(batches):
            docs = store.get_documents(ids, fields)
            batch_docs = [docs[i] for i in ids if i in docs]
            prepared = prepare_batch(quote(batch_docs), workers, f"index-b{b + 1}")
            for d, p in zip(batch_docs, prepared):
                spill.put(p)
                keep(p)
                ext_ids[d["doc_id"]] = d["external_id"]
            index.add([p for p in prepared if p.doc_id not in index], commit=False)
        index.commit()
        rarity = index.rarity()  # document frequencies of the whole corpus, this run's documents included
        times["reuse_prepare_index"] += time.monotonic() - t

        for b, ids in enumerate(batches):
            t = time.monotonic()
            prepared = [p for p in (_cached(i, cache, spill, keep) for i in ids) if p is not None]
            upto = max((index.position(p.doc_id) for p in prepared), default=-1) + 1
            pairs = index.candidates(prepared, upto=upto)
            pairs_total += len(pairs)
            t1 = time.monotonic()
            live: dict[str, Any] = {}  # the batch's documents and partners, pinned while it aligns
            for x in sorted({x for pair in pairs for x in pair}):
                p = _cached(x, cache, spill, keep)
                if p is not None:
                    live[x] = p
            missing = sorted({x for pair in pairs for x in pair} - live.keys())  # documents of earlier runs
            if missing:
                stored = list(store.get_documents(missing, fields).values())
                for d, p in zip(stored, prepare_batch(quote(stored), workers, f"partners-b{b + 1}")):
                    spill.put(p)
                    keep(p)
                    live[p.doc_id] = p
                    ext_ids[d["doc_id"]] = d["external_id"]
            todo = [p for p in pairs if p[0] in live and p[1] in live]
            t2 = time.monotonic()
            # in-process workers fork inside one task per batch; otherwise chunks go to the task runner
            size = max(1, len(todo)) if workers > 1 else ALIGN_CHUNK
            futures = [align_batch.submit(quote([(live[x], live[y]) for x, y in chunk]), quote(rarity), workers,
                                          f"b{b + 1}-pairs-{k * size + 1}")
                       for k, chunk in enumerate(_chunks(todo, size))]
            found = [m for fut in futures for m in fut.result()]
            t3 = time.monotonic()
            if writing is not None:
                matches_new += writing.result()
            batch_rows = reuse_mod.match_rows(found, ext_ids, run_id)
            # written while the next batch aligns: the database server works while the aligner does
            writing = _write_behind(store_matches, store, quote(batch_rows))
            rows.extend({k: r[k] for k in MATCH_KEYS} for r in batch_rows)
            t4 = time.monotonic()
            times["reuse_candidates"] += t1 - t
            times["reuse_partners"] += t2 - t1
            times["reuse_align"] += t3 - t2
            times["reuse_store"] += t4 - t3
    except BaseException:
        spill.close()
        raise
    # The caller clusters while the last batch's matches are still being written (the cluster stage reads
    # no match from the database) and while the index files are saved (a thread: the writes release the
    # GIL), and waits for both, ``pending`` and ``saved``, before it saves the cluster state.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="save-index")
    saved = pool.submit(_save_and_close, store, index, spill, directory)
    pool.shutdown(wait=False)
    return {"matches_new": matches_new, "pairs": pairs_total, "rows": rows, "pending": writing, "saved": saved,
            "timings": {k: round(v, 3) for k, v in times.items()}}


def _save_and_close(store: Store, index: CandidateIndex, spill: Any, directory: Path) -> None:
    try:
        _save_index(store, index, spill, directory)
    finally:
        spill.close()


def _write_behind(db_task, *args: Any) -> Any:
    """Start a database-writing task so the flow goes on while the server writes, when the task
    runner runs tasks in this process (threads share the client); elsewhere (Dask: a client does
    not travel to another process) run it here and now. Either way ``.result()`` gives its value."""
    ctx = FlowRunContext.get()
    if ctx is not None and isinstance(ctx.task_runner, ThreadPoolTaskRunner):
        return db_task.submit(*args)
    done: Future = Future()
    done.set_result(db_task(*args))
    return done


def _cached(doc_id: str, cache: OrderedDict, spill: Any, keep: Any) -> Any:
    """A prepared document from the LRU cache or the prepared store on disk (None if neither has it)."""
    p = cache.get(doc_id)
    if p is not None:
        cache.move_to_end(doc_id)
        return p
    p = spill.get(doc_id)
    if p is not None:
        keep(p)
    return p


def _passage_stage(store: Store, work: list[str], redo: set[str], clusters: list[dict]) -> tuple[int, int]:
    """Write the passages of this run's documents (and of killed runs') with their final cluster ids."""
    spans = reuse_mod.cluster_spans(clusters)
    n = n_bp = 0
    writing: deque = deque()  # two batches in flight: one is read and expanded while the server inserts the other
    chunks = [list(ids) for ids in _chunks(work, PASSAGE_BATCH)]
    for k, ids in enumerate(chunks):
        sub = {i: spans[i] for i in ids if i in spans}
        writing.append(_write_behind(store_passages, store, ids, quote(sub), any(i in redo for i in ids),
                                     f"docs-{k * PASSAGE_BATCH + 1}-{k * PASSAGE_BATCH + len(ids)}"))
        while len(writing) > 1 or (writing and k + 1 == len(chunks)):
            a, bp = writing.popleft().result()
            n += a
            n_bp += bp
    return n, n_bp


def _publish_artifacts(store: Store, counts: dict, totals: dict, run_id: str) -> None:
    rows = [{"what": k, "this run": counts.get(k, 0), "in database": totals.get(k, "")}
            for k in ("documents", "passages", "boilerplate", "matches", "clusters", "derivations", "rejects")]
    create_table_artifact(key="ingest-counts", table=rows, description=f"newsdedup run {run_id}: counts")
    top = store.top_clusters(10, members=False, kind="claim")  # claims: not templates, formulae, own reuse
    lines = [f"# Top reused claims after run `{run_id}`", ""]
    if not top:
        lines.append("No passage is shared between documents yet.")
    for i, c in enumerate(top, 1):
        fs = c.get("first_seen") or {}
        rep = (c.get("representative") or "").replace("\n", " ")
        if len(rep) > 240:
            rep = rep[:240] + "…"
        conf = c.get("confidence")
        lines += [f"## {i}. {c.get('n_outlets', 0)} outlets, {c.get('size', 0)} passages"
                  + (f", confidence {conf:.2f}" if conf is not None else ""),
                  f"> {rep}", "",
                  f"- outlets: {', '.join(o or '(unknown)' for o in c.get('outlets') or [])}",
                  f"- first seen: {fs.get('outlet') or '(unknown outlet)'} on {fs.get('published') or 'unknown date'}"
                  f" (document `{fs.get('doc_id')}`)",
                  f"- attribution: {c.get('attribution') or '—'}", ""]
    create_markdown_artifact(key="top-claims", markdown="\n".join(lines),
                             description="Most widely reused passages")


def _deployment_id() -> str | None:
    from prefect.runtime import deployment

    return str(deployment.id) if deployment.id else None


def _run_name() -> str:
    params = runtime_flow_run.parameters or {}
    paths = params.get("paths") or ["seeds"]
    first = Path(str(paths[0])).name or str(paths[0])
    more = f"+{len(paths) - 1}" if len(paths) > 1 else ""
    return f"ingest-{first}{more}-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"


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
    timings: dict[str, float] = {}

    files = list_files(paths)
    listed = [{"path": str(f), "sha256": file_sha256(f)} for f in files]
    known = store.known_inputs([x["sha256"] for x in listed if x["sha256"]])
    params = {"paths": paths, "manifest": manifest, "outlet": outlet, "field_map": field_map,
              "batch_size": batch_size}
    run_key = stable_id(params, sorted((x["path"], x["sha256"]) for x in listed), length=16)
    started = datetime.now(timezone.utc)
    run_id = record_run_start(store, {
        "run_key": run_key, "status": "running", "started_at": started, "ended_at": None,
        "flow_run_id": str(runtime_flow_run.id) if runtime_flow_run.id else None,
        "flow_run_name": runtime_flow_run.name, "deployment_id": _deployment_id(),
        "parameters": {**params, "db": settings.db_name},
        "database": {"uri": redact_uri(uri), "name": settings.db_name, "embedded": settings.embedded},
        "inputs": [{**x, "skipped_as_known": x["sha256"] in known} for x in listed],
        "versions": package_versions(), "host": socket.gethostname(), **process_identity(),
    })
    logger.info("run %s: %d input files (%d already ingested)", run_id, len(files),
                len(known & {x["sha256"] for x in listed}))
    try:
        todo = [str(f) for f, x in zip(files, listed) if x["sha256"] not in known]
        skipped_names = [f.name for f, x in zip(files, listed) if x["sha256"] in known]
        read = {"stats": {}, "input_files": [], "inserted": []}
        if todo or not files:
            read = _read_stage(store, todo if files else paths, run_id, manifest, outlet, field_map,
                               skipped_names, batch_size, workers, index_dir(settings, uri))
        timings["read_analyze"] = round(time.monotonic() - t0, 3)

        with store.lock("reuse"):
            # documents of runs that were killed before they finished are completed here
            orphans = store.unfinished_runs(exclude=run_id)
            redo = [i for i in store.doc_ids_of_runs(orphans) if i not in set(read["inserted"])]
            work = list(read["inserted"]) + redo
            t = time.monotonic()
            directory = index_dir(settings, uri)
            state = _load_cluster_state(store, directory, logger) if work else None
            reuse = _reuse_stage(store, directory, run_id, work, batch_size, workers, logger)
            timings["reuse"] = round(time.monotonic() - t, 3)
            timings.update(reuse["timings"])
            t = time.monotonic()
            clusters: list[dict] = []
            derivations_new = 0
            try:
                if state is not None:
                    copied = [r for r in reuse["rows"] if r["method"] != REWRITE]  # retold sentences: not clustered
                    clusters, cluster_times = update_clusters(store, quote(state), quote(copied), quote(work))
                    timings.update(cluster_times)
                    t_d = time.monotonic()
                    derivations_new = update_derivations(store, quote(state), quote(reuse["rows"]), run_id)
                    timings["derivations"] = round(time.monotonic() - t_d, 3)
                if reuse["pending"] is not None:
                    reuse["matches_new"] += reuse["pending"].result()
            finally:  # the index is saved before the lock is let go, even when clustering failed
                if reuse["saved"] is not None:
                    wait([reuse["saved"]])
            if reuse["saved"] is not None:
                reuse["saved"].result()
            if state is not None:
                _save_cluster_state(store, state, directory)
            timings["cluster"] = round(time.monotonic() - t, 3)
            t = time.monotonic()
            passages_new, boilerplate_new = _passage_stage(store, work, set(redo), clusters)
            timings["passages"] = round(time.monotonic() - t, 3)
            if orphans:
                store.mark_runs_recovered(orphans, run_id)
        store.mark_inputs_done(read["input_files"], run_id)

        st = read["stats"]
        counts = {"documents": st.get("documents_new", 0), "documents_read": st.get("documents_read", 0),
                  "documents_known": st.get("documents_known", 0), "passages": passages_new,
                  "boilerplate": boilerplate_new, "matches": reuse["matches_new"],
                  "candidate_pairs": reuse["pairs"], "clusters": len(clusters), "derivations": derivations_new,
                  "rejects": st.get("rejects", 0),
                  "input_files_read": st.get("input_files", 0), "input_files_skipped": len(skipped_names),
                  "recovered_runs": len(orphans), "recovered_documents": len(redo)}
        # a killed run may have stopped between a write and its running total: count anew after a recovery
        totals = store.recount() if orphans else store.counts()
        timings["total"] = round(time.monotonic() - t0, 3)
        nothing_read = counts["documents_read"] == 0 and counts["rejects"] > 0 and not skipped_names
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
