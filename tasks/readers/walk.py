"""Finding the input files: the one walker every read goes through.

Folders are walked recursively in sorted order (entries of each folder sorted by name,
sub-folders visited at their sorted place); symbolic links to folders are not followed (no
loops), links to files are read. Junk is skipped here, once, for folders and archives alike:
hidden files and folders (``.DS_Store``, macOS ``._*`` forks), ``__MACOSX/``, ``Thumbs.db``,
``desktop.ini``, ``~$*`` lock files, any ``manifest.csv`` and the ``--manifest`` file itself.
A hidden file named explicitly as a PATH is read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath

from .model import InputEntry, Reject, posix, safe_path

__all__ = ["list_inputs", "is_junk", "classify", "KINDS"]

_JUNK_NAMES = {"thumbs.db", "desktop.ini", "__macosx", "ehthumbs.db"}
KINDS = {".txt": "txt", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".zip": "zip"}


def is_junk(name: str) -> bool:
    """Files and folders no one means as input: hidden ones, OS thumbnails and lock files."""
    low = name.lower()
    return name.startswith(".") or name.startswith("~$") or low in _JUNK_NAMES


def classify(name: str) -> tuple[str | None, bool, str, str]:
    """(kind, gzipped, stem, extension shown in messages) for a file name."""
    low = name.lower()
    gz = low.endswith(".gz") and len(low) > 3
    inner = name[:-3] if gz else name
    suffix = PurePosixPath(inner).suffix.lower()
    stem = inner[: len(inner) - len(suffix)] if suffix else inner
    kind = KINDS.get(suffix)
    if gz and kind == "zip":
        kind = None
    shown = (suffix or "no extension") + (".gz" if gz else "")
    if gz and not suffix:
        shown = ".gz"
    return kind, gz, stem, shown


def list_inputs(paths: Sequence[str | Path], *, skip_real: frozenset[str] | set[str] = frozenset()
                ) -> Iterator[InputEntry | Reject]:
    """Every input file under ``paths`` (in order, folders walked), and a Reject for each path that
    cannot be used. ``skip_real``: real paths never to read from a folder (the ``--manifest`` file)."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    for p in paths:
        given = os.fspath(p)
        shown = safe_path(given)
        try:
            st = os.stat(given)
        except FileNotFoundError:
            yield Reject(shown, None, "broken symbolic link" if os.path.lexists(given) else "path does not exist")
            continue
        except PermissionError:
            yield Reject(shown, None, "permission denied")
            continue
        except (OSError, ValueError) as e:  # ValueError: NUL byte in the path
            yield Reject(shown.replace("\x00", "\\0"), None, f"cannot access path: {getattr(e, 'strerror', None) or e}")
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk(given, Path(given), skip_real)
        elif Path(given).name.lower() != "manifest.csv":
            yield InputEntry(safe_path(given), Path(given), safe_path(PurePosixPath(posix(given)).name), True)


def _walk(given: str, root: Path, skip_real: frozenset[str] | set[str]) -> Iterator[InputEntry | Reject]:
    """Files under ``root``, depth-first: a folder's entries in name order, sub-folders where they sort."""

    def visit(folder: Path, rel: str) -> Iterator[InputEntry | Reject]:
        display = safe_path(os.path.join(given, rel) if rel else given)
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except FileNotFoundError:
            yield Reject(display, None, "folder vanished before it could be read")
            return
        except PermissionError:
            yield Reject(display, None, "permission denied: cannot list folder")
            return
        except OSError as e:
            yield Reject(display, None, f"cannot list folder: {e.strerror or e}")
            return
        for entry in entries:
            if is_junk(entry.name):
                continue
            child_rel = f"{rel}/{entry.name}" if rel else entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    yield from visit(Path(entry.path), child_rel)
                    continue
                if entry.is_symlink() and entry.is_dir():
                    continue  # symlinked folders are not followed
            except OSError:
                pass
            if entry.name.lower() == "manifest.csv" or _skipped(entry.path, skip_real):
                continue
            yield InputEntry(safe_path(os.path.join(given, child_rel)), Path(entry.path), safe_path(child_rel), False)

    yield from visit(root, "")


def _skipped(path: str, skip_real: frozenset[str] | set[str]) -> bool:
    if not skip_real:
        return False
    try:
        return os.path.realpath(path) in skip_real
    except OSError:
        return False
