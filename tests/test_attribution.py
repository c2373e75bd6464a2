"""find_attribution: named sources of a claim."""

from __future__ import annotations

import pytest

from newsdedup.tasks.attribution import find_attribution


@pytest.mark.parametrize("text,name", [
    ("موقع ديبكا الإسرائيلي، يرى أن الرئيس الروسي يسعى للتدخل", "ديبكا"),
    ("وكان موقع \"ديبكا\" الإسرائيلي قد كشف، يوم الإثنين", "ديبكا"),
    ("ونقلت وكالة انترفاكس عن مصدر في وزارة الدفاع", "انترفاكس"),
    ("ولذلك اعتبر مصدر عسكري رفيع المستوى، في تصريح لـCNN بالعربية أن", "CNN بالعربية"),
    ("وقالت مصادر خاصة إن الاتفاق سيوقع الأسبوع المقبل", "مصادر خاصة"),
    ("أفادت رويترز بأن الأسعار ارتفعت", "رويترز"),
    ("نقلت وكالة الأنباء السعودية (واس) أن المجلس وافق", "وكالة الأنباء السعودية (واس)"),
    ("وذكرت صحيفة «الغارديان» البريطانية أن", "الغارديان"),
    # AFP's Arabic name is kept whole, not cut to «الصحافة» (seen on SaudiNewsNet)
    ("أشار خبير الشؤون العسكرية رياض قهوجي لوكالة الصحافة الفرنسية الى عدم وجود", "وكالة الصحافة الفرنسية"),
])
def test_single_text(text, name):
    assert find_attribution([text]) == name


def test_none_when_no_source():
    assert find_attribution(["ارتفعت أسعار النفط اليوم في الأسواق العالمية", "وذكر الموقع المتخصص في التحليلات"]) is None
    assert find_attribution([]) is None


def test_most_frequent_wins_and_ties_are_deterministic():
    texts = ["قالت رويترز إن ...", "وذكر موقع ديبكا الإسرائيلي أن ...", "كشف موقع \"ديبكا\" أن ..."]
    assert find_attribution(texts) == "ديبكا"
    tie = ["قالت رويترز إن ...", "وذكر موقع ديبكا الإسرائيلي أن ..."]
    assert find_attribution(tie) == find_attribution(list(tie)) == "رويترز"  # earliest text first
    assert find_attribution(list(reversed(tie))) == "ديبكا"
