"""The gallery's pieces: a check (published beside measured, with a tolerance), a case (a
published result reproduced with the model's own functions) and the report."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Check:
    """One number: what the source publishes, what the model gives, the tolerance stated
    beforehand, and whether the measured number lies within it."""

    quantity: str
    published: str
    measured: str
    tolerance: str
    passed: bool


@dataclasses.dataclass
class Outcome:
    """What one case gave: its checks, its figure (a PNG, when asked for) and notes."""

    case: Case
    checks: list[Check]
    figure: Path | None = None
    notes: list[str] = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)


@dataclasses.dataclass(frozen=True)
class Case:
    """A published result and how the gallery reproduces it.

    ``run(quick, figure, **inputs)`` returns ``(checks, notes)`` and, where ``figure`` is a
    path, draws the case's figure there. ``wrong`` are inputs that break the model on
    purpose (the test suite checks that the case then fails, so that it can fail)."""

    name: str
    title: str
    source: str
    claim: str
    method: str
    run: Callable[..., tuple[list[Check], list[str]]]
    wrong: dict


def within(measured: float, published: float, tol: float) -> bool:
    return abs(measured - published) <= tol


def run_case(case: Case, quick: bool = True, figures: Path | None = None,
             **inputs) -> Outcome:
    """Run one case; its figure goes to ``figures/NAME.png`` when ``figures`` is given."""
    t0 = time.perf_counter()
    figure = None if figures is None else Path(figures) / f"{case.name}.png"
    if figure is not None:
        figure.parent.mkdir(parents=True, exist_ok=True)
    checks, notes = case.run(quick=quick, figure=figure, **inputs)
    return Outcome(case, checks, figure, notes, time.perf_counter() - t0)


def new_figure(ncols: int = 1, width: float = 5.0, height: float = 3.6):
    """A figure drawn off screen (matplotlib imported here: the gallery alone needs it)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    return fig, list(axes[0])


def save_figure(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=90, metadata={"Software": None})
    plt.close(fig)
