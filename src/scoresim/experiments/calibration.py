"""Calibration: fit a scenario's parameters to observed figures (``scoresim calibrate``).

A calibration file names a base scenario, the parameters to fit (dotted keys with bounds),
the targets (an outcome column, a statistic over the run, the observed value, its
uncertainty and a likelihood: :mod:`scoresim.experiments.likelihood`), the replicate seeds
of every trial and the number of trials. An Optuna study searches the parameters for the
highest total log-likelihood (TPE by default, CMA-ES or random as options).

- **Common random numbers**: every trial runs the same replicate seeds, so two trials differ
  by their parameters, not by their draws; the model's value of a target is the mean over
  the replicates.
- **Stored, resumable, shared**: the study lives in a database (SQLite file ``study.db`` in
  the output folder by default, or any Optuna RDB URL, e.g. PostgreSQL, with
  ``--storage``). Running ``calibrate`` again continues the study up to ``--trials``
  finished trials; several processes or machines running ``calibrate`` on one storage work
  on one study. A trial whose process died is marked failed by its missing heartbeat.
- **Pruning**: after each replicate a trial reports the log-likelihood of its running mean;
  a trial in the bottom quarter of earlier trials at the same replicate stops early
  (Optuna's percentile pruner; only with two or more replicates).
- **Failures**: a trial whose run raises is recorded as failed with its reason, and the
  study goes on.

Everything in the file (keys, bounds, columns, dates, the storage) is checked before the
first trial; outputs (:mod:`scoresim.experiments.calibration_outputs`) are written after.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, ValidationError, model_validator

from scoresim.errors import ScenarioError, cut, cut_path
from scoresim.experiments.calibration_summary import CalibrationReport, convergence, summary
from scoresim.experiments.experiment_files import RunsOfABase, Strict, read_base
from scoresim.experiments.likelihood import log_likelihood
from scoresim.experiments.workers import completed, stop_pool, worker_init
from scoresim.scenario.loading import (
    apply_overrides,
    explain_validation,
)
from scoresim.scenario.loading import validate as validate_scenario

STUDY_NAME = "scoresim-calibration"
STATISTICS = ("at", "mean", "sum", "final")
#: A trial goes on after a replicate while its log-likelihood so far is within the top
#: KEEP_PERCENTILE percent of the earlier trials' at the same replicate: the bottom quarter,
#: the hopeless, stops (a median pruner would stop half of all trials).
KEEP_PERCENTILE = 75.0
#: Seconds between a running trial's heartbeats, and after how long without one it is
#: taken as dead (its process killed) and marked failed.
HEARTBEAT_S, GRACE_S = 30, 120


class FitParameter(Strict):
    """One parameter to fit."""

    key: str = Field(min_length=1)
    """Dotted scenario key, e.g. behaviour.court_listing_per_loan_default."""
    low: float
    """Lower bound."""
    high: float
    """Upper bound (above ``low``)."""
    log: bool = False
    """Search on a log scale (bounds above 0): for rates spanning orders of magnitude."""
    integer: bool = False
    """A whole-number key."""

    @model_validator(mode="after")
    def _bounds(self) -> FitParameter:
        if not self.low < self.high:
            raise ValueError(f"bounds reversed or empty: low = {self.low} must be below "
                             f"high = {self.high}")
        if self.log and self.low <= 0:
            raise ValueError(f"a log-scale parameter needs low > 0, got {self.low}")
        if self.integer and math.ceil(self.low) > math.floor(self.high):
            raise ValueError(f"{cut(self.key)} is an integer parameter (integer = true), but "
                             f"no whole number lies between low = {self.low} and high = "
                             f"{self.high}; widen the bounds or drop `integer`")
        return self


class Target(Strict):
    """One observed figure the model should reproduce."""

    column: str = Field(min_length=1)
    """An outcome column of the base scenario (docs/scenarios.md lists them)."""
    statistic: Literal[STATISTICS] = "final"  # type: ignore[valid-type]
    """at (the value on ``date``), mean or sum (over ``start``..``end``, default the whole
    run), final (the last day's value)."""
    date: dt.date | None = None
    """The day of an ``at`` statistic."""
    start: dt.date | None = None
    """First day of a mean or sum (default: the run's first)."""
    end: dt.date | None = None
    """Last day of a mean or sum (default: the run's last)."""
    per_person: bool = False
    """Divide the statistic by the number of people (a count of people becomes a share)."""
    observed: float
    """The observed value."""
    uncertainty: Annotated[float, Field(gt=0)] | None = None
    """Its standard error (normal, binomial); a poisson count has none (its own spread)."""
    likelihood: Literal["normal", "binomial", "poisson"] = "normal"
    """normal, binomial (for shares), poisson (for counts)."""
    source: str = ""
    """Where the observed value comes from (shown in the outputs)."""

    @model_validator(mode="after")
    def _consistent(self) -> Target:
        if self.statistic == "at" and self.date is None:
            raise ValueError("statistic `at` needs a `date`")
        if self.statistic != "at" and self.date is not None:
            raise ValueError(f"`date` is for statistic `at`, not {self.statistic!r}")
        if self.statistic in ("at", "final") and (self.start or self.end):
            raise ValueError("`start` and `end` are for statistics mean and sum")
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"window reversed: end {self.end} is before start {self.start}")
        if self.likelihood == "poisson":
            if self.uncertainty is not None:
                raise ValueError("a poisson target's uncertainty is its own (the square root "
                                 "of the count); drop `uncertainty`")
            if self.observed < 0:
                raise ValueError(f"a poisson count cannot be negative, got {self.observed}")
        elif self.uncertainty is None:
            raise ValueError(f"a {self.likelihood} target needs `uncertainty` (the observed "
                             "value's standard error, above 0)")
        if self.likelihood == "binomial" and not 0 < self.observed < 1:
            raise ValueError(f"a binomial target is a share strictly between 0 and 1, got "
                             f"{self.observed}")
        return self

    @property
    def label(self) -> str:
        when = {"at": f"on {self.date}", "final": "final"}.get(
            self.statistic, f"{self.statistic} {self.start or 'start'}..{self.end or 'end'}")
        return f"{self.column}{' per person' if self.per_person else ''} ({when})"


class TrialReplicates(Strict):
    """The seeds every trial runs (the same in every trial: common random numbers)."""

    count: Annotated[int, Field(ge=1)] = 2
    """Replicate seeds per trial."""
    first_seed: Annotated[int, Field(ge=0)] = 0
    """The seeds are first_seed, first_seed + 1, ..."""


class SamplerConfig(Strict):
    """How Optuna proposes the next trial's parameters."""

    kind: Literal["tpe", "cmaes", "random"] = "tpe"
    """tpe (tree-structured Parzen estimator, Optuna's default), cmaes (CMA-ES, for several
    continuous parameters and many trials) or random."""
    seed: Annotated[int, Field(ge=0)] = 0
    """Seed of the sampler's own draws (a study run by one process is then reproducible)."""
    startup_trials: Annotated[int, Field(ge=1)] = 5
    """Random trials before TPE or CMA-ES start modelling."""


class ConvergenceConfig(Strict):
    """When a study counts as settled: its best log-likelihood gained at most ``gain`` over
    its last ``window`` complete trials. A study that has not settled reports a best that
    more trials may still move."""

    window: Annotated[int, Field(ge=1)] = 20
    """Complete trials looked back over (the last ones, by trial number)."""
    gain: Annotated[float, Field(ge=0)] = 0.5
    """The most the best log-likelihood may have risen over the window (a likelihood ratio of
    e^0.5 = 1.6: small against ``near_best``)."""


class CalibrationConfig(RunsOfABase):
    """A calibration file."""

    parameters: list[FitParameter] = Field(min_length=1)
    """The parameters to fit."""
    targets: list[Target] = Field(min_length=1)
    """The observed figures."""
    replicates: TrialReplicates = Field(default_factory=TrialReplicates)
    """Seeds of every trial."""
    trials: Annotated[int, Field(ge=1)] = 20
    """Finished trials the study should hold (``--trials`` overrides)."""
    sampler: SamplerConfig = Field(default_factory=SamplerConfig)
    """The search."""
    pruning: bool = True
    """Stop trials in the bottom quarter after a replicate (needs two or more replicates)."""
    near_best: Annotated[float, Field(gt=0)] = 2.0
    """Trials within this log-likelihood of the best make the fit's uncertainty: the spread
    of each parameter over them (2 is about a 95% likelihood-ratio interval of one
    parameter, 1.92)."""
    convergence: ConvergenceConfig = Field(default_factory=ConvergenceConfig)
    """When the search counts as settled (reported, never used to stop it)."""

    @model_validator(mode="after")
    def _unique(self) -> CalibrationConfig:
        keys = [p.key for p in self.parameters]
        if len(set(keys)) != len(keys):
            raise ValueError("a parameter key appears twice")
        clash = sorted(set(keys) & set(self.set))
        if clash:
            raise ValueError(f"{clash[0]!r} is both fitted and fixed in `set`")
        return self


# ------------------------------------------------------------------------ the file


@dataclass
class Calibration:
    path: Path
    config: CalibrationConfig
    base_path: Path
    base_raw: dict[str, Any]
    start: dt.date
    end: dt.date

    @classmethod
    def load(cls, path: Path | str, trials: int | None = None) -> Calibration:
        """Read and check a calibration file before any trial: the base scenario, every
        parameter at both bounds, every target's column and dates."""
        from scoresim.limits import read_toml

        path = Path(path)
        raw = read_toml(path, "calibration file")
        if trials is not None:
            if trials < 1:
                raise ScenarioError(f"--trials: expected a number >= 1, got {trials}.")
            raw = {**raw, "trials": trials}
        try:
            cfg = CalibrationConfig.model_validate(raw)
        except ValidationError as exc:
            raise ScenarioError(explain_validation(exc, path, root=CalibrationConfig)) from None
        base_path, base_raw = read_base(cfg, path)
        calib = cls(path, cfg, base_path, base_raw, dt.date.min, dt.date.min)
        calib.check()
        return calib

    def scenario(self, values: dict[str, Any]):
        from scoresim.sim import resize

        sc = validate_scenario(apply_overrides(self.base_raw, values), self.base_path, values)
        return resize(sc, self.config.people, self.config.days)

    def check(self) -> None:
        from scoresim.results.outcomes import columns_for

        cfg = self.config
        for i, p in enumerate(cfg.parameters):
            for bound in ("low", "high"):
                value = getattr(p, bound)
                value = int(round(value)) if p.integer else value
                try:
                    self.scenario({p.key: value})
                except ScenarioError as exc:
                    raise ScenarioError(
                        f"{self.path}: key `parameters.{i}` ({p.key}): the {bound} bound "
                        f"{value} does not give a valid scenario: "
                        f"{str(exc).splitlines()[0]}") from None
        sc = self.scenario({p.key: p.low for p in cfg.parameters})
        self.start, self.end = sc.start, sc.end
        declared = columns_for(sc)
        for i, t in enumerate(cfg.targets):
            where = f"{self.path}: key `targets.{i}"
            if t.column not in declared:
                import difflib

                close = difflib.get_close_matches(t.column[:100], list(declared), n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise ScenarioError(f"{where}.column`: no column {cut(t.column, 60)!r} in the "
                                    f"outcome table of {self.base_path.name}{hint}")
            for key in ("date", "start", "end"):
                day = getattr(t, key)
                if day is not None and not self.start <= day <= self.end:
                    raise ScenarioError(f"{where}.{key}`: {day} is outside the run "
                                        f"({self.start} to {self.end}).")

    def fingerprint(self) -> str:
        """What makes two calibrations the same study (the trials' budget does not)."""
        cfg = self.config.model_dump(mode="json", exclude={"trials"})
        text = json.dumps({"base": self.base_raw, "config": cfg}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def seeds(self) -> list[int]:
        r = self.config.replicates
        return list(range(r.first_seed, r.first_seed + r.count))


# ------------------------------------------------------------------- one replicate


def statistic(values: np.ndarray, target: Target, start: dt.date,
              people: int | np.ndarray) -> float:
    """A target's statistic of one run's outcome column (``values`` by day from ``start``).
    ``people``: the population by day (the ``population`` column: it changes where
    ``demography.growth_per_year`` is set) or one number; a per-person target is divided
    by it on the same day, or by its mean over the same days."""
    def index(day: dt.date) -> int:
        return (day - start).days

    pop = np.broadcast_to(np.asarray(people, float), np.shape(values))
    if target.statistic == "at":
        v, d = float(values[index(target.date)]), float(pop[index(target.date)])
    elif target.statistic == "final":
        v, d = float(values[-1]), float(pop[-1])
    else:
        lo = index(target.start) if target.start else 0
        hi = index(target.end) + 1 if target.end else len(values)
        window = values[lo:hi].astype(float)
        v = float(np.nanmean(window) if target.statistic == "mean" else np.nansum(window))
        d = float(np.mean(pop[lo:hi]))
    return v / d if target.per_person else v


def run_replicate(calib: Calibration, values: dict[str, Any], seed: int) -> list[float]:
    """The targets' statistics in one run of the scenario with ``values`` and ``seed``."""
    from scoresim.sim import Sim

    sc = calib.scenario(values)
    sc = sc.model_copy(update={"output": sc.output.model_copy(
        update={"people_table": False, "network": False})})
    res = Sim(sc, seed=seed, base_dir=calib.base_path.parent).run()
    return [statistic(res.column(t.column), t, sc.start, res.column("population"))
            for t in calib.config.targets]


def fit(targets: list[Target], simulated: list[float]) -> list[float]:
    """Each target's log-likelihood given the model's values."""
    return [log_likelihood(t.likelihood, s, t.observed, t.uncertainty)
            for t, s in zip(targets, simulated, strict=True)]


# ----------------------------------------------------------------------- the study


#: The tables of an Optuna study database (Optuna 4-5, with alembic's version table): an
#: SQLite file holding any other table is not a study and is left alone.
OPTUNA_TABLES = frozenset({
    "studies", "study_directions", "study_user_attributes", "study_system_attributes",
    "trials", "trial_user_attributes", "trial_system_attributes", "trial_params",
    "trial_values", "trial_intermediate_values", "trial_heartbeats", "version_info",
    "alembic_version"})
SQLITE_MAGIC = b"SQLite format 3\x00"


def sqlite_path(url: str) -> Path | None:
    """The file of an ``sqlite://`` storage URL (None: another database). An in-memory
    database is refused: it ends with the process, so no worker, no other machine and no
    later run could see its trials."""
    if not url.startswith("sqlite:"):
        return None
    from sqlalchemy.engine import make_url

    try:
        database = make_url(url).database or ""
    except Exception:  # noqa: BLE001 - sqlalchemy's ArgumentError and friends
        raise ScenarioError(f"--storage {cut(url)}: not a database URL; expected e.g. "
                            "sqlite:///path/study.db or postgresql://user@host/db.") from None
    if database in ("", ":memory:") or database.startswith("file::memory:") or (
            "mode=memory" in url):
        raise ScenarioError(f"--storage {cut(url)}: an in-memory SQLite database ends with "
                            "the process that made it, so its trials could be neither shared "
                            "nor continued; give a file, e.g. sqlite:///runs/study.db, or "
                            "leave out --storage (OUT/study.db).")
    return Path(database)


def check_sqlite_file(path: Path, url: str) -> None:
    """Refuse, before anything is created or locked, an SQLite storage file that is not
    an Optuna study: a file of another kind (``/etc/passwd``), a special file, or an SQLite
    database holding other tables. A missing or empty file is a new study."""
    import sqlite3
    import stat

    where = f"--storage {cut(url)}"
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if not path.parent.is_dir():
            raise ScenarioError(f"{where}: the folder {cut_path(path.parent)} does not "
                                "exist.") from None
        return
    except OSError as exc:
        raise ScenarioError(f"{where}: cannot be used: {exc.strerror}.") from None
    if not stat.S_ISREG(st.st_mode):
        raise ScenarioError(f"{where}: cannot be used: {cut_path(path)} is not a regular "
                            "file; expected an SQLite study file (or a new file's name).")
    if st.st_size == 0:
        return
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise ScenarioError(f"{where}: cannot be read: {exc.strerror}.") from None
    if head != SQLITE_MAGIC:
        raise ScenarioError(f"{where}: cannot be used: {cut_path(path)} is not an SQLite "
                            "database (it exists and holds something else); give a new "
                            "file's name or an Optuna study file.")
    try:
        uri = f"file:{path.resolve().as_posix()}?mode=ro"
        con = sqlite3.connect(uri, uri=True, timeout=60)
        try:
            tables = {row[0] for row in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%'")}
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise ScenarioError(f"{where}: cannot be used: {cut(str(exc), 200)}.") from None
    other = sorted(tables - OPTUNA_TABLES)
    if other:
        raise ScenarioError(f"{where}: cannot be used: {cut_path(path)} is an SQLite "
                            f"database of something else (it holds the table {cut(other[0], 40)!r}"
                            f"{f' and {len(other) - 1} more' if len(other) > 1 else ''}), not "
                            "an Optuna study; nothing was added to it. Give a new file's name.")


def storage_for(url: str):
    """Optuna's storage at ``url``, checked now (an unreachable one fails before any trial;
    an SQLite file that is not a study is refused before anything is written)."""
    kwargs: dict[str, Any] = {}
    lock = None
    path = sqlite_path(url)
    if path is not None:
        check_sqlite_file(path, url)
        kwargs["connect_args"] = {"timeout": 60}  # (several processes on one file)
        # Two processes creating a new file's tables at once collide (a table or the schema
        # version made twice): the first to come makes them while the other waits.
        lock = Path(str(path) + ".lock")
    try:
        if lock is None:
            return _shared_rdb_storage(url, kwargs)
        import fcntl

        with open(lock, "a") as fd:
            fcntl.flock(fd, fcntl.LOCK_EX)
            return _rdb_storage(url, kwargs)
    except Exception as exc:  # noqa: BLE001 - any driver's error: say it in one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ScenarioError(f"--storage {cut(url, 120)}: cannot be used: "
                            f"{cut(first, 200)}.") from None


#: Tries at making the tables of a new study in a database server, and the seconds between
#: them (:func:`_shared_rdb_storage`).
SCHEMA_TRIES, SCHEMA_WAIT_S = 10, 0.5


def _shared_rdb_storage(url: str, engine_kwargs: dict[str, Any]):
    """The storage in a database server several processes or machines may open at once: two
    that make a new database's tables at the same moment collide (PostgreSQL: a unique
    violation on a table's type, or a table that exists already); the one that lost tries
    again and finds the tables made (the schema is made in one transaction)."""
    import time

    from sqlalchemy.exc import IntegrityError, ProgrammingError

    for attempt in range(SCHEMA_TRIES):
        try:
            return _rdb_storage(url, engine_kwargs)
        except (IntegrityError, ProgrammingError) as exc:
            text = str(exc).lower()
            if attempt + 1 == SCHEMA_TRIES or not ("duplicate" in text or "exists" in text):
                raise
            time.sleep(SCHEMA_WAIT_S * (1 + attempt))
    raise AssertionError("unreachable")  # pragma: no cover


def _rdb_storage(url: str, engine_kwargs: dict[str, Any]):
    import optuna

    with warnings.catch_warnings():  # (heartbeats are "experimental" in Optuna 4-5)
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs,
                                          heartbeat_interval=HEARTBEAT_S,
                                          grace_period=GRACE_S, failed_trial_callback=None)


def sampler_for(cfg: SamplerConfig, worker: int = 0, shared: bool = False):
    """The sampler of one process. Each local worker gets its own seed (seed + worker), so
    two do not propose the same first trials; on a storage shared with other machines the
    process id is mixed in too (such a study is not reproducible draw for draw: which
    process takes which trial depends on timing)."""
    import optuna

    seed = cfg.seed + worker
    if shared:
        seed = int(np.random.SeedSequence([cfg.seed, worker, os.getpid()]).generate_state(1)[0])
    if cfg.kind == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=cfg.startup_trials)
    if cfg.kind == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed, n_startup_trials=cfg.startup_trials,
                                            warn_independent_sampling=False)
    return optuna.samplers.RandomSampler(seed=seed)


def open_study(calib: Calibration, url: str, worker: int = 0, shared: bool = False):
    """The study of this calibration in storage ``url``: created, or continued if it holds
    one made from the same file (another file's study is refused)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = storage_for(url)
    pruner = (optuna.pruners.PercentilePruner(KEEP_PERCENTILE,
                                              n_startup_trials=calib.config.sampler.startup_trials)
              if calib.config.pruning and calib.config.replicates.count > 1
              else optuna.pruners.NopPruner())
    study = optuna.create_study(storage=storage, study_name=STUDY_NAME, direction="maximize",
                                sampler=sampler_for(calib.config.sampler, worker, shared),
                                pruner=pruner, load_if_exists=True)
    mine = calib.fingerprint()
    theirs = study.user_attrs.get("fingerprint")
    if theirs is None:
        study.set_user_attr("fingerprint", mine)
        study.set_user_attr("targets", [t.model_dump(mode="json") for t in calib.config.targets])
    elif theirs != mine:
        raise ScenarioError(f"--storage {cut(url, 120)}: its study was made from another "
                            "calibration file (or another base scenario); use a new --out or "
                            "--storage for this one.")
    return study


def suggest(trial, params: list[FitParameter]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in params:
        if p.integer:
            out[p.key] = trial.suggest_int(p.key, int(math.ceil(p.low)), int(math.floor(p.high)),
                                           log=p.log)
        else:
            out[p.key] = trial.suggest_float(p.key, p.low, p.high, log=p.log)
    return out


def objective(calib: Calibration):
    """The function a trial maximises: the total log-likelihood of the targets, the model's
    values being the mean over the replicates. Reports after each replicate (pruning)."""
    import optuna

    targets, seeds = calib.config.targets, calib.seeds()

    def run(trial) -> float:
        values = suggest(trial, calib.config.parameters)
        trial.set_user_attr("seeds", seeds)
        rows: list[list[float]] = []
        for i, seed in enumerate(seeds):
            try:
                rows.append(run_replicate(calib, values, seed))
            except Exception as exc:  # noqa: BLE001 - recorded with the trial, study goes on
                trial.set_user_attr("error", cut(f"{type(exc).__name__}: {exc}", 500))
                raise
            trial.set_user_attr("replicates", rows)
            mean = np.nanmean(np.array(rows, dtype=float), axis=0).tolist()
            total = float(sum(fit(targets, mean)))
            trial.report(total if math.isfinite(total) else -1e300, i)
            if i + 1 < len(seeds) and trial.should_prune():
                raise optuna.TrialPruned()
        mean = np.nanmean(np.array(rows, dtype=float), axis=0).tolist()
        parts = fit(targets, mean)
        trial.set_user_attr("simulated", mean)
        trial.set_user_attr("log_likelihoods", parts)
        total = float(sum(parts))
        return total if math.isfinite(total) else -1e300

    return run


def finished_trials(study) -> int:
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED,
                                                         TrialState.FAIL)))


def work(calib: Calibration, url: str, trials: int, worker: int = 0,
         shared: bool = False) -> None:
    """Run trials until the study holds ``trials`` finished ones (any process's)."""
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    study = open_study(calib, url, worker, shared)
    if finished_trials(study) >= trials:
        return
    study.optimize(objective(calib), n_trials=trials, catch=(Exception,),
                   callbacks=[MaxTrialsCallback(trials, states=(
                       TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL))],
                   gc_after_trial=False)


def _work_in_worker(path: str, trials_total: int, url: str, worker: int,
                    shared: bool) -> None:
    calib = Calibration.load(path, trials_total)
    work(calib, url, trials_total, worker, shared)


def calibrate(calib: Calibration, out: Path | str, *, workers: int = 1,
              storage: str | None = None) -> CalibrationReport:
    """Run (or continue) the study to ``config.trials`` finished trials with ``workers``
    local processes, then write the outputs to ``out``."""
    from scoresim.experiments.calibration_outputs import write_outputs
    from scoresim.limits import BASE_BYTES, check_memory, scenario_memory
    from scoresim.results.outdir import FolderLock, check_writable_folder

    out = Path(out)
    if storage is not None:  # (an SQLite file that is not a study: refused before --out)
        path = sqlite_path(storage)
        if path is not None:
            check_sqlite_file(path, storage)
    sc = calib.scenario({p.key: int(round(p.high)) if p.integer else p.high
                         for p in calib.config.parameters})
    sc = sc.model_copy(update={"output": sc.output.model_copy(
        update={"people_table": False, "network": False})})
    check_memory(BASE_BYTES + workers * scenario_memory(sc),
                 f"{calib.path}: this calibration ({workers} worker(s) running "
                 f"{sc.people.count:,} people each)")
    if out.exists() and not out.is_dir():
        raise ScenarioError(f"{out}: --out is a file, not a folder.")
    if out.is_dir():
        names = {p.name for p in out.iterdir()}
        for marker, what in (("metadata.json", "a run"), ("comparison.json", "a comparison"),
                             ("sweep.json", "a sweep")):
            if marker in names:
                raise ScenarioError(f"{out}: this folder holds {what}, not a calibration; "
                                    "choose another --out.")
        ours = {"calibration.json", "calibration.lock", "study.db", "study.db.lock",
                "trials.parquet", "best.toml", "base.toml", "calibration.html", "targets.png",
                "history.png", "importance.png", "parameters.png"}
        if names and "calibration.json" not in names and not names <= ours:
            raise ScenarioError(f"{out}: this folder exists and is not a calibration folder (it "
                                f"holds e.g. {cut(sorted(names - ours)[0], 80)!r}); choose "
                                "another --out.")
    out.mkdir(parents=True, exist_ok=True)
    check_writable_folder(out, "the calibration folder")
    url = storage or f"sqlite:///{(out / 'study.db').resolve()}"
    with FolderLock(out, "calibration.lock", "calibration"):
        shared = storage is not None
        study = open_study(calib, url, 0, shared)  # (checked and created before any worker starts)
        trials = calib.config.trials
        (out / "calibration.json").write_text(json.dumps(
            {"file": str(calib.path), "fingerprint": calib.fingerprint(),
             "storage": url if storage else "study.db", "trials": trials,
             "config": calib.config.model_dump(mode="json")}, indent=2, default=str))
        if workers <= 1:
            work(calib, url, trials, 0, shared)
        else:
            pool = ProcessPoolExecutor(workers, initializer=worker_init,
                                       initargs=(os.getpid(),))
            try:
                jobs = [pool.submit(_work_in_worker, str(calib.path), trials, url, w, shared)
                        for w in range(workers)]
                for job in completed(jobs):  # (Ctrl-C: raised within POLL_S)
                    job.result()
            except BaseException:
                stop_pool(pool)
                raise
            pool.shutdown()
        outputs = write_outputs(calib, study, out)
    report = summary(study, outputs)
    report.convergence = convergence(calib, study)
    return report
