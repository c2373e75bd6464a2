"""Compiled inner loops of the aligner (:mod:`newsdedup.tasks.align`): seed pairs, gap clustering, edge trimming.

Why compiled: on real news nine candidate pairs in ten share a few seeds and no passage, and for them
the aligner's cost was not arithmetic but some sixty NumPy calls and Python loops over a few dozen seed
points each (~290 µs a pair on SaudiNewsNet, 40% of a full run). These three steps are loops over small
integer arrays, which NumPy cannot vectorise (gap clustering splits recursively) and a compiler runs in
a few microseconds. Numba compiles them from this Python source at first use and caches the machine code
next to it (``cache=True``), so later processes load it in milliseconds; forked workers inherit it.

Each kernel computes exactly what the NumPy/Python code before it did, in the same order (stable sorts
where that code sorted stably), so matches are byte-identical: ``tests/test_align_kernels.py`` checks
every kernel against a plain-Python statement of the same rule on random inputs.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["seed_pairs", "gap_groups", "group_spans", "trim_edges", "phrase_runs", "phrase_content",
           "sentence_candidates", "warm"]


@njit(cache=True, nogil=True)
def seed_pairs(ua, sa, ca, pa, ub, sb, cb, pb, max_repeat):
    """Position pairs of the values two grouped tables share (``(values, start, count, positions)``
    as :func:`~newsdedup.tasks.align._table` builds them): for every value in both, in ascending order,
    each of its positions in ``a`` (outer) with each in ``b`` (inner). Values occurring more than
    ``max_repeat`` times on either side are skipped (a repeated n-gram says nothing about where)."""
    na, nb = len(ua), len(ub)
    # merge join of the two sorted unique arrays: the shared values' indices first, then their positions
    hit_a = np.empty(min(na, nb), dtype=np.int64)
    hit_b = np.empty(min(na, nb), dtype=np.int64)
    nh = 0
    total = 0
    i = j = 0
    while i < na and j < nb:
        if ua[i] < ub[j]:
            i += 1
        elif ua[i] > ub[j]:
            j += 1
        else:
            if ca[i] <= max_repeat and cb[j] <= max_repeat:
                hit_a[nh], hit_b[nh] = i, j
                nh += 1
                total += ca[i] * cb[j]
            i += 1
            j += 1
    out_a = np.empty(total, dtype=pa.dtype)
    out_b = np.empty(total, dtype=pb.dtype)
    k = 0
    for h in range(nh):
        i, j = hit_a[h], hit_b[h]
        for x in range(sa[i], sa[i] + ca[i]):
            for y in range(sb[j], sb[j] + cb[j]):
                out_a[k] = pa[x]
                out_b[k] = pb[y]
                k += 1
    return out_a, out_b


@njit(cache=True, nogil=True)
def _sort_segment(buf, s, e, c):
    """Stable sort of ``buf[s:e]`` by ``c[buf[...]]``, in place (insertion sort for the usual few
    points, merge sort for a long copy's hundreds)."""
    if e - s > 48:
        seg = buf[s:e].copy()
        buf[s:e] = seg[np.argsort(c[seg], kind="mergesort")]
        return
    for k in range(s + 1, e):
        v = buf[k]
        key = c[v]
        m = k - 1
        while m >= s and c[buf[m]] > key:
            buf[m + 1] = buf[m]
            m -= 1
        buf[m + 1] = v


@njit(cache=True, nogil=True)
def gap_groups(ai, bj, gap, min_size):
    """The PAN "divide by gaps" clusters of the points ``(ai[k], bj[k])``: sort on A, cut wherever two
    neighbours are more than ``gap`` apart, then the same on B, alternately, until nothing changes;
    groups smaller than ``min_size`` are dropped as soon as they appear.

    Returns ``(members, bounds)``: group ``g`` is ``members[bounds[g]:bounds[g + 1]]`` (point indices,
    ascending), the groups ordered by their smallest A, then smallest B coordinate (ties: the order
    they were found in, depth first, the last part of a split first)."""
    n = len(ai)
    if n < max(1, min_size):
        return np.empty(0, dtype=np.int64), np.zeros(1, dtype=np.int64)
    buf = np.arange(n)
    # work stack of segments of buf: (start, end, dimension to sort on, stable on the other one)
    st_s = np.empty(n + 1, dtype=np.int64)
    st_e = np.empty(n + 1, dtype=np.int64)
    st_d = np.empty(n + 1, dtype=np.int64)
    st_f = np.empty(n + 1, dtype=np.bool_)
    out_s = np.empty(n, dtype=np.int64)
    out_e = np.empty(n, dtype=np.int64)
    top = 0
    st_s[0], st_e[0], st_d[0], st_f[0] = 0, n, 0, False
    top = 1
    nout = 0
    while top > 0:
        top -= 1
        s, e, dim, stable = st_s[top], st_e[top], st_d[top], st_f[top]
        c = ai if dim == 0 else bj
        _sort_segment(buf, s, e, c)
        cut = False
        for k in range(s + 1, e):
            if c[buf[k]] - c[buf[k - 1]] > gap:
                cut = True
                break
        if not cut:
            if stable:
                out_s[nout] = s
                out_e[nout] = e
                nout += 1
            else:
                st_s[top], st_e[top], st_d[top], st_f[top] = s, e, 1 - dim, True
                top += 1
            continue
        p0 = s
        for k in range(s + 1, e + 1):
            if k == e or c[buf[k]] - c[buf[k - 1]] > gap:
                if k - p0 >= min_size:
                    st_s[top], st_e[top], st_d[top], st_f[top] = p0, k, 1 - dim, False
                    top += 1
                p0 = k
    members = np.empty(n, dtype=np.int64)
    bounds = np.zeros(nout + 1, dtype=np.int64)
    if nout == 0:
        return members[:0], bounds
    min_a = np.empty(nout, dtype=ai.dtype)
    min_b = np.empty(nout, dtype=bj.dtype)
    for g in range(nout):
        ma, mb = ai[buf[out_s[g]]], bj[buf[out_s[g]]]
        for k in range(out_s[g], out_e[g]):
            ma = min(ma, ai[buf[k]])
            mb = min(mb, bj[buf[k]])
        min_a[g], min_b[g] = ma, mb
    by_b = np.argsort(min_b, kind="mergesort")
    order = by_b[np.argsort(min_a[by_b], kind="mergesort")]
    m = 0
    for q in range(nout):
        g = order[q]
        seg = np.sort(buf[out_s[g]:out_e[g]])
        members[m:m + len(seg)] = seg
        m += len(seg)
        bounds[q + 1] = m
    return members[:m], bounds


@njit(cache=True, nogil=True)
def trim_edges(ai, bj, gap):
    """Indices (ascending) of the points left after peeling, from both ends of both projections,
    points more than ``gap`` away from their inner neighbour (chance matches that a wide clustering
    gap chained onto a dense passage); A first, then B, until nothing changes."""
    keep = np.arange(len(ai))
    changed = True
    while changed and len(keep) > 1:
        changed = False
        for dim in range(2):
            coord = ai if dim == 0 else bj
            c = coord[keep]
            order = np.argsort(c, kind="mergesort")
            cs = c[order]
            nd = len(cs) - 1
            lo = 0
            while lo < nd and cs[lo + 1] - cs[lo] > gap:
                lo += 1
            hi = len(cs) - 1
            while hi > lo and cs[hi] - cs[hi - 1] > gap:
                hi -= 1
            if lo > 0 or hi < len(cs) - 1:
                keep = np.sort(keep[order[lo:hi + 1]])
                changed = True
    return keep


@njit(cache=True, nogil=True)
def sentence_candidates(sent_a, sent_b, si, sj, covered_a, covered_b, excl_a, excl_b, chars_a, chars_b,
                        min_chars, lo_ratio):
    """The sentence pairs worth a whole-sentence ratio: those of the seed points ``(si, sj)`` not
    both covered already, distinct and in ascending order (sentence of A, then of B), without a
    sentence touching boilerplate, shorter than ``min_chars`` or less than ``lo_ratio`` times as
    long as the other (such pairs cannot reach the ratio)."""
    nb = len(chars_b) + 1
    codes = np.empty(len(si), dtype=np.int64)
    n = 0
    for k in range(len(si)):
        if not (covered_a[si[k]] and covered_b[sj[k]]):
            codes[n] = np.int64(sent_a[si[k]]) * nb + sent_b[sj[k]]
            n += 1
    codes = np.sort(codes[:n])
    xs = np.empty(n, dtype=np.int64)
    ys = np.empty(n, dtype=np.int64)
    m = 0
    for k in range(n):
        if k > 0 and codes[k] == codes[k - 1]:
            continue
        x, y = codes[k] // nb, codes[k] % nb
        la, lb = chars_a[x], chars_b[y]
        lo, hi = min(la, lb), max(la, lb)
        if not excl_a[x] and not excl_b[y] and lo >= min_chars and lo >= lo_ratio * hi:
            xs[m] = x
            ys[m] = y
            m += 1
    return xs[:m], ys[:m]


@njit(cache=True, nogil=True)
def phrase_runs(ai, bj, n):
    """Maximal diagonal runs of n-gram seed points ``(ai, bj)``: ``(a_start, b_start, length in
    tokens)``, ordered by diagonal (``ai - bj``), then by A."""
    m = len(ai)
    diag = ai.astype(np.int64) - bj.astype(np.int64)
    by_a = np.argsort(ai, kind="mergesort")
    order = by_a[np.argsort(diag[by_a], kind="mergesort")]
    ra = np.empty(m, dtype=np.int64)
    rb = np.empty(m, dtype=np.int64)
    rl = np.empty(m, dtype=np.int64)
    r = 0
    s = 0
    for k in range(1, m + 1):
        if k == m or diag[order[k]] != diag[order[s]] or ai[order[k]] > ai[order[k - 1]] + 1:
            ra[r] = ai[order[s]]
            rb[r] = bj[order[s]]
            rl[r] = ai[order[k - 1]] - ai[order[s]] + n
            r += 1
            s = k
    return ra[:r], rb[:r], rl[:r]


@njit(cache=True, nogil=True)
def phrase_content(content, stock, starts, lens, n, use_stock):
    """Content words of each phrase (``starts``, ``lens`` in tokens of a document whose function-word
    flags are ``content``); with ``use_stock``, only words inside one of the phrase's n-grams that is
    not corpus-common (``stock``: per n-gram start, common or not) count."""
    out = np.zeros(len(starts), dtype=np.int64)
    for q in range(len(starts)):
        p0, ln = starts[q], lens[q]
        c = 0
        for t in range(ln):
            if not content[p0 + t]:
                continue
            if not use_stock:
                c += 1
                continue
            # token p0 + t lies in the n-grams starting at p0 + t - n + 1 .. p0 + t that are inside the phrase
            for g in range(max(0, t - n + 1), min(t, ln - n) + 1):
                if not stock[p0 + g]:
                    c += 1
                    break
        out[q] = c
    return out


@njit(cache=True, nogil=True)
def group_spans(members, bounds, ai, bj):
    """Per group of :func:`gap_groups` (``members``, ``bounds``): the smallest and largest ``ai`` and
    ``bj`` of its points, i.e. the token ranges the group spans in both documents."""
    ng = len(bounds) - 1
    lo_a = np.empty(ng, dtype=np.int64)
    hi_a = np.empty(ng, dtype=np.int64)
    lo_b = np.empty(ng, dtype=np.int64)
    hi_b = np.empty(ng, dtype=np.int64)
    for g in range(ng):
        x = members[bounds[g]]
        la, ha, lb, hb = ai[x], ai[x], bj[x], bj[x]
        for k in range(bounds[g] + 1, bounds[g + 1]):
            x = members[k]
            la, ha = min(la, ai[x]), max(ha, ai[x])
            lb, hb = min(lb, bj[x]), max(hb, bj[x])
        lo_a[g], hi_a[g], lo_b[g], hi_b[g] = la, ha, lb, hb
    return lo_a, hi_a, lo_b, hi_b


def warm() -> None:
    """Compile (or load from the cache) every kernel for the argument types the aligner passes: a
    document's own arrays (``sent``, ``content``) are writable when it was just prepared and read-only
    views when it was read back from the prepared store; everything else is made per pair. The container
    image runs this at build time (``python -m newsdedup.tasks.align_kernels``), so no run pays the compile."""
    def doc(values, dtype, frozen):
        x = np.array(values, dtype=dtype)
        x.flags.writeable = not frozen
        return x

    i64 = lambda v: np.array(v, dtype=np.int64)  # noqa: E731
    i32 = lambda v: np.array(v, dtype=np.int32)  # noqa: E731
    table = (i64([1, 2]), i64([0, 1]), i64([1, 1]), i32([0, 1]))
    seed_pairs(*table, *table, 4)
    members, bounds = gap_groups(i64([0, 1]), i64([0, 1]), 12, 2)
    group_spans(members, bounds, i32([0, 1]), i32([0, 1]))
    trim_edges(i64([0, 1]), i64([0, 1]), 8)
    phrase_runs(i32([0, 1]), i32([0, 1]), 3)
    no = np.zeros(2, dtype=bool)
    for fa in (False, True):
        phrase_content(doc([True] * 4, bool, fa), no, i64([0]), i64([4]), 3, True)
        for fb in (False, True):
            sentence_candidates(doc([0, 0], np.int32, fa), doc([0, 0], np.int32, fb), i32([0]), i32([0]), no, no,
                                no[:1], no[:1], i64([40]), i64([40]), 35, 0.66)


if __name__ == "__main__":
    warm()
