"""parse_date: many real-world date spellings → 'YYYY-MM-DD', 'YYYY-MM-DDTHH:MM:SS' (with the time when
there is one) or None, never an exception."""

from __future__ import annotations

import datetime as dt

import pytest

from newsdedup.tasks.dates import parse_date, published_key


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # ISO 8601 and close relatives
        ("2015-07-21", "2015-07-21"),
        ("2015-07-21 02:51:32", "2015-07-21T02:51:32"),  # SaudiNewsNet date_extracted: kept to the second
        ("2015-07-21T10:00:00Z", "2015-07-21T10:00:00Z"),
        ("2015-07-21T23:30:00-05:00", "2015-07-22T04:30:00Z"),  # an offset: converted to UTC
        ("2015-08-10 20:27:03", "2015-08-10T20:27:03"),  # no offset: local time as written
        ("2015-08-10T20:27", "2015-08-10T20:27:00"),
        ("2015-07-21T10:00:00.123456+03:00", "2015-07-21T07:00:00Z"),  # fraction dropped
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
        ("Tue, 21 Jul 2015 10:00:00 +0000", "2015-07-21T10:00:00Z"),
        ("Tue, 21 Jul 2015 10:00:00 GMT", "2015-07-21T10:00:00Z"),
        ("July 21, 2015 3:04 PM", "2015-07-21T15:04:00"),
        ("21/07/2015 10:30", "2015-07-21T10:30:00"),
        ("21/07/2015 25:30", "2015-07-21"),  # an impossible time: the date alone
        ("12:00 am 21/07/2015", "2015-07-21T00:00:00"),
        ("July 21, 2015", "2015-07-21"),
        ("21-Jul-2015", "2015-07-21"),
        ("March 3rd, 2015", "2015-03-03"),
        ("21 juillet 2015", "2015-07-21"),
        ("2015 Jul 21", "2015-07-21"),
        # Arabic month names, all naming systems, Arabic-Indic digits
        ("30 نوفمبر 2016", "2016-11-30"),
        ("الأربعاء 30/نوفمبر/2016 - 03:16 م", "2016-11-30T15:16:00"),  # م: afternoon
        ("٣٠ نوفمبر ٢٠١٦", "2016-11-30"),
        ("۳۰ نوفمبر ۲۰۱۶", "2016-11-30"),  # Persian digits
        ("الثلاثاء، 21 يوليو 2015 02:51 ص", "2015-07-21T02:51:00"),  # ص: morning
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
        (1437466292, "2015-07-21T08:11:32Z"),  # epochs are UTC
        (1437466292000, "2015-07-21T08:11:32Z"),
        (1437466292.5, "2015-07-21T08:11:32Z"),
        ("1437466292", "2015-07-21T08:11:32Z"),
        # date objects
        (dt.date(2015, 7, 21), "2015-07-21"),
        (dt.datetime(2015, 7, 21, 10, 0), "2015-07-21T10:00:00"),
        (dt.datetime(2015, 7, 21, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))), "2015-07-22T04:30:00Z"),
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
    assert sorted(out) == ["2014-01-02T00:00:00Z", "2015-07-21", "2016-11-30"]
    for d in out:
        assert dt.date.fromisoformat(d[:10])


def test_published_key_orders_by_time_with_date_only_after_its_day():
    values = ["2015-08-10", "2015-08-10T20:27:03", None, "2015-08-09T23:59:59Z", "2015-08-10T08:00:00"]
    ordered = sorted(values, key=published_key)
    assert ordered == ["2015-08-09T23:59:59Z", "2015-08-10T08:00:00", "2015-08-10T20:27:03", "2015-08-10", None]
