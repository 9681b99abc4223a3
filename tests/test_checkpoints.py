"""Checkpoints: a run continued from one equals the uninterrupted run; forks change only
policy; bad checkpoints are refused with a clear message."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from scoresim import ScenarioError, Sim, load_scenario

PEOPLE, DAYS = 1500, 160
CUT = dt.date(2020, 1, 20)  # in the mandatory phase, after real-name linkage


def scenario():
    return load_scenario("seed", {"start": "2019-10-01"})


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ck") / "at-cut"
    sim = Sim(scenario(), seed=5, people=PEOPLE, days=DAYS)
    sim.run(checkpoints={CUT: folder})
    return sim, folder


def _differing(a: Sim, b: Sim) -> list[str]:
    return [col for col, x in a.outcomes.data.items()
            if not np.array_equal(x, b.outcomes.data[col], equal_nan=True)]


def test_a_continued_run_equals_the_uninterrupted_one(uninterrupted):
    full, folder = uninterrupted
    meta = json.loads((folder / "checkpoint.json").read_text())
    assert meta["date"] == str(CUT) and meta["step"] == (CUT - full.dates[0]).days + 1
    again = Sim.from_state(folder)
    assert again.t == meta["step"]
    again.run()
    assert _differing(full, again) == []
    for name, sch in full.schemes.items():
        np.testing.assert_array_equal(again.schemes[name].s, sch.s)
        np.testing.assert_array_equal(again.schemes[name].state, sch.state)
    np.testing.assert_array_equal(again.network.u, full.network.u)
    np.testing.assert_array_equal(again.people.job, full.people.job)


def test_writing_checkpoints_changes_no_result(uninterrupted):
    full, _ = uninterrupted
    plain = Sim(scenario(), seed=5, people=PEOPLE, days=DAYS)
    plain.run()
    assert _differing(full, plain) == []


def test_a_fork_changes_policy_from_the_checkpoint_on(uninterrupted):
    full, folder = uninterrupted
    # (recomputed daily, so that the published score is today's)
    fork = Sim.from_state(folder, {"schemes.government.friend_weight": 0.0,
                                   "schemes.government.recompute_every_days": 1})
    step = fork.t
    fork.run()
    col = "government_score_mean"
    np.testing.assert_array_equal(fork.outcomes.data[col][:step - 1],
                                  full.outcomes.data[col][:step - 1])
    assert not np.array_equal(fork.outcomes.data[col][step:], full.outcomes.data[col][step:])
    # Friends no longer pull the published score: it equals the own score.
    sch = fork.schemes["government"]
    np.testing.assert_array_equal(sch.s, sch.b)


@pytest.mark.parametrize("key,value", [("people.count", 1600), ("seed", 9),
                                       ("network.mean_degree", 6.0)])
def test_a_fork_cannot_change_the_society(uninterrupted, key, value):
    _, folder = uninterrupted
    with pytest.raises(ScenarioError, match=f"'{key.split('.')[0]}' defines the society"):
        Sim.from_state(folder, {key: value})


def test_another_version_or_a_damaged_checkpoint_is_refused(uninterrupted, tmp_path):
    import shutil

    _, folder = uninterrupted
    other = tmp_path / "other"
    shutil.copytree(folder, other)
    meta = json.loads((other / "checkpoint.json").read_text())
    meta["scoresim_version"] = "0.0.1"
    (other / "checkpoint.json").write_text(json.dumps(meta))
    with pytest.raises(ScenarioError, match="written by scoresim 0.0.1"):
        Sim.from_state(other)
    (other / "checkpoint.json").write_text("{not json")
    with pytest.raises(ScenarioError, match="not a readable checkpoint"):
        Sim.from_state(other)
    with pytest.raises(ScenarioError, match="not a checkpoint folder"):
        Sim.from_state(tmp_path)
    shutil.rmtree(other)
    shutil.copytree(folder, other)
    (other / "state.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ScenarioError, match="damaged checkpoint"):
        Sim.from_state(other)


def test_bad_checkpoint_requests_are_refused(tmp_path, uninterrupted):
    _, folder = uninterrupted
    sim = Sim(scenario(), seed=5, people=300, days=20)
    with pytest.raises(ScenarioError, match="outside the run"):
        sim.run(checkpoints={dt.date(2030, 1, 1): tmp_path / "x"})
    with pytest.raises(ScenarioError, match="never overwritten"):
        Sim(scenario(), seed=5, people=300, days=20).save_state(folder)
    traced = Sim(scenario(), seed=5, people=300, days=20, trace=3)
    with pytest.raises(ScenarioError, match="traced run"):
        traced.save_state(tmp_path / "y")
    with pytest.raises(ScenarioError, match="after the scenario's end"):
        Sim.from_state(folder, {"end": "2019-12-01"})


@pytest.mark.parametrize("preset,start,cut", [
    ("seed", "2019-10-01", dt.date(2019, 11, 15)),  # voluntary: the phase changes later
    ("sesame", None, None),
    ("government-pilot", None, None),
])
def test_continuing_is_exact_for_every_preset(tmp_path, preset, start, cut):
    sc = load_scenario(preset, {"start": start} if start else None)
    cut = cut or sc.start + dt.timedelta(days=45)
    full = Sim(sc, seed=11, people=700, days=100)
    full.run(checkpoints={cut: tmp_path / "c"})
    again = Sim.from_state(tmp_path / "c")
    again.run()
    assert _differing(full, again) == []


# ------------------------------------------------------------------ the command line


def _cli(*args):
    from typer.testing import CliRunner

    from scoresim.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


def test_run_writes_checkpoints_and_continues_from_them(tmp_path):
    import pandas as pd

    first = tmp_path / "first"
    res = _cli("run", "seed", "--people", 600, "--days", 90, "--set", "start=2019-11-01",
               "--checkpoint-at", "2019-12-10", "--checkpoint-at", "2020-01-05", "--quiet",
               "--out", first)
    assert res.exit_code == 0, res.output
    assert (first / "checkpoint-2019-12-10" / "state.npz").is_file()
    assert (first / "checkpoint-2020-01-05" / "checkpoint.json").is_file()
    again = tmp_path / "again"
    res = _cli("run", "--from", first / "checkpoint-2019-12-10", "--quiet", "--out", again)
    assert res.exit_code == 0, res.output
    a, b = pd.read_parquet(first / "outcomes.parquet"), pd.read_parquet(again / "outcomes.parquet")
    pd.testing.assert_frame_equal(a, b)
    meta = json.loads((again / "metadata.json").read_text())
    assert meta["continued_from"]["date"] == "2019-12-10"
    fork = tmp_path / "fork"
    res = _cli("run", "--from", first / "checkpoint-2019-12-10", "--set",
               "adaptation.self_censorship=none", "--quiet", "--out", fork)
    assert res.exit_code == 0, res.output
    c = pd.read_parquet(fork / "outcomes.parquet")
    assert (c.self_censoring_share.iloc[-10:] == 0).all()
    assert (a.self_censoring_share.iloc[-10:] > 0).all()


@pytest.mark.parametrize("args,message", [
    (["--checkpoint-at", "2020-13-01"], "expected a date like 2020-06-30"),
    (["--checkpoint-at", "2031-01-01"], "outside the run"),
])
def test_bad_checkpoint_dates_are_refused_before_any_work(tmp_path, args, message):
    out = tmp_path / "out"
    res = _cli("run", "seed", "--people", 100, "--days", 10, "--quiet", "--out", out, *args)
    assert res.exit_code == 2 and message in res.output
    assert not out.exists() and not list(tmp_path.iterdir())


def test_from_refuses_a_scenario_or_society_flags(tmp_path, uninterrupted):
    _, folder = uninterrupted
    res = _cli("run", "seed", "--from", folder, "--out", tmp_path / "x")
    assert res.exit_code == 2 and "SCENARIO cannot be given" in res.output
    res = _cli("run", "--from", folder, "--people", 50, "--out", tmp_path / "x")
    assert res.exit_code == 2 and "--people cannot be given" in res.output
    res = _cli("run", "--from", folder, "--set", "people.count=50", "--out", tmp_path / "x")
    assert res.exit_code == 2 and "'people' defines the society" in res.output
    res = _cli("run", "--from", tmp_path, "--out", tmp_path / "x")
    assert res.exit_code == 2 and "not a checkpoint folder" in res.output
    assert not (tmp_path / "x").exists()


def test_compare_forked_shares_the_history_up_to_the_fork(tmp_path):
    import pandas as pd

    from scoresim.experiments.compare import compare

    a = load_scenario("seed", {"start": "2019-10-01"})
    b = load_scenario("seed", {"start": "2019-10-01", "adaptation.self_censorship": "none"})
    fork = dt.date(2019, 12, 1)
    cmp = compare(a, b, replicates=2, people=600, days=100, workers=1, fork_at=fork)
    s = cmp.replicate_series
    dates = pd.to_datetime(s.date)
    before, after = s[dates <= pd.Timestamp(fork)], s[dates > pd.Timestamp(fork)]
    for col in ("critical_statements", "self_censoring_share"):
        np.testing.assert_array_equal(before[f"a_{col}"], before[f"b_{col}"])
    assert (after.b_self_censoring_share == 0).all()
    assert cmp.metadata["fork_at"] == str(fork)
    res = _cli("compare", "seed", "baseline", "--people", 100, "--days", 10,
               "--fork-at", "2018-01-05", "--replicates", 1, "--out", tmp_path / "c")
    assert res.exit_code == 0, res.output
    res = _cli("compare", "seed", "seed", "--people", 100, "--days", 10,
               "--fork-at", "2019-01-05", "--out", tmp_path / "d")
    assert res.exit_code == 2 and "--fork-at 2019-01-05" in res.output


# ------------------------------------------------------- forks that change the schemes


def _with_scheme_copy(sc, mode: str):
    data = sc.model_dump(mode="json")
    copy = dict(data["schemes"]["sesame"])
    copy["enrolment"] = dict(copy["enrolment"], mode=mode)
    return type(sc).model_validate(dict(data, schemes=dict(data["schemes"], sesame2=copy)))


@pytest.mark.parametrize("mode", ["mandatory", "opt_out"])
def test_a_scheme_new_at_a_fork_enrols_on_its_first_day(uninterrupted, mode):
    _, folder = uninterrupted
    base = Sim.from_state(folder).scenario
    fork = Sim.from_state(folder, scenario=_with_scheme_copy(base, mode))
    fork.step()
    assert fork.outcomes.data["sesame2_enrolled_share"][fork.t - 1] > 0.3


def test_a_change_of_enrolment_mode_at_a_fork_enrols_as_the_new_mode_does(uninterrupted):
    _, folder = uninterrupted
    data = Sim.from_state(folder).scenario.model_dump(mode="json")
    data["schemes"]["sesame"]["enrolment"]["mode"] = "mandatory"
    data["schemes"]["sesame"]["enrolment"]["opt_out_rate_per_day"] = 0.0
    fork = Sim.from_state(folder, scenario=type(Sim.from_state(folder).scenario)
                          .model_validate(data))
    before = fork.outcomes.data["sesame_enrolled_share"][fork.t - 1]
    fork.step()
    eligible = fork.people.commerce_account.mean()
    assert before < eligible and fork.outcomes.data["sesame_enrolled_share"][
        fork.t - 1] == pytest.approx(eligible)


def test_capped_rules_keep_their_totals_when_rules_are_added_around_them(uninterrupted):
    _, folder = uninterrupted
    plain = Sim.from_state(folder)
    data = plain.scenario.model_dump(mode="json")
    rules = data["schemes"]["government"]["rules"]
    data["schemes"]["government"]["rules"] = [dict(rules[0], points=0.0, cap_points=None)] + rules
    fork = Sim.from_state(folder, scenario=type(plain.scenario).model_validate(data))
    old = [r for r in plain.schemes["government"].rules if r.cap is not None]
    new = [r for r in fork.schemes["government"].rules if r.cap is not None]
    assert len(old) == len(new) > 0 and any(r.cum.any() for r in old)
    for a, b in zip(old, new, strict=True):
        np.testing.assert_array_equal(a.cum, b.cum)


def test_from_reads_no_edge_list(tmp_path):
    """The ties come from the checkpoint: a scenario with an edge list continues from
    anywhere, without its file."""
    folder = tmp_path / "scenario"
    folder.mkdir()
    rng = np.random.default_rng(0)
    edges = "\n".join(f"{a} {b}" for a, b in rng.integers(0, 300, (900, 2)) if a != b)
    (folder / "edges.txt").write_text(edges)
    (folder / "s.toml").write_text('extends = "seed"\n[people]\ncount = 300\n'
                                   '[network]\nkind = "edgelist"\npath = "edges.txt"\n')
    res = _cli("run", folder / "s.toml", "--days", 40, "--checkpoint-at", "2018-01-20",
               "--quiet", "--out", tmp_path / "r1")
    assert res.exit_code == 0, res.output
    (folder / "edges.txt").unlink()
    res = _cli("run", "--from", tmp_path / "r1" / "checkpoint-2018-01-20", "--quiet",
               "--out", tmp_path / "r2")
    assert res.exit_code == 0, res.output


def test_checkpoint_requests_that_cannot_be_met_are_refused_first(tmp_path, uninterrupted):
    full, folder = uninterrupted
    res = _cli("run", "--from", folder, "--checkpoint-at", full.dates[0], "--out",
               tmp_path / "x")
    assert res.exit_code == 2 and "cannot be written" in res.output
    res = _cli("run", "seed", "--people", 100, "--days", 10, "--trace", 2,
               "--checkpoint-at", "2018-01-05", "--out", tmp_path / "y")
    assert res.exit_code == 2 and "traced run" in res.output
    with pytest.raises(ScenarioError, match="not both"):
        Sim.from_state(folder, {"end": "2020-05-01"}, scenario=full.scenario)
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


@pytest.mark.parametrize("damage", ["short array", "float ties", "no step", "bad version"])
def test_a_damaged_checkpoint_is_refused_before_it_runs(tmp_path, uninterrupted, damage):
    import shutil

    _, folder = uninterrupted
    bad = tmp_path / "bad"
    shutil.copytree(folder, bad)
    if damage in ("short array", "float ties"):
        with np.load(bad / "state.npz") as data:
            arrays = {k: data[k] for k in data.files}
        if damage == "short array":
            arrays["sanctions.received"] = arrays["sanctions.received"][:10]
        else:
            arrays["network.u"] = arrays["network.u"].astype(float)
        np.savez(bad / "state.npz", **arrays)
    else:
        meta = json.loads((bad / "checkpoint.json").read_text())
        if damage == "no step":
            del meta["step"]
        else:
            meta["values"]["network.version"] = "x"
        (bad / "checkpoint.json").write_text(json.dumps(meta))
    with pytest.raises(ScenarioError, match="checkpoint"):
        Sim.from_state(bad)
