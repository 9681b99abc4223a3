"""The record log of a scheme whose points lapse (scores as levels, ``lasts_days``): which
records are in force, for how long, and what lapses on which day.

Storage engineering apart from the science of :mod:`scoresim.model.scoring`: a ring of
buckets for records that lapse within the scheme's period (:class:`Ring`, the clean entries
kept sparse; :class:`SparseRing` for the rare negative ones) and a store by lapse day for
the rest. Every entry is the float32 sum it would be in a dense row, so the levels and what
lapses are the same to the bit whichever store holds it.

:class:`RecordLog`: the points in force of one scheme whose points lapse. A record is
(person, day, points, points without misattributed records, rule code); it counts for its
period ``L`` (the rule's ``lasts_days``, else the scheme's; the head start, bonus and
decay take the scheme's) and lapses on the first recomputation day (every
``recompute_every_days``, R, from the run's first day) at or after day + L. The published
score changes only on recomputation days, and lapses are applied before it is published,
so for a given period the published score is the same as with lapses on the exact day;
only the own score between two recomputations keeps a record up to R - 1 days longer.
Shapes: in full until it lapses (``window``); fading linearly to zero on the day it
lapses (``linear``: a per-person slope subtracted daily, ``points / (lapse day - day)``,
so its period stretches to the lapse day as the window's does); or by ``exp(-1 / L)`` a
day (``exponential``: a per-person multiplicative decay per period, no records kept,
never lapses). Points of a period of ``None`` count for ever.

Storage, compact: the records of a person that lapse on the same recomputation day add
up into one entry (all rules together; a linear record keeps its slope), kept apart for
negative rule records where credit repair is on (repair removes exactly those).

- ``ring``: records of the scheme's own period and shorter (the common ones): a
  :class:`Ring`, float32 entries by bucket and person (with errors: dense, (buckets,
  n); clean: only where they differ, a few percent), bucket = the lapse day's bucket
  number (lapse day / R) modulo the buckets; ``ring_negative`` the same for negative
  rule records, as a :class:`SparseRing` (few people have them). The records in force
  on any day lapse within ``ceil(L / R) + 1`` buckets, so one ring covers every period
  up to the scheme's (seed: 14 buckets for 365 days, 26 for 730, recomputed every 30).
  The level ``in_force`` (float64) moves by exactly what each float32 entry moved, so a
  lapse takes out what went in.
- ``later``/``later_negative``: records of longer periods (a court listing, a loan
  default: few people have them), and all records where the ring would need more than
  ``MAX_BUCKETS`` buckets (a daily recomputation): lapse day -> (people, amounts (2, m)
  float64), one entry per person.

Credit repair (:class:`RepairConfig`): a person with a negative rule record in force
for ``min_days_in_force`` may apply (a daily chance); ``waiting_days`` later, on a
recomputation day, their negative rule records in force are removed.
"""

from __future__ import annotations

import numpy as np

from scoresim.engine.kernels.scoring import _move_level, _ring_add
from scoresim.model.component import OTHER, PERSON, ROW, Array, Component
from scoresim.scenario.schema import SchemeConfig

#: Codes of the log's records that no rule made (rules are 0, 1, ...).
HEAD_START, BONUS, DECAY = -1, -2, -3


class Ring:
    """A record log's ring (see :class:`RecordLog`): per bucket and person, one float32
    entry with errors and one without (clean). The clean entry differs from the other only
    for people with a misattributed record in that bucket (a few percent), so it is kept
    sparse: per bucket, the people whose clean entry differs (sorted) and their clean
    entries. Every entry is the float32 sum it would be in a dense (2, n) row, so the
    levels and what lapses are the same to the bit."""

    def __init__(self, buckets: int, n: int, add=None):
        self.buckets, self.n = buckets, n
        #: how an amount is added to a row: :func:`ring_add` (compiled, the default) or
        #: :func:`ring_add_plain` (numpy), the engine's
        self._add = add or ring_add
        self.rows = np.zeros((buckets, n), np.float32)  # entries with errors
        self.clean = [(_NO_PEOPLE, _NO_VALUES)] * buckets  # (people, clean entries)

    def clear(self) -> None:
        self.rows[:] = 0.0
        self.clean = [(_NO_PEOPLE, _NO_VALUES)] * self.buckets

    def clean_of(self, j: int, who: np.ndarray, errors: np.ndarray) -> np.ndarray:
        """The clean entries of row ``j`` for ``who``, given their entries with errors."""
        people, values = self.clean[j]
        out = errors.copy()
        if people.size and who.size:
            at = np.minimum(np.searchsorted(people, who), people.size - 1)
            hit = people[at] == who
            out[hit] = values[at[hit]]
        return out

    def _set_clean(self, j: int, who: np.ndarray, errors: np.ndarray, clean: np.ndarray
                   ) -> None:
        """Row ``j``'s clean entries of ``who`` (distinct) are now ``clean``."""
        people, values = self.clean[j]
        differs = errors.view(np.int32) != clean.view(np.int32)  # (bit for bit)
        if not people.size and not differs.any():
            return
        keep = ~np.isin(people, who)
        people = np.concatenate([people[keep], who[differs].astype(np.int64)])
        values = np.concatenate([values[keep], clean[differs]])
        order = np.argsort(people)
        self.clean[j] = (people[order], values[order])

    def add(self, j: int, who: np.ndarray, amount: np.ndarray) -> tuple[np.ndarray, ...]:
        """Add ``amount`` ((2, m) float32: with errors, clean) to the entries of ``who``
        (distinct) in row ``j``. Returns the entries before and after, float64 (2, m)."""
        return self._add(self, j, who, amount)

    def row_errors(self, j: int, who: np.ndarray) -> np.ndarray:
        """Row ``j``'s entries with errors of ``who``."""
        return self.rows[j][who]

    def nonzero(self, j: int) -> np.ndarray:
        """The people with an entry in row ``j`` (either column not zero), in order."""
        people, values = self.clean[j]
        has = self.rows[j] != 0
        has[people[values != 0]] = True
        return np.flatnonzero(has)

    def get(self, j: int, who: np.ndarray) -> np.ndarray:
        """Row ``j``'s entries of ``who``, (2, m) float32."""
        errors = self.rows[j][who]
        return np.stack([errors, self.clean_of(j, who, errors)])

    def take(self, j: int, who: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Zero row ``j``'s entries of ``who`` (None: all) and return (the people with
        one, their entries as float64 (2, m))."""
        if who is None:
            who = self.nonzero(j)
        values = self.get(j, who)
        has = (values[0] != 0) | (values[1] != 0)
        who, values = who[has], values[:, has]
        if who.size:
            self.rows[j][who] = 0.0
            self._set_clean(j, who, np.zeros(who.size, np.float32),
                            np.zeros(who.size, np.float32))
        return who, values.astype(np.float64)



def ring_add_plain(ring: Ring, j: int, who: np.ndarray, amount: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`Ring.add` with numpy."""
    row = ring.rows[j]
    before = row[who]
    before_clean = ring.clean_of(j, who, before)
    after = before + amount[0]
    after_clean = before_clean + amount[1]
    row[who] = after
    ring._set_clean(j, who, after, after_clean)
    return (np.stack([before, before_clean]).astype(np.float64),
            np.stack([after, after_clean]).astype(np.float64))


def ring_add(ring: Ring, j: int, who: np.ndarray, amount: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`Ring.add` by the compiled kernel, in one pass."""
    before, after, people, values = _ring_add(ring.rows[j], *ring.clean[j],
                                              np.asarray(who, np.int64), amount)
    ring.clean[j] = (people, values)
    return before, after


class SparseRing:
    """A ring (the interface of :class:`Ring`) holding only the entries made: per bucket,
    the people with one (sorted) and their entries (float32 (2, k): with errors, clean).
    For negative records (credit repair), which few people have in force (measured in
    seed: 1-8% of people a bucket). The entries are the float32 sums a dense ring holds."""

    def __init__(self, buckets: int, n: int):
        self.buckets, self.n = buckets, n
        self.clear()

    def clear(self) -> None:
        self.rows = [(_NO_PEOPLE, _NO_PAIRS)] * self.buckets

    def _find(self, j: int, who: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in row ``j``, whether there) of each of ``who``."""
        people = self.rows[j][0]
        if not people.size:
            return np.zeros(who.size, np.int64), np.zeros(who.size, bool)
        at = np.minimum(np.searchsorted(people, who), people.size - 1)
        return at, people[at] == who

    def get(self, j: int, who: np.ndarray) -> np.ndarray:
        at, there = self._find(j, who)
        out = np.zeros((2, who.size), np.float32)
        out[:, there] = self.rows[j][1][:, at[there]]
        return out

    def add(self, j: int, who: np.ndarray, amount: np.ndarray) -> tuple[np.ndarray, ...]:
        people, values = self.rows[j]
        at, there = self._find(j, who)
        before = np.zeros((2, who.size), np.float32)
        before[:, there] = values[:, at[there]]
        after = before + amount
        values[:, at[there]] = after[:, there]
        new = ~there
        if new.any():  # (the newcomers to the row, inserted in order)
            order = np.argsort(who[new])
            fresh = np.asarray(who, np.int64)[new][order]
            at = np.searchsorted(people, fresh)
            self.rows[j] = (np.insert(people, at, fresh),
                            np.insert(values, at, after[:, new][:, order], axis=1))
        return before.astype(np.float64), after.astype(np.float64)

    def nonzero(self, j: int) -> np.ndarray:
        people, values = self.rows[j]
        return people[(values[0] != 0) | (values[1] != 0)]

    def take(self, j: int, who: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        if who is None:
            who = self.nonzero(j)
        values = self.get(j, who)
        has = (values[0] != 0) | (values[1] != 0)
        who, values = who[has], values[:, has]
        if who.size:  # (their entries go: zero, as in a dense ring)
            people, kept = self.rows[j]
            keep = ~np.isin(people, who)
            self.rows[j] = (people[keep], kept[:, keep])
        return who, values.astype(np.float64)

    def row_errors(self, j: int, who: np.ndarray) -> np.ndarray:
        return self.get(j, who)[0]

def move_level_plain(in_force, slope, who, before, after, left):
    """The level (and slope, unless None) of the distinct ``who`` moved by what their
    entries moved, ``after - before`` ((2, m) float64), the level by that times ``left``
    (numpy)."""
    moved = after - before
    in_force[:, who] += moved * left
    if slope is not None:
        slope[:, who] += moved


def move_level(in_force, slope, who, before, after, left):
    """:func:`move_level_plain` by the compiled kernel."""
    _move_level(in_force, _NO_SLOPE if slope is None else slope, np.asarray(who, np.int64),
                before, after, np.float64(left))


_NO_PEOPLE = np.zeros(0, np.int64)
_NO_SLOPE = np.zeros((2, 0), np.float64)
_NO_VALUES = np.zeros(0, np.float32)
_NO_PAIRS = np.zeros((2, 0), np.float32)


class RecordLog(Component):
    """The points in force of one scheme whose points lapse (``lasts_days``; the module's
    docstring says how records count and where they are kept)."""

    MAX_BUCKETS = 64
    STATE = (
        Array("in_force"), Array("for_ever", optional=True), Array("slope", optional=True),
        Array("fading", mapping=True), Array("n_negative", optional=True),
        Array("negative_since", newcomer=-1, optional=True),
        Array("repair_due", newcomer=-1, optional=True),
        Array("repaired_on", newcomer=-1, optional=True),
        # the entries in force, as rows (stored in the rings and stores below)
        Array("lapse_day", axis=ROW, table="entries"),
        Array("person", axis=ROW, table="entries", slots=True),
        Array("amount", axis=ROW, table="entries"),
        Array("negative", axis=ROW, table="entries"),
        Array("day", axis=OTHER),
    )
    STORES = ("ring", "ring_negative", "later", "later_negative")

    def __init__(self, cfg: SchemeConfig, n: int, add=None, move=None):
        self.n = n
        #: how a ring entry's change moves the level: :func:`move_level` (compiled, the
        #: default) or :func:`move_level_plain`, the engine's
        self._move = move or move_level
        self.shape = cfg.decay_shape
        self.default = cfg.lasts_days
        self.every = cfg.recompute_every_days
        # period by code: rules 0..R-1, then HEAD_START, BONUS, DECAY from the end
        self.period = [r.lasts_days or cfg.lasts_days for r in cfg.rules] + [cfg.lasts_days] * 3
        self.n_rules = len(cfg.rules)
        self.repairable = bool(cfg.repair.apply_rate_per_day)
        self.in_force = np.zeros((2, n), np.float64)  # (with errors, clean)
        # (points of rules without a period; only where some rule has none)
        self.for_ever = (np.zeros((2, n), np.float64) if None in self.period else None)
        self.slope = np.zeros((2, n), np.float64) if self.shape == "linear" else None
        self.fading: dict[int, np.ndarray] = {}  # exponential: per period, (2, n)
        periods = [L for L in self.period if L is not None]
        self.ring_days = cfg.lasts_days or (min(periods) if periods else 0)
        buckets = -(-self.ring_days // self.every) + 1
        if self.shape == "exponential" or buckets > self.MAX_BUCKETS:
            self.ring_days, buckets = 0, 0
        self.ring = Ring(buckets, n, add)
        self.ring_negative = SparseRing(buckets if self.repairable else 0, n)
        #: lapse day -> (person int32, amounts (2, m) float64); one entry per person
        self.later: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.later_negative: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.day = -1  # the last day lapsed
        # Credit repair's state (None where repair is off: nothing is negative apart then)
        repair = self.repairable
        self.n_negative = np.zeros(n, np.int32) if repair else None  # negative entries
        self.negative_since = np.full(n, -1, np.int32) if repair else None  # first made
        self.repair_due = np.full(n, -1, np.int32) if repair else None  # when granted
        self.repaired_on = np.full(n, -1, np.int32) if repair else None  # last repair

    @staticmethod
    def wanted(cfg: SchemeConfig) -> bool:
        return cfg.lasts_days is not None or any(r.lasts_days for r in cfg.rules)

    def lasts(self, code: int) -> int | None:
        return self.period[code] if code >= 0 else self.period[self.n_rules - code - 1]

    def lapse_day(self, code: int, step: int) -> int | None:
        """The day a record of ``code`` made on ``step`` lapses: the first recomputation day
        at or after ``step + L`` (None: never)."""
        L = self.lasts(code)
        if L is None or self.shape == "exponential":
            return None
        return -(-(step + L) // self.every) * self.every

    def level(self, initial: float) -> tuple[np.ndarray, np.ndarray]:
        """``initial + points in force`` per person (with errors, clean)."""
        total = self.in_force if self.for_ever is None else self.in_force + self.for_ever
        for acc in self.fading.values():
            total = total + acc
        return initial + total[0], initial + total[1]

    def add_dense(self, points: np.ndarray, clean: np.ndarray, code: int, step: int) -> None:
        who = np.flatnonzero((points != 0) | (clean != 0))
        if who.size:
            self.add(who, points[who], clean[who], code, step)

    def add(self, who: np.ndarray, points: np.ndarray, clean: np.ndarray, code: int,
            step: int) -> None:
        """Records of one code made on ``step`` (distinct ``who``)."""
        L = self.lasts(code)
        pair = np.stack([np.asarray(points, np.float64), np.asarray(clean, np.float64)])
        if L is None:
            if self.for_ever is None:
                self.for_ever = np.zeros((2, self.n), np.float64)
            self.for_ever[:, who] += pair
            return
        if self.shape == "exponential":
            acc = self.fading.setdefault(L, np.zeros((2, self.n), np.float64))
            acc[:, who] += pair
            return
        day = self.lapse_day(code, step)
        if self.slope is not None:  # (a slope: the points fade to zero on the lapse day)
            pair = pair / (day - self._origin(step))
        negative = self.repairable and code >= 0
        bad = np.asarray(points) < 0 if negative else np.zeros(who.size, bool)
        for part, neg in ((~bad, False), (bad, True)):
            if part.any():
                self._put(day, who[part], pair[:, part], neg, step)

    def _put(self, day: int, who: np.ndarray, amount: np.ndarray, negative: bool,
             step: int) -> None:
        """Entries lapsing on ``day`` (an amount: points, or a slope) into their store, the
        level moved by as much (``step``: today, for a slope's value left)."""
        left = 1.0 if self.slope is None else float(day - self._origin(step))
        if negative:
            self.negative_since[who[self.n_negative[who] == 0]] = step
        if self._in_ring(day):
            ring = self.ring_negative if negative else self.ring
            j = day // self.every % ring.buckets
            if negative:
                self.n_negative[who[ring.row_errors(j, who) == 0]] += 1
            before, after = ring.add(j, who, amount.astype(np.float32))
            # (the level moves by exactly what the entry moved)
            self._move(self.in_force, self.slope, who, before, after, left)
            return
        store = self.later_negative if negative else self.later
        old = store.get(day)
        if negative:
            fresh = who if old is None else who[~np.isin(who, old[0])]
            self.n_negative[fresh] += 1
        if old is not None:
            who_all, inverse = np.unique(np.concatenate([old[0], who]), return_inverse=True)
            both = np.concatenate([old[1], amount], axis=1)
            merged = np.stack([np.bincount(inverse, both[i], minlength=who_all.size)
                               for i in (0, 1)])
            store[day] = (who_all.astype(np.int32), merged)
        else:
            order = np.argsort(who)
            store[day] = (who[order].astype(np.int32), amount[:, order].copy())
        self.in_force[:, who] += amount * left
        if self.slope is not None:
            self.slope[:, who] += amount

    def _origin(self, step: int) -> int:
        """The day a slope starts from: ``step``, or the day before where today's fading
        is still to come (a head start given before the day's lapses)."""
        return step if self.day >= step else step - 1

    def _in_ring(self, day: int) -> bool:
        """Whether entries lapsing on ``day`` go in the ring (lapse on a recomputation day
        within its buckets of the last day lapsed)."""
        if not self.ring.buckets or day % self.every:
            return False
        ahead = day // self.every - max(self.day, 0) // self.every
        return 0 < ahead <= self.ring.buckets

    def _row_day(self, j: int, buckets: int) -> int:
        """The lapse day of ring row ``j``: its bucket is the one ahead of the last day
        lapsed."""
        base = max(self.day, 0) // self.every
        return (base + ((j - base) % buckets or buckets)) * self.every

    def lapse(self, step: int, keep: bool = False) -> np.ndarray | None:
        """Fade the records in force by a day and drop those that lapse today. Returns the
        change per person (``keep``: for the ledger)."""
        before = self.level(0.0)[0] if keep else None
        self.day = step
        if self.shape == "exponential":
            for L, acc in self.fading.items():
                acc *= np.exp(-1.0 / L)
        if self.slope is not None:
            self.in_force -= self.slope
        if self.ring.buckets and step % self.every == 0:
            j = step // self.every
            for ring, negative in ((self.ring, False), (self.ring_negative, True)):
                if ring.buckets:
                    self._drop_row(ring, j % ring.buckets, None, negative, 0)
        for store, negative in ((self.later, False), (self.later_negative, True)):
            entries = store.pop(step, None)
            if entries is not None:
                self._drop(entries[1], entries[0], negative, 0)
        return None if before is None else self.level(0.0)[0] - before

    def _drop_row(self, ring: Ring, j: int, who: np.ndarray | None, negative: bool,
                  left: int) -> None:
        """Take ring row ``j``'s entries (of ``who``; None: all) out of the level, zeroing
        them."""
        who, values = ring.take(j, who)
        if who.size:
            self._drop(values, who, negative, left)

    def _drop(self, values: np.ndarray, who: np.ndarray, negative: bool, left: int) -> None:
        """Take entries (distinct ``who``) out of the level; ``left``: days a slope still
        had to run."""
        if self.slope is not None:
            self.in_force[:, who] -= values * left
            self.slope[:, who] -= values
        else:
            self.in_force[:, who] -= values
        if negative:
            self.n_negative[who[values[0] != 0]] -= 1
            self.negative_since[who[self.n_negative[who] == 0]] = -1

    def _remove(self, who: np.ndarray, negative_only: bool, step: int) -> None:
        """Take the entries of ``who`` out (negative rule entries only, or all)."""
        who = np.unique(who)
        rings = [(self.ring_negative, True)] + ([] if negative_only else [(self.ring, False)])
        for ring, negative in rings:
            for j in range(ring.buckets):
                self._drop_row(ring, j, who, negative, self._row_day(j, ring.buckets) - step)
        stores = [(self.later_negative, True)] + ([] if negative_only else [(self.later, False)])
        for store, negative in stores:
            for day, (person, amount) in list(store.items()):
                hit = np.isin(person, who)
                if hit.any():
                    self._drop(amount[:, hit], person[hit], negative, day - step)
                    store[day] = (person[~hit], amount[:, ~hit])
        if self.repairable:
            self.n_negative[who] = 0
            self.negative_since[who] = -1

    def reset(self, who: np.ndarray, step: int = 0) -> None:
        """The person slots ``who`` are given to newcomers: no records, nothing pending."""
        if not who.size:
            return
        self._remove(who, negative_only=False, step=max(self.day, 0))
        self.in_force[:, who] = 0.0
        for acc in (self.for_ever, self.slope, *self.fading.values()):
            if acc is not None:
                acc[:, who] = 0.0
        if self.repairable:
            self.repair_due[who] = -1
            self.repaired_on[who] = -1

    # (checkpoints: the entries as lapse day, person, amounts, negative; any layout)
    def entries(self):
        """Every entry in force: (lapse day, people, amounts (2, m), negative)."""
        return _entries(self)

    def collect(self) -> dict[str, tuple[np.ndarray, Array]]:
        """The state as declared: the person arrays, and the entries in force as rows."""
        return _rows(self)

    def restore(self, a: dict[str, np.ndarray]) -> None:
        if a:  # (nothing saved: new at a fork, points lapse from here on)
            _place_rows(self, a)


# ----------------------------------------------------------------- credit repair
# (a person with a negative rule record in force for ``min_days_in_force`` may apply, a
# daily chance; ``waiting_days`` later, on a recomputation day, their negative rule
# records in force are removed)


def apply_for_repair(self: RecordLog, step: int, scored: np.ndarray, u: np.ndarray, cfg) -> None:
    """Who applies today: scored, a negative record in force for ``min_days_in_force``,
    no application pending, and ``u < apply_rate_per_day``."""
    can = (scored & (self.n_negative > 0) & (self.repair_due < 0)
           & (step - self.negative_since >= cfg.min_days_in_force))
    who = np.flatnonzero(can & (u < cfg.apply_rate_per_day))
    self.repair_due[who] = step + cfg.waiting_days

def repair(self: RecordLog, step: int, keep: bool = False) -> np.ndarray | None:
    """Remove the negative rule records of those whose application is granted (due by
    today). Returns the change per person (``keep``: for the ledger)."""
    due = (self.repair_due >= 0) & (self.repair_due <= step)
    if not due.any():
        return np.zeros(self.n) if keep else None
    before = self.level(0.0)[0] if keep else None
    self._remove(np.flatnonzero(due), negative_only=True, step=step)
    who = np.flatnonzero(due)
    self.repaired_on[who] = step
    self.repair_due[who] = -1
    return None if before is None else self.level(0.0)[0] - before


# -------------------------------------------------- the log as rows (for checkpoints)


def _entries(self: RecordLog):
    """Every entry in force: (lapse day, people, amounts (2, m), negative)."""
    for ring, negative in ((self.ring, False), (self.ring_negative, True)):
        for j in range(ring.buckets):
            who = ring.nonzero(j)
            if who.size:
                yield self._row_day(j, ring.buckets), who, ring.get(j, who), negative
    for store, negative in ((self.later, False), (self.later_negative, True)):
        for day, (person, amount) in store.items():
            yield day, person, amount, negative

def _rows(self: RecordLog) -> dict[str, tuple[np.ndarray, Array]]:
    """The log's declared state: its person arrays, and the entries in force as rows."""
    specs = {spec.name: spec for spec in self.declared()}
    held = tuple(spec for spec in self.declared() if spec.axis == PERSON)
    out = {name: (x, spec) for name, spec, x in self.arrays(held)}
    parts = list(_entries(self))
    rows = {
        "lapse_day": np.repeat(np.array([p[0] for p in parts], np.int64),
                               [p[1].size for p in parts]).astype(np.int64),
        "person": np.concatenate([p[1] for p in parts] + [np.zeros(0, np.int64)]
                                 ).astype(np.int32),
        "amount": np.concatenate([p[2].astype(np.float64) for p in parts]
                                 + [np.zeros((2, 0))], axis=1),
        "negative": np.repeat(np.array([p[3] for p in parts], bool),
                              [p[1].size for p in parts]).astype(bool),
        "day": np.array([self.day], np.int64),
    }
    out.update({name: (x, specs[name]) for name, x in rows.items()})
    return out

def _place_rows(self: RecordLog, a: dict[str, np.ndarray]) -> None:
    """Put saved rows back into the log's stores, and its person arrays."""
    for k in ("in_force", "for_ever", "slope", "n_negative", "negative_since",
              "repair_due", "repaired_on"):
        if k in a and (getattr(self, k) is not None or k == "for_ever"):
            setattr(self, k, np.array(a[k], dtype=np.asarray(a[k]).dtype))
    self.fading = {int(k.split(".", 1)[1]): np.array(v, np.float64)
                   for k, v in a.items() if k.startswith("fading.")}
    self.day = int(np.asarray(a["day"])[0]) if "day" in a else -1
    self.ring.clear()
    self.ring_negative.clear()
    self.later, self.later_negative = {}, {}
    day = np.asarray(a["lapse_day"])
    negative = np.asarray(a["negative"]) & self.repairable
    order = np.lexsort((negative, day))
    person = np.asarray(a["person"])[order]
    amount = np.asarray(a["amount"])[:, order]
    key = day[order] * 2 + negative[order]
    for value, lo, hi in _runs(key):
        _place(self, int(value) // 2, person[lo:hi], amount[:, lo:hi], bool(value % 2))

def _place(self: RecordLog, day: int, who: np.ndarray, amount: np.ndarray, negative: bool) -> None:
    """Put saved entries back as they were (the level and counts are restored apart)."""
    who, inverse = np.unique(who, return_inverse=True)
    amount = np.stack([np.bincount(inverse, amount[i], minlength=who.size) for i in (0, 1)])
    if self._in_ring(day):
        ring = self.ring_negative if negative else self.ring
        ring.add(day // self.every % ring.buckets, who, amount.astype(np.float32))
    else:
        store = self.later_negative if negative else self.later
        store[day] = (who.astype(np.int32), np.array(amount, np.float64))




def _runs(sorted_values: np.ndarray):
    """(value, start, end) of each run of equal values."""
    if sorted_values.size == 0:
        return []
    cut = np.flatnonzero(np.diff(sorted_values)) + 1
    starts = np.concatenate([[0], cut])
    ends = np.concatenate([cut, [sorted_values.size]])
    return [(sorted_values[a], a, b) for a, b in zip(starts, ends, strict=True)]


