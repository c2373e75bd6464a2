"""Who a reused claim is attributed to: «قال موقع ديبكا الإسرائيلي إن …» -> «ديبكا».

A cluster's ``attribution`` is the source the claim is *cited from*, so a name counts only
when a **reporting cue** cites it, in the grammar of its language:

- a cue followed by its source: «قال / ذكرت / أفادت / نقلت / أكد / أعلنت / صرح / كشف … X»
  (Arabic verb–subject order), «بحسب / حسب / وفقا لـ / نقلا عن / طبقا لـ / على لسان X»,
  "according to X", "…," said X", «selon / d'après X», «…, a déclaré X»;
- a source followed by its cue: «X يرى / قد كشف …» (subject–verb order), "X said / told /
  reported / announced", «X a déclaré / affirme / annonce», Urdu «X کے مطابق», «X نے کہا»,
  «X نے بتایا», «X کا کہنا ہے»;
- the outlet a statement was given to, which is named in preference to the speaker:
  «… في تصريح لـCNN بالعربية», «… لوكالة الصحافة الفرنسية», "told Reuters".

The name is the noun phrase next to the cue, cut at the first clause boundary (a
conjunction such as «أن / إن», a preposition, punctuation; at most ``MAX_WORDS`` words),
with the medium stripped where it is only a medium («موقع ديبكا الإسرائيلي» -> «ديبكا»,
«صحيفة «الغارديان» البريطانية» -> «الغارديان») and kept where it is the name («وكالة
الأنباء السعودية (واس)», «وكالة الصحافة الفرنسية»). A phrase of generic words only
(«الموقع المتخصص», «الوزارة», "he", «تفصیلات», «انہوں») names no one. Anonymous kinds
(«مصادر مطلعة», «مصدر عسكري», "a source", «ذرائع») are kept only when the text names
nobody else. A personal name after a title is the speaker's up to the clause boundary («قال وزير
الخارجية الروسي سيرجي لافروف، في …، إن»), with where the office is («مدير المبيعات في شركة …»); a medium's
quoted name is the source whole («محطة "ان تي في"» -> «ان تي في»); a document names its author («بحث جديد
لتشاتام هاوس» -> «تشاتام هاوس», «أحدث تقرير عقاري لمصرف …» -> the bank, «بيان صادر عن X» -> X); a title keeps the
body it serves and its region («المحلل في مركز بروكينغز», «المقاومة الشعبية في إقليم تهامة», «المسؤول في هيئة …»)
and a quoted body after a spokesman's title («المتحدث الرسمي لـ"صحة حائل"»); a chain of titles runs to «أن»;
what the verb governs after its subject is cut off («… للسيارات ارتفاع صافي …», «مصدر أمني بمقتل شخص»). A title set
off from its name by a comma or by its body's quoted name reaches the name («المحلل في مركز«بروكينغز»، للابحاث في
الدوحة تشارلز ليستر», «مدير العمليات في شركة الشايع للتجارة، هنريك كريستيانسن:»); an appositive that describes a
name rather than giving an office («آرسنال بطل الكأس», «عائلة أنييلي أحد المساهمين») and an age in brackets are cut;
anonymous sources keep whose they are («مصادر من المقاومة»); a nisba before a personal name stands where a title
would («الأميركية سيرينا وليامس»); an unnamed event («دورة تدريبية») and «بثّ» that only airs something (no «أن»)
name no one; «وفي تصريح لـX، قال Y» names X, as «قال Y لـX» does. Never counted: a name with no cue («قناة السويس»,
«مركز الملك فهد»), scripture (a verse in «(( … ))» or «﴿ … ﴾», the Prophet of a hadith), a clause taken for a
subject («يمثل مصنع … صورة ناصعة تؤكد …»), and the document's own outlet (its footer «رابط الخبر بصحيفة
الوئام» has no cue either; «لـ«الشرق الأوسط»» in aawsat's own text).

A cluster's attribution is the name most members cite (one vote per member text; ties: the
earliest text, then the earliest position, then alphabetical); ``None`` means that no member
cites a source with a cue — the claim may still have one the patterns do not know.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import compress
from typing import Sequence

from .normalize import fold, normalize_text

__all__ = ["find_attribution", "attributions", "may_cite", "vote_attribution", "MAX_WORDS"]

MAX_WORDS = 16  # a cited source is a noun phrase: a title, its body, a name («الناطق الإعلامي بقيادة حرس الحدود …»)
UNBOUNDED_WORDS = 5  # ... of which this many are kept when no boundary ends it
LONG_WORDS = 32  # ... or all, up to this many, when «أن» or a colon ends them (a chain of titles)

_Q = "\"'«»“”„‘’‹›"
_PUNCT_END = "،,:;.!?؟؛…" + "۔"
_TOKEN = re.compile(r"\S+")
# Quranic brackets: the Arabic convention for quoting scripture (a verse, also a hadith), whose verbs are no
# reporting cues and whose words are no source's name; bounded, so that a bracket left open ends nothing
_SCRIPTURE = re.compile(r"\(\(.{1,1500}?\)\)|﴿.{1,1500}?﴾", re.S)
_INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u2066\u2067\u2068\u2069\ufeff"  # «البحرين.\u200f»: a period all the same


def _n(words: str) -> set[str]:
    return {normalize_text(w) for w in words.split()}


# ---------------------------------------------------------------- cue lexicon (normalized forms)
# Arabic reporting verbs (past and present, masculine / feminine / plural), with «و»/«ف» allowed before them
_AR_VERBS = _n("""
قال قالت قالوا يقول تقول ذكر ذكرت ذكروا يذكر تذكر افاد افادت نقل نقلت ينقل تنقل اكد اكدت اكدوا يؤكد
تؤكد اعلن اعلنت يعلن تعلن صرح صرحت يصرح تصرح اوضح اوضحت يوضح توضح كشف كشفت يكشف تكشف اشار اشارت يشير تشير
اورد اوردت يورد تورد نشرت بثت رأي راي يري تري نشرته ذكرته اوردته نقلته اعلنته بثته زعم زعمت يزعم تزعم
نفي نفت ينفي تنفي حذر حذرت يحذر تحذر اضاف اضافت يضيف تضيف ادعي ادعت اكدت
""")
_AR_PREPS = _n("بحسب حسب")  # «بحسب X» («وفق» is mostly "in line with" a plan or a rule)
_AR_NEEDS_AN = _n("نقل نقلت ينقل تنقل")
_AR_SEES = _n("رأي راي يري تري")  # «يرى X أن …» cites a view; «دبل تري» (DoubleTree) or «ترى المدينة» does not
_AR_AIRS = _n("بث بثت")  # «بثت X أن …» reports; «بثت X تقارير / صورا» only airs (but «تقرير بثته قناة X» cites)
_AR_ADDS = _n("اضاف اضافت يضيف تضيف")  # «أضاف» also adds X to Y: never whom something was said to  # «نقل» is also "moved": a citing «نقل» names whom it cites («عن»)
_AR_PREP_L = _n("وفقا طبقا استنادا")  # «وفقا لـX», «طبقا للوكالة», «استنادا إلى X»
_AR_PAIRS = {("نقلا", "عن"), ("نقلا", "عنه"), ("علي", "لسان")}  # «نقلا عن X», «على لسان X»
_AR_TOLD = _n("تصريح تصريحات حديث حوار مقابله لقاء")  # «في تصريح لـX»

# English / French: cues before the source, after it, and inverted after a quote
_EN_AFTER = {("according", "to")}
_EN_VERBS = _n("said says told tells reported reports announced announces stated states confirmed confirms "
               "claimed claims added adds noted notes warned warns denied denies revealed reveals")
_FR_AFTER = _n("selon d'après d’apres")
_FR_VERBS = _n("déclaré affirmé indiqué annoncé précisé expliqué confirmé rapporté démenti estimé assuré souligné")
_FR_PRESENT = _n("déclare affirme indique annonce précise explique confirme rapporte estime assure souligne")
# Urdu: «X کے مطابق», «X نے کہا / بتایا / اعلان کیا / دعویٰ کیا», «X کا کہنا ہے»
_UR_BEFORE = [tuple(normalize_text(w) for w in p.split()) for p in (
    "کے مطابق", "نے کہا", "نے بتایا", "نے اعلان", "نے دعویٰ", "نے دعوی", "نے انکشاف", "کا کہنا", "کے حوالے")]
_UR_TOLD = tuple(normalize_text(w) for w in "کو بتایا".split())  # «X نے اخبار Y کو بتایا»: Y was told

# ---------------------------------------------------------------- noun-phrase boundaries and generic words
_AR_STOP = _n("""
ان انه انها انهم بان بانه بانها وان فان عن في خلال علي الي لدي من مع حول بعد قبل امس اليوم يوم الذي التي الذين
اللذين ما لا لم لن قد كما او ثم حتي منذ عبر ضمن امام تجاه بين وفي ومن وعلي والي فيما بينما حيث اذ اذا كان كانت
وكان وكانت يكون تكون ليس ليست هذا هذه ذلك تلك صباح مساء الاحد الاثنين الثلاثاء الاربعاء الخميس الجمعه السبت
الليله لقد ولكن لكن انما فيها فيه فيهم له لها لهم عنه عنها عنهم منه منها عليه عليها اليه اليها به بها لدينا
مجددا ايضا كذلك رسميا مؤخرا حاليا سابقا غدا الان عقب اثر وسط بشان بشكل بصوره بقوه بوضوح بشده قائلا قائله
قائلين مضيفا مضيفه موضحا موضحه مشيرا مشيره مؤكدا مؤكده بعدها بعده قبلها قبله خلالها خلاله
عندها عنده حينها وهو وهي وهم وهما مما ومما اخيرا حصريا بما نقلا يعني سوف وسوف
""")
_AR_CLAUSE = _n("و ف وكان وكانت كان كانت ثم لكن ولكن بينما فيما كما حيث اذ وقد فقد")  # a subject may follow these
_UR_STOP = _n("اور کہ جبکہ میں سے پر کو نے کا کی کے بھی تو ہی یہ وہ جو جس ہے ہیں تھا تھی تھے گا گی گے")
_UR_CLAUSE = _n("اور جبکہ کہ")
# Latin scripts: a phrase is cut at a clause word or a preposition; "of", "for", "the", «de», «du», «la» … may
# stand inside one ("a spokesman for the Interior Ministry", «le ministre de l'Intérieur»)
_LATIN_STOP = _n("that and but which who whom while as when because if since though although than then so also "
                 "on in at from by with to into about over under during after before has have had was were is are "
                 "be been would will could may might "
                 "que qui et mais dont lorsque quand car si après avant depuis à au aux en dans sur par avec pendant "
                 "est sont été ont")
_LATIN_STOP_NAMES = _n("he she they it we i you him her them this these those there il elle ils elles nous vous on")
# words that make a lower-case Latin phrase a source ("the interior ministry", «le porte-parole du gouvernement»)
_LATIN_BODIES = _n("ministry minister government police army spokesman spokeswoman spokesperson officials official "
                   "president ministère ministre gouvernement police armée porte-parole président responsable "
                   "agency agence")

_GENERIC = _n("""
الالكتروني الكتروني الرسمي رسمي المتخصص متخصص الاخباري اخباري الاخباريه اخباريه الخاص خاص له لها نفسه نفسها ذاته
ذاتها المحليه محليه الامريكيه الامريكي الاسرائيلي الاسرائيليه البريطانيه البريطاني الروسيه الروسي الفرنسيه
الفرنسي العربيه العربي العالميه الرسميه الانباء انباء الدوليه الدولي المحلي اعلاميه الالمانيه الالماني
الموقع الصحيفه الوكاله القناه الشبكه الجريده المجله الاذاعه التلفزيون المصدر المصادر الوزاره الوزير الجهه
الجهات المسؤول المسؤولون المسؤولين الاخير الاخيره البيان التقرير المتحدث الناطق الرئيس الملك الامير المركز
مصدره بيان تقرير الخبر خبر اخري اخر المذكور المذكوره السابق الجديد الجديده الاول القانون النظام اللائحه
الماده القرار القرارات الاستطلاع الدراسه الاحصائيات الاحصاءات الارقام البيانات المعلومات الاتفاق الخطه التقارير
الاختصاص الحاجه الاصول الطلب الظروف الجدول الترتيب التوقيت الشركه الهيئه الجمعيه الامانه البلديه الجامعه
الاداره المديريه اللجنه المجلس المنظمه المؤسسه المحطه الحكومه الشرطه السلطات البنك الاماره سموه معاليه سعادته فضيلته قوله قولها
قولهم تعبيره تعبيرها الله تعالي سبحانه صلي النبي نبي الرسول الكريم الاتحاد النادي المستشفي مدير المدير رئيس وزير المكتب الاتصالات المعطيات المؤشرات النتائج التقديرات التوقعات الصحفيين الصحافيين الاعلاميين الحضور الجميع
تفصیلات اطلاعات اطلاع رپورٹ رپورٹس بیان خبر خبروں انہوں اس ان وہ آپ ہم میں ترجمان ابلاغ اخبار چینل
the a an official officials spokesman spokeswoman spokesperson statement report reports media agency newspaper
ministry government police minister president sources source
le la les un une source sources responsable porte-parole communiqué ministère gouvernement ministre
""") | _LATIN_STOP_NAMES
# a medium that is only a medium: «موقع ديبكا» -> «ديبكا»; kept when the rest is only descriptive («وكالة الأنباء ...»)
_MEDIA = _n("موقع وكاله صحيفه قناه شبكه جريده مجله اذاعه تلفزيون راديو اخبار چینل ایجنسی "
            "agency newspaper site channel agence journal chaîne chaine site quotidien")
# media nouns inside a name are part of it («هيئة الإذاعة البريطانية»), only a lone one is generic
_MEDIA_NOUNS = _n("الموقع الصحيفه الوكاله القناه الشبكه الجريده المجله الاذاعه التلفزيون")
_AGENCY_DESC = _n("الانباء انباء الصحافه الاعلام")  # «وكالة الأنباء السعودية», «وكالة الصحافة الفرنسية»
# documents and rules, never a cited source: «وفقا لأحكام القانون», «طبقا للجدول الزمني», «حسب الاختصاص»
_NOT_SOURCES = _n("""
قانون القانون نظام النظام جدول الجدول برنامج البرنامج احكام الاحكام لائحه اللائحه ماده الماده خطه الخطه اتفاق
الاتفاق قرار القرار اختصاص الاختصاص حاجه الحاجه اصول الاصول ظروف الظروف ترتيب الترتيب توقيت التوقيت تعليمات
التعليمات توجيهات التوجيهات شروط الشروط معايير المعايير ضوابط الضوابط عملا طريق طلب رغبه الانظمه الانظمة القوانين
اللوائح الاجراءات المهام الفصل الباب البند
اهميه ضروره صحه عدم حرص استعداد عدد
""")  # the last line: what «أكد / نفى» governs when its subject is a pronoun («وأكدت أهمية …», «نفت صحة …»), a count
# documents: the source is whoever issued them («بيان صادر عن المقاومة» -> «المقاومة»), or nobody named
_ISSUED = _n("صادر الصادر صادره الصادره")  # «بيان صادر عن X»
_DOCUMENTS = _n("بيان البيان تقرير التقرير دراسه الدراسه استطلاع الاستطلاع احصائيه الاحصائيه نص شكوي الشكوي "
                "بحث البحث ابحاث الابحاث "
                "الدعوي الوثيقه الرساله المذكره وثائق الوثائق وثيقه ورقه الورقه")
_PUBLISHED = _n("نشرها نشرته نشرتها اصدرها اصدرته اصدرتها سربها سربته سربتها")  # «وثائق نشرها موقع ويكيليكس»
# heads of a phrase that names a body or an office (general vocabulary, any corpus)
_BODIES = _n("""
وزاره الوزاره هيئه الهيئه منظمه المنظمه مركز المركز مرصد المرصد مجلس المجلس لجنه اللجنه جامعه الجامعه شركه الشركه
مؤسسه المؤسسه دار الدار اداره الاداره مديريه المديريه مكتب المكتب حكومه الحكومه الامم الامانه امانه بنك البنك مصرف المصرف
صندوق الصندوق
جمعيه الجمعيه اتحاد الاتحاد نادي النادي حزب الحزب جيش الجيش شرطه الشرطه قياده القياده محكمه المحكمه نيابه النيابه
سفاره السفاره وزير الوزير رئيس الرئيس مدير المدير متحدث المتحدث ناطق الناطق سفير السفير خبير الخبير محلل المحلل
محللون المحللون مسؤولون المسؤولون مسؤول المسؤول مصادر مصدر شهود ناشطون سكان اطباء علماء باحثون تقارير تقرير
ارقام احصاءات بيانات
""")
# events: an unnamed one («دورة تدريبية», «ندوة علمية») is no source (a named festival, «مهرجان دبي …», may be)
_EVENTS = _n("دوره ورشه ندوه محاضره ملتقي معرض حفل حفله مهرجان فعاليه مسابقه")
# anonymous kinds: kept only when nothing named is cited
_ANON_HEADS = _n("مصدر مصادر ذرائع source sources officials official")
_CLITICS = ("وال", "فال", "بال", "لل", "و", "ف", "ب")
_LATIN_ARABIC = _n("بالعربيه عربي العربيه")  # «CNN بالعربية»
_NAME_LINKS = _n("""بن بنت ابن ابو ام عبد ال آل الدكتور الدكتوره المهندس المهندسه الشيخ الاستاذ الاستاذه
اللواء العقيد العميد المقدم الرائد النقيب الملازم الفريق الامير الاميره باسم""")  # a name goes on after these
# «المشرف على البرنامج», «المسؤول عن …»: titles whose complement is introduced by a preposition
_TITLE_PREPS = {(normalize_text(a), normalize_text(b)) for a, b in (
    ("المشرف", "على"), ("المشرفة", "على"), ("القائم", "على"), ("القائمون", "على"), ("المسؤول", "عن"),
    ("المسؤولة", "عن"), ("مسؤول", "عن"), ("قائمون", "على"), ("قائم", "على"), ("مشرف", "على"), ("مشرفة", "على"))}
_GROUPS = _n("تنظيم التنظيم جماعه الجماعه حركه الحركه ميليشيا ميليشيات مليشيا مليشيات فصيل كتائب")
_STATIONS = _n("محطه")  # a broadcasting station when a quoted name follows («محطة "ان تي في"»), else any station
_NAMED_BY_QUOTE = _MEDIA | _BODIES | _GROUPS | _STATIONS  # «صحيفة «الغارديان»», «حزب "النور"», «تنظيم «داعش»»
_PERIODS = _n("الاسبوع الشهر العام الاسبوعين الاشهر الاعوام السنه الموسم")
_PERIOD_ADJ = _n("الماضي الماضيه المقبل المقبله الجاري الجاريه الحالي الحاليه الفائت المنصرم القادم")
_GOVERNED = _n("اهميه ضروره صحه عدم حرص")  # «نفت وزارة الإعلام صحة …»: what the verb governs starts here
_LEAD_INS = _n("بذلك بهذا بدوره بدورها")  # «وصرح بذلك الناطق الإعلامي …»: the speaker follows
_NOUN_TOO = _n("كشف نقل نشر بث")  # verbs that are also common nouns («يضمن كشف نقاط الخلل»)


# What a text must contain for any cue to fire: each condition is words that must all occur in it (as
# substrings of the folded text: a token's normalized form is a piece of the folded text, since folding
# goes character by character). A text that meets none cites no one, and is not tokenized at all: most
# passages of a corpus quote nobody, and tokenizing every member of every cluster was most of the time
# clusters took to build.
_CUE_WORDS = _AR_VERBS | _AR_PREPS | _AR_PREP_L | _AR_TOLD | _EN_VERBS | _FR_AFTER | _FR_VERBS | _FR_PRESENT
_CUE_RE = re.compile("|".join(re.escape(w) for w in sorted(_CUE_WORDS, key=lambda w: (-len(w), w))))
_CUE_ALL = [tuple(c) for c in sorted(_AR_PAIRS | _EN_AFTER)] + [*_UR_BEFORE, _UR_TOLD]


# Tokens at which a cue can start (its normalized form, with «و»/«ف» where the cue allows them): every
# other token is passed over at once.
_CLITIC_CUES = _AR_VERBS | _AR_PREPS | _AR_PREP_L
_TRIGGERS = frozenset(_CUE_WORDS | {c + w for w in _CLITIC_CUES for c in "وف"} | {c[0] for c in _CUE_ALL})
_UR_FIRST = frozenset(c[0] for c in _UR_BEFORE)


def may_cite(text: str) -> bool:
    """False only when no reporting cue can fire in ``text`` (:func:`attributions` is then empty)."""
    folded = fold(text)
    return _CUE_RE.search(folded) is not None or any(all(w in folded for w in c) for c in _CUE_ALL)


_norm = lru_cache(maxsize=1 << 17)(normalize_text)  # tokens repeat: a word is normalized once


_CORE_STRIP = _Q + "()[]-–—" + _PUNCT_END + _INVISIBLE  # around a token's word


@lru_cache(maxsize=1 << 17)
def _word_norm(raw: str) -> str:
    """A raw token's normalized word, as :class:`_Tok` makes it (``norm``)."""
    return _norm(raw.strip(_CORE_STRIP))


class _Tok:
    __slots__ = ("start", "end", "raw", "core", "norm", "ends_clause", "quoted", "scripture")

    def __init__(self, m: re.Match, scripture: bool = False) -> None:
        self.scripture = scripture  # inside «(( … ))» or «﴿ … ﴾»: quoted scripture
        self.start, self.end, self.raw = m.start(), m.end(), m.group()
        core = self.raw.strip(_CORE_STRIP)
        self.core = core
        self.norm = _norm(core)
        tail = self.raw.rstrip(_Q + ")]" + _INVISIBLE)
        self.ends_clause = bool(tail) and tail[-1] in _PUNCT_END
        self.quoted = self.raw[:1] in _Q or self.raw[-1:] in _Q


class _Toks:
    """A text's tokens as a read-only list whose :class:`_Tok` is made when an index is read: the cue
    scan reads only the words (:func:`_word_norm`), and the rules read a few tokens around each cue,
    so most tokens of a text are never made (making all of them was half the cost of attribution)."""

    __slots__ = ("_ms", "_made", "_holy")

    def __init__(self, text: str, holy: Sequence[tuple[int, int]] = ()) -> None:
        self._ms = list(_TOKEN.finditer(text))
        self._made: list[_Tok | None] = [None] * len(self._ms)
        self._holy = holy  # spans of quoted scripture

    def __len__(self) -> int:
        return len(self._ms)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[j] for j in range(*k.indices(len(self._ms)))]
        t = self._made[k]
        if t is None:
            m = self._ms[k]
            t = self._made[k] = _Tok(m, any(a <= m.start() < b for a, b in self._holy))
        return t

    def __iter__(self):
        return (self[k] for k in range(len(self._ms)))

    def index(self, tok: _Tok, start: int = 0) -> int:
        """Where ``tok`` (a token of this list) is, from ``start`` on."""
        for k in range(max(0, start), len(self._made)):
            if self._made[k] is tok:
                return k
        raise ValueError("token not in this text")


def _strip_clitic(norm: str, verbs: set[str]) -> str:
    """A cue verb with «و»/«ف» attached («وقالت», «فأكد») -> the verb."""
    if norm in verbs:
        return norm
    if len(norm) > 3 and norm[0] in "وف" and norm[1:] in verbs:
        return norm[1:]
    return norm


def _is_latin(s: str) -> bool:
    return bool(re.match(r"[A-Za-zÀ-ÿ]", s))


def _is_stop(t: _Tok, stop: set[str]) -> bool:
    n = t.norm
    if t.core.lstrip("وف").startswith(_HAMZA_NOUNS):
        return False  # «إمام وخطيب المسجد»: the noun «إمام», which normalizes to the preposition «أمام»
    return n in stop or (len(n) > 2 and n[0] in "وف" and n[1:] in stop)  # «ففي», «وعلى»


# nouns spelled with a hamza under the alif that normalize to a stop word spelled with it above («أمام»)
_HAMZA_NOUNS = ("إمام",)


def _object_like(t: _Tok, inner: bool = False) -> bool:
    """«رغبته», «استقالتها», «ترشحه»: a noun with a possessive pronoun starts what the source says, not its
    name (the raw «ه», not «ة», which normalizes to the same letter; never a name with «الله»). Inside a
    phrase (``inner``) a bare «ه» ends names too often («بيجن زنغنه») to count."""
    raw = t.core
    if _is_latin(raw) or "الله" in raw or "لله" in raw:
        return False
    if len(raw) >= 5 and raw.endswith(("ته", "تها", "تهم", "ها", "هم")):
        return True
    return not inner and len(raw) >= 4 and raw.endswith("ه")


def _verbal_noun(t: _Tok) -> bool:
    """«وأعلن اكتمال الاستعدادات», «أكد استمرار …», «أعلنت انطلاق …»: a verbal noun of the forms افتعال,
    استفعال, انفعال right after the verb is its object (the subject is a pronoun), not a name."""
    n = t.norm
    return (len(n) >= 6 and n[0] == "ا" and n[-2] == "ا" and not _is_latin(n)
            and (n[2] == "ت" or n.startswith(("است", "ان"))) and not t.quoted)


def _oblique_plural(t: _Tok) -> bool:
    """«وحذر المصابين بمرض الربو من …»: a definite sound plural or dual in «ين» right after the verb is its
    object (a subject there is «ون»/«ان»: «وقال المسؤولون»); the stem test keeps «الأمين» and «البحرين»."""
    n = t.norm
    return (not _is_latin(n) and not t.quoted and n.startswith("ال") and n.endswith("ين")
            and len(n) - 4 >= 4)


def _phrase_after(toks: list[_Tok], i: int, stop: set[str], limit: int = MAX_WORDS) -> list[_Tok]:
    """The noun phrase starting at token ``i``: up to a stop word (excluded) or the end of a clause.
    A phrase that meets no boundary within ``MAX_WORDS`` words runs on into what the source says
    («أعلنت جامعة أم القرى بدء التقديم …»): only its first ``UNBOUNDED_WORDS`` are kept, unless it is a chain
    of titles that «أن» or a colon ends within ``LONG_WORDS`` words («المشرف على كرسي … لأبحاث النحل بجامعة
    الملك سعود رئيس اللجنة المنظمة … الدكتور أحمد بن عبدالله الخازم أن»): what is said starts there, so the
    words before it are all the speaker's."""
    # «وأوضح لـ«الوئام» المتحدث الرسمي …»: whom it was said to may come before the speaker
    while i < len(toks) and (_listener_at(toks[i]) is not None or not toks[i].core or toks[i].norm in _LEAD_INS):
        if not toks[i].core and ":" in toks[i].raw:
            return []  # «وقال : إنني …»: what follows the colon is what was said
        i += 1
    # «كما ذكر الأسبوع الماضي المدعي العام …»: when it was said may come before the speaker too
    if i + 2 < len(toks) and toks[i].norm in _PERIODS and toks[i + 1].norm in _PERIOD_ADJ and not toks[i + 1].ends_clause:
        i += 2
    out: list[_Tok] = []
    upto = -1  # the end of a quoted name of several words taken whole
    for k_t in range(i, min(len(toks), i + limit)):
        t = toks[k_t]
        if t.scripture:
            return out  # a verse is what is said, never part of a name
        if k_t <= upto:
            out.append(t)
            if t.ends_clause:
                return out
            continue
        if (out and t.raw[:1] in _Q and t.raw.rstrip(_PUNCT_END + _INVISIBLE)[-1:] not in _Q
                and (out[-1].norm in _NAMED_BY_QUOTE or out[0].norm in _NAMED_BY_QUOTE or _complement_named(out))
                and _quoted_name(toks, k_t)):
            # «محطة "ان تي في"», «شركة "إيلي ليلي"»: a medium's or a body's quoted name is whole, whatever its
            # words («ان», «في» are no boundaries inside it)
            upto = next(k for k in range(k_t + 1, k_t + 3) if toks[k].raw.rstrip(_PUNCT_END + _INVISIBLE)[-1:] in _Q)
            out.append(t)
            continue
        if not out and (_object_like(t) or _verbal_noun(t) or (not _is_latin(t.norm) and t.norm.startswith(("بال", "كال", "لل")))
                        or (t.raw[:1] in _Q and t.raw.rstrip(_PUNCT_END)[-1:] not in _Q)):
            # «أعلن ترشحه», «ويقدم كشف بالحوالات», «فقال "أعتقد أن …»: a pronoun subject, or what is said
            return []
        if (len(out) == 1 and out[0].norm not in _BODIES and out[0].norm not in _NAME_LINKS and not _is_latin(t.core)
                and _lam_word(t) and not out[-1].ends_clause):
            return out  # «وقال كيري لمجلس العلاقات الخارجية», «قال الجيش لصحفيين …»: whom a one-word speaker told
        if out and t.raw[:1] == "(" and t.core[:1].isdigit():
            return out  # «بارول خاتون (35 عاما)»: an age or a date in brackets is no part of the name
        if t.norm == "اول" and k_t + 1 < len(toks) and toks[k_t + 1].norm == "من":
            return out  # «… بلاتيني أول من أمس»: «the day before yesterday» ends the name
        if out and t.norm in _PERIODS and k_t + 1 < len(toks) and toks[k_t + 1].norm in _PERIOD_ADJ:
            return out  # «أعلنت الاستخبارات الأفغانية الأسبوع الماضي»
        if (out and t.raw[:1] in _Q and t.raw.rstrip(_PUNCT_END + _INVISIBLE)[-1:] in _Q and len(t.core) > 1
                and _complement_named(out)):
            out.append(t)  # «المشرف العام على "مهارة" أن»: a one-word quoted name
            continue
        if out and ((out[-1].norm in _NAME_LINKS and (not _is_stop(t, stop) or t.core == "علي"
                                                      or (out[-1].norm == "باسم" and t.norm in {"هذه", "هذا"})))
                    or (out[-1].norm, t.norm) in _TITLE_PREPS
                    or (len(out) >= 2 and (out[-2].norm, t.norm) in _TITLE_PREPS)) and t.core:
            out.append(t)  # «محمد بن علي», «الدكتور علي …» («علي» is not «على» here), «المشرف على …»
            if t.ends_clause:
                return out  # «أكد خادم الحرمين الشريفين الملك سلمان بن عبدالعزيز، عمق العلاقات …»
            continue
        if (len(out) >= 2 and out[0].norm in _PERSON_TITLES and not out[-1].norm.startswith("ال")
                and not out[-1].ends_clause and _lam_word(t) and _object_after_listener(toks, k_t)):
            return out  # «أكد المدرب الأوروغوياني خورخي داسيلفا للجهاز الإداري عدم حاجته …»: the name is whole
        if out and _title_body(out[-1], t) and not out[-1].ends_clause:
            # «الناطق الإعلامي لـ"شرطة عسير" الرائد زيد القحطاني»: whose spokesman, not whom it was told
            out.append(t)
            if t.raw.rstrip(_PUNCT_END + _INVISIBLE)[-1:] not in _Q:
                upto = next((k for k in range(k_t + 1, min(len(toks), k_t + 4))
                             if toks[k].raw.rstrip(_PUNCT_END + _INVISIBLE)[-1:] in _Q), k_t)
            if t.ends_clause:
                return out
            continue
        if out and _inner_word(toks, k_t, out, stop):
            out.append(t)
            continue
        if (len(out) >= 3 and out[0].norm in _ANON_HEADS and any(w.norm == "من" for w in out)
                and t.core and not t.norm.startswith(("ال", "لل")) and not _lam_word(t) and not _is_stop(t, stop)):
            # «مصادر من المقاومة الشعبية» is whose sources; «مصدر مقرب من الفرنسي ميشال بلاتيني رئيس …» goes on
            # into a person and a title: the kind alone is kept
            return out[:next(j for j, w in enumerate(out) if w.norm == "من")]
        if not t.core or _is_stop(t, stop) or (out and (_listener_at(t) is not None or _object_like(t, inner=True)
                                                         or t.norm in _GOVERNED
                                                         or (t.raw[:1] in _Q and not (
                                                             (out[-1].norm in _NAMED_BY_QUOTE or out[0].norm in _NAMED_BY_QUOTE)
                                                             and _quoted_name(toks, k_t)))
                                                         or _told_at(toks, k_t))):
            if out and t.core and t.ends_clause and _lam_word(t) and not _listener_at(t):
                # «مدير العمليات في شركة الشايع للتجارة، هنريك كريستيانسن:»: the body's «ل» genitive before a
                # comma, then the person's name, is no one told
                end = _name_after_title(toks, k_t + 1, out, t)
                if end:
                    return out + toks[k_t:end]
            if out and t.core and _lam_word(t) and not t.ends_clause and out[-1].raw.rstrip(_PUNCT_END + _INVISIBLE)[-1:] in _Q:
                # «المحلل في مركز «بروكينغز» للأبحاث في الدوحة تشارلز ليستر:»: a quoted body's name sets off the
                # rest of its description as a comma would
                end = _name_after_title(toks, k_t, out, out[-1])
                if end:
                    return out + toks[k_t:end]
            return out
        if out and _epithet_at(toks, k_t, out):
            return out  # «آرسنال بطل الكأس», «عائلة أنييلي أحد المساهمين»: an appositive describing the name
        out.append(t)
        if t.ends_clause and len(out) >= 2:
            end = _name_after_title(toks, k_t + 1, out)  # «المحلل في مركز«بروكينغز»، للابحاث في الدوحة تشارلز ليستر»
            if end:
                return out + toks[k_t + 1:end]
        if t.ends_clause or (len(out) == 1 and t.raw[:1] in _Q and t.raw.rstrip(_PUNCT_END)[-1:] in _Q):
            return out  # «وأكد "اليامي" أهمية …»: a quoted name is the whole subject
    end = i + len(out)
    if end >= len(toks):
        # the text ends inside the phrase: a member passage cut by its alignment («وأوضح مدير المستشفى ضيف»)
        # may have cut the name too; nothing tells, so this text names no one (another member may)
        return out if out and out[-1].ends_clause else []
    if _is_stop(toks[end], stop) or toks[end].raw[:1] in _Q:
        return out  # the phrase ends where a boundary does
    if limit < LONG_WORDS:
        longer = _phrase_after(toks, i, stop, LONG_WORDS)
        if len(longer) > len(out) and longer[-1] is toks[i + len(longer) - 1] and (
                longer[-1].raw.rstrip()[-1:] == ":" or _speech_follows(toks, i + len(longer))):
            return longer  # a long title chain that «أن» or a colon ends
    elif limit == LONG_WORDS:
        return []
    k = UNBOUNDED_WORDS
    while k < len(out) and (out[k - 1].norm in _NAME_LINKS or _is_stop(out[k - 1], stop)):
        k += 1  # «الدكتور سمير بن عبدالرحمن», «المشرف على العلاقات»: a link word does not end what is kept
    return out[:k]


def _bare_name_word(t: _Tok) -> bool:
    """A word that may be part of a personal name: no article, no «ل» genitive, no title, no generic or governed
    word, no verbal noun, no noun with a pronoun, no number, not a stop word."""
    n = t.norm
    return bool(t.core) and not t.quoted and not n.startswith(("ال", "لل")) and not n[:1].isdigit() and not (
        _is_stop(t, _AR_STOP) or n in _PERSON_TITLES or n in _BODIES or n in _GENERIC or n in _GOVERNED
        or n in _NOT_SOURCES or n in _ANON_HEADS or _verbal_noun(t) or _object_like(t) or _masdar_taf3il(n))


def _masdar_taf3il(n: str) -> bool:
    return len(n) == 5 and n[0] == "ت" and n[3] == "ي"  # «تخصيص», «تسجيل»


def _name_after_title(toks: list[_Tok], k: int, out: list[_Tok], comma: _Tok | None = None) -> int | None:
    """A person's title with its body, set off by a comma from the rest of the body's description and the
    person's name («المحلل في مركز«بروكينغز»، للابحاث في الدوحة تشارلز ليستر لوكالة …», «مدير العمليات في شركة
    الشايع للتجارة، هنريك كريستيانسن:»): the end of the name (an index), when the title has no name yet, the
    words after the comma are at most the description (definite or «لل» words, one «في» + a place) and then
    one to three bare words, and what is said, a colon or whom it was told comes right after them."""
    comma = comma or (out[-1] if out else None)
    if (not out or out[0].norm not in _PERSON_TITLES
            or (comma.raw.rstrip(_Q + ")]" + _INVISIBLE)[-1:] not in "،," and comma.raw.rstrip(_INVISIBLE)[-1:] not in _Q)
            or not any(w.norm in _LINK_PREPS or _lam_word(w) or w.norm in _OFFICE_HEADS for w in out[1:])
            or any(_bare_name_word(w) and w.norm not in _OFFICE_HEADS and not w.norm.startswith(tuple(_OFFICE_HEADS))
                   for w in out[1:])):
        return None
    j, n, place = k, len(toks), False
    while j < min(n, k + 4) and not toks[j].ends_clause:
        x = toks[j]
        if x.norm.startswith("لل") and len(x.norm) >= 5 and not place:
            j += 1
        elif x.norm == "في" and not place and j + 1 < n and toks[j + 1].norm.startswith("ال") and not toks[j + 1].ends_clause:
            j, place = j + 2, True
        else:
            break
    start = j
    while j < min(n, start + 4) and _listener_at(toks[j]) is None and (
            (_bare_name_word(toks[j]) and (j > start or not _told_at(toks, j)))
            # a surname with the article ends the name («محمد العلي:»)
            or (j > start and toks[j].norm.startswith("ال") and toks[j].norm not in _GENERIC and _name_ends(toks, j + 1))):
        j += 1
        if toks[j - 1].ends_clause:
            break
    return j if j > start and _name_ends(toks, j) else None


def _name_ends(toks: list[_Tok], j: int) -> bool:
    """A name ends before token ``j``: with a colon, or before «أن», a quotation or whom it was told."""
    if j >= len(toks) or j == 0:
        return False
    last = toks[j - 1]
    if last.raw.rstrip(_INVISIBLE).rstrip()[-1:] == ":":
        return True
    if last.ends_clause:
        return False
    x = toks[j]
    return (x.norm in {"ان", "انه", "انها", "انهم", "بان"} or _listener_at(x) is not None or _told_at(toks, j)
            or (x.raw[:1] in _Q and x.raw.rstrip(_PUNCT_END)[-1:] not in _Q))


# heads of an appositive that describes a name rather than giving an office: the partitive «one of», a standing
# («champion», «runner-up», «holder», «owner»): «آرسنال بطل الكأس», «عائلة أنييلي أحد المساهمين»
_EPITHETS = _n("احد احدي بطل بطله وصيف وصيفه متصدر متصدره حامل حامله صاحب صاحبه")  # («مالك» is also a name)


def _epithet_at(toks: list[_Tok], k: int, out: list[_Tok]) -> bool:
    """Token ``k`` opens an appositive after a name (one of :data:`_EPITHETS` in construct with what follows),
    which describes the source and is no part of its name."""
    t = toks[k]
    if (t.norm not in _EPITHETS or t.quoted or out[-1].ends_clause
            or out[-1].norm in _BEFORE_NAMES | _PERSON_TITLES | _EPITHETS):
        return False  # («صاحب إحدى الشركات الوطنية غالب بن أحمد الهبوب»: the title's own complement)
    if len(out) == 1 and out[0].core.endswith("ة"):
        return False  # «حسب رواية أحد المصابين»: a common noun in construct with «أحد», not a name before it
    if k + 1 >= len(toks) or not toks[k + 1].core or _is_stop(toks[k + 1], _AR_STOP):
        return False
    return not (t.norm == "صاحب" and toks[k + 1].norm in _n("السمو سمو الجلاله المعالي السعاده الفضيله"))


# a spokesman's title, after which «لـ» + a quoted name is whose spokesman (the body), not whom it was told
_SPOKES = _n("المتحدث المتحدثه الناطق الناطقه متحدث متحدثه ناطق ناطقه الرسمي الرسميه الاعلامي الاعلاميه")


def _title_body(prev: _Tok, t: _Tok) -> bool:
    """«المتحدث الرسمي لـ"نزاهة"», «الناطق الإعلامي لـ"صحة عسير"»: a spokesman's title is incomplete without its
    body, so «لـ» + a quoted name right after it is the body (whom the statement was given to follows the whole
    title and name: «… لـ"صحة الشرقية" لـ"الرياض" إن»); a quoted medium («لـ"صحيفة …"») stays whom it was told."""
    if prev.norm not in _SPOKES or not t.core.startswith("ل") or _is_latin(t.core):
        return False
    rest = t.core[1:].lstrip("ـ")
    if rest[:1] not in _Q or len(rest) < 3:
        return False
    first = normalize_text(rest.strip(_Q))
    # a body's head word («لـ«الهيئة»»), or a name of several words whose first has no article, in construct
    # («لـ"صحة عسير"», «لـ"شرطة عسير"»); a one-word name (most outlets: «لـ"الرياض"», «لـ«عكاظ»») stays whom
    # it was told
    several = t.raw.rstrip(_PUNCT_END + _INVISIBLE)[-1:] not in _Q
    return first not in _MEDIA and (first in _BODIES or first in _OFFICE_HEADS or (several and not first.startswith("ال")))


def _complement_named(out: list[_Tok]) -> bool:
    """The title's complement is a quoted name: right after its preposition («المشرف العام على "اصنع مهارة"»)
    or after a bare noun in construct with it («المشرف على مبادرة «نرسم بسمتهم»»)."""
    if len(out) >= 2 and out[-1].norm in _LINK_PREPS and out[-1].core != "علي":
        return True
    return (len(out) >= 3 and out[-2].norm in _LINK_PREPS and out[-2].core != "علي" and not out[-1].norm.startswith("ال")
            and not out[-1].ends_clause and not _is_latin(out[-1].core))


def _quote_closes(toks: list[_Tok], k: int, within: int) -> bool:
    """The quotation token ``k`` opens closes within ``within`` words, before any punctuation but its own."""
    for x in toks[k:k + within]:
        tail = x.raw.rstrip(_PUNCT_END + _INVISIBLE)
        if len(tail) > 1 and tail[-1] in _Q and tail.strip(_Q):
            return True
        if x.ends_clause:
            return False
    return False


def _quoted_name(toks: list[_Tok], k: int) -> bool:
    """Token ``k`` opens a quotation that closes within three words: a quoted name («تنظيم «داعش»», «دار النشر
    «بيرسون»»), not the start of what is said («وقالت الإدارة "بناء على الصور …»)."""
    for x in toks[k:k + 3]:
        tail = x.raw.rstrip(_PUNCT_END + _INVISIBLE)
        if len(tail) > 1 and tail[-1] in _Q and tail.strip(_Q):
            return True
    return False


def _inner_word(toks: list[_Tok], k: int, out: list[_Tok], stop: set[str]) -> bool:
    """Words that look like boundaries but go on a name: «علي» spelled with «ي» between two names
    («نهاد علي أوزكان»; the preposition «على» is written with «ى», or is followed by a definite noun), and the
    «في» that tells where an anonymous source sits («مصدر في الدفاع المدني», once)."""
    t = toks[k]
    nxt = toks[k + 1] if k + 1 < len(toks) else None
    if nxt is None or not nxt.core or _is_stop(nxt, stop) or out[-1].ends_clause:
        return False
    if t.core == "علي" and not nxt.norm.startswith("ال") and (not out[-1].norm.startswith("ال") or nxt.norm in {"بن", "ابن"}):
        return True
    if t.core == "علي" and _ali_is_name(toks, k, out):
        return True
    if t.norm == "من" and out[0].norm in _ANON_HEADS and len(out) <= 2 and nxt.norm.startswith("ال") \
            and not t.ends_clause and nxt.norm not in _PERIODS:
        return True  # «مصادر من المقاومة», «مصادر مقربة من الرئيس»: whose sources they are
    if t.norm == "في" and any(w.norm == "في" for w in out):
        return False
    head = _OFFICE_HEADS_RE.match(nxt.norm)  # («في مركز«بروكينغز»»: the head before a quoted name in one token)
    head = head.group(1) if head else nxt.norm
    if t.norm != "في" or t.quoted or head not in _OFFICE_HEADS:
        return t.norm == "في" and out[0].norm in _ANON_HEADS and len(out) <= 2
    if (out[0].norm in _PERSON_TITLES and not any(_new_constituent(a, b) for a, b in zip(out, out[1:]))
            and (len(out) >= 2 or (not nxt.norm.startswith("ال") and head not in _REGIONS))):
        # «مدير عام المبيعات في شركة موبايلي», «رئيس الغرفة التجارية في المحافظة»: where the office is; after a
        # one-word title only a body named after it («المحلل في مركز بروكينغز», not «الوزير في المجلس», «الرئيس
        # في مدينة جدة»: where it was said)
        return True
    if out[-1].norm in _PERSON_TITLES | _OFFICIALS and len(out) >= 2:
        return True  # «محمد حسن زاده المسؤول في هيئة الضمان الاجتماعي»: the title after a name, with its office
    # «المقاومة الشعبية في إقليم تهامة»: a body (no person, no name) and the region it belongs to
    return ((head in _REGIONS and out[0].norm.startswith("ال") and out[0].norm not in _PERSON_TITLES | _OFFICIALS
             and all(w.norm.startswith("ال") for w in out))
            or (out[0].norm in _ANON_HEADS and len(out) <= 2))


_OFFICIALS = _n("المسؤول المسؤوله مسؤول مسؤوله")  # a title as an appositive after a name
# administrative regions: after a body, «في» + one of them says which body it is (not where it spoke)
_REGIONS = _n("منطقه المنطقه محافظه المحافظه ولايه الولايه اقليم الاقليم مقاطعه المقاطعه مدينه المدينه")
# «علي» after «على»'s usual complements («على هامش المؤتمر», «على الرغم من»): the preposition spelled with «ي»
_ALA_NOUNS = _n("""هامش طريق راس لسان ضوء صعيد خلفيه مستوي حد سبيل اساس مدار امتداد مدي قدم وجه ذمه عاتق نحو
الرغم الفور الاقل الاطلاق التوالي الارض النحو الصعيد المستوي الهامش الاطلاق الاكثر الاغلب الارجح السواء
عدد كل بعض جميع مدي""")


def _ali_is_name(toks: list[_Tok], k: int, out: list[_Tok]) -> bool:
    """«علي» spelled with «ي» after a definite word of a title is the first name «علي» («مدير الفرع علي الحربي
    بأن», «البائع علي العامري أن»), unless what follows is one of the preposition's usual complements
    («الوزير علي هامش المؤتمر»: «على» written with «ي»), what a verb governs («أهمية»), a verbal noun, or no
    name at all (a word and then a boundary other than the end of the name)."""
    nxt = toks[k + 1]
    if (nxt.norm in _ALA_NOUNS or nxt.norm in _GOVERNED or _verbal_noun(nxt) or nxt.quoted or _is_latin(nxt.core)
            or _object_like(nxt) or nxt.norm[:1].isdigit()):
        return False
    return any(w.norm in _PERSON_TITLES or w.norm in _BEFORE_NAMES for w in out) or out[-1].norm.startswith("ال")


# what «في» after a person's title (before any name) introduces when it says where the office is: a body or
# an administrative place («مدير المبيعات في شركة …», «قائد الشرطة في ولاية …»), not where it was said
_OFFICE_HEADS = _n("""
وزاره الوزاره هيئه الهيئه منظمه المنظمه مركز المركز مجلس المجلس لجنه اللجنه جامعه الجامعه شركه الشركه مؤسسه
المؤسسه دار الدار اداره الاداره مديريه المديريه حكومه الحكومه امانه الامانه بنك البنك صندوق الصندوق جمعيه
الجمعيه اتحاد الاتحاد نادي النادي حزب الحزب قياده القياده محكمه المحكمه سفاره السفاره فرع الفرع قسم القسم مصرف المصرف كليه
الكليه معهد المعهد مستشفي المستشفي منطقه المنطقه محافظه المحافظه ولايه الولايه مدينه المدينه بلديه البلديه اقليم الاقليم مقاطعه
المقاطعه""")
_OFFICE_HEADS_RE = re.compile(r"^(\w+)[\"'«»“”]")


def _phrase_before(toks: list[_Tok], i: int, stop: set[str], clause: set[str]) -> list[_Tok]:
    """The noun phrase ending just before token ``i`` when it starts a clause (text start, punctuation or a
    clause word before it): a subject, not the object of a preposition. Empty otherwise."""
    j = i - 1
    while j >= 0 and toks[j].norm in {"قد", "وقد", "has", "had", "have", "a"}:  # «قد كشف», "has said"
        j -= 1
    out: list[_Tok] = []
    while j >= 0 and len(out) < MAX_WORDS:
        t = toks[j]
        if t.scripture:
            return out[::-1]  # a quoted verse before the subject ends the clause before it
        if t.ends_clause and (out or t.raw.rstrip(_Q + ")]")[-1:] not in "،,"):
            # «… يوميا. وأشار»: the clause before has ended (a comma may stand between a subject and its verb)
            return out[::-1]
        if t.norm in clause:
            return out[::-1]
        if not t.core or _is_stop(t, stop):
            return []
        out.append(t)
        if j > 0 and toks[j - 1].ends_clause:
            return out[::-1]
        j -= 1
    return out[::-1] if j < 0 else []


def _clean(words: list[_Tok], outlet: str | None) -> tuple[str, bool] | None:
    """``(name, anonymous)`` from a noun phrase, or None when it names no one."""
    if not words:
        return None
    parts = [w.core for w in words]
    norms = [w.norm for w in words]
    quoted_name = False
    # leading clitics of the first word («وموقع», «لوكالة»)
    for c in _CLITICS:
        if norms[0].startswith(c) and len(norms[0]) > len(c) + 2 and norms[0][len(c):] in _MEDIA | _ANON_HEADS:
            k = len(parts[0]) - len(norms[0][len(c):])
            parts[0], norms[0] = parts[0][max(0, k):], norms[0][len(c):]
            break
    if _own(parts[0], outlet) and (words[0].quoted or norms[0] in _MEDIA):
        return None  # «نشرته "الاقتصادية" أخيرا» in aleqtisadiya's own article
    if (norms[0] in _MEDIA or (norms[0] in _STATIONS and words[1:2] and words[1].quoted)) and len(parts) > 1:
        if _own(parts[1], outlet):
            return None
        if norms[1] in _AGENCY_DESC:  # the descriptive name is the name: keep it whole, with its acronym
            raw = " ".join(w.raw for w in words)
            m = re.match(r"\S+(?:\s+\S+){0,3}?\s+\(\S+?\)", raw)
            name = (m.group() if m else " ".join(parts)).strip(_Q + _PUNCT_END + " ")
            return (_tidy(name), False) if _own(name, outlet) is False else None
        quoted_name = words[1].quoted  # «قناة «العربية»»: the medium's quoted name, even a common word
        parts, norms = parts[1:], norms[1:]
        if quoted_name:  # ... and only it («قناة "ان اتش كي" العامة», «قناة “إن تي في” الإخبارية التركية»)
            end = next((k for k, w in enumerate(words[1:]) if w.raw.rstrip(_PUNCT_END + _INVISIBLE)[-1:] in _Q), 0)
            parts, norms = parts[:end + 1], norms[:end + 1]
        while len(parts) > 1 and norms[-1] in _GENERIC and norms[-1] not in _MEDIA_NOUNS and not quoted_name:
            parts, norms = parts[:-1], norms[:-1]
        parts, norms = parts[:_medium_cap(norms, quoted_name)], norms[:_medium_cap(norms, quoted_name)]
    if norms and (norms[0] in _NOT_SOURCES or norms[0][:1].isdigit()):
        return None  # a rule, a plan; a number («وقال 20 في المئة إنهم …»)
    if ("رسول", "الله") in zip(norms, norms[1:]):
        return None  # «قال رسول الله صلى الله عليه وسلم»: the Prophet quoted in a hadith
    if norms and (norms[0] in _DOCUMENTS or (len(words) > 1 and _elative(words[0]) and norms[1] in _DOCUMENTS)):
        return None  # «أفاد تقرير صدر حديثا»: a document names no one unless its issuer is given («صادر عن X»)
    if len(norms) == 1 and norms[0] in _MEDIA:
        return None
    if norms[0] in _EVENTS and not words[0].quoted and (len(norms) == 1 or (
            not norms[1].startswith("ال") and not words[1].quoted
            and ((norms[1].endswith("يه") and len(norms[1]) >= 4) or (norms[1].endswith("ي") and len(norms[1]) >= 5)))):
        return None  # «كشفت دورة تدريبية …»: an unnamed event (a noun and its indefinite adjective) is no source
    anonymous = bool(norms) and norms[0] in _ANON_HEADS
    while len(parts) > 1 and norms[-1] in _LINK_PREPS and parts[-1] != "علي" and not quoted_name and not words[-1].quoted:
        parts, norms = parts[:-1], norms[:-1]  # «عضو في «…»» whose complement was not taken: no dangling preposition
    if not parts or (not anonymous and not quoted_name and all(n in _GENERIC or not n for n in norms)):
        return None
    # quotation marks inside an Arabic word are the name's own («مركز«بروكينغز»», «لـ"نزاهة"»): dropped
    name = " ".join(p.strip(_Q) if _is_latin(p) else _unquote(p.strip(_Q)) for p in parts if p.strip(_Q))
    if not name or (len(name) < 2) or _own(name, outlet):
        return None
    return _tidy(name), anonymous


def _medium_cap(norms: list[str], quoted: bool) -> int:
    """How many words after a medium are its name: four, or more when the fourth is inside a name of bare words
    that follows the medium's description («وكالة التصنيف الائتماني ستاندارد اند بورز», «هيئة الإذاعة البريطانية
    بي بي سي»): a run of words without the article after a definite one, none of them a number, a verbal noun or
    an accusative in «ا» (what the verb governs: «… البريطانية مقالا للكاتب …»)."""
    cap = 4
    if quoted or len(norms) <= cap:
        return cap
    start = cap - 1
    while start > 0 and not norms[start].startswith("ال"):
        start -= 1
    run = norms[start + 1:cap + 1]  # the bare words the cap would cut: the fourth and the fifth at least
    if not norms[start].startswith("ال") or start >= cap - 1 or any(
            w.startswith(("ال", "لل", "و", "ف")) or w[:1].isdigit() or w in _GENERIC or (len(w) > 2 and w.endswith("ا"))
            or (len(w) >= 6 and w[0] == "ا" and w[-2] == "ا") for w in run):
        return cap
    while cap < len(norms) and not norms[cap].startswith("ال") and norms[cap] not in _GENERIC and cap < 8:
        cap += 1
    return cap


_LINK_PREPS = _n("في علي عن")
_AR_CLITIC_Q = re.compile("^([لبوفك]ـ?)[\"«»“”„]")  # «لـ"نزاهة»: a clitic before a quoted name
_AR_INNER_Q = re.compile("[\"«»“”„]+")


def _unquote(word: str) -> str:
    """Quotation marks inside an Arabic word: dropped after a clitic («بـ"صحة» -> «بصحة»), a space between two
    words written together («مركز«بروكينغز» -> «مركز بروكينغز»)."""
    word = _AR_CLITIC_Q.sub(lambda m: m.group(1).rstrip("ـ"), word)
    if word.startswith("لال"):
        word = "لل" + word[3:]  # «ل» before the article drops its alif: «لـ«الهيئة»» -> «للهيئة»
    return re.sub(r"\s+", " ", _AR_INNER_Q.sub(" ", word)).strip()


def _source_like(got: tuple[str, bool] | None, head: Sequence[_Tok]) -> tuple[str, bool] | None:
    """After «بحسب / حسب / وفقا لـ» (which also mean "in line with" a rule, a plan, a ranking) a phrase is a
    source only when it looks like one: a medium or a body («وكالة», «وزارة», «منظمة», «مصدر» …), a title
    («المتحدث», «وزير» …), a quoted or Latin-script name, or a single word without the article (a proper
    name: «رويترز», «ويكيليكس»)."""
    if got is None or not head:
        return None
    name, anonymous = got
    t = head[0]
    first = normalize_text(name.split()[0]) if name else ""
    if anonymous or t.quoted or _is_latin(t.core) or first in _MEDIA or first in _BODIES:
        return got
    if len(name.split()) == 1 and not first.startswith("ال"):
        return got
    if t.norm in _MEDIA:  # «بحسب صحيفة "الوسط" البحرينية»: the medium was stripped from the name
        return got
    return None


def _tidy(name: str) -> str:
    return re.sub(r"\s+", " ", name.strip(_Q + " ")).strip()


# Outlets are often named by a Latin slug of their Arabic name («الوئام» = alweeam, «سبق» = sabq, «عكاظ» =
# okaz): both are reduced to a consonant skeleton to tell the document's own name.
_AR_SKELETON = str.maketrans({"ب": "b", "ت": "t", "ث": "t", "ج": "j", "ح": "h", "خ": "k", "د": "d", "ذ": "d",
                              "ر": "r", "ز": "z", "س": "s", "ش": "s", "ص": "s", "ض": "d", "ط": "t", "ظ": "z",
                              "غ": "g", "ف": "f", "ق": "k", "ك": "k", "ل": "l", "م": "m", "ن": "n", "ه": "",
                              "و": "w", "ي": "y", "ا": "", "ع": "", "ء": "", "ة": "", "ى": "", "پ": "p",
                              "چ": "j", "گ": "g", "ژ": "z", "ٹ": "t", "ڈ": "d", "ڑ": "r", "ں": "n", "ھ": ""})
_LAT_DIGRAPHS = (("kh", "k"), ("sh", "s"), ("th", "t"), ("dh", "d"), ("gh", "g"), ("ch", "j"), ("q", "k"),
                 ("c", "k"), ("x", "ks"), ("ph", "f"), ("g", "j"), ("v", "f"))


def _skeletons(name: str) -> set[str]:
    """Consonant skeletons of a name in either script, without the article («ال», al-, the)."""
    s = normalize_text(name).replace(" ", "")
    if not s:
        return set()
    if re.match(r"[0-9]*[A-Za-zÀ-ÿ]", s):
        # Arabizi digits for letters with no Latin one («3alyoum» = عاليوم): «3» ع and «2» ء are dropped like
        # the Arabic ones, «7» is ح
        s = re.sub(r"^(?:al-?|el-?|the)", "", s.replace("3", "").replace("2", "").replace("7", "h"))
        for a, b in _LAT_DIGRAPHS:
            s = s.replace(a, b)
        s = re.sub(r"[^a-z]", "", s)
        s = re.sub(r"[aeiou]", "", re.sub(r"h(?=[^aeiou]|$)", "", s))
        forms = {s, s[:-1] if s.endswith("t") else s}  # «الحياة» = alhayat: a final t may be the ة
    else:
        s = re.sub(r"^(?:ال|وال|بال|لل)", "", s).translate(_AR_SKELETON)
        forms = {re.sub(r"[^a-z]", "", s).replace("g", "j")}
    forms = {re.sub(r"(.)\1+", r"\1", f) for f in forms}  # «مكة» = makkah
    # و and ي are vowels as often as consonants, in either script
    return {v for f in forms for v in (f, f.replace("w", ""), f.replace("y", ""), f.replace("w", "").replace("y", ""))} - {""}


def _own(name: str, outlet: str | None) -> bool:
    """The document's own outlet (its name inside the phrase or the phrase inside its name, or the same
    consonants in another script)."""
    if not outlet:
        return False
    a, b = normalize_text(name), normalize_text(outlet)
    strip = lambda s: re.sub(r"^(?:ال|al[- ]?|the |la |le )", "", s)  # noqa: E731
    a, b = strip(a), strip(b)
    if a and b and (a == b or (len(b) >= 3 and b in a) or (len(a) >= 3 and a in b)):
        return True
    sa, sb = _skeletons(name), _skeletons(outlet)
    return any(len(x) >= 2 for x in sa & sb)


def _cites(toks: list[_Tok], i: int) -> bool:
    """«نقلت X عن Y», «نقلت X أن …»: the «عن» or «أن» of a citing «نقل», within its clause (not «عن طريق»)."""
    for k in range(i + 1, min(len(toks), i + 1 + MAX_WORDS)):
        x = toks[k]
        if (x.norm in {"عن", "عنه", "عنها", "ان", "بان"} and (k + 1 >= len(toks) or toks[k + 1].norm != "طريق")
                and toks[k - 1].norm != "نيابه"):  # «نقل التعازي نيابة عن …» conveys, cites no one
            return True
        if x.ends_clause:
            return False
    return False


_BEFORE_NAMES = _NAME_LINKS | _n("""الملك الرئيس السلطان الامام الوزير السفير النائب الامين السيد السيده الفنان الفنانه
اللاعب المدرب الكاتب الاعلامي الزميل الطبيب البروفيسور المستشار القاضي الحاج الداعيه الشاعر الروائي""")  # «بجامعة الملك خالد»


def _object_attached(t: _Tok) -> bool:
    """«أوردته», «نشرتها», «ذكرته»: the verb carries its object as a pronoun."""
    return len(t.norm) >= 5 and t.norm.endswith(("ته", "تها", "ها", "هم"))


def _subject_only(words: list[_Tok]) -> list[_Tok]:
    """A cue verb with no «أن», colon or quote after its phrase governs an object, which in verb–subject–object
    order runs on after the subject («أعلنت وزارة الخدمة المدنية أسماء …», «وأعلن الجيش عزل مرسي»,
    «أكد المالكي دعمه»): the subject ends at the first bare word (no article, no attached «و ب ل ف ك», not a number) after one with the article (a name
    after a title keeps going: «المهندس مدني», «الأمير علي»)."""
    for k in range(1, len(words)):
        if _is_stop(words[k], _AR_STOP):
            continue  # a link :func:`_phrase_after` took in on purpose («المشرف على …», «مدير … في شركة …»)
        if k == 1 and _nisba_before_name(words):
            # «أعلنت الأميركية سيرينا وليامس المصنفة أولى عالميا انسحابها»: the nisba is the title before the
            # name, and what follows the name describes her
            return words[:1 + _nisba_before_name(words)]
        if (_new_constituent(words[k - 1], words[k], lam=words[0].norm not in _PERSON_TITLES)
                or _ba_object(words[k], words[k + 1] if k + 1 < len(words) else None)):
            return words[:k]
    return words


def _nisba_before_name(words: list[_Tok]) -> int:
    """A definite nisba adjective used as a noun («الأميركية», «الفرنسي»), then a personal name of two or three
    bare words: the nisba stands where a title would («اللاعبة الأميركية سيرينا وليامس»). A country named by its
    nisba and the verb's object («أعلنت السعودية تخصيص مبلغ …», «أكدت السعودية وقف …») is not: the words
    after it are then a verbal noun, its governed noun, or a single bare word before a definite one."""
    first = words[0].norm
    if not (first.startswith("ال") and first.endswith(("ي", "يه")) and len(first) >= 6) or first in _BEFORE_NAMES:
        return 0
    run = 0
    for w in words[1:4]:
        if not _bare_name_word(w) or _lam_word(w) or "\u064b" in w.raw or w.norm.endswith("ات"):
            break  # («الملحقية إصدارًا», «الثبيتي ملابسات …», «… لهيئة الإذاعة»: no name)
        run += 1
        if w.ends_clause:
            break
    return run if run >= 2 else 0


def _definite(t: _Tok, lam: bool = False) -> bool:
    """The article; with ``lam`` also behind the preposition «ل» («للسيارات» is «ل» + «السيارات»)."""
    return t.norm.startswith("ال") or (lam and t.norm.startswith("لل") and len(t.norm) >= 5 and not _is_latin(t.core))


def _new_constituent(prev: _Tok, cur: _Tok, lam: bool = False) -> bool:
    """A bare word (no article, no attached «و ب ل ف ك», not a number, a Latin or a quoted name) after one with
    the article that is no title before a name: in a noun phrase the words after a definite one are definite
    too (its adjectives, «وزارة الخدمة المدنية»), so a bare one starts something else. With ``lam`` a genitive
    behind «لل» counts as definite too («شركة هوندا موتور اليابانية للسيارات ارتفاع صافي أرباحها»: the verb's
    object), which the caller asks for when no person's title heads the phrase (after one, the bare word is
    mostly the person's name: «المدير العام للمنظمة روبرتو أزيفيدو»). «غير» + a definite adjective is one
    adjective («للكيماويات غير العضوية»)."""
    return (_definite(prev, lam) and prev.norm not in _BEFORE_NAMES and not cur.norm.startswith("ال")
            and cur.norm[:1] not in "وبلفك" and not _is_latin(cur.core) and not cur.quoted
            and not cur.norm[:1].isdigit() and cur.norm != "غير")


def _ba_object(t: _Tok, nxt: _Tok | None) -> bool:
    """«أفاد مصدر أمني عراقي بمقتل شخص»: «ب» + a verbal noun after the subject is what was reported (the «ب» that
    «أفاد / صرح / أقر» govern), not where the speaker sits («المتحدث بوزارة الصحة», «مدير التعليم بعنيزة»). The
    verbal noun is told by its form — افتعال / انفعال / استفعال («بارتفاع», «بانفجار»), مَفعَل («بمقتل», «بمصرع»),
    مُفاعَلة («بمواصلة»), تفعيل («بتسجيل») — and an indefinite word or a number after it (its own genitive or
    object: a place or a body is followed by its definite name or by the next title), never a body's head."""
    core = t.core
    if (t.quoted or _is_latin(core) or not core.startswith("ب") or core.startswith("بال") or len(core) < 5
            or t.norm in _NAME_LINKS or "الله" in core):
        return False
    stem = t.norm[1:]
    if stem in _OFFICE_HEADS or stem in _BODIES or stem in _MEDIA or stem in _NAME_LINKS:
        return False
    form = ((len(stem) >= 6 and stem[0] == "ا" and stem[-2] == "ا" and (stem[2] == "ت" or stem.startswith(("است", "ان"))))
            or (len(stem) == 4 and stem[0] == "م")
            or (len(stem) == 6 and stem[0] == "م" and stem[2] == "ا" and stem[-1] == "ه")
            or (len(stem) == 5 and stem[0] == "ت" and stem[3] == "ي")
            or (len(stem) == 4 and stem[2] == "و" and stem[0] not in "اتي" and stem[1] not in "اوي"))  # فعول: «بوجود», «بوقوع» (not «بتبوك», «براون», «بارون»)
    if not form or nxt is None:
        return False
    return nxt.norm[:1].isdigit() or (not nxt.norm.startswith("ال") and nxt.norm not in _NAME_LINKS and not _is_latin(nxt.core)
                                      and not nxt.quoted)


# titles of a person, after which (and after their complements and adjectives) a personal name follows
# («الرئيس الأمريكي باراك أوباما», «المدرب الأوروغوياني خورخي داسيلفا», «وزير الخارجية الروسي سيرجي لافروف»)
_PERSON_TITLES = (_BEFORE_NAMES - _n("بن بنت ابن ابو ام عبد ال آل باسم")) | _n("""
وزير وزيره الوزيره رئيس رئيسه الرئيسه مدير مديره المدير المديره متحدث متحدثه المتحدث المتحدثه ناطق ناطقه الناطق
الناطقه سفير سفيره السفيره مستشار مستشاره المستشاره امين امينه الامينه نائب نائبه النائبه قائد القائد محافظ
المحافظ مبعوث المبعوث ممثل الممثل الممثله مندوب المندوب مدرب لاعب لاعبه اللاعبه عضو العضو وكيل الوكيل مساعد
المساعد المشرف مشرف الباحث باحث الخبير خبير المحلل محلل الكاتبه الاعلاميه الطبيبه الداعيه المدربه امير""")


def _noun_phrase(words: list[_Tok]) -> bool:
    """A subject before its verb is one noun phrase, not a clause: a bare word after a definite one starts another
    constituent («يمثل مصنع كسوة الكعبة المشرفة صورة ناصعة … تؤكد عناية …»: the verb belongs to a clause
    describing «صورة»), unless it is a person's name after their title («الرئيس الأمريكي باراك أوباما يرى …»)."""
    for k in range(1, len(words)):
        if _new_constituent(words[k - 1], words[k]):
            # a name also follows a descriptive adjective in «ي» («الحارس الرائدي أحمد الكسار»), when it has two
            # words at least (a lone bare word there is a predicate: «الشارع الإيراني هادئ، يرى …») and they are
            # not all feminine in «ة» (a noun and its adjective: «المهرجان الصيفي فرصة كبيرة تؤكد …»)
            rest = words[k:]
            return words[0].norm in _PERSON_TITLES or (words[k - 1].norm.endswith("ي") and len(rest) >= 2
                                                        and not all(w.core.endswith("ة") for w in rest))
    return True


def _document_author(toks: list[_Tok], d: int, outlet: str | None) -> tuple[int, tuple[str, bool]] | None:
    """«بحث جديد لتشاتام هاوس», «دراسة حديثة لجامعة هارفارد», «تقرير للأمم المتحدة»: a document (token ``d``),
    at most two adjectives, then «ل» + whose it is: the author, when it looks like a source (a body, a medium,
    a quoted or Latin name, or a proper name without the article that is no plural: not «لباحثين أمريكيين»)."""
    definite = toks[d].norm.startswith("ال")
    for k in range(d + 1, min(len(toks), d + 5)):
        x = toks[k]
        if toks[k - 1].ends_clause or _is_stop(x, _AR_STOP):
            return None
        if not definite and x.norm.startswith("ال") and k == d + 1:
            # «تقرير اللجنة الإعلامية لسوق عكاظ»: a definite word after an indefinite noun is its genitive (an
            # adjective would agree in definiteness): whose the document is
            view, rest = x, k
        elif x.norm[:1].isdigit() or x.norm == "ال":
            continue  # «التقرير الـ 51 لمؤسسة …»
        elif not (x.core.startswith("ل") and len(x.core) >= 4 and not _is_latin(x.core)):
            if x.norm.startswith("ال") != definite:
                return None
            continue  # an adjective, agreeing with the document («بحث جديد», «التقرير السنوي»)
        else:
            view, rest = _view(x, _without_lam(x)), k + 1
        if rest == k:
            phrase = _phrase_after(toks, k, _AR_STOP)
        else:
            phrase = [view] + ([] if x.ends_clause else _phrase_after(toks, rest, _AR_STOP))
        cut = next((j for j, w in enumerate(phrase) if w.norm in _ISSUED or w.norm in _PUBLISHED), len(phrase))
        phrase = phrase[:cut]  # «لمؤسسة النقد العربي السعودي الصادر مؤخرا»
        if phrase and not _says_that(toks, toks.index(phrase[-1], k) if phrase[-1] in toks[k:] else k):
            phrase = _subject_only(phrase)  # «إحصائية للأمم المتحدة مقتل 365 طفلا»: the verb's object follows
        got = _clean(phrase, outlet)
        if got is None:
            return None
        words = got[0].split()
        proper = (not got[1] and all(not normalize_text(w).startswith("ال") for w in words)
                  and not normalize_text(words[0]).endswith(("ين", "ون", "ات")))
        got = _source_like(got, [view]) or (got if proper else None)
        return (x.start, got) if got else None
    return None


_ELATIVES = _n("اخر اول")  # «آخر تقرير», «أول دراسة» (hollow and doubled roots: not of the form أفعل)


def _elative(t: _Tok) -> bool:
    """An elative before the noun it qualifies («أحدث تقرير», «أبرز دراسة», «آخر بيان»): the form أفعل of four
    letters without the article, or «آخر / أول»."""
    n = t.norm
    return not t.quoted and not _is_latin(n) and (n in _ELATIVES or (len(n) == 4 and n[0] == "ا" and n[1] != "ل"
                                                                 and "ا" not in n[1:] and "و" not in n[1:3]))


def _object_after_listener(toks: list[_Tok], k: int) -> bool:
    """Token ``k`` is a «ل» word (with the definite words after it) followed by what the verb governs: «أن»,
    a colon or a quotation, a word that opens an object («عدم», «أهمية» …), a verbal noun or a noun with a
    pronoun («حاجته»). In verb–subject–object order the «ل» phrase is then whom it was said to, and what
    stands before it is the whole subject («… خورخي داسيلفا للجهاز الإداري عدم حاجته للاعب»)."""
    if k >= len(toks) or not _lam_word(toks[k]) or toks[k].ends_clause:
        return False
    j = k + 1
    while j < len(toks) and j <= k + 3 and toks[j].norm.startswith("ال") and not _is_stop(toks[j], _AR_STOP):
        if toks[j].ends_clause:
            return False
        j += 1
    if j >= len(toks):
        return False
    x = toks[j]
    return (x.norm in {"ان", "انه", "انها", "انهم", "بان"} or x.norm in _GOVERNED or _verbal_noun(x)
            or (_object_like(x) and not x.norm.startswith("ال")) or toks[j - 1].raw.rstrip()[-1:] == ":"
            or (x.raw[:1] in _Q and x.raw.rstrip(_PUNCT_END)[-1:] not in _Q))


def _says_that(toks: list[_Tok], i: int) -> bool:
    """«أن / إن / بأن» or a colon within the clause after token ``i``: what follows is a view or a statement."""
    inserts = 0
    for k in range(i + 1, min(len(toks), i + 2 + MAX_WORDS)):
        if toks[k].norm in {"ان", "انه", "انها", "انهم", "بان", "بانه", "بانها"} or toks[k - 1].raw.rstrip()[-1:] == ":":
            if not inserts or toks[k - 1].norm not in _AN_GOVERNORS:  # (in the adverbial, «، في إشارة إلى أنه»: إلى's)
                return True
        if toks[k - 1].ends_clause:
            # «أكد وزير الخارجية جون كيري، في مقابلة مع قناة «العربية»، أنه …»: an adverbial set off by commas
            # (where, when, to whom) stands between the speaker and what is said
            if (inserts < 2 and toks[k - 1].raw.rstrip(_Q + ")]" + _INVISIBLE)[-1:] in "،,"
                    and (toks[k].norm in _INSERTS or _listener_at(toks[k]) is not None
                         or (_lam_word(toks[k]) and toks[k].norm not in _LAM_CONJ))):  # «، للصحافيين أمس، إن»
                inserts += 1
                continue
            return False
    return False


_AN_GOVERNORS = _n("الي علي من عن حول بشان في مع")  # prepositions that govern an «أن» of their own
_INSERTS = _n("في خلال عبر مع امام لدي اثناء عقب بعد قبل امس اليوم مساء صباح الليله الاحد الاثنين الثلاثاء الاربعاء "
              "الخميس الجمعه السبت")  # what may open an adverbial between commas (as may whom it was told, «للصحفيين»)
_LAM_CONJ = _n("لكن لكنه لكنها لكنهم لكننا لذلك لذا لهذا لان لانه لانها لانهم لكي")  # «ل» words opening a clause


def _speech_follows(toks: list[_Tok], k: int) -> bool:
    """What is said starts at token ``k``: «أن / إن», a colon or a quote (or the clause ended with one)."""
    if k >= len(toks):
        return False
    prev = toks[k - 1].raw.rstrip() if k > 0 else ""
    return toks[k].norm in {"ان", "انه", "انها", "بان"} or toks[k].raw[:1] in _Q or prev[-1:] in ":" + _Q


def _lam_word(t: _Tok) -> bool:
    """An Arabic word with the preposition «ل» attached («لرويترز», «للصحفيين», «لمجلس …»). A word written «لا…»
    with a bare alif is not one: «ل» before a hamza is written «لأ / لإ», so «لا» begins the word itself
    («لافروف», «لاريجاني», «لاعب») or it is «ل» before a verbal noun of a derived form («لاستخدام»), never
    before whom something was said to (but «لابنه»: «ابن» is a noun with a wasl alif)."""
    core = t.core
    return (core.startswith("ل") and len(core) >= 4 and not _is_latin(core)
            and (not core.startswith("لا") or core.startswith("لابن")))


def _told_at(toks: list[_Tok], k: int) -> bool:
    """«… لرويترز عبر الهاتف», «… للصحفيين إن»: a «ل» word right before a boundary is whom the words
    were said to, not part of the speaker's title («المتحدث الرسمي لشرطة منطقة الرياض»)."""
    t = toks[k]
    if not _lam_word(t):
        return False
    if k + 1 >= len(toks):
        return False  # the passage ends here: nothing tells whom it was said to
    if t.ends_clause:
        return True
    nxt = toks[k + 1]
    if nxt.core == "علي" and k + 2 < len(toks) and not toks[k + 1].ends_clause and toks[k + 2].norm not in _ALA_NOUNS \
            and not _is_stop(toks[k + 2], _AR_STOP) and toks[k + 2].norm not in _GOVERNED and not _verbal_noun(toks[k + 2]):
        return False  # «المتحدث الرسمي للإمارة علي بن موسى»: the name «علي», not «على»
    return nxt.raw[:1] in _Q or nxt.norm in _AR_STOP


def _names_listener(t: _Tok) -> bool:
    """A «ل» word before a boundary names whom it was said to when it is a name («لرويترز», «لـ«عكاظ»»),
    not «لل» + a common noun («موالية للشرعية», «للصحفيين»)."""
    core = t.core[1:].lstrip("ـ")
    return core[:1] in _Q or not t.core.startswith("لل")


def _without_lam(t: _Tok) -> str:
    """A «ل» word's word without its «ل»: «للجنة» -> «اللجنة» (the article's alif is dropped after «ل»),
    «لـCNN» -> «CNN», «لتشاتام» -> «تشاتام»."""
    return ("ال" + t.core[2:]) if t.norm.startswith("لل") else t.core[1:].lstrip("ـ")


def _view(t: _Tok, core: str) -> _Tok:
    """A token with part of its text removed («لوكالة» -> «وكالة»), keeping its position."""
    v = _Tok.__new__(_Tok)
    v.start, v.end, v.raw, v.core, v.norm = t.start, t.end, core, core, normalize_text(core)
    v.ends_clause, v.quoted, v.scripture = t.ends_clause, False, t.scripture
    return v


def _listener_at(t: _Tok) -> str | None:
    """The part of «لـCNN», «لوكالة», «لصحيفة» after its «ل» when it names a medium, else None."""
    if not t.core.startswith("ل") or len(t.core) < 3:
        return None
    core = t.core[1:].lstrip("ـ")
    if core[:1] in _Q and len(core) > 2:  # «لـ«عكاظ»»: a quoted name
        return core.strip(_Q)
    if _is_latin(core) or normalize_text(core) in _MEDIA:
        return core
    return None


def _named_listener(toks: list[_Tok], i: int, outlet: str | None) -> tuple[int, str] | None:
    """«لـCNN بالعربية», «لوكالة الصحافة الفرنسية», «لصحيفة الغارديان»: the outlet a statement was
    given to (token ``i`` is one :func:`_listener_at` accepts)."""
    t = toks[i]
    core = _listener_at(t)
    quoted = core is not None and t.core[1:].lstrip("ـ")[:1] in _Q
    if core is None and _told_at(toks, i) and _names_listener(t):  # «لرويترز عبر الهاتف»
        core = t.core[1:].lstrip("ـ")
        core = ("ا" + core) if core.startswith("ل") else core
        quoted = True
    if core is None:
        return None
    if quoted:
        if t.core[1:].lstrip("ـ")[:1] in _Q and t.raw.rstrip(_PUNCT_END + _INVISIBLE)[-1:] not in _Q:
            # «لـ"عين اليوم"»: a quoted name of several words, up to its closing quote
            for x in toks[i + 1:i + 4]:
                core += " " + x.core
                if x.raw.rstrip(_PUNCT_END + _INVISIBLE)[-1:] in _Q or x.ends_clause:
                    break
            else:
                core = _listener_at(t) or core
        core = core.strip(_Q)
        n = normalize_text(core)
        # a quoted outlet is also the document's own when one of its words is the outlet's slug («لـ«الشرق
        # الأوسط»» in aawsat's text, «لـ”عين اليوم”» in 3alyoum's)
        own = _own(core, outlet) or (" " in core and any(_own(w, outlet) for w in core.split()
                                                         if normalize_text(w) not in _GENERIC))
        bad = not n or own or n in _GENERIC or n in _AR_STOP or n in _NOT_SOURCES
        return None if bad else (t.start, core)
    if _is_latin(core):
        words = [core]
        for x in toks[i + 1:i + 3] if not t.ends_clause else ():
            if not (_is_latin(x.core) or x.norm in _LATIN_ARABIC):
                break
            words.append(x.core)
            if x.ends_clause:
                break
        name = " ".join(words)
        return None if _own(name, outlet) or normalize_text(name) in _GENERIC else (t.start, name)
    phrase = [_view(t, core)] + ([] if t.ends_clause else _phrase_after(toks, i + 1, _AR_STOP))
    got = _clean(phrase, outlet)
    return (t.start, got[0]) if got and not got[1] else None


def attributions(text: str, outlet: str | None = None) -> list[tuple[int, str]]:
    """Every source cited with a reporting cue in one text, as ``(position, name)`` in text order;
    anonymous kinds only when nothing named is cited. ``outlet``: the document's own outlet, never
    its own source."""
    if not text:
        return []
    norms = [_word_norm(w) for w in text.split()]  # the tokens' words (``split`` cuts where ``\S+`` does)
    cues = list(compress(range(len(norms)), map(_TRIGGERS.__contains__, norms)))  # where a cue may start
    if not cues:  # (cheaper than :func:`may_cite` on the whole text, and as sound: every cue starts at one)
        return []
    holy = [m.span() for m in _SCRIPTURE.finditer(text)] if "((" in text or "﴿" in text else []
    toks = _Toks(text, holy)
    named: dict[int, str] = {}
    given: set[int] = set()  # cue verbs whose statement an «في تصريح لـX،» before them says was given to X
    anon: dict[int, str] = {}

    def add(pos: int, got: tuple[str, bool] | None) -> None:
        if got:
            (anon if got[1] else named).setdefault(pos, got[0])

    n = len(toks)
    for i in cues:
        w, t = norms[i], toks[i]
        if i in given:
            continue
        if t.scripture:  # (no cue starts here: every branch below needs one)
            continue  # a verse quoted in «(( … ))» or «﴿ … ﴾» cites no one («… ومساجد يذكر فيها اسم الله …»)
        nxt = toks[i + 1].norm if i + 1 < n else ""
        # ---- Arabic
        verb = _strip_clitic(w, _AR_VERBS)
        if verb in _AR_NEEDS_AN and not _cites(toks, i):
            continue
        if verb in _AR_SEES and not _says_that(toks, i):
            continue
        if verb in _AR_AIRS and not _says_that(toks, i):
            continue  # «وبثت محطات الإذاعة … تقارير مصورة»: aired a programme, cites no one
        if t.raw[:1] in _Q and t.raw.rstrip(_PUNCT_END)[-1:] not in _Q:
            continue  # «العرض المسرحي «قال الراوي»»: a cue opening a quotation or a title cites no one
        if (w in _NOUN_TOO and i > 0 and not toks[i - 1].ends_clause
                and toks[i - 1].norm not in _AR_CLAUSE | {"قد", "وقد"}):
            continue  # the bare form inside a clause is the noun («يضمن كشف …», «ويقدم كشف …»)
        if verb in _AR_VERBS:
            # the outlet the statement was given to is named rather than the speaker
            listener = None
            in_quote = False
            for k in range(i + 1, min(n, i + 1 + MAX_WORDS)) if verb not in _AR_ADDS else ():  # in the speaker's phrase
                x = toks[k]
                opens = x.raw[:1] in _Q and x.raw.rstrip(_PUNCT_END + _INVISIBLE)[-1:] not in _Q
                if in_quote or (opens and k > i + 1 and _quote_closes(toks, k, 6)):
                    # a short quoted description inside the speaker's phrase («أم محمد «أرملة وأم لطفلين» أنها»):
                    # its words are no one told
                    in_quote = x.raw.rstrip(_PUNCT_END + _INVISIBLE)[-1:] not in _Q
                    if x.ends_clause:
                        break
                    continue
                # «وقال لافروف في …»: a «ل» name right after the verb is the speaker, unless it is a medium or quoted
                if k > i + 1 and _title_body(toks[k - 1], x) and not toks[k - 1].ends_clause:
                    continue  # «المتحدث الرسمي لـ"نزاهة"»: the spokesman's body, quoted (see :func:`_title_body`)
                if _listener_at(x) is not None or (k > i + 1 and _told_at(toks, k)):
                    listener = _named_listener(toks, k, outlet)
                    break
                if x.norm in {"في", "من"} and k <= i + 3 and toks[i + 1].norm in _ANON_HEADS and not toks[k - 1].ends_clause:
                    continue  # «وقال مصدر في النادي لـ"…"»: where an anonymous source sits (as in :func:`_inner_word`)
                if _is_stop(x, _AR_STOP) or _object_like(x) or x.ends_clause or opens:
                    break  # (a quotation right after the verb is what is said: «وأوضحت "إنني سعيدة لأني …»)
            if listener:
                named.setdefault(*listener)
                continue
            imperfect = verb[:1] in "يت"
            # «هذا الفعل يؤكد ضلال …»: an imperfect verb after a noun has its subject before it (what follows
            # is its object); at a clause start («ويقول الزعيمان …») the subject follows
            clause_start = i == 0 or w != verb or toks[i - 1].ends_clause or toks[i - 1].norm in _AR_CLAUSE
            after_qad = i > 0 and toks[i - 1].norm in {"قد", "وقد"}  # «وكان X قد أكد وجود …»: X is before
            after = ([] if t.ends_clause or after_qad or (imperfect and not clause_start)
                     else _phrase_after(toks, i + 1, _AR_STOP))
            if verb in _AR_ADDS and after and not _speech_follows(toks, toks.index(after[-1], i) + 1):
                after = []  # «ويضيف المشروع قواعد جديدة»: adds something, says nothing
            if after and _oblique_plural(after[0]):
                after = []  # the verb's object: the speaker was named before
            doc = 1 if len(after) > 1 and _elative(after[0]) and after[1].norm in _DOCUMENTS else 0
            if after and after[doc].norm in _DOCUMENTS:  # «وقال بيان صادر عن المقاومة»: whoever issued it
                k = next((k for k in range(i + 2, min(n, i + 2 + MAX_WORDS))
                          if (toks[k].norm == "عن" and toks[k - 1].norm in _ISSUED) or toks[k].norm in _PUBLISHED), None)
                if k is None:  # «أوضح بحث جديد لتشاتام هاوس أن», «أفاد أحدث تقرير عقاري لمصرف …»: whose it is
                    issuer = _document_author(toks, toks.index(after[doc], i), outlet)
                    if issuer:
                        add(issuer[0], issuer[1])
                        continue
                after = _phrase_after(toks, k + 1, _AR_STOP) if k is not None else after
            if (len(after) > 1 and after[0].norm not in _MEDIA and not _object_attached(t)
                    and not _says_that(toks, toks.index(after[-1], i))
                    and not _object_after_listener(toks, toks.index(after[-1], i) + 1)):
                after = _subject_only(after)  # («أوردته صحيفة الديلي ميل»: the object is the pronoun; a medium's name follows it)
            got = _clean(after, outlet)
            if got is not None:
                add(toks[i + 1].start, got)
            elif imperfect or (i > 0 and toks[i - 1].norm in {"قد", "وقد"}):
                # subject first: «موقع ديبكا الإسرائيلي، يرى», «وكان موقع ديبكا قد كشف» (a past verb
                # without «قد» after a noun is mostly a relative clause: «اتفاق أعلن عنه»)
                before = _phrase_before(toks, i, _AR_STOP, _AR_CLAUSE)
                add(t.start, _clean(before, outlet) if _noun_phrase(before) else None)
            continue
        if _strip_clitic(w, _AR_PREPS) in _AR_PREPS and not t.ends_clause and nxt not in {"ما", "لما"}:
            add(t.start, _source_like(_clean(_phrase_after(toks, i + 1, _AR_STOP), outlet), toks[i + 1:i + 2]))
            continue
        if _strip_clitic(w, _AR_PREP_L) in _AR_PREP_L and i + 1 < n and not t.ends_clause:
            nt = toks[i + 1]
            if nt.norm in {"لما", "ل", "الي"}:
                continue  # «وفقا لما ذكرته X»: the verb that follows is the cue
            if nt.norm.startswith("لل") or (nt.norm.startswith("ل") and len(nt.norm) > 3):
                view = _view(nt, _without_lam(nt))
                if _is_stop(view, _AR_STOP):
                    continue  # «وفقا لهذا التنظيم»
                phrase = [view] + ([] if nt.ends_clause else _phrase_after(toks, i + 2, _AR_STOP))
                add(nt.start, _source_like(_clean(phrase, outlet), [view]))
            continue
        if (w, nxt) in _AR_PAIRS and i + 2 < n:
            add(toks[i + 2].start, _clean(_phrase_after(toks, i + 2, _AR_STOP), outlet))
            continue
        if w in _AR_TOLD and i + 1 < n and toks[i + 1].core.startswith("ل"):
            listener = _named_listener(toks, i + 1, outlet)
            if listener:
                named.setdefault(*listener)
                # «وفي تصريح لوكالة فرانس برس، قالت بارول خاتون …»: the statement given to the outlet is the
                # speaker's verb right after this adverbial, whose speaker is then not counted apart (as in
                # «قال X لوكالة …», the outlet is named rather than the speaker)
                k = i + 1
                while k < min(n - 1, i + 8) and not toks[k].ends_clause:
                    k += 1
                if (toks[k].ends_clause and toks[k].raw.rstrip(_Q + ")]" + _INVISIBLE)[-1:] in "،,"
                        and k + 1 < n and _strip_clitic(norms[k + 1], _AR_VERBS) in _AR_VERBS):
                    given.add(k + 1)
            continue
        # ---- Urdu (postpositions after the source)
        for cue in _UR_BEFORE if w in _UR_FIRST else ():
            if tuple(x.norm for x in toks[i:i + len(cue)]) == cue:
                add(t.start, _clean(_phrase_before(toks, i, _UR_STOP, _UR_CLAUSE), outlet))
                break
        if tuple(x.norm for x in toks[i:i + 2]) == _UR_TOLD:
            # the listener: the words after the speaker's «نے», when they are a medium («اخبار نیویارک ٹائمز»)
            j = i - 1
            words: list[_Tok] = []
            while j >= 0 and toks[j].norm != normalize_text("نے") and len(words) < MAX_WORDS and not toks[j].ends_clause:
                words.append(toks[j])
                j -= 1
            words.reverse()
            if words and words[0].norm in _MEDIA:
                got = _clean(words, outlet)
                if got and not got[1]:
                    named.setdefault(words[0].start, got[0])
        # ---- English
        if (w, nxt) in _EN_AFTER and i + 2 < n:
            add(toks[i + 2].start, _clean(_latin_after(toks, i + 2), outlet))
            continue
        if w in _EN_VERBS:
            if i > 0 and (toks[i - 1].ends_clause or toks[i - 1].raw[-1:] in _Q):  # '"…," said John Kerry'
                add(t.start, _clean(_latin_after(toks, i + 1), outlet))
            else:
                add(t.start, _clean(_latin_before(toks, i), outlet))
            if w in {"told", "tells"} and i + 1 < n and toks[i + 1].core[:1].isupper():
                got = _clean(_latin_after(toks, i + 1), outlet)
                if got and not got[1]:
                    named.setdefault(toks[i + 1].start, got[0])
            continue
        # ---- French
        if w in _FR_AFTER and i + 1 < n:
            add(toks[i + 1].start, _clean(_latin_after(toks, i + 1), outlet))
            continue
        if w in _FR_VERBS and i > 0 and toks[i - 1].norm in {"a", "ont"}:
            if i > 1 and (toks[i - 2].ends_clause or toks[i - 2].raw[-1:] in _Q):  # «…, a déclaré le ministre»
                add(t.start, _clean(_latin_after(toks, i + 1), outlet))
            else:
                add(t.start, _clean(_latin_before(toks, i - 1), outlet))
            continue
        if w in _FR_PRESENT:
            if i > 0 and (toks[i - 1].ends_clause or toks[i - 1].raw[-1:] in _Q):
                add(t.start, _clean(_latin_after(toks, i + 1), outlet))
            else:
                add(t.start, _clean(_latin_before(toks, i), outlet))
    found = named if named else anon
    return sorted(found.items())


def _latin_after(toks: list[_Tok], i: int) -> list[_Tok]:
    """A Latin-script noun phrase from token ``i`` ("John Kerry", "l'agence Reuters"), cut at a stop word."""
    return _latin_trim(_phrase_after(toks, i, _LATIN_STOP))


def _latin_before(toks: list[_Tok], i: int) -> list[_Tok]:
    """A Latin-script noun phrase ending before token ``i`` ("The Interior Ministry" said)."""
    return _latin_trim(_phrase_before(toks, i, _LATIN_STOP, set()))


def _latin_trim(words: list[_Tok]) -> list[_Tok]:
    """Drop leading articles (keeping "a source"); a phrase without a capitalised word is only kept
    when it is an anonymous kind ("officials", "a source")."""
    ws = list(words)
    while ws and ws[0].norm in {"the", "le", "la", "les", "l'"}:
        ws = ws[1:]
    if ws and ws[0].core.lower().startswith("l'") and len(ws[0].core) > 2:
        ws = [_view(ws[0], ws[0].core[2:])] + ws[1:]
    if not ws:
        return []
    if any(w.core[:1].isupper() for w in ws) or any(w.norm in _LATIN_BODIES for w in ws):
        return ws
    if any(w.norm in _ANON_HEADS for w in ws):
        return [w for w in ws if w.norm not in {"a", "an", "une", "des"}] or ws
    return []


def find_attribution(texts: Sequence[str], outlets: Sequence[str | None] | None = None) -> str | None:
    """Named source of the claim: the name most frequent across ``texts`` (one vote per
    text), ties broken by earliest first appearance then by name; ``None`` if none.
    ``outlets``: each text's own outlet (never counted as its source)."""
    outs = list(outlets) if outlets is not None else [None] * len(texts)
    return vote_attribution([attributions(t or "", o) for t, o in zip(texts, outs)])


def vote_attribution(found: Sequence[Sequence[tuple[int, str]]]) -> str | None:
    """:func:`find_attribution` from each text's :func:`attributions`, in text order (so a cluster
    can keep its members' attributions and vote again when members are added, without the texts)."""
    votes: dict[str, list] = {}  # key -> [count, first (text index, position), surface]
    for ti, names in enumerate(found):
        seen: set[str] = set()
        for pos, name in names:
            key = normalize_text(name)
            if key in seen:
                continue
            seen.add(key)
            v = votes.setdefault(key, [0, (ti, pos), name])
            v[0] += 1
    if not votes:
        return None
    best = min(votes.items(), key=lambda kv: (-kv[1][0], kv[1][1], kv[0]))
    return best[1][2]
