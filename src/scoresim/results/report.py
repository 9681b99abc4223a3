"""report.html: one self-contained page for a run or a comparison (figures inline as PNG
data URIs; no script, no network needed to view it).

Both pages open with a summary in words whose numbers link to the figures that show them
(:mod:`scoresim.results.wording`); every figure carries alt text stating its numbers; the layout
fits a 1024 px screen without horizontal scrolling and prints on A4.

A run's page is built here (:func:`run_report`), a comparison's in
:mod:`scoresim.results.comparison`; each folder writes its page as it is saved, and
``scoresim report`` writes it again from a folder (:mod:`scoresim.results.folder_report`).
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

import pandas as pd

from scoresim.results import wording
from scoresim.results.plotting import Chart

CSS = """
body { font-family: system-ui, sans-serif; max-width: 1000px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; max-width: 100%; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
td:first-child, th:first-child { text-align: left; }
figure { margin: 1em 0; } img { max-width: 100%; height: auto; display: block; }
.note { color: #555; font-size: 0.9em; }
.summary { background: #f3f6fa; border-left: 4px solid #0072B2; padding: 0.4em 1.2em 0.6em; }
.summary h2 { border: none; margin-top: 0.4em; }
.summary li { margin: 0.3em 0; }
a.num { color: #0060a0; font-weight: 600; text-decoration: none;
        border-bottom: 1px dotted #0060a0; }
code { font-size: 0.92em; }
@page { size: A4; margin: 14mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  table { font-size: 8pt; } td, th { padding: 2px 4px; overflow-wrap: anywhere; }
  h2 { break-after: avoid; } figure, table, .summary { break-inside: avoid; }
  a.num { color: inherit; border: none; }
}
"""


def _img_bytes(data: bytes, alt: str) -> str:
    return (f'<img alt="{html.escape(alt)}" '
            f'src="data:image/png;base64,{base64.b64encode(data).decode()}">')


def _figure(chart: Chart | tuple[str, bytes, str] | None) -> str:
    """A chart as a figure with its id (the summary links to it) and alt text; or an image
    already drawn (``(anchor, png, alt)``)."""
    if chart is None:
        return ""
    if isinstance(chart, tuple):
        anchor, data, alt = chart
        return f'<figure id="{anchor}">{_img_bytes(data, alt)}</figure>'
    text = f'<figure id="{chart.anchor}">{_img_bytes(chart.png(), chart.alt)}</figure>'
    chart.close()
    return text


def _summary_box(lead: str, sentences: list[str], note: str = "") -> str:
    items = "".join(f"<li>{s}</li>" for s in sentences)
    note = f"<p class='note'>{note}</p>" if note else ""
    return (f"<section class='summary' aria-label='summary'><h2>In short</h2><p>{lead}</p>"
            f"<ul>{items}</ul>{note}</section>")


def _table(df: pd.DataFrame, digits: int = 6) -> str:
    return df.to_html(index=False, float_format=lambda x: f"{x:.{digits}g}", border=0,
                      na_rep="-")


# ------------------------------------------------------------------------------ runs


def _summary(results) -> str:
    sc, meta = results.scenario, results.metadata
    parts = [f"<p>{html.escape(sc.description)}</p>",
             f"<p>{meta['people']:,} synthetic people, {meta['days']} days from {meta['start']} "
             f"to {meta['end']}, seed {meta['seed']}. Phases: "
             + ", ".join(f"{html.escape(k)} from {v}" for k, v in sc.phases.items()) + ".</p>"]
    parts.append(_turnover(results))
    if sc.schemes:
        def enrolment(e) -> str:
            later = f", mandatory from {e.mandatory_from_phase}" if e.mandatory_from_phase else ""
            return e.mode + later

        rows = [{"scheme": n, "label": s.label, "range": f"{s.min_score:g}-{s.max_score:g}",
                 "start": s.initial_score, "friend weight": s.friend_weight,
                 "enrolment": enrolment(s.enrolment),
                 "visibility": s.visibility, "shadow score": s.shadow_score,
                 "opaque": s.opaque, "rules": len(s.rules)} for n, s in sc.schemes.items()]
        parts.append(_table(pd.DataFrame(rows)))
    else:
        parts.append("<p>No scoring scheme: this is a counterfactual without scoring.</p>")
    src = [{"source": n, "label": s.label, "covers": s.accounts, "coverage": s.coverage,
            "error rate": s.error_rate, "real names from": s.real_name_from or "-"}
           for n, s in sc.sources.items()]
    parts.append(_table(pd.DataFrame(src)))
    if sc.sanctions:
        sanc = [{"rule": n, "effect": s.effect, "scheme": s.scheme or "-",
                 "condition": (f"below {s.below:g}" if s.below is not None else
                               f"at least {s.above:g}" if s.above is not None else
                               f"tiers {', '.join(s.tiers)}" if s.tiers else "blacklisted"),
                 "phases": ", ".join(s.phases) or "all"} for n, s in sc.sanctions.items()]
        parts.append(_table(pd.DataFrame(sanc)))
    return "\n".join(parts)


def _turnover(results) -> str:
    """One line on the population's and the labour market's turnover over the run."""
    df, meta = results.outcomes_df(), results.metadata
    years = max(meta["days"] / 365.25, 1e-9)
    total = {c: float(df[c].sum()) if c in df else 0.0
             for c in ("people_entered", "good_job_separations", "good_job_hires",
                       "university_admissions")}
    burn = results.scenario.burn_in_days
    steady = meta["people"] == results.scenario.people.count
    how = ("took the places of those who died" if steady else
           "entered (in the places of those who died, or in new ones where it grew)")
    return (f"<p>Turnover: {total['people_entered']:,.0f} newcomers {how} "
            f"({total['people_entered'] / meta['people'] / years:.1%} of the "
            f"population a year); {total['good_job_separations']:,.0f} good jobs ended "
            f"without a sanction and {total['good_job_hires']:,.0f} were filled; "
            f"{total['university_admissions']:,.0f} university admissions"
            + (f"; the society ran {burn:,} days before the start (burn-in)" if burn else "")
            + (f"; the population went from {results.scenario.people.count:,} to "
               f"{meta['people']:,} (demography.growth_per_year = "
               f"{results.scenario.demography.growth_per_year:g})"
               if not steady else "")
            + ".</p>")


def _steady(results) -> str:
    """Whether the run ended at a steady state (:mod:`scoresim.results.steady_state`)."""
    from scoresim.results.steady_state import BOUNDS, WINDOW_DAYS, last_year_drift

    drift = last_year_drift(results.outcomes_df())
    if drift is None:
        return ("<p>Steady state: not checked (the run is shorter than a year and "
                f"{WINDOW_DAYS} days; effects of short runs may still include drift).</p>")
    if not drift:
        return ""
    moving = [d for d in drift if not d.steady]
    largest = {unit: max((abs(d.change) for d in drift if d.unit == unit), default=None)
               for unit in BOUNDS}
    parts = [f"{v:.3g} {unit}" for unit, v in largest.items() if v is not None]
    verdict = ("steady: no level outcome moved more than "
               + ", ".join(f"{b:g} {u}" for u, b in BOUNDS.items()) + " in the last year"
               if not moving else
               "still moving: " + ", ".join(f"{d.column} {d.change:+.3g} {d.unit}"
                                            for d in moving[:6]))
    return (f"<p>Steady state (the last {WINDOW_DAYS} days against the same days a year "
            f"before; largest changes {', '.join(parts)}): {html.escape(verdict)}.</p>")


def _headlines(results) -> str:
    df = results.outcomes_df()
    cols = [("critical_statements", "critical statements per day (last 30 days)"),
            ("self_censoring_share", "share self-censoring"),
            ("expression_gap", "private/expressed gap"),
            ("critic_degree_ratio", "critics' degree / others'"),
            ("isolated_critics", "critics without friends"),
            ("sanctions_total", "sanctions in all"),
            ("sanctions_wrongful", "wrongful sanctions"),
            ("sanctions_association", "sanctions by association")]
    rows = []
    for col, label in cols:
        if col.startswith("sanctions"):
            value = float(df[col].sum())
        elif col == "critical_statements":
            value = float(df[col].tail(30).mean())
        else:
            value = float(df[col].iloc[-1])
        rows.append({"outcome": label, "at the end": value})
    for name in results.scenario.schemes:
        rows.append({"outcome": f"{name}: mean score", "at the end":
                     float(df[f"{name}_score_mean"].iloc[-1])})
        rows.append({"outcome": f"{name}: enrolled share", "at the end":
                     float(df[f"{name}_enrolled_share"].iloc[-1])})
    return _table(pd.DataFrame(rows), 4)


def _by_group(results) -> str:
    summary = results.summary
    if summary is None:
        return ""
    out = []
    for label in ("income", "region"):
        rows = [{label: r["group"], "people": r["people"], "sanctions": r["sanctions"],
                 "wrongful": r["wrongful"], "association": r["association"],
                 "good_job": r["good_job"],
                 "sanctions per 1000": 1000 * r["sanctions"] / r["people"]}
                for r in summary["groups"][label]]
        out.append(f"<h3>by {label}</h3>" + _table(pd.DataFrame(rows), 4))
    return "\n".join(out)


def report_charts(results, skip: frozenset[str] = frozenset()) -> list[Chart]:
    """Every figure of a run's report, in order (figures.py builds them); ``skip``: names
    of figures not to build (already drawn)."""
    from scoresim.results import figures
    builders = [("scores.png", figures.scores_chart),
                ("distribution.png", figures.distribution_chart),
                ("expression.png", figures.expression_chart),
                ("opinions.png", figures.opinions_chart),
                ("isolation.png", figures.isolation_chart),
                ("authority.png", figures.authority_chart),
                ("lending.png", figures.lending_chart),
                ("sanctions.png", figures.sanctions_chart),
                ("neighbourhood.png", figures.neighbourhood_chart)]
    charts = [build(results) for name, build in builders if name not in skip]
    return [c for c in charts if c is not None]


def run_report(res) -> str:
    """The report of a run, from its outcomes and summary (``res``: the run's
    :class:`scoresim.results.run_folder.Results`, as read from its folder or just written
    there)."""
    sc, meta = res.scenario, res.metadata
    drawn = getattr(res, "drawn", {})  # (images the run folder's figures drew already)
    charts: dict = {c.name: c for c in report_charts(res, frozenset(drawn))}
    charts.update({name: ("fig-" + name.removesuffix(".png"), data, alt)
                   for name, (data, alt) in drawn.items()})
    lead = (f"In this run of <b>{html.escape(sc.name)}</b> ({meta['people']:,} synthetic "
            f"people, {meta['start']} to {meta['end']}, seed {meta['seed']}):")
    body = [
        f"<h1>scoresim run: {html.escape(sc.name)}</h1>",
        "<p class='note'>Everyone in this simulation is synthetic.</p>",
        _summary_box(lead, wording.run_summary(res), wording.run_caveat(res)),
        "<h2>What was simulated</h2>", _summary(res),
        "<h2>Headline outcomes</h2>", _headlines(res),
        "<h2>Scores and tiers over time</h2>", _figure(charts.get("scores.png")),
        _steady(res),
        "<h2>Score distribution</h2>",
        _figure(charts.get("distribution.png")) or "<p>No scores in this run.</p>",
        "<h2>Expression and self-censorship</h2>", _figure(charts.get("expression.png")),
        _figure(charts.get("opinions.png")),
        "<h2>Isolation of critics</h2>", _figure(charts.get("isolation.png")),
        *(["<h2>The adaptive authority</h2>", _figure(charts["authority.png"])]
          if "authority.png" in charts else []),
        *(["<h2>Loans decided by scores</h2>", _figure(charts["lending.png"])]
          if "lending.png" in charts else []),
        "<h2>Sanctions</h2>",
        _figure(charts.get("sanctions.png")) or "<p>No sanction rules in this run.</p>",
        _by_group(res),
        "<h2>A neighbourhood of the network</h2>",
        _figure(charts.get("neighbourhood.png"))
        or "<p>Nobody has friends at the end (or this older run folder kept no network "
           "table).</p>",
    ]
    return _page(f"scoresim: {sc.name}", body)


def _page(title: str, body: list[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def write_page(folder: Path, text: str) -> Path:
    """Write ``text`` as folder/report.html, atomically."""
    out = folder / "report.html"
    tmp = folder / f"report.html.partial-{os.getpid()}"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out
