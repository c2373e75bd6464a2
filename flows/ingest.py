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
import socket
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run as runtime_flow_run
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff
from pymongo.errors import AutoReconnect, ConnectionFailure, DuplicateKeyError, ServerSelectionTimeoutError

from newsdedup import __version__
from newsdedup.config import Settings, load_settings, redact_uri
from newsdedup.db import STATUS_ANALYZED, STATUS_INDEXED, STATUS_INGESTED, Store, resolve_uri, stable_id
from newsdedup.tasks import analyze as analyze_mod
from newsdedup.tasks import reuse as reuse_mod
from newsdedup.tasks.candidates import CandidateIndex
from newsdedup.tasks.cluster import build_clusters
from newsdedup.tasks.ingest import Document, InputFile, Reject, iter_inputs

SEEDS_DIR = Path(os.environ.get("NEWSDEDUP_SEEDS") or Path(__file__).resolve().parent.parent / "seeds")
DB_ERRORS = (AutoReconnect, ConnectionFailure, ServerSelectionTimeoutError)
INSERT_BATCH = 500
ALIGN_CHUNK = 400


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
    for attempt in range(100):
        n = store.runs_with_prefix(run["run_key"]) + 1 + attempt
        run_id = f"{run['run_key']}-{n}"
        try:
            store.start_run({**run, "run_id": run_id, "run_number": n})
            return run_id
        except DuplicateKeyError:
            continue
    raise RuntimeError("could not allocate a run id")


@task(name="read-inputs", task_run_name="read-inputs-{label}", **DB_TASK)
def read_inputs(store: Store, files: list[str], run_id: str, label: str, manifest: str | None,
                outlet: str | None, field_map: dict[str, str] | None, skipped_names: list[str]) -> dict:
    """Stream the inputs, insert new documents (status ``ingested``) and rejects in batches."""
    seq = store.next_ingest_seq()
    input_files: list[InputFile] = []
    docs: list[dict] = []
    rejects: list[dict] = []
    stats = Counter()
    skipped = set(skipped_names)

    def flush_docs() -> None:
        if not docs:
            return
        ids = store.existing_doc_ids([d["_id"] for d in docs])
        fresh = [d for d in docs if d["_id"] not in ids]
        stats["documents_new"] += store.insert_new("documents", fresh)
        stats["documents_known"] += len(docs) - len(fresh)
        docs.clear()

    def flush_rejects() -> None:
        if rejects:
            stats["rejects_new"] += store.insert_new("rejects", rejects)
            rejects.clear()

    seen_in_run: set[str] = set()
    for item in iter_inputs(files, field_map=field_map, manifest=manifest, default_outlet=outlet,
                            input_files=input_files):
        if isinstance(item, Reject):
            if skipped and any(name in item.reason for name in skipped) and "manifest" in item.reason:
                continue  # the manifest names a file already ingested by an earlier run
            stats["rejects"] += 1
            rid = stable_id(item.source_path, item.record, item.reason)
            rejects.append({"_id": rid, "reject_id": rid, "source_path": item.source_path, "record": item.record,
                            "reason": item.reason, "run_id": run_id})
            if len(rejects) >= INSERT_BATCH:
                flush_rejects()
            continue
        doc: Document = item
        stats["documents_read"] += 1
        if doc.doc_id in seen_in_run:
            stats["documents_duplicate_in_run"] += 1
            continue
        seen_in_run.add(doc.doc_id)
        docs.append({
            "_id": doc.doc_id, "doc_id": doc.doc_id, "external_id": doc.external_id,
            "source_path": doc.source_path, "source_kind": doc.source_kind, "record": doc.record,
            "outlet": doc.outlet, "title": doc.title, "url": doc.url,
            "published": doc.published, "published_raw": doc.published_raw,
            "published_source": "input" if doc.published else None,
            "language": doc.language, "lang": None, "lang_confidence": None,
            "text": doc.text, "clean_text": None, "content_sha256": doc.content_sha256,
            "encoding": doc.encoding, "notes": list(doc.notes), "run_id": run_id, "ingest_seq": seq,
            "status": STATUS_INGESTED, "line_keys": analyze_mod.line_keys_of(doc.text),
        })
        seq += 1
        if len(docs) >= INSERT_BATCH:
            flush_docs()
    flush_docs()
    flush_rejects()
    stats["input_files"] = len(input_files)
    return {"stats": dict(stats), "input_files": [{"path": f.path, "size": f.size, "sha256": f.sha256}
                                                  for f in input_files]}


@task(name="analyze-batch", task_run_name="analyze-{label}", **COMPUTE_TASK)
def analyze_batch(docs: list[dict], outlet_stats: dict, label: str) -> tuple[list[dict], list[dict]]:
    return analyze_mod.analyze_batch(docs, outlet_stats)


@task(name="store-analysis", task_run_name="store-analysis-{label}", **DB_TASK)
def store_analysis(store: Store, fields: list[dict], passages: list[dict], label: str) -> int:
    store.delete_passages_of([f["doc_id"] for f in fields])  # leftovers of a killed run
    store.save_analysis(fields, passages)
    return len(passages)


@task(name="align-batch", task_run_name="align-{label}", **COMPUTE_TASK)
def align_batch(pairs: list, label: str) -> list:
    from newsdedup.tasks.align import align_pairs

    return align_pairs(pairs)


@task(name="store-matches", **DB_TASK)
def store_matches(store: Store, rows: list[dict]) -> int:
    return store.save_matches(rows)


@task(name="update-clusters", **DB_TASK)
def update_clusters(store: Store, touched: list[str]) -> dict:
    """Recompute the clusters of every match component that touches ``touched`` documents."""
    if not touched:
        return {"clusters_changed": 0, "components_docs": 0}
    docs_in, matches = store.component_matches(touched)
    from newsdedup.tasks.align import Match

    objs = [Match(m["a_doc_id"], m["a_start"], m["a_end"], m["b_doc_id"], m["b_start"], m["b_end"],
                  m["score"], m["method"]) for m in matches]
    meta = store.get_documents(docs_in, {"external_id": 1, "outlet": 1, "published": 1, "ingest_seq": 1,
                                         "text": 1})
    clusters = build_clusters(objs, meta)
    store.replace_clusters(docs_in, clusters)
    return {"clusters_changed": len(clusters), "components_docs": len(docs_in)}


@task(name="record-run-end", **DB_TASK)
def record_run_end(store: Store, run_id: str, fields: dict) -> None:
    store.update_run(run_id, fields)


# ---------------------------------------------------------------------------- stages
def _analysis_stage(store: Store, batch_size: int, logger) -> tuple[int, int]:
    """Analyze every ``ingested`` document; returns (passages stored, of which boilerplate)."""
    outlets = store.db.documents.distinct("outlet", {"status": STATUS_INGESTED})
    if not outlets and not store.count("documents", {"status": STATUS_INGESTED}):
        return 0, 0
    stats = store.outlet_line_stats(outlets + ([None] if None not in outlets else []))
    n = n_bp = 0
    futures = []
    proj = {"doc_id": 1, "external_id": 1, "outlet": 1, "title": 1, "text": 1, "language": 1, "published": 1,
            "published_source": 1, "line_keys": 1}
    for i, batch in enumerate(store.documents_by_status(STATUS_INGESTED, proj, batch_size)):
        keys = {k for d in batch for k in d.get("line_keys") or ()}
        sub = {}
        for o in {d.get("outlet") for d in batch}:
            total, counts = stats.get(o, (0, {}))
            sub[o] = (total, {k: counts[k] for k in keys if k in counts})
        label = f"docs-{i * batch_size + 1}-{i * batch_size + len(batch)}"
        futures.append((label, analyze_batch.submit(batch, sub, label)))
        while len(futures) >= 4 or (futures and futures[0][1].state.is_completed()):
            label0, fut = futures.pop(0)
            fields, passages = fut.result()
            n += store_analysis(store, fields, passages, label0)
            n_bp += sum(f["n_boilerplate"] for f in fields)
    for label0, fut in futures:
        fields, passages = fut.result()
        n += store_analysis(store, fields, passages, label0)
        n_bp += sum(f["n_boilerplate"] for f in fields)
    logger.info("analysis stored %d passages (%d boilerplate)", n, n_bp)
    return n, n_bp


def _load_index(store: Store, directory: Path, logger) -> CandidateIndex:
    """The on-disk index if it belongs to this database's current state, else rebuilt from the store."""
    meta = store.get_meta("index") or {}
    index = CandidateIndex.load(directory)
    token_file = directory / "TOKEN"
    token = token_file.read_text().strip() if token_file.exists() else None
    indexed = store.count("documents", {"status": STATUS_INDEXED})
    if meta.get("token") and token == meta.get("token") and len(index) == indexed:
        return index
    logger.info("rebuilding the candidate index from %d stored documents", indexed)
    index = CandidateIndex()
    for batch in store.documents_by_status(STATUS_INDEXED, reuse_mod.DOC_FIELDS, 2000):
        index.add(reuse_mod.prepare_docs(batch))
    return index


def _save_index(store: Store, index: CandidateIndex, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    index.save(directory)
    token = stable_id(len(index), time.time_ns(), os.getpid())
    (directory / "TOKEN").write_text(token)
    store.set_meta("index", {"token": token, "documents": len(index)})


def _reuse_stage(store: Store, settings: Settings, uri: str, run_id: str, batch_size: int, logger) -> dict:
    pending = store.doc_ids_by_status(STATUS_ANALYZED)
    if not pending:
        return {"matches_new": 0, "pairs": 0, "touched": []}
    directory = index_dir(settings, uri)
    index = _load_index(store, directory, logger)
    cache: dict[str, Any] = {}
    touched: set[str] = set()
    matches_new = pairs_total = 0
    ext_ids: dict[str, str] = {}
    for b, ids in enumerate(_chunks(pending, batch_size)):
        docs = store.get_documents(ids, {**reuse_mod.DOC_FIELDS, "external_id": 1})
        batch_docs = [docs[i] for i in ids if i in docs]
        prepared = reuse_mod.prepare_docs(batch_docs)
        for d, p in zip(batch_docs, prepared):
            cache[d["doc_id"]] = p
            ext_ids[d["doc_id"]] = d["external_id"]
        index.add([p for d, p in zip(batch_docs, prepared) if d["doc_id"] not in index])
        pairs = index.candidates(prepared)
        pairs_total += len(pairs)
        missing = sorted({x for pair in pairs for x in pair if x not in cache})
        if missing:
            more = store.get_documents(missing, {**reuse_mod.DOC_FIELDS, "external_id": 1})
            for d in more.values():
                cache[d["doc_id"]] = reuse_mod.prepare_docs([d])[0]
                ext_ids[d["doc_id"]] = d["external_id"]
        futures = [align_batch.submit([(cache[a], cache[c]) for a, c in chunk], f"b{b + 1}-pairs-{k * ALIGN_CHUNK + 1}")
                   for k, chunk in enumerate(_chunks([p for p in pairs if p[0] in cache and p[1] in cache],
                                                     ALIGN_CHUNK))]
        found = [m for fut in futures for m in fut.result()]
        rows = reuse_mod.match_rows(found, ext_ids, run_id)
        matches_new += store_matches(store, rows)
        for m in found:
            touched.update((m.a_doc_id, m.b_doc_id))
        # keep memory bounded: drop prepared docs of earlier batches
        if len(cache) > 4 * batch_size:
            for k in list(cache)[: len(cache) - 2 * batch_size]:
                cache.pop(k, None)
    _save_index(store, index, directory)
    store.set_status(pending, STATUS_INDEXED)
    return {"matches_new": matches_new, "pairs": pairs_total, "touched": sorted(touched)}


def _publish_artifacts(store: Store, counts: dict, totals: dict, run_id: str) -> None:
    rows = [{"what": k, "this run": counts.get(k, 0), "in database": totals.get(k, "")}
            for k in ("documents", "passages", "boilerplate", "matches", "clusters", "rejects")]
    create_table_artifact(key="ingest-counts", table=rows, description=f"newsdedup run {run_id}: counts")
    top = list(store.db.clusters.find({}, {"members.text": 0}).sort([("n_outlets", -1), ("size", -1),
                                                                     ("cluster_id", 1)]).limit(10))
    lines = [f"# Top reused claims after run `{run_id}`", ""]
    if not top:
        lines.append("No passage is shared between documents yet.")
    for i, c in enumerate(top, 1):
        fs = c.get("first_seen") or {}
        rep = (c.get("representative") or "").replace("\n", " ")
        if len(rep) > 240:
            rep = rep[:240] + "…"
        lines += [f"## {i}. {c.get('n_outlets', 0)} outlets, {c.get('size', 0)} passages",
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
           field_map: dict[str, str] | None = None, db: str | None = None, batch_size: int = 1000) -> dict:
    """Run the whole pipeline on ``paths`` (default: the bundled seeds) and return a summary."""
    logger = get_run_logger()
    t0 = time.monotonic()
    settings = load_settings(db)
    if not paths:
        paths, default_manifest = seeds_inputs()
        manifest = manifest or default_manifest
    paths = [str(p) for p in paths]
    uri = resolve_uri(settings)
    store = open_store(settings)
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
        "versions": package_versions(), "host": socket.gethostname(), "pid": os.getpid(),
    })
    logger.info("run %s: %d input files (%d already ingested)", run_id, len(files), len(known & {x["sha256"] for x in listed}))
    try:
        todo = [str(f) for f, x in zip(files, listed) if x["sha256"] not in known]
        skipped_names = [f.name for f, x in zip(files, listed) if x["sha256"] in known]
        read = {"stats": {}, "input_files": []}
        if todo or not files:
            read = read_inputs(store, todo if files else paths, run_id, f"{len(todo)}-files", manifest, outlet,
                               field_map, skipped_names)
        timings["read"] = round(time.monotonic() - t0, 3)

        t = time.monotonic()
        passages_new, boilerplate_new = _analysis_stage(store, batch_size, logger)
        timings["analyze"] = round(time.monotonic() - t, 3)

        t = time.monotonic()
        with store.lock("reuse"):
            reuse = _reuse_stage(store, settings, uri, run_id, batch_size, logger)
            timings["reuse"] = round(time.monotonic() - t, 3)
            t = time.monotonic()
            cl = update_clusters(store, reuse["touched"])
            timings["cluster"] = round(time.monotonic() - t, 3)
        store.mark_inputs_done(read["input_files"], run_id)

        st = read["stats"]
        counts = {"documents": st.get("documents_new", 0), "documents_read": st.get("documents_read", 0),
                  "documents_known": st.get("documents_known", 0), "passages": passages_new,
                  "matches": reuse["matches_new"], "candidate_pairs": reuse["pairs"],
                  "clusters": cl["clusters_changed"], "rejects": st.get("rejects", 0),
                  "input_files_read": st.get("input_files", 0), "input_files_skipped": len(skipped_names)}
        totals = store.counts()
        counts["boilerplate"] = boilerplate_new
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
