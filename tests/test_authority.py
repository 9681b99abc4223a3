"""The adaptive authority (model/authority.py, `authority.*`): Daymude, Axelrod and
Forrest's hill-climbing authority as a component: its rule, day by day; its own setting
(preset daymude-2025) and a scheme it governs; checkpoints; off unless enabled."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import scenario
from scoresim import Sim, load_scenario
from scoresim.model.authority import Authority, AuthorityWatch, move, punishment
from scoresim.model.people import truncated_exponential

COLUMNS = ["authority_tolerance", "authority_severity", "authority_surveillance",
           "dissent_total", "punishment_total"]


def _authority(sim) -> Authority:
    return next(c for c in sim.added if isinstance(c, Authority))


def test_their_punishment_and_their_move():
    acts = np.array([0.0, 0.2, 0.3, 0.6, 0.6])
    u = np.array([0.0, 0.0, 0.1, 0.5, 0.7])  # (chance nu + (1 - nu) a: 0.44 and 0.68)
    got = punishment(acts, 0.25, 2.0, 0.2, "uniform", u)
    np.testing.assert_array_equal(got, [0, 0, 2.0, 2.0, 0])  # (0.2 within the tolerance)
    got = punishment(acts, 0.25, 2.0, 0.2, "proportional", u)
    np.testing.assert_allclose(got, [0, 0, 2.0 * 0.05, 2.0 * 0.35, 0])
    assert move(0.98, 0.0, 1.0, 0.05, 0.0) == pytest.approx(0.93)
    assert move(0.98, 0.0, 1.0, 0.05, 0.9999999) == pytest.approx(1.0)
    assert move(0.01, 0.0, 1.0, 0.05, 0.0) == 0.0


def test_desired_dissent_and_boldness_as_they_draw_them():
    x = truncated_exponential(np.random.default_rng(0).random(400_000), 0.25)
    assert 0 <= x.min() and x.max() <= 1 and abs(x.mean() - 0.25) < 0.002
    sim = Sim(load_scenario("daymude-2025"), people=20_000, days=1)
    d, beta = sim.people.desired_dissent, sim.people.boldness
    assert abs(d.mean() - 0.25) < 0.01 and d.max() <= 1
    assert abs(beta.mean() - 2.0) < 0.06 and abs(np.median(beta) - 2.0 * np.log(2)) < 0.06


def test_the_hill_climb_keeps_a_move_unless_its_cost_rose():
    """Day by day from the outcome table: day t >= 1 judges the parameters in force since
    day t - 1 (cost alpha * dissent + punishment); a move whose cost rose above the round
    before's is undone; each day at most one parameter moves, by at most `step`, within
    its bounds."""
    sc = load_scenario("daymude-2025", {"people.boldness_mean": 1.0,
                                        "adaptation.punishment": "proportional"})
    sim = Sim(sc, people=1_000, days=300)
    df = sim.run().outcomes_df()
    assert list(df.columns[-5:]) == COLUMNS
    params = df[COLUMNS[:3]].to_numpy()
    cost = sc.authority.adamancy * df["dissent_total"].to_numpy() + df[
        "punishment_total"].to_numpy()
    np.testing.assert_array_equal(params[0], [0.25, 0.1, 0.1])
    np.testing.assert_array_equal(params[1], params[0])  # (round 0: the initial values)
    moved = (params[1:] != params[:-1]).sum(axis=1)
    assert moved.max() == 1 and moved.sum() > 30
    assert np.abs(np.diff(params, axis=0)).max() <= sc.authority.step + 1e-12
    assert (params[:, [0, 2]] >= 0).all() and (params[:, [0, 2]] <= 1).all()
    assert (params[:, 1] >= 1e-9).all()
    rose = np.flatnonzero(cost[2:] > cost[1:-1]) + 2  # (days whose move is undone)
    assert rose.size > 20
    np.testing.assert_array_equal(params[rose], params[rose - 1])
    # people decide against what the authority set: nobody self-censors below tolerance
    assert np.all(sim.adaptation.expressed_dissent <= sim.people.desired_dissent + 1e-7)
    assert sim.adaptation.tolerance == _authority(sim).current["tolerance"]


def test_the_authority_s_draws_are_its_own_and_a_checkpoint_continues_it(tmp_path):
    whole = Sim(load_scenario("daymude-2025"), people=800, days=60)
    whole.run()
    first = Sim(load_scenario("daymude-2025"), people=800, days=60)
    for _ in range(25):
        first.step()
    first.save_state(tmp_path / "cp")
    rest = Sim.from_state(tmp_path / "cp")
    rest.run()
    for col in COLUMNS + ["self_censoring_share", "compliant_share", "defiant_share"]:
        np.testing.assert_array_equal(rest.outcomes.data[col], whole.outcomes.data[col],
                                      err_msg=col)
    assert _authority(rest).values() == _authority(whole).values()


def test_off_unless_enabled():
    sim = Sim(scenario("seed"), seed=1, people=300, days=2)
    assert not sim.added and sim.adaptation.tolerance == sim.scenario.adaptation.tolerance
    assert "authority_tolerance" not in sim.outcomes.data


def test_governing_a_scheme_moves_its_points_tolerance_and_records():
    overrides = {"authority.enabled": True, "authority.scheme": "government",
                 "authority.initial_tolerance": 0.1, "authority.initial_severity": 1.0,
                 "authority.initial_surveillance": 1.0, "phases.mandatory": "2018-01-01",
                 "phases.voluntary": "2017-12-01"}
    sim = Sim(load_scenario("seed", overrides), seed=2, people=1_500, days=120)
    assert [type(c) for c in sim.added] == [Authority, AuthorityWatch]
    names = [name for name, _ in sim.plan()]
    assert names.index("authority_watch") == names.index("records") + 1
    assert names.index("authority") == names.index("sanctions") + 1
    results = sim.run()
    auth = _authority(sim)
    gov = sim.schemes["government"]
    scale = auth.current["severity"] / 1.0
    for i, base in auth.dissent_rules:  # (critical statements, Beijing's protests)
        assert gov.rules[i].points == pytest.approx(base * scale)
    assert {gov.rules[i].config.kind for i, _ in auth.dissent_rules} == {
        "critical_statement", "protest"}
    assert sim.adaptation.tolerance == auth.current["tolerance"]
    assert sim.adaptation.surveillance_share == auth.current["surveillance"]
    df = results.outcomes_df()
    assert df["punishment_total"].sum() > 0 and df["authority_severity"].nunique() > 3
    # An authority that records nothing it can punish: no punishment at all.
    blind = load_scenario("seed", {**overrides, "authority.initial_surveillance": 0.0,
                                   "authority.surveillance_max": 0.0})
    sim = Sim(blind, seed=2, people=1_500, days=40)
    df = sim.run().outcomes_df()
    assert (df["punishment_total"] == 0).all()
    assert (df["authority_surveillance"] == 0).all()


def test_governing_overlooks_dissent_within_its_tolerance():
    """With a tolerance of 1 nobody's dissent exceeds it: the scheme sees no critical
    statement, and the same run's other records stand."""
    common = {"authority.enabled": True, "authority.scheme": "government",
              "authority.initial_surveillance": 1.0, "authority.step": 1e-12}
    lax = load_scenario("seed", {**common, "authority.initial_tolerance": 1.0})
    sim = Sim(lax, seed=3, people=1_000, days=30)
    df = sim.run().outcomes_df()
    assert df["critical_statements"].sum() > 0
    assert (df["punishment_total"] == 0).all()
    strict = load_scenario("seed", {**common, "authority.initial_tolerance": 0.0})
    df2 = Sim(strict, seed=3, people=1_000, days=30).run().outcomes_df()
    assert df2["records_social"].sum() > df["records_social"].sum()


def test_scoresim_run_daymude_writes_the_five_columns(tmp_path):
    import pandas as pd
    from typer.testing import CliRunner

    from scoresim.cli import app

    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["run", "daymude-2025", "--people", "500", "--days",
                                   "30", "--out", str(out)])
    assert res.exit_code == 0, res.output
    df = pd.read_parquet(out / "outcomes.parquet")
    assert set(COLUMNS) <= set(df.columns)
    assert df[COLUMNS].notna().all().all()


def test_every_array_the_authority_holds_is_declared():
    from scoresim.model.component import held_arrays

    governed = load_scenario("seed", {"authority.enabled": True,
                                      "authority.scheme": "government"})
    for sc in (load_scenario("daymude-2025"), governed):
        sim = Sim(sc, seed=1, people=300, days=3)
        sim.run()
        for component in sim.added:
            known = {s.name for s in component.declared()} | set(component.CACHES) | set(
                component.CONSTANTS)
            assert set(held_arrays(component)) <= known, type(component).__name__


def test_the_gallery_s_port_of_their_code_acts_as_the_model_s_rule():
    """The reference of case daymude_authority (a port of their rmhc_trial) computes
    actions as scoresim's strategic rule does, on the shipped grid of their opt_action."""
    from scoresim.experiments.validation.cases import daymude_grid
    from scoresim.experiments.validation.daymude_reference import opt_actions
    from scoresim.model.adaptation import strategic_dissent_plain

    g = daymude_grid()
    for policy in ("uniform", "proportional"):
        for tau in np.unique(g["tau"]):
            for psi in np.unique(g["psi"]):
                for nu in np.unique(g["nu"]):
                    at = ((g["policy"] == policy) & (g["tau"] == tau) & (g["psi"] == psi)
                          & (g["nu"] == nu))
                    d, beta = g["delta"][at], g["beta"][at]
                    np.testing.assert_array_equal(
                        opt_actions(d, beta, nu, policy, tau, psi),
                        strategic_dissent_plain(d, beta, nu, tau, psi, policy))


def test_the_report_shows_the_authority_s_parameters_over_time(tmp_path):
    from scoresim.results.report import report_charts
    from scoresim.results.run_folder import Results

    Sim("daymude-2025", people=400, days=40).run().save(tmp_path / "run")
    charts = {c.name: c for c in report_charts(Results.load(tmp_path / "run"))}
    assert "authority.png" in charts and "Tolerance 0.25 on the first day" in charts[
        "authority.png"].alt
    from test_reports_read import _allowed, _rgb, colours_used

    allowed = _allowed()  # (the colour-blind safe palette of every report figure)
    for art, colour in colours_used(charts["authority.png"].figure):
        if not (isinstance(colour, str) and colour == "none"):
            assert _rgb(colour) is None or _rgb(colour) in allowed, (art, colour)
    html = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert "The adaptive authority" in html and 'id="fig-authority"' in html
    Sim("seed", people=300, days=5).run().save(tmp_path / "plain")
    assert "The adaptive authority" not in (tmp_path / "plain" / "report.html").read_text(
        encoding="utf-8")


def test_no_authority_acts_in_the_burn_in(monkeypatch):
    """The burn-in runs the society without schemes or sanctions, and without the
    authority: one authority is built (the run's), and it judges the run's days alone."""
    built = []
    init = Authority.__init__

    def counting(self, sim):
        built.append(sim.scenario.start)
        init(self, sim)

    monkeypatch.setattr(Authority, "__init__", counting)
    sc = load_scenario("daymude-2025", {"burn_in_days": 6})
    sim = Sim(sc, people=300, days=5)
    sim.run()
    assert built == [sc.start]
    assert _authority(sim).rounds == 4  # (days 1 to 4; day 0 judges nothing)


def test_a_resize_keeps_what_the_authority_set():
    """A population resized (growth): the components are built afresh and the state put
    back; the authority's parameters, the scheme's points and the tolerance people go by
    are those before."""
    sc = load_scenario("seed", {"authority.enabled": True, "authority.scheme": "government",
                                "authority.initial_surveillance": 1.0})
    sim = Sim(sc, seed=4, people=600, days=60)
    for _ in range(30):
        sim.step()
    before = _authority(sim).values()
    points = [r.points for r in sim.schemes["government"].rules]
    tolerance = sim.adaptation.tolerance
    assert before["rounds"] == 29  # (days 1 to 29 judged)
    sim.resize_people(np.arange(0, sim.people.n, 2), 40)
    assert _authority(sim).values() == before
    assert [r.points for r in sim.schemes["government"].rules] == points
    assert sim.adaptation.tolerance == tolerance
    sim.step()
