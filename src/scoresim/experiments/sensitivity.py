"""Global sensitivity analysis of a finished sweep with SALib: Sobol first-order and total
indices (sobol designs) or Morris mu* and sigma (morris designs), with 95% intervals."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scoresim.errors import ScenarioError
from scoresim.experiments.sweep import load_results


def outcome_column(results: pd.DataFrame, name: str) -> str:
    """``critical_statements`` or ``critical_statements:final`` -> the results column."""
    if name in results and ":" in name:
        return name
    matches = [c for c in results if c.startswith(f"{name}:") and not c.startswith("param:")]
    if len(matches) == 1:
        return matches[0]
    kept = sorted({c for c in results if ":" in c and not c.startswith("param:")})
    if not matches:
        raise ScenarioError(f"--outcome: no outcome {name!r} in this sweep; it kept: "
                            f"{', '.join(kept)}.")
    raise ScenarioError(f"--outcome: {name!r} was kept as {', '.join(matches)}; name one.")


def analyze(meta: dict[str, Any], results: pd.DataFrame, outcome: str,
            seed: int = 0) -> pd.DataFrame:
    """Indices per parameter. Y is the mean over replicate seeds of each design point."""
    cfg = meta["config"]
    kind = cfg["design"]["kind"]
    if kind not in ("sobol", "morris"):
        raise ScenarioError(f"sensitivity needs a sobol or morris design; this sweep's design "
                            f"is {kind!r}.")
    col = outcome_column(results, outcome)
    names = [p["key"] for p in cfg["parameters"]]
    problem = {"num_vars": len(names), "names": names,
               "bounds": [[p["low"], p["high"]] for p in cfg["parameters"]]}
    y = results.groupby("point")[col].mean()
    n_points = len(meta["points"])
    if len(y) != n_points or y.isna().any():
        missing = sorted(set(range(n_points)) - set(y.dropna().index))
        raise ScenarioError(f"sensitivity needs every design point; {len(missing)} have no "
                            f"result (e.g. {missing[:5]}): rerun the sweep to finish them.")
    y = y.sort_index().to_numpy(dtype=float)
    if kind == "sobol":
        from SALib.analyze import sobol

        if np.ptp(y) == 0:
            raise ScenarioError(f"--outcome: {col} is {y[0]:g} at every design point; Sobol "
                                "indices are shares of its variance, and it has none (no "
                                "parameter changes it).")

        s = sobol.analyze(problem, y, calc_second_order=False, conf_level=0.95, seed=seed)
        return pd.DataFrame({"parameter": names, "S1": s["S1"], "S1_conf": s["S1_conf"],
                             "ST": s["ST"], "ST_conf": s["ST_conf"]})
    from SALib.analyze import morris

    x = np.array([[pt[k] for k in names] for pt in meta["points"]], dtype=float)
    s = morris.analyze(problem, x, y, conf_level=0.95, num_levels=cfg["design"]["levels"],
                       seed=seed)
    return pd.DataFrame({"parameter": names, "mu_star": s["mu_star"],
                         "mu_star_conf": s["mu_star_conf"], "sigma": s["sigma"]})


def chart(table: pd.DataFrame, outcome: str):
    """The indices as bars with their intervals (a :class:`~scoresim.results.plotting.Chart`)."""
    from scoresim.results.plotting import PALETTE, Chart, style, subplots

    with style():
        fig, axes = subplots(1, 1, width=8, height=0.6 * len(table) + 1.7)
        ax = axes[0, 0]
        y = np.arange(len(table))
        if "S1" in table:
            ax.barh(y + 0.2, table.S1, 0.4, xerr=table.S1_conf, label="first order S1",
                    color=PALETTE[0])
            ax.barh(y - 0.2, table.ST, 0.4, xerr=table.ST_conf, label="total ST",
                    color=PALETTE[1])
            ax.set_xlabel("Sobol index (95% interval)")
            alt = "; ".join(f"{p}: S1 {a:.2g}, ST {b:.2g}" for p, a, b in
                            zip(table.parameter, table.S1, table.ST, strict=True))
        else:
            ax.barh(y + 0.2, table.mu_star, 0.4, xerr=table.mu_star_conf, label="mu*",
                    color=PALETTE[0])
            ax.barh(y - 0.2, table.sigma, 0.4, label="sigma", color=PALETTE[1])
            ax.set_xlabel("Morris elementary effects")
            alt = "; ".join(f"{p}: mu* {a:.2g}, sigma {b:.2g}" for p, a, b in
                            zip(table.parameter, table.mu_star, table.sigma, strict=True))
        ax.set_yticks(y, table.parameter)
        ax.set_title(f"sensitivity of {outcome}")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return Chart(f"sensitivity-{outcome}.png", fig, f"Sensitivity of {outcome}: {alt}.")


def figure(table: pd.DataFrame, outcome: str, path: Path) -> None:
    c = chart(table, outcome)
    tmp = path.with_name(path.name + ".partial.png")
    tmp.write_bytes(c.png())
    c.close()
    os.replace(tmp, path)


def sensitivity(folder: Path | str, outcome: str, seed: int = 0) -> tuple[pd.DataFrame, Path]:
    """Analyse, write ``sensitivity-<outcome>.csv`` and ``.png`` into the sweep folder."""
    folder = Path(folder)
    meta, results = load_results(folder)
    table = analyze(meta, results, outcome, seed)
    stem = "sensitivity-" + outcome_column(results, outcome).replace(":", "-")
    tmp = folder / f"{stem}.csv.partial"
    table.to_csv(tmp, index=False)
    os.replace(tmp, folder / f"{stem}.csv")
    figure(table, outcome, folder / f"{stem}.png")
    return table, folder / f"{stem}.png"
