"""A scoring scheme (M2-M4, M8-M10): rules -> own score ``b``; friends -> published score ``s``.

A scheme is made of four components, each in its own module:

1. :class:`~scoresim.model.enrolment.Enrolment`: who is enrolled, opted out (a shadow
   score, M10) or not, since when, and who enrolled early (M8);
2. :class:`~scoresim.model.rules.Rules`: rule points from the step's records, per region
   and phase, capped per period (M2, M3);
3. an :class:`~scoresim.model.accumulation.Accumulation`: how ``b`` accumulates them (a
   running sum, a level of the records in force, or a weighted level of factors), with the
   early-enrolment bonus (M8) and the inactivity decay (M9); chosen when the scheme is built;
4. :class:`~scoresim.model.publishing.Publishing`: ``s = clip((1 - w) * b + w * mean(s of
   scored friends, previous step))``; no scored friends: ``s = b`` (M4); recomputed every
   ``recompute_every_days`` (Suqian: monthly), unchanged in between; tiers (M5).

A parallel ``b_clean`` / ``s_clean`` leaves out misattributed records (the person's and,
through friends' ``s_clean``, their friends'): a sanction that the clean score would not have
triggered is counted as wrongful. ``s_own``, published on the same days as ``s`` without the
friends' term, is the score had friends' scores not entered it: a sanction that it would not
have triggered is by association.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from scoresim.model.accumulation import (  # (the plain rules, by their old address too)
    Accumulation,
    Level,
    advance_own,
    factor_levels,
    make_accumulation,
    mark_active,
)
from scoresim.model.component import Component
from scoresim.model.enrolment import Enrolment
from scoresim.model.network import Network
from scoresim.model.people import People
from scoresim.model.publishing import FriendSums, Publishing, pull_to_friends
from scoresim.model.record_log import RecordLog
from scoresim.model.rules import CompiledRule, Rules, add_rule_points, rule_condition
from scoresim.model.sources import Records
from scoresim.scenario.schema import Scenario, SchemeConfig

if TYPE_CHECKING:
    from types import SimpleNamespace

__all__ = ["Scheme", "CompiledRule", "FriendSums", "rule_condition", "add_rule_points",
           "advance_own", "factor_levels", "mark_active", "pull_to_friends"]


class Scheme(Component):
    """One scheme: its enrolment, rules, accumulation and publishing (its parts, in
    that order: a newcomer's slot is reset in it, :meth:`Component.reset`)."""

    def __init__(self, name: str, cfg: SchemeConfig, scenario: Scenario, people: People,
                 kernels: SimpleNamespace):
        n = people.n
        self.name, self.cfg, self.n = name, cfg, n
        self.key = key = f"scheme.{name}"
        self.enrolment = Enrolment(f"{key}.enrolment", cfg, n)
        self.rules_part = Rules(f"{key}", cfg, scenario, n, kernels)
        self.accumulation: Accumulation = make_accumulation(
            f"{key}.accumulation", name, cfg, n, self.rules_part.in_scheme_source, kernels)
        self.publishing = Publishing(f"{key}.publishing", cfg, n, kernels)

    def parts(self) -> list[Component]:
        return [self.enrolment, self.rules_part, self.accumulation, self.publishing]

    # ------------------------------------------------------------- what others read

    @property
    def rules(self) -> list[CompiledRule]:
        return self.rules_part.rules

    @property
    def state(self) -> np.ndarray:
        return self.enrolment.state

    @property
    def scored(self) -> np.ndarray:
        return self.enrolment.scored

    @property
    def visible_to_self(self) -> np.ndarray:
        return self.enrolment.visible_to_self

    @property
    def visible_to_friends(self) -> np.ndarray:
        return self.enrolment.visible_to_friends

    @property
    def enrol_step(self) -> np.ndarray:
        return self.enrolment.enrol_step

    @property
    def early(self) -> np.ndarray:
        return self.enrolment.early

    @property
    def b(self) -> np.ndarray:
        return self.accumulation.b

    @property
    def b_clean(self) -> np.ndarray:
        return self.accumulation.b_clean

    @property
    def s(self) -> np.ndarray:
        return self.publishing.s

    @property
    def s_clean(self) -> np.ndarray:
        return self.publishing.s_clean

    @property
    def s_own(self) -> np.ndarray:
        return self.publishing.s_own

    @property
    def friend_sums(self) -> FriendSums | None:
        return self.publishing.friend_sums

    @property
    def tier_names(self) -> list[str]:
        return self.publishing.tier_names

    @property
    def tier_mins(self) -> np.ndarray:
        return self.publishing.tier_mins

    def tier_index(self, scores: np.ndarray | None = None) -> np.ndarray:
        return self.publishing.tier_index(scores)

    @property
    def log(self) -> RecordLog | None:
        """The record log (None where points count for ever)."""
        return self.accumulation.log if isinstance(self.accumulation, Level) else None

    @property
    def logs(self) -> list[RecordLog]:
        """Every record log: the scheme's, and one per factor with rules."""
        return self.accumulation.logs() if isinstance(self.accumulation, Level) else []

    def set_state(self, who: np.ndarray, state: int) -> None:
        self.enrolment.set_state(who, state)

    def scored_friends(self, network: Network) -> np.ndarray:
        return self.enrolment.scored_friends(network)

    def point_worth(self) -> np.ndarray:
        return self.accumulation.point_worth()

    def points_table(self, phase: str) -> np.ndarray:
        """Nominal points per (region, kind) in this phase: what a person could learn."""
        return self.rules_part.points_table(phase, self.accumulation.point_worth())

    def give_head_start(self, who: np.ndarray, points: float, step: int) -> None:
        self.accumulation.give_head_start(who, points, step)

    # ---------------------------------------------------------------------- the day

    def update_own(self, records: Records, people: People, phase: str, step: int,
                   early_phase: bool, keep_per_rule: bool = True, streams=None) -> dict:
        """Advance ``b``: rules, early-enrolment bonus, inactivity decay (and, where points
        lapse, lapses and credit repair). Returns the parts (for the ledger of traced
        people). ``streams`` draws the repair applications (needed where repair is on)."""
        acc = self.accumulation
        pts, pts_clean, per_rule, today = self.rules_part.rule_points(
            records, people, self, phase, step, keep_per_rule, sparse=acc.sparse)
        return acc.advance(records, self.scored, pts, pts_clean, per_rule, today, step,
                           early_phase, keep_per_rule, streams)

    def publish(self, network: Network, step: int = 0) -> None:
        """The published score (:meth:`Publishing.publish`) from today's own score."""
        self.publishing.publish(network, step, self.b, self.b_clean, self.scored,
                                lambda: self.scored_friends(network))

    # ------------------------------------------------------ newcomers, checkpoints

    def load(self, arrays: dict[str, np.ndarray], values: dict[str, Any]) -> None:
        """A scheme new at a fork starts as everyone's would; one that existed carries its
        state over, and where its points start to lapse at the fork (or its factors are
        new), what its score had before counts for ever."""
        if f"{self.key}.accumulation.b" not in arrays:
            return
        super().load(arrays, values)
        acc = self.accumulation
        if isinstance(acc, Level):
            had_log = any(k.startswith(f"{acc.log.key}.") for k in arrays)
            had_factors = any(k.startswith(f"{self.key}.accumulation.factor.")
                              for k in arrays)
            if not had_log:
                Level.carry_over(acc, acc.b, acc.b_clean)
            if self.cfg.factors and not had_factors:
                acc.carry_over(acc.b, acc.b_clean)

    def reset_log(self, who: np.ndarray) -> None:
        """The slots ``who`` lose every record in force (their own score back to the
        initial score)."""
        for log in self.logs:
            log.reset(who, 0)
        if self.logs:
            self.accumulation.set_level(who)

