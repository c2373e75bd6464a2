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

In a served process (:mod:`~newsdedup.tasks.resident`) the saved objects also stay in memory under
their token; a load takes them back while the database still names that token, and reads the
files (or rebuilds) otherwise, exactly as a fresh process would.
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
from .resident import active
from .reuse import PreparedStore, prepare_docs
from .search_index import SearchIndex

__all__ = ["Meta", "index_dir", "save_with_token", "distrust", "load_index", "save_index", "load_cluster_state",
           "save_cluster_state", "load_line_stats", "save_line_stats", "load_dedup_index", "save_dedup_index",
           "warm", "search_dir", "load_search_index", "CLUSTER_STATE", "LINE_STATS", "DEDUP_INDEX"]

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


def save_with_token(meta: Meta, key: str, write: Callable[[str], Any], **fields: Any) -> str:
    """Write derived state with a new token (``write(token)``), then name that token in ``meta[key]``;
    returns the token."""
    token = stable_id(key, time.time_ns(), os.getpid())
    write(token)
    meta.set_meta(key, {"token": token, **fields})
    return token


def distrust(meta: Meta, key: str) -> None:
    """The saved ``key`` state no longer describes the database (it is about to change)."""
    meta.set_meta(key, {"token": None})


def _token(meta: Meta, key: str) -> str | None:
    return (meta.get_meta(key) or {}).get("token")


def _resident(directory: Path, key: str, token: str | None) -> Any | None:
    """What this process kept in memory for ``key`` under ``token`` (None: not a served process,
    nothing kept, or kept under another token: the database changed since)."""
    holder = active()
    return holder.take(directory, key, token) if holder is not None else None


def _keep(directory: Path, key: str, token: str, value: Any) -> bool:
    holder = active()
    if holder is None:
        return False
    holder.keep(directory, key, token, value)
    return True


# ---------------------------------------------------------------------------- index + prepared documents
def load_index(meta: Meta, directory: Path, doc_ids: Callable[[], Iterable[str]],
               read_docs: Callable[[list[str]], Iterable[Mapping[str, Any]]]
               ) -> tuple[CandidateIndex, PreparedStore, int | None]:
    """The candidate index and prepared-document store of ``directory`` if their token is current, else
    both rebuilt from the documents ``doc_ids()`` names (read with ``read_docs``). The third value is
    how many documents a rebuild indexed (None: the saved ones were used)."""
    current = _token(meta, "index")
    held = _resident(directory, "index", current)
    if held is not None:
        return held[0], held[1], None
    loaded = _index_from_disk(directory, current)
    if loaded is not None:
        return loaded[0], loaded[1], None
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


def _index_from_disk(directory: Path, current: str | None) -> tuple[CandidateIndex, PreparedStore] | None:
    token_file = directory / "TOKEN"
    token = token_file.read_text().strip() if token_file.exists() else None
    if current and token == current:
        try:
            return CandidateIndex.load(directory), PreparedStore(directory / "prepared")
        except ValueError:  # an index written by an older version (no word frequencies): rebuilt
            pass
    return None


def save_index(meta: Meta, index: CandidateIndex, prepared: PreparedStore, directory: Path) -> bool:
    """Save the index and the prepared store, then name a new token in the file and the database.
    The old token file goes first: a run killed halfway through the writes leaves a mix of old and
    new files, which the next run must rebuild rather than trust. True when a served process keeps
    both in memory (the prepared store is then left open: the caller closes it only on False)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "TOKEN").unlink(missing_ok=True)
    index.save(directory)
    prepared.save()
    token = save_with_token(meta, "index", (directory / "TOKEN").write_text, documents=len(index))
    return _keep(directory, "index", token, (index, prepared))


# ---------------------------------------------------------------------------- cluster state
def load_cluster_state(meta: Meta, directory: Path, rebuild: Callable[[], ClusterState]
                       ) -> tuple[ClusterState, bool]:
    """The cluster state saved by the last run if the database says it is current, else ``rebuild()``
    (from the stored matches and clusters); then marked not current until :func:`save_cluster_state`,
    because matches and clusters are about to change. The flag says whether it was rebuilt."""
    token = _token(meta, "cluster_state")
    state = _resident(directory, "cluster_state", token)
    if state is None:
        state = ClusterState.load(directory / CLUSTER_STATE, token)
    rebuilt = state is None
    if state is None:
        state = rebuild()
    distrust(meta, "cluster_state")
    return state, rebuilt


def save_cluster_state(meta: Meta, state: ClusterState, directory: Path) -> None:
    token = save_with_token(meta, "cluster_state", lambda token: state.save(directory / CLUSTER_STATE, token),
                            matches=state.n_matches, clusters=state.n_clusters)
    _keep(directory, "cluster_state", token, state)


# ---------------------------------------------------------------------------- per-outlet line counts
def load_line_stats(meta: Meta, directory: Path, rows: Callable[[int | None], Iterable[Row]], total: int
                    ) -> tuple[LineStats, bool]:
    """The line counts over every stored document (:meth:`LineStats.current`) and whether the saved
    counts (in memory or on disk) could be used."""
    token = _token(meta, "line_stats")
    return LineStats.current(directory / LINE_STATS, token, rows, total,
                             loaded=_resident(directory, "line_stats", token))


def save_line_stats(meta: Meta, stats: LineStats, directory: Path, *, changed: bool = True) -> None:
    """Save the counts with a new token; ``changed=False`` (no document was added to them, the saved
    file still serves) writes nothing and only keeps them in memory under the current token."""
    if changed:
        token = save_with_token(meta, "line_stats", lambda token: stats.save(directory / LINE_STATS, token),
                                documents=stats.n_docs, max_seq=stats.max_seq)
    else:
        token = _token(meta, "line_stats")
    if token:
        _keep(directory, "line_stats", token, stats)


# ---------------------------------------------------------------------------- warming a served process
def warm(meta: Meta, directory: Path) -> dict[str, bool]:
    """Read the saved state whose token the database names into memory, so a served process's first
    run does not wait for it (nothing is rebuilt here: a run rebuilds what could not be read). Call it
    under the lock the runs take (no run may be saving meanwhile). Which parts were loaded, by kind."""
    if active() is None:
        return {}
    out = {}
    token = _token(meta, "index")
    loaded = _index_from_disk(directory, token) if token else None
    if loaded is not None:
        _keep(directory, "index", token, loaded)
    out["index"] = loaded is not None
    token = _token(meta, "cluster_state")
    state = ClusterState.load(directory / CLUSTER_STATE, token)
    if state is not None:
        _keep(directory, "cluster_state", token, state)
    out["cluster_state"] = state is not None
    token = _token(meta, "line_stats")
    stats = LineStats.load(directory / LINE_STATS, token)
    if stats is not None:
        _keep(directory, "line_stats", token, stats)
    out["line_stats"] = stats is not None
    return out


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
