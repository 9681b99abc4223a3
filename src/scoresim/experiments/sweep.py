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
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field, ValidationError, model_validator

from scoresim.errors import ScenarioError, cut, cut_path
from scoresim.experiments.experiment_files import RunsOfABase, Strict, read_base
from scoresim.experiments.workers import completed, stop_pool, worker_init
from scoresim.scenario.loading import (
    apply_overrides,
    check_edgelist_path,
    explain_validation,
)
from scoresim.scenario.loading import validate as validate_scenario

#: Memory of the driver per run (the design point, the job, the result row), for the
#: estimate of a sweep's size before the design is drawn.
DRIVER_BYTES_PER_RUN = 4096
#: Seconds between the lines that tell how far the check of a large design has come.
PROGRESS_EVERY_S = 5.0

STATS = ("final", "mean", "mean_last_year", "sum", "min", "max")


class ParameterConfig(Strict):
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


class DesignConfig(Strict):
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


class ReplicatesConfig(Strict):
    """Seeds each design point runs with."""

    count: Annotated[int, Field(ge=1)] = 1
    """Replicate seeds per design point."""
    first_seed: Annotated[int, Field(ge=0)] = 0
    """The seeds are first_seed, first_seed + 1, ..."""


class SweepConfig(RunsOfABase):
    """A sweep file."""

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


def design_size(cfg: SweepConfig) -> int:
    """Points of the design, counted before any is drawn (a grid's product can be vast)."""
    d, params = cfg.design, cfg.parameters
    if d.kind == "grid":
        size = 1
        for p in params:
            size *= len(p.values)
        return size
    if d.kind == "random":
        return d.samples
    return d.samples * (len(params) + (2 if d.kind == "sobol" else 1))


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
    with np.errstate(all="ignore"):
        return summarize(df, wanted)


# --------------------------------------------------------------------------- sweep


def estimate_sweep_memory(cfg: SweepConfig, scenario: Any, runs: int, workers: int) -> int:
    """Peak memory of a sweep on this machine: the driver (a few KB per run) and ``workers``
    processes, each running one scenario at a time (no tables written)."""
    from scoresim.limits import BASE_BYTES, scenario_memory
    from scoresim.sim import resize

    per_run = 0
    if scenario is not None and workers:
        sized = resize(scenario, cfg.people, cfg.days)
        sized = sized.model_copy(update={"output": sized.output.model_copy(
            update={"people_table": False, "network": False})})
        per_run = scenario_memory(sized)
    return BASE_BYTES + runs * DRIVER_BYTES_PER_RUN + workers * per_run


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
    notes: list[str] = field(default_factory=list)
    """Run files found on resume that were unreadable or did not match, and recomputed."""


@dataclass
class Sweep:
    path: Path
    config: SweepConfig
    base_path: Path
    base_raw: dict[str, Any]
    points: list[dict[str, Any]]

    @classmethod
    def load(cls, path: Path | str, force: bool = False, workers: int | None = None,
             local: bool = True, say: Callable[[str], None] | None = None) -> Sweep:
        """Read and check a sweep file: its base scenario (a preset, or a file inside the
        sweep file's folder), the design's size against the memory available (unless
        ``force``) and every design point, before any run starts. ``workers``, ``local``:
        the processes the runs will use on this machine (none with a dask cluster).
        ``say``: told the plan at once, and the check's progress while it lasts (a design
        of a million points takes minutes to check)."""
        from scoresim.limits import check_memory, read_toml

        path = Path(path)
        raw = read_toml(path, "sweep file")
        try:
            cfg = SweepConfig.model_validate(raw)
        except ValidationError as exc:
            raise ScenarioError(explain_validation(exc, path, root=SweepConfig)) from None
        base_path, base_raw = read_base(cfg, path)
        runs = design_size(cfg) * cfg.replicates.count
        what = f"{path}: this sweep ({runs:,} runs)"
        n_workers = 0 if not local else min(workers or os.cpu_count() or 1, runs)
        check_memory(estimate_sweep_memory(cfg, None, runs, 0), what, force)
        if say is not None:
            say(f"{cut_path(path)}: {design_size(cfg):,} design points x "
                f"{cfg.replicates.count:,} seeds = {runs:,} runs; checking every point's "
                "scenario before the first run ...")
        sweep = cls(path, cfg, base_path, base_raw, design_points(cfg))
        sweep.check(say)
        first = validate_scenario(apply_overrides(base_raw, sweep.points[0]), base_path)
        check_memory(estimate_sweep_memory(cfg, first, runs, n_workers), what, force)
        return sweep

    def check(self, say: Callable[[str], None] | None = None) -> None:
        """Every design point must give a valid scenario whose outcome table has the
        columns the sweep keeps: fail before any run starts. ``say``: told the progress
        every :data:`PROGRESS_EVERY_S` seconds."""
        from scoresim.results.outcomes import columns_for

        start = last = time.monotonic()
        for i, point in enumerate(self.points):
            if say is not None and time.monotonic() - last >= PROGRESS_EVERY_S:
                last = time.monotonic()
                left = (last - start) / max(i, 1) * (len(self.points) - i)
                say(f"  checked {i:,} of {len(self.points):,} design points (about "
                    f"{left / 60:,.0f} min left)" if left >= 60 else
                    f"  checked {i:,} of {len(self.points):,} design points")
            try:
                scenario = validate_scenario(apply_overrides(self.base_raw, point),
                                             self.base_path, point)
                check_edgelist_path(scenario, self.base_path, None)
            except ScenarioError as exc:
                raise ScenarioError(f"{self.path}: design point {point} is not a valid "
                                    f"scenario:\n{exc}") from None
            declared = columns_for(scenario)
            missing = [c for c in self.config.outcomes if c not in declared]
            if missing:
                import difflib

                close = [c for m in missing
                         for c in difflib.get_close_matches(m[:100], list(declared), n=3)]
                hint = (f"did you mean {', '.join(close)}?" if close else
                        f"it has e.g. {', '.join(list(declared)[2:10])}")
                raise ScenarioError(
                    f"{self.path}: key `outcomes`: no column "
                    f"{', '.join(repr(cut(m, 60)) for m in missing[:5])} in the outcome table "
                    f"of {self.base_path.name}"
                    f"{' at design point ' + str(point) if len(self.points) > 1 else ''}; "
                    f"{hint} (docs/scenarios.md lists the outcome columns).")

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
        from scoresim.results.outdir import FolderLock

        out = Path(out)
        prepare_sweep_folder(out)
        with FolderLock(out):
            return self._run_locked(out, workers, scheduler, progress, on_result)

    def _run_locked(self, out, workers, scheduler, progress, on_result) -> SweepReport:
        store = RunStore(out, self)
        # Identical design points (Morris designs repeat some) share one run.
        unique = list({j.key: j for j in reversed(self.jobs())}.values())[::-1]
        todo = [j for j in unique if not store.done(j)]
        report = SweepReport(total=len(unique), skipped=len(unique) - len(todo),
                             notes=list(store.notes))
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
            report.failed[job.key] = cut(why, 2000)
            bar.update()

        with bar:
            if scheduler is not None:
                _run_dask(todo, args, cfg, scheduler, finished, failed)
            else:
                _run_local(todo, args, cfg, workers, finished, failed)
        report.seconds = time.perf_counter() - t0
        store.finish(report)
        return report


def prepare_sweep_folder(out: Path) -> None:
    """Create the sweep folder (and check it can be written) before any run; refuse a
    folder that holds something else (a run, a comparison, unrelated files)."""
    from scoresim.results.outdir import check_writable_folder

    if out.exists() and not out.is_dir():
        raise ScenarioError(f"{out}: --out is a file, not a folder.")
    if out.is_dir():
        names = {p.name for p in out.iterdir()}
        for marker, what in (("metadata.json", "a run"), ("outcomes.parquet", "a run"),
                             ("comparison.json", "a comparison")):
            if marker in names:
                raise ScenarioError(f"{out}: this folder holds {what}, not a sweep; choose "
                                    "another --out.")
        ours = {"sweep.json", "runs", "sweep.lock", "results.parquet", "summary.parquet",
                "summary.csv", "failures.json"}
        if names and "sweep.json" not in names and not names <= ours:
            raise ScenarioError(f"{out}: this folder exists and is not a sweep folder (it "
                                f"holds e.g. {sorted(names - ours)[0][:80]!r}); choose another "
                                "--out.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScenarioError(f"{out}: --out cannot be created: {exc.strerror}.") from None
    check_writable_folder(out, "--out")


def _run_local(todo, args, cfg, workers, finished, failed) -> None:
    """Every run is tried ``1 + max_retries`` times, whatever fails (a scenario error fails
    the same every time and is not retried), with one worker as with many."""
    workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
    if workers == 1:
        for job in todo:
            for attempt in range(cfg.max_retries + 1):
                try:
                    row = run_point(*args, job.overrides, job.seed, cfg.people, cfg.days,
                                    cfg.outcomes)
                except ScenarioError as exc:
                    failed(job, str(exc))
                    break
                except Exception as exc:  # noqa: BLE001  (listed in failures.json)
                    if attempt == cfg.max_retries:
                        failed(job, f"{type(exc).__name__}: {exc}")
                else:
                    finished(job, row)
                    break
        return
    attempts: dict[str, int] = {}
    pending = list(todo)
    while pending:
        batch, pending = pending, []
        with ProcessPoolExecutor(max_workers=workers, initializer=worker_init,
                                 initargs=(os.getpid(),)) as pool, _stopped_on_interrupt(pool):
            # Looked up at call time, so that a test can stand in for run_point.
            futures = {pool.submit(_run_point_in_worker, *args, j.overrides, j.seed,
                                   cfg.people, cfg.days, cfg.outcomes): j for j in batch}
            for fut in completed(futures):  # (Ctrl-C: raised within POLL_S)
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


@contextmanager
def _stopped_on_interrupt(pool):
    """On Ctrl-C, end the workers at once (finished runs are already on disk)."""
    try:
        yield
    except KeyboardInterrupt:
        stop_pool(pool)
        raise


def _run_point_in_worker(*args):
    return run_point(*args)


SCHEDULER_TIMEOUT_S = 10


def _run_dask(todo, args, cfg, scheduler, finished, failed) -> None:
    from distributed import Client
    from distributed import as_completed as dask_completed

    own = not isinstance(scheduler, Client)
    if own:
        try:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            raise ScenarioError(f"--scheduler {cut(str(scheduler))}: cannot reach a dask "
                                f"scheduler there within {SCHEDULER_TIMEOUT_S} s "
                                f"({type(exc).__name__}); expected an address such as "
                                "tcp://10.0.0.5:8786 of a running scheduler.") from None
    else:
        client = scheduler
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
    """The sweep folder: one file per finished run, written atomically under a name unique
    to the process (``KEY.parquet.partial-PID``), and checked again on resume."""

    def __init__(self, out: Path, sweep: Sweep):
        self.out, self.sweep = out, sweep
        self.runs = out / "runs"
        self.rows: dict[str, dict[str, Any]] = {}
        self.notes: list[str] = []
        self.runs.mkdir(parents=True, exist_ok=True)
        for stale in self.runs.glob("*.partial*"):  # (the folder is locked: none is live)
            stale.unlink()
        meta_path = out / "sweep.json"
        meta = {"fingerprint": sweep.fingerprint(), "sweep_file": str(sweep.path),
                "config": sweep.config.model_dump(mode="json"), "points": sweep.points,
                "base": str(sweep.base_path)}
        if meta_path.is_file():
            try:
                old = json.loads(meta_path.read_text(encoding="utf-8"))
            except (OSError, ValueError, RecursionError):
                old = {}
            if not isinstance(old, dict) or old.get("fingerprint") != meta["fingerprint"]:
                raise ScenarioError(f"{out}: this folder holds the results of another sweep; "
                                    "choose another --out.")
        else:
            _atomic_write(meta_path, json.dumps(meta, indent=2, default=str))

    def path(self, job: Job) -> Path:
        return self.runs / f"{job.key}.parquet"

    def expected_columns(self, job: Job) -> set[str]:
        return {"key", "seed", *(f"param:{k}" for k in job.overrides),
                *(f"{c}:{s}" for c, stats in self.sweep.config.outcomes.items() for s in stats)}

    def done(self, job: Job) -> bool:
        """Whether the job's run file holds its row: readable, one row, its key, seed,
        parameter values and outcome columns. A file that fails is removed (and the run
        recomputed) with a note."""
        path = self.path(job)
        if not path.is_file():
            return False
        try:
            rows = pq.read_table(path).to_pylist()
        except (pa.ArrowException, OSError) as exc:
            why = f"unreadable ({cut(str(exc), 80)})"
        else:
            why = self._mismatch(job, rows)
        if why is None:
            self.rows[job.key] = rows[0]
            return True
        self.notes.append(f"{path}: {why}; computed again.")
        path.unlink(missing_ok=True)
        return False

    def _mismatch(self, job: Job, rows: list[dict[str, Any]]) -> str | None:
        if len(rows) != 1:
            return f"{len(rows)} rows instead of one"
        row = rows[0]
        if row.get("key") != job.key or row.get("seed") != job.seed:
            return "the row of another run (key or seed differ)"
        for k, v in job.overrides.items():
            if row.get(f"param:{k}") != v:
                return f"parameter {k} is {cut(row.get(f'param:{k}'), 40)}, not {v!r}"
        missing = self.expected_columns(job) - set(row)
        if missing:
            return f"no column {sorted(missing)[0]!r}"
        return None

    def write(self, job: Job, row: dict[str, float]) -> None:
        record = {"key": job.key, "seed": job.seed,
                  **{f"param:{k}": v for k, v in job.overrides.items()}, **row}
        table = pa.Table.from_pylist([record])
        tmp = self.path(job).with_name(f"{job.key}.parquet.partial-{os.getpid()}")
        pq.write_table(table, tmp)
        os.replace(tmp, self.path(job))
        self.rows[job.key] = record

    def finish(self, report: SweepReport) -> None:
        if report.failed:
            _atomic_write(self.out / "failures.json", json.dumps(report.failed, indent=2))
        elif (self.out / "failures.json").exists():
            (self.out / "failures.json").unlink()
        rows = []
        for job in self.sweep.jobs():  # one row per design point and seed
            if job.key in self.rows:
                rows.append({"point": job.point, **self.rows[job.key]})
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
        tmp = self.out / f"summary.csv.partial-{os.getpid()}"
        summary.to_csv(tmp, index=False)
        os.replace(tmp, self.out / "summary.csv")


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.partial-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _atomic_parquet(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f"{path.name}.partial-{os.getpid()}")
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp)
    os.replace(tmp, path)


def load_results(out: Path | str) -> tuple[dict[str, Any], pd.DataFrame]:
    out = Path(out)
    meta_path, results = out / "sweep.json", out / "results.parquet"
    if not meta_path.is_file() or not results.is_file():
        raise ScenarioError(f"{out}: not a finished sweep folder (no sweep.json or "
                            "results.parquet); run `scoresim sweep` first.")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        table = pd.read_parquet(results)
    except (OSError, ValueError, RecursionError, pa.ArrowException) as exc:
        raise ScenarioError(f"{out}: a damaged sweep folder ({type(exc).__name__}: "
                            f"{cut(str(exc), 120)}); run `scoresim sweep` again.") from None
    if not isinstance(meta, dict) or "config" not in meta or "points" not in meta:
        raise ScenarioError(f"{meta_path}: not a sweep's description; run `scoresim sweep` "
                            "again.")
    return meta, table
