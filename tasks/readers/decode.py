"""Decoding the bytes of a text file: BOMs, UTF-16 without BOM, (lenient) UTF-8, legacy code pages.

See the package docstring ("Text decoding") for the rules and why.
"""

from __future__ import annotations

import codecs
import re

from .model import SURROGATE_RE

__all__ = ["decode_bytes", "magic_type", "clean", "clean_field", "redecode_escaped"]

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
_WORD_RE = re.compile(r"[^\W\d_]+")
_ARABIC_RE = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_LATIN_RE = re.compile("[A-Za-z\u00c0-\u024f]")
_SYMBOL_RE = re.compile("[\u00a4\u00a6-\u00a9\u00ac\u00ae-\u00b6\u00b8-\u00ba\u00bc-\u00be\u00d7\u00f7\ue000-\uf8ff\ufffd]")
_LEGACY = ("cp1256", "iso-8859-6", "iso-8859-1", "cp1252")
_ARABIC_CODECS = {"cp1256", "iso8859-6", "mac-arabic", "cp720", "cp864"}
_BINARY_CTRL_RATIO = 0.03
_SAMPLE_CHARS = 200_000


def magic_type(raw: bytes) -> str | None:
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
    what = magic_type(raw)
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
    text, clean_notes = clean(text)
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


def clean(text: str) -> tuple[str, list[str]]:
    notes: list[str] = []
    nul = text.count("\x00")
    if nul:
        text = text.replace("\x00", "")
        notes.append(f"removed {nul} NUL character(s)")
    text, nsur = SURROGATE_RE.subn("\ufffd", text)
    if nsur:
        notes.append(f"replaced {nsur} lone surrogate(s) (unpaired \\u escapes or undecodable bytes) with U+FFFD")
    return text, notes


def clean_field(value: str, name: str, notes: list[str]) -> str:
    """Clean a metadata string; bytes smuggled in by surrogateescape are re-decoded."""
    if SURROGATE_RE.search(value) is None and "\x00" not in value:
        return value
    fixed = redecode_escaped(value)
    if fixed is not None:
        value, codec = fixed
        notes.append(f"{name}: bytes were not UTF-8, decoded as {codec}")
    value, cnotes = clean(value)
    notes.extend(f"{name}: {n}" for n in cnotes)
    return value


def redecode_escaped(value: str) -> tuple[str, str] | None:
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
        return None  # still broken UTF-8: let clean replace what is left
    return text, enc

