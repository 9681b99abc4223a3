"""Every number that shapes a preset's results is a fact or an assumption (issue 28):
provenance.toml is complete, valid and current, the doubtful figures stay fixed, and the
parameter tables show it."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scoresim import ScenarioError, load_scenario, preset_names
from scoresim.cli import app
from scoresim.scenario import provenance as prov

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("preset", preset_names())
def test_every_value_that_shapes_a_preset_has_a_fact_or_an_assumption(preset):
    sc = load_scenario(preset)
    problems = prov.missing(sc)
    assert not problems, ("values without provenance (add them to "
                          "src/scoresim/scenario/provenance.toml):\n" + "\n".join(problems))
    # every number, yes/no and text that is not a run option, label or name is covered
    entries, skip = prov.provenance(sc), prov.unused(sc)
    for leaf in prov.leaves(sc):
        if prov.run_option(leaf.name) or leaf.name in skip:
            continue
        assert leaf.key in entries, leaf.name


def test_no_entry_is_stale():
    stale = prov.stale_entries([load_scenario(p) for p in preset_names()])
    assert not stale, f"entries no preset uses: {stale}"


def test_a_changed_value_loses_its_provenance():
    sc = load_scenario("seed", {"adaptation.tolerance": 0.5,
                                "behaviour.rates_per_day.blood_donation": 0.0008})
    problems = "\n".join(prov.missing(sc, "seed"))
    assert "adaptation.tolerance = 0.5" in problems and "in [0, 0.3]" in problems
    assert "blood_donation = 0.0008" in problems and "3.07e-05" in problems


def test_facts_carry_source_figure_and_transformation_and_assumptions_a_range():
    defaults, presets = prov.load_entries()
    entries = [*defaults.values(), *(e for t in presets.values() for e in t.values())]
    assert entries
    for e in entries:
        if e.kind == "fact":
            assert e.source and e.quote and e.transformation, e.pattern
            assert e.low is None and e.high is None
        else:
            assert e.why, e.pattern
            numeric = isinstance(e.value, int | float) and not isinstance(e.value, bool)
            if numeric and not e.tied:
                assert e.low is not None and e.low <= e.value <= e.high, e.pattern


@pytest.mark.parametrize("raw, message", [
    ({"kind": "fact", "value": 1.0, "source": "s", "quote": "q"}, "needs transformation"),
    ({"kind": "guess", "value": 1.0}, "fact or assumption"),
    ({"kind": "assumption", "value": 1.0, "why": "w"}, "needs a range"),
    ({"kind": "assumption", "value": 5.0, "low": 0.0, "high": 1.0, "why": "w"},
     "outside its range"),
    ({"kind": "assumption", "value": 0.5, "low": 1.0, "high": 0.0, "why": "w"}, "above high"),
    ({"kind": "assumption", "value": 0.5, "low": 0.0, "why": "w"}, "both low and high"),
    ({"kind": "assumption", "value": 0.5, "low": 0.0, "high": 1.0}, "needs `why`"),
    ({"kind": "assumption", "value": 0.5, "tied": True, "low": 0.0, "high": 1.0,
      "why": "w"}, "give no range"),
    ({"kind": "fact", "value": 1.0, "source": "s", "quote": "q", "transformation": "t",
      "low": 0.0, "high": 2.0}, "no range"),
    ({"kind": "fact", "value": 1.0, "sauce": "s"}, "unknown field"),
])
def test_an_invalid_entry_is_refused_with_its_key(raw, message):
    with pytest.raises(ScenarioError) as info:
        prov._entry("a.key", raw, None, "provenance.toml: default.'a.key'")
    assert message in str(info.value) and "a.key" in str(info.value)


def test_patterns_match_one_part_and_any_rule():
    assert prov.matches("schemes.*.initial_score", "schemes.pilot.initial_score")
    assert not prov.matches("schemes.*.initial_score", "schemes.a.b.initial_score")
    assert prov.matches("schemes.*.rules[*].cap_period_days",
                        "schemes.sesame.rules[mobile_payment].cap_period_days")
    assert prov.matches("schemes.pilot.rules[bill_default:suqian].points",
                        "schemes.pilot.rules[bill_default:suqian].points")
    names = [leaf.name for leaf in prov.leaves(load_scenario("government-pilot"))]
    assert "schemes.pilot.rules[bill_default:rongcheng+other].points" in names


def test_assumption_ranges_are_the_numeric_assumptions_that_vary():
    sc = load_scenario("seed")
    ranges = prov.assumption_ranges(sc)
    assert ranges["adaptation.severity_per_point"] == (0.005, 0.1)
    assert ranges["schemes.government.rules.5.points"] == (-20.0, -3.0)  # critical statements
    assert "behaviour.rates_per_day.blood_donation" not in ranges  # a fact
    assert "people.regions.beijing" not in ranges  # tied to the other shares
    assert "people.thresholds.mean" not in ranges  # no effect under the strategic rule
    assert "adaptation.risk_learning" not in ranges  # a choice, not a number
    values = {leaf.key: leaf.value for leaf in prov.leaves(sc)}
    for key, (low, high) in ranges.items():
        assert low < high and low <= values[key] <= high, key
    # a key of a scheme that is not there is not drawn
    assert not any(k.startswith("schemes.") for k in
                   prov.assumption_ranges(load_scenario("baseline")))


def test_the_doubtful_figures_of_issue_28_stay_fixed():
    seed, pilot = load_scenario("seed"), load_scenario("government-pilot")
    # blood donations: 11.2 per 1,000 people a year, not 0.0008 a day
    assert math.isclose(seed.behaviour.rates_per_day.blood_donation, 11.2 / 1000 / 365,
                        rel_tol=0.01)
    # the court list is not the rail blacklist's 180 days
    assert seed.blacklist.days != 180 and pilot.blacklist.days != 180
    assert prov.provenance(seed)["blacklist.days"].kind == "assumption"
    # settling is an assumption, not the NDRC's 3.51M / 22.9M read as a fact
    settles = prov.provenance(seed)["sanctions.travel_ban.settles_probability"]
    assert settles.kind == "assumption" and settles.value != 0.15
    # the pilot's 11% is awareness of the pilot: an assumption about the rules
    assert prov.provenance(pilot)["schemes.pilot.awareness"].kind == "assumption"
    # Sesame's relationships 5% counted once: friends' pull, no relationships factor
    for sc in (seed, load_scenario("sesame")):
        s = sc.schemes["sesame"]
        assert s.friend_weight == 0.05 and "relationships" not in s.factors
        assert sum(f.weight for f in s.factors.values()) == pytest.approx(1.0)
        assert s.factors["credit_history"].weight * (1 - s.friend_weight) == \
            pytest.approx(0.35, abs=1e-6)
    # job separations transferred from the US, retirement a mix of men's and women's
    p = prov.provenance(seed)
    assert p["life.good_job_separation_rate_per_day"].kind == "assumption"
    assert "US" in p["life.good_job_separation_rate_per_day"].why
    assert seed.demography.retirement_age_years < 60
    assert "women" in p["demography.retirement_age_years"].why


def test_parameters_doc_is_current():
    expected = prov.parameters_doc()
    assert (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8") == expected, (
        "docs/parameters.md is out of date: run "
        "`python -m scoresim.scenario.provenance docs/parameters.md`")


def test_odd_shows_the_provenance_of_each_parameter():
    result = CliRunner().invoke(app, ["odd", "seed", "--parameters",
                                      "--set", "adaptation.tolerance=0.2"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "| parameter | value | unit | provenance | meaning |"
    row = {line.split(" | ")[0]: line for line in lines[2:]}
    assert "fact: China's National Health Commission" in \
        row["| `behaviour.rates_per_day.blood_donation`"]
    assert "assumption, 0.005 to 0.1" in row["| `adaptation.severity_per_point`"]
    assert "set here (documented: 0.1, assumption, 0 to 0.3)" in \
        row["| `adaptation.tolerance`"]
    assert "no effect here" in row["| `people.thresholds.mean`"]
    assert "not a parameter" in row["| `people.count`"]
    assert "assumption, -20 to -3" in row["| `schemes.government.rules[5].points`"]
