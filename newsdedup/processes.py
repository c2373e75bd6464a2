"""Process helpers shared by the servers newsdedup starts and the runs it records.

The embedded database (:mod:`newsdedup.embedded`), the local Prefect server
(:mod:`newsdedup.prefect_server`) and the store's run records and locks
(:mod:`newsdedup.db`) all need to answer the same questions about a process:
is it still alive (and is it still the *same* process, not a reused pid), how
to start one that outlives this command, how to stop it, which port is free,
and how to serialise processes that check or start a server. One module
answers them, so the three never disagree.

Linux first (``/proc``); elsewhere the answers degrade to "cannot tell".
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "LockUnavailable",
    "DetachedPopen",
    "host_key",
    "pid_start",
    "process_identity",
    "pid_alive",
    "identity_alive",
    "file_lock",
    "free_port",
    "spawn_detached",
    "child",
    "forget_child",
    "terminate",
    "log_tail",
    "one_line",
    "cmdline",
    "read_state",
    "write_state",
    "read_port",
    "write_port",
    "remove_file",
]

LOCALHOST = "127.0.0.1"


class LockUnavailable(OSError):
    """The lock file of a folder could not be created or opened (the folder is not writable)."""


# Children started by this process, by pid: reaped when they stop (no zombies), and seen
# as dead as soon as they exit, even before they are waited for.
_children: dict[int, subprocess.Popen[bytes]] = {}


class DetachedPopen(subprocess.Popen):  # type: ignore[type-arg]
    """A Popen whose child is meant to outlive this process: no ResourceWarning at exit."""

    def __del__(self) -> None:  # pragma: no cover - interpreter shutdown
        pass


# --------------------------------------------------------------------------- identity
def host_key() -> str:
    """This machine and pid namespace: pids are only comparable within it."""
    parts = [socket.gethostname()]
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            parts.append(f.read().strip())
    except OSError:
        pass
    try:
        parts.append(os.readlink("/proc/self/ns/pid"))
    except OSError:
        pass
    return "|".join(parts)


def pid_start(pid: int) -> str | None:
    """The process's start time (clock ticks since boot) from /proc, to tell a reused pid; None if unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[19]
    except (OSError, IndexError):
        return None


def process_identity() -> dict[str, Any]:
    """Who runs this: stored with runs and locks so a later process can tell whether it died."""
    return {"host_key": host_key(), "pid": os.getpid(), "pid_start": pid_start(os.getpid())}


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie counts as dead; a process of another user as alive)."""
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return True


def identity_alive(identity: Mapping[str, Any], host: str | None = None) -> bool | None:
    """Whether the process named by ``identity`` (``host_key``, ``pid``, ``pid_start``, as
    :func:`process_identity` gives) still runs: True/False on this host, None when it cannot be told
    (another host, or no usable pid)."""
    host = host or host_key()
    pid = identity.get("pid")
    if identity.get("host_key") != host or not isinstance(pid, int) or pid <= 0:
        return None
    if not pid_alive(pid):
        return False
    start = pid_start(pid)
    if start is None and os.path.isdir("/proc"):
        return False
    if identity.get("pid_start") and start and start != identity["pid_start"]:
        return False  # the pid was reused by another process
    return True


def cmdline(pid: int) -> list[str] | None:
    """The command line of ``pid`` (None when it is gone or /proc cannot tell)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]


# --------------------------------------------------------------------------- locking, ports
@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Exclusive ``flock`` on ``path`` (created with its folder) for the duration, across processes.

    Raises :class:`LockUnavailable` when the file cannot be created or opened; the caller knows
    which folder it was and what the user can do about it."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise LockUnavailable(exc.errno, exc.strerror or str(exc), str(path)) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def free_port(preferred: int | None = None, host: str = LOCALHOST) -> int:
    """A free TCP port on ``host``: ``preferred`` (e.g. the last one used) when it is free."""
    for candidate in ([preferred] if preferred else []) + [0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            # Like the servers themselves: a port whose old connections linger in TIME_WAIT
            # can be reused, while a port someone listens on stays refused.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, candidate))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise OSError(f"no free TCP port on {host}")  # pragma: no cover


# --------------------------------------------------------------------------- starting, stopping
def spawn_detached(args: list[str], *, log: Path, cwd: Path, env: Mapping[str, str]) -> DetachedPopen:
    """Start ``args`` in its own session (it outlives this command and ignores the terminal's Ctrl-C),
    stdout and stderr appended to ``log``; remembered so it is reaped when stopped."""
    with Path(log).open("ab") as out:
        proc = DetachedPopen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=str(cwd),
                             env=dict(env), start_new_session=True, close_fds=True)
    _children[proc.pid] = proc
    return proc


def child(pid: int) -> subprocess.Popen[bytes] | None:
    """The process object of a child this process started and still tracks (its exit code, once it stopped)."""
    return _children.get(pid)


def forget_child(pid: int) -> None:
    """Stop tracking a child that exited by itself (its exit code was read)."""
    _children.pop(pid, None)


# tgkill(2) numbers: x86_64, and the generic table used by aarch64 and riscv64.
_TGKILL = {"x86_64": 234, "amd64": 234, "aarch64": 131, "arm64": 131, "riscv64": 131}


def _sigterm_main_thread(pid: int) -> None:
    """SIGTERM aimed at the process's main thread (tgkill, tid == pid), not just the process.

    Python runs signal handlers only in the main thread. A server whose main thread parks in
    ``Event.wait()`` (SecantusDB) now and then (about 1 stop in 100) never acted on a plain
    kill(SIGTERM) delivered to another thread; aimed at the main thread, it does."""
    nr = _TGKILL.get(platform.machine().lower()) if sys.platform.startswith("linux") else None
    if nr is not None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.syscall(nr, pid, pid, int(signal.SIGTERM)) == 0:
                return
        except (OSError, AttributeError):  # pragma: no cover - no usable libc
            pass
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)


def terminate(pid: int, timeout: float, *, nudge: Callable[[], None] | None = None,
              still_serving: Callable[[], bool] | None = None) -> None:
    """Stop ``pid``: SIGTERM (to its main thread), wait up to ``timeout``, then SIGABRT, then SIGKILL.

    ``nudge`` is called every 0.1 s while waiting (e.g. a throwaway connection that wakes a
    thread blocked in accept()); ``still_serving`` every 2 s: True means the process never saw
    the signal (a server whose handler runs stops answering at once), and SIGTERM is sent again.
    SIGABRT before SIGKILL: a child started with ``-X faulthandler`` writes every thread's stack
    to its log, so a wedged shutdown can be diagnosed. Reaps the child if this process started it.
    Raises ``OSError`` when the process survives SIGKILL."""

    def gone(wait: float, resend: bool = False) -> bool:
        start = time.monotonic()
        last_nudge = last_check = start
        while True:
            if not pid_alive(pid):
                return True
            now = time.monotonic()
            if now >= start + wait:
                return False
            time.sleep(0.02)
            if nudge is not None and now - last_nudge > 0.1:
                nudge()
                last_nudge = now
            # never while the handler runs: a second SIGTERM would re-enter it
            if resend and still_serving is not None and now - last_check > 2.0:
                last_check = time.monotonic()
                if still_serving():
                    _sigterm_main_thread(pid)

    _sigterm_main_thread(pid)
    if not gone(timeout, resend=True):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGABRT)
        if not gone(2.0):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            if not gone(5.0):
                raise OSError(f"process {pid} did not exit after SIGTERM and SIGKILL")
    child = _children.pop(pid, None)
    if child is not None:
        with contextlib.suppress(Exception):
            child.wait(timeout=1.0)


# --------------------------------------------------------------------------- logs and state files
def one_line(text: str, limit: int = 600) -> str:
    """Lines joined with `` | `` and cut to the last ``limit`` characters: for one-line errors."""
    flat = " | ".join(line.strip() for line in text.splitlines() if line.strip())
    return flat if len(flat) <= limit else "…" + flat[-limit:]


def log_tail(log: Path, since: int = 0, lines: int = 6) -> str:
    """The last ``lines`` lines written to ``log`` after byte ``since``, as one line."""
    try:
        with Path(log).open("rb") as fh:
            fh.seek(since)
            data = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return one_line("\n".join(data.splitlines()[-lines:]))


def read_state(path: Path, *, required_ints: tuple[str, ...] = ("pid", "port")) -> dict[str, Any] | None:
    """A server's JSON state file, or None when missing, unreadable or lacking an int in ``required_ints``."""
    try:
        state = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or any(not isinstance(state.get(k), int) for k in required_ints):
        return None
    return state


def write_state(path: Path, state: Mapping[str, Any]) -> None:
    """Write a JSON state file atomically (temp file, then rename)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(dict(state), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_port(path: Path) -> int | None:
    """The port saved in ``path`` by :func:`write_port` (None when missing or not a usable port)."""
    try:
        port = int(Path(path).read_text().strip())
    except (OSError, ValueError):
        return None
    return port if 1024 <= port <= 65535 else None


def write_port(path: Path, port: int) -> None:
    """Save the port a server listens on, to be tried first when it starts again (stable URLs)."""
    with contextlib.suppress(OSError):
        Path(path).write_text(f"{port}\n", encoding="utf-8")


def remove_file(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        Path(path).unlink()


def env_seconds(name: str, default: float, minimum: float = 0.1) -> float:
    """A wait in seconds from the environment variable ``name``: ``default`` when it is unset, empty or
    not a number, never below ``minimum``."""
    try:
        return max(minimum, float(os.environ.get(name) or default))
    except ValueError:
        return default
