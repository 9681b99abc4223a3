"""The app's parts without a browser: uploads, knobs, the live run, caps (issue 15)."""

from __future__ import annotations

import datetime as dt
import shlex

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from scoresim.app.live import LiveRun, neighbourhood, sample_edges
from scoresim.app.page import Limits, Slots
from scoresim.app.scenarios import KNOB, MAX_UPLOAD_BYTES, Base, overrides_for, reproduce, resolved
from scoresim.cli import app
from scoresim.errors import ScenarioError
from scoresim.experiments.compare import t_interval
from scoresim.results.run_folder import Results
from scoresim.scenario.loading import load_scenario

WAIT = 120  # seconds: the longest a test waits for the worker


def _run(a="seed", b=None, people=600, days=40, seed=3, b_set=None, **kw) -> LiveRun:
    sa = resolved(load_scenario(a), people, days, seed)
    sb = resolved(load_scenario(b, b_set), people, days, seed) if b else None
    run = LiveRun(sa, sb, **kw)
    assert run.wait(lambda r: r.state != "building", WAIT), "the run was never built"
    assert run.state == "ready", run.error
    return run


# ------------------------------------------------------------------------- interval


def test_t_interval_is_compares_former_formula():
    rng = np.random.default_rng(0)
    for n in (1, 2, 5):
        x = rng.normal(size=(n, 4))
        x[0, 1] = np.nan
        mean, lo, hi = t_interval(x)
        for j in range(4):
            s = pd.Series(x[:, j])
            half = np.nan
            if n > 1:
                half = stats.t.ppf(0.975, n - 1) * s.std(ddof=1) / np.sqrt(n)
                half = half if np.isfinite(half) else 0.0
            assert np.allclose([mean[j], lo[j], hi[j]],
                               [s.mean(), s.mean() - half, s.mean() + half], equal_nan=True)


# --------------------------------------------------------------------------- uploads


def test_upload_valid_extends_a_preset():
    base = Base.of_upload(b'extends = "seed"\nname = "harsh"\n[schemes.government]\n'
                          b"friend_weight = 0.4\n", "../../etc/harsh.toml")
    assert base.label == "harsh.toml (uploaded)"
    assert base.scenario.schemes["government"].friend_weight == 0.4
    assert base.scenario.name == "harsh"


@pytest.mark.parametrize("data, expected", [
    (b"x" * (MAX_UPLOAD_BYTES + 1), "at most 64 KiB"),
    (b"\xff\xfe\x00", "not a text file"),
    (b"extends = \n", "not valid TOML"),
    (b'extends = "/etc/passwd"\n', "key `extends`: in the app a scenario may extend a preset"),
    (b'extends = "seed"\n[network]\nkind = "edgelist"\npath = "/etc/hosts"\n',
     "key `network.path`"),
    (b'extends = "seed"\n[schemes.government]\nfriend_weight = 2\n',
     "key `schemes.government.friend_weight`"),
    (b'extends = "seed"\n[peeple]\ncount = 5\n', "unknown key `peeple`"),
])
def test_upload_refused_with_the_key(data, expected):
    with pytest.raises(ScenarioError) as err:
        Base.of_upload(data, "mine.toml")
    assert expected in str(err.value)
    assert "mine.toml" in str(err.value) and "/tmp" not in str(err.value)


def test_upload_error_names_the_line():
    with pytest.raises(ScenarioError) as err:
        Base.of_upload(b'extends = "seed"\n\n[schemes.government]\nfriend_weight = -1\n',
                       "mine.toml")
    assert "mine.toml, line 4" in str(err.value)


HOSTILE_UPLOADS = [
    ("a" + ".a" * 31_999 + " = 1\n", "more than 32 dotted parts"),  # 64 KiB, 32,000 parts
    ("a = " + "[" * 20_000 + "]" * 20_000 + "\n", "nested more than 32 deep"),
    ('extends = "seed"\nseed = ' + "9" * 30_000 + "\n", "a number of more than 64"),
    ('extends = "seed"\ndescription = """' + "x" * 100 + "\n", "not valid TOML"),
]


@pytest.mark.parametrize("text, expected", HOSTILE_UPLOADS,
                         ids=["dotted_key_32000_parts", "arrays_20000_deep",
                              "integer_30000_digits", "unclosed_string"])
def test_hostile_uploads_are_refused_before_parsing_quickly_and_small(text, expected):
    """Each refused in well under a second with a few MB at most (a 64 KiB dotted key took
    the server 4 GB when it was parsed before its shape was checked)."""
    import time
    import tracemalloc

    data = text.encode()
    assert len(data) <= MAX_UPLOAD_BYTES
    tracemalloc.start()
    t0 = time.monotonic()
    try:
        with pytest.raises(ScenarioError) as err:
            Base.of_upload(data, "mine.toml")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - t0 < 1.0
    assert peak < 20 << 20, f"{peak:,} bytes"
    assert expected in str(err.value) and "mine.toml" in str(err.value)


@pytest.mark.parametrize("text, expected", HOSTILE_UPLOADS[:3])
def test_every_refused_upload_is_shown_in_the_page(text, expected, monkeypatch):
    """The refusal is in the chooser's error area (not only the server's log), escaped, and
    the scenario before it stays; an error of any kind is shown too."""
    from types import SimpleNamespace

    from scoresim.app import page

    chooser = page.RegimeChooser("A", "seed")
    chooser._on_upload(SimpleNamespace(new=text.encode()))
    assert chooser.error.visible and expected in chooser.error.object
    assert "scenario refused" in chooser.error.object and chooser.base.preset == "seed"

    def broken(data, filename):
        raise RuntimeError("\x1b]52;c;x\x07 boom")

    monkeypatch.setattr(page.Base, "of_upload", broken)
    chooser._on_upload(SimpleNamespace(new=b"x = 1\n"))
    assert chooser.error.visible and "could not be read" in chooser.error.object
    assert "\x1b" not in chooser.error.object and "\\x1b]52" in chooser.error.object


# ----------------------------------------------------------------------------- knobs


def test_knobs_set_their_keys_and_carry_docs():
    seed = Base.of_preset("seed")
    sc = seed.scenario
    assert KNOB["friend_weight"].value(sc) == 0.2
    assert KNOB["critical_points"].value(sc) == -8.0
    assert KNOB["mandatory_date"].keys(sc) == ["phases.mandatory"]
    ov = overrides_for(sc, {"friend_weight": 0.5, "critical_points": -8.0,
                            "self_censorship": "threshold", "error_rate": 0.05})
    assert ov["schemes.government.friend_weight"] == 0.5
    assert ov["schemes.sesame.friend_weight"] == 0.5
    assert not any("rules" in k for k in ov)  # (unchanged: not set)
    assert all(ov[f"sources.{s}.error_rate"] == 0.05 for s in sc.sources)
    changed = seed.with_overrides(ov)
    assert changed.adaptation.self_censorship == "threshold"
    assert changed.schemes["government"].friend_weight == 0.5
    assert "M4" in KNOB["friend_weight"].help(sc) and "friend_weight" in KNOB[
        "friend_weight"].help(sc)
    assert KNOB["friend_weight"].value(load_scenario("baseline")) is None  # (no scheme)
    with pytest.raises(ScenarioError, match="friend_weight"):
        seed.with_overrides({"schemes.government.friend_weight": 3.0})


# -------------------------------------------------------------------------- live run


def test_live_run_is_the_cli_run_of_its_reproduce_command(tmp_path):
    run = _run(people=600, days=40, seed=3, sample=60, traced=5)
    try:
        run.step(40)
        assert run.wait(lambda r: r.state == "finished", WAIT)
        rows = run.take()
        assert len(rows["x"]) == 40
        command = reproduce(Base.of_preset("seed"), {}, None, None, 600, 40, 3, 1,
                            run.sample.traced.tolist())
        args = shlex.split(command)[1:]
        args[args.index("--out") + 1] = str(tmp_path / "cli")
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 0, res.output
        cli = Results.load(tmp_path / "cli")
        live = run.sims["a"][0].outcomes.data
        for col in ("self_censoring_share", "government_score_mean", "sanctions_total"):
            assert np.array_equal(cli.column(col), live[col], equal_nan=True), col
        assert np.allclose(rows["score_mean_a"], cli.column("government_score_mean"))
        assert cli.metadata["traced"] == run.sample.traced.tolist()
    finally:
        run.close()


def test_side_by_side_of_a_regime_with_itself_differs_by_nothing():
    run = _run(b="seed", people=500, days=12, replicates=2, sample=30, traced=0)
    try:
        run.step(12)
        assert run.wait(lambda r: r.t == 12, WAIT)
        rows = run.take()
        for key in ("self_censoring", "score_mean", "sanctions_total"):
            assert np.array_equal(rows[f"{key}_a"], rows[f"{key}_b"], equal_nan=True)
            assert (rows[f"{key}_d"] == 0).all()
            assert (rows[f"{key}_lo"] == 0).all() and (rows[f"{key}_hi"] == 0).all()
    finally:
        run.close()


def test_side_by_side_shares_random_numbers_and_gives_intervals():
    run = _run(a="baseline", b="seed", people=500, days=30, replicates=3, sample=30,
               traced=0, b_set={"phases.mandatory": dt.date(2018, 1, 10)})
    try:
        run.step(30)
        assert run.wait(lambda r: r.t == 30, WAIT)
        rows = run.take()
        # the same people and network on day 1: identical degree ratios before any rewiring
        assert rows["critic_degree_ratio_d"][0] == 0
        assert np.isnan(rows["score_mean_a"]).all() and np.isfinite(rows["score_mean_b"]).all()
        spread = False
        for key in ("self_censoring", "expression_gap", "critic_degree_ratio",
                    "sanctions_total"):
            lo, d, hi = (rows[f"{key}_{k}"] for k in ("lo", "d", "hi"))
            assert (lo <= d).all() and (d <= hi).all()
            spread |= bool((hi > lo).any())
        assert spread  # (the seeds differ: an interval of some width somewhere)
        assert rows["self_censoring_b"][-1] > rows["self_censoring_a"][-1] == 0
        a0 = run.sims["a"][0].people
        b0 = run.sims["b"][0].people
        assert np.array_equal(a0.private_opinion, b0.private_opinion)
    finally:
        run.close()


def test_play_pause_speed_and_close():
    ended = []
    run = _run(people=400, days=300, sample=20, traced=0, on_exit=lambda: ended.append(1))
    try:
        run.set_speed(20.0)
        t0 = run.t
        run.play()
        assert run.wait(lambda r: r.t >= t0 + 5, WAIT)
        run.pause()
        assert run.wait(lambda r: not r.playing, 5)
        stopped = run.t
        assert not run.wait(lambda r: r.t > stopped + 1, 1.0)  # paused: no more days
        assert run.timing["steps"] == run.t
    finally:
        run.close(wait=WAIT)
    assert run.state == "closed" and run.sims == {}
    assert not run.alive and ended == [1]  # (the slot of a run goes back when it ends)


def test_explain_a_traced_person_and_refuse_others(tmp_path):
    run = _run(people=600, days=30, sample=50, traced=6)
    try:
        run.step(30)
        assert run.wait(lambda r: r.state == "finished", WAIT)
        person = int(run.sample.traced[0])
        acc = run.submit(lambda r: r.explain("a", person)).result(WAIT)
        assert acc["person"] == person and not acc["ledger"].empty
        assert set(acc["ledger"].person) == {person}
        for s in acc["schemes"].values():
            if s.get("scored"):
                assert abs(s["total_of_rows"] - s["score"]) < 1e-3
        other = int(np.setdiff1d(run.sample.ids, run.sample.traced)[0])
        with pytest.raises(ScenarioError, match="not traced"):
            run.submit(lambda r: r.explain("a", other)).result(WAIT)
        out = run.submit(lambda r: r.run_folder(tmp_path / "folder")).result(WAIT)
        assert out["report"].is_file()
        assert Results.load(tmp_path / "folder").metadata["traced"] == run.sample.traced.tolist()
    finally:
        run.close()


def test_network_sample_and_its_ties():
    g = nx.watts_strogatz_graph(300, 6, 0.2, seed=1)
    a = nx.to_scipy_sparse_array(g, format="csr", dtype=np.float32)
    indptr, indices = a.indptr.astype(np.int64), a.indices.astype(np.int64)
    ids = neighbourhood(indptr, indices, 7, 40)
    assert ids.size == 40 and 7 in ids and (np.diff(ids) > 0).all()
    assert set(g.neighbors(7)) <= set(ids.tolist())
    u, v = sample_edges(indptr, indices, ids)
    got = {(int(ids[i]), int(ids[j])) for i, j in zip(u, v, strict=True)}
    assert got == {tuple(sorted(e)) for e in g.subgraph(ids.tolist()).edges}


def test_slots_cap_runs_per_server():
    slots = Slots(Limits(max_runs=2, max_people=1000))
    assert slots.acquire(1) and slots.acquire(1) and slots.acquire(2)  # (1: two runs)
    assert not slots.acquire(3) and slots.used == 2
    slots.release(1)  # (one of session 1's runs has ended: it still holds its slot)
    assert not slots.acquire(3)
    slots.release(1)
    assert slots.acquire(3) and slots.used == 2


def test_app_without_its_extra_says_how_to_install_it(monkeypatch):
    """A plain install (no app extra) gets one line naming the extra, not a traceback."""
    import importlib.util

    from typer.testing import CliRunner

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "panel" else real(name, *a))
    res = CliRunner().invoke(app, ["app", "--port", "5998"])
    assert res.exit_code == 2 and "install the app extra" in res.output
