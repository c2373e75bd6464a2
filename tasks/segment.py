"""Sentence segmentation inside lines, with offsets into the text as received.

Lines are the unit news sites give us (paragraphs, captions, widgets), so a segment
never crosses a line break; inside a line, sentences end at . ! ? ؟ … ۔ — but not at
the Arabic comma «،», not inside numbers (2.9, 129.3) or abbreviations (د. ، U.S.),
and not where that would cut off a fragment of less than two words. Sentences that
the scraper glued together («الليبية.وزيارة») are split. A short first line is a title
and stays whole, and an ellipsis («..») splits only in long lines: in headlines it
joins two halves of one sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Segment", "segment", "iter_lines"]


@dataclass(frozen=True, slots=True)
class Segment:
    """``text[start:end]`` is the segment (surrounding whitespace stripped)."""

    start: int
    end: int
    line: int  # 1-based line the segment is on
    sentence: int  # 0-based index of the sentence inside its line


_LINE_END = re.compile(r"\r\n|\r|\n")
# A run of terminators and the closing quotes/brackets that belong to the sentence before.
_TERM = re.compile(r"(?:[.!?؟…۔]+)[\"'»”’)\]}›]*")
_CLOSERS = "\"'»”’)]}›"
# Surrounding characters that are not content: whitespace and invisible format marks.
_BLANK = " \t\v\f\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000" \
         "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2060\ufeff\u061c\u0085\u2028\u2029"
_WORD = re.compile(r"[^\W_]+")
_ARABIC_LETTER = re.compile(r"[\u0621-\u064A\u0671-\u06D3\u06D5]")
_LATIN_ABBREV = frozenset(
    "mr mrs ms dr prof st jr sr inc ltd co corp vs no nos vol pp fig gen col lt sgt capt gov sen rep "
    "jan feb mar apr jun jul aug sep sept oct nov dec dept univ approx est mt ft".split()
)
_ACRONYM = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]$")

TITLE_MAX = 200  # a first line up to this long is a headline: never split
ELLIPSIS_MIN_LINE = 150  # «..» splits sentences only in lines longer than this


def iter_lines(text: str):
    """``(line_number, start, end)`` of every line, 1-based, line breaks excluded."""
    pos = 0
    n = 1
    for m in _LINE_END.finditer(text):
        yield n, pos, m.start()
        pos = m.end()
        n += 1
    yield n, pos, len(text)


def _strip(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a] in _BLANK:
        a += 1
    while b > a and text[b - 1] in _BLANK:
        b -= 1
    return a, b


def _prev_token(text: str, a: int, i: int) -> str:
    """The non-blank token just before position ``i`` (not crossing ``a``)."""
    j = i
    while j > a and not text[j - 1].isspace():
        j -= 1
    return text[j:i]


def _is_boundary(text: str, a: int, b: int, m: re.Match) -> bool:
    """Does the terminator run ``m`` inside line ``text[a:b]`` end a sentence?"""
    i, k = m.start(), m.end()
    run = text[i:k].rstrip(_CLOSERS)
    prv = text[i - 1] if i > a else ""
    nxt = text[k] if k < b else ""
    glued = bool(nxt) and not nxt.isspace()
    if set(run) <= {"."} and len(run) == 1:
        if glued:
            if prv.isdigit() and nxt.isdigit():
                return False  # 2.9, 129.3, 1.000.000
            tok = _prev_token(text, a, i)
            if _ARABIC_LETTER.match(nxt) and (_ARABIC_LETTER.match(prv) or prv.isdigit()):
                # «الليبية.وزيارة»: glued sentences, unless an abbreviation like «ق.م»
                return len(tok.split(".")[-1]) > 1
            if prv.islower() and nxt.isupper() and len(tok) >= 3 and tok.isalpha():
                return k + 1 < b and text[k + 1].islower()  # "said.The" but not "jQuery.noConflict"
            return nxt in "\"«“'(" and prv.isalpha() and len(tok) > 1
        tok = _prev_token(text, a, i)
        word = tok.lstrip("\"'«“(“[")
        if word.lower() in _LATIN_ABBREV or _ACRONYM.match(word):
            return False
        letters = word.replace("ـ", "")
        if len(letters) == 1 and letters.isalpha():
            # an initial (J. Smith) or an Arabic abbreviation (د. = doctor); after a number
            # the letter is a unit or era that ends the sentence: «عام 2015 م.»
            j = i - len(tok)
            while j > a and text[j - 1].isspace():
                j -= 1
            return _prev_token(text, a, j)[-1:].isdigit()
        return True
    if glued:
        # ?! or an ellipsis glued to the next word: a boundary only before an Arabic letter
        if not _ARABIC_LETTER.match(nxt):
            return False
    if "?" not in run and "!" not in run and "؟" not in run and "۔" not in run:
        # an ellipsis (.. … ...): in a headline it joins the halves of one sentence
        return (b - a) > ELLIPSIS_MIN_LINE
    return True


def _words(text: str, a: int, b: int) -> int:
    return len(_WORD.findall(text, a, b))


def _split_line(text: str, a: int, b: int, title: bool) -> list[tuple[int, int]]:
    """Sentence spans (stripped, non-empty) of the line ``text[a:b]``."""
    a, b = _strip(text, a, b)
    if a >= b:
        return []
    if title and b - a <= TITLE_MAX:
        return [(a, b)]
    cuts = [m.end() for m in _TERM.finditer(text, a, b) if m.end() < b and _is_boundary(text, a, b, m)]
    if not cuts:
        return [(a, b)]
    pieces: list[tuple[int, int]] = []
    start = a
    for c in cuts + [b]:
        s, e = _strip(text, start, c)
        start = c
        if s >= e:
            continue
        if pieces and _words(text, *pieces[-1]) < 2:
            # a fragment of fewer than two words («1.», «...») goes with what follows
            pieces[-1] = (pieces[-1][0], e)
        else:
            pieces.append((s, e))
    if len(pieces) > 1 and _words(text, *pieces[-1]) < 2:
        last = pieces.pop()
        pieces[-1] = (pieces[-1][0], last[1])
    return pieces


def segment(text: str) -> list[Segment]:
    """Sentence segments inside lines, in order, non-overlapping, never empty."""
    out: list[Segment] = []
    seen_content = False
    for n, a, b in iter_lines(text):
        spans = _split_line(text, a, b, title=not seen_content)
        if spans:
            seen_content = True
        out.extend(Segment(s, e, n, k) for k, (s, e) in enumerate(spans))
    return out
