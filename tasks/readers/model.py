"""What reading inputs produces and needs: documents, rejects, input files, and the read context.

Shared by every reader module (walking, decoding, records, JSON streaming, archives), so each
of them sees one definition of a document, a reject and the per-run read options.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Document", "Reject", "InputFile", "InputEntry", "ReadContext", "FIELDS", "DEFAULT_MAX_BYTES",
           "posix", "safe_path", "os_reason", "oversized", "note_input", "digest", "SURROGATE_RE"]

DEFAULT_MAX_BYTES = 20_000_000
FIELDS = ("text", "id", "title", "outlet", "url", "published", "language")
SURROGATE_RE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Document:
    doc_id: str
    external_id: str
    source_path: str
    source_kind: str
    record: int | None
    text: str
    content_sha256: str
    encoding: str
    outlet: str | None
    title: str | None
    url: str | None
    published: str | None
    published_raw: str | None
    language: str | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Reject:
    source_path: str
    record: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class InputFile:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class InputEntry:
    """One input file found by :func:`~newsdedup.tasks.readers.walk.list_inputs`: the path shown and
    stored, the real path, the path relative to the folder it was found in (manifest keys), and
    whether it was named directly as a PATH (hidden files are then read too)."""

    display: str
    real: Path
    rel: str
    explicit: bool


@dataclass(slots=True)
class ReadContext:
    """The options of one read (field map, size limit, default outlet, manifest) and what it records
    (manifest rows used, input files read)."""

    field_map: Mapping[str, str]
    max_bytes: int
    default_outlet: str | None
    manifest: dict[str, dict]
    manifest_used: set[str]
    input_files: list[InputFile] | None
    skip_real: set[str] = field(default_factory=set)
    digests: Mapping[str, InputFile] = field(default_factory=dict)  # known sha256 by display path

    @property
    def record_limit(self) -> int:
        return 4 * self.max_bytes + (1 << 20)

    def fresh(self) -> "ReadContext":
        """The same options with nothing recorded yet (a retried read starts over)."""
        return ReadContext(self.field_map, self.max_bytes, self.default_outlet, self.manifest, set(),
                           [] if self.input_files is not None else None, self.skip_real, self.digests)


def posix(p: str) -> str:
    s = p.replace("\\", "/")
    while s.startswith("./"):
        s = s[2:]
    return s


def digest(path: Path) -> tuple[int, str]:
    """Size and sha256 of a file, read in chunks."""
    with open(path, "rb") as f:
        h = hashlib.file_digest(f, "sha256")
        size = f.tell()
    return size, h.hexdigest()


def os_reason(e: OSError, what: str = "file") -> str:
    if isinstance(e, FileNotFoundError):
        return f"{what} vanished before it could be read"
    if isinstance(e, PermissionError):
        return f"permission denied: cannot read {what}"
    if isinstance(e, IsADirectoryError):
        return "is a folder, expected a file"
    return f"cannot read {what}: {e.strerror or e}"


def safe_path(s: str) -> str:
    """A path for display and storage: undecodable file-name bytes become U+FFFD."""
    if SURROGATE_RE.search(s) is None:
        return s
    return s.encode("utf-8", "surrogateescape").decode("utf-8", "replace").encode("utf-8", "replace").decode()


def note_input(ctx: ReadContext, display: str, *, raw: bytes | None = None, real: Path | None = None) -> None:
    """Record an input file that was read, with its size and sha256: the listing's digest when it has
    one (every input is hashed once per run), else from ``raw`` (already in memory) or the file."""
    if ctx.input_files is None:
        return
    known = ctx.digests.get(display)
    if known is not None:
        ctx.input_files.append(known)
    elif raw is not None:
        ctx.input_files.append(InputFile(display, len(raw), hashlib.sha256(raw).hexdigest()))
    elif real is not None:
        size, sha = digest(real)
        ctx.input_files.append(InputFile(display, size, sha))


def oversized(size: int, limit: int, *, at_least: bool = False) -> str:
    more = "more than " if at_least else ""
    return f"file too large: {more}{size:,} bytes, over the {limit:,}-byte limit for one text"

