"""The gallery's case ``liu_delayed_impact``: scoresim's lender (:mod:`scoresim.model.lending`)
against Liu, Dean, Rolf, Simchowitz and Hardt (2018), "Delayed impact of fair machine
learning", on the FICO data of their reproduction in whynot
(:mod:`scoresim.experiments.validation.liu_reference`).

scoresim's side is a run of the model: a society of two groups (regions ``black`` and
``white`` at the data's shares), one scheme on whynot's range [300, 850] whose rules give
+75 for a ``lender_repayment`` and -150 for a ``lender_default``, a source that carries the
lender's reports (everything recorded, nothing misattributed), and the lender with one
threshold per group, everyone applying on day 0 (``apply_chance_per_day`` 1), loans due
the next day, the repayment chance equal to the bill reliability. Each person's score is
drawn from their group's FICO distribution and their bill reliability set to the group's
repayment chance at that score (the FICO table), before day 0: so the score says how
likely a person is to repay exactly as far as the data say, and the lender reads the
published score. The mean score change of each group on day 1 (the outcome column
``lending_score_change_GROUP``) is Liu et al.'s Delta mu.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from scoresim.declarations.events import EVENT_KINDS
from scoresim.experiments.validation import liu_reference as ref
from scoresim.experiments.validation.core import Check, new_figure, save_figure

#: Tolerances, stated before measuring. A Monte Carlo mean is compared with the closed
#: form within TOL_SE standard errors (computed from the closed form's variance and the
#: group's size, not from the sample): a false failure has chance about 6e-5 per check,
#: about 0.5% over the case's 60-odd such checks. Against whynot's port (a sample too) the
#: two errors combine, plus the difference of the two closed forms (the port draws a score
#: by the nearest CDF value, Liu et al.'s pi by the CDF's steps: computed from the tables).
TOL_SE = 4.0


def _scenario(people: int, thresholds: dict[str, float], seed: int,
              default_points: float, days: int = 2, lending: dict | None = None):
    from scoresim.scenario.schema import Scenario

    end = (dt.date(2020, 1, 1) + dt.timedelta(days=days - 1)).isoformat()
    return Scenario.model_validate({
        "name": "liu-delayed-impact", "start": "2020-01-01", "end": end, "seed": seed,
        "people": {"count": people, "regions": {g: data_share(g) for g in ref.GROUPS}},
        "demography": {"enabled": False}, "network": {"mean_degree": 0},
        "behaviour": {"rates_per_day": {k.name: 0.0 for k in EVENT_KINDS}},
        "life": {"job_search_rate_per_day": 0.0, "good_job_separation_rate_per_day": 0.0},
        "adaptation": {"self_censorship": "none", "new_tie_rate_per_day": 0.0,
                       "tie_dissolve_rate_per_day": 0.0, "unfriend_probability": 0.0,
                       "gaming_strength": 0.0},
        "sources": {"bureau": {"kinds": ["lender_repayment", "lender_default"]}},
        "schemes": {"fico": {
            "min_score": ref.LOW, "max_score": ref.HIGH, "initial_score": 600.0,
            "friend_weight": 0.0, "sources": ["bureau"],
            "enrolment": {"mode": "mandatory"},
            "rules": [{"kind": "lender_repayment", "points": ref.REPAID_POINTS},
                      {"kind": "lender_default", "points": default_points}]}},
        "lending": {"enabled": True, "scheme": "fico", "source": "bureau",
                    "threshold": ref.LOW, "group_by": "region", "thresholds": thresholds,
                    "apply_chance_per_day": 1.0, "apply_factor_poorest": 1.0,
                    "apply_factor_richest": 1.0, "apply_factor_jobless": 1.0,
                    "term_days": 1, "repay_chance_least_reliable": 0.0,
                    "repay_chance_most_reliable": 1.0, "gain_per_repayment": ref.GAIN,
                    "loss_per_default": ref.LOSS, **(lending or {})}})


def fico_society(people: int, thresholds: dict[str, float], seed: int,
                 default_points: float = ref.DEFAULT_POINTS, days: int = 2,
                 lending: dict | None = None, engine: str = "compiled"):
    """A simulation (not yet run) of the case's society (see the module's docstring):
    ``thresholds`` per group, ``days`` long, ``lending`` keys over the case's;
    each person's score and bill reliability drawn from their group's FICO table."""
    from scoresim.sim import Sim

    d = data()
    sim = Sim(_scenario(people, thresholds, seed, default_points, days, lending),
              engine=engine)
    rng = np.random.default_rng([seed, 2018])
    region = sim.people.region
    scheme = sim.schemes["fico"]
    for code, g in enumerate(sim.scenario.people.regions):
        at = np.flatnonzero(region == code)
        pmf = d.pmf[g] / d.pmf[g].sum()
        k = np.minimum(np.searchsorted(np.cumsum(pmf), rng.random(at.size), side="right"),
                       pmf.size - 1)
        scheme.accumulation.b[at] = d.scores[k]
        scheme.accumulation.b_clean[at] = d.scores[k]
        sim.people.bill_reliability[at] = d.repay[g][k]
    return sim


_DATA: ref.Fico | None = None


def data() -> ref.Fico:
    global _DATA
    if _DATA is None:
        _DATA = ref.fico()
    return _DATA


def data_share(group: str) -> float:
    return data().share[group]


def scoresim_one_step(people: int, ks: dict[str, int], seed: int,
                      default_points: float = ref.DEFAULT_POINTS) -> dict[str, dict]:
    """One round of scoresim's lender at the grid thresholds ``ks`` (per group): per
    group, the selection rate, Delta mu (the outcome column), the group's size, and the
    lender's AUC and profit of the round."""
    d = data()
    sim = fico_society(people, {g: ref.midpoint_threshold(d, k) for g, k in ks.items()},
                       seed, default_points)
    region = sim.people.region
    sim.step()
    approved = np.isfinite(next(c for c in sim.added
                                if c.key == "lending").score_at_approval)
    sim.step()
    o = sim.outcomes.data
    out = {}
    for code, g in enumerate(sim.scenario.people.regions):
        at = region == code
        out[g] = {"beta": float(approved[at].mean()), "n": int(at.sum()),
                  "delta_mu": float(o[f"lending_score_change_{g}"][1])}
    out["lender"] = {"auc": float(o["lending_auc"][1]), "profit": float(o["lending_profit"][1]),
                     "approvals": float(o["lending_approvals"][0])}
    return out


def whynot_closed(d: ref.Fico, group: str, k: int) -> dict[str, float]:
    """The closed form under whynot's own sampling of scores (the nearest CDF value)."""
    cdf = d.cdf[group]
    values, first = np.unique(cdf, return_index=True)
    mids = np.concatenate([[0.0], (values[1:] + values[:-1]) / 2.0, [1.0]])
    pmf = np.zeros(cdf.size)
    pmf[first] = np.clip(mids[1:], 0, 1) - np.clip(mids[:-1], 0, 1)
    alt = ref.Fico(d.scores, d.cdf, {**d.pmf, group: pmf}, d.repay, d.share)
    return ref.outcome(alt, group, k)


def pooled_auc(d: ref.Fico, ks: dict[str, int]) -> tuple[float, float, float]:
    """The closed form of the lender's AUC on the loans made at the thresholds ``ks``
    (both groups pooled at their shares): the chance a repaid loan's score is above a
    defaulted one's, ties half; and the expected numbers (per person) of each."""
    good = np.zeros(d.scores.size)
    bad = np.zeros(d.scores.size)
    for g, k in ks.items():
        pi = d.pmf[g] / d.pmf[g].sum() * d.share[g] * (np.arange(d.scores.size) >= k)
        good += pi * d.repay[g]
        bad += pi * (1 - d.repay[g])
    below = np.cumsum(bad) - bad
    return float((good * (below + 0.5 * bad)).sum() / (good.sum() * bad.sum())), \
        float(good.sum()), float(bad.sum())


def hanley_mcneil_se(auc: float, n_good: float, n_bad: float) -> float:
    """The standard error of an AUC from ``n_good`` and ``n_bad`` cases (Hanley and
    McNeil 1982)."""
    q1, q2 = auc / (2 - auc), 2 * auc ** 2 / (1 + auc)
    return float(np.sqrt((auc * (1 - auc) + (n_good - 1) * (q1 - auc ** 2)
                          + (n_bad - 1) * (q2 - auc ** 2)) / (n_good * n_bad)))


def liu_delayed_impact(quick: bool = True, figure: Path | None = None,
                       default_points: float = ref.DEFAULT_POINTS
                       ) -> tuple[list[Check], list[str]]:
    """Liu et al.'s one-step outcome curves, scoresim's lender against the closed form and
    whynot's simulator; the three policies' thresholds and each group's Delta mu under them.
    ``default_points``: the points the model's rule gives a default (wrong input)."""
    d = data()
    people = 60_000 if quick else 300_000
    stride = 12 if quick else 4
    checks: list[Check] = []
    criteria = ref.criteria(d)
    seed = 1
    policy_runs = {}
    for name, ks in criteria.items():
        ours = scoresim_one_step(people, ks, seed, default_points)
        thresholds = {g: ref.midpoint_threshold(d, k) for g, k in ks.items()}
        theirs = ref.whynot_one_step(d, people, thresholds, 1000 + seed)
        seed += 1
        policy_runs[name] = ours
        for code, g in enumerate(ref.GROUPS):
            closed = ref.outcome(d, g, ks[g])
            wclosed = whynot_closed(d, g, ks[g])
            n = ours[g]["n"]
            se_mu = np.sqrt(closed["var"] / n)
            se_beta = np.sqrt(closed["beta"] * (1 - closed["beta"]) / n)
            ok_mu = abs(ours[g]["delta_mu"] - closed["delta_mu"]) <= TOL_SE * se_mu
            ok_beta = abs(ours[g]["beta"] - closed["beta"]) <= TOL_SE * se_beta
            checks.append(Check(
                f"{name}, {g} (threshold {d.scores[ks[g]]:.1f}): selection rate, Delta mu "
                "against the closed form",
                f"{closed['beta']:.3f}, {closed['delta_mu']:+.2f}",
                f"{ours[g]['beta']:.3f}, {ours[g]['delta_mu']:+.2f}",
                f"+-{TOL_SE:g} SE ({TOL_SE * se_beta:.3f}, {TOL_SE * se_mu:.2f})",
                bool(ok_mu and ok_beta)))
            at = theirs["group"] == code
            change = (theirs["new_score"] - theirs["score"])[at]
            se_w = np.sqrt(wclosed["var"] / at.sum())
            allow = TOL_SE * np.hypot(se_mu, se_w) + abs(wclosed["delta_mu"]
                                                          - closed["delta_mu"])
            checks.append(Check(
                f"{name}, {g}: Delta mu against whynot's simulator (port, {at.sum():,} "
                "people of the group)", f"{change.mean():+.2f}",
                f"{ours[g]['delta_mu']:+.2f}", f"+-{allow:.2f}",
                bool(abs(ours[g]["delta_mu"] - change.mean()) <= allow)))
    # the outcome curves: every stride-th grid threshold, both groups in one run each
    grid = list(range(0, d.scores.size, stride))
    curves = {g: {"beta": [], "delta_mu": [], "z": []} for g in ref.GROUPS}
    for k in grid:
        ours = scoresim_one_step(people, {g: k for g in ref.GROUPS}, 100 + k, default_points)
        for g in ref.GROUPS:
            closed = ref.outcome(d, g, k)
            se = np.sqrt(closed["var"] / ours[g]["n"])
            curves[g]["beta"].append(ours[g]["beta"])
            curves[g]["delta_mu"].append(ours[g]["delta_mu"])
            curves[g]["z"].append(0.0 if se == 0 else
                                  abs(ours[g]["delta_mu"] - closed["delta_mu"]) / se)
    for g in ref.GROUPS:
        z = np.array(curves[g]["z"])
        checks.append(Check(
            f"outcome curve, {g}: Delta mu at {len(grid)} thresholds against the closed form",
            "the closed form at each threshold",
            f"largest gap {z.max():.1f} SE", f"every point within {TOL_SE:g} SE",
            bool((z <= TOL_SE).all())))
    # M14 on loans made: the lender's AUC at MaxUtil against its closed form
    auc, good, bad = pooled_auc(d, criteria["MaxUtil"])
    lender = policy_runs["MaxUtil"]["lender"]
    se = hanley_mcneil_se(auc, good * people, bad * people)
    checks.append(Check(
        "MaxUtil: the lender's AUC of the score on the loans made (lending_auc)",
        f"{auc:.4f}", f"{lender['auc']:.4f}", f"+-{TOL_SE:g} SE ({TOL_SE * se:.4f})",
        abs(lender["auc"] - auc) <= TOL_SE * se))
    # their finding: a fairness constraint can harm the group it aims to protect where the
    # lender's own objective would not (abstract; their FICO section's outcome curves)
    mu = {name: policy_runs[name]["black"]["delta_mu"] for name in criteria}
    closed_mu = {name: ref.outcome(d, "black", criteria[name]["black"])["delta_mu"]
                 for name in criteria}
    checks.append(Check(
        "Delta mu of the black group: MaxUtil / DemParity / EqOpt (harm under DemParity, "
        "improvement under MaxUtil and EqOpt)",
        " / ".join(f"{closed_mu[n]:+.1f}" for n in criteria),
        " / ".join(f"{mu[n]:+.1f}" for n in criteria),
        "signs: + / - / +",
        mu["MaxUtil"] > 0 and mu["DemParity"] < 0 and mu["EqOpt"] > 0))
    notes = [
        f"{people:,} people per run (black {d.share['black']:.1%}, white "
        f"{d.share['white']:.1%}, whynot's totals), one run per policy and per threshold of "
        f"the curve (every {stride}th of the {d.scores.size} grid scores); the lender's "
        "utility +1 per repayment and -4 per default (whynot's defaults), scores +75 and "
        "-150 cut to [300, 850].",
        "Thresholds (grid score from which a group is lent to): " + "; ".join(
            f"{name} black {d.scores[ks['black']]:.1f}, white {d.scores[ks['white']]:.1f}"
            for name, ks in criteria.items()) + ". DemParity and EqOpt: the pair of grid "
        "thresholds nearest a common rate that maximises the lender's utility summed over "
        "the groups (Liu et al. randomise at the boundary to make the rates equal; the grid "
        "leaves them within a grid step).",
        "Reference: the closed form on the FICO tables (liu_reference.outcome) and a "
        "vectorised port of whynot's delayed_impact simulator (liu_reference."
        "whynot_one_step; its sampling of scores by the nearest CDF value differs from "
        "Liu et al.'s pi by a half step, allowed for in the tolerance). Liu et al.'s own "
        "figures were not read number by number here; the checks hold their stated finding "
        "(a constraint can cause harm where the unconstrained lender would not) on these "
        f"tables. Tolerances: {TOL_SE:g} standard errors from the closed form's variance "
        "(liu.TOL_SE), stated before measuring.",
    ]
    if figure is not None:
        _figure(figure, d, curves)
    return checks, notes


def _figure(path: Path, d: ref.Fico, curves: dict) -> None:
    fig, axes = new_figure(1, width=6.0, height=4.0)
    ax = axes[0]
    colors = {"black": "#d62728", "white": "#1f77b4"}
    for g in ref.GROUPS:
        c = ref.curve(d, g)
        ax.plot(c["beta"], c["delta_mu"], "-", color=colors[g], lw=1.2,
                label=f"{g}: closed form")
        ax.plot(curves[g]["beta"], curves[g]["delta_mu"], "o", color=colors[g], ms=3.5,
                label=f"{g}: scoresim's lender")
    ax.axhline(0, color="grey", lw=0.6)
    ax.set(xlabel="selection rate (share of the group lent to)",
           ylabel="mean score change Delta mu (points)")
    ax.set_title("Liu et al.'s outcome curves on the FICO data (+75 / -150)", fontsize=9)
    ax.legend(fontsize=7)
    save_figure(fig, path)
