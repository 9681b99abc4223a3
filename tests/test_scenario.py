"""Loading scenarios: presets, extends/replace, overrides, and errors that name the key."""

import subprocess
import sys

import pytest

from conftest import scenario_with as write
from scoresim import ScenarioError, load_scenario, preset_names
from scoresim.scenario.loading import deep_merge


def error_of(path_or_name, overrides=None) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path_or_name, overrides)
    return str(info.value)


def test_presets_all_load_and_cite_their_sources():
    assert set(preset_names()) == {"baseline", "sesame", "government-pilot", "seed",
                                   "daymude-2025", "documented-practice"}
    for name in preset_names():
        sc = load_scenario(name)
        assert sc.name == name
        assert sc.description


def test_seed_runs_2018_to_2022_with_mandatory_phase_in_2020():
    sc = load_scenario("seed")
    assert sc.start.isoformat() == "2018-01-01" and sc.end.isoformat() == "2022-12-31"
    assert sc.phases["mandatory"].isoformat() == "2020-01-01"
    assert {"government", "sesame"} <= set(sc.schemes)


def test_baseline_is_seed_without_scoring():
    seed, base = load_scenario("seed"), load_scenario("baseline")
    assert base.schemes == {} and base.sanctions == {}
    assert base.people == seed.people and base.network == seed.network
    assert base.sources == seed.sources and base.behaviour == seed.behaviour


def test_documented_practice_is_seed_with_the_documented_government_side():
    """Issue 28, item 6: the same society, sources and Sesame as seed; the government side
    as documented: court-list sanctions, city points by consent fed by punishments, no
    sanction read from a low score, no political points, no friends' scores."""
    from scoresim.declarations.events import POLITICAL_KINDS
    from scoresim.declarations.sanctions import PRIVILEGE_EFFECTS
    from scoresim.experiments.compare import society_differences

    seed, doc = load_scenario("seed"), load_scenario("documented-practice")
    assert society_differences(seed, doc) == []
    assert doc.sources == seed.sources and doc.blacklist == seed.blacklist
    assert doc.schemes["sesame"] == seed.schemes["sesame"]
    assert "government" not in doc.schemes
    points = doc.schemes["city_points"]
    assert points.enrolment.mode == "voluntary" and points.enrolment.mandatory_from_phase is None
    assert points.friend_weight == 0 and "social" not in points.sources
    assert not {r.kind for r in points.rules} & set(POLITICAL_KINDS)
    assert {r.kind for r in points.rules if r.points < 0} >= {"court_listing", "bill_default"}
    for name, sanc in doc.sanctions.items():
        if sanc.effect in PRIVILEGE_EFFECTS:
            continue
        # a penalty follows the court list or the commercial score, never the city points
        assert sanc.blacklisted or sanc.scheme == "sesame", name
    assert {"travel_ban", "blacklist_loans", "blacklist_posts"} <= set(doc.sanctions)


def test_extends_with_relative_path_and_override(tmp_path):
    write(tmp_path, """
        extends = "seed"
        [people]
        count = 321
    """, "parent.toml")
    child = write(tmp_path, """
        extends = "parent.toml"
        [schemes.government]
        friend_weight = 0.3
    """, "child.toml")
    sc = load_scenario(child, {"schemes.sesame.initial_score": 650})
    assert sc.people.count == 321
    assert sc.schemes["government"].friend_weight == 0.3
    assert sc.schemes["government"].initial_score == 1000  # merged, not replaced
    assert sc.schemes["sesame"].initial_score == 650


def test_deep_merge_merges_tables_and_replaces_the_rest():
    assert deep_merge({"a": {"x": 1, "y": [1]}, "b": 2}, {"a": {"y": [3]}}) == {
        "a": {"x": 1, "y": [3]}, "b": 2}


def test_unknown_preset_lists_the_presets():
    msg = error_of("sed")
    assert "sed" in msg and "seed" in msg and "baseline" in msg


def test_wrong_type_names_file_key_and_expectation(tmp_path):
    path = write(tmp_path, """
        extends = "seed"
        [people]
        count = "many"
    """)
    msg = error_of(path)
    assert str(path) in msg and "people.count" in msg and "integer" in msg
    assert "line 4" in msg


def test_out_of_range_value(tmp_path):
    path = write(tmp_path, """
        extends = "seed"
        [schemes.government]
        friend_weight = 1.5
    """)
    msg = error_of(path)
    assert "schemes.government.friend_weight" in msg and "less than or equal to 1" in msg


def test_unknown_key_suggests_the_valid_one(tmp_path):
    path = write(tmp_path, """
        extends = "seed"
        [schemes.government]
        frend_weight = 0.3
    """)
    msg = error_of(path)
    assert "unknown key `schemes.government.frend_weight`" in msg
    assert "Did you mean `friend_weight`?" in msg


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"schemes.government.tiers.C.max": 900}, "overlap"),
        ({"schemes.government.tiers.C.max": 800}, "gap"),
        ({"schemes.government.sources": ["social", "nsa"]}, "unknown source 'nsa'"),
        ({"sanctions.job_loss.scheme": "gov"}, "unknown scheme 'gov'"),
        ({"sanctions.job_loss.phases": ["later"]}, "unknown phase 'later'"),
        ({"sanctions.housing_denied.regions": ["tokyo"]}, "unknown region 'tokyo'"),
        ({"end": "2017-01-01"}, "before `start`"),
        ({"people.regions.other": 0.6}, "must add up to 1"),
        ({"schemes.government.initial_score": 5000}, "outside"),
        ({"sanctions.job_loss.below": 900}, "exactly one condition"),
        ({"behaviour.rates_per_day.comment": -1}, "greater than or equal to 0"),
        ({"schemes.government.rules": [{"kind": "telepathy", "points": 1}]}, "telepathy"),
    ],
)
def test_invalid_values_are_caught_before_the_run(overrides, expected):
    assert expected in error_of("seed", overrides)


def test_bad_toml_names_the_file(tmp_path):
    path = write(tmp_path, "start = [\n")
    msg = error_of(path)
    assert str(path) in msg and "not valid TOML" in msg


def test_extends_cycle_is_reported(tmp_path):
    write(tmp_path, 'extends = "b.toml"\n', "a.toml")
    write(tmp_path, 'extends = "a.toml"\n', "b.toml")
    assert "cycle" in error_of(tmp_path / "a.toml")


def test_replace_of_missing_key_is_reported(tmp_path):
    path = write(tmp_path, 'extends = "seed"\nreplace = ["shemes"]\n')
    assert "'shemes' is not a key" in error_of(path)


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "scoresim.cli", *args], capture_output=True,
                          text=True, cwd=cwd)


def test_cli_bad_input_exits_2_with_one_paragraph_and_no_traceback(tmp_path):
    path = write(tmp_path, """
        extends = "seed"
        [people]
        count = -5
    """)
    for args in (["run", str(path)], ["run", "no-such-preset"], ["run", "seed", "--days", "0"],
                 ["run", "seed", "--set", "people.count"]):
        res = cli(*args, cwd=tmp_path)
        assert res.returncode == 2, (args, res.stderr)
        assert res.stderr.startswith("error:"), res.stderr
        assert "Traceback" not in res.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"sanctions.internet_throttled.probability_per_day": 0.5}, "holds every day"),
    ({"sanctions.job_loss.factor": 2.0}, "`factor` has no meaning"),
])
def test_sanction_parameters_that_would_do_nothing_are_refused(overrides, expected):
    assert expected in error_of("seed", overrides)


@pytest.mark.parametrize(("args", "expected"), [
    (["run", "seed", "--trace", "-1", "--people", "50", "--days", "2"], "--trace"),
    (["run", "seed", "--trace-ids", "a,b", "--people", "50", "--days", "2"], "--trace-ids"),
    (["run", "seed", "--trace-ids", "77", "--people", "50", "--days", "2"], "must lie in"),
    (["run", "seed", "--people", "0"], "--people"),
    (["run", "seed", "--seed", "-3"], "--seed"),
    (["compare", "baseline", "seed", "--workers", "0"], "--workers"),
    (["show", "seed", "--set", "=3"], "expected KEY=VALUE"),
])
def test_bad_command_line_values_are_explained(tmp_path, args, expected):
    from typer.testing import CliRunner

    from scoresim.cli import app

    res = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "o")] if args[0] in (
        "run", "compare") else args)
    assert res.exit_code == 2, res.output
    assert expected in res.output
    assert not (tmp_path / "o").exists()
