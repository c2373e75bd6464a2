"""Glue between stored documents and the reuse stages (align, candidates, cluster).

Converts stored records to the plain inputs the reuse stages take and their
outputs back to stored rows, so the flow only wires and the stages stay free of
storage concerns.
"""

from __future__ import annotations

import json
import os
import pickle
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .align import Match, Prepared, ReuseDoc, prepare
from .records import assign_cluster
from .ids import match_id
from .parallel import fork_map, shared

__all__ = ["reuse_doc", "prepare_docs", "match_rows", "match_from_row", "cluster_spans",
           "passage_cluster_changes", "PreparedStore", "PreparedCache", "DOC_FIELDS"]

DOC_FIELDS = {"_id": 1, "doc_id": 1, "text": 1, "boilerplate_spans": 1, "published": 1}


def reuse_doc(doc: Mapping[str, Any]) -> ReuseDoc:
    spans = tuple((int(s), int(e)) for s, e in (doc.get("boilerplate_spans") or ()))
    return ReuseDoc(doc_id=doc["doc_id"], text=doc["text"], excluded=spans, published=doc.get("published"))


def _prepare_chunk(idx: Sequence[int]) -> list[Prepared]:
    docs = shared["docs"]
    return [prepare(reuse_doc(docs[i])) for i in idx]


def prepare_docs(docs: Iterable[Mapping[str, Any]], workers: int = 1) -> list[Prepared]:
    """Prepared documents, in order; ``workers > 1`` prepares in forked processes (the
    documents are inherited, the compact prepared arrays are sent back)."""
    docs = list(docs)
    if workers <= 1 or len(docs) < 2 * workers:
        return [prepare(reuse_doc(d)) for d in docs]
    size = -(-len(docs) // (workers * 4))
    parts = fork_map(_prepare_chunk, range(len(docs)), workers=workers, chunk_size=size, state={"docs": docs})
    return [p for part in parts for p in part]


class PreparedStore:
    """Prepared documents on disk, read back by id: an append-only file of pickles plus an offset table.

    Why: matching a batch needs its candidate partners prepared. Keeping every prepared
    document in memory grows with the corpus; preparing an evicted one again costs ~1.2 ms
    and, for a document of an earlier run, a database read first; reading it back from here
    costs ~0.1 ms. A run writes its documents here once, before it aligns any.

    The store lives next to the candidate index (``save`` writes the offset table; the
    index token covers both), so the next run finds earlier documents here too. Bytes
    appended by a run that never saved (killed) are not in the table and are ignored."""

    _FORMAT = 2  # 2: the document's published date (retold sentences are measured on the later side)

    def __init__(self, directory: Path) -> None:
        self._dir = Path(directory)
        self._dir.mkdir(parents=True, exist_ok=True)
        self._path = self._dir / "prepared.pkl"
        self._where: dict[str, tuple[int, int]] = {}
        table = self._dir / "prepared.json"
        if table.exists() and self._path.exists():
            try:
                meta = json.loads(table.read_text(encoding="utf-8"))
                if meta.get("format") == self._FORMAT:
                    self._where = {k: (int(v[0]), int(v[1])) for k, v in meta["where"].items()}
            except (ValueError, KeyError, TypeError):
                self._where = {}
        if not self._where and self._path.exists():
            self._path.unlink()
        self._fh = open(self._path, "a+b")  # noqa: SIM115 - closed in close()
        self._end = self._fh.seek(0, os.SEEK_END)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._where

    def __len__(self) -> int:
        return len(self._where)

    def put(self, p: Prepared) -> None:
        if p.doc_id in self._where:
            return
        blob = pickle.dumps(p, protocol=pickle.HIGHEST_PROTOCOL)
        self._fh.seek(0, os.SEEK_END)
        self._fh.write(blob)
        self._where[p.doc_id] = (self._end, len(blob))
        self._end += len(blob)

    def get(self, doc_id: str) -> Prepared | None:
        at = self._where.get(doc_id)
        if at is None:
            return None
        self._fh.flush()
        self._fh.seek(at[0])
        blob = self._fh.read(at[1])
        return pickle.loads(blob) if len(blob) == at[1] else None

    def save(self) -> None:
        """Write the offset table (atomic rename); what was appended since is then found by the next run."""
        self._fh.flush()
        os.fsync(self._fh.fileno())
        tmp = self._dir / "prepared.json.tmp"
        tmp.write_text(json.dumps({"format": self._FORMAT, "where": self._where}), encoding="utf-8")
        os.replace(tmp, self._dir / "prepared.json")

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> "PreparedStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PreparedCache:
    """Prepared documents for alignment: the most recently used ``size`` in memory (~25 KB each), the
    rest in the :class:`PreparedStore` on disk, and documents of earlier runs that neither has
    prepared on demand (``fetch``).

    Why: a batch aligns against candidate partners anywhere in the corpus; memory must stay bounded
    whatever the corpus size, and a partner read back from disk (~0.1 ms) is far cheaper than one read
    from the database and prepared again (~1.2 ms)."""

    def __init__(self, spill: PreparedStore, size: int = 12000) -> None:
        self.spill = spill
        self.size = size
        self._lru: OrderedDict[str, Prepared] = OrderedDict()

    def _keep(self, p: Prepared) -> None:
        self._lru[p.doc_id] = p
        self._lru.move_to_end(p.doc_id)
        while len(self._lru) > self.size:
            self._lru.popitem(last=False)

    def add(self, p: Prepared) -> None:
        """A newly prepared document: written to disk once, kept in memory."""
        self.spill.put(p)
        self._keep(p)

    def get(self, doc_id: str) -> Prepared | None:
        """From memory, else from disk (then kept in memory); None when neither has it."""
        p = self._lru.get(doc_id)
        if p is not None:
            self._lru.move_to_end(doc_id)
            return p
        p = self.spill.get(doc_id)
        if p is not None:
            self._keep(p)
        return p

    def pinned(self, doc_ids: Iterable[str], fetch: Callable[[list[str]], Iterable[Prepared]]) -> dict[str, Prepared]:
        """The prepared documents of ``doc_ids``, those neither in memory nor on disk from ``fetch(missing)``
        (documents of earlier runs), held for the duration of a batch whatever the LRU evicts meanwhile."""
        live: dict[str, Prepared] = {}
        for x in sorted(set(doc_ids)):
            p = self.get(x)
            if p is not None:
                live[x] = p
        missing = sorted(set(doc_ids) - live.keys())
        if missing:
            for p in fetch(missing):
                self.add(p)
                live[p.doc_id] = p
        return live


def match_from_row(m: Mapping[str, Any]) -> Match:
    """A stored match row back as a :class:`Match` (the inverse of :func:`match_rows`; a row stored
    before matches had an evidence and a kind is a ``reuse`` match of unknown evidence)."""
    ev = m.get("evidence")
    return Match(m["a_doc_id"], m["a_start"], m["a_end"], m["b_doc_id"], m["b_start"], m["b_end"],
                 float(m["score"]), m["method"], None if ev is None else float(ev), m.get("kind") or "reuse",
                 m.get("a_words"), m.get("b_words"), m.get("rare_words"))


def match_rows(matches: Sequence[Match], external_ids: Mapping[str, str], run_id: str) -> list[dict]:
    """Stored/exported rows for verified matches (``a_doc_id < b_doc_id`` as the contract says)."""
    rows = []
    for m in matches:
        mid = match_id(m.a_doc_id, m.a_start, m.a_end, m.b_doc_id, m.b_start, m.b_end)
        rows.append({
            "_id": mid, "match_id": mid,
            "a_doc_id": m.a_doc_id, "a_external_id": external_ids.get(m.a_doc_id), "a_start": m.a_start, "a_end": m.a_end,
            "b_doc_id": m.b_doc_id, "b_external_id": external_ids.get(m.b_doc_id), "b_start": m.b_start, "b_end": m.b_end,
            "score": round(float(m.score), 2), "method": m.method, "kind": m.kind,
            "evidence": None if m.evidence is None else round(float(m.evidence), 3), "run_id": run_id,
            "a_words": m.a_words, "b_words": m.b_words, "rare_words": m.rare_words,
        })
    return rows


def cluster_spans(clusters: Iterable[Mapping[str, Any]]) -> dict[str, list[tuple[int, int, str]]]:
    """Per document, the member spans of every cluster with its id: what passages are assigned from."""
    out: dict[str, list[tuple[int, int, str]]] = {}
    for c in clusters:
        for m in c["members"]:
            out.setdefault(m["doc_id"], []).append((m["start"], m["end"], c["cluster_id"]))
    return out


def passage_cluster_changes(passages: Iterable[Mapping[str, Any]],
                            spans: Mapping[str, Sequence[tuple[int, int, str]]],
                            before: Mapping[str, Sequence[tuple[int, int, str]]]) -> dict[str | None, list[str]]:
    """Stored passages whose ``cluster_id`` must change: ``{new cluster id or None: [passage ids]}``.

    The current id is recomputed from ``before`` (the cluster spans the passages were assigned
    from) and the new one from ``spans``, so passages need not be read back. Only changes are
    returned, because updates are the expensive write.
    """
    def assigned(p: Mapping[str, Any], sp: Mapping[str, Sequence[tuple[int, int, str]]]) -> str | None:
        return None if p.get("boilerplate") else assign_cluster(p["start"], p["end"], sp.get(p["doc_id"], ()))

    changes: dict[str | None, list[str]] = {}
    for p in passages:
        new = assigned(p, spans)
        if new != assigned(p, before):
            changes.setdefault(new, []).append(p["_id"])
    return changes
