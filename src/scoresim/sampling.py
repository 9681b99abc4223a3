"""Discrete draws by inverting a CDF at given uniforms.

Counts drawn this way are monotone in their rate: when a policy lowers someone's rate, the
same uniform gives the same or a smaller count. With uniforms tied to people (see
:meth:`scoresim.rng.Streams.uniform_for`) two scenarios stay coupled person by person
(common random numbers).
"""

from __future__ import annotations

import numpy as np


def poisson_from_uniform(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """The smallest k with P(X <= k) >= u for X ~ Poisson(lam), elementwise."""
    lam = np.asarray(lam, dtype=np.float64)
    p = np.exp(-lam)
    count = np.zeros(u.shape, dtype=np.int32)
    live = np.flatnonzero(u > p)
    cdf, pk, k = p[live], p[live], 0
    while live.size:
        k += 1
        pk = pk * lam[live] / k
        cdf = cdf + pk
        count[live] = k
        more = (u[live] > cdf) & (pk > 1e-15)
        live, cdf, pk = live[more], cdf[more], pk[more]
    return count


def binomial_from_uniform(u: np.ndarray, n: np.ndarray, p: float) -> np.ndarray:
    """The smallest k with P(X <= k) >= u for X ~ Binomial(n, p), elementwise."""
    n = np.asarray(n, dtype=np.int64)
    if p >= 1.0:
        return n.astype(np.int32)
    if p <= 0.0:
        return np.zeros(n.shape, np.int32)
    odds = p / (1.0 - p)
    pk = (1.0 - p) ** n.astype(np.float64)
    count = np.zeros(n.shape, dtype=np.int32)
    live = np.flatnonzero((u > pk) & (n > 0))
    cdf, pk, k = pk[live], pk[live], 0
    while live.size:
        k += 1
        pk = pk * (n[live] - k + 1) / k * odds
        cdf = cdf + pk
        count[live] = k
        more = (u[live] > cdf) & (k < n[live])
        live, cdf, pk = live[more], cdf[more], pk[more]
    return count
