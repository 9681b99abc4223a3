"""Behaviour -> events: each step every person draws counts of each event kind (M1, M2, M14).

Counts are Poisson with a per-person rate, drawn by inverting the CDF at one uniform per
person and kind from the kind's own stream (:mod:`scoresim.sampling`): when a policy lowers
someone's rate (self-censorship), the same draw yields the same or a smaller count, which
keeps counterfactual comparisons tight (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scoresim.events import (
    DISSENT_KINDS,
    EVENT_KINDS,
    KIND_INDEX,
    LOYAL_KINDS,
    SPENDING_KINDS,
)
from scoresim.people import People
from scoresim.rng import Streams
from scoresim.sampling import poisson_from_uniform
from scoresim.scenario import BehaviourConfig


@dataclass
class Events:
    """Sparse event counts of one step: for each kind, who (ids) and how many."""

    who: list[np.ndarray] = field(default_factory=list)  # per kind, int32 ids
    count: list[np.ndarray] = field(default_factory=list)  # per kind, int32 counts

    def total(self, kind: str) -> int:
        return int(self.count[KIND_INDEX[kind]].sum())


def person_rates(
    people: People, cfg: BehaviourConfig, multipliers: dict[str, np.ndarray]
) -> dict[str, np.ndarray | float]:
    """Each kind's daily rate for every person (scalar where it is the same for all)."""
    base = cfg.rates_per_day
    income = people.income_decile.astype(np.float32) / 9.0
    spending = 0.5 + income  # 0.5 (poorest) .. 1.5 (richest)
    hardship = (1.0 - people.bill_reliability) * (1.5 - income) * 4.0
    loyalty = (1.0 + people.expressed_opinion) / 2.0
    dissent = people.expressed_dissent

    rates: dict[str, np.ndarray | float] = {}
    for kind in EVENT_KINDS:
        r: np.ndarray | float = getattr(base, kind.name)
        if kind.name in SPENDING_KINDS:
            r = r * spending
        elif kind.name in LOYAL_KINDS:
            r = r * loyalty
        elif kind.name in DISSENT_KINDS:
            r = r * dissent
        elif kind.name in ("bill_default", "loan_default"):
            r = r * hardship
        elif kind.name == "bill_paid":
            r = r * people.bill_reliability
        if kind.name in multipliers:
            r = r * multipliers[kind.name]
        rates[kind.name] = r
    return rates


def draw_events(
    people: People,
    cfg: BehaviourConfig,
    multipliers: dict[str, np.ndarray],
    streams: Streams,
    step: int,
) -> Events:
    n = people.n
    rates = person_rates(people, cfg, multipliers)
    events = Events()
    for kind in EVENT_KINDS:
        if kind.name == "court_listing":
            loan = KIND_INDEX["loan_default"]
            who, cnt = events.who[loan], events.count[loan]
            listed = streams.gen("behaviour.court_listing", step).binomial(
                cnt, cfg.court_listing_per_loan_default
            )
            keep = listed > 0
            events.who.append(who[keep])
            events.count.append(np.minimum(listed[keep], 1).astype(np.int32))
            continue
        rate = rates[kind.name]
        if np.isscalar(rate) and rate == 0.0:  # no draw: the kind's stream stays unused
            events.who.append(np.empty(0, np.int32))
            events.count.append(np.empty(0, np.int32))
            continue
        u = streams.gen(f"behaviour.{kind.name}", step).random(n)
        counts = poisson_from_uniform(u, np.broadcast_to(rate, (n,)))
        who = np.flatnonzero(counts).astype(np.int32)
        events.who.append(who)
        events.count.append(counts[who])
    return events
