"""Publication dates and times from whatever a feed or a file gives us, as sortable ISO strings.

:func:`parse_date` turns a value into ``'YYYY-MM-DD'``, or ``'YYYY-MM-DDTHH:MM:SS'`` when the value
has a time of day, or ``None``; it never raises. Who was first within a day (a wire agency at
08:02, a reprint at 11:40) is only known with the time, so the time is kept to the second.

Accepted (after Arabic-Indic / Persian digits become ASCII and weekday names are ignored):

* ISO 8601: ``2015-07-21``, ``2015-07-21T10:00:00+03:00``, ``2015-07-21 02:51:32``,
  ``20150721``; ``2015/07/21``, ``2015.07.21``.
* Day first numeric: ``21/07/2015``, ``21-07-2015``, ``21.07.15`` (Arab and European
  convention; read month first only when the first number cannot be a month, i.e.
  ``07/21/2015``). Two-digit years: ``00``-``69`` → 20xx, ``70``-``99`` → 19xx.
* Month names in English (full or abbreviated), French, and the Arabic month-name
  systems: Egypt/Gulf (يناير … ديسمبر), Levant/Iraq (كانون الثاني، شباط، آذار …),
  Maghreb (جانفي، فيفري، أفريل، ماي، جوان، جويلية، أوت …) and Morocco (يوليوز، غشت،
  شتنبر، نونبر، دجنبر): ``30 نوفمبر 2016``, ``الأربعاء 30/نوفمبر/2016 - 03:16 م``,
  ``Tue, 21 Jul 2015 10:00:00 +0000``, ``July 21, 2015``, ``21-Jul-2015``.
  A string holding a Hijri and a Gregorian date (``5 شوال 1436 هـ - 21 يوليو 2015``)
  gives the Gregorian one; Hijri-only dates give ``None`` (no conversion).
* Epoch numbers (int/float or a digit string) in seconds (10 digits) or milliseconds
  (13 digits), read as UTC (a time: ``…Z``).
* ``datetime.date`` / ``datetime.datetime`` objects.
* Anything else :mod:`dateutil` reads unambiguously with day, month and year present.

Times: ``HH:MM`` or ``HH:MM:SS`` after the date (fractions dropped), with ``am``/``pm`` or
Arabic ``ص``/``م`` (صباحا/مساء) read on a 12-hour clock. A time without an offset is kept as
written (the outlet's local time): ``2015-08-10 20:27:03`` → ``2015-08-10T20:27:03``. A time with
an offset (``+03:00``, ``-0500``, ``Z``, ``GMT``, ``UTC``) is converted to UTC and written with
``Z``: ``2015-07-21T23:30:00-05:00`` → ``2015-07-22T04:30:00Z``. Years outside 1900-2100,
impossible dates (``2015-02-30``) and impossible times (``25:00``) give ``None`` or the date alone.

:func:`published_key` orders such values: by instant to the second, a value with only a date
after the timed values of its day (it says less), undated last.
"""

from __future__ import annotations

import datetime as _dt
import math
import re

__all__ = ["parse_date", "published_key", "later_side"]

_MIN_YEAR, _MAX_YEAR = 1900, 2100

_DIGITS = {**{0x0660 + i: str(i) for i in range(10)}, **{0x06F0 + i: str(i) for i in range(10)}}
_DIGITS.update({ord("،"): ",", 0x0640: "", 0x200E: "", 0x200F: "", 0x061C: "", 0x202B: "",
                0x202C: "", 0x202A: "", 0x00A0: " ", ord("٫"): ".", ord("٬"): ","})
# Arabic spelling variants folded before month names are looked up.
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})


def _fold(s: str) -> str:
    return s.translate(_DIGITS).translate(_ARABIC_FOLD).casefold()


# The one table of Gregorian month names (also used by the dateline detector).
MONTH_NAMES: dict[int, list[str]] = {
    1: ["january", "jan", "janvier", "janv", "يناير", "كانون الثاني", "جانفي", "ينير", "كانون ثاني"],
    2: ["february", "feb", "février", "fevrier", "févr", "fevr", "فبراير", "شباط", "فيفري", "فبرير"],
    3: ["march", "mar", "mars", "مارس", "آذار", "اذار"],
    4: ["april", "apr", "avril", "avr", "أبريل", "ابريل", "نيسان", "أفريل", "افريل", "ابرايل"],
    5: ["may", "mai", "مايو", "أيار", "ايار", "ماي"],
    6: ["june", "jun", "juin", "يونيو", "يونيه", "حزيران", "جوان", "يونيوز"],
    7: ["july", "jul", "juillet", "juil", "يوليو", "يوليه", "تموز", "جويلية", "جويليه", "يوليوز"],
    8: ["august", "aug", "août", "aout", "أغسطس", "اغسطس", "اغسطوس", "آب", "اب", "أوت", "اوت", "غشت"],
    9: ["september", "sep", "sept", "septembre", "سبتمبر", "أيلول", "ايلول", "شتنبر"],
    10: ["october", "oct", "octobre", "أكتوبر", "اكتوبر", "تشرين الأول", "تشرين الاول", "تشرين أول", "تشرين اول"],
    11: ["november", "nov", "novembre", "نوفمبر", "تشرين الثاني", "تشرين ثاني", "نونبر"],
    12: ["december", "dec", "décembre", "decembre", "déc", "ديسمبر", "دسمبر", "كانون الأول", "كانون الاول", "كانون أول", "دجنبر"],
}
_MONTHS: dict[str, int] = {}
for _m, _names in MONTH_NAMES.items():
    for _n in _names:
        _MONTHS[re.sub(r"\s+", " ", _fold(_n))] = _m

# Longest first so that «تشرين الثاني» wins over a shorter prefix and «sept» over «sep».
_MONTH_ALT = "|".join(
    re.escape(n).replace(r"\ ", r"\s+") for n in sorted(_MONTHS, key=len, reverse=True)
)
_SEP = r"[\s/\-.,]+"
_WB_L = r"(?<![^\W\d_])"  # not preceded by a letter
_WB_R = r"(?![^\W\d_])"  # not followed by a letter
_MONTH = rf"{_WB_L}(?:ال)?(?P<mon>{_MONTH_ALT}){_WB_R}\.?"
_DAY = r"(?<!\d)(?P<day>\d{1,2})(?:st|nd|rd|th|er)?(?!\d)"
_YEAR = r"(?<!\d)(?P<year>\d{4}|\d{2})(?!\d)"

_RE_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_RE_COMPACT = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})(?:$|T|\s)")
_RE_YMD = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_RE_DMY = re.compile(r"(?<![\d.])(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})(?![\d])")
_RE_D_MON_Y = re.compile(rf"{_DAY}{_SEP}(?:of\s+)?{_MONTH}{_SEP}{_YEAR}")
_RE_MON_D_Y = re.compile(rf"{_MONTH}{_SEP}{_DAY}{_SEP}{_YEAR}")
_RE_Y_MON_D = re.compile(rf"(?<!\d)(?P<year>\d{{4}}){_SEP}{_MONTH}{_SEP}{_DAY}")
_RE_EPOCH = re.compile(r"^\s*-?\d{9,13}(?:\.\d+)?\s*$")


def _year(y: str) -> int:
    n = int(y)
    if len(y) == 2:
        n += 2000 if n < 70 else 1900
    return n


def _iso(y: int, m: int, d: int) -> str | None:
    if not (_MIN_YEAR <= y <= _MAX_YEAR):
        return None
    try:
        return _dt.date(y, m, d).isoformat()
    except ValueError:
        return None


def _from_epoch(v: float) -> str | None:
    if not math.isfinite(v):
        return None
    a = abs(v)
    if a >= 1e11:  # milliseconds
        v /= 1000.0
    try:
        d = _dt.datetime.fromtimestamp(int(v), tz=_dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return _datetime_value(d)


def _dateutil(s: str) -> str | None:
    try:
        from dateutil import parser as _p
    except ImportError:  # pragma: no cover - dependency of the project
        return None
    results = []
    # Parse with two different defaults: a component the string lacks shows up as a
    # difference, and an incomplete date is not a date.
    for default in (_dt.datetime(1904, 1, 1), _dt.datetime(1905, 2, 2)):
        try:
            results.append(_p.parse(s, default=default, dayfirst=True, fuzzy=False))
        except (ValueError, OverflowError, TypeError, LookupError, AttributeError):
            return None
    a, b = results
    if (a.year, a.month, a.day) != (b.year, b.month, b.day):
        return None
    return _iso(a.year, a.month, a.day)


# A time of day: HH:MM[:SS][.fraction] [am/pm/ص/م] [offset]. Dates hold no ':' so this never
# matches part of a date; an offset right after the time is read with it.
_RE_TIME = re.compile(
    r"(?<![\d:])(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?(?:[.,]\d+)?(?![\d:])"
    r"(?:\s*(?P<ampm>a\.?m\.?|p\.?m\.?|صباحا|صباحاً|مساء|مساءً|ص|م)(?![^\W\d_]))?"
    r"(?:\s*(?P<tz>z|utc|gmt|[+-]\d{2}(?::?\d{2})?)(?![^\W\d_]))?",
    re.IGNORECASE,
)
_PM = {"pm", "p.m.", "p.m", "pm.", "م", "مساء", "مساءً"}


def _time_in(s: str) -> tuple[int, int, int, int | None] | None:
    """(hour, minute, second, UTC offset in minutes or None) of the first time in ``s``."""
    m = _RE_TIME.search(s)
    if not m:
        return None
    h, mi, sec = int(m["h"]), int(m["m"]), int(m["s"] or 0)
    ampm = (m["ampm"] or "").casefold()
    if ampm:
        if not 1 <= h <= 12:
            return None
        pm = ampm in _PM or ampm.startswith("p")
        h = (h % 12) + (12 if pm else 0)
    if h > 23 or mi > 59 or sec > 59:
        return None
    tz = (m["tz"] or "").casefold()
    off: int | None = None
    if tz in ("z", "utc", "gmt"):
        off = 0
    elif tz:
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        hh, mm = int(digits[:2]), int(digits[2:4] or 0)
        if hh > 14 or mm > 59:
            return None
        off = sign * (hh * 60 + mm)
    return h, mi, sec, off


def _with_time(day: str, t: tuple[int, int, int, int | None] | None) -> str | None:
    """``day`` with the time ``t``: as written without an offset, in UTC (``Z``) with one."""
    if t is None:
        return day
    h, mi, sec, off = t
    when = _dt.datetime.fromisoformat(day).replace(hour=h, minute=mi, second=sec)
    if off is None:
        return when.isoformat(timespec="seconds")
    when -= _dt.timedelta(minutes=off)
    if not (_MIN_YEAR <= when.year <= _MAX_YEAR):
        return None
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _datetime_value(v: _dt.datetime) -> str | None:
    if not (_MIN_YEAR <= v.year <= _MAX_YEAR):
        return None
    if v.tzinfo is not None and v.utcoffset() is not None:
        v = v.astimezone(_dt.timezone.utc)
        if not (_MIN_YEAR <= v.year <= _MAX_YEAR):
            return None
        return v.strftime("%Y-%m-%dT%H:%M:%SZ")
    return v.replace(microsecond=0).isoformat(timespec="seconds")


def _parse_str(raw: str) -> str | None:
    if len(raw) > 300:  # a date is short; do not run regexes over article bodies
        raw = raw[:300]
    s = raw.translate(_DIGITS).strip()
    if not s:
        return None
    if _RE_EPOCH.match(s):
        digits = s.strip().lstrip("-").split(".")[0]
        if len(digits) in (10, 13) or len(digits) == 9:
            return _from_epoch(float(s))
    day = _parse_day(s)
    return _with_time(day, _time_in(s)) if day else None


def _parse_day(s: str) -> str | None:
    """The calendar date in ``s`` (digits already ASCII), as ``YYYY-MM-DD``."""
    m = _RE_ISO.match(s)
    if m:
        return _iso(int(m[1]), int(m[2]), int(m[3]))
    m = _RE_COMPACT.match(s)
    if m:
        r = _iso(int(m[1]), int(m[2]), int(m[3]))
        if r:
            return r
    m = _RE_YMD.search(s)
    if m:
        r = _iso(int(m[1]), int(m[2]), int(m[3]))
        if r:
            return r
    f = re.sub(r"\s+", " ", _fold(s))
    for rx in (_RE_D_MON_Y, _RE_MON_D_Y, _RE_Y_MON_D):
        for m in rx.finditer(f):
            mon = _MONTHS.get(re.sub(r"\s+", " ", m["mon"]))
            if mon is None:
                continue
            r = _iso(_year(m["year"]), mon, int(m["day"]))
            if r:
                return r
    for m in _RE_DMY.finditer(s):
        a, b, y = int(m[1]), int(m[2]), _year(m[3])
        # Day first unless that is impossible and month first is possible.
        r = _iso(y, b, a) if b <= 12 else _iso(y, a, b)
        if r:
            return r
    # Month name with year but no day, Hijri-only dates, etc.: leave to dateutil,
    # which refuses incomplete dates (see _dateutil). Only ASCII here: dateutil knows
    # no Arabic, and fuzzy Arabic strings would only give false hits.
    if s.isascii() and re.search(r"\d", s):
        return _dateutil(s)
    return None


def parse_date(value: object) -> str | None:
    """``'YYYY-MM-DD'`` for anything that names a calendar date, ``'YYYY-MM-DDTHH:MM:SS'`` (``…Z`` in
    UTC when the value had an offset) when it also has a time of day, else ``None``. Never raises."""
    try:
        if value is None or isinstance(value, bool):
            return None
        if isinstance(value, _dt.datetime):
            return _datetime_value(value)
        if isinstance(value, _dt.date):
            return _iso(value.year, value.month, value.day)
        if isinstance(value, (int, float)):
            if abs(value) < 1e8:  # a year or a small number is not a point in time
                return None
            return _from_epoch(float(value))
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str):
            return _parse_str(value)
        return None
    except Exception:  # noqa: BLE001 - documented: never raises
        return None


def published_key(published: str | None) -> tuple:
    """Sort key of :func:`parse_date` values: by date, then the timed values of a day by time, then
    that day's date-only values (earlier only to the day), undated last."""
    if not published:
        return (1, "", 1, "")
    p = str(published)
    return (0, p[:10], 0 if len(p) > 10 else 1, p[11:19])


def later_side(a_published: str | None, b_published: str | None) -> str | None:
    """``"a"`` or ``"b"``: the side published later; None when the dates are equal or one is unknown.
    Dates are ISO strings; a date without a time and a date-time of the same day are equal."""
    if not a_published or not b_published:
        return None
    x, y = str(a_published), str(b_published)
    if "T" not in x or "T" not in y:
        x, y = x[:10], y[:10]
    if x == y:
        return None
    return "b" if y > x else "a"
