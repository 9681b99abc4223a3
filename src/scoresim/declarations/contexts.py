"""Contexts and gravity, declared once: where a record's data come from, where a sanction's
consequence falls, which of the two belong together, and how grave a behaviour and how heavy
a sanction is (``scoresim impact``, docs/impact.md).

The EU AI Act (Regulation 2024/1689, Art. 5(1)(c)) asks of a social score whether it leads
to detrimental treatment (i) "in social contexts that are unrelated to the contexts in which
the data was originally generated or collected", or (ii) "unjustified or disproportionate
to their social behaviour or its gravity". To answer, every record carries a *data context*
and every sanction a *consequence context*:

- a record's data context is its source's ``context`` (``sources.NAME.context``) or, where
  the source declares none, its event kind's (:data:`KIND_CONTEXT`: a payment platform's
  bill default is finance, its book order commerce);
- a sanction's consequence context is its ``context`` (``sanctions.NAME.context``) or its
  effect's (:data:`EFFECT_CONTEXT`);
- :data:`RELATED` says which consequence contexts each data context belongs to (commerce and
  finance data to credit and consumption, court debts to credit, social media to the
  internet and social life). A sanction whose triggering records include one from a data
  context not related to its consequence context treats a person in an unrelated context.

The gravity scale (:data:`GRAVITY_LEVELS`, :data:`KIND_GRAVITY`) and the weight of each
sanction on that scale (:data:`EFFECT_WEIGHT`) are assumptions, with provenance entries
(src/scoresim/scenario/provenance.toml), shown as such on the impact card; a scenario
changes all of them under ``impact``. They describe; they change no result of a run.
"""

from __future__ import annotations

from scoresim.declarations.events import KIND_NAMES
from scoresim.declarations.sanctions import EFFECT_NAMES

#: Where the data come from (a record's source).
DATA_CONTEXTS: tuple[str, ...] = ("commerce", "finance", "courts", "social_media",
                                  "public_security", "civil_registry")
#: Where a consequence falls (a sanction's or privilege's effect).
CONSEQUENCE_CONTEXTS: tuple[str, ...] = ("employment", "education", "housing", "travel",
                                         "credit", "internet", "social_life", "consumption")

#: The data context of each event kind's records (where the source declares none).
KIND_CONTEXT: dict[str, str] = {
    "purchase_domestic": "commerce", "purchase_foreign": "commerce",
    "foreign_book_order": "commerce", "mobile_payment": "commerce",
    "bill_paid": "finance", "bill_default": "finance", "loan_default": "finance",
    "lender_repayment": "finance", "lender_default": "finance",
    "court_listing": "courts",
    "view_conforming": "social_media", "share_conforming": "social_media",
    "view_critic": "social_media", "comment": "social_media",
    "supportive_statement": "social_media", "critical_statement": "social_media",
    "traffic_offence": "public_security", "protest": "public_security",
    "blood_donation": "civil_registry",
}

#: The consequence context of each effect (where the sanction declares none).
EFFECT_CONTEXT: dict[str, str] = {
    "job_loss": "employment", "job_denied": "employment", "job_priority": "employment",
    "university_denied": "education", "housing_denied": "housing",
    "internet_throttled": "internet", "travel_ban": "travel", "loan_denied": "credit",
    "dating_boost": "social_life", "deposit_free": "consumption",
}

#: The consequence contexts each data context belongs to: a payment record may bear on
#: credit and spending, a court debt on credit, social media on the internet and on social
#: life; police and civil records on none of the consequences the model has.
RELATED: dict[str, list[str]] = {
    "commerce": ["credit", "consumption"],
    "finance": ["credit", "consumption"],
    "courts": ["credit"],
    "social_media": ["internet", "social_life"],
    "public_security": [],
    "civil_registry": [],
}

#: The gravity scale, lightest first (an assumption).
GRAVITY_LEVELS: tuple[str, ...] = ("minor", "moderate", "serious")

#: The gravity of each event kind's behaviour (an assumption: what a court or a regulator
#: would weigh; expression, reading, shopping and a minor offence are minor, an unpaid bill
#: moderate, an unpaid loan and a court judgment left unperformed serious).
KIND_GRAVITY: dict[str, str] = {
    "purchase_domestic": "minor", "purchase_foreign": "minor",
    "foreign_book_order": "minor", "mobile_payment": "minor",
    "bill_paid": "minor", "bill_default": "moderate", "loan_default": "serious",
    "lender_repayment": "minor", "lender_default": "serious",
    "court_listing": "serious",
    "view_conforming": "minor", "share_conforming": "minor", "view_critic": "minor",
    "comment": "minor", "supportive_statement": "minor", "critical_statement": "minor",
    "traffic_offence": "minor", "protest": "minor", "blood_donation": "minor",
}

#: The weight of each sanction on the gravity scale (an assumption: losing a job, a flat
#: or a university place is serious; a refused job application, loan or ticket moderate;
#: slower internet minor; privileges are no detriment).
EFFECT_WEIGHT: dict[str, str] = {
    "job_loss": "serious", "housing_denied": "serious", "university_denied": "serious",
    "job_denied": "moderate", "loan_denied": "moderate", "travel_ban": "moderate",
    "internet_throttled": "minor",
    "job_priority": "minor", "dating_boost": "minor", "deposit_free": "minor",
}


def undeclared() -> list[str]:
    """Event kinds and effects without a context or gravity here (tests/test_impact.py
    holds this empty: a kind or effect added elsewhere is declared here too)."""
    return ([f"kind {k}" for k in KIND_NAMES if k not in KIND_CONTEXT or k not in KIND_GRAVITY]
            + [f"effect {e}" for e in EFFECT_NAMES
               if e not in EFFECT_CONTEXT or e not in EFFECT_WEIGHT])
