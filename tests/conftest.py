"""Shared helpers: small scenarios built from the presets with dotted overrides."""

from __future__ import annotations

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


@pytest.fixture(params=[0, 1, 2])
def any_seed(request):
    """Statistical tests must hold for several seeds, not one that happened to work."""
    return request.param


def scenario_with(tmp_path, text, name="scenario.toml"):
    """Write a scenario file (dedented) into tmp_path; return its path."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path
