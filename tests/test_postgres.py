"""A calibration on a real PostgreSQL server: two `scoresim calibrate` processes (as on two
machines) share one study through ``--storage postgresql://...``, then a third continues it.

The server: ``SCORESIM_TEST_POSTGRES`` (a URL of a role that may create databases: each run
makes a database of its own and drops it after). `.ci/run` starts one (.ci/postgres); README
says how to do the same elsewhere. Outside CI the test is skipped without a server; in CI
(``CI=true``) a missing server or driver fails it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from conftest import scenario_with

URL = os.environ.get("SCORESIM_TEST_POSTGRES", "").strip()

CALIBRATION = """
    base = "seed"
    people = 300
    days = 10
    trials = 6
    [[parameters]]
    key = "behaviour.rates_per_day.critical_statement"
    low = 0.01
    high = 0.2
    [replicates]
    count = 1
    [[targets]]
    column = "critical_statements"
    statistic = "mean"
    observed = 20.0
    uncertainty = 2.0
"""


def _unavailable(why: str) -> None:
    """Skip on a developer's machine; fail in CI, where .ci/run starts the server."""
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"CI=true but {why}: .ci/run starts PostgreSQL (.ci/postgres) and sets "
                    "SCORESIM_TEST_POSTGRES")
    pytest.skip(f"{why} (README: a real PostgreSQL under calibration)")


@pytest.fixture
def database():
    """A new database on the server for this test (dropped afterwards): its URL, with the
    driver named (``postgresql+psycopg://``: SQLAlchemy's default driver for a plain
    ``postgresql://`` changed from psycopg2 to psycopg in 2.1)."""
    if not URL:
        _unavailable("SCORESIM_TEST_POSTGRES is not set")
    try:
        import psycopg
        from sqlalchemy.engine import make_url
    except ImportError:
        _unavailable("the PostgreSQL driver psycopg is not installed (the test extra has it)")
    base = make_url(URL).set(drivername="postgresql")
    name = f"scoresim_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(base.render_as_string(hide_password=False), connect_timeout=10,
                                autocommit=True)
    except psycopg.OperationalError as exc:
        _unavailable(f"no PostgreSQL server answers at {base.render_as_string()} "
                     f"({str(exc).strip().splitlines()[0]})")
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(drivername="postgresql+psycopg", database=name).render_as_string(
            hide_password=False)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _calibrate(path, out, url: str, trials: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "scoresim.cli", "calibrate", str(path),
                             "--out", str(out), "--storage", url, "--trials", str(trials)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finished(url: str) -> list:
    import optuna
    from optuna.trial import TrialState

    from scoresim.experiments.calibration import STUDY_NAME

    study = optuna.load_study(study_name=STUDY_NAME, storage=url)
    return sorted(study.get_trials(deepcopy=False, states=(
        TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)), key=lambda t: t.number)


def test_two_processes_share_a_study_on_postgresql_and_a_third_continues_it(tmp_path,
                                                                            database):
    path = scenario_with(tmp_path, CALIBRATION, "fit.toml")
    a = _calibrate(path, tmp_path / "a", database, 6)
    b = _calibrate(path, tmp_path / "b", database, 6)
    outputs = [p.communicate(timeout=600) for p in (a, b)]
    for proc, (out, err) in zip((a, b), outputs, strict=True):
        assert proc.returncode == 0, f"{out}\n{err}"
        assert "Traceback" not in err, err
    first = _finished(database)
    # Each process stops once the shared study holds 6 finished trials; two may each
    # start the sixth at once.
    assert 6 <= len(first) <= 7, [t.number for t in first]
    assert all(t.state.name == "COMPLETE" for t in first), [t.state for t in first]
    assert {t.number for t in first} == set(range(len(first)))  # one numbering: one study
    for out, _ in outputs:
        assert f"{len(first)} trials ({len(first)} complete" in out or "6 trials" in out, out
    # Both wrote a folder of the same study (the trials table of the shared study).
    assert (tmp_path / "a" / "best.toml").is_file() and (tmp_path / "b" / "best.toml").is_file()

    # Continue it: the study grows to 10 finished trials, the first ones kept as they were.
    c = _calibrate(path, tmp_path / "a", database, 10)
    out, err = c.communicate(timeout=600)
    assert c.returncode == 0, f"{out}\n{err}"
    assert "wrote" in out and "10 trials (10 complete" in out, out
    after = _finished(database)
    assert len(after) == 10
    assert [(t.number, t.params, t.value) for t in after[:len(first)]] == [
        (t.number, t.params, t.value) for t in first]


def test_a_study_on_postgresql_refuses_another_calibration(tmp_path, database):
    """The study in a shared database belongs to one calibration file."""
    path = scenario_with(tmp_path, CALIBRATION.replace("trials = 6", "trials = 1"), "fit.toml")
    p = _calibrate(path, tmp_path / "a", database, 1)
    out, err = p.communicate(timeout=600)
    assert p.returncode == 0, f"{out}\n{err}"
    other = scenario_with(tmp_path, CALIBRATION.replace("observed = 20.0", "observed = 30.0"),
                          "other.toml")
    q = _calibrate(other, tmp_path / "b", database, 1)
    out, err = q.communicate(timeout=600)
    assert q.returncode == 2, f"{out}\n{err}"
    assert "its study was made from another calibration file" in err and "Traceback" not in err
