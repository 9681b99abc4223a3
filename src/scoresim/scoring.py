"""Scoring schemes: rules -> own score ``b``; friends -> published score ``s`` (M2-M4, M8-M10).

A scheme's state is a handful of arrays over people. Each step:

1. rule points from the step's records, per region and phase, capped per period (M2, M3);
2. ``b`` accumulates them within the range; an early-enrolment bonus accrues (M8);
3. no platform activity for ``inactivity.after_days`` decays ``b`` (M9);
4. ``s = clip((1 - w) * b + w * mean(s of scored friends, previous step))``; no scored
   friends: ``s = b`` (M4).

A parallel ``b_clean`` / ``s_clean`` leaves out misattributed records: a sanction that the
clean score would not have triggered is counted as wrongful.
"""

from __future__ import annotations

import numpy as np

from scoresim import conditions
from scoresim.events import EVENT_KINDS, KIND_INDEX, N_KINDS
from scoresim.network import Network
from scoresim.people import People
from scoresim.scenario import RuleConfig, Scenario, SchemeConfig
from scoresim.sources import Records

NOT_ENROLLED, ENROLLED, OPTED_OUT = 0, 1, 2
ENROLMENT_STATES = ("none", "enrolled", "opted_out")
PLATFORM_KINDS = np.array([k.platform for k in EVENT_KINDS])


class CompiledRule:
    """A rule with its names resolved to indices, ready for vectorised matching."""

    def __init__(self, rule: RuleConfig, scenario: Scenario, scheme: SchemeConfig, n: int):
        src_names = list(scenario.sources)
        regions = list(scenario.people.regions)
        self.config = rule
        self.kind = KIND_INDEX[rule.kind]
        self.points = float(rule.points)
        wanted = [rule.source] if rule.source else scheme.sources
        self.sources = np.array(
            [src_names.index(s) for s in wanted if rule.kind in scenario.sources[s].kinds],
            dtype=np.int16,
        )
        self.condition = rule_condition(rule.regions, rule.phases, rule.when)
        self.regions = regions
        # Regions where the rule applies, as a lookup table (None: everywhere).
        region_clauses = [c for c in self.condition.clauses if c.name == "region"]
        self.region_ok = None
        if region_clauses:
            self.region_ok = np.array([all(c.test(r) for c in region_clauses)
                                       for r in regions])
        self.person_clauses = any(c.name not in ("region", "phase")
                                  for c in self.condition.clauses)
        self.cap = rule.cap_points
        self.cap_period = rule.cap_period_days
        if self.cap is not None:
            self.cum = np.zeros(n, np.float32)
            self.cum_clean = np.zeros(n, np.float32)

    def active(self, phase: str) -> bool:
        return self.condition.holds_in_phase(phase)


class Scheme:
    def __init__(self, name: str, cfg: SchemeConfig, scenario: Scenario, people: People):
        n = people.n
        self.name, self.cfg, self.n = name, cfg, n
        self.source_ids = np.array([list(scenario.sources).index(s) for s in cfg.sources],
                                   dtype=np.int16)
        self.rules = [CompiledRule(r, scenario, cfg, n) for r in cfg.rules]
        self.state = np.zeros(n, np.int8)  # change through set_state
        self.state_version = 0
        self._scored_friends_version: int | None = None  # network version it counts
        self._scored_friends = np.zeros(n, np.float32)
        self._scored_changed: list[tuple[np.ndarray, np.ndarray]] = []
        self.enrol_step = np.full(n, -1, np.int32)
        self.early = np.zeros(n, bool)
        self.b = np.full(n, cfg.initial_score, np.float32)
        self.b_clean = self.b.copy()
        self.s = self.b.copy()
        self.s_clean = self.b.copy()
        self.last_active = np.zeros(n, np.int32)
        self.knowledge = np.zeros(n, np.float32)
        self.n_regions = len(scenario.people.regions)
        tiers = sorted(cfg.tiers.items(), key=lambda kv: kv[1].min)
        self.tier_names = [t for t, _ in tiers]
        self.tier_mins = np.array([b.min for _, b in tiers], dtype=np.float32)

    # ------------------------------------------------------------------ who is scored

    @property
    def scored(self) -> np.ndarray:
        """Carries a score: enrolled, or opted out with a shadow score (M10)."""
        return self._is_scored(self.state)

    def _is_scored(self, state: np.ndarray) -> np.ndarray:
        if self.cfg.shadow_score:
            return state != NOT_ENROLLED
        return state == ENROLLED

    @property
    def visible_to_self(self) -> np.ndarray:
        """Sees their own score: enrolled (never a shadow score), scheme not hidden."""
        if self.cfg.visibility == "hidden":
            return np.zeros(self.n, bool)
        return self.state == ENROLLED

    @property
    def visible_to_friends(self) -> np.ndarray:
        if self.cfg.visibility in ("friends", "public"):
            return self.state == ENROLLED
        return np.zeros(self.n, bool)

    # ------------------------------------------------------------------------ points

    def points_table(self, phase: str) -> np.ndarray:
        """Nominal points per (region, kind) in this phase: what a person could learn."""
        table = np.zeros((self.n_regions, N_KINDS), np.float32)
        for rule in self.rules:
            if not rule.active(phase):
                continue
            if rule.region_ok is None:
                table[:, rule.kind] += rule.points
            else:
                table[rule.region_ok, rule.kind] += rule.points
        return table

    def rule_points(
        self, records: Records, people: People, phase: str, step: int
    ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """Points this step from all rules: (with errors, without errors, per rule)."""
        n = self.n
        total = np.zeros(n, np.float64)
        clean = np.zeros(n, np.float64)
        per_rule = []
        scored = self.scored
        in_scheme = np.isin(records.source, self.source_ids) & scored[records.person]
        for rule in self.rules:
            if not rule.active(phase):
                per_rule.append(None)
                continue
            sel = in_scheme & (records.kind == rule.kind) & np.isin(records.source,
                                                                     rule.sources)
            if rule.region_ok is not None:
                sel &= rule.region_ok[people.region[records.person]]
            if rule.person_clauses:
                sel &= rule.condition.person_mask(people, self, rule.regions)[records.person]
            who = records.person[sel]
            pts = records.count[sel] * rule.points
            wrong = records.misattributed[sel]
            got = np.bincount(who, weights=pts, minlength=n)
            got_clean = np.bincount(who[~wrong], weights=pts[~wrong], minlength=n)
            if rule.cap is not None:
                if step % rule.cap_period == 0:
                    rule.cum[:] = 0.0
                    rule.cum_clean[:] = 0.0
                got = _capped(rule.cum, got, rule.cap)
                got_clean = _capped(rule.cum_clean, got_clean, rule.cap)
            total += got
            clean += got_clean
            per_rule.append(got)
        return total, clean, per_rule

    def update_own(
        self,
        records: Records,
        people: People,
        phase: str,
        step: int,
        early_phase: bool,
    ) -> dict:
        """Advance ``b``: rules, early-enrolment bonus, inactivity decay. Returns the parts
        (for the ledger of traced people)."""
        cfg = self.cfg
        pts, pts_clean, per_rule = self.rule_points(records, people, phase, step)
        scored = self.scored

        bonus = np.zeros(self.n, np.float32)
        if early_phase and cfg.enrolment.early_bonus_points_per_day:
            bonus[scored] = cfg.enrolment.early_bonus_points_per_day

        platform = PLATFORM_KINDS[records.kind] & np.isin(records.source, self.source_ids)
        self.last_active[records.person[platform]] = step
        decay = np.zeros(self.n, np.float32)
        if cfg.inactivity.decay_points_per_day:
            idle = scored & (step - self.last_active > cfg.inactivity.after_days)
            decay[idle] = cfg.inactivity.decay_points_per_day

        lo, hi = cfg.min_score, cfg.max_score
        delta = (pts + bonus - decay).astype(np.float32)
        self.b = np.where(scored, np.clip(self.b + delta, lo, hi), self.b).astype(np.float32)
        delta_clean = (pts_clean + bonus - decay).astype(np.float32)
        self.b_clean = np.where(
            scored, np.clip(self.b_clean + delta_clean, lo, hi), self.b_clean
        ).astype(np.float32)
        return {"points": pts, "per_rule": per_rule, "bonus": bonus, "decay": decay}

    def publish(self, network: Network) -> None:
        """Published score: own score pulled toward scored friends' previous scores (M4)."""
        w = self.cfg.friend_weight
        scored = self.scored
        if w == 0.0 or network.n_edges == 0:
            self.s, self.s_clean = self.b.copy(), self.b_clean.copy()
            return
        weight = scored.astype(np.float32)
        n_friends = self.scored_friends(network)
        friends_sum = network.neighbour_sum(self.s * weight)
        has = scored & (n_friends > 0)
        mean = np.divide(friends_sum, n_friends, out=np.zeros(self.n, np.float32),
                         where=n_friends > 0)
        lo, hi = self.cfg.min_score, self.cfg.max_score
        self.s = np.where(has, np.clip((1 - w) * self.b + w * mean, lo, hi), self.b)
        self.s_clean = np.where(has, np.clip((1 - w) * self.b_clean + w * mean, lo, hi),
                                self.b_clean)
        self.s = self.s.astype(np.float32)
        self.s_clean = self.s_clean.astype(np.float32)

    def scored_friends(self, network: Network) -> np.ndarray:
        """How many scored friends each person has. Recounted when ties change; between
        rewirings kept up to date from the enrolment changes alone (exact: whole counts)."""
        if self._scored_friends_version != network.version:
            self._scored_friends = network.neighbour_sum(self.scored.astype(np.float32))
            self._scored_friends_version = network.version
        else:
            for who, delta in self._scored_changed:
                network.add_to_friends(self._scored_friends, who, delta)
        self._scored_changed = []
        return self._scored_friends

    def set_state(self, who: np.ndarray, state: int) -> None:
        """Change the enrolment state of ``who`` (distinct ids; keeps caches honest)."""
        if who.size:
            before = self._is_scored(self.state[who])
            self.state[who] = state
            self.state_version += 1
            delta = (self._is_scored(self.state[who]).astype(np.float32)
                     - before.astype(np.float32))
            moved = delta != 0
            if moved.any():
                self._scored_changed.append((who[moved], delta[moved]))

    def tier_index(self, scores: np.ndarray | None = None) -> np.ndarray:
        scores = self.s if scores is None else scores
        if not self.tier_names:
            return np.zeros(scores.shape, np.int16)
        return (np.searchsorted(self.tier_mins, scores, side="right") - 1).clip(0).astype(
            np.int16
        )


def rule_condition(regions: list[str], phases: list[str], when: str | None):
    """One condition from a rule's (or sanction's) regions, phases and ``when``."""
    clauses = []
    if regions:
        clauses.append(conditions.Clause("region", "in", tuple(regions)))
    if phases:
        clauses.append(conditions.Clause("phase", "in", tuple(phases)))
    if when:
        clauses.extend(conditions.parse(when).clauses)
    return conditions.Condition(tuple(clauses))


def _capped(cum: np.ndarray, got: np.ndarray, cap: float) -> np.ndarray:
    """Clip each person's running total within [-cap, cap]; return what may be added."""
    new = np.clip(cum + got, -cap, cap)
    allowed = new - cum
    cum[:] = new
    return allowed
