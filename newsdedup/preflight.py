"""Checks a command makes before it starts work, so that a failure is one line that says what to do.

Each check raises :class:`CommandError` with the exit code of its kind (see ``newsdedup.cli``):
an unreachable database names its host within seconds instead of pymongo's topology dump after
the flow's retries; an unwritable state folder says which folder and only gives advice that fits
(with ``MONGODB_URI`` set, setting it is no remedy).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .config import Settings

EXIT_FAILURE = 1  # something asked for is not there, or the work failed
EXIT_USAGE = 2  # the command line is wrong
EXIT_UNAVAILABLE = 3  # the database (or Prefect server) does not answer
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT), the shell convention 128 + 2

DB_CHECK_SECONDS = 5.0  # with the client's own connect, a dead server is reported within ~10 s


class CommandError(Exception):
    """An error to report as one line on stderr, with the exit code of its kind."""

    def __init__(self, message: str, code: int = EXIT_FAILURE):
        super().__init__(message)
        self.code = code


def check_home(settings: Settings, purpose: str) -> Path:
    """``NEWSDEDUP_HOME`` exists (created if needed) and is writable; returns it.

    ``purpose`` says what needs it (``the embedded database``, ``the candidate index``…)."""
    home = settings.home
    try:
        home.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-check-", dir=home)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        advice = "set NEWSDEDUP_HOME to a writable folder"
        if settings.embedded and purpose == "the embedded database":
            advice += ", or set MONGODB_URI to use another MongoDB server"
        raise CommandError(f"NEWSDEDUP_HOME {home} is not writable ({exc.strerror or exc}), "
                           f"and {purpose} needs it: {advice}", EXIT_FAILURE) from exc
    return home


def check_database(settings: Settings, *, timeout_s: float = DB_CHECK_SECONDS) -> str:
    """The connection string in use, once its server has answered a ping; starts the embedded one.

    Raises :class:`CommandError` (exit 3) naming the host when the server does not answer."""
    from .db import hosts_of, ping_server, resolve_uri
    from .embedded import EmbeddedServerError

    if settings.embedded:
        check_home(settings, "the embedded database")
        try:
            uri = resolve_uri(settings)
        except EmbeddedServerError as exc:
            raise CommandError(str(exc), EXIT_UNAVAILABLE) from exc
        where = f"the embedded database under {settings.home}"
    else:
        uri = str(settings.mongodb_uri)
        where = f"MongoDB at {hosts_of(uri)} (MONGODB_URI)"
    got = ping_server(uri, timeout_s=timeout_s)
    if not got["answers"]:
        if got.get("usage"):
            raise CommandError(f"MONGODB_URI: {got['error']}", EXIT_USAGE)
        raise CommandError(f"cannot reach {where} within {timeout_s:g}s: {got['error']}", EXIT_UNAVAILABLE)
    return uri
