"""Sweeps: designs, determinism across executors, resuming, worker death, sensitivity."""

import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import scenario_with
from scoresim import ScenarioError
from scoresim.cli import app
from scoresim.experiments.sensitivity import analyze
from scoresim.experiments.sweep import Sweep, SweepConfig, design_points, load_results

GRID = """
    base = "seed"
    people = 400
    days = {days}
    [design]
    kind = "grid"
    [[parameters]]
    key = "schemes.government.friend_weight"
    values = [0.0, 0.4]
    [[parameters]]
    key = "sources.social.error_rate"
    values = [0.0, 0.05, 0.1]
    [replicates]
    count = 2
    [outcomes]
    critical_statements = ["mean", "final"]
    records_misattributed = ["sum"]
"""


def grid_sweep(tmp_path, days=40):
    return Sweep.load(scenario_with(tmp_path, GRID.format(days=days), "grid.toml"))


def test_grid_design_and_results_tables(tmp_path):
    sw = grid_sweep(tmp_path)
    assert len(sw.points) == 6 and len(sw.jobs()) == 12
    report = sw.run(tmp_path / "out", workers=1)
    assert report.computed == 12 and not report.failed
    meta, results = load_results(tmp_path / "out")
    assert len(results) == 12 and results.key.is_unique
    summary = pd.read_parquet(tmp_path / "out" / "summary.parquet")
    assert len(summary) == 6 and (summary.runs == 2).all()
    # Misattribution grows with the social network's error rate.
    by_rate = summary.groupby("param:sources.social.error_rate")[
        "records_misattributed:sum:mean"].mean()
    assert by_rate.loc[0.0] < by_rate.loc[0.05] < by_rate.loc[0.1]


def test_same_results_with_one_two_workers_and_a_dask_cluster(tmp_path):
    from distributed import Client, LocalCluster

    sw = grid_sweep(tmp_path)
    sw.run(tmp_path / "one", workers=1)
    sw.run(tmp_path / "two", workers=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        sw.run(tmp_path / "dask", scheduler=client)
    one = load_results(tmp_path / "one")[1]
    pd.testing.assert_frame_equal(one, load_results(tmp_path / "two")[1])
    pd.testing.assert_frame_equal(one, load_results(tmp_path / "dask")[1])


def test_an_interrupted_sweep_resumes_without_recomputing(tmp_path):
    sw = grid_sweep(tmp_path)
    seen = []

    def stop_after_three(job):
        seen.append(job.key)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sw.run(tmp_path / "out", workers=1, on_result=stop_after_three)
    assert len(list((tmp_path / "out" / "runs").glob("*.parquet"))) == 3
    assert not (tmp_path / "out" / "results.parquet").exists()
    again = []
    report = sw.run(tmp_path / "out", workers=1, on_result=lambda j: again.append(j.key))
    assert report.skipped == 3 and report.computed == 9
    assert not set(again) & set(seen)
    assert len(load_results(tmp_path / "out")[1]) == 12


def test_a_killed_dask_worker_loses_no_run_and_duplicates_none(tmp_path):
    from distributed import Client, LocalCluster

    sw = grid_sweep(tmp_path, days=300)
    out = tmp_path / "out"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        pids = list(client.run(os.getpid).values())
        result = {}
        thread = threading.Thread(target=lambda: result.update(r=sw.run(out, scheduler=client)))
        thread.start()
        deadline = time.time() + 120
        while not list((out / "runs").glob("*.parquet")) and time.time() < deadline:
            time.sleep(0.05)
        os.kill(pids[0], signal.SIGKILL)  # a worker dies in the middle of the sweep
        assert thread.is_alive()
        thread.join(timeout=300)
        assert pids[0] not in client.run(os.getpid).values()
    report = result["r"]
    assert not report.failed
    results = load_results(out)[1]
    assert len(results) == 12 and results.key.is_unique
    assert sorted(results.point.unique()) == list(range(6))


def test_a_broken_design_point_fails_before_any_run(tmp_path):
    path = scenario_with(tmp_path, GRID.format(days=10).replace("[0.0, 0.4]", "[0.0, 1.4]"),
                         "bad.toml")
    with pytest.raises(ScenarioError, match="design point .* is not a valid scenario"):
        Sweep.load(path)


@pytest.mark.parametrize(("text", "message"), [
    ('base = "seed"\n[outcomes]\nx = ["final"]\n', "`parameters` is required"),
    (GRID.format(days=10).replace('kind = "grid"', 'kind = "sobol"'), "needs `low` < `high`"),
    (GRID.format(days=10).replace('["mean", "final"]', '["median"]'), "outcomes"),
    (GRID.format(days=10).replace("[replicates]", "[replicate]"), "Did you mean `replicates`"),
])
def test_bad_sweep_files_are_explained(tmp_path, text, message):
    path = scenario_with(tmp_path, text, "bad.toml")
    res = CliRunner().invoke(app, ["sweep", str(path), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and message in res.output, res.output


def test_another_sweep_in_the_same_folder_is_refused(tmp_path):
    grid_sweep(tmp_path).run(tmp_path / "out", workers=1)
    other = Sweep.load(scenario_with(tmp_path, GRID.format(days=41), "other.toml"))
    with pytest.raises(ScenarioError, match="another sweep"):
        other.run(tmp_path / "out", workers=1)


# --------------------------------------------------------------------- sensitivity

ISHIGAMI = {"S1": [0.3139, 0.4424, 0.0], "ST": [0.5576, 0.4424, 0.2437]}


def test_sobol_indices_of_the_ishigami_function_are_recovered():
    from SALib.test_functions import Ishigami

    cfg = SweepConfig.model_validate({
        "base": "unused", "outcomes": {"y": ["final"]},
        "design": {"kind": "sobol", "samples": 1024, "seed": 3},
        "parameters": [{"key": f"x{i}", "low": -np.pi, "high": np.pi} for i in (1, 2, 3)]})
    points = design_points(cfg)
    x = np.array([[p["x1"], p["x2"], p["x3"]] for p in points])
    results = pd.DataFrame({"point": range(len(points)), "seed": 0,
                            "y:final": Ishigami.evaluate(x)})
    table = analyze({"config": cfg.model_dump(mode="json"), "points": points}, results, "y")
    np.testing.assert_allclose(table.S1, ISHIGAMI["S1"], atol=0.06)
    np.testing.assert_allclose(table.ST, ISHIGAMI["ST"], atol=0.06)
    assert (table.S1_conf > 0).all()


SOBOL = """
    base = "seed"
    people = 300
    days = 60
    [design]
    kind = "{kind}"
    samples = 4
    [[parameters]]
    key = "sources.social.error_rate"
    low = 0.0
    high = 0.1
    [[parameters]]
    key = "schemes.government.friend_weight"
    low = 0.0
    high = 0.5
    [outcomes]
    records_misattributed = ["sum"]
"""


@pytest.mark.parametrize("kind", ["sobol", "morris"])
def test_sensitivity_command_on_a_real_sweep(tmp_path, kind):
    path = scenario_with(tmp_path, SOBOL.format(kind=kind), "s.toml")
    runner = CliRunner()
    res = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "o"), "--workers",
                              "2", "--quiet"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["sensitivity", str(tmp_path / "o"), "--outcome",
                              "records_misattributed"])
    assert res.exit_code == 0, res.output
    csv = pd.read_csv(tmp_path / "o" / "sensitivity-records_misattributed-sum.csv")
    assert list(csv.parameter) == ["sources.social.error_rate",
                                   "schemes.government.friend_weight"]
    assert (tmp_path / "o" / "sensitivity-records_misattributed-sum.png").is_file()
    bad = runner.invoke(app, ["sensitivity", str(tmp_path / "o"), "--outcome", "nope"])
    assert bad.exit_code == 2 and "no outcome 'nope'" in bad.output


def test_sensitivity_needs_a_sobol_or_morris_design(tmp_path):
    grid_sweep(tmp_path).run(tmp_path / "out", workers=1)
    res = CliRunner().invoke(app, ["sensitivity", str(tmp_path / "out"), "--outcome",
                                   "records_misattributed"])
    assert res.exit_code == 2 and "needs a sobol or morris design" in res.output


def test_a_dying_local_worker_is_retried(tmp_path, monkeypatch):
    """The first time any run starts, its worker process dies; the sweep still finishes."""
    import scoresim.experiments.sweep as sweep_module

    marker = tmp_path / "died"
    real = sweep_module.run_point

    def dies_once(*args):
        if not marker.exists():
            marker.touch()
            os._exit(1)  # the worker process dies without a word
        return real(*args)

    monkeypatch.setattr(sweep_module, "run_point", dies_once)
    sw = grid_sweep(tmp_path)
    report = sw.run(tmp_path / "out", workers=2)
    assert marker.exists()
    assert not report.failed and report.computed == 12
    assert len(load_results(tmp_path / "out")[1]) == 12


def test_a_run_that_keeps_failing_is_reported(tmp_path, monkeypatch):
    import scoresim.experiments.sweep as sweep_module

    def always_dies(*args):
        os._exit(1)

    monkeypatch.setattr(sweep_module, "run_point", always_dies)
    sw = grid_sweep(tmp_path)
    report = sw.run(tmp_path / "out", workers=2)
    assert len(report.failed) == 12
    assert "BrokenProcessPool" in next(iter(report.failed.values()))
    assert (tmp_path / "out" / "failures.json").is_file()
    assert not list((tmp_path / "out" / "runs").glob("*.parquet"))
