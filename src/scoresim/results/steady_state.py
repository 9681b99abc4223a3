"""Is a run at a steady state? The change of its level outcomes over its last year.

Effects are only comparable between runs of different lengths once the society, the
network and the scores have stopped drifting (issues 18-20: scores as levels, tie
turnover, demography). This compares the mean of the run's last ``WINDOW_DAYS`` days with
the mean of the same days a year earlier, for the outcomes that are levels (score
percentiles, tier shares, mean degree, good-job share), against stated bounds per year.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

WINDOW_DAYS = 90
YEAR_DAYS = 365
#: Largest change in a year that still counts as steady, by the unit of the outcome (the
#: steady-state tests of tests/test_levels.py and tests/test_network_dynamics.py ask for
#: about these over their last two years).
BOUNDS = {"points": 10.0, "share": 0.02, "friends": 0.2}


@dataclass(frozen=True)
class Drift:
    column: str
    unit: str
    change: float  # last window's mean minus the mean of the same window a year before

    @property
    def steady(self) -> bool:
        return abs(self.change) <= BOUNDS[self.unit]


def level_columns(columns: list[str]) -> dict[str, str]:
    """The level outcomes of a table and their units."""
    out: dict[str, str] = {}
    for c in columns:
        if c.endswith(("_score_p10", "_score_p50", "_score_p90")):
            out[c] = "points"
        elif "_tier_" in c or c == "good_job_share":
            out[c] = "share"
        elif c == "mean_degree":
            out[c] = "friends"
    return out


def last_year_drift(outcomes: pd.DataFrame) -> list[Drift] | None:
    """Each level outcome's change over the last year (None: a run shorter than a year and
    a window)."""
    n = len(outcomes)
    if n < YEAR_DAYS + WINDOW_DAYS:
        return None
    out = []
    for column, unit in level_columns(list(outcomes.columns)).items():
        x = outcomes[column].to_numpy(dtype=float)
        with np.errstate(all="ignore"):
            last = np.nanmean(x[n - WINDOW_DAYS:])
            before = np.nanmean(x[n - WINDOW_DAYS - YEAR_DAYS:n - YEAR_DAYS])
        if np.isfinite(last) and np.isfinite(before):
            out.append(Drift(column, unit, float(last - before)))
    return out
