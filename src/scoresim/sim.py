"""The simulation: one society, one scenario, one seed.

The order of a step, written once (``Sim.step``):

1. **policy**: the day's phase; enrolment (voluntary, opt-out, mandatory from a date)
2. **behaviour**: every person draws events from their rates
3. **records**: data sources see, link and (mis)attribute events; court listings blacklist
4. **scoring**: own score ``b`` from rules, bonus and decay
5. **friend influence**: published score ``s`` from ``b`` and friends' previous ``s``
6. **sanctions**: life events meet sanctions and privileges; jobs and income change
7. **adaptation**: learning the rules, self-censorship, gaming, unfriending, new ties
8. **outcomes**: one row of the outcome table
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from scoresim.adaptation import Adaptation
from scoresim.behaviour import draw_events
from scoresim.enrolment import update_enrolment
from scoresim.errors import ScenarioError
from scoresim.events import KIND_INDEX, ONLINE_KINDS, SPENDING_KINDS
from scoresim.life import draw_life_events, settle_applications
from scoresim.loading import load_scenario
from scoresim.network import make_network
from scoresim.outcomes import Observer, OutcomeTable
from scoresim.people import make_people
from scoresim.results import Results
from scoresim.rng import Streams
from scoresim.sanctions import Sanctions
from scoresim.scenario import SANCTION_EFFECTS, Scenario
from scoresim.scoring import Scheme
from scoresim.sources import DataSources, Records
from scoresim.threads import map_threads
from scoresim.trace import Tracer


def resize(scenario: Scenario, people: int | None = None, days: int | None = None,
           seed: int | None = None) -> Scenario:
    """The scenario with another population size, length (days from start) or seed."""
    from scoresim.limits import check_size

    check_size(people, days)
    update: dict = {}
    if people is not None:
        if people < 1:
            raise ScenarioError(f"--people: expected a whole number >= 1, got {people}.")
        update["people"] = scenario.people.model_copy(update={"count": int(people)})
    if days is not None:
        if days < 1:
            raise ScenarioError(f"--days: expected a whole number >= 1, got {days}.")
        update["end"] = scenario.start + dt.timedelta(days=int(days) - 1)
    if seed is not None:
        if seed < 0:
            raise ScenarioError(f"--seed: expected a whole number >= 0, got {seed}.")
        update["seed"] = int(seed)
    return scenario.model_copy(update=update) if update else scenario


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
    change to their scores (:mod:`scoresim.trace`); tracing changes no result.
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
    ):
        t0 = time.perf_counter()
        if not isinstance(scenario, Scenario):
            path = Path(str(scenario))
            if base_dir is None and path.is_file():
                base_dir = path.parent
            scenario = load_scenario(scenario)
        self.scenario = sc = resize(scenario, people, days, seed)
        self.seed = sc.seed
        self.streams = Streams(sc.seed)
        self.people = make_people(sc, self.streams)
        self.network = make_network(
            sc.network, self.people.n, self.people.region, self.streams.gen("network.build"),
            base_dir,
        )
        self.sources = DataSources(sc, self.people, self.streams)
        self.schemes = {name: Scheme(name, cfg, sc, self.people)
                        for name, cfg in sc.schemes.items()}
        self.sanctions = Sanctions(sc, self.people, self.schemes)
        self.adaptation = Adaptation(sc.adaptation, self.people, self.schemes)
        self.blacklist_sources = np.array([list(sc.sources).index(s)
                                           for s in sc.blacklist.sources], np.int16)
        self.phase_names = sc.phase_names_in_order()
        self.phase_starts = [sc.phases[p] for p in self.phase_names]
        self.dates = sc.dates()
        self.n_steps = len(self.dates)
        self.outcomes = OutcomeTable(sc, self.n_steps)
        self.observer = Observer(self)
        self.multipliers: dict[str, np.ndarray] = {}
        self.expressed_dissent = self.people.desired_dissent
        self.t = 0
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

    # --------------------------------------------------------------------- the step

    def phase_at(self, date: dt.date) -> tuple[int, str]:
        idx = int(np.searchsorted(np.array(self.phase_starts, dtype="datetime64[D]"),
                                  np.datetime64(date), side="right")) - 1
        if idx < 0:
            return -1, ""
        return idx, self.phase_names[idx]

    def _mandatory(self, scheme: Scheme, phase_idx: int) -> bool:
        ph = scheme.cfg.enrolment.mandatory_from_phase
        return ph is not None and phase_idx >= self.phase_names.index(ph)

    def step(self) -> None:
        """One day. A day's score assortativity is filled in by the next step (from its
        publishing pass) or by ``observer.finish()``, which :meth:`run` and
        :meth:`Results.from_sim` call."""
        t, people, sc = self.t, self.people, self.scenario
        date = self.dates[t]
        phase_idx, phase = self.phase_at(date)

        clock = _Clock(self.phase_seconds)
        # 1. policy: enrolment
        mandatory = {name: self._mandatory(s, phase_idx) for name, s in self.schemes.items()}
        map_threads(lambda scheme: update_enrolment(scheme, people, mandatory[scheme.name], t,
                                                    self.streams, sc.adaptation),
                    self.schemes.values(), people.n)
        if self.tracer:
            self.tracer.snapshot()
        clock("policy")

        # 2. behaviour -> events
        events = draw_events(people, sc.behaviour, self._rate_multipliers(t), self.streams, t)
        clock("behaviour")

        # 3. sources -> records; court listings -> blacklist
        records = self.sources.record(events, date, t)
        self._blacklist(records, t)
        clock("records")

        # 4-5. scoring and friend influence
        records.by_kind()  # (shared by the schemes, which score side by side)

        def score(scheme: Scheme) -> dict:
            early = (scheme.cfg.enrolment.mandatory_from_phase is not None
                     and not mandatory[scheme.name])
            return scheme.update_own(records, people, phase, t, early,
                                     keep_per_rule=self.tracer is not None)

        parts = dict(zip(self.schemes, map_threads(score, self.schemes.values(), people.n),
                         strict=True))
        clock("scoring")
        for scheme in self.schemes.values():
            scheme.publish(self.network)
        self.observer.start_scheme_summaries()  # (on a helper, while the rest goes on)
        self.observer.finish_pending()
        if self.tracer:
            self.tracer.after_scoring(t, records, parts)
        clock("friends")

        # 6. sanctions and privileges on the day's life events
        life = draw_life_events(people, sc.life, self.streams, t)
        sanc = self.sanctions.apply(people, life, phase, t, self.streams)
        settled = settle_applications(people, life, sc.life, sanc.job_blocked, sanc.job_factor,
                                      sanc.uni_blocked)
        if self.tracer:
            self.tracer.after_sanctions(t, sanc)
        clock("sanctions")

        # 7. adaptation
        ad = self.adaptation
        ad.learn()
        self.multipliers = ad.rate_multipliers(people, phase)
        if sc.adaptation.self_censorship == "none":  # (no one weighs surveillance or risk)
            self.expressed_dissent = ad.self_censor(people, None, None, self.network)
        else:
            nu = self.sources.attribution_probability("critical_statement", date)
            psi = ad.severity(people, phase, self._active_sanctions(phase))
            self.expressed_dissent = ad.self_censor(people, nu, psi, self.network)
        ties = {"ties_removed": 0, "ties_unfriended": 0, "ties_added": 0}
        if (t + 1) % sc.adaptation.rewire_every_days == 0:
            clock("adaptation")
            ties = ad.rewire(people, self.network, self.sanctions.dating_weight, self.streams, t)
            clock("rewiring")
        clock("adaptation")

        # 8. outcomes
        self.outcomes.put(t, self.observer.row(t, phase_idx, events, records, sanc, settled,
                                               ties))
        clock("outcomes")
        self.t += 1

    def _rate_multipliers(self, t: int) -> dict[str, np.ndarray]:
        mult = dict(self.multipliers)
        sanc = self.sanctions
        # Factors of 1 for everyone change no rate: left out.
        # (1.0 * x is x: a kind without a factor yet takes the array itself, read only)
        if "internet_throttled" in sanc.in_force:
            for kind in ONLINE_KINDS:
                mult[kind] = mult[kind] * sanc.throttle if kind in mult else sanc.throttle
        if "deposit_free" in sanc.in_force:
            for kind in SPENDING_KINDS:
                mult[kind] = mult[kind] * sanc.spending if kind in mult else sanc.spending
        if sanc.last_refusal_day >= t:  # (someone is refused loans today)
            refused = sanc.loan_refused_until >= t
            mult["loan_default"] = np.where(refused, 0.0, 1.0).astype(np.float32)
        return mult

    def _blacklist(self, records: Records, t: int) -> None:
        if self.blacklist_sources.size == 0:
            return
        sel = (records.kind == KIND_INDEX["court_listing"]) & np.isin(
            records.source, self.blacklist_sources
        )
        who, wrong = records.person[sel], records.misattributed[sel]
        p = self.people
        was_listed = p.blacklisted_until >= t
        p.blacklisted_until[who] = t + self.scenario.blacklist.days
        # Wrongful if every listing record of a person this step was misattributed.
        fresh = who[~was_listed[who]]
        p.blacklist_wrongful[fresh] = True
        p.blacklist_wrongful[who[~wrong]] = False

    def _active_sanctions(self, phase: str) -> dict[str, int]:
        """Per scheme: how many of its sanction rules are in force in this phase."""
        active: dict[str, int] = {}
        for name, cfg in self.scenario.sanctions.items():
            if (cfg.scheme and cfg.effect in SANCTION_EFFECTS
                    and self.sanctions.conditions[name].holds_in_phase(phase)):
                active[cfg.scheme] = active.get(cfg.scheme, 0) + 1
        return active

    # ----------------------------------------------------------------------- run

    def run(self, progress: Callable[[int, int], None] | None = None) -> Results:
        t0 = time.perf_counter()
        while self.t < self.n_steps:
            self.step()
            if progress is not None:
                progress(self.t, self.n_steps)
        self.observer.finish()
        self.timings["run_s"] = time.perf_counter() - t0
        self.timings["step_parts_s"] = dict(self.phase_seconds)
        if self.tracer:
            self.tracer.flush()
        return Results.from_sim(self)

