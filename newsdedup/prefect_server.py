"""A long-lived local Prefect API/UI server, started on demand like the embedded database.

Without ``PREFECT_API_URL`` every process that runs a flow starts a temporary
Prefect server (~14 s before the first task) and its runs are invisible once it
exits. ``newsdedup run`` instead starts ``prefect server start`` once under
``NEWSDEDUP_HOME/prefect`` (its SQLite history lives there), reuses it on later
commands, and prints nothing secret: the UI is at the URL in ``server.json``.
``newsdedup db stop`` stops it with the database.

Process handling (locking, liveness, free ports, SIGTERM→SIGKILL) is shared with
:mod:`newsdedup.embedded`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from .embedded import (
    EmbeddedServerError,
    _children,
    _DetachedPopen,
    _free_port,
    _last_port,
    _locked,
    _log_tail,
    _pid_alive,
    _read_state,
    _remove_state,
    _terminate,
    _write_state,
)

HOST = "127.0.0.1"


def _dir(home: Path) -> Path:
    return Path(home).expanduser() / "prefect"


def _healthy(port: int, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/api/health", timeout=timeout) as r:  # noqa: S310
            return r.status == 200
    except OSError:
        return False


def _is_prefect(pid: int) -> bool:
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return False
    except OSError:  # pragma: no cover - no /proc
        return True
    return any(b"prefect" in a for a in args)


def api_url(port: int) -> str:
    return f"http://{HOST}:{port}/api"


def ensure_prefect_server(home: Path, *, timeout: float = 90.0, quiet: bool = False) -> str:
    """API URL of the local Prefect server for ``home``, starting it if needed (on the port it had
    last time, so the UI's address survives ``db stop``)."""
    d = _dir(home)
    with _locked(d):
        state = _read_state(d)
        if state and _pid_alive(state["pid"]) and _is_prefect(state["pid"]) and _healthy(state["port"]):
            return api_url(state["port"])
        if state:
            if _pid_alive(state["pid"]) and _is_prefect(state["pid"]):
                _terminate(state["pid"], 10.0)
            _remove_state(d)
        port = _free_port(_last_port(d))
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
            proc = _DetachedPopen([sys.executable, "-m", "prefect", "server", "start", "--host", HOST, "--port",
                                   str(port)], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                  cwd=str(d.resolve()), env=env, start_new_session=True, close_fds=True)
        _children[proc.pid] = proc
        t0 = time.monotonic()
        while not _healthy(port, 1.0):
            if proc.poll() is not None or time.monotonic() - t0 > timeout:
                tail = _log_tail(log_path, offset)
                with contextlib.suppress(EmbeddedServerError):
                    _terminate(proc.pid, 5.0)
                raise EmbeddedServerError(f"local Prefect server did not start: {tail or 'no output'}; "
                                          "or set PREFECT_API_URL to use another Prefect server")
            time.sleep(0.25)
        state: dict[str, Any] = {"pid": proc.pid, "port": port, "api_url": api_url(port),
                                 "ui_url": f"http://{HOST}:{port}", "log_path": str(log_path.resolve()),
                                 "started_at": _dt.datetime.now(_dt.timezone.utc).isoformat(),
                                 "start_seconds": round(time.monotonic() - t0, 2)}
        _write_state(d, state)
        with contextlib.suppress(OSError):
            (d / "server.port").write_text(f"{port}\n", encoding="utf-8")
        if not quiet:
            print(f"newsdedup: started a local Prefect server, UI at http://{HOST}:{port}", file=sys.stderr)
        return api_url(port)


def prefect_server_status(home: Path) -> dict[str, Any] | None:
    d = _dir(home)
    state = _read_state(d)
    if state and _pid_alive(state["pid"]) and _healthy(state["port"]):
        return state
    return None


def stop_prefect_server(home: Path, *, timeout: float = 20.0) -> bool:
    d = _dir(home)
    if not (d / "server.json").exists():
        return False
    with _locked(d):
        state = _read_state(d)
        stopped = False
        if state and _pid_alive(state["pid"]) and _is_prefect(state["pid"]):
            _terminate(state["pid"], timeout)
            stopped = True
        _remove_state(d)
        return stopped
