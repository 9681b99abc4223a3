"""How a scheme's own score ``b`` accumulates (M2, M8, M9): one strategy per scheme, chosen
when the scheme is built (:func:`make_accumulation`).

- :class:`RunningSum`: ``b += points + early bonus - inactivity decay`` within the range,
  for as long as the run lasts (a scheme without ``lasts_days``).
- :class:`Level`: scores as levels. Every day's points, the head start, the early bonus
  and the inactivity decay are records in a :class:`~scoresim.model.record_log.RecordLog`
  that count for a stated period, in full (window), fading linearly, or exponentially; the
  own score is ``b = clip(initial + points in force)``, so a score is a level that recent
  behaviour moves, not a running sum that drifts. Negative records may be removed early by
  credit repair (an application, a waiting period).
- :class:`FactorLevel`: a weighted level of factors (Sesame-style): each rule names a
  factor; each factor keeps the records of its rules in a log of its own, and its level is
  a saturating function of its points in force (:func:`factor_levels`); ``b = clip(min +
  (max - min) * sum of weight * level + points in force of the other records)``.

A parallel ``b_clean`` leaves out misattributed records: a sanction that the clean score
would not have triggered is counted as wrongful.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from scoresim.declarations.events import EVENT_KINDS
from scoresim.engine.kernels.scoring import _factor_halves, _set_factor_level
from scoresim.model.component import STEP, Array, Component
from scoresim.model.record_log import (
    BONUS,
    DECAY,
    HEAD_START,
    RecordLog,
    apply_for_repair,
    repair,
)
from scoresim.model.rules import Today
from scoresim.model.sources import Records
from scoresim.scenario.schema import SchemeConfig

if TYPE_CHECKING:
    from types import SimpleNamespace

PLATFORM_KINDS = np.array([k.platform for k in EVENT_KINDS])


def _initial(acc: Accumulation, who: np.ndarray, step: int, key) -> float:
    return acc.cfg.initial_score


class Accumulation(Component):
    """The own score ``b`` (and ``b_clean``) and each person's last day of platform
    activity (M9); the subclasses say how points accumulate."""

    STATE = (Array("b", newcomer=_initial), Array("b_clean", newcomer=_initial),
             Array("last_active", newcomer=STEP))
    CONSTANTS = ("in_scheme",)
    #: whether the rules' points are wanted per rule and person (for a record log)
    sparse = False

    def __init__(self, key: str, cfg: SchemeConfig, n: int, kernels: SimpleNamespace):
        self.key, self.cfg, self.n, self.k = key, cfg, n, kernels
        self.b = np.full(n, cfg.initial_score, np.float32)
        self.b_clean = self.b.copy()
        self.last_active = np.zeros(n, np.int32)

    def point_worth(self) -> np.ndarray:
        """Score points a rule point is worth, per rule (1 but under factors)."""
        return np.ones(len(self.cfg.rules))

    def advance(self, records: Records, scored: np.ndarray, pts: np.ndarray,
                pts_clean: np.ndarray, per_rule: list, today: Today, step: int,
                early_phase: bool, keep_per_rule: bool, streams) -> dict:
        """Advance ``b`` by the day's rule points (``pts``, ``pts_clean``; ``today`` per
        rule where :attr:`sparse`), the early-enrolment bonus and the inactivity decay.
        Returns the parts (for the ledger of traced people)."""
        cfg = self.cfg
        bonus = np.float32(0.0)
        if early_phase and cfg.enrolment.early_bonus_points_per_day:
            bonus = np.float32(cfg.enrolment.early_bonus_points_per_day)
        order, starts = records.by_kind()
        in_scheme = self.in_scheme
        for k in np.flatnonzero(PLATFORM_KINDS):
            if starts[k + 1] > starts[k]:
                self.k.mark_active(order[starts[k]:starts[k + 1]], records.person,
                                   records.source, in_scheme, self.last_active, step)
        decay_points = np.float32(cfg.inactivity.decay_points_per_day)
        decay_after = cfg.inactivity.after_days if cfg.inactivity.decay_points_per_day else -1
        return self._advance(step, scored, pts, pts_clean, per_rule, today, bonus,
                             decay_after, decay_points, keep_per_rule, streams)

    def _advance(self, step, scored, pts, pts_clean, per_rule, today, bonus, decay_after,
                 decay_points, keep_per_rule, streams) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must say how points accumulate")

    def give_head_start(self, who: np.ndarray, points: float, step: int) -> None:
        raise NotImplementedError(f"{type(self).__name__} must give a head start")


class RunningSum(Accumulation):
    """``b += points + early bonus - inactivity decay`` within the range (no lapse)."""

    def _advance(self, step, scored, pts, pts_clean, per_rule, today, bonus, decay_after,
                 decay_points, keep_per_rule, streams) -> dict:
        cfg = self.cfg
        lo, hi = np.float32(cfg.min_score), np.float32(cfg.max_score)
        self.k.advance_own(self.b, self.b_clean, pts, pts_clean, scored, bonus,
                           self.last_active, step, decay_after, decay_points, lo, hi)
        parts = {"points": pts, "per_rule": per_rule, "bonus": None, "decay": None}
        if keep_per_rule:
            idle = scored & (decay_after >= 0) & (step - self.last_active > decay_after)
            parts["bonus"] = np.where(scored, bonus, np.float32(0.0))
            parts["decay"] = np.where(idle, decay_points, np.float32(0.0))
        return parts

    def give_head_start(self, who: np.ndarray, points: float, step: int) -> None:
        """M8: ``points`` more for ``who`` (enrolling early), for good."""
        lo, hi = self.cfg.min_score, self.cfg.max_score
        self.b[who] = np.clip(self.b[who] + points, lo, hi)
        self.b_clean[who] = np.clip(self.b_clean[who] + points, lo, hi)


class Level(Accumulation):
    """Scores as levels: ``b = clip(initial + points in force)`` from a record log."""

    sparse = True

    def __init__(self, key: str, cfg: SchemeConfig, n: int, kernels: SimpleNamespace):
        super().__init__(key, cfg, n, kernels)
        self.log = RecordLog(cfg, n, kernels.ring_add, kernels.move_level)
        self.log.key = f"{key}.log"

    def parts(self) -> list[Component]:
        return [self.log]

    def logs(self) -> list[RecordLog]:
        return [self.log]

    def _advance(self, step, scored, pts, pts_clean, per_rule, today, bonus, decay_after,
                 decay_points, keep_per_rule, streams) -> dict:
        """Yesterday's records lapse (or fade), repaired ones go, today's enter the log;
        ``b = clip(initial + points in force)`` for the scored."""
        log, cfg = self.log, self.cfg
        lapsed = log.lapse(step, keep_per_rule)
        repaired = None
        if cfg.repair.apply_rate_per_day:
            u = streams.gen(f"scoring.{self.scheme_name}.repair", step).random(self.n)
            apply_for_repair(log, step, scored, u, cfg.repair)
            if step % cfg.recompute_every_days == 0:
                repaired = repair(log, step, keep_per_rule)
        for r, who, points, clean in today:
            if who.size:
                log.add(who, points, clean, r, step)
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

    def unclipped(self) -> tuple[np.ndarray, np.ndarray]:
        """The own score before clipping to the range (with errors, clean):
        ``initial + points in force``."""
        return self.log.level(self.cfg.initial_score)

    def set_level(self, who: np.ndarray) -> None:
        """``b = clip(unclipped)`` and the clean score for ``who`` (a mask or ids)."""
        lo, hi = self.cfg.min_score, self.cfg.max_score
        log = self.log
        if log.for_ever is None and not log.fading and who.dtype == np.bool_:
            self.k.set_level(log.in_force, np.float64(self.cfg.initial_score),
                             np.float64(lo), np.float64(hi), who, self.b, self.b_clean)
            return
        self._set_clipped(who)

    def _set_clipped(self, who: np.ndarray) -> None:
        lo, hi = self.cfg.min_score, self.cfg.max_score
        level, level_clean = self.unclipped()
        self.b[who] = np.clip(level[who], lo, hi).astype(np.float32)
        self.b_clean[who] = np.clip(level_clean[who], lo, hi).astype(np.float32)

    def give_head_start(self, who: np.ndarray, points: float, step: int) -> None:
        """M8: ``points`` more for ``who`` (enrolling early), as a record of the scheme's
        period: an early start, not a lasting privilege."""
        value = np.full(who.size, points, np.float64)
        self.log.add(who, value, value, HEAD_START, step)
        self.set_level(who)

    def carry_over(self, before_b: np.ndarray, before_b_clean: np.ndarray) -> None:
        """At a fork that makes points lapse from here on: the points before it count for
        ever (the log's ``for_ever``: what ``b`` has beyond the initial score)."""
        self.log.for_ever = np.stack([before_b - self.cfg.initial_score,
                                      before_b_clean - self.cfg.initial_score]
                                     ).astype(np.float64)


class FactorLevel(Level):
    """A weighted level of factors: one record log per factor with rules (the head start,
    bonus and decay stay in :attr:`log`, as points); a factor without rules stays at its
    starting level."""

    CONSTANTS = ("in_scheme", "factor_of_rule", "factor_weights", "factor_scales")

    def __init__(self, key: str, cfg: SchemeConfig, n: int, kernels: SimpleNamespace):
        super().__init__(key, cfg, n, kernels)
        names = list(cfg.factors)
        self.factor_names = [f for f in names if any(r.factor == f for r in cfg.rules)]
        self.factor_logs = [RecordLog(cfg, n, kernels.ring_add, kernels.move_level)
                            for _ in self.factor_names]
        for name, log in zip(self.factor_names, self.factor_logs, strict=True):
            log.key = f"{key}.factor.{name}.log"
        self.factor_of_rule = np.array([self.factor_names.index(r.factor)
                                        for r in cfg.rules], np.int64)
        self.factor_weights = np.array([cfg.factors[f].weight for f in self.factor_names])
        self.factor_scales = np.array([cfg.factors[f].scale_points
                                       for f in self.factor_names])
        lo, hi = cfg.min_score, cfg.max_score
        #: the score of the factors without rules, at their starting level
        self.factor_fixed = (hi - lo) * sum(f.weight for k, f in cfg.factors.items()
                                            if k not in self.factor_names) * (
            (cfg.initial_score - lo) / (hi - lo))

    def parts(self) -> list[Component]:
        return [self.log, *self.factor_logs]

    def logs(self) -> list[RecordLog]:
        return [self.log, *self.factor_logs]

    def point_worth(self) -> np.ndarray:
        """A rule point's worth at the start (every factor at its starting level ``l0``):
        ``(max - min) * weight * l0 * (1 - l0) / scale_points`` (the slope of the level)."""
        lo, hi = self.cfg.min_score, self.cfg.max_score
        l0 = (self.cfg.initial_score - lo) / (hi - lo)
        per_factor = (hi - lo) * self.factor_weights * l0 * (1 - l0) / self.factor_scales
        return per_factor[self.factor_of_rule]

    def _advance(self, step, scored, pts, pts_clean, per_rule, today, bonus, decay_after,
                 decay_points, keep_per_rule, streams) -> dict:
        """Yesterday's records lapse (or fade) in every log, today's rule records enter
        their factor's log, the bonus and decay the scheme's; ``b`` from
        :meth:`unclipped`. For the ledger (``keep_per_rule``) a rule's points are the score
        points its records moved today: the change of its factor's term ``(max - min) *
        weight * level``, shared among the factor's rules of the day in proportion to their
        rule points (the records' marginal effect at today's level; the same points lapse
        later at the level of that day, so a record's lapse need not take out exactly what
        it put in)."""
        before = self.unclipped()[0] if keep_per_rule else None
        for log in self.logs():
            log.lapse(step)
        terms = self._factor_terms()[:, 0] if keep_per_rule else None  # (F, n)
        lapsed = self.unclipped()[0] - before if keep_per_rule else None
        raw = np.zeros((len(self.factor_names), self.n)) if keep_per_rule else None
        for r, who, points, clean in today:
            f = self.factor_of_rule[r]
            if who.size:
                self.factor_logs[f].add(who, points, clean, r, step)
            if keep_per_rule:
                raw[f, who] += points
        bonus_pts = decay = None  # (made where needed)
        if bonus or keep_per_rule:
            bonus_pts = np.where(scored, np.float64(bonus), 0.0)
        if bonus:
            self.log.add_dense(bonus_pts, bonus_pts, BONUS, step)
        if decay_after >= 0 or keep_per_rule:
            idle = scored & (decay_after >= 0) & (step - self.last_active > decay_after)
            if decay_after >= 0 and decay_points:  # (the idle lose the day's decay)
                who = np.flatnonzero(idle)
                if who.size:
                    lost = np.full(who.size, -np.float64(decay_points))
                    self.log.add(who, lost, lost, DECAY, step)
            if keep_per_rule:
                decay = np.where(idle, np.float64(decay_points), 0.0)
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

    def unclipped(self) -> tuple[np.ndarray, np.ndarray]:
        """``min + sum of the factor terms + points in force of the other records``."""
        level, level_clean = self.log.level(self.cfg.initial_score)
        terms = self._factor_terms().sum(axis=0)
        shift = self.cfg.min_score - self.cfg.initial_score + self.factor_fixed
        return level + shift + terms[0], level_clean + shift + terms[1]

    def set_level(self, who: np.ndarray) -> None:
        """``b = clip(unclipped)`` for ``who``: for a mask, where no log holds points for
        ever or fading, in two passes over the masked people (the engine's
        ``set_factor_level``) instead of every person's level."""
        logs = self.logs()
        if (who.dtype != np.bool_ or not self.factor_logs
                or any(log.for_ever is not None or log.fading for log in logs)):
            self._set_clipped(who)
            return
        cfg = self.cfg
        lo, hi = cfg.min_score, cfg.max_score
        self.k.set_factor_level(
            self.log.in_force, tuple(log.in_force for log in self.factor_logs),
            (cfg.initial_score - lo) / (hi - lo), self.factor_scales,
            (hi - lo) * self.factor_weights, np.float64(cfg.initial_score),
            np.float64(cfg.min_score - cfg.initial_score + self.factor_fixed),
            np.float64(lo), np.float64(hi), who, self.b, self.b_clean)

    def carry_over(self, before_b: np.ndarray, before_b_clean: np.ndarray) -> None:
        """At a fork that introduces the factors: what the score has beyond the empty
        factors counts for ever, as points."""
        level, level_clean = self.unclipped()
        if self.log.for_ever is None:
            self.log.for_ever = np.zeros((2, self.n), np.float64)
        self.log.for_ever += np.stack([before_b - level, before_b_clean - level_clean])


def make_accumulation(key: str, name: str, cfg: SchemeConfig, n: int, in_scheme: np.ndarray,
                      kernels: SimpleNamespace) -> Accumulation:
    """The scheme's strategy, chosen once: a weighted level of factors, a level from a
    record log (points lapse), or a running sum."""
    if not RecordLog.wanted(cfg):
        kind = RunningSum
    elif cfg.factors:
        kind = FactorLevel
    else:
        kind = Level
    acc = kind(key, cfg, n, kernels)
    acc.scheme_name = name
    acc.in_scheme = in_scheme  # (per source: one of the scheme's?)
    return acc


# ------------------------------------------------------------------ the rules, plainly
# The reference engine runs these; the compiled kernels compute the same numbers.


def factor_levels(points, scales, l0):
    """A factor's level from the points in force of its rules: ``1 / (1 + exp(-(logit(l0)
    + points / scale)))``, within (0, 1), ``l0`` without points, saturating (a point moves
    the level by ``level * (1 - level) / scale``). ``points``: (factors, ...) float64;
    ``scales``: per factor. Used by both engines (numpy)."""
    z = np.log(l0 / (1.0 - l0)) + points / scales.reshape((-1,) + (1,) * (points.ndim - 1))
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # (the logistic function, without overflow)


def set_factor_level_plain(main, factors, l0, scales, spread, initial, shift, lo, hi, who,
                           b, b_clean):
    """A weighted level of factors where ``who`` (a mask) is true: ``b = float32(clip(
    initial + main + shift + sum over factors of spread * factor_levels(points), lo,
    hi))`` (and the clean score from the second rows); ``main``: the scheme's other points
    in force, ``factors``: each factor's, (2, n) float64; ``spread``: ``(max - min) *
    weight`` per factor (numpy, every person)."""
    x = np.stack([0.0 + points for points in factors])
    terms = (spread[:, None, None] * factor_levels(x, scales, l0)).sum(axis=0)
    level = initial + main
    b[who] = np.clip((level[0] + shift + terms[0])[who], lo, hi).astype(np.float32)
    b_clean[who] = np.clip((level[1] + shift + terms[1])[who], lo, hi).astype(np.float32)


def set_factor_level(main, factors, l0, scales, spread, initial, shift, lo, hi, who, b,
                     b_clean):
    """:func:`set_factor_level_plain` by the compiled kernels: the arguments of ``tanh``
    for the masked people only (and clean ones only where the clean points differ), numpy's
    ``tanh`` over them, then the score in one pass (the same numbers)."""
    half = _factor_halves(factors, np.log(l0 / (1.0 - l0)), scales, who)
    np.tanh(half, out=half)
    _set_factor_level(main, factors, half, spread, initial, shift, lo, hi, who, b, b_clean)


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


def set_level_plain(in_force, initial, lo, hi, who, b, b_clean):
    """``b = float32(clip(initial + points in force, lo, hi))`` (and the clean score, from
    the second row of ``in_force``) where the mask ``who`` is true (numpy)."""
    level = initial + in_force
    b[who] = np.clip(level[0][who], lo, hi).astype(np.float32)
    b_clean[who] = np.clip(level[1][who], lo, hi).astype(np.float32)
