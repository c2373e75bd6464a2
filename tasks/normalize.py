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

__all__ = ["Normalized", "normalize", "normalize_text", "tokenize", "Token", "WORD_RE"]

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


def normalize(text: str) -> Normalized:
    """Normalize ``text`` for matching and keep the map back to the received offsets."""
    out: list[str] = []
    starts = array("l")
    ends = array("l")
    prev_space = True  # drop leading whitespace
    for i, c in enumerate(text):
        r = _fold_char(c)
        if not r:
            continue
        for d in r:
            if d == " ":
                if prev_space:
                    continue
                prev_space = True
            else:
                prev_space = False
            out.append(d)
            starts.append(i)
            ends.append(i + 1)
    if out and out[-1] == " ":
        out.pop()
        starts.pop()
        ends.pop()
    return Normalized("".join(out), starts, ends, len(text))


def normalize_text(text: str) -> str:
    """Normalized form only (no offset map), for keys, hashes and queries."""
    return normalize(text).text


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
