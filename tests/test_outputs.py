"""Run folders: complete or absent; readable back; one smoke run per preset."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from scoresim import Results, ScenarioError, load_scenario, preset_names
from scoresim.cli import app
from scoresim.results.outcomes import histogram_stats

EXPECTED = {"scenario.toml", "metadata.json", "outcomes.parquet", "people.parquet"}
REQUIRED_COLUMNS = ["score_mean", "score_gini", "enrolled_share", "opted_out",
                    "score_assortativity"]
GLOBAL_REQUIRED = ["critical_statements", "expression_gap", "critic_degree_ratio",
                   "isolated_critics", "sanctions_wrongful", "sanctions_association",
                   "opted_out"]


@pytest.mark.parametrize("preset", preset_names())
def test_every_preset_runs_from_the_cli(tmp_path, preset):
    out = tmp_path / preset
    res = CliRunner().invoke(app, ["run", preset, "--people", "600", "--days", "30",
                                   "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    files = {p.name for p in out.iterdir()}
    assert EXPECTED <= files
    assert any(f.endswith(".png") for f in files)
    results = Results.load(out)
    assert results.outcomes.num_rows == 30
    assert results.people.num_rows == 600
    for col in GLOBAL_REQUIRED:
        assert col in results.outcomes.column_names
    for scheme in results.scenario.schemes:
        for col in REQUIRED_COLUMNS:
            assert f"{scheme}_{col}" in results.outcomes.column_names
        for tier in results.scenario.schemes[scheme].tiers:
            assert f"{scheme}_tier_{tier}" in results.outcomes.column_names
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["people"] == 600 and meta["days"] == 30 and len(meta["scenario_sha256"]) == 64


def test_saved_scenario_reloads_to_the_same_scenario(tmp_path):
    sc = load_scenario("seed", {"schemes.government.friend_weight": 0.3})
    from scoresim import Sim

    results = Sim(sc, people=300, days=5).run()
    results.save(tmp_path / "run", figures=False)
    again = load_scenario(tmp_path / "run" / "scenario.toml")
    assert again == results.scenario
    assert again.schemes["government"].friend_weight == 0.3
    assert again.people.count == 300


def test_a_failed_save_leaves_no_folder(tmp_path, monkeypatch):
    from scoresim import Sim
    from scoresim.results import figures

    results = Sim("seed", people=300, days=5).run()

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(figures, "write_figures", boom)
    with pytest.raises(KeyboardInterrupt):
        results.save(tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_never_overwritten(tmp_path):
    from scoresim import Sim

    (tmp_path / "run").mkdir()
    with pytest.raises(ScenarioError, match="exists already"):
        Sim("seed", people=100, days=2).run().save(tmp_path / "run")


def test_incomplete_folder_is_not_loaded(tmp_path):
    with pytest.raises(ScenarioError, match="not a complete run folder"):
        Results.load(tmp_path)


def test_histogram_stats_match_exact_statistics():
    rng = np.random.default_rng(0)
    x = np.clip(rng.normal(600, 60, 50_000), 350, 950).astype(np.float32)
    stats = histogram_stats(x, 350, 950)
    assert stats["score_mean"] == pytest.approx(x.mean(), rel=1e-6)
    for p in (10, 50, 90):
        assert abs(stats[f"score_p{p}"] - np.percentile(x, p)) <= 1.0
    xs = np.sort(x.astype(np.float64)) - 350  # (the Gini of the score above the minimum)
    n = xs.size
    exact_gini = (2 * np.arange(1, n + 1) - n - 1).dot(xs) / (n * xs.sum())
    assert stats["score_gini"] == pytest.approx(exact_gini, abs=2e-3)


def test_gini_of_equal_scores_is_zero():
    assert histogram_stats(np.full(100, 700.0, np.float32), 350, 950)["score_gini"] == 0


def test_assortativity_from_the_sparse_product_equals_pearson_over_ties():
    from scoresim.model.network import small_world
    from scoresim.results.outcomes import assortativity, correlation

    rng = np.random.default_rng(0)
    net = small_world(3000, 10, 0.1, rng)
    s = rng.normal(1000, 30, 3000).astype(np.float32)
    s[:1500] += np.linspace(0, 60, 1500).astype(np.float32)
    scored = rng.random(3000) < 0.8
    both = scored[net.u] & scored[net.v]
    su, sv = s[net.u[both]], s[net.v[both]]
    exact = correlation(np.concatenate([su, sv]), np.concatenate([sv, su]))
    assert assortativity(net, s, scored) == pytest.approx(exact, abs=1e-6)
