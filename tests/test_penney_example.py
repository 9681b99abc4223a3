"""The worked calibration of the chill against Penney (2016): examples/penney_chill.py."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "penney_chill.py"


@pytest.fixture(scope="module")
def penney():
    spec = importlib.util.spec_from_file_location("penney_chill", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_crossing_recovers_a_known_conversion(penney):
    """On a chill that is linear in log m (0.1 per doubling, 0 at m = 0.5) the crossing of
    20% is m = 2 exactly; a target the grid does not bracket gives NaN, not an edge."""
    grid = np.array([0.5, 1.0, 3.0, 6.0])
    chills = 0.1 * np.log2(grid / 0.5)
    assert penney.crossing(grid, chills, 0.20) == pytest.approx(2.0, rel=1e-12)
    assert penney.crossing(grid, chills, 0.15) == pytest.approx(0.5 * 2 ** 1.5, rel=1e-12)
    assert math.isnan(penney.crossing(grid, chills, 0.9))
    assert penney.chill(np.array([4.0, 6.0]), np.array([3.0, 4.5])) == pytest.approx(0.25)


def test_a_larger_conversion_chills_more_in_the_model(penney):
    """In the model itself (150 people, 60 days of seed's mandatory phase, two seeds; runs
    are deterministic given the seed, so no false failures): with the conversion to
    perceived severity times 4, people say fewer critical things than with it halved, in
    every seed, and the fitted m at 20% lies between the two; the counterfactual (nobody
    censors) is what the chill is measured against."""
    r = penney.calibrate(people=150, seeds=2, grid=(0.5, 4.0), days=60)
    by = {(row["seed"], row["m"]): row for row in r["rows"]}
    for s in range(2):
        low, high = by[(s, 0.5)], by[(s, 4.0)]
        assert low["free"] == high["free"] > 0
        assert 0 <= low["chill"] < high["chill"]
        assert high["chill"] > 0.05
        assert high["scored"] < high["free"]
    for fit in r["fits"]:
        assert 0.5 < fit["m_20"] < 4.0 or math.isnan(fit["m_20"])
    assert any(0.5 < fit["m_20"] < 4.0 for fit in r["fits"])
    text = penney.summary(r)
    assert "Fitted range" in text and "severity_per_point" in text
