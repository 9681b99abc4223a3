"""A scheme's rules (M2, M3): points per record, by kind and source, per region and phase,
capped per period.

A rule gives ``count * points`` for each record of its kind from one of its sources, of a
scored person, in one of its regions and phases, meeting its condition (``when``); a
capped rule adds only what keeps the person's running total for the period within
[-cap, cap]. The points of a rule are its state (a value of its checkpoint, kept by the
rule's definition): they may change during a run, by a component allowed to change them
(:meth:`Rules.set_points`), and they carry over a fork where the rule is unchanged.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import numpy as np

from scoresim.declarations.events import KIND_INDEX, N_KINDS
from scoresim.model.component import Array, Component
from scoresim.model.people import People
from scoresim.model.sources import Records, once_per_event
from scoresim.scenario import conditions
from scoresim.scenario.schema import RuleConfig, Scenario, SchemeConfig

if TYPE_CHECKING:
    from types import SimpleNamespace


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


class CompiledRule(Component):
    """A rule with its names resolved to indices, ready for vectorised matching; its
    state: its points and, for a capped rule, each person's running total this period."""

    STATE = (Array("cum", optional=True), Array("cum_clean", optional=True))
    CONSTANTS = ("sources", "region_ok")

    def __init__(self, rule: RuleConfig, scenario: Scenario, scheme: SchemeConfig, n: int,
                 key: str = ""):
        self.key = key
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
        self.cum = self.cum_clean = None
        if self.cap is not None:
            self.cum = np.zeros(n, np.float32)
            self.cum_clean = np.zeros(n, np.float32)

    def values(self) -> dict[str, Any]:
        return {"points": self.points}

    def set_values(self, values: dict[str, Any]) -> None:
        if "points" in values:
            self.points = float(values["points"])

    def active(self, phase: str) -> bool:
        return self.condition.holds_in_phase(phase)


def rule_keys(scheme_key: str, rules: list[RuleConfig]) -> list[str]:
    """Each rule's key in a checkpoint: its definition's digest (and its occurrence among
    identical ones), so that a rule keeps its state at a fork whatever rules are added or
    removed around it, and a changed rule starts afresh."""
    out, seen = [], {}
    for rule in rules:
        text = json.dumps(rule.model_dump(mode="json"), sort_keys=True)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        seen[digest] = seen.get(digest, -1) + 1
        out.append(f"{scheme_key}.rule.{digest}.{seen[digest]}")
    return out


#: One rule's points today, kept for the record log: (rule, people, points, clean points).
Today = list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]


class Rules(Component):
    """The rules of one scheme, compiled (:class:`CompiledRule`, each a part)."""

    CACHES = ("_scratch",)
    CONSTANTS = ("source_ids", "in_scheme_source")

    def __init__(self, key: str, cfg: SchemeConfig, scenario: Scenario, n: int,
                 kernels: SimpleNamespace):
        self.key, self.cfg, self.n = key, cfg, n
        self.k = kernels
        self.source_ids = np.array([list(scenario.sources).index(s) for s in cfg.sources],
                                   dtype=np.int16)
        self.rules = [CompiledRule(r, scenario, cfg, n, key)
                      for r, key in zip(cfg.rules, rule_keys(key, cfg.rules), strict=True)]
        self.n_sources = len(scenario.sources)
        self.in_scheme_source = np.zeros(self.n_sources, bool)  # per source: one of ours?
        self.in_scheme_source[self.source_ids] = True
        self.n_regions = len(scenario.people.regions)
        # A capped rule's per-person sums (zero between uses) and who has some.
        self._scratch = (np.zeros(n, np.float64), np.zeros(n, np.float64), np.zeros(n, bool))

    def parts(self) -> list[Component]:
        return list(self.rules)

    def set_points(self, index: int, points: float) -> None:
        """Change rule ``index``'s points from today on (a component that governs the
        scheme's rules calls this; the change is part of the checkpoint)."""
        self.rules[index].points = float(points)

    def points_table(self, phase: str, worth: np.ndarray) -> np.ndarray:
        """Nominal points per (region, kind) in this phase, each rule's points times its
        ``worth`` in score points: what a person could learn."""
        table = np.zeros((self.n_regions, N_KINDS), np.float32)
        for r, rule in enumerate(self.rules):
            if not rule.active(phase):
                continue
            points = np.float32(rule.points * worth[r])
            if rule.region_ok is None:
                table[:, rule.kind] += points
            else:
                table[rule.region_ok, rule.kind] += points
        return table

    def rule_points(
        self, records: Records, people: People, scheme, phase: str, step: int,
        keep_per_rule: bool = True, sparse: bool = False,
    ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray | None], Today]:
        """Points this step from all rules: (with errors, without errors, per rule, today).

        Each rule walks only the records of its kind; capped rules clip only the people
        who have records. ``per_rule`` (dense, one array per rule; None for rules not in
        force) is filled when ``keep_per_rule``, for the ledger of traced people. With
        ``sparse`` (points that lapse: a record log), ``today`` holds each rule's points
        by person, for the log. ``scheme``: its scores, for conditions on them."""
        n = self.n
        total = np.zeros(n, np.float64)
        clean = np.zeros(n, np.float64)
        per_rule: list[np.ndarray | None] = []
        today: Today = []
        scored = scheme.scored
        order, starts = records.by_kind()
        in_scheme = self.in_scheme_source
        none_bool, none_f64 = np.zeros(0, bool), np.zeros(0, np.float64)
        for r, rule in enumerate(self.rules):
            if not rule.active(phase):
                per_rule.append(None)
                continue
            rule_src = np.zeros(self.n_sources, bool)
            rule_src[rule.sources] = True
            rule_src &= in_scheme
            mask = (rule.condition.person_mask(people, scheme, rule.regions)
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
            if sparse:  # (each rule's own points, kept sparse for the record log)
                who, got, got_clean = self.k.rule_points_sparse(*args, self._scratch,
                                                                total, clean)
                today.append((r, who, got, got_clean))
                if keep_per_rule:
                    extra[who] = got
            else:
                self.k.add_rule_points(*args, self._scratch, total, clean, extra)
            per_rule.append(extra if keep_per_rule else None)
        return total, clean, per_rule, today


# ------------------------------------------------------------------ the rules, plainly
# The reference engine (``Sim(..., engine="reference")``) runs these; the compiled kernels
# (:mod:`scoresim.engine.kernels.scoring`) compute the same numbers (tests/test_engines.py
# holds them to each other).


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


def add_rule_points_plain(*args):
    """:func:`add_rule_points` with the compiled kernel's arguments (its scratch space,
    which the plain rule does not need, before the three outputs)."""
    *inputs, _scratch, total, clean, extra = args
    add_rule_points(*inputs, total, clean, extra)


def rule_points_sparse_plain(*args):
    """One rule's points as the compiled ``_rule_points_sparse`` gives them, from the plain
    rule: added into ``total`` and ``clean``, and returned for the people with some
    (either column not zero), in increasing order."""
    *inputs, _scratch, total, clean = args
    n = total.shape[0]
    got, got_clean = np.zeros(n, np.float64), np.zeros(n, np.float64)
    add_rule_points(*inputs, got, got_clean, np.zeros(0, np.float64))
    total += got
    clean += got_clean
    who = np.flatnonzero((got != 0) | (got_clean != 0))
    return who, got[who], got_clean[who]
