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
    fork = Sim.from_state(folder, {"schemes.government.friend_weight": 0.0})
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
