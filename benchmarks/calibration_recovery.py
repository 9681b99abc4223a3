"""Recovery of known parameters by ``scoresim calibrate`` (the larger form of the suite's
test): targets made by the model itself at known values, then fitted.

    .venv/bin/python benchmarks/calibration_recovery.py [--people 2000] [--days 90]
        [--trials 40] [--replicates 2] [--workers 1]

Three behaviour rates of ``baseline`` are fitted to three outcome columns (each target's
uncertainty 2% of its value). Prints each true value, the fitted one, the relative error,
the range over the trials within the stated log-likelihood of the best, and the wall time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from scoresim.experiments import calibration as cal
from scoresim.experiments.calibration_outputs import uncertainty

TRUTH = {
    "behaviour.rates_per_day.critical_statement": ("critical_statements", 0.05),
    "behaviour.rates_per_day.supportive_statement": ("supportive_statements", 0.12),
    "behaviour.rates_per_day.bill_default": ("records_debtor_db", 0.02),
}


def calibration_file(folder: Path, people: int, days: int, trials: int, replicates: int,
                     observed: dict[str, float] | None) -> Path:
    lines = [f'base = "baseline"\npeople = {people}\ndays = {days}\ntrials = {trials}\n',
             f"[replicates]\ncount = {replicates}\nfirst_seed = 11\n",
             "[sampler]\nseed = 0\nstartup_trials = 8\n"]
    for key, (_, value) in TRUTH.items():
        lines.append(f'[[parameters]]\nkey = "{key}"\nlow = {value / 4}\nhigh = {value * 4}\n'
                     "log = true\n")
    for key, (column, _) in TRUTH.items():
        obs = 1.0 if observed is None else observed[key]
        lines.append(f'[[targets]]\ncolumn = "{column}"\nstatistic = "mean"\n'
                     f"observed = {obs!r}\nuncertainty = {0.02 * obs!r}\n")
    path = folder / "recovery.toml"
    path.write_text("\n".join(lines))
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=2000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--replicates", type=int, default=2)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = calibration_file(folder, args.people, args.days, args.trials, args.replicates,
                                None)
        calib = cal.Calibration.load(path)
        truth = {key: value for key, (_, value) in TRUTH.items()}
        rows = np.array([cal.run_replicate(calib, truth, s) for s in calib.seeds()])
        observed = dict(zip(TRUTH, rows.mean(axis=0).tolist(), strict=True))
        path = calibration_file(folder, args.people, args.days, args.trials, args.replicates,
                                observed)
        calib = cal.Calibration.load(path)
        t0 = time.perf_counter()
        report = cal.calibrate(calib, folder / "out", workers=args.workers)
        seconds = time.perf_counter() - t0
        import optuna

        study = optuna.load_study(study_name=cal.STUDY_NAME,
                                  storage=f"sqlite:///{folder / 'out' / 'study.db'}")
        spread = uncertainty(calib, study)
    print(f"{args.trials} trials x {args.replicates} replicates, {args.people} people x "
          f"{args.days} days, {args.workers} worker(s): {seconds:.1f} s "
          f"({report.complete} complete, {report.pruned} pruned, {report.failed} failed)")
    print(f"{'parameter':<48} {'true':>9} {'fitted':>9} {'error':>7}  near-best range")
    for key, value in truth.items():
        best, lo, hi = spread[key]
        print(f"{key:<48} {value:>9.4g} {best:>9.4g} {best / value - 1:>+7.1%}  "
              f"{lo:.4g} .. {hi:.4g}")
    for line in report.convergence.lines():
        print(line)


if __name__ == "__main__":
    main()
