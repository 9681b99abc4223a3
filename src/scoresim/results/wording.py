"""The summaries in words at the top of the reports, written from the numbers.

Every number in a sentence links to the figure that shows it. A comparison states an effect
only where its 95% interval excludes zero; otherwise it says "no clear effect". A single run
states levels, never effects (it has no counterfactual).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from scoresim.results.comparison import Comparison
    from scoresim.results.run_folder import Results

# ------------------------------------------------------------------------ formatting


def number(x: float) -> str:
    """A number as a reader wants it: 1,014 / 16.7 / 0.952 / 0.0181 (three significant
    digits below 100, whole numbers above)."""
    x = float(x)
    if not math.isfinite(x):
        return "n/a"
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 0.001:
        return f"{float(f'{x:.3g}'):g}"
    return f"{x:.2e}"


def signed(x: float) -> str:
    """A number with its sign (+1.2, -3.4, 0); minus written as U+2212."""
    text = number(x)
    if math.isfinite(float(x)) and float(x) > 0 and text != "0":
        return "+" + text
    return text.replace("-", "\u2212")


def percent(share: float, sign: bool = False) -> str:
    """A share (0.076) as a percentage (7.6%); one decimal below 10%."""
    share = float(share)
    if not math.isfinite(share):
        return "n/a"
    value = 100 * share
    if abs(value) >= 10:
        text = f"{value:.0f}"
    elif abs(value) >= 1 or value == 0:
        text = f"{value:.1f}"
    elif abs(value) >= 0.001:
        text = f"{float(f'{value:.2g}'):g}"    # 0.33%, 0.05%: small shares keep two digits
    else:
        text = f"{value:.0e}"
    if text in ("-0", "-0.0"):
        text = text[1:]
    if sign and float(text) > 0:
        text = "+" + text
    return text.replace("-", "\u2212") + "%"


def link(text: str, anchor: str) -> str:
    """``text`` linked to the figure with id ``anchor``."""
    return f'<a class="num" href="#{anchor}">{html.escape(text)}</a>'


def interval(lo: str, hi: str) -> str:
    return f"[{lo}, {hi}]"


# ----------------------------------------------------------------------- comparisons

#: How each headline outcome is spoken of: noun phrase, and its kind: "share" (0-1, spoken
#: in percent and percentage points), "count" (spoken as numbers), "level" (relative change
#: where the baseline is never zero).
PHRASES: dict[str, tuple[str, str]] = {
    "critical_statements": ("critical statements per day (mean over the last year)", "level"),
    "expression_gap": ("the gap between private and expressed opinion", "level"),
    "self_censoring_share": ("the share of people who censor themselves", "share"),
    "critic_degree_ratio": ("critics' number of friends relative to others'", "level"),
    "isolated_critics": ("the share of critics without any friend", "share"),
    "mean_degree": ("the mean number of friends", "level"),
    "sanctions_total": ("sanctions in all", "count"),
    "sanctions_wrongful": ("wrongful sanctions (caused only by data errors)", "count"),
    "sanctions_association": ("sanctions by association (friends' scores)", "count"),
    "blacklisted": ("people blacklisted at the end", "count"),
    "good_job_share": ("the share of workers with a good job", "share"),
    "good_job_gap_income": ("the good-job gap between rich and poor", "share"),
    "score_position": ("the mean score (as a share of its scheme's range, over the last "
                       "year)", "share"),
}

FIG_EFFECTS = "fig-effects"
FIG_SERIES = "fig-series"


def t_interval(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% t-interval of ``values`` (the interval is NaN with one value)."""
    from scipy import stats

    values = np.asarray(values, dtype=float)
    mean = float(np.mean(values)) if len(values) else math.nan
    if len(values) < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.975, len(values) - 1) * np.std(values, ddof=1)
                 / np.sqrt(len(values)))
    return mean, mean - half, mean + half


@dataclass
class Effect:
    """One outcome's effect, ready to be spoken of."""

    outcome: str
    label: str               # the short label of the effects table
    phrase: str
    kind: str
    a: float
    b: float
    effect: float
    low: float
    high: float
    replicates: int
    identical: bool          # b equal to a in every replicate
    relative: tuple[float, float, float] | None   # mean and interval of b/a - 1 per seed

    @property
    def has_interval(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)

    @property
    def defined(self) -> bool:
        """Both scenarios have the outcome (a scenario without schemes has no score)."""
        return math.isfinite(self.a) and math.isfinite(self.b)

    @property
    def clear(self) -> bool:
        """The 95% interval excludes zero."""
        return self.has_interval and (self.low > 0 or self.high < 0)


def effects_of(cmp: Comparison) -> list[Effect]:
    """The headline effects of a comparison with their relative changes per replicate."""
    reps = cmp.replicates
    out = []
    for row in cmp.effects.itertuples(index=False):
        phrase, kind = PHRASES.get(row.outcome, (row.label, "level"))
        d = reps[reps.outcome == row.outcome]
        a, b = d.a.to_numpy(dtype=float), d.b.to_numpy(dtype=float)
        identical = bool(len(d)) and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))
        relative = None
        if kind != "share" and len(a) and np.all(np.abs(a) > 1e-12) and np.all(np.isfinite(b)):
            relative = t_interval(b / a - 1.0)
        e = Effect(row.outcome, row.label, phrase, kind, row.a_mean, row.b_mean, row.effect,
                   row.ci_low, row.ci_high, int(row.replicates), identical, relative)
        if relative is not None and (relative[1] > 0 or relative[2] < 0) != e.clear:
            e.relative = None   # the two intervals disagree: speak in raw numbers only
        out.append(e)
    return out


def _effect_numbers(e: Effect) -> str:
    """The effect and its interval, in the effect's own terms, linked to the figure."""
    if e.kind == "share":
        text = (f"{percent(e.effect, sign=True).removesuffix('%')} points "
                + interval(percent(e.low, True).removesuffix("%"),
                           percent(e.high, True).removesuffix("%")))
    elif e.relative is not None:
        m, lo, hi = e.relative
        text = f"{percent(m, True)} {interval(percent(lo, True), percent(hi, True))}"
    else:
        text = f"{signed(e.effect)} {interval(signed(e.low), signed(e.high))}"
    return link(text, FIG_EFFECTS)


def _levels(e: Effect, anchor: str) -> str:
    fmt = percent if e.kind == "share" else number
    return f"from {link(fmt(e.a), anchor)} to {link(fmt(e.b), anchor)}"


def effect_sentence(e: Effect, a_name: str, b_name: str, anchor: str = FIG_EFFECTS) -> str:
    """One sentence on one outcome (HTML). Only a clear effect gets a direction."""
    phrase = html.escape(e.phrase)
    if not e.defined:
        return (f"{phrase[0].upper() + phrase[1:]}: not defined (a scenario without it, "
                "e.g. one that scores no one).")
    if e.identical:
        return f"{phrase[0].upper() + phrase[1:]}: the same in every replicate."
    if not e.has_interval:
        return (f"{phrase[0].upper() + phrase[1:]} went {_levels(e, anchor)}; one "
                f"replicate gives no interval, so no effect can be told from noise.")
    if not e.clear:
        return (f"No clear effect on {phrase} ({_effect_numbers(e)}, the interval "
                f"includes zero).")
    up = e.effect > 0
    if e.outcome == "critic_degree_ratio" and not up and e.relative is not None:
        m, lo, hi = e.relative
        return (f"Critics lost {link(percent(-m), FIG_EFFECTS)} "
                f"{link(interval(percent(-hi), percent(-lo)), FIG_EFFECTS)} of their "
                f"friends relative to others ({_levels(e, anchor)}).")
    if e.kind == "share":
        return (f"{phrase[0].upper() + phrase[1:]} {'rose' if up else 'fell'} "
                f"{_levels(e, anchor)} ({_effect_numbers(e)}).")
    if e.relative is not None:
        m, lo, hi = e.relative
        sign = 1 if up else -1
        lo, hi = sorted((sign * lo, sign * hi))
        return (f"{phrase[0].upper() + phrase[1:]} {'rose' if up else 'fell'} by "
                f"{link(percent(sign * m), FIG_EFFECTS)} "
                f"{link(interval(percent(lo), percent(hi)), FIG_EFFECTS)} "
                f"({_levels(e, anchor)}).")
    if abs(e.a) < 1e-12:
        return (f"{phrase[0].upper() + phrase[1:]}: {link(number(e.b), FIG_EFFECTS)} "
                f"{link(interval(number(e.low), number(e.high)), FIG_EFFECTS)} with "
                f"{html.escape(b_name)}, none with {html.escape(a_name)}.")
    return (f"{phrase[0].upper() + phrase[1:]} {'rose' if up else 'fell'} "
            f"{_levels(e, anchor)} ({_effect_numbers(e)}).")


def comparison_summary(cmp: Comparison) -> list[str]:
    """Sentences (HTML) for the top of a comparison report: clear effects first, in the
    order of the headline table, then one sentence naming the outcomes without one."""
    effects = effects_of(cmp)
    a, b = cmp.a.name, cmp.b.name
    out = []
    unclear = []
    for e in effects:
        anchor = FIG_SERIES if f"a_{e.outcome}" in cmp.series else FIG_EFFECTS
        if e.identical:
            continue
        if e.clear or not e.has_interval:
            out.append(effect_sentence(e, a, b, anchor))
        else:
            unclear.append(e)
    if unclear:
        out.append("No clear effect (the 95% interval includes zero) on "
                   + "; ".join(f"{html.escape(e.phrase)} ({_effect_numbers(e)})"
                               for e in unclear) + ".")
    same = [e for e in effects if e.identical]
    if same:
        out.append("Identical under both scenarios in every replicate: "
                   + ", ".join(html.escape(e.phrase) for e in same) + ".")
    return out


def comparison_lead(cmp: Comparison) -> str:
    n = len(cmp.seeds)
    return (f"With {html.escape(cmp.b.name)} instead of {html.escape(cmp.a.name)}, over {n} "
            f"replicate run{'s' if n != 1 else ''} of {cmp.metadata['people']:,} synthetic "
            f"people and {cmp.metadata['days']} days each (effects with 95% intervals; "
            "shares in percentage points):")


# ---------------------------------------------------------------------------- runs


def run_summary(results: Results) -> list[str]:
    """Sentences (HTML) for the top of a run report: what the run shows at its end.
    Levels only: a single run cannot tell what the scoring system caused."""
    df: pd.DataFrame = results.outcomes_df()
    col = results.column
    out = []
    crit = col("critical_statements").astype(float)
    first, last = np.nanmean(crit[:30]), np.nanmean(crit[-30:])
    censor = float(col("self_censoring_share")[-1])
    out.append(f"Critical statements averaged {link(number(last), 'fig-expression')} a day "
               f"in the last 30 days, against {link(number(first), 'fig-expression')} in the "
               f"first 30; at the end {link(percent(censor), 'fig-expression')} of people "
               "censor themselves (express less dissent than they hold).")
    ratio, isolated = float(col("critic_degree_ratio")[-1]), float(col("isolated_critics")[-1])
    if math.isfinite(ratio):
        out.append(f"Critics have {link(number(ratio), 'fig-isolation')} times as many "
                   "friends as others at the end; "
                   f"{link(percent(isolated), 'fig-isolation')} of critics have no friend.")
    total = float(np.nansum(col("sanctions_total")))
    if total > 0:
        wrong = float(np.nansum(col("sanctions_wrongful")))
        assoc = float(np.nansum(col("sanctions_association")))
        out.append(f"{link(number(total), 'fig-sanctions')} sanctions were applied, "
                   f"{link(number(wrong), 'fig-sanctions')} of them wrongful (caused only by "
                   f"data errors) and {link(number(assoc), 'fig-sanctions')} by association "
                   "(because of friends' scores).")
    elif results.scenario.sanctions:
        out.append("No sanction was applied.")
    for name in results.scenario.schemes:
        enrolled = float(df[f"{name}_enrolled_share"].iloc[-1])
        mean = float(df[f"{name}_score_mean"].iloc[-1])
        out.append(f"{html.escape(name)}: {link(percent(enrolled), 'fig-scores')} of people "
                   f"enrolled at the end, with a mean published score of "
                   f"{link(number(mean), 'fig-scores')}.")
    if not results.scenario.schemes:
        out.append("No scoring scheme ran: this is a counterfactual.")
    return out


def run_caveat(results: Results) -> str:
    name = html.escape(results.scenario.name)
    return ("A single run shows levels, not effects: to see what the scoring changed, "
            f"compare it with its counterfactual (<code>scoresim compare baseline {name}"
            "</code>), which gives each effect with an interval.")
