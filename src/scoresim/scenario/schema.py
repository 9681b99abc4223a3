"""Scenario: the declared, validated description of one simulated society and its regime.

Every parameter is declared once here, with type, unit (in the name) and bounds; unknown
keys are refused. Cross-references (a rule's source, a sanction's scheme, a region name,
a phase name) are checked before a run starts. Loading (files, presets, ``extends``) lives
in :mod:`scoresim.scenario.loading`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from scoresim.declarations import contexts as _ctx
from scoresim.declarations.events import EVENT_KINDS, KIND_NAMES
from scoresim.declarations.sanctions import (
    FACTOR_EFFECTS,
    ONGOING_EFFECTS,
    PRIVILEGE_EFFECTS,
    SANCTION_EFFECTS,
)
from scoresim.scenario import conditions

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Rate = Annotated[float, Field(ge=0.0)]
PositiveInt = Annotated[int, Field(ge=1)]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
#: Scores and points: bounded so that they stay exact in the engine's float32 arrays.
Points = Annotated[float, Field(ge=-1e6, le=1e6)]
PointsRate = Annotated[float, Field(ge=0.0, le=1e6)]

MonthDay = Annotated[str, Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
EventKindName = Literal[KIND_NAMES]  # type: ignore[valid-type]


def _valid_condition(text: str | None) -> str | None:
    """A `when` condition must parse (names are checked against the scenario later)."""
    if text is not None:
        conditions.parse(text)
    return text


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False,
                              use_attribute_docstrings=True)


# --------------------------------------------------------------------------------- people


class AgeShares(Strict):
    student: Share = 0.10
    """Share of people who are students (university applicants)."""
    working: Share = 0.65
    """Share of working age (job holders, job seekers)."""
    retired: Share = 0.25
    """Share of retired people."""

    @model_validator(mode="after")
    def _sum_to_one(self) -> AgeShares:
        total = self.student + self.working + self.retired
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"age shares must add up to 1, they add up to {total:g}")
        return self


class ThresholdConfig(Strict):
    """Thresholds of the threshold rule (``adaptation.self_censorship = "threshold"``,
    after Granovetter 1978): the share of a person's friends who must have voiced dissent
    the day before for them to voice theirs."""

    distribution: Literal["risk_aversion", "uniform", "normal", "list", "file"] = (
        "risk_aversion")
    """risk_aversion (each person's own risk aversion, Beta(2, 2)), uniform (between
    `low` and `high`), normal (`mean`, `sd`, clipped to [0, 1]), list (`values`, one per
    person, in person order) or file (`file`: one value per line, one per person)."""
    low: Share = 0.0
    """uniform: the lowest threshold."""
    high: Share = 1.0
    """uniform: the highest threshold."""
    mean: Share = 0.25
    """normal: the mean threshold."""
    sd: Annotated[float, Field(ge=0, le=10)] = 0.1
    """normal: the standard deviation of the thresholds."""
    values: list[Share] = Field(default_factory=list)
    """list: the thresholds, one per person (as many as `people.count`)."""
    file: str | None = None
    """file: a text file (relative to the scenario file) of thresholds in [0, 1], one per
    line, one per person."""

    @model_validator(mode="after")
    def _source_given(self) -> ThresholdConfig:
        if self.distribution == "list" and not self.values:
            raise ValueError("values: the list distribution needs the thresholds")
        if self.distribution == "file" and not self.file:
            raise ValueError("file: the file distribution needs a file of thresholds")
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) must not exceed high ({self.high:g})")
        return self


class PeopleConfig(Strict):
    """Who lives in the synthetic society (MODEL.md: People)."""

    count: Annotated[int, Field(ge=1, le=2**31 - 1)] = 20_000
    """Number of people in the synthetic society."""
    regions: dict[Name, Share] = Field(default_factory=lambda: {"other": 1.0})
    """Region names and their population shares (adding up to 1); rules and sanctions can be
    regional (M3)."""
    age_shares: AgeShares = Field(default_factory=AgeShares)
    """Shares of the age bands, used only where `demography.enabled` is false (otherwise
    the stages follow from ages drawn from the steady state of `demography`)."""
    opinion_beta_a: Annotated[float, Field(gt=0)] = 3.0
    """Private opinion is 2*Beta(a, b) - 1 in [-1, 1]: parameter a (higher: more loyal)."""
    opinion_beta_b: Annotated[float, Field(gt=0)] = 2.0
    """Parameter b of the opinion distribution (higher: more critical)."""
    critic_below: Annotated[float, Field(ge=-1.0, le=1.0)] = -0.2
    """People whose private opinion is below this count as critics in the outcomes."""
    boldness_mean: Annotated[float, Field(gt=0)] = 0.5
    """Mean boldness beta of the strategic dissent rule; boldness falls with risk aversion."""
    boldness_distribution: Literal["risk_aversion", "exponential"] = "risk_aversion"
    """risk_aversion: boldness falls linearly with risk aversion, `boldness_mean * 2 * (1 -
    risk aversion)`; exponential: drawn apart from it, exponential with mean
    `boldness_mean` (Daymude, Axelrod and Forrest 2025, their hill-climbing setting)."""
    desired_dissent_mean: Annotated[float, Field(gt=0, lt=0.5)] | None = None
    """Where set: everyone's desired dissent is drawn from an exponential distribution
    truncated to [0, 1] with this mean (Daymude, Axelrod and Forrest 2025), and their
    private opinion is minus it; none (the default): private opinions from
    `opinion_beta_a` and `opinion_beta_b`. A mean of 0.5 or more is no truncated
    exponential."""
    commerce_account_share: Share = 0.6
    """Share with an account on the commerce platform (shop and payment app)."""
    social_account_share: Share = 0.8
    """Share with accounts on the social networks."""
    foreigner_share: Share = 0.005
    """Share of foreigners (linked to a name only through passport checks, M12)."""
    bill_reliability_beta_a: Annotated[float, Field(gt=0)] = 8.0
    """Bill reliability is Beta(a, b) in [0, 1]: parameter a."""
    bill_reliability_beta_b: Annotated[float, Field(gt=0)] = 1.0
    """Parameter b of bill reliability (higher: more defaults)."""
    good_job_base_share: Share = 0.05
    """Chance of a good job for a working person in the poorest income decile."""
    good_job_share_per_decile: Share = 0.06
    """Added chance of a good job per income decile."""
    no_job_share: Share = 0.05
    """Share of working-age people without a job."""
    thresholds: ThresholdConfig = Field(default_factory=ThresholdConfig)
    """Thresholds of the threshold rule of self-censorship."""
    initial_expressed_opinion: Annotated[float, Field(ge=-1.0, le=1.0)] | None = None
    """The opinion everyone expresses on the first day, before any rule has run (default:
    their private opinion). It is what friends see on day one under the threshold rule."""
    fixed_opinion_share: Share = 0.0
    """Share of people (drawn at random) whose opinion is fixed at `fixed_opinion`: they
    hold it and always express it, whatever it costs (committed minorities, zealots)."""
    fixed_opinion: Annotated[float, Field(ge=-1.0, le=1.0)] = -1.0
    """The opinion of the fixed share (-1: committed critics)."""

    @model_validator(mode="after")
    def _regions_sum_to_one(self) -> PeopleConfig:
        if not self.regions:
            raise ValueError("at least one region is needed")
        total = sum(self.regions.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"region shares must add up to 1, they add up to {total:g}")
        return self


class LifeConfig(Strict):
    """Background life events that sanctions and privileges act on (M5)."""

    job_search_rate_per_day: Rate = 0.002
    """Daily chance that a working person without a good job applies for one."""
    hire_probability: Share = 0.3
    """Chance an application for a good job succeeds when no sanction blocks it."""
    income_deciles_per_job_change: Annotated[int, Field(ge=0, le=9)] = 2
    """Income deciles lost with a good job, or gained with one."""
    good_job_separation_rate_per_day: Rate = 0.00122
    """Daily chance that a good job ends without any sanction (quit, layoff, contract end):
    the holder moves to an ordinary job and loses income as with a lost job. Default: an
    assumption transferred from the US (no Chinese figure found): BLS JOLTS 2018, 66.1
    million total separations in the year over about 149 million nonfarm jobs, 44% a year
    (0.44 / 365 a day); with the default job searches and hires
    it keeps the share of workers in a good job near the share drawn at the start (about
    a third). 0: good jobs end only through sanctions, retirement or death (the society
    drifts towards good jobs for all)."""
    university_application_rate_per_day: Rate = 0.0
    """Daily chance that a student not yet admitted applies (on any day, on top of the
    yearly application day; 0: only on that day)."""
    university_application_day: MonthDay | None = "06-07"
    """The yearly day (MM-DD) on which the year's school leavers apply to university: the
    students who entered the society in the last year and are not yet admitted (default:
    7 June, the first day of China's national college entrance examination, the gaokao).
    None: no yearly applications."""
    university_application_share: Share = 1.0
    """Share of the year's school leavers who apply on the application day. With the
    default admission probability (0.5) about half of each cohort is admitted, near
    China's gross tertiary enrolment rate of 48.1% in 2018 (Ministry of Education,
    Statistical Communique on the Development of National Education 2018)."""
    admission_probability: Share = 0.5
    """Chance an application is admitted when no sanction blocks it."""
    housing_search_rate_per_day: Rate = 0.0005
    """Daily chance a person seeks housing."""
    travel_rate_per_day: Rate = 0.01
    """Daily chance a person buys a flight or rail ticket."""
    loan_application_rate_per_day: Rate = 0.002
    """Daily chance a person applies for a loan."""


# ----------------------------------------------------------------------------- demography


class DemographyConfig(Strict):
    """Ageing, stages of life, exits and entries (model/demography.py). People age by the
    day; their stage (student, working, retired) follows from their age; they leave the
    society (death) at a daily hazard of their stage and at ``max_age_years``; each leaver's
    place is taken the same day by a newcomer at ``entry_age_years`` (a school leaver), so
    the population size stays steady (or grows or shrinks at ``growth_per_year``). The
    starting ages are drawn from the steady-state age distribution these rates imply (so
    the age structure does not drift); ``people.age_shares`` is then not used."""

    enabled: bool = True
    """Ageing, exits and entries on. false: a fixed population (nobody ages, leaves or
    enters; stages drawn from ``people.age_shares``), as before this section existed."""
    entry_age_years: Annotated[int, Field(ge=10, le=40)] = 18
    """Age at which people enter the simulated society: school-leaving age (China's
    gaokao is sat at the end of upper secondary school, at about 18)."""
    study_years: Annotated[int, Field(ge=1, le=10)] = 4
    """Years in the student stage after entry (a four-year bachelor); then the working
    stage starts and a first job is drawn as at the start."""
    retirement_age_years: Annotated[int, Field(ge=20, le=100)] = 60
    """Age at which the working stage ends; retirees leave their job. China's statutory
    retirement ages in force 2018-2024 were 60 for men, 55 for women cadres and 50 for women
    workers (the presets take 56, a mix: see docs/parameters.md)."""
    death_rate_per_year_working: Annotated[float, Field(ge=0.0, le=1.0)] = 0.002
    """Yearly death rate before retirement (students and workers): about 8% die between
    18 and 60 (WHO Global Health Observatory, adult mortality 45q15 for China, 2016:
    about 80 per 1,000 for both sexes)."""
    death_rate_per_year_retired: Annotated[float, Field(ge=0.0, le=1.0)] = 0.055
    """Yearly death rate after retirement: 1 / 18 years, so that those who reach 60 die at
    about 78 on average and an entrant at 18 at about 76 (WHO World Health Statistics
    2018: life expectancy at birth in China 76.4 years in 2016). In this steady state about
    1.7% of the (adult) population die each year, more than China's crude death rate
    (7.13 per 1,000 in 2018, National Bureau of Statistics) because China's population is
    young and was growing, not stationary."""
    max_age_years: Annotated[int, Field(ge=21, le=150)] = 100
    """Nobody lives past this age (leaves on the first turnover day after reaching it)."""
    turnover_every_days: Annotated[int, Field(ge=1, le=365)] = 7
    """Deaths and entries are settled every this many days, with the chance of that many
    days at once (the ties are rebuilt once for the batch, as for rewiring); ageing and the
    stages of life go by the day."""
    growth_per_year: Annotated[float, Field(ge=-0.2, le=0.2)] = 0.0
    """Yearly growth of the population size (a share: 0.01 is +1% a year, -0.01 is -1%).
    0 (the default): every leaver's slot is taken by a newcomer the same day and the size
    stays at ``people.count``. Otherwise, on each turnover day the population is brought to
    ``round(people.count * (1 + growth_per_year) ** (days since start / 365.25))``:
    newcomers beyond the replacements enter in new slots (growth), or leavers' slots are
    removed (shrinkage; where deaths are too few, people chosen at random emigrate). The
    burn-in (``burn_in_days``) runs at a steady size. China's population has shrunk since
    2022 (National Bureau of Statistics, year-end figures: -850,000 in 2022 to 1,411.75
    million, -0.06%; -2.08 million in 2023 to 1,409.67 million, -0.15%; -1.39 million in
    2024 to 1,408.28 million, -0.10%), so about -0.001 is China's recent rate. Bounded to
    +-20% a year (several times the fastest national growth on record)."""

    @model_validator(mode="after")
    def _stages_in_order(self) -> DemographyConfig:
        if not (self.entry_age_years + self.study_years < self.retirement_age_years
                < self.max_age_years):
            raise ValueError(
                "expected entry_age_years + study_years < retirement_age_years < "
                f"max_age_years, got {self.entry_age_years} + {self.study_years}, "
                f"{self.retirement_age_years}, {self.max_age_years}")
        return self


# -------------------------------------------------------------------------------- network


class NetworkConfig(Strict):
    """The friendship network: generated, or read from an edge list (M4, M6)."""

    kind: Literal["small_world", "scale_free", "region_clustered", "edgelist"] = "small_world"
    """small_world (Watts-Strogatz), scale_free (Chung-Lu, power-law degrees), region_clustered
    (small world within regions) or edgelist (read from `path`)."""
    mean_degree: Annotated[float, Field(ge=0)] = 10.0
    """Mean number of friends (generated networks)."""
    rewire_probability: Share = 0.1
    """Small world: chance a lattice tie is rewired to a random person."""
    power_law_exponent: Annotated[float, Field(gt=2.0)] = 2.5
    """Scale free: exponent of the degree distribution P(k) ~ k^-exponent."""
    within_region_share: Share = 0.9
    """Region clustered: chance a rewired tie stays in the region."""
    path: str | None = None
    """Edgelist: file of person-id pairs 'a b' (or 'a,b'), relative to the scenario file."""

    @model_validator(mode="after")
    def _path_for_edgelist(self) -> NetworkConfig:
        if self.kind == "edgelist" and not self.path:
            raise ValueError("network kind 'edgelist' needs `path` (a file of 'a b' id pairs)")
        if self.kind != "edgelist" and self.path:
            raise ValueError(f"`path` is only used with kind = 'edgelist', not '{self.kind}'")
        return self


# ------------------------------------------------------------------------------ behaviour


EventRate = Annotated[float, Field(ge=0.0, le=100.0)]


class _Rates(Strict):
    """Base daily rate of each event kind, before the person's own modifiers."""

    @model_validator(mode="after")
    def _derived_kinds_stay_zero(self) -> _Rates:
        for kind in EVENT_KINDS:
            if kind.derived and getattr(self, kind.name):
                raise ValueError(f"{kind.name} is not drawn at a rate: {kind.description}")
        return self


def _rate_field(kind) -> tuple:
    meaning = (f"Must stay 0: {kind.description}." if kind.derived
               else f"Events per person per day: {kind.description}.")
    return (EventRate, Field(kind.rate_per_day, description=meaning))


#: One key per declared event kind (:mod:`scoresim.declarations.events`).
RatesPerDay = create_model("RatesPerDay", __base__=_Rates, __module__=__name__,
                           **{k.name: _rate_field(k) for k in EVENT_KINDS})
RatesPerDay.__doc__ = _Rates.__doc__


class BehaviourConfig(Strict):
    rates_per_day: RatesPerDay = Field(default_factory=RatesPerDay)
    """Base daily rate of each event kind."""
    court_listing_per_loan_default: Share = 0.5
    """Chance a loan default leads to a court listing (M11)."""
    spending_poorest: Annotated[float, Field(ge=0, le=100)] = 0.5
    """Spending factor of the poorest income decile: purchase and payment rates are
    multiplied by it (rising linearly to `spending_richest` for the richest decile)."""
    spending_richest: Annotated[float, Field(ge=0, le=100)] = 1.5
    """Spending factor of the richest income decile."""
    hardship_income_offset: Annotated[float, Field(ge=1, le=100)] = 1.5
    """Hardship factor of bill and loan defaults: `(1 - bill reliability) *
    (hardship_income_offset - income share) * hardship_scale`, income share 0 (poorest) to
    1 (richest)."""
    hardship_scale: Annotated[float, Field(ge=0, le=100)] = 4.0
    """Scale of the hardship factor (see `hardship_income_offset`)."""
    shopping_reliability_strength: Annotated[float, Field(ge=0, le=5)] = 0.0
    """M14 as a testable claim: bill reliability is each person's latent repayment
    reliability (it drives bill and loan defaults through the hardship factor); shopping
    and payment rates are multiplied by exp(this * z), z the person's reliability in
    standard deviations from the population's mean (clipped to +-3). 0: shopping says
    nothing about repayment beyond income (the reports' claim is false). Outcome:
    SCHEME_default_auc."""


# -------------------------------------------------------------------------------- sources


class SourceConfig(Strict):
    """A data source that turns events into records attributed to people (M1, M11, M12)."""

    label: str = ""
    """What the source stands for (shown in reports)."""
    kinds: list[EventKindName] = Field(min_length=1)
    """Event kinds the source sees."""
    accounts: Literal["commerce", "social", "everyone"] = "everyone"
    """Whom it covers: commerce account holders, social account holders, or everyone."""
    coverage: Share = 1.0
    """Chance that one event of a covered person is seen."""
    linked_share: Share = 1.0
    """Share of accounts linked to a real name; unlinked accounts' records are not attributed."""
    real_name_from: dt.date | None = None
    """Date from which real-name registration links every resident's account (M12)."""
    foreigner_linked_share: Share = 0.0
    """After real-name registration: share of foreigners linked by passport checks."""
    error_rate: Share = 0.0
    """Chance a record is misattributed to a random other person."""
    context: Name | None = None
    """The data context of the source's records (one of ``impact.data_contexts``); default:
    each record's event kind's (docs/impact.md). Describes; changes no result."""


# -------------------------------------------------------------------------------- schemes


class RuleConfig(Strict):
    """Points for records of one kind, optionally by source, region and phase (M2, M3)."""

    kind: EventKindName
    """Event kind whose records earn the points."""
    points: Points
    """Points per record (negative: a deduction)."""
    source: Name | None = None
    """Only records from this source (default: any of the scheme's sources)."""
    regions: list[Name] = Field(default_factory=list)
    """Only for people in these regions (default: all) (M3)."""
    phases: list[Name] = Field(default_factory=list)
    """Only in these phases (default: all)."""
    when: str | None = None
    """A further condition in the rule grammar (see Conditions), e.g. \"age_band == student and
    score < 900\"."""
    cap_points: Annotated[float, Field(gt=0, le=1e6)] | None = None
    """At most this many points (either sign) per person per period."""
    cap_period_days: PositiveInt = 30
    """Length of the capping period in days."""
    lasts_days: Annotated[int, Field(ge=1, le=36500)] | None = None
    """Days the rule's points count for after the record (default: the scheme's
    ``lasts_days``), shaped by the scheme's ``decay_shape``; they lapse on the scheme's
    first recomputation day at or after the end of the period."""
    factor: Name | None = None
    """The scheme's factor (``factors``) whose level the rule's points move; required where
    the scheme declares factors, refused where it does not."""

    _parse_when = field_validator("when")(_valid_condition)


class TierConfig(Strict):
    min: Points
    """Lowest score of the tier."""
    max: Points
    """Highest score of the tier."""


class FactorConfig(Strict):
    """One factor of a scheme scored as a weighted level of factors (Sesame Credit's five
    dimensions, as commonly cited from Ant Financial's 2015 disclosures: credit history 35%,
    fulfilment capacity 25%, behaviour and preferences 20%, personal characteristics 15%,
    relationships 5%).

    The factor's level is a bounded, saturating function of ``x``, the points in force of
    its rules (the scheme's record window): ``level = 1 / (1 + exp(-(logit(l0) + x /
    scale_points)))`` with ``l0 = (initial_score - min_score) / (max_score - min_score)``,
    so every factor starts at ``l0`` and a person without records at ``initial_score``;
    the level stays within (0, 1) however many points pile up."""

    weight: Share
    """The factor's weight in the score (the weights of a scheme add up to 1)."""
    scale_points: Annotated[float, Field(gt=0, le=1e6)]
    """Window points that move the factor's log-odds by 1: near the start a point is worth
    ``(max_score - min_score) * weight * l0 * (1 - l0) / scale_points`` score points, less
    as the level nears 0 or 1."""


class InactivityConfig(Strict):
    """No platform activity for ``after_days`` decays the own score (M9)."""

    after_days: PositiveInt = 30
    """Days without platform activity after which the own score decays (M9)."""
    decay_points_per_day: PointsRate = 0.0
    """Points lost per idle day (0: no decay)."""


class RepairConfig(Strict):
    """Credit repair: a person with a negative record in force may apply to have their
    negative records removed before they lapse.

    Grounded in the NDRC's Measures for the Administration of Credit Repair (2023; revised
    2025, in force 1 April 2026): dishonesty information is minor (at most 3 months
    public), general (3 months to 1 year) or serious (1 to 3 years); after the minimum
    period the subject may apply (having corrected the behaviour and signed a credit
    commitment) through Credit China, which answers within 10 working days, the authority
    deciding within 3 more; repaired information stops being published and used. The
    Supreme People's Court's provisions on the list of dishonest judgment debtors (Fa Shi
    [2017] No. 7, art. 2 and 10) list a person for 2 years (up to 3), and remove them earlier
    once they perform their obligations."""

    apply_rate_per_day: Share = 0.0
    """Daily chance that a person eligible to apply does so (0: no repair, records only lapse)."""
    min_days_in_force: Annotated[int, Field(ge=0, le=36500)] = 90
    """Days a negative record has been in force before its person may apply (NDRC 2023:
    general dishonesty information is public for at least 3 months)."""
    waiting_days: Annotated[int, Field(ge=0, le=3650)] = 15
    """Days from application to removal (Credit China: about 10 working days plus 3);
    removals take effect on the scheme's next recomputation day."""


class EnrolmentConfig(Strict):
    """Who carries a score, from when (M7, M8, M10)."""

    mode: Literal["voluntary", "opt_out", "mandatory"] = "voluntary"
    """voluntary (people enrol over time), opt_out (all eligible enrolled at the start; some opt
    out) or mandatory (all from the start) (M7, M10)."""
    eligible: Literal["everyone", "commerce"] = "everyone"
    """Who can be enrolled: everyone, or commerce account holders."""
    voluntary_rate_per_day: Rate = 0.001
    """Voluntary mode: daily enrolment hazard, scaled by ambition (loyalty, income, job)."""
    mandatory_from_phase: Name | None = None
    """From this phase on every eligible person is enrolled and cannot opt out (M7)."""
    opt_out_rate_per_day: Rate = 0.0
    """Daily chance an enrolled person opts out (critics more often) while that is allowed."""
    head_start_points: Points = 0.0
    """Points given to those who enrol before the mandatory phase (M8). Where the scheme's
    points lapse (``lasts_days``), the head start is a record like any other and lapses
    with the scheme's period: a level score keeps nothing but its base for ever."""
    early_bonus_points_per_day: PointsRate = 0.0
    """Points per day enrolled before the mandatory phase (M8)."""


class SchemeConfig(Strict):
    """A scoring scheme: range, rules, friend influence, decay, tiers, visibility (MODEL.md)."""

    label: str = ""
    """What the scheme stands for."""
    min_score: Points = 0.0
    """Lowest possible score."""
    max_score: Points = 1000.0
    """Highest possible score."""
    initial_score: Points = 500.0
    """Own score at enrolment."""
    friend_weight: Share = 0.0
    """w in s = (1-w)*b + w*mean(friends' s) (M4)."""
    sources: list[Name] = Field(min_length=1)
    """Data sources the scheme draws records from."""
    rules: list[RuleConfig] = Field(default_factory=list)
    """Points by record kind, source, region, phase and condition."""
    tiers: dict[str, TierConfig] = Field(default_factory=dict)
    """Named bands of the published score, contiguous over the whole range."""
    inactivity: InactivityConfig = Field(default_factory=InactivityConfig)
    """Decay of the own score after platform inactivity (M9)."""
    enrolment: EnrolmentConfig = Field(default_factory=EnrolmentConfig)
    """Who carries a score, from when."""
    visibility: Literal["hidden", "self", "friends", "public"] = "friends"
    """Who sees a score: hidden (nobody), self, friends (also drives unfriending), public (also
    strangers choosing new ties)."""
    shadow_score: bool = False
    """Opted-out people keep a score that nobody sees and sanctions may still use (M10)."""
    opaque: bool = False
    """Rules undisclosed: people learn them only from their own score changes (M13)."""
    awareness: Share = 0.5
    """Share of the rules an enrolled person knows (at once if transparent, in time if opaque)."""
    lasts_days: Annotated[int, Field(ge=1, le=36500)] | None = None
    """Days a record's points count for (rules without their own ``lasts_days``, the
    early-enrolment head start and bonus, inactivity decay): the own score is the initial
    score plus the points still in force, a level that recent behaviour moves. A record
    lapses on the first recomputation day at or after the end of its period (the published
    score is as with exact lapse days; the own score keeps it up to
    ``recompute_every_days - 1`` days longer). None: points count for ever (the own score
    is the running sum since enrolment)."""
    decay_shape: Literal["window", "linear", "exponential"] = "window"
    """How a record's points fade over ``lasts_days``: window (in full, then gone), linear
    (down to zero on the recomputation day it lapses, a constant daily slope) or
    exponential (by ``exp(-days / lasts_days)``, never gone entirely; ``lasts_days`` is the
    mean life)."""
    recompute_every_days: Annotated[int, Field(ge=1, le=3650)] = 1
    """The published score is recomputed every this many days (1: daily; Suqian: monthly,
    about 30) and stays as it is in between; records lapse on these days."""
    repair: RepairConfig = Field(default_factory=RepairConfig)
    """Credit repair: negative records removed early on application."""
    factors: dict[Name, FactorConfig] = Field(default_factory=dict)
    """A Sesame-style score (empty: none): the own score is ``min_score + (max_score -
    min_score) * sum of weight * level`` over the factors, each factor's level a saturating
    function of the points in force of its rules (see the factor's keys), plus the points
    in force of records no rule makes (head start, early bonus, inactivity decay), clipped
    to the range. Needs records that lapse (``lasts_days``); every rule names its factor."""

    @model_validator(mode="after")
    def _repair_needs_a_log(self) -> SchemeConfig:
        if self.repair.apply_rate_per_day and self.decay_shape == "exponential":
            raise ValueError("repair needs records that lapse (decay_shape window or linear); "
                             "exponential decay keeps no records to remove")
        return self

    @model_validator(mode="after")
    def _range_and_tiers(self) -> SchemeConfig:
        if not self.min_score < self.max_score:
            raise ValueError(
                f"min_score ({self.min_score:g}) must be below max_score ({self.max_score:g})"
            )
        if not self.min_score <= self.initial_score <= self.max_score:
            raise ValueError(
                f"initial_score {self.initial_score:g} lies outside "
                f"[{self.min_score:g}, {self.max_score:g}]"
            )
        if self.tiers:
            bands = sorted(self.tiers.items(), key=lambda kv: kv[1].min)
            for name, band in bands:
                if band.min > band.max:
                    raise ValueError(f"tier {name!r}: min {band.min:g} above max {band.max:g}")
            if bands[0][1].min > self.min_score or bands[-1][1].max < self.max_score:
                raise ValueError(
                    f"tiers must cover the whole range [{self.min_score:g}, "
                    f"{self.max_score:g}]; they cover [{bands[0][1].min:g}, "
                    f"{bands[-1][1].max:g}]"
                )
            for (lo_name, lo), (hi_name, hi) in zip(bands, bands[1:], strict=False):
                if hi.min < lo.max:
                    raise ValueError(f"tiers {lo_name!r} and {hi_name!r} overlap")
                if hi.min > lo.max + 1:
                    raise ValueError(f"tiers {lo_name!r} and {hi_name!r} leave a gap")
        return self

    @model_validator(mode="after")
    def _factors(self) -> SchemeConfig:
        if not self.factors:
            for i, rule in enumerate(self.rules):
                if rule.factor is not None:
                    raise ValueError(f"rules.{i}.factor: {rule.factor!r} names a factor, but "
                                     f"the scheme declares no factors")
            return self
        total = sum(f.weight for f in self.factors.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"factors: the weights must add up to 1, they add up to {total:g}")
        for i, rule in enumerate(self.rules):
            if rule.factor is None:
                raise ValueError(f"rules.{i}.factor: the scheme declares factors "
                                 f"({', '.join(self.factors)}); every rule must name one")
            if rule.factor not in self.factors:
                raise ValueError(f"rules.{i}.factor: {rule.factor!r} is not one of the "
                                 f"scheme's factors ({', '.join(self.factors)})")
        if self.lasts_days is None and not any(r.lasts_days for r in self.rules):
            raise ValueError("factors: a weighted level of factors is computed from a record "
                             "window; set lasts_days")
        if not self.min_score < self.initial_score < self.max_score:
            raise ValueError("factors: initial_score must lie strictly inside the range (it "
                             "sets every factor's starting level)")
        if self.repair.apply_rate_per_day:
            raise ValueError("factors: credit repair (repair.apply_rate_per_day) is not "
                             "available for a weighted level of factors")
        return self

    def tier_names_low_to_high(self) -> list[str]:
        return [n for n, _ in sorted(self.tiers.items(), key=lambda kv: kv[1].min)]


# ------------------------------------------------------------------------------ sanctions

class SanctionConfig(Strict):
    """A rule from score, tier or blacklist to an effect, active per phase (M5, M7).

    The condition is met by people whose published score is below ``below`` (sanctions) or
    at least ``above`` (privileges), whose tier is in ``tiers``, or who are blacklisted.
    """

    effect: Literal[SANCTION_EFFECTS + PRIVILEGE_EFFECTS]  # type: ignore[valid-type]
    """What happens: job_loss, job_denied, university_denied, housing_denied, internet_throttled,
    travel_ban, loan_denied (sanctions); job_priority, dating_boost, deposit_free (privileges)."""
    scheme: Name | None = None
    """Scheme whose score or tier the condition reads."""
    below: Points | None = None
    """Condition: published score below this."""
    above: Points | None = None
    """Condition: published score at least this."""
    tiers: list[str] = Field(default_factory=list)
    """Condition: published score in one of these tiers."""
    blacklisted: bool = False
    """Condition: on the court blacklist."""
    phases: list[Name] = Field(default_factory=list)
    """Active only in these phases (default: all) (M7)."""
    regions: list[Name] = Field(default_factory=list)
    """Only for people in these regions (default: all)."""
    when: str | None = None
    """A further condition in the rule grammar (see Conditions)."""
    probability_per_day: Share = 1.0
    """Effects on events: chance the effect hits a person meeting the condition."""
    factor: Annotated[float, Field(ge=0)] = 1.0
    """Multiplier of throttled online activity, hire chance, tie chance or spending."""
    lasts_days: Annotated[int, Field(ge=1, le=36500)] = 365
    """loan_denied: days a person hit is refused loans (no loan defaults meanwhile);
    housing_denied: days a person refused a flat cannot take a good job (their job
    applications fail: no flat in the city, no job there)."""
    settles_probability: Share = 0.0
    """travel_ban: chance a stopped traveller pays what they owe and leaves the blacklist.
    No source gives it per refused ticket (the presets' 0.04 is an assumption, derived in
    docs/parameters.md: the payments reported are owed to all the punishments together)."""
    context: Name | None = None
    """The consequence context the sanction falls in (one of
    ``impact.consequence_contexts``); default: its effect's (docs/impact.md). Describes;
    changes no result."""

    _parse_when = field_validator("when")(_valid_condition)

    @model_validator(mode="after")
    def _one_condition(self) -> SanctionConfig:
        given = [
            k
            for k, v in (
                ("below", self.below),
                ("above", self.above),
                ("tiers", self.tiers or None),
                ("blacklisted", self.blacklisted or None),
            )
            if v is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one condition of `below`, `above`, `tiers` or "
                f"`blacklisted = true`; got {given or 'none'}"
            )
        if not self.blacklisted and self.scheme is None:
            raise ValueError("a score or tier condition needs `scheme`")
        if self.effect in ONGOING_EFFECTS and self.probability_per_day != 1.0:
            raise ValueError(
                f"effect {self.effect!r} holds every day its condition holds; "
                "`probability_per_day` applies only to effects on events (jobs, "
                "applications, travel, loans)"
            )
        if self.effect not in FACTOR_EFFECTS and self.factor != 1.0:
            raise ValueError(
                f"`factor` has no meaning for effect {self.effect!r}; it scales "
                f"{', '.join(FACTOR_EFFECTS)}"
            )
        return self


class BlacklistConfig(Strict):
    """Court listing records put a person on the blacklist for a while (M11)."""

    sources: list[Name] = Field(default_factory=list)
    """Sources whose court_listing records put a person on the blacklist (M11)."""
    days: PositiveInt = 730
    """Days a listing lasts (unless the person settles first). The Supreme People's Court
    lists a debtor for 2 years (Fa Shi [2017] No. 7, art. 2, for obstruction, evasion and the
    like) or until they perform (art. 1 item 1, able but refusing; art. 10); 180 days is the
    rail blacklist's ban for misconduct on trains, not the court list."""


# -------------------------------------------------------------------------------- impact


class ImpactConfig(Strict):
    """Contexts and gravity for ``scoresim impact`` (docs/impact.md; defaults in
    :mod:`scoresim.declarations.contexts`). They describe the regime for the impact card and
    change no result of a run."""

    track: bool = False
    """Record, during the run, what the impact card measures (set by ``scoresim impact``)."""
    data_contexts: list[Name] = Field(default_factory=lambda: list(_ctx.DATA_CONTEXTS),
                                      min_length=1)
    """The contexts data come from (a record's source)."""
    consequence_contexts: list[Name] = Field(
        default_factory=lambda: list(_ctx.CONSEQUENCE_CONTEXTS), min_length=1)
    """The contexts a sanction's consequence falls in."""
    related: dict[Name, list[Name]] = Field(
        default_factory=lambda: {k: list(v) for k, v in _ctx.RELATED.items()})
    """Per data context, the consequence contexts it belongs to (a sanction resting on a
    record from a data context not related to its own context treats a person in an
    unrelated context, AI Act Art. 5(1)(c)(i))."""
    gravity_levels: list[Name] = Field(default_factory=lambda: list(_ctx.GRAVITY_LEVELS),
                                       min_length=2)
    """The gravity scale, lightest first (an assumption); the first level is "minor"."""
    gravity: dict[EventKindName, Name] = Field(
        default_factory=lambda: dict(_ctx.KIND_GRAVITY))
    """The gravity of each event kind's behaviour on the scale (an assumption); every kind a
    rule deducts points for needs one."""
    weight: dict[Literal[SANCTION_EFFECTS + PRIVILEGE_EFFECTS], Name] = Field(  # type: ignore[valid-type]
        default_factory=lambda: dict(_ctx.EFFECT_WEIGHT))
    """The weight of each sanction's effect on the same scale (an assumption): a sanction
    heavier than the gravest behaviour that triggered it is disproportionate."""

    @model_validator(mode="after")
    def _levels(self) -> ImpactConfig:
        for key in ("data_contexts", "consequence_contexts", "gravity_levels"):
            values = getattr(self, key)
            twice = sorted({v for v in values if values.count(v) > 1})
            if twice:
                raise ValueError(f"impact.{key}: {', '.join(twice)} given twice")
        return self


# ----------------------------------------------------------------------------- adaptation


class FalsificationConfig(Strict):
    """Preference falsification (``adaptation.self_censorship = "falsification"``), after
    Kuran, *Private Truths, Public Lies* (1995): a person keeps a private opinion (their
    desired dissent) and chooses a public one, the dissent they voice or the tolerance,
    by weighing the expressive utility of saying what they think (their boldness times
    the dissent they would hide), the punishment they expect for it (as the strategic rule
    does), and the reputational utility of siding with those they see: the approval of
    the side they join, in proportion to its share among those they see
    (`src/scoresim/model/falsification.py`, docs/falsification.md)."""

    reputation_weight: Annotated[float, Field(ge=0, le=1e6)] = 0.2
    """Kuran's reputational utility: voicing dissent gains this times the share of those
    one sees who voiced dissent the day before, and loses it times the share who did
    not; 0 switches it off (everyone decides alone, as under uniform punishment in the
    strategic rule). An assumption: Kuran gives the form, not a size; 0.2 is of the
    order of the expressive utility at seed's boldness (mean 0.5 times the 0.4 of dissent a
    typical critic would hide)."""
    observed: Literal["friends", "everyone"] = "friends"
    """Whose public opinion a person sees: friends (the share of their friends who voiced
    dissent the day before; people without friends see everyone's) or everyone (Kuran's
    society-wide public opinion)."""


class AdaptationConfig(Strict):
    """How people respond to the system (M6): self-censorship, gaming, ties, opting out."""

    self_censorship: Literal["strategic", "threshold", "falsification", "none"] = (
        "strategic")
    """strategic (Daymude, Axelrod and Forrest), threshold (a Granovetter/Kuran cascade:
    speak once enough friends do), falsification (Kuran's preference falsification:
    expressive, reputational and punitive utility weighed against what friends say;
    `adaptation.falsification`) or none."""
    punishment: Literal["uniform", "proportional"] = "proportional"
    """Punishment form of the strategic rule (and of the falsification rule's expected
    punishment): uniform or proportional."""
    tolerance: Share = 0.1
    """tau: dissent that costs nothing, in [0, 1]."""
    severity_per_point: Annotated[float, Field(ge=0, le=1000)] = 0.02
    """Perceived severity psi per point deducted for a critical statement or protest."""
    severity_per_sanction: Annotated[float, Field(ge=0, le=1000)] = 0.2
    """Added severity per active sanction rule of a scheme that punishes dissent."""
    gaming_strength: Annotated[float, Field(ge=0, le=10)] = 0.5
    """How strongly known points raise rewarded acts and lower punished ones (0: no gaming)."""
    gaming_points_scale: Annotated[float, Field(gt=0, le=1e6)] = 10.0
    """Points that count as a strong incentive for gaming."""
    learning_rate_per_day: Share = 0.005
    """Opaque schemes: the share of the gap to ``awareness`` closed per day of the scheme's
    recomputation interval, when one sees one's own published score change (a monthly
    change closes ``1 - (1 - rate) ** 30`` of it)."""
    rewire_every_days: PositiveInt = 7
    """Ties are dropped and formed every this many days."""
    unfriend_probability: Share = 0.02
    """The strength of unfriending for a score: chance per rewiring (times `unfriend_risk_base
    + risk aversion`) to drop a friend whose visible score drags one's own down; an added
    dissolution hazard on those ties, after which both ends look for a replacement at
    `new_tie_rate_per_day`. No panel measures it (an assumption; docs/network.md gives the
    long-run mean degree and critics' isolation for 0 to 0.1)."""
    unfriend_drag_points: PointsRate = 2.0
    """Drop a friend whose score pulls one's own down by more than this many points: the
    friend's share of the friends' pull, friend_weight * (own score - friend's) / friends."""
    new_tie_rate_per_day: Rate = 0.02
    """Replacement search: a person below their friendship capacity (the number of friends
    they started with; a finite capacity for active ties: Miritello et al. 2013, Scientific
    Reports 3: 1950) proposes a new tie with chance 1 - exp(-this * days * missing
    friends) per rewiring. Panels find personal network size stable over years while
    members are replaced (Mollenhorst, Volker and Flap 2014, Social Networks 37: 65-80;
    Wrzus et al. 2013, Psychological Bulletin 139: 53-80, little change in adult friendship
    networks from year to year), i.e. replacement is fast against decay; 0.02 fills a
    missing friend in months and holds the mean degree within about 3% of the network's
    `mean_degree` (docs/network.md)."""
    tie_dissolve_rate_per_day: Rate = 0.0003
    """Daily chance a tie dissolves for no scoring reason: 0.0003 is 10.4% of ties a year,
    so 48% of ties survive seven years, as in the Dutch panel of Mollenhorst, Volker and
    Flap (2014: 48% of network members still in the network after seven years, about 30%
    in the same role). Work ties decay faster (Burt 2000, Social Networks 22: 1-28; nine in
    ten bankers' bridging ties gone within a year), the closest ties slower (Roy,
    Bhattacharya, Dunbar and Kaski 2022, Scientific Reports: 1-4% of the inner circle a
    year)."""
    new_tie_friend_of_friend_share: Share = 0.5
    """Share of new-tie searches that meet a friend of a friend (triadic closure: two people
    with a mutual friend are far likelier to become friends, Kossinets and Watts 2006,
    Science 311: 88-90); the rest meet someone of their region or anyone
    (`new_tie_same_region_share`). Keeps clustering from decaying as ties turn over (an
    assumption for the share)."""
    homophily: Annotated[float, Field(gt=0)] = 0.5
    """Opinion homophily: a proposed tie is accepted with exp(-|opinion gap| / homophily)."""
    score_homophily_points: Annotated[float, Field(gt=0, le=1e6)] = 50.0
    """With public scores: acceptance also falls as exp(-|score gap| / this)."""
    opt_out_critic_factor: Rate = 3.0
    """Critics opt out this many times more often (times desired dissent)."""
    unfriend_risk_base: Annotated[float, Field(ge=0, le=10)] = 0.5
    """A person checks a friend's drag with probability `unfriend_probability * (this +
    risk aversion)`: the risk-averse drop low scorers more readily."""
    gaming_cap: Annotated[float, Field(gt=0, le=100)] = 3.0
    """Gaming changes a rate by at most exp(+-gaming_strength * this): known points are
    counted up to this many times `gaming_points_scale`."""
    new_tie_same_region_share: Share = 0.8
    """Of new tie proposals not made to a friend of a friend: the share made to someone in
    one's own region (the rest: anyone)."""
    ambition_floor: Annotated[float, Field(ge=0, le=10)] = 0.5
    """Voluntary enrolment hazard: `voluntary_rate_per_day * (this + loyalty) * (this +
    income share) * (ambition_good_job_factor for a good job, else 1)` (loyalty and income
    share in [0, 1])."""
    ambition_good_job_factor: Annotated[float, Field(ge=0, le=10)] = 1.5
    """Voluntary enrolment: how much more eager people with a good job are."""
    risk_learning: Literal["announced", "bayesian"] = "announced"
    """How people judge the risk of dissent. announced: from the announced rules alone
    (every person of a region sees the same severity, the sources' recording chance is
    known exactly). bayesian: each person learns a perceived detection probability
    (Beta-Bernoulli updating with forgetting, after Anwar and Loughran 2011) and a
    perceived severity (the sanctions that can reach them, plus the sanctions they have
    seen, after Stafford and Warr 1993) from what they observe day by day
    (docs/architecture.md, "Adaptation")."""
    risk_memory_half_life_days: Annotated[float, Field(gt=0, le=36500)] = 90.0
    """bayesian: days after which a remembered observation (an act recorded or not, a
    sanction seen) weighs half as much."""
    detection_prior_strength: Annotated[float, Field(gt=0, le=1e6)] = 10.0
    """bayesian: the announced recording chance counts as this many observed acts (the
    strength of the Beta prior)."""
    vicarious_weight: Share = 0.3
    """bayesian: weight of a friend's act, record or sanction one can see, relative to
    one's own (vicarious experience, Stafford and Warr 1993)."""
    naming_weight: Share = 0.01
    """bayesian: weight, for everyone in a region, of one person of that region newly named
    on the public blacklist (M11), relative to a sanction of one's own."""
    severity_reach_points: Annotated[float, Field(gt=0, le=1e6)] = 100.0
    """bayesian: a sanction rule counts fully toward a person's severity when their score
    meets its condition, and by exp(-points short of it / this) otherwise; rules that
    cannot reach the person (another region, stage of life or account) count nothing."""
    falsification: FalsificationConfig = Field(default_factory=FalsificationConfig)
    """The falsification rule's utilities (used where `self_censorship = "falsification"`)."""


# ------------------------------------------------------------------------------ authority

AUTHORITY_PARAMETERS = ("tolerance", "severity", "surveillance")


class AuthorityConfig(Strict):
    """An authority that adapts its tolerance, severity and surveillance of dissent day by
    day by random mutation hill climbing, as the authority of Daymude, Axelrod and Forrest
    (2025, `rmhc_trial` in their code/hillclimbing.py): each day it moves one of the three
    by a uniform step within its bounds and keeps the move unless its cost (adamancy times
    the dissent people express, plus the punishment it deals) rose
    (`src/scoresim/model/authority.py`, docs/authority.md). Off unless `enabled`."""

    enabled: bool = False
    """Whether the authority acts (false: rules and risk stay as the scenario sets them)."""
    scheme: Name | None = None
    """The scheme it governs: its tolerance is the tolerance people go by and the dissent
    it overlooks, its severity scales that scheme's points for critical statements and
    protests, its surveillance is the share of those acts the scheme's sources record.
    None: it punishes dissent itself, as in their setting (people go by its tolerance,
    severity and surveillance; it punishes an act above its tolerance with chance
    surveillance + (1 - surveillance) * act)."""
    initial_tolerance: Share = 0.25
    """tau on the first day: dissent that is not punished (their default 0.25)."""
    initial_severity: Annotated[float, Field(gt=0, le=1e6)] = 0.1
    """psi on the first day (their default 0.1). Governing a scheme: its rules' points for
    dissent are the points at this severity (they scale with psi / initial_severity)."""
    initial_surveillance: Share = 0.1
    """nu on the first day (their default 0.1). Governing a scheme: the share of the
    recorded acts of dissent it follows up (1: all the sources record)."""
    adamancy: Annotated[float, Field(gt=0, le=1e6)] = 1.0
    """alpha: the weight of the dissent people express against the punishment it deals,
    in its cost (their default 1)."""
    step: Annotated[float, Field(gt=0, le=1e6)] = 0.05
    """The largest move of a parameter in a day: the new value is uniform within this
    distance of the old, cut to its bounds (their epsilon, 0.05)."""
    tolerance_min: Share = 0.0
    """The lowest tolerance it may choose."""
    tolerance_max: Share = 1.0
    """The highest tolerance it may choose."""
    severity_min: Annotated[float, Field(gt=0, le=1e6)] = 1e-9
    """The lowest severity it may choose (theirs: 1e-9)."""
    severity_max: Annotated[float, Field(gt=0, le=1e6)] = 1e6
    """The highest severity it may choose (theirs: no bound)."""
    surveillance_min: Share = 0.0
    """The lowest surveillance it may choose."""
    surveillance_max: Share = 1.0
    """The highest surveillance it may choose."""

    @model_validator(mode="after")
    def _bounds_hold(self) -> AuthorityConfig:
        for name in AUTHORITY_PARAMETERS:
            lo, hi = getattr(self, f"{name}_min"), getattr(self, f"{name}_max")
            start = getattr(self, f"initial_{name}")
            if lo > hi:
                raise ValueError(f"{name}_min ({lo:g}) exceeds {name}_max ({hi:g}): no "
                                 f"{name} is left to choose")
            if not lo <= start <= hi:
                raise ValueError(f"initial_{name} ({start:g}) lies outside its bounds "
                                 f"[{name}_min, {name}_max] = [{lo:g}, {hi:g}]")
        return self


# -------------------------------------------------------------------------------- lending

LENDING_GROUPS = ("none", "region", "income_decile")


class LendingConfig(Strict):
    """A lender whose loans are decided by a scheme's published score, and whose reports of
    repayment and default enter that scheme as records (M14; the one-step feedback model
    of Liu, Dean, Rolf, Simchowitz and Hardt 2018, "Delayed impact of fair machine
    learning"): people without a loan apply with a daily chance that depends on their
    income and need; the lender approves where the published score clears its threshold;
    on the due day the loan is repaid with a chance that follows the borrower's bill
    reliability (so the score matters only through what it measures), and the lender
    reports the repayment (kind `lender_repayment`) or default (`lender_default`) through
    its source, whose records the scheme's rules score like any other
    (`src/scoresim/model/lending.py`, docs/lending.md). Off unless `enabled`."""

    enabled: bool = False
    """Whether the lender lends (false: nobody applies, nothing is reported)."""
    scheme: Name | None = None
    """The scheme whose published score the lender reads and to which it reports (the
    scheme must have a rule for `lender_repayment` or `lender_default`)."""
    source: Name | None = None
    """The data source that carries the lender's reports to the scheme (one of the
    scheme's sources that sees `lender_repayment` and `lender_default`; its coverage,
    linkage and error rate apply to the reports as to any record)."""
    threshold: Points = 600.0
    """Approve an application where the applicant's published score is at least this
    (within the scheme's range)."""
    group_by: Literal["none", "region", "income_decile"] = "none"
    """The groups the lender may set thresholds for (`thresholds`) and by which the mean
    score change is reported: none (everyone one group, `all`), region (the region's
    name) or income_decile (`decile_0`, poorest, to `decile_9`)."""
    thresholds: dict[str, Points] = Field(default_factory=dict)
    """Thresholds per group of `group_by` (a group not listed has `threshold`), each
    within the scheme's range."""
    apply_chance_per_day: Share = 0.002
    """Daily chance that a person without a loan applies, before the income and need
    factors (their product is cut at 1)."""
    apply_factor_poorest: Annotated[float, Field(ge=0, le=1e3)] = 1.5
    """Factor on the chance to apply of the poorest income decile, falling (or rising)
    linearly to `apply_factor_richest` for the richest: need for credit by income."""
    apply_factor_richest: Annotated[float, Field(ge=0, le=1e3)] = 0.5
    """Factor on the chance to apply of the richest income decile."""
    apply_factor_jobless: Annotated[float, Field(ge=0, le=1e3)] = 2.0
    """Factor on the chance to apply of people of working age without a job (need)."""
    term_days: Annotated[int, Field(ge=1, le=36500)] = 30
    """Days from approval to the due day, when the loan is repaid or not."""
    repay_chance_least_reliable: Share = 0.5
    """Chance of repaying of a borrower with bill reliability 0; it rises linearly to
    `repay_chance_most_reliable` at reliability 1."""
    repay_chance_most_reliable: Share = 0.99
    """Chance of repaying of a borrower with bill reliability 1."""
    gain_per_repayment: Annotated[float, Field(ge=0, le=1e6)] = 1.0
    """The lender's profit from a repaid loan (Liu et al.'s u+; whynot's 1)."""
    loss_per_default: Annotated[float, Field(ge=0, le=1e6)] = 4.0
    """The lender's loss from a default, as a positive number (Liu et al.'s -u-; whynot's
    4)."""

    @model_validator(mode="after")
    def _repay_chances(self) -> LendingConfig:
        if self.repay_chance_least_reliable > self.repay_chance_most_reliable:
            raise ValueError(
                f"repay_chance_least_reliable ({self.repay_chance_least_reliable:g}) "
                f"exceeds repay_chance_most_reliable ({self.repay_chance_most_reliable:g}): "
                "the more reliable would repay less often")
        return self


def lending_groups(sc: Scenario) -> list[str]:
    """The names of the lender's groups (:attr:`LendingConfig.group_by`), in code order."""
    by = sc.lending.group_by
    if by == "region":
        return list(sc.people.regions)
    if by == "income_decile":
        return [f"decile_{d}" for d in range(10)]
    return ["all"]


class OutputConfig(Strict):
    figures: bool = True
    """Write PNG figures into the run folder."""
    people_table: bool = True
    """Write people.parquet (the final state of every person)."""
    network: bool = True
    """Write network.parquet (the final friendship ties: person ids a, b)."""
    report: bool = True
    """Write report.html (self-contained: figures inline, no network needed to view it)."""
    rich_from_decile: Annotated[int, Field(ge=0, le=9)] = 7
    """Income gaps in the outcomes: 'rich' are the deciles from this one up (0-9)."""
    poor_to_decile: Annotated[int, Field(ge=0, le=9)] = 2
    """Income gaps in the outcomes: 'poor' are the deciles up to this one."""
    default_window_days: Annotated[int, Field(ge=1, le=36500)] = 365
    """M14, SCHEME_default_auc: how far ahead the score is asked to predict defaults: the
    scores of a window's first day against the defaults of the window's days."""


# ------------------------------------------------------------------------------- scenario


class Scenario(Strict):
    """One scenario: the society, the data sources, the schemes and the time line."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = "scenario"
    """Scenario name (default: the file name): letters, digits, - and _ (it names the run
    folder, so it is never a path)."""
    description: str = ""
    """One line on what the scenario is."""
    start: dt.date
    """First simulated day."""
    end: dt.date
    """Last simulated day."""
    seed: int = Field(default=0, ge=0)
    """Random seed (the command line's --seed overrides it)."""
    phases: dict[Name, dt.date] = Field(default_factory=dict)
    """Phase names and their start dates (M7); the first must start on or before `start`."""
    people: PeopleConfig = Field(default_factory=PeopleConfig)
    """The synthetic population."""
    life: LifeConfig = Field(default_factory=LifeConfig)
    """Background life events that sanctions gate."""
    demography: DemographyConfig = Field(default_factory=DemographyConfig)
    """Ageing, stages of life, deaths and entries (the population turns over)."""
    burn_in_days: Annotated[int, Field(ge=0, le=36_525)] = 0
    """Days the society runs before `start`, without any scheme or sanction, so that the
    run begins at its steady state (jobs, university places, the blacklist and the ties
    settled). Its days are not in the outcome table. It runs on its own random streams,
    from the society, life, behaviour, blacklist and adaptation keys only: two scenarios
    that share them (a scenario and its baseline) start from the same society."""
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    """The friendship network."""
    behaviour: BehaviourConfig = Field(default_factory=BehaviourConfig)
    """Event rates."""
    sources: dict[Name, SourceConfig] = Field(default_factory=dict)
    """Data sources by name."""
    schemes: dict[Name, SchemeConfig] = Field(default_factory=dict)
    """Scoring schemes by name."""
    sanctions: dict[Name, SanctionConfig] = Field(default_factory=dict)
    """Sanctions and privileges by name."""
    blacklist: BlacklistConfig = Field(default_factory=BlacklistConfig)
    """The court blacklist."""
    adaptation: AdaptationConfig = Field(default_factory=AdaptationConfig)
    """How people respond."""
    authority: AuthorityConfig = Field(default_factory=AuthorityConfig)
    """An authority that adapts its rules for dissent (off by default)."""
    lending: LendingConfig = Field(default_factory=LendingConfig)
    """A lender that decides loans by a scheme's score and reports to it (off by default)."""
    impact: ImpactConfig = Field(default_factory=ImpactConfig)
    """Contexts and gravity, for ``scoresim impact`` (describe; change no result)."""
    output: OutputConfig = Field(default_factory=OutputConfig)
    """What the run folder holds."""

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    def phase_names_in_order(self) -> list[str]:
        return [n for n, _ in sorted(self.phases.items(), key=lambda kv: kv[1])]

    @model_validator(mode="after")
    def _cross_references(self) -> Scenario:
        _check_timeline(self)
        _check_references(self)
        return self


def _check_timeline(sc: Scenario) -> None:
    from scoresim.limits import FIRST_DATE, LAST_DATE

    for key in ("start", "end"):
        day = getattr(sc, key)
        if not FIRST_DATE <= day <= LAST_DATE:
            raise ValueError(f"`{key}` ({day}): a run's days lie between {FIRST_DATE} and "
                             f"{LAST_DATE} (the burn-in before them, records lapsing after "
                             "them and the figures' axes need the calendar around them)")
    if sc.end < sc.start:
        raise ValueError(f"`end` ({sc.end}) is before `start` ({sc.start})")
    if sc.days > 36_525:
        raise ValueError(f"from `start` to `end` is {sc.days:,} days; at most 36,525 (a "
                         "century) are simulated")
    if sc.phases and min(sc.phases.values()) > sc.start:
        first = min(sc.phases, key=sc.phases.get)
        raise ValueError(
            f"the first phase ({first!r}, {sc.phases[first]}) must start on or before "
            f"`start` ({sc.start}), so that every day has a phase"
        )


def _unknown(what: str, name: str, valid: list[str] | set[str], where: str) -> ValueError:
    options = ", ".join(sorted(valid)) or "(none defined)"
    return ValueError(f"{where}: unknown {what} {name!r}; defined are: {options}")


def _check_references(sc: Scenario) -> None:
    regions, phases, sources = set(sc.people.regions), set(sc.phases), set(sc.sources)
    for sname, scheme in sc.schemes.items():
        where = f"schemes.{sname}"
        for src in scheme.sources:
            if src not in sources:
                raise _unknown("source", src, sources, f"{where}.sources")
        ph = scheme.enrolment.mandatory_from_phase
        if ph is not None and ph not in phases:
            raise _unknown("phase", ph, phases, f"{where}.enrolment.mandatory_from_phase")
        for i, rule in enumerate(scheme.rules):
            rwhere = f"{where}.rules[{i}]"
            if rule.source is not None:
                if rule.source not in scheme.sources:
                    raise _unknown("source", rule.source, scheme.sources, f"{rwhere}.source")
                if rule.kind not in sc.sources[rule.source].kinds:
                    raise ValueError(
                        f"{rwhere}: source {rule.source!r} does not see events of kind "
                        f"{rule.kind!r}; it sees {', '.join(sc.sources[rule.source].kinds)}"
                    )
            elif not any(rule.kind in sc.sources[s].kinds for s in scheme.sources):
                raise ValueError(
                    f"{rwhere}: none of the scheme's sources ({', '.join(scheme.sources)}) "
                    f"sees events of kind {rule.kind!r}, so the rule could never apply"
                )
            for r in rule.regions:
                if r not in regions:
                    raise _unknown("region", r, regions, f"{rwhere}.regions")
            for p in rule.phases:
                if p not in phases:
                    raise _unknown("phase", p, phases, f"{rwhere}.phases")
            if rule.when:
                conditions.check_names(conditions.parse(rule.when), regions, phases,
                                       f"{rwhere}.when", has_scheme=True)
    for name, sanc in sc.sanctions.items():
        where = f"sanctions.{name}"
        if sanc.scheme is not None and sanc.scheme not in sc.schemes:
            raise _unknown("scheme", sanc.scheme, set(sc.schemes), f"{where}.scheme")
        if sanc.tiers:
            tiers = set(sc.schemes[sanc.scheme].tiers)
            for t in sanc.tiers:
                if t not in tiers:
                    raise _unknown("tier", t, tiers, f"{where}.tiers")
        for r in sanc.regions:
            if r not in regions:
                raise _unknown("region", r, regions, f"{where}.regions")
        for p in sanc.phases:
            if p not in phases:
                raise _unknown("phase", p, phases, f"{where}.phases")
        if sanc.when:
            conditions.check_names(conditions.parse(sanc.when), regions, phases,
                                   f"{where}.when", has_scheme=sanc.scheme is not None)
        if sanc.blacklisted and not sc.blacklist.sources:
            raise ValueError(f"{where}: `blacklisted = true` but blacklist.sources is empty")
    _check_authority(sc)
    _check_lending(sc)
    _check_impact(sc)
    for src in sc.blacklist.sources:
        if src not in sources:
            raise _unknown("source", src, sources, "blacklist.sources")
        if "court_listing" not in sc.sources[src].kinds:
            raise ValueError(f"blacklist.sources: source {src!r} does not see court_listing")


def _check_authority(sc: Scenario) -> None:
    """The scheme an authority governs exists and has rules for dissent to act on."""
    auth = sc.authority
    if not auth.enabled or auth.scheme is None:
        return
    if auth.scheme not in sc.schemes:
        raise _unknown("scheme", auth.scheme, set(sc.schemes), "authority.scheme")
    political = {k.name for k in EVENT_KINDS if k.political}
    if not any(r.kind in political for r in sc.schemes[auth.scheme].rules):
        raise ValueError(
            f"authority.scheme: scheme {auth.scheme!r} has no rule for "
            f"{' or '.join(sorted(political))}, so the authority's severity would act on "
            "nothing")


LENDER_KINDS = ("lender_repayment", "lender_default")


def _check_lending(sc: Scenario) -> None:
    """The lender's scheme and source exist and fit, and its thresholds lie in the
    scheme's range."""
    lend = sc.lending
    if not lend.enabled:
        return
    if lend.scheme is None:
        raise ValueError("lending.scheme: the lender needs a scheme whose score it reads; "
                         f"defined are: {', '.join(sorted(sc.schemes)) or '(none defined)'}")
    if lend.scheme not in sc.schemes:
        raise _unknown("scheme", lend.scheme, set(sc.schemes), "lending.scheme")
    scheme = sc.schemes[lend.scheme]
    if lend.source is None or lend.source not in scheme.sources:
        raise _unknown("source", str(lend.source), scheme.sources, "lending.source")
    missing = [k for k in LENDER_KINDS if k not in sc.sources[lend.source].kinds]
    if missing:
        raise ValueError(f"lending.source: source {lend.source!r} does not see "
                         f"{' or '.join(missing)}; add them to sources.{lend.source}.kinds")
    if not any(r.kind in LENDER_KINDS for r in scheme.rules):
        raise ValueError(f"lending.scheme: scheme {lend.scheme!r} has no rule for "
                         f"{' or '.join(LENDER_KINDS)}, so repayments and defaults would "
                         "not move its score")
    lo, hi = scheme.min_score, scheme.max_score
    groups = lending_groups(sc)
    # (the default threshold only where some group has none of its own)
    default = [("threshold", lend.threshold)] if set(groups) - set(lend.thresholds) else []
    for name, value in (*default,
                        *((f"thresholds.{g}", v) for g, v in lend.thresholds.items())):
        if not lo <= value <= hi:
            raise ValueError(f"lending.{name}: {value:g} lies outside the range of scheme "
                             f"{lend.scheme!r}, [{lo:g}, {hi:g}]")
    for g in lend.thresholds:
        if g not in groups:
            raise _unknown(f"group (lending.group_by = {lend.group_by!r})", g, groups,
                           "lending.thresholds")
def _check_impact(sc: Scenario) -> None:
    """Every context named is declared, every record's and sanction's context is, and the
    gravity scale has no gap: every kind a rule deducts points for (and court listings,
    where the blacklist sanctions) has a gravity, every sanction's effect a weight, each
    on a declared level."""
    imp = sc.impact
    data, cons, levels = set(imp.data_contexts), set(imp.consequence_contexts), set(
        imp.gravity_levels)
    for d, related in imp.related.items():
        if d not in data:
            raise _unknown("data context", d, data, "impact.related")
        for c in related:
            if c not in cons:
                raise _unknown("consequence context", c, cons, f"impact.related.{d}")
    for name, src in sc.sources.items():
        if src.context is not None:
            if src.context not in data:
                raise _unknown("data context", src.context, data, f"sources.{name}.context")
            continue
        for kind in src.kinds:
            if _ctx.KIND_CONTEXT.get(kind, "") not in data:
                raise ValueError(
                    f"sources.{name}: its {kind} records take the data context "
                    f"{_ctx.KIND_CONTEXT.get(kind)!r} (declared for the kind), which "
                    "impact.data_contexts does not declare; declare it there or give "
                    f"sources.{name}.context")
    for name, sanc in sc.sanctions.items():
        ctx = sanc.context or _ctx.EFFECT_CONTEXT[sanc.effect]
        if ctx not in cons:
            raise _unknown("consequence context", ctx, cons, f"sanctions.{name}.context"
                           + ("" if sanc.context else f" (the default of {sanc.effect})"))
    for kind, level in imp.gravity.items():
        if level not in levels:
            raise _unknown("gravity level", level, levels, f"impact.gravity.{kind}")
    for effect, level in imp.weight.items():
        if level not in levels:
            raise _unknown("gravity level", level, levels, f"impact.weight.{effect}")
    graded = {r.kind for s in sc.schemes.values() for r in s.rules if r.points < 0}
    if any(s.blacklisted for s in sc.sanctions.values()):
        graded.add("court_listing")
    gaps = sorted(graded - set(imp.gravity))
    if gaps:
        raise ValueError(f"impact.gravity: the scale has a gap: no gravity for "
                         f"{', '.join(gaps)}, which the scenario's rules penalise; give each "
                         f"one of {', '.join(imp.gravity_levels)}")
    effects = sorted({s.effect for s in sc.sanctions.values()
                      if s.effect in SANCTION_EFFECTS} - set(imp.weight))
    if effects:
        raise ValueError(f"impact.weight: the scale has a gap: no weight for "
                         f"{', '.join(effects)}, which the scenario's sanctions have; give "
                         f"each one of {', '.join(imp.gravity_levels)}")
