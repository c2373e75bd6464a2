"""Fork-based parallel map for the CPU-bound batch stages (analysis, alignment).

Why fork rather than a process-pool task runner: the inputs (prepared documents,
outlet statistics) are large and shared by many work items. Forked children
inherit them; only small work items and results cross process boundaries.
Shipping them per task through Prefect's process pool cost 10x the work itself.
Linux only (``fork``); elsewhere, or with ``workers <= 1``, it runs in-process.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = ["fork_map", "shared", "chunks"]

T = TypeVar("T")
R = TypeVar("R")

# What the children read: set by the parent just before forking, cleared after.
shared: dict[str, Any] = {}
# One pool at a time: concurrent task threads would overwrite each other's ``shared``.
_LOCK = threading.Lock()


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """``items`` cut into consecutive slices of ``size`` (the last one shorter)."""
    return [items[k:k + size] for k in range(0, len(items), size)]


def _child_init() -> None:
    """Forked children keep the parent's signal handlers (Prefect's raises on SIGTERM, which the
    pool sends when it closes): restore the defaults."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle


def _run(args: tuple[Callable[[Any], Any], Any]) -> Any:
    fn, chunk = args
    return fn(chunk)


def fork_map(fn: Callable[[Sequence[T]], R], items: Sequence[T], *, workers: int = 1, chunk_size: int = 500,
             state: dict[str, Any] | None = None) -> list[R]:
    """``[fn(chunk) for chunk in chunks(items)]``, in order, over ``workers`` forked processes.

    ``fn`` must be a module-level function; it reads large inputs from :data:`shared`
    (filled from ``state``), which children inherit without pickling.
    """
    parts = chunks(items, chunk_size)
    with _LOCK:
        shared.clear()
        shared.update(state or {})
        try:
            if workers <= 1 or len(parts) <= 1 or sys.platform != "linux":
                return [fn(c) for c in parts]
            with mp.get_context("fork").Pool(min(workers, len(parts)), initializer=_child_init) as pool:
                return list(pool.imap(_run, [(fn, c) for c in parts]))
        finally:
            shared.clear()
