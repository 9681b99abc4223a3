"""Figures of a comparison: the effects as small multiples (one row per outcome on its own
scale, the raw effect and interval printed beside it) and the outcomes over time with the
95% interval across replicates as a band, for each scenario and for the difference.

No effect is divided by its baseline to be drawn: a zero baseline (no sanctions without
scoring) needs no special case, and the relative change is printed only where the baseline
is never zero.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from scoresim.results.plotting import (
    GREYS,
    PALETTE,
    WIDE,
    Chart,
    date_axis,
    figure,
    in_style,
    rolling_mean,
)
from scoresim.results.wording import (
    Effect,
    effects_of,
    interval,
    number,
    percent,
    signed,
)

if TYPE_CHECKING:
    from scoresim.results.comparison import Comparison

#: Colours: a clear effect (interval excludes zero) and one that is not.
CLEAR, UNCLEAR = PALETTE[0], GREYS[1]


def effect_text(e: Effect) -> str:
    """The raw effect and interval (and the relative change where it is defined)."""
    if not e.defined:
        return "not defined in both scenarios"
    if e.identical:
        return "identical in every replicate"
    if not e.has_interval:
        return f"{signed(e.effect)} (one replicate: no interval)"
    if e.kind == "share":
        text = (f"{percent(e.effect, True).removesuffix('%')} pts "
                + interval(percent(e.low, True).removesuffix("%"),
                           percent(e.high, True).removesuffix("%")))
    else:
        text = f"{signed(e.effect)} {interval(signed(e.low), signed(e.high))}"
    if e.relative is not None and e.kind != "share":
        text += f"  ({percent(e.relative[0], True)})"
    elif e.kind != "share" and abs(e.a) < 1e-12:
        text += "  (from 0)"
    return text if e.clear else text + "  no clear effect"


@in_style
def effects_chart(cmp: Comparison) -> Chart:
    effects = effects_of(cmp)
    reps = cmp.replicates
    n = len(effects)
    fig = figure(WIDE, 0.44 * n + 0.9)
    axes = fig.subplots(n, 1, squeeze=False)[:, 0]
    for ax, e in zip(axes, effects, strict=True):
        per_seed = reps.loc[reps.outcome == e.outcome, "effect"].to_numpy(dtype=float)
        per_seed = per_seed[np.isfinite(per_seed)]
        scale = 100.0 if e.kind == "share" else 1.0   # shares drawn in percentage points
        per_seed, mean, low, high = per_seed * scale, e.effect * scale, e.low * scale, \
            e.high * scale
        colour = CLEAR if e.clear else UNCLEAR
        ax.axvline(0, color=GREYS[0], lw=0.8)
        if len(per_seed):
            ax.plot(per_seed, np.zeros_like(per_seed), "o", ms=3.5, mfc="none", mec=colour,
                    alpha=0.7)
        if e.has_interval:
            ax.plot([low, high], [0, 0], color=colour, lw=2.4, solid_capstyle="butt")
        ax.plot([mean], [0], "D", color=colour, ms=6)
        span = np.abs(np.concatenate([per_seed, [mean, low, high]]))
        span = float(np.nanmax(span)) if np.isfinite(span).any() else 0.0
        ax.set_xlim(-1.15 * span, 1.15 * span) if span > 0 else ax.set_xlim(-1, 1)
        ax.set_ylim(-1, 1)
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        if span > 0:
            ax.xaxis.set_major_locator(_locator())
            ax.xaxis.set_major_formatter(_formatter(e.kind == "share"))
        else:
            ax.set_xticks([])
        ax.tick_params(axis="x", labelsize=7, length=2, pad=1)
        ax.set_ylabel(_short(e), rotation=0, ha="right", va="center", fontsize=8.5)
        ax.annotate(effect_text(e), (1.02, 0.5), xycoords="axes fraction", ha="left",
                    va="center", fontsize=8.5, color="#222222" if e.clear else GREYS[0])
    fig.suptitle(f"Effect of {cmp.b.name} against {cmp.a.name}, each outcome on its own "
                 "scale (diamond: mean; bar: 95% interval; circles: replicates; grey: "
                 "interval includes zero)", fontsize=9, ha="left", x=0.01)
    clear = [e for e in effects if e.clear]
    alt = (f"Effects of {cmp.b.name} against {cmp.a.name}, one row per outcome on its own "
           f"scale with the 95% interval over {len(cmp.seeds)} replicates. "
           + (" ".join(f"{_short(e)}: {effect_text(e)}." for e in clear) if clear
              else "No outcome has a clear effect.")
           + (f" No clear effect on {len(effects) - len(clear)} other outcome"
              f"{'s' if len(effects) - len(clear) != 1 else ''}."
              if len(effects) > len(clear) else ""))
    return Chart("effects.png", fig, alt)   # its anchor is FIG_EFFECTS, as the summary links


def _locator():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(nbins=4, symmetric=True)


def _formatter(points: bool):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, _: signed(x) + (" pts" if points and x else ""))


def _short(e: Effect) -> str:
    return e.label


# ------------------------------------------------------------------------- over time

#: Series drawn over time: column -> (title, how: "rolling" 30-day mean, "cumulative", "")
OVER_TIME: dict[str, tuple[str, str]] = {
    "critical_statements": ("critical statements per day (30-day mean)", "rolling"),
    "self_censoring_share": ("share self-censoring", ""),
    "critic_degree_ratio": ("critics' friends / others' friends", ""),
    "sanctions_total": ("sanctions, cumulative", "cumulative"),
}


def _transform(values: np.ndarray, how: str) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    if how == "cumulative":
        return np.nancumsum(values)
    if how == "rolling":
        return rolling_mean(values)
    return values


def bands(stack: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95% t-interval across replicates (rows), day by day."""
    from scipy import stats

    mean = np.nanmean(stack, axis=0)
    n = stack.shape[0]
    if n < 2:
        return mean, np.full_like(mean, np.nan), np.full_like(mean, np.nan)
    half = stats.t.ppf(0.975, n - 1) * np.nanstd(stack, axis=0, ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


def series_stacks(cmp: Comparison, col: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Per-replicate series of ``col`` (rows: seeds) for A and B, or None if not kept."""
    reps = getattr(cmp, "replicate_series", None)
    if reps is None or f"a_{col}" not in reps:
        return None
    a = np.stack([g[f"a_{col}"].to_numpy(dtype=float) for _, g in reps.groupby("seed")])
    b = np.stack([g[f"b_{col}"].to_numpy(dtype=float) for _, g in reps.groupby("seed")])
    return a, b


@in_style
def series_chart(cmp: Comparison) -> Chart:
    s = cmp.series
    dates = pd.to_datetime(s["date"]).to_numpy()
    cols = [c for c in OVER_TIME if f"a_{c}" in s]
    fig = figure(WIDE, 6.6)
    rows = (len(cols) + 1) // 2
    grid = fig.add_gridspec(2 * rows, 2, height_ratios=[2.1, 1.1] * rows)
    alt = []
    handles = []
    for i, col in enumerate(cols):
        title, how = OVER_TIME[col]
        top = fig.add_subplot(grid[2 * (i // 2), i % 2])
        bottom = fig.add_subplot(grid[2 * (i // 2) + 1, i % 2], sharex=top)
        stacks = series_stacks(cmp, col)
        if stacks is None:   # a folder from before replicate series were kept: means only
            stacks = (s[f"a_{col}"].to_numpy(dtype=float)[None],
                      s[f"b_{col}"].to_numpy(dtype=float)[None])
        a = np.stack([_transform(r, how) for r in stacks[0]])
        b = np.stack([_transform(r, how) for r in stacks[1]])
        for stack, name, colour in ((a, cmp.a.name, PALETTE[0]), (b, cmp.b.name, PALETTE[1])):
            mean, lo, hi = bands(stack)
            top.fill_between(dates, lo, hi, color=colour, alpha=0.25, lw=0)
            (line,) = top.plot(dates, mean, color=colour, lw=1.2, label=name)
            if i == 0:
                handles.append(line)
        diff, dlo, dhi = bands(b - a)
        bottom.axhline(0, color=GREYS[0], lw=0.8)
        bottom.fill_between(dates, dlo, dhi, color=PALETTE[2], alpha=0.3, lw=0)
        (dline,) = bottom.plot(dates, diff, color=PALETTE[2], lw=1.2,
                               label=f"difference {cmp.b.name} \u2212 {cmp.a.name}")
        if i == 0:
            handles.append(dline)
        top.set_title(title)
        bottom.set_ylabel("difference", fontsize=8)
        top.tick_params(labelbottom=False)
        date_axis(bottom)
        _, last_lo, last_hi = (diff[-1], dlo[-1], dhi[-1])
        verdict = ("no clear difference at the end" if not np.isfinite(last_lo)
                   or last_lo <= 0 <= last_hi else "a clear difference at the end")
        alt.append(f"{title}: {cmp.a.name} ends at {number(np.nanmean(a[:, -1]))}, "
                   f"{cmp.b.name} at {number(np.nanmean(b[:, -1]))}; difference "
                   f"{signed(diff[-1])} {interval(signed(dlo[-1]), signed(dhi[-1]))}, "
                   f"{verdict}.")
    fig.legend(handles=handles, loc="outside upper center", ncol=3)
    text = (f"Outcomes over time, mean over {len(cmp.seeds)} replicates with 95% interval "
            "bands; under each panel the difference with its band. " + " ".join(alt))
    return Chart("series.png", fig, text)   # its anchor is FIG_SERIES


def comparison_charts(cmp: Comparison) -> list[Chart]:
    return [effects_chart(cmp), series_chart(cmp)]

