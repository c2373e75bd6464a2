"""The aligner's compiled kernels against plain-Python statements of the same rules.

The references below are the NumPy/Python code the kernels replaced (tasks/align.py before they
existed), kept here as the specification: matches must stay byte-identical, so every kernel must give
exactly what its reference gives, order included, on random inputs with ties, repeats and empty sides.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from newsdedup.tasks import align_kernels as K
from newsdedup.tasks.align import _table


def ref_common_expand(ua, sa, ca, pa, ub, sb, cb, pb, max_repeat):
    if not len(ua) or not len(ub):
        z = np.zeros(0, pa.dtype)
        return z, z.astype(pb.dtype)
    swap = len(ua) > len(ub)
    small, big = (ub, ua) if swap else (ua, ub)
    k = np.searchsorted(big, small)
    k[k == len(big)] = 0
    hit = big[k] == small
    si, bi = np.flatnonzero(hit), k[hit]
    ia, ib = (bi, si) if swap else (si, bi)
    keep = (ca[ia] <= max_repeat) & (cb[ib] <= max_repeat)
    ia, ib = ia[keep], ib[keep]
    la, na, lb, nb = sa[ia], ca[ia], sb[ib], cb[ib]
    tot = na * nb
    rep = np.repeat(np.arange(len(la)), tot)
    t = np.arange(int(tot.sum())) - np.repeat(np.cumsum(tot) - tot, tot)
    return pa[la[rep] + t // nb[rep]], pb[lb[rep] + t % nb[rep]]


def ref_gap_clusters(ai, bj, gap, min_size=1):
    n = len(ai)
    if n < max(1, min_size):
        return []
    coords = (ai.tolist(), bj.tolist())
    out = []
    work = [(list(range(n)), 0, False)]
    while work:
        idx, dim, stable = work.pop()
        c = coords[dim]
        idx.sort(key=c.__getitem__)
        parts = []
        cur = [idx[0]]
        last = c[idx[0]]
        for k in idx[1:]:
            v = c[k]
            if v - last > gap:
                parts.append(cur)
                cur = [k]
            else:
                cur.append(k)
            last = v
        parts.append(cur)
        if len(parts) == 1:
            if stable:
                out.append(idx)
            else:
                work.append((idx, 1 - dim, True))
        else:
            for part in parts:
                if len(part) >= min_size:
                    work.append((part, 1 - dim, False))
    a, b = coords
    out.sort(key=lambda g: (min(map(a.__getitem__, g)), min(map(b.__getitem__, g))))
    return [sorted(g) for g in out]


def ref_trim_edges(ai, bj, gap):
    keep = np.arange(len(ai))
    changed = True
    while changed and len(keep) > 1:
        changed = False
        for coord in (ai, bj):
            c = coord[keep]
            order = np.argsort(c, kind="stable")
            cs = c[order]
            d = np.diff(cs)
            lo = 0
            while lo < len(d) and d[lo] > gap:
                lo += 1
            hi = len(cs) - 1
            while hi > lo and d[hi - 1] > gap:
                hi -= 1
            if lo > 0 or hi < len(cs) - 1:
                keep = np.sort(keep[order[lo: hi + 1]])
                changed = True
    return keep


def ref_phrase_runs(ai, bj, n):
    order = np.lexsort((ai, ai - bj))
    ai, bj = ai[order], bj[order]
    runs = []
    s = 0
    for k in range(1, len(ai) + 1):
        if k == len(ai) or ai[k] - bj[k] != ai[s] - bj[s] or ai[k] > ai[k - 1] + 1:
            runs.append((int(ai[s]), int(bj[s]), int(ai[k - 1] - ai[s]) + n))
            s = k
    return runs


def ref_phrase_content(content, stock, phrases, n, use_stock):
    out = []
    for pa_, _, ln in phrases:
        if use_stock:
            rare = ~stock[pa_: pa_ + ln - n + 1]
            mask = np.zeros(ln, dtype=bool)
            for k in range(n):
                mask[k: k + len(rare)] |= rare
            out.append(int((content[pa_: pa_ + ln] & mask).sum()))
        else:
            out.append(int(content[pa_: pa_ + ln].sum()))
    return out


def ref_sentence_candidates(sent_a, sent_b, si, sj, cov_a, cov_b, ex_a, ex_b, na, nb_, min_chars, lo_ratio):
    ok = ~(cov_a[si] & cov_b[sj])
    nb = len(nb_) + 1
    codes = np.unique(sent_a[si[ok]].astype(np.int64) * nb + sent_b[sj[ok]])
    xs, ys = codes // nb, codes % nb
    la, lb = na[xs], nb_[ys]
    lo, hi = np.minimum(la, lb), np.maximum(la, lb)
    keep = ~ex_a[xs] & ~ex_b[ys] & (lo >= min_chars) & (lo >= lo_ratio * hi)
    return xs[keep].tolist(), ys[keep].tolist()


points = st.lists(st.tuples(st.integers(0, 120), st.integers(0, 120)), max_size=90, unique=True)


@settings(max_examples=300, deadline=None)
@given(points, st.integers(0, 15), st.integers(1, 4))
def test_gap_groups_is_the_reference(pts, gap, min_size):
    ai = np.array([p[0] for p in pts], dtype=np.int64)
    bj = np.array([p[1] for p in pts], dtype=np.int64)
    members, bounds = K.gap_groups(ai, bj, gap, min_size)
    got = [members[bounds[k]:bounds[k + 1]].tolist() for k in range(len(bounds) - 1)]
    assert got == ref_gap_clusters(ai, bj, gap, min_size)


def test_gap_groups_long_segments_sort_stably():
    # more points than the insertion-sort limit, with many equal coordinates on each axis
    rng = np.random.default_rng(3)
    ai = rng.integers(0, 40, 400)
    bj = rng.integers(0, 400, 400)
    keep = np.unique(ai * 1000 + bj, return_index=True)[1]
    ai, bj = ai[np.sort(keep)].astype(np.int64), bj[np.sort(keep)].astype(np.int64)
    for gap in (0, 1, 3, 12):
        members, bounds = K.gap_groups(ai, bj, gap, 2)
        got = [members[bounds[k]:bounds[k + 1]].tolist() for k in range(len(bounds) - 1)]
        assert got == ref_gap_clusters(ai, bj, gap, 2)


@settings(max_examples=300, deadline=None)
@given(points, st.integers(0, 20))
def test_trim_edges_is_the_reference(pts, gap):
    ai = np.array([p[0] for p in pts], dtype=np.int64)
    bj = np.array([p[1] for p in pts], dtype=np.int64)
    assert K.trim_edges(ai, bj, gap).tolist() == ref_trim_edges(ai, bj, gap).tolist()


tokens = st.lists(st.integers(0, 12), max_size=60)


@settings(max_examples=300, deadline=None)
@given(tokens, tokens, st.integers(1, 3))
def test_seed_pairs_is_the_reference(xa, xb, max_repeat):
    ta = _table(np.array(xa, dtype=np.int64), np.arange(len(xa), dtype=np.int32))
    tb = _table(np.array(xb, dtype=np.int64), np.arange(len(xb), dtype=np.int32))
    got = K.seed_pairs(*ta, *tb, max_repeat)
    want = ref_common_expand(*ta, *tb, max_repeat)
    assert got[0].tolist() == want[0].tolist() and got[1].tolist() == want[1].tolist()
    assert got[0].dtype == np.int32


@settings(max_examples=300, deadline=None)
@given(points, st.integers(2, 4))
def test_phrase_runs_is_the_reference(pts, n):
    if not pts:
        return
    ai = np.array([p[0] for p in pts], dtype=np.int32)
    bj = np.array([p[1] for p in pts], dtype=np.int32)
    ra, rb, rl = K.phrase_runs(ai, bj, n)
    assert list(zip(ra.tolist(), rb.tolist(), rl.tolist())) == ref_phrase_runs(ai, bj, n)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.booleans(), min_size=8, max_size=80), st.data(), st.integers(2, 4), st.booleans())
def test_phrase_content_is_the_reference(content, data, n, use_stock):
    content = np.array(content, dtype=bool)
    stock = np.array(data.draw(st.lists(st.booleans(), min_size=len(content) - n + 1,
                                        max_size=len(content) - n + 1)), dtype=bool)
    phrases = []
    for _ in range(data.draw(st.integers(0, 5))):
        ln = data.draw(st.integers(n, len(content)))
        phrases.append((data.draw(st.integers(0, len(content) - ln)), 0, ln))
    got = K.phrase_content(content, stock, np.array([p[0] for p in phrases], dtype=np.int64),
                           np.array([p[2] for p in phrases], dtype=np.int64), n, use_stock)
    assert got.tolist() == ref_phrase_content(content, stock, phrases, n, use_stock)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_sentence_candidates_is_the_reference(data):
    la, lb = data.draw(st.integers(1, 40)), data.draw(st.integers(1, 40))
    sent_a = np.sort(np.array(data.draw(st.lists(st.integers(0, 6), min_size=la, max_size=la)), dtype=np.int32))
    sent_b = np.sort(np.array(data.draw(st.lists(st.integers(0, 6), min_size=lb, max_size=lb)), dtype=np.int32))
    _, sent_a = np.unique(sent_a, return_inverse=True)
    _, sent_b = np.unique(sent_b, return_inverse=True)
    sent_a, sent_b = sent_a.astype(np.int32), sent_b.astype(np.int32)
    sa_n, sb_n = int(sent_a.max()) + 1, int(sent_b.max()) + 1
    k = data.draw(st.integers(0, 30))
    si = np.array(data.draw(st.lists(st.integers(0, la - 1), min_size=k, max_size=k)), dtype=np.int32)
    sj = np.array(data.draw(st.lists(st.integers(0, lb - 1), min_size=k, max_size=k)), dtype=np.int32)
    cov_a = np.array(data.draw(st.lists(st.booleans(), min_size=la, max_size=la)), dtype=bool)
    cov_b = np.array(data.draw(st.lists(st.booleans(), min_size=lb, max_size=lb)), dtype=bool)
    ex_a = np.array(data.draw(st.lists(st.booleans(), min_size=sa_n, max_size=sa_n)), dtype=bool)
    ex_b = np.array(data.draw(st.lists(st.booleans(), min_size=sb_n, max_size=sb_n)), dtype=bool)
    na = np.array(data.draw(st.lists(st.integers(0, 90), min_size=sa_n, max_size=sa_n)), dtype=np.int64)
    nb_ = np.array(data.draw(st.lists(st.integers(0, 90), min_size=sb_n, max_size=sb_n)), dtype=np.int64)
    args = (sent_a, sent_b, si, sj, cov_a, cov_b, ex_a, ex_b, na, nb_, 35, 80.0 / 120.0)
    xs, ys = K.sentence_candidates(*args)
    assert (xs.tolist(), ys.tolist()) == ref_sentence_candidates(*args)
