"""``newsdedup web``: serve the claim explorer with uvicorn and print its URL.

The socket is bound here before uvicorn starts, so a port already in use is a
one-line error, ``--port 0`` picks a free port, and the printed URL is the real
one. Binds to 127.0.0.1 unless ``--host`` says otherwise.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import sys
import time
from pathlib import Path

from ..config import Settings


class ServeError(RuntimeError):
    """The explorer could not start (one-line reason)."""


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"port {port} on {host} is already in use; choose another with --port") from exc
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else ("[::1]" if host == "::" else host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8765, *, log_level: str = "warning") -> None:
    """Prepare the explorer's catalog, bind, print the URL and serve until interrupted."""
    import uvicorn

    from .app import create_app

    sock = bind(host, port)
    try:
        t0 = time.monotonic()
        print(f"newsdedup web: reading database {settings.db_name!r} for the explorer's lists…", file=sys.stderr,
              flush=True)
        app = create_app(settings, cache_dir=Path(settings.home) / "web", prepare=False)
        cat, built = app.state.explorer.holder.prepare()
        how = f"built in {cat.build_seconds:.1f} s, saved for the next start" if built else "loaded from the last start"
        print(f"newsdedup web: {len(cat.claims):,} clusters and {len(cat.docs):,} documents ({how}, "
              f"{time.monotonic() - t0:.1f} s)", file=sys.stderr, flush=True)
        real_port = sock.getsockname()[1]
        base = url_of(host, real_port)
        if not _is_loopback(host):
            print(f"newsdedup web: listening on {host}, reachable from other machines (read-only, no login)",
                  file=sys.stderr, flush=True)
        print(f"newsdedup explorer at {base}/ (database {settings.db_name}, read-only; Ctrl+C stops it)", flush=True)
        config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="off", proxy_headers=False,
                                server_header=False, date_header=True)
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
