"""Behaviour -> events: each step every person draws counts of each event kind (M1, M2, M14).

Counts are Poisson with a per-person rate, drawn by inverting the CDF at one uniform per
person and kind from the kind's own stream (:mod:`scoresim.engine.sampling`): when a policy lowers
someone's rate (self-censorship), the same draw yields the same or a smaller count, which
keeps counterfactual comparisons tight (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from scoresim.declarations.events import (
    EVENT_KINDS,
    KIND_INDEX,
    KINDS,
    ONLINE_KINDS,
    SPENDING_KINDS,
)
from scoresim.engine import threads
from scoresim.engine.rng import Streams, pcg64_advance
from scoresim.engine.sampling import poisson_inverse_cdf, poisson_nonzero_pcg
from scoresim.engine.threads import map_threads, thread_count
from scoresim.model.people import People
from scoresim.scenario.schema import BehaviourConfig

if TYPE_CHECKING:
    from scoresim.model.sanctions import Sanctions


@dataclass
class Events:
    """Sparse event counts of one step: for each kind, who (ids) and how many."""

    who: list[np.ndarray] = field(default_factory=list)  # per kind, int32 ids
    count: list[np.ndarray] = field(default_factory=list)  # per kind, int32 counts

    def total(self, kind: str) -> int:
        return int(self.count[KIND_INDEX[kind]].sum())


def income_share(people: People) -> np.ndarray:
    """Income decile as a share of the top decile: 0 (poorest) .. 1 (richest)."""
    return people.income_decile.astype(np.float32) / 9.0


def spending_factor(people: People, cfg: BehaviourConfig, income: np.ndarray,
                    z: np.ndarray | None = None) -> np.ndarray:
    """Spending power (M1): ``spending_poorest`` for the poorest decile rising linearly to
    ``spending_richest`` for the richest (defaults 0.5 .. 1.5); with M14's
    ``shopping_reliability_strength`` > 0 times ``exp(strength * z)``, ``z`` the person's
    repayment reliability in standard deviations (:func:`reliability_z`)."""
    f = cfg.spending_poorest + (cfg.spending_richest - cfg.spending_poorest) * income
    if cfg.shopping_reliability_strength > 0 and z is not None:
        f = f * np.exp(np.float32(cfg.shopping_reliability_strength) * z)
    return f


def reliability_z(people: People) -> np.ndarray:
    """M14: each person's bill (repayment) reliability in standard deviations from the
    population's mean, clipped to [-3, 3] (float32)."""
    r = people.bill_reliability.astype(np.float64)
    sd = r.std()
    z = (r - r.mean()) / sd if sd > 0 else np.zeros_like(r)
    return np.clip(z, -3, 3).astype(np.float32)


def hardship_factor(people: People, cfg: BehaviourConfig, income: np.ndarray) -> np.ndarray:
    """Default risk (M2, M11, M14): ``(1 - bill reliability) * (hardship_income_offset -
    income share) * hardship_scale``; with the defaults (1.5, 4.0) an unreliable payer in
    the poorest decile defaults three times as often as one in the richest."""
    return ((1.0 - people.bill_reliability) * (cfg.hardship_income_offset - income)
            * cfg.hardship_scale)


def rate_factors(
    people: People, cfg: BehaviourConfig, multipliers: dict[str, np.ndarray]
) -> dict[str, tuple[float, list[np.ndarray]]]:
    """Each kind's daily rate as its base rate and the per-person factors it is
    multiplied by, in order (see :func:`person_rates`): the factor its declaration names
    (:mod:`scoresim.declarations.events`), then any policy multiplier (sanctions, gaming)."""
    base = cfg.rates_per_day
    made: dict[str, np.ndarray] = {}

    def factor(name: str) -> np.ndarray:
        """A person-level factor, computed once and only if some drawn kind needs it.
        (Not recursive: a function that calls itself is a reference cycle, which would keep
        these arrays until the garbage collector runs.)"""
        if name not in made:
            if name in ("spending", "hardship") and "income" not in made:
                made["income"] = income_share(people)
            if name == "spending":
                z = (reliability_z(people) if cfg.shopping_reliability_strength > 0
                     else None)
                made[name] = spending_factor(people, cfg, made["income"], z)
            elif name == "hardship":
                made[name] = hardship_factor(people, cfg, made["income"])
            elif name == "loyalty":
                made[name] = people.loyalty
            elif name == "dissent":
                made[name] = people.expressed_dissent
            elif name == "reliability":
                made[name] = people.bill_reliability
            else:
                raise KeyError(name)
        return made[name]

    out: dict[str, tuple[float, list[np.ndarray]]] = {}
    for kind in EVENT_KINDS:
        rate = float(getattr(base, kind.name))
        factors = []
        if rate != 0.0:  # (a rate of 0: nobody does it, whatever the factors; none computed)
            if kind.factor is not None:
                factors.append(factor(kind.factor))
            if kind.name in multipliers:
                factors.append(multipliers[kind.name])
        out[kind.name] = (rate, factors)
    return out


def person_rates(
    people: People, cfg: BehaviourConfig, multipliers: dict[str, np.ndarray]
) -> dict[str, np.ndarray | float]:
    """Each kind's daily rate for every person (scalar where it is the same for all)."""
    rates: dict[str, np.ndarray | float] = {}
    for kind, (base, factors) in rate_factors(people, cfg, multipliers).items():
        r: np.ndarray | float = base
        for f in factors:
            r = r * f
        rates[kind] = r
    return rates


def _draw_kind(state: np.ndarray, base: float, factors: list[np.ndarray], n: int,
               pieces: int = 1) -> list:
    """Nonzero Poisson counts of one kind for all ``n`` people, as jobs that each give
    (ids, counts) for a range of people, in order. The uniforms are the first ``n``
    doubles of the PCG64 generator in ``state`` (:func:`scoresim.engine.rng.pcg64_state`), drawn
    in the compiled loop, each piece from the state advanced to its first person; the rate
    ``base * factors...`` is formed person by person with numpy's types and order (the
    same numbers as :func:`person_rates`)."""
    if any(np.ndim(f) != 1 or f.shape[0] != n for f in factors) or len(factors) > 2:
        r = base  # unusual shapes: the product in numpy, then one factor
        for f in factors:
            r = r * f
        base, factors = 1.0, [np.ascontiguousarray(np.broadcast_to(r, (n,)))]
    bounds = [n * c // pieces for c in range(pieces + 1)]
    states = [state] + [pcg64_advance(state, lo) for lo in bounds[1:-1]]

    def piece(c: int):
        lo, hi = bounds[c], bounds[c + 1]
        who, count = poisson_nonzero_pcg(states[c], hi - lo, base,
                                         [f[lo:hi] for f in factors])
        return (who + np.int32(lo) if lo else who), count

    return [lambda c=c: piece(c) for c in range(pieces)]


def draw_events(
    people: People,
    cfg: BehaviourConfig,
    multipliers: dict[str, np.ndarray],
    streams: Streams,
    step: int,
) -> Events:
    """M1, M2, M14: each person's count of each event kind today, Poisson at the person's
    rate, drawn by inverting the CDF at the person's uniform of the kind's own stream (the
    compiled sampler, kinds and parts of people side by side; :func:`draw_events_plain`
    draws the same)."""
    n = people.n
    rates = rate_factors(people, cfg, multipliers)
    # Each kind from its own stream; kinds are independent, so they run side by side.
    # A base rate of 0 gives 0 events whatever the (finite) factors: nothing to draw.
    drawn = [k.name for k in EVENT_KINDS if not k.derived and rates[k.name][0] != 0.0]
    # Few kinds: each cut into pieces of people, so that every thread has work.
    workers = thread_count() if n >= threads.PARALLEL_FROM else 1
    pieces = max(1, -(-2 * workers // max(len(drawn), 1))) if workers > 1 else 1
    jobs = {kind: _draw_kind(streams.pcg64(f"behaviour.{kind}", step), *rates[kind], n, pieces)
            for kind in drawn}
    done = iter(map_threads(lambda job: job(), [j for k in drawn for j in jobs[k]], n))
    results = {}
    for kind in drawn:
        parts = [next(done) for _ in jobs[kind]]
        results[kind] = parts[0] if len(parts) == 1 else (
            np.concatenate([w for w, _ in parts]), np.concatenate([c for _, c in parts]))
    return _assemble(people, cfg, streams, step, results)


def draw_events_plain(people: People, cfg: BehaviourConfig,
                      multipliers: dict[str, np.ndarray], streams: Streams,
                      step: int) -> Events:
    """:func:`draw_events` by the plain rule (:func:`draw_counts`)."""
    return _assemble(people, cfg, streams, step, draw_counts(
        people, cfg, multipliers, streams, step))


def draw_counts(people: People, cfg: BehaviourConfig, multipliers: dict[str, np.ndarray],
                streams: Streams, step: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per kind drawn at a nonzero rate: (who, count) of those with events today; each
    person's count the Poisson inverse CDF of their rate (:func:`person_rates`) at their
    uniform of the kind's stream ``behaviour.<kind>``."""
    out = {}
    for kind, rate in person_rates(people, cfg, multipliers).items():
        if KINDS[kind].derived or (np.ndim(rate) == 0 and rate == 0.0):
            continue  # (a base rate of 0: nobody does it, nothing drawn)
        u = streams.gen(f"behaviour.{kind}", step).random(people.n)
        counts = poisson_inverse_cdf(u, rate)
        who = np.flatnonzero(counts).astype(np.int32)
        out[kind] = who, counts[who]
    return out


def _assemble(people: People, cfg: BehaviourConfig, streams: Streams, step: int,
              results: dict[str, tuple[np.ndarray, np.ndarray]]) -> Events:
    """The day's events from the drawn kinds; court listings follow loan defaults (M11)."""
    events = Events()
    for kind in EVENT_KINDS:
        if kind.name == "court_listing":
            loan = KIND_INDEX["loan_default"]
            who, cnt = events.who[loan], events.count[loan]
            listed = streams.gen("behaviour.court_listing", step).binomial(
                cnt, cfg.court_listing_per_loan_default
            ) if cnt.size else cnt  # (no loan defaults: nothing to draw)
            keep = listed > 0
            events.who.append(who[keep])
            events.count.append(np.minimum(listed[keep], 1).astype(np.int32))
        elif kind.name in results:
            who, count = results[kind.name]
            events.who.append(who)
            events.count.append(count)
        else:  # a rate of zero: no draw, the kind's stream stays unused
            events.who.append(np.empty(0, np.int32))
            events.count.append(np.empty(0, np.int32))
    return events


def policy_multipliers(gaming: dict[str, np.ndarray], sanctions: Sanctions,
                       step: int) -> dict[str, np.ndarray]:
    """Per kind, the factor policy puts on each person's rate today: gaming (people who
    know a kind is rewarded do more of it, M6), throttled internet on online kinds and
    deposit-free spending on spending kinds (M5), and no loan defaults while loans are
    refused. Factors of 1 for everyone are left out (a kind with none keeps its rate)."""
    mult = dict(gaming)
    if "internet_throttled" in sanctions.in_force:
        for kind in ONLINE_KINDS:
            mult[kind] = mult[kind] * sanctions.throttle if kind in mult else sanctions.throttle
    if "deposit_free" in sanctions.in_force:
        for kind in SPENDING_KINDS:
            mult[kind] = mult[kind] * sanctions.spending if kind in mult else sanctions.spending
    if sanctions.last_refusal_day >= step:  # (someone is refused loans today)
        refused = sanctions.loan_refused_until >= step
        mult["loan_default"] = np.where(refused, 0.0, 1.0).astype(np.float32)
    return mult
