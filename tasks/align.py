"""Pairwise text alignment: which spans of two documents are the same passage.

PAN text-alignment style, on normalized words (:mod:`newsdedup.tasks.normalize`):

1. **Seeds.** Ordered seeds are shared word 3-grams (hashed); order-free seeds are
   shared *locally rare* content words (each occurs at most a few times in both
   documents), which survive word and phrase shuffling where n-grams do not.
2. **Extension.** Seed points ``(token in A, token in B)`` are clustered by the
   PAN-2014 "divide by gaps" rule: sort by A, cut where two neighbours are more
   than ``gap`` tokens apart, then the same on B, until nothing changes. Shuffled
   passages stay one cluster because both projections are dense, whatever the order.
3. **Filtering / verification.** Each cluster is scored with rapidfuzz on the word
   sequences (``Indel`` similarity for ordered reuse, multiset overlap for shuffled
   reuse) and accepted by one of three rules: ``verbatim``/``fuzzy`` (ordered
   similarity), ``bag-of-words`` (shuffled), or ``phrases`` (light rewriting: two
   or more distinct shared phrases close together in both documents, e.g. a claim
   retold with its key phrases; one stock phrase alone never qualifies). Short
   spans are only accepted when they cover most of their sentence on both sides,
   so a stock phrase inside two different sentences is not reuse.
4. **Merging.** Accepted pieces close in both documents become one passage
   (granularity), and the spans are mapped back to received-text offsets through
   the normalization offset map.

Everything is deterministic: numpy stable sorts, no sets iterated for output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from hashlib import blake2b
from typing import Iterable, Sequence

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

from . import align_kernels
from .evidence import Rarity, assess, stock_flags
from .parallel import fork_map, shared
from .normalize import normalize, normalize_text, token_spans
from .rewrite import REWRITE, REWRITE_PARAMS, retold_sentences, shared_vocabulary, variant_shares, vocabulary

__all__ = ["ReuseDoc", "Match", "Prepared", "AlignParams", "PARAMS", "prepare", "align_pair", "align_pairs"]


@dataclass(frozen=True, slots=True)
class ReuseDoc:
    doc_id: str
    text: str  # as received
    excluded: tuple[tuple[int, int], ...] = ()  # received-text spans flagged boilerplate
    published: str | None = None  # ISO date (tasks/dates.py): which of two documents could retell the other


@dataclass(frozen=True, slots=True)
class Match:
    a_doc_id: str
    a_start: int
    a_end: int
    b_doc_id: str
    b_start: int
    b_end: int
    score: float
    method: str
    evidence: float | None = None  # rare-word equivalents of shared text (tasks/evidence.py); None: not assessed
    kind: str = "reuse"  # "reuse" | "template"
    # rarity-weighted share of each document's body vocabulary found in the other (the same on every
    # match of a pair; None when no corpus statistics were given), spelling variants found: see rewrite.variant_shares
    a_words: float | None = None
    b_words: float | None = None
    rare_words: int | None = None  # story-specific words both bodies share (rewrite.rare_shared)


@dataclass(frozen=True, slots=True)
class AlignParams:
    """Thresholds of the aligner (tuned on araplagdet-dev + seeds, see bench/reuse_dev.py)."""

    ngram: int = 3  # ordered seed size (words)
    max_repeat: int = 4  # a seed n-gram repeated more often than this in one doc is ignored
    rare_max: int = 2  # order-free seed: content word occurring at most this often in each doc
    rare_min_len: int = 3  # ... and at least this many characters long
    gap: int = 12  # tokens: seeds further apart than this (in either doc) split a cluster
    rare_gap: int = 40  # same for order-free seeds (sparser, so a wider gap)
    rare_min_points: int = 6  # order-free clusters need at least this many seeds
    rare_trim: int = 8  # edge seeds further than this from the next one are peeled off
    merge_gap: int = 30  # tokens: accepted pieces this close in both docs are merged
    min_tokens: int = 6  # shortest accepted span (tokens, both sides)
    min_chars: int = 30  # shortest accepted span (normalized chars, both sides)
    long_tokens: int = 25  # spans at least this long need no sentence-coverage check
    sent_cover: float = 0.6  # short spans must cover this share of their sentence(s), both sides
    ordered_sim: float = 0.70  # word-level Indel similarity for verbatim/fuzzy
    sentence_ratio: float = 80.0  # whole sentences sharing a seed with fuzz.ratio >= this are reuse
    sentence_min_chars: int = 35  # ... when both have at least this many normalized chars
    long_ordered_sim: float = 0.55  # ... for long spans
    bag_sim: float = 0.70  # multiset word overlap for bag-of-words (shuffled)
    bag_min_tokens: int = 20
    bag_density: float = 0.25  # order-free seeds per token of span (both sides)
    phrase_min: int = 2  # 'phrases' rule: at least this many distinct shared phrases ...
    phrase_content: int = 8  # ... with at least this many content words in all
    phrase_each: int = 2  # ... each phrase with at least this many content words
    phrase_window: int = 60  # ... all within this many tokens in both docs
    phrase_gap: int = 30  # clustering gap for the phrase rule
    # evidence (tasks/evidence.py): a match must share at least this many rare words' worth of text ...
    evidence_min: float = 6.0  # ... as ordered runs (verbatim, fuzzy, sentence, merged pieces)
    evidence_min_islands: float = 6.5  # ... as separate shared phrases or order-free (bag-of-words) words


PARAMS = AlignParams()

# Function words (normalized forms): they never make a seed on their own.
_STOP_RAW = """
في من الى إلى على علي عن ان أن إن او أو و ف ب ل ك ما لا لم لن قد هذا هذه ذلك تلك هؤلاء التي الذي الذين
اللذين اللتين اللواتي كان كانت يكون تكون كانوا مع بين بعد قبل حتى كل ثم اذا إذا اي أي هو هي هم هما هن
انه أنه انها أنها به بها له لها لهم منذ عند غير ايضا أيضا فقط حيث كما لكن لكنه ولكن وقد وكان وكانت وهو وهي
وفي ومن وعلى وان وأن الا إلا اما أما بل عليه عليها فيه فيها منه منها عنه عنها التى الى وإلى والى هناك هنا
يا نحو خلال ضمن لدى لدي سوف مثل بينما كذلك وذلك ذات ذو وقال قال وأضاف واضاف وأكد واكد وأشار واشار اليوم امس أمس
عام العام يوم وفق حسب بحسب ولا وما ومع وبين وبعد وقبل لقد فإن فان بأن بان لأن لان كي لكي
"""
STOPWORDS = frozenset(normalize_text(w) for w in _STOP_RAW.split())

# sentence ends; the Urdu full stop «۔» ends a sentence even when the next one follows without a space
_SENT_END = re.compile(r"[.!?؟;؛…।]+(?=\s|$|[\"'»”)\]])|۔+|\n\s*")

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xC2B2AE3D27D4EB4F)
_TOKEN_IDS: dict[str, int] = {}


def token_id(word: str) -> int:
    """Stable 64-bit id of a normalized word (same on every machine, unlike ``hash``)."""
    v = _TOKEN_IDS.get(word)
    if v is None:
        v = int.from_bytes(blake2b(word.encode("utf-8"), digest_size=8).digest(), "little", signed=True)
        if len(_TOKEN_IDS) < 4_000_000:
            _TOKEN_IDS[word] = v
    return v


def ngram_hashes(ids: np.ndarray, n: int) -> np.ndarray:
    """int64 hash of every word n-gram (``len(ids) - n + 1`` values), vectorized."""
    if len(ids) < n:
        return np.zeros(0, dtype=np.int64)
    u = ids.view(np.uint64)
    h = u[: len(u) - n + 1].copy()
    for k in range(1, n):
        h = h * _M1 + (u[k : len(u) - n + 1 + k] ^ _M2)
    h ^= h >> np.uint64(29)
    return h.view(np.int64)


@dataclass(slots=True, eq=False)
class Prepared:
    """Everything the aligner and the index need about one document, computed once."""

    doc_id: str
    norm_text: str  # the normalized text (sentence texts for whole-sentence similarity)
    tok_start: np.ndarray  # int32, normalized offsets
    tok_end: np.ndarray
    orig_start: np.ndarray  # int32, received-text offset where each token starts ...
    orig_end: np.ndarray  # ... and ends (spans map back through these, no per-character map is kept)
    ids: np.ndarray  # int64 token ids
    content: np.ndarray  # bool: not a function word
    excluded: np.ndarray  # bool: token touches an excluded (boilerplate) span
    sent: np.ndarray  # int32 sentence number of each token
    sent_len: np.ndarray  # int32 tokens per sentence
    shingles: np.ndarray  # int64 hash of the n-gram starting at each token (len n - ngram + 1)
    shingle_ok: np.ndarray  # bool: usable as a seed (not excluded, has a content word)
    wlen: np.ndarray | None = None  # int32 characters per token
    published: str | None = None  # ISO date or date-time, None when unknown (tasks/rewrite.py: the later side)
    _sorted: tuple | None = field(default=None, repr=False)
    _rare: tuple | None = field(default=None, repr=False)
    _sents: tuple | None = field(default=None, repr=False)
    _vocab: tuple | None = field(default=None, repr=False)
    _sent_vocab: tuple | None = field(default=None, repr=False)
    _vocab_words: tuple | None = field(default=None, repr=False)  # (vocabulary ids, their text) (tasks/rewrite.py)
    _numeric: np.ndarray | None = field(default=None, repr=False)  # tokens that are numbers (tasks/evidence.py)
    _weights: tuple | None = field(default=None, repr=False)  # (rarity, token weights) (tasks/evidence.py)
    _segs: tuple | None = field(default=None, repr=False)  # (segment offset per token or None,) (_seg_coord)
    _stock: tuple | None = field(default=None, repr=False)  # (stock n-grams, corpus-common flag per n-gram) (tasks/evidence.py)

    def __len__(self) -> int:
        return len(self.ids)

    def __reduce__(self) -> tuple:
        """Pickled as three buffers (int32, int64, bool arrays end to end) rather than twelve arrays:
        prepared documents cross from the preparing workers and come back from the prepared store
        by the thousand, and per-array pickling was most of that cost. Cached tables are not kept."""
        n, s, m = len(self.ids), len(self.sent_len), len(self.shingles)
        wlen = self.wlen if self.wlen is not None else self.tok_end - self.tok_start
        i32 = np.concatenate([np.asarray(x, dtype=np.int32) for x in (
            self.tok_start, self.tok_end, self.orig_start, self.orig_end, self.sent, wlen, self.sent_len)])
        i64 = np.concatenate([np.asarray(self.ids, dtype=np.int64), np.asarray(self.shingles, dtype=np.int64)])
        flags = np.concatenate([np.asarray(x, dtype=bool) for x in (self.content, self.excluded, self.shingle_ok)])
        return (_unpack_prepared, (self.doc_id, self.norm_text, n, s, m, i32.tobytes(), i64.tobytes(), flags.tobytes(),
                                   self.published))

    def seed_table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(unique usable shingle hashes, first index, count, token positions sorted by hash), cached."""
        if self._sorted is None:
            pos = np.flatnonzero(self.shingle_ok).astype(np.int32)
            self._sorted = _table(self.shingles[pos], pos)
        return self._sorted


def _unpack_prepared(doc_id: str, norm_text: str, n: int, s: int, m: int, i32: bytes, i64: bytes,
                     flags: bytes, published: str | None = None) -> Prepared:
    """The inverse of :meth:`Prepared.__reduce__`: read-only views into the three buffers."""
    a = np.frombuffer(i32, dtype=np.int32)
    q = np.frombuffer(i64, dtype=np.int64)
    f = np.frombuffer(flags, dtype=bool)
    return Prepared(doc_id, norm_text, a[:n], a[n:2 * n], a[2 * n:3 * n], a[3 * n:4 * n], q[:n], f[:n],
                    f[n:2 * n], a[4 * n:5 * n], a[6 * n:6 * n + s], q[n:n + m], f[2 * n:2 * n + m], a[5 * n:6 * n],
                    published)


def _table(values: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Group positions by value: (sorted unique values, start, count, positions sorted by value)."""
    order = np.argsort(values, kind="stable")
    v, pos = values[order], pos[order]
    if not len(v):
        z = np.zeros(0, np.int64)
        return z, z, z, pos
    flag = np.empty(len(v), dtype=bool)
    flag[0] = True
    np.not_equal(v[1:], v[:-1], out=flag[1:])
    start = np.flatnonzero(flag)
    cnt = np.diff(np.append(start, len(v)))
    return v[start], start, cnt, pos


def prepare(doc: ReuseDoc, params: AlignParams = PARAMS) -> Prepared:
    """Normalize, tokenize, hash and mark one document (done once, reused for every pair)."""
    norm = normalize(doc.text)
    words, spans = token_spans(norm.text)
    n = len(words)
    se = np.array(spans, dtype=np.int32).reshape(n, 2)
    tok_start, tok_end = se[:, 0].copy(), se[:, 1].copy()
    ids = np.fromiter(map(token_id, words), dtype=np.int64, count=n)
    content = np.fromiter((w not in STOPWORDS for w in words), dtype=bool, count=n)
    # received offsets of token starts, for sentence numbers and exclusions
    starts_arr = np.frombuffer(norm.starts, dtype=np.int64) if norm.starts.itemsize == 8 else np.asarray(norm.starts, dtype=np.int64)
    ends_arr = np.frombuffer(norm.ends, dtype=np.int64) if norm.ends.itemsize == 8 else np.asarray(norm.ends, dtype=np.int64)
    orig_start = starts_arr[tok_start] if n else np.zeros(0, dtype=np.int64)
    orig_end = ends_arr[tok_end - 1] if n else np.zeros(0, dtype=np.int64)
    del starts_arr, ends_arr
    bounds = np.array([m.end() for m in _SENT_END.finditer(doc.text)], dtype=np.int64)
    sent = np.searchsorted(bounds, orig_start, side="right").astype(np.int32)
    if n:
        _, sent = np.unique(sent, return_inverse=True)
        sent = sent.astype(np.int32)
        sent_len = np.bincount(sent).astype(np.int32)
    else:
        sent_len = np.zeros(0, dtype=np.int32)
    excluded = np.zeros(n, dtype=bool)
    for s, e in doc.excluded:
        if e > s and n:
            excluded |= (orig_start < e) & (orig_end > s)
    shingles = ngram_hashes(ids, params.ngram)
    m = len(shingles)
    if m:
        win_ex = np.zeros(m, dtype=bool)
        win_ct = np.zeros(m, dtype=np.int32)
        for k in range(params.ngram):
            win_ex |= excluded[k : k + m]
            win_ct += content[k : k + m]
        shingle_ok = ~win_ex & (win_ct > 0)
    else:
        shingle_ok = np.zeros(0, dtype=bool)
    wlen = (tok_end - tok_start).astype(np.int32)
    return Prepared(doc.doc_id, norm.text, tok_start, tok_end, orig_start.astype(np.int32),
                    orig_end.astype(np.int32), ids, content, excluded, sent, sent_len, shingles, shingle_ok, wlen,
                    str(doc.published) if doc.published else None)


# ---------------------------------------------------------------- seeds


def _ordered_seeds(a: Prepared, b: Prepared, p: AlignParams) -> tuple[np.ndarray, np.ndarray]:
    """Token positions (i, j) of shared n-grams (start positions)."""
    return align_kernels.seed_pairs(*a.seed_table(), *b.seed_table(), p.max_repeat)


def _rare_table(d: Prepared, p: AlignParams) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Grouped table of the document's locally rare content words, cached."""
    if d._rare is not None and d._rare[0] == (p.rare_max, p.rare_min_len):
        return d._rare[1]
    ok = d.content & ~d.excluded & (d.wlen >= p.rare_min_len)
    pos = np.flatnonzero(ok).astype(np.int32)
    u, st, cnt, ps = _table(d.ids[pos], pos)
    good = cnt <= p.rare_max
    sel = np.repeat(good, cnt)
    ps = ps[sel]
    cnt = cnt[good]
    st = np.cumsum(cnt) - cnt
    d._rare = ((p.rare_max, p.rare_min_len), (u[good], st, cnt, ps))
    return d._rare[1]


def _rare_seeds(a: Prepared, b: Prepared, p: AlignParams) -> tuple[np.ndarray, np.ndarray]:
    """Token positions (i, j) of shared locally rare content words (order-free)."""
    return align_kernels.seed_pairs(*_rare_table(a, p), *_rare_table(b, p), np.iinfo(np.int64).max)


# ---------------------------------------------------------------- clustering


def gap_clusters(ai: np.ndarray, bj: np.ndarray, gap: int, min_size: int = 1) -> list[np.ndarray]:
    """Split seed points into groups: cut wherever neighbours (sorted on A, then on B,
    alternately, until stable) are more than ``gap`` apart; groups smaller than
    ``min_size`` are dropped as soon as they appear. Returns index arrays, sorted by
    their smallest A position (:func:`~newsdedup.tasks.align_kernels.gap_groups`, compiled)."""
    members, bounds = align_kernels.gap_groups(np.ascontiguousarray(ai, dtype=np.int64),
                                               np.ascontiguousarray(bj, dtype=np.int64), gap, min_size)
    b = bounds.tolist()
    return [members[b[k]:b[k + 1]] for k in range(len(b) - 1)]


def _seed_groups(a: Prepared, b: Prepared, si: np.ndarray, sj: np.ndarray, gap: int, min_size: int
                 ) -> list[tuple[np.ndarray, int, int, int, int]]:
    """:func:`gap_clusters` of seed points ``(si, sj)`` (never across an excluded span), each group with
    the token range its points span in ``a`` and in ``b``: ``(indices, a_min, a_max, b_min, b_max)``."""
    members, bounds = align_kernels.gap_groups(_seg_coord(a, si), _seg_coord(b, sj), gap, min_size)
    if len(bounds) < 2:
        return []
    spans = align_kernels.group_spans(members, bounds, si, sj)
    b_ = bounds.tolist()
    return [(members[b_[k]:b_[k + 1]], *x) for k, x in enumerate(zip(*(s.tolist() for s in spans)))]


def trim_edges(ai: np.ndarray, bj: np.ndarray, gap: int) -> np.ndarray:
    """Indices of the points left after peeling, from both ends of both projections,
    points more than ``gap`` away from their inner neighbour (chance matches that a
    wide clustering gap chained onto a dense passage; compiled:
    :func:`~newsdedup.tasks.align_kernels.trim_edges`)."""
    return align_kernels.trim_edges(np.ascontiguousarray(ai, dtype=np.int64),
                                    np.ascontiguousarray(bj, dtype=np.int64), gap)


# ---------------------------------------------------------------- verification


@dataclass(slots=True)
class _Piece:
    a0: int  # token range, inclusive
    a1: int
    b0: int
    b1: int
    score: float
    method: str


def _bag_sim(x: np.ndarray, y: np.ndarray) -> float:
    """Multiset overlap of two token-id arrays / the longer one."""
    if not len(x) or not len(y):
        return 0.0
    ux, cx = np.unique(x, return_counts=True)
    uy, cy = np.unique(y, return_counts=True)
    _, ix, iy = np.intersect1d(ux, uy, assume_unique=True, return_indices=True)
    inter = int(np.minimum(cx[ix], cy[iy]).sum())
    return inter / max(len(x), len(y))


def _sent_cover(d: Prepared, t0: int, t1: int) -> float:
    """Share of the tokens of the sentences touched by [t0, t1] that the span covers."""
    s0, s1 = int(d.sent[t0]), int(d.sent[t1])
    total = int(d.sent_len[s0 : s1 + 1].sum())
    return (t1 - t0 + 1) / total if total else 0.0


def _nchars(d: Prepared, t0: int, t1: int) -> int:
    return int(d.tok_end[t1] - d.tok_start[t0])


def _phrases(ai: np.ndarray, bj: np.ndarray, a: Prepared, n: int) -> list[tuple[int, int, int]]:
    """Maximal diagonal runs of n-gram seeds: (a_start, b_start, length in tokens)."""
    if not len(ai):
        return []
    ra, rb, rl = align_kernels.phrase_runs(ai, bj, n)
    return list(zip(ra.tolist(), rb.tolist(), rl.tolist()))


_NO_STOCK = np.zeros(0, dtype=bool)


def _phrase_piece(a: Prepared, phrases: list[tuple[int, int, int]], a0: int, a1: int, b0: int, b1: int,
                  osim: float, p: AlignParams, common: np.ndarray | None = None) -> _Piece | None:
    """The light-rewriting rule: >= ``phrase_min`` distinct (non-overlapping in both docs)
    shared phrases, each with >= ``phrase_each`` content words, >= ``phrase_content`` in all,
    within ``phrase_window`` tokens in both docs. Phrases made only of corpus-common
    n-grams (``common``: the index's stop list) do not count."""
    # only words inside n-grams that are not corpus-common count as evidence
    use_stock = common is not None and len(common) > 0
    stock = stock_flags(a, common) if use_stock else _NO_STOCK
    starts = np.array([ph[0] for ph in phrases], dtype=np.int64)
    lens = np.array([ph[2] for ph in phrases], dtype=np.int64)
    counts = align_kernels.phrase_content(a.content, stock, starts, lens, p.ngram, use_stock).tolist()
    cand = [(ln, c, pa_, pb_) for (pa_, pb_, ln), c in zip(phrases, counts) if c >= p.phrase_each]
    cand.sort(key=lambda x: (-x[0], x[2], x[3]))
    good: list[tuple[int, int, int, int]] = []
    for ln, c, pa_, pb_ in cand:
        if all(pa_ + ln <= g[0] or g[0] + g[2] <= pa_ for g in good) and \
                all(pb_ + ln <= g[1] or g[1] + g[2] <= pb_ for g in good):
            good.append((pa_, pb_, ln, c))
    if len(good) < p.phrase_min or sum(g[3] for g in good) < p.phrase_content:
        return None
    sa = max(g[0] + g[2] for g in good) - min(g[0] for g in good)
    sb = max(g[1] + g[2] for g in good) - min(g[1] for g in good)
    if max(sa, sb) > p.phrase_window:
        return None
    a0, a1 = min(g[0] for g in good), max(g[0] + g[2] for g in good) - 1
    b0, b1 = min(g[1] for g in good), max(g[1] + g[2] for g in good) - 1
    score = 100 * sum(g[2] for g in good) / max(a1 - a0 + 1, b1 - b0 + 1)
    return _Piece(a0, a1, b0, b1, round(min(100.0, max(score, 100 * osim)), 2), "phrases")


def _verify(a: Prepared, b: Prepared, a0: int, a1: int, b0: int, b1: int, p: AlignParams,
            phrases: list[tuple[int, int, int]] | None = None, rare_pts: int = 0,
            common: np.ndarray | None = None) -> _Piece | None:
    la, lb = a1 - a0 + 1, b1 - b0 + 1
    if min(la, lb) < p.min_tokens or min(_nchars(a, a0, a1), _nchars(b, b0, b1)) < p.min_chars:
        return None
    xa, xb = a.ids[a0 : a1 + 1], b.ids[b0 : b1 + 1]
    osim = Indel.normalized_similarity(xa.tolist(), xb.tolist())
    long_ = min(la, lb) >= p.long_tokens
    covered = long_ or min(_sent_cover(a, a0, a1), _sent_cover(b, b0, b1)) >= p.sent_cover
    if covered and osim >= (p.long_ordered_sim if long_ else p.ordered_sim):
        return _Piece(a0, a1, b0, b1, round(100 * osim, 2), "verbatim" if osim >= 0.98 else "fuzzy")
    if min(la, lb) >= p.bag_min_tokens:
        bsim = _bag_sim(xa, xb)
        if bsim >= p.bag_sim:
            return _Piece(a0, a1, b0, b1, round(100 * bsim, 2), "bag-of-words")
    if phrases:
        pc = _phrase_piece(a, phrases, a0, a1, b0, b1, osim, p, common)
        if pc is not None:
            return pc
    return None


def _sentences(d: Prepared) -> tuple[list[int], list[int], list[str], np.ndarray, np.ndarray]:
    """Per sentence: first token, last token, normalized text, touches an excluded span, length in
    normalized characters (cached; the last two as arrays, to filter sentence pairs at once)."""
    if d._sents is None:
        n_s = len(d.sent_len)
        first = np.searchsorted(d.sent, np.arange(n_s), "left")
        last = first + d.sent_len - 1
        texts = [d.norm_text[d.tok_start[f] : d.tok_end[l]] for f, l in zip(first.tolist(), last.tolist())]
        ex = np.maximum.reduceat(d.excluded, first).astype(bool) if n_s else np.zeros(0, dtype=bool)
        d._sents = (first.tolist(), last.tolist(), texts, ex, np.array([len(t) for t in texts], dtype=np.int64))
    return d._sents


def _sentence_pieces(a: Prepared, b: Prepared, si: np.ndarray, sj: np.ndarray, covered_a: np.ndarray,
                     covered_b: np.ndarray, pieces: list, p: AlignParams) -> None:
    """Whole-sentence fuzz.ratio for sentence pairs that share a seed and are not explained yet."""
    fa, la_, ta, xa, na = _sentences(a)
    fb, lb_, tb, xb, nb_ = _sentences(b)
    lo_ratio = p.sentence_ratio / (200.0 - p.sentence_ratio)  # ratio >= r needs len_min/len_max >= r/(200-r)
    # sentence pairs that cannot reach the ratio (excluded, too short, lengths too far apart) are
    # dropped at once; fuzz.ratio runs on the rest, in order
    xs, ys = align_kernels.sentence_candidates(a.sent, b.sent, si, sj, covered_a, covered_b, xa, xb, na, nb_,
                                               p.sentence_min_chars, lo_ratio)
    for x, y in zip(xs.tolist(), ys.tolist()):
        sa, sb = ta[x], tb[y]
        r = fuzz.ratio(sa, sb, score_cutoff=p.sentence_ratio)
        if r:
            a0, a1, b0, b1 = fa[x], la_[x], fb[y], lb_[y]
            pieces.append(_Piece(a0, a1, b0, b1, round(r, 2), "verbatim" if r >= 99.5 else "fuzzy"))
            covered_a[a0 : a1 + 1] = True
            covered_b[b0 : b1 + 1] = True


_SEG = 1 << 30


def _seg_coord(d: Prepared, pos: np.ndarray) -> np.ndarray:
    """Token positions pushed apart across excluded (boilerplate) tokens, so that no cluster
    and hence no span ever reaches over an excluded span."""
    if d._segs is None:  # cached: (the offset of each token's segment, or None when nothing is excluded,)
        d._segs = (np.cumsum(d.excluded).astype(np.int64) * _SEG if d.excluded.any() else None,)
    if d._segs[0] is None:
        return pos.astype(np.int64)
    return pos.astype(np.int64) + d._segs[0][pos]


def _same_segment(d: Prepared, t0: int, t1: int) -> bool:
    return not d.excluded[min(t0, t1) : max(t0, t1) + 1].any()


def _merge(pieces: list[_Piece], p: AlignParams, a: Prepared | None = None, b: Prepared | None = None) -> list[_Piece]:
    """Union pieces that overlap or lie within ``merge_gap`` tokens in both documents
    (never across an excluded span)."""
    pieces = sorted(pieces, key=lambda x: (x.a0, x.b0))
    changed = True
    while changed:
        changed = False
        out: list[_Piece] = []
        for x in pieces:
            for y in out:
                if (x.a0 <= y.a1 + p.merge_gap and y.a0 <= x.a1 + p.merge_gap
                        and x.b0 <= y.b1 + p.merge_gap and y.b0 <= x.b1 + p.merge_gap
                        and (a is None or _same_segment(a, min(x.a0, y.a0), max(x.a1, y.a1)))
                        and (b is None or _same_segment(b, min(x.b0, y.b0), max(x.b1, y.b1)))):
                    wa = (y.a1 - y.a0 + 1) + (x.a1 - x.a0 + 1)
                    y.score = round((y.score * (y.a1 - y.a0 + 1) + x.score * (x.a1 - x.a0 + 1)) / wa, 2)
                    if y.method != x.method:
                        y.method = "fuzzy" if {y.method, x.method} <= {"verbatim", "fuzzy"} else "mixed"
                    y.a0, y.a1 = min(y.a0, x.a0), max(y.a1, x.a1)
                    y.b0, y.b1 = min(y.b0, x.b0), max(y.b1, x.b1)
                    changed = True
                    break
            else:
                out.append(_Piece(x.a0, x.a1, x.b0, x.b1, x.score, x.method))
        pieces = sorted(out, key=lambda x: (x.a0, x.b0))
    return pieces


def _to_match(a: Prepared, b: Prepared, pc: _Piece, evidence: float | None = None, kind: str = "reuse") -> Match:
    return Match(a.doc_id, int(a.orig_start[pc.a0]), int(a.orig_end[pc.a1]), b.doc_id, int(b.orig_start[pc.b0]),
                 int(b.orig_end[pc.b1]), float(pc.score), pc.method, evidence, kind)


def _assessed(a: Prepared, b: Prepared, pieces: list[_Piece], p: AlignParams, rarity: Rarity | None) -> list[Match]:
    """Matches of the merged pieces that share enough information (tasks/evidence.py), with their kind.

    Ordered runs need ``evidence_min``; pieces found as separate shared phrases or as order-free
    words need ``evidence_min_islands``: two articles about one event share names, titles and a
    few stock phrases without either copying the other, and islands of them are what that looks like."""
    out = []
    for pc in pieces:
        got = assess(a, b, pc.a0, pc.a1, pc.b0, pc.b1, rarity, order_free=pc.method == "bag-of-words", ngram=p.ngram)
        need = p.evidence_min_islands if pc.method in ("phrases", "bag-of-words") else p.evidence_min
        if got.evidence >= need:
            out.append(_to_match(a, b, pc, got.evidence, got.kind))
    return out


def align_pair(a: Prepared, b: Prepared, params: AlignParams = PARAMS,
               common: np.ndarray | None = None, rarity: Rarity | None = None) -> list[Match]:
    """Verified, merged span pairs between two different documents (a_doc_id < b_doc_id), each
    with its evidence and kind; pairs sharing too little information are no match.

    ``rarity``: the corpus statistics evidence is weighed with (:meth:`CandidateIndex.rarity`);
    None weighs every shared word 1. ``common``: sorted int64 hashes of corpus-common shingles
    (default: ``rarity.common``); they still align but never count as phrase evidence.
    With ``rarity``, a pair no copied passage links is also checked for sentences retold
    without a shared phrase (method ``rewrite``, :mod:`~newsdedup.tasks.rewrite`), and every
    match carries both documents' :func:`~newsdedup.tasks.rewrite.words_shared` and the
    story-specific words they share (what their derivation is decided from)."""
    if a.doc_id == b.doc_id:
        return []
    if a.doc_id > b.doc_id:
        a, b = b, a
    if common is None and rarity is not None:
        common = rarity.common
    p = params
    pieces: list[_Piece] = []
    covered_a = np.zeros(len(a), dtype=bool)
    covered_b = np.zeros(len(b), dtype=bool)
    # ordered seeds
    si, sj = _ordered_seeds(a, b, p)
    if len(si):
        used = np.zeros(len(si), dtype=bool)
        for g, a0, a1, b0, b1 in _seed_groups(a, b, si, sj, p.gap, 2):
            a1, b1 = a1 + p.ngram - 1, b1 + p.ngram - 1
            pc = _verify(a, b, a0, a1, b0, b1, p)
            if pc is not None:
                pieces.append(pc)
                covered_a[pc.a0 : pc.a1 + 1] = True
                covered_b[pc.b0 : pc.b1 + 1] = True
                used[g] = True
        # light rewriting: shared phrases a little further apart than one cluster allows
        rest = np.flatnonzero(~used)
        if len(rest) >= 2:
            ri_, rj_ = si[rest], sj[rest]
            for g, a0, a1, b0, b1 in _seed_groups(a, b, ri_, rj_, p.phrase_gap, 2):
                ph = _phrases(ri_[g], rj_[g], a, p.ngram)
                if len(ph) < p.phrase_min:
                    continue
                a1, b1 = a1 + p.ngram - 1, b1 + p.ngram - 1
                osim = Indel.normalized_similarity(a.ids[a0 : a1 + 1].tolist(), b.ids[b0 : b1 + 1].tolist())
                pc = _phrase_piece(a, ph, a0, a1, b0, b1, osim, p, common)
                if pc is not None:
                    pieces.append(pc)
                    covered_a[pc.a0 : pc.a1 + 1] = True
                    covered_b[pc.b0 : pc.b1 + 1] = True
        # near-identical sentences: whole-sentence character similarity (fuzz.ratio) of the
        # sentence pairs that share a seed and are not explained yet
        if len(si):
            _sentence_pieces(a, b, si, sj, covered_a, covered_b, pieces, p)
    # order-free seeds, outside what the ordered pass explained
    ri, rj = _rare_seeds(a, b, p)
    if len(ri):
        keep = ~(covered_a[ri] & covered_b[rj])
        ri, rj = ri[keep], rj[keep]
        for g in gap_clusters(_seg_coord(a, ri), _seg_coord(b, rj), p.rare_gap, min_size=p.rare_min_points):
            gi, gj = ri[g], rj[g]
            t = trim_edges(gi, gj, p.rare_trim)
            if len(t) < p.rare_min_points:
                continue
            gi, gj = gi[t], gj[t]
            a0, a1, b0, b1 = int(gi.min()), int(gi.max()), int(gj.min()), int(gj.max())
            if len(g) < p.bag_density * max(a1 - a0 + 1, b1 - b0 + 1):
                continue
            pc = _verify(a, b, a0, a1, b0, b1, p, rare_pts=len(g))
            if pc is not None:
                pieces.append(pc)
    found = _assessed(a, b, _merge(pieces, p, a, b), p, rarity) if pieces else []
    if rarity is None:
        return found
    # a rewrite that copied no passage: its retold sentences are what links the documents (looked
    # for only then: next to copied passages they would only split them, and the derivation of a pair
    # with copied passages is decided from its words and copies, not from retold sentences). Pieces
    # the evidence test rejected explain nothing, so every sentence may be retold.
    vocab = shared_vocabulary(a, b, rarity)
    retold: list[Match] = []
    if not found:
        none_a, none_b = np.zeros(len(a), dtype=bool), np.zeros(len(b), dtype=bool)
        sentences = [_Piece(a0, a1, b0, b1, sc, REWRITE)
                     for a0, a1, b0, b1, sc in retold_sentences(a, b, rarity, none_a, none_b, REWRITE_PARAMS, vocab)]
        for pc in _merge(sentences, p, a, b) if sentences else ():  # neighbouring retold sentences: one passage
            # evidence and kind as for any match (a retold weather report is a template), never a filter:
            # what makes a retelling is the pair's rare vocabulary, weighed above
            got = assess(a, b, pc.a0, pc.a1, pc.b0, pc.b1, rarity, order_free=True, ngram=p.ngram)
            retold.append(_to_match(a, b, pc, got.evidence, got.kind))
    merged = found
    if not merged and not retold:
        return []
    # what the pair's derivation is decided from: words shared with spelling variants found (the gate above keeps
    # the exact share; computed only for the pairs that have matches)
    va, vb = variant_shares(a, b, rarity, REWRITE_PARAMS)
    wa, wb, nr = round(va, 4), round(vb, 4), vocab[2]
    return sorted((replace(m, a_words=wa, b_words=wb, rare_words=nr) for m in merged + retold),
                  key=lambda m: (m.a_start, m.b_start, m.a_end, m.b_end))


def _order_key(m: Match) -> tuple:
    return (m.a_doc_id, m.b_doc_id, m.a_start, m.a_end, m.b_start, m.b_end, m.score, m.method)


def _align_chunk(chunk: Sequence[tuple[int, int]]) -> list[Match]:
    docs, params, common, rarity = shared["docs"], shared["params"], shared["common"], shared.get("rarity")
    out: list[Match] = []
    for i, j in chunk:
        out.extend(align_pair(docs[i], docs[j], params, common, rarity))
    return out


def warm_tables(docs: Iterable[Prepared], params: AlignParams = PARAMS, rarity: Rarity | None = None) -> None:
    """Build the per-document tables every pair reads (the seed and rare-word tables, the segment
    offsets, the body vocabulary for ``rarity``) on the documents themselves, once.

    Done before the pairs are forked out: a forked worker's tables die with it, so a document that
    is a candidate in many batches was otherwise tabled again in each (on SaudiNewsNet 1/8, 318 CPU
    µs a pair with tables built per batch of 2,000 pairs against 204 with them built once; building
    them costs ~110 µs a document). Tables that only some pairs need (sentences, their vocabulary,
    evidence weights) stay lazy; everything is the same function of the document either way."""
    empty = np.zeros(0, dtype=np.int64)
    for d in docs:
        d.seed_table()
        _rare_table(d, params)
        _seg_coord(d, empty)
        if rarity is not None:
            vocabulary(d, rarity)
            stock_flags(d, rarity.common)


def align_pairs(pairs: Iterable[tuple[Prepared, Prepared]], params: AlignParams = PARAMS,
                common: np.ndarray | None = None, workers: int = 1, chunk_size: int = 2000,
                rarity: Rarity | None = None) -> list[Match]:
    """Batch form of :func:`align_pair`; the result is sorted, so order of pairs does not matter.

    ``workers > 1`` forks that many processes (:func:`parallel.fork_map`: the prepared
    documents are inherited, with their tables built first (:func:`warm_tables`), only pair numbers
    and matches cross); output is identical."""
    docs: list[Prepared] = []
    num: dict[int, int] = {}
    work: list[tuple[int, int]] = []
    for a, b in pairs:
        for d in (a, b):
            if id(d) not in num:
                num[id(d)] = len(docs)
                docs.append(d)
        work.append((num[id(a)], num[id(b)]))
    if workers > 1:
        warm_tables(docs, params, rarity)
    parts = fork_map(_align_chunk, work, workers=workers, chunk_size=chunk_size,
                     state={"docs": docs, "params": params, "common": common, "rarity": rarity})
    out = [m for part in parts for m in part]
    out.sort(key=_order_key)
    return out
