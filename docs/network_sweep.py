"""The unfriending-strength sweep of docs/network.md, and its figure.

    .venv/bin/python docs/network_sweep.py [--people 2000] [--years 5] [--seeds 2]
        [--workers 2] [--out docs/network-sweep.png]

Runs the ``seed`` preset at each unfriending strength (``adaptation.unfriend_probability``)
on a few seeds (common random numbers: the runs of one seed differ only in that key) and
prints, per strength, the mean degree at each year's end and, at the end, the critics'
degree ratio and the share of critics without friends; draws them in one figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
from concurrent.futures import ProcessPoolExecutor

import numpy as np

STRENGTHS = (0.0, 0.02, 0.05, 0.1)  # 0.02: the default


def point(args: tuple[float, int, int, int]) -> dict:
    """One run: (strength, seed, people, years) -> its yearly mean degree and final
    isolation outcomes."""
    from scoresim import Sim, load_scenario

    strength, seed, people, years = args
    sc = load_scenario("seed", {"adaptation.unfriend_probability": strength})
    end = sc.start.replace(year=sc.start.year + years) - dt.timedelta(days=1)
    res = Sim(sc.model_copy(update={"end": end}), seed=seed, people=people).run()
    md = res.column("mean_degree")
    return {"strength": strength, "seed": seed,
            "mean_degree": [float(md[0])] + [float(x) for x in md[364::365][:years]],
            "critic_degree_ratio": float(res.final("critic_degree_ratio")),
            "isolated_critics": float(res.final("isolated_critics")),
            "unfriended_per_year": float(np.nansum(res.column("ties_unfriended")) / years),
            "ties": float(md[-1]) * people / 2}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=2000)
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default="docs/network-sweep.png")
    a = ap.parse_args()
    jobs = [(s, seed, a.people, a.years) for s in STRENGTHS for seed in range(a.seeds)]
    with ProcessPoolExecutor(a.workers) as pool:
        rows = list(pool.map(point, jobs))

    print("| unfriend_probability | mean degree, year by year (mean of seeds) | "
          "critics' degree ratio | critics without friends | unfriended per year |")
    print("|---|---|---|---|---|")
    for s in STRENGTHS:
        mine = [r for r in rows if r["strength"] == s]
        md = np.mean([r["mean_degree"] for r in mine], axis=0)
        cells = ", ".join(f"{x:.2f}" for x in md)
        ratio = np.mean([r["critic_degree_ratio"] for r in mine])
        iso = np.mean([r["isolated_critics"] for r in mine])
        unf = np.mean([r["unfriended_per_year"] for r in mine])
        print(f"| {s:g} | {cells} | {ratio:.3f} | {iso:.4f} | {unf:.0f} |")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(12, 3.6))
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(STRENGTHS)))
    for s, c in zip(STRENGTHS, colours, strict=True):
        for r in (r for r in rows if r["strength"] == s):
            ax[0].plot(range(len(r["mean_degree"])), r["mean_degree"], color=c,
                       label=f"{s:g}" if r["seed"] == 0 else None)
            ax[1].scatter(s, r["critic_degree_ratio"], color=c)
            ax[2].scatter(s, 100 * r["isolated_critics"], color=c)
    ax[0].set(xlabel="years from start", ylabel="mean degree (friends)",
              title="mean degree")
    ax[0].legend(title="unfriend_probability", fontsize=8)
    ax[1].set(xlabel="unfriend_probability", ylabel="critics' / others' mean degree",
              title=f"critics' degree ratio, year {a.years}")
    ax[2].set(xlabel="unfriend_probability", ylabel="% of critics",
              title=f"critics without friends, year {a.years}")
    fig.suptitle(f"seed preset, {a.people:,} people, seeds 0-{a.seeds - 1}", fontsize=10)
    fig.tight_layout()
    fig.savefig(a.out, dpi=110)
    print(f"figure: {a.out}")


if __name__ == "__main__":
    main()
