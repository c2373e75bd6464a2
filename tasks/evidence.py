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

__all__ = ["Rarity", "Assessment", "assess", "PRIOR_DOCS", "COMMON_DF"]

PRIOR_DOCS = 50  # pseudo-documents added to N (see the module docstring)
COMMON_DF = 20  # an n-gram in at least this many documents is stock text (the index's notion, too)
COMPOSITION_WEIGHT = 0.5  # least weight of a word inside a shared n-gram that is not corpus-common
SLOT_WORDS = 3  # a template's slot: at most this many words replaced by at most this many ...
SLOT_WEIGHT = 0.5  # ... at least one of them this rare ...
SLOT_SIMILARITY = 70.0  # ... and no word a variant of one on the other side (fuzz.ratio at least this)


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
        k = np.searchsorted(self.word_keys, ids)
        k[k == len(self.word_keys)] = 0
        df = np.where(self.word_keys[k] == ids, self.word_df[k], 1) if len(self.word_keys) else np.ones(len(ids))
        return np.clip(1.0 - np.log(np.maximum(df, 1)) / self.log_n, 0.0, 1.0)

    def is_common(self, hashes: np.ndarray) -> np.ndarray:
        if not len(self.common) or not len(hashes):
            return np.zeros(len(hashes), dtype=bool)
        k = np.searchsorted(self.common, hashes)
        k[k == len(self.common)] = 0
        return self.common[k] == hashes


@dataclass(frozen=True, slots=True)
class Assessment:
    evidence: float  # rare-word equivalents of shared text (see the module docstring)
    kind: str  # "reuse" | "template"
    stock_share: float  # share of the shared words that are only parts of corpus-common n-grams


def _is_number(norm_text: str, tok_start: np.ndarray, i: int) -> bool:
    return norm_text[int(tok_start[i])].isdigit()


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


def assess(a, b, a0: int, a1: int, b0: int, b1: int, rarity: Rarity | None, order_free: bool = False,
           ngram: int = 3) -> Assessment:
    """Evidence and kind of the span pair ``a[a0..a1]`` / ``b[b0..b1]`` (token ranges, inclusive)
    of two :class:`~newsdedup.tasks.align.Prepared` documents.

    ``order_free``: the pair was accepted as shuffled text; its shared words are the multiset
    intersection, and n-gram stock-ness does not apply. ``rarity`` None: no corpus statistics,
    every shared word weighs 1."""
    xa = a.ids[a0:a1 + 1]
    xb = b.ids[b0:b1 + 1]
    changed_num = same_num = slots = 0
    if order_free:
        # shared words: the multiset intersection, taken at their first occurrences in a's span
        ub, cb = np.unique(xb, return_counts=True)
        k = np.searchsorted(ub, xa)
        k[k == len(ub)] = 0
        inb = ub[k] == xa
        order = np.argsort(xa, kind="stable")
        rank = np.empty(len(xa), dtype=np.int64)  # occurrence number of each token of a among equal ids
        sx = xa[order]
        first = np.r_[0, np.flatnonzero(sx[1:] != sx[:-1]) + 1] if len(sx) else np.zeros(0, np.int64)
        grp = np.repeat(first, np.diff(np.r_[first, len(sx)]))
        rank[order] = np.arange(len(sx)) - grp
        shared = inb & (rank < np.where(inb, cb[k], 0))
        eq = np.flatnonzero(shared)
        eq_a = (a0 + eq).tolist()
        nxt = np.zeros(len(xa) + 2, dtype=bool)
        nxt[: len(xa)] = shared
        starts_mask = shared & nxt[1 : len(xa) + 1] & nxt[2 : len(xa) + 2] if ngram == 3 else shared
        run_start = starts_mask[eq].tolist()
    else:
        # the longest common subsequence (Indel) aligns the shared words; the stretches between two
        # aligned blocks are what differs (a's side, b's side)
        eq_a = []  # token positions (in a) of the aligned shared words
        run_start = []  # for each of them, whether a shared run of >= ngram tokens starts there
        gaps: list[tuple[int, int, int, int]] = []
        ga = gb = 0  # start of the current gap in a and b
        for op in Indel.opcodes(xa.tolist(), xb.tolist()):
            if op.tag != "equal":
                continue
            sa, ea, sb = op.src_start, op.src_end, op.dest_start
            if sa > ga or sb > gb:
                gaps.append((ga, sa, gb, sb))
            ln = ea - sa
            eq_a.extend(range(a0 + sa, a0 + ea))
            run_start.extend((k + ngram <= ln) for k in range(ln))
            same_num += sum(_is_number(a.norm_text, a.tok_start, a0 + i) for i in range(sa, ea))
            ga, gb = ea, op.dest_end
        if ga < len(xa) or gb < len(xb):
            gaps.append((ga, len(xa), gb, len(xb)))
        for sa, ea, sb, eb in gaps:
            na, nb = ea - sa, eb - sb
            if not (na and nb):
                continue  # words only one side has: added or left out, not changed
            words_a = _words(a, a0 + sa, a0 + ea)
            words_b = _words(b, b0 + sb, b0 + eb)
            nums_a = Counter(_digits(w) for w in words_a if w[0].isdigit())
            nums_b = Counter(_digits(w) for w in words_b if w[0].isdigit())
            if nums_a and nums_b:  # a number replaced by another one (not merely written differently)
                changed_num += min(sum((nums_a - nums_b).values()), sum((nums_b - nums_a).values()))
            if max(na, nb) <= SLOT_WORDS and not nums_a and not nums_b:
                # a slot: a few words of one side replaced by others that are rare (another name, place or
                # title; not «أمس» for «اليوم») and no variant of them (spelling, clitics: «لملك» / «لجلالة ملك»)
                rare = rarity is None or max(rarity.weights(a.ids[a0 + sa:a0 + ea]).max(),
                                             rarity.weights(b.ids[b0 + sb:b0 + eb]).max()) >= SLOT_WEIGHT
                if rare and not any(_variants(x, y) for x in words_a for y in words_b):
                    slots += 1
    pos = np.asarray(eq_a, dtype=np.int64)
    if not len(pos):
        return Assessment(0.0, "reuse", 0.0)
    w = rarity.weights(a.ids[pos]) if rarity is not None else np.ones(len(pos))
    # shared n-grams: corpus-common ones make their words stock text (weight 0 unless also part of
    # a rare shared n-gram); rare ones are a composition of words only copying repeats (weight at
    # least COMPOSITION_WEIGHT, so a copy that swapped its rare words for synonyms still counts)
    stock = np.zeros(len(pos), dtype=bool)
    composed = np.zeros(len(pos), dtype=bool)
    starts = np.flatnonzero(np.asarray(run_start, dtype=bool))
    if len(starts):
        hashes = a.shingles[np.minimum(pos[starts], len(a.shingles) - 1)]
        com = rarity.is_common(hashes) if rarity is not None else np.zeros(len(starts), dtype=bool)
        covered_common = np.zeros(len(pos), dtype=bool)
        for k in range(ngram):
            covered_common[starts[com] + k] = True
            composed[starts[~com] + k] = True
        stock = covered_common & ~composed
    evidence = float(np.where(composed, np.maximum(w, COMPOSITION_WEIGHT), w)[~stock].sum())
    stock_share = float(stock.mean())
    numbers_changed = changed_num >= 2 and changed_num >= same_num
    slots_in_stock_frame = slots > 0 and stock_share >= 0.5
    kind = "template" if numbers_changed or slots_in_stock_frame else "reuse"
    return Assessment(round(evidence, 3), kind, round(stock_share, 3))
