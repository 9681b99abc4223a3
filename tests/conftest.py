"""Shared helpers: small scenarios built from the presets with dotted overrides."""

from __future__ import annotations

import os
import textwrap

import pytest

from scoresim import Sim, load_scenario


def scenario(name: str = "seed", **overrides):
    """A preset with overrides given as keyword arguments; '__' stands for '.' in keys."""
    return load_scenario(name, {k.replace("__", "."): v for k, v in overrides.items()})


#: The presets' schemes as running sums (the model before issue 20: no record periods, daily
#: recomputation, no repair), for tests of other mechanisms whose effects were calibrated on
#: it. Rule positions: the presets' rules with their own ``lasts_days``.
RUNNING_SESAME = {"schemes.sesame.lasts_days": None, "schemes.sesame.rules.5.lasts_days": None,
                  "schemes.sesame.recompute_every_days": 1}
RUNNING = {"schemes.government.lasts_days": None,
           "schemes.government.rules.8.lasts_days": None,
           "schemes.government.rules.9.lasts_days": None,
           "schemes.government.rules.12.lasts_days": None,
           "schemes.government.recompute_every_days": 1,
           "schemes.government.repair.apply_rate_per_day": 0.0, **RUNNING_SESAME}


def run(name: str = "seed", people: int = 2000, days: int = 120, seed: int = 1, **overrides):
    sim = Sim(scenario(name, **overrides), seed=seed, people=people, days=days)
    results = sim.run()
    return sim, results


@pytest.fixture(params=[0, 1, 2])
def any_seed(request):
    """Statistical tests must hold for several seeds, not one that happened to work."""
    return request.param


def scenario_with(tmp_path, text, name="scenario.toml"):
    """Write a scenario file (dedented) into tmp_path; return its path."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def require_browser():
    """Skip a browser test where Chromium or Playwright is missing, except in CI (CI=true),
    where their absence fails the test: CI installs both (.ci/run, the test extra)."""
    from scoresim.results.screenshot import chromium_path

    in_ci = os.environ.get("CI", "").lower() in ("true", "1", "yes")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if in_ci:
            pytest.fail("CI must install playwright (the test extra of pyproject.toml)")
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    if chromium_path() is None:
        if in_ci:
            pytest.fail("CI must install Chromium (.ci/run: apt-get install chromium)")
        pytest.skip("no Chromium (apt-get install chromium, or set SCORESIM_CHROMIUM)")
