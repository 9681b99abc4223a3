"""Benchmark 1: the same reference model in scoresim and in its peers (LASER, Starsim,
mesa-frames, Mesa), each written as its documentation recommends; person-steps per second.

    python -m venv .venv-bench && .venv-bench/bin/pip install -e '.[bench]'
    .venv-bench/bin/pip install --no-deps mesa-frames==0.1.0a0   # (see pyproject's bench)
    nice .venv-bench/bin/python benchmarks/reference_model.py                  # 1e4..1e6
    .venv-bench/bin/python benchmarks/reference_model.py --people 10000 --repeat 1 \\
        --tools scoresim laser

The model: N people on a small-world network (Watts-Strogatz ring, mean degree 20, ends
rewired with probability 0.1); opinions 2 Beta(3, 2) - 1; each day each person draws
supportive statements (Poisson, rate 0.3 x loyalty (1 + opinion) / 2) and critical ones
(Poisson, rate 0.3 x dissent max(0, -opinion)), gains 2 or loses 5 points for each (own
score clipped to [0, 2000]), publishes 0.7 * own + 0.3 * mean of friends' scores of the day
before (own alone without friends), and is sanctioned while the score is below 990. 20 days.

How each tool runs it (see docs/performance.md, "Peers"):

- **scoresim**: the scenario ``benchmarks/reference.toml`` (everything else switched off),
  ``Sim(...).run()``, its outcome table and named random streams included.
- **LASER** (``laser-core``): a ``LaserFrame`` of people with scalar properties, the model
  a plain class whose components each have a ``step``; the steps are numba kernels over
  the property arrays (``prange``), as LASER's performance guide recommends; draws from
  numba's per-thread generators seeded by ``laser.core.random.seed``; the friends as CSR
  arrays on the model (LASER has no network type); a results frame with a value per tick.
- **Starsim**: a ``ss.Module`` with ``FloatArr`` states, ``ss.poisson`` distributions with
  dynamic parameters (a callable of the agents, as its distributions guide shows) drawn by
  UID (common random numbers), results per step; the ties as a ``ss.Network`` whose edges
  are appended at initialisation (``StaticNet`` takes a networkx graph, which at 10^6
  people with 10^7 ties would take minutes and gigabytes to build, setup that is not timed
  anyway: the same ties, made by the shared generator below).
- **mesa-frames**: an ``AgentSetPolars`` holding the people as a polars DataFrame, the step
  as DataFrame expressions (a join of the ties with yesterday's scores, grouped by person),
  draws from the model's numpy generator, as its Boltzmann example does.
- **Mesa**: one ``Agent`` per person, ``AgentSet.do`` activation stage by stage, friends as
  object lists from networkx's Watts-Strogatz graph, a ``DataCollector``.

Every run is a fresh process (imports and compiled code loaded, then a small model run
to load numba's cached kernels where a tool uses numba, then setup); only the 20 steps are
timed. The tools run in turn, in the opposite order on each pass. Each run prints the mean
score after the last day and the share below 990, so that one can see that every tool does
the same work (they agree within sampling error). A tool is skipped at a size where its
last measured rate says a run would take more than --limit seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
GOOD_RATE, BAD_RATE, GOOD_POINTS, BAD_POINTS = 0.3, 0.3, 2.0, -5.0
WEIGHT, THRESHOLD, LO, HI, INITIAL = 0.3, 990.0, 0.0, 2000.0, 1000.0
MEAN_DEGREE, REWIRE = 20, 0.1
TOOLS = ("scoresim", "laser", "laser-workqueue", "starsim", "mesa-frames", "mesa")
#: Environment of a tool's process beyond the caller's: LASER's kernels run on numba's
#: default threading layer (OpenMP here), and again on its own work queue, which on a
#: shared machine loses less time at the barriers of each parallel loop.
TOOL_ENV = {"laser-workqueue": {"NUMBA_THREADING_LAYER": "workqueue"}}


def small_world(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ties ``u < v`` of a Watts-Strogatz graph (each of ``n`` people linked
    to the ``MEAN_DEGREE / 2`` next on the ring, each such tie's far end rewired to anyone
    with probability ``REWIRE``; loops and duplicates dropped), as scoresim's
    ``network.kind = "small_world"`` makes it; for the peers that have no such generator
    at scale."""
    rng = np.random.default_rng(seed)
    half = MEAN_DEGREE // 2
    u = np.repeat(np.arange(n, dtype=np.int64), half)
    v = (u + np.tile(np.arange(1, half + 1), n)) % n
    rewire = rng.random(u.shape[0]) < REWIRE
    v[rewire] = rng.integers(0, n, size=int(rewire.sum()))
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    key = np.unique((lo * n + hi)[lo != hi])
    return key // n, key % n


def csr(n: int, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each person's friends (both ends of every tie), sorted, as (indptr, indices)."""
    a, b = np.concatenate([u, v]), np.concatenate([v, u])
    order = np.lexsort((b, a))
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(a, minlength=n), out=indptr[1:])
    return indptr, b[order].astype(np.int32)


# --------------------------------------------------------------------------- scoresim


class Scoresim:
    def __init__(self, n: int, steps: int, seed: int):
        from scoresim import Sim
        from scoresim.engine.threads import PARALLEL_FROM

        Sim(HERE / "reference.toml", seed=seed, people=PARALLEL_FROM, days=2).run()
        self.sim = Sim(HERE / "reference.toml", seed=seed, people=n, days=steps)

    def run(self) -> None:
        self.sim.run()

    def scores(self) -> np.ndarray:
        return self.sim.schemes["score"].s

    @staticmethod
    def version() -> str:
        from scoresim.version import __version__
        return __version__


# ------------------------------------------------------------------------------ LASER


def _laser_kernels():
    import numba as nb

    @nb.njit(parallel=True, nogil=True, cache=True)
    def behave(opinion, own, good_rate, bad_rate, good_points, bad_points, lo, hi):
        for i in nb.prange(opinion.shape[0]):
            good = np.random.poisson(good_rate * (1.0 + opinion[i]) / 2.0)  # noqa: NPY002 (numba: per-thread, seeded by LASER)
            bad = np.random.poisson(bad_rate * max(0.0, -opinion[i]))  # noqa: NPY002
            own[i] = min(max(own[i] + good * good_points + bad * bad_points, lo), hi)

    @nb.njit(parallel=True, nogil=True, cache=True)
    def publish(indptr, indices, own, previous, score, weight):
        for i in nb.prange(own.shape[0]):
            a, b = indptr[i], indptr[i + 1]
            if b > a:
                total = 0.0
                for k in range(a, b):
                    total += previous[indices[k]]
                score[i] = (1.0 - weight) * own[i] + weight * total / (b - a)
            else:
                score[i] = own[i]

    @nb.njit(parallel=True, nogil=True, cache=True)
    def sanction(score, sanctions, threshold):
        count = 0
        total = 0.0
        for i in nb.prange(score.shape[0]):
            total += score[i]
            if score[i] < threshold:
                sanctions[i] += 1
                count += 1
        return total, count

    return behave, publish, sanction


class Laser:
    """The model as LASER's docs lay one out: a model object holding the people
    (``LaserFrame``), parameters (``PropertySet``), results, and components run in order
    each tick."""

    def __init__(self, n: int, steps: int, seed: int):
        import laser.core.random as lrandom
        from laser.core import LaserFrame, PropertySet

        self.params = PropertySet({"good_rate": GOOD_RATE, "bad_rate": BAD_RATE,
                                   "good_points": GOOD_POINTS, "bad_points": BAD_POINTS,
                                   "weight": WEIGHT, "threshold": THRESHOLD,
                                   "nticks": steps})
        prng = lrandom.seed(seed)
        self.people = people = LaserFrame(capacity=n, initial_count=n)
        people.add_scalar_property("opinion", dtype=np.float64)
        people.add_scalar_property("own", dtype=np.float64, default=INITIAL)
        people.add_scalar_property("score", dtype=np.float64, default=INITIAL)
        people.add_scalar_property("previous", dtype=np.float64, default=INITIAL)
        people.add_scalar_property("sanctions", dtype=np.int32, default=0)
        people.opinion[:] = 2.0 * prng.beta(3.0, 2.0, n) - 1.0
        self.indptr, self.indices = csr(n, *small_world(n, seed))
        self.results = LaserFrame(capacity=1)
        self.results.add_vector_property("mean_score", length=steps, dtype=np.float64)
        self.results.add_vector_property("sanctioned", length=steps, dtype=np.int64)
        self.kernels = _laser_kernels()
        self.components = [self.behaviour, self.publishing, self.sanctions]
        # (load the cached kernels: a few people, one tick)
        small = LaserFrame(capacity=8, initial_count=8)
        for name in ("own", "previous", "score", "opinion"):
            small.add_scalar_property(name, dtype=np.float64, default=INITIAL)
        small.add_scalar_property("sanctions", dtype=np.int32)
        behave, publish, sanction = self.kernels
        behave(small.opinion * 0, small.own, 0.3, 0.3, 2.0, -5.0, LO, HI)
        publish(np.zeros(9, np.int64), np.zeros(0, np.int32), small.own, small.previous,
                small.score, 0.3)
        sanction(small.score, small.sanctions, 990.0)
        lrandom.seed(seed)

    def behaviour(self, tick: int) -> None:
        p, q = self.people, self.params
        self.kernels[0](p.opinion, p.own, q.good_rate, q.bad_rate, q.good_points,
                        q.bad_points, LO, HI)

    def publishing(self, tick: int) -> None:
        p = self.people
        p.previous[:] = p.score
        self.kernels[1](self.indptr, self.indices, p.own, p.previous, p.score,
                        self.params.weight)

    def sanctions(self, tick: int) -> None:
        p = self.people
        total, count = self.kernels[2](p.score, p.sanctions, self.params.threshold)
        self.results.mean_score[tick] = total / p.count
        self.results.sanctioned[tick] = count

    def run(self) -> None:
        for tick in range(self.params.nticks):
            for component in self.components:
                component(tick)

    def scores(self) -> np.ndarray:
        return self.people.score[: self.people.count]

    @staticmethod
    def version() -> str:
        from importlib.metadata import version
        return version("laser-core")


# ---------------------------------------------------------------------------- Starsim


def starsim_model(n: int, steps: int, seed: int):
    import starsim as ss

    ties = small_world(n, seed)

    class SmallWorld(ss.Network):
        """The ties, fixed (made by :func:`small_world`)."""

        def init_post(self):
            super().init_post()
            self.append(p1=ties[0].astype(ss.dtypes.int), p2=ties[1].astype(ss.dtypes.int),
                        beta=np.ones(ties[0].shape[0], ss.dtypes.float))

        def step(self):
            pass  # (the ties do not change)

    def loyalty(module, sim, uids):
        return GOOD_RATE * (1.0 + module.opinion[uids]) / 2.0

    def dissent(module, sim, uids):
        return BAD_RATE * np.maximum(0.0, -module.opinion[uids])

    class Scoring(ss.Module):
        """Behaviour, the own and the published score, sanctions."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.define_pars(good_points=GOOD_POINTS, bad_points=BAD_POINTS, weight=WEIGHT,
                             threshold=THRESHOLD)
            self.define_states(
                ss.FloatArr("opinion", default=ss.beta_dist(a=3, b=2)),
                ss.FloatArr("own", default=INITIAL),
                ss.FloatArr("score", default=INITIAL),
                ss.FloatArr("sanctions", default=0.0),
            )
            self.good = ss.poisson(lam=loyalty)
            self.bad = ss.poisson(lam=dissent)

        def init_post(self):
            super().init_post()
            self.opinion[:] = 2.0 * self.opinion[:] - 1.0

        def init_results(self):
            super().init_results()
            self.define_results(ss.Result("mean_score", dtype=float),
                                ss.Result("sanctioned", dtype=int))

        def step(self):
            uids = self.sim.people.auids
            good, bad = self.good.rvs(uids), self.bad.rvs(uids)
            own = np.clip(self.own[uids] + good * self.pars.good_points
                          + bad * self.pars.bad_points, LO, HI)
            self.own[uids] = own
            net = self.sim.networks[0]
            p1, p2 = net.edges.p1, net.edges.p2
            previous = self.score.raw
            size = previous.shape[0]
            total = (np.bincount(p1, weights=previous[p2], minlength=size)
                     + np.bincount(p2, weights=previous[p1], minlength=size))
            degree = np.bincount(p1, minlength=size) + np.bincount(p2, minlength=size)
            deg = degree[uids]
            with np.errstate(divide="ignore", invalid="ignore"):
                pulled = (1 - self.pars.weight) * own + self.pars.weight * total[uids] / deg
            self.score[uids] = np.where(deg > 0, pulled, own)
            below = self.score[uids] < self.pars.threshold
            self.sanctions[uids] = self.sanctions[uids] + below

        def update_results(self):
            super().update_results()
            self.results.mean_score[self.ti] = self.score.mean()
            self.results.sanctioned[self.ti] = int(np.count_nonzero(self.score < THRESHOLD))

    sim = ss.Sim(n_agents=n, start=0, stop=steps - 1, dt=1, rand_seed=seed,
                 networks=SmallWorld(), modules=Scoring(), verbose=0)
    sim.init()
    return sim


class Starsim:
    def __init__(self, n: int, steps: int, seed: int):
        starsim_model(8, 2, seed).run()  # (imports settled, caches warm)
        self.sim = starsim_model(n, steps, seed)
        self.steps = steps

    def run(self) -> None:
        self.sim.run()
        if self.sim.t.npts != self.steps:
            raise RuntimeError(f"Starsim ran {self.sim.t.npts} steps, not {self.steps}")

    def scores(self) -> np.ndarray:
        (scoring,) = [m for m in self.sim.modules if m.name == "scoring"]
        return np.asarray(scoring.score.values)

    @staticmethod
    def version() -> str:
        import starsim
        return starsim.__version__


# ------------------------------------------------------------------------ mesa-frames


def mesa_frames_model(n: int, seed: int):
    import polars as pl
    from mesa_frames import AgentSetPolars, ModelDF

    class People(AgentSetPolars):
        def __init__(self, model, n: int, u: np.ndarray, v: np.ndarray):
            super().__init__(model)
            opinion = 2.0 * model.random.beta(3.0, 2.0, n) - 1.0
            self += pl.DataFrame({
                "unique_id": np.arange(n, dtype=np.int64), "opinion": opinion,
                "own": np.full(n, INITIAL), "score": np.full(n, INITIAL),
                "sanctions": np.zeros(n, np.int64)})
            self.ties = pl.DataFrame({"unique_id": np.concatenate([u, v]),
                                      "friend": np.concatenate([v, u])})

        def step(self) -> None:
            df = self.agents
            opinion = df["opinion"].to_numpy()
            good = self.random.poisson(GOOD_RATE * (1.0 + opinion) / 2.0)
            bad = self.random.poisson(BAD_RATE * np.maximum(0.0, -opinion))
            friends = (self.ties
                       .join(df.select(pl.col("unique_id").alias("friend"),
                                       pl.col("score").alias("previous")), on="friend")
                       .group_by("unique_id")
                       .agg(pl.col("previous").mean().alias("friends_mean")))
            own = (pl.col("own") + pl.Series(good * GOOD_POINTS + bad * BAD_POINTS)
                   ).clip(LO, HI)
            self.agents = (
                df.with_columns(own=own)
                .join(friends, on="unique_id", how="left")
                .with_columns(score=pl.when(pl.col("friends_mean").is_null())
                              .then(pl.col("own"))
                              .otherwise((1 - WEIGHT) * pl.col("own")
                                         + WEIGHT * pl.col("friends_mean")))
                .with_columns(sanctions=pl.col("sanctions")
                              + (pl.col("score") < THRESHOLD).cast(pl.Int64))
                .drop("friends_mean"))

    class ReferenceModel(ModelDF):
        def __init__(self, n: int, seed: int):
            super().__init__(seed)
            self.people = People(self, n, *small_world(n, seed))
            self.agents += self.people
            self.series: list[tuple[float, int]] = []

        def step(self) -> None:
            self.agents.do("step")
            score = self.people.agents["score"]
            self.series.append((float(score.mean()), int((score < THRESHOLD).sum())))

    return ReferenceModel(n, seed)


class MesaFrames:
    def __init__(self, n: int, steps: int, seed: int):
        mesa_frames_model(8, seed).step()
        self.model, self.steps = mesa_frames_model(n, seed), steps

    def run(self) -> None:
        for _ in range(self.steps):
            self.model.step()

    def scores(self) -> np.ndarray:
        return self.model.people.agents["score"].to_numpy()

    @staticmethod
    def version() -> str:
        from importlib.metadata import version
        return version("mesa-frames")


# ------------------------------------------------------------------------------- Mesa


def mesa_model(n: int, seed: int):
    import mesa
    import networkx as nx

    class Person(mesa.Agent):
        def __init__(self, model, opinion: float):
            super().__init__(model)
            self.opinion = opinion
            self.own = INITIAL
            self.score = INITIAL
            self.previous = INITIAL
            self.friends: list[Person] = []
            self.sanctions = 0

        def remember(self):
            self.previous = self.score

        def behave(self):
            rng = self.model.rng
            good = rng.poisson(GOOD_RATE * (1 + self.opinion) / 2)
            bad = rng.poisson(BAD_RATE * max(0.0, -self.opinion))
            self.own = min(max(self.own + good * GOOD_POINTS + bad * BAD_POINTS, LO), HI)

        def publish(self):
            if self.friends:
                mean = sum(f.previous for f in self.friends) / len(self.friends)
                self.score = (1 - WEIGHT) * self.own + WEIGHT * mean
            else:
                self.score = self.own

        def sanction(self):
            if self.score < THRESHOLD:
                self.sanctions += 1

    class ReferenceModel(mesa.Model):
        def __init__(self, n: int, seed: int):
            super().__init__(seed=seed)
            opinions = 2 * self.rng.beta(3, 2, n) - 1
            people = [Person(self, float(o)) for o in opinions]
            graph = nx.watts_strogatz_graph(n, MEAN_DEGREE, REWIRE, seed=seed)
            for a, b in graph.edges():
                people[a].friends.append(people[b])
                people[b].friends.append(people[a])
            self.people = people
            self.datacollector = mesa.DataCollector(model_reporters={
                "mean_score": lambda m: float(np.mean(m.agents.get("score"))),
                "sanctioned": lambda m: sum(s < THRESHOLD for s in m.agents.get("score")),
            })

        def step(self):
            for stage in ("remember", "behave", "publish", "sanction"):
                self.agents.do(stage)
            self.datacollector.collect(self)

    return ReferenceModel(n, seed)


class Mesa:
    def __init__(self, n: int, steps: int, seed: int):
        self.model, self.steps = mesa_model(n, seed), steps

    def run(self) -> None:
        for _ in range(self.steps):
            self.model.step()

    def scores(self) -> np.ndarray:
        return np.array([p.score for p in self.model.people])

    @staticmethod
    def version() -> str:
        import mesa
        return mesa.__version__


RUNNERS = {"scoresim": Scoresim, "laser": Laser, "laser-workqueue": Laser, "starsim": Starsim,
           "mesa-frames": MesaFrames, "mesa": Mesa}


# ----------------------------------------------------------------------- the driver


def child(tool: str, n: int, steps: int, seed: int) -> dict:
    """One run in this process: setup (untimed), ``steps`` steps (timed), the checks."""
    t0 = time.perf_counter()
    runner = RUNNERS[tool](n, steps, seed)
    t1 = time.perf_counter()
    runner.run()
    t2 = time.perf_counter()
    s = np.asarray(runner.scores(), np.float64)
    if s.shape[0] != n:
        raise RuntimeError(f"{tool}: {s.shape[0]} scores for {n} people")
    mean, below = float(s.mean()), float(np.mean(s < THRESHOLD))
    if tool.startswith("laser"):
        import numba
        tool_version = (f"{runner.version()} ({numba.threading_layer()}, "
                        f"{numba.get_num_threads()} threads)")
    else:
        tool_version = runner.version()
    return {"tool": tool, "people": n, "steps": steps, "seed": seed, "setup_s": t1 - t0,
            "run_s": t2 - t1, "rate": n * steps / (t2 - t1), "mean_score": mean,
            "share_below": below, "version": tool_version,
            # (standard errors as if people were independent; ties make them a little
            # larger)
            "mean_se": float(s.std() / np.sqrt(n)),
            "share_se": float(np.sqrt(below * (1 - below) / n))}


def run_child(tool: str, n: int, steps: int, seed: int, timeout: float) -> dict | str:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", tool, str(n),
           str(steps), str(seed)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "PYTHONWARNINGS": "ignore",
                                   **TOOL_ENV.get(tool, {})})
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout:.0f} s"
    if done.returncode:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["?"]
        return f"failed: {tail[0][:200]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def _at_least_one(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def _people(text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 1 or value != int(value):
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1 (1e4 is fine), "
                                         f"got {text!r}")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="reference_model.py",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=_people, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--steps", type=_at_least_one, default=20)
    ap.add_argument("--repeat", type=_at_least_one, default=2,
                    help="runs per tool and size, each in a fresh process; the order of "
                         "the tools is reversed on every other pass")
    ap.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=float, default=120.0,
                    help="skip a tool at a size where its run would take longer than this "
                         "(seconds, from its rate at the size below)")
    ap.add_argument("--json", type=Path, help="write every run's figures here")
    ap.add_argument("--child", nargs=4, metavar=("TOOL", "N", "STEPS", "SEED"),
                    help=argparse.SUPPRESS)
    return ap


def _span(values: list[float], scale: float = 1e6, digits: int = 2) -> str:
    if not values:
        return "-"
    lo, hi = min(values) / scale, max(values) / scale
    return f"{lo:.{digits}f}" if f"{lo:.{digits}f}" == f"{hi:.{digits}f}" else \
        f"{lo:.{digits}f}-{hi:.{digits}f}"


def main() -> None:
    args = build_parser().parse_args()
    if args.child:
        tool, n, steps, seed = args.child
        print(json.dumps(child(tool, int(n), int(steps), int(seed))))
        return
    runs: list[dict] = []
    skipped: dict[tuple[str, int], str] = {}
    rate_below: dict[str, float] = {}
    print(f"reference model, {args.steps} steps, {args.repeat} pass(es), a fresh process "
          "per run; person-steps per second (M), mean score and share below 990 after "
          "the last day", flush=True)
    for n in args.people:
        for p in range(args.repeat):
            order = args.tools if p % 2 == 0 else args.tools[::-1]
            for tool in order:
                if (tool, n) in skipped:
                    continue
                rate = rate_below.get(tool)
                if rate and n * args.steps / rate > args.limit:
                    skipped[tool, n] = (f"skipped: about {n * args.steps / rate:,.0f} s a "
                                        f"run at its rate below (--limit {args.limit:g})")
                    print(f"{tool:>12s} {n:>10,d}  {skipped[tool, n]}", flush=True)
                    continue
                out = run_child(tool, n, args.steps, args.seed, 10 * args.limit + 600)
                if isinstance(out, str):
                    skipped[tool, n] = out
                    print(f"{tool:>12s} {n:>10,d}  {out}", flush=True)
                    continue
                runs.append(out)
                print(f"{tool:>12s} {n:>10,d}  {out['rate'] / 1e6:8.3f} M/s  run "
                      f"{out['run_s']:7.2f} s  setup {out['setup_s']:6.1f} s  mean "
                      f"{out['mean_score']:.3f}  below {out['share_below']:.4f}", flush=True)
        for tool in args.tools:
            rates = [r["rate"] for r in runs if r["tool"] == tool and r["people"] == n]
            if rates:
                rate_below[tool] = min(rates)
    print()
    versions = {r["tool"]: r["version"] for r in runs}
    print("| tool | " + " | ".join(f"{n:,}" for n in args.people) + " |")
    print("|---|" + "---|" * len(args.people))
    for tool in args.tools:
        cells = []
        for n in args.people:
            got = [r["rate"] for r in runs if r["tool"] == tool and r["people"] == n]
            cells.append(_span(got) + " M" if got else
                         ("-" if (tool, n) not in skipped else skipped[tool, n].split(":")[0]))
        print(f"| {tool} {versions.get(tool, '')} | " + " | ".join(cells) + " |")
    print()
    print("| people | tool | mean score after the last day (+- 2 s.e.) | share below 990 "
          "(+- 2 s.e.) |")
    print("|--:|---|--:|--:|")
    for n in args.people:
        for tool in args.tools:
            got = [r for r in runs if r["tool"] == tool and r["people"] == n]
            if got:
                r = got[0]  # (every pass of a tool runs the same seed)
                print(f"| {n:,} | {tool} | {r['mean_score']:.3f} +- {2 * r['mean_se']:.3f} | "
                      f"{r['share_below']:.4f} +- {2 * r['share_se']:.4f} |")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "skipped": {
            f"{t} {n}": why for (t, n), why in skipped.items()}}, indent=1))


if __name__ == "__main__":
    main()
