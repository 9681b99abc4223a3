"""Compiled kernels of :mod:`scoresim.model.sanctions` (numba): the same numbers as
the plain rules there, fast (tests/test_engines.py and tests/test_kernels.py hold them
to each other)."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _ongoing(target, factor, meets, ongoing):
    """An ongoing effect: ``target *= factor`` where ``meets``; returns the ids who meet it
    and did not yesterday, and whether it reached anyone."""
    reached = False
    one = target.dtype.type(1)
    for i in range(meets.shape[0]):  # no branch (who meets it is a coin flip): vectorised
        target[i] *= factor if meets[i] else one  # (times 1: the same number)
        reached |= meets[i]
    # As bytes: ``meets[i] > ongoing[i]`` is one comparison; on booleans the compiler
    # branches on ``meets[i]`` first, a coin flip.
    today, yesterday = meets.view(np.uint8), ongoing.view(np.uint8)
    starting = 0
    for i in range(meets.shape[0]):  # (vectorised too)
        starting += today[i] > yesterday[i]
    new = np.empty(starting + 1, np.int64)
    m = 0
    if starting > meets.shape[0] // 32:  # many: a store for everyone beats a coin flip
        for i in range(meets.shape[0]):
            new[m] = i
            m += today[i] > yesterday[i]
    else:  # few, as on most days: a branch rarely taken
        for i in range(meets.shape[0]):
            if today[i] > yesterday[i]:
                new[m] = i
                m += 1
    return new[:m], reached


@numba.njit(cache=True, nogil=True)
def _count(total, ids):
    """``np.add.at(total, ids, 1)``, without its cost per call."""
    for i in ids:
        total[i] += 1
