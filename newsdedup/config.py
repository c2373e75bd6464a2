"""Settings from the environment (see CONTRACT.md), resolved in one place."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DB = "newsdedup"
# One state folder per user, like Prefect's ~/.prefect: every working directory sees the same
# database (a ./.newsdedup default silently started a second, empty one in each folder).
DEFAULT_HOME = "~/.newsdedup"


@dataclass(frozen=True)
class Settings:
    mongodb_uri: str | None  # None: use the embedded server under home
    db_name: str
    home: Path

    @property
    def embedded(self) -> bool:
        return not self.mongodb_uri


def load_settings(db_name: str | None = None) -> Settings:
    """Read MONGODB_URI, NEWSDEDUP_DB and NEWSDEDUP_HOME; ``db_name`` (from --db) wins."""
    uri = os.environ.get("MONGODB_URI") or None
    name = db_name or os.environ.get("NEWSDEDUP_DB") or DEFAULT_DB
    home = Path(os.environ.get("NEWSDEDUP_HOME") or DEFAULT_HOME).expanduser().resolve()
    return Settings(uri, name, home)


_PASSWORD_RE = re.compile(r"(?P<scheme>mongodb(?:\+srv)?://)(?P<user>[^:@/]*):(?P<pw>[^@/]*)@")


def redact_uri(uri: str) -> str:
    """The connection string with its password replaced by ``***``: safe to print or store."""
    return _PASSWORD_RE.sub(lambda m: f"{m['scheme']}{m['user']}:***@", uri)


ALERT_OUTLETS_ENV = "NEWSDEDUP_ALERT_OUTLETS"
DEFAULT_ALERT_OUTLETS = 3


def alert_outlets() -> int:
    """How many outlets make a claim worth a ``newsdedup.claim.reached-outlets`` event
    (``NEWSDEDUP_ALERT_OUTLETS``, default 3, at least 2)."""
    raw = (os.environ.get(ALERT_OUTLETS_ENV) or "").strip()
    if not raw:
        return DEFAULT_ALERT_OUTLETS
    try:
        n = int(raw)
    except ValueError:
        raise ValueError(f"{ALERT_OUTLETS_ENV}={raw!r}: expected a whole number of outlets (2 or more)") from None
    if n < 2:
        raise ValueError(f"{ALERT_OUTLETS_ENV}={raw!r}: a claim spreads from 2 outlets up; give 2 or more")
    return n
