"""Per-outlet line frequencies of the stored documents, kept on disk next to the candidate index.

Boilerplate is learned from how many of an outlet's documents contain each line
(:mod:`newsdedup.tasks.boilerplate`), so every run needs those counts over all stored documents.
Reading every document's ``line_keys`` back costs ~2 s at 30,000 SaudiNewsNet articles, which
alone is 8% of a one-day run. Here the counts are saved with the largest ``ingest_seq`` they
cover; the next run reads only the documents stored after it (one range on the ``ingest_seq``
index).

It is derived data, trusted under two checks, else rebuilt from a full read:
- the file's token equals the one in the database's ``meta`` (the file belongs to this
  database: a dropped and re-filled database, or another database's file, never passes);
- the documents it covers plus those stored after it are exactly as many as the database's
  running document total (documents are never deleted; a document another run stored with a
  smaller ``ingest_seq`` than the file covers would be missing from both and is caught here).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from .persist import load_pickle, save_pickle

__all__ = ["LineStats", "merged"]

_FORMAT = 1
Row = tuple[str | None, int | None, Sequence[str]]  # (outlet, ingest_seq, line keys) of one stored document


class LineStats:
    """``outlet -> (documents, Counter{line key: documents containing it})`` over a set of stored
    documents, with how many they are and the largest ``ingest_seq`` among them."""

    def __init__(self) -> None:
        self.outlets: dict[str | None, tuple[int, Counter]] = {}
        self.n_docs = 0
        self.max_seq = -1

    def add(self, outlet: str | None, seq: int | None, keys: Iterable[str]) -> None:
        """Count one stored document."""
        n, c = self.outlets.get(outlet, (0, Counter()))
        c.update(keys)  # distinct per document already (analyze.segment_and_key)
        self.outlets[outlet] = (n + 1, c)
        self.n_docs += 1
        if seq is not None:
            self.max_seq = max(self.max_seq, int(seq))

    def add_all(self, rows: Iterable[Row]) -> int:
        """Count ``(outlet, ingest_seq, line_keys)`` rows; returns how many."""
        n = 0
        for outlet, seq, keys in rows:
            self.add(outlet, seq, keys)
            n += 1
        return n

    def of(self, outlets: Iterable[str | None]) -> dict[str | None, tuple[int, dict[str, int]]]:
        """The counts of these outlets (``(0, {})`` for an outlet with no stored document); shared, not copied."""
        return {o: self.outlets.get(o, (0, Counter())) for o in outlets}

    # ------------------------------------------------------------ persistence
    def save(self, path: Path, token: str) -> None:
        save_pickle(path, {"format": _FORMAT, "token": token, "n_docs": self.n_docs, "max_seq": self.max_seq,
                           "outlets": self.outlets})

    @classmethod
    def load(cls, path: Path, token: str | None) -> "LineStats | None":
        payload = load_pickle(path, _FORMAT, token)
        if payload is None:
            return None
        st = cls()
        st.outlets, st.n_docs, st.max_seq = payload["outlets"], int(payload["n_docs"]), int(payload["max_seq"])
        return st

    @classmethod
    def current(cls, path: Path, token: str | None, rows: Callable[[int | None], Iterable[Row]],
                total: int) -> tuple["LineStats", bool]:
        """The counts over every stored document, and whether the saved file could be used.

        ``rows(seq)`` yields ``(outlet, ingest_seq, line_keys)`` of the documents stored with a larger
        ``ingest_seq``, ``rows(None)`` of every stored document (the fallback); ``total`` is the
        database's document count."""
        st = cls.load(path, token)
        if st is not None:
            st.add_all(rows(st.max_seq))
            if st.n_docs == total:
                return st, True
        st = cls()
        st.add_all(rows(None))
        return st, False


def merged(stored: Mapping[str | None, tuple[int, Mapping[str, int]]],
           run: Mapping[str | None, tuple[int, Counter]]) -> dict[str | None, tuple[int, dict[str, int]]]:
    """Stored counts plus this run's new documents, per outlet of the run (stored ones untouched)."""
    out: dict[str | None, tuple[int, dict[str, int]]] = {}
    for o, (n, c) in run.items():
        n0, c0 = stored.get(o, (0, {}))
        both = dict(c0)
        for k, v in c.items():
            both[k] = both.get(k, 0) + v
        out[o] = (n0 + n, both)
    return out
