"""Prefect plumbing shared by the flows: how big inputs are passed, which failures retry, write-behind."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff
from prefect.utilities.annotations import quote as _prefect_quote
from pymongo.errors import AutoReconnect, ConnectionFailure, ServerSelectionTimeoutError

__all__ = ["quote", "retry_on_db_error", "DB_TASK", "COMPUTE_TASK", "write_behind"]

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
