"""The ledger of traced people: one row per change to a score, so every point is explained.

Row kinds: ``initial`` (the score at enrolment), ``head_start`` (M8), ``rule`` (points from
records of one rule and source; ``records`` and ``misattributed`` count them), ``bonus``
(early enrolment, M8), ``decay`` (inactivity, M9), ``lapse`` (points whose period ended or
faded that day, where a scheme's points lapse), ``repair`` (negative records removed by
credit repair), ``range`` (clipped at the scheme's range),
``friends`` (the change of the friends' pull ``s - b``, M4) and ``sanction`` (a sanction or
privilege that hit the person; zero points). For every traced person and scheme the
points of all rows add up to the published score at the end of the run. Where a scheme's
points lapse, the rows that add points (rule, head start, bonus, decay) carry the date
their points stop counting (``lapses``: the first recomputation day at or after the end
of their period, the day the log drops them; for linear decay the day they have faded to
zero; empty for points that count for ever and for exponential decay, which never ends).
Where a scheme is a weighted level of factors (``factors``), a rule row's points are the
score points its records moved that day (the change of its factor's weighted level,
shared among the factor's rules of the day in proportion to their rule points: the
records' marginal effect at the day's level), and ``lapse`` rows what the lapsing moved at
the level of their day, so a record's lapse need not take out exactly what it put in.

Tracing only reads the simulation's state: it changes no result.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from scoresim.declarations.categories import NOT_ENROLLED
from scoresim.declarations.events import KIND_NAMES
from scoresim.model.record_log import BONUS, DECAY, HEAD_START

if TYPE_CHECKING:
    from scoresim.model.sanctions import SanctionStep
    from scoresim.model.sources import Records
    from scoresim.sim import Sim

SMALL = 1e-4  # points below this are rounding, not a change

#: person: the slot traced (its number that day: a shrinking population renumbers the
#: slots); person_id: who held it that day (unique over the run)
COLUMNS = ("person", "step", "date", "scheme", "kind", "source", "rule", "records",
           "misattributed", "points", "lapses", "own_score", "score", "tier", "sanctions",
           "person_id")


def _lapses(sch, code: int, step: int, date: dt.date) -> dt.date | None:
    """The day the points of a record of ``code`` made on ``step`` (``date``) stop counting:
    the first recomputation day at or after the end of its period (None: for ever, or
    exponential decay)."""
    day = None if sch.log is None else sch.log.lapse_day(code, step)
    return None if day is None else date + dt.timedelta(days=day - step)


class Tracer:
    def __init__(self, sim: Sim, ids: np.ndarray):
        self.sim = sim
        self.ids = np.unique(np.asarray(ids, dtype=np.int64))
        bad = self.ids[(self.ids < 0) | (self.ids >= sim.people.n)]
        if bad.size:
            from scoresim.errors import ScenarioError

            raise ScenarioError(f"--trace-ids: person ids must lie in [0, {sim.people.n - 1}], "
                                f"got {', '.join(map(str, bad[:5]))}.")
        self.rows: dict[str, list] = {c: [] for c in COLUMNS}
        self.started = {name: np.zeros(self.ids.size, bool) for name in sim.schemes}
        # Changes too small to show are carried until they add up (or the run ends), so
        # that the rows still add up to the score.
        self.carry = {(name, kind): np.zeros(self.ids.size)
                      for name in sim.schemes for kind in ("range", "friends")}
        self.last_common: dict[tuple[str, int], dict] = {}
        self.before: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.person_ids = sim.people.person_id[self.ids].copy()  # who holds each slot

    def _row(self, **values) -> None:
        values["person_id"] = int(self.sim.people.person_id[values["person"]])
        for c in COLUMNS:
            self.rows[c].append(values.get(c))

    def renumber(self, index: np.ndarray) -> None:
        """The population was resized (``demography.growth_per_year``): slot ``i`` is now
        ``index[i]`` (-1: removed). Traced slots follow their people; a traced person who
        left a removed slot is traced no more (their rows so far stay, by ``person_id``)."""
        new = index[self.ids]
        kept = np.flatnonzero(new >= 0)
        self.ids = new[kept]
        self.person_ids = self.person_ids[kept]
        self.started = {k: x[kept] for k, x in self.started.items()}
        self.carry = {k: x[kept] for k, x in self.carry.items()}
        where = {int(j): i for i, j in enumerate(kept)}
        self.last_common = {(name, where[j]): {**common, "person": int(new[j])}
                            for (name, j), common in self.last_common.items() if j in where}
        self.before = {}

    def snapshot(self) -> None:
        """Before the step: each traced person's own and published score. A slot taken
        by a newcomer (:mod:`scoresim.model.demography`) starts its ledger afresh: the
        newcomer's rows carry their own ``person_id`` and begin with their initial score."""
        pid = self.sim.people.person_id[self.ids]
        new = pid != self.person_ids
        if new.any():
            for started in self.started.values():
                started[new] = False
            for carry in self.carry.values():
                carry[new] = 0.0
            self.person_ids = pid.copy()
        for name, sch in self.sim.schemes.items():
            self.before[name] = (sch.b[self.ids].astype(np.float64),
                                 sch.s[self.ids].astype(np.float64))

    def after_scoring(self, t: int, records: Records, parts: dict[str, dict]) -> None:
        sim, ids = self.sim, self.ids
        date = sim.dates[t]
        mine = np.isin(records.person, ids)
        rec = (records.person[mine], records.kind[mine], records.source[mine],
               records.count[mine], records.misattributed[mine])
        for name, sch in sim.schemes.items():
            b0, s0 = self.before[name]
            b1, s1 = sch.b[ids].astype(np.float64), sch.s[ids].astype(np.float64)
            scored = sch.state[ids] != NOT_ENROLLED
            tiers = sch.tier_index(sch.s[ids])
            part = parts[name]
            for j, person in enumerate(ids):
                if not sch.scored[person]:
                    continue
                common = dict(person=int(person), step=t, date=date, scheme=name,
                              own_score=float(b1[j]), score=float(s1[j]),
                              tier=sch.tier_names[tiers[j]] if sch.tier_names else "")
                moved = 0.0
                if not self.started[name][j] and scored[j]:
                    self.started[name][j] = True
                    initial = float(sch.cfg.initial_score)
                    self._row(kind="initial", points=initial, **common)
                    head = b0[j] - initial
                    if abs(head) > SMALL:
                        self._row(kind="head_start", points=head,
                                  lapses=_lapses(sch, HEAD_START, t, date), **common)
                    s0[j] = b0[j]
                moved += self._rule_rows(sch, part["per_rule"], j, person, rec, common)
                for kind in ("bonus", "decay"):
                    value = float(part[kind][person]) * (-1 if kind == "decay" else 1)
                    if abs(value) > SMALL:
                        code = BONUS if kind == "bonus" else DECAY
                        self._row(kind=kind, points=value, lapses=_lapses(sch, code, t, date),
                                  **common)
                        moved += value
                for kind, key in (("lapse", "lapsed"), ("repair", "repaired")):
                    change = part.get(key)
                    value = 0.0 if change is None else float(change[person])
                    if abs(value) > SMALL:
                        self._row(kind=kind, points=value, **common)
                        moved += value
                self._carry(name, "range", j, b1[j] - b0[j] - moved, common)
                self._carry(name, "friends", j, (s1[j] - b1[j]) - (s0[j] - b0[j]), common)
                self.last_common[(name, j)] = common

    def _carry(self, name: str, kind: str, j: int, value: float, common: dict) -> None:
        carry = self.carry[(name, kind)]
        carry[j] += value
        if abs(carry[j]) > SMALL:
            self._row(kind=kind, points=float(carry[j]), **common)
            carry[j] = 0.0

    def flush(self) -> None:
        """At the end of the run: write out what is still carried."""
        for (name, kind), carry in self.carry.items():
            for j in np.flatnonzero(carry):
                self._row(kind=kind, points=float(carry[j]), **self.last_common[(name, j)])
                carry[j] = 0.0

    def _rule_rows(self, sch, per_rule, j, person, rec, common) -> float:
        who, kind, source, count, wrong = rec
        total = 0.0
        for r, rule in enumerate(sch.rules):
            got = per_rule[r]
            if got is None:
                continue
            sel = (who == person) & (kind == rule.kind) & np.isin(source, rule.sources)
            if not sel.any():
                continue
            applied = float(got[person])
            raw = count[sel] * rule.points
            scale = applied / raw.sum() if raw.sum() else 0.0
            for src in np.unique(source[sel]):
                this = sel & (source == src)
                self._row(kind="rule", source=self.sim.sources.names[src],
                          rule=f"{r}:{KIND_NAMES[rule.kind]}", records=int(count[this].sum()),
                          lapses=_lapses(sch, r, common["step"], common["date"]),
                          misattributed=int(count[this & wrong].sum()),
                          points=float((count[this] * rule.points).sum() * scale), **common)
            total += applied
        return total

    def after_sanctions(self, t: int, sanc: SanctionStep) -> None:
        sim = self.sim
        for name, hit in sanc.hits.items():
            cfg = sim.scenario.sanctions[name]
            for person in np.intersect1d(hit, self.ids):
                scheme = cfg.scheme or ""
                sch = sim.schemes.get(scheme)
                self._row(person=int(person), step=t, date=sim.dates[t], scheme=scheme,
                          kind="sanction", points=0.0, sanctions=f"{name} ({cfg.effect})",
                          own_score=float(sch.b[person]) if sch else None,
                          score=float(sch.s[person]) if sch else None)

    def table(self) -> pa.Table:
        schema = pa.schema([
            ("person", pa.int64()), ("step", pa.int32()), ("date", pa.date32()),
            ("scheme", pa.string()), ("kind", pa.string()), ("source", pa.string()),
            ("rule", pa.string()), ("records", pa.int32()), ("misattributed", pa.int32()),
            ("points", pa.float64()), ("lapses", pa.date32()), ("own_score", pa.float64()),
            ("score", pa.float64()),
            ("tier", pa.string()), ("sanctions", pa.string()), ("person_id", pa.int64()),
        ])
        return pa.table({c: pa.array(self.rows[c], schema.field(c).type) for c in COLUMNS},
                        schema=schema)

    def friends_table(self) -> pa.Table:
        """The traced people's friends at the end, with their published scores."""
        net = self.sim.network
        rows: dict[str, list] = {"person": [], "friend": []}
        for person in self.ids:
            for friend in net.neighbours(int(person)):
                rows["person"].append(int(person))
                rows["friend"].append(int(friend))
        table = {"person": pa.array(rows["person"], pa.int64()),
                 "friend": pa.array(rows["friend"], pa.int64())}
        friends = np.array(rows["friend"], dtype=np.int64)
        for name, sch in self.sim.schemes.items():
            table[f"{name}_score"] = pa.array(sch.s[friends].astype(np.float64))
            table[f"{name}_scored"] = pa.array(sch.scored[friends])
        return pa.table(table)
