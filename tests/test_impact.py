"""The impact card (issue 29): declared contexts and gravity, the measures from tracked runs,
impact.json's schema, bad input refused before any run, and the page in Chromium."""

from __future__ import annotations

import json
import re
import textwrap

import numpy as np
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from conftest import require_browser
from scoresim import Sim, load_scenario
from scoresim.cli import app
from scoresim.declarations.contexts import undeclared
from scoresim.experiments.impact import impact, measures_of, pooled_ratio, tracking
from scoresim.model.impact import ImpactTracker
from scoresim.results import impact_card
from scoresim.results.plotting import text_overlaps

#: A small society with one scheme fed by a bank's records of unpaid bills, and loans
#: refused below a threshold: every sanction rests on finance data and falls in credit.
SAME_CONTEXT = """
    name = "same_context"
    start = 2020-01-01
    end = 2020-12-31
    [people]
    count = 1500
    [behaviour.rates_per_day]
    bill_default = 0.02
    [life]
    loan_application_rate_per_day = 0.02
    [sources.bank]
    kinds = ["bill_default", "bill_paid"]
    [sources.social]
    kinds = ["critical_statement", "comment"]
    accounts = "social"
    error_rate = 0.0
    [schemes.credit]
    sources = ["bank", "social"]
    initial_score = 500
    [schemes.credit.enrolment]
    mode = "mandatory"
    [[schemes.credit.rules]]
    kind = "bill_default"
    points = -20
    [sanctions.no_loan]
    effect = "loan_denied"
    scheme = "credit"
    below = 470
"""
#: The same, with one cross-context rule: critical statements on social media deduct too.
CROSS_RULE = """
    [[schemes.credit.rules]]
    kind = "critical_statement"
    points = -20
"""


def _scenario(tmp_path, text: str, name: str = "s.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_scenario(path)


def _tracked(sc, seed=1, people=1500, days=240):
    sim = Sim(tracking(sc), seed=seed, people=people, days=days)
    sim.run()
    tracker = next(c for c in sim.added if isinstance(c, ImpactTracker))
    return sim, measures_of(tracker.summary(), sim.scenario)


def test_every_event_kind_and_effect_has_a_context_gravity_and_weight():
    assert undeclared() == []


def test_tracking_observes_only_every_outcome_is_the_same(tmp_path):
    sc = _scenario(tmp_path, SAME_CONTEXT + CROSS_RULE)
    plain = Sim(sc, seed=3, people=600, days=90)
    plain.run()
    tracked = Sim(tracking(sc), seed=3, people=600, days=90)
    tracked.run()
    assert any(isinstance(c, ImpactTracker) for c in tracked.added)
    assert not any(isinstance(c, ImpactTracker) for c in plain.added)
    for col, values in plain.outcomes.data.items():
        np.testing.assert_array_equal(values, tracked.outcomes.data[col], err_msg=col)


@pytest.mark.parametrize("seed", [1, 2])
def test_sanctions_all_from_the_same_context_find_no_unrelated_share(tmp_path, seed):
    _, m = _tracked(_scenario(tmp_path, SAME_CONTEXT), seed=seed)
    counts = m["scalars"]["counts"]
    assert counts["sanctions"] > 50          # (a measure of something)
    assert m["scalars"]["unrelated_context_share"] == 0.0
    assert m["scalars"]["unrelated_context_only_share"] == 0.0
    assert m["scalars"]["unrelated_context_people_share"] == 0.0
    # an unpaid bill is moderate and a refused loan moderate: nothing disproportionate
    # but the sanctions with no record of one's own in force
    assert m["scalars"]["minor_only_share"] == 0.0
    assert m["scalars"]["disproportionate_share"] == pytest.approx(
        m["scalars"]["no_own_record_share"])
    assert all(e["context"] == "finance" for w in m["worst"] for e in w["ledger"])


@pytest.mark.parametrize("seed", [1, 2])
def test_one_cross_context_rule_finds_an_unrelated_share(tmp_path, seed):
    _, m = _tracked(_scenario(tmp_path, SAME_CONTEXT + CROSS_RULE), seed=seed)
    s = m["scalars"]
    assert s["counts"]["sanctions"] > 50
    assert 0.05 < s["unrelated_context_share"] <= 1.0
    assert 0 < s["unrelated_context_only_share"] <= s["unrelated_context_share"]
    # critical statements are minor: some sanctions rest on them alone
    assert s["minor_only_share"] > 0
    assert s["minor_only_share"] <= s["disproportionate_share"]
    assert m["by_sanction"]["no_loan"]["unrelated_context_share"] == pytest.approx(
        s["unrelated_context_share"])
    # the worst case is one triggered by minor behaviour, with its ledger
    worst = m["worst"][0]
    assert worst["ledger"] and all(e["gravity"] == "minor" for e in worst["ledger"])
    assert {e["context"] for e in worst["ledger"]} == {"social_media"}


def test_declaring_the_cross_context_related_makes_it_related(tmp_path):
    """The mapping is the scenario's: social media declared related to credit, the same
    runs find no sanction in an unrelated context."""
    text = SAME_CONTEXT + CROSS_RULE + """
    [impact.related]
    finance = ["credit"]
    social_media = ["credit", "internet"]
    """
    _, m = _tracked(_scenario(tmp_path, text), seed=1)
    assert m["scalars"]["counts"]["sanctions"] > 50
    assert m["scalars"]["unrelated_context_share"] == 0.0


def test_data_errors_give_wrongful_sanctions_and_none_without_errors(tmp_path):
    clean = _tracked(_scenario(tmp_path, SAME_CONTEXT), seed=1, days=200)[1]["scalars"]
    _scenario(tmp_path, SAME_CONTEXT, "e.toml")
    erring = load_scenario(tmp_path / "e.toml", {"sources.bank.error_rate": 0.3})
    wrong = _tracked(erring, seed=1, days=200)[1]["scalars"]
    assert clean["wrongful_rate"] == 0.0 and clean["counts"]["wrongful"] == 0
    assert wrong["counts"]["wrongful"] > 5 and wrong["wrongful_rate"] > 0
    # the rate is per 100,000 people a year
    assert wrong["wrongful_rate"] == pytest.approx(
        wrong["counts"]["wrongful"] / wrong["counts"]["person_years"] * 1e5)


def test_measures_of_a_hand_made_summary():
    """Three sanctions of one rule with two slots (finance related, social media not):
    one on finance data, one on social media data, one on both; the shares follow."""
    from scoresim import load_scenario as load

    sc = load("seed")
    n = 3
    summary = {
        "days": 730, "person_days": 1000 * 730.0,
        "exposure": {"critic": np.array([700 * 730.0, 300 * 730.0])},
        "labels": {"critic": ["others", "critics"]}, "levels": ["minor", "moderate", "serious"],
        "tracked": [{"name": "no_loan", "effect": "loan_denied", "basis": "credit",
                     "context": "credit", "weight": 1, "related": [True, False]}],
        "slots": {"credit": [("bill_default", "finance", 1),
                             ("critical_statement", "social_media", 0)]},
        "events": {"day": np.arange(n, dtype=np.int32), "rule": np.zeros(n, np.int16),
                   "person_id": np.array([1, 2, 2]), "slots": np.array([1, 2, 3]),
                   "wrongful": np.array([True, False, False]),
                   "association": np.zeros(n, bool), "score": np.full(n, 400.0),
                   "critic": np.array([0, 1, 1], np.int16)},
        "episodes": {"rule": np.zeros(2, np.int16), "start": np.array([0, 10], np.int32),
                     "days": np.array([100, 400], np.int32),
                     "censored": np.array([False, False]), "left": np.zeros(2, bool),
                     "wrongful": np.array([True, False]), "association": np.zeros(2, bool),
                     "repaired": np.array([True, False])},
    }
    m = measures_of(summary, sc)
    s = m["scalars"]
    assert s["unrelated_context_share"] == pytest.approx(2 / 3)
    assert s["unrelated_context_only_share"] == pytest.approx(1 / 3)
    assert s["unrelated_context_people_share"] == pytest.approx(1 / 2)
    assert s["minor_only_share"] == pytest.approx(1 / 3)
    assert s["disproportionate_share"] == pytest.approx(1 / 3)   # moderate > minor only
    assert s["wrongful_rate"] == pytest.approx(1 / (1000 * 730 / 365.25) * 1e5)
    assert s["wrongful_days_to_go"] == 100 and s["wrongful_repaired_share"] == 1.0
    assert s["wrongful_still_after_year"] == 0.0 and s["all_still_after_year"] == 0.5
    critics = m["groups"]["critic"]["sanction_rate"]
    assert critics["count"] == [1, 2]
    assert critics["ratio"][1] == pytest.approx((2 / 300) / (1 / 700))
    assert m["worst"][0]["ledger"] == [{"kind": "critical_statement",
                                        "context": "social_media", "gravity": "minor",
                                        "related": False}]


def test_a_sanction_held_a_year_before_its_person_left_counts_as_still_held():
    """Redress follows an episode for a year where it closed, went on to the end, or held
    365 days before the person left; a leaver's shorter episode says nothing of the year
    after and is left out."""
    from scoresim import load_scenario as load

    sc = load("seed")
    summary = {
        "days": 2000, "person_days": 1000 * 2000.0,
        "exposure": {"critic": np.array([700 * 2000.0, 300 * 2000.0])},
        "labels": {"critic": ["others", "critics"]}, "levels": ["minor", "moderate", "serious"],
        "tracked": [{"name": "no_loan", "effect": "loan_denied", "basis": "credit",
                     "context": "credit", "weight": 1, "related": [True]}],
        "slots": {"credit": [("bill_default", "finance", 1)]},
        "events": {"day": np.zeros(1, np.int32), "rule": np.zeros(1, np.int16),
                   "person_id": np.array([1]), "slots": np.array([1]),
                   "wrongful": np.array([True]), "association": np.zeros(1, bool),
                   "score": np.full(1, 400.0), "critic": np.array([0], np.int16)},
        # closed after 100 days; left after 500 days (held a year); left after 100 days
        "episodes": {"rule": np.zeros(3, np.int16), "start": np.array([0, 0, 0], np.int32),
                     "days": np.array([100, 500, 100], np.int32),
                     "censored": np.array([False, True, True]),
                     "left": np.array([False, True, True]),
                     "wrongful": np.array([True, True, True]),
                     "association": np.zeros(3, bool), "repaired": np.zeros(3, bool)},
    }
    s = measures_of(summary, sc)["scalars"]
    assert s["all_still_after_year"] == pytest.approx(1 / 2)
    assert s["wrongful_still_after_year"] == pytest.approx(1 / 2)


def test_the_pooled_ratio_interval_is_exact_and_covers_parity_for_equal_rates():
    lo, hi = pooled_ratio(50, 50, 10.0, 10.0)
    assert lo < 1 < hi
    lo, hi = pooled_ratio(90, 10, 10.0, 10.0)
    assert lo > 1
    lo, hi = pooled_ratio(0, 100, 10.0, 90.0)
    assert lo == 0 and hi < 1
    assert np.isnan(pooled_ratio(0, 0, 1.0, 1.0)[0])


# ---------------------------------------------------------------------- the card


@pytest.fixture(scope="module")
def card_folder(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("impact")
    text = textwrap.dedent(SAME_CONTEXT + CROSS_RULE)
    (tmp / "s.toml").write_text(text, encoding="utf-8")
    base = text.split("[schemes.credit]")[0].replace('"same_context"', '"no_scheme"')
    (tmp / "b.toml").write_text(base, encoding="utf-8")
    card = impact(load_scenario(tmp / "s.toml"), load_scenario(tmp / "b.toml"),
                  replicates=3, people=700, days=150, workers=2)
    out = tmp / "card"
    impact_card.write_card(card, out)
    return out, card


def test_impact_json_round_trips_through_its_schema(card_folder):
    out, card = card_folder
    text = (out / "impact.json").read_text(encoding="utf-8")
    data = json.loads(text)
    assert data["schema"] == "scoresim.impact/1"
    assert impact_card.dump(impact_card.load(out / "impact.json")) == text
    for key, m in data["measures"].items():
        assert {"value", "low", "high", "unit", "label"} <= m.keys(), key
        if "rate" in key:
            assert m["per"] == "100,000 people a year"
        if m["low"] is not None:
            assert m["low"] <= m["value"] <= m["high"], key
    assert data["measures"]["unrelated_context_share"]["value"] > 0
    damaged = dict(data, measures={**data["measures"], "sanction_rate": {"value": 1.0}})
    with pytest.raises(ValidationError):
        impact_card.validate(damaged)
    with pytest.raises(ValidationError):
        impact_card.validate(dict(data, extra_key=1))


def test_the_summary_states_only_what_intervals_support(card_folder):
    _, card = card_folder
    zero = {"label": "x", "value": 0.0, "low": 0.0, "high": 0.0, "unit": "share of sanctions",
            "seeds": 3}
    unsure = {**zero, "value": 0.05, "low": 0.0, "high": 0.12}
    clear = {**zero, "value": 0.4, "low": 0.3, "high": 0.5}
    for m, said in ((zero, "No sanction"), (unsure, "does not say that any did"),
                    (clear, "rested on a record from a data context unrelated")):
        c = dict(card, measures={**card["measures"], "unrelated_context_share": m})
        assert said in impact_card.summary(c)[0]
    # no disparity claimed where none is stated, and each stated one is in the sentence
    c = dict(card, by_group=[dict(r, disparity=False) for r in card["by_group"]])
    assert "no group" in " ".join(impact_card.summary(c))
    # every number in the summary links to a figure of the page
    page = impact_card.card_page(card)
    anchors = set(re.findall(r'href="#(fig-[a-z]+)"', page))
    assert anchors and all(f'id="{a}"' in page for a in anchors)


def test_no_text_overlaps_in_the_card_figures(card_folder):
    _, card = card_folder
    for chart in impact_card.card_charts(card):
        assert text_overlaps(chart.figure) == [], chart.name
        assert chart.alt and len(chart.alt) > 40
        chart.close()


def test_bad_input_is_refused_before_any_run(tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["impact", "seed", "--baseline", "nowhere", "--out",
                            str(tmp_path / "a")])
    assert r.exit_code == 2 and "--baseline" in r.output and "nowhere" in r.output
    r = runner.invoke(app, ["impact", "baseline", "--out", str(tmp_path / "b")])
    assert r.exit_code == 2 and "has no scheme" in r.output
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_impact_html_in_chromium_fits_the_screen_and_a4(card_folder, tmp_path):
    require_browser()
    from scoresim.results.screenshot import (
        A4_TEXT_WIDTH,
        SCREEN_WIDTH,
        browser,
        open_report,
        print_pdf,
    )

    out, _ = card_folder
    page = out / "impact.html"
    with browser() as b:
        screen = open_report(b, page, SCREEN_WIDTH)
        printed = open_report(b, page, A4_TEXT_WIDTH, media="print")
        pdf = print_pdf(b, page, tmp_path / "impact.pdf")
    for shown in (screen, printed):
        width = SCREEN_WIDTH if shown is screen else A4_TEXT_WIDTH
        assert shown.scroll_width <= width
        assert len(shown.images) == 6
        assert all(i["loaded"] and i["alt"] for i in shown.images)
        assert all(0 < i["width"] <= shown.scroll_width for i in shown.images)
        assert shown.broken_links == []
        assert shown.summary_top is not None and shown.summary_top < shown.first_figure_top
    boxes = [tuple(map(float, m)) for m in
             re.findall(rb"/MediaBox \[\s*([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)\s*\]", pdf)]
    assert len(boxes) >= 2 and all(abs(x1 - 595.9) < 1 and abs(y1 - 842.9) < 1
                                   for _, _, x1, y1 in boxes)


def test_a_tracked_run_continued_from_a_checkpoint_measures_the_same(tmp_path):
    """The tracker's state (lapse days, exposure, events, episodes) is declared and
    carried by a checkpoint: stopping half way and continuing changes nothing."""
    import datetime as dt

    sc = tracking(_scenario(tmp_path, SAME_CONTEXT + CROSS_RULE))
    whole = Sim(sc, seed=2, people=500, days=120)
    whole.run(checkpoints={dt.date(2020, 2, 20): tmp_path / "half"})
    later = Sim.from_state(tmp_path / "half")
    later.run()
    a, b = (next(c for c in s.added if isinstance(c, ImpactTracker)).summary()
            for s in (whole, later))
    assert a["events"] is not None and a["events"]["day"].size > 10
    assert a["person_days"] == b["person_days"]
    for k in a["events"]:
        np.testing.assert_array_equal(a["events"][k], b["events"][k], err_msg=k)
    for k in a["episodes"]:
        np.testing.assert_array_equal(a["episodes"][k], b["episodes"][k], err_msg=k)
    for g in a["exposure"]:
        np.testing.assert_array_equal(a["exposure"][g], b["exposure"][g])


def test_uncertainty_gives_each_measure_a_range_over_the_assumptions():
    ov = {"phases.mandatory": "2018-01-10"}
    card = impact(load_scenario("seed", ov), load_scenario("baseline", ov), replicates=2,
                  people=200, days=40, workers=2, uncertainty=2)
    impact_card.validate(card)
    assert card["uncertainty"]["parameter_sets"] == 2 and card["uncertainty"]["runs"] == 4
    m = card["measures"]["sanction_rate"]
    assert m["low_assumptions"] is not None and m["low_assumptions"] <= m["high_assumptions"]
    assert "parameter sets drawn" in impact_card.assumptions_note(card)


def test_credit_repair_takes_its_records_out_of_force(tmp_path):
    """After a repair, none of the person's deducting records made before it counts as in
    force: every slot's lapse day is unset or that of a record made on or after the
    repair day (records last 365 days here)."""
    text = SAME_CONTEXT.replace("initial_score = 500", """initial_score = 500
    lasts_days = 365""") + """
    [schemes.credit.repair]
    apply_rate_per_day = 0.3
    min_days_in_force = 0
    waiting_days = 0
    """
    sim, m = _tracked(_scenario(tmp_path, text), seed=1, days=150)
    tracker = next(c for c in sim.added if isinstance(c, ImpactTracker))
    repaired_on = sim.schemes["credit"].logs[0].repaired_on
    who = np.flatnonzero(repaired_on >= 0)
    assert who.size > 50
    for key, until in tracker.until.items():
        u = until[who]
        assert np.all((u == -1) | (u >= repaired_on[who] + 365)), key
    assert m["scalars"]["counts"]["sanctions"] > 0
