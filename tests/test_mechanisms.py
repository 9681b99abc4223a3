"""One test (at least) per mechanism M1-M14 of MODEL.md: its effect, direction and size."""

import numpy as np
import pytest

from conftest import run, scenario
from scoresim import Sim
from scoresim.declarations.categories import ENROLLED, GOOD_JOB, OPTED_OUT, ORDINARY_JOB
from scoresim.declarations.events import KIND_INDEX
from scoresim.model.life import LifeEvents
from scoresim.model.network import Network
from scoresim.model.sources import Records

NO_ERRORS = {f"sources__{s}__error_rate": 0.0 for s in
             ("commerce", "social", "court", "debtor_db", "credit_reference",
              "public_security", "civil_registry")}
EARLY_MANDATE = {"phases__mandatory": "2018-02-01"}


def records(person, kind, count, source, misattributed=None):
    n = len(person)
    return Records(
        np.array(person, np.int32),
        np.array([KIND_INDEX[k] for k in kind], np.int16),
        np.array(source, np.int16),
        np.array(count, np.int32),
        np.zeros(n, bool) if misattributed is None else np.array(misattributed, bool),
    )


# ------------------------------------------------------------------ M1, M2: rules


def test_rules_add_and_cap_points():
    sim = Sim(scenario("seed"), people=10, days=5)
    gov = sim.schemes["government"]
    gov.set_state(np.arange(gov.n), ENROLLED)
    social = sim.sources.index["social"]
    recs = records([0, 1, 2], ["share_conforming", "share_conforming", "critical_statement"],
                   [2, 30, 1], [social] * 3)
    share = sim.scenario.schemes["government"].rules[0].points
    total, clean, _, _ = gov.rules_part.rule_points(recs, sim.people, gov, "voluntary",
                                                    step=0)
    assert total[0] == 2 * share    # per share
    assert total[1] == 20.0         # capped at 20 points per 30 days
    assert total[2] == -8.0         # a critical statement costs 8 points
    np.testing.assert_array_equal(total, clean)
    # A later step of the same period: person 1's cap is spent.
    again, _, _, _ = gov.rules_part.rule_points(recs, sim.people, gov, "voluntary", step=1)
    assert again[1] == 0.0 and again[0] == 2 * share


def test_critics_end_with_lower_scores_than_loyal(any_seed):
    sim, _ = run(days=200, seed=any_seed, **EARLY_MANDATE)
    gov, p = sim.schemes["government"], sim.people
    scored = gov.scored
    critics = scored & (p.private_opinion < -0.3)
    loyal = scored & (p.private_opinion > 0.3)
    assert gov.b[critics].mean() < gov.b[loyal].mean() - 10


# --------------------------------------------------------------- M3: regional rules


def test_protest_rule_only_acts_in_its_region():
    sim = Sim(scenario("seed"), people=400, days=5)
    gov = sim.schemes["government"]
    gov.set_state(np.arange(gov.n), ENROLLED)
    regions = list(sim.scenario.people.regions)
    beijing = np.flatnonzero(sim.people.region == regions.index("beijing"))[:3]
    other = np.flatnonzero(sim.people.region == regions.index("other"))[:3]
    who = np.concatenate([beijing, other])
    police = sim.sources.index["public_security"]
    recs = records(who, ["protest"] * 6, [1] * 6, [police] * 6)
    total, _, _, _ = gov.rules_part.rule_points(recs, sim.people, gov, "voluntary", step=0)
    assert np.all(total[beijing] == -50.0)
    assert np.all(total[other] == 0.0)


def test_protest_rule_changes_no_score_outside_its_region():
    common = dict(people=2000, days=200, seed=3, sanctions={},
                  schemes__government__friend_weight=0.0, **NO_ERRORS, **EARLY_MANDATE)
    with_rule, _ = run(**common)
    rules = [r.model_dump(exclude_none=True) for r in
             with_rule.scenario.schemes["government"].rules if r.kind != "protest"]
    without, _ = run(schemes__government__rules=rules, **common)
    beijing = with_rule.people.region == list(with_rule.scenario.people.regions).index("beijing")
    b_with, b_without = with_rule.schemes["government"].b, without.schemes["government"].b
    np.testing.assert_array_equal(b_with[~beijing], b_without[~beijing])
    assert np.any(b_with[beijing] != b_without[beijing])
    # In Beijing the rule chills dissent: people there express less of it.
    dissent_with = with_rule.people.expressed_dissent[beijing].mean()
    assert dissent_with < without.people.expressed_dissent[beijing].mean()


# -------------------------------------------------------------- M4: friends' scores


def test_published_score_follows_the_formula():
    sim = Sim(scenario("seed"), people=4, days=5)
    gov = sim.schemes["government"]
    sim.network = Network(4, np.array([0, 0]), np.array([1, 2]))
    gov.set_state(np.arange(gov.n), ENROLLED)
    gov.b[:] = [1000, 600, 900, 1100]
    gov.s[:] = [1000, 600, 800, 1100]
    gov.publish(sim.network)
    w = sim.scenario.schemes["government"].friend_weight
    assert gov.s[0] == pytest.approx((1 - w) * 1000 + w * (600 + 800) / 2)
    assert gov.s[1] == pytest.approx((1 - w) * 600 + w * 1000)
    assert gov.s[3] == 1100  # no friends: s = b


def test_a_critic_friend_lowers_the_published_score():
    """Loyal people with two or more critic friends are pulled down more than those with
    none (friend weight 0.3, 3,000 people, 181 days: the last day, 180, is a recomputation
    day, so ``s - b`` is the friends' pull alone, not also the own score's moves since the
    last publication). Under the presets' levels the difference, measured on seeds 0-7:
    -0.27, -0.22, -1.73, -0.13, -0.12, -1.03, -1.48, -0.51 (mean -0.68, sd 0.62; all
    negative, but widely spread: the few loyal with two critic friends). Asked: the mean of
    seeds 0-4 below -0.05; false-failure rate from a normal fit (sd of the mean 0.28)
    about 1%."""
    diffs = []
    for seed in range(5):
        sim, _ = run(people=3000, days=181, seed=seed, adaptation__risk_learning="announced",
                     schemes__government__friend_weight=0.3, **EARLY_MANDATE)
        gov, p = sim.schemes["government"], sim.people
        critic = (p.private_opinion < sim.scenario.people.critic_below).astype(np.float32)
        critic_friends = sim.network.neighbour_sum(critic)
        loyal = gov.scored & (p.private_opinion > 0.2)
        pull = gov.s - gov.b
        none, several = loyal & (critic_friends == 0), loyal & (critic_friends >= 2)
        diffs.append(pull[several].mean() - pull[none].mean())
    assert np.mean(diffs) < -0.05, diffs


def test_no_friend_weight_means_published_equals_own():
    sim, _ = run(days=60, schemes__government__friend_weight=0.0,
                 schemes__government__recompute_every_days=1)
    gov = sim.schemes["government"]
    np.testing.assert_array_equal(gov.s, gov.b)


# ----------------------------------------------------- M5, M7: sanctions by phase


def test_penalties_appear_only_after_the_mandatory_date():
    _, res = run(people=3000, days=240, phases__mandatory="2018-05-01",
                 schemes__government__initial_score=955)
    day = (np.datetime64("2018-05-01") - np.datetime64("2018-01-01")).astype(int)
    for effect in ("job_denied", "university_denied", "job_loss"):
        col = res.column(f"sanctions_{effect}")
        assert col[:day].sum() == 0, effect
    assert res.column("sanctions_job_denied")[day:].sum() > 0
    # Positive reinforcement runs in the voluntary phase too.
    assert res.column("privileges_deposit_free")[:day].sum() > 0


def test_job_loss_lowers_income_and_raises_defaults():
    sim = Sim(scenario("seed"), people=50, days=5)
    p = sim.people
    p.job[:] = GOOD_JOB
    p.income_decile[:] = 5
    from scoresim.model.behaviour import person_rates
    from scoresim.model.life import change_job

    before = person_rates(p, sim.scenario.behaviour, {})["bill_default"].copy()
    change_job(p, np.arange(10), ORDINARY_JOB, 2)
    assert np.all(p.income_decile[:10] == 3) and np.all(p.income_decile[10:] == 5)
    after = person_rates(p, sim.scenario.behaviour, {})["bill_default"]
    assert np.all(after[:10] > before[:10]) and np.all(after[10:] == before[10:])


def test_low_scorers_lose_good_jobs_in_the_mandatory_phase():
    sim, res = run(people=3000, days=200, schemes__government__initial_score=700,
                   sanctions__job_loss__probability_per_day=0.05, **EARLY_MANDATE)
    assert res.column("sanctions_job_loss").sum() > 20
    base, base_res = run(name="baseline", people=3000, days=200, **EARLY_MANDATE)
    assert res.final("good_job_share") < base_res.final("good_job_share")


# ------------------------------------------------------------ M6: social pressure


def test_unfriending_isolates_critics():
    """Critics' degree ratio against the baseline's, on seeds 0-2. Measured on seeds 0-9
    under the presets' levels (record windows; before, with running sums, the difference
    ran from -0.19 to -0.02, mean -0.10): from -0.22 to -0.12, mean -0.18, sd 0.034.
    Asked: all three seeds lower, and lower by 0.03 on average. False-failure rate, from
    a normal fit: a seed at or above 0 about 1e-7, so one of three about 3e-7; the mean of
    three above -0.03 (7.6 standard errors) about 1e-14: negligible; the bounds are kept
    loose so that they test the direction, not the size, which depends on the preset's
    points. (Five seeds until issue 30: three keep the test's power at a third less time.)"""
    diffs = []
    for seed in range(3):
        common = dict(people=2000, days=300, seed=seed, adaptation__unfriend_probability=0.2,
                      adaptation__unfriend_drag_points=0.5, demography__enabled=False,
                      **EARLY_MANDATE)  # (a fixed population: unfriending alone)
        _, scored = run(schemes__government__friend_weight=0.3, **common)
        _, base = run(name="baseline", **common)
        diffs.append(scored.final("critic_degree_ratio") - base.final("critic_degree_ratio"))
        assert scored.column("ties_unfriended").sum() > 0
        assert base.column("ties_unfriended").sum() == 0
    assert all(d < 0 for d in diffs), diffs
    assert np.mean(diffs) < -0.03, diffs


def test_scoring_makes_critics_self_censor(any_seed):
    # (the announced rules' chill; with learning about risk, see tests/test_learning.py)
    common = dict(people=2000, days=200, seed=any_seed, adaptation__risk_learning="announced",
                  **EARLY_MANDATE)
    _, scored = run(**common)
    _, base = run(name="baseline", **common)
    late = slice(100, None)
    # (8% fewer on seed 2: the unrecordable no longer self-censor)
    assert scored.column("critical_statements")[late].sum() < 0.95 * base.column(
        "critical_statements")[late].sum()
    assert scored.final("expression_gap") > 0
    assert base.column("expression_gap").max() == 0
    # (2018: half the social accounts are not yet linked to a name, and whoever cannot be
    # recorded does not self-censor: 3.2% and 3.7% on seeds 0 and 1)
    assert scored.final("self_censoring_share") > 0.02


def test_gaming_raises_rewarded_acts():
    common = dict(people=2000, days=150, seed=2, **EARLY_MANDATE)
    _, gamed = run(adaptation__gaming_strength=1.0, **common)
    _, plain = run(adaptation__gaming_strength=0.0, **common)
    assert gamed.column("supportive_statements").sum() > 1.1 * plain.column(
        "supportive_statements").sum()


def test_dating_prominence_brings_new_ties():
    common = dict(name="sesame", people=2000, days=300, seed=4,
                  sanctions__dating_boost__above=605, adaptation__new_tie_rate_per_day=0.002,
                  adaptation__tie_dissolve_rate_per_day=0.003,  # (slow search, fast decay)
                  schemes__sesame__friend_weight=0.0)
    boosted, _ = run(sanctions__dating_boost__factor=5.0, **common)
    plain, _ = run(sanctions__dating_boost__factor=1.0, **common)
    high = boosted.schemes["sesame"].s >= 605
    assert 0.05 < high.mean() < 0.5

    def gap(sim):  # mean degree of the high scorers minus the rest
        return sim.network.degree[high].mean() - sim.network.degree[~high].mean()

    assert gap(boosted) > gap(plain) + 0.8


# ---------------------------------------------------------- M8: early enrolment


def test_early_enrollees_lead_at_the_mandatory_date():
    _, res = run(people=3000, days=200, phases__mandatory="2018-06-01")
    day = (np.datetime64("2018-06-01") - np.datetime64("2018-01-01")).astype(int)
    advantage = res.column("government_early_adopter_advantage")
    assert np.isnan(advantage[day - 1])  # nobody is 'late' before the mandate
    assert advantage[day] > 15


# --------------------------------------------------------------- M9: inactivity


def test_inactivity_decays_the_commercial_score():
    idle = {f"behaviour__rates_per_day__{k}": 0.0 for k in
            ("purchase_domestic", "purchase_foreign", "foreign_book_order",
             "mobile_payment", "bill_paid", "bill_default", "loan_default")}
    idle["demography__enabled"] = False  # (newcomers would enrol, and start, later)
    sim, _ = run(name="sesame", people=500, days=100, **idle)
    sch = sim.schemes["sesame"]
    # Enrolled at step 0; idle from step 61 (after 60 days) to 99: 39 days of 0.5 points,
    # each a record that fades linearly to zero on its lapse day (the first recomputation
    # day at or after 730 days on). The factors have no records: they stay at their start.
    cfg = sim.scenario.schemes["sesame"]
    L, every = cfg.lasts_days, cfg.recompute_every_days
    left = [(-(-(d + L) // every) * every - 99) / (-(-(d + L) // every) * every - d)
            for d in range(61, 100)]
    assert 0.9 * 39 < sum(left) < 39
    np.testing.assert_allclose(sch.b[sch.scored], 600 - 0.5 * sum(left), rtol=1e-5)
    fresh, _ = run(name="sesame", people=500, days=100,
                   schemes__sesame__inactivity__decay_points_per_day=0.0, **idle)
    np.testing.assert_allclose(fresh.schemes["sesame"].b[fresh.schemes["sesame"].scored], 600)


# ------------------------------------------------------- M10: opt-out, shadow score


def test_opted_out_keep_a_shadow_score_that_nobody_sees():
    sim, res = run(name="sesame", people=2000, days=150,
                   schemes__sesame__enrolment__opt_out_rate_per_day=0.01)
    sch = sim.schemes["sesame"]
    out = sch.state == OPTED_OUT
    assert out.sum() > 100
    assert np.all(sch.scored[out])
    assert not sch.visible_to_self[out].any() and not sch.visible_to_friends[out].any()
    assert np.any(sch.b[out] != 600)  # the hidden score lives on
    people = res.people_df()
    assert not people.loc[people["sesame_state"] == "opted_out", "sesame_visible"].any()
    assert res.final("sesame_shadow_scored") == out.sum()
    critics = sim.people.private_opinion < -0.3
    eligible = sim.people.commerce_account
    assert out[critics & eligible].mean() > out[~critics & eligible].mean()


def test_without_shadow_scores_opting_out_freezes_the_score():
    sim, res = run(name="sesame", people=1000, days=100,
                   schemes__sesame__enrolment__opt_out_rate_per_day=0.02,
                   schemes__sesame__shadow_score=False)
    sch = sim.schemes["sesame"]
    out = sch.state == OPTED_OUT
    assert out.any() and not sch.scored[out].any()
    assert res.final("sesame_shadow_scored") == 0


# ---------------------------------------------- M11: government data, blacklists


def test_misattribution_causes_wrongful_sanctions_that_vanish_without_errors():
    errors = {k: 0.05 for k in NO_ERRORS}
    common = dict(people=3000, days=200, seed=5, **EARLY_MANDATE)
    _, noisy = run(**errors, **common)
    _, clean = run(**NO_ERRORS, **common)
    assert noisy.column("sanctions_wrongful").sum() > 0
    assert noisy.column("records_misattributed").sum() > 0
    assert clean.column("sanctions_wrongful").sum() == 0
    assert clean.column("records_misattributed").sum() == 0
    assert clean.column("blacklisted_wrongful").max() == 0


def test_court_listing_blacklists_and_bans_travel():
    _, res = run(people=3000, days=200, behaviour__rates_per_day__loan_default=0.01)
    assert res.final("blacklisted") > 0
    assert res.column("sanctions_travel_ban").sum() > 0


ASSOCIATION = dict(people=3000, days=200, seed=6, schemes__government__initial_score=961,
                   life__job_search_rate_per_day=0.02, **EARLY_MANDATE)


def test_association_sanctions_come_from_friends():
    """With the friends' pull (government 0.5) there are sanctions by association at the
    presets' monthly recomputation (seed 6: 143); without it, see the next test."""
    _, pulled = run(schemes__government__friend_weight=0.5, **ASSOCIATION)
    assert pulled.column("sanctions_association").sum() > 0


@pytest.mark.parametrize("every", [1, 30, 90])
def test_no_friends_weight_no_association_whatever_the_recomputation(every):
    """Without friends' weight in any scheme there is no sanction by association, however
    stale the published score is between recomputations: association is read against the
    score without the friends' term published on the same days (``s_own``), not against
    today's own score ``b``. Before issue 28 (against ``b``) this run counted 21 of them
    with monthly and 16 with quarterly recomputation (0 with daily): staleness, not
    friends. 0 by construction now, so the test cannot fail by chance."""
    _, alone = run(schemes__government__friend_weight=0.0, schemes__sesame__friend_weight=0.0,
                   schemes__government__recompute_every_days=every,
                   schemes__sesame__recompute_every_days=every, **ASSOCIATION)
    assert alone.column("sanctions_total").sum() > 0
    assert alone.column("sanctions_association").sum() == 0


def test_friends_errors_make_wrongful_sanctions():
    """Person 0's records are clean; their three friends' own scores are down 500 points
    by misattributed records (``b`` 500, ``b_clean`` 1000). Their pull puts 0's published
    score below the bound; their error-free scores would not: 0's sanction is wrongful (and
    by association). Before issue 28 the error-free score was pulled toward friends'
    published scores, errors and all, and 0's sanction was not counted as wrongful."""
    rule = {"throttled": {"effect": "internet_throttled", "scheme": "government",
                          "below": 950, "factor": 0.5}}
    sim = Sim(scenario("seed", sanctions=rule), people=4, days=60)
    gov = sim.schemes["government"]
    sim.network = Network(4, np.array([0, 0, 0]), np.array([1, 2, 3]))
    sim.network.use(sim.kernels)
    gov.set_state(np.arange(4), ENROLLED)
    gov.b[:] = [1000, 500, 500, 500]
    gov.b_clean[:] = 1000
    every = sim.scenario.schemes["government"].recompute_every_days
    for step in (0, every):  # (friends' scores of the first publication pull 0's down)
        gov.publish(sim.network, step)
    assert gov.s[0] < 950 <= gov.s_clean[0]
    none = np.zeros(0, np.int32)
    life = LifeEvents(job_applicants=none, hire_u=none, university_applicants=none,
                      admit_u=none, housing_seekers=none, travellers=none,
                      loan_applicants=none, separations=none)
    out = sim.sanctions.apply(sim.people, life, "mandatory", every, sim.streams)
    assert out.applied["internet_throttled"] == 4
    assert out.wrongful == 4  # 0 through friends' errors, 1-3 through their own
    assert sim.sanctions.received_wrongful.tolist() == [1, 1, 1, 1]
    assert sim.sanctions.received_association.tolist() == [1, 0, 0, 0]


def test_the_clean_scores_are_summed_over_friends_only_where_they_differ(monkeypatch):
    """Publishing sums friends' error-free scores ``s_clean`` apart only where they differ
    from the scores ``s`` in some bit; where they are the same, the one sum serves both.
    The scores come out the same to the bit as with both sums always made."""
    from scoresim.model import publishing

    sums = []
    real = Network.neighbour_sum

    def counted(net, x, where=None):
        if where is not None:  # (scores of the scored; not the count of scored friends)
            sums.append(x)
        return real(net, x, where)

    monkeypatch.setattr(Network, "neighbour_sum", counted)
    published = {}
    for skip in (True, False):
        if not skip:
            monkeypatch.setattr(publishing, "_same_bits", lambda a, b: False)
        sim = Sim(scenario("seed"), people=400, days=60)
        gov = sim.schemes["government"]
        gov.set_state(np.arange(400), ENROLLED)
        gov.b[:] = np.linspace(900, 1100, 400, dtype=np.float32)
        gov.b_clean[:] = gov.b
        every = sim.scenario.schemes["government"].recompute_every_days
        sums.clear()
        gov.publish(sim.network, 0)
        counts = [len(sums)]
        gov.b_clean[7] -= 100  # (a misattributed record)
        gov.publish(sim.network, every)  # (yesterday's clean scores were still the scores)
        counts.append(len(sums))
        gov.publish(sim.network, 2 * every)  # (now they differ)
        counts.append(len(sums))
        published[skip] = (counts, gov.s.copy(), gov.s_clean.copy())
    assert published[True][0] == [1, 2, 4]
    assert published[False][0] == [2, 4, 6]
    assert published[True][2][7] != published[True][1][7]
    for one, other in zip(published[True][1:], published[False][1:], strict=True):
        assert np.array_equal(one.view(np.uint32), other.view(np.uint32))


# -------------------------------------------------------- M12: real-name linkage


def test_real_name_registration_attributes_more_social_records():
    _, res = run(name="baseline", people=2000, days=200,
                 sources__social__linked_share=0.25,
                 sources__social__real_name_from="2018-04-11")
    social = res.column("records_social")
    before, after = social[:100].mean(), social[100:].mean()
    assert after > 2.5 * before


def test_foreigners_are_linked_through_passport_checks():
    sim = Sim(scenario("seed"), people=20000, days=2)
    social = sim.sources.index["social"]
    import datetime as dt

    later = sim.sources.linked(social, dt.date(2020, 1, 1))
    foreign = sim.people.foreigner
    assert foreign.sum() > 50
    assert later[~foreign].all()
    assert 0.4 < later[foreign].mean() < 0.8  # foreigner_linked_share = 0.6


# ------------------------------------------------------------ M13: opaque scoring


def test_opaque_scheme_is_learned_slowly():
    """Knowledge of an opaque scheme grows only on days one's published score moves: with
    Sesame's monthly recomputation, at most once a month, each change teaching what the
    month's days teach (an upper bound from the learning rate); a transparent scheme is
    known at once (``awareness``)."""
    days = 95
    opaque, _ = run(name="sesame", people=1000, days=days)
    clear, _ = run(name="sesame", people=1000, days=days, schemes__sesame__opaque=False)

    def known(sim):
        sch = sim.schemes["sesame"]
        return sim.adaptation.knowledge["sesame"][sch.visible_to_self]

    every = opaque.scenario.schemes["sesame"].recompute_every_days
    rate = opaque.scenario.adaptation.learning_rate_per_day
    moves = -(-days // every)  # (recomputation days 0, 30, 60, 90)
    assert known(clear).mean() == pytest.approx(0.5)  # awareness, at once
    most = 0.5 * (1 - (1 - rate) ** (every * moves))
    assert (known(opaque) <= most + 1e-6).all()
    assert 0.5 * most < known(opaque).mean()  # (most of them saw their score move)


def test_opaque_learning_does_not_hang_on_the_publishing_cadence():
    """Issue 28: learning was applied once per seen change, so monthly recomputation made an
    opaque scheme 30 times slower to learn than the rate says (knowledge 0.056 of 0.5 after
    two years in seed). A change now teaches what the days it sums up teach: the same
    knowledge after 120 days whether Sesame publishes daily or monthly (within a few
    percent: who sees a move differs), and most of awareness within a year."""
    from scoresim.model.adaptation import learning_per_change

    assert learning_per_change(0.005, 1) == np.float32(0.005)
    assert learning_per_change(0.005, 30) == pytest.approx(1 - 0.995 ** 30, rel=1e-6)
    days = 121
    sims = {every: run(name="sesame", people=800, days=days,
                       schemes__sesame__recompute_every_days=every)[0] for every in (1, 30)}

    def known(sim):
        sch = sim.schemes["sesame"]
        return float(sim.adaptation.knowledge["sesame"][sch.visible_to_self].mean())

    daily, monthly = known(sims[1]), known(sims[30])
    bound = 0.5 * (1 - 0.995 ** days)
    assert 0.8 * bound < daily <= bound + 1e-6
    assert monthly == pytest.approx(daily, rel=0.15)  # (before the fix: about daily / 6)


# ------------------------------------------------------------ M14: loan prediction


def test_commercial_score_tracks_repayment_and_denies_loans():
    _, res = run(name="sesame", people=3000, days=300)
    assert res.final("sesame_score_reliability_corr") > 0.3
    assert res.column("sanctions_loan_denied").sum() > 0


def test_public_scores_make_new_ties_follow_scores():
    """Under the presets' levels the new ties' score gap, public against friends-only
    scores, measured on seeds 8, 0, 1, 2, 3: 0.65, 0.62, 0.61, 0.65, 0.57 (mean 0.62, sd
    0.03); asked: below 0.8 on seed 8, about six sd away (false failure on another seed,
    from a normal fit, below 1e-8)."""
    def new_tie_score_gap(visibility):
        sc = scenario(schemes__government__visibility=visibility,
                      adaptation__tie_dissolve_rate_per_day=0.003,
                      adaptation__unfriend_probability=0.0,
                      adaptation__score_homophily_points=5, demography__enabled=False,
                      **EARLY_MANDATE)  # (a fixed population)
        sim = Sim(sc, seed=8, people=2000, days=200)
        first = sim.network.u.astype(np.int64) * 2000 + sim.network.v
        res = sim.run()
        net, s = sim.network, sim.schemes["government"].s
        new = ~np.isin(net.u.astype(np.int64) * 2000 + net.v, first)
        return np.abs(s[net.u[new]] - s[net.v[new]]).mean(), res.column("ties_added").sum()

    public_gap, public_added = new_tie_score_gap("public")
    friends_gap, friends_added = new_tie_score_gap("friends")
    assert public_gap < 0.8 * friends_gap
    assert public_added < friends_added


def test_sanction_probability_thins_the_sanctioned():
    common = dict(people=3000, days=150, seed=2, schemes__government__initial_score=955,
                  life__job_search_rate_per_day=0.02, **EARLY_MANDATE)
    _, full = run(**common)
    _, half = run(sanctions__job_denied__probability_per_day=0.5, **common)
    ratio = half.column("sanctions_job_denied").sum() / full.column("sanctions_job_denied").sum()
    assert 0.35 < ratio < 0.65


# ------------------------------------------------------- outcomes: score inequality


def exact_gini(x: np.ndarray) -> float:
    xs = np.sort(x.astype(np.float64))
    n = xs.size
    return float((2 * np.arange(1, n + 1) - n - 1).dot(xs) / (n * xs.sum()))


def test_score_gini_measures_the_spread_above_the_minimum():
    """Scores spread evenly over 350-400 of Sesame's 350-950: the Gini of raw scores (as
    before issue 28) is 0.022, mostly the range's base of 350; the Gini of the score above
    the minimum is that of an even spread from 0, 1/3."""
    from scoresim.results.outcomes import histogram_stats

    x = np.linspace(350, 400, 20_001).astype(np.float32)
    assert exact_gini(x) == pytest.approx(0.022, abs=1e-3)  # (the old measure)
    assert histogram_stats(x, 350, 950)["score_gini"] == pytest.approx(1 / 3, abs=0.01)
    # In a run: each scheme's Gini is that of its counted scores above its minimum.
    sim, res = run(people=2000, days=61)
    for name, sch in sim.schemes.items():
        above = sch.s[sch.scored] - sch.cfg.min_score
        assert res.final(f"{name}_score_gini") == pytest.approx(exact_gini(above), abs=2e-3)
