"""Document-level deduplication: the same article twice is a duplicate, not a claim.

Collections overlap: the same article arrives from two crawls, an API dump and a daily export,
under other ids and URLs, sometimes with a changed byline, date line, trailing link or widget.
Matched against each other, such copies would count as reuse, inflate outlet counts and spread,
and bury real claims. So before a document is analysed for reuse it is checked against the
documents already kept, and a copy is recorded as a *duplicate* of the first one (the stored
document keeps its id; the copy keeps its own provenance and gets no passages of its own).

A newcomer duplicates a kept document of the same outlet (or where either has no outlet: a
copy from another outlet is reuse, a wholly derived article, not a duplicate) when, in this
order of strength:

``identical``
    the same text as received (content sha256), or the same text after the normalization used
    for matching (:func:`~newsdedup.tasks.normalize.normalize_text`);
``same-body``
    the same words in the *body*: the text without the boilerplate the document itself shows
    (widgets, captions, related links, datelines, section labels, scripts, in-document repeats;
    not the lines learned from the outlet's other documents, which change as the corpus grows,
    so a body never depends on what else is stored);
``near``
    the two bodies are one run of words up to their edges: at most :attr:`DedupParams.edge`
    words differ at the head and at the tail of each (a byline, a date line or a trailing link
    that the flags did not catch), and the common run is at least :attr:`DedupParams.min_core`
    words and :attr:`DedupParams.min_share` of the longer body.

A duplicate whose body or title is not its original's (a ``near`` one, or a page whose text is
another's under another title) stays in the index too, as an *alias* of its original: the next copy
of the same article may be near to it and not to the original (a caption-only page recorded as a
copy of another page with the same caption, then exported again under its own title with a date
line: a short text is only ever a copy under its own title), and it is still the same article. A
hit on an alias names the original. For the same reason a copy byte for byte is taken without
analysis (:meth:`DedupIndex.find_key`) only under the stored document's title.

Anything that differs *inside* a body — one changed number in a market report, an added
paragraph — makes another version, never a duplicate. A body with nothing left after its
boilerplate is never a duplicate (empty bodies do not identify an article), nor is a short body
beyond ``identical``. Thresholds and why: ``bench/dedup.py`` and the README.

Cost: a duplicate must cost far less than analysing it. The identity keys are 64-bit hashes;
``near`` is found through a bottom-k sketch of the body's word 4-grams (k smallest hashes,
shared by copies that share most of their words) and verified on a compact record per
document: its first and last :attr:`DedupParams.window` word ids and one hash of the words in
between (:class:`Signature`); the texts are never read back. :class:`DedupIndex` keeps these
records in a few numpy arrays saved next to the candidate index (~0.4 KB per document).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from hashlib import blake2b
from pathlib import Path
from typing import Any

import numpy as np

from .align import ngram_hashes
from .normalize import WORD_RE, collapse_spaces, fold, normalize_text
from .persist import load_pickle, save_pickle
from .records import duplicate_record

__all__ = ["DedupParams", "PARAMS", "Signature", "Verdict", "Hit", "DedupIndex", "body_spans", "body_words", "text_key",
           "sha_key", "signature", "title_key", "compare", "outlets_compatible", "resolve", "LEARNED_REASONS"]

_FORMAT = 3  # 2: titles and the short-body keys; 3: aliases (duplicates whose body or title is not the original's)

# Boilerplate reasons that depend on the rest of the corpus (learned from an outlet's documents),
# so they do not take words out of the body a duplicate is recognised by.
LEARNED_REASONS = frozenset({"outlet-repeat"})


@dataclass(frozen=True, slots=True)
class DedupParams:
    """What "nearly identical" means (measured on SaudiNewsNet re-ingested from a second export:
    ``bench/dedup.py``)."""

    edge: int = 16  # words that may differ at each end of each body (byline, date line, link, widget)
    min_core: int = 10  # words the common run must have at least, for ``near``
    max_kept: int = 2  # words an end may share outside the common run (more: an edit inside the text)
    few: int = 8  # ... or, under the same title, one body is all in the run and the other adds at most this many
    min_share: float = 0.8  # ... and this share of the longer body
    min_body: int = 1  # bodies shorter than this (in words) are only ever ``identical``
    shingle: int = 4  # words per sketch shingle
    sketch: int = 8  # smallest shingle hashes kept per body
    min_shared: int = 1  # sketch values a candidate must share

    @property
    def window(self) -> int:
        """Word ids kept at each end of a body: every possible start of the common run plus one shingle."""
        return self.edge + self.shingle


PARAMS = DedupParams()

_MASK32 = np.int64(0xFFFFFFFF)
# Links are never the article's words: a copy that adds «رابط الخبر: http://…» differs by two words, not by
# the dozens a percent-encoded slug tokenizes into. (Matched on normalized text: lower case.)
_URL = re.compile(r"(?:https?://|www\.)\S+")


_WORD_CHARS = 256  # a word's id reads at most this many characters
_POW = np.concatenate([[np.uint64(1)], np.cumprod(np.full(_WORD_CHARS - 1, 0x100000001B3, dtype=np.uint64))])
_MIX = np.uint64(0x9E3779B97F4A7C15)


def word_ids(words: Sequence[str]) -> np.ndarray:
    """Stable 64-bit ids of words, all at once: a polynomial hash of each word's code points (numpy,
    wrapping arithmetic), mixed. The same on every machine and in every process; no per-word Python
    call, so forked workers with an empty cache pay nothing extra."""
    if not words:
        return np.zeros(0, np.int64)
    codes = np.array(words).view(np.uint32).reshape(len(words), -1)[:, :_WORD_CHARS].astype(np.uint64)
    h = codes @ _POW[:codes.shape[1]]
    h ^= h >> np.uint64(29)
    h *= _MIX
    h ^= h >> np.uint64(32)
    return h.view(np.int64)


def _smallest_unique(values: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` smallest distinct values, sorted (a partial sort when there are many)."""
    if len(values) > 4 * k:
        u = np.unique(np.partition(values, 4 * k)[:4 * k])
        if len(u) >= k:
            return u[:k]
    return np.unique(values)[:k]


def _h64(data: bytes) -> int:
    return int.from_bytes(blake2b(data, digest_size=8).digest(), "little", signed=True)


def sha_key(content_sha256: str) -> int:
    """The received text's sha256 (hex) as a signed 64-bit key."""
    return int.from_bytes(bytes.fromhex(content_sha256[:16]), "little", signed=True)


def text_key(text: str) -> int:
    """Key of the text after the normalization used for matching (whitespace, letter forms, digits, …)."""
    return _h64(normalize_text(text).encode("utf-8"))


def body_spans(segments: Sequence[Sequence[Any]], flags: Sequence[tuple[bool, str | None]] | None = None
               ) -> list[tuple[int, int]]:
    """``(start, end)`` of the segments that make the body, in order.

    ``segments``: stored compact segments (``[start, end, line, sentence, lang, conf, bp, reason]``)
    with ``flags`` None, or ``(start, end, ...)`` objects/tuples with one ``(flagged, reason)`` per
    segment in ``flags`` (as :func:`~newsdedup.tasks.boilerplate.flag_boilerplate` returns them).
    Segments flagged for a reason learned from other documents stay in the body."""
    out = []
    for i, seg in enumerate(segments):
        if flags is None:
            start, end, bp, reason = seg[0], seg[1], seg[6], seg[7]
        else:
            start, end = (seg.start, seg.end) if hasattr(seg, "start") else (seg[0], seg[1])
            bp, reason = flags[i]
        if not bp or reason in LEARNED_REASONS:
            out.append((int(start), int(end)))
    return out


def _low32(ids: np.ndarray) -> np.ndarray:
    return (ids & _MASK32).astype(np.int64)


@dataclass(frozen=True, slots=True, eq=False)
class Signature:
    """What deduplication knows of one document.

    ``ends``: the first and last ``window`` word ids of the body (low 32 bits), or all of them
    when the body has at most ``2 * window`` words; ``mid``: a hash of the words in between.
    ``ids`` (all body word ids) and ``lines`` (the word positions where a line of the body begins)
    are kept only on a newcomer, for the check; they are not stored."""

    sha: int
    text: int
    n: int  # body words
    body: int | None  # hash of the body words (None: empty body)
    sketch: np.ndarray  # int64, sorted: the smallest shingle hashes of the body
    ends: np.ndarray  # int64 (low 32 bits of word ids)
    mid: int
    title: int | None = None  # hash of the title's words (None: no title)
    ids: np.ndarray | None = field(default=None, repr=False)
    lines: frozenset[int] = field(default=frozenset(), repr=False)

    def compact(self) -> "Signature":
        """The stored form (no word ids beyond the ends)."""
        return Signature(self.sha, self.text, self.n, self.body, self.sketch, self.ends, self.mid, self.title)


def _fold_body(text: str, spans: Iterable[tuple[int, int]]) -> tuple[str, list[str], frozenset[int]]:
    """The normalized text, the body's words and the positions (in words) where a line of the body
    begins: the text is folded once, piece by piece (:func:`~newsdedup.tasks.normalize.fold`), the
    pieces giving all three. Links are left out of the words (a link never spans two pieces)."""
    pieces: list[str] = []
    words: list[str] = []
    lines = {0}
    pos = 0
    for s, e in sorted(spans):
        s = max(s, pos)
        if e <= s:
            continue
        if s > pos:
            pieces.append(fold(text[pos:s]))
        if "\n" in text[pos:s]:
            lines.add(len(words))
        f = fold(text[s:e])
        pieces.append(f)
        words.extend(WORD_RE.findall(_URL.sub(" ", f) if "http" in f or "www" in f else f))
        pos = e
    pieces.append(fold(text[pos:]))
    return collapse_spaces("".join(pieces)), words, frozenset(lines)


def body_words(text: str, spans: Iterable[tuple[int, int]]) -> list[str]:
    """The words of the body made of ``spans``, as deduplication compares them (normalized, links left out)."""
    return _fold_body(text, spans)[1]


def signature(text: str, spans: Iterable[tuple[int, int]], content_sha256: str,
              params: DedupParams = PARAMS, title: str | None = None) -> Signature:
    """The signature of a text whose body is made of ``spans`` (see :func:`body_spans`), with the
    input's ``title`` (it only counts for bodies too short to name an article: :meth:`DedupIndex.find`)."""
    title_words = _title_words(title)
    norm, words, lines = _fold_body(text, spans)
    ids = word_ids(words)
    n = len(ids)
    w = params.window
    if n <= 2 * w:
        ends, mid = _low32(ids), 0
    else:
        ends = np.concatenate([_low32(ids[:w]), _low32(ids[n - w:])])
        mid = _h64(ids[w:n - w].tobytes())
    sh = _smallest_unique(ngram_hashes(ids, params.shingle), params.sketch) if n >= params.min_body else np.zeros(0, np.int64)
    return Signature(sha_key(content_sha256), _h64(norm.encode("utf-8")), n, _h64(ids.tobytes()) if n else None,
                     sh.astype(np.int64), ends, mid, _title_hash(title_words), ids, lines)


def _title_words(title: str | None) -> list[str]:
    return _fold_body(title, [(0, len(title))])[1] if title else []


def _title_hash(words: list[str]) -> int | None:
    return _h64(word_ids(words).tobytes()) if words else None


def title_key(title: str | None) -> int | None:
    """The hash a signature keeps of a title (None: no title, or one without words)."""
    return _title_hash(_title_words(title))


def _short_key(title: int, ids: np.ndarray) -> int:
    """Key of a short body under its title: such a body names an article only together with it."""
    return _h64(np.concatenate([np.array([title], np.int64), ids]).tobytes())


@dataclass(frozen=True, slots=True)
class Verdict:
    """How a newcomer's body lines up with a stored one: the common run and what is left at each end."""

    core: int
    head_new: int
    tail_new: int
    head_old: int
    tail_old: int
    kept: int = 0  # words both heads begin with, or both tails end with, outside the common run

    @property
    def edges(self) -> int:
        return max(self.head_new, self.tail_new, self.head_old, self.tail_old)

    @property
    def contained(self) -> bool:
        """One body is wholly in the common run: the other only adds words at its ends."""
        return self.head_old + self.tail_old == 0 or self.head_new + self.tail_new == 0

    @property
    def differing(self) -> int:
        """Words outside the common run, on both sides together."""
        return self.head_new + self.tail_new + self.head_old + self.tail_old

    def share(self, n_new: int, n_old: int) -> float:
        return self.core / max(1, n_new, n_old)

    def adds_lines(self, n_new: int, lines: frozenset[int]) -> bool:
        """The stored body is wholly in the run and the newcomer only adds whole lines before or after
        it (``lines``: where the newcomer's lines begin, in words), as a byline or a source line comes."""
        return (self.head_old + self.tail_old == 0 and self.head_new in lines
                and (self.tail_new == 0 or n_new - self.tail_new in lines))

    def near(self, n_new: int, n_old: int, params: DedupParams = PARAMS, same_title: bool = False,
             lines: frozenset[int] | None = None) -> bool:
        """The bodies are near duplicates: only their ends differ, and either the common run is long
        enough and most of both, or (a short text) one body is all in the run and the other adds a
        few words: under the same title, or, when a title is missing, as lines of their own (``lines``:
        where the newcomer's lines begin; a word added inside a sentence of a short text may be all
        it says)."""
        if self.edges > params.edge or self.kept > params.max_kept:
            return False
        if self.core >= params.min_core and self.share(n_new, n_old) >= params.min_share:
            return True
        return (self.contained and self.differing <= params.few
                and (same_title or (lines is not None and self.adds_lines(n_new, lines))))


def is_near(new: Signature, old: Signature, params: DedupParams = PARAMS) -> bool:
    """Whether ``new`` (with its word ids) is a ``near`` duplicate of a stored ``old`` (the same outlet
    assumed): their bodies line up as :meth:`Verdict.near` says (with the newcomer's lines when one
    of them has no title), or, under the same title, one of
    them has no body left and the other at most ``params.few`` words (a page that is only furniture
    is named by its title alone)."""
    same_title = new.title is not None and new.title == old.title
    if min(new.n, old.n) == 0:
        return same_title and max(new.n, old.n) <= params.few
    v = compare(new, old, params)
    # two titles that differ say two articles; with one missing, the added words must be whole lines
    unknown = new.title is None or old.title is None
    return v is not None and v.near(new.n, old.n, params, same_title, new.lines if unknown else None)


def _kgram_low(ids32: np.ndarray, k: int) -> np.ndarray:
    """Hashes of the word k-grams of low-32-bit ids (the form the stored ends have)."""
    if len(ids32) < k:
        return np.zeros(0, np.int64)
    u = ids32.astype(np.uint64)
    h = u[: len(u) - k + 1].copy()
    for j in range(1, k):
        h = h * np.uint64(0x100000001B3) + u[j: len(u) - k + 1 + j]
    return h.view(np.int64)


def _run_around(eq: np.ndarray, lo: int, hi: int) -> tuple[int, int]:
    """Extend ``[lo, hi)`` over the true values of ``eq`` on both sides (eq[lo:hi] assumed true)."""
    left = lo
    while left > 0 and eq[left - 1]:
        left -= 1
    right = hi
    while right < len(eq) and eq[right]:
        right += 1
    return left, right


def compare(new: Signature, old: Signature, params: DedupParams = PARAMS) -> Verdict | None:
    """The longest common run of words of ``new`` (with its ``ids``) and a stored ``old`` that starts
    and ends within ``params.edge`` words of each body's ends, as a :class:`Verdict`; None when
    there is none (no shared shingle near both heads or tails)."""
    if new.ids is None:
        raise ValueError("the newcomer's signature needs its word ids")
    a = _low32(new.ids)
    na, nb, w, edge = new.n, old.n, params.window, params.edge
    k = min(params.shingle, na, nb)  # a body shorter than a shingle is anchored by its words
    if k < 1:
        return None
    short = nb <= 2 * w
    b_head = old.ends if short else old.ends[:w]
    b_tail = old.ends if short else old.ends[w:]
    b_tail_at = 0 if short else nb - w  # body position of b_tail[0]
    ka = _kgram_low(a, k)
    # shifts d (position in new = position in old + d) suggested by a shingle shared near both heads or tails
    shifts: set[int] = set()
    for grams, at in ((_kgram_low(b_head, k), 0), (_kgram_low(b_tail, k), b_tail_at)):
        if not len(grams):
            continue
        order = np.argsort(ka, kind="stable")
        sk = ka[order]
        lo = np.searchsorted(sk, grams, side="left")
        hi = np.searchsorted(sk, grams, side="right")
        for p, (l, h) in enumerate(zip(lo, hi)):
            for q in order[l:h]:
                d = int(q) - (at + p)
                if -edge <= d <= edge:
                    shifts.add(d)
    best: Verdict | None = None
    for d in sorted(shifts, key=lambda x: (abs(x), x)):
        v = _verdict_at(a, new, old, d, b_head, b_tail, short, params)
        if v is not None and (best is None or (v.core, -v.edges) > (best.core, -best.edges)):
            best = v
    return best


def _verdict_at(a: np.ndarray, new: Signature, old: Signature, d: int, b_head: np.ndarray, b_tail: np.ndarray,
                short: bool, params: DedupParams) -> Verdict | None:
    """The common run of new and old when old's word ``p`` sits at new's ``p + d``."""
    na, nb, w = new.n, old.n, params.window
    if short:
        lo, hi = max(0, -d), min(nb, na - d)  # old positions that exist in new
        if hi <= lo:
            return None
        eq = np.zeros(nb, dtype=bool)
        eq[lo:hi] = b_head[lo:hi] == a[lo + d:hi + d]
        best = None
        i = 0
        while i < nb:  # longest run of equal words
            if eq[i]:
                j = i
                while j < nb and eq[j]:
                    j += 1
                if best is None or j - i > best[1] - best[0]:
                    best = (i, j)
                i = j
            else:
                i += 1
        if best is None:
            return None
        i_b, j_b = best
    else:
        # the words between old's ends must be new's words at the same shift, as one run
        if w + d < 0 or nb - w + d > na or _h64(new.ids[w + d:nb - w + d].tobytes()) != old.mid:
            return None
        eq_head = np.zeros(w, dtype=bool)
        lo = max(0, -d)
        eq_head[lo:] = b_head[lo:] == a[lo + d:w + d]
        eq_tail = np.zeros(w, dtype=bool)
        hi = min(w, na - (nb - w) - d)
        if hi > 0:
            eq_tail[:hi] = b_tail[:hi] == a[nb - w + d:nb - w + d + hi]
        i_b = w
        while i_b > 0 and eq_head[i_b - 1]:
            i_b -= 1
        t = 0
        while t < w and eq_tail[t]:
            t += 1
        j_b = nb - w + t
    head_new, tail_new, tail_old = i_b + d, na - (j_b + d), nb - j_b
    # what the two heads begin with alike, and the two tails end with alike: a replaced byline or date
    # line shares a word or two («كتب», a place name); more means a word was changed inside the text
    kept = 0
    while kept < min(head_new, i_b) and a[kept] == b_head[kept]:
        kept += 1
    b_end = b_head if short else b_tail
    k2 = 0
    while k2 < min(tail_new, tail_old) and a[na - 1 - k2] == b_end[len(b_end) - 1 - k2]:
        k2 += 1
    return Verdict(core=j_b - i_b, head_new=head_new, tail_new=tail_new, head_old=i_b, tail_old=tail_old,
                   kept=max(kept, k2))


def outlets_compatible(a: str | None, b: str | None) -> bool:
    """A copy can only duplicate a document of its own outlet; an unknown outlet is anyone's."""
    return a is None or b is None or a == b


@dataclass(frozen=True, slots=True)
class Hit:
    """A newcomer's original: the kept document it duplicates and how (``identical``, ``same-body``, ``near``)."""

    doc_id: str
    kind: str
    position: int  # in the index: ingestion order of the kept documents
    lang: str | None = None
    lang_confidence: float | None = None


class _Keys:
    """A multimap int64 key → positions: a sorted pair of arrays plus this run's additions."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, np.int64)
        self.pos = np.zeros(0, np.int32)
        self.pending: dict[int, list[int]] = {}

    def add(self, key: int, position: int) -> None:
        self.pending.setdefault(int(key), []).append(position)

    def get(self, key: int, upto: int | None) -> list[int]:
        lo = int(np.searchsorted(self.keys, key, side="left"))
        hi = int(np.searchsorted(self.keys, key, side="right"))
        out = self.pos[lo:hi].tolist()
        if upto is None:
            out += self.pending.get(int(key), [])
        else:
            out = [p for p in out if p < upto]
        return out

    def commit(self) -> None:
        if not self.pending:
            return
        k = np.array([key for key, ps in self.pending.items() for _ in ps], np.int64)
        p = np.array([x for ps in self.pending.values() for x in ps], np.int32)
        keys = np.concatenate([self.keys, k])
        pos = np.concatenate([self.pos, p])
        order = np.lexsort((pos, keys))
        self.keys, self.pos = keys[order], pos[order]
        self.pending = {}

    def state(self) -> tuple[np.ndarray, np.ndarray]:
        self.commit()
        return self.keys, self.pos


class DedupIndex:
    """The kept documents' signatures, looked up by key, never scanned.

    Positions are the order documents were added in (ingestion order), so "the first stored
    wins" is "the smallest position wins". Additions of a run are pending until :meth:`commit`;
    lookups with ``upto`` (the number of documents committed when the run started) see only the
    committed part, which no one changes while a run adds: forked analysis workers can look up
    there while the flow adds the run's documents in order."""

    def __init__(self, params: DedupParams = PARAMS) -> None:
        self.params = params
        self.doc_ids: list[str] = []  # the document stored at each position (a kept one, or an alias)
        self.targets: list[str] = []  # what a hit at each position names: the kept document itself, an alias's original
        self.aliases = 0
        self.outlets: list[str | None] = []
        self.langs: list[str | None] = []
        self.confs: list[float | None] = []
        self._n = np.zeros(0, np.int32)
        self._ends = np.zeros((0, 2 * params.window), np.int64)
        self._mid = np.zeros(0, np.int64)
        self._title = np.zeros(0, np.int64)  # 0: no title
        self._pending: list[tuple[int, np.ndarray, int, int]] = []
        # keys: received text, normalized text, body, the body's sketch, and bodies too short for a sketch
        # under their title (a short newcomer looks them up by the runs of as many words near its ends)
        # under their title (a short newcomer looks them up by the runs of as many words near its ends), and
        # the titles of bodies of at most ``few`` words (a page with no body left is named by its title alone)
        self._by: dict[str, _Keys] = {"sha": _Keys(), "text": _Keys(), "body": _Keys(), "sketch": _Keys(),
                                      "short": _Keys(), "bare": _Keys()}
        self._committed = 0
        self._doc_set: set[str] = set()
        self.max_seq = -1  # the largest ``ingest_seq`` of the documents added (what a saved index covers)

    def __len__(self) -> int:
        """Kept documents (aliases are not counted: they are stored as duplicates)."""
        return len(self.doc_ids) - self.aliases

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._doc_set

    @property
    def committed(self) -> int:
        """Documents visible to lookups with ``upto``."""
        return self._committed

    def add(self, doc_id: str, outlet: str | None, sig: Signature, lang: str | None = None,
            lang_confidence: float | None = None, seq: int | None = None, alias_of: str | None = None) -> int:
        """Keep a document (one that is not a duplicate); returns its position (-1: already kept).
        A document with an empty body is kept only under its text keys: an identical copy is its
        duplicate, nothing else is (an empty body identifies no article).

        ``alias_of``: ``doc_id`` is a duplicate of that kept document whose body or title is not its
        original's, looked up like a kept one (a hit names the original; see the module)."""
        if doc_id in self._doc_set:
            return -1
        if seq is not None:
            self.max_seq = max(self.max_seq, int(seq))
        pos = len(self.doc_ids)
        self.doc_ids.append(doc_id)
        self.targets.append(alias_of or doc_id)
        self.aliases += alias_of is not None
        self._doc_set.add(doc_id)
        self.outlets.append(outlet)
        self.langs.append(lang)
        self.confs.append(None if lang_confidence is None else float(lang_confidence))
        self._pending.append((sig.n, sig.ends, sig.mid, sig.title or 0))
        self._by["sha"].add(sig.sha, pos)
        self._by["text"].add(sig.text, pos)
        if sig.body is not None and sig.n >= self.params.min_body:
            self._by["body"].add(sig.body, pos)
            for v in sig.sketch.tolist():
                self._by["sketch"].add(v, pos)
            if sig.n < self.params.shingle and sig.title is not None and sig.ids is not None:
                self._by["short"].add(_short_key(sig.title, sig.ids), pos)
        if sig.title is not None and sig.n <= self.params.few:
            self._by["bare"].add(sig.title, pos)
        return pos

    def commit(self) -> None:
        """Fold pending additions into the sorted arrays (done between runs, never during lookups)."""
        if self._pending:
            w2 = 2 * self.params.window
            ends = np.zeros((len(self._pending), w2), np.int64)
            for i, (_, e, _, _) in enumerate(self._pending):
                ends[i, :len(e)] = e
            self._n = np.concatenate([self._n, np.array([p[0] for p in self._pending], np.int32)])
            self._ends = np.concatenate([self._ends, ends])
            self._mid = np.concatenate([self._mid, np.array([p[2] for p in self._pending], np.int64)])
            self._title = np.concatenate([self._title, np.array([p[3] for p in self._pending], np.int64)])
            self._pending = []
        for k in self._by.values():
            k.commit()
        self._committed = len(self.doc_ids)

    def stored(self, pos: int) -> Signature:
        """The compact signature kept at ``pos`` (keys are not kept with it)."""
        if pos < len(self._n):
            n, e, mid, title = int(self._n[pos]), self._ends[pos], int(self._mid[pos]), int(self._title[pos])
        else:
            n, e, mid, title = self._pending[pos - len(self._n)]
        w = self.params.window
        ends = e[:n] if n <= 2 * w else e[:2 * w]
        return Signature(0, 0, n, 0, np.zeros(0, np.int64), ends, mid, title or None)

    def _hit(self, pos: int, kind: str) -> Hit:
        return Hit(self.targets[pos], kind, pos, self.langs[pos], self.confs[pos])

    def find(self, sig: Signature, outlet: str | None, upto: int | None = None) -> Hit | None:
        """The kept document ``sig`` duplicates: the strongest kind first, then the first stored.

        ``upto``: look only at the first ``upto`` positions (the committed ones; see the class)."""
        if upto is not None:
            upto = min(upto, self._committed)

        def first(kind: str, key: int) -> int | None:
            ps = [p for p in self._by[kind].get(key, upto) if outlets_compatible(outlet, self.outlets[p])]
            return min(ps) if ps else None

        for kind, key, name in (("sha", sig.sha, "identical"), ("text", sig.text, "identical")):
            p = first(kind, key)
            if p is not None:
                return self._hit(p, name)
        if sig.body is not None and sig.n >= self.params.min_body:
            p = first("body", sig.body)
            if p is not None:
                return self._hit(p, "same-body")
        if sig.ids is None:
            return None
        for p in self.candidates(sig, upto):
            if not outlets_compatible(outlet, self.outlets[p]):
                continue
            if is_near(sig, self.stored(p), self.params):
                return self._hit(p, "near")
        return None

    def candidates(self, sig: Signature, upto: int | None = None) -> list[int]:
        """Positions that could be ``near`` duplicates of ``sig``, first stored first (looked up, never
        scanned): those sharing at least ``min_shared`` sketch values with it, and, for a short
        newcomer, the bodies too short for a sketch that it holds whole near its ends under the
        same title (too few words name no article: «مرتضى منصور» is many pages' caption), and, when
        one of the two has no body left at all, the pages under the same title whose body has at most
        ``few`` words."""
        if upto is not None:
            upto = min(upto, self._committed)
        p = self.params
        found: dict[int, int] = {}
        for v in sig.sketch.tolist():
            for x in self._by["sketch"].get(v, upto):
                found[x] = found.get(x, 0) + 1
        out = {x for x, c in found.items() if c >= p.min_shared}
        if sig.title is not None and sig.ids is not None and 0 < sig.n <= p.few + p.shingle - 1:
            # a body shorter than a shingle, held whole near the newcomer's ends, under the same title
            for length in range(1, min(p.shingle - 1, sig.n) + 1):
                for i in range(max(0, sig.n - length - p.edge), min(p.edge, sig.n - length) + 1):
                    out.update(self._by["short"].get(_short_key(sig.title, sig.ids[i:i + length]), upto))
        if sig.title is not None and sig.n <= p.few:
            # a page with no body left is the same page as one under its title that adds a few words
            out.update(x for x in self._by["bare"].get(sig.title, upto) if min(sig.n, int(self._n_at(x))) == 0)
        return sorted(out)

    def _n_at(self, pos: int) -> int:
        return int(self._n[pos]) if pos < len(self._n) else self._pending[pos - len(self._n)][0]

    def _title_at(self, pos: int) -> int:
        return int(self._title[pos]) if pos < len(self._title) else self._pending[pos - len(self._title)][3]

    def add_duplicate(self, doc_id: str, outlet: str | None, sig: Signature, hit: Hit, seq: int | None = None) -> bool:
        """Remember a duplicate that ``hit`` found: as an alias of its original when its body or its
        title is not the stored one's (see the module); returns whether it was kept so."""
        if hit.kind != "near" and (sig.title or 0) == self._title_at(hit.position):
            return False
        return self.add(doc_id, outlet, sig, hit.lang, hit.lang_confidence, seq, alias_of=hit.doc_id) >= 0

    def find_key(self, content_sha256: str, outlet: str | None, upto: int | None = None,
                 title: str | None = None) -> Hit | None:
        """The stored document with the same received text under the same ``title`` (a check that needs
        no analysis at all; under another title the copy is analysed, to be kept as an alias)."""
        if upto is not None:
            upto = min(upto, self._committed)
        t = title_key(title) or 0
        ps = [p for p in self._by["sha"].get(sha_key(content_sha256), upto)
              if outlets_compatible(outlet, self.outlets[p]) and self._title_at(p) == t]
        return self._hit(min(ps), "identical") if ps else None

    # ------------------------------------------------------------ persistence
    def save(self, path: Path, token: str) -> None:
        """Write the index (committed first) with ``token`` (see :mod:`~newsdedup.tasks.persist`)."""
        self.commit()
        save_pickle(path, {"format": _FORMAT, "token": token, "params": self.params, "doc_ids": self.doc_ids,
                           "targets": self.targets, "outlets": self.outlets, "langs": self.langs, "confs": self.confs, "n": self._n,
                           "ends": self._ends, "mid": self._mid, "title": self._title, "max_seq": self.max_seq,
                           "keys": {k: v.state() for k, v in self._by.items()}})

    @classmethod
    def load(cls, path: Path, token: str | None, params: DedupParams = PARAMS) -> "DedupIndex | None":
        """The saved index if it carries ``token`` and was made with the same parameters, else None."""
        payload = load_pickle(path, _FORMAT, token)
        if payload is None or payload.get("params") != params:
            return None
        ix = cls(params)
        ix.doc_ids, ix.outlets, ix.langs, ix.confs = (payload["doc_ids"], payload["outlets"], payload["langs"],
                                                      payload["confs"])
        ix._doc_set = set(ix.doc_ids)
        ix.targets = payload["targets"]
        ix.aliases = sum(1 for d, t in zip(ix.doc_ids, ix.targets) if d != t)
        ix._n, ix._ends, ix._mid, ix._title = payload["n"], payload["ends"], payload["mid"], payload["title"]
        ix.max_seq = int(payload["max_seq"])
        for k, (keys, pos) in payload["keys"].items():
            ix._by[k].keys, ix._by[k].pos = keys, pos
        ix._committed = len(ix.doc_ids)
        return ix

    def add_documents(self, docs: Iterable[Mapping[str, Any]]) -> int:
        """Add stored documents (``doc_id, outlet, title, text, content_sha256, segments, lang,
        lang_confidence, ingest_seq``, in ingestion order; a duplicate with ``duplicate_of`` is added
        as an alias when it was stored with the ``duplicate_body`` it was recognised by, else skipped);
        returns how many kept documents were added."""
        n = 0
        for d in docs:
            of = d.get("duplicate_of")
            spans = d.get("duplicate_body") if of else body_spans(d.get("segments") or ())
            if spans is None:
                continue
            sig = signature(d["text"], [tuple(x) for x in spans], d["content_sha256"], self.params, d.get("title"))
            added = self.add(d["doc_id"], d.get("outlet"), sig, d.get("lang"), d.get("lang_confidence"),
                             d.get("ingest_seq"), alias_of=of)
            n += added >= 0 and not of
        return n

    @classmethod
    def from_documents(cls, docs: Iterable[Mapping[str, Any]], params: DedupParams = PARAMS) -> "DedupIndex":
        """Rebuilt from stored documents (see :meth:`add_documents`)."""
        ix = cls(params)
        ix.add_documents(docs)
        ix.commit()
        return ix

    @classmethod
    def current(cls, path: Path, token: str | None, docs: Callable[[int | None], Iterable[Mapping[str, Any]]],
                total: int, params: DedupParams = PARAMS) -> tuple["DedupIndex", bool]:
        """The index over every kept stored document, and whether the saved file could be used.

        As for the line counts (:meth:`~newsdedup.tasks.line_stats.LineStats.current`): the file is
        trusted under its token, extended with the documents stored after the ``ingest_seq`` it covers
        (``docs(seq)``; a run killed after storing documents but before saving), and used only if it
        then holds as many documents as the database keeps (``total``); else rebuilt from ``docs(None)``."""
        ix = cls.load(path, token, params)
        if ix is not None:
            ix.add_documents(docs(ix.max_seq))
            ix.commit()
            if len(ix) == total:
                return ix, True
        return cls.from_documents(docs(None), params), False


def resolve(index: DedupIndex, records: Sequence[dict], analysis: Mapping[str, dict]
            ) -> tuple[list[dict], list[dict]]:
    """This run's analysed documents, in ingestion order, split into kept records (analysis merged in,
    added to ``index``) and duplicate records (:func:`~newsdedup.tasks.records.duplicate_record`).

    ``analysis[doc_id]`` carries the document's ``signature`` and, when the analysis found the
    original among the documents stored before the run, ``duplicate`` (a :class:`Hit`) and
    ``body_spans``; the others are looked up here against everything kept so far, this run's earlier
    documents included, so a copy of a document read earlier in the same run is its duplicate. A
    duplicate whose body or title is not its original's becomes an alias of it (see the module) and its record keeps the
    body it was recognised by (``duplicate_body``), so that an index rebuilt from the database has it too."""
    kept: list[dict] = []
    dups: list[dict] = []
    for rec in records:
        a = dict(analysis[rec["doc_id"]])
        sig: Signature = a.pop("signature")
        hit: Hit | None = a.pop("duplicate", None) or index.find(sig, rec.get("outlet"))
        if hit is not None:
            body = None
            if index.add_duplicate(rec["doc_id"], rec.get("outlet"), sig, hit, rec.get("ingest_seq")):
                body = [list(x) for x in (a["body_spans"] if "body_spans" in a else body_spans(a["segments"]))]
            dups.append(duplicate_record(rec, hit.doc_id, hit.kind, hit.lang, hit.lang_confidence, body))
            continue
        merged = {**rec, **a}
        index.add(rec["doc_id"], rec.get("outlet"), sig, merged.get("lang"), merged.get("lang_confidence"),
                  rec.get("ingest_seq"))
        kept.append(merged)
    return kept, dups
