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

from scoresim.results import atomic_folder
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
    out: dict[str, Any] = {"seed": seed}
    for label, sc in (("a", a), ("b", b)):
        res = Sim(sc, seed=seed, people=people, days=days).run()
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
    #: One row per (seed, day): the SERIES of both scenarios per replicate (for the bands
    #: over time); None for folders written before it was kept.
    replicate_series: pd.DataFrame | None = None

    def save(self, out: Path) -> Path:
        with atomic_folder(out) as tmp:
            pq.write_table(pa.Table.from_pandas(self.effects, preserve_index=False),
                           tmp / "effects.parquet")
            self.effects.to_csv(tmp / "effects.csv", index=False)
            pq.write_table(pa.Table.from_pandas(self.replicates, preserve_index=False),
                           tmp / "replicates.parquet")
            pq.write_table(pa.Table.from_pandas(self.series, preserve_index=False),
                           tmp / "series.parquet")
            if self.replicate_series is not None:
                pq.write_table(pa.Table.from_pandas(self.replicate_series,
                                                    preserve_index=False),
                               tmp / "replicate_series.parquet")
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
        per_seed = folder / "replicate_series.parquet"
        return cls(
            a=Scenario.model_validate(meta["a_scenario"]),
            b=Scenario.model_validate(meta["b_scenario"]),
            seeds=meta["seeds"],
            effects=pd.read_parquet(folder / "effects.parquet"),
            replicates=pd.read_parquet(folder / "replicates.parquet"),
            series=pd.read_parquet(folder / "series.parquet"),
            metadata=meta,
            replicate_series=pd.read_parquet(per_seed) if per_seed.is_file() else None,
        )


def compare(a: Scenario, b: Scenario, replicates: int = 5, people: int | None = None,
            days: int | None = None, first_seed: int = 0,
            workers: int | None = None) -> Comparison:
    from scipy import stats

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

    rows = []
    for r in results:
        for col in HEADLINES:
            rows.append({"seed": r["seed"], "outcome": col, "a": r["a"][col], "b": r["b"][col],
                         "effect": r["b"][col] - r["a"][col]})
    reps = pd.DataFrame(rows)
    effects = []
    for col, (how, label) in HEADLINES.items():
        d = reps[reps.outcome == col]
        n = len(d)
        mean = float(d.effect.mean())
        half = np.nan
        if n > 1:
            half = float(stats.t.ppf(0.975, n - 1) * d.effect.std(ddof=1) / np.sqrt(n))
            if not np.isfinite(half):
                half = 0.0
        effects.append({"outcome": col, "label": label, "summary": how,
                        "a_mean": float(d.a.mean()), "b_mean": float(d.b.mean()),
                        "effect": mean, "ci_low": mean - half, "ci_high": mean + half,
                        "replicates": n})
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
            "a_scenario": a.model_dump(mode="json"), "b_scenario": b.model_dump(mode="json")}
    return Comparison(a, b, seeds, pd.DataFrame(effects), reps, pd.DataFrame(series), meta,
                      per_seed)


def write_comparison_figures(cmp: Comparison, folder: Path) -> list[str]:
    """Write effects.png and series.png (:mod:`scoresim.comparison_charts`)."""
    from scoresim.comparison_charts import comparison_charts

    written = []
    for chart in comparison_charts(cmp):
        (folder / chart.name).write_bytes(chart.png())
        chart.close()
        written.append(chart.name)
    return written
