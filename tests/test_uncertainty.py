"""compare --uncertainty: parameter sets drawn over the assumptions' ranges (Latin
hypercube, seeded), effects with intervals over assumptions and seeds beside the seeds-only
interval, and a variance-based sensitivity of each effect (issue 28, item 4). Tiny runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from scoresim import ScenarioError, load_scenario
from scoresim.cli import app
from scoresim.experiments import uncertainty as unc
from scoresim.results.comparison import Comparison


def test_draws_are_a_seeded_latin_hypercube_within_the_ranges():
    ranges = {"x": (0.0, 1.0), "y": (10.0, 20.0), "k": (1.0, 5.0)}
    d = unc.draws(ranges, 8, seed=3, integer={"k"})
    assert list(d.columns) == ["k", "x", "y"] and len(d) == 8
    # one draw in each of the 8 equal strata of every range
    for key in ("x", "y"):
        low, high = ranges[key]
        strata = np.floor((d[key] - low) / (high - low) * 8).astype(int)
        assert sorted(strata) == list(range(8))
    assert d.k.dtype.kind == "i" and d.k.between(1, 5).all()
    pd.testing.assert_frame_equal(d, unc.draws(ranges, 8, seed=3, integer={"k"}))
    assert not d.equals(unc.draws(ranges, 8, seed=4, integer={"k"}))


def test_drawn_values_reach_only_the_keys_a_scenario_has():
    seed, base = load_scenario("seed"), load_scenario("baseline")
    values = {"adaptation.severity_per_point": 0.05,
              "schemes.government.rules.5.points": -12.0,
              "behaviour.rates_per_day.critical_statement": 0.1}
    s2, b2 = unc.with_values(seed, values), unc.with_values(base, values)
    assert s2.adaptation.severity_per_point == 0.05
    assert s2.schemes["government"].rules[5].points == -12.0
    assert b2.behaviour.rates_per_day.critical_statement == 0.1 == \
        s2.behaviour.rates_per_day.critical_statement
    assert b2.schemes == {}
    with pytest.raises(ScenarioError, match="invalid"):
        unc.with_values(seed, {"adaptation.tolerance": 7.0})


def test_ranges_of_two_scenarios_and_their_groups():
    seed, base = load_scenario("seed"), load_scenario("baseline")
    ranges, group = unc.ranges_of(base, seed)
    assert "adaptation.severity_per_point" in ranges and "people.boldness_mean" in ranges
    assert group["adaptation.severity_per_point"] == "dissent"
    only, _ = unc.ranges_of(base, seed, ["dissent"])
    assert only and all(group[k] == "dissent" for k in only)
    with pytest.raises(ScenarioError, match="the groups are"):
        unc.ranges_of(base, seed, ["no_such_group"])


@pytest.fixture(scope="module")
def tiny():
    a, b = load_scenario("baseline"), load_scenario("seed")
    return unc.uncertain_compare(a, b, n=6, replicates=2, people=150, days=40, workers=1,
                                 groups=["dissent", "behaviour"])


def test_uncertain_compare_reports_both_intervals(tiny):
    u = tiny.uncertainty
    assert list(u.outcome) == list(tiny.effects.outcome)
    scored = u.outcome != "score_position"  # (baseline scores no one: not defined)
    assert (u.runs[scored] == 6 * 2).all() and (u.runs[~scored] == 0).all()
    ok = u.dropna(subset=["uncertain_low", "uncertain_high"])
    assert (ok.uncertain_low <= ok.uncertain_mean + 1e-12).all()
    assert (ok.uncertain_mean <= ok.uncertain_high + 1e-12).all()
    assert len(tiny.draws) == 6 and set(tiny.draw_effects.set) == set(range(6))
    assert tiny.metadata["uncertainty"]["parameter_sets"] == 6
    # the seeds-only part is the plain comparison at the documented values
    np.testing.assert_allclose(u.effect, tiny.effects.effect)
    sens = tiny.sensitivity
    assert set(sens.columns) == {"outcome", "parameter", "group", "S1", "S1_conf"}
    assert set(sens.parameter) <= set(tiny.draws.columns)
    few = unc.sensitivity(tiny.draws.head(4), tiny.draw_effects[tiny.draw_effects.set < 4],
                          {})
    assert few.empty  # too few sets for RBD-FAST


def test_uncertainty_tables_are_saved_and_read_back(tiny, tmp_path):
    tiny.save(tmp_path / "cmp")
    back = Comparison.load(tmp_path / "cmp")
    pd.testing.assert_frame_equal(back.uncertainty, tiny.uncertainty)
    pd.testing.assert_frame_equal(back.draws, tiny.draws)
    assert (tmp_path / "cmp" / "uncertainty.csv").is_file()
    assert "over the assumptions" in (tmp_path / "cmp" / "report.html").read_text()


def test_sensitivity_finds_the_parameter_that_drives_an_effect():
    values = unc.draws({"a": (0.0, 1.0), "b": (0.0, 1.0), "c": (0.0, 1.0)}, 64, seed=1)
    rows = [{"set": i, "seed": s, "outcome": "critical_statements",
             "effect": 5 * values.a[i] + 0.1 * values.b[i]} for i in range(64) for s in (0, 1)]
    table = unc.sensitivity(values, pd.DataFrame(rows), {"a": "g1", "b": "g2", "c": "g2"})
    s1 = dict(zip(table.parameter, table.S1, strict=True))
    conf = dict(zip(table.parameter, table.S1_conf, strict=True))
    assert s1["a"] > 0.9 and conf["a"] < 0.1
    for weak in ("b", "c"):  # nothing, or noise within its own interval
        assert abs(s1[weak]) < max(conf[weak], 0.05) and s1["a"] - s1[weak] > 0.5
    groups = unc.by_group(table)
    assert groups.iloc[0].group == "g1"


@pytest.mark.parametrize("args, message", [
    (["--uncertainty", "1"], "at least 2 parameter sets"),
    (["--uncertainty", "3", "--fork-at", "2018-02-01"], "cannot be combined"),
])
def test_the_command_refuses_bad_uncertainty_options(tmp_path, args, message):
    result = CliRunner().invoke(app, ["compare", "baseline", "seed", "--people", "100",
                                      "--days", "20", "--out", str(tmp_path / "c"), *args])
    assert result.exit_code != 0
    assert message in str(result.exception) + result.output
