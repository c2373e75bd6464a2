"""Boilerplate: the parts of a page that are not the article, flagged (never deleted).

A copied sentence is only interesting when it is the article's own text, so the
layout around it — share/print/font widgets, «اقرأ أيضا» links, photo captions with
their credits, section labels, datelines, an outlet's sign-offs and bylines, pieces
of JavaScript/CSS — must not count as reuse. Signals, combined per line:

* fixed lists a reader would recognise (widget words, news/photo agencies,
  related-link openers, end markers such as «// انتهى //»);
* repeats inside the document: a caption or pull-quote repeats body text, so the
  shorter copy is flagged and the body copy kept; a short line seen three times is a
  caption wherever it appears, but the title is never flagged for it;
* repeats across the documents of one outlet, counted over the corpus by the flow
  (:func:`document_line_keys`), so an outlet never seen before still has its
  sign-offs learnt — with a minimum number of documents and a share, so two
  documents saying the same thing do not make boilerplate.

Short lines are never flagged just for being short: intertitles are body text.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz

from .dateline import TOP_SEGMENTS, is_dateline_norm
from .normalize import normalize_text
from .segment import Segment

__all__ = [
    "line_key", "document_line_keys", "flag_boilerplate", "clean_text", "outlet_threshold",
    "MIN_OUTLET_DOCS", "CREDIT_AGENCIES",
]

# --- per-outlet repeats -------------------------------------------------------------
MIN_OUTLET_DOCS = 20  # below this an outlet has too few documents to learn its boilerplate from
MIN_OUTLET_COUNT = 5  # a line must recur in at least this many documents of the outlet…
OUTLET_SHARE = 0.005  # …and in this share of them
LONG_LINE_WORDS = 25  # longer lines need stronger evidence (they are more likely copied body text)
LONG_MIN_COUNT = 10
LONG_SHARE = 0.02
TITLE_OUTLET_SHARE = 0.05  # a first line is overridden as outlet boilerplate only with this much evidence

_NON_WORD = re.compile(r"[\W_]+")
_DIGITS = re.compile(r"\d+")
_THREE_LETTERS = re.compile(r"[^\W\d_](?:.*?[^\W\d_]){2}", re.S)
_FOUR_LETTERS = re.compile(r"[^\W\d_](?:.*?[^\W\d_]){3}", re.S)


def _key_from_norm(norm: str) -> str | None:
    """Words with digit runs masked: «// انتهى //» and dates in a sign-off
    («الرياض 25 شوال 1436 هـ») give the same key in every document."""
    k = _DIGITS.sub("0", norm).strip()
    if not _THREE_LETTERS.search(k):
        return None
    return hashlib.sha1(k.encode("utf-8")).hexdigest()


def line_key(text: str) -> str | None:
    """Key under which a line is counted across an outlet's documents (None: too short)."""
    return _key_from_norm(_NON_WORD.sub(" ", normalize_text(text)).strip())


@dataclass(slots=True)
class _Line:
    number: int
    start: int
    end: int
    segs: list[int]  # indexes into the segment list
    text: str
    full: str  # normalize_text(text)
    norm: str  # full without punctuation
    words: list[str]


def _lines(text: str, segments: list[Segment]) -> list[_Line]:
    by_line: dict[int, list[int]] = defaultdict(list)
    for i, s in enumerate(segments):
        by_line[s.line].append(i)
    out = []
    for n in sorted(by_line):
        idx = by_line[n]
        a, b = segments[idx[0]].start, segments[idx[-1]].end
        t = text[a:b]
        full = normalize_text(t)
        norm = _NON_WORD.sub(" ", full).strip()
        out.append(_Line(n, a, b, idx, t, full, norm, norm.split()))
    return out


def document_line_keys(text: str, segments: list[Segment]) -> set[str]:
    """Distinct line keys of one document, for the per-outlet counts."""
    keys = set()
    for ln in _lines(text, segments):
        k = _key_from_norm(ln.norm)
        if k:
            keys.add(k)
    return keys


def outlet_threshold(outlet_docs: int, words: int) -> float:
    """Documents of an outlet that must contain a line before it is the outlet's boilerplate."""
    if outlet_docs < MIN_OUTLET_DOCS:
        return math.inf
    if words > LONG_LINE_WORDS:
        return max(LONG_MIN_COUNT, LONG_SHARE * outlet_docs)
    return max(MIN_OUTLET_COUNT, OUTLET_SHARE * outlet_docs)


# --- fixed vocabularies (matched on normalized text) --------------------------------
def _norm_set(words: str) -> frozenset[str]:
    return frozenset(normalize_text(w) for w in words.split("|"))


_WIDGETS: dict[str, frozenset[str]] = {
    "share-widget": _norm_set(
        "شارك|شارك الخبر|شارك المقال|مشاركة|مشاركه|شارك على|تويتر|فيسبوك|فيس بوك|واتساب|واتس اب|واتس آب|"
        "تيليجرام|تلغرام|جوجل بلس|لينكد ان|انستغرام|انستجرام|غرد|تغريد|أرسل|ارسل|إرسال|ارسال|أرسل لصديق|"
        "ارسل لصديق|البريد الإلكتروني|بريد إلكتروني|نسخ الرابط|الرابط المختصر|share|tweet|twitter|facebook|"
        "whatsapp|telegram|linkedin|pinterest|email|e-mail|google+|reddit|messenger|sms"
    ),
    "print-widget": _norm_set("طباعة|طباعه|اطبع|إطبع|print|طباعة الخبر|نسخة للطباعة|حفظ|pdf"),
    "font-widget": _norm_set(
        "الخط|حجم الخط|تكبير الخط|تصغير الخط|تكبير|تصغير|a|aa|a+|a-|font|font size|+|-"
    ),
    "comment-widget": _norm_set("تعليق|تعليقات|التعليقات|أضف تعليق|اضف تعليقا|أضف تعليقاً|comments|comment"),
}
# widget phrases as word tuples, longest first, for a greedy match over a line's words
_WIDGET_PHRASES: dict[tuple[str, ...], str] = {}
for _reason, _names in _WIDGETS.items():
    for _n in _names:
        _t = tuple(_NON_WORD.sub(" ", _n).split())
        if _t:
            _WIDGET_PHRASES.setdefault(_t, _reason)
_WIDGET_MAX = max(map(len, _WIDGET_PHRASES))


def _widget_at(words: list[str], i: int, backwards: bool = False) -> tuple[int, str | None]:
    """Length and reason of the longest widget phrase starting (or ending) at ``i``."""
    for n in range(min(_WIDGET_MAX, i + 1 if backwards else len(words) - i), 0, -1):
        t = tuple(words[i - n + 1:i + 1]) if backwards else tuple(words[i:i + n])
        r = _WIDGET_PHRASES.get(t)
        if r:
            return n, r
    return 0, None


def _alternation(phrases) -> str:
    return "|".join(sorted({re.escape(normalize_text(p)) for p in phrases}, key=len, reverse=True))


# Openers of a related-article link; the weak ones only with a colon or alone on the line.
_RELATED = re.compile(
    "^(?:(?:" + _alternation((
        "اقرأ أيضا", "اقرأ أيضاً", "إقرأ أيضا", "اقرأ ايضا", "اقرأ كذلك", "اقرأ المزيد", "شاهد أيضا", "شاهد أيضاً",
        "شاهد ايضا", "طالع أيضا", "طالع ايضا", "تابع أيضا", "مواضيع ذات صلة", "أخبار ذات صلة", "أخبار متعلقة",
        "مقالات ذات صلة", "ذات صلة", "روابط ذات صلة", "الخبر التالي", "الخبر السابق", "المقال التالي",
        "read more", "read also", "also read", "see also", "related articles", "related stories",
    )) + r")(?:\s*[:\-–]|\s|$)|(?:" + _alternation((
        "اقرأ", "إقرأ", "طالع", "شاهد", "المزيد", "للمزيد", "لمزيد من", "التفاصيل", "related", "more", "watch",
    )) + r")\s*(?:[:\-–]|$))"
)
_TRAILING_MORE = re.compile(r"(?:\.{2,}|…)\s*" + re.escape(normalize_text("المزيد")) + r"\s*$")

CREDIT_AGENCIES = [
    "جيتي", "غيتي", "جيتي إيميجز", "غيتي إيمجز", "getty", "getty images", "فرانس برس", "فرانس بريس", "أ ف ب",
    "أ.ف.ب", "ا ف ب", "afp", "رويترز", "رويتر", "reuters", "الأناضول", "الاناضول", "الأناضول للأنباء", "anadolu",
    "أسوشيتد برس", "أسوشييتد برس", "اسوشيتد برس", "أ ب", "ap", "أ.ب", "إي بي إيه", "epa", "د ب أ", "د.ب.أ", "dpa",
    "شينخوا", "xinhua", "سبوتنيك", "sputnik", "تاس", "tass", "واس", "spa", "وام", "قنا", "كونا", "بترا", "سانا",
    "وفا", "أ ش أ", "نوفوستي", "ريا نوفوستي", "إيتار تاس", "الأوروبية", "أرشيفية", "ارشيفية", "أرشيف", "أرشيفيه",
    "مواقع التواصل", "مواقع التواصل الاجتماعي", "تويتر", "فيسبوك", "انترنت", "الإنترنت", "الانترنت", "أرشيف الجزيرة",
    "الجزيرة", "shutterstock", "istock", "رسمي", "خاص", "متداولة", "متداول", "أرشيفية - رويترز",
]
# The credit closes a caption, set off by a dash, slash or bracket:
# «…المجاورة- جيتي», «…(فاسيلي ماكسيمو/فرانس برس)», «… (أ ف ب)».
_CAPTION_CREDIT = re.compile(
    r"(?:[\-–—|/]\s*|\(\s*(?:[^()/]{1,40}/\s*)?)(?:" + _alternation(CREDIT_AGENCIES) + r")\s*[)\]]?\s*\.?$"
)
_PHOTO_OPENER = re.compile(
    "^[(\\[]?\\s*(?:" + "|".join(re.escape(normalize_text(w)) for w in (
        "تصوير", "عدسة", "الصورة", "صورة", "صور", "photo", "photos", "image", "credit", "©")) + r")\s*[:/\-–)]"
)
_SENTENCE_END_INSIDE = re.compile(r"[.!?؟](?=\s+\S)")

_SECTION_WORDS = _norm_set(
    "أخبار|اخبار|الأخبار|خبر|تقارير|تقرير|ملفات|ملف|تحقيقات|تحقيق|سياسة|السياسة|اقتصاد|الاقتصاد|رياضة|الرياضة|"
    "ثقافة|الثقافة|فن|فنون|الفن|منوعات|مقالات|مقال|رأي|الرأي|آراء|اراء|عربي|عربية|دولي|دولية|عالمي|العالم|محليات|"
    "محلي|محلية|صحة|الصحة|تكنولوجيا|علوم|تقنية|حوارات|حوار|مجتمع|المجتمع|عاجل|الرئيسية|الصفحة الرئيسية|ملفات|"
    "متابعات|مميز|مختارات|قضايا|شؤون|ترجمات|ترجمة|مدونات|فيديو|صور|إنفوجراف|انفوجراف|بورتريه|كاريكاتير|"
    "اقتصادية|سياسية|رياضية|ثقافية|فنية|مصر|الخليج|ليبيا|سوريا|فلسطين|العراق|اليمن|لبنان|السعودية|دولي|"
    "news|world|politics|business|sports|opinion|culture|home|economy|middle|east|"
    "و|ال|في|من|اخر|آخر|أهم|اهم"
)
_SECTION_FILLERS = _norm_set("و|ال|في|من")
_BREADCRUMB = re.compile(r"\s*(?:>|»|›|/|\|)\s*")

_END_MARKER = re.compile(
    r"^[\s/\\\-–—()\[\]*.]*(?:" + "|".join(map(re.escape, map(normalize_text, (
        "انتهى", "انتهي", "يتبع", "تابع", "end", "ends", "نهاية الخبر")))) + r")[\s/\\\-–—()\[\]*.]*$"
)
_CONTACT = re.compile(
    "^(?:" + "|".join(re.escape(normalize_text(w)) for w in (
        "لمراسلة الكاتب", "للتواصل مع الكاتب", "للتواصل", "تواصل مع الكاتب", "البريد الإلكتروني للكاتب",
        "تابعونا على", "تابعوا", "تابعنا على", "حمل تطبيق", "لتحميل تطبيق", "اشترك في", "للاشتراك", "follow us",
        "contact", "email:", "e-mail:", "twitter:")) + r"|@[a-z0-9_])"  # a handle, not «@ » used as a bullet
)
_EMAIL_ONLY = re.compile(r"^[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+$")
_HANDLE_ONLY = re.compile(r"^@\w+$")
_COPYRIGHT = re.compile(r"©|\(c\)\s*\d{4}|" + "|".join(re.escape(normalize_text(w)) for w in (
    "جميع الحقوق محفوظة", "كل الحقوق محفوظة", "حقوق النشر محفوظة", "all rights reserved", "copyright")))

# --- embedded code ------------------------------------------------------------------
_CODE_TOKENS = re.compile(
    r"function\s*\(|\bvar\s+\w+\s*=|\blet\s+\w+\s*=|\bconst\s+\w+\s*=|jQuery|\$\(|document\.|window\.|"
    r"\.ready\(|return\s+false|=>|\bnew\s+\w+\(|</?[a-zA-Z][a-zA-Z0-9]*[^<>]{0,200}>|&(?:nbsp|quot|amp|lt|gt|#\d+);|"
    r"[\w\-]+\s*:\s*[^;{}]{1,60};|#[0-9a-fA-F]{3,6}\b|\d+px\b|@media|!important|\{\s*\}|\w+\s*\(\s*\)\s*;|"
    r"googletag|adsbygoogle|\.push\(|getElementById|innerHTML|addEventListener"
)
_CODE_CHARS = re.compile(r"[{}();=<>\[\]]")


def _is_code(text: str) -> bool:
    """JavaScript, CSS or HTML rather than prose (scrapers leave some in the text)."""
    if text.count("{") + text.count(";") + text.count("=") + text.count("<") + text.count("(") < 3:
        return False  # cheap test first: prose has hardly any of these
    hits = len(_CODE_TOKENS.findall(text))
    if hits < 2:
        return False
    density = len(_CODE_CHARS.findall(text)) / max(1, len(text))
    return hits >= 4 and density >= 0.02 or hits >= 2 and density >= 0.06


# --- line-level rules ---------------------------------------------------------------
_WIDGET_PRIORITY = ("print-widget", "share-widget", "font-widget", "comment-widget")


def _widget_reason(words: list[str]) -> str | None:
    """Reason when the line is nothing but widget phrases (counters aside): «شارك», «+ الخط -»."""
    reasons = set()
    i = 0
    while i < len(words):
        if words[i].isdigit():
            i += 1
            continue
        n, r = _widget_at(words, i)
        if not n:
            return None
        reasons.add(r)
        i += n
    return next((r for r in _WIDGET_PRIORITY if r in reasons), None)


def _core_words(words: list[str]) -> tuple[list[str], str | None]:
    """The line without share/print widget phrases at its ends: «طباعة مع تكرار زياراته»
    is the caption «مع تكرار زياراته» behind a print button."""
    a, b = 0, len(words)
    reason = None
    while a < b:
        n, r = _widget_at(words, a)
        if not n or r == "font-widget":
            break
        reason = reason or r
        a += n
    while b > a:
        n, r = _widget_at(words, b - 1, backwards=True)
        if not n or r == "font-widget" or b - n < a:
            break
        reason = reason or r
        b -= n
    return words[a:b], reason


CAPTION_MAX_WORDS = 35


def _is_caption(ln: _Line) -> bool:
    """A photo caption: a single phrase ending in (or opening with) a photo credit."""
    if len(ln.words) > CAPTION_MAX_WORDS:
        return False
    full = ln.full
    if _PHOTO_OPENER.match(full):
        return True
    if _SENTENCE_END_INSIDE.search(full):
        return False
    return bool(_CAPTION_CREDIT.search(full))


def _is_section_label(ln: _Line) -> bool:
    """A section name («ملفات وتقارير», «أخبار > سياسة») rather than a headline."""
    if not ln.words or len(ln.words) > 5:
        return False
    parts = [p for p in _BREADCRUMB.split(ln.full) if p.strip()]
    words = []
    for p in parts:
        words += _NON_WORD.sub(" ", p).split()
    content = []
    for w in words:
        if w in _SECTION_WORDS:
            content.append(w)
            continue
        if w.startswith("و") and w[1:] in _SECTION_WORDS:  # «وتقارير»
            content.append(w[1:])
            continue
        return False
    return any(w not in _SECTION_FILLERS for w in content)


def _line_reason(ln: _Line) -> str | None:
    """Reason from what the line says (lists and patterns), before any repeat evidence."""
    norm_full = ln.full
    if not ln.words:
        return "separator"  # «***», «—», bullets alone
    r = _widget_reason(ln.words)
    if r:
        return r
    if _END_MARKER.match(norm_full):
        return "end-marker"
    if len(ln.words) <= 30 and (_RELATED.match(norm_full) or _TRAILING_MORE.search(norm_full)):
        return "related-link"
    if len(ln.words) <= 25 and (_EMAIL_ONLY.match(norm_full) or _HANDLE_ONLY.match(norm_full)
                                or _CONTACT.match(norm_full)):
        return "contact"
    if len(ln.words) <= 25 and _COPYRIGHT.search(norm_full):
        return "copyright"
    if _is_caption(ln):
        return "caption"
    if is_dateline_norm(ln.full):
        return "dateline"
    return None


def _title_index(lines: list[_Line], title: str | None) -> int | None:
    """Which line is the headline: the one matching ``title``, else the first that is not a label."""
    if title:
        t = _NON_WORD.sub(" ", normalize_text(title)).strip()
        for i, ln in enumerate(lines[:8]):
            if ln.norm and fuzz.ratio(ln.norm, t) >= 90:
                return i
        return None  # the headline is not in the text
    for i, ln in enumerate(lines[:4]):
        if ln.words and not _is_section_label(ln) and not is_dateline_norm(ln.full):
            return i
    return None


SHORT_REPEAT_WORDS = 12  # a line this short seen twice in one document is a caption/pull-quote
CONTAINED_MAX_WORDS = 40
CONTAINED_MIN_WORDS = 3
CONTAINED_SCORE = 90


def _repeats(lines: list[_Line], title_i: int | None, flags: dict[int, str]) -> dict[int, str]:
    """In-document repeats: captions and pull-quotes that repeat other lines."""
    out: dict[int, str] = {}
    cores = []
    for ln in lines:
        words, _ = _core_words(ln.words)
        cores.append(" ".join(words))
    groups: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(cores):
        if _FOUR_LETTERS.search(c):
            groups[c].append(i)
    for c, idx in groups.items():
        if len(idx) < 2:
            continue
        n = len(c.split())
        # a short line seen three times, or twice when it is more than a label («المقادير:»),
        # is a caption everywhere; a long repeated paragraph keeps its first copy
        caption = n <= SHORT_REPEAT_WORDS and (len(idx) >= 3 or n >= 4)
        for k, i in enumerate(idx):
            if i != title_i and (caption or (k > 0 and n > SHORT_REPEAT_WORDS)):
                out[i] = "repeated-line"
    # a short line contained in a longer one: a pull-quote or a caption quoting the body
    sets = [set(c.split()) for c in cores]
    for i, c in enumerate(cores):
        n = len(c.split())
        if i == title_i or i in out or i in flags or not (CONTAINED_MIN_WORDS <= n <= CONTAINED_MAX_WORDS):
            continue
        for j, d in enumerate(cores):
            if j == i or len(d) < 1.2 * len(c) or j in out:
                continue
            if len(sets[i] & sets[j]) < 0.8 * len(sets[i]):
                continue
            if fuzz.partial_ratio(c, d, score_cutoff=CONTAINED_SCORE):
                out[i] = "repeated-line"
                break
    return out


def flag_boilerplate(
    text: str,
    segments: list[Segment],
    *,
    outlet_key_counts: Mapping[str, int] | None = None,
    outlet_docs: int = 0,
    title: str | None = None,
) -> list[tuple[bool, str | None]]:
    """One ``(is_boilerplate, reason)`` per segment.

    ``outlet_key_counts[line_key]`` is how many documents of this document's outlet
    contain the line (the flow counts them over stored and new documents) and
    ``outlet_docs`` how many documents the outlet has. ``title`` is the headline when
    the input gives one; without it the first line that is not a label is the title.
    """
    lines = _lines(text, segments)
    title_i = _title_index(lines, title)
    line_flags: dict[int, str] = {}

    for i, ln in enumerate(lines):
        if i == title_i:
            continue
        if i < (title_i if title_i is not None else 1) and _is_section_label(ln):
            line_flags[i] = "section-label"
            continue
        r = _line_reason(ln)
        if r:
            line_flags[i] = r

    # a caption needs a body to illustrate: a document that is one captioned photo keeps it
    for i, r in list(line_flags.items()):
        if r == "caption" and not any(
            j != i and j not in line_flags and len(ln.words) > len(lines[i].words) for j, ln in enumerate(lines)
        ):
            del line_flags[i]

    for i, r in _repeats(lines, title_i, line_flags).items():
        if i not in line_flags:
            core, widget = _core_words(lines[i].words)
            line_flags[i] = "repeated-line" if len(core) else (widget or "repeated-line")

    if outlet_key_counts and outlet_docs >= MIN_OUTLET_DOCS:
        for i, ln in enumerate(lines):
            if i in line_flags:
                continue
            k = _key_from_norm(ln.norm)
            if not k:
                continue
            need = outlet_threshold(outlet_docs, len(ln.words))
            if i == title_i:
                need = max(need, TITLE_OUTLET_SHARE * outlet_docs)
            if outlet_key_counts.get(k, 0) >= need:
                line_flags[i] = "outlet-repeat"

    out: list[tuple[bool, str | None]] = [(False, None)] * len(segments)
    for i, ln in enumerate(lines):
        r = line_flags.get(i)
        if r:
            for s in ln.segs:
                out[s] = (True, r)

    # segment-level: a dateline inside a line, embedded code, and what code surrounds
    for i, ln in enumerate(lines):
        code = []
        for s in ln.segs:
            seg_text = text[segments[s].start:segments[s].end]
            if _is_code(seg_text):
                out[s] = (True, "script")
                code.append(s)
            elif (not out[s][0] and len(ln.segs) > 1 and i != title_i and s < TOP_SEGMENTS
                  and is_dateline_norm(normalize_text(seg_text))):
                out[s] = (True, "dateline")
        if len(code) >= 2:
            for s in range(code[0] + 1, code[-1]):
                if not out[s][0]:
                    out[s] = (True, "script")
    return out


def clean_text(text: str, segments: list[Segment], flags: list[tuple[bool, str | None]]) -> str:
    """The body: segments not flagged, joined with a space inside a line and '\\n' between lines."""
    lines: dict[int, list[str]] = {}
    for seg, (bad, _) in zip(segments, flags):
        if not bad:
            lines.setdefault(seg.line, []).append(text[seg.start:seg.end])
    return "\n".join(" ".join(parts) for _, parts in sorted(lines.items()))
