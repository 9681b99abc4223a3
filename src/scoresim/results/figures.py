"""Figures of the headline outcomes, written as PNG files into a run folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scoresim.results.run_folder import Results


def _dates(results: Results) -> np.ndarray:
    return results.outcomes.column("date").to_numpy()


def _mark_phases(ax, results: Results) -> None:
    for name, start in results.scenario.phases.items():
        if results.scenario.start < start <= results.scenario.end:
            ax.axvline(np.datetime64(start), color="grey", lw=0.8, ls="--")
            ax.annotate(name, (np.datetime64(start), 1), xycoords=("data", "axes fraction"),
                        fontsize=8, color="grey", va="top", rotation=90)


def write_figures(results: Results, folder: Path) -> list[str]:
    """Write scores.png, expression.png, isolation.png, sanctions.png; return the names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dates = _dates(results)
    col = results.column
    names = results.outcomes.column_names
    written = []

    def save(fig, name: str) -> None:
        fig.autofmt_xdate()
        fig.tight_layout()
        fig.savefig(folder / name, dpi=110)
        plt.close(fig)
        written.append(name)

    schemes = list(results.scenario.schemes)
    if schemes:
        fig, axes = plt.subplots(len(schemes), 2, figsize=(11, 3.2 * len(schemes)),
                                 squeeze=False)
        for row, scheme in zip(axes, schemes, strict=True):
            ax = row[0]
            ax.fill_between(dates, col(f"{scheme}_score_p10"), col(f"{scheme}_score_p90"),
                            alpha=0.3, label="p10-p90")
            ax.plot(dates, col(f"{scheme}_score_mean"), label="mean")
            ax.set_title(f"{scheme}: published score")
            ax.legend(fontsize=8)
            _mark_phases(ax, results)
            ax = row[1]
            tiers = [c for c in names if c.startswith(f"{scheme}_tier_")]
            if tiers:
                ax.stackplot(dates, *[np.nan_to_num(col(c)) for c in tiers],
                             labels=[c.split("_tier_")[1] for c in tiers])
                ax.set_title(f"{scheme}: tier shares")
                ax.legend(fontsize=7, loc="upper left", ncol=2)
            else:
                ax.plot(dates, col(f"{scheme}_enrolled_share"))
                ax.set_title(f"{scheme}: enrolled share")
        save(fig, "scores.png")

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
    axes[0].plot(dates, col("critical_statements"), lw=0.6)
    axes[0].set_title("critical statements per day")
    _mark_phases(axes[0], results)
    for c in ("self_censoring_share", "defiant_share", "expression_gap"):
        axes[1].plot(dates, col(c), label=c)
    axes[1].set_title("self-censorship")
    axes[1].legend(fontsize=8)
    _mark_phases(axes[1], results)
    save(fig, "expression.png")

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
    axes[0].plot(dates, col("critic_degree_ratio"))
    axes[0].set_title("critics' degree / others' degree")
    axes[1].plot(dates, col("isolated_critics"))
    axes[1].set_title("share of critics with no friends")
    for ax in axes:
        _mark_phases(ax, results)
    save(fig, "isolation.png")

    sanction_cols = [c for c in names if c.startswith("sanctions_") and c != "sanctions_total"]
    if sanction_cols:
        fig, ax = plt.subplots(figsize=(11, 3.8))
        for c in sanction_cols:
            ax.plot(dates, np.nancumsum(col(c)), label=c.removeprefix("sanctions_"))
        ax.set_title("sanctions, cumulative")
        ax.set_yscale("symlog")
        ax.legend(fontsize=8, ncol=2)
        _mark_phases(ax, results)
        save(fig, "sanctions.png")
    return written
