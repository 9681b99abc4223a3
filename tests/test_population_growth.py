"""A population that grows or shrinks (``demography.growth_per_year``): its size follows
the key, the arrays are resized through one path (model/demography.py, "Why resize"),
checkpoints carry a resized run, shares stay shares, and bad values are refused."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from scoresim import ScenarioError, Sim, load_scenario
from scoresim.model.demography import target_size
from scoresim.results.outcomes import declared_columns

YEAR = 365.25


def _run(preset: str, growth: float, people: int, days: int, **kw) -> Sim:
    sim = Sim(load_scenario(preset, {"demography.growth_per_year": growth}), seed=3,
              people=people, days=days, **kw)
    sim.run()
    return sim


@pytest.fixture(scope="module", params=[0.02, -0.01], ids=["+2%", "-1%"])
def five_years(request):
    return request.param, _run("baseline", request.param, 2000, 1826)


def test_the_size_follows_the_growth_key(five_years):
    """2,000 people for five years (2018-2022) at +2% and -1% a year: the size after each
    turnover batch (every 7 days) is round(2000 (1 + g) ** (days / 365.25)), so after five
    years it lies within 0.1% of 2000 (1 + g) ** 5 (2,208 and 1,902; measured: 2,207 and
    1,902, the last batch on day 1,820)."""
    growth, sim = five_years
    pop = sim.outcomes.data["population"]
    steps = np.arange(pop.size)
    batch = (steps + 1) % 7 == 0
    want = [target_size(2000, growth, int(t)) for t in steps[batch]]
    np.testing.assert_array_equal(pop[batch], want)
    np.testing.assert_array_equal(np.diff(pop)[~batch[1:]], 0)  # (only on batch days)
    assert sim.people.n == pop[-1]
    assert sim.people.n == pytest.approx(2000 * (1 + growth) ** 5, rel=1e-3)
    # every array of every component has the new size; ids stay unique
    assert np.unique(sim.people.person_id).size == sim.people.n
    assert next(iter(sim.sources.link_u.values())).shape == (sim.people.n,)
    assert sim.sanctions.received.shape == (sim.people.n,)
    assert sim.network.n == sim.people.n and sim.network.degree.size == sim.people.n
    assert sim.network.u.max() < sim.people.n
    assert sim.demography.next_id == 2000 + int(sim.outcomes.data["people_entered"].sum())


def test_shares_stay_shares_in_a_changing_population(five_years):
    """Every outcome declared a share lies in [0, 1]: the denominators count the people
    present (every slot is a person present)."""
    _, sim = five_years
    _shares_in_range(sim)


def _shares_in_range(sim: Sim) -> None:
    cols = declared_columns(sim.scenario)
    shares = [c for c, d in cols.items() if d.unit == "share"]
    assert shares
    for col in shares:
        x = sim.outcomes.data[col]
        x = x[~np.isnan(x)]
        assert ((x >= 0) & (x <= 1)).all(), col


@pytest.mark.parametrize("growth", [0.15, -0.15])
def test_schemes_sanctions_and_tracing_in_a_resized_population(growth):
    """The seed preset (two schemes, record logs, sanctions, learning) with strong growth
    and strong shrinkage (-15% a year: more than the deaths, so people also emigrate):
    the size follows the key, shares stay shares, enrolment shares stay below 1, and the
    ledger of traced people names them by person id (a traced person in a removed slot is
    traced no more)."""
    sim = _run("seed", growth, 500, 200, trace=25)
    pop = sim.outcomes.data["population"]
    assert pop[-1] == target_size(500, growth, 195) == sim.people.n
    _shares_in_range(sim)
    for name in sim.schemes:
        share = sim.outcomes.data[f"{name}_enrolled_share"]
        assert (share <= 1).all()
    ledger = sim.tracer.table().to_pandas()
    assert len(ledger) and ledger["person_id"].notna().all()
    assert (sim.tracer.ids < sim.people.n).all()


def test_the_plan_of_a_batch():
    """Growing: every leaver replaced, the rest added. Shrinking: leavers' slots removed;
    where they are too few, others emigrate; nobody is replaced."""
    from scoresim.engine.rng import Streams
    from scoresim.model.demography import Demography
    from scoresim.scenario.schema import DemographyConfig

    demo, streams = Demography(DemographyConfig(), 10), Streams(0)
    gone, kept, add = demo.plan(10, np.array([1]), 12, streams, 0)
    assert gone.size == 0 and kept.tolist() == [1] and add == 2
    gone, kept, add = demo.plan(10, np.array([1, 3, 5]), 9, streams, 1)
    assert gone.size == 1 and gone[0] in (1, 3, 5) and add == 0
    assert sorted([*gone, *kept]) == [1, 3, 5]
    gone, kept, add = demo.plan(10, np.array([2]), 7, streams, 2)
    assert gone.size == 3 and 2 in gone and kept.size == 0 and add == 0
    assert np.unique(gone).size == 3 and (np.diff(gone) > 0).all()


def test_growth_zero_never_resizes(monkeypatch):
    """The default (0) keeps today's path: no resize (tests/data/regression.json holds the
    results, unchanged by the key)."""
    def boom(*a, **k):
        raise AssertionError("resized")

    monkeypatch.setattr(Sim, "resize_people", boom)
    sim = _run("seed", 0.0, 300, 60)
    assert (sim.outcomes.data["population"] == 300).all()


@pytest.mark.parametrize("growth", [0.1, -0.1])
def test_a_checkpoint_of_a_resized_run_continues_exactly(tmp_path, growth):
    """A run whose size changed before the checkpoint, continued from it, equals the
    uninterrupted run (and keeps changing size after it)."""
    sc = load_scenario("seed", {"start": "2019-10-01", "demography.growth_per_year": growth})
    cut = dt.date(2020, 1, 20)
    full = Sim(sc, seed=5, people=500, days=160)
    full.run(checkpoints={cut: tmp_path / "c"})
    again = Sim.from_state(tmp_path / "c")
    assert again.people.n != 500
    again.run()
    for col, x in full.outcomes.data.items():
        np.testing.assert_array_equal(again.outcomes.data[col], x, err_msg=col)
    for name in ("person_id", "job", "age_days", "region"):
        np.testing.assert_array_equal(getattr(again.people, name),
                                      getattr(full.people, name), err_msg=name)
    np.testing.assert_array_equal(again.network.u, full.network.u)
    for name, sch in full.schemes.items():
        np.testing.assert_array_equal(again.schemes[name].s, sch.s)


@pytest.mark.parametrize("value", [-1.5, -1, -0.5, 0.5, 3, "fast"])
def test_bad_growth_is_refused_naming_the_key(value):
    with pytest.raises(ScenarioError, match="growth_per_year"):
        load_scenario("baseline", {"demography.growth_per_year": value})


def test_growth_past_the_largest_population_is_refused_before_allocating():
    with pytest.raises(ScenarioError, match="demography.growth_per_year: 0.2 .*32-bit"):
        Sim(load_scenario("baseline", {"demography.growth_per_year": 0.2}),
            people=2_000_000_000, days=3650)


def test_the_memory_estimate_counts_the_largest_population():
    from scoresim.limits import peak_people, scenario_largest, scenario_memory

    base = load_scenario("baseline", {"end": "2027-12-31", "people.count": 100_000})
    grows = load_scenario("baseline", {"end": "2027-12-31", "people.count": 100_000,
                                       "demography.growth_per_year": 0.1})
    shrinks = load_scenario("baseline", {"end": "2027-12-31", "people.count": 100_000,
                                         "demography.growth_per_year": -0.1})
    assert peak_people(base) == peak_people(shrinks) == 100_000
    assert peak_people(grows) == pytest.approx(100_000 * 1.1 ** 10, rel=1e-3)
    # (10 years at +10%: 2.6 times the people, and a resize's second copy)
    extra = scenario_memory(grows) - scenario_memory(base)
    per_person = (scenario_memory(base) - scenario_memory(
        base.model_copy(update={"people": base.people.model_copy(update={"count": 0})})))
    assert extra > (2 * 1.1 ** 10 - 1) * 0.99 * per_person
    assert scenario_memory(shrinks) > scenario_memory(base)  # (the copy)
    have = 8 << 30
    assert scenario_largest(grows, have) < scenario_largest(base, have) / 5


def test_an_unclassified_array_is_refused_by_the_resize():
    """A per-person array the resize does not know (not one value per person on its
    last axis) is named, not left at the old size."""
    from scoresim import state

    sim = Sim("baseline", people=50, days=3)
    saved = state.collect(sim)
    saved.arrays["mystery.table"] = np.zeros((3, 7))
    with pytest.raises(ValueError, match="mystery.table"):
        state.resized(saved, 50, np.arange(40), 5)


def test_a_run_that_grows_past_the_memory_is_refused_before_it_starts(monkeypatch):
    """The command line's memory check counts the largest population the run reaches:
    a run that fits at its starting size but not at its size ten years on is refused
    before the society is built."""
    from typer.testing import CliRunner

    from scoresim import sim as sim_module
    from scoresim.cli import app
    from scoresim.limits import scenario_memory
    from scoresim.sim import resize

    def never(*args, **kwargs):
        raise AssertionError("the society was built before the memory check")

    steady = resize(load_scenario("baseline"), people=1_000_000, days=3650)
    monkeypatch.setattr(sim_module.Sim, "__init__", never)
    monkeypatch.setenv("SCORESIM_MEMORY_BYTES", str(int(scenario_memory(steady) * 1.5)))
    res = CliRunner().invoke(app, ["run", "baseline", "--people", "1000000", "--days", "3650",
                                   "--set", "demography.growth_per_year=0.2", "--quiet",
                                   "--out", "/nonexistent/never"])
    assert res.exit_code == 2, res.output
    assert "needs about" in " ".join(res.output.split())
