"""``newsdedup serve``: the ingest deployment served by one resident process that keeps its state.

Why not Prefect's ``flow.serve``: Prefect 3.8's runner executes every flow run in a new process
(``run_flow_in_subprocess``, a ``multiprocessing`` *spawn*: a fresh interpreter that imports
Prefect and newsdedup again), so nothing a run loaded survives it, and every scheduled run paid
the ~4 s of start-up plus reading the candidate index, the cluster state and the line counts from
disk. Here the deployment is registered the same way (its schedule, the Prefect UI, ``prefect
deployment run`` and ``run_deployment`` all work as before), but this process takes the
deployment's due runs itself, with the API calls Prefect's runner makes (scheduled runs of the
deployment, claimed by proposing ``Pending``, so two servers never run the same one), and runs
them here with Prefect's own engine (``prefect.flow_engine.run_flow``), one at a time. The
derived state stays in memory between runs (:mod:`newsdedup.tasks.resident`), checked against
the database's tokens on every run, so a run elsewhere (the CLI, another host, another server)
is noticed and the state read again.

``watch``: files appearing in PATH start a run within ``debounce`` seconds of the last change
(watchfiles: the operating system's file events, batched until nothing changed for that long).
Such a run is a run of the deployment that reads only the changed files
(:func:`~newsdedup.flows.ingest.ingest`'s ``only``), so it costs what those files cost. On start
one run over the whole of PATH catches up with what arrived while nothing was watching.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from newsdedup import interrupts
from newsdedup.config import load_settings, redact_uri
from newsdedup.db import Store, resolve_uri
from newsdedup.tasks import derived_state, resident
from newsdedup.tasks.readers.walk import is_junk

from .ingest import ingest
from .serve import deployment_parameters, trigger_command

__all__ = ["ServeOptions", "ResidentServer", "serve_resident", "watched_changes"]

MAX_BATCH_FACTOR = 10  # a steady stream of changes still starts a run after this many debounce periods


@dataclass
class ServeOptions:
    paths: list[str]
    cron: str | None = None
    watch: bool = False
    debounce: float = 1.0
    manifest: str | None = None
    outlet: str | None = None
    field_map: dict[str, str] | None = None
    db: str | None = None
    name: str = "newsdedup-ingest"
    workers: int = 1
    poll: float | None = None  # seconds between looks for due scheduled runs (default: Prefect's runner setting)
    extra: dict[str, Any] = field(default_factory=dict)  # more deployment parameters


def watched_changes(changes: Iterable[tuple[Any, str]], roots: Iterable[str | Path]) -> list[str]:
    """The paths worth a run among watchfiles' ``(change, path)`` pairs: added or modified files and
    added folders under ``roots``, that still exist, with no hidden or junk part below their root
    (the walker would skip them anyway: editors' swap files, ``.partial`` downloads, ``.DS_Store``)."""
    from watchfiles import Change

    roots = [os.path.abspath(os.fspath(r)) for r in roots]
    out: set[str] = set()
    for change, path in changes:
        if change == Change.deleted:
            continue
        path = os.path.abspath(path)
        root = next((r for r in roots if path == r or path.startswith(r.rstrip(os.sep) + os.sep)), None)
        if root is None:
            continue
        rel = os.path.relpath(path, root) if path != root else ""
        if any(is_junk(part) for part in Path(rel).parts):
            continue
        if os.path.isfile(path) or (change == Change.added and os.path.isdir(path)):
            out.add(path)
    # a folder that was added covers the files found in it
    return sorted(p for p in out if not any(p != q and p.startswith(q.rstrip(os.sep) + os.sep) for q in out))


class ResidentServer:
    """The served deployment: registration, warm state, the run loop, and a clean stop."""

    def __init__(self, opts: ServeOptions, out: TextIO | None = None) -> None:
        self.opts = opts
        self.out = out or sys.stdout
        self.params = {**deployment_parameters(opts.paths, opts.manifest, opts.outlet, opts.field_map, opts.db),
                       "workers": opts.workers, **opts.extra}
        self.deployment_id = None
        self.runs = 0
        self._changes: queue.Queue[list[str]] = queue.Queue()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle
    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def register(self) -> Any:
        """Create or update the deployment (schedule unpaused; a watched one without a cron has none)."""
        o = self.opts
        what = (f"on '{o.cron}'" if o.cron else "") + (" and " if o.cron and o.watch else "") + \
               ("on new files" if o.watch else "")
        dep = ingest.to_deployment(name=o.name, cron=o.cron or None, parameters=self.params, tags=["newsdedup"],
                                   description=f"newsdedup ingest of {', '.join(o.paths)} {what} "
                                               "(served by a resident process)")
        self.deployment_id = dep.apply()
        return self.deployment_id

    def warm(self) -> dict[str, bool]:
        """Read the saved derived state into memory now, so the first run does not wait for it. Skipped
        (the first run loads it) while another run holds the lock."""
        settings = load_settings(self.params["db"])
        store = Store.open(settings)
        try:
            directory = derived_state.index_dir(settings.home, redact_uri(resolve_uri(settings)), settings.db_name)
            try:
                with store.lock("reuse", wait=0):
                    return derived_state.warm(store, directory)
            except TimeoutError:
                return {}
        finally:
            store.close()

    def start_watching(self) -> None:
        from watchfiles import watch

        roots = list(self.params["paths"])
        quiet = max(50, int(self.opts.debounce * 1000))

        def loop() -> None:
            try:
                for batch in watch(*roots, stop_event=self._stop, step=quiet, debounce=quiet * MAX_BATCH_FACTOR,
                                   watch_filter=None, raise_interrupt=False, yield_on_timeout=False):
                    wanted = watched_changes(batch, roots)
                    if wanted:
                        self._changes.put(wanted)
            except Exception as exc:  # noqa: BLE001 - the server goes on with its schedule
                print(f"newsdedup: watching {', '.join(roots)} stopped: {type(exc).__name__}: {exc}", file=sys.stderr)

        self._watcher = threading.Thread(target=loop, name="newsdedup-watch", daemon=True)
        self._watcher.start()

    def close(self, pause: bool) -> None:
        """Stop watching; ``pause``: pause the schedule (as Prefect's serve does when it stops)."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=10)
        if pause and self.opts.cron and self.deployment_id is not None:
            from prefect.client.orchestration import get_client

            with contextlib.suppress(Exception), get_client(sync_client=True) as client:
                client.pause_deployment(self.deployment_id)
        resident.deactivate()

    # ------------------------------------------------------------ runs
    def _execute(self, client: Any, flow_run: Any) -> Any:
        """Claim a flow run of the deployment (``Pending``) and run it here; None if another runner took it."""
        from prefect.exceptions import Abort
        from prefect.flow_engine import run_flow
        from prefect.states import Pending
        from prefect.utilities.engine import propose_state_sync

        try:
            state = propose_state_sync(client, Pending(), flow_run_id=flow_run.id)
        except Abort:
            return None
        if not state.is_pending():
            return None
        t = time.monotonic()
        final = run_flow(ingest, flow_run=client.read_flow_run(flow_run.id), return_type="state")
        self.runs += 1
        self._report(flow_run, final, time.monotonic() - t)
        return final

    def _report(self, flow_run: Any, final: Any, seconds: float) -> None:
        summary = None
        if final is not None and final.is_completed():
            with contextlib.suppress(Exception):
                summary = final.result()
        if isinstance(summary, dict) and "counts" in summary:
            c = summary["counts"]
            self.say(f"run {flow_run.name} {summary.get('status')} in {seconds:.1f}s: {c.get('documents', 0)} new "
                     f"documents, {c.get('matches', 0)} matches, {c.get('clusters', 0)} clusters updated, "
                     f"{c.get('claim_events', 0)} claim events")
        else:
            self.say(f"run {flow_run.name} ended {getattr(final, 'type', final)} after {seconds:.1f}s"
                     + (f": {final.message}" if getattr(final, "message", None) else ""))

    def run_due(self, client: Any) -> int:
        """Run the deployment's scheduled runs that are due (earliest first); returns how many ran."""
        runs = client.get_scheduled_flow_runs_for_deployments(
            deployment_ids=[self.deployment_id], scheduled_before=dt.datetime.now(dt.timezone.utc))
        n = 0
        for fr in sorted(runs, key=lambda r: (r.next_scheduled_start_time is None, r.next_scheduled_start_time)):
            n += self._execute(client, fr) is not None
        return n

    def run_changed(self, client: Any, only: list[str] | None) -> Any:
        """A run of the deployment now, over ``only`` (None: all of PATH)."""
        params = {} if only is None else {"only": only}
        fr = client.create_flow_run_from_deployment(self.deployment_id, parameters=params,
                                                    tags=["newsdedup", "watch"])
        return self._execute(client, fr)

    def _drain_changes(self, timeout: float) -> list[str] | None:
        try:
            got = set(self._changes.get(timeout=max(0.0, timeout)))
        except queue.Empty:
            return None
        while True:
            try:
                got.update(self._changes.get_nowait())
            except queue.Empty:
                return sorted(got)

    def serve_forever(self) -> None:
        """The loop: changed files first, due scheduled runs every ``poll`` seconds."""
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_RUNNER_POLL_FREQUENCY

        poll = float(self.opts.poll if self.opts.poll is not None else PREFECT_RUNNER_POLL_FREQUENCY.value())
        next_poll = time.monotonic()
        with get_client(sync_client=True) as client:
            if self.opts.watch:
                self._guarded(lambda: self.run_changed(client, None))  # catch up with what arrived meanwhile
            while True:
                # a KeyboardInterrupt lost inside Prefect's sync bridge: serving stops all the same
                interrupts.checkpoint()
                changed = self._drain_changes(next_poll - time.monotonic()) if self.opts.watch else None
                if changed is None and not self.opts.watch:
                    interrupts.wait(next_poll - time.monotonic())
                if changed:
                    self._guarded(lambda: self.run_changed(client, changed))
                if time.monotonic() >= next_poll:
                    self._guarded(lambda: self.run_due(client))
                    next_poll = time.monotonic() + poll

    def _guarded(self, step) -> None:
        """One step of the loop; an unreachable API or a failed run is reported and the server goes on."""
        try:
            step()
        except Exception as exc:  # noqa: BLE001
            print(f"newsdedup: {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}",
                  file=sys.stderr, flush=True)


def serve_resident(opts: ServeOptions, out: TextIO | None = None) -> None:
    """Block serving the deployment. Ctrl-C (``KeyboardInterrupt``) and SIGTERM stop it and pause the
    schedule; ``KeyboardInterrupt`` is re-raised (``newsdedup`` exits 130), SIGTERM exits 143."""
    from prefect.settings import PREFECT_UI_URL

    server = ResidentServer(opts, out)

    def terminated(signum, frame):  # noqa: ARG001 - signal handler signature
        raise SystemExit(128 + signal.SIGTERM)

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, terminated) if main else None
    previous_int = interrupts.install()  # Ctrl-C raises and is recorded (newsdedup/interrupts.py)
    try:
        server.register()
        resident.activate()
        warmed = server.warm()
        if opts.watch:
            server.start_watching()
        o = opts
        server.say(f"serving deployment 'ingest/{o.name}' in this process (runs keep the index and clusters in "
                   f"memory{': loaded ' + ', '.join(k for k, v in warmed.items() if v) if any(warmed.values()) else ''})")
        if o.cron:
            server.say(f"  schedule: '{o.cron}'")
        if o.watch:
            server.say(f"  watching {', '.join(server.params['paths'])}: a run {o.debounce:g}s after files stop changing")
        server.say("start a run now, from any shell:")  # not "run ...": each run's line starts so
        server.say(f"  {trigger_command(f'{ingest.name}/{o.name}', os.environ.get('PREFECT_API_URL'))}")
        ui = PREFECT_UI_URL.value()
        if ui:
            server.say(f"Prefect UI: {ui}/deployments/deployment/{server.deployment_id}")
        server.say("Ctrl-C stops serving" + (" and pauses the schedule" if o.cron else ""))
        server.serve_forever()
    except KeyboardInterrupt:
        print("newsdedup: stopped serving" + ("; the schedule is paused" if opts.cron else ""), file=sys.stderr)
        raise
    finally:
        server.close(pause=True)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        interrupts.restore(previous_int)
