"""Alignment: real functions on small real-looking Arabic texts (no mocks)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from newsdedup.tasks.align import Match, ReuseDoc, align_pair, align_pairs, gap_clusters, prepare
from newsdedup.tasks.candidates import CandidateIndex

SHARED = Path("/work/shared")
SEEDS = Path(__file__).resolve().parents[1] / "seeds"

PASSAGE = (
    "وخلال جولتنا في أرجاء المركز شاهدنا أقسام تأهيل المعاقين كقسم الموسيقى وقسم الخياطة وقسم الحاسوب "
    "وقسم الآلة الكاتبة وفي كل واحد من هذه الأقسام جماعة من الفتيان أو الفتيات يعملون، وتتعالى أصوات "
    "مكائن الخياطة والآلات الكاتبة وأصوات آلات الحدادة والنجارة، ويعمل في هذين القسمين شبان معظمهم "
    "يعانون من عاهة الصمم والبكم."
)
FILLER_A = (
    "أعلنت وزارة الزراعة عن خطة جديدة لدعم المزارعين في المناطق الريفية خلال الموسم المقبل. "
    "وتشمل الخطة توزيع البذور المحسنة وتوفير القروض الميسرة. "
)
FILLER_B = (
    "شهدت أسواق الأسهم الخليجية تراجعا ملحوظا في تعاملات الأسبوع الماضي بسبب انخفاض أسعار النفط. "
    "وقال محللون إن المستثمرين يترقبون نتائج الشركات الكبرى. "
)


def _one(a_text: str, b_text: str, a_id: str = "a", b_id: str = "b", **kw) -> list[Match]:
    return align_pair(prepare(ReuseDoc(a_id, a_text, **kw)), prepare(ReuseDoc(b_id, b_text)))


def test_verbatim_copy_exact_offsets():
    a = FILLER_A + PASSAGE + " " + FILLER_A
    b = FILLER_B + PASSAGE + "\n" + FILLER_B
    ms = _one(a, b)
    assert len(ms) == 1
    m = ms[0]
    assert m.method == "verbatim" and m.score == 100.0
    sa, sb = a.index(PASSAGE), b.index(PASSAGE)
    # spans run from the first to the last word (the final period is punctuation)
    assert (m.a_start, m.a_end) == (sa, sa + len(PASSAGE) - 1)
    assert (m.b_start, m.b_end) == (sb, sb + len(PASSAGE) - 1)
    assert a[m.a_start : m.a_end] == b[m.b_start : m.b_end]


def test_offsets_map_to_received_text_with_diacritics_tatweel_crlf():
    # the copy carries harakat, tatweel, CRLF line breaks and a BOM-free zero-width char
    decorated = (PASSAGE.replace("المركز", "المَرْكَز").replace("الخياطة", "الخيـــاطة")
                 .replace("، ", "،\r\n").replace("الكاتبة", "الكا\u200cتبة"))
    a = FILLER_A + PASSAGE + " " + FILLER_A
    b = FILLER_B + "\r\n" + decorated + "\r\n" + FILLER_B
    ms = _one(a, b)
    assert len(ms) == 1
    m = ms[0]
    sb = b.index(decorated)
    assert m.b_start == sb
    assert m.b_end == sb + len(decorated) - 1
    assert b[m.b_start : m.b_end].startswith("وخلال جولتنا في أرجاء المَرْكَز")
    assert b[m.b_end - 6 : m.b_end] == "والبكم"
    assert m.score >= 98


def test_shuffled_words_found():
    rng = random.Random(7)
    words = PASSAGE.split()
    shuffled = words[:]
    rng.shuffle(shuffled)
    s = " ".join(shuffled)
    a = FILLER_A + PASSAGE + " " + FILLER_A
    b = FILLER_B + s + " " + FILLER_B
    ms = _one(a, b)
    assert ms, "shuffled passage not found"
    m = max(ms, key=lambda m: m.a_end - m.a_start)
    assert m.method == "bag-of-words"
    sa, sb = a.index(PASSAGE), b.index(s)
    # covers most of the passage on both sides, and little else
    ov_a = min(m.a_end, sa + len(PASSAGE)) - max(m.a_start, sa)
    ov_b = min(m.b_end, sb + len(s)) - max(m.b_start, sb)
    assert ov_a >= 0.8 * len(PASSAGE) and ov_b >= 0.8 * len(s)
    assert (m.a_end - m.a_start) <= 1.1 * len(PASSAGE)


def test_unrelated_texts_do_not_match():
    assert _one(FILLER_A * 3, FILLER_B * 3) == []


def test_adjacent_pieces_merge_into_one_passage():
    # the copy has two small edits in the middle: the aligner must give ONE match, not three
    edited = PASSAGE.replace("وقسم الحاسوب", "وقسم الكمبيوتر").replace("أصوات مكائن", "ضجيج مكائن")
    a = FILLER_A + PASSAGE + " " + FILLER_A
    b = FILLER_B + edited + " " + FILLER_B
    ms = _one(a, b)
    assert len(ms) == 1
    m = ms[0]
    assert m.method in ("fuzzy", "verbatim", "mixed")
    assert m.a_start == a.index(PASSAGE) and m.b_start == b.index(edited)
    assert 85 <= m.score < 100


def test_excluded_spans_never_seed_or_claim():
    a = FILLER_A + PASSAGE + " " + FILLER_A
    b = FILLER_B + PASSAGE + " " + FILLER_B
    s = a.index(PASSAGE)
    assert _one(a, b, excluded=((s, s + len(PASSAGE)),)) == []


def test_short_near_identical_sentence_accepted_but_stock_phrase_alone_not():
    s1 = "ارتفع المؤشر العام لسوق الأسهم السعودية 129.3 نقطة ليغلق عند مستوى 9120 نقطة."
    s2 = "ارتفع المؤشر العام لسوق الأسهم السعودية 129.3 نقطة ليغلق عند مستوى 9125 نقطة."
    ms = _one(FILLER_A + s1 + " " + FILLER_A, FILLER_B + s2 + " " + FILLER_B)
    assert len(ms) == 1 and ms[0].score >= 80
    stock_a = "وقالت الوزارة إنها ستواصل التنسيق مع حكومة الوفاق المعترف بها دوليا لضمان وصول المساعدات إلى المدنيين في الجنوب."
    stock_b = "لكن روسيا منعت قرارا في مجلس الأمن رغم زعمها أنها تتواصل مع جميع الأطراف ومنهم حكومة الوفاق المعترف بها دوليا."
    assert _one(stock_a, stock_b) == []


def test_same_doc_and_order():
    pa = prepare(ReuseDoc("x", FILLER_A + PASSAGE))
    pb = prepare(ReuseDoc("w", FILLER_B + PASSAGE))
    assert align_pair(pa, pa) == []
    ms = align_pair(pa, pb)
    assert ms and all(m.a_doc_id == "w" and m.b_doc_id == "x" for m in ms)
    assert align_pairs([(pa, pb), (pb, pa)]) == sorted(ms * 2, key=lambda m: (m.a_doc_id, m.b_doc_id, m.a_start))


def test_gap_clusters_handles_shuffled_block():
    import numpy as np
    ai = np.arange(100, 140)
    bj = np.array(random.Random(1).sample(range(500, 540), 40))
    noise_a, noise_b = np.array([5, 300]), np.array([900, 20])
    groups = gap_clusters(np.concatenate([ai, noise_a]), np.concatenate([bj, noise_b]), gap=8, min_size=3)
    assert len(groups) == 1 and len(groups[0]) == 40


@pytest.mark.skipif(not (SHARED / "gold" / "seeds.json").exists(), reason="shared gold not mounted")
def test_seed_debka_claim_and_must_not_match():
    gold = json.loads((SHARED / "gold" / "seeds.json").read_text(encoding="utf-8"))
    texts = {f.stem: f.read_text(encoding="utf-8-sig") for f in sorted(SEEDS.glob("*.txt"))}
    prepared = [prepare(ReuseDoc(k, v)) for k, v in texts.items()]  # no boilerplate flags: harder
    index = CandidateIndex()
    index.add(prepared)
    by = {p.doc_id: p for p in prepared}
    matches = align_pairs((by[x], by[y]) for x, y in index.candidates(prepared))

    def ov(s, e, g):
        return min(e, g["end"]) - max(s, g["start"]) > 0

    def linked(x, y):
        for m in matches:
            for (da, sa, ea), (db, sb, eb) in (((m.a_doc_id, m.a_start, m.a_end), (m.b_doc_id, m.b_start, m.b_end)),
                                                ((m.b_doc_id, m.b_start, m.b_end), (m.a_doc_id, m.a_start, m.a_end))):
                if da == x["external_id"] and db == y["external_id"] and ov(sa, ea, x) and ov(sb, eb, y):
                    return True
        return False

    mem = gold["reuse_clusters"][0]["members"]
    assert linked(mem[0], mem[2]), "DEBKA claim 000 L27 <-> 002 L34 not linked"
    assert linked(mem[0], mem[1]), "002 L32 should be part of the same match"
    for n in gold["must_not_match"]:
        assert not linked(n["a"], n["b"]), n["why"]
    gold_reuse = [g for c in gold["reuse_clusters"] for g in c["members"]]
    good = [m for m in matches
            if any(g["external_id"] == m.a_doc_id and ov(m.a_start, m.a_end, g) for g in gold_reuse)
            and any(g["external_id"] == m.b_doc_id and ov(m.b_start, m.b_end, g) for g in gold_reuse)]
    assert matches and len(good) / len(matches) >= 0.8


def test_parallel_align_pairs_is_identical():
    docs = [prepare(ReuseDoc(f"d{i}", (FILLER_A if i % 2 else FILLER_B) + PASSAGE.replace("الموسيقى", f"الموسيقى{i}")))
            for i in range(6)]
    pairs = [(docs[i], docs[j]) for i in range(6) for j in range(i + 1, 6)]
    serial = align_pairs(pairs)
    assert serial and align_pairs(pairs, workers=2, chunk_size=3) == serial


def test_common_phrases_are_not_phrase_evidence():
    import numpy as np
    # two distinct shared phrases close together: the 'phrases' rule accepts ...
    a = ("قال موقع ديبكا الإسرائيلي إن موسكو تريد قاعدة جديدة شرق ليبيا على مسافة 700 كم فقط من أوروبا "
         "بحسب الموقع المتخصص في التحليلات العسكرية، وهو ما نفته الخارجية الروسية في بيان مقتضب.")
    b = ("وكان موقع \"ديبكا\" الإسرائيلي قد كشف عن مساع روسية، وذكر الموقع المتخصص في التحليلات العسكرية "
         "والاستخباراتية أن روسيا ستقيم قواعد لها على مسافة 700 كم فقط من أوروبا.")
    pa, pb = prepare(ReuseDoc("a", a)), prepare(ReuseDoc("b", b))
    ms = align_pair(pa, pb)
    assert [m.method for m in ms] == ["phrases"]
    # ... unless the corpus says those n-grams are stock phrases
    common = np.unique(np.concatenate([pa.shingles, pb.shingles]))
    assert align_pair(pa, pb, common=common) == []


def test_excluded_span_inside_copied_text_is_never_claimed():
    half = len(PASSAGE) // 2
    cut = PASSAGE.index(" ", half)
    caption = " مع تكرار زياراته "
    a = FILLER_A + PASSAGE[:cut] + caption + PASSAGE[cut:] + " " + FILLER_A
    b = FILLER_B + PASSAGE[:cut] + caption + PASSAGE[cut:] + " " + FILLER_B
    s_a = a.index(caption)
    pa = prepare(ReuseDoc("a", a, ((s_a, s_a + len(caption)),)))
    s_b = b.index(caption)
    pb = prepare(ReuseDoc("b", b, ((s_b, s_b + len(caption)),)))
    ms = align_pair(pa, pb)
    assert len(ms) == 2  # the two halves, not one span over the caption
    for m in ms:
        assert m.a_end <= s_a + 1 or m.a_start >= s_a + len(caption) - 1
        assert m.b_end <= s_b + 1 or m.b_start >= s_b + len(caption) - 1


def test_empty_and_punctuation_only_docs():
    docs = [prepare(ReuseDoc("e", "")), prepare(ReuseDoc("p", "... !!! ،،")), prepare(ReuseDoc("w", "كلمة"))]
    assert align_pairs([(x, y) for x in docs for y in docs]) == []
    idx = CandidateIndex()
    idx.add(docs)
    assert len(idx) == 3 and idx.candidates(docs) == []
