"""Compiled kernels of :mod:`scoresim.model.life` (numba): the same numbers as
the plain rules there, fast (tests/test_engines.py and tests/test_kernels.py hold them
to each other)."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _below(u, rate, among, lo):
    """Ids ``lo + i`` with ``u[i] < rate`` (and ``among[lo + i]``, if given)."""
    out = np.empty(u.shape[0], np.int64)
    m = 0
    for i in range(u.shape[0]):
        if u[i] < rate and (among.shape[0] == 0 or among[lo + i]):
            out[m] = lo + i
            m += 1
    return out[:m].copy()
