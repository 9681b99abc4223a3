"""The lender (model/lending.py, `lending.*`): its rules, plainly; the direction of its
effects; its reports move scores through the scheme's rules; the AUC on loans made; its
draws are its own; checkpoints; off unless enabled."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scoresim import ScenarioError, Sim, load_scenario
from scoresim.experiments.validation.liu import fico_society
from scoresim.model.lending import (
    Lending,
    LendingReports,
    application_chance,
    approve,
    auc_from_counts,
    group_means,
    profit,
    repayment_chance,
    score_bins,
)
from scoresim.results.outcomes import default_auc

EXAMPLE = Path(__file__).parent.parent / "examples" / "seed-lending.toml"


def _lender(sim) -> Lending:
    return next(c for c in sim.added if isinstance(c, Lending))


# ------------------------------------------------------------------- the rules, plainly


def test_the_rules_plainly():
    chance = application_chance(np.array([0.0, 1.0, 0.5, 0.0]),
                                np.array([False, False, False, True]), 0.01, 1.5, 0.5, 2.0)
    np.testing.assert_allclose(chance, [0.015, 0.005, 0.01, 0.03])
    assert application_chance(np.array([0.0]), np.array([True]), 0.6, 1.5, 0.5, 2.0)[0] == 1
    ok = approve(np.array([599.9, 600.0, 700.0, 700.0, 650.0], np.float32),
                 np.array([True, True, True, False, True]),
                 np.array([600.0, 600.0, 600.0, 600.0, 660.0]),
                 np.array([False, False, True, False, False]))
    np.testing.assert_array_equal(ok, [False, True, False, False, False])
    np.testing.assert_allclose(repayment_chance(np.array([0.0, 0.5, 1.0]), 0.5, 0.99),
                               [0.5, 0.745, 0.99])
    assert profit(10, 2, 1.0, 4.0) == 2.0
    np.testing.assert_allclose(group_means(np.array([1.0, 3.0, np.nan, 5.0]),
                                           np.array([0, 0, 1, 1]), 3), [2.0, 5.0, np.nan])


def test_auc_on_loans_made_by_hand():
    """Four loans: scores 600 (defaulted), 620 (repaid), 640 (defaulted), 700 (repaid). Of
    the four (repaid, defaulted) pairs the repaid loan scored higher in three: AUC 3/4.
    A tie (one bin) counts half."""
    scores = np.array([600.0, 620.0, 640.0, 700.0])
    repaid = np.array([False, True, False, True])
    bins = score_bins(scores, 350.0, 601)
    good = np.bincount(bins[repaid], minlength=601)
    bad = np.bincount(bins[~repaid], minlength=601)
    assert auc_from_counts(good, bad) == 0.75
    assert default_auc(scores, ~repaid) == 0.75  # (the same measure, M14's)
    tie = score_bins(np.array([650.2, 650.7]), 350.0, 601)
    assert tie[0] == tie[1] and auc_from_counts(np.bincount(tie[:1], minlength=601),
                                                np.bincount(tie[1:], minlength=601)) == 0.5
    assert np.isnan(auc_from_counts(good, np.zeros(601)))
    # against M14's AUC on whole-point scores (each its own bin)
    rng = np.random.default_rng(3)
    s = rng.integers(350, 950, 2000).astype(float)
    r = rng.random(2000) < (s - 300) / 700
    b = score_bins(s, 350.0, 601)
    assert auc_from_counts(np.bincount(b[r], minlength=601),
                           np.bincount(b[~r], minlength=601)) == pytest.approx(
        default_auc(s, ~r), abs=1e-12)


# --------------------------------------------------------------- the effects, in runs


def _totals(threshold: float, seed: int) -> dict[str, float]:
    sim = fico_society(3000, {"black": threshold, "white": threshold}, seed, days=40,
                       lending={"apply_chance_per_day": 0.05, "term_days": 10})
    df = sim.run().outcomes_df()
    return {c: float(df[f"lending_{c}"].sum())
            for c in ("applications", "approvals", "repayments", "defaults")}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_higher_threshold_lowers_approvals_and_defaults(seed):
    """3,000 people with FICO scores, 40 days, 5% apply a day: at threshold 700 against
    550, far fewer approvals (a third of the applicants against two thirds) and defaults
    (the risky are refused); the expected gaps are many standard errors wide (false
    failure well below 1e-6 per seed)."""
    low, high = _totals(550.0, seed), _totals(700.0, seed)
    assert high["approvals"] < 0.8 * low["approvals"]
    assert high["defaults"] < 0.5 * low["defaults"]
    assert high["defaults"] / high["approvals"] < low["defaults"] / low["approvals"]
    assert high["applications"] > 0.9 * low["applications"]  # (people apply as before)


def test_repayments_and_defaults_move_the_borrowers_scores_by_the_rules_points():
    """Day 0: everyone applies, those at or above 600 borrow; day 1: each repaid loan adds
    the rule's +75, each default the rule's -150 (cut to [300, 850]), through the lender's
    source and the scheme's rules; nobody else's score moves. Borrowers' mean score rises
    (more repay than default above 600), the refused keep theirs."""
    sim = fico_society(4000, {"black": 600.0, "white": 600.0}, 5)
    sim.step()
    before = sim.schemes["fico"].s.copy()
    lent = np.isfinite(_lender(sim).score_at_approval)
    assert lent.any() and (~lent).any()
    assert (before[lent] >= 600).all() and (before[~lent] < 600).all()
    sim.step()
    after = sim.schemes["fico"].s
    up = np.minimum(before + 75, 850)
    down = np.maximum(before - 150, 300)
    repaid = lent & (after == up)
    defaulted = lent & (after == down) & ~repaid
    assert (repaid | defaulted)[lent].all()
    np.testing.assert_array_equal(after[~lent], before[~lent])
    o = sim.outcomes.data
    assert o["lending_repayments"][1] == repaid.sum() > 0
    assert o["lending_defaults"][1] == defaulted.sum() > 0
    assert o["lending_profit"][1] == repaid.sum() - 4 * defaulted.sum()
    assert after[lent].mean() > before[lent].mean() + 40
    group = sim.people.region
    for code, g in enumerate(sim.scenario.people.regions):
        assert o[f"lending_score_change_{g}"][1] == pytest.approx(
            float((after - before)[group == code].mean()), abs=1e-3)


def test_the_auc_column_is_the_auc_of_the_loans_actually_made(monkeypatch):
    """lending_auc: the scores at approval of the loans settled so far against their
    outcomes, counted independently by watching each settlement."""
    seen: list[tuple[np.ndarray, np.ndarray]] = []
    settle = Lending.settle

    def watch(self, t):
        due = np.flatnonzero(self.due == t)
        scores = self.score_at_approval[due].copy()
        repaid, defaulted = settle(self, t)
        seen.append((scores, np.isin(due, defaulted)))
        return repaid, defaulted

    monkeypatch.setattr(Lending, "settle", watch)
    sim = fico_society(3000, {"black": 500.0, "white": 500.0}, 7, days=30,
                       lending={"apply_chance_per_day": 0.05, "term_days": 5})
    df = sim.run().outcomes_df()
    scores = np.concatenate([s for s, _ in seen])
    defaulted = np.concatenate([d for _, d in seen])
    assert scores.size == df["lending_repayments"].sum() + df["lending_defaults"].sum()
    assert defaulted.sum() > 20
    # exactly M14's AUC of the scores in whole points above the minimum (the bins), and
    # within a hair of it on the exact scores (after +75 / -150 two scores may share a bin)
    whole = np.floor(scores.astype(np.float64) - 300.0)
    assert df["lending_auc"].iloc[-1] == pytest.approx(default_auc(whole, defaulted),
                                                       abs=1e-12)
    assert df["lending_auc"].iloc[-1] == pytest.approx(default_auc(scores, defaulted),
                                                       abs=1e-3)
    assert df["lending_auc"].iloc[-1] > 0.6  # (the score measures repayment here)


def test_the_lender_s_draws_are_its_own_and_it_is_off_by_default():
    """seed with the lender on but its reports worth 0 points: every column of the seed
    run but the lender's own and the records it adds is unchanged (no other draw moved);
    seed itself builds no lender."""
    assert not load_scenario("seed").lending.enabled
    assert not any(isinstance(c, (Lending, LendingReports))
                   for c in Sim("seed", people=50, days=1).added)
    sc = load_scenario(EXAMPLE)
    rules = [r.model_copy(update={"points": 0.0}) if r.kind.startswith("lender_") else r
             for r in sc.schemes["sesame"].rules]
    sesame = sc.schemes["sesame"].model_copy(update={"rules": rules})
    sc = sc.model_copy(update={"schemes": {**sc.schemes, "sesame": sesame}})
    with_lender = Sim(sc, people=400, days=120, seed=2).run().outcomes_df()
    without = Sim("seed", people=400, days=120, seed=2).run().outcomes_df()
    assert with_lender["lending_approvals"].sum() > 20
    for col in without.columns:
        if col.startswith("records"):
            continue
        np.testing.assert_array_equal(with_lender[col].to_numpy(), without[col].to_numpy(),
                                      err_msg=col)


def test_a_checkpoint_continues_the_lender_exactly(tmp_path):
    sc = load_scenario(EXAMPLE)
    whole = Sim(sc, people=500, days=90, seed=3)
    whole.run()
    first = Sim(sc, people=500, days=90, seed=3)
    for _ in range(40):
        first.step()
    assert (_lender(first).due >= 0).any()  # (loans open at the checkpoint)
    first.save_state(tmp_path / "cp")
    rest = Sim.from_state(tmp_path / "cp")
    rest.run()
    for col, x in whole.outcomes.data.items():
        np.testing.assert_array_equal(rest.outcomes.data[col], x, err_msg=col)


def test_seed_with_the_lender_runs_and_reports_its_columns():
    df = Sim(load_scenario(EXAMPLE), people=600, days=200, seed=1).run().outcomes_df()
    assert df["lending_applications"].sum() > df["lending_approvals"].sum() > 30
    assert df["lending_repayments"].sum() > df["lending_defaults"].sum() > 0
    assert {f"lending_score_change_decile_{d}" for d in range(10)} <= set(df.columns)
    assert 0 <= df["lending_auc"].dropna().iloc[-1] <= 1


@pytest.mark.parametrize("overrides, expected", [
    ({"lending.threshold": 1000.0}, "lending.threshold: 1000 lies outside the range of "
                                    "scheme 'sesame', [350, 950]"),
    ({"lending.thresholds": {"decile_3": 100.0}}, "lending.thresholds.decile_3: 100"),
    ({"lending.thresholds": {"beijing": 600.0}}, "lending.thresholds: unknown group"),
    ({"lending.scheme": "bank"}, "lending.scheme: unknown scheme 'bank'"),
    ({"lending.source": "court"}, "lending.source: unknown source 'court'"),
    ({"lending.apply_chance_per_day": -0.1}, "lending.apply_chance_per_day"),
    ({"lending.term_days": 0}, "lending.term_days"),
])
def test_bad_lending_keys_are_refused_with_the_key_named(overrides, expected):
    with pytest.raises(ScenarioError) as info:
        load_scenario(EXAMPLE, overrides)
    assert expected in str(info.value)


def test_the_default_threshold_is_checked_only_where_a_group_uses_it():
    """Every decile with a threshold of its own: the default is never used, so a value
    outside the scheme's range is no error; one decile without: it is."""
    own = {f"decile_{d}": 600.0 for d in range(10)}
    sc = load_scenario(EXAMPLE, {"lending.group_by": "income_decile",
                                 "lending.thresholds": own, "lending.threshold": 5000.0})
    assert sc.lending.threshold == 5000.0
    del own["decile_9"]
    with pytest.raises(ScenarioError, match="lending.threshold: 5000 lies outside"):
        load_scenario(EXAMPLE, {"lending.group_by": "income_decile",
                                "lending.thresholds": own, "lending.threshold": 5000.0})


def test_the_report_shows_the_lender(tmp_path):
    from scoresim.results.report import report_charts
    from scoresim.results.run_folder import Results

    Sim(load_scenario(EXAMPLE), people=400, days=90, seed=1).run().save(tmp_path / "run")
    charts = {c.name: c for c in report_charts(Results.load(tmp_path / "run"))}
    assert "lending.png" in charts and "applications" in charts["lending.png"].alt
    assert "decile_0" in charts["lending.png"].alt and "decile_9" in charts["lending.png"].alt
    from test_reports_read import _allowed, _rgb, colours_used

    allowed = _allowed()  # (the colour-blind safe palette of every report figure)
    for art, colour in colours_used(charts["lending.png"].figure):
        if not (isinstance(colour, str) and colour == "none"):
            assert _rgb(colour) is None or _rgb(colour) in allowed, (art, colour)
    html = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert "Loans decided by scores" in html and 'id="fig-lending"' in html
    Sim("seed", people=300, days=5).run().save(tmp_path / "plain")
    assert "Loans decided by scores" not in (tmp_path / "plain" / "report.html").read_text(
        encoding="utf-8")
