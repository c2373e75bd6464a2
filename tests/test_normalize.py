"""normalize(): folding rules and the offset map back to the text as received."""

from hypothesis import given, settings
from hypothesis import strategies as st

from newsdedup.tasks.normalize import WORD_RE, normalize, normalize_text, tokenize

# Arabic letters with harakat, tatweel, presentation forms, Persian letters, digits,
# bidi marks and assorted whitespace: everything the fold has to handle.
ARABIC_ALPHABET = (
    "ابتثجحخدذرزسشصضطظعغفقكلمنهويءأإآةىؤئ" "ًٌٍَُِّْ" "ـ" "٠١٢٣٤٥٦٧٨٩۰۱۲" "ﻻﻷﷺ" "کیہپچژگ"
    "«»“”–—.،؟!" "\u200f\u200e\u202b\u202c\u200c\ufeff" " \t\n\r\xa0" "ABCabcßİ" "😀"
)
arabic_text = st.text(alphabet=ARABIC_ALPHABET, max_size=60)


@settings(max_examples=400, deadline=None)
@given(arabic_text)
def test_offset_map_round_trip(text):
    n = normalize(text)
    assert len(n.starts) == len(n.ends) == len(n.text)
    assert n.original_length == len(text)
    for i, ch in enumerate(n.text):
        a, b = n.starts[i], n.ends[i]
        assert 0 <= a < b <= len(text)
        if ch != " ":
            # the normalized character comes from the original characters it points to
            assert normalize_text(text[a:b]).find(ch) != -1
    # offsets never go backwards, so any normalized span maps to an ordered original span
    assert list(n.starts) == sorted(n.starts)
    if n.text:
        s, e = n.span(0, len(n.text))
        assert normalize_text(text[s:e]) == n.text


@settings(max_examples=300, deadline=None)
@given(arabic_text)
def test_normalize_text_matches_normalize(text):
    assert normalize_text(text) == normalize(text).text


@settings(max_examples=200, deadline=None)
@given(arabic_text, st.integers(0, 80), st.integers(0, 80))
def test_span_of_any_slice_covers_its_tokens(text, i, j):
    n = normalize(text)
    i, j = sorted((min(i, len(n.text)), min(j, len(n.text))))
    s, e = n.span(i, j)
    assert 0 <= s <= e <= len(text)
    for tok in tokenize(n.text[i:j]):
        if tok.start > 0 and tok.end < j - i:  # whole tokens strictly inside the slice
            assert tok.text in normalize_text(text[s:e])


def test_folds_arabic_variants():
    assert normalize_text("أإآٱ") == "اااا"
    assert normalize_text("مدرسةٌ على") == "مدرسه علي"
    assert normalize_text("مسؤول  بريئة") == "مسوول برييه"
    assert normalize_text("ﻻ") == "لا"
    assert normalize_text("ســـلام") == "سلام"
    assert normalize_text("١٢٣ ۴۵۶") == "123 456"
    assert normalize_text("«قال» – “Hello”") == '"قال" - "hello"'
    assert normalize_text("کتاب یک") == "كتاب يك"


def test_whitespace_and_invisible_marks():
    assert normalize_text("  \u200f قال\u200e \n\t الوزير \r\n") == "قال الوزير"
    n = normalize("\u202bأهلا\u202c  بكم")
    assert n.text == "اهلا بكم"
    assert n.span(0, 4) == (1, 5)
    assert n.span(5, 8) == (8, 11)


def test_span_maps_back_to_original_substring():
    text = "قالَ الوزيرُ: «النموُّ بلغ 2.9٪»."
    n = normalize(text)
    k = n.text.index("النمو")
    s, e = n.span(k, k + len("النمو"))
    assert text[s:e] == "النمو"  # the marks after the last letter fold to nothing
    assert n.to_normalized(s) == k


def test_empty_and_blank():
    for t in ("", "   ", "\u200f\u200e", "\n\n"):
        n = normalize(t)
        assert n.text == "" and n.span(0, 5) == (0, 0)


def test_decimal_numbers_are_one_token():
    toks = [t.text for t in tokenize(normalize_text("بلغ 129.3 مليار أو 2,9 بالمئة"))]
    assert "129.3" in toks and "2,9" in toks
    assert WORD_RE.fullmatch("129.3")


def test_long_text_offsets():
    text = ("كلمه " * 30000).strip()  # longer than the shared offset buffer
    n = normalize(text)
    assert n.text == text
    assert n.span(len(n.text) - 4, len(n.text)) == (len(text) - 4, len(text))
