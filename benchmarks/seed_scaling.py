"""Benchmark: the `seed` preset at several population sizes.

Each size runs in a fresh process so that its peak resident memory is its own. Prints wall
time, person-days per second, peak RSS and bytes per person, then where the time of the
largest run went (the parts of a step, ``Sim.phase_seconds``). Compiled code is loaded by a
tiny run first (as it is once per installation), so the figures are of the simulation.

    .venv/bin/python benchmarks/seed_scaling.py                      # 10^4, 10^5 for 365 days
    .venv/bin/python benchmarks/seed_scaling.py --people 100000 --days 730
    .venv/bin/python benchmarks/seed_scaling.py --people 1000000 --set start=2020-06-01
        # (the mandatory phase: everyone enrolled, every sanction rule in force)
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def one(people: int, days: int, scenario: str, sets: list[str]) -> dict:
    import tomllib

    from scoresim import Sim, load_scenario

    overrides = {}
    for item in sets:
        key, _, text = item.partition("=")
        try:
            overrides[key] = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            overrides[key] = text
    sc = load_scenario(scenario, overrides or None)
    Sim(sc, seed=0, people=300, days=3).run()  # loads the compiled kernels
    t0 = time.perf_counter()
    sim = Sim(sc, seed=0, people=people, days=days)
    t1 = time.perf_counter()
    sim.run()
    t2 = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"scenario": scenario + "".join(f" {s}" for s in sets), "people": people,
            "days": days, "init_s": t1 - t0,
            "run_s": t2 - t1, "person_days_per_s": people * days / (t2 - t1),
            "peak_rss_mib": peak_kib / 1024, "bytes_per_person": peak_kib * 1024 / people,
            "parts": {k: v / (t2 - t1) for k, v in sim.phase_seconds.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--scenario", default="seed")
    ap.add_argument("--set", dest="sets", action="append", default=[],
                    help="override a scenario key, e.g. --set start=2020-06-01")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.people[0], args.days, args.scenario, args.sets)))
        return
    print(f"{'scenario':28s} {'people':>11s} {'days':>5s} {'init s':>7s} {'run s':>8s} "
          f"{'person-days/s':>14s} {'peak MiB':>9s} {'B/person':>9s}")
    r = None
    for n in args.people:
        out = subprocess.run(
            [sys.executable, __file__, "--one", "--people", str(n), "--days", str(args.days),
             "--scenario", args.scenario, *[f"--set={s}" for s in args.sets]],
            capture_output=True, text=True, check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['scenario']:28s} {r['people']:>11,d} {r['days']:>5d} {r['init_s']:>7.2f} "
              f"{r['run_s']:>8.1f} {r['person_days_per_s']:>14,.0f} {r['peak_rss_mib']:>9.0f} "
              f"{r['bytes_per_person']:>9.0f}", flush=True)
    if r is not None:
        parts = sorted(r["parts"].items(), key=lambda kv: -kv[1])
        print(f"share of the step at {r['people']:,d} people: "
              + ", ".join(f"{k} {v:.0%}" for k, v in parts))


if __name__ == "__main__":
    main()
