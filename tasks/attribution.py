"""Who a reused claim is attributed to: «موقع ديبكا الإسرائيلي» -> «ديبكا».

News retells claims with a named source ("according to the DEBKA site", "Interfax
agency said", "a source told CNN Arabic"). Readers of a cluster want that name, so
:func:`find_attribution` looks for a small set of Arabic attribution patterns in each
member text and returns the name found most often (ties: the earliest occurrence,
then alphabetical), as it appears in the text (quotes stripped), or ``None``.

Patterns, in order of specificity:
- full agency names kept whole: «وكالة الأنباء السعودية (واس)», «وكالة الأنباء الفرنسية», «وكالة الصحافة الفرنسية»;
- well-known wires by name: رويترز, فرانس برس, أسوشيتد برس, الأناضول, انترفاكس, تاس, سبوتنيك, واس…;
- a Latin-script outlet, optionally «بالعربية»: «CNN بالعربية», «BBC»;
- a typed source + its name: «موقع "ديبكا"», «وكالة انترفاكس», «صحيفة الغارديان», «قناة الجزيرة»;
- anonymous but named kinds: «مصادر خاصة», «مصادر مطلعة», «مصدر عسكري»… — only when the
  text names no outlet (a «مصدر عسكري» speaking to «CNN بالعربية» is attributed to CNN).
"""

from __future__ import annotations

import re
from typing import Sequence

from .align import STOPWORDS
from .normalize import normalize_text

__all__ = ["find_attribution", "attributions", "vote_attribution"]

_Q = "\"'«»“”„‘’"
_PFX = r"(?:(?<=[\s(\[" + _Q + r"،,:.])|^)(?:[وفبل]|ال|لل|وال|بال)?"  # word start + clitics
_AR = r"[\u0621-\u064A\u0660-\u0669\u0671-\u06D3\u0640\u064B-\u065F]+"  # an Arabic word (with harakat/tatweel)
_LAT = r"[A-Z][A-Za-z0-9&.\-]*(?:\s+[A-Z][A-Za-z0-9&.\-]*)*"

# generic words that follow «موقع/صحيفة...» but are not names
_GENERIC = {normalize_text(w) for w in """
الإلكتروني الالكتروني إلكتروني الكتروني الرسمي رسمي المتخصص متخصص الإخباري الاخباري إخباري اخباري التواصل
الاجتماعي الخاص خاص له لها الذي التي عن على في من إلى الى أن ان قد كان المحلية محلية الأمريكية الامريكية
الإسرائيلي الاسرائيلي البريطانية الروسية الفرنسية العربية العالمية الرسمية الأمريكي الامريكي أخرى اخرى
الأنباء الانباء أنباء انباء الإخبارية الاخبارية الدولية المحلي نفسه نفسها ذاته ذاتها إعلامية اعلامية
""".split()} | STOPWORDS

_WIRES = ["رويترز", "فرانس برس", "فرانس پرس", "أسوشيتد برس", "اسوشيتد برس", "أسوشيتدبرس", "الأناضول",
          "انترفاكس", "إنترفاكس", "إنترفاكس", "تاس", "سبوتنيك", "نوفوستي", "واس", "بلومبرغ", "بلومبيرغ", "د ب أ", "شينخوا"]
_WIRE_RE = re.compile(_PFX + r"(" + "|".join(sorted((re.escape(w) for w in _WIRES), key=len, reverse=True)) + r")(?![\u0621-\u064A])")

_FULL_AGENCY = re.compile(
    r"(?:(?<=[\s(\[" + _Q + r"،,:.])|^)[وفبل]?(وكال[ةه] (?:الصحاف[ةه] الفرنسي[ةه]|ال[أا]نباء(?: ال" + _AR + r"){1,2}|[أا]نباء " + _AR
    + r"(?: ال" + _AR + r")?)(?: \(" + _AR + r"\))?)")
_LATIN = re.compile(r"(?<![A-Za-z0-9])(" + _LAT + r"(?:\s+بالعربي[ةه])?)")
_TYPED = re.compile(r"(?:(?<=[\s(\[" + _Q + r"،,:.])|^)(?:[وفبل]|لل)?(?:موقع|وكال[ةه]|صحيف[ةه]|قنا[ةه]|شبك[ةه]|جريد[ةه]|مجل[ةه]|إذاع[ةه]|اذاع[ةه]|تلفزيون|مركز)"
                    r"\s+(?:[" + _Q + r"]\s*([^" + _Q + r"\n]{2,40}?)\s*[" + _Q + r"]|(" + _AR + r"(?:\s+" + _AR + r")?|" + _LAT + r"))")
_ANON = re.compile(_PFX + r"((?:مصادر|مصدر) (?:خاص[ةه]?|مطلع[ةه]?|عسكري[ةه]?|أمني[ةه]?|امني[ةه]?|دبلوماسي[ةه]?|"
                   r"حكومي[ةه]?|رسمي[ةه]?|مقرب[ةه]?|استخباراتي[ةه]?|موثوق[ةه]?))")
_LATIN_STOP = {"I", "A", "The", "AM", "PM", "US"}
# literal words each pattern needs: a text without them is not scanned by it (the patterns are the slow part
# of building a cluster; most member texts name no source)
_TYPED_WORDS = ("موقع", "وكال", "صحيف", "قنا", "شبك", "جريد", "مجل", "إذاع", "اذاع", "تلفزيون", "مركز")
_HAS_LATIN_CAP = re.compile(r"[A-Z]")


def _clean(name: str) -> str | None:
    name = name.strip(_Q + " ،,.:")
    if not name:
        return None
    words = name.split()
    # «موقع ديبكا الإسرائيلي»: keep the name, drop a trailing generic adjective
    while len(words) > 1 and normalize_text(words[-1]) in _GENERIC:
        words.pop()
    if normalize_text(words[0]) in _GENERIC:
        return None
    return " ".join(words)


def attributions(text: str) -> list[tuple[int, str]]:
    """All (position, name) attributions found in one text, in text order."""
    found: list[tuple[int, int, str]] = []  # (start, end, name)

    def add(start: int, end: int, name: str | None) -> None:
        if name and not any(s < end and start < e for s, e, _ in found):
            found.append((start, end, name))

    for m in _FULL_AGENCY.finditer(text) if "وكال" in text else ():
        add(m.start(1), m.end(1), m.group(1).strip())
    for m in _WIRE_RE.finditer(text):
        add(m.start(1), m.end(1), m.group(1))
    for m in _TYPED.finditer(text) if any(w in text for w in _TYPED_WORDS) else ():
        raw = m.group(1) if m.group(1) is not None else m.group(2)
        if m.group(1) is None and raw:
            # unquoted: the name is the first word unless it is generic; a second word only if Latin
            parts = raw.split()
            raw = parts[0] if not re.match(r"[A-Za-z]", parts[0]) else raw
        add(m.start(), m.end(), _clean(raw or ""))
    for m in _LATIN.finditer(text) if _HAS_LATIN_CAP.search(text) else ():
        nm = m.group(1).strip()
        if nm not in _LATIN_STOP and (len(nm) >= 2):
            add(m.start(1), m.end(1), nm)
    named = bool(found)
    if not named:  # «مصدر عسكري ... لـCNN»: the outlet is the named source; anonymous kinds only as a fallback
        for m in _ANON.finditer(text) if "مصدر" in text or "مصادر" in text else ():
            add(m.start(1), m.end(1), m.group(1))
    found.sort()
    return [(s, n) for s, _, n in found]


def find_attribution(texts: Sequence[str]) -> str | None:
    """Named source of the claim: the name most frequent across ``texts`` (one vote per
    text), ties broken by earliest first appearance then by name; ``None`` if none."""
    return vote_attribution([attributions(t or "") for t in texts])


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
