"""The event kinds people generate each step (MODEL.md: behaviour -> events).

Every kind is declared here, once, with what the rest of the model derives from it: the
scenario key ``behaviour.rates_per_day.<kind>`` and its default, the per-person factor its
rate follows (:mod:`scoresim.model.behaviour`), and the flags that rules and sanctions read.
Adding a kind is one line here (plus, if it follows a new factor, that factor's rule).
Random draws are keyed by the kind's *name*, never its position, so adding or reordering
kinds leaves every other kind's draws unchanged.

Flags:

- ``gameable``: people who know it is rewarded (or punished) can do more (or less) of it.
- ``platform``: it is activity on a platform, so it keeps a commercial score from decaying (M9).
- ``online``: online activity, slowed by throttled internet (a sanction, M5).
- ``political``: its penalty makes dissent costly (feeds the perceived severity psi).
- ``derived``: not drawn at a rate; it follows another event (its rate must stay 0).
"""

from __future__ import annotations

import zlib
from typing import NamedTuple

#: The per-person factors a kind's rate can follow (defined in :mod:`scoresim.model.behaviour`).
RATE_FACTORS = ("spending", "loyalty", "dissent", "hardship", "reliability")


class EventKind(NamedTuple):
    name: str
    description: str
    rate_per_day: float  # the default of behaviour.rates_per_day.<name>
    factor: str | None  # one of RATE_FACTORS, or None: the same rate for everyone
    gameable: bool = False
    platform: bool = False
    online: bool = False
    political: bool = False
    derived: bool = False


def _kind(name, description, rate, factor=None, *flags: str) -> EventKind:
    return EventKind(name, description, rate, factor, **{f: True for f in flags})


EVENT_KINDS: tuple[EventKind, ...] = (
    _kind("purchase_domestic", "online purchase of a domestic product (M1, M2)", 0.15,
          "spending", "gameable", "platform"),
    _kind("purchase_foreign", "online purchase of a foreign product", 0.03,
          "spending", "gameable", "platform"),
    _kind("foreign_book_order", "order of a book from abroad (M2: minus points)", 0.003,
          "spending", "gameable", "platform"),
    _kind("mobile_payment", "payment through the platform's payment app (M9)", 0.4,
          "spending", "gameable", "platform"),
    _kind("bill_paid", "a bill paid on time", 0.05, "reliability"),
    _kind("bill_default", "a bill not paid (M2, M11 debtor database)", 0.01, "hardship"),
    # 0.00006: fitted with behaviour.court_listing_per_loan_default to the court list's
    # stock (docs/calibration.md); about 1% of people a year with the mean hardship factor
    _kind("loan_default", "a loan not repaid (M14)", 0.00006, "hardship"),
    _kind("court_listing", "listed as a dishonest judgment defaulter (M11); follows loan "
          "defaults (behaviour.court_listing_per_loan_default)", 0.0, None, "derived"),
    _kind("view_conforming", "viewing a regime-conforming link (M2)", 0.3,
          "loyalty", "gameable", "platform", "online"),
    _kind("share_conforming", "sharing a regime-conforming link (M2)", 0.05,
          "loyalty", "gameable", "platform", "online"),
    _kind("view_critic", "consuming a critic's speech (M2: minus points)", 0.1,
          "dissent", "gameable", "platform", "online"),
    _kind("comment", "a comment on a social platform (M1)", 0.5, None, "platform", "online"),
    _kind("supportive_statement", "a statement supporting the regime (M2)", 0.05,
          "loyalty", "gameable", "platform"),
    _kind("critical_statement", "a statement critical of the regime (M2)", 0.08,
          "dissent", "platform", "political"),
    _kind("traffic_offence", "a minor traffic offence (M2)", 0.001),
    _kind("protest", "attending a protest (M3: Beijing rule)", 0.002, "dissent", "political"),
    # 3.07e-5: China's National Health Commission, 14.99 million donations in 2018, "nearly
    # 11.2 ... in every 1,000 people" a year (Xinhua, 25 May 2019): 11.2 / 1000 / 365.
    _kind("blood_donation", "a blood donation (Suqian: +10 points)", 3.07e-5, None, "gameable"),
    # The lender's reports (lending.*, src/scoresim/model/lending.py): a loan it made comes
    # due and is repaid or not; not the background loan_default above
    _kind("lender_repayment", "a loan the lender made (lending.*) repaid on its due day",
          0.0, None, "derived"),
    _kind("lender_default", "a loan the lender made (lending.*) not repaid on its due day",
          0.0, None, "derived"),
)

KIND_NAMES: tuple[str, ...] = tuple(k.name for k in EVENT_KINDS)
KIND_INDEX: dict[str, int] = {name: i for i, name in enumerate(KIND_NAMES)}
N_KINDS = len(EVENT_KINDS)
KINDS: dict[str, EventKind] = {k.name: k for k in EVENT_KINDS}


def kinds_with(flag: str) -> tuple[str, ...]:
    """The names of the kinds whose ``flag`` is set."""
    return tuple(k.name for k in EVENT_KINDS if getattr(k, flag))


def kind_key(name: str) -> int:
    """A stable 32-bit key of a kind's name: what per-record draws are keyed by."""
    return zlib.crc32(f"kind:{name}".encode())


#: Kinds whose rate follows expressed dissent (self-censorship acts on them).
DISSENT_KINDS = tuple(k.name for k in EVENT_KINDS if k.factor == "dissent")
#: Kinds whose rate follows expressed loyalty.
LOYAL_KINDS = tuple(k.name for k in EVENT_KINDS if k.factor == "loyalty")
#: Kinds whose rate follows income (spending power).
SPENDING_KINDS = tuple(k.name for k in EVENT_KINDS if k.factor == "spending")
#: Kinds of online activity slowed by throttled internet.
ONLINE_KINDS = kinds_with("online")
#: Kinds whose penalty makes dissent costly (feeds the perceived severity psi).
POLITICAL_KINDS = kinds_with("political")
