"""The simulation: one society, one scenario, one seed.

The order of a step, written once (``Sim.step``):

0. **demography**: everyone a day older; stages of life follow from age (a new worker
   draws a first job, a new retiree leaves theirs); deaths (settled every
   ``demography.turnover_every_days``); a newcomer in each
   leaver's slot, with new ties, and every component's state of that slot reset
   (:meth:`Sim.reset_people`, the one place that calls each ``reset``); where
   ``demography.growth_per_year`` is set, the population is first resized on the turnover
   day (slots added, or leavers' and emigrants' slots removed: :meth:`Sim.resize_people`)
1. **policy**: the day's phase; enrolment (voluntary, opt-out, mandatory from a date;
   newcomers where a scheme enrols everyone eligible)
2. **behaviour**: every person draws events from their rates
3. **records**: data sources see, link and (mis)attribute events; court listings blacklist
4. **scoring**: own score ``b`` from rules, bonus and decay (where points lapse: records
   lapse, credit repairs, ``b`` = initial + points in force)
5. **friend influence**: published score ``s`` from ``b`` and friends' previous ``s``, on
   each scheme's recomputation days
6. **sanctions**: life events meet sanctions and privileges; good jobs end at the labour
   market's base rate; hires and university admissions (the year's school leavers apply on
   the application day); jobs and income change
7. **adaptation**: learning the rules, learning about risk (what each person observed
   today), self-censorship, gaming, unfriending, ties dissolving and forming
8. **outcomes**: one row of the outcome table

Before the first step, ``burn_in_days`` (a scenario key) run the same steps on the same
people and ties without any scheme or sanction, on streams of their own (salt
:data:`~scoresim.engine.rng.BURN_IN`), dated before ``start``; their rows are not kept.
The burn-in depends only on the society (seed, people, network, sources, demography) and on
the life, behaviour, blacklist and adaptation keys, so a scenario and its baseline begin
from the same society and keep their common random numbers.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scoresim.engine.rng import BURN_IN, Streams
from scoresim.engine.threads import map_threads
from scoresim.errors import ScenarioError
from scoresim.model.adaptation import Adaptation
from scoresim.model.behaviour import policy_multipliers
from scoresim.model.compiled import compiled
from scoresim.model.component import REGISTRY, Component
from scoresim.model.day import Day
from scoresim.model.demography import Demography, target_size, thresholds
from scoresim.model.enrolment import update_enrolment
from scoresim.model.life import draw_life_events, settle_applications
from scoresim.model.network import Network, make_network, settle_ages
from scoresim.model.people import People, make_people
from scoresim.model.plain import plain
from scoresim.model.rewiring import rewire
from scoresim.model.sanctions import Sanctions
from scoresim.model.scoring import Scheme
from scoresim.model.sources import DataSources, blacklist
from scoresim.results.outcomes import Observer, OutcomeTable
from scoresim.results.run_folder import Results
from scoresim.results.trace import Tracer
from scoresim.scenario.loading import load_scenario
from scoresim.scenario.schema import Scenario


def resize(scenario: Scenario, people: int | None = None, days: int | None = None,
           seed: int | None = None) -> Scenario:
    """The scenario with another population size, length (days from start) or seed."""
    from scoresim.limits import LAST_DATE, check_size

    check_size(people, days)
    update: dict = {}
    if people is not None:
        if people < 1:
            raise ScenarioError(f"--people: expected a whole number >= 1, got {people}.")
        update["people"] = scenario.people.model_copy(update={"count": int(people)})
    if days is not None:
        if days < 1:
            raise ScenarioError(f"--days: expected a whole number >= 1, got {days}.")
        end = scenario.start + dt.timedelta(days=int(days) - 1)  # (days <= MAX_DAYS)
        if end > LAST_DATE:
            raise ScenarioError(f"days {days:,}: from `start` ({scenario.start}) the run would "
                                f"end on {end}, after {LAST_DATE}, the last day a run may "
                                "have; use fewer days or an earlier `start`.")
        update["end"] = end
    if seed is not None:
        if seed < 0:
            raise ScenarioError(f"--seed: expected a whole number >= 0, got {seed}.")
        update["seed"] = int(seed)
    return scenario.model_copy(update=update) if update else scenario


def state_bytes(scenario: Scenario, people: int = 512) -> float | None:
    """The bytes a person costs in the state the components of ``scenario`` declare
    (:func:`scoresim.model.component.declared_bytes`), measured on a small population
    built without ties; None where the scenario cannot be built at that size (an edge
    list's or a given array's size fixes it): the memory estimate then uses its fitted
    constants."""
    from scoresim.model.component import declared_bytes

    small = scenario.model_copy(update={
        "people": scenario.people.model_copy(update={"count": min(people,
                                                                  scenario.people.count)}),
        "burn_in_days": 0})
    empty = Network(small.people.count, np.empty(0, np.int64), np.empty(0, np.int64))
    try:
        sim = Sim(small, days=1, network=empty, burn_in=False)
    except (ScenarioError, ValueError, IndexError, OSError):
        return None
    return declared_bytes(sim.components(), sim.people.n)


def _check_peak(sc: Scenario) -> None:
    """Refuse a growth that would take the population past the slots' 32-bit numbers."""
    from scoresim.limits import MAX_PEOPLE, peak_people

    peak = peak_people(sc)
    if peak > MAX_PEOPLE:
        raise ScenarioError(
            f"demography.growth_per_year: {sc.demography.growth_per_year} over {sc.days:,} "
            f"days grows {sc.people.count:,} people to about {peak:,}, more than "
            f"{MAX_PEOPLE:,} (person slots are 32-bit numbers).")


@dataclass(frozen=True)
class Stage:
    """One step of the day: its name (``Sim._NAME_step`` runs it) and what it does."""

    name: str
    does: str


#: The day, in order (:meth:`Sim.plan` runs these, with the steps of components added to
#: the day after the stage each names; ``scoresim odd`` and docs/architecture.md print
#: the order from here).
DAY = (
    Stage("demography", "everyone a day older; stages of life follow from age; deaths and "
          "newcomers on turnover days (every component resets the newcomers' slots); "
          "the population resized where it grows or shrinks"),
    Stage("policy", "the day's phase; enrolment (voluntary, opt-out, mandatory from a "
          "date; newcomers where a scheme enrols everyone eligible)"),
    Stage("behaviour", "every person draws events from their rates"),
    Stage("records", "data sources see, link and (mis)attribute events; court listings "
          "blacklist"),
    Stage("scoring", "own score b from rules, bonus and decay (where points lapse: records "
          "lapse, credit repairs, b = initial + points in force)"),
    Stage("friends", "published score s from b and friends' previous s, on each scheme's "
          "recomputation days"),
    Stage("sanctions", "life events meet sanctions and privileges; good jobs end at the "
          "labour market's base rate; hires and admissions; jobs and income change"),
    Stage("adaptation", "learning the rules, learning about risk, self-censorship, gaming, "
          "unfriending, ties dissolving and forming"),
    Stage("outcomes", "one row of the outcome table (each added component's columns too)"),
)
DAY_NAMES = tuple(stage.name for stage in DAY)

#: "compiled": the numba kernels (fast; the default). "reference": every rule of the model
#: from its plain numpy function (slow; for small populations and for review). The two
#: agree (tests/test_engines.py).
ENGINES = ("compiled", "reference")


class _Clock:
    """Adds the time since the last call to ``seconds[part]``."""

    def __init__(self, seconds: dict[str, float]):
        self.seconds = seconds
        self.last = time.perf_counter()

    def __call__(self, part: str) -> None:
        now = time.perf_counter()
        self.seconds[part] = self.seconds.get(part, 0.0) + now - self.last
        self.last = now


class Sim:
    """``Sim(scenario, seed=...).run()`` -> :class:`Results`.

    ``scenario`` is a :class:`Scenario` or a preset name / TOML path. ``seed`` defaults to
    the scenario's own. ``base_dir`` resolves relative paths inside the scenario (an edge
    list). ``trace`` people drawn at random and ``trace_ids`` get a ledger row for every
    change to their scores (:mod:`scoresim.results.trace`); tracing changes no result.
    """

    def __init__(
        self,
        scenario: Scenario | str | Path,
        seed: int | None = None,
        *,
        people: int | None = None,
        days: int | None = None,
        base_dir: Path | None = None,
        trace: int = 0,
        trace_ids: list[int] | None = None,
        engine: str = "compiled",
        network: Network | None = None,
        burn_in: bool = True,
        _society: tuple[Streams, People, Demography] | None = None,
        _size: int | None = None,
    ):
        t0 = time.perf_counter()
        if engine not in ENGINES:
            raise ScenarioError(f"engine: expected one of {', '.join(ENGINES)}, got "
                                f"{engine!r}.")
        self.engine = engine
        self.continued_from: dict | None = None  # set by from_state: the checkpoint
        if not isinstance(scenario, Scenario):
            path = Path(str(scenario))
            if base_dir is None and path.is_file():
                base_dir = path.parent
            scenario = load_scenario(scenario)
        self.scenario = sc = resize(scenario, people, days, seed)
        self.seed = sc.seed
        _check_peak(sc)
        if _society is not None:  # (a burn-in: the run's people, on streams of its own)
            self.streams, self.people, self.demography = _society
        else:
            self.streams = Streams(sc.seed)
            self.people = make_people(sc, self.streams, base_dir=base_dir)
            if _size is not None and _size != self.people.n:
                # (a checkpoint of a run whose size changed, demography.growth_per_year:
                # ``_size`` slots, whose values the checkpoint puts back)
                take = np.arange(_size) % self.people.n
                for name in People.__dataclass_fields__:
                    setattr(self.people, name, getattr(self.people, name)[take])
            self.demography = Demography(sc.demography, self.people.n)
        # (``network``: ties given, e.g. a checkpoint's; nothing is generated or read)
        if network is None:
            network = make_network(sc.network, self.people.n, self.people.region,
                                   self.streams.gen("network.build"), base_dir)
            settle_ages(network, sc.adaptation.tie_dissolve_rate_per_day,
                        self.streams.gen("network.ages"))
        # The engine, chosen once: each component is handed the plain rules or the
        # compiled kernels when it is built, under the same names.
        self.kernels = plain() if engine == "reference" else compiled()
        self.network = network
        self.network.use(self.kernels)
        if burn_in and sc.burn_in_days and _society is None:
            self._burn_in()
        self._components()
        self.blacklist_sources = np.array([list(sc.sources).index(s)
                                           for s in sc.blacklist.sources], np.int16)
        self.phase_names = sc.phase_names_in_order()
        self.phase_starts = [sc.phases[p] for p in self.phase_names]
        self.dates = sc.dates()
        self.n_steps = len(self.dates)
        self.outcomes = OutcomeTable(sc, self.n_steps, tuple(
            column for component in self.added for column in component.OUTPUTS))
        self.observer = Observer(self)
        self.t = 0
        self.entered = np.empty(0, np.int64)  # today's newcomers (their slots)
        self.tracer = None
        if trace or trace_ids:
            ids = list(trace_ids or [])
            if trace:
                if trace < 0:
                    raise ScenarioError(f"--trace: expected a number >= 0, got {trace}.")
                pick = self.streams.gen("trace.sample").choice(
                    self.people.n, size=min(trace, self.people.n), replace=False)
                ids += pick.tolist()
            self.tracer = Tracer(self, np.array(ids, dtype=np.int64))
        self.phase_seconds: dict[str, float] = {}  # time spent in each part of the step
        self.timings = {"init_s": time.perf_counter() - t0}

    def _components(self, restoring: bool = False) -> None:
        """The sources, schemes, sanctions and adaptation, built for ``self.people`` (at the
        start, and afresh when the population is resized: ``restoring``, to take the state
        back, so nothing is drawn)."""
        sc, k = self.scenario, self.kernels
        self.sources = DataSources(sc, self.people, self.streams, k, restoring=restoring)
        self.schemes = {name: Scheme(name, cfg, sc, self.people, k)
                        for name, cfg in sc.schemes.items()}
        self.sanctions = Sanctions(sc, self.people, self.schemes, k)
        self.adaptation = Adaptation(sc.adaptation, self.people, self.schemes, k)
        # Components added to every simulation (scoresim.model.component.register)
        self.added = [cls(self) for cls in REGISTRY if cls.wanted(sc)]

    def components(self) -> list[Component]:
        """Every component, in the order of their state and of newcomers' resets (the
        schemes before adaptation, which copies their fresh scores; the outcome table
        last)."""
        return [self.people, self.demography, self.network, self.sources,
                *self.schemes.values(), self.sanctions, self.adaptation, *self.added,
                self.observer, self.outcomes]

    # ------------------------------------------------------------------ the burn-in

    def _burn_in(self) -> None:
        """Run the society ``burn_in_days`` before ``start`` (no scheme, no sanction; the
        burn-in's own streams), then move the step numbers it left (blacklisting) to the
        run's: its last day is step -1."""
        sc = self.scenario
        days = sc.burn_in_days
        first = sc.start - dt.timedelta(days=days)
        pre = sc.model_copy(update={
            "schemes": {}, "sanctions": {}, "burn_in_days": 0, "phases": {"burn_in": first},
            "start": first, "end": sc.start - dt.timedelta(days=1),
            "demography": sc.demography.model_copy(update={"growth_per_year": 0.0})})
        sim = Sim(pre, engine=self.engine, network=self.network, burn_in=False,
                  _society=(Streams(sc.seed, salt=BURN_IN), self.people, self.demography))
        while sim.t < sim.n_steps:
            sim.step()
        listed = self.people.blacklisted_until
        listed[:] = np.where(listed >= days, listed - days, -1)
        self.network.shift_days(days)  # (the ties' days of formation: before the start)

    # --------------------------------------------------------------------- the step

    def reset_people(self, who: np.ndarray, t: int) -> None:
        """Every component's state of the slots ``who`` made as for a person new to the
        society (:meth:`Component.reset`, from each component's declarations; the people's
        own values are drawn by the demography before)."""
        for component in self.components():
            component.reset(who, t)

    def resize_people(self, keep: np.ndarray, add: int) -> np.ndarray:
        """Keep the people of the slots ``keep`` (ascending; in that order) and add ``add``
        empty slots after them; returns the old slots' new numbers (-1: gone). One generic
        path (:mod:`scoresim.model.demography`, "Why resize"): the state as a checkpoint
        holds it, every array resized by its declared axis (:func:`scoresim.state.resized`),
        the components built afresh on the resized people, the state put back (caches
        dropped). The new slots hold zeros until the caller makes them newcomers."""
        from scoresim import state

        n = self.people.n
        saved = state.resized(state.collect(self), n, keep, add)
        a = saved.arrays
        for name in People.__dataclass_fields__:
            setattr(self.people, name, a[f"people.{name}"])
        self.people.drop_caches()
        self.network = state.ties(self.people.n, a)
        self.network.use(self.kernels)
        self._components(restoring=True)
        self.observer = Observer(self)
        state.restore(self, saved)
        self.network.version += 1  # (the ties were renumbered: no cache may match)
        index = np.full(n, -1, np.int64)
        index[keep] = np.arange(len(keep))
        if self.tracer is not None:
            self.tracer.renumber(index)
        return index

    def _demography(self, t: int) -> dict[str, int]:
        """0. demography (see the module's docstring)."""
        demo, people, sc = self.demography, self.people, self.scenario
        staged = demo.age(people, sc, self.streams, t)
        left = demo.leavers(people, self.streams, t)
        growth = sc.demography.growth_per_year
        gone, fresh = np.empty(0, np.int64), 0
        if growth and demo.cfg.enabled and (t + 1) % demo.cfg.turnover_every_days == 0:
            target = target_size(sc.people.count, growth, t)
            gone, left, fresh = demo.plan(people.n, left, target, self.streams, t)
        if left.size or gone.size or fresh:
            # (yesterday's score assortativity, on the ties and scores it had)
            self.observer.finish_pending(final=True)
            if gone.size or fresh:  # (the population's size changes: growth_per_year)
                # (the observer is made again for everyone: its caches, the stages
                # changed today included; ``staged`` holds the old slots' numbers)
                staged = np.empty(0, np.int64)
                n = people.n
                index = self.resize_people(np.setdiff1d(np.arange(n), gone), fresh)
                left = np.concatenate([index[left], np.arange(n - gone.size,
                                                              n - gone.size + fresh)])
            demo.replace(people, self.network, left, sc, self.streams, t, fresh=fresh)
            self.reset_people(left, t)
        if staged.size:
            self.observer.refresh(staged)
        self.entered = left
        return {"people_entered": int(left.size), "population": people.n}


    def phase_at(self, date: dt.date) -> tuple[int, str]:
        idx = int(np.searchsorted(np.array(self.phase_starts, dtype="datetime64[D]"),
                                  np.datetime64(date), side="right")) - 1
        if idx < 0:
            return -1, ""
        return idx, self.phase_names[idx]

    def _mandatory(self, scheme: Scheme, phase_idx: int) -> bool:
        ph = scheme.cfg.enrolment.mandatory_from_phase
        return ph is not None and phase_idx >= self.phase_names.index(ph)

    def plan(self) -> list[tuple[str, Callable[[Day], None]]]:
        """The day's steps in order: :data:`DAY`'s, each added component's after the step
        it names (its ``STAGE``). A stage that the scenario switched off runs nothing
        (:meth:`_switched_off`): it only hands on what it would have made."""
        off = self._switched_off()
        out = [(stage.name, off.get(stage.name) or getattr(self, f"_{stage.name}_step"))
               for stage in DAY]
        for component in self.added:
            at = [name for name, _ in out].index(component.STAGE) + 1
            while at < len(out) and out[at][0] not in DAY_NAMES:
                at += 1  # (after the components already added there)
            out.insert(at, (component.key, component.step))
        return out

    def _switched_off(self) -> dict[str, Callable[[Day], None]]:
        """The stages that have nothing to do in this scenario, each with what it hands on
        instead: the demography where ``demography.enabled`` is false (nobody ages, leaves
        or enters, and the size never changes: ``growth_per_year`` acts only with it)."""
        if self.demography.cfg.enabled:
            return {}
        return {"demography": self._steady_population}

    def _steady_population(self, day: Day) -> None:
        """The demography step of a fixed population: nobody entered."""
        day.demographic = {"people_entered": 0, "population": self.people.n}
        day.entered = self.entered

    def step(self) -> None:
        """One day: each step of :meth:`plan` in turn, handing on the :class:`Day`. A day's
        score assortativity is filled in by the next step (from its publishing pass) or
        by ``observer.finish()``, which :meth:`run` and :meth:`Results.from_sim` call."""
        t = self.t
        date = self.dates[t]
        phase_idx, phase = self.phase_at(date)
        day = Day(t, date, phase_idx, phase)
        self._clock = clock = _Clock(self.phase_seconds)
        for name, run in self.plan():
            run(day)
            clock(name)
        self.t += 1

    def _demography_step(self, day: Day) -> None:
        day.demographic = self._demography(day.t)
        day.entered = self.entered

    def _policy_step(self, day: Day) -> None:
        """Enrolment (voluntary, opt-out, mandatory from a date; newcomers where a scheme
        enrols everyone eligible)."""
        day.mandatory = {name: self._mandatory(s, day.phase_idx)
                         for name, s in self.schemes.items()}
        map_threads(lambda scheme: update_enrolment(
            scheme, self.people, day.mandatory[scheme.name], day.t, self.streams,
            self.scenario.adaptation, day.entered), self.schemes.values(), self.people.n)
        if self.tracer:
            self.tracer.snapshot()

    def _behaviour_step(self, day: Day) -> None:
        rates = policy_multipliers(self.adaptation.multipliers, self.sanctions, day.t)
        day.events = self.kernels.draw_events(self.people, self.scenario.behaviour, rates,
                                              self.streams, day.t)

    def _records_step(self, day: Day) -> None:
        day.records = self.sources.record(day.events, day.date, day.t)
        blacklist(self.people, day.records, self.blacklist_sources,
                  self.scenario.blacklist.days, day.t)

    def _scoring_step(self, day: Day) -> None:
        records = day.records
        records.by_kind()  # (shared by the schemes, which score side by side)

        def score(scheme: Scheme) -> dict:
            early = (scheme.cfg.enrolment.mandatory_from_phase is not None
                     and not day.mandatory[scheme.name])
            return scheme.update_own(records, self.people, day.phase, day.t, early,
                                     keep_per_rule=self.tracer is not None,
                                     streams=self.streams)

        day.score_parts = dict(zip(self.schemes, map_threads(
            score, self.schemes.values(), self.people.n), strict=True))

    def _friends_step(self, day: Day) -> None:
        for scheme in self.schemes.values():
            scheme.publish(self.network, day.t)
        self.observer.finish_pending()
        if self.tracer:
            self.tracer.after_scoring(day.t, day.records, day.score_parts)

    def _sanctions_step(self, day: Day) -> None:
        sc = self.scenario
        day.life = draw_life_events(self.people, sc.life, self.streams, day.t,
                                    self.kernels.drawn_below, date=day.date,
                                    entry_days=thresholds(sc.demography)[0])
        day.sanctions = self.sanctions.apply(self.people, day.life, day.phase, day.t,
                                             self.streams)
        day.settled = settle_applications(self.people, day.life, sc.life, day.sanctions)
        if self.tracer:
            self.tracer.after_sanctions(day.t, day.sanctions)

    def _adaptation_step(self, day: Day) -> None:
        sc, people, ad = self.scenario, self.people, self.adaptation
        ad.learn()
        ad.multipliers = ad.rate_multipliers(people, day.phase)
        if sc.adaptation.self_censorship == "none":  # (no one weighs surveillance or risk)
            ad.expressed_dissent = ad.self_censor(people, None, None, self.network)
        else:
            nu = self.sources.attribution_probability("critical_statement", day.date)
            nu, psi = ad.risk(people, day, self.sanctions, nu, self.network,
                              sc.blacklist.days)
            before = ad.expressed_dissent
            ad.expressed_dissent = ad.self_censor(people, nu, psi, self.network)
            ad.note_decisions(before, ad.expressed_dissent, people.desired_dissent)
        if (day.t + 1) % sc.adaptation.rewire_every_days == 0:
            self._clock("adaptation")
            day.ties = rewire(sc.adaptation, self.schemes, people, self.network,
                              self.sanctions.dating_weight, self.streams, day.t,
                              self.kernels)
            self._clock("rewiring")

    def _outcomes_step(self, day: Day) -> None:
        row = self.observer.row(day.t, day.phase_idx, day.events, day.records,
                                day.sanctions, {**day.settled, **day.demographic},
                                day.ties)
        self.outcomes.put(day.t, {**row, **day.outputs})

    # ----------------------------------------------------------------- checkpoints

    def step_of(self, date: dt.date, what: str = "date") -> int:
        """The step of ``date`` (a clear error outside the run)."""
        if not self.dates[0] <= date <= self.dates[-1]:
            raise ScenarioError(f"{what} {date}: outside the run ({self.dates[0]} to "
                                f"{self.dates[-1]}).")
        return (date - self.dates[0]).days

    def save_state(self, path: Path | str) -> Path:
        """Write a checkpoint of the simulation as it stands (between steps) to the folder
        ``path`` (:mod:`scoresim.state`)."""
        from scoresim import state

        return state.save(self, path)

    @classmethod
    def from_state(cls, path: Path | str, overrides: dict | None = None, *,
                   scenario: Scenario | None = None, base_dir: Path | None = None,
                   engine: str = "compiled") -> Sim:
        """The simulation of checkpoint ``path``, ready to continue to its scenario's end,
        with the policy keys in ``overrides`` changed (dotted keys, as ``--set``), or with
        another ``scenario`` from here on; keys that define the society cannot change
        (:data:`scoresim.state.SOCIETY_KEYS`)."""
        from scoresim import state

        if scenario is not None and overrides:
            raise ScenarioError("from_state: give overrides or a scenario, not both.")
        meta, saved, _ = state.read(path)
        file = Path(path) / "scenario.toml"
        before = load_scenario(file)
        after = scenario if scenario is not None else before
        if overrides:
            after = load_scenario(file, overrides)
        state.check_fork(before.model_dump(mode="json"), after.model_dump(mode="json"),
                         f"{path}")
        try:  # (the checkpoint's ties: no network generated, no edge list read)
            ties = state.ties(meta["people"], saved.arrays)
        except (KeyError, ValueError, IndexError) as exc:
            raise ScenarioError(f"{path}: damaged checkpoint (the ties: {exc}).") from None
        sim = cls(after, base_dir=base_dir, engine=engine, network=ties, burn_in=False,
                  _size=meta["people"])
        if saved.step > sim.n_steps:
            raise ScenarioError(f"{path}: the checkpoint is at {meta['date']}, after the "
                                f"scenario's end ({after.end}).")
        if sim.people.n != meta["people"]:
            raise ScenarioError(f"{path}: damaged checkpoint (people count).")
        try:
            state.restore(sim, saved)
        except (KeyError, ValueError, TypeError) as exc:
            raise ScenarioError(f"{path}: damaged checkpoint (missing or wrong {exc}).") from None
        sim.continued_from = {"checkpoint": str(path), "date": meta["date"],
                              "overrides": dict(overrides or {}),
                              "scenario": None if scenario is None else scenario.name}
        return sim

    # ----------------------------------------------------------------------- run

    def run(self, progress: Callable[[int, int], None] | None = None,
            checkpoints: Mapping[dt.date, Path] | None = None) -> Results:
        """Run to the scenario's end (from where the simulation stands). ``checkpoints``:
        after the step of each date, a checkpoint folder (:meth:`save_state`)."""
        t0 = time.perf_counter()
        at = {self.step_of(date, "checkpoint"): Path(path)
              for date, path in (checkpoints or {}).items()}
        if any(step < self.t for step in at):
            raise ScenarioError(f"checkpoint: a date before {self.dates[self.t]}, where this "
                                "run continues from, cannot be written.")
        while self.t < self.n_steps:
            self.step()
            if self.t - 1 in at:
                self.save_state(at[self.t - 1])
            if progress is not None:
                progress(self.t, self.n_steps)
        self.observer.finish()
        self.timings["run_s"] = time.perf_counter() - t0
        self.timings["step_parts_s"] = dict(self.phase_seconds)
        if self.tracer:
            self.tracer.flush()
        return Results.from_sim(self)

