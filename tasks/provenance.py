"""What a run records about itself besides its results: versions, the run key, a readable name."""

from __future__ import annotations

import platform
from collections.abc import Mapping, Sequence
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from .ids import stable_id

__all__ = ["package_versions", "run_key", "run_name"]

_PACKAGES = ("prefect", "pymongo", "rapidfuzz", "langdetect", "secantusdb", "numpy", "charset-normalizer")


def package_versions(version: str) -> dict[str, str]:
    """Python, newsdedup (``version``) and the libraries whose behaviour shapes the results."""
    out = {"python": platform.python_version(), "newsdedup": version}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def run_key(params: Mapping[str, Any], inputs: Sequence[tuple[str, str | None]]) -> str:
    """Runs with the same parameters over the same input files (path, sha256) share a key; their ids
    are ``<key>-1``, ``<key>-2``, …"""
    return stable_id(params, sorted(inputs, key=lambda x: (x[0], x[1] or "")), length=16)


def run_name(paths: Sequence[str] | None, when: datetime) -> str:
    """``ingest-<first input>[+N]-<UTC time>``, as the Prefect UI lists it."""
    paths = list(paths or ["seeds"])
    first = Path(str(paths[0])).name or str(paths[0])
    more = f"+{len(paths) - 1}" if len(paths) > 1 else ""
    return f"ingest-{first}{more}-{when:%Y%m%d-%H%M%S}"
