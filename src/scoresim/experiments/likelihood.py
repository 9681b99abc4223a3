"""How well a simulated figure matches an observed one: the log-likelihoods of calibration.

Each target of a calibration file names one of three likelihoods of the observed value
given the model's (the mean over a trial's replicates):

- ``normal``: the observation is the model's value plus a normal error whose standard
  deviation is the stated uncertainty. For any figure measured with a known standard error.
- ``binomial``: the observation is a share seen in a sample; its standard error ``u``
  defines the effective sample size ``n = p(1 - p) / u**2`` (the survey's size, if the
  source gives one, gives the same ``u``). For shares strictly between 0 and 1.
- ``poisson``: the observation is a count of independent events whose expectation is the
  model's value; the count's own spread (sqrt of its mean) is its uncertainty, so none is
  given.

All three are proper log-densities (constants included), so the totals of two trials, or of
two calibration files with the same targets, can be compared: a difference of 2 in the
total log-likelihood is a likelihood ratio of e**2, about 7.4.
"""

from __future__ import annotations

import math

LIKELIHOODS = ("normal", "binomial", "poisson")

#: Simulated shares are kept this far from 0 and 1 (a share of exactly 0 would make any
#: positive observation impossible, an infinite log-likelihood that no sampler can use).
SHARE_FLOOR = 1e-9


def effective_sample_size(observed: float, uncertainty: float) -> float:
    """The sample size of a share ``observed`` measured with standard error ``uncertainty``."""
    return observed * (1.0 - observed) / uncertainty**2


def log_likelihood(kind: str, simulated: float, observed: float,
                   uncertainty: float | None) -> float:
    """log p(observed | the model gives ``simulated``), by the target's ``kind``."""
    if not math.isfinite(simulated):
        return -math.inf
    if kind == "normal":
        z = (simulated - observed) / uncertainty
        return -0.5 * z * z - math.log(uncertainty * math.sqrt(2.0 * math.pi))
    if kind == "binomial":
        n = effective_sample_size(observed, uncertainty)
        k = observed * n
        p = min(max(simulated, SHARE_FLOOR), 1.0 - SHARE_FLOOR)
        return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
                + k * math.log(p) + (n - k) * math.log1p(-p))
    if kind == "poisson":
        lam = max(simulated, SHARE_FLOOR)
        return observed * math.log(lam) - lam - math.lgamma(observed + 1)
    raise ValueError(f"unknown likelihood {kind!r}")
