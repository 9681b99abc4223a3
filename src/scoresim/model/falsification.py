"""Preference falsification (``adaptation.self_censorship = "falsification"``).

After Timur Kuran, *Private Truths, Public Lies: The Social Consequences of Preference
Falsification* (Harvard University Press, 1995), chapters 2-4, and Kuran, "Sparks and
prairie fires: a theory of unanticipated political revolution" (Public Choice 61: 41-74,
1989). A person has a *private preference* (their desired dissent ``d``, from their
private opinion, which stays) and chooses a *public preference*: to voice their dissent
(express ``d``) or to keep to what the regime tolerates (express ``tau``: the public
choice is dichotomous, as in Kuran's threshold model). Three utilities decide it:

- *expressive utility*: the satisfaction of saying what one thinks, lost in proportion
  to how much one hides; here the person's boldness ``beta`` times the dissent they would
  hide, ``beta * (d - tau)`` (Kuran's "expressive needs", different from person to
  person);
- *reputational utility*: the approval (and spared disapproval) of others, which comes
  from the side one joins in proportion to its size among those one sees: voicing
  dissent earns ``w * Y`` and forgoes ``w * (1 - Y)``, where ``Y`` is the share of those
  one sees who voiced dissent the day before (friends, or everyone) and ``w`` is
  ``adaptation.falsification.reputation_weight``; so ``w * (2Y - 1)`` on balance;
- the punishment the regime deals, as people expect it (the part of reputational
  utility that the state controls): the strategic rule's expected punishment,
  ``(nu + (1 - nu) * d) * psi`` (uniform) or ``... * psi * (d - tau)`` (proportional),
  with the surveillance ``nu`` and severity ``psi`` the person perceives
  (:meth:`scoresim.model.adaptation.Adaptation.risk`).

A person voices their dissent where ``beta * (d - tau) + w * (2Y - 1) >= expected
punishment`` (and always where ``d <= tau``: nothing to hide). Solved for ``Y`` this is
Kuran's *political threshold*: the person speaks once the public dissent they see reaches
``theta = (1 + (punishment - beta * (d - tau)) / w) / 2``. Thresholds differ between
people; when the expected punishment falls (a milder rule, less surveillance), everyone's
threshold falls by the same reasoning, a few cross the public dissent they see and speak,
which raises what their friends see, which tips others: a cascade, larger than the direct
effect of the cheaper dissent (:func:`political_threshold`; tests/test_falsification.py).
With ``w = 0`` nobody looks at anyone: the rule is the strategic rule's choice between
``d`` and ``tau`` under uniform punishment.

The rule runs in :meth:`Adaptation.self_censor` (the same numpy in both engines); the
component :class:`Falsification` adds the outcome columns (Kuran's public and private
opposition, the share who falsify, public support, the median threshold).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from scoresim.declarations.outcomes import OutcomeColumn
from scoresim.model.component import Component, register

if TYPE_CHECKING:
    from scoresim.model.day import Day
    from scoresim.model.network import Network
    from scoresim.scenario.schema import Scenario


# ------------------------------------------------------------------ the rules, plainly


def expected_punishment(d, nu, psi, tau: float, punishment: str) -> np.ndarray:
    """The punishment a person expects for voicing dissent ``d`` above the tolerance
    ``tau`` (the strategic rule's): seen with chance ``nu + (1 - nu) * d``, punished by
    ``psi`` (uniform) or ``psi * (d - tau)`` (proportional); float64."""
    d, nu, psi = (np.asarray(x, np.float64) for x in (d, nu, psi))
    seen = nu + (1.0 - nu) * d
    if punishment == "uniform":
        return seen * psi
    return seen * psi * (d - tau)


def falsification_dissent(d, beta, nu, psi, tau: float, punishment: str, seen,
                          reputation: float) -> np.ndarray:
    """Kuran's choice of a public preference (see the module's docstring): each person
    voices their desired dissent ``d`` where the expressive utility ``beta * (d - tau)``
    plus the reputational utility ``reputation * (2 * seen - 1)`` (``seen``: the share of
    those they see who voiced dissent the day before) is at least the punishment they
    expect (:func:`expected_punishment`), or where ``d <= tau``; otherwise they keep to
    ``tau``. Returns the expressed dissent (float64)."""
    d64 = np.asarray(d, np.float64)
    expressive = np.asarray(beta, np.float64) * (d64 - tau)
    reputational = reputation * (2.0 * np.asarray(seen, np.float64) - 1.0)
    speaks = (d64 <= tau) | (expressive + reputational
                             >= expected_punishment(d64, nu, psi, tau, punishment))
    return np.where(speaks, d64, tau)


def political_threshold(d, beta, nu, psi, tau: float, punishment: str,
                        reputation: float) -> np.ndarray:
    """Kuran's political threshold of each person: the share of public dissent they must
    see to voice theirs, ``(1 + (expected punishment - beta * (d - tau)) / reputation) /
    2`` (:func:`falsification_dissent` speaks where ``seen >= threshold``). Below 0: they
    speak whatever they see; above 1: never; ``d <= tau``: -inf (nothing to hide). With
    ``reputation`` 0: -inf where voicing pays alone, +inf where it does not (float64)."""
    d64 = np.asarray(d, np.float64)
    net = (expected_punishment(d64, nu, psi, tau, punishment)
           - np.asarray(beta, np.float64) * (d64 - tau))
    if reputation > 0:
        theta = (1.0 + net / reputation) / 2.0
    else:
        theta = np.where(net <= 0, -np.inf, np.inf)
    return np.where(d64 <= tau, -np.inf, theta)


def voiced(expressed: np.ndarray, tau: float) -> np.ndarray:
    """Who voiced dissent beyond the tolerance (their public opposition), from the
    expressed dissent (float32, as the people keep it)."""
    return np.asarray(expressed) > np.float32(tau)


def seen_share(expressed: np.ndarray, tau: float, network: Network, observed: str
               ) -> np.ndarray:
    """Per person, the share of those they see who voiced dissent beyond the tolerance
    (``expressed``: yesterday's expressed dissent): their friends (``observed`` friends;
    people without friends see everyone) or everyone (Kuran's public opinion)."""
    spoke = voiced(expressed, tau).astype(np.float32)
    everyone = float(spoke.mean(dtype=np.float64)) if spoke.size else 0.0
    if observed == "everyone":
        return np.full(spoke.shape, everyone)
    degree = network.degree
    share = network.neighbour_sum(spoke).astype(np.float64) / np.maximum(degree, 1)
    return np.where(degree > 0, share, everyone)


# ----------------------------------------------------------------------- the component


@register
class Falsification(Component):
    """The falsification rule's outcome columns (the rule itself is part of people's
    decision, :meth:`scoresim.model.adaptation.Adaptation.self_censor`)."""

    KEY = "falsification"
    STAGE = "adaptation"  # (after the day's decisions)
    OUTPUTS = (
        OutcomeColumn("public_opposition_share", "share voicing dissent beyond the "
                      "tolerance (Kuran's public opposition)", "share"),
        OutcomeColumn("private_opposition_share", "share whose desired dissent is beyond "
                      "the tolerance (Kuran's private opposition)", "share"),
        OutcomeColumn("falsifying_share", "share whose public opinion differs from their "
                      "private one: opposed in private, keeping to the tolerance in public",
                      "share"),
        OutcomeColumn("public_support_share", "share not voicing dissent beyond the "
                      "tolerance (public support for the regime, 1 - public opposition)",
                      "share"),
        OutcomeColumn("median_political_threshold", "median political threshold of "
                      "those opposed in private: the share of public dissent they must see "
                      "to voice theirs (cut to [0, 1])", "share"),
    )

    def __init__(self, sim):
        self.sim = sim

    @classmethod
    def wanted(cls, scenario: Scenario) -> bool:
        return scenario.adaptation.self_censorship == "falsification"

    def step(self, day: Day) -> None:
        sim = self.sim
        ad, people = sim.adaptation, sim.people
        n = max(people.n, 1)
        tau = ad.tolerance
        private = people.desired_dissent > np.float32(tau)
        public = voiced(people.expressed_dissent, tau)  # (float32, as people keep it)
        opposed = np.count_nonzero(public) / n
        day.outputs.update({
            "public_opposition_share": opposed,
            "private_opposition_share": np.count_nonzero(private) / n,
            "falsifying_share": np.count_nonzero(private & ~public) / n,
            "public_support_share": 1.0 - opposed,
            "median_political_threshold": ad.median_threshold})
