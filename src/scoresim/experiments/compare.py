"""Counterfactual comparison: scenario B against scenario A with common random numbers.

Each replicate seed runs both scenarios: same people, same network, same draws wherever the
policies do not differ (:mod:`scoresim.engine.rng`). The effect of B is ``B - A`` per seed, with
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

from scoresim.errors import ScenarioError, cut
from scoresim.experiments.workers import stop_pool, worker_init
from scoresim.results.outdir import OutputFolder
from scoresim.results.run_folder import atomic_folder
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


def replicate(args: tuple) -> dict[str, Any]:
    """One seed, both scenarios (a pure top-level function: safe in worker processes).
    ``args``: a, b, seed, people, days and optionally the folders that a's and b's
    relative paths (an edge list) are read from."""
    from scoresim.sim import Sim

    a, b, seed, people, days, *dirs = args
    base_dirs = (dirs + [None, None])[:2] if dirs else [None, None]
    out: dict[str, Any] = {"seed": seed}
    for (label, sc), base_dir in zip((("a", a), ("b", b)), base_dirs, strict=True):
        res = Sim(sc, seed=seed, people=people, days=days, base_dir=base_dir).run()
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

    def save(self, out: Path, folder: OutputFolder | None = None) -> Path:
        """Write the comparison folder atomically (``folder``: claimed before the runs)."""
        with atomic_folder(out, folder) as tmp:
            pq.write_table(pa.Table.from_pandas(self.effects, preserve_index=False),
                           tmp / "effects.parquet")
            self.effects.to_csv(tmp / "effects.csv", index=False)
            pq.write_table(pa.Table.from_pandas(self.replicates, preserve_index=False),
                           tmp / "replicates.parquet")
            pq.write_table(pa.Table.from_pandas(self.series, preserve_index=False),
                           tmp / "series.parquet")
            figures = write_comparison_figures(self, tmp)
            from scoresim.results.integrity import folder_digests

            (tmp / "comparison.json").write_text(
                json.dumps({**self.metadata, "figures": figures,
                            "sha256": folder_digests(tmp)}, indent=2, default=str),
                encoding="utf-8")
            write_comparison_report(tmp)
        return out

    @classmethod
    def load(cls, folder: Path) -> Comparison:
        from pydantic import ValidationError

        from scoresim.limits import META_MAX_BYTES, read_text

        path = folder / "comparison.json"
        try:
            meta = json.loads(read_text(path, "comparison file", META_MAX_BYTES))
            if isinstance(meta, dict) and "sha256" in meta:
                from scoresim.results.integrity import verify

                verify(folder, meta["sha256"], "comparison.json")
            return cls(
                a=Scenario.model_validate(meta["a_scenario"]),
                b=Scenario.model_validate(meta["b_scenario"]),
                seeds=list(meta["seeds"]),
                effects=pd.read_parquet(folder / "effects.parquet"),
                replicates=pd.read_parquet(folder / "replicates.parquet"),
                series=pd.read_parquet(folder / "series.parquet"),
                metadata=meta,
            )
        except (ValueError, KeyError, TypeError, RecursionError, OSError, pa.ArrowException,
                ValidationError) as exc:
            if isinstance(exc, ScenarioError):
                raise
            raise ScenarioError(f"{folder}: a damaged comparison folder ({type(exc).__name__}: "
                                f"{cut(str(exc), 120)}); run `scoresim compare` again.") \
                from None


def society_differences(a: Scenario, b: Scenario) -> list[str]:
    """The keys in which two scenarios describe different societies (people, network, life,
    behaviour): a comparison of them mixes the policy's effect with the society's."""
    return [key for key in ("people", "network", "life", "behaviour")
            if getattr(a, key) != getattr(b, key)]


def compare_memory(a: Scenario, b: Scenario, replicates: int, workers: int | None) -> int:
    """Peak memory of a comparison: one run at a time in each worker process (the larger
    of the two scenarios), and the replicates' summaries and series in the driver."""
    from scoresim.limits import BASE_BYTES, scenario_memory

    n = max(1, min(workers or os.cpu_count() or 1, replicates))
    per_run = max(scenario_memory(a), scenario_memory(b))
    return BASE_BYTES + n * per_run + replicates * max(a.days, 1) * 8 * 12


def compare(a: Scenario, b: Scenario, replicates: int = 5, people: int | None = None,
            days: int | None = None, first_seed: int = 0,
            workers: int | None = None,
            base_dirs: tuple[Path | None, Path | None] = (None, None)) -> Comparison:
    """``base_dirs``: the folders of a's and b's scenario files (their edge lists are read
    relative to them)."""
    from scipy import stats

    from scoresim.sim import resize

    a, b = resize(a, people, days), resize(b, people, days)
    if a.start != b.start or a.days != b.days:
        raise ScenarioError(f"compare: the scenarios cover different days ({a.start} + "
                            f"{a.days} vs {b.start} + {b.days}); give --days or align them.")
    seeds = list(range(first_seed, first_seed + replicates))
    jobs = [(a, b, s, None, None, *base_dirs) for s in seeds]
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    if workers == 1:
        results = [replicate(j) for j in jobs]
    else:
        with ProcessPoolExecutor(max_workers=workers, initializer=worker_init,
                                 initargs=(os.getpid(),)) as pool:
            try:
                results = list(pool.map(replicate, jobs))
            except KeyboardInterrupt:
                stop_pool(pool)  # (no waiting for the replicates in progress)
                raise

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
    meta = {"a": a.name, "b": b.name, "seeds": seeds, "people": a.people.count,
            "days": a.days, "workers": workers,
            "different_societies": society_differences(a, b),
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


def comparison_report(folder: Path) -> str:
    """The comparison's report.html, from the files of its folder."""
    import html

    from scoresim.results.report import _img_file, _page, _table

    cmp = Comparison.load(folder)
    eff = cmp.effects[["label", "summary", "a_mean", "b_mean", "effect", "ci_low",
                       "ci_high"]].rename(columns={"a_mean": cmp.a.name, "b_mean": cmp.b.name,
                                                   "ci_low": "95% low", "ci_high": "95% high"})
    body = [
        f"<h1>scoresim comparison: {html.escape(cmp.b.name)} against "
        f"{html.escape(cmp.a.name)}</h1>",
        "<p class='note'>Everyone in this simulation is synthetic.</p>",
        f"<p>{len(cmp.seeds)} replicate seeds ({cmp.seeds[0]}..{cmp.seeds[-1]}), "
        f"{cmp.metadata['people']:,} people, {cmp.metadata['days']} days. Both scenarios run "
        "with common random numbers: the same people, network and draws wherever their "
        "policies do not differ. Effects are B minus A per seed, with a 95% t-interval.</p>",
        _society_warning(cmp.metadata.get("different_societies")),
        "<h2>Effects</h2>", _table(eff, 4), _img_file(folder / "effects.png"),
        "<h2>Over time (mean over replicates)</h2>", _img_file(folder / "series.png"),
    ]
    return _page(f"scoresim: {cmp.b.name} vs {cmp.a.name}", body)


def _society_warning(keys) -> str:
    import html

    if not keys:
        return ""
    return ("<p><strong>Warning:</strong> the two scenarios describe different societies "
            f"(they differ in {html.escape(', '.join(map(str, keys)))}): the effects mix the "
            "policy with the society.</p>")


def write_comparison_report(folder: Path | str) -> Path:
    """Write report.html into a comparison folder (atomically)."""
    from scoresim.results.outdir import check_writable_folder
    from scoresim.results.report import write_page

    folder = Path(folder)
    if not (folder / "comparison.json").is_file():
        raise ScenarioError(f"{folder}: not a comparison folder (no comparison.json).")
    check_writable_folder(folder, "the folder (report.html goes there)")
    return write_page(folder, comparison_report(folder))
