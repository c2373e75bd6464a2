"""Boilerplate flags: widgets, links, captions, labels, datelines, repeats, outlet statistics, code."""

from newsdedup.tasks.boilerplate import (
    MIN_OUTLET_DOCS, clean_text, document_line_keys, flag_boilerplate, line_key, outlet_threshold,
)
from newsdedup.tasks.segment import segment

BODY = [
    "قال وزير الخارجية إن بلاده تدعم الحل السياسي في ليبيا وإن الحوار هو الطريق الوحيد لإنهاء الأزمة.",
    "وأضاف أن الاجتماعات ستستمر خلال الأسابيع المقبلة بمشاركة جميع الأطراف المعنية بالملف الليبي.",
    "وأشار المسؤول إلى أن بلاده لن تتدخل عسكريا في النزاع وأنها تحترم قرارات مجلس الأمن الدولي.",
]


def flags_by_line(text, **kw):
    segs = segment(text)
    fl = flag_boilerplate(text, segs, **kw)
    out = {}
    for s, (bad, reason) in zip(segs, fl):
        out.setdefault(text[s.start:s.end], (bad, reason))
    return out


def doc(*extra, title="عنوان الخبر عن زيارة الوفد الليبي إلى موسكو"):
    return "\n".join([title, *extra])


def test_widgets():
    text = doc(BODY[0], "شارك", "+ الخط -", "طباعة", "تويتر فيسبوك واتساب", BODY[1])
    f = flags_by_line(text)
    assert f["شارك"] == (True, "share-widget")
    assert f["+ الخط -"] == (True, "font-widget")
    assert f["طباعة"] == (True, "print-widget")
    assert f["تويتر فيسبوك واتساب"] == (True, "share-widget")
    assert f[BODY[0]] == (False, None) and f[BODY[1]] == (False, None)


def test_widget_words_inside_prose_are_body():
    line = "شارك الآلاف في مظاهرة حاشدة أمام مبنى البرلمان للمطالبة بإصلاحات."
    assert flags_by_line(doc(line, BODY[0]))[line] == (False, None)


def test_related_links():
    text = doc(BODY[0], "اقرأ أيضا: ممثل لحفتر يصل موسكو", "اقرأ أيضاً روسيا تنفي دعم حفتر", "...المزيد", BODY[1],
               "المزيد من الضحايا سقطوا في الهجوم الذي استهدف السوق الشعبي.")
    f = flags_by_line(text)
    assert f["اقرأ أيضا: ممثل لحفتر يصل موسكو"] == (True, "related-link")
    assert f["اقرأ أيضاً روسيا تنفي دعم حفتر"] == (True, "related-link")
    assert f["...المزيد"] == (True, "related-link")
    assert f["المزيد من الضحايا سقطوا في الهجوم الذي استهدف السوق الشعبي."] == (False, None)


def test_captions_with_credits():
    caps = ["حفتر زار روسيا مرتين خلال 6 شهور(فاسيلي ماكسيمو/فرانس برس)",
            "لافروف خلال مؤتمر صحفي في موسكو- جيتي",
            "جانب من الاجتماع (أ ف ب)",
            "تصوير: علي الزهراني"]
    f = flags_by_line(doc(*caps, *BODY))
    for c in caps:
        assert f[c] == (True, "caption"), c
    # a body sentence that names an agency is not a caption
    line = "وقال مصدر مطلع لوكالة رويترز إن المحادثات ستستأنف الأسبوع المقبل في جنيف"
    assert flags_by_line(doc(line, *BODY))[line] == (False, None)


def test_a_document_that_is_only_a_captioned_photo_keeps_it():
    line = "الممثلة خلال مشاركتها في حفل فني في بيفرلي هيلز - كاليفورنيا (أ ف ب)"
    assert flags_by_line(doc(line))[line] == (False, None)


def test_section_label_before_title_and_title_protected():
    text = "ملفات وتقارير\n\nبعد زيارة مدير مكتبه.. هل أعلنت روسيا رسميا دعمها لحفتر؟\n\n" + "\n".join(BODY)
    f = flags_by_line(text)
    assert f["ملفات وتقارير"] == (True, "section-label")
    assert f["بعد زيارة مدير مكتبه.. هل أعلنت روسيا رسميا دعمها لحفتر؟"] == (False, None)


def test_short_intertitles_are_body():
    text = doc(BODY[0], '"دور مخادع"', BODY[1], "غطاء ودعم صريح", BODY[2], "تصريحات \"غامضة\"")
    f = flags_by_line(text)
    for t in ('"دور مخادع"', "غطاء ودعم صريح", 'تصريحات "غامضة"'):
        assert f[t] == (False, None)


def test_dateline_flag():
    f = flags_by_line(doc("30 نوفمبر 2016", *BODY))
    assert f["30 نوفمبر 2016"] == (True, "dateline")
    assert all(f[b] == (False, None) for b in BODY)


def test_repeated_caption_and_title():
    cap = "مع تكرار زياراته"
    title = "مع تكرار زياراته لموسكو.. هل تنجح مساعي حفتر في كسب الدعم الروسي؟"
    text = "\n".join([title, "طباعة " + cap, BODY[0], cap, BODY[1], cap, BODY[2], cap])
    segs = segment(text)
    fl = flag_boilerplate(text, segs)
    got = [(text[s.start:s.end], f) for s, f in zip(segs, fl)]
    assert got[0] == (title, (False, None))
    assert all(f == (True, "repeated-line") for t, f in got if t.endswith(cap))
    assert all(f == (False, None) for t, f in got if t in BODY)


def test_pull_quote_flagged_body_kept():
    quote = "أبدى حفتر موافقته على دعم الوجود العسكري الروسي في الموانئ الليبية التي تخضع لسيطرته"
    para = ("وأبدى حفتر موافقته على دعم الوجود العسكري الروسي في الموانئ الليبية التي تخضع لسيطرته، حال الحاجة "
            "إلى ذلك، مع وعود بأن تتم صياغة ذلك بشكل رسمي خلال الفترة المقبلة")
    f = flags_by_line(doc(BODY[0], quote, BODY[1], para))
    assert f[quote] == (True, "repeated-line")
    assert f[para] == (False, None)


def test_duplicated_long_paragraph_keeps_first_copy():
    long = " ".join(BODY)
    text = doc(long, BODY[0][:30] + " وشيء آخر تماما لا علاقة له", long)
    segs = segment(text)
    fl = flag_boilerplate(text, segs)
    lines = {}
    for s, f in zip(segs, fl):
        lines.setdefault(s.line, []).append(f[0])
    assert not any(lines[2]) and all(lines[4])


def test_two_short_labels_are_not_captions():
    text = doc("المقادير:", BODY[0], "المقادير:", BODY[1])
    assert flags_by_line(text)["المقادير:"] == (False, None)


def test_end_markers_contacts_separators():
    f = flags_by_line(doc(*BODY, "// انتهى //", "للتواصل مع الكاتب ارسل رسالة SMS", "writer@example.com", "***"))
    assert f["// انتهى //"] == (True, "end-marker")
    assert f["للتواصل مع الكاتب ارسل رسالة SMS"] == (True, "contact")
    assert f["writer@example.com"] == (True, "contact")
    assert f["***"] == (True, "separator")


def test_embedded_script_is_flagged():
    js = ("#vote_area2 ul { padding: 0; margin: 0; } .box_vote { border:solid 1px #ccc; padding:18px; } "
          "jQuery.noConflict(); jQuery(document).ready(function(){ jQuery('#vote_form2').submit(function() "
          "{ var site = jQuery('input[name=site]').val(); return false; }); });")
    text = doc(BODY[0], BODY[1] + " " + js)
    segs = segment(text)
    fl = flag_boilerplate(text, segs)
    flagged = "".join(text[s.start:s.end] for s, f in zip(segs, fl) if f[0])
    assert "jQuery" in flagged and "padding" in flagged
    assert all(not f[0] for s, f in zip(segs, fl) if text[s.start:s.end] in BODY)


def test_line_key_masks_digits_and_ignores_short():
    assert line_key("الرياض 25 شوال 1436 هـ") == line_key("الرياض 26 شوال 1436 هـ")
    assert line_key("// انتهى //") == line_key("//انتهى//")
    assert line_key("عين اليوم – متابعات") != line_key("عين اليوم – الرياض")
    assert line_key("***") is None and line_key("12") is None and line_key("") is None


def test_document_line_keys_are_whole_lines():
    text = doc(BODY[0] + " " + BODY[1], "عين اليوم – متابعات", "***")
    keys = document_line_keys(text, segment(text))
    assert line_key("عين اليوم – متابعات") in keys
    assert line_key(BODY[0] + " " + BODY[1]) in keys
    assert line_key(BODY[0]) not in keys
    assert len(keys) == 3  # title, body line, sign-off; the separator has no key


def _outlet(n_docs, n_with):
    """Corpus counts of an outlet whose sign-off line is in ``n_with`` of ``n_docs`` documents."""
    counts = {}
    for i in range(n_docs):
        lines = [f"عنوان الخبر رقم {i} عن موضوع {i % 7}", BODY[i % 3], f"تفاصيل إضافية عن الموضوع {i} كتبها المحرر"]
        if i < n_with:
            lines.insert(1, "عين اليوم – متابعات")
        text = "\n".join(lines)
        for k in document_line_keys(text, segment(text)):
            counts[k] = counts.get(k, 0) + 1
    return counts


def test_outlet_repeats_learnt_from_counts():
    counts = _outlet(200, 60)
    text = doc("عين اليوم – متابعات", *BODY)
    f = flags_by_line(text, outlet_key_counts=counts, outlet_docs=200)
    assert f["عين اليوم – متابعات"] == (True, "outlet-repeat")
    # a line seen in fewer documents than the threshold stays body
    rare = "تفاصيل إضافية عن الموضوع 5 كتبها المحرر وأضاف تعليقا"
    assert flags_by_line(doc(rare, *BODY), outlet_key_counts=counts, outlet_docs=200)[rare] == (False, None)


def test_outlet_repeats_need_enough_documents_and_share():
    counts = _outlet(10, 10)
    text = doc("عين اليوم – متابعات", *BODY)
    assert flags_by_line(text, outlet_key_counts=counts, outlet_docs=10)["عين اليوم – متابعات"] == (False, None)
    assert outlet_threshold(2, 3) == float("inf")
    assert outlet_threshold(MIN_OUTLET_DOCS, 3) >= 5
    assert outlet_threshold(4000, 3) == 0.005 * 4000
    assert outlet_threshold(4000, 40) > outlet_threshold(4000, 3)
    counts = _outlet(1000, 3)
    f = flags_by_line(text, outlet_key_counts=counts, outlet_docs=1000)
    assert f["عين اليوم – متابعات"] == (False, None)


def test_clean_text_drops_flagged_segments_only():
    text = doc("30 نوفمبر 2016", BODY[0], "شارك", BODY[1] + " " + BODY[2])
    segs = segment(text)
    fl = flag_boilerplate(text, segs)
    clean = clean_text(text, segs, fl)
    assert "2016" not in clean
    assert clean.split("\n") == [text.split("\n")[0], BODY[0], BODY[1] + " " + BODY[2]]


def test_at_sign_used_as_a_bullet_is_body_not_contact():
    from newsdedup.tasks.boilerplate import flag_boilerplate
    from newsdedup.tasks.segment import segment

    text = ("مزايا الحساب الجديد\n"
            "@ حساب الخير الجاري؛ وهو يقدم الكثير من الخدمات البنكية ومعتمد من هيئة الرقابة الشرعية.\n"
            "@ المرابحة؛ تعتبر أداة رائدة في تطوير احتياجات العملاء من خلال عمليات التمويل.\n"
            "@saudi_news\n")
    segs = segment(text)
    flags = flag_boilerplate(text, segs)
    by_text = {text[s.start:s.end]: f for s, f in zip(segs, flags)}
    assert not any(f[0] for t, f in by_text.items() if t.startswith("@ "))
    assert by_text["@saudi_news"] == (True, "contact")
