"""The store: the only module that talks to MongoDB.

Every write is keyed by a deterministic id (``_id``) so re-runs are idempotent:
inserts are unordered bulk inserts that ignore duplicate-key errors, updates are
keyed upserts. Nothing here caches results; Prefect tasks that call it use
``NO_CACHE``.

Write order keeps the database consistent if a run is killed at any point: a
document is inserted complete (analysis included) before its passages, matches
only name stored documents, clusters are replaced after their matches, and
passages are written last with their final ``cluster_id``. Progress is tracked
per run (``runs.status``): the documents of a run that did not finish are
completed by the next one. The hot path is inserts: on the embedded server an
update costs several times an insert.
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

import bson
from pymongo import MongoClient, ReplaceOne, UpdateOne, WriteConcern
from pymongo.errors import BulkWriteError, CollectionInvalid, DuplicateKeyError, OperationFailure

from . import processes
from .config import Settings, redact_uri

# running totals in meta; ``documents`` counts the kept documents, ``duplicates`` the copies of them
TOTALS = ("documents", "duplicates", "passages", "matches", "clusters", "derivations", "rejects")
COLLECTIONS = ("documents", "passages", "matches", "clusters", "derivations", "runs", "rejects", "inputs", "locks",
               "meta")


# Ids per ``$in`` query. The embedded server checks ``$in`` by a linear scan of the list for every
# candidate document, so one query over k ids costs O(k^2): 2,000 ids took ~8 ms per document,
# 25 ids ~0.6 ms (bench/results/scale*.json; docs/scaling.md). Keep every ``$in`` list this short.
IN_CHUNK = 25

# Fields of each export kind, in contract order (extra stored fields are not exported).
EXPORT_FIELDS: dict[str, tuple[str, ...]] = {
    "documents": ("doc_id", "external_id", "source_path", "outlet", "title", "url", "published", "lang",
                  "lang_confidence", "text", "clean_text", "content_sha256", "run_id", "duplicate_of",
                  "encoding", "published_source", "record", "notes", "duplicate_kind"),
    "passages": ("passage_id", "doc_id", "external_id", "outlet", "start", "end", "text", "lang",
                 "boilerplate", "boilerplate_reason", "cluster_id", "line", "sentence", "lang_confidence"),
    "matches": ("a_doc_id", "a_external_id", "a_start", "a_end", "b_doc_id", "b_external_id", "b_start",
                "b_end", "score", "method", "kind", "evidence", "match_id", "run_id", "a_words", "b_words",
                "rare_words"),
    "clusters": ("cluster_id", "kind", "confidence", "size", "outlets", "n_outlets", "first_seen", "representative",
                 "attribution", "members"),
    "derivations": ("a_doc_id", "a_external_id", "b_doc_id", "b_external_id", "a_coverage", "b_coverage",
                    "source_doc_id", "derivation", "derived_doc_id", "strength", "a_copied", "b_copied", "a_words",
                    "b_words", "rare_words", "n_matches", "n_templates", "methods", "run_id"),
    "rejects": ("source_path", "record", "reason", "run_id"),
}
EXPORT_SORT: dict[str, list[tuple[str, int]]] = {
    "documents": [("external_id", 1), ("doc_id", 1)],
    "passages": [("_id", 1)],  # = (doc_id, start): passage ids zero-pad the start
    "matches": [("a_doc_id", 1), ("a_start", 1), ("b_doc_id", 1), ("b_start", 1), ("a_end", 1), ("b_end", 1)],
    "clusters": [("_id", 1)],
    "derivations": [("_id", 1)],  # = (a_doc_id, b_doc_id): ids are ``a_doc_id~b_doc_id``
    "rejects": [("source_path", 1), ("record", 1), ("reason", 1)],
}

_DOCUMENT_SCHEMA = {
    "$jsonSchema": {
        "bsonType": "object",
        "required": ["doc_id", "external_id", "text", "content_sha256", "run_id", "segments"],
        "properties": {
            "doc_id": {"bsonType": "string"},
            "external_id": {"bsonType": "string"},
            "text": {"bsonType": "string"},
            "content_sha256": {"bsonType": "string"},
            "segments": {"bsonType": "array"},
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

# ``_id`` is the contract id of every record (doc_id, passage_id, match_id, cluster_id, run_id,
# reject_id): that unique index makes re-runs idempotent. Secondary indexes are few on purpose: on
# the embedded server each one costs inserts a large share of their speed (passages: 15,400/s with
# none, 4,400/s with one on doc_id: 60,000 SaudiNewsNet passages, /tmp bench of issue #15).
# Passages have one, on ``doc_id``: SecantusDB answers a *range* on ``_id`` by scanning the whole
# collection (COLLSCAN: 5 s per document at 280,000 passages), so without it every per-document read
# (``query doc``, ``db.passages.find({doc_id})`` in mongosh, a recovery's cleanup) scanned them all.
# A run that writes many passages at once drops it and builds it again afterwards
# (:meth:`Store.passage_index_for_bulk`): 3.2 s per 60,000 passages instead of 3.5 x slower inserts.
_INDEXES: dict[str, list[tuple[list[tuple[str, int]], dict[str, Any]]]] = {
    "documents": [([("external_id", 1), ("doc_id", 1)], {}), ([("run_id", 1)], {}), ([("outlet", 1)], {}),
                  ([("ingest_seq", 1)], {})],
    "passages": [([("doc_id", 1)], {})],
    "matches": [([("a_doc_id", 1)], {}), ([("b_doc_id", 1)], {})],
    "clusters": [([("members.doc_id", 1)], {}), ([("n_outlets", -1)], {})],
    "derivations": [([("a_doc_id", 1)], {}), ([("b_doc_id", 1)], {})],
    "runs": [([("started_at", -1)], {}), ([("status", 1)], {}), ([("run_key", 1)], {})],
    "rejects": [([("source_path", 1)], {})],
    "inputs": [],
}


@contextmanager
def suppress_missing_index():
    """Dropping an index that is not there is not an error here."""
    try:
        yield
    except OperationFailure as exc:
        if exc.code not in (26, 27) and "not found" not in str(exc).lower():
            raise


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


def _lock_holder_alive(held: Mapping[str, Any], host: str) -> bool | None:
    """Whether a lock's holder process still runs (lock records name the host as ``host``)."""
    return processes.identity_alive({"host_key": held.get("host"), "pid": held.get("pid"),
                                     "pid_start": held.get("pid_start")}, host)


MAX_CLUSTER_BYTES = 15 * 1024 * 1024  # MongoDB refuses documents over 16 MB


def _fit_cluster(c: Mapping[str, Any]) -> dict:
    """The stored form of a cluster, kept under MongoDB's document size limit.

    A component joined through many documents can hold tens of thousands of
    members; then member texts are left out (``members_text_omitted``: they are
    ``text[start:end]`` of their documents) and, if that is still too big, only
    the first members are kept (``members_truncated``, ``size`` stays the true count).
    """
    doc = {**c, "_id": c["cluster_id"]}
    if len(bson.encode(doc)) <= MAX_CLUSTER_BYTES:
        return doc
    doc["members"] = [{**m, "text": None} for m in c["members"]]
    doc["members_text_omitted"] = True
    while len(bson.encode(doc)) > MAX_CLUSTER_BYTES:
        doc["members"] = doc["members"][: len(doc["members"]) // 2]
        doc["members_truncated"] = True
    return doc


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
    def _insert(self, collection: str, docs: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """Insert documents whose ``_id`` is not stored yet (duplicates skipped, any other error raised)
        and add them to the running totals; returns the documents actually inserted."""
        docs = list(docs)
        if not docs:
            return []
        try:
            self.db[collection].insert_many(docs, ordered=False)
            inserted = docs
        except BulkWriteError as exc:
            _ignore_duplicates(exc)
            failed = {e["index"] for e in (exc.details or {}).get("writeErrors", [])}
            inserted = [d for i, d in enumerate(docs) if i not in failed]
        if collection in TOTALS:
            deltas = {collection: len(inserted)}
            if collection == "documents":
                deltas["duplicates"] = sum(1 for d in inserted if d.get("duplicate_of"))
                deltas["documents"] -= deltas["duplicates"]
            elif collection == "passages":
                deltas["boilerplate"] = sum(1 for d in inserted if d.get("boilerplate"))
            self._bump(deltas)
        return inserted

    def insert_new(self, collection: str, docs: Sequence[Mapping[str, Any]]) -> int:
        """Insert documents whose ``_id`` is not stored yet; duplicates are skipped. Returns inserted count."""
        return len(self._insert(collection, docs))

    def count(self, collection: str, filt: Mapping[str, Any] | None = None) -> int:
        return self.db[collection].count_documents(dict(filt or {}))

    # ------------------------------------------------------------------ totals
    def _bump(self, deltas: Mapping[str, int]) -> None:
        """Add to the running totals (only if they exist: a missing record is recounted whole)."""
        deltas = {k: int(v) for k, v in deltas.items() if v}
        if deltas:
            self.db.meta.update_one({"_id": "totals"}, {"$inc": {f"counts.{k}": v for k, v in deltas.items()}})

    def recount(self) -> dict[str, int]:
        """Count every collection (a scan each: ~2.5 s per 280,000 passages on the embedded server)
        and store the result as the running totals."""
        out = {name: self.count(name) for name in ("passages", "matches", "clusters", "derivations", "rejects")}
        out["duplicates"] = self.count("documents", {"duplicate_of": {"$ne": None}})
        out["documents"] = self.count("documents") - out["duplicates"]
        out["boilerplate"] = self.count("passages", {"boilerplate": True})
        self.db.meta.replace_one({"_id": "totals"}, {"_id": "totals", "counts": out}, upsert=True)
        return out

    def counts(self) -> dict[str, int]:
        """Documents (kept ones), duplicates, passages, matches, clusters, rejects and boilerplate passages
        in the database.

        Kept as running totals in ``meta`` (every write through this class adds to them), because
        counting is a scan on the embedded server: recounting after each run cost 15 s of a 90 s
        one-day run over SaudiNewsNet. Recounted when the record is missing (a database written
        by an older version) or after a killed run was recovered (see :meth:`recount`)."""
        got = self.db.meta.find_one({"_id": "totals"})
        if not got or not set(got.get("counts") or {}) >= {*TOTALS, "boilerplate"}:
            return self.recount()
        return {k: int(got["counts"][k]) for k in (*TOTALS, "boilerplate")}

    # ------------------------------------------------------------------ runs
    def next_ingest_seq(self) -> int:
        """One more than the largest stored ``ingest_seq`` (0 for an empty database).

        Kept in ``meta`` (raised by every document insert), because the embedded server answers
        a descending sort over the whole index, and any range query, by reading every match
        (2 s at 30,000 documents). The kept value is checked with one narrow window probe and
        the scan is the fallback: a run killed between an insert and raising it leaves it low."""
        got = (self.db.meta.find_one({"_id": "ingest_seq"}) or {}).get("next")
        if got is not None and self.db.documents.find_one({"ingest_seq": {"$gte": int(got), "$lt": int(got) + 10_000}},
                                                          {"_id": 1}) is None:
            return int(got)
        last = self.db.documents.find_one({}, {"ingest_seq": 1}, sort=[("ingest_seq", -1)])
        nxt = int(last["ingest_seq"]) + 1 if last and last.get("ingest_seq") is not None else 0
        self.db.meta.update_one({"_id": "ingest_seq"}, {"$max": {"next": nxt}}, upsert=True)
        return nxt

    @property
    def _runs(self):
        """Run records are journaled (``j=True``): a crash right after a run must not lose its status."""
        return self.db.runs.with_options(write_concern=WriteConcern(j=True))

    def start_run(self, run: Mapping[str, Any]) -> str:
        """Insert a run's provenance record under the next free id ``<run_key>-<n>``; returns the id.

        ``n`` counts the runs of the same key (same parameters and inputs); two processes
        starting at once both try the next number and one of them moves on."""
        for attempt in range(100):
            n = self.db.runs.count_documents({"run_key": run["run_key"]}) + 1 + attempt
            run_id = f"{run['run_key']}-{n}"
            try:
                self._runs.insert_one({**run, "_id": run_id, "run_id": run_id, "run_number": n})
                return run_id
            except DuplicateKeyError:
                continue
        raise RuntimeError("could not allocate a run id")

    def update_run(self, run_id: str, fields: Mapping[str, Any]) -> None:
        self._runs.update_one({"_id": run_id}, {"$set": dict(fields)})

    def mark_abandoned_runs(self) -> int:
        """Runs still ``running`` whose process on this host is gone (killed) become ``killed``."""
        host = processes.host_key()
        n = 0
        for r in self.db.runs.find({"status": "running", "host_key": host}, {"host_key": 1, "pid": 1, "pid_start": 1}):
            if processes.identity_alive(r, host) is False:
                n += self._runs.update_one(
                    {"_id": r["_id"], "status": "running"},
                    {"$set": {"status": "killed",
                              "error": "the process ended without recording the end of the run (killed)"}},
                ).modified_count
        return n

    def unfinished_runs(self, exclude: str | None = None) -> list[dict]:
        """Runs that ended without finishing (``interrupted``, ``killed`` or ``failed``) and that no run has
        completed yet, oldest first: ``_id`` and ``progress`` (how far each got, see the ingest flow)."""
        cur = self.db.runs.find({"status": {"$in": ["interrupted", "killed", "failed"]}, "recovered_by": None},
                                {"_id": 1, "progress": 1}, sort=[("started_at", 1), ("_id", 1)])
        return [r for r in cur if r["_id"] != exclude]

    def mark_runs_recovered(self, run_ids: Sequence[str], by: str) -> None:
        for r in run_ids:
            self._runs.update_one({"_id": r}, {"$set": {"recovered_by": by}})

    # ------------------------------------------------------------------ inputs
    def known_inputs(self, keys: Iterable[str]) -> set[str]:
        """Which input keys (file sha256 + reading options, see ``tasks.intake.input_key``) an
        earlier run read with documents stored."""
        keys = sorted(set(keys))
        found: set[str] = set()
        for i in range(0, len(keys), IN_CHUNK):
            found.update(d["_id"] for d in self.db.inputs.find({"_id": {"$in": keys[i:i + IN_CHUNK]}, "status": "done"},
                                                               {"_id": 1}))
        return found

    def mark_inputs_done(self, inputs: Sequence[Mapping[str, Any]], run_id: str) -> None:
        """Record input files read to the end (``key``, ``sha256``, ``path``, ``size``, ``documents``)."""
        ops = [UpdateOne({"_id": i["key"]},
                         {"$set": {"status": "done", "documents": i.get("documents"), "last_run_id": run_id},
                          "$setOnInsert": {"sha256": i["sha256"], "path": i["path"], "size": i["size"],
                                           "options": i.get("options"), "first_run_id": run_id}}, upsert=True)
               for i in inputs]
        if ops:
            self.db.inputs.bulk_write(ops, ordered=False)

    # ------------------------------------------------------------------ documents
    def existing_doc_ids(self, ids: Iterable[str]) -> set[str]:
        ids = list(ids)
        found: set[str] = set()
        for i in range(0, len(ids), IN_CHUNK):
            chunk = ids[i:i + IN_CHUNK]
            found.update(d["_id"] for d in self.db.documents.find({"_id": {"$in": chunk}}, {"_id": 1}))
        return found

    def insert_documents(self, docs: Sequence[Mapping[str, Any]]) -> list[str]:
        """Insert documents; returns the ids actually inserted (those already stored are skipped)."""
        docs = list(docs)
        done = [d["_id"] for d in self._insert("documents", docs)]
        seqs = [d["ingest_seq"] for d in docs if d.get("ingest_seq") is not None]
        if seqs:
            self.db.meta.update_one({"_id": "ingest_seq"}, {"$max": {"next": int(max(seqs)) + 1}}, upsert=True)
        return done

    def all_doc_ids(self) -> list[str]:
        """The kept documents (not duplicates), in ingestion order."""
        return [d["_id"] for d in self.db.documents.find({}, {"_id": 1, "duplicate_of": 1},
                                                         sort=[("ingest_seq", 1), ("_id", 1)])
                if not d.get("duplicate_of")]

    def doc_ids_of_runs(self, run_ids: Sequence[str]) -> list[str]:
        """Kept documents inserted by these runs, in ingestion order."""
        return [i for _, i in self.doc_seqs_of_runs(run_ids)]

    def doc_seqs_of_runs(self, run_ids: Sequence[str]) -> list[tuple[int, str]]:
        """``(ingest_seq, doc_id)`` of the kept documents inserted by these runs (duplicates need no
        further stage), in ingestion order."""
        out: list[tuple[int, str]] = []
        for r in run_ids:
            out.extend((d.get("ingest_seq", 0), d["_id"])
                       for d in self.db.documents.find({"run_id": r}, {"_id": 1, "ingest_seq": 1, "duplicate_of": 1})
                       if not d.get("duplicate_of"))
        return sorted(out)

    def get_documents(self, ids: Iterable[str], projection: Mapping[str, int] | None = None) -> dict[str, dict]:
        ids = sorted(set(ids))
        out: dict[str, dict] = {}
        for i in range(0, len(ids), IN_CHUNK):
            for d in self.db.documents.find({"_id": {"$in": ids[i:i + IN_CHUNK]}}, projection):
                out[d["_id"]] = d
        return out

    def line_key_rows(self, after_seq: int | None = None) -> Iterator[tuple[str | None, int | None, list[str]]]:
        """``(outlet, ingest_seq, line_keys)`` of every stored document, or only of those stored with an
        ``ingest_seq`` above ``after_seq`` (a range on the ``ingest_seq`` index: milliseconds for a day's
        documents, where reading all of them costs ~2 s at 30,000)."""
        query = {} if after_seq is None else {"ingest_seq": {"$gt": int(after_seq)}}
        for d in self.db.documents.find(query, {"outlet": 1, "ingest_seq": 1, "line_keys": 1, "duplicate_of": 1,
                                                "_id": 0}):
            if not d.get("duplicate_of"):  # a duplicate is not one more document of its outlet
                yield d.get("outlet"), d.get("ingest_seq"), d.get("line_keys") or []

    def dedup_rows(self, after_seq: int | None = None) -> Iterator[dict]:
        """The kept documents and the duplicates stored with a ``duplicate_body`` (aliases of their
        originals) with what their deduplication signature is made of, in ingestion order: all of them, or those stored with an
        ``ingest_seq`` above ``after_seq``."""
        query = {} if after_seq is None else {"ingest_seq": {"$gt": int(after_seq)}}
        fields = {"doc_id": 1, "outlet": 1, "title": 1, "text": 1, "content_sha256": 1, "segments": 1, "lang": 1,
                  "lang_confidence": 1, "ingest_seq": 1, "duplicate_of": 1, "duplicate_body": 1}
        for d in self.db.documents.find(query, fields, sort=[("ingest_seq", 1)], batch_size=500):
            if not d.get("duplicate_of") or d.get("duplicate_body") is not None:
                yield d

    def documents_after_seq(self, after_seq: int, projection: Mapping[str, int]) -> Iterator[dict]:
        """Stored kept documents (duplicates have nothing to index) with an ``ingest_seq`` above
        ``after_seq`` (a range on its index), in ``ingest_seq`` order: what an index kept outside the
        database has not seen yet."""
        yield from self._kept_documents({"ingest_seq": {"$gt": int(after_seq)}}, projection)

    def _kept_documents(self, query: Mapping[str, Any], projection: Mapping[str, int]) -> Iterator[dict]:
        """Documents matching ``query`` that are not duplicates, in ``ingest_seq`` order (the filter is
        applied here: no index on ``duplicate_of``, each one costs every insert)."""
        fields = {**projection, "duplicate_of": 1}
        for d in self.db.documents.find(dict(query), fields, sort=[("ingest_seq", 1)], batch_size=500):
            if not d.pop("duplicate_of", None):
                yield d

    def delete_passages_of(self, doc_ids: Sequence[str]) -> int:
        """Delete the passages of these documents; returns how many. Bulk: one read and one delete per
        :data:`IN_CHUNK` documents on the ``doc_id`` index (a delete per document by ``_id`` range
        scanned every passage: 260-460 s per 200 documents on SaudiNewsNet)."""
        ids = sorted(set(doc_ids))
        n = n_bp = 0
        for i in range(0, len(ids), IN_CHUNK):
            q = {"doc_id": {"$in": ids[i:i + IN_CHUNK]}}
            n_bp += sum(1 for p in self.db.passages.find(q, {"_id": 0, "boilerplate": 1}) if p.get("boilerplate"))
            n += self.db.passages.delete_many(q).deleted_count
        self._bump({"passages": -n, "boilerplate": -n_bp})
        return n

    def doc_ids_with_passages(self, doc_ids: Sequence[str]) -> set[str]:
        """Which of these documents have passages stored (the ``doc_id`` index, chunked ``$in``)."""
        ids = sorted(set(doc_ids))
        found: set[str] = set()
        for i in range(0, len(ids), IN_CHUNK):
            found.update(self.db.passages.distinct("doc_id", {"doc_id": {"$in": ids[i:i + IN_CHUNK]}}))
        return found

    @contextmanager
    def passage_index_for_bulk(self, n_docs: int, *, share: float = 0.25):
        """Write the passages of ``n_docs`` documents with the ``doc_id`` index dropped when they are
        many (at least ``share`` of the stored documents, e.g. a first run) and build it again
        afterwards; keep it otherwise (a day's run). The index is built again even when the block
        fails; a process killed inside leaves it missing, and the next :meth:`ensure_schema` builds it."""
        stored = self.counts()["documents"]
        bulk = n_docs >= 500 and n_docs >= share * stored
        if bulk:
            with suppress_missing_index():
                self.db.passages.drop_index("doc_id_1")
        try:
            yield bulk
        finally:
            if bulk:
                self.db.passages.create_index([("doc_id", 1)])

    # ------------------------------------------------------------------ matches & clusters
    def save_matches(self, matches: Sequence[Mapping[str, Any]]) -> int:
        return self.insert_new("matches", matches)

    def matches_of_docs(self, doc_ids: Sequence[str], fields: Sequence[str]) -> list[dict]:
        """Stored matches naming any of these documents, with ``fields``, by ``_id``
        (the ``a_doc_id``/``b_doc_id`` indexes, chunked ``$in``)."""
        ids = sorted(set(doc_ids))
        found: dict[str, dict] = {}
        for side in ("a_doc_id", "b_doc_id"):
            for i in range(0, len(ids), IN_CHUNK):
                for m in self.db.matches.find({side: {"$in": ids[i:i + IN_CHUNK]}}, {f: 1 for f in fields}):
                    found[m["_id"]] = m
        return [found[k] for k in sorted(found)]

    def all_matches(self, fields: Sequence[str]) -> list[dict]:
        """Every stored match with ``fields``, by ``_id``."""
        return list(self.db.matches.find({}, {f: 1 for f in fields}, sort=[("_id", 1)]))

    def cluster_memberships(self) -> Iterator[tuple[str, str | None, list[tuple[str, int, int]]]]:
        """``(cluster_id, content_sha, member spans)`` of every stored cluster (no texts read)."""
        for c in self.db.clusters.find({}, {"_id": 1, "content_sha": 1, "members.doc_id": 1, "members.start": 1,
                                            "members.end": 1}, sort=[("_id", 1)]):
            yield c["_id"], c.get("content_sha"), [(m["doc_id"], m["start"], m["end"]) for m in c.get("members") or ()]

    def get_clusters(self, ids: Iterable[str], fields: Sequence[str] | None = None) -> dict[str, dict]:
        """Stored cluster documents by id (whole, with members, unless ``fields`` names what to read)."""
        ids = sorted(set(ids))
        out: dict[str, dict] = {}
        proj = {f: 1 for f in fields} if fields is not None else None
        for i in range(0, len(ids), IN_CHUNK):
            for c in self.db.clusters.find({"_id": {"$in": ids[i:i + IN_CHUNK]}}, proj):
                out[c["_id"]] = c
        return out

    def write_clusters(self, clusters: Sequence[Mapping[str, Any]], stale: Iterable[str],
                       stored_sha: Mapping[str, str | None]) -> tuple[dict[str, str], list[str]]:
        """Write recomputed clusters and delete the ``stale`` stored ones they replace.

        A cluster whose content hash equals ``stored_sha[cluster_id]`` is not written again
        (updates are the expensive write). Returns the content hash of every cluster given
        and the ids deleted (stale ones no recomputed cluster took over)."""
        shas: dict[str, str] = {}
        ops = []
        upserts = 0
        for c in clusters:
            doc = _fit_cluster(c)
            doc["content_sha"] = hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False,
                                                           default=str).encode()).hexdigest()[:32]
            shas[doc["_id"]] = doc["content_sha"]
            if stored_sha.get(doc["_id"]) != doc["content_sha"]:
                ops.append(ReplaceOne({"_id": doc["_id"]}, doc, upsert=True))
        for i in range(0, len(ops), 200):
            try:
                upserts += self.db.clusters.bulk_write(ops[i:i + 200], ordered=False).upserted_count
            except BulkWriteError as exc:
                errors = (exc.details or {}).get("writeErrors", [])
                first = {k: errors[0].get(k) for k in ("index", "code", "errmsg")} if errors else {}
                raise RuntimeError(f"writing clusters failed ({len(errors)} errors), first: {first}") from exc
        gone = sorted(set(stale) - shas.keys())
        deleted = 0
        for i in range(0, len(gone), IN_CHUNK):
            deleted += self.db.clusters.delete_many({"_id": {"$in": gone[i:i + IN_CHUNK]}}).deleted_count
        self._bump({"clusters": upserts - deleted})
        return shas, gone

    def top_clusters(self, limit: int, *, min_outlets: int = 1, members: bool = True,
                     filt: Mapping[str, Any] | None = None, kind: str | None = "claim") -> list[dict]:
        """Clusters of ``kind`` (``claim`` by default, None: every kind) with at least ``min_outlets``
        outlets, the most outlets first, then the most members, then by id; the first ``limit`` (all if
        ``limit`` <= 0). No ``_id``; no members unless asked. ``filt``: further conditions (outlet,
        members' dates). (Clusters stored before kinds existed count as claims.)

        Asks for ``n_outlets >= k`` with k halving until enough come back: the embedded server sorts
        by reading every cluster (1.5 s at 13,000), while a range of the few widest costs ms."""
        proj = {"_id": 0} if members else {"_id": 0, "members": 0}
        rows: list[dict] = []
        steps = [k for k in (32, 16, 8, 4, 2) if k > min_outlets] if limit > 0 else []
        kinds = {} if kind is None else {"kind": {"$in": [kind, None]}} if kind == "claim" else {"kind": kind}
        for k in (*steps, int(min_outlets)):
            rows = list(self.db.clusters.find({"n_outlets": {"$gte": k}, **kinds, **(filt or {})}, proj))
            if len(rows) >= limit > 0:
                break
        rows.sort(key=lambda c: (-(c.get("n_outlets") or 0), -(c.get("size") or 0), c.get("cluster_id") or ""))
        return rows[:limit] if limit > 0 else rows

    def passages_of(self, doc_id: str, projection: Mapping[str, int] | None = None) -> list[dict]:
        """The passages of one document in offset order (the ``doc_id`` index; ids sort by offset)."""
        rows = list(self.db.passages.find({"doc_id": doc_id}, projection))
        rows.sort(key=lambda p: (p.get("start", 0), p.get("end", 0)))
        return rows

    def set_passage_clusters(self, changes: Mapping[str | None, Sequence[str]]) -> int:
        """Set ``cluster_id`` of the given passages (``{cluster_id or None: [passage ids]}``).

        One bulk request per 1,000 passages: a day's run changes ~1,800 passages in ~1,300 clusters,
        and one ``update_many`` per cluster cost 0.8 s of round trips on the embedded server."""
        ops = [UpdateOne({"_id": pid}, {"$set": {"cluster_id": cid}})
               for cid in sorted(changes, key=lambda c: (c is None, c or "")) for pid in sorted(changes[cid])]
        n = 0
        for j in range(0, len(ops), 1000):
            n += self.db.passages.bulk_write(ops[j:j + 1000], ordered=False).modified_count
        return n

    # ------------------------------------------------------------------ derivations
    def write_derivations(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Store derivation rows (``_id`` per document pair): inserted, or replaced where the pair is
        stored already (a recovered run, a pair given new matches). Returns how many were new.

        Inserts first, replacements only for the ids that collide: a run's pairs are nearly all new,
        and on the embedded server an update costs several times an insert."""
        docs = [dict(r) for r in rows]
        if not docs:
            return 0
        try:
            self.db.derivations.insert_many(docs, ordered=False)
            new = len(docs)
        except BulkWriteError as exc:
            _ignore_duplicates(exc)
            dup = sorted({e["index"] for e in (exc.details or {}).get("writeErrors", [])})
            new = len(docs) - len(dup)
            ops = [ReplaceOne({"_id": docs[i]["_id"]}, docs[i]) for i in dup]
            for j in range(0, len(ops), 500):
                self.db.derivations.bulk_write(ops[j:j + 500], ordered=False)
        self._bump({"derivations": new})
        return new

    def derivations_of(self, doc_id: str) -> list[dict]:
        """Every derivation row naming the document, on either side (no ``_id``), by pair."""
        rows = [*self.db.derivations.find({"a_doc_id": doc_id}, {"_id": 0}),
                *self.db.derivations.find({"b_doc_id": doc_id}, {"_id": 0})]
        return sorted(rows, key=lambda r: (r["a_doc_id"], r["b_doc_id"]))

    # ------------------------------------------------------------------ locks
    @contextmanager
    def lock(self, name: str, *, ttl: float = 3600.0, wait: float = 3600.0, poll: float = 0.5):
        """A cross-process (and cross-machine) lock in the ``locks`` collection.

        The reuse index and clusters are updated under it, so two concurrent runs
        cannot lose each other's index entries or write conflicting clusters.

        The lock records its holder (host identity, pid, process start time). A
        waiter on the same host takes over a lock whose holder process is gone
        (killed run: SIGKILL, OOM, power loss of a container), so the next run
        does not wait for the ``ttl``. A lock held from another host, whose
        liveness cannot be checked, expires after ``ttl`` seconds; a lock whose
        holder is alive on this host is never taken over.
        """
        pid = os.getpid()
        host = processes.host_key()
        owner = f"{socket.gethostname()}:{pid}:{uuid.uuid4().hex[:8]}"
        deadline = time.monotonic() + wait
        while True:
            now = time.time()
            try:
                self.db.locks.insert_one({"_id": name, "owner": owner, "expires": now + ttl, "host": host,
                                          "hostname": socket.gethostname(), "pid": pid,
                                          "pid_start": processes.pid_start(pid), "acquired": now})
                break
            except DuplicateKeyError:
                held = self.db.locks.find_one({"_id": name})
                if held is not None:
                    alive = _lock_holder_alive(held, host)
                    if alive is False or (alive is None and float(held.get("expires") or 0) < now):
                        # compare-and-delete: only this holder's record, never a newer one
                        self.db.locks.delete_one({"_id": name, "owner": held.get("owner")})
                        continue
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


def hosts_of(uri: str) -> str:
    """``host:port[,host:port]`` of a connection string, without credentials or options (for messages)."""
    rest = uri.split("://", 1)[-1]
    hosts = rest.split("/", 1)[0].split("?", 1)[0]
    return hosts.rsplit("@", 1)[-1] or "(no host)"


def ping_server(uri: str, *, timeout_s: float = 5.0) -> dict[str, Any]:
    """Ask the server at ``uri`` to answer ``ping`` and ``buildInfo`` within ``timeout_s``.

    Returns ``{"answers": True, "version": ...}`` or ``{"answers": False, "error": one line}``;
    never raises. Commands check this first so that an unreachable server is one line naming its
    host within seconds, not pymongo's topology dump after the flow's retries (85 s)."""
    from pymongo.errors import ConfigurationError, PyMongoError

    ms = max(100, int(timeout_s * 1000))
    try:
        client: MongoClient = MongoClient(uri, serverSelectionTimeoutMS=ms, connectTimeoutMS=ms,
                                          socketTimeoutMS=ms, appname="newsdedup-check")
    except (ConfigurationError, ValueError, TypeError) as exc:
        return {"answers": False, "error": f"not a valid MongoDB connection string: {exc}", "usage": True}
    try:
        client.admin.command("ping")
        version = client.admin.command("buildInfo").get("version")
        return {"answers": True, "version": version}
    except PyMongoError as exc:
        reason = str(exc).split(", Timeout:", 1)[0].split(" (configured timeouts", 1)[0]
        reason = reason.strip().splitlines()[0] if reason.strip() else type(exc).__name__
        if "Topology Description" in reason or len(reason) > 200:
            reason = type(exc).__name__
        return {"answers": False, "error": reason}
    finally:
        client.close()
