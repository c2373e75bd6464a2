"""Derived state kept in memory between the runs of one long-lived process (``newsdedup serve``).

A fresh ``newsdedup run`` loads the candidate index, the cluster state and the per-outlet line
counts from disk (:mod:`~newsdedup.tasks.derived_state`) and drops them when it exits; at the
full SaudiNewsNet corpus that loading is seconds of every run, however few its new articles.
A served process keeps them here instead: after a run saved them (files and token, as always),
the objects stay in memory under the token they were saved with, and the next run of the same
process takes them back instead of reading the files.

The database stays the judge, exactly as for the files: :meth:`ResidentState.take` hands an object
back only while the database's ``meta`` still names the token it was kept under. A run started
anywhere else since (another host, the CLI, a second ``serve``) saved with a new token, so the
object is dropped and the state read from disk or rebuilt, as a fresh process would. A run that
fails keeps nothing: what it took was possibly half-updated, and it is never given back.

Objects are handed out, not shared: :meth:`take` removes them, so two runs of one process can never
update the same object. Plain Python, no Prefect: the serving process turns it on with
:func:`activate`; nothing else does, so every other process works from disk as before.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["ResidentState", "activate", "deactivate", "active"]


class ResidentState:
    """Objects by ``(directory, kind)``, each with the token it was saved under."""

    def __init__(self) -> None:
        self._held: dict[tuple[str, str], tuple[str, Any]] = {}
        self._lock = threading.Lock()
        self.counts: Counter = Counter()  # hits, misses and stale takes per kind (the bench reports them)
        self.last: dict[str, str] = {}  # kind -> "memory" | "not held" | "outdated": the latest take of each

    def begin_run(self) -> None:
        """Forget which takes the previous run made (what :attr:`last` reports is then this run's)."""
        self.last.clear()

    @staticmethod
    def _key(directory: Path | str, kind: str) -> tuple[str, str]:
        return str(Path(directory).resolve()), kind

    def take(self, directory: Path | str, kind: str, token: str | None) -> Any | None:
        """The object kept for ``(directory, kind)`` if it was kept under ``token`` (the one the database
        names now), else None. Either way nothing stays held for that key until :meth:`keep`."""
        with self._lock:
            held = self._held.pop(self._key(directory, kind), None)
        if held is None:
            self.counts[f"{kind}_miss"] += 1
            self.last[kind] = "not held"
            return None
        if not token or held[0] != token:
            self.counts[f"{kind}_stale"] += 1
            self.last[kind] = "outdated"
            _close(held[1])
            return None
        self.counts[f"{kind}_hit"] += 1
        self.last[kind] = "memory"
        return held[1]

    def keep(self, directory: Path | str, kind: str, token: str, value: Any) -> None:
        """Keep ``value`` as the state saved under ``token`` (replacing whatever was kept)."""
        with self._lock:
            old = self._held.pop(self._key(directory, kind), None)
            self._held[self._key(directory, kind)] = (token, value)
        if old is not None and old[1] is not value:
            _close(old[1])

    def held(self, directory: Path | str, kind: str) -> bool:
        with self._lock:
            return self._key(directory, kind) in self._held

    def clear(self) -> None:
        """Drop everything (files left open by kept objects are closed)."""
        with self._lock:
            held, self._held = self._held, {}
        for _, value in held.values():
            _close(value)

    def __len__(self) -> int:
        with self._lock:
            return len(self._held)


def _close(value: Any) -> None:
    """Close what a dropped object holds open (the prepared-document store of an index)."""
    for part in value if isinstance(value, tuple) else (value,):
        close = getattr(part, "close", None)
        if callable(close):
            close()


_ACTIVE: ResidentState | None = None


def activate() -> ResidentState:
    """Keep derived state in memory between the runs of this process (idempotent)."""
    global _ACTIVE
    if _ACTIVE is None:
        _ACTIVE = ResidentState()
    return _ACTIVE


def deactivate() -> None:
    """Back to working from disk only; what was kept is dropped."""
    global _ACTIVE
    if _ACTIVE is not None:
        _ACTIVE.clear()
    _ACTIVE = None


def active() -> ResidentState | None:
    """The process's holder, or None when the process does not keep state between runs."""
    return _ACTIVE
