"""The report's steady-state check: the change of level outcomes over a run's last year."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoresim.results.steady_state import last_year_drift


def table(days: int, **columns) -> pd.DataFrame:
    t = np.arange(days, dtype=float)
    return pd.DataFrame({name: make(t) for name, make in columns.items()})


def test_a_drifting_score_is_still_moving_and_a_flat_one_steady():
    df = table(800, government_score_p10=lambda t: 1000 - 0.1 * t,  # -36.5 points a year
               government_score_p90=lambda t: 1040 + np.sin(t / 5),  # noise about a level
               government_tier_D=lambda t: 0.01 + 0 * t,
               mean_degree=lambda t: 9.8 + 0.0001 * t)
    drift = {d.column: d for d in last_year_drift(df)}
    assert drift["government_score_p10"].change == -36.5
    assert not drift["government_score_p10"].steady
    assert drift["government_score_p90"].steady and drift["government_tier_D"].steady
    assert drift["mean_degree"].steady
    assert set(drift) == {"government_score_p10", "government_score_p90", "government_tier_D",
                          "mean_degree"}


def test_a_run_shorter_than_a_year_and_a_window_is_not_checked():
    assert last_year_drift(table(400, government_score_p50=lambda t: t)) is None


def test_the_report_says_whether_the_run_is_steady(tmp_path):
    from scoresim.results.folder_report import write_report
    from scoresim.sim import Sim

    res = Sim("seed", people=400, days=460).run()
    res.save(tmp_path / "run")
    page = write_report(tmp_path / "run").read_text()
    assert "Steady state (the last 90 days" in page
    assert ("steady: no level outcome moved" in page) or ("still moving:" in page)
