"""Archives read in place: ``.zip`` members (sorted, ``.gz`` members allowed) and gzip streams."""

from __future__ import annotations

import gzip
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO

from .json_stream import iter_json_stream
from .manifest import match_manifest
from .model import Document, ReadContext, Reject, note_input, os_reason, oversized
from .records import txt_document
from .walk import classify, is_junk

__all__ = ["read_zip", "read_stream"]


def read_zip(display: str, real: Path, ctx: ReadContext) -> Iterator[Document | Reject]:
    try:
        zf = zipfile.ZipFile(real)
    except zipfile.BadZipFile as e:
        yield Reject(display, None, f"not a valid zip archive: {e}")
        return
    except OSError as e:
        yield Reject(display, None, os_reason(e, "archive"))
        return
    except Exception as e:  # noqa: BLE001 - e.g. ValueError on absurd headers
        yield Reject(display, None, f"not a valid zip archive: {type(e).__name__}: {e}")
        return
    with zf:
        try:
            note_input(ctx, display, real=real)
        except OSError as e:
            yield Reject(display, None, os_reason(e, "archive"))
            return
        infos = sorted((i for i in zf.infolist() if not i.is_dir()), key=lambda i: (i.filename, i.header_offset))
        for info in infos:
            member = info.filename
            parts = PurePosixPath(member).parts
            if any(is_junk(p) for p in parts):
                continue
            base = parts[-1] if parts else member
            if base.lower() == "manifest.csv":
                continue
            mdisplay = f"{display}!{member}"
            kind, gz, stem, shown = classify(base)
            if kind == "zip":
                yield Reject(mdisplay, None, "nested zip archive inside a zip is not read; unpack the outer one")
                continue
            if kind is None:
                yield Reject(mdisplay, None, f"unsupported file type ({shown}); expected .txt, .json, .jsonl or .gz")
                continue
            if info.flag_bits & 0x1:
                yield Reject(mdisplay, None, "archive member is encrypted")
                continue
            meta = match_manifest(ctx, [mdisplay, member, base])
            if kind == "txt" and not gz:
                if info.file_size > ctx.max_bytes:
                    yield Reject(mdisplay, None, oversized(info.file_size, ctx.max_bytes))
                    continue
                try:
                    with zf.open(info) as f:
                        raw = f.read(ctx.max_bytes + 1)
                except Exception as e:  # noqa: BLE001 - bad member: reject it, go on
                    yield Reject(mdisplay, None, f"corrupt archive member: {type(e).__name__}: {e}")
                    continue
                if len(raw) > ctx.max_bytes:
                    yield Reject(mdisplay, None, oversized(len(raw), ctx.max_bytes, at_least=True))
                    continue
                yield txt_document(raw, mdisplay, stem, ctx, meta)
                continue

            def opener(info: zipfile.ZipInfo = info, gz: bool = gz) -> IO[bytes]:
                f = zf.open(info)
                if gz:
                    return gzip.GzipFile(fileobj=f, mode="rb")  # type: ignore[return-value]
                return f

            yield from read_stream(opener, mdisplay, kind, stem, ctx, meta, gz=gz)


def read_stream(
    opener: Callable[[], IO[bytes]],
    display: str,
    kind: str,
    stem: str,
    ctx: ReadContext,
    meta: dict | None,
    *,
    gz: bool,
) -> Iterator[Document | Reject]:
    """Read one (possibly compressed) stream, turning any failure into a Reject."""
    progress = {"record": None}
    try:
        with opener() as f:
            if kind == "txt":
                raw = f.read(ctx.max_bytes + 1)
                if len(raw) > ctx.max_bytes:
                    yield Reject(display, None, oversized(len(raw), ctx.max_bytes, at_least=True) + " (decompressed)")
                    return
                yield txt_document(raw, display, stem, ctx, meta)
                return
            for item in iter_json_stream(f, display, kind, stem, ctx, meta):
                if item.record is not None:
                    progress["record"] = item.record
                yield item
    except GeneratorExit:
        raise
    except (EOFError, zlib.error, gzip.BadGzipFile, zipfile.BadZipFile) as e:
        where = f" after record {progress['record']}; records before were kept" if progress["record"] else ""
        yield Reject(display, None, f"corrupt or truncated compressed data{where}: {e or type(e).__name__}")
    except OSError as e:
        yield Reject(display, None, os_reason(e))
    except Exception as e:  # noqa: BLE001 - never crash on one bad input
        where = f" after record {progress['record']}" if progress["record"] else ""
        yield Reject(display, None, f"could not read{where}: {type(e).__name__}: {e}")

