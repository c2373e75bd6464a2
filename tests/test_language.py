"""Language identification: langdetect corrected by script evidence."""

from newsdedup.tasks.language import detect_document, detect_language, script_profile

AR = ("قال وزير الخارجية الروسي إن بلاده تدعم الحل السياسي في ليبيا، وإن الحوار الوطني هو الطريق الوحيد "
      "لإنهاء الأزمة التي تعيشها البلاد منذ سنوات.")
FA = "به زبان ساده می‌توان کروموزوم‌ها را به بسته‌های مواد ژنتیکی تشبیه کرد که در هسته سلول قرار دارند."
UR = "۱۹۹۰ میں بی جے پی سے ہی انہوں نے میدان سیاست میں قدم رکھا تھا اور پھر کئی بار انتخاب جیتے۔"
EN = "The minister said on Wednesday that the talks would continue until an agreement is reached."
HE = "שלוש איגרות פולמוסיות העוסקות בנושא הקץ, שנשלחו ליהודים שונים בארצות רבות."
RU = "Правительство объявило о новых мерах поддержки экономики в ближайшие месяцы."


def test_basic_languages():
    assert detect_language(AR)[0] == "ar"
    assert detect_language(FA)[0] == "fa"
    assert detect_language(UR)[0] == "ur"
    assert detect_language(EN)[0] == "en"
    assert detect_language(HE)[0] == "he"
    assert detect_language(RU)[0] == "ru"


def test_no_letters_is_und():
    assert detect_language("") == ("und", 0.0)
    assert detect_language("123 456 — !!! 2016/11/30") == ("und", 0.0)


def test_confidence_range_and_determinism():
    for t in (AR, FA, UR, EN, HE):
        lang, conf = detect_language(t)
        assert 0.0 < conf <= 1.0
        assert detect_language(t) == (lang, conf)


def test_short_arabic_is_not_persian():
    # langdetect alone calls such snippets fa or ur; no Persian/Urdu letter, so Arabic
    for t in ("آل معمر", "فارفان", "جان فان ونسل هاورد ويب", "ميدو"):
        assert detect_language(t)[0] == "ar", t


def test_arabic_with_a_persian_letter_stays_arabic():
    # a Gulf spelling (گ) or a Persian name inside Arabic text
    t = "أعلنت شركة گوگل عن تحديث جديد لمحرك البحث في المنطقة العربية خلال الأسبوع المقبل."
    assert detect_language(t)[0] == "ar"


def test_persian_typed_with_arabic_letters():
    t = "اين توهين به زنان نيست كه آنان را نامساوي با مردان شمرده از تصدي يك پست معنوي محروم كرده است"
    assert detect_language(t)[0] == "fa"


def test_script_profile_counts_markers():
    p = script_profile("مدرسة کتاب")
    assert p["arabic"] == 9 and p["ar_only"] == 1 and p["fa_ur"] == 1
    assert script_profile("...")["letters"] == 0


def test_mixed_script_document_has_per_span_languages():
    text = AR + "\n" + EN + "\n" + AR
    spans = [(0, len(AR)), (len(AR) + 1, len(AR) + 1 + len(EN)), (len(AR) + len(EN) + 2, len(text))]
    (doc, conf), per = detect_document(text, spans)
    assert doc == "ar" and conf > 0.5
    assert [p[0] for p in per] == ["ar", "en", "ar"]
    # spans of the document's script reuse the document's answer exactly
    assert per[0] == per[2] == (doc, conf)


def test_short_spans_take_the_document_language():
    text = AR + " OK Google " + AR
    i = text.index("OK Google")
    (doc, _), per = detect_document(text, [(i, i + len("OK Google"))])
    assert per == [detect_document(text, [])[0]]
    assert doc == "ar"


def test_hint_is_trusted_when_valid():
    (doc, conf), per = detect_document(AR, [(0, 20)], hint="fr")
    assert doc == ("fr") and conf == 1.0 and per == [("fr", 1.0)]
    (doc, _), _ = detect_document(AR, [], hint="not-a-language")
    assert doc == "ar"
    (doc, _), _ = detect_document(AR, [], hint="AR")
    assert doc == "ar"


def test_hebrew_with_english_name_is_hebrew():
    assert detect_language("Armoured Infantry Brigade) בארץ ישראל שהוקמה בשנת 1941.")[0] == "he"


def test_long_documents_are_sampled():
    text = (AR + " ") * 2000  # ~250 KB
    (doc, _), per = detect_document(text, [(0, len(AR))])
    assert doc == "ar" and per[0][0] == "ar"


def test_concurrent_first_use_is_safe_and_deterministic():
    """Threads detecting while langdetect loads its profiles must not see a half-loaded list."""
    import subprocess
    import sys

    code = (
        "import threading\n"
        "from newsdedup.tasks.language import detect_language\n"
        "r = []\n"
        "text = 'Cules son las polticas y los procedimientos ms importantes que establece'\n"
        "ts = [threading.Thread(target=lambda: r.append(detect_language(text)[0])) for _ in range(8)]\n"
        "[t.start() for t in ts]; [t.join() for t in ts]\n"
        "print(','.join(r))\n"
    )
    for _ in range(3):  # a fresh interpreter each time: the race is on the first load
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        assert out.strip().split(",") == ["es"] * 8
