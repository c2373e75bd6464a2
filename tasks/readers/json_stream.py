"""JSON and JSON-lines inputs read as a stream, record by record, with positions for every error.

See the package docstring (``.jsonl`` / ``.json``) for the shapes accepted.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Iterator
from typing import IO, Any

from .decode import magic_type
from .model import Document, ReadContext, Reject
from .records import MISSING, lookup, record_document

__all__ = ["iter_json_stream"]

_ENVELOPE_KEYS = ("data", "articles", "items", "records", "documents")

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


def iter_json_stream(
    f: IO[bytes], display: str, kind: str, stem: str, ctx: ReadContext, meta: dict | None
) -> Iterator[Document | Reject]:
    head = f.read(16)
    if not head:
        yield Reject(display, None, "empty file (0 bytes)")
        return
    what = magic_type(head)
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
    f: IO[str], display: str, stem: str, enc: str, ctx: ReadContext, meta: dict | None
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
        yield record_document(rec, lineno, display, "jsonl", stem, enc, ctx, meta)


def _iter_json(
    s: _JsonStream, display: str, kind: str, stem: str, enc: str, ctx: ReadContext, meta: dict | None
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
                    yield record_document(val, n, display, kind, stem, enc, ctx, meta)
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
            if isinstance(val, dict) and lookup(val, text_key) is MISSING:
                envelope = next((k for k in _ENVELOPE_KEYS if isinstance(val.get(k), list)), None)
            if envelope is not None:
                for item in val[envelope]:
                    n += 1
                    yield record_document(item, n, display, kind, stem, enc, ctx, meta)
            else:
                n += 1
                yield record_document(val, n, display, kind, stem, enc, ctx, meta)
            c = s.peek()
    except _JsonError as e:
        yield Reject(display, e.record, e.reason)

