"""Reading inputs into :class:`Document` or :class:`Reject`, robustly and as a stream.

Plain functions, no Prefect, no MongoDB: the flow calls :func:`iter_inputs` and stores
what it yields.

Inputs (see CONTRACT.md, "Input")
---------------------------------
* A path is a file or a folder. Folders are walked recursively in sorted order (entries
  of each folder sorted by name, sub-folders visited at their sorted place). Symbolic
  links to folders are not followed (no loops); links to files are read.
* ``.txt`` → one document, ``external_id`` = file name without extension.
* ``.jsonl`` / ``.ndjson`` → one document per line (``record`` = line number, blank lines
  skipped). A malformed line is rejected alone; the other lines are kept. A ``.jsonl``
  file that turns out to hold one pretty-printed JSON array is read as ``.json``.
* ``.json`` → an array of records (``record`` = 1-based index), a single object (record 1),
  several concatenated objects / JSON lines (numbered in order), or an envelope object
  without a text field holding its records in a list under ``data``, ``articles``,
  ``items``, ``records`` or ``documents`` (numbered in that list). Arrays are parsed
  incrementally, record by record, so a large array is never held whole in memory.
  A truncated or malformed array keeps the records before the damage and rejects the
  rest with the position (line, column, record number).
* ``.gz`` holding any of these (``x.jsonl.gz``, ``x.json.gz``, ``x.txt.gz``) and ``.zip``
  archives holding any of these (members sorted by name, ``.gz`` members allowed) are
  read in place. A bad member rejects that member only. Nested ``.zip`` are rejected.
* Record fields: ``text`` (required, a non-empty string), ``id`` (str or number),
  ``title``, ``outlet``, ``url``, ``published``, ``language``; ``field_map`` renames them
  (``{"text": "content"}`` reads the text from key ``content``; dotted names such as
  ``meta.date`` reach into nested objects when no key with the dot exists).

Skipped silently: hidden files and folders (name starting with ``.``, which covers
``.DS_Store`` and macOS ``._*`` forks), ``__MACOSX/``, ``Thumbs.db``, ``desktop.ini``,
``~$*`` lock files, any ``manifest.csv`` and the ``--manifest`` file itself. Every other
unknown extension (``.csv``, ``.md``, ``.html`` ...) gives a Reject ``unsupported file type``.
Hidden files named explicitly as a PATH are read.

Text decoding (``.txt``)
------------------------
BOM first (UTF-8, UTF-16 LE/BE, UTF-32), then UTF-16 without BOM (recognised by the
zero/0x06 high bytes of Latin/Arabic text), then strict UTF-8, then UTF-8 with a few bad
bytes (only when the file clearly is UTF-8: far more valid multi-byte characters than bad
bytes; the bad bytes become U+FFFD and a note says how many), then legacy single-byte
encodings (``cp1256``, ``iso-8859-6``, ``iso-8859-1``, ``cp1252`` and the guess of
charset-normalizer), each decoded strictly and scored for plausibility (control
characters, words mixing Arabic and Latin letters, words made mostly of accented Latin
letters, stray symbols such as ``×÷``). The best plausible one wins; a tie between an
Arabic and a Latin code page goes to the one whose result has Arabic letters (or Latin
when it has none). Nothing plausible → Reject. Recognised binary signatures (PNG, JPEG,
PDF, zip, gzip, ELF, ...) and text with more than 3 % control characters (and more than
8 of them) are rejected as binary. ``encoding`` records the codec used (``utf-8``,
``utf-8-sig``, ``utf-16``, ``utf-16-le``, ``cp1256``, ``iso-8859-6``, ``iso-8859-1`` ...).
For JSON inputs it is the file's encoding (JSON is UTF-8 unless a BOM says otherwise); a
string field holding bytes that are not UTF-8 is re-decoded with the same detector, and
the document records that codec.

Clean-up, always noted in ``Document.notes``
--------------------------------------------
* NUL characters are removed (never meaningful in news text, and they break C tools,
  regexes and terminals); note ``removed N NUL character(s)``.
* Lone surrogates (from ``\\ud800``-style JSON escapes or undecodable bytes) cannot be
  stored as UTF-8 (MongoDB), so each becomes U+FFFD; note ``replaced N ...``.
* Nothing else is changed: CRLF stays CRLF, only a leading BOM is removed from ``.txt``.

Limits
------
``max_bytes`` (default 20 MB) bounds one document's text (UTF-8 bytes) and one ``.txt``
file (its size on disk or decompressed; an oversized file is rejected from its size
without being read). One JSON record / JSONL line may take ``4 × max_bytes + 1 MiB``
characters of JSON (escapes such as ``\\u0627`` take 6 characters per letter); a longer
line is skipped alone, a longer array element stops that file with a Reject. There is
no limit on the size of a ``.jsonl`` or ``.json`` file: both stream.

Manifest
--------
:func:`read_manifest` reads a CSV with header ``file,outlet,url,published,title`` (only
``file`` required; ``language`` also read; other columns ignored), in UTF-8 (BOM allowed)
or another encoding the detector recognises. A row matches an input file whose path as
given, path relative to the walked folder (or archive member path) or bare file name
equals the ``file`` cell (``.gz`` suffix optional). Its values fill the metadata of
``.txt`` documents and, as defaults for fields the record lacks, of JSON records. Empty
cells mean unknown. Rows naming no input file give Rejects after all inputs are read
(``record`` = line number in the CSV, header = line 1). An unusable manifest (missing,
no ``file`` column) raises ``ValueError`` when iteration starts: running without the
metadata asked for would silently store wrong outlets.

Identity: ``doc_id`` = first 24 hex digits of sha256 of ``source_kind``, ``external_id``
and ``content_sha256`` joined by U+001F.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import json
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, Callable

from .dates import parse_date

__all__ = [
    "Document",
    "Reject",
    "InputFile",
    "iter_inputs",
    "parse_map",
    "read_manifest",
    "decode_bytes",
    "make_doc_id",
    "FIELDS",
    "DEFAULT_MAX_BYTES",
]

DEFAULT_MAX_BYTES = 20_000_000
FIELDS = ("text", "id", "title", "outlet", "url", "published", "language")
_ENVELOPE_KEYS = ("data", "articles", "items", "records", "documents")


# --------------------------------------------------------------------------- data


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


def make_doc_id(source_kind: str, external_id: str, content_sha256: str) -> str:
    key = "\x1f".join((source_kind, external_id, content_sha256)).encode("utf-8")
    return hashlib.sha256(key).hexdigest()[:24]


# --------------------------------------------------------------------------- --map


def parse_map(spec: str) -> dict[str, str]:
    """``"text=content,outlet=source"`` → ``{"text": "content", "outlet": "source"}``."""
    if not isinstance(spec, str):
        raise ValueError(f"--map must be a string like 'text=content,outlet=source', got {type(spec).__name__}")
    out: dict[str, str] = {}
    items = [p.strip() for p in spec.split(",")]
    if not any(items):
        raise ValueError("--map is empty; expected FIELD=SOURCE pairs such as 'text=content,outlet=source'")
    for item in items:
        if not item:
            continue
        if "=" not in item:
            raise ValueError(f"--map item {item!r} has no '='; expected FIELD=SOURCE, e.g. 'text=content'")
        target, _, source = item.partition("=")
        target, source = target.strip(), source.strip()
        if target not in FIELDS:
            raise ValueError(f"--map item {item!r}: unknown field {target!r}; known fields: {', '.join(FIELDS)}")
        if not source:
            raise ValueError(f"--map item {item!r}: no source key after '='")
        if target in out and out[target] != source:
            raise ValueError(f"--map maps field {target!r} twice ({out[target]!r} and {source!r})")
        out[target] = source
    return out


# --------------------------------------------------------------------------- decoding

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "zip archive (or .docx/.xlsx/.odt)"),
    (b"PK\x05\x06", "zip archive"),
    (b"\x1f\x8b", "gzip data"),
    (b"\x7fELF", "ELF executable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "MS Office (OLE) document"),
    (b"\xfd7zXZ\x00", "xz data"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"BZh9", "bzip2 data"),
    (b"\x28\xb5\x2f\xfd", "zstd data"),
    (b"OggS", "Ogg media"),
    (b"\xca\xfe\xba\xbe", "Java class / Mach-O"),
    (b"\xcf\xfa\xed\xfe", "Mach-O executable"),
    (b"\x00asm", "WebAssembly"),
    (b"wOFF", "WOFF font"),
)

_CTRL_RE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_WORD_RE = re.compile(r"[^\W\d_]+")
_ARABIC_RE = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_LATIN_RE = re.compile("[A-Za-z\u00c0-\u024f]")
_SYMBOL_RE = re.compile("[\u00a4\u00a6-\u00a9\u00ac\u00ae-\u00b6\u00b8-\u00ba\u00bc-\u00be\u00d7\u00f7\ue000-\uf8ff\ufffd]")
_LEGACY = ("cp1256", "iso-8859-6", "iso-8859-1", "cp1252")
_ARABIC_CODECS = {"cp1256", "iso8859-6", "mac-arabic", "cp720", "cp864"}
_BINARY_CTRL_RATIO = 0.03
_SAMPLE_CHARS = 200_000


def _magic(raw: bytes) -> str | None:
    for sig, what in _MAGIC:
        if raw.startswith(sig):
            return what
    if raw[4:8] == b"ftyp":
        return "MP4/QuickTime media"
    if raw.startswith(b"RIFF") and raw[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        return "RIFF media"
    return None


def _codec_name(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name


def _penalty(text: str) -> float:
    """Implausibility per character of a decoded sample: 0 for clean text."""
    sample = text[:_SAMPLE_CHARS]
    n = len(sample)
    if n == 0:
        return 1.0
    bad = 5 * len(_CTRL_RE.findall(sample)) + 3 * len(_SYMBOL_RE.findall(sample))
    for w in _WORD_RE.findall(sample):
        if len(w) < 2:
            continue
        has_ar = _ARABIC_RE.search(w) is not None
        has_la = _LATIN_RE.search(w) is not None
        if has_ar and has_la:
            bad += len(w)
        elif has_la and not w.isascii():
            non_ascii = sum(1 for c in w if c > "\x7f")
            if non_ascii * 2 > len(w):
                bad += len(w)
    return bad / n


def _plausible(text: str, penalty: float) -> bool:
    sample = text[:_SAMPLE_CHARS]
    if not sample.strip():
        return True  # judged later as "whitespace only"
    if penalty > 0.1:
        return False
    letters = sum(len(w) for w in _WORD_RE.findall(sample))
    if letters < 0.3 * len(sample.strip()):
        return False
    if len(sample) > 200 and sum(sample.count(c) for c in " \n\t\r\u3000") < 0.01 * len(sample):
        return False
    return True


def _lenient_utf8(raw: bytes) -> tuple[str, int] | None:
    """UTF-8 with bad bytes as U+FFFD when the data clearly is UTF-8, else None."""
    max_bad = max(1, len(raw) // 200)
    parts: list[str] = []
    view = memoryview(raw)
    pos = bad_seqs = bad_bytes = 0
    while True:
        try:
            parts.append(codecs.utf_8_decode(view[pos:], "strict", True)[0])
            break
        except UnicodeDecodeError as e:
            parts.append(codecs.utf_8_decode(view[pos : pos + e.start], "strict", True)[0])
            parts.append("\ufffd")
            bad_seqs += 1
            bad_bytes += e.end - e.start
            pos += e.end
            if bad_seqs > max_bad:
                return None
    text = "".join(parts)
    valid_chars = len(text) - bad_seqs
    continuation = (len(raw) - bad_bytes) - valid_chars  # extra bytes of multi-byte characters
    if continuation < 10 * bad_seqs:
        return None
    return text, bad_seqs


def _utf16_no_bom(raw: bytes) -> str | None:
    if len(raw) < 4 or len(raw) % 2:
        return None
    n = len(raw) // 2
    for codec, high in (("utf-16-le", raw[1::2]), ("utf-16-be", raw[0::2])):
        if high.count(0) + high.count(6) >= 0.7 * n:
            low = raw[0::2] if codec == "utf-16-le" else raw[1::2]
            if low.count(0) > 0.3 * n:
                continue
            return codec
    return None


def decode_bytes(raw: bytes) -> tuple[str, str, list[str]] | str:
    """Decode the bytes of a text file: ``(text, encoding, notes)`` or a reject reason.

    ``text`` has a leading BOM removed, NULs removed and lone surrogates replaced (both
    noted); nothing else is changed.
    """
    if not raw:
        return "empty file (0 bytes)"
    what = _magic(raw)
    if what:
        return f"binary file ({what}), not text"
    notes: list[str] = []
    text: str | None = None
    enc = ""
    for bom, codec, label in (
        (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
        (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
    ):
        if raw.startswith(bom):
            body = raw[len(bom) :]
            if codec.startswith("utf-16") and len(body) % 2:
                body = body[:-1]
                notes.append("dropped 1 trailing odd byte of UTF-16 data")
            try:
                text = body.decode(codec, "surrogatepass" if codec != "utf-8" else "strict")
            except UnicodeDecodeError:
                if codec == "utf-8":
                    lenient = _lenient_utf8(body)
                    if lenient:
                        text = lenient[0]
                        notes.append(f"replaced {lenient[1]} invalid UTF-8 byte sequence(s) with U+FFFD")
                if text is None:
                    return f"not decodable as text: starts with a {label} byte-order mark but is not valid {label}"
            enc = label
            break
    if text is None and b"\x00" in raw:
        codec16 = _utf16_no_bom(raw)
        if codec16:
            try:
                text, enc = raw.decode(codec16, "surrogatepass"), codec16
            except UnicodeDecodeError:
                text = None
    if text is None:
        try:
            text, enc = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            lenient = _lenient_utf8(raw)
            if lenient:
                text, enc = lenient[0], "utf-8"
                notes.append(f"replaced {lenient[1]} invalid UTF-8 byte sequence(s) with U+FFFD")
    if text is None:
        picked = _pick_legacy(raw)
        if isinstance(picked, str):
            return picked
        text, enc = picked
    if text.startswith("\ufeff"):
        text = text[1:]
    if text:
        ctrl = len(_CTRL_RE.findall(text))
        if ctrl > max(8, _BINARY_CTRL_RATIO * len(text)):
            return f"binary content: {100 * ctrl / len(text):.0f}% control characters (decoded as {enc})"
    text, clean_notes = _clean(text)
    return text, enc, notes + clean_notes


def _pick_legacy(raw: bytes) -> tuple[str, str] | str:
    candidates: list[str] = list(_LEGACY)
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(raw[:262_144]).best()
        if best is not None and best.encoding:
            guess = _codec_name(best.encoding)
            if guess not in {_codec_name(c) for c in candidates} and guess not in ("utf_8", "utf-8", "ascii"):
                candidates.append(guess)
    except Exception:  # noqa: BLE001 - the detector is a hint, never a failure
        pass
    scored = []
    for order, codec in enumerate(candidates):
        try:
            text = raw.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        pen = _penalty(text)
        if not _plausible(text, pen):
            continue
        has_ar = _ARABIC_RE.search(text[:_SAMPLE_CHARS]) is not None
        is_ar_codec = _codec_name(codec) in {_codec_name(c) for c in _ARABIC_CODECS}
        script_fit = 0 if has_ar == is_ar_codec else 1
        scored.append((round(pen, 4), script_fit, order, codec, text))
    if not scored:
        return "not decodable as text: not UTF-8, and no known encoding gives plausible text (binary or mixed garbage?)"
    scored.sort(key=lambda t: t[:3])
    _, _, _, codec, text = scored[0]
    return text, _codec_name(codec).replace("_", "-").replace("iso8859", "iso-8859")


def _clean(text: str) -> tuple[str, list[str]]:
    notes: list[str] = []
    nul = text.count("\x00")
    if nul:
        text = text.replace("\x00", "")
        notes.append(f"removed {nul} NUL character(s)")
    text, nsur = _SURROGATE_RE.subn("\ufffd", text)
    if nsur:
        notes.append(f"replaced {nsur} lone surrogate(s) (unpaired \\u escapes or undecodable bytes) with U+FFFD")
    return text, notes


def _clean_field(value: str, name: str, notes: list[str]) -> str:
    """Clean a metadata string; bytes smuggled in by surrogateescape are re-decoded."""
    if _SURROGATE_RE.search(value) is None and "\x00" not in value:
        return value
    fixed = _redecode_escaped(value)
    if fixed is not None:
        value, codec = fixed
        notes.append(f"{name}: bytes were not UTF-8, decoded as {codec}")
    value, cnotes = _clean(value)
    notes.extend(f"{name}: {n}" for n in cnotes)
    return value


def _redecode_escaped(value: str) -> tuple[str, str] | None:
    """A JSON string read with surrogateescape that held non-UTF-8 bytes: decode them."""
    if re.search("[\udc80-\udcff]", value) is None:
        return None
    try:
        raw = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return None
    dec = decode_bytes(raw)
    if isinstance(dec, str):
        return None
    text, enc, notes = dec
    if enc.startswith("utf-8") and notes:
        return None  # still broken UTF-8: let _clean replace what is left
    return text, enc


# --------------------------------------------------------------------------- names & walking

_JUNK_NAMES = {"thumbs.db", "desktop.ini", "__macosx", "ehthumbs.db"}


def _is_junk(name: str) -> bool:
    low = name.lower()
    return name.startswith(".") or name.startswith("~$") or low in _JUNK_NAMES


def _classify(name: str) -> tuple[str | None, bool, str, str]:
    """(kind, gzipped, stem, extension shown in messages) for a file name."""
    low = name.lower()
    gz = low.endswith(".gz") and len(low) > 3
    inner = name[:-3] if gz else name
    suffix = PurePosixPath(inner).suffix.lower()
    stem = inner[: len(inner) - len(suffix)] if suffix else inner
    kind = {".txt": "txt", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".zip": "zip"}.get(suffix)
    if gz and kind == "zip":
        kind = None
    shown = (suffix or "no extension") + (".gz" if gz else "")
    if gz and not suffix:
        shown = ".gz"
    return kind, gz, stem, shown


@dataclass(slots=True)
class _Ctx:
    field_map: Mapping[str, str]
    max_bytes: int
    default_outlet: str | None
    manifest: dict[str, dict]
    manifest_used: set[str]
    input_files: list[InputFile] | None
    skip_real: set[str] = field(default_factory=set)

    @property
    def record_limit(self) -> int:
        return 4 * self.max_bytes + (1 << 20)


def _posix(p: str) -> str:
    s = p.replace("\\", "/")
    while s.startswith("./"):
        s = s[2:]
    return s


def _manifest_match(ctx: _Ctx, keys: Sequence[str]) -> dict | None:
    if not ctx.manifest:
        return None
    for k in keys:
        for cand in (k, k[:-3] if k.lower().endswith(".gz") else None):
            if cand and cand in ctx.manifest:
                ctx.manifest_used.add(cand)
                return ctx.manifest[cand]
    return None


def _walk(given: str, root: Path, ctx: _Ctx) -> Iterator[tuple[str, Path, str] | Reject]:
    """Files under ``root`` as (display path, real path, path relative to root), sorted."""
    # Depth-first, sorted: process a folder's entries in name order, descending into
    # sub-folders where they sort.
    def visit(folder: Path, rel: str) -> Iterator[tuple[str, Path, str] | Reject]:
        display = _safe(os.path.join(given, rel) if rel else given)
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
            if _is_junk(entry.name):
                continue
            child_rel = f"{rel}/{entry.name}" if rel else entry.name
            child_display = os.path.join(given, child_rel)
            try:
                if entry.is_dir(follow_symlinks=False):
                    yield from visit(Path(entry.path), child_rel)
                    continue
                if entry.is_symlink() and entry.is_dir():
                    continue  # symlinked folders are not followed
            except OSError:
                pass
            if entry.name.lower() == "manifest.csv":
                continue
            yield child_display, Path(entry.path), child_rel

    yield from visit(root, "")


# --------------------------------------------------------------------------- entry point


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
    if isinstance(paths, (str, Path)):
        paths = [paths]
    fmap = dict(field_map or {})
    for k in fmap:
        if k not in FIELDS:
            raise ValueError(f"field_map: unknown field {k!r}; known fields: {', '.join(FIELDS)}")
    if max_bytes <= 0:
        raise ValueError("max_bytes must be positive")
    entries: dict[str, dict] = {}
    manifest_rejects: list[Reject] = []
    skip_real: set[str] = set()
    if manifest is not None:
        entries, manifest_rejects = read_manifest(manifest)
        try:
            skip_real.add(os.path.realpath(manifest))
        except OSError:
            pass
    outlet = default_outlet.strip() if isinstance(default_outlet, str) and default_outlet.strip() else None
    ctx = _Ctx(fmap, max_bytes, outlet, entries, set(), input_files, skip_real)
    yield from manifest_rejects
    for p in paths:
        given = os.fspath(p)
        shown = _safe(given)
        try:
            st = os.stat(given)
        except FileNotFoundError:
            if os.path.lexists(given):
                yield Reject(shown, None, "broken symbolic link")
            else:
                yield Reject(shown, None, "path does not exist")
            continue
        except PermissionError:
            yield Reject(shown, None, "permission denied")
            continue
        except (OSError, ValueError) as e:  # ValueError: NUL byte in the path
            yield Reject(shown.replace("\x00", "\\0"), None, f"cannot access path: {getattr(e, 'strerror', None) or e}")
            continue
        if stat.S_ISDIR(st.st_mode):
            for item in _walk(given, Path(given), ctx):
                if isinstance(item, Reject):
                    yield item
                    continue
                display, real, rel = item
                yield from _read_file(display, real, rel, ctx, explicit=False)
        else:
            yield from _read_file(given, Path(given), PurePosixPath(_posix(given)).name, ctx, explicit=True)
    for key, entry in sorted(entries.items(), key=lambda kv: kv[1]["row"]):
        if key not in ctx.manifest_used:
            yield Reject(str(manifest), entry["row"], f"manifest names a file that was not in the inputs: {key}")


def _digest(path: Path) -> tuple[int, str]:
    with open(path, "rb") as f:
        h = hashlib.file_digest(f, "sha256")
        size = f.tell()
    return size, h.hexdigest()


def _os_reason(e: OSError, what: str = "file") -> str:
    if isinstance(e, FileNotFoundError):
        return f"{what} vanished before it could be read"
    if isinstance(e, PermissionError):
        return f"permission denied: cannot read {what}"
    if isinstance(e, IsADirectoryError):
        return "is a folder, expected a file"
    return f"cannot read {what}: {e.strerror or e}"


def _safe(s: str) -> str:
    """A path for display and storage: undecodable file-name bytes become U+FFFD."""
    if _SURROGATE_RE.search(s) is None:
        return s
    return s.encode("utf-8", "surrogateescape").decode("utf-8", "replace").encode("utf-8", "replace").decode()


def _read_file(display: str, real: Path, rel: str, ctx: _Ctx, *, explicit: bool) -> Iterator[Document | Reject]:
    name = real.name
    display, rel = _safe(display), _safe(rel)
    if not explicit and ctx.skip_real:
        try:
            if os.path.realpath(real) in ctx.skip_real:
                return
        except OSError:
            pass
    if explicit and name.lower() == "manifest.csv":
        return
    kind, gz, stem, shown = _classify(_safe(name))
    if kind is None:
        yield Reject(display, None, f"unsupported file type ({shown}); expected .txt, .json, .jsonl, .zip or .gz")
        return
    try:
        st = os.stat(real)
    except OSError as e:
        yield Reject(display, None, _os_reason(e))
        return
    if not stat.S_ISREG(st.st_mode):
        yield Reject(display, None, "not a regular file (device, pipe or socket)")
        return
    meta_keys = [_posix(display), _posix(rel), name]
    meta = _manifest_match(ctx, meta_keys) if kind != "zip" else None
    if kind == "txt" and not gz and st.st_size > ctx.max_bytes:
        yield Reject(display, None, _oversized(st.st_size, ctx.max_bytes))
        return
    if kind == "zip":
        yield from _read_zip(display, real, ctx)
        return
    try:
        if kind == "txt" and not gz:
            with open(real, "rb") as f:
                raw = f.read(ctx.max_bytes + 1)
            if len(raw) > ctx.max_bytes:
                yield Reject(display, None, _oversized(len(raw), ctx.max_bytes, at_least=True))
                return
            _note_input(ctx, display, raw=raw)
            yield _txt_doc(raw, display, stem, ctx, meta)
            return
        _note_input(ctx, display, real=real)
    except OSError as e:
        yield Reject(display, None, _os_reason(e))
        return

    def opener() -> IO[bytes]:
        f = open(real, "rb")
        if gz:
            return gzip.GzipFile(fileobj=f, mode="rb")  # type: ignore[return-value]
        return f

    yield from _read_stream(opener, display, kind, stem, ctx, meta, gz=gz)


def _note_input(ctx: _Ctx, display: str, *, raw: bytes | None = None, real: Path | None = None) -> None:
    if ctx.input_files is None:
        return
    if raw is not None:
        ctx.input_files.append(InputFile(display, len(raw), hashlib.sha256(raw).hexdigest()))
    elif real is not None:
        size, digest = _digest(real)
        ctx.input_files.append(InputFile(display, size, digest))


def _oversized(size: int, limit: int, *, at_least: bool = False) -> str:
    more = "more than " if at_least else ""
    return f"file too large: {more}{size:,} bytes, over the {limit:,}-byte limit for one text"


# --------------------------------------------------------------------------- archives


def _read_zip(display: str, real: Path, ctx: _Ctx) -> Iterator[Document | Reject]:
    try:
        zf = zipfile.ZipFile(real)
    except zipfile.BadZipFile as e:
        yield Reject(display, None, f"not a valid zip archive: {e}")
        return
    except OSError as e:
        yield Reject(display, None, _os_reason(e, "archive"))
        return
    except Exception as e:  # noqa: BLE001 - e.g. ValueError on absurd headers
        yield Reject(display, None, f"not a valid zip archive: {type(e).__name__}: {e}")
        return
    with zf:
        try:
            _note_input(ctx, display, real=real)
        except OSError as e:
            yield Reject(display, None, _os_reason(e, "archive"))
            return
        infos = sorted((i for i in zf.infolist() if not i.is_dir()), key=lambda i: (i.filename, i.header_offset))
        for info in infos:
            member = info.filename
            parts = PurePosixPath(member).parts
            if any(_is_junk(p) for p in parts):
                continue
            base = parts[-1] if parts else member
            if base.lower() == "manifest.csv":
                continue
            mdisplay = f"{display}!{member}"
            kind, gz, stem, shown = _classify(base)
            if kind == "zip":
                yield Reject(mdisplay, None, "nested zip archive inside a zip is not read; unpack the outer one")
                continue
            if kind is None:
                yield Reject(mdisplay, None, f"unsupported file type ({shown}); expected .txt, .json, .jsonl or .gz")
                continue
            if info.flag_bits & 0x1:
                yield Reject(mdisplay, None, "archive member is encrypted")
                continue
            meta = _manifest_match(ctx, [mdisplay, member, base])
            if kind == "txt" and not gz:
                if info.file_size > ctx.max_bytes:
                    yield Reject(mdisplay, None, _oversized(info.file_size, ctx.max_bytes))
                    continue
                try:
                    with zf.open(info) as f:
                        raw = f.read(ctx.max_bytes + 1)
                except Exception as e:  # noqa: BLE001 - bad member: reject it, go on
                    yield Reject(mdisplay, None, f"corrupt archive member: {type(e).__name__}: {e}")
                    continue
                if len(raw) > ctx.max_bytes:
                    yield Reject(mdisplay, None, _oversized(len(raw), ctx.max_bytes, at_least=True))
                    continue
                yield _txt_doc(raw, mdisplay, stem, ctx, meta)
                continue

            def opener(info: zipfile.ZipInfo = info, gz: bool = gz) -> IO[bytes]:
                f = zf.open(info)
                if gz:
                    return gzip.GzipFile(fileobj=f, mode="rb")  # type: ignore[return-value]
                return f

            yield from _read_stream(opener, mdisplay, kind, stem, ctx, meta, gz=gz)


def _read_stream(
    opener: Callable[[], IO[bytes]],
    display: str,
    kind: str,
    stem: str,
    ctx: _Ctx,
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
                    yield Reject(display, None, _oversized(len(raw), ctx.max_bytes, at_least=True) + " (decompressed)")
                    return
                yield _txt_doc(raw, display, stem, ctx, meta)
                return
            for item in _iter_json_stream(f, display, kind, stem, ctx, meta):
                if item.record is not None:
                    progress["record"] = item.record
                yield item
    except GeneratorExit:
        raise
    except (EOFError, zlib.error, gzip.BadGzipFile, zipfile.BadZipFile) as e:
        where = f" after record {progress['record']}; records before were kept" if progress["record"] else ""
        yield Reject(display, None, f"corrupt or truncated compressed data{where}: {e or type(e).__name__}")
    except OSError as e:
        yield Reject(display, None, _os_reason(e))
    except Exception as e:  # noqa: BLE001 - never crash on one bad input
        where = f" after record {progress['record']}" if progress["record"] else ""
        yield Reject(display, None, f"could not read{where}: {type(e).__name__}: {e}")


# --------------------------------------------------------------------------- documents


def _txt_doc(raw: bytes, display: str, stem: str, ctx: _Ctx, meta: dict | None) -> Document | Reject:
    dec = decode_bytes(raw)
    if isinstance(dec, str):
        return Reject(display, None, dec)
    text, enc, notes = dec
    if not text.strip():
        return Reject(display, None, "file holds only whitespace" if text else "empty file (no text)")
    external_id = stem
    fields: dict[str, Any] = {}
    if meta:
        fields = {k: meta.get(k) for k in ("outlet", "url", "published", "title", "language")}
    return _make_doc(text, enc, notes, display, "txt", None, external_id, fields, ctx)


def _make_doc(
    text: str,
    enc: str,
    notes: list[str],
    display: str,
    kind: str,
    record: int | None,
    external_id: str,
    fields: Mapping[str, Any],
    ctx: _Ctx,
) -> Document | Reject:
    size = len(text) if text.isascii() else len(text.encode("utf-8"))
    if size > ctx.max_bytes:
        return Reject(display, record, f"text too large: {size:,} bytes, over the {ctx.max_bytes:,}-byte limit")
    notes = list(notes)

    def s(name: str) -> str | None:
        v = fields.get(name)
        if v is None:
            return None
        if isinstance(v, bool) or isinstance(v, (dict, list)):
            notes.append(f"{name} ignored: expected a string, got {_type_name(v)}")
            return None
        if not isinstance(v, str):
            v = str(v)
        v = _clean_field(v, name, notes).strip()
        return v or None

    outlet = s("outlet") or ctx.default_outlet
    title, url, language = s("title"), s("url"), s("language")
    raw_pub = fields.get("published")
    published_raw: str | None = None
    published: str | None = None
    if raw_pub is not None and not (isinstance(raw_pub, str) and not raw_pub.strip()):
        published_raw = raw_pub if isinstance(raw_pub, str) else json.dumps(raw_pub, ensure_ascii=False)
        published_raw = _clean_field(published_raw, "published", notes)
        published = parse_date(raw_pub)
        if published is None:
            shown = published_raw if len(published_raw) <= 80 else published_raw[:77] + "..."
            notes.append(f"date did not parse: {json.dumps(shown, ensure_ascii=False)}")
    content_sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Document(
        doc_id=make_doc_id(kind, external_id, content_sha),
        external_id=external_id,
        source_path=display,
        source_kind=kind,
        record=record,
        text=text,
        content_sha256=content_sha,
        encoding=enc,
        outlet=outlet,
        title=title,
        url=url,
        published=published,
        published_raw=published_raw,
        language=language,
        notes=tuple(notes),
    )


def _type_name(v: object) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


_MISSING = object()


def _lookup(rec: Mapping[str, Any], key: str) -> Any:
    if key in rec:
        return rec[key]
    if "." in key:
        cur: Any = rec
        for part in key.split("."):
            if isinstance(cur, Mapping) and part in cur:
                cur = cur[part]
            else:
                return _MISSING
        return cur
    return _MISSING


def _record_doc(
    rec: object,
    n: int,
    display: str,
    kind: str,
    stem: str,
    enc: str,
    ctx: _Ctx,
    meta: dict | None,
) -> Document | Reject:
    where = f"line {n}" if kind == "jsonl" else f"record {n}"
    if not isinstance(rec, dict):
        return Reject(display, n, f"{where} is a JSON {_type_name(rec)}, expected an object")
    src = {f: ctx.field_map.get(f, f) for f in FIELDS}
    text = _lookup(rec, src["text"])
    tname = repr(src["text"]) + ("" if src["text"] == "text" else " (mapped to text)")
    if text is _MISSING:
        return Reject(display, n, f"{where} has no {tname} field")
    if not isinstance(text, str):
        return Reject(display, n, f"{where}: field {tname} is a {_type_name(text)}, expected a string")
    notes: list[str] = []
    if _SURROGATE_RE.search(text):
        fixed = _redecode_escaped(text)
        if fixed is not None:
            text, enc = fixed
            notes.append(f"text bytes were not UTF-8, decoded as {enc}")
    text, cnotes = _clean(text)
    notes.extend(cnotes)
    if not text.strip():
        return Reject(display, n, f"{where}: field {tname} is empty" + (" (whitespace only)" if text else ""))
    fields: dict[str, Any] = {}
    if meta:
        fields.update({k: meta.get(k) for k in ("outlet", "url", "published", "title", "language")})
    for f in ("title", "outlet", "url", "published", "language"):
        v = _lookup(rec, src[f])
        if v is not _MISSING and v is not None and v != "":
            fields[f] = v
    ext_id = f"{stem}:{n}"
    rid = _lookup(rec, src["id"])
    if rid is not _MISSING and rid is not None:
        if isinstance(rid, bool) or isinstance(rid, (dict, list)):
            notes.append(f"id ignored: expected a string or number, got {_type_name(rid)}")
        else:
            if isinstance(rid, float) and rid.is_integer():
                rid = int(rid)
            rid_s = _clean_field(str(rid), "id", notes).strip()
            if rid_s:
                ext_id = rid_s
            else:
                notes.append("id ignored: empty")
    return _make_doc(text, enc, notes, display, kind, n, ext_id, fields, ctx)


# --------------------------------------------------------------------------- JSON streaming

_DECODER = json.JSONDecoder(strict=False)
_NONWS = re.compile(r"[^ \t\r\n]")


class _JsonError(Exception):
    def __init__(self, reason: str, record: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.record = record


class _JsonStream:
    """Incremental reader of JSON values from a text stream (one value at a time)."""

    def __init__(self, f: IO[str], max_chars: int, initial: str = "") -> None:
        self.f = f
        self.max_chars = max_chars
        self.buf = initial
        self.pos = 0
        self.eof = False
        self.base_lines = 0  # newlines in text already dropped from buf

    def _fill(self, want: int = 1 << 16) -> bool:
        if self.eof:
            return False
        chunk = self.f.read(want)
        if not chunk:
            self.eof = True
            return False
        if self.pos > (1 << 20):
            self.base_lines += self.buf.count("\n", 0, self.pos)
            self.buf = self.buf[self.pos :]
            self.pos = 0
        self.buf += chunk
        return True

    def where(self, pos: int | None = None) -> str:
        pos = self.pos if pos is None else pos
        line = self.base_lines + self.buf.count("\n", 0, pos) + 1
        col = pos - (self.buf.rfind("\n", 0, pos) + 1) + 1
        return f"line {line} column {col}"

    def peek(self) -> str | None:
        while True:
            m = _NONWS.search(self.buf, self.pos)
            if m:
                self.pos = m.start()
                return self.buf[self.pos]
            self.pos = len(self.buf)
            if not self._fill():
                return None

    def value(self, n: int) -> Any:
        while True:
            try:
                val, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as e:
                needs_more = e.msg.startswith("Unterminated") or e.pos >= len(self.buf) - 16
                if needs_more and not self.eof:
                    cur = len(self.buf) - self.pos
                    if cur > self.max_chars:
                        raise _JsonError(
                            f"record {n} at {self.where()} is longer than {self.max_chars:,} characters; "
                            "rest of the file not read", n) from None
                    self._fill(min(max(1 << 16, cur), self.max_chars + 1 - cur))
                    continue
                if e.msg.startswith("Unterminated") or e.pos >= len(self.buf.rstrip()):
                    raise _JsonError(f"JSON is truncated: record {n} starting at {self.where()} is cut off "
                                     f"at end of file ({e.msg}); records before it were kept", n) from None
                raise _JsonError(f"invalid JSON in record {n} at {self.where(e.pos)}: {e.msg}; "
                                 "rest of the file not read", n) from None
            if end >= len(self.buf) and not self.eof and self._fill():
                continue  # a number or literal may continue in the next chunk
            self.pos = end
            return val


def _text_stream(f: IO[bytes], head: bytes) -> tuple[IO[str], str]:
    """Wrap a binary stream (whose first bytes ``head`` were already read) as text."""
    if head.startswith(codecs.BOM_UTF32_LE) or head.startswith(codecs.BOM_UTF32_BE):
        enc, codec, errors = "utf-32", "utf-32", "replace"
    elif head.startswith(codecs.BOM_UTF8):
        enc, codec, errors = "utf-8-sig", "utf-8-sig", "surrogateescape"
    elif head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        enc, codec, errors = "utf-16", "utf-16", "replace"
    elif len(head) >= 4 and head[0] and not head[1] and head[2] and not head[3]:
        enc, codec, errors = "utf-16-le", "utf-16-le", "replace"
    elif len(head) >= 4 and not head[0] and head[1] and not head[2] and head[3]:
        enc, codec, errors = "utf-16-be", "utf-16-be", "replace"
    else:
        enc, codec, errors = "utf-8", "utf-8", "surrogateescape"
    raw = io.BufferedReader(_Prefixed(head, f), buffer_size=1 << 16)  # type: ignore[arg-type]
    return io.TextIOWrapper(raw, encoding=codec, errors=errors, newline="\n"), enc


class _Prefixed(io.RawIOBase):
    def __init__(self, head: bytes, f: IO[bytes]) -> None:
        self._head = head
        self._f = f

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._f.read(len(b))
        n = len(data)
        b[:n] = data
        return n

    def close(self) -> None:  # the caller closes the underlying stream
        super().close()


def _iter_json_stream(
    f: IO[bytes], display: str, kind: str, stem: str, ctx: _Ctx, meta: dict | None
) -> Iterator[Document | Reject]:
    head = f.read(16)
    if not head:
        yield Reject(display, None, "empty file (0 bytes)")
        return
    what = _magic(head)
    if what:
        yield Reject(display, None, f"binary file ({what}), not JSON")
        return
    text_f, enc = _text_stream(f, head)
    produced = 0
    if kind == "jsonl":
        it = _iter_jsonl(text_f, display, stem, enc, ctx, meta)
    else:
        it = _iter_json(_JsonStream(text_f, ctx.record_limit), display, "json", stem, enc, ctx, meta)
    for item in it:
        produced += 1
        yield item
    if produced == 0:
        yield Reject(display, None, "file holds only whitespace, no records")


def _iter_jsonl(
    f: IO[str], display: str, stem: str, enc: str, ctx: _Ctx, meta: dict | None
) -> Iterator[Document | Reject]:
    limit = ctx.record_limit
    lineno = 0
    first = True
    while True:
        line = f.readline(limit)
        if not line:
            return
        lineno += 1
        if len(line) >= limit and not line.endswith("\n"):
            while True:
                more = f.readline(limit)
                if not more or more.endswith("\n"):
                    break
            yield Reject(display, lineno, f"line {lineno} is longer than {limit:,} characters; line skipped")
            first = False
            continue
        s = line.strip(" \t\r\n\ufeff")
        if not s:
            continue
        try:
            rec = _DECODER.decode(s)
        except json.JSONDecodeError as e:
            if first and s.startswith("["):
                # A pretty-printed JSON array in a file named .jsonl: read it as one array.
                stream = _JsonStream(f, limit, initial=line)
                stream.base_lines = lineno - 1
                yield from _iter_json(stream, display, "jsonl", stem, enc, ctx, meta)
                return
            yield Reject(display, lineno, f"line {lineno}: invalid JSON at column {e.colno}: {e.msg}")
            first = False
            continue
        first = False
        yield _record_doc(rec, lineno, display, "jsonl", stem, enc, ctx, meta)


def _iter_json(
    s: _JsonStream, display: str, kind: str, stem: str, enc: str, ctx: _Ctx, meta: dict | None
) -> Iterator[Document | Reject]:
    n = 0
    try:
        c = s.peek()
        if c is None:
            return
        if c == "[":
            s.pos += 1
            c = s.peek()
            if c == "]":
                s.pos += 1
                yield Reject(display, None, "JSON array is empty: no records")
            else:
                while True:
                    if c is None:
                        raise _JsonError(f"JSON array is truncated after record {n} (end of file at "
                                         f"{s.where()}); records before were kept", n or None)
                    n += 1
                    val = s.value(n)
                    yield _record_doc(val, n, display, kind, stem, enc, ctx, meta)
                    c = s.peek()
                    if c == ",":
                        s.pos += 1
                        c = s.peek()
                        if c == "]":  # trailing comma: tolerated
                            s.pos += 1
                            break
                        continue
                    if c == "]":
                        s.pos += 1
                        break
                    if c is None:
                        raise _JsonError(f"JSON array is truncated after record {n} (no closing ']' at "
                                         f"{s.where()}); records before were kept", n)
                    raise _JsonError(f"invalid JSON after record {n} at {s.where()}: expected ',' or ']', "
                                     f"found {c!r}; rest of the file not read", n)
            if s.peek() is not None:
                yield Reject(display, None, f"extra data after the JSON array at {s.where()}; ignored")
            return
        # One object, or several concatenated values / JSON lines.
        text_key = ctx.field_map.get("text", "text")
        while c is not None:
            val = s.value(n + 1)
            envelope = None
            if isinstance(val, dict) and _lookup(val, text_key) is _MISSING:
                envelope = next((k for k in _ENVELOPE_KEYS if isinstance(val.get(k), list)), None)
            if envelope is not None:
                for item in val[envelope]:
                    n += 1
                    yield _record_doc(item, n, display, kind, stem, enc, ctx, meta)
            else:
                n += 1
                yield _record_doc(val, n, display, kind, stem, enc, ctx, meta)
            c = s.peek()
    except _JsonError as e:
        yield Reject(display, e.record, e.reason)


# --------------------------------------------------------------------------- manifest


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
        name = _posix(cells.get("file", ""))
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
