"""Adaptation (M6, M13): how people respond to the scoring system.

- *Learning the rules*: in a transparent scheme an enrolled person knows a share
  ``awareness`` of it at once; in an opaque one (M13) knowledge grows toward that share only
  when they see their own published score change. A published change sums up the days since
  the scheme last recomputed, so one seen change teaches what that many days teach at
  ``learning_rate_per_day``: the gap to ``awareness`` closes by
  ``1 - (1 - rate) ** recompute_every_days`` (:func:`learning_per_change`); how fast an
  opaque scheme is learnt then does not hang on how often it publishes.
- *Self-censorship*: the strategic rule of Daymude, Axelrod and Forrest (arXiv:2509.03731):
  desired dissent ``d``, boldness ``beta``, surveillance ``nu`` (the chance a critical
  statement is recorded and attributed), tolerance ``tau`` and perceived severity ``psi``
  give the dissent a person expresses, ``a*``. ``private_opinion`` stays; the gap is
  preference falsification. Option ``threshold``: a cascade rule after Granovetter and
  Kuran, where people voice punished dissent once enough of their friends do. Option
  ``falsification``: Kuran's preference falsification, private and public preferences
  weighed by expressive, reputational and punitive utility
  (:mod:`scoresim.model.falsification`).
- *Gaming*: known points raise the rates of rewarded acts and lower those of punished ones.
- *Ties*: unfriending, ties dissolving and forming (:mod:`scoresim.model.rewiring`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from scoresim.declarations.events import EVENT_KINDS, KIND_INDEX, POLITICAL_KINDS
from scoresim.engine.kernels.adaptation import (  # the compiled kernels
    _add_known,
    _gaming_exponents,
    _strategic,
)
from scoresim.engine.threads import map_threads, people_parts
from scoresim.model.component import Array, Component
from scoresim.model.day import Day
from scoresim.model.falsification import (
    falsification_dissent,
    political_threshold,
    seen_share,
)
from scoresim.model.network import Network
from scoresim.model.people import People
from scoresim.model.risk import RiskBeliefs, personal_severity
from scoresim.model.scoring import Scheme
from scoresim.scenario.schema import AdaptationConfig

if TYPE_CHECKING:
    from types import SimpleNamespace


def strategic_dissent(
    d: np.ndarray,
    beta: np.ndarray,
    nu: np.ndarray,
    tau: float,
    psi: np.ndarray,
    punishment: str,
) -> np.ndarray:
    """Expressed dissent ``a*`` under the strategic rule (MODEL.md, Daymude et al. 2025),
    person by person in float64 (compiled: :func:`strategic_dissent_plain` is the rule)."""
    d = np.asarray(d)
    shape = d.shape
    args = [np.ascontiguousarray(np.broadcast_to(np.asarray(x), shape)).reshape(-1)
            for x in (d, beta, nu, psi)]
    return _strategic(*args, float(tau), punishment == "uniform").reshape(shape)


def strategic_dissent_plain(d, beta, nu, tau: float, psi, punishment: str) -> np.ndarray:
    """The strategic rule of Daymude, Axelrod and Forrest (2025), as MODEL.md states it:
    desired dissent ``d``, boldness ``beta``, surveillance ``nu``, tolerance ``tau``,
    severity ``psi``; returns the expressed dissent ``a*`` (float64).

    - uniform: ``a* = d`` if ``d <= tau``, or if ``beta > (1-nu)*psi`` and ``d >= d_uni``
      with ``d_uni = (beta*tau + nu*psi) / (beta - (1-nu)*psi)``; otherwise ``tau``.
    - proportional: ``d_pro = (tau + (beta - nu*psi) / ((1-nu)*psi)) / 2``;
      ``a* = d`` if ``d <= tau``, or ``nu = 1`` and ``beta >= psi``, or ``nu < 1`` and
      ``d <= d_pro``; ``a* = tau`` if ``d > tau`` and (``nu = 1`` and ``beta < psi``, or
      ``nu < 1`` and ``tau >= d_pro``); otherwise ``a* = d_pro``.
    """
    d, beta, nu, psi = np.broadcast_arrays(*(np.asarray(x, np.float64)
                                             for x in (d, beta, nu, psi)))
    free = d <= tau
    with np.errstate(divide="ignore", invalid="ignore"):
        if punishment == "uniform":
            denom = beta - (1.0 - nu) * psi
            d_uni = (beta * tau + nu * psi) / denom
            return np.where(free | ((denom > 0) & (d >= d_uni)), d, tau)
        full = nu >= 1.0
        d_pro = np.where(psi > 0, (tau + (beta - nu * psi) / ((1.0 - nu) * psi)) / 2.0,
                         np.inf)
    express = free | (full & (beta >= psi)) | (~full & (d <= d_pro))
    silenced = ~free & ((full & (beta < psi)) | (~full & (tau >= d_pro)))
    return np.where(express, d, np.where(silenced, tau, d_pro))


def threshold_dissent(
    d: np.ndarray,
    threshold: np.ndarray,
    psi: np.ndarray,
    tau: float,
    network: Network,
    expressed: np.ndarray,
) -> np.ndarray:
    """A cascade rule in the manner of Granovetter and Kuran: where dissent is punished
    (``psi > 0``), a person voices dissent beyond the tolerance only once the share of
    their friends who voiced dissent the day before reaches their own threshold (here their
    risk aversion); otherwise they keep to the tolerance."""
    voiced = (expressed > tau).astype(np.float32)
    friends = np.maximum(network.degree, 1).astype(np.float32)
    share = network.neighbour_sum(voiced) / friends
    speaks = (psi <= 0) | (d <= tau) | (share >= threshold)
    return np.where(speaks, d, tau)


def _fresh_score(ad: Adaptation, who: np.ndarray, step: int, name: str) -> np.ndarray:
    """A newcomer's previous score: their fresh one (the schemes reset first)."""
    return ad.schemes[name].s[who]


def _desired(ad: Adaptation, who: np.ndarray, step: int, key) -> np.ndarray:
    """A newcomer expresses what they desire until they first decide."""
    return ad.people.desired_dissent[who]


class _Gaming(NamedTuple):
    """The rate multipliers of the gamed kinds (kind, person) and what they were made
    from: the per-region points tables, (scale, strength, cap), and each person's
    knowledge and visibility per scheme and region; ``knowers``: per kind, how many people
    know points of it (a kind nobody knows is left out)."""

    tables: np.ndarray
    settings: tuple
    knowledge: np.ndarray
    visible: np.ndarray
    region: np.ndarray
    multipliers: np.ndarray
    knowers: np.ndarray


class Adaptation(Component):
    """How people respond (see the module's docstring): what each knows and believes, the
    dissent each expresses, the rates they change by gaming."""

    KEY = "adaptation"
    STATE = (
        Array("prev_s", mapping=True, newcomer=_fresh_score),
        Array("expressed_dissent", newcomer=_desired, copy=True, any_dtype=True),
        Array("multipliers", mapping=True, newcomer=1.0, copy=True),
        Array("knowledge", mapping=True, newcomer=0.0),
    )
    CACHES = ("_uncensored", "_knowledge_from", "_gaming")

    def __init__(self, cfg: AdaptationConfig, people: People, schemes: dict[str, Scheme],
                 kernels: SimpleNamespace):
        self.cfg = cfg
        self.people = people
        self.k = kernels  # the plain rules or the compiled kernels (the engine's)
        self.schemes = schemes
        self.prev_s = {name: sch.s.copy() for name, sch in schemes.items()}
        self.gameable = [k.name for k in EVENT_KINDS if k.gameable]
        self.political = [KIND_INDEX[k] for k in POLITICAL_KINDS]
        self._uncensored: tuple[np.ndarray, np.ndarray] | None = None
        #: per scheme, the share of its rules each person knows (M13)
        self.knowledge = {name: np.zeros(people.n, np.float32) for name in schemes}
        self._knowledge_from: dict[str, np.ndarray] = {}  # who saw their score, by scheme
        self._gaming: _Gaming | None = None  # the last day's rate multipliers from gaming
        # Learning about risk (model/risk.py): None where people go by the announced rules
        self.beliefs = RiskBeliefs(cfg, people.n) if cfg.risk_learning == "bayesian" else None
        self._fixed: bool | None = None  # anyone with a fixed opinion?
        self.changed_share = 0.0  # share whose self-censoring decision changed today
        self.median_threshold = np.nan  # falsification: median political threshold today
        self.risk_gap = np.nan  # mean perceived minus actual recording chance
        #: the dissent each person expressed yesterday (a*), and today's rate multipliers
        #: of the kinds people game (none: no one games)
        self.expressed_dissent = people.desired_dissent
        self.multipliers: dict[str, np.ndarray] = {}
        #: What an authority that governs dissent sets (:mod:`scoresim.model.authority`,
        #: which carries them in its checkpoint values and sets them again at a restore):
        #: the tolerance people go by (the scenario's `adaptation.tolerance` until then);
        #: a share of the sources' recording chance that counts (the authority's
        #: surveillance of the scheme it governs); or, where it punishes dissent itself,
        #: the surveillance and severity everyone goes by.
        self.tolerance = float(cfg.tolerance)
        self.surveillance_share = 1.0
        self.surveillance: float | None = None
        self.severity_known: float | None = None

    def govern(self, tolerance: float, surveillance_share: float = 1.0,
               surveillance: float | None = None, severity: float | None = None) -> None:
        """Set what an authority decides (see ``__init__``): from the next decision on,
        people go by tolerance ``tolerance`` and count only ``surveillance_share`` of the
        sources' recording chance; with ``surveillance`` and ``severity`` given, they go by
        these two instead of the sources and the schemes (an authority of its own)."""
        self.tolerance = float(tolerance)
        self.surveillance_share = float(surveillance_share)
        self.surveillance = None if surveillance is None else float(surveillance)
        self.severity_known = None if severity is None else float(severity)

    def parts(self) -> list[Component]:
        return [] if self.beliefs is None else [self.beliefs]

    def open_mapping(self, name: str) -> bool:
        return name == "multipliers"  # (the kinds gamed change from day to day)

    def drop_caches(self) -> None:
        """The caches of opinions and knowledge are made again."""
        self._uncensored = None
        self._gaming = None
        self._knowledge_from = {}

    # -------------------------------------------------------------- learning the rules

    def learn(self) -> None:
        cfg = self.cfg
        for name, sch in self.schemes.items():
            sees = sch.visible_to_self
            if sch.cfg.opaque:
                rate = learning_per_change(cfg.learning_rate_per_day,
                                           sch.cfg.recompute_every_days)
                self.k.learn_opaque(self.knowledge[name], sees, sch.s, self.prev_s[name],
                                    rate, np.float32(sch.cfg.awareness))
            elif self._knowledge_from.get(name) is not sees:  # (else: as it is)
                self.knowledge[name] = np.where(sees, np.float32(sch.cfg.awareness),
                                                np.float32(0.0))
                self._knowledge_from[name] = sees  # (cached per enrolment change)

    # ------------------------------------------------------- gaming and self-censorship

    def _perceived(self, people: People, tables: dict[str, np.ndarray]) -> np.ndarray:
        """Per column of the per-region ``tables`` (one per scheme) and person: the sum over
        schemes of what the person knows of the scheme times the table's value for their
        region (float32, schemes in order)."""
        columns = next(iter(tables.values())).shape[1]
        out = np.zeros((columns, people.n), np.float32)
        self.k.add_known(out, [(self.knowledge[name], sch.visible_to_self, tables[name])
                               for name, sch in self.schemes.items()], people.region)
        return out

    def rate_multipliers(self, people: People, phase: str) -> dict[str, np.ndarray]:
        """Per gameable kind: how much more (or less) of it people do, knowing the points."""
        cfg = self.cfg
        if not self.schemes or cfg.gaming_strength == 0 or not self.gameable:
            return {}
        cols = [KIND_INDEX[k] for k in self.gameable]
        tables = np.stack([sch.points_table(phase)[:, cols]
                           for sch in self.schemes.values()]).astype(np.float32)
        # strength * clip(known points / scale, -cap, cap) per kind, in float32, in one pass
        # over people (the kinds' rows are written once); kinds nobody games: dropped.
        # Made again only for the people whose knowledge, visibility or region changed
        # since the last day (the same numbers: each person's own inputs alone).
        settings = tuple(np.float32(x) for x in (cfg.gaming_points_scale,
                                                 cfg.gaming_strength, cfg.gaming_cap))
        g = self._gaming
        who = None
        if (g is not None and g.multipliers.shape[1] == people.n
                and np.array_equal(g.tables, tables) and g.settings == settings):
            who = _gaming_changed(self, people)
        if who is None or who.size > people.n // 8:
            g = self._gaming = self._gaming_all(people, tables, settings)
        elif who.size:
            _gaming_again(self, g, people, who)
        return {self.gameable[r]: g.multipliers[r] for r in np.flatnonzero(g.knowers)}

    def _gaming_all(self, people: People, tables: np.ndarray, settings: tuple) -> _Gaming:
        """Every person's rate multipliers of the gamed kinds."""
        knowledge, visible = _known_inputs(self)
        multipliers = np.empty((tables.shape[2], people.n), np.float32)
        knowers = self.k.gaming_exponents(multipliers, knowledge, visible, tables,
                                          people.region, *settings)
        np.exp(multipliers, out=multipliers)
        return _Gaming(tables, settings, knowledge, visible, people.region.copy(),
                       multipliers, knowers)

    def severity(self, people: People, phase: str, active_sanctions: dict[str, int]):
        """Perceived severity ``psi`` of dissent, per person."""
        cfg = self.cfg
        if not self.schemes:
            return np.zeros(people.n, np.float32)
        tables = {}
        for name, sch in self.schemes.items():
            table = sch.points_table(phase)
            penalty = np.maximum(-table[:, self.political], 0.0).sum(axis=1)
            # Sanctions make dissent costlier only where dissent costs points at all.
            stake = cfg.severity_per_sanction * active_sanctions.get(name, 0)
            per_region = np.where(penalty > 0, cfg.severity_per_point * penalty + stake, 0.0)
            tables[name] = per_region.astype(np.float32).reshape(-1, 1)
        return self._perceived(people, tables)[0]

    def risk(self, people: People, day: Day, sanctions, nu: np.ndarray, network: Network,
             blacklist_days: int) -> tuple[np.ndarray, np.ndarray]:
        """The surveillance ``nu`` and severity ``psi`` each person goes by today
        (:mod:`scoresim.model.risk`). ``nu``: the sources' true recording chance of a
        critical statement; ``day``: what the day did (its events, records and sanctions:
        what people learn from). Nothing punishes an act that is not recorded: whoever
        cannot be recorded (``nu`` = 0) has severity 0. Where an authority punishes dissent
        itself (:meth:`govern`), everyone goes by its surveillance and severity; its
        punishment reaches an unrecorded act too (with chance the act's size)."""
        if self.surveillance is not None:
            n = people.n
            self.risk_gap = 0.0
            return (np.full(n, self.surveillance, np.float32),
                    np.full(n, self.severity_known, np.float32))
        if self.surveillance_share != 1.0:  # (the share of records the authority follows)
            nu = (nu * np.float32(self.surveillance_share)).astype(np.float32)
        phase = day.phase
        if self.beliefs is None:
            psi = self.severity(people, phase, sanctions.active_per_scheme(phase))
            self.risk_gap = 0.0
        else:
            b = self.beliefs
            b.observe(people, self.schemes, phase, events=day.events, records=day.records,
                      sanctions=sanctions, sanc=day.sanctions, network=network,
                      blacklist_days=blacklist_days, step=day.t)
            announced, punished = personal_severity(self.cfg, people, self.schemes,
                                                    sanctions, phase, self.knowledge)
            psi = b.severity(announced, punished)
            seen = nu > 0
            p = b.detection(nu)
            self.risk_gap = float(np.mean(p[seen] - nu[seen], dtype=np.float64)) if (
                seen.any()) else np.nan
            nu = p
        return nu, np.where(nu > 0, psi, np.float32(0)).astype(np.float32)

    def self_censor(self, people: People, nu: np.ndarray | None, psi: np.ndarray | None,
                    network: Network) -> np.ndarray:
        """Set ``expressed_opinion``; returns expressed dissent a*. (``nu`` and ``psi``
        may be None where the rule is ``none``.)"""
        rule = self.cfg.self_censorship
        if rule == "none":  # everyone says what they think (private opinions are fixed)
            if self._uncensored is None:
                d = people.desired_dissent
                self._uncensored = d, self._expressed(d, d, people.private_opinion)
                self._uncensored[1].flags.writeable = False  # (kept from day to day)
            d, people.expressed_opinion = self._uncensored
            return d
        d = people.desired_dissent
        if rule == "threshold":
            a = threshold_dissent(d, people.threshold, psi, self.tolerance,
                                  network, people.expressed_dissent)
        elif rule == "falsification":
            a = self._falsify(people, nu, psi, network)
        else:
            a = self.k.strategic_dissent(d, people.boldness, nu, self.tolerance, psi,
                                         self.cfg.punishment)
        if self._fixed is None:
            self._fixed = people.fixed_opinion.any()
        if self._fixed:  # (a fixed opinion is always expressed)
            a = np.where(people.fixed_opinion, d, a)
        people.expressed_opinion = self._expressed(d, a, people.private_opinion)
        return a

    def _falsify(self, people: People, nu: np.ndarray, psi: np.ndarray, network: Network
                 ) -> np.ndarray:
        """Kuran's preference falsification (:mod:`scoresim.model.falsification`):
        each person weighs what they see others voiced yesterday; the median political
        threshold of those opposed in private is kept for the outcome table."""
        f, tau = self.cfg.falsification, self.tolerance
        d = people.desired_dissent
        seen = seen_share(people.expressed_dissent, tau, network, f.observed)
        a = falsification_dissent(d, people.boldness, nu, psi, tau, self.cfg.punishment,
                                  seen, f.reputation_weight)
        opposed = d > tau
        if opposed.any():
            theta = political_threshold(d[opposed], people.boldness[opposed], nu[opposed],
                                        psi[opposed], tau, self.cfg.punishment,
                                        f.reputation_weight)
            self.median_threshold = float(np.median(np.clip(theta, 0.0, 1.0)))
        else:
            self.median_threshold = np.nan
        return a

    def note_decisions(self, before: np.ndarray, after: np.ndarray, desired: np.ndarray
                       ) -> None:
        """The share of people whose decision to self-censor (to express less dissent
        than they hold, beyond the tolerance) differs from yesterday's."""
        eps = np.float32(1e-9)
        free = desired > self.tolerance
        was = free & (np.asarray(before) < desired - eps)
        now = free & (np.asarray(after) < desired - eps)
        self.changed_share = float(np.count_nonzero(was != now)) / max(desired.shape[0], 1)

    def _expressed(self, desired, dissent, private) -> np.ndarray:
        return self.k.expressed(desired, dissent, private)


def _gaming_again(ad: Adaptation, g: _Gaming, people: People, who: np.ndarray) -> None:
    """The multipliers of ``who`` made again from their inputs today (and how many
    people know points of each kind, from theirs before and now)."""
    scratch = np.empty((g.multipliers.shape[0], who.size), np.float32)
    before = ad.k.gaming_exponents(scratch, g.knowledge[:, who], g.visible[:, who],
                                     g.tables, g.region[who], *g.settings)
    knowledge, visible = _known_inputs(ad, who)
    region = people.region[who]
    now = ad.k.gaming_exponents(scratch, knowledge, visible, g.tables, region,
                                  *g.settings)
    g.multipliers[:, who] = np.exp(scratch)
    np.add(g.knowers, now - before, out=g.knowers)
    g.knowledge[:, who] = knowledge
    g.visible[:, who] = visible
    g.region[who] = region


def _known_inputs(ad: Adaptation, who=None) -> tuple[np.ndarray, np.ndarray]:
    """(knowledge, visible to self) per scheme and person (of ``who``: all if None)."""
    pick = slice(None) if who is None else who
    return (np.stack([ad.knowledge[name][pick] for name in ad.schemes]),
            np.stack([sch.visible_to_self[pick] for sch in ad.schemes.values()]))


def _gaming_changed(ad: Adaptation, people: People) -> np.ndarray | None:
    """The people whose knowledge, visibility or region differ from those the last day's
    gaming multipliers were made from (None: knowledge not float32, which is compared bit
    for bit; all are made again)."""
    g = ad._gaming
    if any(k.dtype != np.float32 for k in ad.knowledge.values()):
        return None
    changed = people.region != g.region
    for s, name in enumerate(ad.schemes):
        changed |= ad.knowledge[name].view(np.int32) != g.knowledge[s].view(np.int32)
        changed |= ad.schemes[name].visible_to_self != g.visible[s]
    return np.flatnonzero(changed)


# ------------------------------------------------------------------ the rules, plainly
# The reference engine runs these; the compiled kernels below compute the same numbers.


def learning_per_change(rate_per_day: float, recompute_every_days: int) -> np.float32:
    """M13: the share of the gap to ``awareness`` that one seen change of an opaque
    scheme's published score closes: ``1 - (1 - rate_per_day) ** recompute_every_days``,
    what the days the change sums up teach (a scheme published daily: the rate itself).
    Issue 28: with the rate applied once per change, Sesame's monthly recomputation made
    learning 30 times slower than the rate says (knowledge 0.056 of 0.5 after two years)."""
    if recompute_every_days == 1:
        return np.float32(rate_per_day)
    return np.float32(1.0 - (1.0 - rate_per_day) ** recompute_every_days)



def learn_opaque(knowledge, sees, s, prev_s, rate, awareness):
    """M13: knowledge of an opaque scheme grows toward ``awareness`` by ``rate`` of the gap
    (:func:`learning_per_change`) on days a person sees their own score move (by more than
    0.001); today's scores are kept for tomorrow. In place."""
    moved = sees & (np.abs(s - prev_s) > np.float32(1e-3))
    knowledge[moved] = knowledge[moved] + rate * (awareness - knowledge[moved])
    prev_s[:] = s


def add_known(out, knowledge, visible, table, region):
    """``out[c] += known * table[region, c]``: what each person knows of a scheme's
    per-region values (known = knowledge where the score is visible to them)."""
    known = knowledge * visible.astype(np.float32)
    out += known[None, :] * table[region].T


def gaming_exponents(out, knowledge, visible, tables, region, scale, strength, cap):
    """M6 gaming: per kind c and person, ``strength * clip(points / scale, -cap, cap)``
    where points sums, over schemes, what the person knows times the points the scheme's
    rules give the kind in their region. Returns, per kind, how many people knew points
    (nonzero)."""
    points = np.zeros(out.shape, np.float32)
    for k in range(tables.shape[0]):
        points += (knowledge[k] * visible[k].astype(np.float32))[None, :] * tables[
            k][region].T
    out[:] = strength * np.clip(points / scale, -cap, cap)
    return np.count_nonzero(points, axis=1).astype(np.int64)


def expressed(desired, dissent, private):
    """Expressed opinion: minus the expressed dissent for those who dissent at all, their
    private opinion for the rest (float32)."""
    return np.where(desired > 0, (-dissent).astype(np.float32), private).astype(np.float32)


# ---------------------------------------------------------------- the compiled kernels


def add_known_all(out, entries, region):
    """:func:`add_known` for each scheme's (knowledge, visible, table) in ``entries``."""
    for knowledge, visible, table in entries:
        add_known(out, knowledge, visible, table, region)


# ------------------------------------------------- the compiled kernels, side by side


def add_known_threaded(out, entries, region):
    """:func:`add_known_all` by the compiled kernel, people in parts side by side."""
    n = region.shape[0]

    def add(part: tuple[int, int]) -> None:
        for knowledge, visible, table in entries:
            _add_known(out, knowledge, visible, table, region, *part)

    map_threads(add, people_parts(n), n)


def gaming_exponents_threaded(out, knowledge, visible, tables, region, scale, strength, cap):
    """:func:`gaming_exponents` by the compiled kernel, people in parts side by side."""
    n = region.shape[0]
    return np.sum(map_threads(
        lambda part: _gaming_exponents(out, knowledge, visible, tables, region, scale,
                                       strength, cap, *part), people_parts(n), n), axis=0)
