"""Normalization for matching, with an offset map back to the text as received.

Stored text is never changed: matching runs on the normalized form and every span
found there is mapped back with :meth:`Normalized.span`, so exports can report
``start``/``end`` as Python ``str`` indices into the original text.

What is folded (Arabic first, any script): Unicode NFKC (per character, so
presentation forms such as «ﻻ» become «لا»), tatweel, harakat/Quranic marks,
bidi and zero-width controls are dropped; alef forms (أ إ آ ٱ) become ا,
ى → ي, ة → ه, hamza carriers (ؤ → و, ئ → ي), Persian/Urdu letter forms
(ک → ك, ی → ي, ہ/ە → ه), Arabic-Indic and Persian digits → ASCII, quote and
dash variants → ``"`` and ``-``, Latin is case-folded and every run of
whitespace becomes one space.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Normalized", "normalize", "normalize_text", "fold", "collapse_spaces", "tokenize", "Token",
           "WORD_RE"]

_DROP = set()
_DROP.update(range(0x064B, 0x0660))  # harakat, tanween, shadda, sukun, madda/hamza above/below marks
_DROP.update([0x0670, 0x0640])  # superscript alef, tatweel
_DROP.update(range(0x06D6, 0x06DD))  # Quranic annotation signs
_DROP.update(range(0x06DF, 0x06E5))
_DROP.update([0x06E7, 0x06E8, 0x06EA, 0x06EB, 0x06EC, 0x06ED])
_DROP.update(range(0x0610, 0x061B))  # honorific marks
_DROP.update([0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF, 0x00AD, 0x061C])
_DROP.update(range(0x202A, 0x202F))  # bidi embeddings / overrides
_DROP.update(range(0x2066, 0x206A))  # bidi isolates
_DROP.update(range(0xFE00, 0xFE10))  # variation selectors

_MAP = {
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ٲ": "ا", "ٳ": "ا",
    "ى": "ي", "ئ": "ي", "ی": "ي", "ێ": "ي", "ې": "ي",
    "ة": "ه", "ۃ": "ه", "ہ": "ه", "ە": "ه", "ھ": "ه",
    "ؤ": "و",
    "ک": "ك", "ڪ": "ك",
    "«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "〝": '"', "〞": '"',
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'", "´": "'",
    "‹": '"', "›": '"',
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-", "﹘": "-", "﹣": "-", "－": "-",
    "٫": ".", "٬": ",", "،": "،",
}
for _i in range(10):
    _MAP[chr(0x0660 + _i)] = str(_i)  # Arabic-Indic digits
    _MAP[chr(0x06F0 + _i)] = str(_i)  # Extended Arabic-Indic (Persian/Urdu) digits


@lru_cache(maxsize=65536)
def _fold_char(c: str) -> str:
    """Normalized replacement of one received character ('' drops it, ' ' is whitespace)."""
    if c.isspace():
        return " "
    if ord(c) in _DROP:
        return ""
    out = []
    for d in unicodedata.normalize("NFKC", c):
        if d.isspace():
            out.append(" ")
            continue
        if ord(d) in _DROP or unicodedata.category(d) == "Mn":
            continue
        d = _MAP.get(d, d)
        out.append(d.casefold() if d.isascii() or d.isupper() else d)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Normalized:
    """A normalized string and, for each of its characters, the span it came from.

    ``starts[i]``/``ends[i]`` are the original ``[start, end)`` of normalized char ``i``.
    """

    text: str
    starts: array
    ends: array
    original_length: int

    def span(self, nstart: int, nend: int) -> tuple[int, int]:
        """Original ``(start, end)`` covering normalized ``text[nstart:nend]``."""
        n = len(self.text)
        if n == 0:
            return (0, 0)
        nstart = max(0, min(nstart, n))
        nend = max(nstart, min(nend, n))
        if nend == nstart:
            pos = self.starts[nstart] if nstart < n else self.original_length
            return (pos, pos)
        return (self.starts[nstart], self.ends[nend - 1])

    def to_normalized(self, start: int) -> int:
        """Index of the first normalized character whose origin is at or after ``start``."""
        import bisect

        return bisect.bisect_left(self.starts, start)


class _FoldTable(dict):
    """``str.translate`` table filled on first use of each character."""

    def __missing__(self, o: int) -> str:
        r = self[o] = _fold_char(chr(o))
        return r


_TABLE = _FoldTable()
_EXTRA_SPACES = re.compile(r"^ +| +$|(?<= ) +")


_IOTA = array("l", range(1 << 16))


def _iota(a: int, b: int) -> array:
    """``array('l', range(a, b))`` by slicing a shared array (a memcpy, not a Python loop)."""
    global _IOTA
    if b > len(_IOTA):
        _IOTA = array("l", range(max(b, 2 * len(_IOTA))))
    return _IOTA[a:b]


@lru_cache(maxsize=1)
def _irregular_re() -> re.Pattern:
    """Characters that do not fold to exactly one character (dropped or expanded).

    Computed once over the BMP (about 0.2 s); characters beyond it are always
    treated as irregular, which is correct, only slower, for the rare emoji.
    """
    ranges: list[list[int]] = []
    for o in range(0x10000):
        if 0xD800 <= o <= 0xDFFF or len(_fold_char.__wrapped__(chr(o))) == 1:
            continue
        if ranges and ranges[-1][1] == o - 1:
            ranges[-1][1] = o
        else:
            ranges.append([o, o])
    cls = "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)
    return re.compile(f"[{cls}\U00010000-\U0010FFFF]")


def normalize(text: str) -> Normalized:
    """Normalize ``text`` for matching and keep the map back to the received offsets.

    Most characters fold to exactly one character, so runs of them are translated and
    mapped in bulk; only dropped or expanded characters and redundant spaces are
    handled one by one.
    """
    n = len(text)
    irregular = _irregular_re()
    if not irregular.search(text):
        out = text.translate(_TABLE)
        starts = _iota(0, n)
        ends = _iota(1, n + 1)
    else:
        parts: list[str] = []
        starts = array("l")
        ends = array("l")
        pos = 0
        for m in irregular.finditer(text):
            i = m.start()
            if i > pos:
                parts.append(text[pos:i].translate(_TABLE))
                starts.extend(_iota(pos, i))
                ends.extend(_iota(pos + 1, i + 1))
            r = _TABLE[ord(text[i])]
            if r:
                parts.append(r)
                starts.extend([i] * len(r))
                ends.extend([i + 1] * len(r))
            pos = i + 1
        if pos < n:
            parts.append(text[pos:].translate(_TABLE))
            starts.extend(_iota(pos, n))
            ends.extend(_iota(pos + 1, n + 1))
        out = "".join(parts)
    if " " * 2 in out or out[:1] == " " or out[-1:] == " ":
        # one space per run of whitespace, none at the ends
        keep_out: list[str] = []
        keep_s = array("l")
        keep_e = array("l")
        pos = 0
        for m in _EXTRA_SPACES.finditer(out):
            if m.start() > pos:
                keep_out.append(out[pos:m.start()])
                keep_s.extend(starts[pos:m.start()])
                keep_e.extend(ends[pos:m.start()])
            pos = m.end()
        keep_out.append(out[pos:])
        keep_s.extend(starts[pos:])
        keep_e.extend(ends[pos:])
        out, starts, ends = "".join(keep_out), keep_s, keep_e
        if out[-1:] == " ":  # a space left before trailing dropped characters
            out, starts, ends = out[:-1], starts[:-1], ends[:-1]
    return Normalized(out, starts, ends, n)


def normalize_text(text: str) -> str:
    """Normalized form only (no offset map), for keys, hashes and queries."""
    return _EXTRA_SPACES.sub("", text.translate(_TABLE))


def fold(text: str) -> str:
    """Every character folded as :func:`normalize_text` folds it, whitespace not yet collapsed.

    Character by character, so ``fold(a + b) == fold(a) + fold(b)``: a text can be folded in
    pieces (e.g. its boilerplate and its body) and ``collapse_spaces`` of the pieces joined is
    ``normalize_text`` of the whole."""
    return text.translate(_TABLE)


def collapse_spaces(folded: str) -> str:
    """One space per run of (folded) whitespace, none at the ends: the last step of :func:`normalize_text`."""
    return " ".join(folded.split())


# A token is a run of letters/digits; decimal numbers such as 129.3 or 2,9 stay one token.
WORD_RE = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:\d+[^\W\d_]*)*", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    start: int  # offsets into the normalized text
    end: int


def tokenize(norm: str) -> list[Token]:
    """Words of an already normalized string with their normalized offsets."""
    return [Token(m.group(), m.start(), m.end()) for m in WORD_RE.finditer(norm)]


def token_spans(norm: str) -> tuple[list[str], list[tuple[int, int]]]:
    """:func:`tokenize` as two plain lists (words, (start, end)): no object per token, for bulk use."""
    found = list(WORD_RE.finditer(norm))
    return [m.group() for m in found], [m.span() for m in found]
