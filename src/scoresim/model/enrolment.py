"""Enrolment: voluntary, opt-out or mandatory; mandatory from a dated phase (M7, M8, M10).

- ``voluntary``: eligible people enrol at a daily hazard scaled by their ambition (loyalty,
  income, a good job): those who want to get somewhere or have privileges to lose go first.
- ``opt_out``: every eligible person is enrolled at the start; some opt out each day, critics
  more often (``adaptation.opt_out_critic_factor``). Opted out keeps a shadow score where
  the scheme says so.
- ``mandatory``: every eligible person is enrolled from the start.
- ``mandatory_from_phase``: from that phase on, every eligible person is enrolled and
  opting out is no longer possible. Those enrolled before carry ``head_start_points``
  (where the scheme's points lapse, the head start lapses with them).
"""

from __future__ import annotations

import numpy as np

from scoresim.declarations.categories import ENROLLED, GOOD_JOB, NOT_ENROLLED, OPTED_OUT
from scoresim.engine.rng import Streams
from scoresim.model.people import People
from scoresim.model.scoring import Scheme
from scoresim.scenario.schema import AdaptationConfig


def eligible(scheme: Scheme, people: People) -> np.ndarray:
    if scheme.cfg.enrolment.eligible == "commerce":
        return people.commerce_account
    return np.ones(people.n, bool)


def ambition(people: People, cfg: AdaptationConfig) -> np.ndarray:
    """Relative eagerness to enrol voluntarily (M8): ``(floor + loyalty) * (floor + income
    share) * good-job factor``; with the defaults (0.5, 1.5) its mean is about 1 over a
    typical population."""
    loyalty = (1.0 + people.private_opinion) / 2.0
    income = people.income_decile / 9.0
    good_job = np.where(people.job == GOOD_JOB, cfg.ambition_good_job_factor, 1.0)
    return (cfg.ambition_floor + loyalty) * (cfg.ambition_floor + income) * good_job


def _enrol(scheme: Scheme, who: np.ndarray, step: int, early: bool) -> None:
    scheme.set_state(who, ENROLLED)
    scheme.enrol_step[who] = step
    scheme.last_active[who] = step
    if early:
        scheme.early[who] = True
        head = scheme.cfg.enrolment.head_start_points
        if head and who.size:
            scheme.give_head_start(who, head, step)


def update_enrolment(
    scheme: Scheme,
    people: People,
    mandatory_now: bool,
    step: int,
    streams: Streams,
    adaptation: AdaptationConfig,
    newcomers: np.ndarray | None = None,
) -> dict[str, int]:
    """A day's enrolment; ``newcomers``: people who entered the society today, enrolled
    where the scheme enrols everyone eligible (mandatory, opt-out)."""
    cfg = scheme.cfg.enrolment
    can = eligible(scheme, people)
    early = cfg.mandatory_from_phase is not None and not mandatory_now
    counts = {"enrolled_new": 0, "opted_out_new": 0}

    # A mandatory or opt-out scheme enrols everyone eligible on its first day (the run's
    # first, or, for a scheme new at a fork or whose mode changed there, the fork's).
    first_day = not scheme.started
    scheme.started = True
    if mandatory_now or (cfg.mode in ("mandatory", "opt_out") and first_day):
        who = np.flatnonzero(can & (scheme.state != ENROLLED))
        if cfg.mode == "opt_out" and not mandatory_now:
            who = np.flatnonzero(can & (scheme.state == NOT_ENROLLED))
        _enrol(scheme, who, step, early=early)
        counts["enrolled_new"] += who.size
    elif cfg.mode == "voluntary":
        hazard = cfg.voluntary_rate_per_day * ambition(people, adaptation)
        u = streams.gen(f"enrolment.{scheme.name}.voluntary", step).random(people.n)
        who = np.flatnonzero(can & (scheme.state == NOT_ENROLLED) & (u < hazard))
        _enrol(scheme, who, step, early=early)
        counts["enrolled_new"] += who.size
    elif newcomers is not None and newcomers.size:  # mandatory or opt-out, after day one
        who = newcomers[can[newcomers] & (scheme.state[newcomers] == NOT_ENROLLED)]
        _enrol(scheme, who, step, early=early)
        counts["enrolled_new"] += who.size

    if cfg.opt_out_rate_per_day and not mandatory_now:
        rate = cfg.opt_out_rate_per_day * (
            1.0 + adaptation.opt_out_critic_factor * people.desired_dissent
        )
        u = streams.gen(f"enrolment.{scheme.name}.opt_out", step).random(people.n)
        who = np.flatnonzero((scheme.state == ENROLLED) & (u < rate))
        scheme.set_state(who, OPTED_OUT)
        counts["opted_out_new"] += who.size
    return counts
