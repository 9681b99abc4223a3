"""Reports that read at a glance (issue 21): effects a reader can compare, bands over time,
no overlapping text, a summary in words backed by the numbers, colour-blind-safe colours,
alt text, a page that fits 1024 px and A4, and both reports opened in Chromium."""

import html as htmllib
import json
import re

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import require_browser, scenario
from scoresim import Results, Sim, load_scenario
from scoresim.experiments.compare import HEADLINES, compare
from scoresim.results.comparison import Comparison
from scoresim.results.comparison_charts import bands, comparison_charts, effect_text, effects_chart
from scoresim.results.plotting import GREYS, PALETTE, pyplot, subplots, text_overlaps
from scoresim.results.report import report_charts
from scoresim.results.wording import comparison_summary, effects_of, number, percent, run_summary

EARLY = {"phases__mandatory": "2018-03-01"}


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("read") / "run"
    Sim(scenario("seed", **EARLY), seed=2, people=1500, days=200).run().save(out)
    return out


@pytest.fixture(scope="module")
def cmp_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("read") / "cmp"
    compare(scenario("baseline", **EARLY), scenario("seed", **EARLY), replicates=3,
            people=800, days=200, workers=2).save(out)
    return out


@pytest.fixture(scope="module")
def charts(run_folder, cmp_folder):
    """Every figure of both reports, built once for the tests that look at them."""
    built = report_charts(Results.load(run_folder)) + comparison_charts(
        Comparison.load(cmp_folder))
    yield {c.name: c for c in built}
    for c in built:
        c.close()


RUN_FIGURES = {"scores.png", "distribution.png", "expression.png", "opinions.png",
               "isolation.png", "sanctions.png", "neighbourhood.png"}


# --------------------------------------------------------------- text never overlaps


def test_the_overlap_check_finds_overlapping_and_clipped_text():
    fig, axes = subplots(1, 2, width=6)
    for ax, name in zip(axes[0], ("government", "sesame"), strict=True):
        ax.set_title(f"{name}: published scores at the end (tier bounds in grey)")
    assert any("government" in a and "sesame" in b for a, b in text_overlaps(fig))
    fig = pyplot().figure(figsize=(4, 3))      # no layout engine: nothing moves the text
    ax = fig.add_subplot()
    ax.annotate("here", (0.5, 0.5))
    ax.annotate("there", (0.5, 0.5))
    ax.annotate("far", (3.0, 0.5), xycoords="axes fraction")
    found = text_overlaps(fig)
    assert ("here", "there") in found and ("far", "<figure edge>") in found


def test_no_text_overlaps_in_any_report_figure(charts):
    assert set(charts) == RUN_FIGURES | {"effects.png", "series.png"}
    for chart in charts.values():
        assert text_overlaps(chart.figure) == [], chart.name


@pytest.mark.parametrize("preset", ["government-pilot", "sesame", "baseline", "daymude-2025"])
def test_no_text_overlaps_in_other_presets_figures(tmp_path, preset):
    """One scheme, another tier set, no scheme at all, an adaptive authority: the layout
    holds for each."""
    out = tmp_path / preset
    Sim(preset, seed=1, people=500, days=60).run().save(out, report=False)
    charts = report_charts(Results.load(out))
    assert charts
    for chart in charts:
        assert text_overlaps(chart.figure) == [], (preset, chart.name)
        chart.close()


# ------------------------------------------------------------ effects and bands


def test_every_effect_row_is_on_its_own_scale_including_zero_baselines(cmp_folder):
    cmp = Comparison.load(cmp_folder)
    eff = cmp.effects.set_index("outcome")
    assert eff.loc["sanctions_total", "a_mean"] == 0      # the case that broke the old plot
    assert eff.loc["sanctions_total", "effect"] > 0
    chart = effects_chart(cmp)
    axes = chart.figure.axes
    assert len(axes) == len(HEADLINES)
    for ax, e in zip(axes, effects_of(cmp), strict=True):
        scale = 100 if e.kind == "share" else 1
        if not e.defined:  # (the mean score: baseline scores no one)
            assert e.outcome == "score_position"
            assert [t.get_text() for t in ax.texts] == ["not defined in both scenarios"]
            continue
        per_seed = cmp.replicates.loc[cmp.replicates.outcome == e.outcome, "effect"] * scale
        biggest = np.nanmax(np.abs([*per_seed, e.effect * scale, e.low * scale,
                                    e.high * scale]))
        lo, hi = ax.get_xlim()
        assert lo <= 0 <= hi
        if biggest > 0:   # the row's axis spans its own numbers, not another row's
            assert biggest <= hi <= 1.2 * biggest and lo == -hi
        label = ax.get_ylabel()
        assert label == HEADLINES[e.outcome][1]
        printed = [t.get_text() for t in ax.texts]
        assert printed == [effect_text(e)]
    sanctions = effects_of(cmp)[list(HEADLINES).index("sanctions_total")]
    text = effect_text(sanctions)
    assert text.startswith(f"+{number(sanctions.effect)} [") and "from 0" in text
    chart.close()


def test_bands_are_the_t_interval_across_replicates():
    rng = np.random.default_rng(0)
    stack = rng.normal(size=(5, 40))
    mean, lo, hi = bands(stack)
    half = stats.t.ppf(0.975, 4) * stack.std(axis=0, ddof=1) / np.sqrt(5)
    assert np.allclose(mean, stack.mean(axis=0))
    assert np.allclose(hi - mean, half) and np.allclose(mean - lo, half)
    one = bands(stack[:1])
    assert np.isnan(one[1]).all() and np.isnan(one[2]).all()


def test_over_time_panels_draw_bands_from_the_replicates(cmp_folder):
    cmp = Comparison.load(cmp_folder)
    per_seed = cmp.replicate_series
    assert per_seed is not None and per_seed.seed.nunique() == 3
    means = per_seed.groupby("date", sort=True)["b_self_censoring_share"].mean().to_numpy()
    assert np.allclose(means, cmp.series["b_self_censoring_share"].to_numpy())
    chart = comparison_charts(cmp)[1]
    titled = {ax.get_title(loc="left"): ax for ax in chart.figure.axes}
    ax = titled["share self-censoring"]
    fills = [c for c in ax.collections if c.get_paths()]
    assert len(fills) == 2                       # one band per scenario
    b = np.stack([g.to_numpy() for _, g in per_seed.groupby("seed")["b_self_censoring_share"]])
    _, lo, hi = bands(b)
    verts = fills[1].get_paths()[0].vertices[:, 1]
    finite = np.isfinite(hi)
    assert np.isclose(verts.max(), np.nanmax(hi[finite]))
    assert np.isclose(verts.min(), np.nanmin(lo[finite]))
    assert (hi - lo)[-1] > 0                      # replicates differ: the band has a width
    chart.close()


# ----------------------------------------------------------------- summary in words


def fake_comparison(values: dict[str, tuple[list[float], list[float]]]) -> Comparison:
    """A comparison whose per-replicate outcomes are given: outcome -> (a values, b values)."""
    from scoresim.results.wording import t_interval

    reps, effects = [], []
    for outcome, (a, b) in values.items():
        for seed, (x, y) in enumerate(zip(a, b, strict=True)):
            reps.append({"seed": seed, "outcome": outcome, "a": x, "b": y, "effect": y - x})
        mean, lo, hi = t_interval(np.subtract(b, a))
        how, label = HEADLINES[outcome]
        effects.append({"outcome": outcome, "label": label, "summary": how,
                        "a_mean": float(np.mean(a)), "b_mean": float(np.mean(b)),
                        "effect": mean, "ci_low": lo, "ci_high": hi, "replicates": len(a)})
    seeds = list(range(len(next(iter(values.values()))[0])))
    return Comparison(load_scenario("baseline"), load_scenario("seed"), seeds,
                      pd.DataFrame(effects), pd.DataFrame(reps), pd.DataFrame(),
                      {"people": 1000, "days": 365})


def plain(sentences: list[str]) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", "", " ".join(sentences)))


def test_summary_says_no_clear_effect_where_the_interval_includes_zero():
    cmp = fake_comparison({
        "critical_statements": ([10, 11, 12, 10], [8, 8.9, 9.5, 8.1]),        # clear fall
        "critic_degree_ratio": ([0.95, 0.96, 0.97, 0.94], [0.96, 0.94, 0.98, 0.93]),
        "sanctions_total": ([0, 0, 0, 0], [170, 180, 190, 175]),              # zero baseline
        "isolated_critics": ([0.01, 0.02, 0.0, 0.01], [0.01, 0.02, 0.0, 0.01]),  # identical
        "self_censoring_share": ([0, 0, 0, 0], [0.08, 0.07, 0.09, 0.08]),
    })
    text = plain(comparison_summary(cmp))
    per_seed = np.array([8, 8.9, 9.5, 8.1]) / np.array([10, 11, 12, 10]) - 1
    fall = -per_seed.mean()
    assert f"fell by {percent(fall)}" in text
    assert re.search(r"No clear effect \(the 95% interval includes zero\) on critics' number "
                     r"of friends relative to others' \(−?\+?[\d.]+% \[−[\d.]+%, \+[\d.]+%\]\)",
                     text), text
    assert "Sanctions in all: 179 [" in text and "none with baseline" in text
    assert "share of critics without any friend" in text.split("in every replicate:")[-1]
    assert "rose from 0.0% to 8.0% (+8.0 points [" in text
    assert "lost" not in text and "rose by" not in text   # nothing the numbers do not support


def test_a_clear_loss_of_friends_is_said_as_such():
    a = [0.98, 0.97, 0.99, 0.98]
    b = [0.82, 0.81, 0.84, 0.83]
    text = plain(comparison_summary(fake_comparison({"critic_degree_ratio": (a, b)})))
    loss = 1 - (np.array(b) / np.array(a)).mean()
    assert text.startswith(f"Critics lost {percent(loss)} [")
    assert "of their friends relative to others" in text


def test_one_replicate_claims_no_effect():
    text = plain(comparison_summary(fake_comparison({"critical_statements": ([10], [8])})))
    assert "no effect can be told from noise" in text and "fell" not in text


def test_run_summary_states_the_runs_numbers(run_folder):
    res = Results.load(run_folder)
    text = plain(run_summary(res))
    df = res.outcomes_df()
    assert f"at the end {percent(df.self_censoring_share.iloc[-1])} of people censor" in text
    assert f"{number(df.sanctions_total.sum())} sanctions were applied" in text
    assert f"averaged {number(df.critical_statements.tail(30).mean())} a day" in text
    assert f"score of {number(df.government_score_mean.iloc[-1])}" in text


@pytest.mark.parametrize("which", ["run", "cmp"])
def test_every_number_in_the_summary_links_to_a_figure_and_every_figure_has_alt_text(
        which, run_folder, cmp_folder):
    page = ((run_folder if which == "run" else cmp_folder) / "report.html").read_text()
    summary = re.search(r"<section class='summary'.*?</section>", page, re.S).group(0)
    assert page.index("<section class='summary'") < page.index("<h2>", page.index("</h1>")) + 1
    figure_ids = set(re.findall(r'<figure id="([^"]+)"', page))
    links = re.findall(r'<a class="num" href="#([^"]+)">([^<]+)</a>', summary)
    assert links and {target for target, _ in links} <= figure_ids
    outside = re.sub(r"<a [^>]+>[^<]*</a>|<code>.*?</code>", "", summary)
    outside = htmllib.unescape(re.sub(r"<[^>]+>", "", outside))
    sentences = outside.split(":", 1)[1] if which == "cmp" else outside.split("):", 1)[1]
    unlinked = set(re.findall(r"\d[\d.,]*", sentences)) - {"30", "95"}   # (windows, levels)
    assert not unlinked, sentences          # every number the run produced is a link
    alts = re.findall(r'<img alt="([^"]*)"', page)
    assert len(alts) == len(figure_ids) >= (7 if which == "run" else 2)
    assert all(len(a) > 60 and re.search(r"\d", a) for a in alts)


# ------------------------------------------------------------------------- colours


def _rgb(colour) -> tuple | None:
    rgba = mcolors.to_rgba(colour)
    return None if rgba[3] == 0 else tuple(round(c, 3) for c in rgba[:3])


def _allowed() -> set:
    from matplotlib import colormaps

    ok = {_rgb(c) for c in (*PALETTE, *GREYS, "white", "black", "#222222")}
    for name in ("cividis", "viridis"):
        ok |= {_rgb(c) for c in colormaps[name](np.linspace(0, 1, 256))}
    return ok


def colours_used(fig) -> list:
    """(artist, colour) for every colour that data is drawn in (lines, patches,
    collections); collections coloured by a colour map give the map's name."""
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    out = []
    for art in fig.findobj(lambda a: a.get_visible()):
        if isinstance(art, Line2D):
            out += [(art, art.get_color()), (art, art.get_markerfacecolor()),
                    (art, art.get_markeredgecolor())]
        elif isinstance(art, Patch) and art is not fig.patch:
            out += [(art, art.get_facecolor()), (art, art.get_edgecolor())]
        elif isinstance(art, Collection):
            if art.get_array() is not None:
                out.append((art, "cmap:" + art.get_cmap().name))
            out += [(art, c) for c in art.get_facecolors()]
            out += [(art, c) for c in art.get_edgecolors()]
    return out


def test_every_figure_uses_the_colour_blind_safe_palette(charts):
    allowed = _allowed()
    for chart in charts.values():
        for art, colour in colours_used(chart.figure):
            if isinstance(colour, str) and colour.startswith("cmap:"):
                assert colour[5:] in ("cividis", "viridis"), (chart.name, art)
            elif not (isinstance(colour, str) and colour == "none"):
                rgb = _rgb(colour)
                assert rgb is None or rgb in allowed, (chart.name, art, colour)


# ------------------------------------------------------------------------- browser


@pytest.mark.parametrize("which", ["run", "cmp"])
def test_report_in_chromium_fits_the_screen_and_a4_and_shows_every_figure(
        which, run_folder, cmp_folder, tmp_path):
    require_browser()
    from PIL import Image

    from scoresim.results.screenshot import (
        A4_TEXT_WIDTH,
        SCREEN_WIDTH,
        browser,
        open_report,
        print_pdf,
    )

    report = (run_folder if which == "run" else cmp_folder) / "report.html"
    shot = tmp_path / "report.png"
    with browser() as b:
        screen = open_report(b, report, SCREEN_WIDTH, png=shot)
        printed = open_report(b, report, A4_TEXT_WIDTH, media="print")
        pdf = print_pdf(b, report, tmp_path / "report.pdf")
    for page in (screen, printed):
        assert page.scroll_width <= (SCREEN_WIDTH if page is screen else A4_TEXT_WIDTH)
        assert page.images and all(i["loaded"] and i["alt"] for i in page.images)
        assert all(0 < i["width"] <= page.scroll_width for i in page.images)
        assert page.broken_links == []
        assert page.summary_top is not None and page.summary_top < page.first_figure_top
    assert page.summary_top < 400            # the summary is what a reader sees first
    with Image.open(shot) as img:
        assert img.size[0] == SCREEN_WIDTH and img.size[1] == screen.height
        pixels = np.asarray(img.convert("L"))
    assert pixels.std() > 20                 # a page with content, not a blank
    boxes = [tuple(map(float, m)) for m in
             re.findall(rb"/MediaBox \[\s*([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)\s*\]", pdf)]
    assert boxes and all(abs(x1 - 595.9) < 1 and abs(y1 - 842.9) < 1
                         for _, _, x1, y1 in boxes)   # A4 in points


@pytest.mark.parametrize("kind", ["sobol", "morris"])
def test_the_sensitivity_figure_keeps_its_text_apart_and_its_colours_safe(kind):
    from scoresim.experiments.sensitivity import chart

    names = ["schemes.government.friend_weight", "sources.social.error_rate",
             "people.critic_below"]
    values = np.array([0.42, 0.05, 0.31])
    table = pd.DataFrame({"parameter": names, **(
        {"S1": values, "S1_conf": values / 5, "ST": values * 1.2, "ST_conf": values / 4}
        if kind == "sobol" else
        {"mu_star": values, "mu_star_conf": values / 5, "sigma": values / 2})})
    c = chart(table, "critical_statements:mean_last_year")
    assert text_overlaps(c.figure) == []
    allowed = _allowed()
    assert all(isinstance(colour, str) and colour == "none" or _rgb(colour) is None
               or _rgb(colour) in allowed for _, colour in colours_used(c.figure))
    assert "friend_weight" in c.alt and "0.42" in c.alt
    c.close()


def test_a_comparison_folder_without_replicate_series_still_reports(cmp_folder, tmp_path):
    """Folders written before the per-replicate series were kept: means, no bands."""
    import shutil

    from scoresim.results.folder_report import write_report

    old = tmp_path / "old"
    shutil.copytree(cmp_folder, old)
    (old / "replicate_series.parquet").unlink()
    (old / "report.html").unlink()
    # (such folders predate the checksums too)
    meta = json.loads((old / "comparison.json").read_text())
    del meta["sha256"]
    (old / "comparison.json").write_text(json.dumps(meta))
    cmp = Comparison.load(old)
    assert cmp.replicate_series is None
    chart = comparison_charts(cmp)[1]
    assert text_overlaps(chart.figure) == []
    chart.close()
    page = write_report(old).read_text()
    assert page.count('<figure id="') == 2 and "In short" in page


def test_a_relative_change_is_only_given_where_it_agrees_with_the_raw_interval():
    """Per-seed ratios can tell a different story than differences; then only the raw
    effect is spoken of, so no sentence both claims and denies an effect."""
    a = [1.0, 10.0, 10.0, 10.0]         # a small baseline in one seed: ratios scatter
    b = [3.0, 11.0, 11.0, 11.2]
    cmp = fake_comparison({"critical_statements": (a, b)})
    (e,) = effects_of(cmp)
    rel = (np.array(b) / np.array(a) - 1)
    assert e.clear and stats.t.interval(0.95, 3, rel.mean(), stats.sem(rel))[0] < 0
    assert e.relative is None
    text = plain(comparison_summary(cmp))
    assert "rose from 7.75 to 9.05 (+1.3 [" in text and "%" not in text
