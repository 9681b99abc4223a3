"""Loans decided by a scheme's score, whose repayment and default move that score
(`lending.*`; off unless enabled).

M14 says shopping data predicts who repays; a Sesame score gates loans. Liu, Dean, Rolf,
Simchowitz and Hardt (2018, "Delayed impact of fair machine learning", ICML) give the
standard model of the loop: a lender approves applicants whose score clears a threshold
(per group where it chooses), a borrower repays with a chance that goes with what the
score measures, and repayment raises the score while default lowers it; the mean score
change of a group against its selection rate is their outcome curve. Here:

1. **Applications** (:func:`application_chance`): each day a person without an open loan
   applies with chance ``apply_chance_per_day`` times an income factor (linear from
   ``apply_factor_poorest`` for the poorest decile to ``apply_factor_richest`` for the
   richest) times ``apply_factor_jobless`` for people of working age without a job (need),
   cut at 1.
2. **Approval** (:func:`approve`): where the applicant is scored by the lender's scheme,
   the published score is at least the threshold of the applicant's group
   (``threshold``, ``thresholds``, ``group_by``) and no sanction refuses them loans
   (the ``loan_denied`` effect). The score at approval is kept with the loan.
3. **Repayment** (:func:`repayment_chance`): on the due day (``term_days`` later) the
   borrower repays with chance ``repay_chance_least_reliable`` at bill reliability 0
   rising linearly to ``repay_chance_most_reliable`` at 1: the chance follows the
   person's reliability, and the score only through what it measures of it.
4. **Reports**: the repayment or default is an event of kind ``lender_repayment`` or
   ``lender_default`` of the borrower on the due day; the lender's source
   (``lending.source``) records it like any event (its coverage, linkage and errors) and
   the scheme's rules give it points (Liu et al.: +75 and -150), so the next publication
   of the score carries it.
5. **The lender's books** (:func:`profit`): ``gain_per_repayment`` per repaid loan, minus
   ``loss_per_default`` per default. M14 on loans actually made (:func:`auc_from_counts`):
   the area under the ROC curve of the score at approval for telling repaid loans from
   defaulted ones, over the loans settled since the run's start.

A loan whose borrower leaves the society (their slot goes to a newcomer) is dropped:
neither repaid nor defaulted. The model's own ``loan_default`` kind (defaults at a
hardship rate, M11) and the outcome ``SCHEME_default_auc`` (any unpaid bill or loan
default in a year, whoever lent) are untouched by the lender.

Timing: the lender decides after the day's publication (stage ``friends``) on the score
published today; a loan approved on day ``t`` comes due on day ``t + term_days``, before
that day's records (:class:`LendingReports`, stage ``behaviour``), so its report is scored
and published the same day.

Draws: ``lending.apply`` (one uniform per person without a loan, by person id) and
``lending.repay`` (one per loan due, by person id), each at the day's step: a person's
draws do not depend on who else applies or owes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from scoresim.declarations.categories import NO_JOB, WORKING
from scoresim.declarations.events import KIND_INDEX
from scoresim.declarations.outcomes import OutcomeColumn
from scoresim.model.behaviour import income_share
from scoresim.model.component import OTHER, Array, Component, register
from scoresim.scenario.schema import lending_groups

if TYPE_CHECKING:
    from scoresim.model.day import Day
    from scoresim.scenario.schema import LendingConfig, Scenario

REPAID, DEFAULTED = KIND_INDEX["lender_repayment"], KIND_INDEX["lender_default"]


# ------------------------------------------------------------------ the rules, plainly


def application_chance(income: np.ndarray, jobless: np.ndarray, base: float,
                       poorest: float, richest: float, jobless_factor: float) -> np.ndarray:
    """Each person's chance to apply today: ``base`` times the income factor (``poorest``
    at income share 0 to ``richest`` at 1, linearly) times ``jobless_factor`` where
    ``jobless``, cut at 1."""
    factor = poorest + (richest - poorest) * np.asarray(income, np.float64)
    return np.minimum(base * factor * np.where(jobless, jobless_factor, 1.0), 1.0)


def approve(scores: np.ndarray, scored: np.ndarray, thresholds: np.ndarray,
            refused: np.ndarray) -> np.ndarray:
    """Which applications the lender approves: the applicant is scored, not refused loans
    by a sanction, and their published score is at least their group's threshold
    (``thresholds``, one per applicant)."""
    return scored & ~refused & (np.asarray(scores, np.float64) >= thresholds)


def repayment_chance(reliability: np.ndarray, least: float, most: float) -> np.ndarray:
    """The chance a borrower repays: ``least`` at bill reliability 0, rising linearly to
    ``most`` at 1."""
    return least + (most - least) * np.asarray(reliability, np.float64)


def profit(repaid: int, defaulted: int, gain: float, loss: float) -> float:
    """The lender's profit: ``gain`` per repaid loan, ``loss`` per default."""
    return gain * repaid - loss * defaulted


def auc_from_counts(repaid: np.ndarray, defaulted: np.ndarray) -> float:
    """The area under the ROC curve of a score for telling repaid loans from defaulted
    ones, from the counts of each per score bin in increasing order of score: the chance
    that a random repaid loan's score is above a random defaulted one's, ties (one bin)
    counting half; NaN where either is empty."""
    good, bad = np.asarray(repaid, np.float64), np.asarray(defaulted, np.float64)
    n_good, n_bad = good.sum(), bad.sum()
    if n_good == 0 or n_bad == 0:
        return np.nan
    below = np.cumsum(bad) - bad  # (defaults in lower bins)
    return float((good * (below + 0.5 * bad)).sum() / (n_good * n_bad))


def score_bins(scores: np.ndarray, low: float, n_bins: int) -> np.ndarray:
    """The 1-point bin of each score from the scheme's minimum ``low`` (the AUC's
    resolution: scores within one point count as a tie)."""
    return np.clip(np.floor(np.asarray(scores, np.float64) - low), 0, n_bins - 1).astype(
        np.int64)


def group_means(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """The mean of ``values`` per group (NaN values left out; NaN for an empty group)."""
    ok = ~np.isnan(values)
    total = np.bincount(group[ok], weights=values[ok], minlength=n_groups)
    count = np.bincount(group[ok], minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


# ----------------------------------------------------------------------- the component


def _columns(scenario: Scenario) -> tuple[OutcomeColumn, ...]:
    scheme = scenario.lending.scheme
    return (
        OutcomeColumn("lending_applications", "loan applications today", "per day"),
        OutcomeColumn("lending_approvals", "loans approved today (the applicant's "
                      f"published {scheme} score at least the threshold)", "per day"),
        OutcomeColumn("lending_repayments", "loans repaid on their due day today",
                      "per day"),
        OutcomeColumn("lending_defaults", "loans not repaid on their due day today",
                      "per day"),
        OutcomeColumn("lending_profit", "the lender's profit today (gain_per_repayment per "
                      "repayment minus loss_per_default per default)", "per day"),
        OutcomeColumn("lending_open_loans", "loans approved and not yet due", "loans"),
        OutcomeColumn("lending_auc", "M14 on loans actually made: how well the published "
                      "score at approval told repaid loans from defaulted ones, over the "
                      "loans settled since the start (area under the ROC curve; 0.5: no "
                      "better than chance; empty until both occurred)", "AUC (0-1)"),
        *(OutcomeColumn(f"lending_score_change_{g}", f"mean change of the published "
                        f"{scheme} score since the lender's first day, group {g} (people "
                        "scored then and now)", "points")
          for g in lending_groups(scenario)),
    )


def _nan(component: Component, who: np.ndarray, step: int, key) -> float:
    return np.nan


@register
class Lending(Component):
    """The lender (see the module's docstring): applications and approvals on today's
    published score, the loans open, its books."""

    KEY = "lending"
    STAGE = "friends"  # (after today's publication)
    STATE = (Array("due", newcomer=-1), Array("score_at_approval", newcomer=_nan),
             Array("start_score", newcomer=_nan),
             Array("repaid_by_score", axis=OTHER), Array("defaulted_by_score", axis=OTHER))
    CONSTANTS = ("group_threshold",)

    def __init__(self, sim):
        self.sim = sim
        sc = sim.scenario
        self.cfg: LendingConfig = sc.lending
        self.scheme = sim.schemes[self.cfg.scheme]
        self.OUTPUTS = _columns(sc)
        self.groups = lending_groups(sc)
        self.group_threshold = np.array([self.cfg.thresholds.get(g, self.cfg.threshold)
                                         for g in self.groups], np.float64)
        n = sim.people.n
        self.due = np.full(n, -1, np.int32)  # the due day of the open loan; -1: none
        self.score_at_approval = np.full(n, np.nan, np.float32)
        self.start_score = np.full(n, np.nan, np.float32)
        lo, hi = self.scheme.cfg.min_score, self.scheme.cfg.max_score
        self.low = lo
        n_bins = int(np.ceil(hi - lo)) + 1
        self.repaid_by_score = np.zeros(n_bins, np.int64)
        self.defaulted_by_score = np.zeros(n_bins, np.int64)
        self.started = False
        self.settled = {"repaid": 0, "defaulted": 0}  # today's (LendingReports)

    @classmethod
    def wanted(cls, scenario: Scenario) -> bool:
        return scenario.lending.enabled and scenario.lending.scheme in scenario.schemes

    def values(self) -> dict[str, Any]:
        return {"started": self.started}

    def set_values(self, values: dict[str, Any]) -> None:
        self.started = bool(values.get("started", self.started))

    def group(self, who: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Each person's group (:attr:`LendingConfig.group_by`), as a code."""
        people, by = self.sim.people, self.cfg.group_by
        if by == "region":
            return people.region[who].astype(np.int64)
        if by == "income_decile":
            return people.income_decile[who].astype(np.int64)
        return np.zeros(people.region[who].shape[0], np.int64)

    def step(self, day: Day) -> None:
        sim, cfg, scheme, people = self.sim, self.cfg, self.scheme, self.sim.people
        s, scored = scheme.s, scheme.scored
        if not self.started:
            self.start_score = np.where(scored, s, np.float32(np.nan)).astype(np.float32)
            self.started = True
        free = np.flatnonzero(self.due < 0)
        jobless = (people.age_band[free] == WORKING) & (people.job[free] == NO_JOB)
        chance = application_chance(income_share(people)[free], jobless,
                                    cfg.apply_chance_per_day, cfg.apply_factor_poorest,
                                    cfg.apply_factor_richest, cfg.apply_factor_jobless)
        u = sim.streams.uniform_for("lending.apply", day.t, people.person_id[free])
        applicants = free[u < chance]
        refused = sim.sanctions.loan_refused_until[applicants] >= day.t
        ok = approve(s[applicants], scored[applicants],
                     self.group_threshold[self.group(applicants)], refused)
        borrowers = applicants[ok]
        self.due[borrowers] = day.t + cfg.term_days
        self.score_at_approval[borrowers] = s[borrowers]
        change = np.where(scored, s - self.start_score, np.nan)
        means = group_means(change, self.group(), len(self.groups))
        repaid, defaulted = self.settled["repaid"], self.settled["defaulted"]
        day.outputs.update({
            "lending_applications": applicants.size, "lending_approvals": borrowers.size,
            "lending_repayments": repaid, "lending_defaults": defaulted,
            "lending_profit": profit(repaid, defaulted, cfg.gain_per_repayment,
                                     cfg.loss_per_default),
            "lending_open_loans": int(np.count_nonzero(self.due >= 0)),
            "lending_auc": auc_from_counts(self.repaid_by_score, self.defaulted_by_score),
            **{f"lending_score_change_{g}": float(m)
               for g, m in zip(self.groups, means, strict=True)}})
        self.settled = {"repaid": 0, "defaulted": 0}

    def settle(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """The loans due on day ``t``: who repays and who defaults (each borrower's
        uniform of ``lending.repay`` against :func:`repayment_chance`); their scores at
        approval enter the books (the AUC's counts); the loans close."""
        cfg, people = self.cfg, self.sim.people
        who = np.flatnonzero(self.due == t)
        if not who.size:
            return who, who
        p = repayment_chance(people.bill_reliability[who], cfg.repay_chance_least_reliable,
                             cfg.repay_chance_most_reliable)
        repays = self.sim.streams.uniform_for("lending.repay", t, people.person_id[who]) < p
        bins = score_bins(self.score_at_approval[who], self.low, self.repaid_by_score.size)
        self.repaid_by_score += np.bincount(bins[repays], minlength=self.repaid_by_score.size)
        self.defaulted_by_score += np.bincount(bins[~repays],
                                               minlength=self.defaulted_by_score.size)
        self.due[who] = -1
        self.score_at_approval[who] = np.nan
        self.settled = {"repaid": int(repays.sum()), "defaulted": int((~repays).sum())}
        return who[repays], who[~repays]


@register
class LendingReports(Component):
    """The lender's reports: the loans due today are settled (:meth:`Lending.settle`) and
    become the day's events of kind ``lender_repayment`` and ``lender_default``, before the
    sources record the day's events."""

    KEY = "lending_reports"
    STAGE = "behaviour"
    OUTPUTS = ()  # (its counts are the lender's columns)

    def __init__(self, sim):
        self.sim = sim

    @classmethod
    def wanted(cls, scenario: Scenario) -> bool:
        return Lending.wanted(scenario)

    def step(self, day: Day) -> None:
        lender = next(c for c in self.sim.added if isinstance(c, Lending))
        repaid, defaulted = lender.settle(day.t)
        events = day.events
        for kind, who in ((REPAID, repaid), (DEFAULTED, defaulted)):
            events.who[kind] = who.astype(np.int32)
            events.count[kind] = np.ones(who.size, np.int32)
