"""Compiled kernels of :mod:`scoresim.model.sources` (numba): the same numbers as
the plain rules there, fast (tests/test_engines.py and tests/test_kernels.py hold them
to each other)."""

from __future__ import annotations

import numba
import numpy as np

from scoresim.engine.rng import counter_uniform
from scoresim.engine.sampling import binomial_one


@numba.njit(cache=True, nogil=True)
def _group_by_kind(kind, n_kinds):
    starts = np.zeros(n_kinds + 1, np.int64)
    for k in kind:
        starts[k + 1] += 1
    for k in range(n_kinds):
        starts[k + 1] += starts[k]
    pos = starts[:-1].copy()
    order = np.empty(kind.shape[0], np.int64)
    for j in range(kind.shape[0]):
        order[pos[kind[j]]] = j
        pos[kind[j]] += 1
    return order, starts


@numba.njit(cache=True, nogil=True, inline="always")
def _thin(n, p, key, i):
    """Binomial(n, p) at the person-and-kind uniform ``i`` of stream ``key``."""
    if p >= 1.0:
        return n
    if p <= 0.0 or n <= 0:
        return 0
    return binomial_one(counter_uniform(key, i), n, p)


@numba.njit(cache=True, nogil=True)
def _record_source(who, cnt, kind, link_u, foreigner, real_name, foreigner_share,
                   linked_share, account, coverage, error_rate, keys, n_people, kind_keys):
    """One source's records of the step's events: linked accounts it covers, each event
    seen with probability ``coverage``, misattributed with ``error_rate`` to a random
    person. Returns (who, kind, count) of the attributed and of the misattributed."""
    m = who.shape[0]
    r_who = np.empty(m, np.int32)
    r_kind = np.empty(m, np.int16)
    r_cnt = np.empty(m, np.int32)
    b_who = np.empty(m, np.int32)
    b_kind = np.empty(m, np.int16)
    b_cnt = np.empty(m, np.int32)
    nr = nb = 0
    for j in range(m):
        p = who[j]
        u = link_u[p]
        if real_name:
            linked = (u < foreigner_share) if foreigner[p] else True
        else:
            linked = u < linked_share
        if not linked or (account.shape[0] and not account[p]):
            continue
        i = (np.int64(p) << 32) | kind_keys[kind[j]]  # (person, kind name)
        seen = _thin(np.int64(cnt[j]), coverage, keys[0], i)
        wrong = _thin(seen, error_rate, keys[1], i)
        right = seen - wrong
        if right > 0:
            r_who[nr] = p
            r_kind[nr] = kind[j]
            r_cnt[nr] = right
            nr += 1
        if wrong > 0:
            target = np.int32(counter_uniform(keys[2], i) * n_people)
            b_who[nb] = min(target, n_people - 1)
            b_kind[nb] = kind[j]
            b_cnt[nb] = wrong
            nb += 1
    return ((r_who[:nr].copy(), r_kind[:nr].copy(), r_cnt[:nr].copy()),
            (b_who[:nb].copy(), b_kind[:nb].copy(), b_cnt[:nb].copy()))
