"""Counterfactual comparison: scenario B against scenario A with common random numbers.

Each replicate seed runs both scenarios: same people, same network, same draws wherever the
policies do not differ (:mod:`scoresim.rng`). The effect of B is ``B - A`` per seed, with
a 95% t-interval over the replicates. Replicates run in parallel on local cores; the result
does not depend on how many.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from scoresim.results import Results, atomic_folder
from scoresim.scenario import Scenario
from scoresim.threads import single_thread

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


def replicate(args: tuple[Scenario, Scenario, int, int | None, int | None]) -> dict[str, Any]:
    """One seed, both scenarios (a pure top-level function: safe in worker processes)."""
    from scoresim.sim import Sim

    a, b, seed, people, days = args
    return replicate_of(seed, Sim(a, seed=seed, people=people, days=days).run(),
                        Sim(b, seed=seed, people=people, days=days).run())


def replicate_of(seed: int, a: Results, b: Results) -> dict[str, Any]:
    """One seed's summaries and series from the results of both scenarios."""
    out: dict[str, Any] = {"seed": seed}
    for label, res in (("a", a), ("b", b)):
        df = res.outcomes_df()
        out[label] = summarize(df)
        out[f"{label}_series"] = {c: df[c].to_numpy(dtype=float) for c in SERIES if c in df}
        out["dates"] = df["date"].to_numpy()
    return out


@dataclass
class Comparison:
    a: Scenario
    b: Scenario
    seeds: list[int]
    effects: pd.DataFrame
    replicates: pd.DataFrame
    series: pd.DataFrame
    metadata: dict[str, Any]

    def save(self, out: Path) -> Path:
        with atomic_folder(out) as tmp:
            pq.write_table(pa.Table.from_pandas(self.effects, preserve_index=False),
                           tmp / "effects.parquet")
            self.effects.to_csv(tmp / "effects.csv", index=False)
            pq.write_table(pa.Table.from_pandas(self.replicates, preserve_index=False),
                           tmp / "replicates.parquet")
            pq.write_table(pa.Table.from_pandas(self.series, preserve_index=False),
                           tmp / "series.parquet")
            figures = write_comparison_figures(self, tmp)
            (tmp / "comparison.json").write_text(
                json.dumps({**self.metadata, "figures": figures}, indent=2, default=str),
                encoding="utf-8")
            from scoresim.report import write_report

            write_report(tmp)
        return out

    @classmethod
    def load(cls, folder: Path) -> Comparison:
        meta = json.loads((folder / "comparison.json").read_text(encoding="utf-8"))
        return cls(
            a=Scenario.model_validate(meta["a_scenario"]),
            b=Scenario.model_validate(meta["b_scenario"]),
            seeds=meta["seeds"],
            effects=pd.read_parquet(folder / "effects.parquet"),
            replicates=pd.read_parquet(folder / "replicates.parquet"),
            series=pd.read_parquet(folder / "series.parquet"),
            metadata=meta,
        )


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
            workers: int | None = None) -> Comparison:
    from scoresim.sim import resize

    a, b = resize(a, people, days), resize(b, people, days)
    if a.start != b.start or a.days != b.days:
        from scoresim.errors import ScenarioError

        raise ScenarioError(f"compare: the scenarios cover different days ({a.start} + "
                            f"{a.days} vs {b.start} + {b.days}); give --days or align them.")
    seeds = list(range(first_seed, first_seed + replicates))
    jobs = [(a, b, s, None, None) for s in seeds]
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    if workers == 1:
        results = [replicate(j) for j in jobs]
    else:
        with ProcessPoolExecutor(max_workers=workers, initializer=single_thread) as pool:
            results = list(pool.map(replicate, jobs))
    return assemble(a, b, results, workers)


def assemble(a: Scenario, b: Scenario, results: list[dict[str, Any]],
             workers: int = 1) -> Comparison:
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
    meta = {"a": a.name, "b": b.name, "seeds": seeds, "people": a.people.count,
            "days": a.days, "workers": workers,
            "a_scenario": a.model_dump(mode="json"), "b_scenario": b.model_dump(mode="json")}
    return Comparison(a, b, seeds, pd.DataFrame(effects), reps, pd.DataFrame(series), meta)


def write_comparison_figures(cmp: Comparison, folder: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    eff = cmp.effects
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(eff) + 1))
    scale = np.maximum(np.abs(eff.a_mean.to_numpy()), 1e-9)
    rel = eff.effect.to_numpy() / scale
    lo = eff.ci_low.to_numpy() / scale
    hi = eff.ci_high.to_numpy() / scale
    y = np.arange(len(eff))[::-1]
    ax.errorbar(rel, y, xerr=[np.nan_to_num(rel - lo), np.nan_to_num(hi - rel)], fmt="o")
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(y, eff.label)
    ax.set_xlabel(f"effect of {cmp.b.name} relative to {cmp.a.name} (share of {cmp.a.name})")
    fig.tight_layout()
    fig.savefig(folder / "effects.png", dpi=110)
    plt.close(fig)

    s = cmp.series
    fig, axes = plt.subplots(2, 2, figsize=(11, 6))
    for ax, col in zip(axes.flat, SERIES, strict=False):
        for label, name in (("a", cmp.a.name), ("b", cmp.b.name)):
            values = s[f"{label}_{col}"]
            if col == "sanctions_total":
                values = np.nancumsum(values)
            ax.plot(s["date"], values, label=name, lw=0.8)
        ax.set_title(col + (" (cumulative)" if col == "sanctions_total" else ""))
        ax.legend(fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(folder / "series.png", dpi=110)
    plt.close(fig)
    return ["effects.png", "series.png"]
