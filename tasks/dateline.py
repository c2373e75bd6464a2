"""Datelines: the publication date printed near the top of an article.

Outlets print it in many ways — «الأربعاء 30/نوفمبر/2016 - 03:16 م», «30 نوفمبر 2016»,
«الرياض 26 شوال 1436 هـ الموافق 11 أغسطس 2015 م واس», «2016-11-30», «November 30, 2016» —
with Egyptian/Gulf (نوفمبر), Levantine (تشرين الثاني) and Maghrebi (نونبر, جوان) month
names. A line counts as a dateline only when the date is most of it: what is left
after removing dates, times, weekdays and agency names is at most a place name or
two. So a date inside a body sentence («وفي 16 مايو 2014، أطلق…») is not a dateline.
"""

from __future__ import annotations

import datetime as _dt
import re
from functools import lru_cache

from .dates import MONTH_NAMES
from .normalize import normalize_text
from .segment import Segment

__all__ = ["find_dateline", "parse_date", "is_dateline", "is_dateline_norm", "MONTHS"]

# Month names (the table in tasks/dates.py) in normalized form (أ→ا, ة→ه, ى→ي, lower case).
MONTHS: dict[str, int] = {normalize_text(name): num for num, names in MONTH_NAMES.items() for name in names}

_MONTH_RE = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))
_SEP = r"[\s/\-.,،_]*"
_YEAR = r"((?:19|20)\d\d)"
_DAY = r"(\d{1,2})"
# A second month name in brackets: «31 ديسمبر (كانون الاول) 2012».
_ALT = r"(?:\s*\(\s*(?:" + _MONTH_RE + r")\s*\))?"
_PATTERNS = [
    ("dmy", re.compile(r"(?<!\d)" + _DAY + _SEP + r"(?:شهر\s+)?(" + _MONTH_RE + r")(?![^\W\d_])" + _ALT + _SEP + _YEAR + r"(?!\d)")),
    ("mdy", re.compile(r"(?<![^\W\d_])(" + _MONTH_RE + r")\.?\s+" + _DAY + r"(?:st|nd|rd|th)?,?\s+" + _YEAR + r"(?!\d)")),
    ("ymd", re.compile(r"(?<!\d)" + _YEAR + r"[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")),
    ("num", re.compile(r"(?<!\d)(\d{1,2})[-/.](\d{1,2})[-/.]" + _YEAR + r"(?!\d)")),
]
_TIME = re.compile(r"(?<!\d)\d{1,2}[:.]\d{2}(?::\d{2})?(?!\d)(?:\s*(?:ص|م|am|pm|a\.m\.|p\.m\.|صباحا|مساء|مساءا|ت\s*م|gmt|utc|بتوقيت\s+\S+))?")
_HIJRI = re.compile(
    r"(?<!\d)\d{1,2}" + _SEP + r"(?:محرم|صفر|ربيع الاول|ربيع الثاني|ربيع الاخر|جمادي الاولي|جمادي الاخره|جمادي الاول|جمادي الثاني|جمادي الاخر|رجب|شعبان|رمضان|شوال|ذو القعده|ذي القعده|ذو الحجه|ذي الحجه)"
    + _SEP + r"\d{4}\s*(?:هـ|ه)?(?![^\W\d_])"
)
# Words that may stand beside a date in a dateline (weekdays, agency names, fillers).
_FILLER = frozenset(normalize_text(w) for w in (
    "الأحد الاثنين الإثنين الثلاثاء الأربعاء الخميس الجمعة السبت يوم "
    "sunday monday tuesday wednesday thursday friday saturday "
    "الموافق م هـ ه ص مساء صباحا ت بتوقيت gmt utc غرينتش غرينيتش مكة المكرمة "
    "نشر في بتاريخ تاريخ النشر آخر تحديث اخر تحديث محدث published updated on at "
    "واس قنا وام كونا بنا سانا بترا وفا رويترز أ ف ب ا ف ب د ب أ أ ش أ ش ا "
    "afp reuters ap spa"
).split())
_TOKEN = re.compile(r"[^\W_]+")
MAX_LEFT_WORDS = 2  # a place name may stand by the date («الرياض 26 شوال … واس», «وادي الدواسر …»)
MAX_DATELINE_WORDS = 16
MAX_DATELINE_CHARS = 200
TOP_SEGMENTS = 6  # a dateline sits among the first segments of the text


def _valid(y: int, m: int, d: int) -> str | None:
    try:
        return _dt.date(y, m, d).isoformat()
    except ValueError:
        return None


def _find_dates(norm: str) -> list[tuple[int, int, str]]:
    """Every date in normalized text: (start, end, ISO date)."""
    found: list[tuple[int, int, str]] = []
    for kind, rx in _PATTERNS:
        for m in rx.finditer(norm):
            if any(s < m.end() and m.start() < e for s, e, _ in found):
                continue
            if kind == "dmy":
                iso = _valid(int(m.group(3)), MONTHS[m.group(2)], int(m.group(1)))
            elif kind == "mdy":
                iso = _valid(int(m.group(3)), MONTHS[m.group(1)], int(m.group(2)))
            elif kind == "ymd":
                iso = _valid(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            else:
                a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
                # day first (Arab and European usage) unless that cannot be a date
                iso = _valid(y, b, a) or _valid(y, a, b)
            if iso:
                found.append((m.start(), m.end(), iso))
    return sorted(found)


def parse_date(text: str) -> str | None:
    """The first Gregorian date in ``text`` as ``YYYY-MM-DD``, or None."""
    dates = _find_dates(normalize_text(text))
    return dates[0][2] if dates else None


@lru_cache(maxsize=4096)
def _dateline_info(norm: str) -> tuple[bool, str | None]:
    """(is a dateline, its ISO date) for an already normalized line."""
    if len(norm) > MAX_DATELINE_CHARS:
        return False, None
    words = _TOKEN.findall(norm)
    if not words or len(words) > MAX_DATELINE_WORDS:
        return False, None
    dates = _find_dates(norm)
    rest = norm
    for s, e, _ in reversed(dates):
        rest = rest[:s] + " " + rest[e:]
    rest, n_hijri = _HIJRI.subn(" ", rest)
    rest, n_time = _TIME.subn(" ", rest)
    if not dates and not n_hijri and not n_time:
        return False, None
    left = [w for w in _TOKEN.findall(rest) if w not in _FILLER and not w.isdigit()]
    ok = len(left) <= MAX_LEFT_WORDS
    if ok and not dates and not n_hijri:
        # a bare time («20:26 ت م») is a timestamp line only when nothing else is there
        ok = not left
    return ok, (dates[0][2] if ok and dates else None)


def is_dateline(text: str) -> bool:
    """Is ``text`` (one line or segment) a date/time stamp rather than prose?"""
    return _dateline_info(normalize_text(text))[0]


def is_dateline_norm(norm: str) -> bool:
    """:func:`is_dateline` for text already passed through ``normalize_text``."""
    return _dateline_info(norm)[0]


def find_dateline(text: str, segments: list[Segment]) -> tuple[str | None, int | None]:
    """ISO date of the dateline near the top of ``text`` and the index of its segment."""
    for i, seg in enumerate(segments[:TOP_SEGMENTS]):
        ok, iso = _dateline_info(normalize_text(text[seg.start:seg.end]))
        if ok and iso:
            return iso, i
    return None, None
