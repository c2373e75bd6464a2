"""Datelines: dates printed near the top, in Arabic, Levantine, Maghrebi and English forms."""

import pytest

from newsdedup.tasks.dateline import find_dateline, is_dateline, parse_date
from newsdedup.tasks.segment import segment


@pytest.mark.parametrize("line,iso", [
    ("الأربعاء 30/نوفمبر/2016 - 03:16 م", "2016-11-30"),
    ("30 نوفمبر 2016", "2016-11-30"),
    ("الرياض 26 شوال 1436 هـ الموافق 11 أغسطس 2015 م واس", "2015-08-11"),
    ("بيروت في 3 كانون الثاني 2017", "2017-01-03"),
    ("دمشق 14 تشرين الأول 2015", "2015-10-14"),
    ("الجزائر 12 جوان 2016", "2016-06-12"),
    ("الرباط 5 نونبر 2016", "2016-11-05"),
    ("تونس 1 جويلية 2014", "2014-07-01"),
    ("November 30, 2016 10:22 AM", "2016-11-30"),
    ("30 Nov 2016", "2016-11-30"),
    ("2016-11-30", "2016-11-30"),
    ("30/11/2016", "2016-11-30"),
    ("11/30/2016", "2016-11-30"),
    ("نشر في: الخميس ١ ديسمبر ٢٠١٦", "2016-12-01"),
    ("31 ديسمبر (كانون الأول) 2012", "2012-12-31"),
])
def test_datelines_parse(line, iso):
    assert is_dateline(line)
    assert parse_date(line) == iso
    text = "عنوان الخبر\n\n" + line + "\nنص الخبر يبدأ هنا ويتحدث عن أمور كثيرة."
    segs = segment(text)
    date, idx = find_dateline(text, segs)
    assert date == iso
    assert text[segs[idx].start:segs[idx].end] == line


def test_date_inside_a_body_sentence_is_not_a_dateline():
    line = "وفي 16 مايو 2014، أطلق القائد العام للجيش الليبي خليفة حفتر عملية عسكرية باسم الكرامة"
    assert parse_date(line) == "2014-05-16"
    assert not is_dateline(line)
    assert not is_dateline("قال في 30 نوفمبر 2016 إنه سيأتي غدا")
    text = "عنوان\n" + line
    assert find_dateline(text, segment(text)) == (None, None)


def test_invalid_dates_and_plain_numbers():
    assert parse_date("30 فبراير 2016") is None
    assert not is_dateline("30 فبراير 2016")
    assert not is_dateline("فاز الفريق 3-1 في المباراة")
    assert parse_date("رقم الهاتف 12/34/5678") is None


def test_time_only_line_is_a_stamp_but_has_no_date():
    assert is_dateline("20:26 ت م")
    text = "عنوان\n20:26 ت م\nنص"
    assert find_dateline(text, segment(text)) == (None, None)


def test_only_the_top_counts():
    body = "\n".join(f"جملة رقم {i} من نص الخبر الطويل." for i in range(10))
    text = "عنوان\n" + body + "\n30 نوفمبر 2016"
    assert find_dateline(text, segment(text)) == (None, None)
