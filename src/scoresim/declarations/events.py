"""The event kinds people generate each step (MODEL.md: behaviour -> events).

The vocabulary is fixed in code so that rules, sources and rates can be checked against it
before a run starts. Each kind carries two flags:

- ``gameable``: people who know it is rewarded (or punished) can do more (or less) of it.
- ``platform``: it is activity on a platform, so it keeps a commercial score from decaying (M9).
"""

from __future__ import annotations

from typing import NamedTuple


class EventKind(NamedTuple):
    name: str
    gameable: bool
    platform: bool
    description: str


EVENT_KINDS: tuple[EventKind, ...] = (
    EventKind("purchase_domestic", True, True, "online purchase of a domestic product (M1, M2)"),
    EventKind("purchase_foreign", True, True, "online purchase of a foreign product"),
    EventKind("foreign_book_order", True, True, "order of a book from abroad (M2: minus points)"),
    EventKind("mobile_payment", True, True, "payment through the platform's payment app (M9)"),
    EventKind("bill_paid", False, False, "a bill paid on time"),
    EventKind("bill_default", False, False, "a bill not paid (M2, M11 debtor database)"),
    EventKind("loan_default", False, False, "a loan not repaid (M14)"),
    EventKind("court_listing", False, False, "listed as a dishonest judgment defaulter (M11)"),
    EventKind("view_conforming", True, True, "viewing a regime-conforming link (M2)"),
    EventKind("share_conforming", True, True, "sharing a regime-conforming link (M2)"),
    EventKind("view_critic", True, True, "consuming a critic's speech (M2: minus points)"),
    EventKind("comment", False, True, "a comment on a social platform (M1)"),
    EventKind("supportive_statement", True, True, "a statement supporting the regime (M2)"),
    EventKind("critical_statement", False, True, "a statement critical of the regime (M2)"),
    EventKind("traffic_offence", False, False, "a minor traffic offence (M2)"),
    EventKind("protest", False, False, "attending a protest (M3: Beijing rule)"),
    EventKind("blood_donation", True, False, "a blood donation (Suqian: +10 points)"),
)

KIND_NAMES: tuple[str, ...] = tuple(k.name for k in EVENT_KINDS)
KIND_INDEX: dict[str, int] = {name: i for i, name in enumerate(KIND_NAMES)}
N_KINDS = len(EVENT_KINDS)

#: Kinds whose rate follows expressed dissent (self-censorship acts on them).
DISSENT_KINDS = ("critical_statement", "protest", "view_critic")
#: Kinds whose rate follows expressed loyalty.
LOYAL_KINDS = ("supportive_statement", "share_conforming", "view_conforming")
#: Kinds whose rate follows income (spending power).
SPENDING_KINDS = ("purchase_domestic", "purchase_foreign", "foreign_book_order", "mobile_payment")
#: Kinds of online activity slowed by throttled internet.
ONLINE_KINDS = ("view_conforming", "share_conforming", "view_critic", "comment")
#: Kinds whose penalty makes dissent costly (feeds the perceived severity psi).
POLITICAL_KINDS = ("critical_statement", "protest")
