"""Tie turnover (docs/network.md): the rules one by one, and the network settling.

The stationarity tests run 2,000 people for 10 simulated years on 3 seeds each. Their bands
were set from runs of seeds 0-9 (the largest deviation seen, times about two), so a false
failure on another seed is unlikely (none in the ten seeds looked at). Each seed's run tests
the whole claim on its own (a drifting network drifts on every seed); three seeds instead of
five (issue 30: the suite within 10 minutes) only lower the chance of a false failure."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from conftest import scenario
from scoresim import Sim
from scoresim.model.network import (
    FORMED_DTYPE,
    Network,
    Regions,
    form_ties,
    has_room,
    meet,
    missing_friends,
    open_to_friends,
    seekers,
    settle_ages,
    within_room,
)

SEEDS = [0, 1, 2]
YEARS = 10


def ring(n: int, k: int) -> Network:
    u = np.repeat(np.arange(n), k // 2)
    v = (u + np.tile(np.arange(1, k // 2 + 1), n)) % n
    return Network(n, u, v)


# ------------------------------------------------------------------------- the rules


def test_ties_carry_their_day_of_formation_through_changes():
    net = ring(10, 4)
    assert net.formed.dtype == FORMED_DTYPE and net.formed.shape == (net.n_edges,)
    drop = np.zeros(net.n_edges, bool)
    drop[0] = True
    net.update(drop, np.array([0]), np.array([5]), today=30)
    new = (net.u == 0) & (net.v == 5)
    assert net.formed[new].tolist() == [30]
    assert (net.formed[~new] == 0).all()
    net.add(np.array([1]), np.array([6]), today=400)
    assert net.ages(500)[(net.u == 1) & (net.v == 6)].tolist() == [100]
    assert net.ages(500)[(net.u == 0) & (net.v == 5)].tolist() == [470]
    assert net.n_edges == 21


def test_capacity_is_the_degree_the_network_was_made_with():
    net = ring(12, 6)
    assert (net.capacity == 6).all()
    net.remove((net.u == 0) & (net.v == 1))
    assert missing_friends(net).tolist() == [1, 1] + [0] * 10
    assert not has_room(net, np.array([2]))[0] and has_room(net, np.array([0]))[0]
    assert has_room(net, np.array([2]), np.full(12, 2.0, np.float32))[0]  # dating boost


def test_settled_ages_follow_the_dissolution_rate():
    net = ring(20_000, 10)
    settle_ages(net, 0.0003, np.random.default_rng(0))
    older = (net.ages(0) > 365).mean()
    assert older == pytest.approx(np.exp(-0.0003 * 365), abs=0.01)


def test_only_those_below_capacity_seek_and_more_so_the_more_they_miss():
    missing = np.array([0, 1, 3, 0], np.float32)
    u = np.full(4, 0.15)
    assert seekers(u, missing, 0.1).tolist() == [2]   # 1 - e^-0.3 = 0.26 > 0.15 > 0.095
    assert seekers(np.full(4, 0.99), missing, 100.0).tolist() == [1, 2]


def test_meeting_a_friend_of_a_friend_closes_a_triangle():
    net = Network(5, np.array([0, 1, 3]), np.array([1, 2, 4]))  # 0-1-2 path, 3-4
    net.capacity[:] = 3  # everyone has room
    region = np.array([0, 0, 0, 1, 1])
    everyone = open_to_friends(net, region)
    g = np.zeros((5, 1))
    g[1] = 0.99  # 0's only friend is 1; 1's friends: 0, 2; the second
    assert meet(net, np.array([0]), g, everyone, 1.0, 0.0).tolist() == [2]
    net.capacity[2] = 1  # 2 has no room: 0 meets a stranger (of region 0: 0, 1 or 2)
    g[2] = 0.0
    assert meet(net, np.array([0]), g, open_to_friends(net, region), 1.0, 1.0).tolist() in (
        [0], [1])
    g[3] = 0.6  # no triadic closure: a stranger of the region (same_region_share 1)
    assert meet(net, np.array([3]), g, everyone, 0.0, 1.0).tolist() == [4]
    nobody = Regions(region, np.array([], np.int64), 2)
    assert meet(net, np.array([3]), g, nobody, 0.0, 1.0).tolist() == [-1]


def test_nobody_takes_more_new_ties_than_they_have_room_for():
    missing = np.array([1.0, 2.0, 0.5, 0.0])
    a, b = np.array([0, 0, 1, 2, 1]), np.array([1, 2, 2, 1, 3])
    # (person 2 has room for one: 0-2 comes first, though 0 has no room left for it)
    assert within_room(a, b, missing).tolist() == [True, False, False, False, False]


def test_form_ties_gives_newcomers_ties_where_others_have_room():
    net = ring(200, 6)
    net.remove(np.isin(net.u, [10, 20, 30]))  # some people with room
    newcomers = np.arange(190, 200)
    net.remove(np.isin(net.u, newcomers) | np.isin(net.v, newcomers))
    rng = np.random.default_rng(3)
    region = np.zeros(200, np.int64)
    formed = sum(form_ties(net, newcomers, rng, region, friend_of_friend_share=0.5,
                           same_region_share=1.0, today=5) for _ in range(10))
    assert formed >= 10
    assert (net.degree[newcomers] > 0).all()
    assert (net.degree <= net.capacity).all()
    touches = np.isin(net.u, newcomers) | np.isin(net.v, newcomers)
    assert (net.formed[touches] == 5).all()


# ----------------------------------------------------------------- the network settles


def years_run(name: str, seed: int, **overrides):
    """Ten years of ``name`` in a fixed population: tie turnover as the network model makes
    it (deaths end ties too, and newcomers find friends: tests/test_demography.py holds the
    network's outcomes level with the population turning over)."""
    overrides.setdefault("demography__enabled", False)
    sc = scenario(name, **overrides)
    end = sc.start.replace(year=sc.start.year + YEARS) - dt.timedelta(days=1)
    sim = Sim(sc.model_copy(update={"end": end}), seed=seed, people=2000)
    res = sim.run()
    md = res.column("mean_degree")
    yearly = md[364::365][:YEARS]
    return sim, res, np.concatenate([[md[0]], yearly])


@pytest.mark.parametrize("seed", SEEDS)
def test_baseline_holds_its_mean_degree_for_ten_years(seed):
    sim, res, md = years_run("baseline", seed)
    configured = sim.scenario.network.mean_degree
    # Stated band: every year-end within 4% of the configured mean degree (seen: <= 2.5%);
    # after the first year (which settles the replacement lag, about 2%), no year moves it
    # by more than 1% (seen: <= 0.6%).
    assert np.all(np.abs(md / configured - 1) < 0.04), md
    assert np.all(np.abs(np.diff(md[1:])) < 0.01 * configured), md
    # The degree distribution is the one generated: each person near their capacity
    # (seen after 5 years: correlation 0.90, nobody above it, spread 1.11 against 1.01).
    net = sim.network
    assert np.corrcoef(net.degree, net.capacity)[0, 1] > 0.8
    assert (net.degree <= net.capacity).all()
    assert net.degree.std() < 1.3 * net.capacity.std()
    # A stated turnover: about 10% of ties end each year, as many form.
    per_year = res.column("ties_dissolved").sum() / YEARS / sim.network.n_edges
    assert 0.08 < per_year < 0.13
    formed = res.column("ties_added").sum()
    assert formed == pytest.approx(res.column("ties_dissolved").sum(), rel=0.05)
    # Ties older than a year: about exp(-0.0003 * 365) = 90% throughout.
    old = res.column("ties_over_a_year_share")
    assert 0.85 < old[365:].min() and old.max() < 0.94


@pytest.mark.parametrize("seed", SEEDS)
def test_seed_reaches_a_steady_state(seed):
    sim, res, md = years_run("seed", seed)
    # Stated bound: in each of the last two years the mean degree changes by less than
    # 2% of the configured mean degree (seen: <= 1%); and it stays above 80% of it.
    configured = sim.scenario.network.mean_degree
    assert np.all(np.abs(np.diff(md[-3:])) < 0.02 * configured), md
    assert md[-1] > 0.8 * configured, md
    # Unfriending rewires: the ties dropped for a score are replaced.
    assert res.column("ties_unfriended").sum() > 0
