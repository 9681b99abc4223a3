"""The impact card (``scoresim impact``): what a regulator asks of a scoring scheme first,
measured on runs of the scenario against its counterfactual (docs/impact.md).

Each replicate seed runs the baseline (A) and the scenario (B) with common random numbers,
as ``scoresim compare`` does (:func:`scoresim.experiments.compare.run_replicates`); B runs
with ``impact.track`` on (:mod:`scoresim.model.impact`: it observes, and changes no result).
From B's run come, per seed:

1. **unrelated contexts**: the share of sanctions (and of people sanctioned) resting on a
   record from a data context not related to the sanction's consequence context
   (``impact.related``); also the share resting only on such records;
2. **disproportion**: the share triggered only by minor behaviour (every triggering record's
   kind at the lowest level of ``impact.gravity``), the share heavier than the gravest
   behaviour behind it (``impact.weight`` above the records' gravity; a sanction with no
   record of the person's own in force counts), and the worst cases with their ledgers;
3. **wrongful sanctions** per 100,000 people a year: data errors (the error-free score
   would not meet the condition) and friends' pull (the score without friends' term would
   not);
4. **who bears it**: sanctions, wrongful sanctions and sanctions in unrelated contexts per
   100,000 people a year by income decile, region, age band, stage of life and critics
   against others, with the ratio of each group's rate to everyone else's;
5. **redress**: days until a wrongful sanction's condition goes (the record lapsed, was
   repaired, the score rose), the share with credit repair granted, the share still under
   the sanction's condition a year after; the same for every sanction beside them;

and from both runs (6) the chilling effect (B - A: self-censoring share, critical statements)
as ``compare`` gives it. Every number: the mean over seeds with a 95% t-interval
(:func:`scoresim.experiments.compare.t_interval`); with ``--uncertainty N`` also the
2.5%-97.5% range over N parameter sets times seeds drawn over the assumptions
(:mod:`scoresim.experiments.uncertainty`), and the assumptions that drive the chilling
effect (first-order indices clear of their noise).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import numpy as np

from scoresim.errors import ScenarioError
from scoresim.experiments.compare import (
    assemble,
    replicate_of,
    run_replicates,
    t_interval,
)
from scoresim.scenario.schema import Scenario

#: The card's measures: key -> (label, unit, per (None: not a rate)). Their order is the
#: card's.
MEASURES: dict[str, tuple[str, str, str | None]] = {
    "unrelated_context_share": (
        "sanctions resting on a record from an unrelated context", "share of sanctions", None),
    "unrelated_context_only_share": (
        "sanctions resting only on records from unrelated contexts", "share of sanctions",
        None),
    "unrelated_context_people_share": (
        "people sanctioned at least once on a record from an unrelated context",
        "share of people sanctioned", None),
    "no_own_record_share": (
        "sanctions with no deducting record of the person's own in force",
        "share of sanctions", None),
    "minor_only_share": (
        "sanctions triggered only by minor behaviour", "share of sanctions", None),
    "disproportionate_share": (
        "sanctions heavier than the gravest behaviour behind them", "share of sanctions",
        None),
    "sanction_rate": ("sanctions", "sanctions", "100,000 people a year"),
    "wrongful_rate": ("wrongful sanctions (data errors)", "sanctions",
                      "100,000 people a year"),
    "association_rate": ("sanctions by association (friends' pull)", "sanctions",
                         "100,000 people a year"),
    "wrongful_days_to_go": (
        "median days until a wrongful sanction's condition goes (data errors or friends' "
        "pull)", "days", None),
    "wrongful_repaired_share": (
        "wrongful sanctions (data errors or friends' pull) whose records credit repair "
        "removed", "share of episodes", None),
    "wrongful_still_after_year": (
        "wrongful sanctions (data errors or friends' pull) whose condition still held a "
        "year after", "share of episodes", None),
    "all_days_to_go": ("median days until any sanction's condition goes", "days", None),
    "all_still_after_year": (
        "sanctions whose condition still held a year after", "share of episodes", None),
    "chilling_self_censoring": (
        "self-censoring share at the end, scenario minus baseline", "share (0-1)", None),
    "chilling_critical_statements": (
        "critical statements per day (last year), scenario minus baseline",
        "statements per day", None),
}
#: The measures that come from the comparison (B - A), by headline column.
CHILLING = {"chilling_self_censoring": "self_censoring_share",
            "chilling_critical_statements": "critical_statements"}
#: The rates broken down by group.
GROUP_MEASURES = {"sanction_rate": "sanctions", "wrongful_rate": "wrongful sanctions",
                  "unrelated_rate": "sanctions in unrelated contexts"}
#: The worst cases kept per seed.
WORST = 5
PER = 1e5
#: Fewer seeds state no disparity: two seeds that agree give an interval of no width.
MIN_SEEDS_FOR_DISPARITY = 3


# ------------------------------------------------------------------- checks before runs


def check(scenario: Scenario, baseline: Scenario) -> None:
    """Refuse, before any run, a scenario the card cannot speak of: one without any scheme
    or sanction (nothing to assess), one whose sanctions are all privileges."""
    from scoresim.declarations.sanctions import SANCTION_EFFECTS

    if not scenario.schemes:
        raise ScenarioError(f"impact: scenario {scenario.name} has no scheme (`schemes` is "
                            "empty): there is no score whose impact to assess.")
    if not any(s.effect in SANCTION_EFFECTS for s in scenario.sanctions.values()):
        raise ScenarioError(f"impact: scenario {scenario.name} has no sanction (`sanctions` "
                            f"has none of {', '.join(SANCTION_EFFECTS)}): a score without "
                            "consequences treats nobody detrimentally.")
    if scenario.name == baseline.name and scenario == baseline:
        raise ScenarioError(f"impact: the baseline is the scenario itself ({scenario.name}); "
                            "give --baseline a scenario without the scheme (default: "
                            "baseline).")


def tracking(scenario: Scenario) -> Scenario:
    """The scenario with ``impact.track`` on (it observes; no result changes)."""
    return scenario.model_copy(update={
        "impact": scenario.impact.model_copy(update={"track": True})})


# ---------------------------------------------------------------------- one replicate


def impact_replicate(args: tuple) -> dict[str, Any]:
    """One seed: the baseline and the scenario (tracked), the comparison's summaries and
    the card's measures of the scenario's run (a top-level function: safe in workers)."""
    from scoresim.model.impact import ImpactTracker
    from scoresim.sim import Sim

    a, b, seed, people, days, *dirs = args
    dirs = (list(dirs) + [None, None])[:2]
    res_a = Sim(a, seed=seed, people=people, days=days, base_dir=dirs[0]).run()
    sim = Sim(b, seed=seed, people=people, days=days, base_dir=dirs[1])
    res_b = sim.run()
    tracker = next(c for c in sim.added if isinstance(c, ImpactTracker))
    out = replicate_of(seed, res_a, res_b)
    out["impact"] = measures_of(tracker.summary(), b)
    return out


def _share(mask: np.ndarray, among: np.ndarray | None = None) -> float:
    m = mask if among is None else mask[among]
    return float(m.mean()) if m.size else float("nan")


def measures_of(s: dict[str, Any], scenario: Scenario) -> dict[str, Any]:
    """The card's per-seed numbers from one tracked run's summary
    (:meth:`scoresim.model.impact.ImpactTracker.summary`)."""
    e, ep = s["events"], s["episodes"]
    tracked = s["tracked"]
    person_years = s["person_days"] / 365.25
    out: dict[str, Any] = {"scalars": {}, "by_sanction": {}, "groups": {}, "worst": []}
    sc = out["scalars"]
    if e is None:
        e = {k: np.zeros(0, t) for k, t in (
            ("day", np.int32), ("rule", np.int16), ("person_id", np.int64),
            ("slots", np.int64), ("wrongful", bool), ("association", bool),
            ("score", float))}
        e.update({g: np.zeros(0, np.int16) for g in s["exposure"]})
    rule = e["rule"].astype(np.int64)
    mask = e["slots"]
    # per event: slots in force that are related / unrelated to the sanction's context
    rel_bits = np.array([sum(1 << i for i, r in enumerate(t["related"]) if r)
                         for t in tracked] or [0], np.int64)
    all_bits = np.array([(1 << len(t["related"])) - 1 for t in tracked] or [0], np.int64)
    related = (mask & rel_bits[rule]) != 0 if rule.size else np.zeros(0, bool)
    unrelated = (mask & (all_bits[rule] & ~rel_bits[rule])) != 0 if rule.size else related
    has = mask != 0
    # gravity: the gravest slot in force (-1: none); weight: the sanction's
    gravity = np.full(rule.size, -1, np.int64)
    for j, t in enumerate(tracked):
        slots = s["slots"][t["basis"]]
        sel = rule == j
        for i, (_, _, g) in enumerate(slots):
            on = sel & ((mask >> i) & 1).astype(bool)
            gravity[on] = np.maximum(gravity[on], g)
    weight = np.array([t["weight"] for t in tracked] or [0], np.int64)[rule]
    sc["unrelated_context_share"] = _share(unrelated)
    sc["unrelated_context_only_share"] = _share(has & ~related)
    people = np.unique(e["person_id"])
    hit_unrelated = np.unique(e["person_id"][unrelated])
    sc["unrelated_context_people_share"] = (hit_unrelated.size / people.size
                                            if people.size else float("nan"))
    sc["no_own_record_share"] = _share(~has)
    sc["minor_only_share"] = _share(has & (gravity == 0))
    sc["disproportionate_share"] = _share(weight > gravity)
    sc["sanction_rate"] = rule.size / person_years * PER
    sc["wrongful_rate"] = int(e["wrongful"].sum()) / person_years * PER
    sc["association_rate"] = int(e["association"].sum()) / person_years * PER
    # redress
    days = ep["days"].astype(np.int64)
    closed = ~ep["censored"]
    wrong = ep["wrongful"] | ep["association"]
    observable = ep["start"].astype(np.int64) <= s["days"] - 365
    # followed for a year: closed, still going at the end, or held a year before the
    # person left (a leaver's episode under a year says nothing of the year after)
    known = observable & (closed | ~ep["left"] | (days >= 365))

    def median(sel):
        return float(np.median(days[sel])) if sel.any() else float("nan")

    sc["wrongful_days_to_go"] = median(wrong & closed)
    sc["wrongful_repaired_share"] = _share(ep["repaired"], wrong)
    sc["wrongful_still_after_year"] = _share(days >= 365, wrong & known)
    sc["all_days_to_go"] = median(closed)
    sc["all_still_after_year"] = _share(days >= 365, known)
    # what each number is of (a share's denominator, a rate's count), for its reader
    out["n"] = {
        "unrelated_context_share": rule.size, "unrelated_context_only_share": rule.size,
        "unrelated_context_people_share": people.size, "no_own_record_share": rule.size,
        "minor_only_share": rule.size, "disproportionate_share": rule.size,
        "sanction_rate": rule.size, "wrongful_rate": int(e["wrongful"].sum()),
        "association_rate": int(e["association"].sum()),
        "wrongful_days_to_go": int((wrong & closed).sum()),
        "wrongful_repaired_share": int(wrong.sum()),
        "wrongful_still_after_year": int((wrong & known).sum()),
        "all_days_to_go": int(closed.sum()), "all_still_after_year": int(known.sum())}
    sc["counts"] = {"sanctions": int(rule.size), "people_sanctioned": int(people.size),
                    "wrongful": int(e["wrongful"].sum()),
                    "association": int(e["association"].sum()),
                    "wrongful_episodes": int(wrong.sum()), "episodes": int(days.size),
                    "person_years": person_years}
    # by sanction
    for j, t in enumerate(tracked):
        sel = rule == j
        out["by_sanction"][t["name"]] = {
            "count": int(sel.sum()),
            "unrelated_context_share": _share(unrelated, sel),
            "minor_only_share": _share(has & (gravity == 0), sel),
            "disproportionate_share": _share(weight > gravity, sel)}
    # by group: rates per 100,000 person-years and each group's ratio to the rest
    for g, exposure in s["exposure"].items():
        years = np.asarray(exposure, float) / 365.25
        rows = {}
        for key, sel in (("sanction_rate", np.ones(rule.size, bool)),
                         ("wrongful_rate", e["wrongful"] | e["association"]),
                         ("unrelated_rate", unrelated)):
            counts = np.bincount(e[g][sel].astype(np.int64), minlength=years.size)[
                :years.size].astype(float)
            with np.errstate(invalid="ignore", divide="ignore"):
                rate = counts / years * PER
                rest = (counts.sum() - counts) / (years.sum() - years) * PER
                ratio = rate / rest
            rows[key] = {"rate": rate.tolist(), "ratio": ratio.tolist(),
                         "count": counts.tolist(), "years": years.tolist()}
        out["groups"][g] = rows
    # worst cases: the heaviest sanctions with the least grave behaviour behind them
    if rule.size:
        order = np.lexsort((e["day"], -weight, -(weight - gravity)))[:WORST]
        levels = s["levels"]
        for k in order:
            t = tracked[int(rule[k])]
            slots = s["slots"][t["basis"]]
            ledger = [{"kind": kind, "context": ctx, "gravity": levels[g],
                       "related": bool(t["related"][i])}
                      for i, (kind, ctx, g) in enumerate(slots) if (int(mask[k]) >> i) & 1]
            labels = s["labels"]
            out["worst"].append({
                "sanction": t["name"], "effect": t["effect"], "context": t["context"],
                "weight": levels[t["weight"]],
                "date": str(scenario.start + dt.timedelta(days=int(e["day"][k]))),
                "score": None if np.isnan(e["score"][k]) else round(float(e["score"][k]), 1),
                "wrongful": bool(e["wrongful"][k]), "association": bool(e["association"][k]),
                "ledger": ledger,
                "person": {g: labels[g][int(e[g][k])] for g in labels}})
    return out


# -------------------------------------------------------------------------- the card


def interval(values, unit: str, label: str, per: str | None = None) -> dict[str, Any]:
    """A measure's object: the mean over seeds and its 95% t-interval (None: none), cut
    to the measure's range (every measure here is at least 0, a share at most 1)."""
    x = np.asarray(values, float)
    ok = x[np.isfinite(x)]
    if ok.size == 0:
        mean = low = high = float("nan")
    else:
        mean, low, high = (float(v) for v in t_interval(ok))
        top = 1.0 if unit.startswith("share") else np.inf
        low, high = max(low, 0.0), min(high, top)
    return {"label": label, "value": _num(mean), "low": _num(low), "high": _num(high),
            "unit": unit, **({"per": per} if per else {}), "seeds": int(ok.size)}


def pooled_ratio(c1: float, c2: float, e1: float, e2: float) -> tuple[float, float]:
    """The exact 95% interval of the rate ratio (c1 / e1) / (c2 / e2) of counts pooled over
    seeds, conditional on their total (Clopper-Pearson on c1 of c1 + c2, turned into the
    ratio); (NaN, NaN) without exposure or counts. It treats events as independent, which
    repeated sanctions of one person are not: hence it is required beside, not instead of,
    the interval over seeds."""
    from scipy import stats

    n = c1 + c2
    if n <= 0 or e1 <= 0 or e2 <= 0:
        return float("nan"), float("nan")
    lo = stats.beta.ppf(0.025, c1, n - c1 + 1) if c1 > 0 else 0.0
    hi = stats.beta.ppf(0.975, c1 + 1, n - c1) if c1 < n else 1.0
    scale = e2 / e1
    with np.errstate(divide="ignore"):
        return (float(lo / (1 - lo) * scale),
                float(hi / (1 - hi) * scale) if hi < 1 else float("inf"))


def _num(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def impact(scenario: Scenario, baseline: Scenario, replicates: int = 4,
           people: int | None = None, days: int | None = None, first_seed: int = 0,
           workers: int | None = None, uncertainty: int = 0,
           base_dirs: tuple[Path | None, Path | None] = (None, None)) -> dict[str, Any]:
    """The impact card of ``scenario`` against ``baseline`` (a JSON-able dict; see the
    module's docstring and docs/impact.md)."""
    from scoresim.sim import resize

    check(scenario, baseline)
    if replicates < 1:
        raise ScenarioError(f"--replicates: expected at least 1, got {replicates}.")
    a, b = resize(baseline, people, days), tracking(resize(scenario, people, days))
    if a.start != b.start or a.days != b.days:
        raise ScenarioError(f"impact: the scenario and the baseline cover different days "
                            f"({b.start} + {b.days} vs {a.start} + {a.days}); give --days or "
                            "align them.")
    seeds = list(range(first_seed, first_seed + replicates))
    jobs = [(a, b, s, None, None, *base_dirs) for s in seeds]
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    results = run_replicates(jobs, n_workers, fn=impact_replicate)
    cmp = assemble(a, b, results, n_workers)
    card = build_card(b, a, results, cmp)
    if uncertainty:
        add_uncertainty(card, a, b, uncertainty, seeds, cmp, workers)
    return card


def build_card(b: Scenario, a: Scenario, results: list[dict], cmp) -> dict[str, Any]:
    per_seed = [r["impact"] for r in results]
    measures: dict[str, Any] = {}
    for key, (label, unit, per) in MEASURES.items():
        if key in CHILLING:
            row = cmp.effects[cmp.effects.outcome == CHILLING[key]].iloc[0]
            measures[key] = {"label": label, "value": _num(row.effect),
                             "low": _num(row.ci_low), "high": _num(row.ci_high),
                             "unit": unit, "seeds": int(row.replicates),
                             "baseline": _num(row.a_mean), "scenario": _num(row.b_mean)}
            continue
        measures[key] = interval([p["scalars"][key] for p in per_seed], unit, label, per)
        measures[key]["n"] = float(np.mean([p["n"][key] for p in per_seed]))
    tracked = results[0]["impact"]["by_sanction"]
    by_sanction = []
    for name in tracked:
        cfg = b.sanctions[name]
        from scoresim.declarations.contexts import EFFECT_CONTEXT

        row = {"sanction": name, "effect": cfg.effect,
               "context": cfg.context or EFFECT_CONTEXT[cfg.effect],
               "weight": b.impact.weight[cfg.effect]}
        row["count"] = interval([p["by_sanction"][name]["count"] for p in per_seed],
                                "sanctions", "sanctions in the run")
        for k in ("unrelated_context_share", "minor_only_share", "disproportionate_share"):
            row[k] = interval([p["by_sanction"][name][k] for p in per_seed],
                              "share of sanctions", MEASURES[k][0])
        by_sanction.append(row)
    from scoresim.model.impact import group_labels

    labels = group_labels(b)
    by_group = []
    for g, names in labels.items():
        for key, what in GROUP_MEASURES.items():
            for c, name in enumerate(names):
                if g == "critic" and name == "others":
                    continue  # (the mirror of critics against the rest: one ratio)
                rate = [p["groups"][g][key]["rate"][c] for p in per_seed]
                ratio = [p["groups"][g][key]["ratio"][c] for p in per_seed]
                r = interval(ratio, "ratio to everyone else", f"{what}: {name} against the "
                             "rest")
                count = sum(p["groups"][g][key]["count"][c] for p in per_seed)
                total = sum(sum(p["groups"][g][key]["count"]) for p in per_seed)
                years = sum(p["groups"][g][key]["years"][c] for p in per_seed)
                all_years = sum(sum(p["groups"][g][key]["years"]) for p in per_seed)
                pooled = pooled_ratio(count, total - count, years, all_years - years)
                disparity = (len(per_seed) >= MIN_SEEDS_FOR_DISPARITY
                             and r["low"] is not None and r["high"] is not None
                             and (r["low"] > 1 or r["high"] < 1)
                             and (pooled[0] > 1 or pooled[1] < 1))
                by_group.append({
                    "group": g, "name": name, "measure": key,
                    "rate": interval(rate, what, f"{what}: {name}", "100,000 people a year"),
                    "ratio": r, "disparity": bool(disparity),
                    "count": float(count / len(per_seed)),
                    "ratio_pooled_low": _num(pooled[0]),
                    "ratio_pooled_high": _num(pooled[1])})
    counts = {k: float(np.mean([p["scalars"]["counts"][k] for p in per_seed]))
              for k in per_seed[0]["scalars"]["counts"]}
    return {
        "schema": "scoresim.impact/1",
        "scenario": b.name, "baseline": a.name, "seeds": [r["seed"] for r in results],
        "people": b.people.count, "start": str(b.start), "end": str(b.end),
        "days": b.days, "measures": measures, "by_sanction": by_sanction,
        "by_group": by_group, "worst_cases": results[0]["impact"]["worst"],
        "counts": counts, "assumptions": assumptions(b), "uncertainty": None,
        "drivers": [],
    }


def assumptions(sc: Scenario) -> dict[str, Any]:
    """The declared contexts and gravity the card rests on, with where each comes from."""
    from scoresim.declarations.contexts import EFFECT_CONTEXT, KIND_CONTEXT
    from scoresim.declarations.sanctions import SANCTION_EFFECTS

    imp = sc.impact
    kinds = sorted({r.kind for s in sc.schemes.values() for r in s.rules if r.points < 0}
                   | ({"court_listing"} if any(s.blacklisted for s in sc.sanctions.values())
                      else set()))
    return {
        "gravity_levels": list(imp.gravity_levels),
        "gravity": {k: imp.gravity[k] for k in kinds},
        "weight": {n: imp.weight[s.effect] for n, s in sc.sanctions.items()
                   if s.effect in SANCTION_EFFECTS},
        "related": {k: list(v) for k, v in imp.related.items()},
        "source_context": {n: s.context or sorted({KIND_CONTEXT[k] for k in s.kinds})
                           for n, s in sc.sources.items()},
        "sanction_context": {n: s.context or EFFECT_CONTEXT[s.effect]
                             for n, s in sc.sanctions.items()
                             if s.effect in SANCTION_EFFECTS},
        "provenance": "assumptions of this project (src/scoresim/scenario/provenance.toml: "
                      "impact.gravity.*, impact.weight.*, impact.related.*), docs/impact.md",
    }


def add_uncertainty(card: dict, a: Scenario, b: Scenario, n: int, seeds: list[int], cmp,
                    workers: int | None) -> None:
    """Every measure's range over ``n`` parameter sets (Latin hypercube over the
    assumptions) times the seeds, and what drives the chilling effect."""

    from scoresim.experiments.uncertainty import (
        by_group,
        draws,
        effect_rows,
        integer_keys,
        ranges_of,
        run_sets,
        sensitivity,
    )

    ranges, group = ranges_of(a, b)
    values = draws(ranges, n, b.seed, integer_keys(a, b))
    results = run_sets(a, b, values, seeds, workers, fn=impact_replicate, prepare_b=tracking)
    runs = effect_rows(results, seeds)
    for key, m in card["measures"].items():
        if key in CHILLING:
            x = runs[runs.outcome == CHILLING[key]].effect.to_numpy(float)
        else:
            x = np.array([r["impact"]["scalars"][key] for r in results], float)
        x = x[np.isfinite(x)]
        m["low_assumptions"] = _num(float(np.quantile(x, 0.025))) if x.size else None
        m["high_assumptions"] = _num(float(np.quantile(x, 0.975))) if x.size else None
    table = by_group(sensitivity(values, runs, group, seed=b.seed))
    card["drivers"] = [
        {"outcome": row.outcome, "group": row.group, "S1": float(row.S1)}
        for row in table.itertuples() if row.outcome in CHILLING.values()]
    card["uncertainty"] = {"parameter_sets": n, "runs": len(results),
                           "assumptions": sorted(ranges),
                           "method": "Latin hypercube over the assumptions' ranges "
                                     "(docs/parameters.md); ranges are 2.5%-97.5% "
                                     "quantiles over parameter sets times seeds; drivers: "
                                     "RBD-FAST first-order indices clear of their noise, "
                                     "summed per group"}
