"""Match evidence and templates (tasks/evidence.py) on a small corpus with the index's real statistics."""

from __future__ import annotations

import random

import numpy as np
import pytest

from newsdedup.tasks.align import ReuseDoc, align_pair, align_pairs, prepare
from newsdedup.tasks.candidates import CandidateIndex
from newsdedup.tasks.evidence import COMMON_DF, Rarity, assess

# a vocabulary for filler stories: every story is different, so their words stay rare
VOCAB = ("مدينة قرية شارع سوق مدرسة مستشفى جامعة ملعب مطار ميناء مصنع مزرعة شركة بنك وزارة مجلس لجنة نادي فريق "
         "لاعب مدرب حكم مباراة بطولة كأس هدف موسم عقد صفقة سعر نفط غاز ماء كهرباء طريق جسر قطار سيارة طائرة سفينة "
         "مطر حر برد رياح غبار بحر نهر جبل صحراء واحة حديقة متحف مسرح كتاب معرض مهرجان حفل جائزة مسابقة برنامج "
         "مشروع خطة دراسة تقرير بيان قرار قانون نظام محكمة قاض شرطة جيش حدود أمن سلام حرب هدنة اتفاق زيارة لقاء "
         "اجتماع مؤتمر ندوة ورشة دورة طالب معلم طبيب مريض عامل تاجر مزارع صياد فنان شاعر كاتب صحفي مصور").split()
FORMULA = ("خادم الحرمين الشريفين الملك سلمان بن عبد العزيز آل سعود ملك المملكة العربية السعودية "
           "وصاحب السمو الملكي الأمير محمد بن نايف بن عبد العزيز ولي العهد نائب رئيس مجلس الوزراء وزير الداخلية")
CLAIM = ("وأكد المصدر أن عددا من الموقوفين كشفوا أن معسكر التدريب يضم عناصر من جنسيات مختلفة كانوا يترددون "
         "على المكان من أجل تلقي التدريبات على الأسلحة والمواد الشديدة الانفجار قبل عودتهم إلى بلدانهم")


def _story(rng: random.Random, n: int = 60) -> str:
    words = [rng.choice(VOCAB) + rng.choice(("", "ه", "ها", "ات", "ين")) for _ in range(n)]
    return " ".join(words[:n // 2]) + ". " + " ".join(words[n // 2:]) + "."


def _corpus(n_formula: int = 30) -> list[ReuseDoc]:
    """``n_formula`` unrelated stories that open with the royal formula; two of them (f00, f01) also
    carry the same copied claim; two more (x00, x01) share only the claim."""
    rng = random.Random(5)
    docs = []
    for i in range(n_formula):
        body = _story(rng)
        if i < 2:
            body += " " + CLAIM + "."
        docs.append(ReuseDoc(f"f{i:02d}", f"استقبل {FORMULA} في قصر السلام اليوم. {body}"))
    for i in range(2):
        docs.append(ReuseDoc(f"x{i:02d}", f"{_story(rng)} {CLAIM}. {_story(rng)}"))
    return docs


@pytest.fixture(scope="module")
def indexed():
    prepared = [prepare(d) for d in _corpus()]
    index = CandidateIndex()
    index.add(prepared)
    return {p.doc_id: p for p in prepared}, index.rarity()


def test_a_formula_shared_by_many_unrelated_stories_is_no_match(indexed):
    by, rarity = indexed
    assert rarity.n_docs == 32 and len(rarity.common)  # the formula's n-grams are in >= COMMON_DF documents
    # without corpus statistics the formula is a long verbatim span ...
    assert align_pair(by["f05"], by["f09"])
    # ... with them it carries no information: no match, however long it is
    assert align_pair(by["f05"], by["f09"], rarity=rarity) == []


def test_a_copied_claim_is_a_match_with_its_evidence(indexed):
    by, rarity = indexed
    ms = align_pair(by["x00"], by["x01"], rarity=rarity)
    assert len(ms) == 1
    m = ms[0]
    assert m.kind == "reuse" and m.evidence >= 6.0
    # the claim in two formula stories: matched, the formula around it adds nothing to the evidence
    both = align_pair(by["f00"], by["f01"], rarity=rarity)
    assert both and max(x.evidence for x in both) == pytest.approx(m.evidence, rel=0.35)


def test_evidence_is_deterministic_and_batch_independent(indexed):
    by, rarity = indexed
    pairs = [(by[a], by[b]) for a, b in (("x00", "x01"), ("f00", "f01"), ("f03", "f04"))]
    one = align_pairs(pairs, rarity=rarity)
    two = align_pairs(list(reversed(pairs)), rarity=rarity, workers=2, chunk_size=1)
    assert one == two and all(m.evidence is not None for m in one)


def test_weights_follow_document_frequency():
    r = Rarity(1000, np.array([1, 2, 3], dtype=np.int64), np.array([1, 100, 1000], dtype=np.int64))
    w = r.weights(np.array([1, 2, 3, 99], dtype=np.int64))
    assert w[0] == pytest.approx(1.0) and w[3] == pytest.approx(1.0)  # one document / unknown: rare
    assert 0.3 < w[1] < 0.4 and w[2] < 0.05  # ln(100)/ln(1050); a word in every document weighs ~0


def _pair(a: str, b: str, rarity: Rarity | None = None):
    pa, pb = prepare(ReuseDoc("a", a)), prepare(ReuseDoc("b", b))
    return assess(pa, pb, 0, len(pa) - 1, 0, len(pb) - 1, rarity)


MARKET = ("أغلق مؤشر السوق الرئيسي اليوم عند مستوى {0} نقطة مرتفعا {1} نقطة بنسبة {2} في المئة وبلغت قيمة "
          "التداولات {3} مليار ريال من خلال {4} ألف صفقة وارتفعت أسهم {5} شركة مقابل تراجع أسهم {6} شركة")


def test_numbers_that_change_make_a_template_and_numbers_that_agree_a_copy():
    day1 = MARKET.format("8807.24", "41.3", "0.47", "5.2", "98", "120", "41")
    day2 = MARKET.format("8766.10", "12.8", "0.15", "4.9", "91", "77", "83")
    assert _pair(day1, day2).kind == "template"
    assert _pair(day1, day1).kind == "reuse"
    # a copy that updates one figure (a death toll, a price) stays a copy
    assert _pair(day1, day1.replace("120", "121")).kind == "reuse"
    # the same figure written with other separators is not a change
    assert _pair(day1, day1.replace("8807.24", "8,807.24")).kind == "reuse"


def test_slots_in_a_stock_frame_make_a_template_but_spelling_variants_do_not():
    frame = ("بعث الملك برقية تهنئة للرئيس {0} رئيس جمهورية {1} بمناسبة ذكرى استقلال بلاده وأعرب باسمه واسم "
             "شعب وحكومة المملكة عن أصدق التهاني وأطيب التمنيات بالصحة والسعادة لفخامته ولحكومة وشعب {1} الصديق")
    a, b = frame.format("خوان سانتوس", "كولومبيا"), frame.format("إيفو موراليس", "بوليفيا")
    pa, pb = prepare(ReuseDoc("a", a)), prepare(ReuseDoc("b", b))
    # every n-gram of the frame is stock text in this corpus
    common = np.unique(np.concatenate([pa.shingles, pb.shingles]))
    ids = np.unique(np.concatenate([pa.ids, pb.ids]))
    rarity = Rarity(5000, ids, np.full(len(ids), 3, dtype=np.int64), common)
    assert assess(pa, pb, 0, len(pa) - 1, 0, len(pb) - 1, rarity).kind == "template"
    variant = prepare(ReuseDoc("c", a.replace("لفخامته", "لفخامتة")))  # «ه»/«ة»: the same word
    got = assess(pa, variant, 0, len(pa) - 1, 0, len(variant) - 1, rarity)
    assert got.kind == "reuse"
    # a slot outside a stock frame is an edit of a copy, not a template
    assert _pair(a, b).kind == "reuse"


def test_index_document_frequencies_survive_save_and_load(tmp_path, indexed):
    prepared = [prepare(d) for d in _corpus(25)]
    index = CandidateIndex()
    index.add(prepared[:10])
    index.add(prepared[10:])
    whole = CandidateIndex()
    whole.add(prepared)
    assert np.array_equal(index.df.keys, whole.df.keys) and np.array_equal(index.df.counts, whole.df.counts)
    index.add(prepared[:3])  # already indexed: nothing counted twice
    assert np.array_equal(index.df.counts, whole.df.counts)
    index.save(tmp_path)
    back = CandidateIndex.load(tmp_path)
    r1, r2 = index.rarity(), back.rarity()
    assert r1.n_docs == r2.n_docs == 27 and np.array_equal(r1.word_df, r2.word_df)
    assert np.array_equal(r1.common, r2.common) and COMMON_DF == 20


def test_sorted_search_is_searchsorted_in_any_order_of_queries():
    """Looking a document's ids up in ascending order must give each id the position plain
    ``np.searchsorted`` gives it (duplicates, ids below, between and above the keys, short and long)."""
    from newsdedup.tasks.evidence import sorted_search

    rng = np.random.default_rng(7)
    keys = np.unique(rng.integers(-10**12, 10**12, 5000))
    for n in (0, 1, 31, 32, 33, 700):
        x = np.concatenate([rng.choice(keys, n), rng.integers(-2 * 10**12, 2 * 10**12, n)])[: max(n, 0) * 2]
        rng.shuffle(x)
        assert np.array_equal(sorted_search(keys, x), np.searchsorted(keys, x)), n
