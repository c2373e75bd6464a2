"""Reading listed input files into documents and rejects: the entry points of the readers.

:func:`list_inputs` (the walker) finds the files, :func:`digest_inputs` hashes each once,
:func:`read_inputs` decodes each once into :class:`Document` and :class:`Reject`;
:func:`iter_inputs` does all three for callers that read once.
"""

from __future__ import annotations

import gzip
import os
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO

from .archives import read_stream, read_zip
from .manifest import match_manifest, read_manifest
from .model import (DEFAULT_MAX_BYTES, FIELDS, Document, InputEntry, InputFile, ReadContext, Reject, digest,
                    note_input, os_reason, oversized, posix, safe_path)
from .records import txt_document
from .walk import classify, list_inputs

__all__ = ["open_context", "digest_inputs", "digest_file", "read_inputs", "iter_inputs"]


def open_context(*, field_map: Mapping[str, str] | None = None, manifest: str | Path | None = None,
                 default_outlet: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
                 input_files: list[InputFile] | None = None) -> tuple[ReadContext, list[Reject]]:
    """The context of one read and the rejects of the manifest's own rows.

    Raises ``ValueError`` for an unknown mapped field, a non-positive size limit or an unusable
    manifest (running without the metadata asked for would silently store wrong outlets)."""
    fmap = dict(field_map or {})
    for k in fmap:
        if k not in FIELDS:
            raise ValueError(f"field_map: unknown field {k!r}; known fields: {', '.join(FIELDS)}")
    if max_bytes <= 0:
        raise ValueError("max_bytes must be positive")
    entries: dict[str, dict] = {}
    rejects: list[Reject] = []
    skip_real: set[str] = set()
    if manifest is not None:
        entries, rejects = read_manifest(manifest)
        try:
            skip_real.add(os.path.realpath(manifest))
        except OSError:
            pass
    outlet = default_outlet.strip() if isinstance(default_outlet, str) and default_outlet.strip() else None
    return ReadContext(fmap, max_bytes, outlet, entries, set(), input_files, skip_real), rejects


def digest_inputs(entries: Iterable[InputEntry]) -> dict[str, InputFile]:
    """Size and sha256 of every readable input of a known type, by display path (each file read once;
    the rest are judged, and rejected, when they are read)."""
    out: dict[str, InputFile] = {}
    for e in entries:
        if classify(e.real.name)[0] is None:
            continue
        try:
            size, sha = digest(e.real)
        except OSError:
            continue
        out[e.display] = InputFile(e.display, size, sha)
    return out


def digest_file(path: str | Path | None) -> InputFile | None:
    """Size and sha256 of one file (the manifest), None when there is none or it cannot be read."""
    if path is None:
        return None
    try:
        size, sha = digest(Path(path))
    except OSError:
        return None
    return InputFile(str(path), size, sha)


def read_inputs(entries: Iterable[InputEntry], ctx: ReadContext, *, manifest: str | Path | None = None,
                skipped: Sequence[InputEntry] = ()) -> Iterator[Document | Reject]:
    """Documents and rejects of ``entries``, in order, then a Reject for every manifest row that names
    no input. ``skipped``: inputs not read this time (ingested by an earlier run): their manifest rows
    are used, not rejected."""
    for e in skipped:
        if classify(e.real.name)[0] not in (None, "zip"):
            match_manifest(ctx, [posix(e.display), posix(e.rel), e.real.name])
    for e in entries:
        yield from read_file(e, ctx)
    yield from _unused_manifest_rows(ctx, manifest)


def _unused_manifest_rows(ctx: ReadContext, manifest: str | Path | None) -> Iterator[Reject]:
    for key, entry in sorted(ctx.manifest.items(), key=lambda kv: kv[1]["row"]):
        if key not in ctx.manifest_used:
            yield Reject(str(manifest), entry["row"], f"manifest names a file that was not in the inputs: {key}")


def iter_inputs(
    paths: Sequence[str | Path],
    *,
    field_map: Mapping[str, str] | None = None,
    manifest: str | Path | None = None,
    default_outlet: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    input_files: list[InputFile] | None = None,
) -> Iterator[Document | Reject]:
    """Stream documents and rejects from ``paths`` in a deterministic order."""
    ctx, manifest_rejects = open_context(field_map=field_map, manifest=manifest, default_outlet=default_outlet,
                                         max_bytes=max_bytes, input_files=input_files)
    yield from manifest_rejects
    for item in list_inputs(paths, skip_real=ctx.skip_real):
        if isinstance(item, Reject):
            yield item
        else:
            yield from read_file(item, ctx)
    yield from _unused_manifest_rows(ctx, manifest)


def read_file(entry: InputEntry, ctx: ReadContext) -> Iterator[Document | Reject]:
    """The documents of one input file (a ``.txt``, a JSON/JSONL file, a ``.gz`` or a ``.zip``)."""
    display, real, rel = entry.display, entry.real, entry.rel
    name = real.name
    kind, gz, stem, shown = classify(safe_path(name))
    if kind is None:
        yield Reject(display, None, f"unsupported file type ({shown}); expected .txt, .json, .jsonl, .zip or .gz")
        return
    try:
        st = os.stat(real)
    except OSError as e:
        yield Reject(display, None, os_reason(e))
        return
    if not stat.S_ISREG(st.st_mode):
        yield Reject(display, None, "not a regular file (device, pipe or socket)")
        return
    meta = match_manifest(ctx, [posix(display), posix(rel), name]) if kind != "zip" else None
    if kind == "txt" and not gz and st.st_size > ctx.max_bytes:
        yield Reject(display, None, oversized(st.st_size, ctx.max_bytes))
        return
    if kind == "zip":
        yield from read_zip(display, real, ctx)
        return
    try:
        if kind == "txt" and not gz:
            with open(real, "rb") as f:
                raw = f.read(ctx.max_bytes + 1)
            if len(raw) > ctx.max_bytes:
                yield Reject(display, None, oversized(len(raw), ctx.max_bytes, at_least=True))
                return
            note_input(ctx, display, raw=raw)
            yield txt_document(raw, display, stem, ctx, meta)
            return
        note_input(ctx, display, real=real)
    except OSError as e:
        yield Reject(display, None, os_reason(e))
        return

    def opener() -> IO[bytes]:
        f = open(real, "rb")
        if gz:
            return gzip.GzipFile(fileobj=f, mode="rb")  # type: ignore[return-value]
        return f

    yield from read_stream(opener, display, kind, stem, ctx, meta, gz=gz)
