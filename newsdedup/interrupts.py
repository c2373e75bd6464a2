"""Ctrl-C that is never lost, and never misreported.

Prefect's flow engine drops a ``KeyboardInterrupt`` raised after the flow function returned (it
logs "BaseException was raised after user code finished executing", e.g. while it joins its
heartbeat thread), and a ``KeyboardInterrupt`` raised while the main thread waits inside Prefect's
sync bridge can be lost there too. The handler installed here raises ``KeyboardInterrupt`` as
Python's own does and also records the press, so that

- the flow raises it again at its next :func:`checkpoint` (the run is recorded as interrupted);
- a served process stops serving although the exception went astray;
- the CLI can tell a press that stopped a run from one that came after the run was recorded
  completed (:func:`completed_run`), and exits 130 in both cases without a traceback.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

_pressed = threading.Event()
_completed: list[str] = []  # ids of the runs this process recorded completed since install()
_deferring: list[bool] = []  # inside deferred()


def install() -> Any:
    """Install the recording handler (main thread only); returns the previous handler, None elsewhere."""
    if threading.current_thread() is not threading.main_thread():
        return None
    _pressed.clear()
    _completed.clear()
    return signal.signal(signal.SIGINT, _handler)


def _handler(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
    _pressed.set()
    if not _deferring:
        raise KeyboardInterrupt


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Ctrl-C inside the block is recorded, not raised: for steps that must not be cut in two (the
    completed record of a run and the note of it); the press is acted on after the block."""
    _deferring.append(True)
    try:
        yield
    finally:
        _deferring.pop()


def restore(previous: Any) -> None:
    """Put the previous handler back and forget the presses: code that runs flows in a process of its
    own (a test session, a notebook) must not meet a press that belonged to a finished command."""
    _pressed.clear()
    if previous is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, previous)


def pressed() -> bool:
    return _pressed.is_set()


def wait(timeout: float) -> bool:
    """Sleep up to ``timeout`` seconds, waking at once on Ctrl-C; True if it was pressed."""
    return _pressed.wait(max(0.0, timeout))


def checkpoint() -> None:
    """Raise ``KeyboardInterrupt`` here if Ctrl-C was pressed and its exception got lost on the way
    (in the main thread only, where Python raises it too; never inside :func:`deferred`)."""
    if _pressed.is_set() and not _deferring and threading.current_thread() is threading.main_thread():
        raise KeyboardInterrupt


def note_completed(run_id: str) -> None:
    """The run is recorded completed: a later Ctrl-C in this process no longer stops it."""
    _completed.append(run_id)


def completed_run() -> str | None:
    return _completed[-1] if _completed else None


def after_completion() -> str:
    """What a Ctrl-C after the run was recorded completed means for the user."""
    return f"newsdedup: interrupted after run {completed_run()} had completed; its results are complete"


def quiet_exit() -> None:
    """From here to the end of the process a Ctrl-C exits with 130 at once: no traceback from the
    interpreter's shutdown (database client threads, Prefect's event worker), no death by signal."""
    if threading.current_thread() is not threading.main_thread():
        return
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass

    def leave(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
        os.write(2, (f"{after_completion()}\n" if completed_run() else "newsdedup: interrupted\n").encode())
        os._exit(130)

    signal.signal(signal.SIGINT, leave)
