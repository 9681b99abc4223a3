"""Compiled kernels of :mod:`scoresim.model.scoring` (numba): the same numbers as
the plain rules there, fast (tests/test_engines.py and tests/test_kernels.py hold them
to each other)."""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _pull_to_friends(b, b_clean, friends_sum, friends_sum_clean, n_friends, scored, own,
                     pull, lo, hi):
    """``s = clip(own * b + pull * mean of scored friends' s)`` for the scored with scored
    friends, ``s = b`` for the rest; the same for the clean scores from friends' clean
    scores (float32, as numpy)."""
    s = np.empty_like(b)
    s_clean = np.empty_like(b_clean)
    for i in range(b.shape[0]):
        if scored[i] and n_friends[i] > 0:
            mean = friends_sum[i] / n_friends[i]
            s[i] = min(max(own * b[i] + pull * mean, lo), hi)
            mean = friends_sum_clean[i] / n_friends[i]
            s_clean[i] = min(max(own * b_clean[i] + pull * mean, lo), hi)
        else:
            s[i] = b[i]
            s_clean[i] = b_clean[i]
    return s, s_clean


@numba.njit(cache=True, nogil=True)
def _mark_active(idx, person, source, in_scheme, last_active, step):
    for j in idx:
        if in_scheme[source[j]]:
            last_active[person[j]] = step


@numba.njit(cache=True, nogil=True)
def _advance_own(b, b_clean, pts, pts_clean, scored, bonus, last_active, step, decay_after,
                 decay_points, lo, hi):
    """``b += points + bonus - decay`` for the scored, within [lo, hi], in place; the sum
    is taken in float64 and rounded to float32 once, as numpy would."""
    zero = np.float32(0.0)
    for i in range(b.shape[0]):
        if not scored[i]:
            continue
        decay = decay_points if decay_after >= 0 and step - last_active[i] > decay_after \
            else zero
        d = np.float32(pts[i] + np.float64(bonus) - np.float64(decay))
        b[i] = min(max(b[i] + d, lo), hi)
        d = np.float32(pts_clean[i] + np.float64(bonus) - np.float64(decay))
        b_clean[i] = min(max(b_clean[i] + d, lo), hi)


@numba.njit(cache=True, nogil=True, inline="always")
def _counts(j, person, source, rule_src, scored, region_ok, region, mask):
    """Whether record ``j`` counts for a rule: a source the rule reads, a scored person, a
    region the rule covers (if limited) and the rule's person mask (if any)."""
    p = person[j]
    if not (rule_src[source[j]] and scored[p]):
        return False
    if region_ok.shape[0] and not region_ok[region[p]]:
        return False
    return not (mask.shape[0] and not mask[p])


@numba.njit(cache=True, nogil=True, inline="always")
def _within_cap(p, got, got_clean, cum, cum_clean, cap):
    """What the cap allows of person ``p``'s points of the day (with errors, clean): the
    running totals ``cum`` clipped within [-cap, cap], updated in place."""
    new = min(max(cum[p] + got[p], -cap), cap)
    allowed = np.float64(new - cum[p])
    cum[p] = new
    new_clean = min(max(cum_clean[p] + got_clean[p], -cap), cap)
    allowed_clean = np.float64(new_clean - cum_clean[p])
    cum_clean[p] = new_clean
    return allowed, allowed_clean


@numba.njit(cache=True, nogil=True)
def _add_rule_points(idx, person, source, count, wrong, rule_src, scored, region_ok, region,
                     mask, points, cap, cum, cum_clean, scratch, total, clean, extra):
    """One rule's points over the records ``idx`` (all of the rule's kind), added to
    ``total`` (all records), ``clean`` (no misattributed ones) and ``extra`` (if sized).

    A capped rule first sums each person's points, then clips the person's running total
    within [-cap, cap] (``cum``) and adds what the cap allows."""
    capped = cap >= 0.0
    got, got_clean, seen = scratch
    touched = np.empty(idx.shape[0] if capped else 0, np.int64)
    m = 0
    for j in idx:
        if not _counts(j, person, source, rule_src, scored, region_ok, region, mask):
            continue
        p = person[j]
        pts = count[j] * points
        if capped:
            got[p] += pts
            if not wrong[j]:
                got_clean[p] += pts
            if not seen[p]:
                seen[p] = True
                touched[m] = p
                m += 1
            continue
        total[p] += pts
        if not wrong[j]:
            clean[p] += pts
        if extra.shape[0]:
            extra[p] += pts
    if not capped:
        return
    for i in range(m):
        p = touched[i]
        allowed, allowed_clean = _within_cap(p, got, got_clean, cum, cum_clean, cap)
        total[p] += allowed
        clean[p] += allowed_clean
        if extra.shape[0]:
            extra[p] += allowed
        got[p] = 0.0
        got_clean[p] = 0.0
        seen[p] = False


@numba.njit(cache=True, nogil=True)
def _in_order(touched, seen):
    """The people ``touched`` (distinct; ``seen`` true for them) in increasing order: as
    they are if so already (records come by source, each in person order), else sorted,
    or, for many, read off ``seen`` in one pass."""
    m = touched.shape[0]
    ordered = True
    for i in range(1, m):
        if touched[i] < touched[i - 1]:
            ordered = False
            break
    if ordered:
        return touched.copy()
    if m * 64 < seen.shape[0]:
        return np.sort(touched)
    out = np.empty(m, np.int64)
    k = 0
    for p in range(seen.shape[0]):
        if seen[p]:
            out[k] = p
            k += 1
    return out


@numba.njit(cache=True, nogil=True)
def _rule_points_sparse(idx, person, source, count, wrong, rule_src, scored, region_ok,
                        region, mask, points, cap, cum, cum_clean, scratch, total, clean):
    """One rule's points as :func:`_add_rule_points` computes them, also returned sparse
    for the record log: (people in increasing order, points, points without misattributed
    records), only those with some points (either column not zero), as ``np.flatnonzero``
    of the dense arrays would give them. Adds them into ``total`` and ``clean`` too.
    ``scratch`` (two float64 arrays and one bool array of people) must be zero / False and
    is left so."""
    capped = cap >= 0.0
    got, got_clean, seen = scratch
    touched = np.empty(idx.shape[0], np.int64)
    m = 0
    for j in idx:
        if not _counts(j, person, source, rule_src, scored, region_ok, region, mask):
            continue
        p = person[j]
        pts = count[j] * points
        got[p] += pts
        if not wrong[j]:
            got_clean[p] += pts
        if not seen[p]:
            seen[p] = True
            touched[m] = p
            m += 1
    who = _in_order(touched[:m], seen)
    out = np.empty(m, np.float64)
    out_clean = np.empty(m, np.float64)
    k = 0
    for i in range(m):
        p = who[i]
        if capped:
            allowed, allowed_clean = _within_cap(p, got, got_clean, cum, cum_clean, cap)
        else:
            allowed = got[p]
            allowed_clean = got_clean[p]
        got[p] = 0.0
        got_clean[p] = 0.0
        seen[p] = False
        # (as the dense arrays: 0.0 + each addition in turn)
        a = 0.0 + allowed
        c = 0.0 + allowed_clean
        if a != 0.0 or c != 0.0:
            total[p] += a
            clean[p] += c
            who[k] = p
            out[k] = a
            out_clean[k] = c
            k += 1
    return who[:k], out[:k], out_clean[:k]


@numba.njit(cache=True, nogil=True)
def _set_level(in_force, initial, lo, hi, who, b, b_clean):
    """``b = float32(clip(initial + points in force, lo, hi))`` (and the clean score, from
    the second row of ``in_force``) where the mask ``who`` is true, as
    :meth:`~scoresim.model.scoring.Scheme.set_level` does with numpy, in one pass."""
    for i in range(who.shape[0]):
        if who[i]:
            b[i] = np.float32(min(max(initial + in_force[0, i], lo), hi))
            b_clean[i] = np.float32(min(max(initial + in_force[1, i], lo), hi))



@numba.njit(cache=True, nogil=True)
def _factor_halves(factors, logit0, scales, who):
    """The first pass of a weighted level of factors for the people of the mask ``who``:
    per person and factor (``factors``: each factor's points in force, (2, n) float64), the
    argument of ``tanh`` in :func:`~scoresim.model.accumulation.factor_levels`, ``0.5 *
    (logit0 + (0.0 + points) / scale)``, with errors, then clean only where the clean
    points differ (the same points give the same level). Returns them in that order,
    contiguous (numpy's ``tanh`` runs over them next)."""
    n_factors = len(factors)
    count = 0
    for i in range(who.shape[0]):
        if who[i]:
            count += 1
    out = np.empty(2 * n_factors * count, np.float64)
    m = 0
    for i in range(who.shape[0]):
        if not who[i]:
            continue
        for f in range(n_factors):
            x = factors[f]
            e = 0.0 + x[0, i]
            c = 0.0 + x[1, i]
            out[m] = 0.5 * (logit0 + e / scales[f])
            m += 1
            if c != e:
                out[m] = 0.5 * (logit0 + c / scales[f])
                m += 1
    return out[:m]


@numba.njit(cache=True, nogil=True)
def _set_factor_level(main, factors, tanh, spread, initial, shift, lo, hi, who, b, b_clean):
    """The second pass (``tanh``: of :func:`_factor_halves`' values, in its order): ``b =
    float32(clip(initial + main points in force + shift + sum of spread * level, lo,
    hi))``, the factors' terms added in order, ``level = 0.5 * (1 + tanh)``; the clean score
    from the clean points (as numpy computes it: the same operations in the same order)."""
    n_factors = len(factors)
    m = 0
    for i in range(who.shape[0]):
        if not who[i]:
            continue
        te = 0.0
        tc = 0.0
        for f in range(n_factors):
            x = factors[f]
            le = 0.5 * (1.0 + tanh[m])
            m += 1
            lc = le
            if 0.0 + x[1, i] != 0.0 + x[0, i]:
                lc = 0.5 * (1.0 + tanh[m])
                m += 1
            if f == 0:
                te = spread[f] * le
                tc = spread[f] * lc
            else:
                te = te + spread[f] * le
                tc = tc + spread[f] * lc
        ve = (initial + main[0, i]) + shift + te
        vc = (initial + main[1, i]) + shift + tc
        b[i] = np.float32(min(max(ve, lo), hi))
        b_clean[i] = np.float32(min(max(vc, lo), hi))


@numba.njit(cache=True, nogil=True)
def _move_level(in_force, slope, who, before, after, left):
    """:func:`~scoresim.model.record_log.move_level` in one pass: the level of each of the
    distinct ``who`` moves by what its entry moved (``after - before``) times ``left``, its
    slope (if ``slope`` has columns) by what the entry moved."""
    has_slope = slope.shape[1] > 0
    for i in range(who.shape[0]):
        p = who[i]
        for r in range(2):
            moved = after[r, i] - before[r, i]
            in_force[r, p] = in_force[r, p] + moved * left
            if has_slope:
                slope[r, p] = slope[r, p] + moved


@numba.njit(cache=True, nogil=True)
def _ring_add(row, people, values, who, amount):
    """:meth:`~scoresim.model.scoring.Ring.add` in one pass: ``amount`` ((2, m) float32)
    into a ring row with errors (``row``) and its sparse clean entries (``people`` sorted,
    ``values``) for the distinct ``who``. Returns (entries before, after: float64 (2, m);
    the clean entries' new people and values)."""
    m, k = who.shape[0], people.shape[0]
    before = np.empty((2, m), np.float64)
    after = np.empty((2, m), np.float64)
    kept = np.ones(k, np.bool_)
    new_people = np.empty(m, np.int64)
    new_values = np.empty(m, np.float32)
    d = 0
    for i in range(m):
        p = who[i]
        b0 = row[p]
        b1 = b0
        if k:
            at = np.searchsorted(people, p)
            if at < k and people[at] == p:
                b1 = values[at]
                kept[at] = False
        a0 = b0 + amount[0, i]
        a1 = b1 + amount[1, i]
        row[p] = a0
        before[0, i], before[1, i] = b0, b1
        after[0, i], after[1, i] = a0, a1
        if a0 != a1 or math.copysign(1.0, a0) != math.copysign(1.0, a1):  # (bit for bit)
            new_people[d] = p
            new_values[d] = a1
            d += 1
    if d == 0 and k == 0:
        return before, after, people, values
    all_people = np.concatenate((people[kept], new_people[:d]))
    all_values = np.concatenate((values[kept], new_values[:d]))
    order = np.argsort(all_people)
    return before, after, all_people[order], all_values[order]
