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
