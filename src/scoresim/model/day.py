"""The record of one day, handed from each step of the day to the next.

:class:`Day` holds what the day's steps have made so far: the date and phase, who entered
the society, the events people drew, the records the sources made, each scheme's parts of
the score (for the ledger), the life events and what sanctions did to them, the hires and
admissions, the ties changed. A step reads what the steps before it left and adds its own
(:data:`scoresim.sim.DAY` lists the steps in order); nothing is handed on by position.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from scoresim.model.behaviour import Events
    from scoresim.model.life import LifeEvents
    from scoresim.model.sanctions import SanctionStep
    from scoresim.model.sources import Records


@dataclass
class Day:
    """What one day has made so far (filled step by step; None until its step ran)."""

    t: int  #: the step number (days from the run's start)
    date: dt.date
    phase_idx: int  #: the phase's index in the scenario's order (-1: before the first)
    phase: str
    #: per scheme: is enrolment mandatory today
    mandatory: dict[str, bool] = field(default_factory=dict)
    #: the slots of people who entered the society today (demography)
    entered: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    #: counts of the demography step (people entered, population)
    demographic: dict[str, int] = field(default_factory=dict)
    events: Events | None = None  #: behaviour: what people did
    records: Records | None = None  #: the sources: what was recorded, of whom
    #: scoring: per scheme, the parts of today's change of the own score (for the ledger)
    score_parts: dict[str, dict] = field(default_factory=dict)
    life: LifeEvents | None = None  #: life events: applications, travel, loans
    sanctions: SanctionStep | None = None  #: what sanctions and privileges did today
    #: hires and admissions settled today
    settled: dict[str, int] = field(default_factory=dict)
    #: ties removed, unfriended and added today
    ties: dict[str, int] = field(default_factory=lambda: {
        "ties_removed": 0, "ties_unfriended": 0, "ties_added": 0})
    #: outcome columns filled by components added to the day (their ``outputs``)
    outputs: dict[str, Any] = field(default_factory=dict)
