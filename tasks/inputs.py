"""Which input files a run may skip, and what a run's rejects were, as plain data.

A file was skipped on its sha256 alone, so a run with a mistyped ``--map`` (every record rejected)
marked it done and the corrected run read nothing. A file is now known by its sha256 *and the
reading options* that shape its documents (``--map``, ``--outlet``, the manifest's content), and only
once a run stored (or found stored) documents from it; ``run --reprocess`` reads every file again.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

FIRST_FILES = 3  # files named per reject reason in a run summary


def _sha256_of(path: str | None) -> str | None:
    if not path:
        return None
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def reading_options(field_map: Mapping[str, str] | None, outlet: str | None, manifest: str | None) -> dict:
    """The options that change what documents a file gives (the manifest by its content)."""
    return {"field_map": dict(sorted((field_map or {}).items())), "outlet": outlet,
            "manifest_sha256": _sha256_of(manifest)}


def input_key(sha256: str, options: Mapping[str, Any]) -> str:
    """The id of "this file read with these options" in the ``inputs`` collection."""
    raw = json.dumps([sha256, options], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def input_of(source_path: str, paths: Mapping[str, Any]) -> str | None:
    """The input file a document or reject came from: its ``source_path`` is the file's path, or
    ``path!member`` for an archive member (the longest such prefix that is an input)."""
    if source_path in paths:
        return source_path
    parts = source_path.split("!")
    for k in range(len(parts) - 1, 0, -1):
        head = "!".join(parts[:k])
        if head in paths:
            return head
    return None


def documents_per_file(files: Iterable[str], source_paths: Iterable[str]) -> dict[str, int]:
    """How many documents each input file gave (new or already stored)."""
    counts: dict[str, int] = {f: 0 for f in files}
    for sp in source_paths:
        f = input_of(sp, counts)
        if f is not None:
            counts[f] += 1
    return counts


_NUMBER = re.compile(r"\d[\d,.]*")


def reason_kind(reason: str) -> str:
    """A reject reason without its numbers (line, record, column, byte counts), to group by."""
    return _NUMBER.sub("N", reason.split(" at column ", 1)[0]).strip()[:160]


class RejectTally:
    """Rejects by reason (numbers folded, see :func:`reason_kind`): each reason's count and the first
    few files it came from, for the run summary; kept as they stream by."""

    def __init__(self, first: int = FIRST_FILES):
        self.first = first
        self.counts: Counter[str] = Counter()
        self.files: dict[str, list[str]] = {}
        self.all_files: dict[str, set[str]] = {}

    def add(self, source_path: str | None, reason: str | None) -> None:
        kind = reason_kind(str(reason or "unknown"))
        self.counts[kind] += 1
        got = self.files.setdefault(kind, [])
        name = str(source_path or "?")
        self.all_files.setdefault(kind, set()).add(name)
        if name not in got and len(got) < self.first:
            got.append(name)

    def summary(self) -> list[dict]:
        """``[{reason, count, files, n_files}]``, the most frequent first: ``files`` are the first few of
        the ``n_files`` files (or archive members) the reason came from."""
        return [{"reason": k, "count": n, "files": self.files[k], "n_files": len(self.all_files[k])}
                for k, n in sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))]
