"""The ``--manifest`` CSV: metadata for input files, matched by path, relative path or file name."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .decode import decode_bytes
from .model import DEFAULT_MAX_BYTES, ReadContext, Reject, posix

__all__ = ["read_manifest", "match_manifest"]


def match_manifest(ctx: ReadContext, keys: Sequence[str]) -> dict | None:
    if not ctx.manifest:
        return None
    for k in keys:
        for cand in (k, k[:-3] if k.lower().endswith(".gz") else None):
            if cand and cand in ctx.manifest:
                ctx.manifest_used.add(cand)
                return ctx.manifest[cand]
    return None


def read_manifest(path: str | Path) -> tuple[dict[str, dict], list[Reject]]:
    """Read a manifest CSV: ``({file: {file,row,outlet,url,published,title,language}}, rejects)``.

    Raises ``ValueError`` if the manifest cannot be used at all (unreadable, not text,
    empty, no ``file`` column). Bad rows become Rejects (``record`` = CSV line number).
    """
    shown = str(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(max(DEFAULT_MAX_BYTES, 200_000_000) + 1)
    except OSError as e:
        raise ValueError(f"cannot read manifest {shown}: {e.strerror or e}") from None
    dec = decode_bytes(raw)
    if isinstance(dec, str):
        raise ValueError(f"manifest {shown} is not usable: {dec}")
    text = dec[0]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as e:
        raise ValueError(f"manifest {shown}: cannot read the header: {e}") from None
    if not header or not any(h.strip() for h in header):
        raise ValueError(f"manifest {shown} is empty; expected a header 'file,outlet,url,published,title'")
    cols = [h.strip().lower() for h in header]
    if "file" not in cols:
        raise ValueError(f"manifest {shown} has no 'file' column (header: {','.join(header)}); "
                         "expected 'file,outlet,url,published,title'")
    entries: dict[str, dict] = {}
    rejects: list[Reject] = []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            rejects.append(Reject(shown, reader.line_num, f"manifest row cannot be read as CSV: {e}"))
            continue
        line = reader.line_num
        if not any(c.strip() for c in row):
            continue
        if len(row) > len(cols) and any(c.strip() for c in row[len(cols):]):
            rejects.append(Reject(shown, line, f"manifest row has {len(row)} cells but the header has {len(cols)}"))
            continue
        cells = {c: (row[i].strip() if i < len(row) else "") for i, c in enumerate(cols) if c}
        name = posix(cells.get("file", ""))
        if not name:
            rejects.append(Reject(shown, line, "manifest row has an empty 'file' cell"))
            continue
        if name in entries:
            rejects.append(Reject(shown, line, f"manifest lists {name} again (first on line "
                                               f"{entries[name]['row']}); this row is ignored"))
            continue
        entry: dict[str, Any] = {"file": name, "row": line}
        for k in ("outlet", "url", "published", "title", "language"):
            entry[k] = cells.get(k) or None
        entries[name] = entry
    return entries, rejects
