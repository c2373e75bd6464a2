"""All MongoDB access of the claim explorer, read-only.

Built on :func:`newsdedup.db.connect` and :class:`newsdedup.db.Store` (the same
connection, ``$in`` chunking and passage ids as the pipeline), but it never calls
a writing method and never creates collections or indexes: it opens whatever
database it is given, including one written before a field or a collection
existed (clusters without ``kind``, no ``derivations``).

Every value that reaches a filter here is first made a plain ``str`` by the
caller's parameter parsing (:mod:`newsdedup.web.params`) or comes from the
database itself; filters are built as ``{field: value}`` equality on those
strings, so no request can smuggle an operator in.

What each page reads (all by ``_id`` or an indexed equality, milliseconds on the
full SaudiNewsNet database): a cluster by ``_id``; documents by ``_id`` in chunks
of :data:`~newsdedup.db.IN_CHUNK`; a document's passages by their exact ids
(from its ``segments``; an ``_id`` *range* costs a full scan on the embedded
server: 8 s there); its clusters by ``members.doc_id``; its matches by
``a_doc_id``/``b_doc_id``; its derivations by ``a_doc_id``/``b_doc_id``; the runs
(a small collection). The list pages use the :class:`~newsdedup.web.catalog.Catalog`,
built from one scan (:meth:`ExplorerStore.catalog_rows`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..config import Settings
from ..db import IN_CHUNK, Store, connect
from ..tasks.ids import passage_id

DOC_LIST_FIELDS = {"_id": 1, "outlet": 1, "published": 1, "external_id": 1, "segments": 1, "duplicate_of": 1}
MEMBER_DOC_FIELDS = {"_id": 1, "external_id": 1, "outlet": 1, "published": 1, "title": 1, "url": 1, "lang": 1}
CLUSTER_SUMMARY = {"_id": 1, "cluster_id": 1, "kind": 1, "confidence": 1, "n_outlets": 1, "size": 1, "outlets": 1,
                   "first_seen": 1, "representative": 1, "attribution": 1}
DOCUMENT_HIDDEN = {"line_keys": 0, "boilerplate_spans": 0, "clean_text": 0}


class ExplorerStore:
    """Read-only queries of one newsdedup database."""

    def __init__(self, settings: Settings, *, timeout_ms: int = 10_000):
        self.settings = settings
        self._store = Store(connect(settings, timeout_ms=timeout_ms), settings.db_name)
        self.db = self._store.db
        self.db_name = settings.db_name

    def close(self) -> None:
        self._store.close()

    # ------------------------------------------------------------------ state
    def collections(self) -> set[str]:
        return set(self.db.list_collection_names())

    def has_derivations(self) -> bool:
        return "derivations" in self.collections()

    def generation(self) -> str:
        """A cheap fingerprint of the database's state: the pipeline's running totals and cluster-state
        token (both in ``meta``, rewritten by every run) and the runs' ids and statuses."""
        meta = {m["_id"]: {k: v for k, v in m.items() if k != "_id"}
                for m in self.db.meta.find({"_id": {"$in": ["totals", "cluster_state", "index"]}})}
        runs = sorted((r["_id"], r.get("status")) for r in self.db.runs.find({}, {"_id": 1, "status": 1}))
        extra = {}
        if "derivations" in self.collections():
            extra["derivations"] = self.db.derivations.estimated_document_count()
        raw = json.dumps([meta, runs, extra], sort_keys=True, default=str)
        return hashlib.sha256(raw.encode()).hexdigest()[:24]

    def counts(self) -> dict[str, int]:
        got = self.db.meta.find_one({"_id": "totals"}) or {}
        return {k: int(v) for k, v in (got.get("counts") or {}).items()}

    # ------------------------------------------------------------------ catalog scan
    def catalog_rows(self) -> tuple[Iterator[dict], Iterator[dict], Iterator[dict] | None]:
        """Cursors over what :func:`~newsdedup.web.catalog.build_catalog` reads: documents (light),
        clusters (whole) and derivations (None when the database has no such collection)."""
        docs = self.db.documents.find({}, DOC_LIST_FIELDS, batch_size=2000)
        clusters = self.db.clusters.find({}, {"content_sha": 0}, batch_size=500)
        derivations = (self.db.derivations.find({}, {"_id": 0, "a_doc_id": 1, "b_doc_id": 1, "a_coverage": 1,
                                                     "b_coverage": 1, "source_doc_id": 1, "derived_doc_id": 1,
                                                     "derivation": 1},
                                                batch_size=5000)
                       if self.has_derivations() else None)
        return docs, clusters, derivations

    # ------------------------------------------------------------------ one claim
    def cluster(self, cluster_id: str) -> dict | None:
        return self.db.clusters.find_one({"_id": str(cluster_id)}, {"content_sha": 0})

    def documents(self, ids: Sequence[str], projection: Mapping[str, int] | None = None) -> dict[str, dict]:
        return self._store.get_documents([str(i) for i in ids], projection or MEMBER_DOC_FIELDS)

    # ------------------------------------------------------------------ one document
    def document(self, doc_id: str) -> dict | None:
        return self.db.documents.find_one({"_id": str(doc_id)}, DOCUMENT_HIDDEN)

    def passages(self, doc: Mapping[str, Any]) -> list[dict]:
        """The stored passages of a document, in offset order, looked up by their exact ids."""
        ids = [passage_id(doc["_id"], seg[0]) for seg in doc.get("segments") or ()]
        out: dict[str, dict] = {}
        for i in range(0, len(ids), IN_CHUNK):
            for p in self.db.passages.find({"_id": {"$in": ids[i:i + IN_CHUNK]}},
                                           {"_id": 1, "start": 1, "end": 1, "boilerplate": 1,
                                            "boilerplate_reason": 1, "cluster_id": 1, "lang": 1}):
                out[p["_id"]] = p
        return sorted(out.values(), key=lambda p: (p["start"], p["end"]))

    def clusters_of(self, doc_id: str) -> list[dict]:
        """Clusters with a member in this document: their summary and this document's member spans."""
        rows = []
        for c in self.db.clusters.find({"members.doc_id": str(doc_id)},
                                       {**CLUSTER_SUMMARY, "members.doc_id": 1, "members.start": 1, "members.end": 1}):
            c["spans"] = sorted((m["start"], m["end"]) for m in c.pop("members", ()) if m.get("doc_id") == doc_id)
            rows.append(c)
        rows.sort(key=lambda c: (c["spans"][0] if c["spans"] else (0, 0), c["_id"]))
        return rows

    def matches_of(self, doc_id: str) -> list[dict]:
        doc_id = str(doc_id)
        proj = {"_id": 0, "a_doc_id": 1, "b_doc_id": 1, "a_start": 1, "a_end": 1, "b_start": 1, "b_end": 1,
                "score": 1, "kind": 1, "method": 1}
        return [*self.db.matches.find({"a_doc_id": doc_id}, proj), *self.db.matches.find({"b_doc_id": doc_id}, proj)]

    def derivations_of(self, doc_id: str) -> list[dict] | None:
        """This document's derivation pairs (both sides), or None when the database has none computed."""
        if not self.has_derivations():
            return None
        doc_id = str(doc_id)
        proj = {"_id": 0}
        return [*self.db.derivations.find({"a_doc_id": doc_id}, proj),
                *self.db.derivations.find({"b_doc_id": doc_id}, proj)]

    # ------------------------------------------------------------------ runs
    def run(self, run_id: str) -> dict | None:
        return self.db.runs.find_one({"_id": str(run_id)}, {"_id": 1, "flow_run_id": 1, "flow_run_name": 1,
                                                            "status": 1, "started_at": 1})

    def runs(self) -> list[dict]:
        rows = list(self.db.runs.find({}, {"host_key": 0, "pid_start": 0}))
        rows.sort(key=lambda r: (str(r.get("started_at") or ""), r["_id"]), reverse=True)
        return rows
