"""Benchmark: the `seed` preset at several population sizes, as a user runs it and as the
engine alone runs it.

For each size, in fresh processes (so that each peak resident memory is its own, taken
with ``os.wait4`` from the kernel's accounting of that child):

- **user path**: ``scoresim run SCENARIO --people N --days D --out DIR`` with the outputs
  of the scenario on (people and network tables, figures, report), timed in its parts:
  setup (society and network), simulation, writing the run folder (tables, figures,
  checksums, report);
- **report**: ``scoresim report DIR`` on the folder just written;
- **engine**: ``Sim(...).run()`` with no run folder (the figure the README used to quote).

Compiled code is loaded by a tiny run first (as it is once per installation).

    .venv/bin/python benchmarks/seed_scaling.py --sizes 1e5,1e6 --days 30
    .venv/bin/python benchmarks/seed_scaling.py --sizes 1e7 --days 30 --markdown
    .venv/bin/python benchmarks/seed_scaling.py --sizes 1e8 --days 30 --force --paths user
        # (10^8: --force skips the memory estimate; run it on a quiet machine)
    .venv/bin/python benchmarks/seed_scaling.py --sizes 1e6 --set start=2020-06-01
        # (the mandatory phase: everyone enrolled, every sanction rule in force)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PATHS = ("user", "report", "engine")


def _sets(items: list[str]) -> dict:
    import tomllib

    out = {}
    for item in items:
        key, _, text = item.partition("=")
        try:
            out[key] = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            out[key] = text
    return out


# ------------------------------------------------------------------ in the child process


def child_user(people: int, days: int, scenario: str, sets: list[str], out: str,
               force: bool) -> dict:
    """``scoresim run`` as the command line runs it, with the run folder's writing timed."""
    from scoresim import cli
    from scoresim.results.run_folder import Results

    timing: dict[str, float] = {}
    save = Results.save

    def timed_save(self, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return save(self, *args, **kwargs)
        finally:
            timing["write_s"] = time.perf_counter() - t0

    Results.save = timed_save
    argv = ["run", scenario, "--people", str(people), "--days", str(days), "--out", out,
            "--quiet", *[f"--set={s}" for s in sets], *(["--force"] if force else [])]
    t0 = time.perf_counter()
    try:
        cli.main(argv)
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    wall = time.perf_counter() - t0
    meta = json.loads((Path(out) / "metadata.json").read_text())
    return {"setup_s": meta["timings"]["init_s"], "sim_s": meta["timings"]["run_s"],
            "write_s": timing.get("write_s", float("nan")), "wall_s": wall,
            "folder_mb": sum(p.stat().st_size for p in Path(out).iterdir()) / 1e6}


def child_report(out: str) -> dict:
    from scoresim import cli

    t0 = time.perf_counter()
    try:
        cli.main(["report", out])
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    return {"write_s": time.perf_counter() - t0, "wall_s": time.perf_counter() - t0}


def child_engine(people: int, days: int, scenario: str, sets: list[str]) -> dict:
    from scoresim import Sim, load_scenario

    sc = load_scenario(scenario, _sets(sets) or None)
    t0 = time.perf_counter()
    sim = Sim(sc, seed=0, people=people, days=days)
    t1 = time.perf_counter()
    sim.run()
    t2 = time.perf_counter()
    return {"setup_s": t1 - t0, "sim_s": t2 - t1, "wall_s": t2 - t0,
            "parts": {k: v / (t2 - t1) for k, v in sim.phase_seconds.items()}}


# ---------------------------------------------------------------------- in the parent


def measure(args: list[str]) -> dict:
    """Run this script as a child with ``args``; its JSON answer and its peak RSS."""
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE,
                            text=True)
    stdout = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"child {' '.join(args)} failed with status {proc.returncode}")
    row = json.loads(stdout.strip().splitlines()[-1])
    row["peak_mib"] = usage.ru_maxrss / 1024  # (KiB on Linux)
    return row


def size(text: str) -> int:
    return int(float(text))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1e4,1e5",
                    help="comma-separated populations, e.g. 1e5,1e6,1e7")
    ap.add_argument("--people", type=int, nargs="+", default=None,
                    help="populations (the older spelling of --sizes)")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--scenario", default="seed")
    ap.add_argument("--set", dest="sets", action="append", default=[],
                    help="override a scenario key, e.g. --set start=2020-06-01")
    ap.add_argument("--paths", default=",".join(PATHS),
                    help="which of user, report, engine to measure (comma-separated)")
    ap.add_argument("--force", action="store_true",
                    help="pass --force to scoresim run (skip the memory estimate)")
    ap.add_argument("--keep", type=Path, default=None,
                    help="keep the run folders under this folder (default: removed)")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    ap.add_argument("--json", type=Path, default=None, help="also write the rows as JSON")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "user":
            row = child_user(int(rest[0]), args.days, args.scenario, args.sets, rest[1],
                             args.force)
        elif kind == "report":
            row = child_report(rest[0])
        else:
            row = child_engine(int(rest[0]), args.days, args.scenario, args.sets)
        print(json.dumps(row))
        return

    sizes = args.people or [size(s) for s in args.sizes.split(",") if s.strip()]
    paths = [p for p in args.paths.split(",") if p]
    common = ["--days", str(args.days), "--scenario", args.scenario,
              *[f"--set={s}" for s in args.sets], *(["--force"] if args.force else [])]
    root = Path(tempfile.mkdtemp(prefix="scoresim-bench-", dir=args.keep))
    # (compiled code loaded and cached once, as after installing)
    measure(["--child", "user", "300", str(root / "warm"), "--days", "3"])
    rows = []
    head = (f"{'path':7s} {'people':>11s} {'days':>5s} {'setup s':>8s} {'sim s':>8s} "
            f"{'s/day':>7s} {'write s':>8s} {'wall s':>8s} {'peak MiB':>9s} {'B/person':>9s}")
    if not args.markdown:
        print(head, flush=True)
    for n in sizes:
        out = root / f"run-{n}"
        for path in paths:
            if path == "user":
                row = measure(["--child", "user", str(n), str(out), *common])
            elif path == "report":
                if not out.is_dir():
                    continue
                row = measure(["--child", "report", str(out), *common])
            else:
                row = measure(["--child", "engine", str(n), *common])
            row.update(path=path, people=n, days=args.days,
                       bytes_per_person=row["peak_mib"] * 2**20 / n)
            rows.append(row)
            if not args.markdown:
                print(_line(row), flush=True)
        if args.keep is None:
            shutil.rmtree(out, ignore_errors=True)
    if args.keep is None:
        shutil.rmtree(root, ignore_errors=True)
    if args.markdown:
        print("| path | people | days | setup s | simulation s | s/day | writing s | wall s | "
              "peak MiB | bytes/person |")
        print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        for r in rows:
            print(f"| {r['path']} | {r['people']:,} | {r['days']} | {_f(r, 'setup_s')} | "
                  f"{_f(r, 'sim_s')} | {_f(r, 'sim_s', r['days'])} | {_f(r, 'write_s')} | "
                  f"{r['wall_s']:.1f} | {r['peak_mib']:,.0f} | {r['bytes_per_person']:,.0f} |")
    engine = [r for r in rows if r["path"] == "engine"]
    if engine:
        parts = sorted(engine[-1]["parts"].items(), key=lambda kv: -kv[1])
        print(f"share of the step at {engine[-1]['people']:,d} people (engine): "
              + ", ".join(f"{k} {v:.0%}" for k, v in parts))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


def _f(row: dict, key: str, per: int = 1) -> str:
    return f"{row[key] / per:.2f}" if key in row else "-"


def _line(r: dict) -> str:
    return (f"{r['path']:7s} {r['people']:>11,d} {r['days']:>5d} {_f(r, 'setup_s'):>8s} "
            f"{_f(r, 'sim_s'):>8s} {_f(r, 'sim_s', r['days']):>7s} {_f(r, 'write_s'):>8s} "
            f"{r['wall_s']:>8.1f} {r['peak_mib']:>9,.0f} {r['bytes_per_person']:>9,.0f}")


if __name__ == "__main__":
    main()
