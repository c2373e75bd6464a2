"""segment(): sentences inside lines, offsets into the received text."""

import random

from newsdedup.tasks.segment import Segment, segment


def texts(text):
    return [text[s.start:s.end] for s in segment(text)]


def body(line):
    """Segments of ``line`` placed after a title line (first lines are kept whole)."""
    return texts("عنوان الخبر\n" + line)[1:]


def test_lines_and_numbering():
    text = "العنوان\r\n\r\nالسطر الأول. الجملة الثانية\rسطر ثالث\n   \nأخير"
    segs = segment(text)
    assert [(s.line, s.sentence) for s in segs] == [(1, 0), (3, 0), (3, 1), (4, 0), (6, 0)]
    assert [text[s.start:s.end] for s in segs] == ["العنوان", "السطر الأول.", "الجملة الثانية", "سطر ثالث", "أخير"]


def test_no_empty_or_whitespace_segments_and_stripped():
    text = "  \u200f عنوان  \n\n \t \n  جملة أولى.   جملة ثانية!  \n\xa0\n"
    for s in segment(text):
        piece = text[s.start:s.end]
        assert piece.strip() and piece == piece.strip()
        assert not piece.startswith("\u200f")


def test_arabic_comma_does_not_split():
    assert body("قال الوزير، في مؤتمر صحفي، إن الوضع مستقر.") == ["قال الوزير، في مؤتمر صحفي، إن الوضع مستقر."]


def test_terminators_split():
    assert body("هل جاء؟ نعم جاء! ثم ذهب. وعاد بعد ساعة") == ["هل جاء؟", "نعم جاء!", "ثم ذهب.", "وعاد بعد ساعة"]


def test_numbers_stay_whole():
    assert body("بلغ النمو 2.9 في المئة والدين 129.3 مليار. وأضاف الوزير أنه متفائل.") == [
        "بلغ النمو 2.9 في المئة والدين 129.3 مليار.", "وأضاف الوزير أنه متفائل."]


def test_glued_sentences_split():
    assert body("وصلت البعثة الليبية.وزيارة موسكو كانت مهمة") == ["وصلت البعثة الليبية.", "وزيارة موسكو كانت مهمة"]
    assert body("انتهى اللقاء؟وعاد الوفد إلى طرابلس") == ["انتهى اللقاء؟", "وعاد الوفد إلى طرابلس"]


def test_abbreviations_stay_whole():
    assert body("التقى د. محمد علي بالوزير. ثم عاد إلى بلده") == ["التقى د. محمد علي بالوزير.", "ثم عاد إلى بلده"]
    assert body("J. Smith met the U.S. team in Washington. Then he left!") == [
        "J. Smith met the U.S. team in Washington.", "Then he left!"]
    # after a year the letter is an era that ends the sentence
    assert body("وقع ذلك في عام 2015 م. وقال المسؤول إنه يتذكر") == ["وقع ذلك في عام 2015 م.", "وقال المسؤول إنه يتذكر"]


def test_closing_quotes_belong_to_the_sentence():
    assert body("قال «هذا جيد.» ثم غادر القاعة") == ["قال «هذا جيد.»", "ثم غادر القاعة"]
    assert body('وأضاف: "انتهى الأمر." وغادر القاعة بسرعة') == ['وأضاف: "انتهى الأمر."', "وغادر القاعة بسرعة"]
    assert body("(قالها بوضوح.) ثم صمت طويلا") == ["(قالها بوضوح.)", "ثم صمت طويلا"]


def test_titles_and_short_lines_keep_ellipsis():
    title = 'مع تكرار زياراته لموسكو.. هل تنجح مساعي "حفتر" في كسب الدعم الروسي؟'
    assert texts(title + "\n\nنص") == [title, "نص"]
    line = "اقرأ أيضا: روسيا تنفي دعم حفتر.. ومجلس الأمن يجتمع لبحث التطورات"
    assert body(line) == [line]


def test_ellipsis_splits_long_lines():
    first = "في بادرة هي الأولى من نوعها في الملاعب السعودية وعلى مستوى الأندية في المنطقة كلها.."
    second = " حدد نادي النصر مهبطا لطائرة الإسعاف الجوي ضمن منشآت النادي لخدمة الرياضيين والأحياء المحيطة به."
    assert body(first + second) == [first, second.strip()]


def test_tiny_fragments_are_not_split_off():
    assert body("1. الخبر الأول في القائمة") == ["1. الخبر الأول في القائمة"]
    assert body("قال إن الوضع مستقر. .. ") == ["قال إن الوضع مستقر. .."]


def test_long_single_line_becomes_sentences():
    sentences = [f"الجملة رقم {i} في هذا السطر الطويل جدا تتحدث عن موضوع مختلف." for i in range(200)]
    text = "عنوان\n" + " ".join(sentences)
    segs = segment(text)[1:]
    assert len(segs) == 200
    assert all(s.line == 2 for s in segs)
    assert [s.sentence for s in segs] == list(range(200))


def test_invariants_on_random_text():
    rng = random.Random(7)
    alphabet = list("ابتثجحخ دذرز سشص.!؟?…،\n\r\"«» 0123456789")
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))
        segs = segment(text)
        prev_end = 0
        for s in segs:
            assert isinstance(s, Segment)
            assert prev_end <= s.start < s.end <= len(text)
            piece = text[s.start:s.end]
            assert piece.strip() == piece and piece
            assert "\n" not in piece and "\r" not in piece
            assert text.count("\n", 0, s.start) + 1 >= 1
            prev_end = s.end
        # every non-blank character is inside some segment
        covered = set()
        for s in segs:
            covered.update(range(s.start, s.end))
        assert all(i in covered for i, c in enumerate(text) if not c.isspace())


def test_line_numbers_follow_all_line_endings():
    text = "a\r\nb\rc\nd"
    assert [(s.line, text[s.start:s.end]) for s in segment(text)] == [(1, "a"), (2, "b"), (3, "c"), (4, "d")]
