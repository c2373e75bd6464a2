"""Language identification: langdetect, corrected and sped up with script evidence.

langdetect alone has two problems for an Arabic news corpus: it labels Arabic text
Persian or Urdu now and then (all three share one script and many words), and its
cost grows with the text, too slow for tens of thousands of articles. So:

* letters are counted per script first; the letters that only Arabic uses (ة ي ك ى)
  and the ones only Persian/Urdu use (پ چ ژ گ ک ی ٹ ڈ ڑ ں ہ ے …) decide between ar,
  fa and ur when they are unambiguous, and langdetect is asked only otherwise;
* a non-Latin script that holds a real share of the letters wins over Latin
  (Hebrew or Arabic text quoting English names is still Hebrew or Arabic);
* langdetect sees a bounded sample (a few evenly spread chunks), never a whole article;
* spans of a document reuse the document's answer when their script agrees, and
  spans too short to judge (under 30 letters) take the document's language.

Detection runs on raw text: normalization folds exactly the letters (ی → ي, ک → ك,
ة → ه) that tell Arabic from Persian and Urdu.
"""

from __future__ import annotations

import re
import threading

from langdetect import DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

__all__ = ["detect_language", "detect_document", "script_profile", "warm_up", "MIN_LETTERS", "ISO_639_1"]

DetectorFactory.seed = 0  # langdetect is random without a seed

MIN_LETTERS = 30  # below this a span is too short to judge on its own
SAMPLE_CHARS = 1500  # what langdetect sees at most
SAMPLE_CHUNKS = 3

# Letters per script (ranges are enough: only letters are counted, via _LETTER first).
_LETTER = re.compile(r"[^\W\d_]")
_ARABIC = re.compile(r"[\u0620-\u064A\u066E-\u06D3\u06D5\u06EE\u06EF\u06FA-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFC]")
_LATIN = re.compile(r"[A-Za-z\u00C0-\u024F\u1E00-\u1EFF]")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_HEBREW = re.compile(r"[\u05D0-\u05EA\u05F0-\u05F2\uFB1D-\uFB4F]")
_GREEK = re.compile(r"[\u0370-\u03FF]")
# Arabic-only letters: teh marbuta, Arabic yeh, Arabic kaf, alef maksura.
_AR_ONLY = re.compile(r"[\u0629\u064A\u0643\u0649]")
# Persian/Urdu letters that Arabic does not use: پ چ ژ گ ک ی and the Urdu set.
_FA_UR = re.compile(r"[\u067E\u0686\u0698\u06AF\u06A9\u06CC\u0679\u0688\u0691\u06BA\u06C1\u06D2\u06D3\u06BE]")
# Urdu-only: ٹ ڈ ڑ ں ہ ے ۓ ھ (Persian writes none of them).
_UR_ONLY = re.compile(r"[\u0679\u0688\u0691\u06BA\u06C1\u06D2\u06D3\u06BE]")
# Pashto (ټ ډ ړ ښ ږ ځ څ ۍ) and Sorani Kurdish (ڕ ڵ ۆ ێ ە) letters, which langdetect does not know.
_PASHTO = re.compile(r"[\u067C\u0689\u0693\u069A\u0696\u0681\u0685\u06CD]")
_SORANI = re.compile(r"[\u0695\u06B5\u06C6\u06CE\u06D5]")

# Any letter outside the Arabic script: one is enough to look at a span more closely.
_NOT_ARABIC_LETTER = re.compile(r"[A-Za-z\u00C0-\u05FF\u0700-\u074F\u0780-\u089F\u0900-\u1FFF\u2C00-\uFB4F\uFF21-\uFF5A]")
_SCRIPTS = (("arabic", _ARABIC), ("latin", _LATIN), ("cyrillic", _CYRILLIC), ("hebrew", _HEBREW), ("greek", _GREEK))

# ISO 639-1 codes accepted as a hint from an input record.
ISO_639_1 = frozenset(
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el "
    "en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu "
    "ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na "
    "nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so "
    "sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu".split()
)

# Languages that langdetect can answer for each script; anything else it says there is a mistake.
_SCRIPT_LANGS = {
    "arabic": ("ar", "fa", "ur"),
    "cyrillic": ("ru", "uk", "bg", "mk"),
    "hebrew": ("he",),
    "greek": ("el",),
}


def script_profile(text: str) -> dict[str, int]:
    """Letter counts: total, per script, and the Arabic/Persian/Urdu marker letters."""
    prof = {"letters": len(_LETTER.findall(text))}
    if not prof["letters"]:
        return prof
    for name, rx in _SCRIPTS:
        prof[name] = len(rx.findall(text))
    if prof["arabic"]:
        prof["ar_only"] = len(_AR_ONLY.findall(text))
        prof["fa_ur"] = len(_FA_UR.findall(text))
        prof["ur_only"] = len(_UR_ONLY.findall(text))
        prof["pashto"] = len(_PASHTO.findall(text))
        prof["sorani"] = len(_SORANI.findall(text))
    return prof


def _dominant_script(prof: dict[str, int]) -> str | None:
    """The script of the text: a non-Latin script with a fair share wins over Latin.

    News in Arabic, Hebrew or Russian quotes Latin names and acronyms all the time,
    while Latin-script text rarely holds a quarter of its letters in another script.
    """
    letters = prof.get("letters", 0)
    if not letters:
        return None
    best = max((s for s, _ in _SCRIPTS), key=lambda s: prof[s])
    if best == "latin":
        other = max((s for s, _ in _SCRIPTS if s != "latin"), key=lambda s: prof[s])
        if prof[other] >= 0.25 * letters and prof[other] >= 8:
            return other
    if prof[best] == 0:
        return "other"
    return best


# Function words that tell Persian from Arabic when Persian is typed with Arabic ي/ك
# (older keyboards and encodings do that); both spellings are listed.
_FA_WORDS = frozenset(
    "است این اين را می مي که كه برای براي های هاي یک يك شده کرده كرده کرد كرد شد بود باشد دارد "
    "نیز نيز خود ایران ايران اند آنها آنان میان ميان بسیار بسيار پس چه همه در با اگر ولی ولي آن همین همين "
    "چون زیرا زيرا توسط شود کند كند کنند كنند شوند هستند نیست نيست بوده گفت وی".split()
)
_AR_WORDS = frozenset(
    "في من على إلى الى عن أن التي الذي الذين هذا هذه ذلك كان كانت قد لا لم لن ما مع بين حيث وقد كما إن "
    "أو او وفي ومن أيضا عليه عليها إنه أنه".split()
)
_WORD = re.compile(r"[\u0621-\u064A\u066E-\u06D3\u06D5\u0750-\u077F\u200C]+")


def _lexical_cues(text: str) -> tuple[int, int]:
    """(Persian cues, Arabic cues): function words, ZWNJ (Persian), ة and the article ال (Arabic)."""
    fa = text.count("\u200c")
    ar = text.count("\u0629")
    for w in _WORD.findall(text):
        if w in _FA_WORDS:
            fa += 1
        elif w in _AR_WORDS:
            ar += 1
        elif len(w) > 4 and (w.startswith("ال") or w[1:3] == "ال"):
            ar += 0.5
    return fa, int(ar)


def _arabic_script_language(prof: dict[str, int], text: str) -> tuple[str | None, float]:
    """ar / fa / ur / ps / ku from marker letters and function words, or (None, 0) when undecided."""
    ar, faur, ur = prof.get("ar_only", 0), prof.get("fa_ur", 0), prof.get("ur_only", 0)
    if prof.get("pashto", 0) >= 2 and prof["pashto"] >= ar:
        return "ps", 0.9
    if prof.get("sorani", 0) >= 3 and prof["sorani"] >= ar:
        return "ku", 0.9
    if faur >= 2 and faur > ar:
        if ur >= 2:
            return "ur", 0.95
        return None, 0.0  # Persian, or Urdu without Urdu-only letters: langdetect between fa and ur
    if ar >= 2 and (faur == 0 or ar >= 4 * faur):
        fa_cues, ar_cues = _lexical_cues(text)
        if fa_cues <= ar_cues:
            # Arabic letters and Arabic words (a Persian name or a Gulf گ does not change that)
            return "ar", 0.99 if faur == 0 else 0.95
        if fa_cues >= 1.5 * ar_cues + 1:
            return "fa", 0.8  # Persian typed with Arabic ي/ك
        return None, 0.0
    if faur == 0 and ar < 2:
        # a few words (a name, a caption) without any marker letter: Persian and Urdu
        # almost never get through a line without ی/ک, so Arabic unless the words say otherwise
        fa_cues, ar_cues = _lexical_cues(text)
        if fa_cues <= ar_cues:
            return "ar", 0.6
    return None, 0.0


def _sample(text: str, limit: int = SAMPLE_CHARS, chunks: int = SAMPLE_CHUNKS) -> str:
    """A few evenly spread chunks of ``text``, cut at spaces, at most ``limit`` chars."""
    if len(text) <= limit:
        return text
    size = limit // chunks
    step = (len(text) - size) / max(1, chunks - 1)
    parts = []
    for k in range(chunks):
        a = int(k * step)
        b = a + size
        if a:
            sp = text.find(" ", a, a + 40)
            a = sp + 1 if sp != -1 else a
        sp = text.rfind(" ", b - 40, b)
        b = sp if sp > a else b
        parts.append(text[a:b])
    return " ".join(parts)


_FACTORY_LOCK = threading.Lock()
_FACTORY_READY = threading.Event()


def _factory():
    """langdetect's profile factory, loaded once.

    Loading is not thread-safe: a thread that detects while another loads sees
    a half-filled language list (seen as Spanish labelled 'ro' or 'pl', or
    'Need to load profiles'), so every caller waits for the first load.
    """
    from langdetect import detector_factory

    if not _FACTORY_READY.is_set():
        # langdetect publishes its global factory *before* loading the profiles,
        # so its own `_factory is None` test cannot tell "loaded": keep our own flag.
        with _FACTORY_LOCK:
            if not _FACTORY_READY.is_set():
                detector_factory.init_factory()
                _FACTORY_READY.set()
    return detector_factory._factory


def warm_up() -> None:
    """Load langdetect's profiles now (before forking workers, or to keep the first call fast)."""
    _factory()


def _langdetect(text: str, allowed: tuple[str, ...] | None = None) -> tuple[str | None, float]:
    """Seeded langdetect; with ``allowed``, the most probable language among those only."""
    det = _factory().create()
    det.append(text)
    try:
        probs = det.get_probabilities()
    except LangDetectException:
        return None, 0.0
    for p in probs:
        lang = p.lang.split("-")[0]
        if allowed is None or lang in allowed:
            return lang, float(p.prob)
    return None, 0.0


_LATIN_WORD = re.compile(r"[A-Za-z\u00C0-\u024F\u1E00-\u1EFF]+")
_RU_ONLY = re.compile(r"[ыэёЫЭЁ]")
_UK_ONLY = re.compile(r"[іїєґІЇЄҐ]")
_MK_ONLY = re.compile(r"[ѓќѕљњџјЃЌЅЉЊЏЈ]")


def _non_latin(text: str) -> str:
    """``text`` without Latin words: in a non-Latin document they are names and acronyms
    that only pull langdetect towards English."""
    return _LATIN_WORD.sub(" ", text)


def _cyrillic_language(text: str) -> str | None:
    """ru / uk / mk from letters only one of them uses (langdetect mixes them up on short text)."""
    ru, uk, mk = len(_RU_ONLY.findall(text)), len(_UK_ONLY.findall(text)), len(_MK_ONLY.findall(text))
    if ru and not uk and not mk:
        return "ru"
    if uk and not ru and not mk:
        return "uk"
    if mk and not ru and not uk:
        return "mk"
    return None


def _detect(text: str, prof: dict[str, int]) -> tuple[str, float]:
    script = _dominant_script(prof)
    if script is None:
        return "und", 0.0
    share = prof[script] / prof["letters"] if script in prof else 0.0
    if script == "arabic":
        lang, conf = _arabic_script_language(prof, text)
        if lang:
            return lang, round(conf * share, 4)
        sample = _non_latin(_sample(text))
        if prof.get("fa_ur", 0) > prof.get("ar_only", 0):
            # letters say Persian or Urdu; langdetect only chooses between the two
            lang, conf = _langdetect(sample, ("fa", "ur"))
            lang = lang or ("ur" if prof.get("ur_only", 0) else "fa")
        else:
            lang, conf = _langdetect(sample, _SCRIPT_LANGS["arabic"])
        return lang or "ar", round(max(conf, 0.5) * share, 4)
    if script in ("hebrew", "greek"):
        return _SCRIPT_LANGS[script][0], round(share, 4)
    if script == "cyrillic":
        lang = _cyrillic_language(text)
        if lang:
            return lang, round(0.95 * share, 4)
        lang, conf = _langdetect(_non_latin(_sample(text)), _SCRIPT_LANGS["cyrillic"])
        return lang or "ru", round(max(conf, 0.5) * share, 4)
    lang, conf = _langdetect(_sample(text))
    if script == "latin" and lang in ("ar", "fa", "ur", "he", "ru", "uk", "bg", "mk", "el"):
        lang, conf = _langdetect(_sample(text), _LATIN_LANGS)
    return (lang or "und"), round(conf, 4)


_LATIN_LANGS = ("en", "fr", "de", "es", "it", "pt", "nl", "tr", "id", "pl", "sv", "da", "no", "fi", "ro", "cs",
                "hu", "sk", "sl", "hr", "ca", "et", "lt", "lv", "sq", "vi", "tl", "sw", "so", "af", "cy")


def detect_language(text: str) -> tuple[str, float]:
    """ISO 639-1 code and confidence (0..1) of ``text`` as received; ``'und'`` without letters."""
    return _detect(text, script_profile(_sample(text, 4 * SAMPLE_CHARS, 6)))


def _span_agrees(doc_lang: str, doc_script: str | None, prof: dict[str, int]) -> bool:
    """Can a span reuse the document's language without asking langdetect?"""
    script = _dominant_script(prof)
    if script != doc_script:
        return False
    if script == "arabic":
        lang, _ = _arabic_script_language(prof, "")
        return lang is None or lang == doc_lang
    return True


def detect_document(
    text: str, spans: list[tuple[int, int]], hint: str | None = None
) -> tuple[tuple[str, float], list[tuple[str, float]]]:
    """Language of a document and of each of its spans (``text[start:end]``).

    ``hint`` is the language an input record declares; a valid ISO 639-1 code is
    trusted over detection. Spans whose script agrees with the document and spans
    under :data:`MIN_LETTERS` letters get the document's answer; only the others
    (an English quote in an Arabic article) are detected on their own.
    """
    sample = _sample(text)
    doc_prof = script_profile(sample)
    hint_code = (hint or "").strip().lower().replace("_", "-").split("-")[0]
    if hint_code in ISO_639_1:
        doc = (hint_code, 1.0)
    else:
        doc = _detect(sample, doc_prof)
    doc_script = _dominant_script(doc_prof)
    fast_arabic = doc_script == "arabic" and doc[0] == "ar"
    out: list[tuple[str, float]] = []
    for start, end in spans:
        piece = text[start:end]
        if fast_arabic and not _NOT_ARABIC_LETTER.search(piece) and not _FA_UR.search(piece):
            out.append(doc)  # Arabic letters only (or none): nothing to ask langdetect
            continue
        prof = script_profile(piece)
        if prof["letters"] < MIN_LETTERS or _span_agrees(doc[0], doc_script, prof):
            out.append(doc)
        else:
            out.append(_detect(piece, prof))
    return doc, out
