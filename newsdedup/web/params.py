"""Strict parsing of query parameters: every value is a literal of a known type, or the request is a 400.

A page names the parameters it accepts; anything else (``outlet[$ne]``, a
parameter given twice, a number that is not one, a date that is not
``YYYY-MM-DD``) is refused with a message saying which parameter and why, never
silently ignored and never passed on. Values come out as ``str``/``int``/day
ordinals, so nothing a user types can become a MongoDB operator.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_TEXT = 500  # characters of a free-text value (a search for a claim, an outlet, an attribution)


class BadRequest(ValueError):
    """A request whose parameters cannot be used (rendered as a 400 page)."""


@dataclass(frozen=True)
class Param:
    name: str
    kind: str = "text"  # text | int | date | choice
    default: Any = None
    low: int | None = None
    high: int | None = None
    choices: Sequence[str] = ()
    max_len: int = MAX_TEXT


def parse(query: Sequence[tuple[str, str]], spec: Sequence[Param]) -> dict[str, Any]:
    """Values of ``spec`` from the raw ``(name, value)`` pairs of a query string; empty values are unset."""
    known: Mapping[str, Param] = {p.name: p for p in spec}
    seen: dict[str, str] = {}
    for name, value in query:
        if name not in known:
            shown = name if len(name) <= 40 else name[:40] + "…"
            raise BadRequest(f"unknown parameter {shown!r}" + (f"; this page takes {', '.join(known)}" if known
                                                                 else "; this page takes none"))
        if name in seen:
            raise BadRequest(f"parameter {name!r} is given more than once")
        seen[name] = value
    out: dict[str, Any] = {}
    for p in spec:
        raw = seen.get(p.name, "")
        raw = raw.strip() if p.kind != "text" else raw
        out[p.name] = p.default if raw == "" or (p.kind == "text" and not raw.strip()) else _value(p, raw)
    return out


def _value(p: Param, raw: str) -> Any:
    if "\x00" in raw:
        raise BadRequest(f"parameter {p.name!r} holds a NUL character")
    if p.kind == "text":
        if len(raw) > p.max_len:
            raise BadRequest(f"parameter {p.name!r} is longer than {p.max_len} characters")
        return raw.strip()
    if p.kind == "int":
        if not raw.isascii() or not raw.lstrip("-").isdigit() or len(raw) > 9:
            raise BadRequest(f"parameter {p.name!r} must be a whole number, not {raw[:40]!r}")
        n = int(raw)
        if (p.low is not None and n < p.low) or (p.high is not None and n > p.high):
            raise BadRequest(f"parameter {p.name!r} must be between {p.low} and {p.high}")
        return n
    if p.kind == "date":
        try:
            if len(raw) != 10 or not raw.isascii():
                raise ValueError
            return dt.date.fromisoformat(raw).toordinal()
        except ValueError:
            raise BadRequest(f"parameter {p.name!r} must be a date written YYYY-MM-DD, not {raw[:40]!r}") from None
    if p.kind == "choice":
        if raw not in p.choices:
            raise BadRequest(f"parameter {p.name!r} must be one of {', '.join(p.choices)}")
        return raw
    raise AssertionError(p.kind)  # pragma: no cover


def check_id(value: str, what: str) -> str:
    """An id from a URL path: plain printable text of bounded length (unknown ids are a 404 later)."""
    if not value or len(value) > 200 or any(ord(c) < 32 for c in value):
        raise BadRequest(f"not a valid {what} id")
    return value
