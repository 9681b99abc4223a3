"""The strategic dissent rule of Daymude, Axelrod and Forrest, case by case."""

import numpy as np
import pytest

from scoresim.model.adaptation import strategic_dissent


def a_star(d, beta, nu, tau, psi, punishment):
    return float(strategic_dissent(np.array([d]), beta, nu, tau, psi, punishment)[0])


@pytest.mark.parametrize("punishment", ["uniform", "proportional"])
def test_dissent_within_tolerance_is_expressed(punishment):
    assert a_star(0.05, 0.1, 0.9, 0.1, 5.0, punishment) == 0.05


@pytest.mark.parametrize("punishment", ["uniform", "proportional"])
def test_no_penalty_no_self_censorship(punishment):
    d = np.linspace(0, 1, 11)
    np.testing.assert_allclose(strategic_dissent(d, 0.5, 0.5, 0.1, 0.0, punishment), d)


def test_uniform_bold_and_far_enough_is_defiant():
    beta, nu, tau, psi = 1.0, 0.5, 0.1, 1.0
    d_uni = (beta * tau + nu * psi) / (beta - (1 - nu) * psi)  # = 1.2 ... too far
    assert d_uni > 1
    assert a_star(0.9, beta, nu, tau, psi, "uniform") == tau  # not worth it: comply
    beta = 3.0
    d_uni = (beta * tau + nu * psi) / (beta - (1 - nu) * psi)  # = 0.32
    assert a_star(d_uni + 0.01, beta, nu, tau, psi, "uniform") == pytest.approx(d_uni + 0.01)
    assert a_star(d_uni - 0.01, beta, nu, tau, psi, "uniform") == tau


def test_uniform_timid_complies():
    # beta <= (1 - nu) * psi: never defiant, always at the tolerance.
    assert a_star(0.9, 0.2, 0.5, 0.1, 1.0, "uniform") == 0.1


def test_proportional_censors_to_d_pro():
    beta, nu, tau, psi = 0.5, 0.5, 0.1, 1.0
    d_pro = (tau + (beta - nu * psi) / ((1 - nu) * psi)) / 2  # = 0.05 < tau
    assert a_star(0.8, beta, nu, tau, psi, "proportional") == tau
    beta = 1.5
    d_pro = (tau + (beta - nu * psi) / ((1 - nu) * psi)) / 2  # = 1.05
    assert a_star(0.8, beta, nu, tau, psi, "proportional") == 0.8  # d <= d_pro
    beta = 0.9
    d_pro = (tau + (beta - nu * psi) / ((1 - nu) * psi)) / 2  # = 0.45
    assert a_star(0.8, beta, nu, tau, psi, "proportional") == pytest.approx(d_pro)


def test_proportional_full_surveillance():
    assert a_star(0.8, 2.0, 1.0, 0.1, 1.0, "proportional") == 0.8  # beta >= psi
    assert a_star(0.8, 0.5, 1.0, 0.1, 1.0, "proportional") == 0.1  # beta < psi


def test_more_surveillance_never_raises_expression():
    d = np.linspace(0, 1, 51)
    for punishment in ("uniform", "proportional"):
        low = strategic_dissent(d, 0.8, 0.2, 0.1, 1.0, punishment)
        high = strategic_dissent(d, 0.8, 0.8, 0.1, 1.0, punishment)
        assert np.all(high <= low + 1e-12)


def test_threshold_rule_speaks_up_once_enough_friends_do():
    from scoresim.model.adaptation import threshold_dissent
    from scoresim.model.network import Network

    # Person 0 has friends 1, 2, 3; two of them voiced dissent yesterday.
    net = Network(5, np.array([0, 0, 0]), np.array([1, 2, 3]))
    expressed = np.array([0.0, 0.8, 0.9, 0.0, 0.0])
    d = np.full(5, 0.7)
    psi = np.full(5, 1.0)
    low = threshold_dissent(d, np.full(5, 0.5), psi, 0.1, net, expressed)
    high = threshold_dissent(d, np.full(5, 0.9), psi, 0.1, net, expressed)
    assert low[0] == 0.7 and high[0] == 0.1   # 2/3 of friends: enough for 0.5, not 0.9
    assert low[4] == 0.1                       # no friends: nobody to follow
    free = threshold_dissent(d, np.full(5, 0.9), np.zeros(5), 0.1, net, expressed)
    np.testing.assert_array_equal(free, d)     # no penalty: no self-censorship


def test_threshold_rule_in_a_run_censors_and_clusters():
    from conftest import run

    # (ties turning over fast enough for critics to find each other within 120 days)
    sim, res = run(people=2000, days=120, adaptation__self_censorship="threshold",
                   phases__mandatory="2018-02-01", adaptation__tie_dissolve_rate_per_day=0.003)
    assert res.final("self_censoring_share") > 0.05
    p = sim.people
    voiced = (p.expressed_dissent > 0.1).astype(np.float32)
    share = sim.network.neighbour_sum(voiced) / np.maximum(sim.network.degree, 1)
    critics = p.desired_dissent > 0.1
    # Critics who speak have more outspoken friends than critics who keep quiet.
    assert share[critics & (voiced > 0)].mean() > share[critics & (voiced == 0)].mean()


def test_gaming_multipliers_made_again_only_for_whom_something_changed(monkeypatch):
    """The rate multipliers of gaming are made again each day only for the people whose
    knowledge, visibility or region changed: every day they equal a fresh computation for
    everyone to the bit (the same kinds gamed, the same values), through enrolment,
    learning, publication and turnover; most days take the short way."""
    from scoresim import Sim
    from scoresim.model import adaptation

    again = []
    short_way = adaptation._gaming_again

    def counted(ad, g, people, who):
        again.append(who.size)
        return short_way(ad, g, people, who)

    monkeypatch.setattr(adaptation, "_gaming_again", counted)
    sim = Sim("seed", people=3000, days=70, seed=6)
    while sim.t < sim.n_steps:
        sim.step()
        ad = sim.adaptation
        kept = ad.multipliers
        ad._gaming = None
        fresh = ad.rate_multipliers(sim.people, sim.phase_at(sim.dates[sim.t - 1])[1])
        assert list(kept) == list(fresh)
        for kind, values in fresh.items():
            np.testing.assert_array_equal(kept[kind].view(np.int32), values.view(np.int32),
                                          err_msg=f"{kind} on step {sim.t - 1}")
        ad.multipliers = fresh  # (the run goes on from the fresh computation)
    assert len(again) > 20
