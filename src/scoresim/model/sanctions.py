"""Sanctions and privileges: rules from score, tier or blacklist to effects (M5, M7).

Each active rule finds the people who meet its condition and acts on them:

==================  ==============================================================
job_loss            good-job holders lose it; income drops
job_denied          job applicants are not hired
university_denied   student applicants are not admitted
housing_denied      house seekers (in the listed regions) are refused; for ``lasts_days``
                    they cannot take a good job there (their applications fail)
internet_throttled  online activity rates times ``factor`` while the condition holds
travel_ban          travellers are stopped (typically: blacklisted); a stopped traveller
                    settles the debt with ``settles_probability`` and leaves the blacklist
loan_denied         loan applicants are refused (no loan, so no loan default for a year)
job_priority        privilege: job applicants hired with probability times ``factor``
dating_boost        privilege: ``factor`` times the search rate for a new friend
deposit_free        privilege (perk): spending rates times ``factor``
==================  ==============================================================

Effects on events act on each person meeting the condition with ``probability_per_day``;
states (throttling, dating boost, perks) hold every day the condition holds.

Downstream effects: each sanction changes something an outcome measures. Housing denial
(report: "in certain cities no flat") keeps a person from the good jobs of the city they
could not move to: ``good_job_hires`` and ``good_job_share`` fall. A travel ban makes some
of those stopped pay what they owe and leave the court's list (``blacklisted`` falls): the
National Development and Reform Commission's 2018 report on the blacklist (Feb. 2019)
counts 17.46 million flight and 5.47 million rail ticket purchases blocked and 3.51 million
listed debtors who "fulfilled their obligations under the pressure", about 0.15 per blocked
purchase (an upper bound on the effect of one refusal; the seed preset's value).

Every sanction applied is counted; it is *wrongful* when the person would not meet the
condition without misattributed records (the error-free score ``s_clean``, pulled toward
friends' error-free scores, does not meet it), and by *association* when they would not
meet it had friends' scores not entered theirs (the scheme's score without the friends' term,
``s_own``, published on the same days as ``s``, does not meet it: a score left stale between
recomputations is stale in both, so staleness is not counted as association).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from scoresim.declarations.categories import GOOD_JOB, ORDINARY_JOB
from scoresim.declarations.sanctions import ONGOING_EFFECTS, SANCTION_EFFECTS
from scoresim.engine.rng import Streams
from scoresim.model.component import Array, Component
from scoresim.model.life import LifeEvents, change_job
from scoresim.model.people import People
from scoresim.model.scoring import Scheme, rule_condition
from scoresim.scenario.schema import (
    LifeConfig,
    SanctionConfig,
    Scenario,
)


@dataclass
class SanctionStep:
    """What sanctions and privileges did in one step."""

    applied: dict[str, int] = field(default_factory=dict)  # effect -> count
    hits: dict[str, np.ndarray] = field(default_factory=dict)  # rule name -> ids hit
    #: sanction rule name -> the ids of ``hits`` hit wrongfully (data errors), and by
    #: association (friends' pull): what the counts below count
    wrongful_ids: dict[str, np.ndarray] = field(default_factory=dict)
    association_ids: dict[str, np.ndarray] = field(default_factory=dict)
    wrongful: int = 0
    association: int = 0
    job_blocked: np.ndarray | None = None
    job_factor: np.ndarray | None = None
    uni_blocked: np.ndarray | None = None


class Sanctions(Component):
    """Sanctions and privileges (see the module's docstring): counts of what each person
    received, and the effects still running."""

    KEY = "sanctions"
    STATE = (
        Array("received"), Array("received_wrongful"), Array("received_association"),
        Array("loan_refused_until", newcomer=-1), Array("housing_denied_until", newcomer=-1),
        Array("throttle", newcomer=1.0), Array("dating_weight", newcomer=1.0),
        Array("spending", newcomer=1.0), Array("ongoing", newcomer=False, mapping=True),
    )
    CACHES = ("_ones",)

    def __init__(self, scenario: Scenario, people: People, schemes: dict[str, Scheme],
                 kernels: SimpleNamespace):
        self.k = kernels  # the plain rules or the compiled kernels (the engine's)
        n = people.n
        self.rules: list[tuple[str, SanctionConfig]] = list(scenario.sanctions.items())
        self.schemes = schemes
        self.region_names = list(scenario.people.regions)
        self.life_cfg: LifeConfig = scenario.life
        self.received = np.zeros(n, np.int32)
        self.received_wrongful = np.zeros(n, np.int32)
        self.received_association = np.zeros(n, np.int32)
        self.loan_refused_until = np.full(n, -1, np.int32)
        self.housing_denied_until = np.full(n, -1, np.int32)  # no good job here until then
        self.last_refusal_day = -1  # the latest day in loan_refused_until
        self._effects = {cfg.effect for _, cfg in self.rules}
        self._ones = np.ones(n, np.float32)  # (for effects no rule has)
        self._ones.flags.writeable = False
        self.throttle = np.ones(n, np.float32)
        self.dating_weight = np.ones(n, np.float32)
        self.spending = np.ones(n, np.float32)
        self.ongoing = {name: np.zeros(n, bool) for name, _ in self.rules}
        self.in_force: set[str] = set()  # ongoing effects that reach someone today
        self.conditions = {name: rule_condition(cfg.regions, cfg.phases, cfg.when)
                           for name, cfg in self.rules}

    def values(self) -> dict:
        return {"last_refusal_day": int(self.last_refusal_day),
                "in_force": sorted(self.in_force)}

    def set_values(self, values: dict) -> None:
        self.last_refusal_day = int(values["last_refusal_day"])
        self.in_force = set(values["in_force"])

    def active_per_scheme(self, phase: str) -> dict[str, int]:
        """Per scheme: how many of its sanction rules (not privileges) are in force in
        ``phase`` (what the announced severity of dissent counts)."""
        active: dict[str, int] = {}
        for name, cfg in self.rules:
            if (cfg.scheme and cfg.effect in SANCTION_EFFECTS
                    and self.conditions[name].holds_in_phase(phase)):
                active[cfg.scheme] = active.get(cfg.scheme, 0) + 1
        return active

    def effects(self) -> list[str]:
        return sorted({cfg.effect for _, cfg in self.rules})

    def _condition(self, cfg: SanctionConfig, people: People, step: int,
                   ids: np.ndarray | None = None, only_meets: bool = False):
        """(meets, meets_without_errors, meets_without_friends) masks over ``ids`` (over
        everyone when None): the condition on the published score ``s``, on the error-free
        ``s_clean`` and on ``s_own`` (no friends' term); with ``only_meets``, the first
        alone."""
        pick = slice(None) if ids is None else ids
        if cfg.blacklisted:
            listed = people.blacklisted_until[pick] >= step
            if only_meets:
                return listed
            return listed, listed & ~people.blacklist_wrongful[pick], listed
        scheme = self.schemes[cfg.scheme]
        scored = scheme.scored[pick]

        def meets(score: np.ndarray) -> np.ndarray:
            score = score[pick]
            if cfg.below is not None:
                return score < cfg.below
            if cfg.above is not None:
                return score >= cfg.above
            wanted = [scheme.tier_names.index(t) for t in cfg.tiers]
            return np.isin(scheme.tier_index(score), wanted)

        if only_meets:
            return scored & meets(scheme.s)
        return scored & meets(scheme.s), scored & meets(scheme.s_clean), scored & meets(
            scheme.s_own
        )

    def holds(self, name: str, people: People, step: int, ids: np.ndarray) -> np.ndarray:
        """Whether rule ``name``'s condition holds today for each of ``ids`` (its score,
        tier or blacklist condition and its regions and ``when``; not its phases)."""
        cfg = dict(self.rules)[name]
        meets = self._condition(cfg, people, step, ids, only_meets=True)
        extra = self.conditions[name].person_mask(people, self.schemes.get(cfg.scheme),
                                                  self.region_names)
        return meets if extra is None else meets & extra[ids]

    def apply(
        self, people: People, life: LifeEvents, phase: str, step: int, streams: Streams
    ) -> SanctionStep:
        n = people.n

        def factors(effect: str) -> np.ndarray:
            """Ones to multiply into, or (no rule with the effect) the shared read-only
            ones."""
            return np.ones(n, np.float32) if effect in self._effects else self._ones

        out = SanctionStep(
            applied={cfg.effect: 0 for _, cfg in self.rules},
            job_blocked=np.zeros(n, bool),
            job_factor=factors("job_priority"),
            uni_blocked=np.zeros(n, bool),
        )
        throttle = factors("internet_throttled")
        dating = factors("dating_boost")
        spending = factors("deposit_free")
        self.in_force = set()
        self._settled: list[np.ndarray] = []
        for name, cfg in self.rules:
            cond = self.conditions[name]
            if not cond.holds_in_phase(phase):
                self.ongoing[name][:] = False
                continue
            # Rules on applicants look at the applicants only.
            among = _applicants(cfg.effect, life)
            meets = self._condition(cfg, people, step, among, only_meets=True)
            extra = cond.person_mask(people, self.schemes.get(cfg.scheme), self.region_names)
            if extra is not None:
                meets = meets & (extra if among is None else extra[among])
            hit = self._act(name, cfg, meets, among, people, step, streams, out,
                            throttle, dating, spending)
            out.applied[cfg.effect] += int(hit.size)
            out.hits[name] = hit
            if cfg.effect in SANCTION_EFFECTS and hit.size:
                _, clean, alone = self._condition(cfg, people, step, hit)
                wrongful = hit[~clean]
                assoc = hit[~alone]
                out.wrongful += int(wrongful.size)
                out.association += int(assoc.size)
                out.wrongful_ids[name] = wrongful
                out.association_ids[name] = assoc
                self.k.count_hits(self.received, hit)
                self.k.count_hits(self.received_wrongful, wrongful)
                self.k.count_hits(self.received_association, assoc)
        self.throttle, self.dating_weight, self.spending = throttle, dating, spending
        if "housing_denied" in self._effects:  # no flat in the city: no good job there
            out.job_blocked |= self.housing_denied_until >= step
        for settled in self._settled:  # debts paid under a travel ban: off the list
            people.blacklisted_until[settled] = step - 1
        self._settled = []
        return out

    def _act(self, name, cfg, meets, among, people, step, streams, out,
             throttle, dating, spending) -> np.ndarray:
        """Carry out one rule's effect on those who meet its condition (``meets``, over
        ``among`` or over everyone); return the ids it hit this step."""
        effect = cfg.effect
        if effect == "job_loss":
            cand = np.flatnonzero(meets & (people.job == GOOD_JOB))
            u = streams.uniform_for(f"sanctions.{name}", step, cand)
            hit = cand[u < cfg.probability_per_day]
            change_job(people, hit, ORDINARY_JOB, self.life_cfg.income_deciles_per_job_change)
            return hit
        if effect in ONGOING_EFFECTS:
            # States: they act every day the condition holds; counted when they start.
            target = {"internet_throttled": throttle, "dating_boost": dating,
                      "deposit_free": spending}[effect]
            new, reached = self.k.ongoing_effect(target, target.dtype.type(cfg.factor),
                                                 meets, self.ongoing[name])
            if reached:
                self.in_force.add(effect)
            self.ongoing[name] = meets
            return new
        ids = among[meets]
        if cfg.probability_per_day < 1.0:
            u = streams.uniform_for(f"sanctions.{name}", step, ids)
            ids = ids[u < cfg.probability_per_day]
        if effect == "job_denied":
            out.job_blocked[ids] = True
        elif effect == "job_priority":
            out.job_factor[ids] *= cfg.factor
        elif effect == "university_denied":
            out.uni_blocked[ids] = True
        elif effect == "housing_denied":
            self.housing_denied_until[ids] = step + cfg.lasts_days
        elif effect == "travel_ban" and cfg.settles_probability > 0 and ids.size:
            u = streams.uniform_for(f"sanctions.{name}.settles", step, ids)
            # (off the list once the day's sanctions are counted: see ``apply``)
            self._settled.append(ids[u < cfg.settles_probability])
        elif effect == "loan_denied":
            self.loan_refused_until[ids] = step + cfg.lasts_days
            if ids.size:
                self.last_refusal_day = max(self.last_refusal_day, step + cfg.lasts_days)
        return ids


def _applicants(effect: str, life: LifeEvents) -> np.ndarray | None:
    """The people a rule's effect can reach this step (None: anyone)."""
    return {
        "job_denied": life.job_applicants,
        "job_priority": life.job_applicants,
        "university_denied": life.university_applicants,
        "housing_denied": life.housing_seekers,
        "travel_ban": life.travellers,
        "loan_denied": life.loan_applicants,
    }.get(effect)


def ongoing_effect(target, factor, meets, ongoing):
    """M5: an effect that lasts while its condition holds (throttled internet, a dating
    boost, deposit-free spending): ``target *= factor`` for those who meet it today.
    Returns the ids who meet it and did not yesterday (counted as new), and whether it
    reached anyone."""
    target *= np.where(meets, factor, target.dtype.type(1))
    return np.flatnonzero(meets & ~ongoing), bool(meets.any())


def count_hits(total, ids):
    """One more for each id (an id may come more than once)."""
    np.add.at(total, ids, 1)


