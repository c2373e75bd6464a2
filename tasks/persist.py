"""Derived state saved next to the candidate index (cluster state, line counts): durable pickles
that carry a token, trusted only while the database's ``meta`` names the same token."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

__all__ = ["load_pickle", "save_pickle"]


def save_pickle(path: Path, payload: Any) -> None:
    """Write ``payload`` durably: a temp file, fsync, then an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load_pickle(path: Path, fmt: int, token: str | None) -> dict | None:
    """A payload written by :func:`save_pickle` if it has format ``fmt`` and carries ``token``
    (None when missing, unreadable, of another format or token)."""
    if not token:
        return None
    try:
        with open(path, "rb") as fh:
            payload = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, ImportError):
        return None
    if not isinstance(payload, dict) or payload.get("format") != fmt or payload.get("token") != token:
        return None
    return payload
