"""Small compiled helpers that reproduce numpy's arithmetic exactly inside numba kernels.

The model is chaotic: a difference in the last bit of one number grows into a different run within
weeks.  So the kernels that replace chains of small numpy calls (for speed: at these sizes a numpy call
costs ~1 us of overhead and a few flops) must round exactly as numpy did, which means summing in numpy's
order.  numpy sums a contiguous run of numbers pairwise (:func:`psum`: below 8 numbers one after the
other, up to 128 in 8 interleaved partial sums, above that by halves), and sums along an outer axis one
row after the other (a view picked by a mask or transposed may lay its numbers out the other way: check).
A product with an indicator matrix (0s and 1s) adds the picked numbers in order; other matrix products
go to BLAS (``np.dot`` of two vectors inside a kernel calls BLAS too), and exp, log and power to numpy's
own vectorised routines, which round differently from numba's: kernels leave those to numpy.
``tests/test_speed_kernels.py`` and ``benchmarks/reference_outputs.py`` check the result bit for bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import overload


@njit(cache=True)
def psum(a):
    """Sum of a 1-d float array in numpy's pairwise order (bit-identical to ``a.sum()`` for a contiguous ``a``)."""
    n = a.size
    if n < 8:
        s = 0.0
        for i in range(n):
            s += a[i]
        return s
    if n <= 128:
        r0, r1, r2, r3, r4, r5, r6, r7 = a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]
        i = 8
        end = n - n % 8
        while i < end:
            r0 += a[i]
            r1 += a[i + 1]
            r2 += a[i + 2]
            r3 += a[i + 3]
            r4 += a[i + 4]
            r5 += a[i + 5]
            r6 += a[i + 6]
            r7 += a[i + 7]
            i += 8
        s = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n:
            s += a[i]
            i += 1
        return s
    n2 = n // 2
    n2 -= n2 % 8
    return psum(a[:n2]) + psum(a[n2:])


@njit(cache=True)
def psum_at(pos, val, start, n):
    """:func:`psum` of the ``n`` numbers from ``start`` of a table that is zero but at the sorted positions ``pos``,
    where it holds ``val``: the same bits as summing the whole table (a run without a number sums to 0, which adds
    nothing), in work proportional to the numbers and the log of ``n``.  (psum's halving, walked with a stack of its
    own: a recursive kernel loaded from numba's cache can crash.)"""
    depth_max = 64  # halving from 2^63 numbers down to a block of 128 takes fewer levels
    f_start = np.empty(depth_max, np.int64)
    f_n = np.empty(depth_max, np.int64)
    f_lo = np.empty(depth_max, np.int64)
    f_hi = np.empty(depth_max, np.int64)
    f_mid = np.empty(depth_max, np.int64)
    f_stage = np.empty(depth_max, np.int64)
    f_left = np.empty(depth_max)
    f_start[0], f_n[0], f_lo[0], f_hi[0], f_stage[0] = start, n, 0, pos.size, 0
    depth = 1
    ret = 0.0
    block = np.zeros(128)
    while depth > 0:
        t = depth - 1
        s, m, lo, hi = f_start[t], f_n[t], f_lo[t], f_hi[t]
        if f_stage[t] == 0:
            if lo == hi:  # no number here: it sums to 0
                ret = 0.0
                depth -= 1
            elif m <= 128:
                block[:m] = 0.0
                for i in range(lo, hi):
                    block[pos[i] - s] = val[i]
                ret = psum(block[:m])
                depth -= 1
            else:  # the two halves, as psum splits them
                half = m // 2
                half -= half % 8
                f_mid[t] = lo + np.searchsorted(pos[lo:hi], s + half)
                f_stage[t] = 1
                f_start[depth], f_n[depth], f_lo[depth], f_hi[depth], f_stage[depth] = s, half, lo, f_mid[t], 0
                depth += 1
        elif f_stage[t] == 1:
            f_left[t] = ret
            f_stage[t] = 2
            half = m // 2
            half -= half % 8
            f_start[depth], f_n[depth], f_lo[depth], f_hi[depth], f_stage[depth] = s + half, m - half, f_mid[t], hi, 0
            depth += 1
        else:
            ret = f_left[t] + ret
            depth -= 1
    return ret


@njit(cache=True)
def nan_max(a, b):
    """``np.maximum`` of two floats: NaN if either is NaN."""
    if a != a or b != b:
        return np.nan
    return a if a >= b else b


@njit(cache=True)
def nan_min(a, b):
    """``np.minimum`` of two floats: NaN if either is NaN."""
    if a != a or b != b:
        return np.nan
    return a if a <= b else b


@njit(cache=True)
def nan_to_zero(x):
    """``np.nan_to_num(x, nan=0.0)`` of a float: NaN to 0, infinities to the largest finite floats."""
    if x != x:
        return 0.0
    if x == np.inf:
        return 1.7976931348623157e308
    if x == -np.inf:
        return -1.7976931348623157e308
    return x


def item(x, i):
    """``x[i]`` for an array, ``x`` for a number (a parameter given per agent or for all); for kernels."""
    return x[i] if isinstance(x, np.ndarray) else x


@overload(item)
def _item(x, i):
    if isinstance(x, types.Array):
        return lambda x, i: x[i]
    return lambda x, i: x


@njit(cache=True)
def bipartite_lists(edges):
    """The bipartite table ``edges`` (B, S) as lists: (row_ptr, row_idx) the sellers of each buyer and (col_ptr,
    col_idx) the buyers of each seller, each in increasing order (compressed sparse rows and columns)."""
    n_buyers, n = edges.shape
    row_ptr = np.zeros(n_buyers + 1, np.int64)
    col_ptr = np.zeros(n + 1, np.int64)
    for b in range(n_buyers):
        for q in range(n):
            if edges[b, q]:
                row_ptr[b + 1] += 1
                col_ptr[q + 1] += 1
    for b in range(n_buyers):
        row_ptr[b + 1] += row_ptr[b]
    for q in range(n):
        col_ptr[q + 1] += col_ptr[q]
    row_idx = np.empty(row_ptr[n_buyers], np.int64)
    col_idx = np.empty(col_ptr[n], np.int64)
    at = col_ptr[:-1].copy()
    for b in range(n_buyers):
        k = row_ptr[b]
        for q in range(n):
            if edges[b, q]:
                row_idx[k] = q
                k += 1
                col_idx[at[q]] = b
                at[q] += 1
    return row_ptr, row_idx, col_ptr, col_idx


@njit(cache=True)
def edge_at(row_ptr, row_idx, b, q):
    """The position of the pair (``b``, ``q``) in the lists of :func:`bipartite_lists` (``row_ptr``, ``row_idx``:
    each buyer's sellers in increasing order), or -1 if ``b`` does not trade with ``q``: a binary search of ``b``'s
    sellers."""
    lo, hi = row_ptr[b], row_ptr[b + 1]
    while lo < hi:
        mid = (lo + hi) // 2
        if row_idx[mid] < q:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < row_ptr[b + 1] and row_idx[lo] == q else -1
