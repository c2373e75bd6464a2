"""Prefect plumbing shared by the flows: how big inputs are passed, which failures retry, write-behind."""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import Future
from typing import Any

from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff
from prefect.utilities.annotations import quote as _prefect_quote
from pymongo.errors import AutoReconnect, ConnectionFailure, ServerSelectionTimeoutError

from newsdedup import progress

__all__ = ["quote", "retry_on_db_error", "DB_TASK", "COMPUTE_TASK", "write_behind", "ProgressArtifact"]

DB_ERRORS = (AutoReconnect, ConnectionFailure, ServerSelectionTimeoutError)


class quote(_prefect_quote):
    """Prefect's ``quote``: big task inputs (documents, passages, prepared pairs) are passed as they are.

    Without it Prefect walks every element of every task input looking for futures
    (``visit_collection``), which cost more than the alignment itself (2.7 s per 400
    prepared pairs vs 0.25 s to align them). Prefect's own class does not survive
    pickling (it comes back wrapped twice, as a 1-tuple), which process-pool and Dask
    workers need, hence ``__getnewargs__``."""

    __slots__ = ()

    def __getnewargs__(self):
        return (self[0],)


def retry_on_db_error(task, task_run, state) -> bool:  # noqa: ARG001 - Prefect's signature
    """Retry only when MongoDB was unreachable: other errors are bugs or bad data, retrying won't help."""
    try:
        state.result()
    except DB_ERRORS:
        return True
    except Exception:  # noqa: BLE001
        return False
    return False


DB_TASK = dict(cache_policy=NO_CACHE, retries=4, retry_delay_seconds=exponential_backoff(backoff_factor=2),
               retry_jitter_factor=0.5, retry_condition_fn=retry_on_db_error)
COMPUTE_TASK = dict(cache_policy=NO_CACHE)


def in_process() -> bool:
    """Whether the flow's task runner runs tasks in this process (threads): they share its objects
    (a database client, an index forked workers inherit); Dask workers would get copies, or nothing."""
    ctx = FlowRunContext.get()
    return ctx is not None and isinstance(ctx.task_runner, ThreadPoolTaskRunner)


def write_behind(db_task, *args: Any) -> Any:
    """Start a database-writing task so the flow goes on while the server writes, when the task
    runner runs tasks in this process (threads share the client); elsewhere (Dask: a client does
    not travel to another process) run it here and now. Either way ``.result()`` gives its value."""
    if in_process():
        return db_task.submit(*args)
    done: Future = Future()
    done.set_result(db_task(*args))
    return done


class ProgressArtifact:
    """Keeps the run's Prefect progress artifact (``ingest-progress``) at the run's overall fraction
    (:meth:`newsdedup.progress.Tracker.overall`), updated every ``every`` seconds while it changes.

    The API calls are made by a daemon thread of its own, never by the thread that reports progress:
    a Ctrl-C that reached the main thread inside Prefect's synchronous API bridge came out of it as
    an ``AssertionError``, which a progress display must swallow, and the run went on."""

    def __init__(self, every: float = 2.0):
        self.every = every
        self.pending: float | None = None
        self.shown = -1.0
        self.id = None
        self._stop = threading.Event()
        try:
            self.id = create_progress_artifact(progress=0.0, key="ingest-progress",
                                               description="newsdedup ingest: share of the run done")
        except Exception:  # noqa: BLE001 - the UI's progress bar must never stop a run
            self.id = None
        self._thread = threading.Thread(target=self._push, name="progress-artifact", daemon=True)
        if self.id is not None:
            self._thread.start()
        progress.tracker().listeners.append(self)

    def __call__(self, tracker: progress.Tracker, st: progress.StageState) -> None:
        self.pending = round(100.0 * tracker.overall(), 1)

    def _send(self) -> None:
        pct = self.pending
        if pct is not None and pct != self.shown:
            with contextlib.suppress(Exception):
                update_progress_artifact(artifact_id=self.id, progress=pct)
                self.shown = pct

    def _push(self) -> None:
        while not self._stop.wait(self.every):
            self._send()

    def done(self, complete: bool = True) -> None:
        """Stop updating (at 100 % when the run completed); safe to call twice."""
        with contextlib.suppress(ValueError):
            progress.tracker().listeners.remove(self)
        self._stop.set()
        if self.id is not None and self._thread.is_alive():
            self._thread.join(timeout=10)
        if self.id is not None and complete:
            self.pending = 100.0
            self._send()
