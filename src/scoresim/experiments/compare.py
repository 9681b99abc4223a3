"""Counterfactual comparison: scenario B against scenario A with common random numbers.

Each replicate seed runs both scenarios: same people, same network, same draws wherever the
policies do not differ (:mod:`scoresim.engine.rng`). The effect of B is ``B - A`` per seed, with
a 95% t-interval over the replicates. Replicates run in parallel on local cores; the result
does not depend on how many.
"""

from __future__ import annotations

import datetime as dt
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scoresim.errors import ScenarioError
from scoresim.experiments.workers import completed, stop_pool, worker_init
from scoresim.results.comparison import Comparison
from scoresim.results.run_folder import Results
from scoresim.scenario.schema import Scenario

#: Headline outcomes: column -> (summary, label). Summaries: the final value, the mean
#: over the last 365 days (or the whole run if shorter), or the sum over the run.
HEADLINES: dict[str, tuple[str, str]] = {
    "critical_statements": ("mean_last_year", "critical statements per day"),
    "expression_gap": ("final", "private/expressed opinion gap"),
    "self_censoring_share": ("final", "share self-censoring"),
    "critic_degree_ratio": ("final", "critics' degree / others' degree"),
    "isolated_critics": ("final", "share of critics without friends"),
    "mean_degree": ("final", "mean number of friends"),
    "sanctions_total": ("sum", "sanctions"),
    "sanctions_wrongful": ("sum", "wrongful sanctions"),
    "sanctions_association": ("sum", "sanctions by association"),
    "blacklisted": ("final", "people blacklisted"),
    "good_job_share": ("final", "share of workers with a good job"),
    "good_job_gap_income": ("final", "good-job gap, rich minus poor"),
    "score_position": ("mean_last_year", "mean score, share of its range (schemes averaged)"),
}
SERIES = ("critical_statements", "self_censoring_share", "critic_degree_ratio",
          "sanctions_total")


def summarize(outcomes: pd.DataFrame) -> dict[str, float]:
    out = {}
    for col, (how, _) in HEADLINES.items():
        if col not in outcomes:
            out[col] = 0.0 if how == "sum" else np.nan
            continue
        values = outcomes[col].to_numpy(dtype=float)
        if how == "final":
            out[col] = float(values[-1])
        elif how == "sum":
            out[col] = float(np.nansum(values))
        else:
            out[col] = float(np.nanmean(values[-365:]))
    return out


def score_position(outcomes: pd.DataFrame, sc: Scenario) -> np.ndarray | None:
    """Per day: each scheme's mean published score among the scored as a share of its range,
    ``(mean - min_score) / (max_score - min_score)``, averaged over the scenario's schemes
    (those with anyone scored that day); None without schemes. A headline on the scores
    themselves, comparable between schemes of different scales: what gaming and opacity
    move (issue 28: no other headline outcome reads a score)."""
    shares = []
    for name, cfg in sc.schemes.items():
        col = f"{name}_score_mean"
        if col in outcomes:
            span = float(cfg.max_score - cfg.min_score)
            shares.append((outcomes[col].to_numpy(dtype=float) - cfg.min_score) / span)
    if not shares:
        return None
    stack = np.vstack(shares)
    counted = np.isfinite(stack).sum(axis=0)
    return np.where(counted > 0, np.nansum(stack, axis=0) / np.maximum(counted, 1), np.nan)


def replicate(args: tuple) -> dict[str, Any]:
    """One seed, both scenarios (a pure top-level function: safe in worker processes).
    ``args``: a, b, seed, people, days and optionally the folders that a's and b's
    relative paths (an edge list) are read from, and a fork date: then B continues from
    A's state at the end of that day (one shared history, :mod:`scoresim.state`)."""
    import tempfile

    from scoresim.sim import Sim, resize

    a, b, seed, people, days, *rest = args
    base_dirs = (list(rest[:2]) + [None, None])[:2]
    fork_at = rest[2] if len(rest) > 2 else None
    results = {}
    with tempfile.TemporaryDirectory(prefix="scoresim-fork-") as tmp:
        fork = Path(tmp) / "checkpoint"
        for (label, sc), base_dir in zip((("a", a), ("b", b)), base_dirs, strict=True):
            if label == "b" and fork_at is not None:
                sim = Sim.from_state(fork, scenario=resize(sc, seed=seed), base_dir=base_dir)
            else:
                sim = Sim(sc, seed=seed, people=people, days=days, base_dir=base_dir)
            at = {fork_at: fork} if label == "a" and fork_at is not None else None
            results[label] = sim.run(checkpoints=at)
    return replicate_of(seed, results["a"], results["b"])


def replicate_of(seed: int, a: Results, b: Results) -> dict[str, Any]:
    """One seed's summaries and series from the results of both scenarios."""
    out: dict[str, Any] = {"seed": seed}
    for label, res in (("a", a), ("b", b)):
        df = res.outcomes_df()
        position = score_position(df, res.scenario)
        if position is not None:
            df["score_position"] = position
        out[label] = summarize(df)
        out[f"{label}_series"] = {c: df[c].to_numpy(dtype=float) for c in SERIES if c in df}
        out["dates"] = df["date"].to_numpy()
    return out


def society_differences(a: Scenario, b: Scenario) -> list[str]:
    """The keys in which two scenarios describe different societies (people, network, life,
    behaviour, demography, burn-in): a comparison of them mixes the policy's effect with the
    society's."""
    return [key for key in ("people", "network", "life", "behaviour", "demography",
                            "burn_in_days")
            if getattr(a, key) != getattr(b, key)]


def compare_memory(a: Scenario, b: Scenario, replicates: int, workers: int | None) -> int:
    """Peak memory of a comparison: one run at a time in each worker process (the larger
    of the two scenarios), and the replicates' summaries and series in the driver."""
    from scoresim.limits import BASE_BYTES, scenario_memory

    n = max(1, min(workers or os.cpu_count() or 1, replicates))
    per_run = max(scenario_memory(a), scenario_memory(b))
    return BASE_BYTES + n * per_run + replicates * max(a.days, 1) * 8 * 12


def t_interval(effects: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95% t-interval of per-seed effects along the first axis (one value or one
    per column): the mean and spread skip missing values, the degrees of freedom count every
    seed. One seed: no interval (NaN); a spread that is not finite: a zero-width one."""
    from scipy import stats

    x = np.asarray(effects, dtype=float)
    n = x.shape[0]
    ok = ~np.isnan(x)
    count = ok.sum(axis=0)
    filled = np.where(ok, x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=0) / count
        sq = np.where(ok, (x - mean) ** 2, 0.0).sum(axis=0)
        std = np.sqrt(sq / (count - 1))
        half = (np.full(np.shape(mean), np.nan) if n < 2
                else stats.t.ppf(0.975, n - 1) * std / np.sqrt(n))
    if n > 1:
        half = np.where(np.isfinite(half), half, 0.0)
    return mean, mean - half, mean + half


def compare(a: Scenario, b: Scenario, replicates: int = 5, people: int | None = None,
            days: int | None = None, first_seed: int = 0,
            workers: int | None = None,
            base_dirs: tuple[Path | None, Path | None] = (None, None),
            fork_at: dt.date | None = None) -> Comparison:
    """``base_dirs``: the folders of a's and b's scenario files (their edge lists are read
    relative to them). ``fork_at``: both share A's history up to the end of that day, and
    B's policy applies from the next (B may not change the society: :mod:`scoresim.state`)."""
    from scoresim.sim import resize

    a, b = resize(a, people, days), resize(b, people, days)
    if a.start != b.start or a.days != b.days:
        raise ScenarioError(f"compare: the scenarios cover different days ({a.start} + "
                            f"{a.days} vs {b.start} + {b.days}); give --days or align them.")
    if fork_at is not None:
        from scoresim.state import check_fork

        if not a.start <= fork_at < a.end:
            raise ScenarioError(f"--fork-at {fork_at}: expected a day from {a.start} to the "
                                f"day before {a.end}.")
        check_fork(a.model_dump(mode="json"), b.model_dump(mode="json"), "--fork-at")
    seeds = list(range(first_seed, first_seed + replicates))
    jobs = [(a, b, s, None, None, *base_dirs, fork_at) for s in seeds]
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    return assemble(a, b, run_replicates(jobs, workers), workers, fork_at)


def run_replicates(jobs: list[tuple], workers: int, fn=None) -> list[dict[str, Any]]:
    """:func:`replicate` (or ``fn``, a top-level function of one job) of every job, in
    order: in this process (one worker) or in a pool of ``workers`` processes that Ctrl-C
    stops at once (the driver waits in slices, :func:`scoresim.experiments.workers.completed`,
    whatever thread gets the signal)."""
    fn = fn or replicate
    if workers == 1:
        return [fn(j) for j in jobs]
    with ProcessPoolExecutor(max_workers=workers, initializer=worker_init,
                             initargs=(os.getpid(),)) as pool:
        try:
            futures = [pool.submit(fn, j) for j in jobs]
            for fut in completed(futures):  # (Ctrl-C: raised within POLL_S)
                fut.result()
            return [fut.result() for fut in futures]
        except KeyboardInterrupt:
            stop_pool(pool)  # (no waiting for the replicates in progress)
            raise


def assemble(a: Scenario, b: Scenario, results: list[dict[str, Any]],
             workers: int = 1, fork_at: dt.date | None = None) -> Comparison:
    """The comparison from one :func:`replicate_of` per seed."""
    seeds = [r["seed"] for r in results]
    rows = []
    for r in results:
        for col in HEADLINES:
            rows.append({"seed": r["seed"], "outcome": col, "a": r["a"][col], "b": r["b"][col],
                         "effect": r["b"][col] - r["a"][col]})
    reps = pd.DataFrame(rows)
    effects = []
    for col, (how, label) in HEADLINES.items():
        d = reps[reps.outcome == col]
        mean, low, high = (float(x) for x in t_interval(d.effect.to_numpy(dtype=float)))
        effects.append({"outcome": col, "label": label, "summary": how,
                        "a_mean": float(d.a.mean()), "b_mean": float(d.b.mean()),
                        "effect": mean, "ci_low": low, "ci_high": high,
                        "replicates": len(d)})
    series = {"date": results[0]["dates"]}
    for col in SERIES:
        for label in ("a", "b"):
            stacks = [r[f"{label}_series"][col] for r in results if col in r[f"{label}_series"]]
            series[f"{label}_{col}"] = (np.mean(stacks, axis=0) if stacks
                                        else np.full(len(series["date"]), np.nan))
    per_seed = pd.DataFrame({
        "seed": np.repeat([r["seed"] for r in results], len(series["date"])),
        "date": np.tile(series["date"], len(results)),
        **{f"{label}_{col}": np.concatenate([r[f"{label}_series"].get(
            col, np.full(len(series["date"]), np.nan)) for r in results])
           for col in SERIES for label in ("a", "b")}})
    meta = {"a": a.name, "b": b.name, "seeds": seeds, "people": a.people.count,
            "days": a.days, "workers": workers,
            "different_societies": society_differences(a, b),
            "fork_at": None if fork_at is None else str(fork_at),
            "a_scenario": a.model_dump(mode="json"), "b_scenario": b.model_dump(mode="json")}
    return Comparison(a, b, seeds, pd.DataFrame(effects), reps, pd.DataFrame(series), meta,
                      per_seed)
