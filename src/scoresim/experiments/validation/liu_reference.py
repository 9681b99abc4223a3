"""The reference for the gallery's case ``liu_delayed_impact``: Liu, Dean, Rolf, Simchowitz
and Hardt (2018), "Delayed impact of fair machine learning" (ICML), on the FICO data as
their reproduction in whynot ships it (zykls/whynot, ``whynot/simulators/delayed_impact``,
MIT; the tables in ``data/liu-2018`` with the licence and a README).

Three things, each a plain function:

- :func:`fico`: the two groups' score distributions and repayment chances, read as
  whynot's ``fico.get_data_args`` reads them (percentiles converted to scores by its
  ``convert_percentiles``; the last row dropped; repayment = 1 - the bad rate);
- :func:`whynot_one_step`: a vectorised port of whynot's simulator for one round
  (``sample_initial_states`` of its experiments, then ``dynamics``: ``lending_policy``,
  ``determine_repayment`` by the Gumbel trick, ``update_score`` cut to [300, 850],
  ``update_profits``), on a numpy ``RandomState`` as theirs; not their draw order (they
  draw person by person), so a sample of the same law, not the same numbers;
- the closed form (:func:`outcome`): a group's selection rate, mean score change and the
  lender's expected utility at a threshold, summed over the score grid (Liu et al.'s
  Delta mu = sum over x >= tau of pi(x) [rho(x) c+ + (1 - rho(x)) c-], the change cut to
  the range), and the thresholds of the three criteria (:func:`criteria`).
"""

from __future__ import annotations

import csv
import dataclasses
from importlib import resources

import numpy as np

DATA = "scoresim.experiments.validation"
GROUPS = ("black", "white")  # (whynot's group 0 and 1)
COLUMNS = {"black": "Black", "white": "Non- Hispanic white"}
LOW, HIGH = 300.0, 850.0  # whynot's min_score, max_score
REPAID_POINTS, DEFAULT_POINTS = 75.0, -150.0  # Liu et al.; whynot's defaults
GAIN, LOSS = 1.0, 4.0  # whynot's repayment_utility 1, default_utility -4

#: whynot's ``convert_percentiles``: (score, percent of people from it to the next)
_PDF = [(300, 2.1), (350, 4.2), (400, 5.4), (450, 6.5), (500, 7.9), (550, 9.6),
        (600, 12.0), (650, 13.8), (700, 17.0), (750, 15.8), (800, 5.7), (850, 0)]


def convert_percentiles(p: np.ndarray) -> np.ndarray:
    """whynot's ``convert_percentiles``: a TransRisk percentile to a FICO-like score."""
    out = []
    for x in p:
        partial = 0.0
        for (v, s), (v2, _) in zip(_PDF, _PDF[1:], strict=False):
            if partial + s >= x:
                out.append(v + (v2 - v) * (x - partial) / s)
                break
            partial += s
    return np.array(out, np.float64)


def _table(name: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    path = resources.files(DATA).joinpath(f"data/liu-2018/{name}")
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    index = np.array([float(r["Score"]) for r in rows])
    return index, {g: np.array([float(r[c]) for r in rows]) for g, c in COLUMNS.items()}


@dataclasses.dataclass(frozen=True)
class Fico:
    """The score grid and, per group, the CDF, the probability of each score (Liu et al.'s
    pi, from the CDF), the repayment chance at each score (rho) and the group's share."""

    scores: np.ndarray
    cdf: dict[str, np.ndarray]
    pmf: dict[str, np.ndarray]
    repay: dict[str, np.ndarray]
    share: dict[str, float]


def fico() -> Fico:
    """The FICO tables as whynot's ``get_data_args`` makes them (its last row dropped, so
    the CDFs end just below 1)."""
    index, cdf = _table("transrisk_cdf_by_race_ssa.csv")
    _, bad = _table("transrisk_performance_by_race_ssa.csv")
    scores = convert_percentiles(index)[:-1]
    path = resources.files(DATA).joinpath("data/liu-2018/totals.csv")
    with path.open(encoding="utf-8") as f:
        totals = next(csv.DictReader(f))
    size = {g: float(totals[COLUMNS[g]]) for g in GROUPS}
    c = {g: cdf[g][:-1] / 100.0 for g in GROUPS}
    pmf = {g: np.diff(c[g], prepend=0.0) for g in GROUPS}  # (their _get_pmf)
    return Fico(scores, c, pmf, {g: 1.0 - bad[g][:-1] / 100.0 for g in GROUPS},
                {g: size[g] / sum(size.values()) for g in GROUPS})


# ------------------------------------------------------------------------ their simulator


def _nearest(index: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """whynot's ``_find_nearest_indices``: the position of the nearest index value."""
    return np.abs(index[:, None] - np.asarray(targets)[None, :]).argmin(axis=0)


def whynot_one_step(data: Fico, n: int, thresholds: dict[str, float], seed: int,
                    default_points: float = DEFAULT_POINTS) -> dict[str, np.ndarray]:
    """One round of whynot's lending simulator for ``n`` people (see the module's
    docstring): group, initial and new score, approval, repayment, profit per person."""
    rng = np.random.RandomState(seed)
    group = (rng.uniform(size=n) < data.share["white"]).astype(np.int64)  # (1: white)
    u_score = rng.uniform(size=n)
    score = np.empty(n)
    p = np.empty(n)
    for g, name in enumerate(GROUPS):
        at = group == g
        # their inverse CDF: the score whose CDF value is nearest the uniform
        score[at] = data.scores[_nearest(data.cdf[name], u_score[at])]
        # their repayment chance: at the grid score nearest the score
        p[at] = data.repay[name][_nearest(data.scores, score[at])]
    tau = np.where(group == 0, thresholds["black"], thresholds["white"])
    approved = score >= tau
    u = rng.uniform(size=n)
    with np.errstate(divide="ignore"):
        repaid = (np.log(p / (1.0 - p)) + np.log(u / (1.0 - u))) > 0.0
    change = np.where(approved, np.where(repaid, REPAID_POINTS, default_points), 0.0)
    new = np.clip(score + change, LOW, HIGH)
    profit = np.where(approved, np.where(repaid, GAIN, -LOSS), 0.0)
    return {"group": group, "score": score, "new_score": new, "approved": approved,
            "repaid": repaid, "profit": profit}


# ------------------------------------------------------------------------ the closed form


def outcome(data: Fico, group: str, k: int,
            default_points: float = DEFAULT_POINTS) -> dict[str, float]:
    """The closed form at the threshold ``scores[k]`` (approve x >= it) for ``group``:
    selection rate beta, mean score change Delta mu over the whole group (not lent to:
    no change), its per-person variance, the lender's expected utility per person and
    the true positive rate (the share of would-be repayers lent to)."""
    x, pi, rho = data.scores, data.pmf[group] / data.pmf[group].sum(), data.repay[group]
    up = np.minimum(x + REPAID_POINTS, HIGH) - x
    down = np.maximum(x + default_points, LOW) - x
    lent = np.arange(x.size) >= k
    w = pi * lent
    mean = float((w * (rho * up + (1 - rho) * down)).sum())
    second = float((w * (rho * up ** 2 + (1 - rho) * down ** 2)).sum())
    return {"beta": float(w.sum()), "delta_mu": mean, "var": second - mean ** 2,
            "utility": float((w * (rho * GAIN - (1 - rho) * LOSS)).sum()),
            "tpr": float((w * rho).sum() / (pi * rho).sum())}


def curve(data: Fico, group: str, default_points: float = DEFAULT_POINTS
          ) -> dict[str, np.ndarray]:
    """The outcome curve: :func:`outcome` at every threshold of the grid."""
    rows = [outcome(data, group, k, default_points) for k in range(data.scores.size)]
    return {key: np.array([r[key] for r in rows]) for key in rows[0]}


def criteria(data: Fico) -> dict[str, dict[str, int]]:
    """The threshold (its index in the grid) of each group under the lender's three
    policies (Liu et al. section 2): MaxUtil (each group's threshold maximising the
    lender's utility), DemParity (equal selection rates) and EqOpt (equal true positive
    rates), the last two maximising the utility summed over the groups (weighted by their
    shares) among the pairs of grid thresholds whose rates are nearest a common level."""
    curves = {g: curve(data, g) for g in GROUPS}
    out = {"MaxUtil": {g: int(np.argmax(curves[g]["utility"])) for g in GROUPS}}
    for name, rate in (("DemParity", "beta"), ("EqOpt", "tpr")):
        best, pick = -np.inf, {}
        for level in np.linspace(0.0, 1.0, 2001):
            ks = {g: int(np.argmin(np.abs(curves[g][rate] - level))) for g in GROUPS}
            total = sum(data.share[g] * curves[g]["utility"][ks[g]] for g in GROUPS)
            if total > best:
                best, pick = total, ks
        out[name] = pick
    return out


def midpoint_threshold(data: Fico, k: int) -> float:
    """A threshold that selects exactly the grid scores from ``scores[k]`` up, half way to
    the score below (so that no rounding of a stored score moves it across)."""
    return float(data.scores[0] if k == 0 else
                 (data.scores[k - 1] + data.scores[k]) / 2.0)
