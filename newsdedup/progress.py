"""Progress of a run: stages with counts and totals, shown on the terminal and sent to listeners.

The flow reports what it does (:func:`stage`, :func:`advance`); who shows it is decided by the
caller: ``newsdedup run`` installs a Rich display on stderr when stderr is a terminal (Rich comes
with Prefect), and the flow adds a listener that keeps a Prefect progress artifact up to date, so
the UI shows how far a run is. ``--quiet`` installs no display. Nothing is ever written to stdout
(``--json`` output stays one JSON object).

The stages and their typical share of a run's time (SaudiNewsNet, bench/results/scale.json) give
the overall fraction that the artifact shows.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from . import interrupts

# stage → (label, unit, share of a typical run's time)
STAGES: dict[str, tuple[str, str, float]] = {
    "scan": ("scan inputs", "files", 0.08),
    "analyze": ("analyze and store documents", "docs", 0.12),
    "index": ("prepare and index", "docs", 0.12),
    "align": ("find and align reuse", "docs", 0.45),
    "clusters": ("update clusters", "steps", 0.08),
    "passages": ("write passages", "docs", 0.15),
}


@dataclass
class StageState:
    name: str
    total: int | None = None
    done: int = 0
    started: float = field(default_factory=time.monotonic)
    finished: bool = False

    @property
    def fraction(self) -> float:
        if self.finished:
            return 1.0
        if not self.total:
            return 0.0
        return min(1.0, self.done / self.total)


class Tracker:
    """The stages of one run and the listeners told about every change (thread-safe)."""

    def __init__(self) -> None:
        self.stages: dict[str, StageState] = {}
        self.listeners: list[Callable[["Tracker", StageState], None]] = []
        self._lock = threading.Lock()

    def overall(self) -> float:
        """Fraction of the run done, by the stages' typical shares (stages not run count as done
        once a later stage has started)."""
        names = list(STAGES)
        started = [n for n in names if n in self.stages]
        if not started:
            return 0.0
        last = max(names.index(n) for n in started)
        done = 0.0
        for i, n in enumerate(names):
            share = STAGES[n][2]
            st = self.stages.get(n)
            if st is not None:
                done += share * st.fraction
            elif i < last:
                done += share
        return min(1.0, done / sum(s[2] for s in STAGES.values()))

    def _tell(self, st: StageState) -> None:
        for fn in list(self.listeners):
            with contextlib.suppress(Exception):  # a display must never break a run
                fn(self, st)
        interrupts.checkpoint()  # every report is a point where a Ctrl-C that Prefect lost stops the run

    def stage(self, name: str, total: int | None) -> None:
        with self._lock:
            prev = self.stages.get(name)
            st = self.stages[name] = StageState(name, total, prev.done if prev else 0)
        self._tell(st)

    def advance(self, name: str, n: int = 1) -> None:
        with self._lock:
            st = self.stages.setdefault(name, StageState(name))
            st.done += n
        self._tell(st)

    def finish(self, name: str) -> None:
        with self._lock:
            st = self.stages.setdefault(name, StageState(name))
            st.finished = True
            if st.total is None:
                st.total = st.done
        self._tell(st)


_tracker = Tracker()


def tracker() -> Tracker:
    return _tracker


def stage(name: str, total: int | None) -> None:
    """A stage starts (``total`` units of work, None when unknown)."""
    _tracker.stage(name, total)


def advance(name: str, n: int = 1) -> None:
    _tracker.advance(name, n)


def finish(name: str) -> None:
    _tracker.finish(name)


def reset() -> Tracker:
    """A fresh tracker for a new run; listeners stay installed."""
    global _tracker
    old = _tracker
    _tracker = Tracker()
    _tracker.listeners = old.listeners
    return _tracker


class _RichDisplay:
    """One Rich progress bar per stage on stderr: description, bar, done/total, rate, elapsed, ETA."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(TextColumn("{task.description:<28}"), BarColumn(bar_width=30),
                                 MofNCompleteColumn(), TextColumn("{task.fields[unit]}"),
                                 TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                                 console=Console(file=sys.stderr), refresh_per_second=4, transient=False)
        self.tasks: dict[str, int] = {}

    def __call__(self, tr: Tracker, st: StageState) -> None:
        label, unit, _ = STAGES.get(st.name, (st.name, "", 0.0))
        tid = self.tasks.get(st.name)
        if tid is None:
            tid = self.tasks[st.name] = self.progress.add_task(label, total=st.total, unit=unit)
        self.progress.update(tid, total=st.total, completed=st.total if st.finished and st.total else st.done)

    def __enter__(self) -> "_RichDisplay":
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


@contextlib.contextmanager
def progress_reporter(*, enabled: bool = True, force: bool = False) -> Iterator[None]:
    """Show the run's progress on stderr while the block runs, if ``enabled`` and stderr is a
    terminal (or ``force``)."""
    reset()
    if not enabled or not (force or sys.stderr.isatty()):
        yield
        return
    display = _RichDisplay()
    _tracker.listeners.append(display)
    try:
        with display:
            yield
    finally:
        with contextlib.suppress(ValueError):
            _tracker.listeners.remove(display)
