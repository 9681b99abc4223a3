"""Intervals that include what we do not know (issue 28, item 4).

``scoresim compare A B --uncertainty N`` runs, beside the usual replicates at the presets'
values, ``N`` parameter sets drawn over the ranges of the assumptions
(:func:`scoresim.scenario.provenance.assumption_ranges`) by Latin hypercube sampling, each
with the same replicate seeds, A and B with the same drawn values wherever they share a key
(common random numbers as in every comparison). Each headline effect then has

- the seeds-only interval (a 95% t-interval over replicates at the documented values), and
- the interval over both: the 2.5% and 97.5% quantiles of the effects of all parameter sets
  times seeds, and the same of the per-set means (parameters alone).

The same draws give a variance-based sensitivity of each effect: first-order indices by
RBD-FAST (SALib; Tarantola, Gatelli and Mara 2006, with Tissot and Prieur's 2012 bias
correction), which works on any sample, a Latin hypercube included, at a cost that does not
grow with the number of assumptions; summed per group of assumptions as a rough share of the
variance each group explains alone. With tens of parameter sets the indices are rough:
their 95% intervals (bootstrap) say how rough.

The draws are seeded from the scenario's seed through a numpy ``SeedSequence`` (and the
replicates' seeds are the comparison's), so the same command gives the same numbers.
"""

from __future__ import annotations

import os
import warnings
import zlib
from typing import Any

import numpy as np
import pandas as pd

from scoresim.errors import ScenarioError
from scoresim.experiments.compare import HEADLINES, run_replicates
from scoresim.scenario.schema import Scenario

#: The tag mixed into the scenario's seed for the draws (so they are not the runs' streams).
DRAW_TAG = zlib.crc32(b"scoresim.uncertainty")


def ranges_of(a: Scenario, b: Scenario, groups: list[str] | None = None
              ) -> tuple[dict[str, tuple[float, float]], dict[str, str]]:
    """The assumptions to draw: B's and A's numeric assumptions (B's range where both have
    one), only those of ``groups`` if given; and each key's group."""
    from scoresim.scenario.provenance import assumption_ranges, provenance

    ranges = {**assumption_ranges(a), **assumption_ranges(b)}
    group = {k: e.group or "other" for sc in (a, b) for k, e in provenance(sc).items()
             if k in ranges}
    if groups:
        known = sorted(set(group.values()))
        unknown = sorted(set(groups) - set(known))
        if unknown:
            raise ScenarioError(f"--uncertainty-groups: no assumption of {a.name} or {b.name} "
                                f"is in group(s) {', '.join(unknown)}; the groups are "
                                f"{', '.join(known)}.")
        ranges = {k: r for k, r in ranges.items() if group[k] in groups}
    return ranges, {k: group[k] for k in ranges}


def draws(ranges: dict[str, tuple[float, float]], n: int, seed: int,
          integer: set[str] = frozenset()) -> pd.DataFrame:
    """``n`` Latin-hypercube parameter sets over the ranges (one row each; ``integer`` keys
    rounded), seeded from ``seed`` through a ``SeedSequence``."""
    from scipy.stats import qmc

    if n < 2:
        raise ScenarioError(f"--uncertainty: expected at least 2 parameter sets, got {n}.")
    keys = sorted(ranges)
    if not keys:
        raise ScenarioError("--uncertainty: the scenarios have no numeric assumption to draw "
                            "(docs/parameters.md).")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), DRAW_TAG]))
    unit = qmc.LatinHypercube(d=len(keys), seed=rng).random(n)
    low = np.array([ranges[k][0] for k in keys])
    high = np.array([ranges[k][1] for k in keys])
    values = pd.DataFrame(low + unit * (high - low), columns=keys)
    for k in keys:
        if k in integer:
            values[k] = values[k].round().astype(int)
    return values


def with_values(sc: Scenario, values: dict[str, Any]) -> Scenario:
    """The scenario with those of ``values`` (``--set`` keys) that it has; a drawn set that
    makes it invalid is refused with the values that did."""
    from pydantic import ValidationError

    from scoresim.scenario.loading import apply_overrides
    from scoresim.scenario.provenance import leaves

    have = {leaf.key for leaf in leaves(sc)}
    mine = {k: v.item() if hasattr(v, "item") else v for k, v in values.items() if k in have}
    if not mine:
        return sc
    raw = apply_overrides(sc.model_dump(mode="json"), mine)
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]["msg"]
        raise ScenarioError(f"a drawn parameter set makes {sc.name} invalid ({first}); the "
                            f"set: {mine}") from None


def integer_keys(*scenarios: Scenario) -> set[str]:
    from scoresim.scenario.provenance import leaves

    return {leaf.key for sc in scenarios for leaf in leaves(sc)
            if isinstance(leaf.value, int) and not isinstance(leaf.value, bool)}


def run_draws(a: Scenario, b: Scenario, values: pd.DataFrame, seeds: list[int],
              workers: int | None = None) -> pd.DataFrame:
    """Every parameter set times every seed, A and B with common random numbers: one row per
    (set, seed, outcome) with A's and B's summary and the effect."""
    return effect_rows(run_sets(a, b, values, seeds, workers), seeds)


def run_sets(a: Scenario, b: Scenario, values: pd.DataFrame, seeds: list[int],
             workers: int | None = None, fn=None, prepare_b=None) -> list[dict[str, Any]]:
    """The replicates of every parameter set times every seed (``compare``'s, or ``fn``'s,
    with B passed through ``prepare_b`` first: the impact card's tracker)."""
    prepare_b = prepare_b or (lambda sc: sc)
    sets = [(with_values(a, row), prepare_b(with_values(b, row)))
            for row in values.to_dict(orient="records")]
    jobs = [(sa, sb, s, None, None) for sa, sb in sets for s in seeds]
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    return run_replicates(jobs, workers, fn=fn)


def effect_rows(results: list[dict[str, Any]], seeds: list[int]) -> pd.DataFrame:
    """One row per (set, seed, headline outcome): A's and B's summary and the effect."""
    rows = []
    for i, r in enumerate(results):
        for col in HEADLINES:
            rows.append({"set": i // len(seeds), "seed": r["seed"], "outcome": col,
                         "a": r["a"][col], "b": r["b"][col],
                         "effect": r["b"][col] - r["a"][col]})
    return pd.DataFrame(rows)


def intervals(seeds_only: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Each headline effect: the seeds-only interval beside the intervals over parameters
    and seeds (all runs) and over parameters (the per-set means)."""
    out = []
    for row in seeds_only.itertuples():
        d = runs[runs.outcome == row.outcome]
        eff = d.effect.to_numpy(dtype=float)
        per_set = d.groupby("set").effect.mean().to_numpy(dtype=float)
        ok = eff[~np.isnan(eff)]
        ok_set = per_set[~np.isnan(per_set)]

        def q(x, p):
            return float(np.quantile(x, p)) if x.size else np.nan

        out.append({"outcome": row.outcome, "label": row.label,
                    "effect": row.effect, "seeds_low": row.ci_low, "seeds_high": row.ci_high,
                    "uncertain_mean": float(ok.mean()) if ok.size else np.nan,
                    "uncertain_low": q(ok, 0.025), "uncertain_high": q(ok, 0.975),
                    "parameters_low": q(ok_set, 0.025),
                    "parameters_high": q(ok_set, 0.975),
                    "runs": int(ok.size)})
    return pd.DataFrame(out)


#: Fewer parameter sets give no sensitivity (RBD-FAST's bootstrap needs at least three).
MIN_SETS_FOR_SENSITIVITY = 6


def sensitivity(values: pd.DataFrame, runs: pd.DataFrame, groups: dict[str, str],
                seed: int = 0) -> pd.DataFrame:
    """First-order (RBD-FAST) index of each assumption for each headline effect's per-set
    mean, with its bootstrap 95% half-width; outcomes that do not vary get none, and so do
    all with fewer than :data:`MIN_SETS_FOR_SENSITIVITY` sets."""
    from SALib.analyze import rbd_fast

    keys = list(values.columns)
    x = values[keys].to_numpy(dtype=float)
    n = len(values)
    problem = {"num_vars": len(keys), "names": keys,
               "bounds": [[float(x[:, i].min()), float(x[:, i].max()) + 1e-12]
                          for i in range(len(keys))]}
    # RBD-FAST sums M harmonics and needs N > 2M, in its bootstrap too (on half the sets);
    # few sets: few harmonics (each adds noise of about 2/N to every index)
    harmonics = max(1, min(6, n // 12))
    rows = []
    for outcome in HEADLINES if n >= MIN_SETS_FOR_SENSITIVITY else ():
        y = (runs[runs.outcome == outcome].groupby("set").effect.mean()
             .reindex(range(n)).to_numpy(dtype=float))
        if np.isnan(y).any() or np.ptp(y) == 0:
            continue
        with warnings.catch_warnings():  # (a constant bootstrap resample: a NaN width)
            warnings.simplefilter("ignore", RuntimeWarning)
            s = rbd_fast.analyze(problem, x, y, M=harmonics, seed=seed)
        for k, s1, conf in zip(keys, s["S1"], s["S1_conf"], strict=True):
            rows.append({"outcome": outcome, "parameter": k, "group": groups.get(k, "other"),
                         "S1": float(s1), "S1_conf": float(conf)})
    return pd.DataFrame(rows, columns=["outcome", "parameter", "group", "S1", "S1_conf"])


def clear(table: pd.DataFrame) -> pd.DataFrame:
    """The indices clear of their own noise (S1 above its 95% half-width), largest first
    per outcome: with few parameter sets every index carries noise of about its half-width,
    and only these say something."""
    t = table[table.S1 > table.S1_conf]
    return t.sort_values(["outcome", "S1"], ascending=[True, False])


def by_group(table: pd.DataFrame) -> pd.DataFrame:
    """The first-order indices clear of their noise, summed per group (a rough share of
    the effect's variance the group's assumptions explain one by one)."""
    t = clear(table)
    if t.empty:
        return pd.DataFrame(columns=["outcome", "group", "S1"])
    return (t.groupby(["outcome", "group"], as_index=False).S1.sum()
            .sort_values(["outcome", "S1"], ascending=[True, False]))


def uncertain_compare(a: Scenario, b: Scenario, n: int, replicates: int = 5,
                      people: int | None = None, days: int | None = None,
                      first_seed: int = 0, workers: int | None = None,
                      groups: list[str] | None = None, base_dirs=(None, None)):
    """:func:`scoresim.experiments.compare.compare` plus ``n`` parameter sets over the
    assumptions: the comparison with its ``uncertainty``, ``draws``, ``draw_effects`` and
    ``sensitivity`` filled in."""
    from scoresim.experiments.compare import compare
    from scoresim.sim import resize

    cmp = compare(a, b, replicates, people, days, first_seed, workers, base_dirs=base_dirs)
    ra, rb = resize(a, people, days), resize(b, people, days)
    ranges, group = ranges_of(a, b, groups)
    values = draws(ranges, n, b.seed, integer_keys(a, b))
    runs = run_draws(ra, rb, values, cmp.seeds, workers)
    cmp.uncertainty = intervals(cmp.effects, runs)
    cmp.draws = values
    cmp.draw_effects = runs
    cmp.sensitivity = sensitivity(values, runs, group, seed=b.seed)
    cmp.metadata["uncertainty"] = {
        "parameter_sets": n, "seed": b.seed, "groups": groups or "all",
        "ranges": {k: list(r) for k, r in sorted(ranges.items())},
        "group_of": group, "method": "Latin hypercube (scipy.stats.qmc), SeedSequence(["
        f"{b.seed}, {DRAW_TAG}]); sensitivity: RBD-FAST first-order indices (SALib)"}
    return cmp
