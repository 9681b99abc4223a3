"""What the files of many runs share: a sweep file and a calibration file both name a base
scenario, the size of every run and fixed overrides, validated strictly (an unknown key is
an error naming it)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    """A table of an experiment file: unknown keys, NaN and infinity refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False,
                              use_attribute_docstrings=True)


class RunsOfABase(Strict):
    """The runs of an experiment: one base scenario at one size, with fixed overrides."""

    base: str
    """Base scenario: a preset name or a path relative to this file."""
    people: Annotated[int, Field(ge=1)] | None = None
    """Number of people in every run (default: the base scenario's)."""
    days: Annotated[int, Field(ge=1)] | None = None
    """Days from the start in every run (default: the base scenario's)."""
    set: dict[str, Any] = Field(default_factory=dict)
    """Fixed overrides of the base scenario, by dotted key."""


def read_base(cfg: RunsOfABase, path: Path) -> tuple[Path, dict[str, Any]]:
    """The base scenario of the experiment file ``path``: its file (a preset, or a file
    inside ``path``'s folder) and its raw mapping with the fixed overrides applied."""
    from scoresim.errors import ScenarioError, cut
    from scoresim.scenario.loading import apply_overrides, read_raw, resolve_inside, safe_name

    base_path = resolve_inside(cfg.base, path.parent, "base", path)
    if not base_path.exists():
        raise ScenarioError(f"{path}: key `base`: {cut(cfg.base)!r} is neither a preset nor "
                            f"a file in {path.parent}.")
    base_raw = apply_overrides(read_raw(base_path), cfg.set)
    base_raw.setdefault("name", safe_name(base_path.stem))
    return base_path, base_raw
