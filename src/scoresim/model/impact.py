"""What the impact card measures, recorded while a run goes (``impact.track``; set by
``scoresim impact``, docs/impact.md). It observes: it draws nothing and changes nothing.

**Triggering records.** A sanction on a score rests on the records that brought the person
below its threshold; the tracker keeps, per person and per *slot* (one (event kind, data
context) pair a scheme's deducting rules can make), the day the latest such record stops
counting (its lapse day: the day made plus the rule's ``lasts_days``, else the scheme's;
never, for points that count for ever; the exponential shape's period ``L`` counts as its
lapse). The triggering records of a sanction are the person's deducting records in force in
the scheme on the day: their contexts and kinds (hence gravity). A sanction on the court
blacklist rests on the court listing that put the person there (its source's context, for
``blacklist.days``). This is one int32 per slot and person (seed: 8 slots for the
government scheme, 2 for Sesame Credit, 1 for the blacklist: 44 bytes a person).

**Sanction events** (sanctions are rare, so each is kept): day, rule, person, the slots in
force (a bit mask), whether it was wrongful (a data error: the error-free score would not
meet the condition) or by association (friends' pull: the score without friends' term
would not), the score, and the person's income decile, region, age, stage of life and
whether a critic.

**Exposure**: person-days per group (income decile, region, age band, stage of life, critic
or not), so rates are per person and year.

**Episodes** (redress): from a person's first sanction under a rule, the days until its
condition no longer holds for them (the record lapsed, was repaired or their score rose);
whether credit repair was granted meanwhile; still open at the run's end: censored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from scoresim.declarations.categories import AGE_BANDS
from scoresim.declarations.contexts import EFFECT_CONTEXT, KIND_CONTEXT
from scoresim.declarations.events import KIND_INDEX
from scoresim.declarations.sanctions import SANCTION_EFFECTS
from scoresim.model.component import OTHER, ROW, Array, Component, like, register

if TYPE_CHECKING:
    from scoresim.model.day import Day
    from scoresim.scenario.schema import Scenario

#: A record that never lapses.
FOREVER = np.iinfo(np.int32).max
#: The basis of sanctions on the court blacklist (not a scheme).
BLACKLIST = "blacklist"
#: Age bands of the card, in years: lower edges.
AGE_EDGES = (30, 45, 60)
AGE_LABELS = ("under 30", "30-44", "45-59", "60 and over")
#: Episodes reach "a year after" at this many days.
YEAR = 365
#: The group codes kept with each event (:func:`groups_of`).
GROUPS = ("income_decile", "region", "age_band", "stage_of_life", "critic")
EVENT_COLUMNS = ("day", "rule", "person", "person_id", "slots", "wrongful", "association",
                 "score", *GROUPS)
OPEN_COLUMNS = ("rule", "person", "person_id", "start", "wrongful", "association", "left",
                "repaired")
CLOSED_COLUMNS = (*OPEN_COLUMNS, "days", "censored")
_DTYPES = {"day": np.int32, "person": np.int64, "person_id": np.int64, "slots": np.int64,
           "wrongful": bool, "association": bool, "score": np.float64, "start": np.int32,
           "left": bool, "repaired": bool, "days": np.int32, "censored": bool}


@dataclass(frozen=True)
class Slot:
    """One kind of triggering record: an event kind from a data context."""

    kind: str
    context: str
    gravity: int  # index into impact.gravity_levels


@dataclass(frozen=True)
class Feed:
    """Records that fill one basis's slots: a deducting rule's (or the blacklist's)."""

    rule: int | None  # the scheme's rule index (None: the blacklist)
    kind: int  # KIND_INDEX
    uses: np.ndarray  # per source: does this feed take its records
    slot: np.ndarray  # per source: the slot its records fill (-1: none)
    period: int | None  # days a record counts (None: for ever)


def age_band(age_days: np.ndarray) -> np.ndarray:
    """The card's age band (0..3) of each age in days."""
    return np.searchsorted(np.array(AGE_EDGES) * 365.25, age_days, side="right").astype(
        np.int8)


def groups_of(people, critic_below: float) -> dict[str, np.ndarray]:
    """Each person's group code by what the card breaks measures down by."""
    return {"income_decile": people.income_decile.astype(np.int64),
            "region": people.region.astype(np.int64),
            "age_band": age_band(people.age_days).astype(np.int64),
            "stage_of_life": people.age_band.astype(np.int64),
            "critic": (people.private_opinion < critic_below).astype(np.int64)}


def group_labels(scenario: Scenario) -> dict[str, list[str]]:
    """The name of each group code, by what the card breaks measures down by."""
    return {"income_decile": [f"decile {i + 1}" for i in range(10)],
            "region": list(scenario.people.regions), "age_band": list(AGE_LABELS),
            "stage_of_life": list(AGE_BANDS), "critic": ["others", "critics"]}


@register
class ImpactTracker(Component):
    """Triggering records per person and slot, sanction events, exposure and episodes
    (see the module's docstring)."""

    KEY = "impact"
    STAGE = "sanctions"  # (the day's records are scored and its sanctions applied)
    STATE = (
        Array("until", mapping=True, newcomer=-1),
        Array("exposure", axis=OTHER, mapping=True),
        # the sanction events and the episodes, as rows (held day by day in ``events``,
        # ``closed`` and ``open``): an event's and a closed episode's person is history
        # (identified by person_id); an open episode's is a slot, renumbered at a resize
        *(Array(f"event_{c}", axis=ROW, table="events") for c in EVENT_COLUMNS),
        *(Array(f"closed_{c}", axis=ROW, table="closed") for c in CLOSED_COLUMNS),
        *(Array(f"open_{c}", axis=ROW, table="open", slots=c == "person")
          for c in OPEN_COLUMNS),
    )
    STORES = ("events", "closed", "open")
    CONSTANTS = ("slots", "feeds", "tracked", "labels", "related")
    OUTPUTS = ()

    def __init__(self, sim):
        self.sim = sim
        sc = sim.scenario
        imp = sc.impact
        n = sim.people.n
        sources = list(sc.sources)
        self.levels = list(imp.gravity_levels)
        level = {name: i for i, name in enumerate(self.levels)}

        def context(kind: str, source: str) -> str:
            return sc.sources[source].context or KIND_CONTEXT[kind]

        self.slots: dict[str, list[Slot]] = {}
        self.feeds: dict[str, list[Feed]] = {}

        def feed(basis: str, rule: int | None, kind: str, used: list[str],
                 period: int | None) -> None:
            slots = self.slots.setdefault(basis, [])
            uses = np.zeros(len(sources), bool)
            slot = np.full(len(sources), -1, np.int64)
            for s in used:
                one = Slot(kind, context(kind, s), level[imp.gravity[kind]])
                if one not in slots:
                    slots.append(one)
                uses[sources.index(s)] = True
                slot[sources.index(s)] = slots.index(one)
            if uses.any():
                self.feeds.setdefault(basis, []).append(
                    Feed(rule, KIND_INDEX[kind], uses, slot, period))

        #: the sanction rules tracked: (name, effect, basis, consequence context, weight)
        self.tracked: list[tuple[str, str, str, str, int]] = []
        for name, cfg in sim.sanctions.rules:
            if cfg.effect not in SANCTION_EFFECTS:
                continue
            basis = BLACKLIST if cfg.blacklisted else cfg.scheme
            self.tracked.append((name, cfg.effect, basis,
                                 cfg.context or EFFECT_CONTEXT[cfg.effect],
                                 level[imp.weight[cfg.effect]]))
            if basis in self.slots:
                continue
            self.slots[basis] = []
            if basis == BLACKLIST:
                feed(BLACKLIST, None, "court_listing", list(sc.blacklist.sources),
                     sc.blacklist.days)
                continue
            scheme = sim.schemes[basis]
            for r, rule in enumerate(scheme.rules):
                if rule.config.points >= 0:
                    continue
                used = [sources[i] for i in rule.sources
                        if scheme.rules_part.in_scheme_source[i]]
                feed(basis, r, rule.config.kind, used,
                     rule.config.lasts_days or scheme.cfg.lasts_days)
        self.until = {f"{basis}__{i}": np.full(n, -1, np.int32)
                      for basis, slots in self.slots.items() for i in range(len(slots))}
        self.related = {(name, i): context_ok
                        for name, _, basis, ctx, _ in self.tracked
                        for i, slot in enumerate(self.slots[basis])
                        for context_ok in [ctx in imp.related.get(slot.context, [])]}
        self.labels = group_labels(sc)
        self.critic_below = sc.people.critic_below
        self.exposure = {g: np.zeros(len(v), np.float64) for g, v in self.labels.items()}
        self.person_days = 0.0
        self.events: list[dict[str, np.ndarray]] = []
        self.closed: list[dict[str, np.ndarray]] = []
        self.open = _no_episodes()

    # ------------------------------------------------------------------ its state

    def values(self) -> dict[str, Any]:
        return {"person_days": self.person_days}

    def set_values(self, values: dict[str, Any]) -> None:
        self.person_days = float(values.get("person_days", self.person_days))

    def collect(self) -> dict[str, tuple[np.ndarray, Array]]:
        """The state as declared: the person arrays, the exposure, and the events and
        episodes as rows."""
        return _collect(self)

    def restore(self, saved: dict[str, np.ndarray]) -> None:
        _restore(self, saved)

    @classmethod
    def wanted(cls, scenario: Scenario) -> bool:
        from scoresim.model.authority import is_burn_in

        return scenario.impact.track and not is_burn_in(scenario)

    # ------------------------------------------------------------------- the day

    def step(self, day: Day) -> None:
        self._records(day)
        self._exposure()
        events = self._sanctions(day)
        self._episodes(day, events)

    def _records(self, day: Day) -> None:
        """Each deducting record counted today moves its slot's lapse day for its person."""
        sim, t, rec = self.sim, day.t, day.records
        if rec is None or rec.person.size == 0:
            _clear_repaired(self, t)
            return
        order, starts = rec.by_kind()
        people = sim.people
        _clear_repaired(self, day.t)
        for basis, feeds in self.feeds.items():
            scheme = sim.schemes.get(basis)
            for f in feeds:
                rule = None if f.rule is None else scheme.rules[f.rule]
                if rule is not None and (rule.points >= 0 or not rule.active(day.phase)):
                    continue
                idx = order[starts[f.kind]:starts[f.kind + 1]]
                idx = idx[f.uses[rec.source[idx]]]
                p = rec.person[idx]
                if rule is not None:
                    keep = scheme.scored[p]
                    if rule.region_ok is not None:
                        keep &= rule.region_ok[people.region[p]]
                    if rule.person_clauses:
                        keep &= rule.condition.person_mask(people, scheme, rule.regions)[p]
                    idx, p = idx[keep], p[keep]
                if not idx.size:
                    continue
                lapse = np.int32(FOREVER if f.period is None else min(t + f.period, FOREVER))
                slot = f.slot[rec.source[idx]]
                for s in np.unique(slot):
                    until = self.until[f"{basis}__{s}"]
                    who = p[slot == s]
                    until[who] = np.maximum(until[who], lapse)

    def _exposure(self) -> None:
        people = self.sim.people
        for g, codes in groups_of(people, self.critic_below).items():
            self.exposure[g] += np.bincount(codes, minlength=self.exposure[g].size)[
                :self.exposure[g].size]
        self.person_days += people.n

    def _sanctions(self, day: Day) -> dict[str, np.ndarray]:
        """Today's sanction events (one per person hit per rule), kept; returned too."""
        sim, t, st = self.sim, day.t, day.sanctions
        people = sim.people
        parts = []
        for j, (name, _, basis, _, _) in enumerate(self.tracked):
            hit = st.hits.get(name) if st is not None else None
            if hit is None or not hit.size:
                continue
            hit = np.asarray(hit, np.int64)
            mask = np.zeros(hit.size, np.int64)
            for i in range(len(self.slots[basis])):
                mask |= (self.until[f"{basis}__{i}"][hit] > t).astype(np.int64) << i
            scheme = sim.schemes.get(basis)
            groups = groups_of(people, self.critic_below)
            parts.append({
                "day": np.full(hit.size, t, np.int32), "rule": np.full(hit.size, j, np.int16),
                "person": hit, "person_id": people.person_id[hit].astype(np.int64),
                "slots": mask,
                "wrongful": np.isin(hit, st.wrongful_ids.get(name, _NONE)),
                "association": np.isin(hit, st.association_ids.get(name, _NONE)),
                "score": (scheme.s[hit].astype(np.float64) if scheme is not None
                          else np.full(hit.size, np.nan)),
                **{g: codes[hit].astype(np.int16) for g, codes in groups.items()}})
        if not parts:
            return {}
        today = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        self.events.append(today)
        return today

    def _episodes(self, day: Day, today: dict[str, np.ndarray]) -> None:
        """Close the episodes whose condition no longer holds (or whose person left); open
        one for each (rule, person) hit today that has none open."""
        sim, t, op = self.sim, day.t, self.open
        people = sim.people
        if op["rule"].size:
            still = np.zeros(op["rule"].size, bool)
            for j in np.unique(op["rule"]):
                name = self.tracked[j][0]
                sel = np.flatnonzero(op["rule"] == j)
                ids = op["person"][sel]
                same = people.person_id[ids] == op["person_id"][sel]
                holds = np.zeros(sel.size, bool)
                if sim.sanctions.conditions[name].holds_in_phase(day.phase):
                    holds = sim.sanctions.holds(name, people, t, ids)
                still[sel] = same & holds
                op["left"][sel] = ~same
                op["repaired"][sel] |= self._repaired(self.tracked[j][2], ids,
                                                      op["start"][sel]) & same
            if not still.all():
                done = {k: v[~still] for k, v in op.items()}
                done["days"] = (t - done["start"]).astype(np.int32)
                done["censored"] = done["left"].copy()
                self.closed.append(done)
                self.open = op = {k: v[still] for k, v in op.items()}
        if not today:
            return
        key = today["rule"].astype(np.int64) << 40 | today["person"]
        key, first = np.unique(key, return_index=True)
        new = first[~np.isin(key, op["rule"].astype(np.int64) << 40 | op["person"])]
        if new.size:
            fresh = {"rule": today["rule"][new], "person": today["person"][new],
                     "person_id": today["person_id"][new],
                     "start": today["day"][new],
                     "wrongful": today["wrongful"][new],
                     "association": today["association"][new],
                     "left": np.zeros(new.size, bool), "repaired": np.zeros(new.size, bool)}
            self.open = {k: np.concatenate([op[k], fresh[k]]) for k in op}

    def _repaired(self, basis: str, ids: np.ndarray, since: np.ndarray) -> np.ndarray:
        """Whether credit repair removed a record of each of ``ids`` since ``since``."""
        scheme = self.sim.schemes.get(basis)
        out = np.zeros(ids.size, bool)
        for log in ([] if scheme is None else scheme.logs):
            if log.repaired_on is not None:
                out |= log.repaired_on[ids] >= since
        return out

    # ------------------------------------------------------------------ the result

    def summary(self) -> dict[str, Any]:
        """Everything the card computes from (plain arrays and lists: picklable)."""
        return summary(self)


_NONE = np.zeros(0, np.int64)


def _no_episodes() -> dict[str, np.ndarray]:
    return {"rule": np.zeros(0, np.int16), "person": np.zeros(0, np.int64),
            "person_id": np.zeros(0, np.int64), "start": np.zeros(0, np.int32),
            "wrongful": np.zeros(0, bool), "association": np.zeros(0, bool),
            "left": np.zeros(0, bool), "repaired": np.zeros(0, bool)}


def _collect(self: ImpactTracker) -> dict[str, tuple[np.ndarray, Array]]:
    """The state as declared: the person arrays, the exposure, and the events and
    episodes as rows."""
    specs = {spec.name: spec for spec in self.declared()}
    out = {name: (x, spec) for name, spec, x in self.arrays(
        (specs["until"], specs["exposure"]))}
    for table, parts, columns in (("event", self.events, EVENT_COLUMNS),
                                  ("closed", self.closed, CLOSED_COLUMNS),
                                  ("open", [self.open], OPEN_COLUMNS)):
        for c in columns:
            x = (np.concatenate([p[c] for p in parts]) if parts
                 else np.zeros(0, _DTYPES.get(c, np.int16)))
            out[f"{table}_{c}"] = (x, specs[f"{table}_{c}"])
    return out

def _restore(self: ImpactTracker, saved: dict[str, np.ndarray]) -> None:
    for name in ("until", "exposure"):
        current = getattr(self, name)
        for k in current:
            if f"{name}.{k}" in saved:
                current[k] = like(f"{self.key}.{name}.{k}", saved[f"{name}.{k}"],
                                  current[k])
    if "event_day" in saved:
        self.events = [{c: np.asarray(saved[f"event_{c}"]) for c in EVENT_COLUMNS}]
        self.closed = [{c: np.asarray(saved[f"closed_{c}"]) for c in CLOSED_COLUMNS}]
        self.open = {c: np.asarray(saved[f"open_{c}"]) for c in OPEN_COLUMNS}


def summary(self: ImpactTracker) -> dict[str, Any]:
    """Everything the card computes from a tracker (plain arrays and lists)."""
    n_steps = self.sim.t
    events = ({k: np.concatenate([e[k] for e in self.events]) for k in self.events[0]}
              if self.events else None)
    op = dict(self.open)
    op["days"] = (n_steps - op["start"]).astype(np.int32)
    op["censored"] = np.ones(op["rule"].size, bool)
    parts = [*self.closed, op]
    episodes = {k: np.concatenate([p[k] for p in parts]) for k in op}
    return {
        "days": n_steps,
        "person_days": self.person_days,
        "exposure": {g: v.copy() for g, v in self.exposure.items()},
        "labels": self.labels,
        "levels": self.levels,
        "tracked": [{"name": name, "effect": effect, "basis": basis, "context": ctx,
                     "weight": weight,
                     "related": [self.related[(name, i)]
                                 for i in range(len(self.slots[basis]))]}
                    for name, effect, basis, ctx, weight in self.tracked],
        "slots": {b: [(s.kind, s.context, s.gravity) for s in slots]
                  for b, slots in self.slots.items()},
        "events": events,
        "episodes": episodes,
    }


def _clear_repaired(self: ImpactTracker, t: int) -> None:
    """Credit repair granted today removed its people's deducting records in the
    scheme (before today's entered): none of theirs is in force any more."""
    for basis, slots in self.slots.items():
        scheme = self.sim.schemes.get(basis)
        for log in ([] if scheme is None else scheme.logs):
            if log.repaired_on is None:
                continue
            who = np.flatnonzero(log.repaired_on == t)
            for i in range(len(slots) if who.size else 0):
                self.until[f"{basis}__{i}"][who] = -1
