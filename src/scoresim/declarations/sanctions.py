"""The effects a sanction or privilege rule can have (MODEL.md: sanctions and privileges,
M5, M7), declared once: the scenario's `effect` values, the rule's validation (which take a
`factor`, which hold while their condition holds), the outcome columns and the docs are
derived from here. Where an effect acts is the model's (:mod:`scoresim.model.sanctions`).
"""

from __future__ import annotations

from typing import NamedTuple


class SanctionEffect(NamedTuple):
    name: str
    privilege: bool  # a reward for a high score, not a penalty
    ongoing: bool  # holds every day its condition holds (a state), not on events
    factor: bool  # scaled by the rule's `factor`
    acts_on: str  # what it changes, for the docs


EFFECTS: tuple[SanctionEffect, ...] = (
    SanctionEffect("job_loss", False, False, False,
                   "a good job is lost (income falls by life.income_deciles_per_job_change)"),
    SanctionEffect("job_denied", False, False, False, "an application for a good job fails"),
    SanctionEffect("university_denied", False, False, False,
                   "a student's university application fails"),
    SanctionEffect("housing_denied", False, False, False,
                   "a housing search in a listed city fails"),
    SanctionEffect("internet_throttled", False, True, True,
                   "online activity (online event kinds) is multiplied by `factor`"),
    SanctionEffect("travel_ban", False, False, False, "a flight or rail ticket is refused"),
    SanctionEffect("loan_denied", False, False, False,
                   "loans are refused for `lasts_days` (no loan defaults meanwhile)"),
    SanctionEffect("job_priority", True, False, True,
                   "the chance an application for a good job succeeds is multiplied by "
                   "`factor`"),
    SanctionEffect("dating_boost", True, True, True,
                   "the rate at which one looks for a new friend when below one's friendship "
                   "capacity is multiplied by `factor`"),
    SanctionEffect("deposit_free", True, True, True,
                   "spending (spending event kinds) is multiplied by `factor`"),
)

EFFECT_NAMES = tuple(e.name for e in EFFECTS)
SANCTION_EFFECTS = tuple(e.name for e in EFFECTS if not e.privilege)
PRIVILEGE_EFFECTS = tuple(e.name for e in EFFECTS if e.privilege)
#: Effects that hold while the condition holds (a state), not on events.
ONGOING_EFFECTS = tuple(e.name for e in EFFECTS if e.ongoing)
#: Effects scaled by ``factor``.
FACTOR_EFFECTS = tuple(e.name for e in EFFECTS if e.factor)
