"""Scenario: the declared, validated description of one simulated society and its regime.

Every parameter is declared once here, with type, unit (in the name) and bounds; unknown
keys are refused. Cross-references (a rule's source, a sanction's scheme, a region name,
a phase name) are checked before a run starts. Loading (files, presets, ``extends``) lives
in :mod:`scoresim.loading`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scoresim.events import KIND_NAMES

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Rate = Annotated[float, Field(ge=0.0)]
PositiveInt = Annotated[int, Field(ge=1)]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]

EventKindName = Literal[KIND_NAMES]  # type: ignore[valid-type]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


# --------------------------------------------------------------------------------- people


class AgeShares(Strict):
    student: Share = 0.10
    working: Share = 0.65
    retired: Share = 0.25

    @model_validator(mode="after")
    def _sum_to_one(self) -> AgeShares:
        total = self.student + self.working + self.retired
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"age shares must add up to 1, they add up to {total:g}")
        return self


class PeopleConfig(Strict):
    """Who lives in the synthetic society (MODEL.md: People)."""

    count: PositiveInt = 20_000
    regions: dict[Name, Share] = Field(default_factory=lambda: {"other": 1.0})
    age_shares: AgeShares = Field(default_factory=AgeShares)
    opinion_beta_a: Annotated[float, Field(gt=0)] = 3.0
    opinion_beta_b: Annotated[float, Field(gt=0)] = 2.0
    critic_below: Annotated[float, Field(ge=-1.0, le=1.0)] = -0.2
    boldness_mean: Annotated[float, Field(gt=0)] = 0.5
    commerce_account_share: Share = 0.6
    social_account_share: Share = 0.8
    foreigner_share: Share = 0.005
    bill_reliability_beta_a: Annotated[float, Field(gt=0)] = 8.0
    bill_reliability_beta_b: Annotated[float, Field(gt=0)] = 1.0
    good_job_base_share: Share = 0.05
    good_job_share_per_decile: Share = 0.06
    no_job_share: Share = 0.05

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
    hire_probability: Share = 0.3
    income_deciles_per_job_change: Annotated[int, Field(ge=0, le=9)] = 2
    university_application_rate_per_day: Rate = 0.002
    admission_probability: Share = 0.5
    housing_search_rate_per_day: Rate = 0.0005
    travel_rate_per_day: Rate = 0.01
    loan_application_rate_per_day: Rate = 0.002


# -------------------------------------------------------------------------------- network


class NetworkConfig(Strict):
    """The friendship network: generated, or read from an edge list (M4, M6)."""

    kind: Literal["small_world", "scale_free", "region_clustered", "edgelist"] = "small_world"
    mean_degree: Annotated[float, Field(ge=0)] = 10.0
    rewire_probability: Share = 0.1
    power_law_exponent: Annotated[float, Field(gt=2.0)] = 2.5
    within_region_share: Share = 0.9
    path: str | None = None

    @model_validator(mode="after")
    def _path_for_edgelist(self) -> NetworkConfig:
        if self.kind == "edgelist" and not self.path:
            raise ValueError("network kind 'edgelist' needs `path` (a file of 'a b' id pairs)")
        if self.kind != "edgelist" and self.path:
            raise ValueError(f"`path` is only used with kind = 'edgelist', not '{self.kind}'")
        return self


# ------------------------------------------------------------------------------ behaviour


class RatesPerDay(Strict):
    """Base daily rate of each event kind, before the person's own modifiers."""

    purchase_domestic: Rate = 0.15
    purchase_foreign: Rate = 0.03
    foreign_book_order: Rate = 0.003
    mobile_payment: Rate = 0.4
    bill_paid: Rate = 0.05
    bill_default: Rate = 0.01
    loan_default: Rate = 0.0004
    court_listing: Rate = 0.0
    view_conforming: Rate = 0.3
    share_conforming: Rate = 0.05
    view_critic: Rate = 0.1
    comment: Rate = 0.5
    supportive_statement: Rate = 0.05
    critical_statement: Rate = 0.08
    traffic_offence: Rate = 0.001
    protest: Rate = 0.002
    blood_donation: Rate = 0.0008

    @model_validator(mode="after")
    def _court_listing_is_derived(self) -> RatesPerDay:
        if self.court_listing:
            raise ValueError(
                "court_listing is not drawn at a rate: it follows loan defaults "
                "(set behaviour.court_listing_per_loan_default)"
            )
        return self


class BehaviourConfig(Strict):
    rates_per_day: RatesPerDay = Field(default_factory=RatesPerDay)
    court_listing_per_loan_default: Share = 0.5


# -------------------------------------------------------------------------------- sources


class SourceConfig(Strict):
    """A data source that turns events into records attributed to people (M1, M11, M12)."""

    label: str = ""
    kinds: list[EventKindName] = Field(min_length=1)
    accounts: Literal["commerce", "social", "everyone"] = "everyone"
    coverage: Share = 1.0
    linked_share: Share = 1.0
    real_name_from: dt.date | None = None
    foreigner_linked_share: Share = 0.0
    error_rate: Share = 0.0


# -------------------------------------------------------------------------------- schemes


class RuleConfig(Strict):
    """Points for records of one kind, optionally by source, region and phase (M2, M3)."""

    kind: EventKindName
    points: float
    source: Name | None = None
    regions: list[Name] = Field(default_factory=list)
    phases: list[Name] = Field(default_factory=list)
    cap_points: Annotated[float, Field(gt=0)] | None = None
    cap_period_days: PositiveInt = 30


class TierConfig(Strict):
    min: float
    max: float


class InactivityConfig(Strict):
    """No platform activity for ``after_days`` decays the own score (M9)."""

    after_days: PositiveInt = 30
    decay_points_per_day: Rate = 0.0


class EnrolmentConfig(Strict):
    """Who carries a score, from when (M7, M8, M10)."""

    mode: Literal["voluntary", "opt_out", "mandatory"] = "voluntary"
    eligible: Literal["everyone", "commerce"] = "everyone"
    voluntary_rate_per_day: Rate = 0.001
    mandatory_from_phase: Name | None = None
    opt_out_rate_per_day: Rate = 0.0
    head_start_points: float = 0.0
    early_bonus_points_per_day: Rate = 0.0


class SchemeConfig(Strict):
    """A scoring scheme: range, rules, friend influence, decay, tiers, visibility (MODEL.md)."""

    label: str = ""
    min_score: float = 0.0
    max_score: float = 1000.0
    initial_score: float = 500.0
    friend_weight: Share = 0.0
    sources: list[Name] = Field(min_length=1)
    rules: list[RuleConfig] = Field(default_factory=list)
    tiers: dict[str, TierConfig] = Field(default_factory=dict)
    inactivity: InactivityConfig = Field(default_factory=InactivityConfig)
    enrolment: EnrolmentConfig = Field(default_factory=EnrolmentConfig)
    visibility: Literal["hidden", "self", "friends", "public"] = "friends"
    shadow_score: bool = False
    opaque: bool = False
    awareness: Share = 0.5

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

    def tier_names_low_to_high(self) -> list[str]:
        return [n for n, _ in sorted(self.tiers.items(), key=lambda kv: kv[1].min)]


# ------------------------------------------------------------------------------ sanctions

SANCTION_EFFECTS = (
    "job_loss",
    "job_denied",
    "university_denied",
    "housing_denied",
    "internet_throttled",
    "travel_ban",
    "loan_denied",
)
PRIVILEGE_EFFECTS = ("job_priority", "dating_boost", "deposit_free")
#: Effects that hold while the condition holds (a state), not on events.
ONGOING_EFFECTS = ("internet_throttled", "dating_boost", "deposit_free")
#: Effects scaled by ``factor``.
FACTOR_EFFECTS = ("internet_throttled", "job_priority", "dating_boost", "deposit_free")


class SanctionConfig(Strict):
    """A rule from score, tier or blacklist to an effect, active per phase (M5, M7).

    The condition is met by people whose published score is below ``below`` (sanctions) or
    at least ``above`` (privileges), whose tier is in ``tiers``, or who are blacklisted.
    """

    effect: Literal[SANCTION_EFFECTS + PRIVILEGE_EFFECTS]  # type: ignore[valid-type]
    scheme: Name | None = None
    below: float | None = None
    above: float | None = None
    tiers: list[str] = Field(default_factory=list)
    blacklisted: bool = False
    phases: list[Name] = Field(default_factory=list)
    regions: list[Name] = Field(default_factory=list)
    probability_per_day: Share = 1.0
    factor: Annotated[float, Field(ge=0)] = 1.0

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

    @property
    def is_privilege(self) -> bool:
        return self.effect in PRIVILEGE_EFFECTS


class BlacklistConfig(Strict):
    """Court listing records put a person on the blacklist for a while (M11)."""

    sources: list[Name] = Field(default_factory=list)
    days: PositiveInt = 180


# ----------------------------------------------------------------------------- adaptation


class AdaptationConfig(Strict):
    """How people respond to the system (M6): self-censorship, gaming, ties, opting out."""

    self_censorship: Literal["strategic", "none"] = "strategic"
    punishment: Literal["uniform", "proportional"] = "proportional"
    tolerance: Share = 0.1
    severity_per_point: Rate = 0.02
    severity_per_sanction: Rate = 0.2
    gaming_strength: Rate = 0.5
    gaming_points_scale: Annotated[float, Field(gt=0)] = 10.0
    learning_rate_per_day: Share = 0.005
    rewire_every_days: PositiveInt = 7
    unfriend_probability: Share = 0.02
    unfriend_gap_points: Rate = 25.0
    new_tie_rate_per_day: Rate = 0.004
    tie_dissolve_rate_per_day: Rate = 0.0002
    homophily: Annotated[float, Field(gt=0)] = 0.5
    score_homophily_points: Annotated[float, Field(gt=0)] = 50.0
    opt_out_critic_factor: Rate = 3.0


class OutputConfig(Strict):
    figures: bool = True
    people_table: bool = True


# ------------------------------------------------------------------------------- scenario


class Scenario(Strict):
    """One scenario: the society, the data sources, the schemes and the time line."""

    name: str = "scenario"
    description: str = ""
    start: dt.date
    end: dt.date
    seed: int = Field(default=0, ge=0)
    phases: dict[Name, dt.date] = Field(default_factory=dict)
    people: PeopleConfig = Field(default_factory=PeopleConfig)
    life: LifeConfig = Field(default_factory=LifeConfig)
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    behaviour: BehaviourConfig = Field(default_factory=BehaviourConfig)
    sources: dict[Name, SourceConfig] = Field(default_factory=dict)
    schemes: dict[Name, SchemeConfig] = Field(default_factory=dict)
    sanctions: dict[Name, SanctionConfig] = Field(default_factory=dict)
    blacklist: BlacklistConfig = Field(default_factory=BlacklistConfig)
    adaptation: AdaptationConfig = Field(default_factory=AdaptationConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)

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
    if sc.end < sc.start:
        raise ValueError(f"`end` ({sc.end}) is before `start` ({sc.start})")
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
        if sanc.blacklisted and not sc.blacklist.sources:
            raise ValueError(f"{where}: `blacklisted = true` but blacklist.sources is empty")
    for src in sc.blacklist.sources:
        if src not in sources:
            raise _unknown("source", src, sources, "blacklist.sources")
        if "court_listing" not in sc.sources[src].kinds:
            raise ValueError(f"blacklist.sources: source {src!r} does not see court_listing")

