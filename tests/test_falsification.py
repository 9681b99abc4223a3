"""Preference falsification after Kuran (1995): the rule, its thresholds, a cascade when
the cost of dissent falls, both engines, and bad input.

The statistical test (:func:`test_a_thaw_sets_off_a_cascade_in_a_run`) runs three seeds;
its margins are several standard deviations of the shares it compares (800 people: the sd
of a share is about 0.018, the effects 0.1 to 0.3), so a false failure is far below one
in a thousand a seed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scoresim import ScenarioError, Sim, load_scenario
from scoresim.model.adaptation import strategic_dissent_plain
from scoresim.model.falsification import (
    expected_punishment,
    falsification_dissent,
    political_threshold,
    seen_share,
)
from scoresim.model.network import Network, small_world

# ------------------------------------------------------------------------ the rule


def test_voicing_weighs_expression_reputation_and_punishment():
    # d = 0.6, tau = 0.1: expressive utility beta * 0.5; punishment (0.5 + 0.5 * 0.6) * psi
    d, tau = np.array([0.6]), 0.1
    beta, nu, psi = np.array([1.0]), np.array([0.5]), np.array([0.5])
    assert expected_punishment(d, nu, psi, tau, "uniform")[0] == pytest.approx(0.4)
    assert expected_punishment(d, nu, psi, tau, "proportional")[0] == pytest.approx(0.2)
    # 0.5 + 0.2 * (2 * 0.5 - 1) = 0.5 >= 0.4: voices
    assert falsification_dissent(d, beta, nu, psi, tau, "uniform", 0.5, 0.2)[0] == 0.6
    # 0.5 + 0.2 * (2 * 0.2 - 1) = 0.38 < 0.4: keeps to the tolerance
    assert falsification_dissent(d, beta, nu, psi, tau, "uniform", 0.2, 0.2)[0] == tau
    # proportional punishment is milder here (0.2): voices
    assert falsification_dissent(d, beta, nu, psi, tau, "proportional", 0.2, 0.2)[0] == 0.6
    # within the tolerance: nothing to hide, whatever the others do
    assert falsification_dissent(np.array([0.05]), beta, nu, psi, tau, "uniform", 0.0,
                                 5.0)[0] == 0.05


def test_without_reputation_it_is_the_strategic_choice_under_uniform_punishment():
    rng = np.random.default_rng(5)
    n = 5000
    d, beta, nu = rng.random(n), rng.exponential(1.0, n), rng.random(n)
    psi = rng.exponential(1.0, n)
    mine = falsification_dissent(d, beta, nu, psi, 0.1, "uniform", rng.random(n), 0.0)
    theirs = strategic_dissent_plain(d, beta, nu, 0.1, psi, "uniform")
    np.testing.assert_array_equal(mine, theirs)


def test_a_person_speaks_once_the_dissent_they_see_reaches_their_threshold():
    rng = np.random.default_rng(6)
    n = 5000
    d, beta, nu, psi, seen = (rng.random(n) for _ in range(5))
    for punishment in ("uniform", "proportional"):
        for w in (0.1, 0.5, 2.0):
            theta = political_threshold(d, beta, nu, psi, 0.1, punishment, w)
            a = falsification_dissent(d, beta, nu, psi, 0.1, punishment, seen, w)
            clear = np.abs(seen - theta) > 1e-9  # (away from ties, where rounding decides)
            np.testing.assert_array_equal((a == d)[clear], (seen >= theta)[clear])
    # Costlier dissent, higher thresholds; more to hide and bolder, lower ones.
    base = political_threshold(0.6, 1.0, 0.5, 0.5, 0.1, "uniform", 0.2)
    assert political_threshold(0.6, 1.0, 0.5, 0.8, 0.1, "uniform", 0.2) > base
    assert political_threshold(0.6, 1.5, 0.5, 0.5, 0.1, "uniform", 0.2) < base


def test_what_people_see_friends_or_everyone():
    # 0 - 1, 0 - 2; 3 alone. Yesterday 1 and 3 voiced dissent beyond the tolerance 0.1.
    net = Network(4, np.array([0, 0]), np.array([1, 2]))
    expressed = np.array([0.0, 0.5, 0.1, 0.7], np.float32)  # (2 keeps to the tolerance)
    np.testing.assert_allclose(seen_share(expressed, 0.1, net, "friends"),
                               [0.5, 0.0, 0.0, 0.5])  # 3 has no friends: sees everyone
    np.testing.assert_allclose(seen_share(expressed, 0.1, net, "everyone"), 0.5)


def _to_rest(d, beta, nu, psi, network, w, acting, days=200):
    """The rule day after day (tolerance 0.1, uniform punishment) until nobody changes;
    returns the share voicing dissent on each day."""
    shares = [float(np.mean(acting > 0.1))]
    for _ in range(days):
        seen = seen_share(acting, 0.1, network, "friends")
        new = falsification_dissent(d, beta, nu, psi, 0.1, "uniform", seen, w).astype(
            np.float32)
        shares.append(float(np.mean(new > 0.1)))
        if np.array_equal(new, acting):
            break
        acting = new
    return acting, shares


def test_a_cheaper_dissent_tips_thresholds_into_a_cascade_on_a_network():
    rng = np.random.default_rng(7)
    n = 4000
    net = small_world(n, 10, 0.1, rng)
    d = (0.2 + 0.8 * rng.random(n)).astype(np.float32)  # everyone opposed in private
    beta, nu = rng.exponential(1.0, n), np.full(n, 0.5)
    jumps = {}
    for w in (0.0, 0.2):
        harsh, cheap = np.full(n, 0.6), np.full(n, 0.2)
        before, _ = _to_rest(d, beta, nu, harsh, net, w, d.copy())
        after, days = _to_rest(d, beta, nu, cheap, net, w, before)
        direct, final = days[1] - days[0], days[-1] - days[0]
        jumps[w] = final
        if w == 0.0:  # nobody looks at anyone: the first day is all of it
            assert final == direct
        else:  # the first day's switchers tip others, for days after
            assert final > 1.5 * direct
            assert len(days) > 4
    assert jumps[0.2] > jumps[0.0] + 0.1


# ------------------------------------------------------------------------- in a run

#: A watch scheme punishes critical statements harshly, then, from day 60, four times more
#: mildly; most people are opposed in private (the example's header says more).
THAW = Path(__file__).parent.parent / "examples" / "falsification-thaw.toml"
THAW_DAY = 60


def _public(seed, w, people=800, engine="compiled"):
    sc = load_scenario(THAW, {"adaptation.falsification.reputation_weight": w})
    sim = Sim(sc, seed=seed, people=people, engine=engine)
    sim.run()
    return sim


def test_a_thaw_sets_off_a_cascade_in_a_run(any_seed):
    jumps = {}
    for w in (0.0, 0.2):
        x = _public(any_seed, w).outcomes.data["public_opposition_share"]
        before, first, last = x[THAW_DAY - 1], x[THAW_DAY], x[-1]
        jumps[w] = last - before
        if w == 0.0:  # no one looks at others: the direct effect is the whole effect
            assert abs(jumps[w] - (first - before)) < 0.02
        else:  # thresholds tip each other: the jump goes on after the first day
            assert jumps[w] > 1.5 * (first - before)
    assert jumps[0.2] > jumps[0.0] + 0.05, jumps


def test_the_outcome_columns_add_up():
    sim = _public(0, 0.2, people=300)
    o = sim.outcomes.data
    np.testing.assert_allclose(o["public_support_share"], 1 - o["public_opposition_share"])
    np.testing.assert_allclose(o["falsifying_share"],
                               o["private_opposition_share"] - o["public_opposition_share"],
                               atol=1e-12)
    np.testing.assert_allclose(o["falsifying_share"], o["self_censoring_share"], atol=1e-12)
    assert (o["falsifying_share"] > 0).all()
    # thresholds fall with the thaw
    assert o["median_political_threshold"][-1] < o["median_political_threshold"][
        THAW_DAY - 1]
    # the private opinions stay
    assert np.ptp(o["private_opposition_share"]) < 0.05


def test_both_engines_give_the_same_run():
    compiled = _public(3, 0.2, people=300)
    plain = _public(3, 0.2, people=300, engine="reference")
    for col, x in compiled.outcomes.data.items():
        np.testing.assert_array_equal(plain.outcomes.data[col], x, err_msg=col)
    np.testing.assert_array_equal(plain.people.expressed_opinion,
                                  compiled.people.expressed_opinion)


def test_a_checkpoint_continues_the_cascade(tmp_path):
    """What people said yesterday is the state the rule reads (their expressed opinion,
    saved): a run continued from a checkpoint taken just before the thaw gives the same
    rows as the whole run."""
    sc = load_scenario(THAW)
    whole = Sim(sc, seed=2, people=300, days=THAW_DAY + 10)
    whole.run()
    first = Sim(sc, seed=2, people=300, days=THAW_DAY + 10)
    for _ in range(THAW_DAY - 1):
        first.step()
    first.save_state(tmp_path / "cp")
    rest = Sim.from_state(tmp_path / "cp")
    rest.run()
    for col in ("public_opposition_share", "falsifying_share", "median_political_threshold",
                "self_censoring_share", "expression_gap"):
        np.testing.assert_array_equal(rest.outcomes.data[col], whole.outcomes.data[col],
                                      err_msg=col)


def test_it_is_off_unless_chosen():
    sim = Sim("seed", people=50, days=2)
    assert "public_opposition_share" not in sim.outcomes.data
    sim = Sim(load_scenario("seed", {"adaptation.self_censorship": "falsification"}),
              people=50, days=2)
    sim.run()
    assert "public_opposition_share" in sim.outcomes.data


@pytest.mark.parametrize("key, value, expected", [
    ("adaptation.falsification.reputation_weight", -1, "greater than or equal to 0"),
    ("adaptation.falsification.observed", "neighbours", "'friends' or 'everyone'"),
])
def test_bad_input_is_refused_with_the_key_named(key, value, expected):
    with pytest.raises(ScenarioError) as info:
        load_scenario("seed", {"adaptation.self_censorship": "falsification", key: value})
    assert key in str(info.value) and expected in str(info.value)



@pytest.mark.parametrize("tau", [0.35, 0.7])
def test_falsifiers_count_as_silent_whatever_the_tolerance(tau):
    """The columns read who voiced dissent as the people keep it (float32): a falsifier
    keeps to the tolerance and counts as silent, also for tolerances whose float32 rounds
    below the float64 value (0.35, 0.7), so falsifying = private - public opposition."""
    sc = load_scenario(THAW, {"adaptation.tolerance": tau})
    sim = Sim(sc, seed=1, people=400, days=20)
    sim.run()
    out = sim.outcomes.data
    private, public = out["private_opposition_share"], out["public_opposition_share"]
    np.testing.assert_allclose(out["falsifying_share"], private - public, atol=1e-12)
    assert out["falsifying_share"][-1] > 0.05
