"""Conditions on rules and sanctions: a small declared grammar, parsed up front, never eval-ed.

::

    condition := clause ("and" clause)*
    clause    := NAME OP VALUE
               | NAME "in" "[" VALUE ("," VALUE)* "]"
               | NAME "not" "in" "[" VALUE ("," VALUE)* "]"
    OP        := "==" | "!=" | "<" | "<=" | ">" | ">="

Examples: ``region == beijing``, ``age_band in [student, working] and score < 900``,
``enrolment == opted_out``, ``phase != voluntary and income_decile <= 2``.

Names and their values:

=================  ==========================================================
region             a region of ``people.regions``
phase              a phase of ``phases``
age_band           student, working, retired
job                none, ordinary, good
enrolment          none, enrolled, opted_out (in the rule's or sanction's scheme)
foreigner          true, false
income_decile      a number, 0 (poorest) to 9
score              the published score in the rule's or sanction's scheme
own_score          the own score ``b`` in that scheme
=================  ==========================================================
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from scoresim.declarations.categories import AGE_BANDS, ENROLMENT_STATES, JOBS

if TYPE_CHECKING:
    from scoresim.model.people import People
    from scoresim.model.scoring import Scheme


CATEGORICAL = {
    "region": None,  # from the scenario
    "phase": None,  # from the scenario
    "age_band": AGE_BANDS,
    "job": JOBS,
    "enrolment": ENROLMENT_STATES,
    "foreigner": ("false", "true"),
}
NUMERIC = ("income_decile", "score", "own_score")
NAMES = tuple(CATEGORICAL) + NUMERIC
COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
           ">": operator.gt, ">=": operator.ge}

_TOKEN = re.compile(r"\s*(?:(?P<op>==|!=|<=|>=|<|>)|(?P<punct>[\[\],])|"
                    r"(?P<word>[A-Za-z_][A-Za-z0-9_-]*)|(?P<number>-?\d+(?:\.\d+)?))")


@dataclass(frozen=True)
class Clause:
    name: str
    op: str  # one of COMPARE, or "in" / "not in"
    values: tuple[str | float, ...]

    def test(self, value) -> bool:
        """Does one value (a region, a phase, a number) meet the clause?"""
        if self.op == "in":
            return value in self.values
        if self.op == "not in":
            return value not in self.values
        return bool(COMPARE[self.op](value, self.values[0]))


@dataclass(frozen=True)
class Condition:
    clauses: tuple[Clause, ...]

    @property
    def names(self) -> set[str]:
        return {c.name for c in self.clauses}

    def holds_in_phase(self, phase: str) -> bool:
        """The phase clauses (a condition without them holds in every phase)."""
        return all(c.test(phase) for c in self.clauses if c.name == "phase")

    def person_mask(
        self, people: People, scheme: Scheme | None, regions: list[str]
    ) -> np.ndarray | None:
        """Who meets the person clauses; None when there are none (everyone does)."""
        mask = None
        for c in self.clauses:
            if c.name == "phase":
                continue
            hit = _person_clause(c, people, scheme, regions)
            mask = hit if mask is None else mask & hit
        return mask


def _person_clause(c: Clause, people: People, scheme: Scheme | None, regions: list[str]):
    if c.name in NUMERIC:
        if c.name == "income_decile":
            values = people.income_decile
        else:
            values = scheme.s if c.name == "score" else scheme.b
        if c.op in ("in", "not in"):
            hit = np.isin(values, np.array(c.values, dtype=np.float64))
            return hit if c.op == "in" else ~hit
        return COMPARE[c.op](values, c.values[0])
    if c.name == "region":
        labels, codes = regions, people.region
    elif c.name == "age_band":
        labels, codes = list(AGE_BANDS), people.age_band
    elif c.name == "job":
        labels, codes = list(JOBS), people.job
    elif c.name == "enrolment":
        labels, codes = list(ENROLMENT_STATES), scheme.state
    else:  # foreigner
        labels, codes = ["false", "true"], people.foreigner.astype(np.int8)
    wanted = [labels.index(v) for v in c.values]
    if c.op in ("==", "in"):
        return np.isin(codes, wanted)
    return ~np.isin(codes, wanted)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"cannot read {text[pos:].strip()!r} at position {pos + 1}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def parse(text: str) -> Condition:
    """Parse a condition; raise ValueError that says what was expected where."""
    toks = _tokens(text)
    clauses, i = [], 0

    def expect(what: str) -> tuple[str, str]:
        nonlocal i
        if i >= len(toks):
            raise ValueError(f"condition {text!r} ends where {what} was expected")
        tok = toks[i]
        i += 1
        return tok

    while True:
        kind, name = expect("a name")
        if kind != "word" or name not in NAMES:
            raise ValueError(f"unknown name {name!r} in condition {text!r}; names are: "
                             f"{', '.join(NAMES)}")
        kind, op = expect("a comparison (==, !=, <, <=, >, >=, in, not in)")
        if kind == "word" and op == "not":
            kind, nxt = expect("'in'")
            if nxt != "in":
                raise ValueError(f"expected 'in' after 'not' in condition {text!r}")
            op = "not in"
        if op in ("in", "not in"):
            values = []
            if expect("'['")[1] != "[":
                raise ValueError(f"expected '[' after '{op}' in condition {text!r}")
            while True:
                values.append(_value(expect("a value"), name, text))
                sep = expect("',' or ']'")[1]
                if sep == "]":
                    break
                if sep != ",":
                    raise ValueError(f"expected ',' or ']' in condition {text!r}")
        elif op in COMPARE:
            values = [_value(expect("a value"), name, text)]
            if name in CATEGORICAL and op not in ("==", "!="):
                raise ValueError(f"{name!r} takes == != in, not {op!r} (condition {text!r})")
        else:
            raise ValueError(f"expected a comparison after {name!r} in condition {text!r}, "
                             f"got {op!r}")
        clauses.append(Clause(name, op, tuple(values)))
        if i == len(toks):
            return Condition(tuple(clauses))
        if toks[i] != ("word", "and"):
            raise ValueError(f"expected 'and' between clauses in condition {text!r}, "
                             f"got {toks[i][1]!r}")
        i += 1


def _value(tok: tuple[str, str], name: str, text: str) -> str | float:
    kind, value = tok
    if name in NUMERIC:
        if kind != "number":
            raise ValueError(f"{name!r} compares with a number, got {value!r} "
                             f"(condition {text!r})")
        return float(value)
    if kind not in ("word", "number"):
        raise ValueError(f"expected a value for {name!r}, got {value!r} (condition {text!r})")
    allowed = CATEGORICAL[name]
    if allowed is not None and value not in allowed:
        raise ValueError(f"{name!r} is one of {', '.join(allowed)}; got {value!r} "
                         f"(condition {text!r})")
    return value


def check_names(cond: Condition, regions: set[str], phases: set[str], where: str,
                has_scheme: bool) -> None:
    """Check values that depend on the scenario: regions, phases, a scheme for scores."""
    for c in cond.clauses:
        known = {"region": regions, "phase": phases}.get(c.name)
        if known is not None:
            for v in c.values:
                if v not in known:
                    raise ValueError(f"{where}: unknown {c.name} {v!r}; defined are: "
                                     f"{', '.join(sorted(known)) or '(none)'}")
        if c.name in ("score", "own_score", "enrolment") and not has_scheme:
            raise ValueError(f"{where}: {c.name!r} needs a scheme (set `scheme`)")
