"""Discrete draws by inverting a CDF at given uniforms.

Counts drawn this way are monotone in their rate: when a policy lowers someone's rate, the
same uniform gives the same or a smaller count. With uniforms tied to people (see
:meth:`scoresim.engine.rng.Streams.uniform_for`) two scenarios stay coupled person by person
(common random numbers).

The loops are compiled (numba): one pass per kind of event, no temporary arrays, and no
``exp`` for the many people whose uniform already lies below ``1 - rate`` (a lower bound
of ``exp(-rate)``) nor, at small rates, for most of those with one event, so the cost is
about that of drawing the uniforms.
"""

from __future__ import annotations

import numba
import numpy as np

from scoresim.engine.rng import pcg64_double

# 1 - lam - _MARGIN < exp(-lam) holds with room for rounding (exp's error is < 1e-16 here).
_MARGIN = 1e-15


@numba.njit(cache=True, nogil=True, inline="always")
def _poisson_one(u: float, lam: float) -> int:
    if u < 1.0 - lam - _MARGIN:
        return 0
    # For lam >= 0, P(0) = exp(-lam) <= 1 - lam + lam^2/2 and P(<= 1) = exp(-lam) (1 + lam)
    # >= 1 - lam^2/2: a uniform above the first bound and not above the second is one
    # event, found without ``exp`` (the margins hold the rounding of both sides).
    half_sq = 0.5 * lam * lam
    if u > 1.0 - lam + half_sq + _MARGIN and u <= 1.0 - half_sq - _MARGIN:
        return 1
    p = np.exp(-lam)
    if not u > p:
        return 0
    cdf = p
    pk = p
    k = 0
    while True:
        k += 1
        pk = pk * lam / k
        cdf = cdf + pk
        if not (u > cdf and pk > 1e-15):
            return k


@numba.njit(cache=True, nogil=True)
def _poisson(u, lam):
    out = np.empty(u.shape[0], np.int32)
    scalar = lam.shape[0] == 1
    for i in range(u.shape[0]):
        out[i] = _poisson_one(u[i], np.float64(lam[0] if scalar else lam[i]))
    return out


@numba.njit(cache=True, nogil=True, inline="always")
def _rate(base, f1, f2, i):
    """``base[0] * f1[i] * f2[i]`` in the factors' own precision (a factor of length 1 is
    the same for everyone), as float64."""
    lam = base[0] * f1[0 if f1.shape[0] == 1 else i]
    return np.float64(lam * f2[0 if f2.shape[0] == 1 else i])


@numba.njit(cache=True, nogil=True)
def _poisson_nonzero_product(u, base, f1, f2):
    """Nonzero counts at rates ``base[0] * f1[i] * f2[i]`` (a factor of length 1 is the
    same for everyone), multiplied in the factors' own precision."""
    who = np.empty(u.shape[0], np.int32)
    count = np.empty(u.shape[0], np.int32)
    m = 0
    for i in range(u.shape[0]):
        k = _poisson_one(u[i], _rate(base, f1, f2, i))
        if k:
            who[m] = i
            count[m] = k
            m += 1
    return who[:m].copy(), count[:m].copy()


_BATCH = 2048  # people screened before their few candidates are drawn (stays in L1)


@numba.njit(cache=True, nogil=True)
def _poisson_nonzero_pcg(state, n, base, f1, f2):
    """:func:`_poisson_nonzero_product` at the next ``n`` uniforms of a PCG64 generator
    (``state``: see :func:`scoresim.engine.rng.pcg64_state`, advanced in place).

    In two passes over each batch of people: the first draws every uniform and keeps,
    without a branch, those that may give an event (``u >= 1 - rate``; whether that holds
    is as unpredictable as the events, and a mispredicted branch cost more than the draw);
    the second draws the counts of those few."""
    s_hi, s_lo, i_hi, i_lo = state[0], state[1], state[2], state[3]
    who = np.empty(n, np.int32)
    count = np.empty(n, np.int32)
    maybe = np.empty(_BATCH, np.int32)
    maybe_u = np.empty(_BATCH)
    m = 0
    for lo in range(0, n, _BATCH):
        c = 0
        for i in range(lo, min(lo + _BATCH, n)):
            s_hi, s_lo, u = pcg64_double(s_hi, s_lo, i_hi, i_lo)
            maybe[c] = i
            maybe_u[c] = u
            c += u >= 1.0 - _rate(base, f1, f2, i) - _MARGIN  # (else _poisson_one is 0)
        for j in range(c):
            i = maybe[j]
            k = _poisson_one(maybe_u[j], _rate(base, f1, f2, i))
            if k:
                who[m] = i
                count[m] = k
                m += 1
    state[0], state[1] = s_hi, s_lo
    return who[:m].copy(), count[:m].copy()


def _typed_factors(base: float, factors: list[np.ndarray]):
    """(base, f1, f2) for the kernels, with numpy's types: ``base`` takes the first
    factor's precision (a Python float meeting a float32 array), and a missing factor is
    an exact 1 of the same precision."""
    if len(factors) > 2:
        raise ValueError("at most two rate factors")
    if not factors:
        one = np.ones(1)
        return np.array([base]), one, one
    f = [np.ascontiguousarray(x) for x in factors]
    if f[0].dtype.kind != "f":  # a Python float meeting integers: float64
        f[0] = f[0].astype(np.float64)
    b = np.array([base], dtype=f[0].dtype)
    if len(f) == 1:
        f.append(np.ones(1, dtype=f[0].dtype))
    return b, f[0], f[1]


def poisson_nonzero_pcg(state: np.ndarray, n: int, base: float, factors: list[np.ndarray]):
    """:func:`poisson_nonzero_product` at the next ``n`` uniforms of a PCG64 generator
    whose state (:func:`scoresim.engine.rng.pcg64_state`) is advanced in place."""
    return _poisson_nonzero_pcg(state, n, *_typed_factors(base, factors))


def poisson_nonzero_product(u: np.ndarray, base: float, factors: list[np.ndarray]):
    """Nonzero Poisson counts at rates ``base * factors[0] * factors[1]`` elementwise,
    with numpy's types: ``base`` takes the first factor's precision (a Python float meeting
    a float32 array), and a missing factor is an exact 1 of the same precision."""
    u = np.ascontiguousarray(u, np.float64)
    return _poisson_nonzero_product(u, *_typed_factors(base, factors))


def _rates(lam, size: int) -> np.ndarray:
    lam = np.asarray(lam)
    if lam.ndim == 0 or lam.size == 1:
        return np.asarray(lam, np.float64).reshape(1)
    if lam.shape != (size,):
        raise ValueError(f"rates of shape {lam.shape} for {size} uniforms")
    return lam if lam.dtype in (np.float32, np.float64) else lam.astype(np.float64)


def poisson_from_uniform(u: np.ndarray, lam: np.ndarray | float) -> np.ndarray:
    """The smallest k with P(X <= k) >= u for X ~ Poisson(lam), elementwise."""
    u = np.ascontiguousarray(u, np.float64)
    return _poisson(u, _rates(lam, u.shape[0]))


@numba.njit(cache=True, nogil=True, inline="always")
def binomial_one(u: float, n: int, p: float) -> int:
    """The smallest k with P(X <= k) >= u for X ~ Binomial(n, p), 0 < p < 1."""
    if n <= 0:
        return 0
    pk = 1.0 - p if n == 1 else (1.0 - p) ** np.float64(n)  # x ** 1 == x exactly
    if not u > pk:
        return 0
    odds = p / (1.0 - p)
    cdf = pk
    k = 0
    while True:
        k += 1
        pk = pk * (n - k + 1) / k * odds
        cdf = cdf + pk
        if not (u > cdf and k < n):
            return k


@numba.njit(cache=True, nogil=True)
def _binomial(u, n, p):
    out = np.zeros(n.shape[0], np.int32)
    for i in range(n.shape[0]):
        out[i] = binomial_one(u[i], n[i], p)
    return out


def binomial_from_uniform(u: np.ndarray, n: np.ndarray, p: float) -> np.ndarray:
    """The smallest k with P(X <= k) >= u for X ~ Binomial(n, p), elementwise."""
    n = np.asarray(n, dtype=np.int64)
    if p >= 1.0:
        return n.astype(np.int32)
    if p <= 0.0:
        return np.zeros(n.shape, np.int32)
    u = np.broadcast_to(np.asarray(u, np.float64), n.shape)
    return _binomial(np.ascontiguousarray(u), np.ascontiguousarray(n), float(p))


# ----------------------------------------------------- the same draws, plainly (scipy)


def poisson_inverse_cdf(u: np.ndarray, lam) -> np.ndarray:
    """The smallest k >= 0 with P(X <= k) >= u for X ~ Poisson(lam), by scipy: what the
    compiled samplers compute (the reference engine's form)."""
    from scipy import stats

    return np.maximum(stats.poisson.ppf(u, lam), 0).astype(np.int32)


def binomial_inverse_cdf(u: np.ndarray, n: np.ndarray, p: float) -> np.ndarray:
    """The smallest k >= 0 with P(X <= k) >= u for X ~ Binomial(n, p), by scipy."""
    from scipy import stats

    n = np.asarray(n, np.int64)
    if p >= 1.0:
        return n.astype(np.int32)
    if p <= 0.0:
        return np.zeros(n.shape, np.int32)
    return np.maximum(stats.binom.ppf(u, np.maximum(n, 0), p), 0).astype(np.int32)
