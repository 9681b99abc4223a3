"""Outcomes: one row per step, columns declared up front (MODEL.md: Outcomes).

Score quantiles and the Gini coefficient are computed from a one-point-wide histogram over
the scheme's range (exact to one point, O(n) per step instead of a sort).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from scoresim.people import GOOD_JOB, WORKING
from scoresim.scenario import PRIVILEGE_EFFECTS, SANCTION_EFFECTS, Scenario
from scoresim.scoring import ENROLLED, OPTED_OUT

if TYPE_CHECKING:
    from scoresim.behaviour import Events
    from scoresim.network import Network
    from scoresim.sanctions import SanctionStep
    from scoresim.sim import Sim
    from scoresim.sources import Records

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
    """Pearson correlation (NaN when either side is constant or too short)."""
    if x.size < 3:
        return np.nan
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    x -= x.mean()
    y -= y.mean()
    sxx, syy = float(np.dot(x, x)), float(np.dot(y, y))
    if sxx <= 0 or syy <= 0:
        return np.nan
    return float(np.dot(x, y) / np.sqrt(sxx * syy))


def assortativity(network: Network, score: np.ndarray, scored: np.ndarray,
                  friends: np.ndarray | None = None) -> float:
    """Pearson correlation of scores across ties between scored people (both directions),
    from one sparse product instead of gathering every tie's two ends. ``friends``: each
    person's number of scored friends, if known."""
    w = scored.astype(np.float32)
    if friends is None:
        friends = network.neighbour_sum(w)
    pairs = float(np.dot(w, friends))
    if pairs < 3:
        return np.nan
    centre = float(score[scored].mean())
    x = np.where(scored, score - centre, 0.0).astype(np.float32)  # centred: exact in float32
    nx = network.neighbour_sum(x).astype(np.float64)
    x64, f64 = x.astype(np.float64), friends.astype(np.float64)
    mean = np.dot(x64, f64) / pairs
    var = np.dot(x64 * x64, f64) / pairs - mean * mean
    if var <= 1e-12:
        return np.nan
    return float((np.dot(x64, nx) / pairs - mean * mean) / var)


def safe_ratio(a: float, b: float) -> float:
    return float(a / b) if b else np.nan


def spread(values: np.ndarray, group: np.ndarray) -> float:
    """Largest minus smallest group mean (groups with members only)."""
    counts = np.bincount(group)
    sums = np.bincount(group, weights=values)
    means = sums[counts > 0] / counts[counts > 0]
    return float(means.max() - means.min()) if means.size else np.nan


class Observer:
    """Computes one outcome row per step; caches what does not change (who is a critic,
    the degree statistics between rewirings)."""

    def __init__(self, sim: Sim):
        self.sim = sim
        p, sc = sim.people, sim.scenario
        self.critics = p.private_opinion < sc.people.critic_below
        self.working = p.age_band == WORKING
        d = p.desired_dissent
        self.desired = d
        self.above_tolerance = d > sc.adaptation.tolerance
        self.compliant_share = float((~self.above_tolerance).mean())
        self._degree_version = -1
        self._degree: dict[str, float] = {}

    def _degree_stats(self) -> dict[str, float]:
        net = self.sim.network
        if net.version != self._degree_version:
            deg, critics = net.degree, self.critics
            n_crit = int(critics.sum())
            crit_mean = deg[critics].mean() if n_crit else 0.0
            rest_mean = deg[~critics].mean() if n_crit < deg.size else 0.0
            self._degree = {
                "critic_degree_ratio": safe_ratio(crit_mean, rest_mean),
                "isolated_critics": float((deg[critics] == 0).mean()) if n_crit else np.nan,
                "mean_degree": float(deg.mean()),
            }
            self._degree_version = net.version
        return self._degree

    def row(self, t: int, phase_idx: int, events: Events, records: Records,
            sanc: SanctionStep, settled: dict[str, int], ties: dict[str, int]) -> dict:
        sim = self.sim
        p, net = sim.people, sim.network
        d, a = self.desired, sim.expressed_dissent
        censoring = self.above_tolerance & (a < d - 1e-9)
        good = p.job == GOOD_JOB
        working = self.working
        rich = working & (p.income_decile >= 7)
        poor = working & (p.income_decile <= 2)
        listed = p.blacklisted_until >= t
        row = {
            "step": t,
            "phase": phase_idx,
            "critical_statements": events.total("critical_statement"),
            "supportive_statements": events.total("supportive_statement"),
            "expression_gap": float(np.abs(p.private_opinion - p.expressed_opinion).mean()),
            "compliant_share": self.compliant_share,
            "self_censoring_share": float(censoring.mean()),
            "defiant_share": 1.0 - self.compliant_share - float(censoring.mean()),
            **self._degree_stats(),
            "ties_unfriended": ties["ties_unfriended"],
            "ties_added": ties["ties_added"],
            "records": records.total,
            "records_misattributed": records.total_misattributed,
            "blacklisted": int(listed.sum()),
            "blacklisted_wrongful": int((listed & p.blacklist_wrongful).sum()),
            "sanctions_total": sum(v for k, v in sanc.applied.items() if k in SANCTION_EFFECTS),
            "sanctions_wrongful": sanc.wrongful,
            "sanctions_association": sanc.association,
            "good_job_share": float(good[working].mean()) if working.any() else np.nan,
            "good_job_gap_income": float(good[rich].mean() - good[poor].mean())
            if rich.any() and poor.any() else np.nan,
            "good_job_gap_region": spread(good[working], p.region[working]),
            **settled,
        }
        for effect, count in sanc.applied.items():
            prefix = "sanctions" if effect in SANCTION_EFFECTS else "privileges"
            row[f"{prefix}_{effect}"] = count
        opted_any = np.zeros(p.n, bool)
        for name, sch in sim.schemes.items():
            scored = sch.scored
            opted = sch.state == OPTED_OUT
            opted_any |= opted
            s_scored = sch.s[scored]
            stats = histogram_stats(s_scored, sch.cfg.min_score, sch.cfg.max_score)
            row.update({f"{name}_{k}": v for k, v in stats.items()})
            row[f"{name}_score_assortativity"] = assortativity(net, sch.s, scored,
                                                               sch.scored_friends(net))
            enrolled = sch.state == ENROLLED
            row[f"{name}_enrolled_share"] = float(enrolled.mean())
            row[f"{name}_opted_out"] = int(opted.sum())
            row[f"{name}_shadow_scored"] = int((opted & scored).sum())
            early, late = enrolled & sch.early, enrolled & ~sch.early
            row[f"{name}_early_adopter_advantage"] = (
                float(sch.s[early].mean() - sch.s[late].mean())
                if early.any() and late.any() else np.nan
            )
            row[f"{name}_score_reliability_corr"] = correlation(s_scored,
                                                                p.bill_reliability[scored])
            if sch.tier_names:
                tiers = np.bincount(sch.tier_index(s_scored), minlength=len(sch.tier_names))
                share = tiers / max(s_scored.size, 1)
                for tier, value in zip(sch.tier_names, share, strict=True):
                    row[f"{name}_tier_{tier}"] = float(value)
        row["opted_out"] = int(opted_any.sum())
        per_source = np.bincount(records.source, weights=records.count,
                                 minlength=len(sim.sources.names))
        for name, count in zip(sim.sources.names, per_source, strict=True):
            row[f"records_{name}"] = count
        return row
