"""An authority that adapts its rules for dissent (`authority.*`; off unless enabled).

After Daymude, Axelrod and Forrest, "Strategic Analysis of Dissent and Self-Censorship"
(arXiv:2509.03731, 2025), their ``rmhc_trial`` (code/hillclimbing.py of the public
repository DaymudeLab/DissentSelfCensorship): an authority with a tolerance ``tau``, a
severity ``psi`` and a surveillance ``nu`` adjusts them by random mutation hill climbing.
Each round it punishes the acts it observes above its tolerance, counts its cost,
``alpha * (summed acts) + (summed punishment)``, returns to the parameters of the round
before where the cost rose above that round's cost, and then moves one parameter, chosen
at random, to a uniform value within ``step`` of where it stands, cut to its bounds. One
round is one day. People choose their dissent by the strategic rule against what the
authority has set (:mod:`scoresim.model.adaptation`).

Two settings (docs/authority.md says how each keeps people's decision rule and the
punishment they meet consistent):

- **Its own** (``authority.scheme`` not set; their setting, preset ``daymude-2025``): people
  go by its ``tau``, ``psi`` and ``nu``; it punishes an act ``a > tau`` with chance
  ``nu + (1 - nu) * a`` (the act seen by its surveillance or, unseen, noticed with chance
  its size), by ``psi`` (uniform punishment) or ``psi * (a - tau)`` (proportional), as
  ``adaptation.punishment`` says.
- **Governing a scheme** (``authority.scheme``): its tolerance is the tolerance people go
  by and the dissent it overlooks (a record of a critical statement or protest of someone
  whose expressed dissent is within it is dropped); its severity scales the scheme's
  points for critical statements and protests (``points * psi / initial_severity``,
  :meth:`scoresim.model.rules.Rules.set_points`), which the severity people perceive
  follows; its surveillance is the share of the records of those acts, made by the
  scheme's sources, that it keeps (and the share of the sources' recording chance people
  count). Its punishment is the points the scheme's rules deal for the kept records, at
  ``adaptation.severity_per_point``. :class:`AuthorityWatch` keeps or drops the day's
  records before the scheme scores them.

Timing: an act decided on day ``t`` (adaptation) is seen on day ``t + 1``; so the
authority runs after the sanctions of the day (:data:`Authority.STAGE`), after the day's
scoring and before the day's decisions: it judges yesterday's decisions (made under its
current parameters), keeps or undoes them, and sets the parameters for today's decisions.
On its first day nobody has decided under its parameters yet: it judges nothing. Day
``t >= 1`` of a run is their round ``t - 1``.

Draws: ``authority.punish`` (its own punishment, one uniform per person),
``authority.parameter`` (which parameter moves), ``authority.move`` (where to) and
``authority.surveillance`` (records kept), each at the day's step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from scoresim.declarations.events import KIND_INDEX, POLITICAL_KINDS
from scoresim.declarations.outcomes import OutcomeColumn
from scoresim.model.component import Component, register
from scoresim.scenario.schema import AUTHORITY_PARAMETERS

if TYPE_CHECKING:
    from scoresim.model.day import Day
    from scoresim.scenario.schema import AuthorityConfig, Scenario

POLITICAL = tuple(KIND_INDEX[k] for k in POLITICAL_KINDS)


# ------------------------------------------------------------------ the rules, plainly


def punishment(acts: np.ndarray, tau: float, psi: float, nu: float, form: str,
               u: np.ndarray) -> np.ndarray:
    """Each person's punishment for the act ``acts`` (their ``rmhc_trial``): an act above
    the tolerance ``tau`` is observed where the uniform ``u`` falls below
    ``nu + (1 - nu) * act``, and punished by ``psi`` (``form`` uniform) or
    ``psi * (act - tau)`` (proportional); float64."""
    acts = np.asarray(acts, np.float64)
    seen = (acts > tau) & (u < nu + (1.0 - nu) * acts)
    if form == "uniform":
        return np.where(seen, psi, 0.0)
    return np.where(seen, psi * (acts - tau), 0.0)


def move(value: float, low: float, high: float, step: float, u: float) -> float:
    """The mutation of their ``rmhc_trial``: uniform (``u`` in [0, 1)) between
    ``max(low, value - step)`` and ``min(high, value + step)``."""
    a, b = max(low, value - step), min(high, value + step)
    return a + (b - a) * u


def is_burn_in(scenario: Scenario) -> bool:
    """The society's burn-in (:meth:`scoresim.sim.Sim._burn_in`: no scheme, no sanction,
    one phase named burn_in): no authority acts there."""
    return (list(scenario.phases) == ["burn_in"] and not scenario.schemes
            and not scenario.sanctions)


# ----------------------------------------------------------------------- the component


@register
class Authority(Component):
    """The authority's hill climbing (see the module's docstring): judges yesterday's
    decisions, keeps or undoes its last move, moves one parameter."""

    KEY = "authority"
    STAGE = "sanctions"  # (after the day's scoring, before the day's decisions)
    OUTPUTS = (
        OutcomeColumn("authority_tolerance", "the authority's tolerance tau (its "
                      "parameters as kept today)", "share (0-1)"),
        OutcomeColumn("authority_severity", "the authority's severity psi", "severity"),
        OutcomeColumn("authority_surveillance", "the authority's surveillance nu",
                      "share (0-1)"),
        OutcomeColumn("dissent_total", "summed dissent people expressed, the acts the "
                      "authority judged today (its political cost, before adamancy)",
                      "dissent (sum of acts in [0, 1])"),
        OutcomeColumn("punishment_total", "summed punishment the authority dealt for "
                      "those acts (its punishment cost)", "severity"),
    )

    def __init__(self, sim):
        self.sim = sim
        self.cfg: AuthorityConfig = sim.scenario.authority
        cfg = self.cfg
        self.bounds = {name: (getattr(cfg, f"{name}_min"), getattr(cfg, f"{name}_max"))
                       for name in AUTHORITY_PARAMETERS}
        #: the parameters in force (those of the last move, under judgement)
        self.current = {name: float(getattr(cfg, f"initial_{name}"))
                        for name in AUTHORITY_PARAMETERS}
        #: the parameters as last kept (where an undone move returns to)
        self.kept = dict(self.current)
        self.last_cost: float | None = None  # the cost of the last round judged
        self.rounds = 0  # rounds judged
        self.started = False  # whether people have decided under its parameters
        self.watched = 0.0  # today's punishment by the governed scheme (AuthorityWatch)
        self.scheme = sim.schemes[cfg.scheme] if cfg.scheme is not None else None
        #: governing: the scheme's rules for dissent (index, points at initial_severity)
        self.dissent_rules = [] if self.scheme is None else [
            (i, float(rule.config.points)) for i, rule in enumerate(self.scheme.rules)
            if rule.kind in POLITICAL]
        self.apply()

    @classmethod
    def wanted(cls, scenario: Scenario) -> bool:
        cfg = scenario.authority
        return cfg.enabled and not is_burn_in(scenario) and (
            cfg.scheme is None or cfg.scheme in scenario.schemes)

    # ----------------------------------------------------------------- its state

    def values(self) -> dict[str, Any]:
        return {"current": dict(self.current), "kept": dict(self.kept),
                "last_cost": self.last_cost, "rounds": self.rounds,
                "started": self.started}

    def set_values(self, values: dict[str, Any]) -> None:
        for name in ("current", "kept"):
            if name in values:
                setattr(self, name, {k: float(values[name][k]) for k in AUTHORITY_PARAMETERS})
        if "last_cost" in values:
            cost = values["last_cost"]
            self.last_cost = None if cost is None else float(cost)
        self.rounds = int(values.get("rounds", self.rounds))
        self.started = bool(values.get("started", self.started))
        self.apply()

    # ------------------------------------------------------------------ the day

    def apply(self) -> None:
        """Put the parameters in force where they act: people's decision (adaptation)
        and, governing a scheme, the scheme's points for dissent."""
        tau, psi, nu = (self.current[k] for k in AUTHORITY_PARAMETERS)
        ad = self.sim.adaptation
        if self.scheme is None:
            ad.govern(tau, surveillance=nu, severity=psi)
            return
        ad.govern(tau, surveillance_share=nu)
        scale = psi / self.cfg.initial_severity
        for i, points in self.dissent_rules:
            self.scheme.rules_part.set_points(i, points * scale)

    def step(self, day: Day) -> None:
        sim, cfg = self.sim, self.cfg
        acts = np.asarray(sim.adaptation.expressed_dissent, np.float64)
        dissent = float(acts.sum())
        if self.scheme is not None:
            punished = self.watched
        elif self.started:
            u = sim.streams.gen("authority.punish", day.t).random(acts.shape[0])
            punished = float(punishment(acts, self.current["tolerance"],
                                        self.current["severity"],
                                        self.current["surveillance"],
                                        sim.scenario.adaptation.punishment, u).sum())
        else:
            punished = 0.0
        if self.started:  # (judge yesterday's decisions, made under ``current``)
            cost = cfg.adamancy * dissent + punished
            if self.last_cost is not None and cost > self.last_cost:
                self.current = dict(self.kept)  # (the move is undone)
            self.kept = dict(self.current)
            self.last_cost = cost
            self.rounds += 1
        day.outputs.update({
            "authority_tolerance": self.kept["tolerance"],
            "authority_severity": self.kept["severity"],
            "authority_surveillance": self.kept["surveillance"],
            "dissent_total": dissent, "punishment_total": punished})
        if self.started:
            self.current = self.propose(day.t)
        self.started = True
        self.apply()

    def propose(self, t: int) -> dict[str, float]:
        """The kept parameters with one of them, drawn at random, moved."""
        streams = self.sim.streams
        name = AUTHORITY_PARAMETERS[int(streams.gen("authority.parameter", t).integers(3))]
        low, high = self.bounds[name]
        out = dict(self.kept)
        out[name] = move(out[name], low, high, self.cfg.step,
                         float(streams.gen("authority.move", t).random()))
        return out


@register
class AuthorityWatch(Component):
    """Governing a scheme: the authority's tolerance and surveillance on the day's records
    of critical statements and protests from the scheme's sources, before the scheme
    scores them; the punishment the scheme's rules deal for those kept."""

    KEY = "authority_watch"
    STAGE = "records"
    CONSTANTS = ("ours",)
    OUTPUTS = ()  # (its punishment is the authority's column)

    def __init__(self, sim):
        self.sim = sim
        sc = sim.scenario
        self.scheme = sim.schemes[sc.authority.scheme]
        self.ours = np.zeros(len(sc.sources), bool)  # per source: one of the scheme's?
        self.ours[[list(sc.sources).index(s) for s in self.scheme.cfg.sources]] = True

    @classmethod
    def wanted(cls, scenario: Scenario) -> bool:
        return Authority.wanted(scenario) and scenario.authority.scheme is not None

    def step(self, day: Day) -> None:
        sim = self.sim
        authority = next(c for c in sim.added if isinstance(c, Authority))
        tau = authority.current["tolerance"]
        nu = authority.current["surveillance"]
        rec = day.records
        political = np.isin(rec.kind, POLITICAL) & self.ours[rec.source]
        if not political.any():
            authority.watched = 0.0
            return
        acts = np.asarray(sim.adaptation.expressed_dissent)
        count = rec.count.copy()
        watched = political & (acts[rec.person] > tau)
        count[political & ~watched] = 0  # (overlooked: within the tolerance)
        if nu < 1.0:
            count[watched] = sim.streams.gen("authority.surveillance", day.t).binomial(
                count[watched], nu)
        keep = count > 0
        kept = watched & keep
        table = self.scheme.points_table(day.phase)  # (points at today's severity)
        p = rec.person[kept]
        lost = np.maximum(-table[sim.people.region[p], rec.kind[kept]], 0.0)
        lost = np.where(self.scheme.scored[p], lost, 0.0)
        authority.watched = float(sim.scenario.adaptation.severity_per_point
                                  * (count[kept] * lost).sum())
        day.records = type(rec)(rec.person[keep], rec.kind[keep], rec.source[keep],
                                count[keep].astype(rec.count.dtype), rec.misattributed[keep])
