"""Sweeps: many runs of one base scenario over a design of parameter values and seeds.

A sweep file names a base scenario, the parameters to vary (dotted keys), a design (grid,
random, Sobol/Saltelli or Morris via SALib), replicate seeds and the outcomes to keep.

Runs execute on local cores (no server) or on a dask.distributed cluster. Each finished
run is written once, atomically, to ``OUT/runs/<key>.parquet`` where the key hashes the
base scenario, the parameter values and the seed: rerunning a sweep skips finished runs,
and no partial or duplicate row can reach the results. A run whose worker dies is retried
(``max_retries``); one that still fails is reported in ``failures.json``. When all runs are
in, ``results.parquet`` (one row per run) and ``summary.parquet`` / ``summary.csv`` (one
row per design point: mean and standard deviation over the seeds) are written.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import time
import tomllib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from scoresim.engine.threads import single_thread
from scoresim.errors import ScenarioError
from scoresim.scenario.loading import apply_overrides, explain_validation, read_raw, resolve_source
from scoresim.scenario.loading import validate as validate_scenario

STATS = ("final", "mean", "mean_last_year", "sum", "min", "max")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False,
                              use_attribute_docstrings=True)


class ParameterConfig(_Strict):
    """One parameter of the design."""

    key: str = Field(min_length=1)
    """Dotted scenario key, e.g. schemes.government.friend_weight (a number indexes a list)."""
    values: list[float | int | str | bool] = Field(default_factory=list)
    """Grid: the values to try."""
    low: float | None = None
    """Random, Sobol, Morris: lower bound."""
    high: float | None = None
    """Random, Sobol, Morris: upper bound."""
    integer: bool = False
    """Round drawn values to whole numbers (for integer keys)."""


class DesignConfig(_Strict):
    """How parameter values are chosen."""

    kind: Literal["grid", "random", "sobol", "morris"] = "grid"
    """grid (every combination of values), random (uniform in bounds), sobol (Saltelli/Sobol
    sequence for Sobol indices) or morris (trajectories for elementary effects)."""
    samples: Annotated[int, Field(ge=1)] = 8
    """Random: points; sobol: base samples N (N*(D+2) points); morris: trajectories."""
    levels: Annotated[int, Field(ge=2)] = 4
    """Morris: grid levels."""
    seed: Annotated[int, Field(ge=0)] = 0
    """Seed of the design's own random draws."""


class ReplicatesConfig(_Strict):
    """Seeds each design point runs with."""

    count: Annotated[int, Field(ge=1)] = 1
    """Replicate seeds per design point."""
    first_seed: Annotated[int, Field(ge=0)] = 0
    """The seeds are first_seed, first_seed + 1, ..."""


class SweepConfig(_Strict):
    """A sweep file."""

    base: str
    """Base scenario: a preset name or a path relative to the sweep file."""
    people: Annotated[int, Field(ge=1)] | None = None
    """Number of people in every run (default: the base scenario's)."""
    days: Annotated[int, Field(ge=1)] | None = None
    """Days from the start in every run (default: the base scenario's)."""
    set: dict[str, Any] = Field(default_factory=dict)
    """Fixed overrides of the base scenario, by dotted key."""
    parameters: list[ParameterConfig] = Field(min_length=1)
    """The parameters to vary."""
    design: DesignConfig = Field(default_factory=DesignConfig)
    """How their values are chosen."""
    replicates: ReplicatesConfig = Field(default_factory=ReplicatesConfig)
    """Seeds per point."""
    outcomes: dict[str, list[Literal[STATS]]]  # type: ignore[valid-type]
    """Outcome column -> statistics to keep (final, mean, mean_last_year, sum, min, max)."""
    max_retries: Annotated[int, Field(ge=0)] = 2
    """Retries of a run whose worker died or that failed unexpectedly."""

    @model_validator(mode="after")
    def _parameters_fit_the_design(self) -> SweepConfig:
        keys = [p.key for p in self.parameters]
        if len(set(keys)) != len(keys):
            raise ValueError("a parameter key appears twice")
        for p in self.parameters:
            if self.design.kind == "grid":
                if not p.values:
                    raise ValueError(f"parameter {p.key!r}: a grid needs `values`")
            else:
                if p.low is None or p.high is None or not p.low < p.high:
                    raise ValueError(f"parameter {p.key!r}: a {self.design.kind} design needs "
                                     "`low` < `high`")
        if self.design.kind in ("sobol", "morris") and len(self.parameters) < 2:
            raise ValueError(f"a {self.design.kind} design needs at least two parameters")
        if not self.outcomes:
            raise ValueError("`outcomes` is empty: name at least one outcome column")
        return self


# --------------------------------------------------------------------------- design


def problem(cfg: SweepConfig) -> dict[str, Any]:
    return {"num_vars": len(cfg.parameters), "names": [p.key for p in cfg.parameters],
            "bounds": [[p.low, p.high] for p in cfg.parameters]}


def design_points(cfg: SweepConfig) -> list[dict[str, Any]]:
    """The design as a list of {dotted key: value}, in a fixed order."""
    d, params = cfg.design, cfg.parameters
    if d.kind == "grid":
        combos = itertools.product(*[p.values for p in params])
        return [dict(zip([p.key for p in params], c, strict=True)) for c in combos]
    if d.kind == "random":
        rng = np.random.default_rng(d.seed)
        x = rng.uniform([p.low for p in params], [p.high for p in params],
                        size=(d.samples, len(params)))
    elif d.kind == "sobol":
        from SALib.sample import sobol as sobol_sample

        x = sobol_sample.sample(problem(cfg), d.samples, calc_second_order=False, seed=d.seed)
    else:
        from SALib.sample import morris as morris_sample

        x = morris_sample.sample(problem(cfg), d.samples, num_levels=d.levels, seed=d.seed)
    points = []
    for row in x:
        point = {}
        for p, value in zip(params, row, strict=True):
            point[p.key] = int(round(value)) if p.integer else float(value)
        points.append(point)
    return points


# ------------------------------------------------------------------------- one run


def summarize(outcomes: pd.DataFrame, wanted: dict[str, list[str]]) -> dict[str, float]:
    out = {}
    for col, stats in wanted.items():
        values = outcomes[col].to_numpy(dtype=float)
        for stat in stats:
            if stat == "final":
                v = values[-1]
            elif stat == "mean":
                v = np.nanmean(values)
            elif stat == "mean_last_year":
                v = np.nanmean(values[-365:])
            elif stat == "sum":
                v = np.nansum(values)
            elif stat == "min":
                v = np.nanmin(values)
            else:
                v = np.nanmax(values)
            out[f"{col}:{stat}"] = float(v)
    return out


def run_point(base_raw: dict[str, Any], base_path: str, overrides: dict[str, Any], seed: int,
              people: int | None, days: int | None,
              wanted: dict[str, list[str]]) -> dict[str, float]:
    """One run of a sweep: a pure top-level function (scenario, seed) -> summary."""
    from scoresim.sim import Sim

    scenario = validate_scenario(apply_overrides(base_raw, overrides), base_path, overrides)
    res = Sim(scenario, seed=seed, people=people, days=days,
              base_dir=Path(base_path).parent).run()
    df = res.outcomes_df()
    missing = [c for c in wanted if c not in df]
    if missing:
        raise ScenarioError(f"outcomes: no column {', '.join(map(repr, missing))} in this "
                            f"scenario's outcomes; it has e.g. {', '.join(list(df)[3:12])}.")
    return summarize(df, wanted)


# --------------------------------------------------------------------------- sweep


@dataclass
class Job:
    point: int
    seed: int
    overrides: dict[str, Any]
    key: str


@dataclass
class SweepReport:
    total: int
    skipped: int = 0
    computed: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class Sweep:
    path: Path
    config: SweepConfig
    base_path: Path
    base_raw: dict[str, Any]
    points: list[dict[str, Any]]

    @classmethod
    def load(cls, path: Path | str) -> Sweep:
        path = Path(path)
        try:
            with path.open("rb") as f:
                raw = tomllib.load(f)
        except OSError as exc:
            raise ScenarioError(f"{path}: cannot read the sweep file: {exc.strerror}.") from None
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"{path}: not valid TOML: {exc}.") from None
        try:
            cfg = SweepConfig.model_validate(raw)
        except ValidationError as exc:
            raise ScenarioError(explain_validation(exc, path, root=SweepConfig)) from None
        base_path = resolve_source(cfg.base, relative_to=path.parent)
        base_raw = apply_overrides(read_raw(base_path), cfg.set)
        base_raw.setdefault("name", base_path.stem)
        sweep = cls(path, cfg, base_path, base_raw, design_points(cfg))
        sweep.check()
        return sweep

    def check(self) -> None:
        """Every design point must give a valid scenario: fail before any run starts."""
        for point in self.points:
            try:
                validate_scenario(apply_overrides(self.base_raw, point), self.base_path, point)
            except ScenarioError as exc:
                raise ScenarioError(f"{self.path}: design point {point} is not a valid "
                                    f"scenario:\n{exc}") from None

    def fingerprint(self) -> str:
        text = json.dumps({"base": self.base_raw, "points": self.points,
                           "people": self.config.people, "days": self.config.days,
                           "outcomes": self.config.outcomes}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def jobs(self) -> list[Job]:
        fp = self.fingerprint()
        r = self.config.replicates
        seeds = range(r.first_seed, r.first_seed + r.count)
        out = []
        for i, point in enumerate(self.points):
            for seed in seeds:
                text = json.dumps({"sweep": fp, "point": point, "seed": seed}, sort_keys=True,
                                  default=str)
                out.append(Job(i, seed, point, hashlib.sha256(text.encode()).hexdigest()[:20]))
        return out

    # ----------------------------------------------------------------- execution

    def run(self, out: Path | str, workers: int | None = None, scheduler: Any = None,
            progress: bool = False,
            on_result: Callable[[Job], None] | None = None) -> SweepReport:
        """Run every job not yet finished in ``out``; then write the results tables.

        ``scheduler``: a dask.distributed address or Client; default: local processes.
        """
        out = Path(out)
        store = RunStore(out, self)
        # Identical design points (Morris designs repeat some) share one run.
        unique = list({j.key: j for j in reversed(self.jobs())}.values())[::-1]
        todo = [j for j in unique if not store.done(j)]
        report = SweepReport(total=len(unique), skipped=len(unique) - len(todo))
        t0 = time.perf_counter()
        bar = _Progress(report, enabled=progress)
        args = (self.base_raw, str(self.base_path))
        cfg = self.config

        def finished(job: Job, row: dict[str, float]) -> None:
            store.write(job, row)
            report.computed += 1
            bar.update()
            if on_result is not None:
                on_result(job)

        def failed(job: Job, why: str) -> None:
            report.failed[job.key] = why
            bar.update()

        with bar:
            if scheduler is not None:
                _run_dask(todo, args, cfg, scheduler, finished, failed)
            else:
                _run_local(todo, args, cfg, workers, finished, failed)
        report.seconds = time.perf_counter() - t0
        store.finish(report)
        return report


def _run_local(todo, args, cfg, workers, finished, failed) -> None:
    workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
    if workers == 1:
        for job in todo:
            try:
                finished(job, run_point(*args, job.overrides, job.seed, cfg.people, cfg.days,
                                        cfg.outcomes))
            except ScenarioError as exc:
                failed(job, str(exc))
        return
    attempts: dict[str, int] = {}
    pending = list(todo)
    while pending:
        batch, pending = pending, []
        with ProcessPoolExecutor(max_workers=workers, initializer=single_thread) as pool:
            # Looked up at call time, so that a test can stand in for run_point.
            futures = {pool.submit(_run_point_in_worker, *args, j.overrides, j.seed,
                                   cfg.people, cfg.days, cfg.outcomes): j for j in batch}
            for fut in as_completed(futures):
                job = futures[fut]
                try:
                    row = fut.result()
                except ScenarioError as exc:
                    failed(job, str(exc))  # a wrong scenario fails the same every time
                except Exception as exc:  # noqa: BLE001  (a dead worker: BrokenProcessPool)
                    attempts[job.key] = attempts.get(job.key, 0) + 1
                    if attempts[job.key] > cfg.max_retries:
                        failed(job, f"{type(exc).__name__}: {exc}")
                    else:
                        pending.append(job)
                else:
                    finished(job, row)


def _run_point_in_worker(*args):
    return run_point(*args)


def _run_dask(todo, args, cfg, scheduler, finished, failed) -> None:
    from distributed import Client
    from distributed import as_completed as dask_completed

    own = not isinstance(scheduler, Client)
    client = Client(scheduler) if own else scheduler
    try:
        futures = {}
        for job in todo:
            fut = client.submit(run_point, *args, job.overrides, job.seed, cfg.people,
                                cfg.days, cfg.outcomes, key=f"scoresim-run-{job.key}",
                                retries=cfg.max_retries, pure=False)
            futures[fut.key] = (fut, job)
        for fut in dask_completed([f for f, _ in futures.values()]):
            job = futures[fut.key][1]
            if fut.status == "finished":
                finished(job, fut.result())
            else:
                exc = fut.exception()
                failed(job, f"{type(exc).__name__}: {exc}")
            fut.release()
    finally:
        if own:
            client.close()


class _Progress:
    """A rich progress bar: runs done, failed and left, with time remaining."""

    def __init__(self, report: SweepReport, enabled: bool):
        self.report, self.enabled, self.bar = report, enabled, None

    def __enter__(self):
        if self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                TimeRemainingColumn())
            self.bar.__enter__()
            self.task = self.bar.add_task(self._text(), total=self.report.total,
                                          completed=self.report.skipped)
        return self

    def _text(self) -> str:
        r = self.report
        left = r.total - r.skipped - r.computed - len(r.failed)
        return (f"runs: {r.skipped + r.computed} done ({r.skipped} before), "
                f"{len(r.failed)} failed, {left} left")

    def update(self) -> None:
        if self.bar is not None:
            r = self.report
            self.bar.update(self.task, completed=r.skipped + r.computed + len(r.failed),
                            description=self._text())

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)


# -------------------------------------------------------------------------- storage


class RunStore:
    """The sweep folder: one file per finished run, written atomically."""

    def __init__(self, out: Path, sweep: Sweep):
        self.out, self.sweep = out, sweep
        self.runs = out / "runs"
        self.runs.mkdir(parents=True, exist_ok=True)
        for stale in self.runs.glob("*.partial"):
            stale.unlink()
        meta_path = out / "sweep.json"
        meta = {"fingerprint": sweep.fingerprint(), "sweep_file": str(sweep.path),
                "config": sweep.config.model_dump(mode="json"), "points": sweep.points,
                "base": str(sweep.base_path)}
        if meta_path.is_file():
            old = json.loads(meta_path.read_text(encoding="utf-8"))
            if old.get("fingerprint") != meta["fingerprint"]:
                raise ScenarioError(f"{out}: this folder holds the results of another sweep; "
                                    "choose another --out.")
        else:
            _atomic_write(meta_path, json.dumps(meta, indent=2, default=str))

    def path(self, job: Job) -> Path:
        return self.runs / f"{job.key}.parquet"

    def done(self, job: Job) -> bool:
        return self.path(job).is_file()

    def write(self, job: Job, row: dict[str, float]) -> None:
        record = {"key": job.key, "seed": job.seed,
                  **{f"param:{k}": v for k, v in job.overrides.items()}, **row}
        table = pa.Table.from_pylist([record])
        tmp = self.path(job).with_suffix(".partial")
        pq.write_table(table, tmp)
        os.replace(tmp, self.path(job))

    def finish(self, report: SweepReport) -> None:
        if report.failed:
            _atomic_write(self.out / "failures.json", json.dumps(report.failed, indent=2))
        elif (self.out / "failures.json").exists():
            (self.out / "failures.json").unlink()
        done = {f.stem: f for f in self.runs.glob("*.parquet")}
        rows, cache = [], {}
        for job in self.sweep.jobs():  # one row per design point and seed
            if job.key in done:
                if job.key not in cache:
                    cache[job.key] = pq.read_table(done[job.key]).to_pylist()[0]
                rows.append({"point": job.point, **cache[job.key]})
        if not rows:
            return
        df = pd.DataFrame(rows).sort_values(["point", "seed"]).reset_index(drop=True)
        _atomic_parquet(df, self.out / "results.parquet")
        params = [c for c in df if c.startswith("param:")]
        values = [c for c in df if ":" in c and not c.startswith("param:")]
        grouped = df.groupby("point")
        summary = grouped[params].first()
        for col in values:
            summary[f"{col}:mean"] = grouped[col].mean()
            summary[f"{col}:std"] = grouped[col].std(ddof=1)
        summary["runs"] = grouped.size()
        summary = summary.reset_index()
        _atomic_parquet(summary, self.out / "summary.parquet")
        tmp = self.out / "summary.csv.partial"
        summary.to_csv(tmp, index=False)
        os.replace(tmp, self.out / "summary.csv")


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _atomic_parquet(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + ".partial")
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp)
    os.replace(tmp, path)


def load_results(out: Path | str) -> tuple[dict[str, Any], pd.DataFrame]:
    out = Path(out)
    meta_path, results = out / "sweep.json", out / "results.parquet"
    if not meta_path.is_file() or not results.is_file():
        raise ScenarioError(f"{out}: not a finished sweep folder (no sweep.json or "
                            "results.parquet); run `scoresim sweep` first.")
    return json.loads(meta_path.read_text(encoding="utf-8")), pd.read_parquet(results)
