"""Derived state saved next to the candidate index, and when to trust it: the token protocol.

Four things are kept on disk between runs because rebuilding them from the database would
cost every run (or every search) a read of every document or match: the candidate index with
its prepared documents, the cluster state (:mod:`~newsdedup.tasks.cluster_state`), the per-outlet
line counts (:mod:`~newsdedup.tasks.line_stats`), the kept documents' deduplication signatures
(:mod:`~newsdedup.tasks.dedup`) and the word index of ``query search``
(:mod:`~newsdedup.tasks.search_index`). Each is derived data: the database stays the truth.

The protocol, the same for all four: a save writes the files with a new token and then names
that token in the database's ``meta`` (:func:`save_with_token`); a load trusts the files only
when they carry the token the database names, else rebuilds from the database. A file another
run (another host, another copy of the home) wrote in between, a half-written save, or a
database dropped and filled again never pass. A stage that is about to change what a file
summarises clears its token first (:func:`distrust`), so a run killed midway leaves files the
next run rebuilds instead of trusting.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from .candidates import CandidateIndex
from .cluster_state import ClusterState
from .dedup import DedupIndex
from .ids import stable_id
from .line_stats import LineStats, Row
from .reuse import PreparedStore, prepare_docs
from .search_index import SearchIndex

__all__ = ["Meta", "index_dir", "save_with_token", "distrust", "load_index", "save_index", "load_cluster_state",
           "save_cluster_state", "load_line_stats", "save_line_stats", "load_dedup_index", "save_dedup_index",
           "search_dir", "load_search_index", "CLUSTER_STATE", "LINE_STATS", "DEDUP_INDEX"]

CLUSTER_STATE = "clusters.pkl"  # next to the candidate index
LINE_STATS = "line_stats.pkl"  # likewise
DEDUP_INDEX = "dedup.pkl"  # likewise
REBUILD_CHUNK = 1000  # documents read and prepared at a time when the index is rebuilt


class Meta(Protocol):
    """What the protocol needs of the store: its small ``meta`` records."""

    def get_meta(self, key: str) -> dict | None: ...

    def set_meta(self, key: str, fields: Mapping[str, Any]) -> None: ...


def index_dir(home: Path, uri: str, db_name: str) -> Path:
    """Where the derived state of one database lives: keyed by server (``uri``, password removed) and name."""
    return Path(home) / "index" / f"{db_name}-{stable_id(uri, db_name, length=16)}"


def save_with_token(meta: Meta, key: str, write: Callable[[str], Any], **fields: Any) -> None:
    """Write derived state with a new token (``write(token)``), then name that token in ``meta[key]``."""
    token = stable_id(key, time.time_ns(), os.getpid())
    write(token)
    meta.set_meta(key, {"token": token, **fields})


def distrust(meta: Meta, key: str) -> None:
    """The saved ``key`` state no longer describes the database (it is about to change)."""
    meta.set_meta(key, {"token": None})


def _token(meta: Meta, key: str) -> str | None:
    return (meta.get_meta(key) or {}).get("token")


# ---------------------------------------------------------------------------- index + prepared documents
def load_index(meta: Meta, directory: Path, doc_ids: Callable[[], Iterable[str]],
               read_docs: Callable[[list[str]], Iterable[Mapping[str, Any]]]
               ) -> tuple[CandidateIndex, PreparedStore, int | None]:
    """The candidate index and prepared-document store of ``directory`` if their token is current, else
    both rebuilt from the documents ``doc_ids()`` names (read with ``read_docs``). The third value is
    how many documents a rebuild indexed (None: the saved ones were used)."""
    token_file = directory / "TOKEN"
    token = token_file.read_text().strip() if token_file.exists() else None
    current = _token(meta, "index")
    if current and token == current:
        try:
            return CandidateIndex.load(directory), PreparedStore(directory / "prepared"), None
        except ValueError:  # an index written by an older version (no word frequencies): rebuilt below
            pass
    shutil.rmtree(directory / "prepared", ignore_errors=True)
    prepared = PreparedStore(directory / "prepared")
    index = CandidateIndex()
    ids = list(doc_ids())
    for i in range(0, len(ids), REBUILD_CHUNK):
        batch = prepare_docs(read_docs(ids[i:i + REBUILD_CHUNK]))
        index.add(batch, commit=False)
        for p in batch:
            prepared.put(p)
    index.commit()
    return index, prepared, len(ids)


def save_index(meta: Meta, index: CandidateIndex, prepared: PreparedStore, directory: Path) -> None:
    """Save the index and the prepared store, then name a new token in the file and the database.
    The old token file goes first: a run killed halfway through the writes leaves a mix of old and
    new files, which the next run must rebuild rather than trust."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "TOKEN").unlink(missing_ok=True)
    index.save(directory)
    prepared.save()
    save_with_token(meta, "index", (directory / "TOKEN").write_text, documents=len(index))


# ---------------------------------------------------------------------------- cluster state
def load_cluster_state(meta: Meta, directory: Path, rebuild: Callable[[], ClusterState]
                       ) -> tuple[ClusterState, bool]:
    """The cluster state saved by the last run if the database says it is current, else ``rebuild()``
    (from the stored matches and clusters); then marked not current until :func:`save_cluster_state`,
    because matches and clusters are about to change. The flag says whether it was rebuilt."""
    state = ClusterState.load(directory / CLUSTER_STATE, _token(meta, "cluster_state"))
    rebuilt = state is None
    if state is None:
        state = rebuild()
    distrust(meta, "cluster_state")
    return state, rebuilt


def save_cluster_state(meta: Meta, state: ClusterState, directory: Path) -> None:
    save_with_token(meta, "cluster_state", lambda token: state.save(directory / CLUSTER_STATE, token),
                    matches=state.n_matches, clusters=state.n_clusters)


# ---------------------------------------------------------------------------- per-outlet line counts
def load_line_stats(meta: Meta, directory: Path, rows: Callable[[int | None], Iterable[Row]], total: int
                    ) -> tuple[LineStats, bool]:
    """The line counts over every stored document (:meth:`LineStats.current`) and whether the saved
    file could be used."""
    return LineStats.current(directory / LINE_STATS, _token(meta, "line_stats"), rows, total)


def save_line_stats(meta: Meta, stats: LineStats, directory: Path) -> None:
    save_with_token(meta, "line_stats", lambda token: stats.save(directory / LINE_STATS, token),
                    documents=stats.n_docs, max_seq=stats.max_seq)


# ---------------------------------------------------------------------------- deduplication signatures
def load_dedup_index(meta: Meta, directory: Path, docs: Callable[[int | None], Iterable[Mapping[str, Any]]],
                     total: int) -> tuple[DedupIndex, bool]:
    """The kept documents' signatures (:meth:`DedupIndex.current`: the saved file extended with what was
    stored after it, or rebuilt from ``docs(None)``) and whether the saved file could be used."""
    return DedupIndex.current(directory / DEDUP_INDEX, _token(meta, "dedup"), docs, total)


def save_dedup_index(meta: Meta, index: DedupIndex, directory: Path) -> None:
    save_with_token(meta, "dedup", lambda token: index.save(directory / DEDUP_INDEX, token),
                    documents=len(index), max_seq=index.max_seq)


# ---------------------------------------------------------------------------- the search index
def search_dir(home: Path, uri: str, db_name: str) -> Path:
    """Where the word index of ``query search`` lives for one database (keyed like :func:`index_dir`)."""
    return Path(home) / "search" / f"{db_name}-{stable_id(uri, db_name, length=16)}"


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def load_search_index(meta: Meta, folder: Path, total: int,
                      docs_after: Callable[[int], Iterable[Mapping[str, Any]]]) -> SearchIndex:
    """The search index in ``folder``, first brought up to date with the database.

    Trusted while ``meta["search_index"]`` names its token and the documents it covers are all the
    ``total`` stored ones; extended with the documents stored since (``docs_after(max_seq)``: an
    ``ingest_seq`` range); rebuilt from all documents otherwise (a new or replaced database, a run
    that stored documents out of order). Processes updating it at once take turns (a file lock)."""
    with _folder_lock(folder):
        index = SearchIndex(folder)
        current = index.token is not None and _token(meta, "search_index") == index.token
        if current and int(index.meta.get("documents", 0)) == total:
            return index
        if not current or int(index.meta.get("documents", 0)) > total:
            shutil.rmtree(folder, ignore_errors=True)
            index = SearchIndex(folder)
        docs = list(docs_after(index.max_seq))
        if int(index.meta.get("documents", 0)) + len(docs) != total:  # documents below max_seq were missed
            shutil.rmtree(folder, ignore_errors=True)
            index = SearchIndex(folder)
            docs = list(docs_after(-1))
        token = stable_id("search_index", time.time_ns(), len(docs))
        index.add(docs, token=token)
        meta.set_meta("search_index", {"token": token, "documents": index.meta["documents"]})
        return index
