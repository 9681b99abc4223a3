"""Learning about risk (M6, M13): what each person believes dissent costs them.

The strategic rule of Daymude, Axelrod and Forrest (:mod:`scoresim.model.adaptation`)
takes a surveillance ``nu`` and a severity ``psi``. ``adaptation.risk_learning`` chooses
where these come from:

- ``announced`` (the rules as published): ``nu`` is the sources' true chance that a
  critical statement is recorded and attributed; ``psi`` counts the points a scheme deducts
  for political acts and the sanction rules of that scheme in force, the same for everyone
  of a region.
- ``bayesian``: each person carries a perceived detection probability and a perceived
  severity (float32), updated every day from what they can observe.

  *Detection* is a Beta-Bernoulli belief with forgetting, the Bayesian learning model of
  deterrence tested by Anwar and Loughran (2011, "Testing a Bayesian learning theory of
  deterrence among serious juvenile offenders", Criminology 49(3)): the announced recording
  chance is the prior mean, worth ``detection_prior_strength`` observed acts; every
  critical statement one makes and sees recorded (or not) adds a success (or a failure),
  and a friend's statement and its record, where the friend's score is visible, adds
  ``vicarious_weight`` of one (vicarious experience of punishment and of its avoidance,
  Stafford and Warr 1993, "A reconceptualization of general and specific deterrence",
  J. Research in Crime and Delinquency 30(2)). Remembered observations lose half their
  weight every ``risk_memory_half_life_days``.

  *Severity* has two parts. The announced part counts, for each scheme a person knows
  (its share known, M13), the points it deducts for political acts in their region and
  only the sanction rules that can reach *them*: their region, their stage of life (a
  university rule reaches students, a job rule the working, a loan rule platform users)
  and their distance to the rule's threshold (full weight at or past it, then
  ``exp(-points short / severity_reach_points)``). The experienced part, which also
  reaches people who know nothing of an opaque scheme's rules, is
  ``severity_per_sanction * log(1 + E)``, where ``E`` is a remembered count of sanctions
  seen: one's own (weight 1), friends' whose scores one can see (``vicarious_weight``)
  and people of one's region newly named on the public blacklist (``naming_weight``). It
  counts only where a scheme that scores the person punishes political acts.

Which reading of ``nu``: scoresim's ``nu`` is the *recording* probability (a critical
statement is recorded and attributed to the speaker by some source). Nothing in scoresim
punishes an act that was not recorded, so a person who can never be recorded (no social
account, an unlinked account) faces no punishment: their severity is 0 under either
setting, and they say what they think. (In Daymude et al. punishment comes with chance
``nu + (1 - nu) * act``: the ``(1 - nu) * act`` part stands for acts noticed other than
by surveillance, which scoresim does not model.)

The rules here are plain numpy, run by both engines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from scoresim.declarations.categories import GOOD_JOB, STUDENT, WORKING
from scoresim.declarations.events import KIND_INDEX, POLITICAL_KINDS
from scoresim.declarations.sanctions import SANCTION_EFFECTS
from scoresim.model.component import Array, Component

if TYPE_CHECKING:
    from scoresim.model.behaviour import Events
    from scoresim.model.network import Network
    from scoresim.model.people import People
    from scoresim.model.sanctions import Sanctions, SanctionStep
    from scoresim.model.scoring import Scheme
    from scoresim.model.sources import Records
    from scoresim.scenario.schema import AdaptationConfig

CRITICAL = KIND_INDEX["critical_statement"]
POLITICAL = [KIND_INDEX[k] for k in POLITICAL_KINDS]


def memory_factor(half_life_days: float) -> np.float32:
    """What is left of a remembered observation after one day: 2 ** (-1 / half-life)."""
    return np.float32(2.0 ** (-1.0 / half_life_days))


def beta_mean(prior_mean, prior_strength, successes, failures) -> np.ndarray:
    """Posterior mean of a Beta prior with mean ``prior_mean`` worth ``prior_strength``
    observations, after ``successes`` and ``failures`` (float32)."""
    k = np.float32(prior_strength)
    return ((k * prior_mean + successes) / (k + successes + failures)).astype(np.float32)


def forget_and_add(memory: np.ndarray, keep: np.float32, new: np.ndarray) -> None:
    """``memory = keep * memory + new`` in place (float32)."""
    memory *= keep
    memory += new.astype(np.float32, copy=False)


def stage_reach(effect: str, people: People) -> np.ndarray | None:
    """Who a sanction effect can reach at their stage of life (None: anyone)."""
    if effect == "job_loss":
        return people.job == GOOD_JOB
    if effect == "job_denied":
        return people.age_band == WORKING
    if effect == "university_denied":
        return (people.age_band == STUDENT) & ~people.university
    if effect == "loan_denied":
        return people.commerce_account
    return None


def points_short(cfg, scheme: Scheme) -> np.ndarray:
    """Per person: how many points their published score is short of meeting a rule's
    score condition (0 where it meets it)."""
    s = scheme.s
    if cfg.below is not None:
        return np.maximum(s - np.float32(cfg.below), 0)
    if cfg.above is not None:
        return np.maximum(np.float32(cfg.above) - s, 0)
    if cfg.tiers and scheme.tier_names:
        mins = list(scheme.tier_mins) + [np.float32(scheme.cfg.max_score) + 1]
        upper = max(mins[scheme.tier_names.index(t) + 1] for t in cfg.tiers)
        return np.maximum(s - np.float32(upper) + 1, 0)
    return np.zeros(s.shape, np.float32)


def rule_reach(cfg, scheme: Scheme, people: People, region_names: list[str],
               reach_points: float) -> np.ndarray:
    """How much a sanction rule can reach each person, in [0, 1] (float32): 0 outside its
    regions, its stage of life or its scheme; else exp(-points short of its threshold /
    ``reach_points``). (A ``when`` clause is not weighed: a person cannot tell how near
    they are to it.)"""
    w = np.exp(-points_short(cfg, scheme) / np.float32(reach_points)).astype(np.float32)
    w *= scheme.scored
    if cfg.regions:
        w *= np.isin(people.region, [region_names.index(r) for r in cfg.regions])
    stage = stage_reach(cfg.effect, people)
    if stage is not None:
        w *= stage
    return w


class RiskBeliefs(Component):
    """Each person's remembered observations of the risk of dissent (``bayesian``)."""

    KEY = "adaptation.beliefs"
    STATE = (Array("detected"), Array("missed"), Array("sanctions_seen"))
    CACHES = ("perceived_detection", "perceived_severity")  # (filled each day)

    def __init__(self, cfg: AdaptationConfig, n: int):
        self.cfg = cfg
        self.detected = np.zeros(n, np.float32)  # remembered acts seen recorded
        self.missed = np.zeros(n, np.float32)  # remembered acts seen not recorded
        self.sanctions_seen = np.zeros(n, np.float32)  # remembered sanctions seen
        self.perceived_detection = np.zeros(n, np.float32)  # (filled each day)
        self.perceived_severity = np.zeros(n, np.float32)  # (filled each day)

    def observe(self, people: People, schemes: dict[str, Scheme], phase: str,
                events: Events, records: Records, sanctions: Sanctions, sanc: SanctionStep,
                network: Network,
                blacklist_days: int, step: int) -> None:
        """One day's observations: own critical statements and their records, friends'
        where their scores are visible, sanctions on oneself and on visible friends, and
        people newly named on the blacklist in one's region."""
        cfg = self.cfg
        n = people.n
        keep = memory_factor(cfg.risk_memory_half_life_days)
        w = np.float32(cfg.vicarious_weight)
        punishing = [sch for sch in schemes.values()
                     if (sch.points_table(phase)[:, CRITICAL] < 0).any()]
        sees_own = np.zeros(n, bool)
        shown = np.zeros(n, bool)
        for sch in punishing:
            hits = sch.points_table(phase)[people.region, CRITICAL] < 0
            sees_own |= sch.visible_to_self & hits
            shown |= sch.visible_to_friends & hits
        acts = np.zeros(n, np.float32)
        acts[events.who[CRITICAL]] = events.count[CRITICAL]
        recorded = np.zeros(n, np.float32)
        right = (records.kind == CRITICAL) & ~records.misattributed
        np.add.at(recorded, records.person[right], records.count[right].astype(np.float32))
        recorded = np.minimum(recorded, acts)  # (sources that saw the same act: once)
        missed = acts - recorded
        own_d, own_m = np.where(sees_own, recorded, 0), np.where(sees_own, missed, 0)
        if network.n_edges and shown.any():
            own_d = own_d + w * network.neighbour_sum(np.where(shown, recorded, 0))
            own_m = own_m + w * network.neighbour_sum(np.where(shown, missed, 0))
        forget_and_add(self.detected, keep, own_d)
        forget_and_add(self.missed, keep, own_m)

        hit = np.zeros(n, np.float32)  # sanctions (not privileges) on each person today
        for name, rcfg in sanctions.rules:
            if rcfg.effect in SANCTION_EFFECTS and name in sanc.hits:
                np.add.at(hit, sanc.hits[name], 1)
        seen = hit.copy()
        visible = np.zeros(n, bool)
        for sch in schemes.values():
            visible |= sch.visible_to_friends
        if network.n_edges and visible.any():
            seen += w * network.neighbour_sum(np.where(visible, hit, 0))
        named = people.blacklisted_until == step + blacklist_days
        if named.any() and cfg.naming_weight > 0:
            per_region = np.bincount(people.region[named], minlength=int(people.region.max()) + 1)
            seen += np.float32(cfg.naming_weight) * per_region[people.region].astype(np.float32)
        forget_and_add(self.sanctions_seen, keep, seen)

    def detection(self, nu: np.ndarray) -> np.ndarray:
        """Perceived detection probability: the Beta posterior mean around the announced
        recording chance ``nu``; 0 for those who cannot be recorded at all."""
        p = beta_mean(nu, self.cfg.detection_prior_strength, self.detected, self.missed)
        self.perceived_detection = np.where(nu > 0, p, np.float32(0)).astype(np.float32)
        return self.perceived_detection

    def severity(self, announced: np.ndarray, punished: np.ndarray) -> np.ndarray:
        """Perceived severity: the announced part (per person) plus
        ``severity_per_sanction * log(1 + sanctions remembered)`` where a scheme that scores
        the person punishes political acts (``punished``)."""
        experienced = np.float32(self.cfg.severity_per_sanction) * np.log1p(
            self.sanctions_seen)
        self.perceived_severity = (announced + np.where(punished, experienced, 0)).astype(
            np.float32)
        return self.perceived_severity


def personal_severity(cfg: AdaptationConfig, people: People, schemes: dict[str, Scheme],
                      sanctions: Sanctions, phase: str, knowledge: dict[str, np.ndarray]
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(announced severity per person, punished): for each scheme the person is scored in
    and whose political penalties reach their region, the share of it they know times
    ``severity_per_point * penalty + severity_per_sanction * reach of its sanction rules in
    force`` (:func:`rule_reach`); ``punished``: some such scheme scores them.
    ``knowledge``: per scheme, the share of its rules each person knows."""
    n = people.n
    psi = np.zeros(n, np.float32)
    punished = np.zeros(n, bool)
    reach: dict[str, np.ndarray] = {}
    for name, rcfg in sanctions.rules:
        if (rcfg.scheme and rcfg.effect in SANCTION_EFFECTS
                and sanctions.conditions[name].holds_in_phase(phase)):
            w = rule_reach(rcfg, schemes[rcfg.scheme], people, sanctions.region_names,
                           cfg.severity_reach_points)
            reach[rcfg.scheme] = reach[rcfg.scheme] + w if rcfg.scheme in reach else w
    for name, sch in schemes.items():
        penalty = np.maximum(-sch.points_table(phase)[:, POLITICAL], 0.0).sum(axis=1)
        p = penalty[people.region]
        hit = (p > 0) & sch.visible_to_self
        stake = np.float32(cfg.severity_per_point) * p + np.float32(
            cfg.severity_per_sanction) * reach.get(name, np.float32(0))
        psi += np.where(hit, knowledge[name] * stake, 0).astype(np.float32)
        punished |= hit
    return psi, punished
