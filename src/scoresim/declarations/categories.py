"""The categories a person or an enrolment can be in (MODEL.md: People).

Declared once, below every other layer: the scenario's conditions, the model's rules and
the results' tables all name categories from here. A code is the category's position.
"""

from __future__ import annotations

#: Age bands; ``age_band`` holds the position.
AGE_BANDS = ("student", "working", "retired")
STUDENT, WORKING, RETIRED = 0, 1, 2

#: Jobs; ``job`` holds the position.
JOBS = ("none", "ordinary", "good")
NO_JOB, ORDINARY_JOB, GOOD_JOB = 0, 1, 2

#: Enrolment in a scheme; a scheme's ``state`` holds the position.
ENROLMENT_STATES = ("none", "enrolled", "opted_out")
NOT_ENROLLED, ENROLLED, OPTED_OUT = 0, 1, 2
