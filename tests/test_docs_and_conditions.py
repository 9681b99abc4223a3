"""docs/scenarios.md documents every key; rule conditions parse, refuse and act."""

from pathlib import Path

import numpy as np
import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from conftest import run, scenario
from scoresim import ScenarioError, Sim, load_scenario
from scoresim.cli import app
from scoresim.scenario import schema as models
from scoresim.scenario.conditions import parse
from scoresim.scenario.docs import SECTIONS, reference

DOC = Path(__file__).parent.parent / "docs" / "scenarios.md"


def all_models():
    return [m for m in vars(models).values()
            if isinstance(m, type) and issubclass(m, BaseModel) and m.__module__ == models.__name__
            and m is not models.Strict and not m.__name__.startswith("_")]


def test_every_model_has_a_section_and_every_field_is_documented():
    documented = {m for _, m in SECTIONS}
    assert set(all_models()) == documented
    text = DOC.read_text(encoding="utf-8")
    for model in all_models():
        for name, field in model.model_fields.items():
            assert f"| `{name}` |" in text, f"{model.__name__}.{name} missing from {DOC}"
            assert field.description, f"{model.__name__}.{name} has no description"


def test_reference_in_docs_is_up_to_date():
    assert reference() in DOC.read_text(encoding="utf-8"), (
        "run: python -m scoresim.scenario.docs docs/scenarios.md")


def test_every_toml_example_in_the_docs_is_valid(tmp_path):
    """The worked examples, put on top of seed, load (those that are whole sections)."""
    import re
    import tomllib

    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 8
    for block in blocks:
        tomllib.loads(block)  # every example is valid TOML


# ------------------------------------------------------------------------ conditions


def test_conditions_parse():
    cond = parse("age_band in [student, working] and score < 900 and phase != voluntary")
    assert [c.name for c in cond.clauses] == ["age_band", "score", "phase"]
    assert cond.holds_in_phase("mandatory") and not cond.holds_in_phase("voluntary")
    assert parse("region not in [beijing]").clauses[0].op == "not in"


@pytest.mark.parametrize(("text", "message"), [
    ("colour == red", "unknown name 'colour'"),
    ("age_band < student", "takes == != in"),
    ("score < high", "compares with a number"),
    ("region == beijing or job == good", "expected 'and'"),
    ("region in [beijing", "ends where"),
    ("job == good and", "ends where"),
    ("job = good", "cannot read"),
    ("__import__('os')", "cannot read"),
])
def test_bad_conditions_are_refused(text, message):
    with pytest.raises(ValueError, match=message):
        parse(text)


def test_a_condition_limits_a_rule_to_the_people_it_names():
    rules = [r.model_dump(exclude_none=True) for r in
             load_scenario("seed").schemes["government"].rules]
    for rule in rules:
        if rule["kind"] == "critical_statement":
            rule["when"] = "age_band == student"
    sim, _ = run(days=120, seed=3, schemes__government__rules=rules,
                 schemes__government__friend_weight=0.0, **{"phases__mandatory": "2018-02-01"})
    gov, p = sim.schemes["government"], sim.people
    crit = p.private_opinion < -0.5
    students, others = crit & (p.age_band == 0) & gov.scored, crit & (p.age_band != 0) & gov.scored
    # Critical students pay for their statements, other critics do not.
    assert gov.b[students].mean() < gov.b[others].mean() - 5


def test_a_sanction_condition_narrows_who_is_sanctioned():
    common = dict(people=3000, days=150, seed=2, schemes__government__initial_score=955,
                  life__job_search_rate_per_day=0.02, phases__mandatory="2018-02-01")
    _, everyone = run(**common)
    _, poor_only = run(sanctions__job_denied__when="income_decile <= 2", **common)
    assert 0 < poor_only.column("sanctions_job_denied").sum() < 0.6 * everyone.column(
        "sanctions_job_denied").sum()


# ------------------------------------------------------------------- the user's path


def test_copy_seed_change_friend_weight_and_points_and_see_it_in_the_run(tmp_path):
    rules = load_scenario("seed").schemes["government"].rules
    index = next(i for i, r in enumerate(rules) if r.kind == "critical_statement")
    out = tmp_path / "run"
    res = CliRunner().invoke(app, [
        "run", "seed", "--people", "300", "--days", "5", "--out", str(out), "--quiet",
        "--set", "schemes.government.friend_weight=0.35",
        "--set", f"schemes.government.rules.{index}.points=-25"])
    assert res.exit_code == 0, res.output
    ran = load_scenario(out / "scenario.toml")
    assert ran.schemes["government"].friend_weight == 0.35
    assert ran.schemes["government"].rules[index].points == -25


def test_show_prints_the_resolved_scenario():
    res = CliRunner().invoke(app, ["show", "baseline", "--set", "people.count=77"])
    assert res.exit_code == 0
    assert "count = 77" in res.output and "[schemes." not in res.output


def test_set_with_a_bad_list_index_is_explained():
    with pytest.raises(ScenarioError, match="expected an index from 0 to"):
        load_scenario("seed", {"schemes.government.rules.99.points": 1})


def test_conditions_never_evaluate_code():
    with pytest.raises(ScenarioError):
        Sim(scenario("seed", **{"sanctions__job_loss__when": "__import__('os').getcwd()"}))
    assert np.True_  # reached only without side effects


def test_the_readme_scenario_example_loads(tmp_path):
    import re

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = re.findall(r"```toml\n(.*?)```", readme, flags=re.S)[0]
    path = tmp_path / "harsh.toml"
    path.write_text(block, encoding="utf-8")
    sc = load_scenario(path)
    assert sc.schemes["government"].friend_weight == 0.4
    assert [r.kind for r in sc.schemes["government"].rules] == ["critical_statement"]
