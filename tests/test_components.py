"""The component contract (model/component.py): a component declares its state, and
checkpoints, resizing, newcomers' resets and the memory estimate follow from the
declarations, with no list kept anywhere else.

The proof is a toy component written in this one file, a lottery that gives each person a
point with a small daily chance: registered, it takes part in the day, fills its own
outcome column, and is checkpointed, resized, reset for newcomers and counted in the
memory estimate without any other change to the code.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from conftest import scenario
from scoresim import Sim
from scoresim.declarations.outcomes import OutcomeColumn
from scoresim.limits import scenario_memory
from scoresim.model.component import (
    Array,
    Component,
    declared_bytes,
    held_arrays,
    register,
    unregister,
    walk,
)
from scoresim.sim import DAY, state_bytes

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "src" / "scoresim" / "model"


class Lottery(Component):
    """A daily lottery: each person wins a point with a small chance (a toy component)."""

    KEY = "lottery"
    STAGE = "sanctions"  # (runs after the sanctions of the day)
    STATE = (Array("points", newcomer=0), Array("last_win", newcomer=-1))
    OUTPUTS = (OutcomeColumn("lottery_winners", "people who won the lottery today",
                             "people per day"),)
    CHANCE = 0.01

    def __init__(self, sim):
        self.sim = sim
        self.points = np.zeros(sim.people.n, np.int32)
        self.last_win = np.full(sim.people.n, -1, np.int32)

    @classmethod
    def wanted(cls, scenario) -> bool:
        return True

    def step(self, day) -> None:
        n = self.sim.people.n
        won = self.sim.streams.gen("lottery.draw", day.t).random(n) < self.CHANCE
        self.points[won] += 1
        self.last_win[won] = day.t
        day.outputs["lottery_winners"] = int(won.sum())


@pytest.fixture
def lottery():
    register(Lottery)
    yield Lottery
    unregister(Lottery)


def _lottery(sim) -> Lottery:
    return next(c for c in sim.added if isinstance(c, Lottery))


def test_a_registered_component_runs_in_the_day_and_fills_its_column(lottery):
    sim = Sim(scenario("seed", demography__enabled=False), seed=3, people=800, days=60)
    names = [name for name, _ in sim.plan()]
    assert names.index("lottery") == names.index("sanctions") + 1
    results = sim.run()
    lot = _lottery(sim)
    winners = results.outcomes_df()["lottery_winners"]
    assert winners.sum() == lot.points.sum() > 0  # (no one leaves: demography off)
    # the expected number of winners, within 5 standard deviations (false failure < 1e-6)
    mean = 800 * 60 * Lottery.CHANCE
    assert abs(winners.sum() - mean) < 5 * np.sqrt(mean)


def test_a_component_changes_no_draw_of_another(lottery):
    """Its own named stream: every other outcome is the same with and without it."""
    unregister(Lottery)
    plain = Sim(scenario("seed"), seed=3, people=600, days=40)
    plain.run()
    register(Lottery)
    withit = Sim(scenario("seed"), seed=3, people=600, days=40)
    withit.run()
    for col, values in plain.outcomes.data.items():
        np.testing.assert_array_equal(values, withit.outcomes.data[col], err_msg=col)


def test_a_checkpoint_continues_the_component_exactly(lottery, tmp_path):
    whole = Sim(scenario("seed"), seed=4, people=600, days=80)
    whole.run()
    first = Sim(scenario("seed"), seed=4, people=600, days=80)
    for _ in range(30):
        first.step()
    first.save_state(tmp_path / "cp")
    assert "lottery.points" in np.load(tmp_path / "cp" / "state.npz").files
    rest = Sim.from_state(tmp_path / "cp")
    rest.run()
    np.testing.assert_array_equal(_lottery(rest).points, _lottery(whole).points)
    np.testing.assert_array_equal(_lottery(rest).last_win, _lottery(whole).last_win)
    np.testing.assert_array_equal(rest.outcomes.data["lottery_winners"],
                                  whole.outcomes.data["lottery_winners"])


def test_newcomers_and_a_resize_handle_the_component(lottery):
    sim = Sim(scenario("seed"), seed=5, people=500, days=200)
    for _ in range(120):
        sim.step()
    lot = _lottery(sim)
    who = np.flatnonzero(lot.points > 0)[:20]
    assert who.size == 20
    sim.demography.replace(sim.people, sim.network, who, sim.scenario, sim.streams, sim.t)
    sim.reset_people(who, sim.t)
    assert (lot.points[who] == 0).all() and (lot.last_win[who] == -1).all()
    # A resize: keep every second person, add 50 empty slots.
    before = lot.points.copy()
    keep = np.arange(0, sim.people.n, 2)
    index = sim.resize_people(keep, 50)
    lot = _lottery(sim)
    assert lot.points.shape == (keep.size + 50,)
    np.testing.assert_array_equal(lot.points[index[keep]], before[keep])
    assert (lot.points[keep.size:] == 0).all()
    sim.step()  # (and the day goes on)


def test_the_memory_estimate_counts_the_component(lottery):
    sc = scenario("seed")
    with_it = state_bytes(sc)
    unregister(Lottery)
    without = state_bytes(sc)
    register(Lottery)
    assert with_it - without == 8  # (two int32 arrays a person)
    assert (scenario_memory(sc, 0, with_it) - scenario_memory(sc, 0, without)
            == 8 * sc.people.count)


# ------------------------------------------------------------ the contract, for all


@pytest.mark.parametrize("preset", ["seed", "sesame", "government-pilot", "baseline",
                                    str(ROOT / "examples" / "seed-lending.toml")])
def test_every_array_a_component_holds_is_declared(preset):
    """State, caches, constants or stores: nothing else (so that nothing is left out of
    checkpoints, resizes and resets)."""
    sim = Sim(scenario(preset), seed=1, people=400, days=70)
    sim.run()
    for component in walk(sim.components()):
        known = {spec.name for spec in component.declared()} | set(component.CACHES) | set(
            component.CONSTANTS) | set(component.STORES)
        undeclared = set(held_arrays(component)) - known
        assert not undeclared, f"{type(component).__name__} holds {sorted(undeclared)}"


def test_declared_bytes_follow_the_arrays():
    sim = Sim(scenario("baseline"), seed=1, people=300, days=2)
    per = declared_bytes([sim.sanctions], sim.people.n)
    state = sum(x.nbytes for x, spec in sim.sanctions.collect().values())
    assert per == (state + sim.sanctions._ones.nbytes) / 300  # (its state, its cache)


def test_the_two_books_of_rules_have_the_same_names():
    from scoresim.model.compiled import compiled
    from scoresim.model.plain import plain

    a, b = vars(plain()), vars(compiled())
    assert a.keys() == b.keys()
    assert a["engine"] == "reference" and b["engine"] == "compiled"


def test_no_model_module_branches_on_the_engine():
    """The engine is chosen once, by the simulation (model/plain.py or model/compiled.py
    handed to each component): no condition in a model module names it."""
    found = []
    for path in MODEL.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.If, ast.IfExp, ast.While)):
                names = {n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)} | {
                    n.attr for n in ast.walk(node.test) if isinstance(n, ast.Attribute)}
                if names & {"reference", "engine"}:
                    found.append(f"{path.name}:{node.lineno}")
    assert not found, found


def test_no_class_in_the_model_is_longer_than_250_lines():
    long = []
    for path in MODEL.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > 250:
                long.append(f"{path.name}:{node.name} ({node.end_lineno - node.lineno + 1})")
    assert not long, long


def test_docs_list_the_day_in_the_plan_s_order():
    """docs/architecture.md's day, rule by rule, follows ``DAY`` (each step named)."""
    import re

    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = re.findall(r"^\d\. \*\*[^*]+\*\* \(`(\w+)`\)", text, re.MULTILINE)
    assert named == [stage.name for stage in DAY]
