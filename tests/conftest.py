"""Shared helpers: small scenarios built from the presets with dotted overrides."""

from __future__ import annotations

import os
import textwrap

import pytest

from scoresim import Sim, load_scenario


def scenario(name: str = "seed", **overrides):
    """A preset with overrides given as keyword arguments; '__' stands for '.' in keys."""
    return load_scenario(name, {k.replace("__", "."): v for k, v in overrides.items()})


def run(name: str = "seed", people: int = 2000, days: int = 120, seed: int = 1, **overrides):
    sim = Sim(scenario(name, **overrides), seed=seed, people=people, days=days)
    results = sim.run()
    return sim, results


@pytest.fixture(autouse=True)
def _close_figures():
    """Figures a test draws and does not close are closed after it (scoresim's own code
    closes every chart it writes; a test that inspects charts may leave them open, and
    more than 20 open figures warn, which fails a later test)."""
    import sys

    yield
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")


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
