"""Compiled kernels of :mod:`scoresim.model.network` (numba): the same numbers as
the plain rules there, fast (tests/test_engines.py and tests/test_kernels.py hold them
to each other)."""

from __future__ import annotations

import numba
import numpy as np

SLICE = 8  # rows summed side by side (independent additions keep the core busy)


@numba.njit(cache=True, nogil=True)
def _csr(n, u, v):
    """Degrees and the symmetric adjacency in CSR form, column indices sorted within each
    row: for edges sorted by (u, v), a row's smaller friends arrive in order from the first
    pass, its larger friends from the second."""
    degree = np.zeros(n, np.int32)
    for e in range(u.shape[0]):
        degree[u[e]] += 1
        degree[v[e]] += 1
    indptr = np.zeros(n + 1, np.int64)
    for i in range(n):
        indptr[i + 1] = indptr[i] + degree[i]
    indices = np.empty(indptr[n], np.int32)
    pos = indptr[:-1].copy()
    for e in range(u.shape[0]):
        indices[pos[v[e]]] = u[e]
        pos[v[e]] += 1
    for e in range(u.shape[0]):
        indices[pos[u[e]]] = v[e]
        pos[u[e]] += 1
    return degree, indptr, indices


@numba.njit(cache=True, nogil=True)
def _padded_cells(degree, order):
    """Cells of the sliced form for rows in ``order``."""
    total = 0
    for c in range(0, order.shape[0], SLICE):
        width = 0
        for j in range(c, min(c + SLICE, order.shape[0])):
            width = max(width, degree[order[j]])
        total += width * SLICE
    return total


@numba.njit(cache=True, nogil=True)
def _slice_offsets(indptr, order):
    n = order.shape[0]
    slices = (n + SLICE - 1) // SLICE
    ptr = np.zeros(slices + 1, np.int64)
    for c in range(slices):
        width = 0
        for j in range(c * SLICE, min(c * SLICE + SLICE, n)):
            r = order[j]
            width = max(width, indptr[r + 1] - indptr[r])
        ptr[c + 1] = ptr[c] + width * SLICE
    return ptr


@numba.njit(cache=True, nogil=True)
def _slice_fill(indptr, indices, order, ptr, cols, lo, hi):
    """Slices ``lo..hi`` of the sliced form (unsigned positions: no check for negative
    indices in the copy)."""
    n = order.shape[0]
    step, pad = np.uint64(SLICE), np.uint32(n)
    for c in range(lo, hi):
        base = np.uint64(ptr[c])
        width = (np.uint64(ptr[c + 1]) - base) // step
        for lane in range(SLICE):
            j = c * SLICE + lane
            at = base + np.uint64(lane)
            end = at + width * step
            if j < n:
                r = order[j]
                e, e_end = np.uint64(indptr[r]), np.uint64(indptr[r + 1])
                while e < e_end:
                    cols[at] = indices[e]
                    at += step
                    e += np.uint64(1)
            while at < end:
                cols[at] = pad
                at += step


@numba.njit(cache=True, nogil=True)
def _pad_where(x, keep, out):
    """``out[i] = x[i]`` where ``keep[i]``, else 0; a 0 after the last."""
    for i in range(x.shape[0]):
        out[i] = x[i] if keep[i] else 0
    out[x.shape[0]] = 0


@numba.njit(cache=True, nogil=True)
def _slice_sums_part(ptr, cols, order, x, out, lo, hi):
    # Unsigned friend ids and positions: numba checks every signed index for a negative
    # value (to count from the end), which here cost more than the sum itself.
    n = order.shape[0]
    zero = x[n]
    step = np.uint64(SLICE)
    for c in range(lo, hi):
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = zero
        b, end = np.uint64(ptr[c]), np.uint64(ptr[c + 1])
        while b < end:
            a0 += x[cols[b]]
            a1 += x[cols[b + np.uint64(1)]]
            a2 += x[cols[b + np.uint64(2)]]
            a3 += x[cols[b + np.uint64(3)]]
            a4 += x[cols[b + np.uint64(4)]]
            a5 += x[cols[b + np.uint64(5)]]
            a6 += x[cols[b + np.uint64(6)]]
            a7 += x[cols[b + np.uint64(7)]]
            b += step
        j = c * SLICE
        if j + SLICE <= n:
            out[order[j]] = a0
            out[order[j + 1]] = a1
            out[order[j + 2]] = a2
            out[order[j + 3]] = a3
            out[order[j + 4]] = a4
            out[order[j + 5]] = a5
            out[order[j + 6]] = a6
            out[order[j + 7]] = a7
        else:
            last = (a0, a1, a2, a3, a4, a5, a6, a7)
            for lane in range(n - j):
                out[order[j + lane]] = last[lane]


@numba.njit(cache=True, nogil=True)
def _scatter_to_friends(indptr, indices, total, who, value):
    for i in range(who.shape[0]):
        p = who[i]
        for k in range(indptr[p], indptr[p + 1]):
            total[indices[k]] += value[i]


@numba.njit(cache=True, nogil=True)
def _merge_edges(u, v, drop, nu, nv, formed, today):
    """Kept edges (``~drop``) merged with new ones, both sorted by (u, v); a new edge that
    is already kept is skipped. ``formed``: each kept edge's day of formation (carried
    along); a new edge's is ``today``. Returns (u, v, formed, which of the new ones were
    added)."""
    out_u = np.empty(u.shape[0] + nu.shape[0], np.int32)
    out_v = np.empty(u.shape[0] + nu.shape[0], np.int32)
    out_f = np.empty(u.shape[0] + nu.shape[0], formed.dtype)
    new = np.zeros(nu.shape[0], np.bool_)
    i = j = k = 0
    while i < u.shape[0] or j < nu.shape[0]:
        if i < u.shape[0] and drop[i]:
            i += 1
            continue
        if j >= nu.shape[0]:
            take_old = True
        elif i >= u.shape[0]:
            take_old = False
        elif u[i] != nu[j]:
            take_old = u[i] < nu[j]
        elif v[i] == nv[j]:  # already a tie
            j += 1
            continue
        else:
            take_old = v[i] < nv[j]
        if take_old:
            out_u[k], out_v[k], out_f[k] = u[i], v[i], formed[i]
            i += 1
        else:
            out_u[k], out_v[k], out_f[k] = nu[j], nv[j], today
            new[j] = True
            j += 1
        k += 1
    return out_u[:k], out_v[:k], out_f[:k], new


@numba.njit(cache=True, nogil=True)
def _changes(n, u, v):
    """Ties ``u``-``v`` as (row offsets, sorted friend ids) over both ends: a counting
    sort by row, then each row's few friends put in order."""
    ptr = np.zeros(n + 1, np.int64)
    for e in range(u.shape[0]):
        ptr[u[e] + 1] += 1
        ptr[v[e] + 1] += 1
    for i in range(n):
        ptr[i + 1] += ptr[i]
    pos = ptr[:-1].copy()
    cols = np.empty(2 * u.shape[0], np.int32)
    for e in range(u.shape[0]):
        cols[pos[u[e]]] = v[e]
        pos[u[e]] += 1
        cols[pos[v[e]]] = u[e]
        pos[v[e]] += 1
    for i in range(n):  # (insertion sort: a row holds few of a rewiring's changes)
        for k in range(ptr[i] + 1, ptr[i + 1]):
            f = cols[k]
            j = k - 1
            while j >= ptr[i] and cols[j] > f:
                cols[j + 1] = cols[j]
                j -= 1
            cols[j + 1] = f
    return ptr, cols


@numba.njit(cache=True, nogil=True)
def _updated_offsets(indptr, g_ptr, a_ptr):
    n = indptr.shape[0] - 1
    new_ptr = np.empty(n + 1, np.int64)
    new_ptr[0] = 0
    for i in range(n):
        new_ptr[i + 1] = (new_ptr[i] + (indptr[i + 1] - indptr[i])
                          - (g_ptr[i + 1] - g_ptr[i]) + (a_ptr[i + 1] - a_ptr[i]))
    return new_ptr


@numba.njit(cache=True, nogil=True)
def _update_rows(indptr, indices, g_ptr, g_cols, a_ptr, a_cols, new_ptr, out, lo, hi):
    """Rows ``lo..hi`` of :func:`_csr_update` (unsigned positions: no check for negative
    indices per friend)."""
    one = np.uint64(1)
    for i in range(lo, hi):
        k = np.uint64(new_ptr[i])
        g, g_end = np.uint64(g_ptr[i]), np.uint64(g_ptr[i + 1])
        a, a_end = np.uint64(a_ptr[i]), np.uint64(a_ptr[i + 1])
        e, e_end = np.uint64(indptr[i]), np.uint64(indptr[i + 1])
        if g == g_end and a == a_end:  # unchanged: copied
            out[k:k + (e_end - e)] = indices[e:e_end]
            continue
        while e < e_end:
            f = indices[e]
            e += one
            while a < a_end and a_cols[a] < f:
                out[k] = a_cols[a]
                k += one
                a += one
            if g < g_end and g_cols[g] == f:
                g += one
                continue
            out[k] = f
            k += one
        while a < a_end:
            out[k] = a_cols[a]
            k += one
            a += one
