"""Compiled kernels of :mod:`scoresim.model.adaptation` (numba): the same numbers as
the plain rules there, fast (tests/test_engines.py and tests/test_kernels.py hold them
to each other)."""

from __future__ import annotations

import numba
import numpy as np

from scoresim.engine.rng import pcg64_double


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _strategic(d, beta, nu, psi, tau, uniform):
    out = np.empty(d.shape[0], np.float64)
    for i in range(d.shape[0]):
        di, bi, ni, pi = np.float64(d[i]), np.float64(beta[i]), np.float64(nu[i]), \
            np.float64(psi[i])
        free = di <= tau
        if uniform:
            denom = bi - (1.0 - ni) * pi
            d_uni = (bi * tau + ni * pi) / denom
            out[i] = di if free or (denom > 0 and di >= d_uni) else tau
            continue
        full = ni >= 1.0
        d_pro = (tau + (bi - ni * pi) / ((1.0 - ni) * pi)) / 2.0 if pi > 0 else np.inf
        express = free or (full and bi >= pi) or (not full and di <= d_pro)
        silenced = not free and ((full and bi < pi) or (not full and tau >= d_pro))
        out[i] = di if express else (tau if silenced else d_pro)
    return out


@numba.njit(cache=True, nogil=True)
def _unfriend(state, a_end, b_end, p, base, risk, friends, w, s, scored, shown, limit,
              drop):
    """For each tie, at the next uniform of the PCG64 generator in ``state`` (see
    :func:`scoresim.engine.rng.pcg64_state`): the ``a`` end drops the ``b`` end if (with
    probability ``p * (base + risk aversion)``) the friend's visible score drags a's scored
    score down by more than ``limit`` points a day in any scheme (float32 throughout, as
    numpy would)."""
    # No one's chance exceeds the highest risk aversion's: above it, no need to look up
    # the person (float32 rounding is monotone, so the test below is the same).
    top = p * (base + risk.max()) if risk.shape[0] else np.float32(0)
    s_hi, s_lo, i_hi, i_lo = state[0], state[1], state[2], state[3]
    for e in range(a_end.shape[0]):
        s_hi, s_lo, r = pcg64_double(s_hi, s_lo, i_hi, i_lo)
        if not r < top:
            continue
        a = a_end[e]
        b = b_end[e]
        if not r < p * (base + risk[a]):
            continue
        for k in range(w.shape[0]):
            if scored[k, a] and shown[k, b] and w[k] * (s[k, a] - s[k, b]) / friends[a] > limit:
                drop[e] = True
                break
    state[0], state[1] = s_hi, s_lo


@numba.njit(cache=True, nogil=True)
def _learn_opaque(knowledge, sees, s, prev_s, rate, awareness):
    """Knowledge of an opaque scheme grows toward ``awareness`` on days a person sees their
    own score move; remembers today's scores for tomorrow."""
    moved = np.float32(1e-3)
    for i in range(s.shape[0]):
        if sees[i] and abs(s[i] - prev_s[i]) > moved:
            knowledge[i] = knowledge[i] + rate * (awareness - knowledge[i])
        prev_s[i] = s[i]


@numba.njit(cache=True, nogil=True)
def _add_known(out, knowledge, visible, table, region, lo, hi):
    """``out[c, i] += known_i * table[region_i, c]`` for people ``lo..hi``, known =
    knowledge where visible (knowledge is finite and >= 0, so multiplying by 0 or 1
    selects it exactly)."""
    for c in range(table.shape[1]):
        row = out[c]
        column = table[:, c].copy()
        for i in range(lo, hi):
            row[i] += (knowledge[i] * np.float32(visible[i])) * column[region[i]]


@numba.njit(cache=True, nogil=True)
def _gaming_exponents(out, knowledge, visible, tables, region, scale, strength, cap, lo,
                      hi):
    """For people ``lo..hi`` and each column c of the per-scheme, per-region ``tables``:
    ``out[c, i] = strength * clip(points / scale, -cap, cap)`` with points the sum over
    schemes (in order, float32) of knowledge where visible times the table's value for
    the person's region; per column, how many of them have points (nonzero)."""
    schemes, _, columns = tables.shape
    moved = np.zeros(columns, np.int64)
    known = np.empty(schemes, np.float32)
    points = np.empty(columns, np.float32)
    low, high = -cap, cap
    for i in range(lo, hi):
        r = region[i]
        for s in range(schemes):
            known[s] = knowledge[s, i] * np.float32(visible[s, i])
        points[:] = 0
        for s in range(schemes):
            for c in range(columns):
                points[c] += known[s] * tables[s, r, c]
        for c in range(columns):
            p = points[c]
            if p != 0:
                moved[c] += 1
            out[c, i] = strength * min(max(p / scale, low), high)
    return moved


@numba.njit(cache=True, nogil=True)
def _expressed(desired, dissent, private):
    """Expressed opinion: minus the expressed dissent for those who dissent at all."""
    out = np.empty(desired.shape[0], np.float32)
    for i in range(desired.shape[0]):
        out[i] = np.float32(-dissent[i]) if desired[i] > 0 else private[i]
    return out
