"""parse_date: many real-world date spellings → 'YYYY-MM-DD' or None, never an exception."""

from __future__ import annotations

import datetime as dt

import pytest

from newsdedup.tasks.dates import parse_date


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # ISO 8601 and close relatives
        ("2015-07-21", "2015-07-21"),
        ("2015-07-21 02:51:32", "2015-07-21"),  # SaudiNewsNet date_extracted
        ("2015-07-21T10:00:00Z", "2015-07-21"),
        ("2015-07-21T23:30:00-05:00", "2015-07-21"),  # date as written, offset not applied
        ("2015-07-21T10:00:00.123456+03:00", "2015-07-21"),
        ("  2015-7-1 ", "2015-07-01"),
        ("20150721", "2015-07-21"),
        ("2015/07/21", "2015-07-21"),
        ("2015.07.21", "2015-07-21"),
        # day first, numeric
        ("21/07/2015", "2015-07-21"),
        ("21-07-2015", "2015-07-21"),
        ("21.07.15", "2015-07-21"),
        ("01/02/2016", "2016-02-01"),  # ambiguous → day first (Arab/European convention)
        ("07/21/2015", "2015-07-21"),  # first number cannot be a month → month first
        # English / French month names, RFC 2822
        ("Tue, 21 Jul 2015", "2015-07-21"),
        ("Tue, 21 Jul 2015 10:00:00 +0000", "2015-07-21"),
        ("July 21, 2015", "2015-07-21"),
        ("21-Jul-2015", "2015-07-21"),
        ("March 3rd, 2015", "2015-03-03"),
        ("21 juillet 2015", "2015-07-21"),
        ("2015 Jul 21", "2015-07-21"),
        # Arabic month names, all naming systems, Arabic-Indic digits
        ("30 نوفمبر 2016", "2016-11-30"),
        ("الأربعاء 30/نوفمبر/2016 - 03:16 م", "2016-11-30"),  # seeds/000 dateline
        ("٣٠ نوفمبر ٢٠١٦", "2016-11-30"),
        ("۳۰ نوفمبر ۲۰۱۶", "2016-11-30"),  # Persian digits
        ("الثلاثاء، 21 يوليو 2015 02:51 ص", "2015-07-21"),
        ("3 مايو 2015", "2015-05-03"),
        ("15 أغسطس، 2015", "2015-08-15"),
        ("15 اغسطس 2015", "2015-08-15"),
        ("١٢ كانون الثاني ٢٠١٧", "2017-01-12"),
        ("1 كانون الأول 2016", "2016-12-01"),
        ("5 تشرين الأول 2015", "2015-10-05"),
        ("السبت 1 آب 2015", "2015-08-01"),
        ("9 حزيران 2014", "2014-06-09"),
        ("14 جويلية 2015", "2015-07-14"),  # Maghreb
        ("2 أوت 2015", "2015-08-02"),
        ("10 غشت 2015", "2015-08-10"),  # Morocco
        ("٢١/٠٧/٢٠١٥", "2015-07-21"),
        ("5 شوال 1436 هـ - 21 يوليو 2015 م", "2015-07-21"),  # Hijri + Gregorian → Gregorian
        # epoch numbers
        (1437466292, "2015-07-21"),
        (1437466292000, "2015-07-21"),
        (1437466292.5, "2015-07-21"),
        ("1437466292", "2015-07-21"),
        # date objects
        (dt.date(2015, 7, 21), "2015-07-21"),
        (dt.datetime(2015, 7, 21, 10, 0), "2015-07-21"),
    ],
)
def test_parses(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None, "", "   ", "xx", "yesterday", "12:30", "July 2015", "2015", 2015, 0, True,
        "2015-02-30", "2015-13-01", "31/02/2015", "5 شوال 1436 هـ", "منذ ساعتين",
        float("nan"), float("inf"), [2015, 7, 21], {"date": "2015-07-21"}, object(),
        "9999-01-01", "1200-01-01", "foo 2015 bar", b"\xff\xfe", "x" * 100_000,
    ],
)
def test_does_not_parse_and_never_raises(value):
    assert parse_date(value) is None


def test_bytes_are_decoded():
    assert parse_date("2015-07-21".encode()) == "2015-07-21"


def test_result_is_sortable_iso_date():
    values = ["21/07/2015", "30 نوفمبر 2016", "2014-01-02T00:00:00Z"]
    out = [parse_date(v) for v in values]
    assert sorted(out) == ["2014-01-02", "2015-07-21", "2016-11-30"]
    for d in out:
        assert dt.date.fromisoformat(d)
