"""How much a matched span pair says about copying, and whether it is a template.

Why: the aligner finds text two documents share; sharing is not copying. Two articles
about the same event share names, titles and the stock phrases of their language;
unrelated articles share formulae («خادم الحرمين الشريفين الملك سلمان بن عبد العزيز …»,
«صدر عن الديوان الملكي البيان التالي»), lists of country names and an outlet's stock
phrases, however long. What copying leaves behind is shared text that is *rare in the
corpus*. So every shared word is weighed by its document frequency, and words that are
shared only as parts of corpus-common n-grams (formulae, stock phrases) weigh nothing:

    weight(w) = 1 - ln df(w) / ln(N + PRIOR_DOCS), clipped to [0, 1]

a word found in one document weighs 1, a word found in every document 0. ``evidence``
is the sum over the aligned shared words (rapidfuzz opcodes on the two token sequences;
the multiset intersection for order-free matches), so it reads as "this many rare words'
worth of shared text". The ``PRIOR_DOCS`` pseudo-documents keep a small corpus (the
first run of a new database, a test with two files) from weighing every shared word at
zero: with few documents there is no telling a formula from a claim, and the aligner's
own rules decide.

**Templates**: text whose aligned differences are numbers (market closes, weather,
prayer times, fixtures) or a few slot words in a corpus-common frame (the same notice
with another name, day or country) is a template, not a copy. Copies keep their numbers;
templates change them. :func:`assess` returns the kind with the evidence.

**Determinism and growth**: the statistics are those of the index when the match is
made (every stored document and the run's own, indexed before any pair is aligned, so
batch order does not matter). A match is decided once and stored with its evidence and
kind; later runs, with more documents and different frequencies, never revisit it. The
same inputs, ingested in the same runs, give the same matches byte for byte.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

__all__ = ["Rarity", "Assessment", "assess", "member", "stock_flags", "sorted_search", "PRIOR_DOCS", "COMMON_DF"]

PRIOR_DOCS = 50  # pseudo-documents added to N (see the module docstring)
COMMON_DF = 20  # an n-gram in at least this many documents is stock text (the index's notion, too)
COMPOSITION_WEIGHT = 0.5  # least weight of a word inside a shared n-gram that is not corpus-common
SLOT_WORDS = 3  # a template's slot: at most this many words replaced by at most this many ...
SLOT_WEIGHT = 0.5  # ... at least one of them this rare ...
SLOT_SIMILARITY = 70.0  # ... and no word a variant of one on the other side (fuzz.ratio at least this)


def sorted_search(keys: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``np.searchsorted(keys, x)``, with ``x`` looked up in ascending order: each search then starts
    near where the last one ended, which on a corpus-sized ``keys`` (a few MB, out of cache) is ~2.4×
    faster for a document's worth of ids, sorting included."""
    if len(x) < 32:
        return np.searchsorted(keys, x)
    order = np.argsort(x, kind="stable")
    out = np.empty(len(x), dtype=np.intp)
    out[order] = np.searchsorted(keys, x[order])
    return out


def member(x: np.ndarray, sorted_values: np.ndarray) -> np.ndarray:
    """``np.isin(x, sorted_values)`` for a sorted lookup array, without sorting it again on every call."""
    if not len(sorted_values) or not len(x):
        return np.zeros(len(x), dtype=bool)
    k = sorted_search(sorted_values, x)
    k[k == len(sorted_values)] = 0
    return sorted_values[k] == x


def stock_flags(d, common: np.ndarray) -> np.ndarray:
    """Per n-gram of a prepared document (``d.shingles``): is it corpus-common, i.e. in the sorted
    ``common`` hashes? Cached on the document for that array: the aligner asks for a few n-grams at a
    time in every pair the document is in, and one lookup of all of them once is cheaper."""
    got = d._stock
    if got is None or got[0] is not common:
        got = (common, member(d.shingles, common))
        d._stock = got
    return got[1]


@dataclass(frozen=True, slots=True)
class Rarity:
    """Corpus statistics evidence is weighed with: a snapshot of the candidate index.

    ``word_keys`` (sorted int64 token ids) with ``word_df`` (documents containing each),
    ``n_docs``, and ``common`` (sorted int64 hashes of the n-grams in at least
    :data:`COMMON_DF` documents, as :meth:`CandidateIndex.common_shingles` gives them)."""

    n_docs: int
    word_keys: np.ndarray
    word_df: np.ndarray
    common: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def log_n(self) -> float:
        return math.log(self.n_docs + PRIOR_DOCS)

    def weights(self, ids: np.ndarray) -> np.ndarray:
        """Weight in [0, 1] of each token id (unknown ids count as found in one document)."""
        if not len(ids):
            return np.zeros(0, np.float64)
        k = sorted_search(self.word_keys, ids)
        k[k == len(self.word_keys)] = 0
        df = np.where(self.word_keys[k] == ids, self.word_df[k], 1) if len(self.word_keys) else np.ones(len(ids))
        return np.clip(1.0 - np.log(np.maximum(df, 1)) / self.log_n, 0.0, 1.0)

    def is_common(self, hashes: np.ndarray) -> np.ndarray:
        return member(hashes, self.common)


@dataclass(frozen=True, slots=True)
class Assessment:
    evidence: float  # rare-word equivalents of shared text (see the module docstring)
    kind: str  # "reuse" | "template"
    stock_share: float  # share of the shared words that are only parts of corpus-common n-grams


def _numeric(d) -> np.ndarray:
    """Per token of a prepared document: is it a number (its first character a digit)? Cached on it.

    Vectorised: the first characters' code points (UTF-32, one unit per character) are looked up
    through ``str.isdigit`` once per distinct character, not once per token."""
    got = getattr(d, "_numeric", None)
    if got is None:
        if not len(d.tok_start):
            got = np.zeros(0, dtype=bool)
        else:
            chars = np.frombuffer(d.norm_text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
            u, inv = np.unique(chars[d.tok_start], return_inverse=True)
            got = np.array([chr(c).isdigit() for c in u.tolist()], dtype=bool)[inv.reshape(-1)]
        d._numeric = got
    return got


def _doc_weights(d, rarity: Rarity | None) -> np.ndarray:
    """:meth:`Rarity.weights` of every token of a prepared document, cached on it for ``rarity``."""
    got = getattr(d, "_weights", None)
    if got is None or got[0] is not rarity:
        got = (rarity, rarity.weights(d.ids) if rarity is not None else np.ones(len(d.ids)))
        d._weights = got
    return got[1]


def _words(d, i0: int, i1: int) -> list[str]:
    """Normalized words ``i0..i1-1`` of a prepared document."""
    return [d.norm_text[int(d.tok_start[i]):int(d.tok_end[i])] for i in range(i0, i1)]


def _digits(word: str) -> str:
    """A number without its separators: «363,869» and «363.869» are the same figure."""
    return "".join(c for c in word if c.isdigit())


def _variants(x: str, y: str) -> bool:
    """Two words are one word written differently (spelling, a clitic added or dropped)."""
    if min(len(x), len(y)) >= 3 and (x in y or y in x):
        return True
    return fuzz.ratio(x, y) >= SLOT_SIMILARITY


def _shared_order_free(xa: np.ndarray, xb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (in ``xa``) of the multiset intersection of two token sequences, at their first
    occurrences in ``xa``, and whether a run of three shared tokens starts at each."""
    ub, cb = np.unique(xb, return_counts=True)
    k = np.searchsorted(ub, xa)
    k[k == len(ub)] = 0
    inb = ub[k] == xa
    order = np.argsort(xa, kind="stable")
    sx = xa[order]
    first = np.r_[0, np.flatnonzero(sx[1:] != sx[:-1]) + 1] if len(sx) else np.zeros(0, np.int64)
    rank = np.empty(len(xa), dtype=np.int64)  # occurrence number of each token among equal ids
    rank[order] = np.arange(len(sx)) - np.repeat(first, np.diff(np.r_[first, len(sx)]))
    shared = inb & (rank < np.where(inb, cb[k], 0))
    nxt = np.zeros(len(xa) + 2, dtype=bool)
    nxt[: len(xa)] = shared
    starts = shared & nxt[1: len(xa) + 1] & nxt[2: len(xa) + 2]
    eq = np.flatnonzero(shared)
    return eq, starts[eq]


def assess(a, b, a0: int, a1: int, b0: int, b1: int, rarity: Rarity | None, order_free: bool = False,
           ngram: int = 3) -> Assessment:
    """Evidence and kind of the span pair ``a[a0..a1]`` / ``b[b0..b1]`` (token ranges, inclusive)
    of two :class:`~newsdedup.tasks.align.Prepared` documents.

    ``order_free``: the pair was accepted as shuffled text; its shared words are the multiset
    intersection (at their first occurrences in ``a``), and a run of them that is also a run in
    ``a`` counts as a shared n-gram. ``rarity`` None: no corpus statistics, every shared word weighs 1."""
    xa = a.ids[a0:a1 + 1]
    xb = b.ids[b0:b1 + 1]
    wa = _doc_weights(a, rarity)[a0:a1 + 1]
    changed_num = same_num = slots = 0
    if order_free:
        eq, starts_flag = _shared_order_free(xa, xb)
    else:
        # the longest common subsequence (Indel) aligns the shared words; the stretches between two
        # aligned blocks are what differs (a's side, b's side)
        # as arrays (start/end in a, start/end in b per block), so that the shared words and the
        # stretches between blocks are found without a Python step per block
        blk = np.array([op[1:] for op in Indel.opcodes(xa.tolist(), xb.tolist()).as_list() if op[0] == "equal"],
                       dtype=np.int64).reshape(-1, 4)
        sa, ea, sb, eb = blk[:, 0], blk[:, 1], blk[:, 2], blk[:, 3]
        lens = ea - sa
        within = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)  # offset inside its block
        eq = np.repeat(sa, lens) + within
        starts_flag = within + ngram <= np.repeat(lens, lens)
        num_a = _numeric(a)[a0:a1 + 1]
        num_b = _numeric(b)[b0:b1 + 1]
        same_num = int(num_a[eq].sum()) if len(eq) else 0
        # the stretches before each block and after the last: [ga, qa) in a, [gb, qb) in b; words of
        # both sides differ where both are non-empty (words only one side has were added or left out)
        # (np.concatenate, not np.r_: np.r_ parses its index each call and was a quarter of assess)
        zero = np.zeros(1, np.int64)
        ga, qa = np.concatenate((zero, ea)), np.concatenate((sa, [len(xa)]))
        gb, qb = np.concatenate((zero, eb)), np.concatenate((sb, [len(xb)]))
        na, nb = qa - ga, qb - gb
        ca, cb = np.concatenate((zero, np.cumsum(num_a))), np.concatenate((zero, np.cumsum(num_b)))
        ha, hb = ca[qa] > ca[ga], cb[qb] > cb[gb]  # the stretch holds a number
        both = (na > 0) & (nb > 0)
        for g in np.flatnonzero(both & ha & hb).tolist():  # a number replaced by another one (not merely written differently)
            s0, s1, t0, t1 = int(ga[g]), int(qa[g]), int(gb[g]), int(qb[g])
            nums_a = Counter(_digits(w) for w, n in zip(_words(a, a0 + s0, a0 + s1), num_a[s0:s1]) if n)
            nums_b = Counter(_digits(w) for w, n in zip(_words(b, b0 + t0, b0 + t1), num_b[t0:t1]) if n)
            changed_num += min(sum((nums_a - nums_b).values()), sum((nums_b - nums_a).values()))
        slot_gaps = np.flatnonzero(both & ~ha & ~hb & (np.maximum(na, nb) <= SLOT_WORDS)).tolist()
        if slot_gaps:
            # a slot: a few words replaced by others that are rare (another name, place or title;
            # not «أمس» for «اليوم») and no variant of them (spelling, clitics: «لملك» / «لجلالة ملك»)
            wb = _doc_weights(b, rarity)[b0:b1 + 1]
            for g in slot_gaps:
                s0, s1, t0, t1 = int(ga[g]), int(qa[g]), int(gb[g]), int(qb[g])
                if max(wa[s0:s1].max(), wb[t0:t1].max()) >= SLOT_WEIGHT and not any(
                        _variants(x, y) for x in _words(a, a0 + s0, a0 + s1) for y in _words(b, b0 + t0, b0 + t1)):
                    slots += 1
    if not len(eq):
        return Assessment(0.0, "reuse", 0.0)
    w = wa[eq]
    # shared n-grams: corpus-common ones make their words stock text (weight 0 unless also part of
    # a rare shared n-gram); rare ones are a composition of words only copying repeats (weight at
    # least COMPOSITION_WEIGHT, so a copy that swapped its rare words for synonyms still counts)
    stock = np.zeros(len(eq), dtype=bool)
    composed = np.zeros(len(eq), dtype=bool)
    starts = np.flatnonzero(starts_flag)
    if len(starts):
        at = np.minimum(a0 + eq[starts], len(a.shingles) - 1)
        com = stock_flags(a, rarity.common)[at] if rarity is not None else np.zeros(len(starts), dtype=bool)
        covered_common = np.zeros(len(eq), dtype=bool)
        for k in range(ngram):
            covered_common[starts[com] + k] = True
            composed[starts[~com] + k] = True
        stock = covered_common & ~composed
    evidence = float(np.where(composed, np.maximum(w, COMPOSITION_WEIGHT), w)[~stock].sum())
    stock_share = int(np.count_nonzero(stock)) / len(stock)  # = stock.mean(), without its float reduction
    numbers_changed = changed_num >= 2 and changed_num >= same_num
    slots_in_stock_frame = slots > 0 and stock_share >= 0.5
    kind = "template" if numbers_changed or slots_in_stock_frame else "reuse"
    return Assessment(round(evidence, 3), kind, round(stock_share, 3))
