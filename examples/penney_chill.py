"""A worked calibration: the conversion of points and sanctions into perceived severity,
fitted to a published chilling effect (Penney 2016). docs/penney-calibration.md explains it.

    PYTHONPATH=src python examples/penney_chill.py                  # 400 people, 4 seeds
    PYTHONPATH=src python examples/penney_chill.py --people 300 --seeds 2 --out runs/penney

**The outside number.** Penney (2016, "Chilling Effects: Online Surveillance and Wikipedia
Use", Berkeley Technology Law Journal 31(1): 117) counted monthly views of 48 Wikipedia
articles on topics the US Department of Homeland Security says it monitors, before and
after the NSA/PRISM revelations of June 2013: an immediate fall and a lasting change of
trend. Reported figures (the paper's own tables were not read here; Reuters, 27 April 2016,
and the paper's abstract): views rose to about 3.0 million a month just before June 2013,
fell to about 2.2 million within two months and were still below 2.5 million 14 months
later; "about 20%" fewer views is the figure commonly quoted. The target here: a lasting
chill of 20%, with the band 15% (2.5 of 3.0 million, 14 months on) to 30% ("nearly 30%",
Reuters; 2.2 of 3.0 million at once).

**The transfer (an assumption).** The revelation that reading is watched stands for the
announcement that statements are scored: at the start of `seed`'s mandatory phase
(2020-01-01) everyone is scored and knows a share of the rules at once; the chill is the
relative fall of critical statements per day against the same people, on the same seeds
(common random numbers), who say what they think (`adaptation.self_censorship = "none"`).
Reading an article and making a statement are different acts, and Americans in 2013 are
not the people of `seed`: the fitted range holds only as far as this transfer does.

**What is fitted.** One multiplier ``m`` of the conversion from points and sanctions into
perceived severity, ``adaptation.severity_per_point`` and ``adaptation.severity_per_sanction``
together (their ratio kept), every other value at the preset's. For each ``m`` of a grid and
each seed, the chill over 2020; per seed, the ``m`` at which the chill crosses 15%, 20% and
30% (linear in log ``m`` between grid points); the fitted range is the band's crossings,
and the seeds' spread of the 20% crossing is given beside it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

TARGET, BAND = 0.20, (0.15, 0.30)
GRID = (0.5, 1.0, 2.0, 3.0, 4.0, 6.0)
START, END = dt.date(2020, 1, 1), dt.date(2020, 12, 31)  # seed's mandatory phase, year one
KEYS = ("adaptation.severity_per_point", "adaptation.severity_per_sanction")
EARLY_DAYS, LATE_DAYS = 61, 122  # the first two months; the last four


def setting(m: float | None, preset: str = "seed", days: int | None = None):
    """The scenario of the announcement: ``preset`` from ``START`` (``days`` long, else to
    ``END``) with the conversion to perceived severity times ``m``; ``m`` None: nobody
    censors themselves (the counterfactual)."""
    from scoresim import load_scenario

    base = load_scenario(preset)
    end = END if days is None else START + dt.timedelta(days=days - 1)
    over: dict = {"start": START, "end": end}
    if m is None:
        over["adaptation.self_censorship"] = "none"
    else:
        ad = base.adaptation
        over[KEYS[0]] = ad.severity_per_point * m
        over[KEYS[1]] = ad.severity_per_sanction * m
    return load_scenario(preset, over)


def critical_per_day(job: tuple) -> tuple:
    """(m, seed, critical statements per day): one run (a top-level function for workers)."""
    from scoresim import Sim

    m, seed, people, preset, days = job
    sc = setting(m, preset, days)
    res = Sim(sc, seed=seed, people=people, days=sc.days).run()
    return m, seed, res.column("critical_statements").astype(float)


def chill(free: np.ndarray, scored: np.ndarray, days: slice = slice(None)) -> float:
    """The relative fall of critical statements: ``1 - scored / free`` over ``days``."""
    f = float(free[days].sum())
    return 1.0 - float(scored[days].sum()) / f if f > 0 else math.nan


def crossing(ms, chills, target: float) -> float:
    """The ``m`` at which the chill first reaches ``target``, linear in log ``m`` between
    the grid's points (``ms`` ascending); NaN where the grid does not bracket it."""
    ms, chills = np.asarray(ms, float), np.asarray(chills, float)
    for i in range(len(ms) - 1):
        lo, hi = chills[i], chills[i + 1]
        if lo <= target <= hi and hi > lo:
            w = (target - lo) / (hi - lo)
            return float(np.exp((1 - w) * np.log(ms[i]) + w * np.log(ms[i + 1])))
    return math.nan


def t_interval(x) -> tuple[float, float, float]:
    from scipy import stats

    x = np.asarray([v for v in x if math.isfinite(v)], float)
    if len(x) < 2:
        return (float(x.mean()) if len(x) else math.nan), math.nan, math.nan
    half = float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))
    return float(x.mean()), float(x.mean()) - half, float(x.mean()) + half


def calibrate(people: int = 400, seeds: int = 4, grid=GRID, preset: str = "seed",
              days: int | None = None, workers: int = 1) -> dict:
    """Every run of the grid and the fit (see the module's docstring)."""
    jobs = [(m, s, people, preset, days) for s in range(seeds) for m in (None, *grid)]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            runs = list(pool.map(critical_per_day, jobs))
    else:
        runs = [critical_per_day(j) for j in jobs]
    series = {(m, s): x for m, s, x in runs}
    n_days = len(series[(None, 0)])
    late = slice(max(0, n_days - LATE_DAYS), None)
    rows = []
    for s in range(seeds):
        free = series[(None, s)]
        for m in grid:
            x = series[(m, s)]
            rows.append({"seed": s, "m": m, "free": float(free.mean()),
                         "scored": float(x.mean()), "chill": chill(free, x),
                         "chill_early": chill(free, x, slice(0, EARLY_DAYS)),
                         "chill_late": chill(free, x, late)})
    fits = []
    for s in range(seeds):
        c = [r["chill"] for r in rows if r["seed"] == s]
        fits.append({"seed": s, **{f"m_{round(100 * t)}": crossing(grid, c, t)
                                   for t in (BAND[0], TARGET, BAND[1])}})
    return {"rows": rows, "fits": fits, "people": people, "seeds": seeds, "grid": list(grid),
            "preset": preset, "days": n_days}


def summary(result: dict) -> str:
    """The fit as markdown: the chill at each m (mean over seeds), each seed's crossings,
    and the fitted range of m and of the two keys."""
    from scoresim import load_scenario

    ad = load_scenario(result["preset"]).adaptation
    rows, fits, grid = result["rows"], result["fits"], result["grid"]
    L = [f"`{result['preset']}` from {START} for {result['days']} days, "
         f"{result['people']:,} people, seeds 0-{result['seeds'] - 1}.", "",
         "| m | severity_per_point | severity_per_sanction | chill, the year (95%) "
         "| first two months | last four months |", "|---|---|---|---|---|---|"]
    for m in grid:
        at = [r for r in rows if r["m"] == m]
        y = t_interval([r["chill"] for r in at])
        early = np.mean([r["chill_early"] for r in at])
        late = np.mean([r["chill_late"] for r in at])
        L.append(f"| {m:g} | {ad.severity_per_point * m:.3g} | "
                 f"{ad.severity_per_sanction * m:.3g} | {100 * y[0]:.1f}% "
                 f"[{100 * y[1]:.1f}, {100 * y[2]:.1f}] | {100 * early:.1f}% | "
                 f"{100 * late:.1f}% |")
    lo, mid, hi = (t_interval([f[f"m_{round(100 * t)}"] for f in fits])
                   for t in (BAND[0], TARGET, BAND[1]))
    L += ["", "| seed | m at 15% | m at 20% | m at 30% |", "|---|---|---|---|"]
    L += [f"| {f['seed']} | {f['m_15']:.2f} | {f['m_20']:.2f} | {f['m_30']:.2f} |"
          for f in fits]
    L += ["", f"**Fitted range** (the band's crossings, means over seeds): m from "
          f"{lo[0]:.2f} to {hi[0]:.2f}, i.e. `severity_per_point` "
          f"{ad.severity_per_point * lo[0]:.3g} to {ad.severity_per_point * hi[0]:.3g} and "
          f"`severity_per_sanction` {ad.severity_per_sanction * lo[0]:.3g} to "
          f"{ad.severity_per_sanction * hi[0]:.3g}; at the central 20%, m = {mid[0]:.2f} "
          f"(seeds' 95% interval {mid[1]:.2f} to {mid[2]:.2f}). The preset is m = 1."]
    return "\n".join(L)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=400)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None,
                        help="a folder for penney.md and penney.csv")
    args = parser.parse_args(argv)
    result = calibrate(args.people, args.seeds, workers=args.workers)
    text = summary(result)
    print(text)
    if args.out is not None:
        import pandas as pd

        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "penney.md").write_text(text + "\n", encoding="utf-8")
        pd.DataFrame(result["rows"]).to_csv(args.out / "penney.csv", index=False)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    main()
