"""The impact card's folder: impact.json (its schema below), impact.html (one page, A4 when
printed) and the figures behind it (docs/impact.md).

The page opens with a summary in words; every sentence carries its number, linked to the
figure that shows it, and states only what the intervals support (a share whose interval
includes zero is not called a share of sanctions; a disparity is stated only where its
interval over seeds and the interval of the pooled counts both exclude parity). The
assumptions the numbers rest on are named under the summary. Figures follow the reports'
rules (:mod:`scoresim.results.plotting`: palette, alt text stating the numbers, no text
overlapping, fitting 1024 px and the A4 text width).
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from scoresim.results.plotting import GREYS, PALETTE, WIDE, Chart, in_style, subplots, wrap
from scoresim.results.report import CSS, _figure, _summary_box
from scoresim.results.wording import link, number, percent

# ---------------------------------------------------------------------------- the schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Measure(_Strict):
    """One number of the card: the mean over seeds and its 95% interval (None: none)."""

    label: str
    value: float | None
    low: float | None
    high: float | None
    unit: str
    per: str | None = None
    seeds: int
    n: float | None = None
    """What the number is of, a seed on average: a share's denominator (sanctions,
    people, episodes), a rate's count of sanctions."""
    baseline: float | None = None
    scenario: float | None = None
    low_assumptions: float | None = None
    high_assumptions: float | None = None


class SanctionRow(_Strict):
    sanction: str
    effect: str
    context: str
    weight: str
    count: Measure
    unrelated_context_share: Measure
    minor_only_share: Measure
    disproportionate_share: Measure


class GroupRow(_Strict):
    group: str
    name: str
    measure: str
    rate: Measure
    ratio: Measure
    disparity: bool
    count: float
    ratio_pooled_low: float | None = None
    ratio_pooled_high: float | None = None


class LedgerEntry(_Strict):
    kind: str
    context: str
    gravity: str
    related: bool


class WorstCase(_Strict):
    sanction: str
    effect: str
    context: str
    weight: str
    date: str
    score: float | None
    wrongful: bool
    association: bool
    ledger: list[LedgerEntry]
    person: dict[str, str]


class Driver(_Strict):
    outcome: str
    group: str
    S1: float


class Card(_Strict):
    """impact.json (``schema`` names its version)."""

    schema_: str
    scenario: str
    baseline: str
    seeds: list[int]
    people: int
    start: str
    end: str
    days: int
    measures: dict[str, Measure]
    by_sanction: list[SanctionRow]
    by_group: list[GroupRow]
    worst_cases: list[WorstCase]
    counts: dict[str, float]
    assumptions: dict[str, Any]
    uncertainty: dict[str, Any] | None
    drivers: list[Driver]

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _fields(card: dict) -> dict:
    return {("schema_" if k == "schema" else k): v for k, v in card.items()}


def validate(card: dict) -> Card:
    """The card checked against the schema (a pydantic ``ValidationError`` if not)."""
    return Card.model_validate(_fields(card))


def dump(card: Card | dict) -> str:
    """impact.json's text (keys in the schema's order; NaN never written: None)."""
    model = card if isinstance(card, Card) else validate(card)
    data = model.model_dump(mode="json")
    data = {("schema" if k == "schema_" else k): v for k, v in data.items()}
    return json.dumps(data, indent=2, allow_nan=False)


def load(path: Path) -> Card:
    """impact.json read back and checked."""
    return validate(json.loads(Path(path).read_text(encoding="utf-8")))


# ------------------------------------------------------------------------------ numbers


def _pct(x: float | None) -> str:
    return "n/a" if x is None else percent(x)


def _ci(m: dict, fmt=number) -> str:
    if m.get("low") is None or m.get("high") is None:
        return "(one seed: no interval)" if m.get("seeds", 0) == 1 else "(no interval)"
    return f"(95% interval {fmt(m['low'])} to {fmt(m['high'])})"


def _clear_above_zero(m: dict) -> bool:
    return m.get("low") is not None and m["low"] > 0


def _none_at_all(m: dict) -> bool:
    return m.get("value") == 0 and (m.get("high") in (0, None))


# ------------------------------------------------------------------------------ figures


def _rows(card: dict) -> list[dict]:
    """The sanctions that hit anyone, in the card's order."""
    return [r for r in card["by_sanction"] if (r["count"]["value"] or 0) > 0]


def _bars(ax, labels: list[str], measures: list[dict], colour: str, scale: float = 1.0,
          limit: tuple[float, float] | None = None) -> None:
    y = np.arange(len(labels))[::-1]
    vals = np.array([(m["value"] if m["value"] is not None else np.nan) * scale
                     for m in measures])
    lo = np.array([(m["low"] if m["low"] is not None else np.nan) * scale for m in measures])
    hi = np.array([(m["high"] if m["high"] is not None else np.nan) * scale
                   for m in measures])
    ax.barh(y, np.nan_to_num(vals), color=colour, height=0.6)
    ok = np.isfinite(lo) & np.isfinite(hi)
    ax.errorbar(np.nan_to_num(vals)[ok], y[ok],
                xerr=[np.maximum(vals[ok] - lo[ok], 0), np.maximum(hi[ok] - vals[ok], 0)],
                fmt="none", ecolor=PALETTE[7], elinewidth=1, capsize=3)
    ax.set_yticks(y, labels)
    if limit:
        ax.set_xlim(*limit)
    elif np.nanmin(np.concatenate([vals, lo, [0.0]])) >= 0:
        top = np.nanmax(np.concatenate([vals, hi, [0.0]]))
        ax.set_xlim(0, top * 1.08 if top > 0 else 1.0)
    ax.axvline(0, color=GREYS[1], lw=0.8)


@in_style
def contexts_chart(card: dict) -> Chart:
    rows = _rows(card)
    m = card["measures"]
    labels = ["all sanctions"] + [r["sanction"].replace("_", " ") for r in rows]
    fig, axes = subplots(1, 2, width=WIDE, height=1.2 + 0.32 * len(labels))
    ax1, ax2 = axes[0]
    _bars(ax1, labels, [m["unrelated_context_share"]] + [r["unrelated_context_share"]
                                                         for r in rows], PALETTE[0], 100,
          (0, 105))
    ax1.set_title(wrap("Resting on a record from an unrelated context (%)", 44))
    ax1.set_xlabel("% of sanctions (95% interval over seeds)")
    _bars(ax2, labels, [m["unrelated_context_only_share"], *[
        {"value": None, "low": None, "high": None}] * len(rows)], PALETTE[4], 100, (0, 105))
    ax2.set_yticks([])
    ax2.set_title(wrap("Resting only on unrelated contexts (%, all sanctions)", 44))
    ax2.set_xlabel("% of sanctions")
    u = m["unrelated_context_share"]
    alt = (f"Bar chart: {_pct(u['value'])} of sanctions rested on at least one record from a "
           f"data context unrelated to the sanction's own context, "
           f"{_pct(m['unrelated_context_only_share']['value'])} only on such records; by "
           "sanction: " + "; ".join(f"{r['sanction']} {_pct(r['unrelated_context_share']['value'])}"
                                    for r in rows) + ".")
    return Chart("contexts.png", fig, alt)


@in_style
def gravity_chart(card: dict) -> Chart:
    rows = _rows(card)
    m = card["measures"]
    labels = ["all sanctions"] + [f"{r['sanction'].replace('_', ' ')} ({r['weight']})"
                                  for r in rows]
    fig, axes = subplots(1, 2, width=WIDE, height=1.2 + 0.32 * len(labels))
    ax1, ax2 = axes[0]
    _bars(ax1, labels, [m["minor_only_share"]] + [r["minor_only_share"] for r in rows],
          PALETTE[1], 100, (0, 105))
    ax1.set_title(wrap("Triggered only by minor behaviour (%)", 44))
    ax1.set_xlabel("% of sanctions (95% interval over seeds)")
    _bars(ax2, labels, [m["disproportionate_share"]] + [r["disproportionate_share"]
                                                        for r in rows], PALETTE[5], 100,
          (0, 105))
    ax2.set_yticks([])
    ax2.set_title(wrap("Heavier than the gravest behaviour behind it (%)", 44))
    ax2.set_xlabel("% of sanctions (sanction weight in brackets)")
    alt = (f"Bar chart: {_pct(m['minor_only_share']['value'])} of sanctions were triggered "
           f"only by behaviour graded minor and {_pct(m['disproportionate_share']['value'])} "
           "were heavier than the gravest behaviour behind them (the gravity scale is an "
           "assumption); by sanction: " + "; ".join(
               f"{r['sanction']} {_pct(r['minor_only_share']['value'])} minor only, "
               f"{_pct(r['disproportionate_share']['value'])} heavier" for r in rows) + ".")
    return Chart("gravity.png", fig, alt)


@in_style
def wrongful_chart(card: dict) -> Chart:
    m = card["measures"]
    fig, axes = subplots(1, 2, width=WIDE, height=1.9)
    ax1, ax2 = axes[0]
    _bars(ax1, ["all sanctions"], [m["sanction_rate"]], PALETTE[0])
    ax1.set_title("Sanctions")
    ax1.set_xlabel("per 100,000 people a year")
    _bars(ax2, ["data errors", "friends' pull"], [m["wrongful_rate"], m["association_rate"]],
          PALETTE[5])
    ax2.set_title("Wrongful sanctions")
    ax2.set_xlabel("per 100,000 people a year (95% interval)")
    alt = (f"Bar chart: {number(m['sanction_rate']['value'] or 0)} sanctions per 100,000 "
           f"people a year; wrongful through data errors "
           f"{number(m['wrongful_rate']['value'] or 0)}, by friends' pull "
           f"{number(m['association_rate']['value'] or 0)} per 100,000 people a year.")
    return Chart("wrongful.png", fig, alt)


@in_style
def groups_chart(card: dict) -> Chart:
    rows = [g for g in card["by_group"] if g["measure"] == "sanction_rate"
            and not (g["group"] == "critic" and g["name"] == "others")]
    order = {"critic": 0, "income_decile": 1, "region": 2, "age_band": 3, "stage_of_life": 4}
    rows.sort(key=lambda g: order[g["group"]])
    labels = [f"{g['name']}" + ("" if g["group"] in ("critic", "income_decile")
                                else f" ({g['group'].replace('_', ' ')})") for g in rows]
    fig, axes = subplots(1, 1, width=WIDE, height=1.3 + 0.24 * len(rows))
    ax = axes[0][0]
    y = np.arange(len(rows))[::-1]
    for yi, g in zip(y, rows, strict=True):
        r = g["ratio"]
        if r["value"] is None or r["value"] <= 0:
            continue
        colour = PALETTE[5] if g["disparity"] else PALETTE[0]
        ax.plot([r["value"]], [yi], "o", color=colour, ms=4)
        if r["low"] is not None and r["high"] is not None:
            ax.plot([max(r["low"], 1e-2), max(r["high"], 1e-2)], [yi, yi], color=colour,
                    lw=1.2)
    ax.axvline(1.0, color=GREYS[0], lw=0.9, ls="--")
    ax.set_xscale("log")
    ax.set_yticks(y, labels)
    ax.set_title("Sanction rate of each group against everyone else's (1 = parity)")
    ax.set_xlabel("rate ratio, log scale (95% interval over seeds; orange: a disparity "
                  "both intervals support)")
    stated = [g for g in rows if g["disparity"]]
    alt = ("Dot plot of each group's sanction rate divided by everyone else's, with 95% "
           "intervals: " + ("; ".join(f"{g['name']} ({g['group'].replace('_', ' ')}) "
                                      f"{number(g['ratio']['value'])}" for g in stated)
                            if stated else "no group's interval excludes parity") + ".")
    return Chart("groups.png", fig, alt)


@in_style
def redress_chart(card: dict) -> Chart:
    m = card["measures"]
    fig, axes = subplots(1, 2, width=WIDE, height=1.9)
    ax1, ax2 = axes[0]
    _bars(ax1, ["wrongful", "all sanctions"], [m["wrongful_days_to_go"], m["all_days_to_go"]],
          PALETTE[2])
    ax1.set_title("Median days until the condition goes")
    ax1.set_xlabel("days")
    _bars(ax2, ["wrongful", "all sanctions"],
          [m["wrongful_still_after_year"], m["all_still_after_year"]], PALETTE[3], 100,
          (0, 105))
    ax2.set_title("Still under it a year after (%)")
    ax2.set_xlabel("% of episodes observed for a year")
    alt = (f"Bar chart: a wrongful sanction's condition went after a median of "
           f"{_days(m['wrongful_days_to_go'])}, any sanction's after "
           f"{_days(m['all_days_to_go'])}; still held a year after: wrongful "
           f"{_pct(m['wrongful_still_after_year']['value'])}, all "
           f"{_pct(m['all_still_after_year']['value'])}.")
    return Chart("redress.png", fig, alt)


def _days(m: dict) -> str:
    return "n/a (none observed)" if m["value"] is None else f"{number(m['value'])} days"


@in_style
def chilling_chart(card: dict) -> Chart:
    m = card["measures"]
    fig, axes = subplots(1, 2, width=WIDE, height=1.7)
    ax1, ax2 = axes[0]
    _bars(ax1, ["self-censoring"], [m["chilling_self_censoring"]], PALETTE[0], 100)
    ax1.set_title("Self-censoring share: scenario minus baseline")
    ax1.set_xlabel("percentage points (95% interval)")
    _bars(ax2, ["critical statements"], [m["chilling_critical_statements"]], PALETTE[1])
    ax2.set_yticks([])
    ax2.set_title("Critical statements a day: scenario minus baseline")
    ax2.set_xlabel("statements a day (95% interval)")
    s, c = m["chilling_self_censoring"], m["chilling_critical_statements"]
    alt = (f"Bar chart of the chilling effect against the baseline: self-censoring share "
           f"{'n/a' if s['value'] is None else number(100 * s['value'])} percentage points, "
           f"critical statements {'n/a' if c['value'] is None else number(c['value'])} a "
           "day.")
    return Chart("chilling.png", fig, alt)


def card_charts(card: dict) -> list[Chart]:
    return [contexts_chart(card), gravity_chart(card), wrongful_chart(card),
            groups_chart(card), redress_chart(card), chilling_chart(card)]


# ------------------------------------------------------------------------------- words


def summary(card: dict) -> list[str]:
    """The sentences at the top of the card, each with its number linked to its figure;
    each says only what its interval supports."""
    m = card["measures"]
    out = []
    u, only = m["unrelated_context_share"], m["unrelated_context_only_share"]
    fig = "fig-contexts"
    if _none_at_all(u):
        out.append(f"{link('No sanction', fig)} rested on a record from a context unrelated "
                   "to the one it fell in.")
    elif _clear_above_zero(u):
        out.append(f"{link(_pct(u['value']), fig)} of sanctions {_ci(u, _pct)} rested on a "
                   "record from a data context unrelated to the context the sanction fell "
                   f"in (AI Act Art. 5(1)(c)(i)); {link(_pct(only['value']), fig)} rested on "
                   "such records alone, and "
                   f"{link(_pct(m['unrelated_context_people_share']['value']), fig)} of the "
                   "people sanctioned were sanctioned at least once this way.")
    else:
        out.append(f"Sanctions resting on a record from an unrelated context: "
                   f"{link(_pct(u['value']), fig)} {_ci(u, _pct)}; the interval includes "
                   "none, so the card does not say that any did.")
    g, d = m["minor_only_share"], m["disproportionate_share"]
    fig = "fig-gravity"
    if _clear_above_zero(g) or _clear_above_zero(d):
        out.append(f"{link(_pct(g['value']), fig)} of sanctions {_ci(g, _pct)} were triggered "
                   "only by behaviour the card grades minor, and "
                   f"{link(_pct(d['value']), fig)} {_ci(d, _pct)} were heavier than the "
                   "gravest behaviour behind them (Art. 5(1)(c)(ii); the grades are an "
                   "assumption).")
    else:
        out.append(f"No share of sanctions triggered only by minor behaviour "
                   f"({link(_pct(g['value']), fig)}) or heavier than the behaviour behind "
                   f"them ({link(_pct(d['value']), fig)}) is clear of zero.")
    w, a = m["wrongful_rate"], m["association_rate"]
    fig = "fig-wrongful"
    out.append(f"Data errors led to {link(number(w['value'] or 0), fig)} wrongful sanctions "
               f"per 100,000 people a year {_ci(w)}, friends' scores to "
               f"{link(number(a['value'] or 0), fig)} {_ci(a)}, out of "
               f"{link(number(m['sanction_rate']['value'] or 0), fig)} sanctions in all.")
    stated = [r for r in card["by_group"] if r["disparity"] and r["measure"] == "sanction_rate"
              and not (r["group"] == "critic" and r["name"] == "others")]
    fig = "fig-groups"
    if stated:
        top = sorted(stated, key=lambda r: -abs(math.log(max(r["ratio"]["value"], 1e-9))))[:4]
        words = "; ".join(f"{_group_name(r)} "
                          f"{link(number(r['ratio']['value']), fig)} times the rest's "
                          f"{_ci(r['ratio'])}" for r in top)
        out.append(f"Who bears it: {words}"
                   + (f" (and {len(stated) - len(top)} more in the table)"
                      if len(stated) > len(top) else "") + ".")
    else:
        out.append(f"Who bears it: {link('no group', fig)} (income decile, region, age, "
                   "stage of life, critics) is sanctioned at a rate whose interval excludes "
                   "parity with everyone else's.")
    fig = "fig-redress"
    wd, ws = m["wrongful_days_to_go"], m["wrongful_still_after_year"]
    if wd["value"] is None and ws["value"] is None:
        out.append(f"Redress: {link('no wrongful sanction', fig)} ended within the run, so "
                   "the card cannot say how long one takes to go; any sanction's condition "
                   f"went after a median of {link(_days(m['all_days_to_go']), fig)}.")
    else:
        n = card["counts"].get("wrongful_episodes", 0)
        out.append(f"Redress ({number(n)} wrongful sanctions a seed, few: wide intervals): "
                   f"the condition of one went after a median of {link(_days(wd), fig)}; "
                   f"{link(_pct(ws['value']), fig)} of those followed for a year "
                   f"({number(ws.get('n') or 0)} a seed) still held "
                   f"a year after the error {_ci(ws, _pct)}, and credit repair removed the "
                   "records behind "
                   f"{link(_pct(m['wrongful_repaired_share']['value']), fig)}.")
    fig = "fig-chilling"
    c = m["chilling_self_censoring"]
    if c["low"] is not None and (c["low"] > 0 or c["high"] < 0):
        verb = "rose" if c["value"] > 0 else "fell"
        out.append(f"Beside these, the self-censoring share {verb} by "
                   f"{link(number(abs(100 * c['value'])) + ' points', fig)} against "
                   f"{card['baseline']} (95% interval {number(100 * c['low'])} to "
                   f"{number(100 * c['high'])}).")
    else:
        out.append(f"Beside these, the self-censoring share shows "
                   f"{link('no clear change', fig)} against {card['baseline']}.")
    if card["drivers"]:
        top = [d for d in card["drivers"] if d["outcome"] == "self_censoring_share"][:3]
        if top:
            out.append("What drives it (over the assumptions): " + ", ".join(
                f"{d['group']} ({number(d['S1'])} of the variance)" for d in top) + ".")
    return out


def _group_name(r: dict) -> str:
    return r["name"] if r["group"] == "critic" else (
        f"{r['name']} ({r['group'].replace('_', ' ')})")


def assumptions_note(card: dict) -> str:
    a = card["assumptions"]
    grav = ", ".join(f"{k} {v}" for k, v in a["gravity"].items())
    weight = ", ".join(f"{k} {v}" for k, v in a["weight"].items())
    related = "; ".join(f"{k}: {', '.join(v) or 'none'}" for k, v in a["related"].items())
    unc = card.get("uncertainty")
    over = (f" and over {unc['parameter_sets']} parameter sets drawn over the assumptions' "
            "ranges" if unc else " (seeds only: the assumptions are held at their values)")
    return (f"<p class='note'><strong>What this rests on.</strong> {len(card['seeds'])} "
            f"seeds of {card['people']:,} synthetic people, {card['start']} to {card['end']}, "
            f"intervals over the seeds{over}. Assumptions of this project, not facts (docs/"
            f"impact.md, provenance.toml): gravity ({html.escape(grav)}); sanction weights "
            f"({html.escape(weight)}); which consequences each data context belongs to "
            f"({html.escape(related)}). A sanction's triggering records are the person's "
            "deducting records in force on the day.</p>")


# -------------------------------------------------------------------------------- page


def _measure_table(card: dict) -> str:
    rows = []
    for key, m in card["measures"].items():
        per = f" per {m['per']}" if m.get("per") else ""
        extra = ""
        if m.get("low_assumptions") is not None:
            extra = f"{number(m['low_assumptions'])} to {number(m['high_assumptions'])}"
        rows.append(f"<tr><td>{html.escape(m['label'])} <code>{key}</code></td>"
                    f"<td>{'n/a' if m['value'] is None else number(m['value'])}</td>"
                    f"<td>{'-' if m['low'] is None else number(m['low'])} to "
                    f"{'-' if m['high'] is None else number(m['high'])}</td>"
                    f"<td>{extra or '-'}</td>"
                    f"<td>{html.escape(m['unit'] + per)}</td>"
                    f"<td>{'-' if m.get('n') is None else number(m['n'])}</td></tr>")
    return ("<table><thead><tr><th>measure</th><th>value</th><th>95% interval (seeds)</th>"
            "<th>over assumptions</th><th>unit</th><th>of (a seed)</th></tr></thead><tbody>"
            + "".join(rows)
            + "</tbody></table>")


def _worst_table(card: dict) -> str:
    if not card["worst_cases"]:
        return "<p>No sanction in the run.</p>"
    rows = []
    for w in card["worst_cases"]:
        ledger = "; ".join(f"{e['kind'].replace('_', ' ')} ({e['context'].replace('_', ' ')}, "
                           f"{e['gravity']}{'' if e['related'] else ', unrelated'})"
                           for e in w["ledger"]) or "no record of their own in force"
        flags = ", ".join(f for f, on in (("data error", w["wrongful"]),
                                          ("friends' pull", w["association"])) if on) or "-"
        who = ", ".join(w["person"].values())
        rows.append(f"<tr><td>{w['date']}</td><td>{html.escape(w['sanction'])} "
                    f"({w['weight']})</td><td>{'-' if w['score'] is None else number(w['score'])}"
                    f"</td><td>{html.escape(ledger)}</td><td>{flags}</td>"
                    f"<td>{html.escape(who)}</td></tr>")
    return ("<table><thead><tr><th>date</th><th>sanction (weight)</th><th>score</th>"
            "<th>records in force (context, gravity)</th><th>wrongful</th><th>person</th>"
            "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _group_table(card: dict) -> str:
    rows = [r for r in card["by_group"] if r["disparity"]
            or (r["group"] == "critic" and r["name"] == "critics")]
    body = "".join(
        f"<tr><td>{html.escape(r['name'])} ({r['group'].replace('_', ' ')})</td>"
        f"<td>{html.escape(r['measure'].replace('_', ' '))}</td>"
        f"<td>{number(r['rate']['value'] or 0)}</td>"
        f"<td>{'n/a' if r['ratio']['value'] is None else number(r['ratio']['value'])}</td>"
        f"<td>{'-' if r['ratio']['low'] is None else number(r['ratio']['low'])} to "
        f"{'-' if r['ratio']['high'] is None else number(r['ratio']['high'])}</td>"
        f"<td>{'yes' if r['disparity'] else 'no'}</td></tr>" for r in rows)
    return ("<table><thead><tr><th>group</th><th>measure</th><th>per 100,000 a year</th>"
            "<th>ratio to the rest</th><th>95% interval</th><th>disparity stated</th></tr>"
            "</thead><tbody>" + body + "</tbody></table>")


def card_page(card: dict, charts: list[Chart] | None = None) -> str:
    charts = {c.name: c for c in (charts or card_charts(card))}
    lead = (f"The impact of <strong>{html.escape(card['scenario'])}</strong> against "
            f"<strong>{html.escape(card['baseline'])}</strong>: the questions of the EU AI Act "
            "(Art. 5(1)(c)) and after them who is wrongly harmed, who bears it and whether it "
            "can be undone.")
    body = [
        f"<h1>Impact card: {html.escape(card['scenario'])}</h1>",
        _summary_box(lead, summary(card)),
        assumptions_note(card),
        "<h2>1. Harm in unrelated contexts</h2>", _figure(charts["contexts.png"]),
        "<h2>2. Disproportion</h2>", _figure(charts["gravity.png"]),
        "<h3>The worst cases (first seed), with their ledgers</h3>", _worst_table(card),
        "<h2>3. Wrongful sanctions</h2>", _figure(charts["wrongful.png"]),
        "<h2>4. Who bears it</h2>", _figure(charts["groups.png"]),
        "<p class='note'>A disparity is stated only where the interval over seeds and the "
        "interval of the counts pooled over seeds (exact, conditional on the total) both "
        "exclude parity, with at least 3 seeds; impact.json has every group and "
        "measure.</p>",
        _group_table(card),
        "<h2>5. Redress</h2>", _figure(charts["redress.png"]),
        "<h2>6. The chilling effect</h2>", _figure(charts["chilling.png"]),
        "<h2>Every measure</h2>", _measure_table(card),
    ]
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>scoresim impact: {html.escape(card['scenario'])}</title>"
            f"<style>{CSS} h3 {{ font-size: 1em; }}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def write_card(card: dict, out: Path, folder=None) -> Path:
    """Write impact.json, impact.html and the figures into ``out`` (atomically)."""
    from scoresim.results.run_folder import atomic_folder

    text = dump(card)  # (checked against the schema before anything is written)
    with atomic_folder(out, folder) as tmp:
        charts = card_charts(card)
        (tmp / "figures").mkdir()
        for c in charts:
            (tmp / "figures" / c.name).write_bytes(c.png())
        (tmp / "impact.json").write_text(text, encoding="utf-8")
        (tmp / "impact.html").write_text(card_page(card, charts), encoding="utf-8")
    return out
