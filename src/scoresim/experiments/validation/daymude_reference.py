"""The reference for the gallery's case ``daymude_authority``: a port of the adaptive
authority of Daymude, Axelrod and Forrest (2025), ``rmhc_trial`` with the two functions it
calls (``texponential`` and the vectorised ``opt_actions``), from code/hillclimbing.py and
code/opt_action.py of the public repository DaymudeLab/DissentSelfCensorship, commit
239b5ac007ead8f53714f71610af4daebc51076f (MIT licence, copyright 2025 Joshua J. Daymude:
data/daymude-2025/LICENSE).

A port, not their file: plotting, sweeps and command line left out, the arithmetic and the
order of the random draws kept as theirs, so that with the same seed it gives their
numbers (checked against their file at that commit: the same arrays, bit for bit, on the
seeds docs/validation.md names). scoresim's own authority (:mod:`scoresim.model.authority`)
is none of this: the gallery runs it in a simulation and compares the two as distributions.
"""

from __future__ import annotations

from math import expm1, isclose

import numpy as np


def texponential(rng: np.random.Generator, bound: float, scale: float, size: int
                 ) -> np.ndarray:
    """Their truncated exponential on [0, ``bound``] with mean ``scale``: the scale of
    the untruncated exponential by bisection, then rejection sampling."""
    lower, upper = scale, 2 * scale
    while upper - bound / expm1(bound / upper) < scale:
        lower = upper
        upper *= 2
    while True:
        mid = (upper + lower) / 2
        approx_mean = mid - bound / expm1(bound / mid)
        if isclose(scale, approx_mean):
            break
        elif approx_mean < scale:
            lower = mid
        else:
            upper = mid
    samples = np.array([])
    while len(samples) < size:
        x = rng.exponential(scale=mid, size=size)
        samples = np.append(samples, x[np.where(x <= bound)])
    return samples[:size]


def opt_actions(deltas: np.ndarray, betas: np.ndarray, nu: float, pi: str, tau: float,
                psi: float) -> np.ndarray:
    """Their vectorised optimal actions (Eqs. 5-8 of the paper)."""
    if pi == "uniform":
        dunis = (betas * tau + nu * psi) / (betas - (1 - nu) * psi)
        cond = (deltas <= tau) | ((betas > (1 - nu) * psi) & (deltas >= dunis))
        return cond * deltas + np.logical_not(cond) * tau
    if nu == 1:
        dpros = np.zeros(len(deltas))
    else:
        dpros = (tau + (betas - nu * psi) / ((1 - nu) * psi)) / 2
    cond1 = (deltas <= tau) | ((nu == 1) & (betas >= psi)) | ((nu < 1) & (deltas <= dpros))
    cond2 = (deltas > tau) & (((nu == 1) & (betas < psi)) | ((nu < 1) & (tau >= dpros)))
    return cond1 * deltas + cond2 * tau + np.logical_not(cond1 | cond2) * dpros


def rmhc_trial(N: int, R: int, delta: float, beta: float, pi: str, tau0: float,
               psi0: float, nu0: float, alpha: float, eps: float, seed: int):
    """One trial of their hill-climbing authority: returns the parameters (3 x R: tau,
    psi, nu), the political and punishment costs per round, desired dissents, boldness."""
    rng = np.random.default_rng(seed)
    deltas = texponential(rng, bound=1, scale=delta, size=N)
    betas = rng.exponential(scale=beta, size=N)
    bounds = np.array([[0, 1], [1e-9, np.inf], [0, 1]])
    params = np.zeros((3, R))
    pol_costs, pun_costs = np.zeros(R), np.zeros(R)
    param_choices = rng.integers(3, size=R)
    for r in range(R):
        if r == 0:
            params[:, r] = [tau0, psi0, nu0]
        else:
            p = param_choices[r]
            params[:, r] = params[:, r - 1]
            params[p, r] = rng.uniform(max(bounds[p, 0], params[p, r] - eps),
                                       min(bounds[p, 1], params[p, r] + eps))
        tau, psi, nu = params[:, r]
        acts = opt_actions(deltas, betas, nu, pi, tau, psi)
        cond = (acts > tau) & (rng.random(N) < (nu + (1 - nu) * acts))
        if pi == "uniform":
            punish = cond * psi
        else:
            punish = cond * psi * (acts - tau)
        pol_costs[r] = acts.sum()
        pun_costs[r] = punish.sum()
        if r > 0 and alpha * pol_costs[r] + pun_costs[r] > \
                alpha * pol_costs[r - 1] + pun_costs[r - 1]:
            params[:, r] = params[:, r - 1]
    return params, pol_costs, pun_costs, deltas, betas
