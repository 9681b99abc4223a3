"""Figures of a run: the headline outcomes over time (written as PNG files into the run
folder) and the end-of-run pictures of the report (score distribution, opinions, a
neighbourhood of the network). Every builder returns a :class:`~scoresim.results.plotting.Chart`
whose alt text states the numbers the figure shows."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from scoresim.results.plotting import (
    GREYS,
    NARROW,
    PALETTE,
    Chart,
    date_axis,
    in_style,
    legend_below,
    mark_phases,
    rolling_mean,
    style,
    subplots,
    wrap,
)
from scoresim.results.wording import number, percent

if TYPE_CHECKING:
    from scoresim.results.run_folder import Results


def _dates(results: Results) -> np.ndarray:
    return results.outcomes.column("date").to_numpy()


def _phases(ax, results: Results, label: bool = True) -> None:
    sc = results.scenario
    mark_phases(ax, sc.phases, sc.start, sc.end, label)


def tier_colours(n: int) -> list:
    """Ordered tiers, lowest first: steps of the cividis map (colour-blind safe)."""
    from matplotlib import colormaps

    return [colormaps["cividis"](x) for x in np.linspace(0.05, 0.95, max(n, 1))][:n]


@in_style
def scores_chart(results: Results) -> Chart | None:
    schemes = list(results.scenario.schemes)
    if not schemes:
        return None
    dates, col = _dates(results), results.column
    names = results.outcomes.column_names
    fig, axes = subplots(len(schemes), 2, height=2.7 * len(schemes) + 0.3)
    alt = []
    for row, scheme in zip(axes, schemes, strict=True):
        ax = row[0]
        mean = col(f"{scheme}_score_mean")
        p10, p90 = col(f"{scheme}_score_p10"), col(f"{scheme}_score_p90")
        ax.fill_between(dates, p10, p90, color=PALETTE[0], alpha=0.25, lw=0,
                        label="10th-90th percentile")
        ax.plot(dates, mean, color=PALETTE[0], label="mean")
        ax.set_title(f"{scheme}: published score")
        date_axis(ax)
        _phases(ax, results)
        legend_below(ax)
        alt.append(f"{scheme}: the mean published score went from {number(mean[0])} to "
                   f"{number(mean[-1])} (10th to 90th percentile at the end: "
                   f"{number(p10[-1])} to {number(p90[-1])}).")
        ax = row[1]
        tiers = [c for c in names if c.startswith(f"{scheme}_tier_")]
        if tiers:
            shares = [np.nan_to_num(col(c)) for c in tiers]
            labels = [c.split("_tier_")[1] for c in tiers]
            order = np.argsort([results.scenario.schemes[scheme].tiers[t].min
                                if t in results.scenario.schemes[scheme].tiers else 0
                                for t in labels], kind="stable")
            shares = [shares[i] for i in order]
            labels = [labels[i] for i in order]
            ax.stackplot(dates, *shares, labels=labels, colors=tier_colours(len(labels)))
            ax.set_ylim(0, 1)
            ax.set_title(f"{scheme}: tier shares")
            handles, names_ = ax.get_legend_handles_labels()
            ax.legend(handles[::-1], names_[::-1], loc="center left",
                      bbox_to_anchor=(1.01, 0.5), title="tier")
            alt.append(f"{scheme} tiers at the end: " + ", ".join(
                f"{t} {percent(s[-1])}" for t, s in zip(labels[::-1], shares[::-1],
                                                          strict=True)) + ".")
        else:
            enrolled = col(f"{scheme}_enrolled_share")
            ax.plot(dates, enrolled)
            ax.set_title(f"{scheme}: enrolled share")
            alt.append(f"{scheme}: {percent(enrolled[-1])} enrolled at the end.")
        date_axis(ax)
    return Chart("scores.png", fig, "Scores and tiers over time. " + " ".join(alt))


@in_style
def expression_chart(results: Results) -> Chart:
    dates, col = _dates(results), results.column
    fig, axes = subplots(1, 2, height=3.1)
    ax = axes[0, 0]
    crit = col("critical_statements")
    ax.plot(dates, crit, color=GREYS[2], lw=0.6, label="per day")
    ax.plot(dates, rolling_mean(crit), color=PALETTE[0], label="30-day mean")
    ax.set_title("critical statements per day")
    ax.set_ylim(bottom=0)
    date_axis(ax)
    _phases(ax, results)
    legend_below(ax)
    ax = axes[0, 1]
    labels = {"self_censoring_share": "self-censoring", "defiant_share": "defiant",
              "expression_gap": "private/expressed gap"}
    for (c, label), colour in zip(labels.items(), PALETTE, strict=False):
        ax.plot(dates, col(c), label=label, color=colour)
    ax.set_title("self-censorship (shares of people; gap in opinion units)")
    ax.set_ylim(bottom=0)
    date_axis(ax)
    _phases(ax, results)
    legend_below(ax, ncol=3)
    first = rolling_mean(crit)[min(29, len(crit) - 1)]
    alt = (f"Expression over time. Critical statements per day: {number(first)} on average "
           f"in the first 30 days, {number(rolling_mean(crit)[-1])} in the last 30. At the end "
           f"{percent(col('self_censoring_share')[-1])} of people censor themselves, "
           f"{percent(col('defiant_share')[-1])} are defiant, and the gap between private "
           f"and expressed opinion is {number(col('expression_gap')[-1])}.")
    return Chart("expression.png", fig, alt)


@in_style
def isolation_chart(results: Results) -> Chart:
    dates, col = _dates(results), results.column
    fig, axes = subplots(1, 2, height=2.9)
    ratio, isolated = col("critic_degree_ratio"), col("isolated_critics")
    axes[0, 0].plot(dates, ratio)
    axes[0, 0].axhline(1, color=GREYS[1], lw=0.8)
    axes[0, 0].set_title("critics' number of friends / others'")
    axes[0, 1].plot(dates, isolated, color=PALETTE[1])
    axes[0, 1].set_title("share of critics with no friends")
    axes[0, 1].set_ylim(bottom=0)
    for ax in axes[0]:
        date_axis(ax)
        _phases(ax, results)
    alt = (f"Isolation of critics over time. Critics have {number(ratio[-1])} times as many "
           f"friends as others at the end ({number(ratio[0])} at the start); "
           f"{percent(isolated[-1])} of critics have no friend at the end.")
    return Chart("isolation.png", fig, alt)


def _sanction_kinds(results: Results) -> list[str]:
    return [c for c in results.outcomes.column_names if c.startswith("sanctions_")
            and c not in ("sanctions_total", "sanctions_wrongful", "sanctions_association")]


#: The adaptive authority's columns (:mod:`scoresim.model.authority`).
AUTHORITY_COLUMNS = ("authority_tolerance", "authority_severity", "authority_surveillance",
                     "dissent_total", "punishment_total")


@in_style
def authority_chart(results: Results) -> Chart | None:
    """The adaptive authority's parameters over time (left) and its two costs (right):
    None where the run has no authority."""
    if not set(AUTHORITY_COLUMNS) <= set(results.outcomes.column_names):
        return None
    dates, col = _dates(results), results.column
    fig, axes = subplots(1, 2, height=3.1)
    ax = axes[0, 0]
    tau, psi, nu = (col(c) for c in AUTHORITY_COLUMNS[:3])
    ax.plot(dates, tau, label="tolerance tau", color=PALETTE[0])
    ax.plot(dates, nu, label="surveillance nu", color=PALETTE[2])
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("the authority's tolerance, surveillance (0-1) and severity")
    right = ax.twinx()
    right.plot(dates, psi, label="severity psi (right)", color=PALETTE[1])
    right.set_ylim(bottom=0)
    date_axis(ax)
    _phases(ax, results)
    lines = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=7, loc="upper center",
              bbox_to_anchor=(0.5, -0.18), ncol=3, frameon=False)
    ax = axes[0, 1]
    dissent, punished = col("dissent_total"), col("punishment_total")
    ax.plot(dates, rolling_mean(dissent), label="dissent expressed (political cost)",
            color=PALETTE[0])
    ax.plot(dates, rolling_mean(punished), label="punishment dealt", color=PALETTE[1])
    ax.set_yscale("symlog", linthresh=1)
    ax.set_ylim(bottom=0)
    ax.set_title("its costs, 30-day means")
    date_axis(ax)
    _phases(ax, results)
    legend_below(ax, ncol=2)
    alt = (f"The adaptive authority over time. Tolerance {number(tau[0])} on the first day "
           f"and {number(tau[-1])} on the last; severity {number(psi[0])} and "
           f"{number(psi[-1])}; surveillance {number(nu[0])} and {number(nu[-1])}. The "
           f"dissent people expressed summed to {number(rolling_mean(dissent)[-1])} a day "
           f"over the last 30 days, the punishment dealt to "
           f"{number(rolling_mean(punished)[-1])}.")
    return Chart("authority.png", fig, alt)


#: The lender's columns (:mod:`scoresim.model.lending`); one score change per group.
LENDING_COLUMNS = ("lending_applications", "lending_approvals", "lending_defaults",
                   "lending_auc")


@in_style
def lending_chart(results: Results) -> Chart | None:
    """The lender (left: applications, approvals and defaults, 30-day means) and the mean
    score change of its groups (right; at most seven shown, spread over the groups):
    None where the run has no lender."""
    names = results.outcomes.column_names
    if not set(LENDING_COLUMNS) <= set(names):
        return None
    groups = [c.removeprefix("lending_score_change_") for c in names
              if c.startswith("lending_score_change_")]
    shown = groups if len(groups) <= 7 else [groups[round(i * (len(groups) - 1) / 6)]
                                             for i in range(7)]
    dates, col = _dates(results), results.column
    fig, axes = subplots(1, 2, height=3.1)
    ax = axes[0, 0]
    for i, (c, label) in enumerate((("lending_applications", "applications"),
                                    ("lending_approvals", "approvals"),
                                    ("lending_defaults", "defaults"))):
        ax.plot(dates, rolling_mean(col(c)), label=label, color=PALETTE[i])
    ax.set_ylim(bottom=0)
    ax.set_title("the lender's loans a day, 30-day means")
    date_axis(ax)
    _phases(ax, results)
    legend_below(ax, ncol=3)
    ax = axes[0, 1]
    for i, g in enumerate(shown):
        ax.plot(dates, col(f"lending_score_change_{g}"), label=g, color=PALETTE[i])
    ax.axhline(0, color=GREYS[1], lw=0.6)
    ax.set_title("mean change of the lender's score since its first day")
    date_axis(ax)
    _phases(ax, results)
    legend_below(ax, ncol=4)
    auc = col("lending_auc")
    last_auc = auc[~np.isnan(auc)][-1] if (~np.isnan(auc)).any() else np.nan
    alt = (f"The lender over time: {number(np.nansum(col('lending_applications')))} "
           f"applications, {number(np.nansum(col('lending_approvals')))} approved, "
           f"{number(np.nansum(col('lending_defaults')))} defaults in the run; the AUC of "
           f"the score on the loans made {number(last_auc)} at the end. Mean score change "
           "since the lender's first day at the end: " + ", ".join(
               f"{g} {number(col(f'lending_score_change_{g}')[-1])}" for g in shown) + ".")
    return Chart("lending.png", fig, alt)


@in_style
def sanctions_chart(results: Results) -> Chart | None:
    kinds = _sanction_kinds(results)
    if not kinds:
        return None
    dates, col = _dates(results), results.column
    fig, axes = subplots(1, 2, height=3.1, gridspec_kw={"width_ratios": [3, 2]})
    ax = axes[0, 0]
    parts = {"sanctions_total": "all", "sanctions_wrongful": "wrongful (data errors)",
             "sanctions_association": "by association (friends' scores)"}
    totals = {}
    for (c, label), colour in zip(parts.items(), PALETTE, strict=False):
        values = np.nancumsum(col(c))
        totals[c] = float(values[-1])
        ax.plot(dates, values, label=label, color=colour)
    ax.set_yscale("symlog", linthresh=10)
    ax.set_ylim(bottom=0)
    ax.set_title("sanctions, cumulative")
    date_axis(ax)
    _phases(ax, results)
    legend_below(ax, ncol=3)
    ax = axes[0, 1]
    sums = {c.removeprefix("sanctions_").replace("_", " "): float(np.nansum(col(c)))
            for c in kinds}
    names = sorted(sums, key=sums.get)
    y = np.arange(len(names))
    ax.barh(y, [sums[n] for n in names], color=PALETTE[0])
    ax.set_yticks(y, names)
    ax.set_title("applied in all, by kind")
    top = max(sums.values()) or 1.0
    ax.set_xlim(0, top * 1.3)
    for yi, n in zip(y, names, strict=True):
        ax.annotate(number(sums[n]), (sums[n], yi), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize=8)
    alt = (f"Sanctions. {number(totals['sanctions_total'])} applied in all, "
           f"{number(totals['sanctions_wrongful'])} of them wrongful (caused only by data "
           f"errors) and {number(totals['sanctions_association'])} by association. By kind: "
           + ", ".join(f"{n} {number(sums[n])}" for n in names[::-1]) + ".")
    return Chart("sanctions.png", fig, alt)


def run_charts(results: Results) -> list[Chart]:
    """The figures written into a run folder, in the order of the report."""
    charts = [scores_chart(results), expression_chart(results), isolation_chart(results),
              sanctions_chart(results)]
    return [c for c in charts if c is not None]


def write_figures(results: Results, folder: Path) -> list[str]:
    """Write scores.png, expression.png, isolation.png, sanctions.png; return the names."""
    written = []
    drawn = getattr(results, "drawn", None)
    for chart in run_charts(results):
        data = chart.png()
        (Path(folder) / chart.name).write_bytes(data)
        if drawn is not None:  # (the report embeds the same images: drawn once)
            drawn[chart.name] = (data, chart.alt)
        chart.close()
        written.append(chart.name)
    return written


# ----------------------------------------------------------- end-of-run report figures


@in_style
def distribution_chart(results: Results) -> Chart | None:
    summary = results.summary
    if summary is None or not results.scenario.schemes:
        return None
    schemes = list(results.scenario.schemes)
    fig, axes = subplots(1, len(schemes), height=2.9)
    alt = []
    for ax, name in zip(axes[0], schemes, strict=True):
        scheme = results.scenario.schemes[name]
        hist = summary["scores"][name]
        if hist["scored"]:
            ax.stairs(hist["counts"], hist["edges"], fill=True, color=PALETTE[0])
        for t in scheme.tiers.values():
            ax.axvline(t.min, color=GREYS[1], lw=0.6)
        ax.set_xlim(scheme.min_score, scheme.max_score)
        ax.set_title(wrap(f"{name}: published scores at the end", 40))
        ax.set_xlabel("score (grey lines: tier bounds)")
        if hist["scored"]:
            q = hist["p10_p50_p90"]
            alt.append(f"{name}: {number(hist['scored'])} people scored; median "
                       f"{number(q[1])}, 10th percentile {number(q[0])}, 90th "
                       f"{number(q[2])}.")
        else:
            alt.append(f"{name}: nobody scored at the end.")
    axes[0, 0].set_ylabel("people")
    return Chart("distribution.png", fig, "Histogram of published scores at the end. "
                 + " ".join(alt))


@in_style
def opinions_chart(results: Results) -> Chart | None:
    summary = results.summary
    if summary is None:
        return None
    op = summary["opinions"]
    fig, axes = subplots(1, 1, width=NARROW, height=3.0)
    ax = axes[0, 0]
    ax.stairs(op["private"], op["edges"], fill=True, color=PALETTE[0], alpha=0.55,
              label="private opinion")
    ax.stairs(op["expressed"], op["edges"], color=PALETTE[5], lw=1.6,
              label="expressed opinion")
    ax.set_title("what people hold and what they show")
    ax.set_xlabel("opinion (-1 critical of the regime, +1 loyal)")
    ax.set_ylabel("people")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    alt = (f"Histogram of opinions at the end: mean private opinion "
           f"{number(op['private_mean'])}, mean expressed opinion "
           f"{number(op['expressed_mean'])}; "
           f"{percent(op['private_below_0'])} hold an opinion on the critical "
           f"side (below 0), {percent(op['expressed_below_0'])} express one.")
    return Chart("opinions.png", fig, alt)


def neighbourhood_chart(results: Results) -> Chart | None:
    """A sampled neighbourhood of the network: a critic's friends and their friends (from
    the summary: sampled through the adjacency at the end of the run)."""
    summary = results.summary
    hood = summary.get("neighbourhood") if summary is not None else None
    if not hood:
        return None
    import networkx as nx

    centre, colour = hood["centre"], hood["colour"]
    sub = nx.Graph()
    sub.add_nodes_from(hood["people"])
    sub.add_edges_from(zip(hood["a"], hood["b"], strict=True))
    value_of = dict(zip(hood["people"], hood["values"], strict=True))
    with style():
        pos = nx.spring_layout(sub, seed=1)
        fig, axes = subplots(1, 1, width=NARROW, height=4.6)
        ax = axes[0, 0]
        nx.draw_networkx_edges(sub, pos, ax=ax, alpha=0.3, edge_color=GREYS[1])
        art = nx.draw_networkx_nodes(sub, pos, ax=ax, node_size=[160 if n == centre else 40
                                                                for n in sub.nodes],
                                     node_color=[value_of[n] for n in sub.nodes],
                                     cmap="cividis", edgecolors=GREYS[0], linewidths=0.4)
        fig.colorbar(art, ax=ax, label=colour.replace("_", " "), shrink=0.8)
        ax.set_title(wrap(f"friends of critic #{centre} (large dot) and their friends", 60))
        ax.axis("off")
    alt = (f"Network drawing: critic #{centre} with {hood['friends']} friends and up to 8 "
           f"friends of each, {sub.number_of_nodes()} people in all, coloured by "
           f"{colour.replace('_', ' ')} (dark blue low, yellow high).")
    return Chart("neighbourhood.png", fig, alt)
