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
    ("وقال المحللون الاقتصاديون في البنك إن", "المحللون الاقتصاديون"),  # a nominative plural is the subject
    ("وأكد الأمين العام للجامعة العربية أن القمة ستعقد", "الأمين العام للجامعة العربية"),
    # when it was said may stand between the verb and the speaker; «باسم هذه …» goes on (seed-113 sample)
    ("كما ذكر الأسبوع الماضي المدعي العام للمحكمة الأفريقية أن", "المدعي العام للمحكمة الأفريقية"),
    ("وقالت المتحدثة باسم هذه المنظمة الدولية ريم ندا: «إنها أول سفينة»", "المتحدثة باسم هذه المنظمة الدولية ريم ندا"),
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


@pytest.mark.parametrize("text,name", [
    # Arabic: the subject after a reporting verb, or before an imperfect verb or «قد»
    ("قال وزير الخارجية الأمريكي جون كيري إن المحادثات مستمرة", "وزير الخارجية الأمريكي جون كيري"),
    ("وأعلنت وزارة الداخلية السعودية، اليوم، عن القبض على خلية", "وزارة الداخلية السعودية"),
    ("بحسب ما ذكرت وكالة رويترز فإن الأسعار ارتفعت", "رويترز"),
    ("وفقا لصحيفة نيويورك تايمز الأمريكية فإن", "نيويورك تايمز"),
    ("وأكد بيان صادر عن المقاومة الشعبية أن", "المقاومة الشعبية"),  # a statement: whoever issued it
    ("وقال قائد قوات محلية لرويترز عبر الهاتف «نحن في عملية", "رويترز"),  # said to an outlet
    ("وقال مصدر أمني لـ«عكاظ» إن", "عكاظ"),
    # English
    ("The Interior Ministry said on Tuesday that 12 people were arrested.", "Interior Ministry"),
    ("According to Reuters, oil prices rose.", "Reuters"),
    ("\"We will not stop,\" said John Kerry.", "John Kerry"),
    ("A source told Reuters that the deal was close.", "Reuters"),
    ("Officials said the plan was delayed.", "Officials"),
    # French
    ("Selon l'agence Reuters, les prix ont augmenté.", "Reuters"),
    ("Le ministre de l'Intérieur a déclaré que la situation était calme.", "ministre de l'Intérieur"),
    ("« Nous continuerons », a déclaré le porte-parole du gouvernement.", "porte-parole du gouvernement"),
    # Urdu: postpositions after the source
    ("ترک میڈیا کے مطابق تارکین وطن میں زیادہ تعداد بچوں کی تھی", "ترک میڈیا"),
    ("۔وزیراعظم محمد نواز شریف نے کہا ہے کہ حکومت متاثرین کے ساتھ ہے", "وزیراعظم محمد نواز شریف"),
    ("ہولڈ سیکورٹی کمپنی نے اخبار نیویارک ٹائمز کو بتایا کہ", "نیویارک ٹائمز"),
    ("ذرائع کے مطابق اب بھی متعدد نمازی ملبے کے نیچے", "ذرائع"),  # anonymous, nothing else cited
])
def test_cited_sources_in_four_languages(text, name):
    assert find_attribution([text]) == name


@pytest.mark.parametrize("text", [
    "بهدف تعزيز الأمن في قناة السويس بشكل خاص",  # a name merely mentioned
    "عرض مسرحية على مسرح مركز الملك فهد الثقافي",
    "من خلال وسم أنشأه أحد الناشطين على موقع تويتر تحت عنوان",
    "رابط الخبر بصحيفة الوئام:",  # an outlet's footer, no cue
    "وقال إن الاتفاق سيوقع الأسبوع المقبل",  # the speaker is a pronoun
    "أعلن ترشحه للرئاسة",
    "ووفقا للقانون، يعاقب بالسجن مدة لا تقل عن عشر سنوات",  # a rule is not a source
    "وقامت بإخراج الجثتين وتسليمهما لإكمال الإجراءات حسب الاختصاص",
    "He said the talks would continue.",
    "تفصیلات کے مطابق پیر کو میچ کھیلا گیا",  # "according to the details"
    "انہوں نے کہا کہ ہیکرز یہ ڈیٹا چوری کرکے",
    "ونقل خدمات اللاعب محمد إلى النادي",  # «نقل» as "moved", not "reported"
    "وحذر المصابين بمرض الربو من التعرض المباشر للغبار",  # the verb's object (oblique plural), not a speaker
])
def test_no_source_without_a_cue_or_a_name(text):
    assert find_attribution([text]) is None


def test_the_documents_own_outlet_is_never_its_source():
    # also across scripts: the Latin slug of an Arabic name (SaudiNewsNet outlets)
    assert find_attribution(["وقال مصدر أمني لـ«عكاظ» إن"], ["okaz"]) == "مصدر أمني"
    assert find_attribution(["وقال مصدر أمني لـ«عكاظ» إن"], ["sabq"]) == "عكاظ"
    assert find_attribution(["وأوضح لـ”الوئام ” المتحدث الرسمي للهلال الأحمر أن"], ["alweeam"]) == "المتحدث الرسمي للهلال الأحمر"
    assert find_attribution(["ويأتي هذا تأكيدا لما نشرته \"الاقتصادية\" أخيرا عن توصل"], ["aleqtisadiya"]) is None
    assert find_attribution(["Reuters reported on Monday that prices rose."], ["Reuters"]) is None
    assert find_attribution(["وقال أمير منطقة الرياض إن"], ["alriyadh"]) == "أمير منطقة الرياض"  # a word, not the name


def _corpus_texts() -> list[str]:
    """Real text in many languages: the seeds (every line), the 3,000 sentences of the language benchmark
    (10 languages) and the first Urdu news documents of counter-dev, by paragraph."""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    shared = root.parent / "shared" / "bench"
    texts = [line for f in sorted((root / "seeds").glob("*.txt")) for line in f.read_text(encoding="utf-8").splitlines()]
    langs = shared / "araplagdet-dev" / "languages.jsonl"
    if langs.exists():
        texts += [json.loads(x)["text"] for x in langs.read_text(encoding="utf-8").splitlines() if x.strip()]
    counter = shared / "counter-dev" / "documents.jsonl"
    if counter.exists():
        for x in counter.read_text(encoding="utf-8").splitlines()[:80]:
            texts += json.loads(x).get("text", "").split("\n")
    return [t for t in texts if t.strip()]


class _Everything:
    def __contains__(self, item: object) -> bool:
        return True


def test_the_cue_filters_drop_only_what_cites_no_one(monkeypatch):
    """The token loop visits only the tokens at which a cue can start (a text without one is not
    tokenized at all), and ``may_cite`` says False only of texts in which no cue fires; on real text in
    every language the product reads, neither may change what is found (filters off: the same results)."""
    from newsdedup.tasks import attribution

    texts = _corpus_texts()
    assert len(texts) > 3000
    with_filter = [attribution.attributions(t) for t in texts]
    skipped = sum(1 for t in texts if not attribution.may_cite(t))
    assert all(not found for t, found in zip(texts, with_filter) if not attribution.may_cite(t))
    monkeypatch.setattr(attribution, "_TRIGGERS", _Everything())
    monkeypatch.setattr(attribution, "_UR_FIRST", _Everything())
    assert [attribution.attributions(t) for t in texts] == with_filter
    assert skipped > 0 and sum(1 for x in with_filter if x) > 50


@pytest.mark.parametrize("text,name", [
    # «علي» spelled with «ي» between two names is a name, not the preposition «على» (seen on SaudiNewsNet)
    ("ويرى نهاد علي أوزكان من مركز الدراسات في أنقرة أن الاعتداء خطير.", "نهاد علي أوزكان"),
    # an anonymous source keeps where it sits, up to the next boundary
    ("وأكد مصدر في الدفاع المدني الأردني في بيان صحفي أن الزلزال كان على عمق كبير.", "مصدر في الدفاع المدني الأردني"),
    # documents name whoever published them
    ("كشفت وثائق نشرها موقع ويكيليكس الجمعة ان الولايات المتحدة تجسست على اليابان.", "ويكيليكس"),
    # a dash before the name is punctuation
    ("وأشارت - السيدة رفه من المدينة إلى أن الأمانة تسعى.", "السيدة رفه"),
    # a long title ended by a colon is kept whole (more than twelve words)
    ("وقال مدير عام فرع الهيئة العامة للسياحة والتراث الوطني بمنطقة القصيم المكلف إبراهيم بن علي المشيقح: إن هذا",
     "مدير عام فرع الهيئة العامة للسياحة والتراث الوطني بمنطقة القصيم المكلف إبراهيم بن علي المشيقح"),
    # the complement of a title after its adjective («المشرف العام على …») and a name with «علي بن»
    ("وأوضح المشرف العام على العلاقات العامة بوزارة الحج علي بن محمد الغامدي قائلا: إن الوزارة كلفت",
     "المشرف العام على العلاقات العامة بوزارة الحج علي بن محمد الغامدي"),
    # a quoted name after a body noun belongs to it
    ("أعلن تنظيم «داعش» مسؤوليته عن هجوم بسيارة ملغومة", "تنظيم داعش"),
    # a period followed by an invisible direction mark still ends the name
    ("بحسب التقرير الذي نقلته وكالة أنباء البحرين.\u200f ويشمل قطاع الخدمات الاجتماعية", "وكالة أنباء البحرين"),
    # «نقلا عن» and «أول من أمس» end a name
    ("ذكرت المنظمات الإنسانية نقلاً عن شهود أمس الجمعة أن 40 مهاجراً غرقوا", "المنظمات الإنسانية"),
    ("وأعلن رئيس الاتحاد الأوروبي بلاتيني أول من أمس ترشحه رسميا", "رئيس الاتحاد الأوروبي بلاتيني"),
    # a seeing verb cites a view only when the view follows
    ("ويرى الخبير الاقتصادي فضل البوعينين أن الأسعار سترتفع", "الخبير الاقتصادي فضل البوعينين"),
    # «صرح بذلك X»: the speaker follows «بذلك»; what «نفى / أكد» governs is not the name
    ("وصرح بذلك الناطق الإعلامي بقيادة حرس الحدود بأن ذلك تم", "الناطق الإعلامي بقيادة حرس الحدود"),
    ("ونفت وزارة الإعلام الكويتية صحة ما تداولته وسائل", "وزارة الإعلام الكويتية"),
    ("أعلنت دار النشر البريطانية «بيرسون»، أمس، بيع مجموعة", "دار النشر البريطانية بيرسون"),
    # a comma after a name ends it, also after «بن …» (seen among the widest claims of SaudiNewsNet)
    ("أكد خادم الحرمين الشريفين الملك سلمان بن عبدالعزيز، عمق العلاقات الأخوية بين المملكة",
     "خادم الحرمين الشريفين الملك سلمان بن عبدالعزيز"),
    ("أعلنت انقرة أنها سمحت للطائرات", "انقرة"),
    # a title that ends with its sentence is whole
    ("وأوضح أمين منطقة تبوك رئيس اللجنة المحلية لانتخابات المجالس البلدية.",
     "أمين منطقة تبوك رئيس اللجنة المحلية لانتخابات المجالس البلدية"),
])
def test_name_boundaries(text, name):
    assert find_attribution([text]) == name


def test_a_passage_cut_inside_the_name_names_no_one_but_another_member_can():
    cut = "العمل يسير وفق الخطة. وأوضح مدير المستشفى ضيف"  # the member's passage ends inside the name
    assert find_attribution([cut]) is None
    assert find_attribution([cut, "وأوضح مدير المستشفى ضيف الله العتيبي أن العمل يسير وفق الخطة"]) == \
        "مدير المستشفى ضيف الله العتيبي"
    assert find_attribution(["وقال الوزير علي هامش المؤتمر إن الاتفاق قريب."]) is None  # «على» written «علي»


@pytest.mark.parametrize("text", [
    "فندق الهيلتون دبل تري ويمتاز الفندق بقربه من ملعب المباراة",  # «تري» of DoubleTree is no «ترى»
    "العرض المسرحي الثاني «قال الراوي» من تأليف حامد الصيادي",  # a cue inside a quoted title
    "فيما يلي نصه: قال الله تعالى: (( يا أيها الذين آمنوا كتب عليكم القصاص ))",  # scripture quoted
    "قال صلى الله عليه وسلم (( ألا وإن من كان قبلكم ))",  # the Prophet's blessing formula
    "وأعلن اكتمال مجمل الاستعدادات لانطلاق المرحلة الأولى من الانتخابات",  # a verbal noun: the verb's object
    "وأشارت الورقة إلى أنه بالرغم من أهمية جمع البيانات",  # a paper is a document
    "وأكدت أهمية تنظيف الفواكه والخضروات الجاهزة للأكل، وتجنب",  # a pronoun subject: «أهمية» is the object
    "ونقل التعازي نيابة عن خادم الحرمين الشريفين لذوي أسر الشهداء",  # «نقل … نيابة عن» conveys
    "كما أشار عدد من التقارير إلى توقعات بارتفاع عوائد القناة",  # a count is no source
])
def test_cues_that_cite_no_source(text):
    assert find_attribution([text]) is None


@pytest.mark.parametrize("text,name", [
    # verb–subject–object: with no «أن» after it, the verb's object runs on after its subject
    ("أعلنت وزارة الخدمة المدنية أسماء (4878) متقدمة على الوظائف", "وزارة الخدمة المدنية"),
    ("وأعلن الجيش عزل مرسي بعد احتجاجات حاشدة", "الجيش"),
    ("أكد المالكي دعمه للإصلاحات، في إشارة", "المالكي"),
    # ... but names after titles, attached words and whatever precedes «أن» stay
    ("وأشار المهندس مدني إلى أن مشروع طريق مكة", "المهندس مدني"),
    ("وقال وزير النفط الإيراني بيجن زنغنه في تصريحات أذيعت اليوم الأحد إن بلاده", "وزير النفط الإيراني بيجن زنغنه"),
    ("أعلنت عمادة القبول والتسجيل بجامعة الملك خالد، عن فتح باب التحويل", "عمادة القبول والتسجيل بجامعة الملك خالد"),
    ("أفاد مصدر في وزارة الخارجية الروسية بأن وزير الخارجية سيزور موسكو", "مصدر في وزارة الخارجية الروسية"),
    ("وأكد المهندس عبداللطيف آل الشيخ في تصريح عقب جولته على وجود", "المهندس عبداللطيف آل الشيخ"),
    ("كما أعلنت الاستخبارات الأفغانية الأسبوع الماضي. وبرعاية", "الاستخبارات الأفغانية"),
    ("حسبما أوردته صحيفة الديلي ميل البريطانية في عددها الصادر صباح اليوم", "الديلي ميل"),  # a medium's foreign name
    ("وقال قائمون على البنوك: إنه قد يكون هناك قدر قليل", "قائمون على البنوك"),
])
def test_subjects_objects_and_time_phrases(text, name):
    """Verb–subject–object order, time phrases and name links: where the subject of a cue ends."""
    assert find_attribution([text]) == name


def test_whom_a_one_word_speaker_told_is_not_part_of_the_name():
    assert find_attribution(["وقال كيري لمجلس العلاقات الخارجية وهو مؤسسة بحثية في نيويورك: «يجب"]) == "كيري"
    assert find_attribution(["وقال المتحدث الرسمي لأمانة الطائف إسماعيل إبراهيم أن"]) == \
        "المتحدث الرسمي لأمانة الطائف إسماعيل إبراهيم"


def test_a_colon_after_the_cue_starts_what_was_said():
    assert find_attribution(["وقال : إنني دائما اتردد على هذه العين في كل الأوقات"]) is None


def test_a_quotation_after_a_body_is_what_it_says_not_its_name():
    assert find_attribution(['وقالت الادارة "بناء على الصور الفوتوغرافية وآثار الأقدام يرى خبراء']) is None


@pytest.mark.parametrize("texts,name", [
    # a verse quoted in Quranic brackets cites no one: its verbs are no cues, its words no name
    (["وشدد الخطيب على حرمة المساجد، ((ومن أظلم ممن منع مساجد الله أن يذكر فيها اسمه وسعى في خرابها)). "
      "وأفاد أن هذه الأعمال لن تنال من وحدة الوطن"], None),
    (["واستشهد بقوله تعالى ﴿وقالت اليهود يد الله مغلولة﴾ في خطبته"], None),
    # ... but a cue outside the brackets still cites, before and after a verse
    (["وأكد وزير الشؤون الإسلامية أن الحملة مستمرة ((ولا تزر وازرة وزر أخرى)) في كل المناطق"], "وزير الشؤون الإسلامية"),
    (["واستشهد الخطيب بالحديث ((من جهز غازيا فقد غزا)) وقالت الجمعية الخيرية إن التبرعات تضاعفت"], "الجمعية الخيرية"),
    # the Prophet quoted in a hadith is scripture's speaker, not a cited source (also outside brackets)
    (['وقال رسول الله صلى الله عليه وسلم: "المسلم أخو المسلم"'], None),
    (["قال النبي صلى الله عليه وسلم «من غشنا فليس منا»، وأكد الداعية أن الغش محرم"], "الداعية"),
])
def test_scripture_in_quranic_brackets_cites_no_one(texts, name):
    assert find_attribution(texts) == name


@pytest.mark.parametrize("text,name", [
    # a subject before its verb is one noun phrase: a clause with a verb of its own before the cue is none
    # («يمثل» is no reporting verb; «تؤكد» describes the indefinite noun before it)
    ("تمثل الحديقة الجديدة متنفسا جميلا يؤكد اهتمام الأمانة بالأحياء السكنية", None),
    ("يعد المهرجان الصيفي مناسبة سنوية تؤكد قدرة المنطقة على جذب الزوار", None),
    # ... but a person's name after a title or a descriptive adjective stays in the subject
    ("الرئيس الأمريكي باراك أوباما يرى أن الاتفاق النووي جيد", "الرئيس الأمريكي باراك أوباما"),
    ("وكان الحارس الدولي محمد العويس قد أكد أن الفريق جاهز", "الحارس الدولي محمد العويس"),
    ("وكانت إدارة نادي الاتحاد قد أعلنت قبل أيام عن عزمها", "إدارة نادي الاتحاد"),
])
def test_a_subject_before_its_verb_is_a_noun_phrase(text, name):
    assert find_attribution([text]) == name


@pytest.mark.parametrize("text,name", [
    # «لا…» with a bare alif begins the word itself (ل before a hamza is written «لأ / لإ»): a name, not «ل» + whom
    # it was told («لافروف» was read as «ل» + «افروف» and the name cut after «سيرجي»)
    ("وفي ختام القمة، قال سيرجي لافروف وزير الخارجية الروسي إن المجموعة تعكس نظاما جديدا",
     "سيرجي لافروف وزير الخارجية الروسي"),
    ("وقال لاريجاني إن التصويت سيجري الأسبوع المقبل", "لاريجاني"),
    # ... while «ل» + a name or a medium stays whom it was told
    ("وقال مصدر دبلوماسي لرويترز إن المحادثات توقفت", "رويترز"),
    ("وقال متحدث باسم الشرطة لأسوشيتدبرس إن الهجوم وقع صباحا", "أسوشيتدبرس"),
    # a quoted outlet of several words is whole, up to its closing quote
    ("وقال مصدر أمني لـ«الشرق الأوسط» إن الحادث قيد التحقيق", "الشرق الأوسط"),
    ('وأكد مصدر في النادي ل"دنيا الرياضة" أن الإدارة لم تتلق أي عرض', "دنيا الرياضة"),
    # a short quoted description inside the speaker's phrase is no one told
    ("وأوضحت أم خالد «موظفة وأم لثلاثة أطفال» أنها حضرت للاستفسار عن المعونة", "أم خالد"),
    # a quotation right after the verb is what is said, its «ل» words too
    ('وأوضحت "إنني سعيدة لأني سوف أكون في الأربعينيات"', None),
])
def test_lam_words_and_quotes_in_the_speakers_phrase(text, name):
    assert find_attribution([text]) == name


def test_a_quoted_outlet_of_several_words_is_the_documents_own_by_one_of_its_words():
    # the outlet's slug names one word of its Arabic name (aawsat = «الأوسط»); Arabizi digits in a slug (3alyoum)
    assert find_attribution(["وقال مصدر أمني لـ«الشرق الأوسط» إن الحادث قيد التحقيق"], ["aawsat"]) == "مصدر أمني"
    assert find_attribution(["وقال مصدر أمني لـ«الشرق الأوسط» إن الحادث قيد التحقيق"], ["sabq"]) == "الشرق الأوسط"
    assert find_attribution(["وأوضح الشبكشي لـ”عين اليوم” أن التصريحات لن تؤثر"], ["3alyoum"]) == "الشبكشي"
    assert find_attribution(["وأوضح الشبكشي لـ”عين اليوم” أن التصريحات لن تؤثر"], ["okaz"]) == "عين اليوم"


@pytest.mark.parametrize("text,name", [
    # a personal name after a title is the speaker's up to the clause boundary: an adverbial set off by commas
    # before «أن» («، في مقابلة …،») does not make the name an object
    ("صرح وزير الخارجية الفرنسي لوران فابيوس، في حديث لإذاعة محلية، أنه سيزور طهران قريبا",
     "وزير الخارجية الفرنسي لوران فابيوس"),
    ("وأكد رئيس الوزراء العراقي حيدر العبادي، أمس، أن القوات تتقدم نحو الرمادي", "رئيس الوزراء العراقي حيدر العبادي"),
    # ... nor does whom it was told, set off by commas («، للصحافيين أمس، إن»), unless the «ل» word opens a clause
    ("وقال قائد الشرطة غسان العيثاوي، للصحافيين أمس، إن العشرات قتلوا", "قائد الشرطة غسان العيثاوي"),
    ("وقال المتحدث باسم الجيش العقيد أحمد المسماري، لوسائل الإعلام المحلية، إن القوات تقدمت",
     "المتحدث باسم الجيش العقيد أحمد المسماري"),
    ("وأكد الوزير خالد العبيد أهمية المشروع، لكنه قال إن التمويل ناقص", "الوزير خالد العبيد"),
    # ... nor whom it was told before what the verb governs («للاعبين ثقته», «للجهاز الفني عدم …»)
    ("وأكد المدرب البرتغالي جوزيه مورينيو للاعبين ثقته الكاملة بهم قبل المباراة", "المدرب البرتغالي جوزيه مورينيو"),
    ("بعد أن أكد المدرب الهولندي مارتن يول للجهاز الفني عدم رغبته في بقاء اللاعب", "المدرب الهولندي مارتن يول"),
    ("قال النائب الجمهوري جون بينر رئيس مجلس النواب للصحافيين «لن نقبل هذا الاتفاق»",
     "النائب الجمهوري جون بينر رئيس مجلس النواب"),
    # and it does not swallow what follows the speaker
    ("قال وزير الخارجية جون كيري في مؤتمر صحفي إن المحادثات مستمرة", "وزير الخارجية جون كيري"),
    ("أكد العبادي للصحفيين أن القوات تتقدم", "العبادي"),
    ("وأعلن الجيش عزل الرئيس، في بيان تلاه قائده، وأكد أن الدستور معطل", "الجيش"),
    ("أعلن وزير الصحة تسجيل حالات جديدة للمرض في المنطقة الشرقية", "وزير الصحة"),
    ("وأكد مركز الملك عبدالعزيز للحوار الوطني أن اللقاء ناجح", "مركز الملك عبدالعزيز للحوار الوطني"),
])
def test_a_name_after_a_title_runs_to_the_clause_boundary(text, name):
    assert find_attribution([text]) == name


def test_a_generic_speaker_who_told_someone_names_no_one():
    assert find_attribution(["أكد الوزير للصحفيين أن الاتفاق قريب"]) is None  # «الوزير» alone names no one


def test_an_an_inside_an_adverbial_is_not_the_verbs():
    # «، في إشارة إلى أنه …»: the «أن» belongs to «إلى» inside the adverbial, so the verb governs «دعمه»
    assert find_attribution(["وقال اللواء المتقاعد ناصر العولقي، في اتصال هاتفي مع \"الوطن\" إن الضربات اشتدت"]) == \
        "اللواء المتقاعد ناصر العولقي"  # (no comma closes the adverbial)
    assert find_attribution(["وأكد المالكي دعمه للإصلاحات، في إشارة إلى أنه قد يكون جزءا من الاتفاق"]) == "المالكي"


@pytest.mark.parametrize("text,name", [
    # a medium's quoted name is the source, whole (its words may be stop words: «ان», «في») and only it
    ('وذكرت محطة "سي ان ان" أن المفاوضات ستستأنف غدا', "سي ان ان"),
    ("ونقلت قناة «العربية» عن مصادر ميدانية أن القوات تقدمت", "العربية"),  # a common word, quoted: a name
    ("بحسب ما أوردته قناة “إن تي في” الإخبارية التركية، قتل جندي", "إن تي في"),
    ("وأعلن موقع «الدرر الشامية» الإخباري المعارض أن الطيران شن غارات", "الدرر الشامية"),
    ("ونقلت وكالة «رويترز» قول وزير الدفاع إن القدرات محدودة", "رويترز"),
    ('وذكرت شركة الأدوية الأمريكية "إيلي ليلي" أمس إن المرضى تحسنوا', "شركة الأدوية الأمريكية إيلي ليلي"),
    # a station with no quoted name is not stripped to its complement
    ("وأفادت محطة الأرصاد الجوية بأن الحرارة سترتفع", "محطة الأرصاد الجوية"),
])
def test_a_quoted_name_after_a_medium_word(text, name):
    assert find_attribution([text]) == name


@pytest.mark.parametrize("text,name", [
    # a document names whose it is: «ل» + its author after the document and its adjectives, or its genitive
    ("وكما أوضح بحث جديد لمعهد بروكينغز فإن الاقتصاد سيتباطأ", "معهد بروكينغز"),
    ("وكشفت دراسة حديثة لجامعة أكسفورد أن النوم المبكر مفيد", "جامعة أكسفورد"),
    ("وذكر تقرير للأمم المتحدة أن المجاعة تتفاقم في الإقليم", "الأمم المتحدة"),
    ("وقال بيان للجيش التركي اليوم إن جنديين قتلا", "الجيش التركي"),
    ("وأوضح التقرير السنوي الـ 51 لمؤسسة النقد العربي السعودي الصادر مؤخرا أن التضخم تراجع",
     "مؤسسة النقد العربي السعودي"),
    ("وكشف تقرير اللجنة الإعلامية لمهرجان الجنادرية عن خطط جديدة", "اللجنة الإعلامية لمهرجان الجنادرية"),
    ("كشفت إحصائية للأمم المتحدة مقتل مئات الأطفال منذ بدء الحرب", "الأمم المتحدة"),  # the object after it
    # ... and nobody when whose it is names no source
    ("وأظهرت دراسة لباحثين أمريكيين أن القهوة مفيدة للقلب", None),
    ("وأظهر تقرير الربع الأول أن الأرباح ارتفعت", None),
    ("وقال تقرير المؤسسة إن المؤشر تباطأ", None),
])
def test_a_document_names_its_author(text, name):
    assert find_attribution([text]) == name


@pytest.mark.parametrize("text,name", [
    # «في» + a body or an administrative place after a person's title (before any name) says where the office is
    ("وقال مدير التسويق في شركة الاتصالات سالم العتيبي إن الطلب ارتفع", "مدير التسويق في شركة الاتصالات سالم العتيبي"),
    ("وأوضح رئيس مجلس إدارة الغرفة التجارية في منطقة الباحة أن الاستثمارات تضاعفت",
     "رئيس مجلس إدارة الغرفة التجارية في منطقة الباحة"),
    ("وقال قائد شرطة السكك الحديدية في ولاية بافاريا إن القطار توقف", "قائد شرطة السكك الحديدية في ولاية بافاريا"),
    # ... not after a name, not what is said or where it was said
    ("قال وزير الخارجية جون كيري في مؤتمر صحفي إن المحادثات مستمرة", "وزير الخارجية جون كيري"),
    ("وقال المتحدث الرسمي لشرطة منطقة الرياض في بيان إن الحادث قيد التحقيق", "المتحدث الرسمي لشرطة منطقة الرياض"),
    ('وقال الخبير النفطي مدير المجموعة الاستشارية "في منطقة الخليج انه البلد الوحيد"', "الخبير النفطي مدير المجموعة الاستشارية"),
])
def test_where_an_office_is(text, name):
    assert find_attribution([text]) == name


@pytest.mark.parametrize("text,name", [
    # a one-word title and the body it serves after «في» (seed-127 sample); a chain of titles up to «أن»
    ("ويقول المحلل في مركز بروكينغز إن الحزب ما زال القضية الأساسية", "المحلل في مركز بروكينغز"),
    ("ويقول المحلل في مركز«بروكينغز»، للأبحاث في الدوحة إن الحزب", "المحلل في مركز بروكينغز"),
    ("وقال الباحث في مجلس العلاقات الخارجية ستيفن كوك إن الاتفاق هش", "الباحث في مجلس العلاقات الخارجية ستيفن كوك"),
    ("من جانبه أكد المشرف على كرسي المهندس عبدالله بقشان لأبحاث النحل بجامعة الملك سعود رئيس اللجنة المنظمة "
     "لمهرجان العسل الدولي الثامن بالباحة رئيس جمعية النحالين التعاونية الدكتور أحمد بن عبدالله الخازم أن اللقاء "
     "سيستمر", "المشرف على كرسي المهندس عبدالله بقشان لأبحاث النحل بجامعة الملك سعود رئيس اللجنة المنظمة لمهرجان "
     "العسل الدولي الثامن بالباحة رئيس جمعية النحالين التعاونية الدكتور أحمد بن عبدالله الخازم"),
    ("من جانبه أكد المشرف على البرنامج أهمية التدريب الميداني", "المشرف على البرنامج"),  # no «أن»: the object
    ("وأكد المشرف العام على \"اصنع مهارة\" أن البرنامج سيوفر 70 وظيفة", "المشرف العام على اصنع مهارة"),
    # ... not a place or a generic body after a one-word title (where it was said), nor a long run-on object
    ("وقال الوزير في المجلس إن المشروع سيكتمل", None),
    ("قال الرئيس في مدينة جدة إن الزيارة ناجحة", None),
    ("أعلنت جامعة أم القرى بدء التقديم على برامج الدراسات العليا للعام الجامعي المقبل عبر البوابة الإلكترونية "
     "للجامعة اعتبارا من يوم غد الأحد وقالت إن", "جامعة أم القرى بدء التقديم"),
])
def test_one_word_titles_and_title_chains(text, name):
    assert find_attribution([text]) == name


@pytest.mark.parametrize("text,name", [
    # a genitive behind «لل» is definite: a bare word after it starts the verb's object (seed-127 sample)
    ("أعلنت شركة هوندا موتور اليابانية للسيارات ارتفاع صافي أرباحها خلال الربع", "شركة هوندا موتور اليابانية للسيارات"),
    # «ب» + a verbal noun and its own complement after the subject is what was reported
    ("وأفاد مصدر أمني عراقي بمقتل شخص، وإصابة ثمانية آخرين بجروح", "مصدر أمني عراقي"),
    ("وأفاد المرصد السوري لحقوق الإنسان بمقتل 51 عنصرا من التنظيم", "المرصد السوري لحقوق الإنسان"),
    ("وأفاد مصدر عسكري بانفجار عبوة ناسفة قرب الحاجز.", "مصدر عسكري"),
    # ... but after a person's title the bare word is the name, and a «ب» word that says where the office is stays
    ("وأعلن المدير العام للمنظمة روبرتو أزيفيدو في مؤتمر صحفي انطلاق المفاوضات.", "المدير العام للمنظمة روبرتو أزيفيدو"),
    ("وأعلن وكيل الأمين المساعد للخدمات منسق الانتخابات البلدية بالمنطقة المهندس يحيى صالح، بدء التسجيل.",
     "وكيل الأمين المساعد للخدمات منسق الانتخابات البلدية بالمنطقة المهندس يحيى صالح"),
    ("وأفاد مدير عام الزراعة بعنيزة المهندس يوسف القرزعي بأن التمور تشترى", "مدير عام الزراعة بعنيزة المهندس يوسف القرزعي"),
    ("وأفاد المتحدث الرسمي بوزارة الصحة بتسجيل حالتين.", "المتحدث الرسمي بوزارة الصحة"),
    ('أعلنت شركة صناعات الخير للكيماويات غير العضوية "إنوكيم" مؤخرا عن تعيين شركة', "شركة صناعات الخير للكيماويات غير العضوية إنوكيم"),
])
def test_objects_after_the_subject(text, name):
    assert find_attribution([text]) == name


@pytest.mark.parametrize("text,name", [
    # an elative before the document: the document still names its author (seed-127 sample)
    ("أفاد أحدث تقرير عقاري لمصرف أبوظبي الإسلامي بأن أسعار الإيجارات انخفضت", "مصرف أبوظبي الإسلامي"),
    ("وكشفت أبرز دراسة لجامعة هارفارد أن النوم المبكر مفيد", "جامعة هارفارد"),
    ("وقال آخر تقرير إن الأسعار سترتفع", None),  # a document names no one of itself
    ("وقال أكبر مسؤول في الوزارة إن الخطة جاهزة", "أكبر مسؤول في الوزارة"),  # an elative before no document
])
def test_an_elative_before_a_document(text, name):
    assert find_attribution([text]) == name


@pytest.mark.parametrize("text,name", [
    # the cap on the words after a medium does not cut inside a name of bare words (seed-127 sample)
    ("اعلنت وكالة التصنيف الائتماني ستاندارد اند بورز الاثنين انها خفضت الآفاق", "التصنيف الائتماني ستاندارد اند بورز"),
    ("وذكرت شبكة هيئة الإذاعة البريطانية بي بي سي أن", "هيئة الإذاعة البريطانية بي بي سي"),
    # ... nor runs on into what the verb governs after the medium's name
    ("ونشرت صحيفة الإنديبندنت البريطانية مقالا للكاتب ويل تيرنر يقول فيه", "الإنديبندنت البريطانية مقالا للكاتب"),
    ("وقالت وكالة الطاقة الدولية في تقريرها إن الطلب سيرتفع", "الطاقة"),
])
def test_the_words_kept_after_a_medium(text, name):
    assert find_attribution([text]) == name


@pytest.mark.parametrize("text,name", [
    # where a body or an appositive title sits: «في» + its region or its office (seed-127 sample)
    ("قالت المقاومة الشعبية في إقليم تهامة ، غرب اليمن ، إنها قتلت عشرات المسلحين", "المقاومة الشعبية في إقليم تهامة"),
    ("وأوضحت الشؤون الصحية في منطقة مكة المكرمة أنه من المتوقع", "الشؤون الصحية في منطقة مكة المكرمة"),
    ("وقال محمد حسن زاده المسؤول في هيئة الضمان الاجتماعي الإيرانية: «حتى الآن لم يتم",
     "محمد حسن زاده المسؤول في هيئة الضمان الاجتماعي الإيرانية"),
    ("وقال جينز نارفيغ المحلل في بنك دانسكي إن الأسعار ستتراجع", "جينز نارفيغ المحلل في بنك دانسكي"),
    # ... not an analyst's name run on into where he said it, nor a person placed in a city
    ("وقال بن لوبرون محلل الأسواق في أوبشنز إكسبريس في سيدني إن السوق تستوعب الأنباء", "بن لوبرون محلل الأسواق"),
    ("وقال المسؤول في مدينة سبها إن الطريق مغلق", None),
])
def test_where_a_body_or_an_appositive_title_sits(text, name):
    assert find_attribution([text]) == name


@pytest.mark.parametrize("text,name", [
    # «إمام» (with its hamza under the alif) is the noun, not the preposition «أمام» it normalizes to
    ("وأوضح إمام وخطيب المسجد الحرام الشيخ سعود الشريم أن الأمن نعمة", "إمام وخطيب المسجد الحرام الشيخ سعود الشريم"),
    ("وقال فضيلة إمام وخطيب المسجد النبوي الشيخ علي الحذيفي إن", "فضيلة إمام وخطيب المسجد النبوي الشيخ علي الحذيفي"),
    ("وقف الرجل امام المحكمة وقال إن التهمة باطلة", None),  # «أمام» written without a hamza stays the preposition
    # the first name «علي» after a definite word of a title, not «على»
    ("وأوضح مدير الفرع علي الحربي بأن العمل اتخذ الإجراء", "مدير الفرع علي الحربي"),
    ("أكد البائع علي العامري أن الأسعار مستقرة", "البائع علي العامري"),
    ("وأوضح المتحدث الرسمي للإمارة علي بن موسى أن الطريق مغلق", "المتحدث الرسمي للإمارة علي بن موسى"),
    ("وقال الأمير علي في بيان رسمي: «بلاتيني لا يصلح للفيفا»", "الأمير علي"),
    # ... but «على» spelled «علي» before its usual complements, or what the verb governs, stays the preposition
    ("وأكد الوزير علي أهمية المشروع للمنطقة", None),
    ("وقال المدير علي الرغم من الظروف إن العمل مستمر", None),
])
def test_imam_and_ali_are_names(text, name):
    assert find_attribution([text]) == name


@pytest.mark.parametrize("text,outlet,name", [
    # a quoted body after a spokesman's title is whose spokesman, not whom it was told
    ('وقال عارف الغازي المتحدث الرسمي ل"صحة حائل" في بيان إن الطبيب تعرض لضربة', None,
     "عارف الغازي المتحدث الرسمي لصحة حائل"),
    ('وأكد الناطق الإعلامي لـ"شرطة عسير" الرائد زيد القحطاني أنه تم القبض', None,
     "الناطق الإعلامي لشرطة عسير الرائد زيد القحطاني"),
    ("وقال المتحدث الرسمي لـ«الهيئة» محمد العتيبي إن الحملة مستمرة", None, "المتحدث الرسمي للهيئة محمد العتيبي"),
    # ... whom it was told still follows the whole title; a one-word outlet after the title stays whom it was told
    ('وقال أسعد سعود الناطق الإعلامي ل"صحة الشرقية" ل"الرياض" إن التحقيق مستمر', None, "الرياض"),
    ('وقال أسعد سعود الناطق الإعلامي ل"صحة الشرقية" ل"الرياض" إن التحقيق مستمر', "alriyadh",
     "أسعد سعود الناطق الإعلامي لصحة الشرقية"),
    ("وقال المتحدث الرسمي لـ«الحياة» إن الوزارة ستعلن النتائج", None, "الحياة"),
])
def test_a_quoted_body_after_a_spokesmans_title(text, outlet, name):
    assert find_attribution([text], [outlet]) == name


# ---- seed-127 leftover and seed-131 misses (branch attr4), each with what the rule must leave alone
@pytest.mark.parametrize("text,name", [
    # a person's title and body, the rest of the body's description set off by a comma or by the body's quoted
    # name, then the person's name: the name is reached (a second «في» is where the body is)
    ("ويقول المحلل في مركز«بروكينغز»، للابحاث في الدوحة تشارلز ليستر لوكالة الصحافة الفرنسية «لا يزال الحزب",
     "المحلل في مركز بروكينغز للابحاث في الدوحة تشارلز ليستر"),
    ("ويقول المحلل في مركز «بروكينغز» للأبحاث في الدوحة تشارلز ليستر: «لا يزال الحزب",
     "المحلل في مركز بروكينغز للأبحاث في الدوحة تشارلز ليستر"),
    # the body's «ل» genitive before a comma is no one told when a name and a colon follow
    ("قال مدير العمليات في شركة الشايع للتجارة، هنريك كريستيانسن: «يعد خبراء العلامة",
     "مدير العمليات في شركة الشايع للتجارة هنريك كريستيانسن"),
    ("وقال مدير التسويق في شركة الأفق، محمد العلي: إن المبيعات ارتفعت", "مدير التسويق في شركة الأفق محمد العلي"),
    # ... but what follows a comma is no name when it is an adverbial, a circumstantial or a title
    ("وقال المتحدث باسم وزارة الخارجية، أمس، إن المحادثات ستستأنف", "المتحدث باسم وزارة الخارجية"),
    ("وقال مدير المبيعات في شركة الأفق، مشيرا إلى أن الأسعار ارتفعت", "مدير المبيعات في شركة الأفق"),
    ("وقال المحلل في مركز الدراسات للصحافيين، إن الوضع خطير", "المحلل في مركز الدراسات"),
])
def test_a_title_set_off_from_its_name_reaches_the_name(text, name):
    assert find_attribution([text]) == name


@pytest.mark.parametrize("text,name", [
    # an appositive that describes a name (one of …, champion, holder, runner-up) is cut
    ("وأعلن آرسنال بطل الكأس عن نفسه كمرشح للمنافسة على لقب الدوري", "آرسنال"),
    ("في حين أكدت عائلة أنييلي أحد المساهمين أنها تريد زيادة حصتها", "عائلة أنييلي"),
    ("وقال جيف ديفيس أحد المتحدثين باسم البنتاغون إن الضربة نجحت", "جيف ديفيس"),
    ("وقال نادي تشيلسي حامل لقب الدوري الإنجليزي إن اللاعب سيغيب", "نادي تشيلسي"),
    # ... an office after a name stays (as read on seed 131), and so does a title's own complement
    ("وأوضح اللواء عبدالعزيز الصولي مدير شرطة منطقة مكة المكرمة أن أربعة أشخاص", "اللواء عبدالعزيز الصولي مدير شرطة منطقة مكة المكرمة"),
    ("وأوضح صاحب إحدى الشركات الوطنية غالب بن أحمد الهبوب، أن العسل", "صاحب إحدى الشركات الوطنية غالب بن أحمد الهبوب"),
    ("وقالت مونيكا مالك كبيرة الاقتصاديين إن النمو سيتباطأ", "مونيكا مالك كبيرة الاقتصاديين"),  # «مالك», a surname
    # an age in brackets is no part of the name
    ("وقالت بريتاني تومز (21 سنة) إنها لم تتوقع الفوز", "بريتاني تومز"),
])
def test_an_appositive_describing_a_name_is_cut(text, name):
    assert find_attribution([text]) == name


def test_a_partitive_after_a_common_noun_is_no_name():
    # «حسب رواية أحد المصابين»: the account of one of the injured, named by no one
    assert find_attribution(["ثم انتقل إلى الجهة اليمنى، حسب رواية أحد المصابين، التي تم نشرها"]) is None


@pytest.mark.parametrize("text,name", [
    # whose the anonymous sources are, after «من»
    ("في غضون ذلك، قالت مصادر من المقاومة إن تحالفا من الجماعات الجنوبية", "مصادر من المقاومة"),
    ("وقالت مصادر قريبة من الاتحاد الأوروبي لكرة القدم إن القرار", "مصادر قريبة من الاتحاد الأوروبي لكرة القدم"),
    # ... not a time phrase, and not on into a person and a title (the kind alone is kept)
    ("وقال مصدر من جهته إن الاجتماع تأجل", "مصدر"),
    ("وقال مصدر مقرب من الدولي ميشال بلاتيني رئيس الاتحاد إنه سيترشح", "مصدر مقرب"),
    # whom the sources told is still found past the «من»
    ("وقالت مصادر صحافية من لحج لوكالة الأنباء الألمانية، إن طائرات التحالف كثفت غاراتها", "وكالة الأنباء الألمانية"),
])
def test_anonymous_sources_and_whose_they_are(text, name):
    assert find_attribution([text]) == name


@pytest.mark.parametrize("text,name", [
    # a nisba adjective used as a noun before a personal name stands where a title would
    ("أعلنت الأميركية سيرينا وليامس المصنفة أولى عالميا انسحابها من دورة ستانفورد", "الأميركية سيرينا وليامس"),
    ("وأكد السويسري جوزيف بلاتر أنه لن يترشح", "السويسري جوزيف بلاتر"),
    # ... a country, a body or a surname so spelled before the verb's object takes no words of it
    ("وأكدت السعودية تخصيص مبلغ 5 ملايين دولار", None),
    ("أعلنت السعودية وقف العمليات العسكرية", None),
    ("وأصدرت الملحقية إصدارًا بعنوان مبدعون", None),
    ("وقال اليكسي سوروكين لهيئة الإذاعة البريطانية “كان صديقا لبلادنا”", "اليكسي"),
])
def test_a_nisba_before_a_name(text, name):
    assert find_attribution([text]) == name


@pytest.mark.parametrize("text", [
    # an unnamed event is no source
    "كشفت دورة تدريبية بملتقى المدينة الشبابية الذي ينظمه المكتب التعاوني أن 4% من مهارات",
    "وحذرت ندوة طبية من وصفات وخلطات واتساب الطبية",
    # «بثّ» that airs a programme, a video, reports, cites no one
    "وبثت محطات الإذاعة والتلفزة في القطاعين العام والخاص ضمن نشراتها الإخبارية أمس تقارير مصورة",
    "وبثت القناة الثانية الإسرائيلية تقريرا حول خلية إرهابية",
    "ولكن قنوات التلفزيون بثت مشاهد اظهرت اعدادا كبيرة من سيارات الشرطة",
])
def test_events_and_broadcasts_are_no_sources(text):
    assert find_attribution([text]) is None


@pytest.mark.parametrize("text,name", [
    # a named festival, a broadcast that reports what was said, and a report a channel aired stay sources
    ("أعلن مهرجان دبي السينمائي الدولي امس الإثنين تحديد يوم تسعة", "مهرجان دبي السينمائي الدولي"),
    ("وبثت قناة «العربية» أن القوات دخلت المدينة", "العربية"),
    ("وفي تقرير بثته قناة الجزيرة، قال شهود إن", "الجزيرة"),
])
def test_named_events_and_reporting_broadcasts_stay(text, name):
    assert find_attribution([text]) == name


@pytest.mark.parametrize("text,name", [
    # «ب» + a verbal noun of the form فعول is what was reported
    ("وأفاد مصدر أمني بوقوع انفجار قرب السفارة في العاصمة.", "مصدر أمني"),
    ("وأفاد الدفاع المدني بوجود حادث سير على الطريق.", "الدفاع المدني"),
    # ... not a place or a name of that shape
    ("وقال مدير التعليم بتبوك محمد اللقماني إن الدراسة", "مدير التعليم بتبوك محمد اللقماني"),
    ("وقالت بيتاني بارون جيبس إن المشروع", "بيتاني بارون جيبس"),
    ("وقال حاكم كاليفورنيا أدموند براون إن الجفاف", "حاكم كاليفورنيا أدموند براون"),
])
def test_ba_and_a_verbal_noun_of_the_form_fuul(text, name):
    assert find_attribution([text]) == name


def test_a_statement_given_to_an_outlet_before_the_verb_names_the_outlet():
    # «وفي تصريح لوكالة فرانس برس، قالت X»: the outlet, as «قالت X لوكالة فرانس برس» would
    text = "وفي تصريح لوكالة فرانس برس، قالت بارول خاتون (35 عاما) احدى ساكني جيب كوت بنجي الهندي \"هذه اهم لحظة"
    assert find_attribution([text]) == "فرانس برس"
