"""Compiled kernels of :mod:`scoresim.results.outcomes` (numba): the same numbers as
the plain rules there, fast (tests/test_engines.py and tests/test_kernels.py hold them
to each other)."""

from __future__ import annotations

import numba
import numpy as np

from scoresim.declarations.categories import ENROLLED, GOOD_JOB, NOT_ENROLLED, OPTED_OUT


@numba.njit(cache=True, nogil=True)
def _weighted_sums(score, centre, scored, friends):
    """Over the scored, x = score - centre: sum of friends, of x * friends, x^2 * friends,
    and the largest |score|."""
    pairs = sx = sxx = top = 0.0
    c = np.float64(centre)
    for i in range(score.shape[0]):
        if scored[i]:
            pairs, sx, sxx, top = _add_moments(pairs, sx, sxx, top, score[i], friends[i], c)
    return pairs, sx, sxx, top


@numba.njit(cache=True, nogil=True, inline="always")
def _add_moments(pairs, sx, sxx, top, score, friends, c):
    """One scored person's terms of :func:`_weighted_sums` added (float64)."""
    f = np.float64(friends)
    x = np.float64(score) - c
    return pairs + f, sx + x * f, sxx + x * x * f, max(top, abs(np.float64(score)))


@numba.njit(cache=True, nogil=True)
def _centred(score, scored, centre):
    """score - centre for the scored, 0 for the rest (float32)."""
    x = np.zeros(score.shape[0], np.float32)
    for i in range(score.shape[0]):
        if scored[i]:
            x[i] = score[i] - centre
    return x


@numba.njit(cache=True, nogil=True)
def _cross(score, centre, scored, sums):
    """Over the scored: sum of (score - centre) times the sum of scored friends' scores."""
    total = 0.0
    c = np.float64(centre)
    for i in range(score.shape[0]):
        if scored[i]:
            total += (np.float64(score[i]) - c) * np.float64(sums[i])
    return total


@numba.njit(cache=True, nogil=True)
def _totals_by(group, count, n_groups):
    """Sum of ``count`` by ``group`` (``np.bincount`` with weights, in whole numbers)."""
    total = np.zeros(n_groups, np.int64)
    for j in range(group.shape[0]):
        total[group[j]] += count[j]
    return total


@numba.njit(cache=True, nogil=True)
def _people_summary(private, expressed, above_tolerance, dissent, desired, job, working,
                    income, rich_from, poor_to, region, n_regions, blacklisted_until,
                    wrongful, t):
    """Sums over people for the step's row (see :meth:`Observer.row`).

    In separate loops: the expression gap's float additions (in order, a chain the core
    waits on), the counts (no branch and no scatter, so the compiler vectorises them), and
    the counts by region."""
    n = private.shape[0]
    gap = 0.0
    for i in range(n):
        gap += abs(private[i] - expressed[i])
    censoring = working_n = good_n = rich_n = rich_good = poor_n = poor_good = 0
    listed = listed_wrongful = 0
    eps = np.float32(1e-9)
    for i in range(n):  # counts by arithmetic on 0/1
        censoring += above_tolerance[i] & (dissent[i] < desired[i] - eps)
        listed_i = np.int64(blacklisted_until[i] >= t)
        listed += listed_i
        listed_wrongful += listed_i & wrongful[i]
        w = np.int64(working[i])
        good = w & np.int64(job[i] == GOOD_JOB)
        working_n += w
        good_n += good
        rich = w & np.int64(income[i] >= rich_from)
        poor = w & np.int64(income[i] <= poor_to)
        rich_n += rich
        rich_good += rich & good
        poor_n += poor
        poor_good += poor & good
    region_working = np.zeros(n_regions, np.int64)
    region_good = np.zeros(n_regions, np.int64)
    if n_regions == 1:
        region_working[0], region_good[0] = working_n, good_n
    elif n_regions <= 8:  # a vectorised pass per region costs less than a scatter
        for r in range(n_regions):
            rw = rg = 0
            for i in range(n):
                w = np.int64(working[i]) & np.int64(region[i] == r)
                rw += w
                rg += w & np.int64(job[i] == GOOD_JOB)
            region_working[r], region_good[r] = rw, rg
    else:
        for i in range(n):
            w = np.int64(working[i])
            region_working[region[i]] += w
            region_good[region[i]] += w & np.int64(job[i] == GOOD_JOB)
    return (gap, censoring, working_n, good_n, rich_n, rich_good, poor_n, poor_good,
            region_working, region_good, listed, listed_wrongful)


@numba.njit(cache=True, nogil=True)
def _scheme_counts(s, state, shadow_score, early, lo, nbins, tier_mins, opted_any):
    """The whole-number part of a scheme's summary (order-free): who opted out
    (``opted_any``, set in place), the histogram, tiers and enrolment counts."""
    hist = np.zeros(nbins, np.int64)
    tiers = np.zeros(tier_mins.shape[0], np.int64)
    n_scored = enrolled = opted = shadow = early_n = late_n = 0
    for i in range(s.shape[0]):  # (no branch: vectorised)
        st = state[i]
        is_opted = st == OPTED_OUT
        scored = st != NOT_ENROLLED if shadow_score else st == ENROLLED
        on = np.int64(st == ENROLLED)
        e = np.int64(early[i])
        opted += is_opted
        opted_any[i] |= is_opted
        shadow += is_opted & scored
        n_scored += scored
        enrolled += on
        early_n += on & e
        late_n += on & (1 - e)
    for i in range(s.shape[0]):
        st = state[i]
        if not (st != NOT_ENROLLED if shadow_score else st == ENROLLED):
            continue
        b = np.int64(s[i] - lo)
        hist[min(max(b, 0), nbins - 1)] += 1
        k = 0
        for j in range(1, tier_mins.shape[0]):
            if tier_mins[j] <= s[i]:
                k = j
        tiers[k] += 1
    return hist, tiers, n_scored, enrolled, opted, shadow, early_n, late_n


@numba.njit(cache=True, nogil=True)
def _scheme_sums(s, state, shadow_score, early, reliability, friends):
    """The float part of a scheme's summary, each sum in person order (a chain of
    additions: the longest pass of the row): the scores' sum, early and late adopters'
    score sums, the correlation of scores with bill reliability over the scored (means,
    then centred sums), and the assortativity's moments about the mean score."""
    n_scored = 0
    score_sum = rel_sum = early_sum = late_sum = 0.0
    for i in range(s.shape[0]):
        st = state[i]
        if st == ENROLLED:  # early or late, without a branch on a coin flip
            e = np.int64(early[i])
            early_sum += s[i] * e
            late_sum += s[i] * (1 - e)
        if not (st != NOT_ENROLLED if shadow_score else st == ENROLLED):
            continue
        n_scored += 1
        score_sum += s[i]
        rel_sum += reliability[i]
    corr = np.nan
    pairs = wx = wxx = top = 0.0
    if n_scored > 0:
        mx = score_sum / n_scored
        my = rel_sum / n_scored
        c = np.float64(np.float32(mx))  # the centre of the assortativity's sums
        sxx = syy = sxy = 0.0
        for i in range(s.shape[0]):
            st = state[i]
            if (st != NOT_ENROLLED) if shadow_score else (st == ENROLLED):
                dx = np.float64(s[i]) - mx
                dy = np.float64(reliability[i]) - my
                sxx += dx * dx
                syy += dy * dy
                sxy += dx * dy
                # as _weighted_sums(s, centre, scored, friends), in the same order
                pairs, wx, wxx, top = _add_moments(pairs, wx, wxx, top, s[i], friends[i], c)
        if n_scored >= 3 and sxx > 0 and syy > 0:
            corr = sxy / np.sqrt(sxx * syy)
    return score_sum, early_sum, late_sum, corr, (pairs, wx, wxx, top)
