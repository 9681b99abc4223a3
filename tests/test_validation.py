"""The validation gallery (quick form): every case passes, every case fails when the model
is given a wrong input on purpose; the ODD protocol is complete and docs/odd-seed.md is
fresh."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from scoresim import load_scenario
from scoresim.cli import app
from scoresim.experiments import validation as gallery
from scoresim.experiments.odd import odd_protocol, parameters, step_order

ROOT = Path(__file__).parent.parent
CASES = {c.name: c for c in gallery.CASES}


@pytest.mark.parametrize("name", list(CASES))
def test_case_passes_in_quick_form(name):
    outcome = gallery.run_case(CASES[name], quick=True)
    failed = [c for c in outcome.checks if not c.passed]
    assert outcome.passed, "\n".join(gallery.table_lines(outcome))
    assert not failed


@pytest.mark.parametrize("name", list(CASES))
def test_case_fails_with_a_wrong_model_input(name):
    """The check can fail: a wrong input to the model (a shifted tolerance, thresholds one
    person higher, another friend weight, twice the rewiring, a simple contagion, other
    initial scores) fails the case."""
    case = CASES[name]
    assert case.wrong, f"{name}: no wrong input declared"
    outcome = gallery.run_case(case, quick=True, **case.wrong)
    assert not outcome.passed, "\n".join(gallery.table_lines(outcome))


def test_reference_numbers_ship_with_the_package():
    grid = gallery.cases.daymude_grid()
    assert grid["delta"].shape[0] == 20_412
    from importlib import resources

    data = resources.files("scoresim.experiments.validation").joinpath("data/daymude-2025")
    assert "MIT License" in data.joinpath("LICENSE").read_text(encoding="utf-8")
    assert "Tie convention" in data.joinpath("README.md").read_text(encoding="utf-8")


def test_validation_command_writes_the_gallery(tmp_path):
    result = CliRunner().invoke(app, ["validation", "--quick", "--case", "watts_strogatz",
                                      "--case", "daymude", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "published: 0.667" in result.output and "2 of 2 cases pass" in result.output
    text = (tmp_path / "validation.md").read_text(encoding="utf-8")
    assert "| [daymude](#daymude) |" in text and "**2 of 2 cases pass.**" in text
    for name in ("daymude", "watts_strogatz"):
        assert (tmp_path / "validation" / f"{name}.png").stat().st_size > 1000
        assert f"validation/{name}.png" in text


def test_validation_command_refuses_an_unknown_case(tmp_path):
    result = CliRunner().invoke(app, ["validation", "--case", "nope", "--no-figures"])
    assert result.exit_code != 0
    assert "unknown case 'nope'" in str(result.exception) + result.output


def test_the_gallery_in_docs_lists_every_case_passing():
    text = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    assert f"**{len(CASES)} of {len(CASES)} cases pass.**" in text
    for name in CASES:
        assert f"## {name.replace('_', '-')}" in text
        assert (ROOT / "docs" / "validation" / f"{name}.png").is_file()


# ------------------------------------------------------------------------------ ODD


def test_odd_seed_in_docs_is_up_to_date():
    expected = odd_protocol(load_scenario("seed"))
    assert (ROOT / "docs" / "odd-seed.md").read_text(encoding="utf-8") == expected, (
        "docs/odd-seed.md is out of date: run "
        "`python -m scoresim.experiments.odd seed docs/odd-seed.md`")


def test_odd_has_every_section_every_step_and_every_parameter():
    sc = load_scenario("seed")
    text = odd_protocol(sc)
    for section in ("1. Purpose and patterns", "2. Entities, state variables and scales",
                    "3. Process overview and scheduling", "4. Design concepts",
                    "5. Initialisation", "6. Input data", "7. Submodels"):
        assert f"## {section}" in text
    steps = step_order(sc)  # (the steps of the components seed wants too)
    assert len(steps) >= 8 and all(step in text for step in steps)
    rows = parameters(sc)
    keys = [r[0] for r in rows]
    assert len(keys) == len(set(keys))
    for key, _value, unit, _ in rows:
        assert f"| `{key}` | " in text and unit
    # every leaf of the scenario appears
    dumped = sc.model_dump()

    def leaves(d, prefix=""):
        for k, v in d.items():
            if isinstance(v, dict) and v:
                yield from leaves(v, f"{prefix}{k}.")
            elif isinstance(v, list) and v and isinstance(v[0], dict):
                for i, item in enumerate(v):
                    yield from leaves(item, f"{prefix}{k}[{i}].")
            else:
                yield f"{prefix}{k}"

    assert set(leaves(dumped)) <= set(keys)
    assert {"schemes.government.initial_score", "adaptation.tolerance",
            "behaviour.rates_per_day.critical_statement"} <= set(keys)
    units = dict((r[0], r[2]) for r in rows)
    assert units["schemes.government.initial_score"] == "points"
    assert units["behaviour.rates_per_day.critical_statement"] == "events per person per day"
    assert units["adaptation.rewire_every_days"] == "days"
    assert units["people.regions.beijing"] == "share (0-1)"


def test_odd_follows_a_new_key_and_the_scenarios_values():
    sc = load_scenario("seed", {"adaptation.tolerance": 0.37, "people.count": 1234})
    text = odd_protocol(sc)
    assert "| `adaptation.tolerance` | 0.37 | share (0-1) |" in text
    assert "1,234 people" in text


def test_odd_command(tmp_path):
    out = tmp_path / "odd.md"
    result = CliRunner().invoke(app, ["odd", "sesame", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# ODD protocol: scenario `sesame`")
    assert "| `schemes.sesame.min_score` | 350 | points |" in text
