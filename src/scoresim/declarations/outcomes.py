"""The outcome table's columns (MODEL.md: Outcomes), declared once with meaning and unit.

The table (:mod:`scoresim.results.outcomes`) is preallocated from these, its rows are
filled by name, the parquet file carries each column's meaning and unit, and the docs'
column reference is generated from here. Per-scenario columns (one per data source, per
sanction effect a rule has, per scheme and per tier) are named after their patterns below.
"""

from __future__ import annotations

from typing import NamedTuple


class OutcomeColumn(NamedTuple):
    name: str
    meaning: str
    unit: str


def _c(name: str, meaning: str, unit: str) -> OutcomeColumn:
    return OutcomeColumn(name, meaning, unit)


#: Columns every scenario has, in table order.
GLOBAL: tuple[OutcomeColumn, ...] = (
    _c("step", "step (day index from start)", "day"),
    _c("phase", "phase index", "index"),
    _c("critical_statements", "critical statements made this step (events, seen or not)",
       "events per day"),
    _c("supportive_statements", "supportive statements made this step", "events per day"),
    _c("expression_gap", "mean |private - expressed opinion| (preference falsification)",
       "opinion units (0-2)"),
    _c("compliant_share", "share whose desired dissent is within the tolerance", "share"),
    _c("self_censoring_share", "share expressing less dissent than they hold", "share"),
    _c("defiant_share", "share expressing all their dissent above the tolerance", "share"),
    _c("decision_changed_share", "share whose decision to self-censor differs from the day "
       "before's", "share"),
    _c("perceived_minus_actual_risk", "mean perceived minus true chance that a critical "
       "statement is recorded, over people who can be recorded (0: announced rules)",
       "probability"),
    _c("critic_degree_ratio", "mean degree of critics / mean degree of the rest", "ratio"),
    _c("isolated_critics", "share of critics with no friends", "share"),
    _c("mean_degree", "mean number of friends", "ties per person"),
    _c("ties_unfriended", "ties dropped because a friend's score dragged", "ties per day"),
    _c("ties_added", "new ties formed", "ties per day"),
    _c("ties_dissolved", "ties ended, for any reason (unfriending included)", "ties per day"),
    _c("ties_over_a_year_share", "share of ties formed more than 365 days before", "share"),
    _c("records", "records attributed this step", "records per day"),
    _c("records_misattributed", "records attributed to the wrong person this step",
       "records per day"),
    _c("blacklisted", "people on the blacklist", "people"),
    _c("blacklisted_wrongful", "people on the blacklist through a misattributed record",
       "people"),
    _c("sanctions_total", "sanctions applied this step, all kinds", "sanctions per day"),
    _c("sanctions_wrongful", "sanctions that only misattributed records caused (the "
       "error-free score, pulled toward friends' error-free scores, clear): the person's "
       "records or their friends'", "sanctions per day"),
    _c("sanctions_association", "sanctions that friends' scores caused (the same scheme's "
       "score without the friends' term, published on the same days, clear)",
       "sanctions per day"),
    _c("opted_out", "people opted out of at least one scheme", "people"),
    _c("good_job_share", "share of working people with a good job", "share"),
    _c("good_job_gap_income", "good-job share of the rich minus the poor income deciles "
       "(output.rich_from_decile, output.poor_to_decile)", "share difference"),
    _c("good_job_gap_region", "good-job share of the best region minus the worst",
       "share difference"),
    _c("good_job_hires", "hires into good jobs this step", "people per day"),
    _c("university_admissions", "students admitted this step", "people per day"),
    _c("good_job_separations", "good jobs ended this step without a sanction (labour "
       "turnover)", "people per day"),
    _c("people_entered", "newcomers this step (each in the slot of someone who left)",
       "people per day"),
    _c("population", "people in the society after the step's demography (people.count, "
       "unless demography.growth_per_year grows or shrinks it)", "people"),
)

#: Per scheme NAME: columns ``NAME_<column>``.
PER_SCHEME: tuple[OutcomeColumn, ...] = (
    _c("score_mean", "mean published score of the scored", "points"),
    _c("score_p10", "10th percentile of published scores", "points"),
    _c("score_p50", "median published score", "points"),
    _c("score_p90", "90th percentile of published scores", "points"),
    _c("score_gini", "Gini coefficient of published scores above the scheme's minimum "
       "(score - min_score; 0: everyone equal)", "index (0-1)"),
    _c("score_assortativity", "correlation of published scores across ties",
       "correlation"),
    _c("enrolled_share", "share of all people enrolled", "share"),
    _c("opted_out", "people opted out", "people"),
    _c("shadow_scored", "opted-out people who still carry a hidden score", "people"),
    _c("early_adopter_advantage", "mean score of early enrollees minus later enrollees",
       "points"),
    _c("score_reliability_corr", "correlation of score with bill reliability (M14)",
       "correlation"),
    _c("default_auc", "M14: how well the published score on a day predicted who defaulted "
       "(a bill or loan) in the output.default_window_days (365) days after it: the area "
       "under the ROC curve (0.5: no better than chance), for the last full window counted "
       "from the start, held until the next; empty in the first", "AUC (0-1)"),
)

#: Columns made per scenario, by pattern: (pattern, meaning, unit).
PATTERNS: tuple[OutcomeColumn, ...] = (
    _c("records_SOURCE", "records attributed by the data source this step",
       "records per day"),
    _c("sanctions_EFFECT", "sanctions of this effect applied this step (for each effect a "
       "sanction rule has)", "sanctions per day"),
    _c("privileges_EFFECT", "privileges of this effect granted this step",
       "privileges per day"),
    _c("SCHEME_tier_TIER", "share of the scheme's scored people in the tier", "share"),
)
