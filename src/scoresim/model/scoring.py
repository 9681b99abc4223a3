"""Scoring schemes: rules -> own score ``b``; friends -> published score ``s`` (M2-M4, M8-M10).

A scheme's state is a handful of arrays over people. Each step:

1. rule points from the step's records, per region and phase, capped per period (M2, M3);
2. ``b`` accumulates them within the range; an early-enrolment bonus accrues (M8);
3. no platform activity for ``inactivity.after_days`` decays ``b`` (M9);
4. ``s = clip((1 - w) * b + w * mean(s of scored friends, previous step))``; no scored
   friends: ``s = b`` (M4); recomputed every ``recompute_every_days`` (Suqian: monthly),
   unchanged in between.

Scores as levels (a scheme with ``lasts_days``): every day's points, the head start, the
early bonus and the inactivity decay are records in a :class:`RecordLog` that count for a
stated period, in full (window), fading linearly, or exponentially; the own score is
``b = clip(initial + points in force)``, so a score is a level that recent behaviour moves,
not a running sum that drifts for as long as the run lasts. Negative records may be
removed early by credit repair (an application, a waiting period). Without ``lasts_days``
the own score is the running sum of step 2-3, as before.

A weighted level of factors (a scheme with ``factors``, Sesame-style): each rule names a
factor; each factor keeps the records of its rules in a log of its own, and its level is a
saturating function of its points in force (:func:`factor_levels`); ``b = clip(min +
(max - min) * sum of weight * level + points in force of the other records)``.

A parallel ``b_clean`` / ``s_clean`` leaves out misattributed records: a sanction that the
clean score would not have triggered is counted as wrongful.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scoresim.declarations.categories import ENROLLED, NOT_ENROLLED
from scoresim.declarations.events import EVENT_KINDS, KIND_INDEX, N_KINDS
from scoresim.engine.kernels.scoring import (  # the compiled kernels
    _add_rule_points,
    _advance_own,
    _mark_active,
    _pull_to_friends,
    _rule_points_sparse,
    _set_level,
)
from scoresim.model.network import Network
from scoresim.model.people import People
from scoresim.model.record_log import BONUS, DECAY, HEAD_START, RecordLog
from scoresim.model.sources import Records, once_per_event
from scoresim.scenario import conditions
from scoresim.scenario.schema import RuleConfig, Scenario, SchemeConfig

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


@dataclass(frozen=True)
class FriendSums:
    """One publishing pass: per person, the sum of ``scores`` over friends who were
    ``scored`` (on the network of version ``network_version``)."""

    network_version: int
    scores: np.ndarray
    scored: np.ndarray
    sums: np.ndarray


class Scheme:
    def __init__(self, name: str, cfg: SchemeConfig, scenario: Scenario, people: People,
                 reference: bool = False):
        n = people.n
        self.reference = reference  # the plain rules instead of the compiled kernels
        self.name, self.cfg, self.n = name, cfg, n
        self.source_ids = np.array([list(scenario.sources).index(s) for s in cfg.sources],
                                   dtype=np.int16)
        self.rules = [CompiledRule(r, scenario, cfg, n) for r in cfg.rules]
        self.n_sources = len(scenario.sources)
        self.in_scheme_source = np.zeros(self.n_sources, bool)  # per source: one of ours?
        self.in_scheme_source[self.source_ids] = True
        # A capped rule's per-person sums (zero between uses) and who has some.
        self._scratch = (np.zeros(n, np.float64), np.zeros(n, np.float64), np.zeros(n, bool))
        self.state = np.zeros(n, np.int8)  # change through set_state
        self.state_version = 0
        self._state_cache: dict[str, tuple[int, np.ndarray]] = {}
        self.friend_sums: FriendSums | None = None
        self._scored_friends_version: int | None = None  # network version it counts
        self._scored_friends = np.zeros(n, np.float32)
        self._scored_changed: list[tuple[np.ndarray, np.ndarray]] = []
        self.started = False  # its enrolment has had its first day
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
        # Scores as levels: the records in force (None: points count for ever).
        self.log = RecordLog(cfg, n, reference) if RecordLog.wanted(cfg) else None
        # A weighted level of factors: the rules' records in one log per factor that has
        # rules (the head start, bonus and decay stay in ``log``, as points); a factor
        # without rules stays at its starting level.
        names = list(cfg.factors)
        self.factor_names = [f for f in names if any(r.factor == f for r in cfg.rules)]
        self.factor_logs = [RecordLog(cfg, n, reference) for _ in self.factor_names]
        self.factor_of_rule = np.array([self.factor_names.index(r.factor) for r in cfg.rules]
                                       if names else [], np.int64)
        self.factor_weights = np.array([cfg.factors[f].weight for f in self.factor_names])
        self.factor_scales = np.array([cfg.factors[f].scale_points for f in self.factor_names])
        lo, hi = cfg.min_score, cfg.max_score
        #: the score of the factors without rules, at their starting level
        self.factor_fixed = (hi - lo) * sum(f.weight for k, f in cfg.factors.items()
                                            if k not in self.factor_names) * (
            (cfg.initial_score - lo) / (hi - lo) if names else 0.0)
        # (rule, people, points, clean: today's points of each rule, for the record log)
        self._today: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []

    # ------------------------------------------------------------------ who is scored

    @property
    def scored(self) -> np.ndarray:
        """Carries a score: enrolled, or opted out with a shadow score (M10). Read only,
        made again after each change of state (:meth:`set_state`)."""
        return self._by_state("scored", self._is_scored)

    def _by_state(self, name: str, make) -> np.ndarray:
        cached = self._state_cache.get(name)
        if cached is None or cached[0] != self.state_version:
            value = make(self.state)
            value.flags.writeable = False
            cached = self._state_cache[name] = (self.state_version, value)
        return cached[1]

    def _is_scored(self, state: np.ndarray) -> np.ndarray:
        if self.cfg.shadow_score:
            return state != NOT_ENROLLED
        return state == ENROLLED

    @property
    def visible_to_self(self) -> np.ndarray:
        """Sees their own score: enrolled (never a shadow score), scheme not hidden."""
        if self.cfg.visibility == "hidden":
            return np.zeros(self.n, bool)
        return self._by_state("enrolled", lambda state: state == ENROLLED)

    @property
    def visible_to_friends(self) -> np.ndarray:
        if self.cfg.visibility in ("friends", "public"):
            return self._by_state("enrolled", lambda state: state == ENROLLED)
        return np.zeros(self.n, bool)

    # ------------------------------------------------------------------------ points

    def points_table(self, phase: str) -> np.ndarray:
        """Nominal points per (region, kind) in this phase: what a person could learn."""
        table = np.zeros((self.n_regions, N_KINDS), np.float32)
        worth = self.point_worth()
        for r, rule in enumerate(self.rules):
            if not rule.active(phase):
                continue
            points = np.float32(rule.points * worth[r])
            if rule.region_ok is None:
                table[:, rule.kind] += points
            else:
                table[rule.region_ok, rule.kind] += points
        return table

    def point_worth(self) -> np.ndarray:
        """Score points a rule point is worth, per rule: 1, or under a weighted level of
        factors its worth at the start (every factor at its starting level ``l0``):
        ``(max - min) * weight * l0 * (1 - l0) / scale_points`` (the slope of the level)."""
        if not self.cfg.factors:
            return np.ones(len(self.rules))
        lo, hi = self.cfg.min_score, self.cfg.max_score
        l0 = (self.cfg.initial_score - lo) / (hi - lo)
        per_factor = (hi - lo) * self.factor_weights * l0 * (1 - l0) / self.factor_scales
        return per_factor[self.factor_of_rule]

    def rule_points(
        self, records: Records, people: People, phase: str, step: int,
        keep_per_rule: bool = True,
    ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray | None]]:
        """Points this step from all rules: (with errors, without errors, per rule).

        Each rule walks only the records of its kind; capped rules clip only the people
        who have records. ``per_rule`` (dense, one array per rule; None for rules not in
        force) is filled when ``keep_per_rule``, for the ledger of traced people."""
        n = self.n
        total = np.zeros(n, np.float64)
        clean = np.zeros(n, np.float64)
        per_rule: list[np.ndarray | None] = []
        scored = self.scored
        order, starts = records.by_kind()
        in_scheme = self.in_scheme_source
        none_bool, none_f64 = np.zeros(0, bool), np.zeros(0, np.float64)
        self._today = []
        for r, rule in enumerate(self.rules):
            if not rule.active(phase):
                per_rule.append(None)
                continue
            rule_src = np.zeros(self.n_sources, bool)
            rule_src[rule.sources] = True
            rule_src &= in_scheme
            mask = (rule.condition.person_mask(people, self, rule.regions)
                    if rule.person_clauses else None)
            extra = np.zeros(n, np.float64) if keep_per_rule else none_f64
            idx = order[starts[rule.kind]:starts[rule.kind + 1]]
            if np.count_nonzero(rule_src) > 1:  # (an event seen by two sources: once)
                idx = once_per_event(idx, records.person, records.source, records.count,
                                     records.misattributed, rule_src)
            if rule.cap is not None and step % rule.cap_period == 0:
                rule.cum[:] = 0.0
                rule.cum_clean[:] = 0.0
            args = (
                idx, records.person, records.source, records.count, records.misattributed,
                rule_src, scored,
                none_bool if rule.region_ok is None else rule.region_ok, people.region,
                none_bool if mask is None else mask, rule.points,
                rule.cap if rule.cap is not None else -1.0,
                rule.cum if rule.cap is not None else none_f64.astype(np.float32),
                rule.cum_clean if rule.cap is not None else none_f64.astype(np.float32),
            )
            if self.log is not None and not self.reference:  # (the same, kept sparse)
                who, got, got_clean = _rule_points_sparse(*args, self._scratch, total, clean)
                self._today.append((r, who, got, got_clean))
                if keep_per_rule:
                    extra[who] = got
                per_rule.append(extra if keep_per_rule else None)
                continue
            if self.log is not None:  # (each rule's own points, for the record log)
                into = (np.zeros(n, np.float64), np.zeros(n, np.float64), none_f64)
            else:
                into = (total, clean, extra)
            if self.reference:
                add_rule_points(*args, *into)
            else:
                _add_rule_points(*args, self._scratch, *into)
            if self.log is not None:
                total += into[0]
                clean += into[1]
                who = np.flatnonzero((into[0] != 0) | (into[1] != 0))
                self._today.append((r, who, into[0][who], into[1][who]))
                extra = into[0]
            per_rule.append(extra if keep_per_rule else None)
        return total, clean, per_rule

    def update_own(
        self,
        records: Records,
        people: People,
        phase: str,
        step: int,
        early_phase: bool,
        keep_per_rule: bool = True,
        streams=None,
    ) -> dict:
        """Advance ``b``: rules, early-enrolment bonus, inactivity decay (and, where points
        lapse, lapses and credit repair). Returns the parts (for the ledger of traced
        people). ``streams`` draws the repair applications (needed where repair is on)."""
        cfg = self.cfg
        pts, pts_clean, per_rule = self.rule_points(records, people, phase, step,
                                                    keep_per_rule)
        scored = self.scored

        bonus = np.float32(0.0)
        if early_phase and cfg.enrolment.early_bonus_points_per_day:
            bonus = np.float32(cfg.enrolment.early_bonus_points_per_day)

        order, starts = records.by_kind()
        in_scheme = self.in_scheme_source
        for k in np.flatnonzero(PLATFORM_KINDS):
            if starts[k + 1] > starts[k]:
                (mark_active if self.reference else _mark_active)(
                    order[starts[k]:starts[k + 1]], records.person, records.source,
                    in_scheme, self.last_active, step)
        decay_points = np.float32(cfg.inactivity.decay_points_per_day)
        decay_after = cfg.inactivity.after_days if cfg.inactivity.decay_points_per_day else -1

        lo, hi = np.float32(cfg.min_score), np.float32(cfg.max_score)
        if self.log is not None:
            return self._advance_level(step, scored, pts, per_rule, bonus, decay_after,
                                       decay_points, keep_per_rule, streams)
        advance = advance_own if self.reference else _advance_own
        advance(self.b, self.b_clean, pts, pts_clean, scored, bonus, self.last_active, step,
                decay_after, decay_points, lo, hi)
        parts = {"points": pts, "per_rule": per_rule, "bonus": None, "decay": None}
        if keep_per_rule:
            idle = scored & (decay_after >= 0) & (step - self.last_active > decay_after)
            parts["bonus"] = np.where(scored, bonus, np.float32(0.0))
            parts["decay"] = np.where(idle, decay_points, np.float32(0.0))
        return parts

    def _advance_level(self, step, scored, pts, per_rule, bonus, decay_after, decay_points,
                       keep_per_rule, streams) -> dict:
        """``b`` as a level: yesterday's records lapse (or fade), repaired ones go, today's
        enter the log; ``b = clip(initial + points in force)`` for the scored."""
        log, cfg = self.log, self.cfg
        if self.cfg.factors:
            return self._advance_factors(step, scored, per_rule, bonus, decay_after,
                                         decay_points, keep_per_rule)
        lapsed = log.lapse(step, keep_per_rule)
        repaired = None
        if cfg.repair.apply_rate_per_day:
            u = streams.gen(f"scoring.{self.name}.repair", step).random(self.n)
            log.apply_for_repair(step, scored, u, cfg.repair)
            if step % cfg.recompute_every_days == 0:
                repaired = log.repair(step, keep_per_rule)
        for r, who, points, clean in self._today:
            if who.size:
                log.add(who, points, clean, r, step)
        self._today = []
        bonus_pts = decay = None  # (made where needed)
        if bonus or keep_per_rule:
            bonus_pts = np.where(scored, np.float64(bonus), 0.0)
        if bonus:
            log.add_dense(bonus_pts, bonus_pts, BONUS, step)
        if decay_after >= 0 or keep_per_rule:
            idle = scored & (decay_after >= 0) & (step - self.last_active > decay_after)
            decay = np.where(idle, np.float64(decay_points), 0.0)
        if decay_after >= 0:
            log.add_dense(-decay, -decay, DECAY, step)
        self.set_level(scored)
        parts = {"points": pts, "per_rule": per_rule, "bonus": None, "decay": None,
                 "lapsed": lapsed, "repaired": repaired}
        if keep_per_rule:
            parts["bonus"] = bonus_pts.astype(np.float32)
            parts["decay"] = decay.astype(np.float32)
        return parts

    def _advance_factors(self, step, scored, per_rule, bonus, decay_after, decay_points,
                         keep_per_rule) -> dict:
        """``b`` as a weighted level of factors: yesterday's records lapse (or fade) in every
        log, today's rule records enter their factor's log, the bonus and decay the scheme's;
        ``b`` from :meth:`_unclipped`. For the ledger (``keep_per_rule``) a rule's points are
        the score points its records moved today: the change of its factor's term
        ``(max - min) * weight * level``, shared among the factor's rules of the day in
        proportion to their rule points (the records' marginal effect at today's level; the
        same points lapse later at the level of that day, so a record's lapse need not take
        out exactly what it put in)."""
        logs = [self.log, *self.factor_logs]
        before = self._unclipped()[0] if keep_per_rule else None
        for log in logs:
            log.lapse(step)
        terms = self._factor_terms()[:, 0] if keep_per_rule else None  # (F, n)
        lapsed = self._unclipped()[0] - before if keep_per_rule else None
        raw = np.zeros((len(self.factor_names), self.n)) if keep_per_rule else None
        for r, who, points, clean in self._today:
            f = self.factor_of_rule[r]
            if who.size:
                self.factor_logs[f].add(who, points, clean, r, step)
            if keep_per_rule:
                raw[f, who] += points
        self._today = []
        bonus_pts = np.where(scored, np.float64(bonus), 0.0)
        if bonus:
            self.log.add_dense(bonus_pts, bonus_pts, BONUS, step)
        idle = scored & (decay_after >= 0) & (step - self.last_active > decay_after)
        decay = np.where(idle, np.float64(decay_points), 0.0)
        if decay_after >= 0:
            self.log.add_dense(-decay, -decay, DECAY, step)
        self.set_level(scored)
        parts = {"points": None, "per_rule": per_rule, "bonus": None, "decay": None,
                 "lapsed": lapsed, "repaired": None}
        if keep_per_rule:
            moved = self._factor_terms()[:, 0] - terms  # (F, n): score points per factor
            with np.errstate(divide="ignore", invalid="ignore"):
                share = np.where(raw != 0, moved / raw, 0.0)
            for r, got in enumerate(per_rule):
                if got is not None:
                    per_rule[r] = got * share[self.factor_of_rule[r]]
            parts["points"] = moved.sum(axis=0)
            parts["bonus"] = bonus_pts.astype(np.float32)
            parts["decay"] = decay.astype(np.float32)
        return parts

    def _factor_terms(self) -> np.ndarray:
        """``(max - min) * weight * level`` per factor with rules, person (with errors,
        clean): shape (factors, 2, n)."""
        lo, hi = self.cfg.min_score, self.cfg.max_score
        l0 = (self.cfg.initial_score - lo) / (hi - lo)
        if not self.factor_logs:  # (factors declared, no rules)
            return np.zeros((0, 2, self.n))
        x = np.stack([log.level(0.0) for log in self.factor_logs])
        return (hi - lo) * self.factor_weights[:, None, None] * factor_levels(
            x, self.factor_scales, l0)

    def _unclipped(self) -> tuple[np.ndarray, np.ndarray]:
        """The own score before clipping to the range (with errors, clean): ``initial +
        points in force``, or under factors ``min + sum of the factor terms + points in
        force of the other records``."""
        level, level_clean = self.log.level(self.cfg.initial_score)
        if self.cfg.factors:
            terms = self._factor_terms().sum(axis=0)
            shift = self.cfg.min_score - self.cfg.initial_score + self.factor_fixed
            level, level_clean = level + shift + terms[0], level_clean + shift + terms[1]
        return level, level_clean

    def set_level(self, who: np.ndarray) -> None:
        """``b = clip(initial + points in force)`` (under factors: the weighted level, see
        :meth:`_unclipped`) and the clean score for ``who`` (a mask or ids)."""
        lo, hi = self.cfg.min_score, self.cfg.max_score
        log = self.log
        if (not self.reference and not self.cfg.factors and log.for_ever is None
                and not log.fading and who.dtype == np.bool_):  # (the same, in one pass)
            _set_level(log.in_force, np.float64(self.cfg.initial_score), np.float64(lo),
                       np.float64(hi), who, self.b, self.b_clean)
            return
        level, level_clean = self._unclipped()
        self.b[who] = np.clip(level[who], lo, hi).astype(np.float32)
        self.b_clean[who] = np.clip(level_clean[who], lo, hi).astype(np.float32)

    def reset_log(self, who: np.ndarray) -> None:
        """The person slots ``who`` are given to newcomers: their records in force and
        repair state go (:meth:`RecordLog.reset`), their own score back to the initial
        score (called by :meth:`reset`, for newcomers)."""
        if self.log is not None:
            for log in (self.log, *self.factor_logs):
                log.reset(who)
            self.set_level(who)

    def give_head_start(self, who: np.ndarray, points: float, step: int) -> None:
        """M8: ``points`` more for ``who`` (enrolling early). Where points lapse, the head
        start is a record of the scheme's period: an early start, not a lasting privilege."""
        if self.log is None:
            lo, hi = self.cfg.min_score, self.cfg.max_score
            self.b[who] = np.clip(self.b[who] + points, lo, hi)
            self.b_clean[who] = np.clip(self.b_clean[who] + points, lo, hi)
            return
        value = np.full(who.size, points, np.float64)
        self.log.add(who, value, value, HEAD_START, step)
        self.set_level(who)

    def publish(self, network: Network, step: int = 0) -> None:
        """Published score: own score pulled toward scored friends' previous scores (M4),
        on the scheme's recomputation days (every ``recompute_every_days`` from the run's
        first); in between it stays as published."""
        if step % self.cfg.recompute_every_days:
            return
        w = self.cfg.friend_weight
        scored = self.scored
        if w == 0.0 or network.n_edges == 0:
            self.s, self.s_clean = self.b.copy(), self.b_clean.copy()
            return
        n_friends = self.scored_friends(network)
        friends_sum = network.neighbour_sum(self.s, where=scored)
        # Kept for the outcome table: the same sum gives yesterday's score assortativity.
        self.friend_sums = FriendSums(network.version, self.s, scored, friends_sum)
        self.s, self.s_clean = (pull_to_friends if self.reference else _pull_to_friends)(
            self.b, self.b_clean, friends_sum, n_friends, scored, np.float32(1.0 - w),
            np.float32(w), np.float32(self.cfg.min_score), np.float32(self.cfg.max_score))

    def scored_friends(self, network: Network) -> np.ndarray:
        """How many scored friends each person has. Recounted when ties change; between
        rewirings kept up to date from the enrolment changes alone (exact: whole counts)."""
        changed = sum(who.size for who, _ in self._scored_changed)
        if self._scored_friends_version != network.version or changed > network.n // 16:
            # (ties changed, or so many people that counting again costs less)
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

    def reset(self, who: np.ndarray, step: int) -> None:
        """Newcomers in the slots ``who`` (:mod:`scoresim.model.demography`): not enrolled
        (the enrolment rules take them from the next policy pass), the initial score,
        active today, nothing learnt, no points towards a cap."""
        if not who.size:
            return
        self.set_state(who, NOT_ENROLLED)
        self.enrol_step[who] = -1
        self.early[who] = False
        self.reset_log(who)  # (no records in force, no repair under way)
        for scores in (self.b, self.b_clean, self.s, self.s_clean):
            scores[who] = self.cfg.initial_score
        self.last_active[who] = step
        self.knowledge[who] = 0.0
        for rule in self.rules:
            if rule.cap is not None:
                rule.cum[who] = 0.0
                rule.cum_clean[who] = 0.0
        self.friend_sums = None  # (the published scores changed)

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


# ------------------------------------------------------------------ the rules, plainly
# The reference engine (``Sim(..., engine="reference")``) runs these; the compiled kernels
# below compute the same numbers (tests/test_engines.py holds them to each other).


def factor_levels(points, scales, l0):
    """A factor's level from the points in force of its rules: ``1 / (1 + exp(-(logit(l0)
    + points / scale)))``, within (0, 1), ``l0`` without points, saturating (a point moves
    the level by ``level * (1 - level) / scale``). ``points``: (factors, ...) float64;
    ``scales``: per factor. Used by both engines (numpy)."""
    z = np.log(l0 / (1.0 - l0)) + points / scales.reshape((-1,) + (1,) * (points.ndim - 1))
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # (the logistic function, without overflow)


def pull_to_friends(b, b_clean, friends_sum, n_friends, scored, own, pull, lo, hi):
    """M4: ``s = clip(own * b + pull * mean of scored friends' s, lo, hi)`` (own = 1 - w,
    pull = w) for the scored with scored friends; ``s = b`` for everyone else. The same
    for the clean scores. float32 throughout."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = friends_sum / n_friends
    pulled = scored & (n_friends > 0)
    s = np.where(pulled, np.clip(own * b + pull * mean, lo, hi), b).astype(np.float32)
    s_clean = np.where(pulled, np.clip(own * b_clean + pull * mean, lo, hi),
                       b_clean).astype(np.float32)
    return s, s_clean


def mark_active(idx, person, source, in_scheme, last_active, step):
    """M9: a record from one of the scheme's sources marks its person active today."""
    mine = idx[in_scheme[source[idx]]]
    last_active[person[mine]] = step


def advance_own(b, b_clean, pts, pts_clean, scored, bonus, last_active, step, decay_after,
                decay_points, lo, hi):
    """M2, M8, M9: for the scored, ``b += points + early bonus - inactivity decay``
    within [lo, hi], in place (the change summed in float64, rounded to float32 once);
    decay applies after ``decay_after`` days without platform activity (-1: never)."""
    idle = (decay_after >= 0) & (step - last_active > decay_after)
    decay = np.where(idle, decay_points, np.float32(0.0)).astype(np.float64)
    for own, points in ((b, pts), (b_clean, pts_clean)):
        d = (points + np.float64(bonus) - decay).astype(np.float32)
        own[scored] = np.clip(own[scored] + d[scored], lo, hi)


def add_rule_points(idx, person, source, count, wrong, rule_src, scored, region_ok, region,
                    mask, points, cap, cum, cum_clean, total, clean, extra):
    """M2, M3: one rule's points from the records ``idx`` (all of the rule's kind): a
    record counts if one of the rule's sources made it, its person is scored, in one of
    the rule's regions and meets its condition (``mask``); it gives ``count * points``,
    added to ``total`` (all records), ``clean`` (none misattributed) and ``extra`` (if
    sized). A capped rule (``cap >= 0``) adds only what keeps the person's running total
    for the period (``cum``) within [-cap, cap]."""
    p = person[idx]
    keep = rule_src[source[idx]] & scored[p]
    if region_ok.shape[0]:
        keep &= region_ok[region[p]]
    if mask.shape[0]:
        keep &= mask[p]
    j = idx[keep]
    p, pts, right = person[j], count[j] * points, ~wrong[j]
    if cap < 0.0:
        np.add.at(total, p, pts)
        np.add.at(clean, p[right], pts[right])
        if extra.shape[0]:
            np.add.at(extra, p, pts)
        return
    got, got_clean = np.zeros(total.shape[0]), np.zeros(total.shape[0])
    np.add.at(got, p, pts)
    np.add.at(got_clean, p[right], pts[right])
    who = np.unique(p)
    for running, gained, into in ((cum, got, (total, extra)), (cum_clean, got_clean, (clean,))):
        new = np.clip(running[who] + gained[who], -cap, cap)
        allowed = new - running[who]
        running[who] = new
        for out in into:
            if out.shape[0]:
                out[who] += allowed


# ---------------------------------------------------------------- the compiled kernels


