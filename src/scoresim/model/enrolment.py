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

from typing import TYPE_CHECKING, Any

import numpy as np

from scoresim.declarations.categories import ENROLLED, GOOD_JOB, NOT_ENROLLED, OPTED_OUT
from scoresim.engine.rng import Streams
from scoresim.model.component import Array, Component
from scoresim.model.network import Network
from scoresim.model.people import People
from scoresim.scenario.schema import AdaptationConfig, SchemeConfig

if TYPE_CHECKING:
    from scoresim.model.scoring import Scheme


class Enrolment(Component):
    """Who is enrolled in one scheme (``state``), since when, and who enrolled early;
    what follows from the state (who carries a score, who sees it, how many scored
    friends each has) is cached and made again after each change (:meth:`set_state`)."""

    STATE = (Array("state", newcomer=NOT_ENROLLED), Array("enrol_step", newcomer=-1),
             Array("early", newcomer=False))
    CACHES = ("_state_cache", "_scored_friends", "_scored_changed")

    def __init__(self, key: str, cfg: SchemeConfig, n: int):
        self.key, self.cfg, self.n = key, cfg, n
        self.state = np.zeros(n, np.int8)  # change through set_state
        self.state_version = 0
        self.started = False  # its enrolment has had its first day
        self.enrol_step = np.full(n, -1, np.int32)
        self.early = np.zeros(n, bool)
        self._state_cache: dict[str, tuple[int, np.ndarray]] = {}
        self._scored_friends_version: int | None = None  # network version it counts
        self._scored_friends = np.zeros(n, np.float32)
        self._scored_changed: list[tuple[np.ndarray, np.ndarray]] = []

    def values(self) -> dict[str, Any]:
        return {"state_version": int(self.state_version), "started": bool(self.started),
                "mode": self.cfg.enrolment.mode}

    def set_values(self, values: dict[str, Any]) -> None:
        self.state_version = int(values["state_version"])
        # (a scheme whose enrolment mode changed at the fork has its first day again)
        self.started = bool(values["started"]) and values["mode"] == self.cfg.enrolment.mode

    def before_newcomers(self, who: np.ndarray, step: int) -> None:
        self.set_state(who, NOT_ENROLLED)  # (the enrolment rules take them from tomorrow)

    def drop_caches(self) -> None:
        self._state_cache.clear()
        self._scored_friends_version = None
        self._scored_changed = []

    @property
    def scored(self) -> np.ndarray:
        """Carries a score: enrolled, or opted out with a shadow score (M10). Read only,
        made again after each change of state (:meth:`set_state`)."""
        return self._by_state("scored", self._is_scored)

    @property
    def visible_to_self(self) -> np.ndarray:
        """Sees their own score: enrolled (never a shadow score), scheme not hidden."""
        if self.cfg.visibility == "hidden":
            return np.zeros(self.n, bool)
        return self._by_state("enrolled", lambda state: state == ENROLLED)

    @property
    def visible_to_friends(self) -> np.ndarray:
        if self.cfg.visibility in ("friends", "public"):
            return self._by_state("enrolled", lambda state: state == ENROLLED)
        return np.zeros(self.n, bool)

    def _by_state(self, name: str, make) -> np.ndarray:
        cached = self._state_cache.get(name)
        if cached is None or cached[0] != self.state_version:
            value = make(self.state)
            value.flags.writeable = False
            cached = self._state_cache[name] = (self.state_version, value)
        return cached[1]

    def _is_scored(self, state: np.ndarray) -> np.ndarray:
        if self.cfg.shadow_score:
            return state != NOT_ENROLLED
        return state == ENROLLED

    def set_state(self, who: np.ndarray, state: int) -> None:
        """Change the enrolment state of ``who`` (distinct ids; keeps caches honest)."""
        if who.size:
            before = self._is_scored(self.state[who])
            self.state[who] = state
            self.state_version += 1
            delta = (self._is_scored(self.state[who]).astype(np.float32)
                     - before.astype(np.float32))
            moved = delta != 0
            if moved.any():
                self._scored_changed.append((who[moved], delta[moved]))

    def scored_friends(self, network: Network) -> np.ndarray:
        """How many scored friends each person has. Recounted when ties change; between
        rewirings kept up to date from the enrolment changes alone (exact: whole counts)."""
        changed = sum(who.size for who, _ in self._scored_changed)
        if self._scored_friends_version != network.version or changed > network.n // 16:
            # (ties changed, or so many people that counting again costs less)
            self._scored_friends = network.neighbour_sum(self.scored.astype(np.float32))
            self._scored_friends_version = network.version
        else:
            for who, delta in self._scored_changed:
                network.add_to_friends(self._scored_friends, who, delta)
        self._scored_changed = []
        return self._scored_friends


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
    scheme.enrolment.enrol_step[who] = step
    scheme.accumulation.last_active[who] = step
    if early:
        scheme.enrolment.early[who] = True
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
    first_day = not scheme.enrolment.started
    scheme.enrolment.started = True
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
