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


_BLOCKED = {signal.SIGTERM, signal.SIGINT}


def _child_init() -> None:
    """Forked children keep the parent's signal handlers (Prefect's raises on SIGTERM): restore the
    defaults, then let the signals in that :func:`fork_map` blocked across the fork."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _BLOCKED)


def _pool(workers: int) -> Any:
    """A fork pool whose children cannot be stopped half-born.

    A child runs the parent's at-fork handlers (pymongo's resets its clients) before the pool's
    initializer; a SIGTERM arriving then ran the parent's handler (Prefect's raises), the handler's
    exception was swallowed by the at-fork machinery, and the child went on to wait for work that
    never came while the parent waited for it to exit: a run hung for good (seen under load, when
    ``Pool.terminate`` raced a second child's start). SIGTERM and SIGINT are blocked in this thread
    while the children are forked (they inherit the mask) and unblocked by :func:`_child_init`."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _BLOCKED)
    try:
        return mp.get_context("fork").Pool(workers, initializer=_child_init)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


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
            pool = _pool(min(workers, len(parts)))
            try:
                out = list(pool.imap(_run, [(fn, c) for c in parts]))
                pool.close()  # workers finish and exit on their own: no signal to race their start
                return out
            except Exception:
                # a chunk raised: the workers are sound, so they finish the queued chunks and exit. Terminating
                # them instead could hang for good: a worker killed while it held the result queue's lock (it
                # was putting a result) leaves the pool's task thread blocked on that lock, and terminate()
                # joins that thread (under load, 2 runs in 8 of tests/test_parallel.py's half-born test hung)
                pool.close()
                raise
            except BaseException:
                pool.terminate()  # Ctrl-C, SystemExit: stop now (the same lock can still hang this path)
                raise
            finally:
                pool.join()
        finally:
            shared.clear()
