"""scoresim ablate: each mechanism switched off alone, common random numbers (issue 28, 3)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from scoresim.cli import app
from scoresim.experiments.ablation import BY_NAME, MECHANISMS, Mechanism, ablate, ablated
from scoresim.scenario.loading import load_scenario
from scoresim.scenario.schema import Scenario

runner = CliRunner()


def test_every_mechanism_switches_off_valid_keys_of_seed():
    """Every declared mechanism gives a valid scenario for seed (no key misspelt: the
    schema is strict) and changes it."""
    sc = load_scenario("seed")
    for mech in MECHANISMS:
        off, overrides = ablated(sc, mech)
        assert off is not None, (mech.name, overrides)
        assert off.model_dump(exclude={"name"}) != sc.model_dump(exclude={"name"}), mech.name


def test_overrides_follow_the_scenario_schemes():
    """Overrides are built from the scenario: a scheme without the feature is left alone,
    a scenario without it skips the mechanism with the reason."""
    sc = load_scenario("seed")
    _, overrides = ablated(sc, BY_NAME["opacity"])
    assert overrides == {"schemes.sesame.opaque": False}  # (government is transparent)
    none = load_scenario("seed", {"schemes.sesame.opaque": False})
    off, why = ablated(none, BY_NAME["opacity"])
    assert off is None and "opaque" in why


def test_friends_pull_already_off_gives_exactly_zero_effect():
    """With every friend_weight 0 the declared mechanism is skipped (nothing to switch off),
    and switching it off anyway (every scheme's friend_weight = 0) changes nothing: with
    common random numbers both runs are identical, every effect exactly 0."""
    sc = load_scenario("seed", {"schemes.government.friend_weight": 0.0,
                                "schemes.sesame.friend_weight": 0.0})
    ab = ablate(sc, replicates=2, people=200, days=60, workers=1, only=["friends_pull"])
    assert ab.effects.empty and ab.skipped[0][0] == "friends_pull"
    assert "friend_weight" in ab.skipped[0][1]

    def every_scheme(s: Scenario) -> dict:
        return {f"schemes.{n}.friend_weight": 0.0 for n in s.schemes}

    forced = Mechanism("friends_pull", "M4", "friends' pull", every_scheme, "")
    ab = ablate(sc, replicates=2, people=200, days=60, workers=1, mechanisms=[forced])
    assert len(ab.effects) > 0 and not ab.skipped
    assert (ab.replicates.effect.fillna(0) == 0).all()
    assert (ab.effects.effect.fillna(0) == 0).all()
    assert (ab.replicates.full.fillna(-1) == ab.replicates.ablated.fillna(-1)).all()


def test_self_censorship_adds_self_censoring():
    """Self-censorship off: nobody self-censors (the ablated share is exactly 0), so the
    effect (full - ablated) is the full run's share, never negative. At 300 people and 900
    days seed's final share was 0.023, 0.027 and 0.05 for seeds 0-2 (7 to 15 people): the
    mean effect over three seeds is 0 only if nobody self-censors on the last day in all
    three, which would itself be a change of the model worth a look, not noise."""
    sc = load_scenario("seed")
    ab = ablate(sc, replicates=3, people=300, days=900, workers=1, only=["self_censorship"])
    reps = ab.replicates[ab.replicates.outcome == "self_censoring_share"]
    assert (reps.ablated == 0).all()
    assert (reps.effect >= 0).all()
    row = ab.effects[ab.effects.outcome == "self_censoring_share"].iloc[0]
    assert row.effect > 0
    assert row.mechanism == "self_censorship" and row.model_id == "M6"


def test_cli_writes_the_folder(tmp_path):
    out = tmp_path / "abl"
    res = runner.invoke(app, ["ablate", "seed", "--replicates", "2", "--people", "150",
                              "--days", "40", "--workers", "1", "--out", str(out),
                              "--only", "opacity,gaming"])
    assert res.exit_code == 0, res.output
    for name in ("ablation.csv", "ablation.md", "ablation.png", "index.md", "ablation.json",
                 "replicates.csv"):
        assert (out / name).is_file(), name
    assert not list(tmp_path.glob("abl.partial-*"))
    page = (out / "index.md").read_text()
    assert "M13 opacity" in page and "adaptation.gaming_strength" in page
    import pandas as pd

    table = pd.read_csv(out / "ablation.csv")
    assert set(table.mechanism) == {"opacity", "gaming"}
    assert {"effect", "ci_low", "ci_high", "full_mean", "ablated_mean"} <= set(table.columns)


@pytest.mark.parametrize("only", ["friends_pul", "opacity,nonsense"])
def test_cli_refuses_an_unknown_mechanism(tmp_path, only):
    out = tmp_path / "abl"
    res = runner.invoke(app, ["ablate", "seed", "--people", "100", "--days", "10",
                              "--out", str(out), "--only", only])
    assert res.exit_code == 2
    bad = only.split(",")[-1]
    assert repr(bad) in res.output and "friends_pull" in res.output
    assert not out.exists() and not list(tmp_path.glob("abl.partial-*"))


def test_nothing_to_switch_off_writes_the_reasons(tmp_path):
    """A scenario without the feature: the mechanism is skipped, the folder says why."""
    out = tmp_path / "abl"
    res = runner.invoke(app, ["ablate", "baseline", "--replicates", "1", "--people", "100",
                              "--days", "10", "--workers", "1", "--out", str(out),
                              "--only", "opacity"])
    assert res.exit_code == 0, res.output
    assert "skipped opacity" in res.output
    page = (out / "index.md").read_text()
    assert "## Skipped" in page and "ablation.png" not in page
    assert not (out / "ablation.png").exists()
