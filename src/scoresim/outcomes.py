"""Outcomes: one row per step, columns declared up front (MODEL.md: Outcomes).

Score quantiles and the Gini coefficient are computed from a one-point-wide histogram over
the scheme's range (exact to one point, O(n) per step instead of a sort).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from scoresim.scenario import PRIVILEGE_EFFECTS, SANCTION_EFFECTS, Scenario

GLOBAL_COLUMNS = {
    "critical_statements": "critical statements made this step (events, seen or not)",
    "supportive_statements": "supportive statements made this step",
    "expression_gap": "mean |private - expressed opinion| (preference falsification)",
    "compliant_share": "share whose desired dissent is within the tolerance",
    "self_censoring_share": "share expressing less dissent than they hold",
    "defiant_share": "share expressing all their dissent above the tolerance",
    "critic_degree_ratio": "mean degree of critics / mean degree of the rest",
    "isolated_critics": "share of critics with no friends",
    "mean_degree": "mean number of friends",
    "ties_unfriended": "ties dropped because a friend's score dragged",
    "ties_added": "new ties formed",
    "records": "records attributed this step",
    "records_misattributed": "records attributed to the wrong person this step",
    "blacklisted": "people on the blacklist",
    "blacklisted_wrongful": "people on the blacklist through a misattributed record",
    "sanctions_total": "sanctions applied this step, all kinds",
    "sanctions_wrongful": "sanctions that only misattributed records caused",
    "sanctions_association": "sanctions that friends' scores caused (own score clear)",
    "opted_out": "people opted out of at least one scheme",
    "good_job_share": "share of working people with a good job",
    "good_job_gap_income": "good-job share of the top 3 income deciles minus the bottom 3",
    "good_job_gap_region": "good-job share of the best region minus the worst",
    "good_job_hires": "hires into good jobs this step",
    "university_admissions": "students admitted this step",
}

SCHEME_COLUMNS = {
    "score_mean": "mean published score of the scored",
    "score_p10": "10th percentile of published scores",
    "score_p50": "median published score",
    "score_p90": "90th percentile of published scores",
    "score_gini": "Gini coefficient of published scores",
    "score_assortativity": "correlation of published scores across ties",
    "enrolled_share": "share of all people enrolled",
    "opted_out": "people opted out",
    "shadow_scored": "opted-out people who still carry a hidden score",
    "early_adopter_advantage": "mean score of early enrollees minus later enrollees",
    "score_reliability_corr": "correlation of score with bill reliability (M14)",
}


def columns_for(scenario: Scenario) -> dict[str, str]:
    """Every outcome column of this scenario, with its meaning."""
    cols = {"step": "step (day index from start)", "phase": "phase index"}
    cols.update(GLOBAL_COLUMNS)
    for source in scenario.sources:
        cols[f"records_{source}"] = f"records attributed by source {source} this step"
    effects = {cfg.effect for cfg in scenario.sanctions.values()}
    for effect in SANCTION_EFFECTS:
        if effect in effects:
            cols[f"sanctions_{effect}"] = f"{effect} sanctions applied this step"
    for effect in PRIVILEGE_EFFECTS:
        if effect in effects:
            cols[f"privileges_{effect}"] = f"{effect} privileges granted this step"
    for name, scheme in scenario.schemes.items():
        for col, doc in SCHEME_COLUMNS.items():
            cols[f"{name}_{col}"] = f"{scheme.label or name}: {doc}"
        for tier in scheme.tier_names_low_to_high():
            cols[f"{name}_tier_{tier}"] = f"{name}: share of the scored in tier {tier}"
    return cols


class OutcomeTable:
    """Preallocated columns, one row per step."""

    def __init__(self, scenario: Scenario, n_steps: int):
        self.meaning = columns_for(scenario)
        self.data = {c: np.full(n_steps, np.nan) for c in self.meaning}
        self.dates = [scenario.start.fromordinal(scenario.start.toordinal() + i)
                      for i in range(n_steps)]

    def put(self, step: int, values: dict[str, float]) -> None:
        for key, value in values.items():
            self.data[key][step] = value

    def to_arrow(self) -> pa.Table:
        cols = {"date": pa.array(self.dates, pa.date32())}
        for name, values in self.data.items():
            if name in ("step", "phase"):
                cols[name] = pa.array(values.astype(np.int32))
            else:
                cols[name] = pa.array(values)
        meta = {f"col:{k}": v for k, v in self.meaning.items()}
        return pa.table(cols).replace_schema_metadata(meta)


# ------------------------------------------------------------------------ statistics


def histogram_stats(scores: np.ndarray, lo: float, hi: float) -> dict[str, float]:
    """Mean, p10/p50/p90 and Gini of scores in [lo, hi], from 1-point bins."""
    if scores.size == 0:
        return {k: np.nan for k in ("score_mean", "score_p10", "score_p50", "score_p90",
                                    "score_gini")}
    nbins = max(int(np.ceil(hi - lo)) + 1, 1)
    idx = np.clip((scores - lo).astype(np.int64), 0, nbins - 1)
    counts = np.bincount(idx, minlength=nbins).astype(np.float64)
    values = lo + np.arange(nbins) + 0.5
    values[-1] = min(values[-1], hi)
    cum = np.cumsum(counts)
    total = cum[-1]
    q = {f"score_p{p}": float(values[np.searchsorted(cum, total * p / 100.0)])
         for p in (10, 50, 90)}
    wealth = counts * values
    cum_w = np.cumsum(wealth)
    sw = cum_w[-1]
    gini = np.nan
    if sw > 0:
        prev = np.concatenate([[0.0], cum_w[:-1]])
        gini = float(1.0 - np.sum(counts * (prev + cum_w)) / (total * sw))
    return {"score_mean": float(scores.mean(dtype=np.float64)), **q, "score_gini": gini}


def correlation(x: np.ndarray, y: np.ndarray) -> float:
    if x.size < 3:
        return np.nan
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    sx, sy = x.std(), y.std()
    if sx == 0 or sy == 0:
        return np.nan
    return float(((x - x.mean()) * (y - y.mean())).mean() / (sx * sy))


def safe_ratio(a: float, b: float) -> float:
    return float(a / b) if b else np.nan
