"""The embedded MongoDB-compatible server (SecantusDB) used when ``MONGODB_URI`` is unset.

The server runs as a detached child process (its own session, so it outlives the
command that started it and ignores the terminal's Ctrl+C) bound to 127.0.0.1 on a
free port, with everything under one *home* folder (``NEWSDEDUP_HOME``)::

    home/db/            WiredTiger storage (persists across stop/start and crashes)
    home/server.log     the server's stdout/stderr, appended across starts
    home/server.json    state of the running server: pid, port, uri, started_at, version, ...
    home/server.port    last port used; tried first on the next start (stable client URIs)
    home/server.lock    flock()ed while a process checks, starts or stops the server
    home/secantusd.toml empty config passed with --config, which turns off SecantusDB's
                        auto-discovery of ./secantusd.toml and ~/.secantus/secantusd.toml
                        (a stray file there could otherwise turn on --auth or move storage)

Topology. The server runs *standalone* (``--standalone``), as the compose MongoDB does:
SecantusDB's default advertises a one-node replica set and then writes every change
to an oplog as well (and prunes it past 100,000 entries), which nothing here reads;
on SaudiNewsNet that was 3.8 s of the 21 s py-spy sampled in the server during a one-day run.
``NEWSDEDUP_EMBEDDED_REPLICA_SET=1`` (read when the server starts) keeps the replica
set, for change streams (``db.clusters.watch()``) or multi-document transactions.

``ensure_server`` reuses a running server only when its pid is alive, is a SecantusDB
process on *this* storage, and answers a ping; anything else is treated as stale. A
server on this storage whose state file was lost is adopted (or stopped if it does not
answer), never run twice: WiredTiger allows one process per storage folder.

Stopping. SecantusDB handles SIGTERM cleanly (closes connections, aborts open
transactions, closes WiredTiger, exits 0). Three quirks are worked around here:
- its main thread waits for the signal in ``Event.wait()`` without a timeout; a SIGTERM
  was now and then (about 1 stop in 100 in the test suite) not acted on at all, so the
  signal goes to the main thread (tgkill) and is sent again while the server still
  answers pings (it stops answering as soon as its handler runs);
- closing its listening socket does not wake its accept() thread, which costs a 2 s
  join timeout per stop; a throwaway connection wakes it (stop takes ~0.2 s);
- as a last resort SIGABRT (the child runs with ``-X faulthandler``, so every thread's
  stack lands in server.log) and then SIGKILL. Data survives a kill too (WiredTiger
  journal), except unjournaled writes of the last ~0.1-0.3 s: use j:true where it matters.

Only this module starts or stops the process; it uses pymongo for the readiness ping.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import processes

__all__ = [
    "EmbeddedServerError",
    "ensure_server",
    "stop_server",
    "server_status",
    "server_paths",
    "find_servers",
]

HOST = "127.0.0.1"
_STATE = "server.json"
_LOCK = "server.lock"
_LOG = "server.log"
_DB = "db"
_CONFIG = "secantusd.toml"
_PORT_HINT = "server.port"  # last port used, tried first so saved client URIs keep working
_START_ATTEMPTS = 3  # a freshly chosen free port can be taken before the child binds it


class EmbeddedServerError(RuntimeError):
    """The embedded server could not be started, reached or stopped (one-line message)."""


def server_paths(home: Path) -> dict[str, Path]:
    home = Path(home)
    return {
        "home": home,
        "db": home / _DB,
        "log": home / _LOG,
        "state": home / _STATE,
        "lock": home / _LOCK,
        "config": home / _CONFIG,
    }


# --------------------------------------------------------------------------- helpers


def _uri(port: int) -> str:
    return f"mongodb://{HOST}:{port}/"


def _secantus_version() -> str:
    try:
        from importlib.metadata import version

        return version("secantusdb")
    except Exception:  # pragma: no cover - metadata missing
        return "unknown"


@contextlib.contextmanager
def _locked(home: Path) -> Iterator[None]:
    """Exclusive lock on home/server.lock while a process checks, starts or stops the server."""
    try:
        with processes.file_lock(home / _LOCK):
            yield
    except processes.LockUnavailable as exc:
        raise EmbeddedServerError(
            f"cannot use NEWSDEDUP_HOME {home}: {exc.strerror or exc}; "
            "set NEWSDEDUP_HOME to a writable folder or set MONGODB_URI"
        ) from exc


def _read_state(home: Path) -> dict[str, Any] | None:
    return processes.read_state(home / _STATE)


def _terminate(pid: int, timeout: float, port: int | None = None) -> None:
    """Stop a server process; with its ``port``, wake its accept() thread and resend a SIGTERM it missed."""
    try:
        processes.terminate(pid, timeout, nudge=(lambda: _nudge(port)) if port is not None else None,
                            still_serving=(lambda: _ping(port, timeout=0.5)) if port is not None else None)
    except OSError as exc:
        raise EmbeddedServerError(f"embedded server pid {pid} did not exit after SIGTERM and SIGKILL") from exc


def _is_our_server(pid: int, storage: Path) -> bool:
    """True when pid is a SecantusDB process serving *storage* (guards against pid reuse)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return False
    except OSError:  # pragma: no cover - no /proc (non-Linux): trust the pid
        return True
    decoded = [a.decode("utf-8", "replace") for a in args]
    if not any("secantus" in a for a in decoded):
        return False
    return str(storage) in decoded


def find_servers(storage: Path) -> list[tuple[int, int | None]]:
    """(pid, port) of every SecantusDB process serving *storage*, with or without a state file (a lost
    state file leaves an orphan that still holds the WiredTiger lock)."""
    found: list[tuple[int, int | None]] = []
    proc = Path("/proc")
    if not proc.is_dir():  # pragma: no cover - non-Linux
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        decoded = [a.decode("utf-8", "replace") for a in args]
        if not any("secantus" in a for a in decoded) or str(storage) not in decoded:
            continue
        port: int | None = None
        with contextlib.suppress(ValueError, IndexError):
            port = int(decoded[decoded.index("--port") + 1])
        pid = int(entry.name)
        if processes.pid_alive(pid):
            found.append((pid, port))
    return found


def _ping(port: int, timeout: float = 2.0) -> bool:
    """True when a MongoDB server on 127.0.0.1:port answers ``ping``."""
    # Cheap TCP probe first: avoids building a MongoClient while nothing listens.
    try:
        with socket.create_connection((HOST, port), timeout=min(timeout, 1.0)):
            pass
    except OSError:
        return False
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    ms = max(int(timeout * 1000), 100)
    client: MongoClient[dict[str, Any]] = MongoClient(
        HOST,
        port,
        directConnection=True,
        serverSelectionTimeoutMS=ms,
        connectTimeoutMS=ms,
        socketTimeoutMS=ms,
        appname="newsdedup-ping",
    )
    try:
        return bool(client.admin.command("ping").get("ok"))
    except PyMongoError:
        return False
    finally:
        client.close()


def _nudge(port: int) -> None:
    """Open and close one TCP connection to the server's port.

    SecantusDB's SIGTERM handler closes its listening socket, but on Linux that
    does not wake the thread blocked in accept(); shutdown then waits 2 s for
    that thread's join timeout. A connection wakes it so it sees the stop flag.
    """
    with contextlib.suppress(OSError):
        with socket.create_connection((HOST, port), timeout=0.2):
            pass


def _running_state(home: Path, state: dict[str, Any] | None, ping_timeout: float) -> bool:
    if state is None:
        return False
    pid, port = state["pid"], state["port"]
    storage = (home / _DB).resolve()
    return processes.pid_alive(pid) and _is_our_server(pid, storage) and _ping(port, ping_timeout)


def replica_set_wanted() -> bool:
    """``NEWSDEDUP_EMBEDDED_REPLICA_SET`` set to 1/true/yes: start the server as a replica set."""
    return os.environ.get("NEWSDEDUP_EMBEDDED_REPLICA_SET", "").strip().lower() in {"1", "true", "yes", "on"}


def _topology(pid: int) -> str:
    """How a running server was started: ``standalone`` or ``replica set`` (from its command line)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "unknown"
    return "standalone" if b"--standalone" in args else "replica set"


def _state_for(
    pid: int,
    port: int,
    started_at: _dt.datetime | None,
    storage: Path,
    home: Path,
    adopted: bool = False,
) -> dict[str, Any]:
    if started_at is None:
        try:
            started_at = _dt.datetime.fromtimestamp(
                Path(f"/proc/{pid}").stat().st_mtime, _dt.timezone.utc
            )
        except OSError:
            started_at = _dt.datetime.now(_dt.timezone.utc)
    state: dict[str, Any] = {
        "pid": pid,
        "host": HOST,
        "port": port,
        "uri": _uri(port),
        "started_at": started_at.isoformat(),
        "version": _secantus_version(),
        "storage_path": str(storage),
        "log_path": str((home / _LOG).resolve()),
        "python": sys.executable,
        "topology": _topology(pid),
    }
    if adopted:
        state["adopted"] = True
    return state


def _start(home: Path, timeout: float) -> dict[str, Any]:
    paths = server_paths(home)
    storage = paths["db"].resolve()
    try:
        storage.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EmbeddedServerError(
            f"cannot create the embedded server's storage {storage}: {exc.strerror or exc}; "
            "set NEWSDEDUP_HOME to a writable folder or set MONGODB_URI"
        ) from exc
    if not paths["config"].exists():
        paths["config"].write_text(
            "# Written by newsdedup. Passed to SecantusDB with --config so that no\n"
            "# ./secantusd.toml or ~/.secantus/secantusd.toml changes the embedded server.\n",
            encoding="utf-8",
        )
    try:
        import importlib.util

        if importlib.util.find_spec("secantus") is None:
            raise ImportError
    except ImportError:
        raise EmbeddedServerError(
            "SecantusDB is not installed (pip install secantusdb), "
            "or set MONGODB_URI to use another MongoDB server"
        ) from None

    last_error = "unknown error"
    preferred = processes.read_port(home / _PORT_HINT)
    for _attempt in range(_START_ATTEMPTS):
        port = processes.free_port(preferred)
        preferred = None
        cmd = [
            sys.executable,
            "-X",
            "faulthandler",
            "-m",
            "newsdedup.secantus_server",  # SecantusDB's launcher; getLog answers like mongod (see there)
            "--config",
            str(paths["config"].resolve()),
            "--host",
            HOST,
            "--port",
            str(port),
            "--storage-path",
            str(storage),
            "--log-level",
            "INFO",
            *([] if replica_set_wanted() else ["--standalone"]),
        ]
        started_at = _dt.datetime.now(_dt.timezone.utc)
        t0 = time.monotonic()
        with paths["log"].open("ab") as log:
            log.write(
                f"--- newsdedup: starting SecantusDB on {HOST}:{port} at "
                f"{started_at.isoformat(timespec='seconds')} ---\n".encode()
            )
            log_offset = log.tell()
        env = dict(os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        proc = processes.spawn_detached(cmd, log=paths["log"], cwd=home.resolve(), env=env)
        deadline = t0 + timeout
        while True:
            code = proc.poll()
            if code is not None:
                processes.forget_child(proc.pid)
                tail = processes.log_tail(paths["log"], log_offset, lines=3)
                last_error = f"SecantusDB exited with code {code}: {tail or 'no output'}"
                if "resource busy" in tail or "WiredTiger.lock" in tail:
                    last_error = (
                        f"storage {storage} is locked by another process "
                        f"(another SecantusDB on this NEWSDEDUP_HOME?): {tail}"
                    )
                break
            if _ping(port, timeout=1.0):
                state = _state_for(proc.pid, port, started_at, storage, home)
                state["start_seconds"] = round(time.monotonic() - t0, 3)
                processes.write_state(home / _STATE, state)
                processes.write_port(home / _PORT_HINT, port)
                return state
            if time.monotonic() >= deadline:
                tail = processes.log_tail(paths["log"], log_offset)
                with contextlib.suppress(EmbeddedServerError):
                    _terminate(proc.pid, 5.0, port)
                raise EmbeddedServerError(
                    f"embedded MongoDB server (SecantusDB) did not answer on {HOST}:{port} "
                    f"within {timeout:g}s (a busy machine opens a large database slowly: {START_TIMEOUT_ENV} "
                    f"sets a longer wait); log {paths['log']}: {tail or 'no output'}"
                )
            time.sleep(0.05)
        if "Address already in use" not in last_error:
            break  # only a lost port race is worth another try
    raise EmbeddedServerError(
        f"embedded MongoDB server could not start ({last_error}); "
        f"see {paths['log']}, or set MONGODB_URI to use another MongoDB server"
    )


# --------------------------------------------------------------------------- API


START_TIMEOUT_ENV = "NEWSDEDUP_DB_START_TIMEOUT"


def start_timeout() -> float:
    """Seconds to wait for a starting server to answer: 120 by default, because a 1.1 GB home (the whole
    of SaudiNewsNet) took over 30 s to open on a 2-core machine at load 20."""
    return processes.env_seconds(START_TIMEOUT_ENV, 120.0)


def ensure_server(home: Path, *, timeout: float | None = None) -> str:
    """Return the URI of the embedded server for *home*, starting it if needed.

    Reuses a running server (pid alive, is SecantusDB on home/db, answers ping);
    otherwise removes a stale state file (killing a hung server on this storage)
    and starts a fresh one. Serialised across processes with flock on
    home/server.lock, so concurrent callers get the same server.
    """
    home = Path(home).expanduser()
    with _locked(home):
        state = _read_state(home)
        if state is not None:
            if _running_state(home, state, ping_timeout=2.0):
                return _uri(state["port"])
            pid = state["pid"]
            storage = (home / _DB).resolve()
            if processes.pid_alive(pid) and _is_our_server(pid, storage):
                # Alive on our storage but not answering: it may be busy; give it a
                # moment, then replace it (it holds the WiredTiger lock on home/db).
                if _ping(state["port"], timeout=5.0):
                    return _uri(state["port"])
                _terminate(pid, 10.0, state["port"])
            processes.remove_file(home / _STATE)
        # A server on our storage without a (valid) state file: adopt it if it
        # answers, else stop it, since it holds the WiredTiger lock on home/db.
        storage = (home / _DB).resolve()
        for pid, port in find_servers(storage):
            if port is not None and _ping(port, timeout=2.0):
                processes.write_state(home / _STATE, _state_for(pid, port, None, storage, home, adopted=True))
                return _uri(port)
            _terminate(pid, 10.0, port)
        state = _start(home, start_timeout() if timeout is None else timeout)
        return _uri(state["port"])


def stop_server(home: Path, *, timeout: float = 20.0) -> bool:
    """Stop the embedded server of *home* (SIGTERM, then SIGKILL after *timeout*).

    Removes the state file. Returns False when no server was running.
    """
    home = Path(home).expanduser()
    if not (home / _STATE).exists() and not (home / _DB).exists():
        return False  # never used: do not create the home folder just to stop nothing
    with _locked(home):
        state = _read_state(home)
        storage = (home / _DB).resolve()
        stopped = False
        if state is not None:
            pid = state["pid"]
            if processes.pid_alive(pid) and _is_our_server(pid, storage):
                _terminate(pid, timeout, state["port"])
                stopped = True
        for pid, port in find_servers(storage):  # servers whose state file was lost
            _terminate(pid, timeout, port)
            stopped = True
        processes.remove_file(home / _STATE)
        return stopped


def server_status(home: Path) -> dict[str, Any] | None:
    """State of the running embedded server of *home* (pid, port, uri, ...), else None."""
    home = Path(home).expanduser()
    state = _read_state(home)
    if state is None or not _running_state(home, state, ping_timeout=2.0):
        return None
    state = dict(state)
    state["uri"] = _uri(state["port"])
    state.setdefault("topology", _topology(int(state["pid"])))  # state files written before it was recorded
    return state
