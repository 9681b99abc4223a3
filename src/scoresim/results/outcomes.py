"""Outcomes: one row per step, columns declared up front (MODEL.md: Outcomes).

Score quantiles and the Gini coefficient are computed from a one-point-wide histogram over
the scheme's range (exact to one point, O(n) per step instead of a sort). The Gini is that of
the score above the scheme's minimum (``s - min_score``): on raw scores it would mostly
measure how far the range starts from zero (a scheme starting everyone at 1000 of 350-1200
would read near 0 whatever the spread).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pyarrow as pa

from scoresim.declarations import outcomes as declared
from scoresim.declarations.categories import WORKING
from scoresim.declarations.events import KIND_INDEX
from scoresim.declarations.sanctions import PRIVILEGE_EFFECTS, SANCTION_EFFECTS
from scoresim.engine.kernels.outcomes import (  # the compiled kernels
    _centred,
    _cross,
    _people_summary,
    _scheme_counts,
    _scheme_sums,
    _totals_by,
    _weighted_sums,
)
from scoresim.engine.threads import map_threads
from scoresim.model.component import OTHER, Array, Component, like
from scoresim.scenario.schema import Scenario

if TYPE_CHECKING:
    from scoresim.model.behaviour import Events
    from scoresim.model.network import Network
    from scoresim.model.sanctions import SanctionStep
    from scoresim.model.scoring import Scheme
    from scoresim.model.sources import Records
    from scoresim.sim import Sim

GLOBAL_COLUMNS = {c.name: c.meaning for c in declared.GLOBAL}
SCHEME_COLUMNS = {c.name: c.meaning for c in declared.PER_SCHEME}


def declared_columns(scenario: Scenario) -> dict[str, declared.OutcomeColumn]:
    """Every outcome column of this scenario, in table order, from the declarations
    (:mod:`scoresim.declarations.outcomes`) and the scenario's sources, effects, schemes
    and tiers."""
    cols = {c.name: c for c in declared.GLOBAL}
    pattern = {c.name: c for c in declared.PATTERNS}

    def add(name: str, like: str, meaning: str) -> None:
        cols[name] = declared.OutcomeColumn(name, meaning, pattern[like].unit)

    for source in scenario.sources:
        add(f"records_{source}", "records_SOURCE",
            f"records attributed by source {source} this step")
    effects = {cfg.effect for cfg in scenario.sanctions.values()}
    for effect in SANCTION_EFFECTS:
        if effect in effects:
            add(f"sanctions_{effect}", "sanctions_EFFECT", f"{effect} sanctions applied this step")
    for effect in PRIVILEGE_EFFECTS:
        if effect in effects:
            add(f"privileges_{effect}", "privileges_EFFECT",
                f"{effect} privileges granted this step")
    for name, scheme in scenario.schemes.items():
        for c in declared.PER_SCHEME:
            cols[f"{name}_{c.name}"] = declared.OutcomeColumn(
                f"{name}_{c.name}", f"{scheme.label or name}: {c.meaning}", c.unit)
        for tier in scheme.tier_names_low_to_high():
            add(f"{name}_tier_{tier}", "SCHEME_tier_TIER",
                f"{name}: share of the scored in tier {tier}")
    return cols


def columns_for(scenario: Scenario) -> dict[str, str]:
    """Every outcome column of this scenario, with its meaning."""
    return {name: c.meaning for name, c in declared_columns(scenario).items()}


class OutcomeTable(Component):
    """Preallocated columns, one row per step; its state is the rows so far."""

    KEY = "outcomes"
    STATE = (Array("data", axis=OTHER, mapping=True),)  # (the rows so far: :meth:`collect`)

    def __init__(self, scenario: Scenario, n_steps: int,
                 extra: tuple[declared.OutcomeColumn, ...] = ()):
        self.columns = declared_columns(scenario)
        for c in extra:  # (the columns of components added to the day)
            if c.name in self.columns:
                raise ValueError(f"outcome column {c.name!r} is declared twice")
            self.columns[c.name] = c
        self.filled = 0  # rows filled so far
        self.meaning = {name: c.meaning for name, c in self.columns.items()}
        self.data = {c: np.full(n_steps, np.nan) for c in self.meaning}
        self.dates = [scenario.start.fromordinal(scenario.start.toordinal() + i)
                      for i in range(n_steps)]

    def put(self, step: int, values: dict[str, float]) -> None:
        """Fill one row by name: exactly the declared columns (a missing or unknown name is
        an error, so no column is silently left empty)."""
        if values.keys() != self.data.keys():
            missing, extra = self.data.keys() - values.keys(), values.keys() - self.data.keys()
            raise KeyError(f"outcome row: missing {sorted(missing)}, undeclared {sorted(extra)}")
        for key, value in values.items():
            self.data[key][step] = value
        self.filled = max(self.filled, step + 1)

    def collect(self) -> dict:
        """The rows so far, one array per column (per day: kept as they are at a resize)."""
        spec = self.STATE[0]
        return {f"data.{col}": (values[:self.filled], spec)
                for col, values in self.data.items()}

    def restore(self, saved: dict[str, np.ndarray]) -> None:
        for col, values in self.data.items():
            if f"data.{col}" in saved:  # (a column new at a fork: NaN so far)
                x = saved[f"data.{col}"]
                values[:x.shape[0]] = like(f"outcomes.{col}", x, values[:x.shape[0]])
                self.filled = max(self.filled, x.shape[0])

    def to_arrow(self) -> pa.Table:
        cols = {"date": pa.array(self.dates, pa.date32())}
        for name, values in self.data.items():
            if name in ("step", "phase"):
                cols[name] = pa.array(values.astype(np.int32))
            else:
                cols[name] = pa.array(values)
        meta = {f"col:{k}": v for k, v in self.meaning.items()}
        meta.update({f"unit:{k}": c.unit for k, c in self.columns.items()})
        return pa.table(cols).replace_schema_metadata(meta)


# ------------------------------------------------------------------------ statistics


def histogram_stats(scores: np.ndarray, lo: float, hi: float) -> dict[str, float]:
    """Mean, p10/p50/p90 of scores in [lo, hi] and the Gini of ``scores - lo`` (the score
    above the minimum), from 1-point bins."""
    nbins = max(int(np.ceil(hi - lo)) + 1, 1)
    idx = np.clip((scores - lo).astype(np.int64), 0, nbins - 1)
    counts = np.bincount(idx, minlength=nbins)
    return stats_from_histogram(counts, lo, hi, float(scores.sum(dtype=np.float64)))


def stats_from_histogram(counts: np.ndarray, lo: float, hi: float,
                         score_sum: float) -> dict[str, float]:
    """:func:`histogram_stats` from the bin counts and the exact sum of the scores."""
    counts = counts.astype(np.float64)
    cum = np.cumsum(counts)
    total = cum[-1] if cum.size else 0.0
    if total == 0:
        return {k: np.nan for k in ("score_mean", "score_p10", "score_p50", "score_p90",
                                    "score_gini")}
    values = lo + np.arange(counts.size) + 0.5
    values[-1] = min(values[-1], hi)
    q = {f"score_p{p}": float(values[np.searchsorted(cum, total * p / 100.0)])
         for p in (10, 50, 90)}
    wealth = counts * (values - lo)  # (the Gini of the score above the minimum)
    cum_w = np.cumsum(wealth)
    sw = cum_w[-1]
    gini = np.nan
    if sw > 0:
        prev = np.concatenate([[0.0], cum_w[:-1]])
        gini = float(1.0 - np.sum(counts * (prev + cum_w)) / (total * sw))
    return {"score_mean": score_sum / total, **q, "score_gini": gini}


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
                  friends: np.ndarray | None = None, centre: float | None = None) -> float:
    """Pearson correlation of scores across ties between scored people (both directions),
    from one neighbour sum instead of gathering every tie's two ends. ``friends``: each
    person's number of scored friends, if known; ``centre``: a value near the mean scored
    score, if known (it only keeps the sums well conditioned)."""
    if friends is None:
        friends = network.neighbour_sum(scored.astype(np.float32))
    if centre is None:
        centre = float(score[scored].mean()) if scored.any() else 0.0
    centre = np.float32(centre)
    moments = _weighted_sums(score, centre, scored, friends)
    sums = network.neighbour_sum(_centred(score, scored, centre))
    return _assortativity(moments, _cross(score, centre, scored, sums)
                          + float(centre) * moments[1], centre)


FLOAT32_EPS = 2.0**-24
# Above this estimate of its error the assortativity is not taken from the publishing pass.
ASSORTATIVITY_TOLERANCE = 1e-6


def _assortativity(moments: tuple[float, ...], cross: float, centre) -> float:
    """From the sums over scored people i, with x = score - centre and f = scored friends:
    pairs = sum f, sx = sum x f, sxx = sum x^2 f, and cross = sum x * (friends' scores)."""
    pairs, sx, sxx = moments[:3]
    if pairs < 3:
        return np.nan
    mean = sx / pairs
    var = sxx / pairs - mean * mean
    if var <= 1e-12:
        return np.nan
    sxn = cross - float(centre) * sx  # sum x * (friends' x)
    return float((sxn / pairs - mean * mean) / var)


class PeopleSums(NamedTuple):
    """What one pass over people sums for a row (:func:`_people_summary`)."""

    gap: float
    censoring: int
    working: int
    good: int
    rich: int
    rich_good: int
    poor: int
    poor_good: int
    region_working: np.ndarray
    region_good: np.ndarray
    listed: int
    listed_wrongful: int


class SchemeCounts(NamedTuple):
    """One scheme's whole-number counts (:func:`_scheme_counts`)."""

    histogram: np.ndarray
    tiers: np.ndarray
    scored: int
    enrolled: int
    opted_out: int
    shadow: int
    early: int
    late: int


class SchemeSums(NamedTuple):
    """One scheme's float sums in person order (:func:`_scheme_sums`)."""

    score: float
    early_score: float
    late_score: float
    reliability_corr: float
    moments: tuple[float, float, float, float]


def safe_ratio(a: float, b: float) -> float:
    return float(a / b) if b else np.nan


@dataclass
class _PendingAssortativity:
    """A step's score assortativity, to be finished from the next publishing pass."""

    step: int
    scores: np.ndarray
    scored: np.ndarray
    centre: np.float32
    moments: tuple[float, float, float, float]
    network_version: int


def default_auc(scores: np.ndarray, defaulted: np.ndarray) -> float:
    """The area under the ROC curve of ``scores`` (NaN: not scored, left out) for telling
    who did not default from who did: the chance that a random non-defaulter scores
    higher than a random defaulter (ties count half). NaN if either group is empty."""
    from scipy.stats import rankdata

    ok = ~np.isnan(scores)
    x, bad = scores[ok].astype(np.float64), defaulted[ok]
    n_bad = int(bad.sum())
    n_good = x.size - n_bad
    if n_bad == 0 or n_good == 0:
        return np.nan
    ranks = rankdata(x)
    return float((ranks[~bad].sum() - n_good * (n_good + 1) / 2) / (n_good * n_bad))


def _not_scored(obs: Observer, who: np.ndarray, step: int, key) -> float:
    return np.nan


class Observer(Component):
    """Computes one outcome row per step; caches what does not change (who is a critic,
    the degree statistics between rewirings). Its state: the window of default
    prediction under way (M14), and a score assortativity the next step finishes."""

    KEY = "observer"
    STATE = (Array("defaulted", newcomer=False),
             Array("year_scores", mapping=True, newcomer=_not_scored))
    CACHES = ("critics", "working", "desired", "above_tolerance", "_degree")
    STORES = ("_pending",)  # (collected by :meth:`collect`, put back by :meth:`load`)

    def __init__(self, sim: Sim):
        self.sim = sim
        self._degree: dict[str, float] = {}
        self._pending: dict[str, _PendingAssortativity] = {}
        self._tolerance = np.nan  # (the tolerance the caches were made for)
        self.refresh()
        # M14: each scheme's scores at the start of the current year (NaN: not scored),
        # who defaulted since, and the AUC of the last full year
        sc, n = sim.scenario, sim.people.n
        self.year_start = -1
        self.window_days = sc.output.default_window_days
        self.year_scores: dict[str, np.ndarray] = {}
        self.defaulted = np.zeros(n, bool)
        self.default_auc: dict[str, float] = {name: np.nan for name in sim.schemes}

    def after_newcomers(self, who: np.ndarray, step: int) -> None:
        """Newcomers are not scored at the window's start and have no default yet (M14,
        the declared values); the caches of their slots are made again."""
        self.refresh(who)

    def values(self) -> dict:
        return {"year_start": int(self.year_start),
                "default_auc": {k: float(x) for k, x in self.default_auc.items()},
                "pending": {name: {"step": p.step, "centre": float(p.centre),
                                   "moments": list(p.moments),
                                   "network_version": p.network_version,
                                   "scores_are_published": p.scores is self.sim.schemes[
                                       name].s}
                            for name, p in self._pending.items()}}

    def collect(self) -> dict:
        out = super().collect()
        spec = Array("pending", mapping=True)  # (per person, while pending)
        for name, p in self._pending.items():
            out[f"pending.{name}.scores"] = (p.scores, spec)
            out[f"pending.{name}.scored"] = (p.scored, spec)
        return out

    def load(self, arrays: dict[str, np.ndarray], values: dict) -> None:
        """The window under way (a scheme new at a fork starts its window today) and a
        pending assortativity; then the caches of the restored people."""
        schemes = self.sim.schemes
        a = {k[len("observer."):]: x for k, x in arrays.items() if k.startswith("observer.")}
        v = {k[len("observer."):]: x for k, x in values.items() if k.startswith("observer.")}
        if "defaulted" in a:
            self.defaulted = like("observer.defaulted", a["defaulted"], self.defaulted)
        self.year_start = int(v.get("year_start", -1))
        self.default_auc.update({k: x for k, x in v.get("default_auc", {}).items()
                                 if k in self.default_auc})
        prefix = "year_scores."
        self.year_scores = {k[len(prefix):]: x for k, x in a.items()
                            if k.startswith(prefix) and k[len(prefix):] in schemes}
        for name in schemes:  # (a scheme new at a fork: its year from today)
            if self.year_start >= 0 and name not in self.year_scores:
                self.year_scores[name] = np.full(self.sim.people.n, np.nan, np.float32)
        self._pending = {}
        for name, p in v.get("pending", {}).items():
            if name not in schemes:
                continue
            scores = (schemes[name].s if p["scores_are_published"]
                      else a[f"pending.{name}.scores"])
            self._pending[name] = _PendingAssortativity(
                p["step"], scores, a[f"pending.{name}.scored"], np.float32(p["centre"]),
                tuple(p["moments"]), p["network_version"])
        self.refresh()  # (who is working or a critic: the restored people's)

    def refresh(self, who: np.ndarray | None = None) -> None:
        """Make the caches of who is a critic, working or compliant again (after people
        entered or changed stage, :mod:`scoresim.model.demography`): for the slots ``who``
        only, or for everyone (None)."""
        p, sc = self.sim.people, self.sim.scenario
        tolerance = self.sim.adaptation.tolerance  # (an authority may move it)
        if (who is None or getattr(self, "critics", None) is None or self.critics.size != p.n
                or tolerance != self._tolerance):
            self._tolerance = tolerance
            self.critics = p.private_opinion < sc.people.critic_below
            self.working = p.age_band == WORKING
            d = p.desired_dissent
            self.desired = d
            self.above_tolerance = d > tolerance
            self._compliant = int(np.count_nonzero(~self.above_tolerance))
        else:  # (the same values, made for the changed slots alone)
            self.working[who] = p.age_band[who] == WORKING
            critics = p.private_opinion[who] < sc.people.critic_below
            d = np.maximum(-p.private_opinion[who], 0.0)
            if (np.array_equal(critics, self.critics[who])
                    and np.array_equal(d, self.desired[who])):
                return  # (a change of stage alone: the degree statistics stand)
            self.critics[who] = critics
            self.desired[who] = d
            self._compliant -= int(np.count_nonzero(~self.above_tolerance[who]))
            self.above_tolerance[who] = d > tolerance
            self._compliant += int(np.count_nonzero(~self.above_tolerance[who]))
        self.compliant_share = float(self._compliant) / p.n
        self._degree_version = -1
        self._degree_stats()  # (again whenever ties change)

    def _default_prediction(self, t: int, events: Events) -> None:
        """M14: after a window (``output.default_window_days``, a year by default) of
        defaults, the AUC of each scheme's scores from the window's first day for them
        (:func:`default_auc`); then a new window starts from today's scores."""
        sim = self.sim
        if self.year_start >= 0:
            for kind in ("bill_default", "loan_default"):
                self.defaulted[events.who[KIND_INDEX[kind]]] = True
        if self.year_start < 0 or t - self.year_start >= self.window_days:
            if self.year_start >= 0:
                for name, scores in self.year_scores.items():
                    self.default_auc[name] = default_auc(scores, self.defaulted)
            self.year_start = t
            self.year_scores = {name: np.where(sch.scored, sch.s, np.float32(np.nan))
                                for name, sch in sim.schemes.items()}
            self.defaulted[:] = False

    # The score assortativity of a step needs the sum of friends' scores, which the next
    # step's publishing pass computes anyway (for everyone scored then): the column is
    # finished one step later from that pass (corrected for who enrolled or left in
    # between), or by :meth:`finish` at the end of the run. One neighbour sum per scheme
    # and step instead of two.

    def _score_assortativity(self, t: int, sch, centre: np.float32,
                             moments: tuple[float, float, float, float]) -> float:
        """``moments``: :func:`_weighted_sums` about ``centre`` (from the scheme's
        summary pass)."""
        net = self.sim.network
        scored = sch.scored
        if sch.cfg.friend_weight == 0.0 or net.n_edges == 0:  # no publishing pass to share
            return assortativity(net, sch.s, scored, sch.scored_friends(net), centre)
        pairs, sx, sxx, top = moments
        var_sum = sxx - sx * sx / pairs if pairs > 0 else 0.0  # pairs x variance
        # Rounding in float32 sums of raw scores moves the cross term by about
        # eps * top * sqrt(sum x^2 f) (errors of random sign); ten times that must stay
        # below the tolerance, relative to the covariance's scale.
        error = 10.0 * FLOAT32_EPS * top * np.sqrt(max(sxx, 0.0))
        if var_sum <= 0 or error > ASSORTATIVITY_TOLERANCE * var_sum:
            # Scores too alike for float32 sums of raw scores: centred sums, now.
            return assortativity(net, sch.s, scored, sch.scored_friends(net), centre)
        self._pending[sch.name] = _PendingAssortativity(t, sch.s, scored, centre, moments,
                                                        net.version)
        return np.nan

    def finish_pending(self, final: bool = False) -> None:
        """Finish the previous step's assortativity (right after publishing, before ties
        change)."""
        net = self.sim.network
        # The schemes side by side: each writes only its own column.
        map_threads(lambda item: self._finish_one(*item, net, final),
                    list(self._pending.items()), self.sim.people.n)
        self._pending.clear()

    def _finish_one(self, name: str, p: _PendingAssortativity, net: Network,
                    final: bool) -> None:
        sch = self.sim.schemes[name]
        fs = sch.friend_sums
        if (not final and fs is not None and fs.scores is p.scores
                and fs.network_version == p.network_version == net.version):
            sums = fs.sums.copy()
            changed = np.flatnonzero(fs.scored != p.scored)
            if changed.size:  # friends' scores as they were counted at step p.step
                back = (p.scored[changed].astype(np.float32)
                        - fs.scored[changed].astype(np.float32)) * p.scores[changed]
                net.add_to_friends(sums, changed, back)
            value = _assortativity(p.moments, _cross(p.scores, p.centre, p.scored, sums),
                                   p.centre)
        else:
            value = assortativity(net, p.scores, p.scored, self._scored_friends(sch, p, net),
                                  p.centre)
        self.sim.outcomes.data[f"{name}_score_assortativity"][p.step] = value

    @staticmethod
    def _scored_friends(sch, p: _PendingAssortativity, net: Network) -> np.ndarray | None:
        """Each person's number of friends scored on step ``p.step``: the scheme's count
        kept up to date (:meth:`Enrolment.scored_friends`), less those who enrolled since
        and plus those who left (whole numbers: the same as counting again); None where
        the ties changed or too many people did (counted again over every tie)."""
        if p.network_version != net.version:
            return None
        now = sch.scored
        changed = np.flatnonzero(now != p.scored)
        if changed.size > net.n // 16:
            return None
        friends = sch.scored_friends(net).copy()
        if changed.size:
            back = (p.scored[changed].astype(np.float32)
                    - now[changed].astype(np.float32))
            net.add_to_friends(friends, changed, back)
        return friends

    def finish(self) -> None:
        """Finish what the last step left open (call once the run is over)."""
        self.finish_pending(final=True)

    def _old_ties_share(self, t: int) -> float:
        """Share of ties older than a year on step ``t``."""
        net = self.sim.network
        if net.n_edges == 0:
            return np.nan
        return float(np.count_nonzero(net.ages(t) > 365)) / net.n_edges

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

    def _summary_passes(self, sch: Scheme) -> tuple[Callable[[], tuple], Callable[[], tuple]]:
        """The scheme's two summary passes over its scores as they are now: the counts
        (who opted out; histogram, score statistics, tiers, enrolment) and the float sums
        (in person order, with the friend counts of the network as it is now)."""
        sim = self.sim
        lo, hi = sch.cfg.min_score, sch.cfg.max_score
        nbins = max(int(np.ceil(hi - lo)) + 1, 1)
        tier_mins = sch.tier_mins if sch.tier_names else np.zeros(1, np.float32)
        s, state, shadow, early = sch.s, sch.state, bool(sch.cfg.shadow_score), sch.early
        reliability, friends = sim.people.bill_reliability, sch.scored_friends(sim.network)

        def counts() -> tuple[np.ndarray, tuple, dict[str, float]]:
            opted = np.zeros(sim.people.n, bool)
            c = SchemeCounts(*_scheme_counts(s, state, shadow, early, np.float32(lo), nbins,
                                             tier_mins, opted))
            return opted, c, stats_from_histogram(c.histogram, lo, hi, 0.0)  # (mean: sums)

        return counts, lambda: SchemeSums(*_scheme_sums(s, state, shadow, early, reliability,
                                                        friends))

    def row(self, t: int, phase_idx: int, events: Events, records: Records,
            sanc: SanctionStep, settled: dict[str, int], ties: dict[str, int]) -> dict:
        """The step's outcome row: one compiled pass over people, one per scheme."""
        sim = self.sim
        if sim.adaptation.tolerance != self._tolerance:  # (moved by an authority)
            self.refresh()
        p = sim.people
        n = p.n
        n_regions = len(sim.scenario.people.regions)
        schemes = list(sim.schemes.values())
        fresh = {sch.name: self._summary_passes(sch) for sch in schemes}

        def people_sums() -> PeopleSums:
            return PeopleSums(*_people_summary(
                p.private_opinion, p.expressed_opinion, self.above_tolerance,
                np.asarray(sim.adaptation.expressed_dissent), self.desired, p.job, self.working,
                p.income_decile, sim.scenario.output.rich_from_decile,
                sim.scenario.output.poor_to_decile, p.region, n_regions, p.blacklisted_until,
                p.blacklist_wrongful, t))

        # The passes are independent: side by side.
        sums = map_threads(lambda job: job(), [people_sums] + [
            job for name in fresh for job in fresh[name]], n)
        made = iter(sums[1:])
        passes = {name: (next(made), next(made)) for name in fresh}
        ps: PeopleSums = sums[0]
        censoring_share = ps.censoring / n
        has = ps.region_working > 0
        region_means = ps.region_good[has] / ps.region_working[has]
        row = {
            "step": t,
            "phase": phase_idx,
            "critical_statements": events.total("critical_statement"),
            "supportive_statements": events.total("supportive_statement"),
            "expression_gap": ps.gap / n,
            "compliant_share": self.compliant_share,
            "self_censoring_share": censoring_share,
            "defiant_share": 1.0 - self.compliant_share - censoring_share,
            "decision_changed_share": sim.adaptation.changed_share,
            "perceived_minus_actual_risk": sim.adaptation.risk_gap,
            **self._degree_stats(),
            "ties_unfriended": ties["ties_unfriended"],
            "ties_added": ties["ties_added"],
            "ties_dissolved": ties["ties_removed"],
            "ties_over_a_year_share": self._old_ties_share(t),
            "records": records.total,
            "records_misattributed": records.total_misattributed,
            "blacklisted": ps.listed,
            "blacklisted_wrongful": ps.listed_wrongful,
            "sanctions_total": sum(v for k, v in sanc.applied.items() if k in SANCTION_EFFECTS),
            "sanctions_wrongful": sanc.wrongful,
            "sanctions_association": sanc.association,
            "good_job_share": ps.good / ps.working if ps.working else np.nan,
            "good_job_gap_income": ps.rich_good / ps.rich - ps.poor_good / ps.poor
            if ps.rich and ps.poor else np.nan,
            "good_job_gap_region": float(region_means.max() - region_means.min())
            if region_means.size else np.nan,
            **settled,
        }
        for effect, count in sanc.applied.items():
            prefix = "sanctions" if effect in SANCTION_EFFECTS else "privileges"
            row[f"{prefix}_{effect}"] = count
        opted_any = np.zeros(n, bool)
        jobs = []
        for sch in schemes:
            (_, counts, _), sums_ = passes[sch.name]
            centre = sums_.score / counts.scored if counts.scored else 0.0
            jobs.append((sch, np.float32(centre), sums_.moments))
        assortativity_now = dict(zip([sch.name for sch in schemes], map_threads(
            lambda job: self._score_assortativity(t, *job), jobs, n), strict=True))
        self._default_prediction(t, events)
        for sch in schemes:
            name = sch.name
            row[f"{name}_default_auc"] = self.default_auc[name]
            (opted, c, stats), s = passes[name]
            opted_any |= opted
            stats["score_mean"] = s.score / c.scored if c.scored else np.nan
            row.update({f"{name}_{k}": v for k, v in stats.items()})
            row[f"{name}_score_assortativity"] = assortativity_now[name]
            row[f"{name}_enrolled_share"] = c.enrolled / n
            row[f"{name}_opted_out"] = c.opted_out
            row[f"{name}_shadow_scored"] = c.shadow
            row[f"{name}_early_adopter_advantage"] = (
                s.early_score / c.early - s.late_score / c.late if c.early and c.late
                else np.nan)
            row[f"{name}_score_reliability_corr"] = s.reliability_corr
            if sch.tier_names:
                share = c.tiers / max(c.scored, 1)
                for tier, value in zip(sch.tier_names, share, strict=True):
                    row[f"{name}_tier_{tier}"] = float(value)
        row["opted_out"] = np.count_nonzero(opted_any)
        per_source = _totals_by(records.source, records.count, len(sim.sources.names))
        for name, count in zip(sim.sources.names, per_source, strict=True):
            row[f"records_{name}"] = count
        return row


