"""What a calibration's study says: its best trial, its counts of trials and whether the
search has settled. Read by :func:`scoresim.experiments.calibration.calibrate` and by the
files it leaves (:mod:`scoresim.experiments.calibration_outputs`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scoresim.experiments.calibration import Calibration


@dataclass
class Convergence:
    """How settled a study is, for the report (:func:`convergence`)."""

    complete: int
    window: int
    gain: float | None
    """The best log-likelihood's rise over the last ``window`` complete trials (None: fewer
    than ``window`` + 1 complete trials, nothing to compare)."""
    settled: bool
    near_best: int
    """Complete trials within ``near_best`` of the best (the best included)."""
    resolved: bool
    """Whether the near-best trials can span the fitted parameters: at least one more than
    there are parameters. With fewer, their range is a lower bound of the uncertainty."""

    def lines(self) -> list[str]:
        """Plain sentences for the command line and the report."""
        if self.gain is None:
            out = [f"not settled: {self.complete} complete trials, fewer than the window of "
                   f"{self.window} + 1 needed to judge convergence; run more trials."]
        elif self.settled:
            out = [f"settled: the best log-likelihood rose {self.gain:.3g} over the last "
                   f"{self.window} complete trials."]
        else:
            out = [f"not settled: the best log-likelihood rose {self.gain:.3g} over the last "
                   f"{self.window} complete trials; more trials may still move the fit."]
        if not self.resolved:
            out.append(f"uncertainty not resolved: only {self.near_best} complete trial(s) lie "
                       "within near_best of the best, fewer than the parameters + 1; the "
                       "ranges are lower bounds (run more trials, or sample closer to the best).")
        return out


def convergence(calib: Calibration, study) -> Convergence:
    """The best log-likelihood's rise over the last ``convergence.window`` complete trials,
    and whether enough trials lie near the best to span the parameters."""
    from optuna.trial import TrialState

    cfg = calib.config.convergence
    done = sorted((t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                   if t.value is not None and t.value > -1e299), key=lambda t: t.number)
    gain = None
    if len(done) > cfg.window:
        before = max(t.value for t in done[:-cfg.window])
        gain = max(0.0, max(t.value for t in done) - before)
    near = 0
    if done:
        best = max(t.value for t in done)
        near = sum(t.value >= best - calib.config.near_best for t in done)
    return Convergence(len(done), cfg.window, gain, gain is not None and gain <= cfg.gain,
                       near, near >= len(calib.config.parameters) + 1)


@dataclass
class CalibrationReport:
    trials: int
    complete: int
    pruned: int
    failed: int
    best_value: float | None
    best_params: dict[str, Any]
    outputs: list[Path]
    convergence: Convergence | None = None


def summary(study, outputs: list[Path]) -> CalibrationReport:
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    count = {s: sum(t.state == s for t in trials)
             for s in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)}
    best = best_trial(study)
    return CalibrationReport(len(trials), count[TrialState.COMPLETE], count[TrialState.PRUNED],
                             count[TrialState.FAIL], None if best is None else best.value,
                             {} if best is None else dict(best.params), outputs)


def best_trial(study):
    """The complete trial of highest log-likelihood, or None."""
    from optuna.trial import TrialState

    done = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.value is not None and t.value > -1e299]
    return max(done, key=lambda t: t.value) if done else None
