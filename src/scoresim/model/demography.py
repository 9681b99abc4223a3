"""Demography: people age by the day, move through the stages of life, leave and are
replaced (scenario key ``demography``).

- **Age**: ``age_days`` (uint16) grows by one every day.
- **Stages** follow from age: student from ``entry_age_years`` for ``study_years``,
  working until ``retirement_age_years``, retired after. A student who turns working
  draws a first job as at the start (:func:`scoresim.model.people.draw_jobs`, from their
  income decile); a worker who retires leaves their job (income unchanged).
- **Exits** (death): at the hazard of the stage (working: students and workers;
  retired), and on reaching ``max_age_years``; settled every ``turnover_every_days``
  (the chance of those days at once), so that the ties are rebuilt once a batch.
- **Entries**: every leaver's slot is taken the same day by a newcomer aged
  ``entry_age_years`` (a school leaver), so the arrays keep their size and the population
  stays steady (unless ``growth_per_year`` is set: below). The newcomer's attributes
  come from the same distributions as the first population's
  (:func:`scoresim.model.people.make_people` on streams ``demography.newcomer.*``); the
  region is the slot's (regional shares stay as drawn); a new ``person_id`` from a
  counter that only grows (the first population has ids ``0 .. n-1``, newcomers ``n,
  n+1, ...``), so an id names one person over a whole run, its checkpoints and its
  outputs, while the slot (the array index) may hold several.
- **Ties**: a leaver's ties end; a newcomer keeps the slot's friendship capacity and finds
  friends by the network's formation rule (:mod:`scoresim.model.network`), as the
  leaver's friends find replacements.
- **Growth** (``growth_per_year``, 0 by default: the above, the size never changes):
  on each turnover day the population is brought to :func:`target_size`,
  ``round(count * (1 + g) ** (days since start / 365.25))``, a deterministic path (the
  size is the key's, exactly; only who leaves is drawn). :meth:`Demography.plan` says
  which slots go and how many are added: growing, every leaver is replaced in place and
  the extra newcomers enter in new slots appended after the last; shrinking, leavers'
  slots (drawn at random among the day's leavers, stream ``demography.shrink``) are
  removed, and where the day's deaths are fewer than the shrinkage, people drawn at random
  among the rest emigrate (stream ``demography.emigration``). A newcomer in a new slot
  draws the region from the regional shares (``make_people``) and takes the friendship
  capacity (and a given threshold) of a present person drawn at random (stream
  ``demography.growth.donor``).

  *Why resize the arrays rather than keep absent slots.* Every mechanism and every
  outcome's denominator reads ``people.n`` and whole arrays; a mask of absent slots
  would have to be honoured by each of them (and by every kernel), and a forgotten one
  would silently count the dead. Resizing keeps one invariant: every slot is a person
  present. It costs one copy of the per-person state per turnover batch (O(n), like the
  batch itself), and only where ``growth_per_year`` is not 0. It is done by one generic
  path, :meth:`scoresim.sim.Sim.resize_people`: the state as a checkpoint holds it
  (:func:`scoresim.state.collect`), every per-person array cut to the kept slots (in
  their order) and extended by the new ones, ties and record-log entries renumbered
  (:func:`scoresim.state.resized`), the components built afresh on the resized people and
  the state put back (:func:`scoresim.state.restore`, which drops every cache), then the
  new slots made newcomers (:meth:`replace`, :meth:`scoresim.sim.Sim.reset_people`). So
  a per-person array that checkpoints carry is resized without being named twice (one
  they do not carry is built afresh at the new size, as a checkpoint would), and a
  carried array that is not one value per person must be classified in
  :func:`scoresim.state.resized`, which refuses it by name otherwise.
  Person ids stay unique (the counter below); a slot number can change at a shrinkage,
  so outputs name people by ``person_id``. The burn-in runs at a steady size.

The starting ages are drawn from the steady state of these rules
(:func:`scoresim.model.ages.stationary_ages`), so the age structure does not drift. Every
other component resets the newcomers' slots (``reset(who, step)``), called from one place,
:meth:`scoresim.sim.Sim.step`.
"""

from __future__ import annotations

import numpy as np

from scoresim.declarations.categories import (
    NO_JOB,
    RETIRED,
    STUDENT,
    WORKING,
)
from scoresim.engine.rng import Streams
from scoresim.model.ages import DAYS_PER_YEAR, thresholds
from scoresim.model.component import Component
from scoresim.model.network import Network
from scoresim.model.people import GIVEN_THRESHOLDS, People, draw_jobs, make_people
from scoresim.scenario.schema import DemographyConfig, Scenario


def daily(rate_per_year: float) -> float:
    """The chance of an event within a day at a yearly hazard ``rate_per_year``."""
    return float(-np.expm1(-rate_per_year / DAYS_PER_YEAR))


def target_size(count: int, growth_per_year: float, step: int) -> int:
    """The population size after the turnover of day ``step`` (0: the run's first):
    ``count`` grown at ``growth_per_year`` for ``step + 1`` days, rounded (at least one)."""
    return max(1, int(round(count * (1.0 + growth_per_year) ** ((step + 1) / DAYS_PER_YEAR))))


class Demography(Component):
    """The rules of a day's demography (:meth:`age`, :meth:`leavers`, :meth:`replace`);
    its own state is the next person id."""

    KEY = "demography"

    def values(self) -> dict:
        return {"next_id": int(self.next_id)}

    def set_values(self, values: dict) -> None:
        self.next_id = int(values["next_id"])

    def __init__(self, cfg: DemographyConfig, n: int):
        self.cfg = cfg
        self.next_id = int(n)  # ids 0 .. n-1 belong to the first population

    def age(self, people: People, scenario: Scenario, streams: Streams,
            step: int) -> np.ndarray:
        """Everyone a day older; returns the ids whose stage changed today (a new worker
        draws a first job, a new retiree leaves theirs)."""
        if not self.cfg.enabled:
            return np.empty(0, np.int64)
        age = people.age_days
        age += np.uint16(1)
        # (ages grow by one a day, so a stage changes exactly on its first day)
        _, study_end, retire, _ = thresholds(self.cfg)
        staged = np.flatnonzero((age == study_end) | (age == retire))
        if staged.size:
            to_work = staged[age[staged] == study_end]
            u = streams.uniform_for("demography.first_job", step, people.person_id[to_work])
            people.job[to_work] = draw_jobs(people.income_decile[to_work], u, scenario.people)
            people.age_band[to_work] = WORKING
            to_retire = staged[age[staged] == retire]
            people.job[to_retire] = NO_JOB
            people.age_band[to_retire] = RETIRED
        return staged

    def leavers(self, people: People, streams: Streams, step: int) -> np.ndarray:
        """Ids of those who die today: on every ``turnover_every_days``-th day, each with
        the chance of that many days at the hazard of their stage (one uniform each from
        stream ``demography.exit``), and all who reached the maximum age."""
        cfg = self.cfg
        every = cfg.turnover_every_days
        if not cfg.enabled or (step + 1) % every:
            return np.empty(0, np.int64)
        hazard = np.where(people.age_band == RETIRED,
                          daily(cfg.death_rate_per_year_retired * every),
                          daily(cfg.death_rate_per_year_working * every))
        u = streams.gen("demography.exit", step).random(people.n)
        return np.flatnonzero((u < hazard) | (people.age_days >= thresholds(cfg)[3]))

    def plan(self, n: int, left: np.ndarray, target: int, streams: Streams,
             step: int) -> tuple[np.ndarray, np.ndarray, int]:
        """(slots removed, slots whose leaver is replaced in place, new slots to add) that
        bring ``n`` people to ``target`` on a turnover day whose leavers are ``left``
        (ascending): growing, every leaver replaced and the rest added; shrinking, leavers'
        slots removed (drawn among them, stream ``demography.shrink``), and where they are
        too few, people drawn among the rest emigrate (stream ``demography.emigration``)."""
        change = int(target) - int(n)
        if change >= 0:
            return np.empty(0, np.int64), left, change
        drop = -change
        if drop <= left.size:
            gone = np.sort(streams.gen("demography.shrink", step).choice(
                left, size=drop, replace=False)).astype(np.int64)
            return gone, np.setdiff1d(left, gone), 0
        rest = np.setdiff1d(np.arange(n, dtype=np.int64), left)
        emigrants = streams.gen("demography.emigration", step).choice(
            rest, size=drop - left.size, replace=False)
        return np.union1d(left, emigrants).astype(np.int64), np.empty(0, np.int64), 0

    def replace(self, people: People, network: Network, who: np.ndarray,
                scenario: Scenario, streams: Streams, step: int, fresh: int = 0) -> None:
        """Newcomers in the slots ``who``: drawn as the first population was (the slot's
        region kept), aged ``entry_age_years``, students, with new ids; the leavers' ties
        end and the newcomers find their own by the network's formation rule. The last
        ``fresh`` of ``who`` are new slots (a growing population, appended after every
        other slot): their region is drawn, and their friendship capacity (and a given
        threshold) is that of a present person drawn at random."""
        new = make_people(scenario, streams, who.size, prefix="demography.newcomer",
                          step=step)
        region = people.region[who]
        given = people.threshold[who]  # (a list or a file: the slot's value is kept)
        if fresh:
            donor = streams.gen("demography.growth.donor", step).integers(
                0, people.n - fresh, size=fresh)
            region[-fresh:] = new.region[-fresh:]
            given[-fresh:] = people.threshold[donor]
            network.capacity[who[-fresh:]] = network.capacity[donor]
        people.expressed_opinion = people.expressed_opinion.copy()  # (never changed in place)
        for name in People.__dataclass_fields__:
            getattr(people, name)[who] = getattr(new, name)
        people.region[who] = region
        if scenario.people.thresholds.distribution in GIVEN_THRESHOLDS:
            people.threshold[who] = given
        people.age_days[who] = thresholds(self.cfg)[0]
        people.age_band[who] = STUDENT
        people.job[who] = NO_JOB
        people.university[who] = False  # (their application day is ahead of them)
        people.person_id[who] = self.next_id + np.arange(who.size, dtype=np.int64)
        self.next_id += int(who.size)
        # The leavers' ties end; the newcomer keeps the slot's friendship capacity and, like
        # the leaver's friends, finds friends by the network's own formation rule
        # (model/network.py: those below capacity seek, meet and form ties at its rates).
        leaving = np.zeros(people.n, bool)
        leaving[who] = True
        gone = leaving[network.u] | leaving[network.v]
        network.update(gone, np.empty(0, np.int64), np.empty(0, np.int64), today=step)


