"""Benchmark 1: the same reference model in Mesa 3 (one object per person, AgentSet
activation as Mesa's docs recommend) and in scoresim (arrays), person-steps per second.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/reference_model.py                      # 1k, 10k, 100k
    .venv/bin/python benchmarks/reference_model.py --people 1000 --steps 20 --repeat 1

The model: N people on a small-world network (mean degree 20); each day each person draws
supportive (rate 0.3 x loyalty) and critical (rate 0.3 x dissent) statements, gains 2 or
loses 5 points for each, takes 0.7 * own + 0.3 * mean of friends' previous scores, and is
sanctioned while the score is below 990. Each tool runs each size --repeat times (a fresh
model each time) and the fastest run counts, for both alike. Mesa runs are skipped at sizes
where its runs would take longer than --mesa-limit seconds.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
GOOD_RATE, BAD_RATE, GOOD_POINTS, BAD_POINTS = 0.3, 0.3, 2.0, -5.0
WEIGHT, THRESHOLD = 0.3, 990.0


def mesa_model(n: int, seed: int):
    import mesa
    import networkx as nx

    class Person(mesa.Agent):
        def __init__(self, model, opinion: float):
            super().__init__(model)
            self.opinion = opinion
            self.own = 1000.0
            self.score = 1000.0
            self.previous = 1000.0
            self.friends: list[Person] = []
            self.sanctions = 0

        def remember(self):
            self.previous = self.score

        def behave(self):
            rng = self.model.rng
            good = rng.poisson(GOOD_RATE * (1 + self.opinion) / 2)
            bad = rng.poisson(BAD_RATE * max(0.0, -self.opinion))
            self.own = min(max(self.own + good * GOOD_POINTS + bad * BAD_POINTS, 0.0), 2000.0)

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
            graph = nx.watts_strogatz_graph(n, 20, 0.1, seed=seed)
            for a, b in graph.edges():
                people[a].friends.append(people[b])
                people[b].friends.append(people[a])
            self.datacollector = mesa.DataCollector(model_reporters={
                "mean_score": lambda m: float(np.mean(m.agents.get("score"))),
                "sanctioned": lambda m: sum(s < THRESHOLD for s in m.agents.get("score")),
            })

        def step(self):
            for stage in ("remember", "behave", "publish", "sanction"):
                self.agents.do(stage)
            self.datacollector.collect(self)

    return ReferenceModel(n, seed)


def time_mesa(n: int, steps: int, seed: int = 0, repeat: int = 1) -> tuple[float, float]:
    """(init seconds, fastest of ``repeat`` runs of ``steps`` steps), a fresh model each."""
    inits, runs = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        model = mesa_model(n, seed)
        t1 = time.perf_counter()
        for _ in range(steps):
            model.step()
        t2 = time.perf_counter()
        inits.append(t1 - t0)
        runs.append(t2 - t1)
    return min(inits), min(runs)


def time_scoresim(n: int, steps: int, seed: int = 0, repeat: int = 1) -> tuple[float, float]:
    """As :func:`time_mesa`; a small run first loads the compiled code and starts the
    threads (numba keeps the compiled kernels on disk, so this is once per process)."""
    from scoresim import Sim
    from scoresim.engine.threads import PARALLEL_FROM

    Sim(HERE / "reference.toml", seed=seed, people=PARALLEL_FROM, days=2).run()
    inits, runs = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        sim = Sim(HERE / "reference.toml", seed=seed, people=n, days=steps)
        t1 = time.perf_counter()
        sim.run()
        t2 = time.perf_counter()
        inits.append(t1 - t0)
        runs.append(t2 - t1)
    return min(inits), min(runs)


def _at_least_one(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="reference_model.py",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeat", type=_at_least_one, default=3,
                    help="runs per tool and size; the fastest counts (both tools alike)")
    ap.add_argument("--mesa-limit", type=float, default=600.0,
                    help="skip Mesa where its run would take longer than this (seconds)")
    return ap


def main() -> None:
    args = build_parser().parse_args()
    import mesa

    print(f"reference model, {args.steps} steps, fastest of {args.repeat} runs; "
          f"Mesa {mesa.__version__}")
    print(f"{'people':>9s} {'Mesa person-steps/s':>20s} {'scoresim person-steps/s':>24s} "
          f"{'ratio':>8s}")
    mesa_rate = None
    for n in args.people:
        _, run_s = time_scoresim(n, args.steps, repeat=args.repeat)
        ours = n * args.steps / run_s
        expected = args.repeat * n * args.steps / mesa_rate if mesa_rate else 0.0
        if expected <= args.mesa_limit:
            _, mesa_s = time_mesa(n, args.steps, repeat=args.repeat)
            mesa_rate = n * args.steps / mesa_s
            theirs, ratio = f"{mesa_rate:,.0f}", f"{ours / mesa_rate:,.0f}x"
        else:
            theirs, ratio = "(skipped)", "-"
        print(f"{n:>9,d} {theirs:>20s} {ours:>24,.0f} {ratio:>8s}", flush=True)


if __name__ == "__main__":
    main()
