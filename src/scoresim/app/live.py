"""A live run for the app: regime A (and B) over replicate seeds, stepped on a worker thread.

The page never touches a simulation: it asks for play, pause, steps and speed, takes the
new points since it last looked (:meth:`LiveRun.take`) and reads snapshots of the network
sample that the worker makes between steps. Anything else that needs the simulations
(an explanation, a run folder) is handed to the worker with :meth:`LiveRun.submit` and
runs between two steps.

A and B run with common random numbers: replicate ``r`` of both uses seed ``seed + r``
(the seeds ``compare`` uses), so they share people, network and every draw their policies
do not change. The difference B - A and its 95% interval over the replicates come from
:func:`scoresim.experiments.compare.t_interval`, the method of ``compare``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np

from scoresim.errors import ScenarioError
from scoresim.experiments.compare import t_interval
from scoresim.scenario.schema import Scenario

#: A network sample is at most this many people; the people traced in it at most this many.
MAX_SAMPLE = 2000
SNAPSHOT_SECONDS = 0.5  # how often the worker redraws the network sample while playing


@dataclass(frozen=True)
class Metric:
    """One plotted outcome: a column of the outcome table, perhaps summed over days and per
    1,000 people."""

    key: str
    label: str
    column: str
    cumulative: bool = False
    per_thousand: bool = False


@dataclass(frozen=True)
class Plot:
    key: str
    title: str
    metrics: tuple[Metric, ...]
    y_label: str


def score_scheme(a: Scenario, b: Scenario | None) -> tuple[str | None, list[str]]:
    """The scheme whose scores are plotted (A's first, else B's) and its tiers."""
    for sc in (a, b):
        if sc is not None and sc.schemes:
            name = next(iter(sc.schemes))
            return name, sc.schemes[name].tier_names_low_to_high()
    return None, []


def plots_for(a: Scenario, b: Scenario | None) -> list[Plot]:
    scheme, tiers = score_scheme(a, b)
    out = []
    if scheme is not None:
        out.append(Plot("scores", f"scores ({scheme})", (
            Metric("score_mean", "mean", f"{scheme}_score_mean"),
            Metric("score_p10", "10th percentile", f"{scheme}_score_p10"),
            Metric("score_p90", "90th percentile", f"{scheme}_score_p90"),
        ), "points"))
        if tiers:
            out.append(Plot("tiers", f"tiers ({scheme})", tuple(
                Metric(f"tier_{i}", t, f"{scheme}_tier_{t}") for i, t in enumerate(tiers)
            ), "share of the scored"))
    out += [
        Plot("expression", "expression and self-censorship", (
            Metric("self_censoring", "self-censoring", "self_censoring_share"),
            Metric("expression_gap", "private-expressed gap", "expression_gap"),
        ), "share / mean gap"),
        Plot("isolation", "isolation of critics", (
            Metric("critic_degree_ratio", "critics' degree / others'", "critic_degree_ratio"),
            Metric("isolated_critics", "critics without friends", "isolated_critics"),
        ), "ratio / share"),
        Plot("sanctions", "sanctions since the start, per 1,000 people", (
            Metric("sanctions_total", "all", "sanctions_total", True, True),
            Metric("sanctions_wrongful", "wrongful", "sanctions_wrongful", True, True),
            Metric("sanctions_association", "by association", "sanctions_association",
                   True, True),
        ), "per 1,000 people"),
    ]
    return out


@dataclass
class NetworkSample:
    """Who is drawn, where, and who is traced (indices into the sample)."""

    ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    centre: int
    traced: np.ndarray  # person ids


def neighbourhood(indptr: np.ndarray, indices: np.ndarray, centre: int, size: int) -> np.ndarray:
    """Up to ``size`` people: ``centre``, their friends, their friends' friends, ... (breadth
    first, each ring in id order)."""
    seen = {centre}
    ring = [centre]
    out = [centre]
    while ring and len(out) < size:
        nxt = np.unique(np.concatenate([indices[indptr[i]:indptr[i + 1]] for i in ring]))
        fresh = [int(j) for j in nxt if int(j) not in seen]
        fresh = fresh[:size - len(out)]
        seen.update(fresh)
        out += fresh
        ring = fresh
    return np.array(sorted(out), dtype=np.int64)


def draw_sample(sim, size: int, traced: int) -> NetworkSample:
    """A critic's neighbourhood (the middle critic with friends, by id; else the middle
    person with friends), laid out once; the centre and the people nearest to them traced."""
    import networkx as nx

    size = int(min(max(size, 1), MAX_SAMPLE, sim.people.n))
    net, p = sim.network, sim.people
    critics = np.flatnonzero((p.private_opinion < sim.scenario.people.critic_below)
                             & (net.degree > 0))
    pool = critics if critics.size else np.flatnonzero(net.degree > 0)
    centre = int(pool[pool.size // 2]) if pool.size else 0
    ids = neighbourhood(net.indptr, net.indices, centre, size)
    g = nx.Graph()
    g.add_nodes_from(ids.tolist())
    u, v = sample_edges(net.indptr, net.indices, ids)
    g.add_edges_from(zip(ids[u].tolist(), ids[v].tolist(), strict=True))
    pos = nx.spring_layout(g, seed=1, iterations=40 if ids.size > 500 else 60)
    xy = np.array([pos[int(i)] for i in ids])
    # traced: the centre, then the rest by distance from the centre in the layout
    order = np.argsort(np.hypot(*(xy - xy[np.searchsorted(ids, centre)]).T), kind="stable")
    chosen = np.sort(ids[order[:max(0, min(traced, ids.size))]])
    return NetworkSample(ids, xy[:, 0], xy[:, 1], centre, chosen)


def sample_edges(indptr: np.ndarray, indices: np.ndarray,
                 ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ties among the sampled people (sorted ids), as index pairs ``u < v`` into ids."""
    starts, ends = indptr[ids], indptr[ids + 1]
    counts = (ends - starts).astype(np.int64)
    if counts.sum() == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    src = np.repeat(np.arange(ids.size), counts)
    cols = np.concatenate([indices[s:e] for s, e in zip(starts, ends, strict=True)])
    pos = np.searchsorted(ids, cols).clip(0, ids.size - 1)
    inside = ids[pos] == cols
    u, v = src[inside], pos[inside]
    keep = u < v
    return u[keep], v[keep]


class LiveRun:
    """Regime A (and B) over ``replicates`` seeds from ``a.seed``, stepped on a worker thread.

    ``a`` and ``b`` are resolved scenarios (people, days and seed set) covering the same
    days. States: ``building``, ``ready`` (paused or playing), ``finished``, ``failed``,
    ``closed``. ``on_exit`` is called on the worker thread when it ends (after ``close``
    or a failure), once the simulations are let go.
    """

    def __init__(self, a: Scenario, b: Scenario | None = None, replicates: int = 1,
                 sample: int = 300, traced: int = 25,
                 on_exit: Callable[[], None] | None = None):
        if b is not None and (a.start != b.start or a.days != b.days):
            raise ScenarioError(f"A and B cover different days ({a.start} + {a.days} vs "
                                f"{b.start} + {b.days}).")
        if b is not None and a.people.count != b.people.count:
            raise ScenarioError("A and B must have the same number of people.")
        if replicates < 1:
            raise ScenarioError(f"replicates: expected a number >= 1, got {replicates}.")
        self.a, self.b = a, b
        self.seeds = [a.seed + r for r in range(replicates)]
        self.n_steps = a.days
        self.dates = np.array([np.datetime64(a.start) + np.timedelta64(i, "D")
                               for i in range(a.days)])
        self.plots = plots_for(a, b)
        self.metrics = [m for p in self.plots for m in p.metrics]
        self.sample_size, self.traced_size = int(sample), int(traced)
        self.sims: dict[str, list] = {}
        self.sample: NetworkSample | None = None
        self.state = "building"
        self.error = ""
        self.t = 0
        self.speed: float | None = None  # days per second; None: as fast as it goes
        self.timing = {"steps": 0, "step_s": 0.0, "build_s": 0.0}
        self._cond = threading.Condition()
        self._playing = False
        self._steps_wanted = 0
        self._rows: list[dict[str, float]] = []
        self._cum = {(label, m.key): np.zeros(replicates) for m in self.metrics
                     for label in "ab" if m.cumulative}
        self._jobs: deque[tuple[Callable[[LiveRun], Any], Future]] = deque()
        self._network: dict[str, dict[str, np.ndarray]] = {}
        self._network_version = 0
        self._last_snapshot = 0.0
        self._on_exit = on_exit
        self._thread = threading.Thread(target=self._work, name="scoresim-live", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ the page's side

    def play(self) -> None:
        with self._cond:
            if self.state in ("ready", "building"):
                self._playing = True
                self._cond.notify_all()

    def pause(self) -> None:
        with self._cond:
            self._playing = False
            self._steps_wanted = 0
            self._cond.notify_all()

    def step(self, days: int = 1) -> None:
        with self._cond:
            self._steps_wanted += max(int(days), 0)
            self._cond.notify_all()

    def set_speed(self, days_per_second: float | None) -> None:
        with self._cond:
            self.speed = days_per_second if days_per_second and days_per_second > 0 else None
            self._cond.notify_all()

    @property
    def playing(self) -> bool:
        return self._playing

    def close(self, wait: float = 0.0) -> None:
        """Stop the worker and let the simulations go. The worker ends after its current
        step (or build) and then calls ``on_exit``; ``wait``: seconds to wait for that (the
        page waits for nothing: its event loop serves every session)."""
        with self._cond:
            self.state = "closed"
            self._playing = False
            self._cond.notify_all()
        self.sims = {}
        if wait > 0 and threading.current_thread() is not self._thread:
            self._thread.join(timeout=wait)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def take(self) -> dict[str, np.ndarray] | None:
        """The points of the days stepped since the last call (columns: ``x``, then per
        metric ``KEY_a``, ``KEY_b``, ``KEY_d``, ``KEY_lo``, ``KEY_hi``), or None."""
        with self._cond:
            rows, self._rows = self._rows, []
        if not rows:
            return None
        return {k: np.array([r[k] for r in rows]) for k in rows[0]}

    def network(self, label: str = "a") -> tuple[int, dict[str, np.ndarray] | None]:
        """(version, the latest snapshot of the sample in regime ``label``)."""
        with self._cond:
            return self._network_version, self._network.get(label)

    def submit(self, fn: Callable[[LiveRun], Any]) -> Future:
        """Run ``fn(self)`` on the worker between two steps; its result in a Future."""
        fut: Future = Future()
        with self._cond:
            if self.state in ("closed", "failed"):
                fut.set_exception(ScenarioError(f"the run is {self.state}."))
                return fut
            self._jobs.append((fn, fut))
            self._cond.notify_all()
        return fut

    def wait(self, until: Callable[[LiveRun], bool], timeout: float) -> bool:
        """Wait (bounded) until ``until(self)`` holds; for tests and the benchmark."""
        end = time.monotonic() + timeout
        with self._cond:
            while not until(self):
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.1))
        return True

    def regime_sims(self, label: str) -> list:
        return self.sims.get(label, [])

    # ------------------------------------------------------------------------ worker

    def _work(self) -> None:
        try:
            self._loop()
        finally:
            self.sims = {}
            if self._on_exit is not None:
                self._on_exit()

    def _loop(self) -> None:
        try:
            self._build()
        except Exception as exc:  # (shown in the page; the worker ends)
            self._fail(exc)
            return
        while True:
            with self._cond:
                while self._idle():
                    self._cond.wait(0.5)
                if self.state == "closed":
                    return
                jobs = list(self._jobs)
                self._jobs.clear()
                go = self.state == "ready" and (self._playing or self._steps_wanted > 0)
            for fn, fut in jobs:
                try:
                    fut.set_result(fn(self))
                except Exception as exc:
                    fut.set_exception(exc)
            if not go:
                continue
            started = time.perf_counter()
            try:
                self._step_all()
            except Exception as exc:
                self._fail(exc)
                return
            with self._cond:
                self._steps_wanted = max(0, self._steps_wanted - 1)
                if self.t >= self.n_steps:
                    self._finish()
                manual = not self._playing
            now = time.perf_counter()
            if manual or now - self._last_snapshot >= SNAPSHOT_SECONDS or self.t >= self.n_steps:
                self._snapshot()
                self._last_snapshot = time.perf_counter()
            if self.speed and self._playing:
                due = started + 1.0 / self.speed
                with self._cond:
                    while (self._playing and self.state == "ready" and self.speed
                           and not self._jobs and time.perf_counter() < due):
                        self._cond.wait(due - time.perf_counter())

    def _idle(self) -> bool:
        """(under the lock) Nothing to do: no job, no step wanted, not closed."""
        if self.state == "closed" or self._jobs:
            return False
        return not (self.state == "ready" and (self._playing or self._steps_wanted))

    def _fail(self, exc: Exception) -> None:
        with self._cond:
            self.state = "failed"
            self._playing = False
            self.error = str(exc) if isinstance(exc, ScenarioError) else (
                f"the simulation stopped: {type(exc).__name__}: {exc}")
            for _, fut in self._jobs:
                fut.set_exception(ScenarioError(self.error))
            self._jobs.clear()
            self._cond.notify_all()

    def _build(self) -> None:
        from scoresim.results.trace import Tracer
        from scoresim.sim import Sim

        t0 = time.perf_counter()
        sims: dict[str, list] = {"a": [Sim(self.a, seed=s) for s in self.seeds]}
        if self.b is not None:
            sims["b"] = [Sim(self.b, seed=s) for s in self.seeds]
        first = sims["a"][0]
        self.sample = draw_sample(first, self.sample_size, self.traced_size)
        if self.sample.traced.size:
            for label in sims:  # (tracing reads the state only: no result changes)
                sims[label][0].tracer = Tracer(sims[label][0], self.sample.traced)
        with self._cond:
            if self.state == "closed":
                return
            self.sims = sims
            self.state = "ready"
            self.timing["build_s"] = time.perf_counter() - t0
            self._cond.notify_all()
        self._snapshot()

    def _step_all(self) -> None:
        t0 = time.perf_counter()
        for sims in self.sims.values():
            for sim in sims:
                sim.step()
        t = self.t
        reps = len(self.seeds)
        values = {}  # per regime: replicates x metrics
        for label in ("a", "b"):
            sims = self.sims.get(label, [])
            vals = np.full((reps, len(self.metrics)), np.nan)
            for r, sim in enumerate(sims):
                data = sim.outcomes.data
                for j, m in enumerate(self.metrics):
                    if m.column in data:
                        vals[r, j] = data[m.column][t]
                        if m.per_thousand:  # (per the people present that day)
                            vals[r, j] *= 1000.0 / data["population"][t]
            for j, m in enumerate(self.metrics):
                if m.cumulative:
                    self._cum[(label, m.key)] += np.nan_to_num(vals[:, j])
                    vals[:, j] = np.where(np.isnan(vals[:, j]), np.nan,
                                          self._cum[(label, m.key)])
            values[label] = vals
        level_a, level_b = t_interval(values["a"])[0], t_interval(values["b"])[0]
        d, lo, hi = t_interval(values["b"] - values["a"])
        row: dict[str, float] = {"x": self.dates[t]}
        for j, m in enumerate(self.metrics):
            row[f"{m.key}_a"], row[f"{m.key}_b"] = float(level_a[j]), float(level_b[j])
            row[f"{m.key}_d"], row[f"{m.key}_lo"], row[f"{m.key}_hi"] = (
                float(d[j]), float(lo[j]), float(hi[j]))
        with self._cond:
            self.t = t + 1
            self._rows.append(row)
            self.timing["steps"] += 1
            self.timing["step_s"] += time.perf_counter() - t0
            self._cond.notify_all()

    def _finish(self) -> None:
        """(under the lock) The last day is done: close the open outcome and the ledgers."""
        self.state = "finished"
        self._playing = False
        for sims in self.sims.values():
            for sim in sims:
                sim.observer.finish()
                if sim.tracer:
                    sim.tracer.flush()

    def _snapshot(self) -> None:
        sample = self.sample
        if sample is None:
            return
        shots = {}
        if any(sample.ids.size and sample.ids[-1] >= sims[0].people.n
               for sims in self.sims.values()):
            return  # (a shrinking population renumbered the sample's slots: the last stays)
        for label, sims in self.sims.items():
            sim = sims[0]
            u, v = sample_edges(sim.network.indptr, sim.network.indices, sample.ids)
            shot: dict[str, np.ndarray] = {
                "u": u, "v": v,
                "opinion": sim.people.expressed_opinion[sample.ids].astype(float),
                "degree": sim.network.degree[sample.ids].astype(np.int64),
            }
            scheme, _ = score_scheme(self.a, self.b)
            sch = sim.schemes.get(scheme) if scheme else None
            if sch is not None:
                scored = sch.scored[sample.ids]
                tiers = np.array(sch.tier_names or ["scored"], dtype=object)
                tier = tiers[sch.tier_index(sch.s[sample.ids])]
                shot["tier"] = np.where(scored, tier, "not scored").astype(object)
                shot["score"] = np.where(scored, sch.s[sample.ids].astype(float), np.nan)
            else:
                shot["tier"] = np.full(sample.ids.size, "no scheme", dtype=object)
                shot["score"] = np.full(sample.ids.size, np.nan)
            shots[label] = shot
        with self._cond:
            self._network = shots
            self._network_version += 1

    # ----------------------------------------------------------- between two steps

    def explain(self, label: str, person: int) -> dict[str, Any]:
        """(on the worker, via :meth:`submit`) The account of a sampled person's score."""
        from scoresim.results.explain import explain
        from scoresim.results.run_folder import Results, people_table

        sim = self.sims[label][0]
        if sim.tracer is None or person not in set(sim.tracer.ids.tolist()):
            raise ScenarioError(f"person {person} is not traced in this run; traced are the "
                                f"{self.traced_size} people nearest the centre of the sample "
                                "(ringed).")
        with np.errstate(invalid="ignore"):  # (the days not run yet: NaN, cut off)
            outcomes = sim.outcomes.to_arrow().slice(0, sim.t)
        res = Results(scenario=sim.scenario, outcomes=outcomes,
                      people=people_table(sim), metadata={"traced": sim.tracer.ids.tolist()},
                      ledger=sim.tracer.table(), ledger_friends=sim.tracer.friends_table())
        account = explain(res, person)
        ledger = res.ledger_df()
        account["ledger"] = ledger[ledger.person == person].tail(15)
        account["day"] = self.t
        return account

    def results(self, label: str) -> list:
        """(on the worker) Each replicate's results so far (the days run; ledgers of the
        traced people)."""
        from scoresim.results.run_folder import Results

        out = []
        for sim in self.sims[label]:
            with np.errstate(invalid="ignore"):  # (the days not run yet: NaN, cut off)
                res = Results.from_sim(sim)
            res.outcomes = res.outcomes.slice(0, sim.t)
            out.append(res)
        return out

    def run_folder(self, folder) -> dict[str, Any]:
        """(on the worker, via :meth:`submit`) Write the run so far into ``folder`` (which
        must not exist): A alone: its run folder (replicate 1, with the ledger of the
        traced people); A and B: the comparison over the replicates (``compare``'s folder)
        and the run folders of replicate 1. Returns the paths of the report and files."""
        from pathlib import Path

        from scoresim.experiments.compare import assemble, replicate_of

        folder = Path(folder)
        if self.t == 0:
            raise ScenarioError("nothing has run yet: play or step first.")
        results = {label: self.results(label) for label in self.sims}
        if "b" not in results:
            results["a"][0].save(folder)
            return {"report": folder / "report.html", "folder": folder}
        folder.mkdir(parents=True)
        cmp = assemble(self.a, self.b, [
            replicate_of(seed, ra, rb)
            for seed, ra, rb in zip(self.seeds, results["a"], results["b"], strict=True)])
        cmp.save(folder / "comparison")
        for label in ("a", "b"):
            results[label][0].save(folder / f"{label}-seed{self.seeds[0]}")
        return {"report": folder / "comparison" / "report.html", "folder": folder}
