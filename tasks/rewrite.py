"""Retold sentences: what a rewritten article keeps of its source when no phrase survives.

A newspaper writing from agency copy often keeps the facts and changes every phrase:
«ترکی کے قریب بحیرہ روم میں مچھیروں کی کشتی میں سوار 250 شامی تارکین وطن کو بچا لیا گیا»
becomes «ترک میڈیا کے مطابق ... کشتی قبرص کے قریب طوفان میں گھر گئی». Word n-gram seeds
(:mod:`~newsdedup.tasks.align`) find nothing, yet a journalist calls the article derived.
What survives is the *rare* vocabulary: the names, numbers and uncommon words of the story.

Why rarity, and why a document-level gate first: two unrelated reports share common words
(«said», «government», a president's name), and two independent reports of one event share
its names. How rare a shared word is in the whole corpus (its document frequency, kept by
the candidate index: :meth:`~newsdedup.tasks.candidates.CandidateIndex.rarity`, weighed as
:class:`~newsdedup.tasks.evidence.Rarity` says) measures
how much it tells; and only when one document's rare vocabulary is largely found in the
other (:func:`words_shared`, :func:`gate_open`: when the dates tell which document is later,
the earlier one's vocabulary found in the later one, the source reused, counts from a lower
share than the other way round) are its sentences paired with the other's. A
sentence pair is *retold* when the rare words they share are a large part of the smaller one
(``share``) and carry real weight on their own (``mass``, in units of a word seen in one
document only). Each retold pair becomes a match of method ``rewrite``.

Those matches say "this sentence retells that one"; they are evidence that one document is
derived from the other (:mod:`~newsdedup.tasks.derivation`), not copied passages, so they are
kept out of clusters. Everything here is language-independent: no word lists, only counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Indel

from .dates import later_side
from .evidence import Rarity

if TYPE_CHECKING:  # no import cycle: align imports this module
    from .align import Prepared

__all__ = ["REWRITE", "RewriteParams", "REWRITE_PARAMS", "vocabulary", "words_shared", "rare_shared",
           "shared_vocabulary", "variant_shares", "gate_open", "retold_sentences"]

REWRITE = "rewrite"  # the method of a retold-sentence match


@dataclass(frozen=True, slots=True)
class RewriteParams:
    """Thresholds of the retold-sentence rule (chosen on counter-dev, see bench/derivation.py)."""

    gate: float = 0.3  # one document's rare vocabulary found in the other, at least this share (dates unknown or equal)
    # when the dates tell which document is later (see retold_sentences): the earlier one's vocabulary found in the
    # later one at least this share (the source reused) ...
    earlier_gate: float = 0.25
    later_gate: float = 0.35  # ... or the later one's found in the earlier one at least this share
    share: float = 0.3  # a sentence pair shares at least this share of the smaller one's weight
    mass: float = 1.0  # ... and at least this weight (1.0 = one word found in a single document)
    rare: float = 0.7  # a word this rare or rarer is "story-specific" (weight; see Rarity)
    min_rare: int = 1  # a retold sentence pair shares at least this many story-specific words
    doc_rare: int = 2  # ... and its documents at least this many
    max_ratio: float = 8.0  # the larger sentence of a pair weighs at most this many times the smaller
    min_cover: float = 0.1  # the retold sentences hold at least this share of one document's body weight
    max_sentences: int = 400  # longer documents pair their sentences only with this many of the other
    # words shared as a derivation measures them (variant_shares): a word not found as such is found as a spelling
    # variant, a word of the other document this similar (rapidfuzz Indel, 0-1) ...
    variant_similarity: float = 0.85
    variant_min_len: int = 4  # ... of a word at least this many characters long (its variant: one fewer); no digit
    variant_max_words: int = 600  # ... among at most this many of each document's rarest unfound words


REWRITE_PARAMS = RewriteParams()


def _body_tokens(p: "Prepared") -> np.ndarray:
    """Positions of the tokens that can carry evidence: body (not boilerplate), not a function word."""
    return np.flatnonzero(p.content & ~p.excluded)


def vocabulary(p: "Prepared", rarity: Rarity) -> tuple[np.ndarray, np.ndarray, float]:
    """The document's body vocabulary: sorted unique token ids, their rarity weights and the weights'
    sum (cached on the prepared document for this ``rarity``)."""
    cached = p._vocab
    if cached is not None and cached[0] is rarity:
        return cached[1]
    ids = np.unique(p.ids[_body_tokens(p)])
    w = rarity.weights(ids)
    out = (ids, w, float(w.sum()))
    p._vocab = (rarity, out)
    return out


def shared_vocabulary(x: "Prepared", y: "Prepared", rarity: Rarity,
                      rare: float | None = None) -> tuple[float, float, int]:
    """``(words_shared(x, y), words_shared(y, x), rare_shared(x, y))`` from one comparison of the two
    vocabularies (it runs for every candidate pair, so once rather than three times)."""
    rare = REWRITE_PARAMS.rare if rare is None else rare
    ix, wx, tx = vocabulary(x, rarity)
    iy, wy, ty = vocabulary(y, rarity)
    if not len(ix) or not len(iy):
        return 0.0, 0.0, 0
    k = np.searchsorted(iy, ix)
    k[k == len(iy)] = 0
    hit = iy[k] == ix
    shared_w = wx[hit]
    sx = float(shared_w.sum()) / tx if tx > 0 else 0.0
    sy = float(wy[k[hit]].sum()) / ty if ty > 0 else 0.0
    return sx, sy, int((shared_w >= rare).sum())


# Unicode decimal digits (category Nd, what regex \d matches) of the Basic Multilingual Plane, by code point
_DECIMAL = np.array([chr(c).isdecimal() for c in range(0x10000)], dtype=bool)


def _vocab_words(p: "Prepared", ids: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The normalized text of each vocabulary id (``ids``: the sorted ids of :func:`vocabulary`), with each
    word's length and whether it holds a digit, cached."""
    cached = p._vocab_words
    if cached is not None and cached[0] is ids:
        return cached[1]
    pos = _body_tokens(p)
    tok_ids = p.ids[pos]
    order = np.argsort(tok_ids, kind="stable")
    first = pos[order][np.searchsorted(tok_ids[order], ids)] if len(ids) else np.zeros(0, dtype=np.intp)
    starts, ends = p.tok_start[first].astype(np.int64), p.tok_end[first].astype(np.int64)
    text = p.norm_text
    words = [text[a:b] for a, b in zip(starts.tolist(), ends.tolist())]
    # a digit (Unicode Nd, as regex \d) anywhere in the word: the text's digits by code point, counted between
    # each word's ends
    chars = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    is_digit = _DECIMAL[np.minimum(chars, 0xFFFF)]
    for k in np.flatnonzero(chars > 0xFFFF).tolist():  # outside the table (rare): asked one by one
        is_digit[k] = chr(int(chars[k])).isdecimal()
    cum = np.concatenate((np.zeros(1, np.int64), np.cumsum(is_digit)))
    p._vocab_words = (ids, (words, ends - starts, cum[ends] > cum[starts]))
    return p._vocab_words[1]


def _found_in(ids: np.ndarray, other: np.ndarray) -> np.ndarray:
    """``np.isin(ids, other)`` for two sorted unique id arrays."""
    k = np.searchsorted(other, ids)
    k[k == len(other)] = 0
    return other[k] == ids


def variant_shares(x: "Prepared", y: "Prepared", rarity: Rarity,
                   params: RewriteParams | None = None) -> tuple[float, float]:
    """``(words_shared(x, y), words_shared(y, x))`` where a word missing from the other document still counts
    as found when the other has a *spelling variant* of it: a word at least ``variant_similarity`` alike
    (rapidfuzz Indel on the normalized text) of a word of at least ``variant_min_len`` characters (the variant: at
    least one fewer), neither with a digit.

    Why: a journalist retyping agency copy writes the same names and words another way: a transliterated name
    («میلاپ زاویری» / «ملاپ زویری», «جانکووک» / «جینکووچ»), a word split or joined, a clitic or an inflection
    attached (Arabic «والحكومة» / «الحكومة»). Exact ids miss them, and the rewrite then looks as if it added
    words of its own. A number is never a variant of another (a changed number is another fact). On counter-dev
    the variant-aware share separates wholly from partially derived (ROC AUC 0.904 → 0.925 over the pairs with
    a row) and partially from non derived (0.867 → 0.883) better than the exact share (at 0.80 alike: 0.927 /
    0.892, but the labels cannot tell the two apart under cross-validation, and on Arabic, where a clitic makes
    a variant, 0.85 labels fewer far-apart pairs derived)
    (``bench/results/derivation_round3.md``). Only what a derivation is decided from uses it: the retold-sentence
    gate (:func:`gate_open`) keeps the exact share. (On the variant-aware shares the gate opens for two Arabic
    reports of one event, whose words differ by a clitic: «بالحكومة» / «الحكومة»; the labels of pairs that
    have matches move much less: on 3,343 SaudiNewsNet articles of two days two weeks apart,
    ``bench/derivation_snn_proxy.py --per-day 2000``, pairs of different days labelled derived 58 → 62, same-day
    pairs 1,318 → 1,347.)"""
    p = params or REWRITE_PARAMS
    ix, wx, tx = vocabulary(x, rarity)
    iy, wy, ty = vocabulary(y, rarity)
    if not len(ix) or not len(iy) or tx <= 0 or ty <= 0:
        return 0.0, 0.0
    hx = _found_in(ix, iy)
    hy = _found_in(iy, ix)
    found_x, found_y = float(wx[hx].sum()), float(wy[hy].sum())

    def unfound(p_: "Prepared", ids: np.ndarray, w: np.ndarray, hit: np.ndarray, min_len: int) -> np.ndarray:
        _, lens, digit = _vocab_words(p_, ids)
        cand = np.flatnonzero(~hit & (lens >= min_len) & ~digit)
        if len(cand) > p.variant_max_words:  # the rarest words carry the share (ties: the first id)
            cand = cand[np.lexsort((cand, -w[cand]))[: p.variant_max_words]]
        return cand

    # each side's unfound words against the other's (a variant may be a character shorter: «مرز» / «مرزا»)
    kx = unfound(x, ix, wx, hx, p.variant_min_len - 1)
    ky = unfound(y, iy, wy, hy, p.variant_min_len - 1)
    if len(kx) and len(ky):
        (wdx, lx, _), (wdy, ly, _) = _vocab_words(x, ix), _vocab_words(y, iy)
        # rapidfuzz turns the cutoff into a distance and drops pairs exactly at it («خيال» / «خيالات» at 0.8): cut
        # lower, keep those at the similarity (rounding aside)
        sim = process.cdist([wdx[k] for k in kx.tolist()], [wdy[k] for k in ky.tolist()],
                            scorer=Indel.normalized_similarity, score_cutoff=p.variant_similarity - 0.01,
                            dtype=np.float64)
        ok = sim >= p.variant_similarity - 1e-9
        # a word of at least the minimum length is found through a variant (at most one character shorter)
        found_x += float(wx[kx][(lx[kx] >= p.variant_min_len) & ok.any(axis=1)].sum())
        found_y += float(wy[ky][(ly[ky] >= p.variant_min_len) & ok.any(axis=0)].sum())
    return min(1.0, found_x / tx), min(1.0, found_y / ty)


def words_shared(x: "Prepared", y: "Prepared", rarity: Rarity) -> float:
    """Rarity-weighted share of ``x``'s body vocabulary that also occurs in ``y`` (0–1).

    "How much of what ``x`` says can be found in ``y``": near 1 for an article rewritten
    from ``y`` alone, low for one that adds much of its own or reports independently."""
    return shared_vocabulary(x, y, rarity)[0]


def rare_shared(x: "Prepared", y: "Prepared", rarity: Rarity, rare: float = REWRITE_PARAMS.rare) -> int:
    """How many story-specific words (rarity weight >= ``rare``: names, numbers, uncommon words)
    the two documents' bodies share. Two reports of different stories share few or none."""
    return shared_vocabulary(x, y, rarity, rare)[2]


def gate_open(a_share: float, b_share: float, n_rare: int, later: str | None,
              params: RewriteParams = REWRITE_PARAMS) -> bool:
    """Whether a pair's sentences are worth pairing: ``a_share``/``b_share`` are :func:`words_shared` of ``a`` in
    ``b`` and of ``b`` in ``a``, ``n_rare`` their :func:`rare_shared`, ``later`` the side published later
    (:func:`~newsdedup.tasks.dates.later_side`: ``"a"``, ``"b"`` or None).

    The two shares say different things once the dates tell which document could retell the other. A rewrite
    reuses its *source*: most of the earlier document's rare vocabulary is found in the later one, even when the
    later one adds much of its own (a partial rewrite: its own share is then low); so the earlier side passes
    from ``earlier_gate``. The later document's share alone is weaker evidence (a short item whose words are all
    somewhere in a long earlier roundup): it passes from the higher ``later_gate``. Whether the later document
    is derived, and how much, is decided afterwards from its own measures (:mod:`~newsdedup.tasks.derivation`).
    With the dates unknown or equal, either document could be the source: either share from ``gate``. In every
    case the documents share at least ``doc_rare`` story-specific words."""
    p = params
    if n_rare < p.doc_rare:
        return False
    if later is None:
        return max(a_share, b_share) >= p.gate
    s_later, s_earlier = (b_share, a_share) if later == "b" else (a_share, b_share)
    return s_earlier >= p.earlier_gate or s_later >= p.later_gate


def _sentence_vocab(p: "Prepared", rarity: Rarity) -> tuple:
    """The body vocabulary by sentence, cached: ``(u, first, count, sent, weight, total)`` where the
    unique (token id, sentence) pairs are sorted by id (``sent``/``weight`` per pair), ``u`` are their
    distinct ids with the ``first`` pair and ``count`` of pairs of each, ``total`` every sentence's weight."""
    cached = p._sent_vocab
    if cached is not None and cached[0] is rarity:
        return cached[1]
    pos = _body_tokens(p)
    n_s = len(p.sent_len)
    ids, sent = p.ids[pos], p.sent[pos].astype(np.int64)
    order = np.lexsort((sent, ids))
    ids, sent = ids[order], sent[order]
    if len(ids):
        keep = np.ones(len(ids), dtype=bool)
        keep[1:] = (ids[1:] != ids[:-1]) | (sent[1:] != sent[:-1])
        ids, sent = ids[keep], sent[keep]
    u, first, cnt = np.unique(ids, return_index=True, return_counts=True)
    w = rarity.weights(ids)
    total = np.bincount(sent, weights=w, minlength=n_s) if len(ids) else np.zeros(n_s)
    out = (u, first, cnt, sent, w, total)
    p._sent_vocab = (rarity, out)
    return out


def retold_sentences(a: "Prepared", b: "Prepared", rarity: Rarity, covered_a: np.ndarray, covered_b: np.ndarray,
                     params: RewriteParams = REWRITE_PARAMS,
                     shared: tuple[float, float, int] | None = None) -> list[tuple[int, int, int, int, float]]:
    """Sentence pairs of ``a`` and ``b`` that retell each other: ``(a first token, a last token,
    b first token, b last token, score 0–100)``, in ``a`` order.

    Only when one document's rare vocabulary is largely in the other (:func:`gate_open`: which one, when the
    documents' ``published`` dates tell which is later); sentences
    already explained by other matches (``covered_*``: more than half of their tokens) or
    touching boilerplate are left out (``shared``: the pair's :func:`shared_vocabulary`, if known); each sentence is paired at most once, the best pairs
    first (ties by position, so the result is deterministic)."""
    p = params
    sx, sy, n_rare = shared if shared is not None else shared_vocabulary(a, b, rarity, p.rare)
    if not gate_open(sx, sy, n_rare, later_side(a.published, b.published), p):
        return []
    ua, first_a, cnt_a, sa, wa, ta = _sentence_vocab(a, rarity)
    ub, first_b, cnt_b, sb, _, tb = _sentence_vocab(b, rarity)
    n_a, n_b = len(ta), len(tb)
    if not n_a or not n_b or n_a * n_b > p.max_sentences * p.max_sentences:
        return []
    # every shared id: all (sentence of a, sentence of b) pairs holding it, with its weight
    _, xa, xb = np.intersect1d(ua, ub, assume_unique=True, return_indices=True)
    if not len(xa):
        return []
    na, nb = cnt_a[xa], cnt_b[xb]
    tot = na * nb
    rep = np.repeat(np.arange(len(xa)), tot)
    t = np.arange(int(tot.sum())) - np.repeat(np.cumsum(tot) - tot, tot)
    ra = first_a[xa][rep] + t // nb[rep]
    rb = first_b[xb][rep] + t % nb[rep]
    cell = sa[ra] * n_b + sb[rb]
    shared = np.bincount(cell, weights=wa[ra], minlength=n_a * n_b).reshape(n_a, n_b)
    n_rare = np.bincount(cell, weights=(wa[ra] >= p.rare), minlength=n_a * n_b).reshape(n_a, n_b)
    smaller = np.minimum.outer(ta, tb)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(smaller > 0, shared / smaller, 0.0)
    larger = np.maximum.outer(ta, tb)
    ok = (share >= p.share) & (shared >= p.mass) & (n_rare >= p.min_rare) & (larger <= p.max_ratio * smaller)
    if not ok.any():
        return []
    first_tok_a = np.searchsorted(a.sent, np.arange(n_a), "left")
    first_tok_b = np.searchsorted(b.sent, np.arange(n_b), "left")
    last_tok_a = first_tok_a + a.sent_len - 1
    last_tok_b = first_tok_b + b.sent_len - 1

    def free(d: "Prepared", covered: np.ndarray, f: int, l: int) -> bool:
        return not d.excluded[f : l + 1].any() and covered[f : l + 1].mean() <= 0.5

    cand = np.argwhere(ok)
    order = sorted(range(len(cand)), key=lambda k: (-share[tuple(cand[k])], int(cand[k][0]), int(cand[k][1])))
    used_a: set[int] = set()
    used_b: set[int] = set()
    out = []
    for k in order:
        i, j = int(cand[k][0]), int(cand[k][1])
        if i in used_a or j in used_b:
            continue
        fa, la, fb, lb = int(first_tok_a[i]), int(last_tok_a[i]), int(first_tok_b[j]), int(last_tok_b[j])
        if not (free(a, covered_a, fa, la) and free(b, covered_b, fb, lb)):
            continue
        used_a.add(i)
        used_b.add(j)
        out.append((fa, la, fb, lb, round(100.0 * min(1.0, float(share[i, j])), 2)))
    # a sentence or two of a long text that happen to share names do not make a rewrite
    if not out or max(ta[sorted(used_a)].sum() / max(ta.sum(), 1e-9), tb[sorted(used_b)].sum() / max(tb.sum(), 1e-9)) < p.min_cover:
        return []
    out.sort()
    return out
