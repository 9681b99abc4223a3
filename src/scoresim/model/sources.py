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
from types import SimpleNamespace

import numpy as np

from scoresim.declarations.events import KIND_INDEX, KIND_NAMES, N_KINDS, kind_key
from scoresim.engine.kernels.sources import (  # the compiled kernels
    _group_by_kind,
)
from scoresim.engine.rng import Streams, counter_uniforms
from scoresim.engine.sampling import binomial_inverse_cdf
from scoresim.engine.threads import map_threads
from scoresim.model.behaviour import Events
from scoresim.model.component import Array, Component
from scoresim.model.people import People
from scoresim.scenario.schema import Scenario, SourceConfig


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


def _empty_records() -> Records:
    return Records(
        np.empty(0, np.int32),
        np.empty(0, np.int16),
        np.empty(0, np.int16),
        np.empty(0, np.int32),
        np.empty(0, bool),
    )


def _newcomer_linkage(src: DataSources, who: np.ndarray, step: int, name: str) -> np.ndarray:
    """Is each new account linked? A uniform per newcomer and source, by person id, from
    stream ``sources.NAME.linkage.newcomer``."""
    return src.streams.uniform_for(f"sources.{name}.linkage.newcomer", step,
                                   src.people.person_id[who])


class DataSources(Component):
    """The data sources (M1, M11, M12): which events each sees and links to a person."""

    KEY = "sources"
    STATE = (Array("link_u", mapping=True, newcomer=_newcomer_linkage),)
    CACHES = ("_attribution",)

    def __init__(self, scenario: Scenario, people: People, streams: Streams,
                 kernels: SimpleNamespace, restoring: bool = False):
        self.k = kernels  # the plain rules or the compiled kernels (the engine's)
        self.names = list(scenario.sources)
        self.configs: list[SourceConfig] = list(scenario.sources.values())
        self.index = {name: i for i, name in enumerate(self.names)}
        self.streams = streams
        self.n = people.n
        self.people = people  # (its arrays read at use: newcomers change them)
        self._attribution: dict[tuple, np.ndarray] = {}
        # One persistent uniform per person and source: is this person's account linked?
        # (``restoring``: built to take a saved state, e.g. at a resize: nothing drawn)
        self.link_u = {
            name: np.zeros(people.n, np.float32) if restoring else
            streams.gen(f"sources.{name}.linkage").random(people.n).astype(np.float32)
            for name in self.names
        }

    def drop_caches(self) -> None:
        self._attribution = {}

    @property
    def foreigner(self) -> np.ndarray:
        return self.people.foreigner

    @property
    def accounts(self) -> dict[str, np.ndarray | None]:
        p = self.people
        return {"everyone": None, "commerce": p.commerce_account, "social": p.social_account}

    def linked(self, i: int, date: dt.date, who: np.ndarray | slice = slice(None)) -> np.ndarray:
        cfg = self.configs[i]
        u = self.link_u[self.names[i]][who]
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

    def _key(self, name: str, step: int, p: float, needed: bool) -> np.uint64:
        """The stream key of a thinning with probability ``p`` (none is drawn when p is
        0 or 1, or nobody is thinned)."""
        if needed and 0.0 < p < 1.0:
            return self.streams.key(name, step)
        return np.uint64(0)

    def record(self, events: Events, date: dt.date, step: int) -> Records:
        """The step's records, source by source (sources side by side on threads; the
        records come out in source order)."""
        jobs = []
        for i, (name, cfg) in enumerate(zip(self.names, self.configs, strict=True)):
            kinds = [KIND_INDEX[k] for k in cfg.kinds]
            who = np.concatenate([events.who[k] for k in kinds])
            # Draws keyed by (person, kind): a person's records do not depend on others'.
            keys = np.array([
                self._key(f"sources.{name}.coverage", step, cfg.coverage, who.size > 0),
                self._key(f"sources.{name}.error", step, cfg.error_rate, who.size > 0),
                self.streams.key(f"sources.{name}.target", step)
                if who.size and cfg.error_rate > 0 else np.uint64(0),
            ], dtype=np.uint64)
            jobs.append((i, cfg, kinds, who, keys))

        def one(job) -> list[Records]:
            i, cfg, kinds, who, keys = job
            cnt = np.concatenate([events.count[k] for k in kinds])
            kind = np.repeat(np.array(kinds, np.int16), [events.who[k].size for k in kinds])
            account = self.accounts[cfg.accounts]
            real_name = cfg.real_name_from is not None and date >= cfg.real_name_from
            right, bad = self.k.record_source(
                who, cnt, kind, self.link_u[self.names[i]], self.foreigner, real_name,
                np.float32(cfg.foreigner_linked_share), np.float32(cfg.linked_share),
                np.zeros(0, bool) if account is None else account,
                float(cfg.coverage), float(cfg.error_rate), keys, self.n, _KIND_KEYS)
            out = []
            for (p_who, p_kind, p_count), wrong in ((right, False), (bad, True)):
                if p_who.size or not wrong:
                    out.append(Records(p_who, p_kind, np.full(p_who.size, i, np.int16),
                                       p_count, np.full(p_who.size, wrong, bool)))
            return out

        parts = [r for rs in map_threads(one, jobs, self.n) for r in rs]
        if not parts:
            return _empty_records()
        return Records(*(np.concatenate([getattr(p, f) for p in parts])
                         for f in ("person", "kind", "source", "count", "misattributed")))


def once_per_event(idx: np.ndarray, person: np.ndarray, source: np.ndarray,
                   count: np.ndarray, wrong: np.ndarray, rule_src: np.ndarray) -> np.ndarray:
    """An event counts once per scheme, whatever number of its sources saw it: of the
    records ``idx`` (one kind, one day, in row order), those from the rule's sources
    (``rule_src``) with, per person, only the rightly attributed record with the largest
    count (the first such row on a tie). Records of one person, kind and day from two
    sources are taken as the same events: a scheme that sees a bill default through the
    payment platform and the credit reference centre deducts for it once. Misattributed
    records (M1) are kept, each: they land on random people, one error each."""
    j = idx[rule_src[source[idx]]]
    right = j[~wrong[j]]
    if right.size < 2:
        return j
    order = np.lexsort((right, -count[right], person[right]))
    p = person[right][order]
    first = np.ones(order.size, bool)
    first[1:] = p[1:] != p[:-1]
    return np.sort(np.concatenate([right[order[first]], j[wrong[j]]]))


def thin(n: np.ndarray, p: float, key: np.uint64, ids: np.ndarray) -> np.ndarray:
    """Binomial(n, p) per record, at the record's counter uniform ``ids`` under ``key``."""
    if p >= 1.0:
        return n
    if p <= 0.0:
        return np.zeros_like(n)
    return binomial_inverse_cdf(counter_uniforms(key, ids), n, p)


def record_source(who, cnt, kind, link_u, foreigner, real_name, foreigner_share,
                  linked_share, account, coverage, error_rate, keys, n_people, kind_keys):
    """M1, M11, M12: one source's records of the day's events (``who`` did ``cnt`` events
    of ``kind``). The source sees people whose account is linked to their name (everyone's
    after real-name registration, foreigners' at ``foreigner_share``; before it, a share
    ``linked_share``) and, if it needs an account, who have one; it records each event with
    probability ``coverage`` and misattributes each recorded one with ``error_rate`` to a
    random person. Draws are keyed by (person, kind name). Returns (who, kind, count) of
    the rightly attributed and of the misattributed records."""
    u = link_u[who]
    linked = np.where(foreigner[who], u < foreigner_share, True) if real_name else (
        u < linked_share)
    if account.shape[0]:
        linked &= account[who]
    who, cnt, kind = who[linked], cnt[linked].astype(np.int64), kind[linked]
    ids = (who.astype(np.int64) << 32) | kind_keys[kind]
    seen = thin(cnt, coverage, keys[0], ids)
    wrong = thin(seen, error_rate, keys[1], ids)
    right = seen - wrong
    r, b = right > 0, wrong > 0
    target = (counter_uniforms(keys[2], ids[b]) * n_people).astype(np.int32)
    return ((who[r].astype(np.int32), kind[r].astype(np.int16), right[r].astype(np.int32)),
            (np.minimum(target, n_people - 1).astype(np.int32), kind[b].astype(np.int16),
             wrong[b].astype(np.int32)))


#: The 32-bit key of each kind's name, by position: per-record draws are keyed by
#: (person, kind name), so adding or reordering kinds moves no other kind's draws.
_KIND_KEYS = np.array([kind_key(k) for k in KIND_NAMES], np.int64)


def blacklist(people: People, records: Records, blacklist_sources: np.ndarray, days: int,
              step: int) -> None:
    """Court listings seen by a blacklist source put a person on the court's list of
    dishonest judgment defaulters for ``days`` (M11). A listing is wrongful if every
    listing record of that person today was misattributed (a data error, M1)."""
    if blacklist_sources.size == 0:
        return
    sel = (records.kind == KIND_INDEX["court_listing"]) & np.isin(records.source,
                                                                   blacklist_sources)
    who, wrong = records.person[sel], records.misattributed[sel]
    was_listed = people.blacklisted_until >= step
    people.blacklisted_until[who] = step + days
    fresh = who[~was_listed[who]]
    people.blacklist_wrongful[fresh] = True
    people.blacklist_wrongful[who[~wrong]] = False
