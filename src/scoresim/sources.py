"""Data sources -> records: what the system sees and whom it attributes it to (M1, M11, M12).

A source sees some event kinds of the people it covers (account holders), each event with
probability ``coverage``. A record is attributed only if the account is linked to a real
name; real-name registration (``real_name_from``) links every resident's account, and
foreigners' accounts through passport checks (``foreigner_linked_share``). With probability
``error_rate`` a record is misattributed: it lands on a random person instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numba
import numpy as np

from scoresim.behaviour import Events
from scoresim.events import KIND_INDEX, N_KINDS
from scoresim.people import People
from scoresim.rng import Streams
from scoresim.sampling import binomial_from_uniform
from scoresim.scenario import Scenario, SourceConfig


@dataclass
class Records:
    """The records of one step, one row per (person, kind, source, misattributed)."""

    person: np.ndarray  # int32
    kind: np.ndarray  # int16, index into EVENT_KINDS
    source: np.ndarray  # int16, index into the scenario's sources
    count: np.ndarray  # int32
    misattributed: np.ndarray  # bool

    @property
    def total(self) -> int:
        return int(self.count.sum())

    def by_kind(self) -> tuple[np.ndarray, np.ndarray]:
        """Row numbers grouped by kind (in row order within a kind) and where each kind's
        rows start: kind ``k`` is ``order[starts[k]:starts[k + 1]]``."""
        if getattr(self, "_by_kind", None) is None:
            self._by_kind = _group_by_kind(self.kind, N_KINDS)
        return self._by_kind

    @property
    def total_misattributed(self) -> int:
        return int(self.count[self.misattributed].sum())


@numba.njit(cache=True, nogil=True)
def _group_by_kind(kind, n_kinds):
    starts = np.zeros(n_kinds + 1, np.int64)
    for k in kind:
        starts[k + 1] += 1
    for k in range(n_kinds):
        starts[k + 1] += starts[k]
    pos = starts[:-1].copy()
    order = np.empty(kind.shape[0], np.int64)
    for j in range(kind.shape[0]):
        order[pos[kind[j]]] = j
        pos[kind[j]] += 1
    return order, starts


def _empty_records() -> Records:
    return Records(
        np.empty(0, np.int32),
        np.empty(0, np.int16),
        np.empty(0, np.int16),
        np.empty(0, np.int32),
        np.empty(0, bool),
    )


class DataSources:
    def __init__(self, scenario: Scenario, people: People, streams: Streams):
        self.names = list(scenario.sources)
        self.configs: list[SourceConfig] = list(scenario.sources.values())
        self.index = {name: i for i, name in enumerate(self.names)}
        self.streams = streams
        self.n = people.n
        self.foreigner = people.foreigner
        self.accounts = {
            "everyone": None,
            "commerce": people.commerce_account,
            "social": people.social_account,
        }
        self._attribution: dict[tuple, np.ndarray] = {}
        # One persistent uniform per person and source: is this person's account linked?
        self.link_u = [
            streams.gen(f"sources.{name}.linkage").random(people.n).astype(np.float32)
            for name in self.names
        ]

    def linked(self, i: int, date: dt.date, who: np.ndarray | slice = slice(None)) -> np.ndarray:
        cfg = self.configs[i]
        u = self.link_u[i][who]
        if cfg.real_name_from is not None and date >= cfg.real_name_from:
            return np.where(self.foreigner[who], u < cfg.foreigner_linked_share, True)
        return u < cfg.linked_share

    def covered(self, i: int, who: np.ndarray | slice = slice(None)) -> np.ndarray | bool:
        acc = self.accounts[self.configs[i].accounts]
        return True if acc is None else acc[who]

    def attribution_probability(self, kind: str, date: dt.date) -> np.ndarray:
        """Per person: the chance one event of ``kind`` is recorded and attributed to them
        by at least one source (the surveillance ``nu`` of the strategic dissent rule).
        It changes only when a real-name registration starts, so it is cached."""
        key = (kind, tuple(c.real_name_from is not None and date >= c.real_name_from
                           for c in self.configs))
        if key not in self._attribution:
            self._attribution = {key: self._attribution_now(kind, date)}
        return self._attribution[key]

    def _attribution_now(self, kind: str, date: dt.date) -> np.ndarray:
        missed = np.ones(self.n, dtype=np.float32)
        for i, cfg in enumerate(self.configs):
            if kind in cfg.kinds:
                p = cfg.coverage * self.linked(i, date) * self.covered(i)
                missed *= 1.0 - p
        return 1.0 - missed

    def _thin(self, name: str, step: int, ids: np.ndarray, n: np.ndarray, p: float):
        """Binomial thinning of counts ``n`` with probability ``p``."""
        if p >= 1.0 or p <= 0.0 or n.size == 0:
            return binomial_from_uniform(np.zeros(n.shape), n, p)
        return binomial_from_uniform(self.streams.uniform_for(name, step, ids), n, p)

    def record(self, events: Events, date: dt.date, step: int) -> Records:
        parts = []
        for i, (name, cfg) in enumerate(zip(self.names, self.configs, strict=True)):
            kinds = [KIND_INDEX[k] for k in cfg.kinds]
            who = np.concatenate([events.who[k] for k in kinds])
            cnt = np.concatenate([events.count[k] for k in kinds])
            kind = np.repeat(np.array(kinds, np.int16), [events.who[k].size for k in kinds])
            ok = self.linked(i, date, who) & self.covered(i, who)
            who, cnt, kind = who[ok], cnt[ok], kind[ok]
            # Draws keyed by (person, kind): a person's records do not depend on others'.
            ids = who.astype(np.int64) * N_KINDS + kind
            seen = self._thin(f"sources.{name}.coverage", step, ids, cnt, cfg.coverage)
            wrong = self._thin(f"sources.{name}.error", step, ids, seen, cfg.error_rate)
            right = seen - wrong
            keep = right > 0
            src = np.int16(i)
            parts.append(
                Records(who[keep], kind[keep], np.full(int(keep.sum()), src, np.int16),
                        right[keep].astype(np.int32), np.zeros(int(keep.sum()), bool))
            )
            bad = wrong > 0
            if bad.any():
                # A misattributed record lands on a random person (all of one person's
                # misattributed records of a kind on the same one).
                u = self.streams.uniform_for(f"sources.{name}.target", step, ids[bad])
                target = np.minimum((u * self.n).astype(np.int32), self.n - 1)
                k = int(bad.sum())
                parts.append(Records(target, kind[bad], np.full(k, src, np.int16),
                                     wrong[bad].astype(np.int32), np.ones(k, bool)))
        if not parts:
            return _empty_records()
        return Records(*(np.concatenate([getattr(p, f) for p in parts])
                         for f in ("person", "kind", "source", "count", "misattributed")))

