"""The store: the only module that talks to MongoDB.

Every write is keyed by a deterministic id (``_id``) so re-runs are idempotent:
inserts are unordered bulk inserts that ignore duplicate-key errors, updates are
keyed upserts. Nothing here caches results; Prefect tasks that call it use
``NO_CACHE``.

Write order keeps the database consistent if a run is killed at any point: a
document is inserted before its passages, matches only name stored documents,
and clusters are replaced after their matches are stored. A document's
``status`` (``ingested`` → ``analyzed`` → ``indexed``) tells the next run what
is left to do.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pymongo
from pymongo import MongoClient, ReplaceOne, UpdateOne, WriteConcern
from pymongo.errors import BulkWriteError, CollectionInvalid, DuplicateKeyError, OperationFailure

from .config import Settings, redact_uri

COLLECTIONS = ("documents", "passages", "matches", "clusters", "runs", "rejects", "inputs", "locks", "meta")

STATUS_INGESTED = "ingested"
STATUS_ANALYZED = "analyzed"
STATUS_INDEXED = "indexed"

# Fields of each export kind, in contract order (extra stored fields are not exported).
EXPORT_FIELDS: dict[str, tuple[str, ...]] = {
    "documents": ("doc_id", "external_id", "source_path", "outlet", "title", "url", "published", "lang",
                  "lang_confidence", "text", "clean_text", "content_sha256", "run_id",
                  "encoding", "published_source", "record", "notes"),
    "passages": ("passage_id", "doc_id", "external_id", "outlet", "start", "end", "text", "lang",
                 "boilerplate", "boilerplate_reason", "cluster_id", "line", "sentence", "lang_confidence"),
    "matches": ("a_doc_id", "a_external_id", "a_start", "a_end", "b_doc_id", "b_external_id", "b_start",
                "b_end", "score", "method", "match_id", "run_id"),
    "clusters": ("cluster_id", "size", "outlets", "n_outlets", "first_seen", "representative",
                 "attribution", "members"),
    "rejects": ("source_path", "record", "reason", "run_id"),
}
EXPORT_SORT: dict[str, list[tuple[str, int]]] = {
    "documents": [("external_id", 1), ("doc_id", 1)],
    "passages": [("external_id", 1), ("doc_id", 1), ("start", 1)],
    "matches": [("a_doc_id", 1), ("a_start", 1), ("b_doc_id", 1), ("b_start", 1), ("a_end", 1), ("b_end", 1)],
    "clusters": [("cluster_id", 1)],
    "rejects": [("source_path", 1), ("record", 1), ("reason", 1)],
}

_DOCUMENT_SCHEMA = {
    "$jsonSchema": {
        "bsonType": "object",
        "required": ["doc_id", "external_id", "text", "content_sha256", "status"],
        "properties": {
            "doc_id": {"bsonType": "string"},
            "external_id": {"bsonType": "string"},
            "text": {"bsonType": "string"},
            "content_sha256": {"bsonType": "string"},
            "status": {"enum": [STATUS_INGESTED, STATUS_ANALYZED, STATUS_INDEXED]},
        },
    }
}
_PASSAGE_SCHEMA = {
    "$jsonSchema": {
        "bsonType": "object",
        "required": ["passage_id", "doc_id", "start", "end", "text", "boilerplate"],
        "properties": {
            "start": {"bsonType": "int", "minimum": 0},
            "end": {"bsonType": "int", "minimum": 0},
            "boilerplate": {"bsonType": "bool"},
        },
    }
}

_INDEXES: dict[str, list[tuple[list[tuple[str, int]], dict[str, Any]]]] = {
    "documents": [([("doc_id", 1)], {"unique": True}), ([("external_id", 1)], {}), ([("status", 1)], {}),
                  ([("outlet", 1)], {}), ([("ingest_seq", 1)], {}), ([("content_sha256", 1)], {})],
    "passages": [([("passage_id", 1)], {"unique": True}), ([("doc_id", 1), ("start", 1)], {}),
                 ([("external_id", 1)], {}), ([("cluster_id", 1)], {})],
    "matches": [([("match_id", 1)], {"unique": True}), ([("a_doc_id", 1)], {}), ([("b_doc_id", 1)], {})],
    "clusters": [([("cluster_id", 1)], {"unique": True}), ([("members.doc_id", 1)], {}),
                 ([("n_outlets", -1)], {})],
    "runs": [([("run_id", 1)], {"unique": True}), ([("started_at", -1)], {})],
    "rejects": [([("reject_id", 1)], {"unique": True}), ([("source_path", 1)], {})],
    "inputs": [([("sha256", 1)], {"unique": True})],
}


def stable_id(*parts: Any, length: int = 24) -> str:
    """Deterministic hex id from JSON-serializable parts."""
    raw = json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:length]


def connect(settings: Settings, *, timeout_ms: int = 10_000) -> MongoClient:
    """A client for the configured MongoDB, starting the embedded server when MONGODB_URI is unset."""
    uri = resolve_uri(settings)
    return MongoClient(uri, serverSelectionTimeoutMS=timeout_ms, tz_aware=True, appname="newsdedup")


def resolve_uri(settings: Settings) -> str:
    if settings.mongodb_uri:
        return settings.mongodb_uri
    from .embedded import ensure_server

    return ensure_server(settings.home)


def _ignore_duplicates(exc: BulkWriteError) -> int:
    """Re-raise unless every error is a duplicate key (code 11000); return how many were inserted."""
    details = exc.details or {}
    errors = details.get("writeErrors", [])
    if any(e.get("code") != 11000 for e in errors):
        raise exc
    return int(details.get("nInserted", 0))


class Store:
    """Repository over the newsdedup collections of one database."""

    def __init__(self, client: MongoClient, db_name: str):
        self.client = client
        self.db = client[db_name]
        self.db_name = db_name

    @classmethod
    def open(cls, settings: Settings) -> "Store":
        store = cls(connect(settings), settings.db_name)
        store.ensure_schema()
        return store

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------------ schema
    def ensure_schema(self) -> None:
        """Create collections, validators and unique indexes (idempotent)."""
        existing = set(self.db.list_collection_names())
        validators = {"documents": _DOCUMENT_SCHEMA, "passages": _PASSAGE_SCHEMA}
        for name in COLLECTIONS:
            if name in existing:
                continue
            try:
                if name in validators:
                    self.db.create_collection(name, validator=validators[name], validationLevel="moderate")
                else:
                    self.db.create_collection(name)
            except (CollectionInvalid, OperationFailure):
                pass  # created concurrently by another process
        for name, specs in _INDEXES.items():
            for keys, opts in specs:
                self.db[name].create_index(keys, **opts)

    # ------------------------------------------------------------------ generic
    def insert_new(self, collection: str, docs: Sequence[Mapping[str, Any]]) -> int:
        """Insert documents whose ``_id`` is not stored yet; duplicates are skipped. Returns inserted count."""
        if not docs:
            return 0
        try:
            res = self.db[collection].insert_many(list(docs), ordered=False)
            return len(res.inserted_ids)
        except BulkWriteError as exc:
            return _ignore_duplicates(exc)

    def count(self, collection: str, filt: Mapping[str, Any] | None = None) -> int:
        return self.db[collection].count_documents(dict(filt or {}))

    def counts(self) -> dict[str, int]:
        out = {name: self.count(name) for name in ("documents", "passages", "matches", "clusters", "rejects")}
        out["boilerplate"] = self.count("passages", {"boilerplate": True})
        return out

    # ------------------------------------------------------------------ runs
    def next_ingest_seq(self) -> int:
        last = self.db.documents.find_one({}, {"ingest_seq": 1}, sort=[("ingest_seq", -1)])
        return int(last["ingest_seq"]) + 1 if last and last.get("ingest_seq") is not None else 0

    @property
    def _runs(self):
        """Run records are journaled (``j=True``): a crash right after a run must not lose its status."""
        return self.db.runs.with_options(write_concern=WriteConcern(j=True))

    def start_run(self, run: Mapping[str, Any]) -> None:
        doc = dict(run)
        doc["_id"] = doc["run_id"]
        self._runs.insert_one(doc)

    def update_run(self, run_id: str, fields: Mapping[str, Any]) -> None:
        self._runs.update_one({"_id": run_id}, {"$set": dict(fields)})

    def runs_with_prefix(self, prefix: str) -> int:
        return self.db.runs.count_documents({"run_key": prefix})

    # ------------------------------------------------------------------ inputs
    def known_inputs(self, shas: Iterable[str]) -> set[str]:
        shas = list(shas)
        if not shas:
            return set()
        cur = self.db.inputs.find({"_id": {"$in": shas}, "status": "done"}, {"_id": 1})
        return {d["_id"] for d in cur}

    def mark_inputs_done(self, inputs: Sequence[Mapping[str, Any]], run_id: str) -> None:
        ops = [UpdateOne({"_id": i["sha256"]},
                         {"$set": {"status": "done"},
                          "$setOnInsert": {"sha256": i["sha256"], "path": i["path"], "size": i["size"],
                                           "first_run_id": run_id}}, upsert=True) for i in inputs]
        if ops:
            self.db.inputs.bulk_write(ops, ordered=False)

    # ------------------------------------------------------------------ documents
    def existing_doc_ids(self, ids: Iterable[str]) -> set[str]:
        ids = list(ids)
        found: set[str] = set()
        for i in range(0, len(ids), 5000):
            chunk = ids[i:i + 5000]
            found.update(d["_id"] for d in self.db.documents.find({"_id": {"$in": chunk}}, {"_id": 1}))
        return found

    def documents_by_status(self, status: str, projection: Mapping[str, int] | None = None,
                            batch_size: int = 1000) -> Iterator[list[dict]]:
        """Batches of documents in ``status``, in ingestion order."""
        cur = self.db.documents.find({"status": status}, projection, sort=[("ingest_seq", 1), ("_id", 1)],
                                     batch_size=batch_size)
        batch: list[dict] = []
        for d in cur:
            batch.append(d)
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def doc_ids_by_status(self, status: str) -> list[str]:
        cur = self.db.documents.find({"status": status}, {"_id": 1}, sort=[("ingest_seq", 1), ("_id", 1)])
        return [d["_id"] for d in cur]

    def get_documents(self, ids: Iterable[str], projection: Mapping[str, int] | None = None) -> dict[str, dict]:
        ids = sorted(set(ids))
        out: dict[str, dict] = {}
        for i in range(0, len(ids), 2000):
            for d in self.db.documents.find({"_id": {"$in": ids[i:i + 2000]}}, projection):
                out[d["_id"]] = d
        return out

    def outlet_line_stats(self, outlets: Iterable[str | None]) -> dict[str | None, tuple[int, dict[str, int]]]:
        """Per outlet: (number of documents, {line key: number of documents containing it})."""
        out: dict[str | None, tuple[int, dict[str, int]]] = {}
        for outlet in sorted(set(outlets), key=lambda o: (o is None, o or "")):
            n = 0
            counts: dict[str, int] = {}
            for d in self.db.documents.find({"outlet": outlet}, {"line_keys": 1, "_id": 0}):
                n += 1
                for k in d.get("line_keys") or ():
                    counts[k] = counts.get(k, 0) + 1
            out[outlet] = (n, counts)
        return out

    def save_analysis(self, docs: Sequence[Mapping[str, Any]], passages: Sequence[Mapping[str, Any]]) -> None:
        """Passages first, then the document's fields and status, so a kill leaves a redo-able state."""
        if passages:
            self.insert_new("passages", passages)
        ops = []
        for d in docs:
            fields = {k: v for k, v in d.items() if k not in ("_id", "doc_id")}
            fields["status"] = STATUS_ANALYZED
            ops.append(UpdateOne({"_id": d["doc_id"]}, {"$set": fields}))
        if ops:
            self.db.documents.bulk_write(ops, ordered=False)

    def delete_passages_of(self, doc_ids: Sequence[str]) -> None:
        if doc_ids:
            self.db.passages.delete_many({"doc_id": {"$in": list(doc_ids)}})

    def set_status(self, doc_ids: Sequence[str], status: str) -> None:
        if doc_ids:
            self.db.documents.update_many({"_id": {"$in": list(doc_ids)}}, {"$set": {"status": status}})

    # ------------------------------------------------------------------ matches & clusters
    def save_matches(self, matches: Sequence[Mapping[str, Any]]) -> int:
        return self.insert_new("matches", matches)

    def matches_of_docs(self, doc_ids: Iterable[str]) -> list[dict]:
        ids = list(set(doc_ids))
        out: dict[str, dict] = {}
        for i in range(0, len(ids), 2000):
            chunk = ids[i:i + 2000]
            for m in self.db.matches.find({"$or": [{"a_doc_id": {"$in": chunk}}, {"b_doc_id": {"$in": chunk}}]}):
                out[m["_id"]] = m
        return [out[k] for k in sorted(out)]

    def component_matches(self, seed_doc_ids: Iterable[str]) -> tuple[set[str], list[dict]]:
        """All documents connected to the seeds through matches, and those matches (BFS over the store)."""
        seen: set[str] = set()
        frontier = set(seed_doc_ids)
        matches: dict[str, dict] = {}
        while frontier:
            seen |= frontier
            found = self.matches_of_docs(frontier)
            nxt: set[str] = set()
            for m in found:
                matches[m["_id"]] = m
                for d in (m["a_doc_id"], m["b_doc_id"]):
                    if d not in seen:
                        nxt.add(d)
            frontier = nxt
        return seen, [matches[k] for k in sorted(matches)]

    def replace_clusters(self, doc_ids: set[str], clusters: Sequence[Mapping[str, Any]]) -> None:
        """Replace the clusters touching ``doc_ids`` and re-point their passages' ``cluster_id``."""
        ids = sorted(doc_ids)
        old = set()
        for i in range(0, len(ids), 2000):
            old.update(c["_id"] for c in self.db.clusters.find({"members.doc_id": {"$in": ids[i:i + 2000]}}, {"_id": 1}))
        new_ids = {c["cluster_id"] for c in clusters}
        ops = [ReplaceOne({"_id": c["cluster_id"]}, {**c, "_id": c["cluster_id"]}, upsert=True) for c in clusters]
        if ops:
            self.db.clusters.bulk_write(ops, ordered=False)
        stale = sorted(old - new_ids)
        if stale:
            self.db.clusters.delete_many({"_id": {"$in": stale}})
        # passages: clear then set from member spans
        for i in range(0, len(ids), 2000):
            self.db.passages.update_many({"doc_id": {"$in": ids[i:i + 2000]}, "cluster_id": {"$ne": None}},
                                         {"$set": {"cluster_id": None}})
        pops = []
        for c in clusters:
            for m in c["members"]:
                pops.append(UpdateOne({"doc_id": m["doc_id"], "start": {"$lt": m["end"]}, "end": {"$gt": m["start"]},
                                       "boilerplate": False},
                                      {"$set": {"cluster_id": c["cluster_id"]}}))
        # Cluster ids are stable, so applying updates in a sorted order is deterministic.
        for i in range(0, len(pops), 2000):
            self.db.passages.bulk_write(pops[i:i + 2000], ordered=True)

    def update_many_passage_clusters(self, ops: list) -> None:
        if ops:
            self.db.passages.bulk_write(ops, ordered=True)

    # ------------------------------------------------------------------ locks
    @contextmanager
    def lock(self, name: str, *, ttl: float = 3600.0, wait: float = 3600.0, poll: float = 0.5):
        """A cross-process (and cross-machine) lock in the ``locks`` collection.

        The reuse index and clusters are updated under it, so two concurrent runs
        cannot lose each other's index entries or write conflicting clusters. A
        lock whose holder died expires after ``ttl`` seconds.
        """
        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        deadline = time.monotonic() + wait
        while True:
            now = time.time()
            try:
                self.db.locks.insert_one({"_id": name, "owner": owner, "expires": now + ttl})
                break
            except DuplicateKeyError:
                self.db.locks.delete_one({"_id": name, "expires": {"$lt": now}})
                if time.monotonic() > deadline:
                    raise TimeoutError(f"lock {name!r} is held by another run")
                time.sleep(poll)
        try:
            yield owner
        finally:
            self.db.locks.delete_one({"_id": name, "owner": owner})

    # ------------------------------------------------------------------ meta
    def get_meta(self, key: str) -> dict | None:
        return self.db.meta.find_one({"_id": key})

    def set_meta(self, key: str, fields: Mapping[str, Any]) -> None:
        self.db.meta.update_one({"_id": key}, {"$set": dict(fields)}, upsert=True)

    # ------------------------------------------------------------------ export
    def export(self, kind: str) -> Iterator[dict]:
        """Rows of one export kind, with exactly the contract fields (plus documented extras), sorted."""
        if kind not in EXPORT_FIELDS:
            raise ValueError(f"unknown export kind {kind!r}; choose from {', '.join(EXPORT_FIELDS)}")
        fields = EXPORT_FIELDS[kind]
        proj = {f: 1 for f in fields}
        proj["_id"] = 0
        cur = self.db[kind].find({}, proj, sort=EXPORT_SORT[kind], batch_size=500 if kind == "documents" else 2000)
        for row in cur:
            yield {f: row.get(f) for f in fields}


def uri_with_database(uri: str, db_name: str) -> str:
    """The connection string with ``db_name`` as its default database, so a client opens it directly."""
    base, sep, query = uri.partition("?")
    scheme, _, rest = base.partition("://")
    hosts, slash, path = rest.partition("/")
    if path:
        return uri
    return f"{scheme}://{hosts}/{db_name}{sep}{query}"


def uri_for_display(settings: Settings, redact: bool) -> str:
    uri = uri_with_database(resolve_uri(settings), settings.db_name)
    return redact_uri(uri) if redact else uri
