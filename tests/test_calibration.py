"""``scoresim calibrate``: likelihoods, bad files, recovery of known parameters, resuming,
two processes on one study, failed trials, and the fitted scenario."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy import stats
from typer.testing import CliRunner

from scoresim.cli import app
from scoresim.experiments import calibration as cal
from scoresim.experiments.likelihood import log_likelihood
from scoresim.scenario.loading import load_scenario

TRUE_RATE = 0.05  # behaviour.rates_per_day.critical_statement of the synthetic truth

#: A small, fast calibration of one rate (500 people, 30 days): its target is filled in by
#: ``synthetic`` from a run at TRUE_RATE with the same seeds.
CALIB = """\
base = "baseline"
people = 500
days = 30
trials = {trials}

[replicates]
count = 2
first_seed = 3

[sampler]
seed = 1
startup_trials = 4

[[parameters]]
key = "behaviour.rates_per_day.critical_statement"
low = 0.01
high = 0.2
log = true

[[targets]]
column = "critical_statements"
statistic = "mean"
observed = {observed}
uncertainty = {uncertainty}
"""


def write(tmp_path, text, name="calib.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """The target of CALIB at TRUE_RATE: the mean over the same seeds the trials run."""
    folder = tmp_path_factory.mktemp("truth")
    path = write(folder, CALIB.format(trials=1, observed=1.0, uncertainty=1.0))
    calib = cal.Calibration.load(path)
    values = [cal.run_replicate(calib, {calib.config.parameters[0].key: TRUE_RATE}, seed)[0]
              for seed in calib.seeds()]
    observed = float(np.mean(values))
    return CALIB.format(trials="{trials}", observed=observed, uncertainty=0.02 * observed)


# ---------------------------------------------------------------------- likelihoods


@pytest.mark.parametrize(("sim", "obs", "u"), [(3.0, 2.5, 0.7), (-1.0, 4.0, 2.0)])
def test_normal_likelihood_is_the_normal_log_density(sim, obs, u):
    assert log_likelihood("normal", sim, obs, u) == pytest.approx(
        stats.norm.logpdf(obs, loc=sim, scale=u))


def test_binomial_likelihood_is_the_binomial_log_pmf_at_the_effective_size():
    # observed 0.2 with standard error 0.04: n = 0.2 * 0.8 / 0.0016 = 100, k = 20
    assert log_likelihood("binomial", 0.25, 0.2, 0.04) == pytest.approx(
        stats.binom.logpmf(20, 100, 0.25))
    assert log_likelihood("binomial", 0.2, 0.2, 0.04) > log_likelihood("binomial", 0.3, 0.2,
                                                                         0.04)


def test_poisson_likelihood_is_the_poisson_log_pmf():
    assert log_likelihood("poisson", 7.5, 5, None) == pytest.approx(stats.poisson.logpmf(5, 7.5))


# ------------------------------------------------------------------------ bad files


@pytest.mark.parametrize(("change", "message"), [
    (("column = \"critical_statements\"", "column = \"critical_statemnts\""),
     "targets.0.column`: no column 'critical_statemnts'"),
    (("statistic = \"mean\"", "statistic = \"at\"\ndate = 2019-05-01"),
     "targets.0.date`: 2019-05-01 is outside the run (2018-01-01 to 2018-01-30)"),
    (("low = 0.01\nhigh = 0.2", "low = 0.2\nhigh = 0.01"), "bounds reversed"),
    (("uncertainty = 0.5", "uncertainty = 0"), "targets.0.uncertainty"),
    (("key = \"behaviour.rates_per_day.critical_statement\"", "key = \"behaviour.nope\""),
     "parameters.0"),
    (("trials = 3", "trials = 3\n[sampler.extra]"), "unknown key `sampler.extra`"),
])
def test_bad_calibration_files_fail_before_any_trial_naming_the_key(tmp_path, change, message):
    text = CALIB.format(trials=3, observed=2.0, uncertainty=0.5).replace(*change)
    path = write(tmp_path, text)
    res = CliRunner().invoke(app, ["calibrate", str(path), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    assert message in res.output, res.output
    assert not (tmp_path / "o" / "study.db").exists()


def test_a_storage_that_cannot_be_reached_fails_in_one_line(tmp_path):
    path = write(tmp_path, CALIB.format(trials=3, observed=2.0, uncertainty=0.5))
    res = CliRunner().invoke(app, ["calibrate", str(path), "--out", str(tmp_path / "o"),
                                   "--storage", "postgresql://nobody@127.0.0.1:1/none"])
    assert res.exit_code == 2, res.output
    line = res.output.strip()
    assert "\n" not in line and line.startswith("error: --storage postgresql://"), line


# --------------------------------------------------------------- fitting and outputs


def test_calibration_recovers_a_known_rate_and_writes_a_runnable_fit(tmp_path, synthetic):
    """Targets made by the model at TRUE_RATE (same seeds): 12 trials of a seeded TPE find
    the rate within 10%, and best.toml is an ordinary scenario holding it."""
    path = write(tmp_path, synthetic.format(trials=12))
    res = CliRunner().invoke(app, ["calibrate", str(path), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    out = tmp_path / "o"
    fitted = load_scenario(out / "best.toml")
    rate = fitted.behaviour.rates_per_day.critical_statement
    assert abs(rate / TRUE_RATE - 1) < 0.10, rate
    assert fitted.people.count == 500 and (fitted.end - fitted.start).days == 29
    trials = pq.read_table(out / "trials.parquet").to_pandas()
    assert len(trials) == 12 and set(trials["state"]) <= {"complete", "pruned"}
    best = trials.loc[trials["log_likelihood"].idxmax()]
    assert best["param:behaviour.rates_per_day.critical_statement"] == pytest.approx(rate)
    assert list(best["seeds"]) == [3, 4]
    page = (out / "calibration.html").read_text()
    assert "critical_statements" in page and "targets.png" in page
    # 12 trials against the default window of 20: too few to call it settled, said twice
    assert "not settled" in res.output and "Convergence" in page and "not settled" in page
    for name in ("targets.png", "history.png", "parameters.png"):
        assert (out / name).stat().st_size > 1000


def test_calibrate_again_continues_the_study(tmp_path, synthetic):
    path = write(tmp_path, synthetic.format(trials=3))
    out = tmp_path / "o"
    assert CliRunner().invoke(app, ["calibrate", str(path), "--out", str(out)]).exit_code == 0
    first = pq.read_table(out / "trials.parquet").to_pandas()
    res = CliRunner().invoke(app, ["calibrate", str(path), "--out", str(out), "--trials", "6",
                                   "--workers", "2"])
    assert res.exit_code == 0, res.output
    both = pq.read_table(out / "trials.parquet").to_pandas()
    assert 6 <= len(both) <= 7  # (two workers: each may finish the trial it had begun)
    key = "param:behaviour.rates_per_day.critical_statement"
    assert both[key].iloc[:3].tolist() == first[key].tolist()  # kept, not rerun
    other = write(tmp_path, synthetic.format(trials=6).replace("people = 500", "people = 400"),
                  "other.toml")
    res = CliRunner().invoke(app, ["calibrate", str(other), "--out", str(out)])
    assert res.exit_code == 2 and "another calibration file" in res.output, res.output


def test_two_processes_share_one_study_on_one_sqlite_file(tmp_path, synthetic):
    """As two machines would on one PostgreSQL database: each runs `calibrate` against the
    same storage until the study holds 4 finished trials (each may finish the trial it had
    started when the count was reached: at most one more each)."""
    path = write(tmp_path, synthetic.format(trials=4))
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    procs = [subprocess.Popen([sys.executable, "-m", "scoresim.cli", "calibrate", str(path),
                               "--out", str(tmp_path / f"o{i}"), "--storage", url],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for i in range(2)]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    import optuna

    study = optuna.load_study(study_name=cal.STUDY_NAME, storage=url)
    assert 4 <= len(study.trials) <= 5
    assert all(t.state.name in ("COMPLETE", "PRUNED") for t in study.trials)


def test_a_failing_trial_is_recorded_and_the_study_goes_on(tmp_path, synthetic, monkeypatch):
    path = write(tmp_path, synthetic.format(trials=6))
    calib = cal.Calibration.load(path)
    real = cal.run_replicate

    def sometimes(calib_, values, seed):
        if next(iter(values.values())) > 0.08:
            raise RuntimeError("the model broke here")
        return real(calib_, values, seed)

    monkeypatch.setattr(cal, "run_replicate", sometimes)
    report = cal.calibrate(calib, tmp_path / "o")
    trials = pq.read_table(tmp_path / "o" / "trials.parquet").to_pandas()
    assert len(trials) == 6 and report.failed >= 1 and report.complete >= 1
    failed = trials[trials["state"] == "fail"]
    assert failed["error"].str.contains("the model broke here").all()


def test_cmaes_proposes_the_trials_after_its_start(tmp_path, synthetic):
    """CMA-ES (two parameters: it models at least two) takes over after the random start."""
    text = synthetic.format(trials=7).replace('seed = 1\n', 'kind = "cmaes"\nseed = 1\n')
    text = text.replace("[[targets]]", '[[parameters]]\nkey = "behaviour.rates_per_day.'
                        'supportive_statement"\nlow = 0.05\nhigh = 0.3\n\n[[targets]]')
    calib = cal.Calibration.load(write(tmp_path, text))
    cal.calibrate(calib, tmp_path / "o")
    import optuna

    study = optuna.load_study(study_name=cal.STUDY_NAME,
                              storage=f"sqlite:///{tmp_path / 'o' / 'study.db'}")
    by_cma = [t.number for t in study.trials if "cma:generation" in t.system_attrs]
    assert by_cma and min(by_cma) >= 4, by_cma


def test_a_calibration_too_large_for_memory_is_refused_before_any_trial(tmp_path, synthetic):
    path = write(tmp_path, synthetic.format(trials=3).replace("people = 500",
                                                              "people = 400000000"))
    res = CliRunner().invoke(app, ["calibrate", str(path), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "memory" in res.output, res.output
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------------- convergence


def _study(values):
    """An in-memory study of complete trials with these log-likelihoods, in this order."""
    import optuna
    from optuna.distributions import FloatDistribution

    study = optuna.create_study(direction="maximize")
    key = "behaviour.rates_per_day.critical_statement"
    for i, v in enumerate(values):
        study.add_trial(optuna.trial.create_trial(
            params={key: 0.01 + 0.001 * i}, distributions={key: FloatDistribution(0.01, 0.2)},
            value=v))
    return study


@pytest.mark.parametrize(("values", "settled", "gain"), [
    ([-50.0] * 5 + [-3.0] * 25, True, 0.0),                    # best found early, then flat
    ([-50.0 + 2 * i for i in range(25)], False, 40.0),         # still climbing
    ([-10.0] * 4 + [-9.9], True, 0.1),                         # rose less than `gain`
])
def test_convergence_reports_the_best_gain_over_the_last_window(tmp_path, values, settled, gain):
    text = CALIB.format(trials=1, observed=1.0, uncertainty=1.0)
    window = 20 if len(values) > 5 else 4
    calib = cal.Calibration.load(write(tmp_path, text + f"\n[convergence]\nwindow = {window}\n"))
    conv = cal.convergence(calib, _study(values))
    assert conv.settled is settled
    assert conv.gain == pytest.approx(gain)
    assert ("not settled" in conv.lines()[0]) is (not settled)


def test_convergence_needs_more_trials_than_its_window(tmp_path):
    calib = cal.Calibration.load(write(tmp_path, CALIB.format(trials=1, observed=1.0,
                                                              uncertainty=1.0)))
    conv = cal.convergence(calib, _study([-5.0] * 20))   # the default window is 20
    assert conv.gain is None and not conv.settled
    assert "fewer than the window" in conv.lines()[0]


def test_a_lone_best_trial_says_its_uncertainty_is_not_resolved(tmp_path):
    """The near-best range collapses to the best trial (the recovery benchmark's sharp
    target): the report says the range is a lower bound."""
    calib = cal.Calibration.load(write(tmp_path, CALIB.format(trials=1, observed=1.0,
                                                              uncertainty=1.0)))
    conv = cal.convergence(calib, _study([-100.0] * 24 + [-1.0]))
    assert conv.near_best == 1 and not conv.resolved
    assert any("not resolved" in line for line in conv.lines())
    spread = cal.convergence(calib, _study([-100.0] * 23 + [-1.5, -1.0]))
    assert spread.near_best == 2 and spread.resolved     # one parameter: two trials span it


def test_a_bad_convergence_key_is_refused_naming_it(tmp_path):
    text = CALIB.format(trials=1, observed=1.0, uncertainty=1.0) + "\n[convergence]\nwindow = 0\n"
    with pytest.raises(cal.ScenarioError, match="convergence.window"):
        cal.Calibration.load(write(tmp_path, text))
