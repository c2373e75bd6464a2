"""A long-lived local Prefect API/UI server, started on demand like the embedded database.

Without ``PREFECT_API_URL`` every process that runs a flow starts a temporary
Prefect server (~14 s before the first task) and its runs are invisible once it
exits. ``newsdedup run`` instead starts ``prefect server start`` once under
``NEWSDEDUP_HOME/prefect`` (its SQLite history lives there), reuses it on later
commands, and prints nothing secret: the UI is at the URL in ``server.json``.
``newsdedup db stop`` stops it with the database.

Process handling (locking, liveness, free ports, SIGTERM→SIGKILL) is
:mod:`newsdedup.processes`, shared with the embedded database.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import processes

HOST = "127.0.0.1"
_STATE = "server.json"
_PORT_HINT = "server.port"  # last port used, tried first: the UI's address survives `db stop`


class PrefectServerError(RuntimeError):
    """The local Prefect server could not be started or stopped (one-line message)."""


def _dir(home: Path) -> Path:
    return Path(home).expanduser() / "prefect"


@contextlib.contextmanager
def _locked(d: Path) -> Iterator[None]:
    try:
        with processes.file_lock(d / "server.lock"):
            yield
    except processes.LockUnavailable as exc:
        raise PrefectServerError(
            f"cannot use the local Prefect server's folder {d}: {exc.strerror or exc}; "
            "set NEWSDEDUP_HOME to a writable folder, or PREFECT_API_URL to use another Prefect server"
        ) from exc


def _terminate(pid: int, timeout: float) -> None:
    try:
        processes.terminate(pid, timeout)
    except OSError as exc:
        raise PrefectServerError(f"local Prefect server pid {pid} did not exit after SIGTERM and SIGKILL") from exc


def _healthy(port: int, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/api/health", timeout=timeout) as r:  # noqa: S310
            return r.status == 200
    except OSError:
        return False


def _is_prefect(pid: int) -> bool:
    args = processes.cmdline(pid)
    if args is None:
        return not Path("/proc").is_dir()  # pragma: no cover - no /proc: trust the pid
    return any("prefect" in a for a in args)


def api_url(port: int) -> str:
    return f"http://{HOST}:{port}/api"


START_TIMEOUT_ENV = "NEWSDEDUP_PREFECT_START_TIMEOUT"


def start_timeout() -> float:
    """Seconds to wait for a starting server to answer: 180 by default, because on a busy 2-core
    machine (load 20) Prefect's server took over 90 s to answer its first health check."""
    return processes.env_seconds(START_TIMEOUT_ENV, 180.0)


def ensure_prefect_server(home: Path, *, timeout: float | None = None, quiet: bool = False) -> str:
    """API URL of the local Prefect server for ``home``, starting it if needed (on the port it had
    last time, so the UI's address survives ``db stop``)."""
    timeout = start_timeout() if timeout is None else timeout
    d = _dir(home)
    with _locked(d):
        state = processes.read_state(d / _STATE)
        if state and processes.pid_alive(state["pid"]) and _is_prefect(state["pid"]) and _healthy(state["port"]):
            return api_url(state["port"])
        if state:
            if processes.pid_alive(state["pid"]) and _is_prefect(state["pid"]):
                _terminate(state["pid"], 10.0)
            processes.remove_file(d / _STATE)
        port = processes.free_port(processes.read_port(d / _PORT_HINT))
        env = dict(os.environ)
        env.update({
            "PREFECT_HOME": str(d.resolve()),
            "PREFECT_UI_API_URL": api_url(port),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            # the server's own errors (a failing scheduler loop…) go to server.log, whatever level
            # the command that started it keeps for its console
            "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
            "PREFECT_LOGGING_SERVER_LEVEL": "WARNING",
            "PREFECT_API_URL": "",
        })
        env.pop("PREFECT_API_URL")
        log_path = d / "server.log"
        with log_path.open("ab") as log:
            offset = log.tell()
        proc = processes.spawn_detached([sys.executable, "-m", "prefect", "server", "start", "--host", HOST,
                                         "--port", str(port)], log=log_path, cwd=d.resolve(), env=env)
        t0 = time.monotonic()
        while not _healthy(port, 1.0):
            exited = proc.poll() is not None
            if exited or time.monotonic() - t0 > timeout:
                tail = processes.log_tail(log_path, offset)
                with contextlib.suppress(PrefectServerError):
                    _terminate(proc.pid, 5.0)
                if exited:
                    raise PrefectServerError(f"local Prefect server did not start: {tail or 'no output'}; "
                                              "or set PREFECT_API_URL to use another Prefect server")
                raise PrefectServerError(f"local Prefect server did not answer within {timeout:g} s (a busy "
                                          f"machine starts it slowly: {START_TIMEOUT_ENV} sets a longer wait); "
                                          "or set PREFECT_API_URL to use another Prefect server")
            time.sleep(0.25)
        state: dict[str, Any] = {"pid": proc.pid, "port": port, "api_url": api_url(port),
                                 "ui_url": f"http://{HOST}:{port}", "log_path": str(log_path.resolve()),
                                 "started_at": _dt.datetime.now(_dt.timezone.utc).isoformat(),
                                 "start_seconds": round(time.monotonic() - t0, 2)}
        processes.write_state(d / _STATE, state)
        processes.write_port(d / _PORT_HINT, port)
        if not quiet:
            print(f"newsdedup: started a local Prefect server, UI at http://{HOST}:{port}", file=sys.stderr)
        return api_url(port)


def prefect_server_status(home: Path) -> dict[str, Any] | None:
    d = _dir(home)
    state = processes.read_state(d / _STATE)
    if state and processes.pid_alive(state["pid"]) and _healthy(state["port"]):
        return state
    return None


def stop_prefect_server(home: Path, *, timeout: float = 20.0) -> bool:
    d = _dir(home)
    if not (d / "server.json").exists():
        return False
    with _locked(d):
        state = processes.read_state(d / _STATE)
        stopped = False
        if state and processes.pid_alive(state["pid"]) and _is_prefect(state["pid"]):
            _terminate(state["pid"], timeout)
            stopped = True
        processes.remove_file(d / _STATE)
        return stopped
