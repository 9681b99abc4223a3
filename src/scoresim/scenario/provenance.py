"""Where every number that shapes a preset's results comes from.

Each value a preset sets or inherits as a default is either a **fact** (a source, the figure
as the source gives it, and the transformation that turns it into the key's unit) or an
**assumption** (a plausible range, low to high, and why). The entries live in
``provenance.toml`` beside the presets, keyed by the readable dotted name of a key (a rule
named by its kind, ``schemes.government.rules[critical_statement].points``; ``*`` stands for
one part of a name), with per-preset sections where a preset differs. This module loads and
validates them and matches them to a scenario's values:

- :func:`provenance` ``(scenario) -> {dotted key: Entry}`` for every value that shapes the
  results (the keys as ``--set`` takes them);
- :func:`assumption_ranges` ``(scenario) -> {dotted key: (low, high)}``: the numeric
  assumptions, what ``scoresim compare --uncertainty`` draws over;
- :func:`unused` names the values that have no effect in a scenario (a threshold rule's
  parameters under the strategic rule, a repair waiting time where nobody repairs), and
  :data:`RUN_OPTIONS` the keys that say what and how much to simulate rather than how the
  society works (size, dates, seed, output, labels and names).

``python -m scoresim.scenario.provenance docs/parameters.md`` writes the parameter table of
every preset (a test checks it is current); ``scoresim odd SCENARIO`` shows the provenance
column of one scenario.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import sys
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from scoresim.errors import ScenarioError
from scoresim.scenario.schema import Scenario

FILE = "provenance.toml"
KINDS = ("fact", "assumption")

#: Keys (patterns) that shape no result of a scenario's own: what and how much to simulate
#: (set per run), labels, and names that only refer to other parts of the scenario. They
#: need no provenance.
RUN_OPTIONS: dict[str, str] = {
    "name": "a label",
    "description": "a label",
    "seed": "the replicate seed (results are reported over several)",
    "start": "the simulated period (a choice of the study)",
    "end": "the simulated period (a choice of the study)",
    "people.count": "the size of the synthetic society (a choice of the run)",
    "burn_in_days": "a run option: start from the steady state (0: from the drawn society)",
    "output.*": "what the run folder holds and how outcomes are tabulated",
    "sources.*.label": "a label",
    "schemes.*.label": "a label",
    "schemes.*.rules[*].kind": "a name (the rule's event kind names it)",
    "schemes.*.rules[*].source": "a name of a source of the scenario",
    "schemes.*.rules[*].factor": "a name of a factor of the scheme",
    "schemes.*.enrolment.mandatory_from_phase": "a name of a phase of the scenario",
    "sanctions.*.effect": "what the sanction does (its name says it)",
    "sanctions.*.scheme": "a name of a scheme of the scenario",
    "impact.track": "a run option: record what the impact card measures (changes no result)",
}


@dataclass(frozen=True)
class Entry:
    """The provenance of one value."""

    kind: str
    """fact or assumption."""
    value: Any = None
    """The documented value (None where a pattern covers several values)."""
    source: str = ""
    """Fact: where the figure comes from (author, title, year, article or page)."""
    quote: str = ""
    """Fact: the figure as the source gives it."""
    transformation: str = ""
    """Fact: how the figure becomes the key's value and unit."""
    low: float | None = None
    """Assumption: the lowest plausible value (numeric assumptions)."""
    high: float | None = None
    """Assumption: the highest plausible value."""
    why: str = ""
    """Assumption: why this value and this range (for a fact: optional remarks)."""
    group: str = ""
    """What it belongs to (behaviour, dissent, network, ...): the groups of a sensitivity
    analysis."""
    tied: bool = False
    """Assumption: tied to other values (tier bounds, shares that add up to 1): it cannot
    vary on its own, has no range and is never drawn."""
    pattern: str = ""
    """The name in provenance.toml that gave the entry."""
    preset: str | None = None
    """The preset section that gave it (None: the defaults)."""

    def short(self) -> str:
        """One line for a table: kind, source or range."""
        if self.kind == "fact":
            return f"fact: {self.source}"
        if self.low is not None:
            return f"assumption, {_num(self.low)} to {_num(self.high)}"
        return "assumption, tied to others" if self.tied else "assumption"


@dataclass(frozen=True)
class Leaf:
    """A value of a scenario: its ``--set`` key, its readable name and the value."""

    key: str
    name: str
    value: Any


# ------------------------------------------------------------------------------ loading


_FIELDS = {"kind", "value", "source", "quote", "transformation", "low", "high", "why", "group",
           "tied"}


def _entry(pattern: str, raw: Any, preset: str | None, where: str) -> Entry:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: expected a table of kind, value, source, ..., got "
                            f"{type(raw).__name__}")
    unknown = set(raw) - _FIELDS
    if unknown:
        raise ScenarioError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; valid: "
                            f"{', '.join(sorted(_FIELDS))}")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise ScenarioError(f"{where}: kind must be fact or assumption, got {kind!r}")
    entry = Entry(**{k: v for k, v in raw.items()}, pattern=pattern, preset=preset)
    if kind == "fact":
        missing = [f for f in ("source", "quote", "transformation") if not getattr(entry, f)]
        if missing:
            raise ScenarioError(f"{where}: a fact needs {', '.join(missing)}")
        if entry.low is not None or entry.high is not None:
            raise ScenarioError(f"{where}: a fact has no range (low, high); an uncertain "
                                "figure is an assumption that cites it")
    else:
        if not entry.why:
            raise ScenarioError(f"{where}: an assumption needs `why`")
        if (entry.low is None) != (entry.high is None):
            raise ScenarioError(f"{where}: give both low and high, or neither")
        if entry.low is not None:
            if not (_is_number(entry.low) and _is_number(entry.high)):
                raise ScenarioError(f"{where}: low and high must be numbers")
            if entry.low > entry.high:
                raise ScenarioError(f"{where}: low ({entry.low}) above high ({entry.high})")
            if _is_number(entry.value) and not entry.low <= entry.value <= entry.high:
                raise ScenarioError(f"{where}: value {entry.value} outside its range "
                                    f"[{entry.low}, {entry.high}]")
        elif _is_number(entry.value) and not entry.tied:
            raise ScenarioError(f"{where}: a numeric assumption needs a range (low, high), "
                                "or `tied = true` where it moves only with other values")
        if entry.tied and entry.low is not None:
            raise ScenarioError(f"{where}: a tied assumption is never drawn: give no range")
    return entry


@cache
def load_entries() -> tuple[dict[str, Entry], dict[str, dict[str, Entry]]]:
    """The entries of provenance.toml: (defaults by pattern, {preset: entries by pattern})."""
    text = resources.files("scoresim.scenario").joinpath(FILE).read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    unknown = set(raw) - {"default", "preset"}
    if unknown:
        raise ScenarioError(f"{FILE}: unknown section(s) {', '.join(sorted(unknown))}; "
                            "expected [default.\"KEY\"] and [preset.NAME.\"KEY\"]")
    defaults = {p: _entry(p, r, None, f"{FILE}: default.{p!r}")
                for p, r in raw.get("default", {}).items()}
    presets = {name: {p: _entry(p, r, name, f"{FILE}: preset.{name}.{p!r}")
                      for p, r in section.items()}
               for name, section in raw.get("preset", {}).items()}
    return defaults, presets


# ------------------------------------------------------------------------------- leaves


def _rule_names(rules: list) -> list[str]:
    """A rule's readable name: its kind, with its regions where two rules share a kind,
    and its place among those where that is not enough."""
    names = []
    for rule in rules:
        same = [r for r in rules if r.kind == rule.kind]
        name = rule.kind
        if len(same) > 1:
            name += ":" + ("+".join(rule.regions) or "all")
            twins = [r for r in same if r.regions == rule.regions]
            if len(twins) > 1:
                name += f"#{[id(r) for r in twins].index(id(rule))}"
        names.append(name)
    return names


def leaves(scenario: Scenario) -> list[Leaf]:
    """Every single value of the scenario (numbers, yes/no, text, dates; not lists, tables
    or absent values), in the schema's order."""
    out: list[Leaf] = []

    def walk(model: BaseModel, key: str, name: str) -> None:
        for fname in type(model).model_fields:
            value = getattr(model, fname)
            k, n = f"{key}{fname}", f"{name}{fname}"
            if isinstance(value, BaseModel):
                walk(value, f"{k}.", f"{n}.")
            elif isinstance(value, dict):
                for sub, v in value.items():
                    if isinstance(v, BaseModel):
                        walk(v, f"{k}.{sub}.", f"{n}.{sub}.")
                    else:
                        out.append(Leaf(f"{k}.{sub}", f"{n}.{sub}", v))
            elif isinstance(value, list):
                if value and all(isinstance(v, BaseModel) for v in value):
                    for i, (v, rn) in enumerate(zip(value, _rule_names(value), strict=True)):
                        walk(v, f"{k}.{i}.", f"{n}[{rn}].")
            elif value is not None:
                out.append(Leaf(k, n, value))

    walk(scenario, "", "")
    return out


def matches(pattern: str, name: str) -> bool:
    """Whether a readable name matches a pattern: ``*`` is one part of a name, ``[*]`` any
    rule."""
    return re.fullmatch(_regex(pattern), name) is not None


@cache
def _regex(pattern: str) -> str:
    out = []
    for part in re.split(r"(\*|\[\*\])", pattern):
        if part == "*":
            out.append(r"[^.\[\]]+")
        elif part == "[*]":
            out.append(r"\[[^\]]+\]")
        else:
            out.append(re.escape(part))
    return "".join(out)


def _specificity(pattern: str) -> int:
    return len(pattern) - 100 * pattern.count("*")


def run_option(name: str) -> str | None:
    """Why a value needs no provenance as a run option, label or name (None: it does)."""
    return next((why for p, why in RUN_OPTIONS.items() if matches(p, name)), None)


def unused(scenario: Scenario) -> dict[str, str]:
    """The readable names of values that have no effect in this scenario, with the reason."""
    sc, ad = scenario, scenario.adaptation
    out: dict[str, str] = {}
    all_leaves = leaves(sc)

    def mark(pattern: str, reason: str) -> None:
        for leaf in all_leaves:
            if matches(pattern, leaf.name):
                out.setdefault(leaf.name, reason)

    if ad.self_censorship != "threshold":
        mark("people.thresholds.*", "only the threshold rule of self-censorship reads it")
    if ad.self_censorship not in ("strategic", "falsification"):
        mark("adaptation.punishment", "only the strategic and falsification rules read it")
    if ad.self_censorship != "falsification":
        mark("adaptation.falsification.*", "only the falsification rule reads it")
    if ad.self_censorship == "none":
        mark("adaptation.tolerance", "no self-censorship rule")
    if sc.people.fixed_opinion_share == 0:
        mark("people.fixed_opinion", "nobody holds a fixed opinion (fixed_opinion_share 0)")
    if sc.demography.enabled:
        mark("people.age_shares.*", "with demography on, stages follow from drawn ages")
    else:
        mark("demography.*", "demography is off")
    net = sc.network.kind
    if net not in ("small_world", "region_clustered"):
        mark("network.rewire_probability", f"not used by a {net} network")
    if net != "region_clustered":
        mark("network.within_region_share", f"not used by a {net} network")
    if net != "scale_free":
        mark("network.power_law_exponent", f"not used by a {net} network")
    if net == "edgelist":
        mark("network.mean_degree", "the ties are read from a file")
    mark("behaviour.rates_per_day.court_listing", "derived: follows loan defaults")
    for kind in ("lender_repayment", "lender_default"):
        mark(f"behaviour.rates_per_day.{kind}", "derived: the lender's reports (lending.*)")
    if not sc.lending.enabled:
        mark("lending.*", "no lender (lending.enabled false)")
        out.pop("lending.enabled", None)
    for name, src in sc.sources.items():
        if src.real_name_from is None:
            mark(f"sources.{name}.foreigner_linked_share", "no real-name registration date")
    schemes = sc.schemes.values()
    if not sc.schemes:
        mark("adaptation.*", "no scheme: nothing to adapt to (only ties turn over)")
        for keep in ("adaptation.rewire_every_days", "adaptation.new_tie_rate_per_day",
                     "adaptation.tie_dissolve_rate_per_day",
                     "adaptation.new_tie_friend_of_friend_share", "adaptation.homophily",
                     "adaptation.new_tie_same_region_share"):
            out.pop(keep, None)
    if not any(s.opaque for s in schemes):
        mark("adaptation.learning_rate_per_day", "no opaque scheme")
    if not any(s.visibility == "public" for s in schemes):
        mark("adaptation.score_homophily_points", "no scheme shows scores to strangers")
    if not any(s.enrolment.opt_out_rate_per_day for s in schemes):
        mark("adaptation.opt_out_critic_factor", "nobody opts out")
    if not any(s.enrolment.mode == "voluntary" for s in schemes):
        mark("adaptation.ambition_*", "no voluntary enrolment")
    if ad.risk_learning != "bayesian":
        for k in ("risk_memory_half_life_days", "detection_prior_strength",
                  "vicarious_weight", "naming_weight", "severity_reach_points"):
            mark(f"adaptation.{k}", "only bayesian risk learning reads it")
    if not ad.gaming_strength:
        mark("adaptation.gaming_*", "no gaming (gaming_strength 0)")
    if not any(s.friend_weight and s.visibility in ("friends", "public") for s in schemes):
        mark("adaptation.unfriend_*", "no scheme's friends' scores pull one's own")
    for sname, s in sc.schemes.items():
        p = f"schemes.{sname}"
        if not s.inactivity.decay_points_per_day:
            mark(f"{p}.inactivity.after_days", "no inactivity decay")
        e = s.enrolment
        if e.mode != "voluntary":
            mark(f"{p}.enrolment.voluntary_rate_per_day", f"enrolment is {e.mode}")
        if e.mandatory_from_phase is None:
            mark(f"{p}.enrolment.head_start_points", "no mandatory phase to enrol early for")
            mark(f"{p}.enrolment.early_bonus_points_per_day",
                 "no mandatory phase to enrol early for")
        if not s.repair.apply_rate_per_day:
            mark(f"{p}.repair.*", "no credit repair (apply_rate_per_day 0)")
            out.pop(f"{p}.repair.apply_rate_per_day", None)
        if not e.opt_out_rate_per_day:
            mark(f"{p}.shadow_score", "nobody opts out")
        if s.lasts_days is None and not any(r.lasts_days for r in s.rules):
            mark(f"{p}.decay_shape", "points never lapse (no lasts_days)")
        ruled = {r.factor for r in s.rules}
        for fname in s.factors:
            if fname not in ruled:
                mark(f"{p}.factors.{fname}.scale_points",
                     "no rule moves this factor: it stays at its starting level")
        for rname, rule in zip(_rule_names(s.rules), s.rules, strict=True):
            if rule.cap_points is None:
                mark(f"{p}.rules[{rname}].cap_period_days", "the rule has no cap")
    from scoresim.declarations.sanctions import FACTOR_EFFECTS, ONGOING_EFFECTS

    for name, sanc in sc.sanctions.items():
        p = f"sanctions.{name}"
        if sanc.effect in ONGOING_EFFECTS:
            mark(f"{p}.probability_per_day", "the effect holds while its condition holds")
        if sanc.effect not in FACTOR_EFFECTS:
            mark(f"{p}.factor", f"{sanc.effect} takes no factor")
        if sanc.effect not in ("loan_denied", "housing_denied"):
            mark(f"{p}.lasts_days", f"{sanc.effect} does not last")
        if sanc.effect != "travel_ban":
            mark(f"{p}.settles_probability", "only a travel ban can be settled")
        if not sanc.blacklisted:
            mark(f"{p}.blacklisted", "the condition is a score or a tier")
    return out


# ----------------------------------------------------------------------------- matching


def _preset_of(scenario: Scenario) -> str | None:
    from scoresim.scenario.loading import preset_names

    return scenario.name if scenario.name in preset_names() else None


def _find(name: str, preset: str | None) -> Entry | None:
    defaults, presets = load_entries()
    for table in (presets.get(preset, {}) if preset else {}, defaults):
        found = [e for p, e in table.items() if matches(p, name)]
        if found:
            return max(found, key=lambda e: _specificity(e.pattern))
    return None


def provenance(scenario: Scenario, preset: str | None = None) -> dict[str, Entry]:
    """{``--set`` key: Entry} for every value of the scenario that shapes its results and
    has an entry (``preset``: whose per-preset entries apply; default: the scenario's name,
    where it is a preset's). A value without an entry is missing from the result: see
    :func:`missing`."""
    preset = preset or _preset_of(scenario)
    skip = unused(scenario)
    out = {}
    for leaf in leaves(scenario):
        if leaf.name in skip or run_option(leaf.name):
            continue
        entry = _find(leaf.name, preset)
        if entry is not None:
            out[leaf.key] = entry
    return out


def missing(scenario: Scenario, preset: str | None = None) -> list[str]:
    """The readable names of values that shape results but have no entry, or whose entry
    documents another value (or a range the value lies outside)."""
    preset = preset or _preset_of(scenario)
    skip = unused(scenario)
    out = []
    for leaf in leaves(scenario):
        if leaf.name in skip or run_option(leaf.name):
            continue
        entry = _find(leaf.name, preset)
        if entry is None:
            out.append(f"{leaf.name} = {show(leaf.value)}: no fact or assumption")
        elif not documents(entry, leaf.value):
            out.append(f"{leaf.name} = {show(leaf.value)}: the entry "
                       f"{entry.pattern!r} documents {show(entry.value)}"
                       + (f" in [{_num(entry.low)}, {_num(entry.high)}]"
                          if entry.low is not None else ""))
    return out


def documents(entry: Entry, value: Any) -> bool:
    """Whether the entry documents this value: the same value (numbers to 1e-9), or, for a
    pattern without a value, a value within its range."""
    if entry.value is None:
        return entry.low is None or (_is_number(value) and entry.low <= value <= entry.high)
    if _is_number(entry.value) and _is_number(value):
        return math.isclose(entry.value, value, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(value, dt.date):
        return str(entry.value) == value.isoformat()
    return entry.value == value


def assumption_ranges(scenario: Scenario, preset: str | None = None
                      ) -> dict[str, tuple[float, float]]:
    """{``--set`` key: (low, high)} of the scenario's numeric assumptions that shape its
    results (yes/no and choices have no range; facts, tied values and those held fixed,
    low = high, are not varied)."""
    return {key: (float(e.low), float(e.high))
            for key, e in provenance(scenario, preset).items()
            if e.kind == "assumption" and e.low is not None and e.low < e.high}


def stale_entries(scenarios: list[Scenario]) -> list[str]:
    """Entries of provenance.toml that no value of these scenarios uses (a renamed key, a
    removed rule)."""
    defaults, presets = load_entries()
    used: set[tuple[str | None, str]] = set()
    for sc in scenarios:
        preset = _preset_of(sc)
        skip = unused(sc)
        for leaf in leaves(sc):
            if leaf.name in skip or run_option(leaf.name):
                continue
            entry = _find(leaf.name, preset)
            if entry is not None:
                used.add((entry.preset, entry.pattern))
    out = [f"default.{p!r}" for p in defaults if (None, p) not in used]
    out += [f"preset.{name}.{p!r}" for name, table in presets.items() for p in table
            if (name, p) not in used]
    return out


# ------------------------------------------------------------------------------ the doc


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _num(x: Any) -> str:
    return f"{x:g}" if _is_number(x) else str(x)


def show(value: Any) -> str:
    """A value as the tables write it."""
    if isinstance(value, bool):
        return str(value).lower()
    if _is_number(value):
        return f"{value:g}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None:
        return "(any)"
    return f'"{value}"'


def _cell(text: Any) -> str:
    return " ".join(str(text).replace("|", "\\|").split())


@dataclass
class _Row:
    name: str
    value: Any
    entry: Entry
    presets: list[str] = field(default_factory=list)


def parameters_doc() -> str:
    """docs/parameters.md: every value of every preset that shapes results, with its
    provenance; then what is not listed and why."""
    from scoresim.scenario.loading import load_scenario, preset_names

    rows: dict[tuple, _Row] = {}
    counts = []
    skipped: dict[str, set[str]] = {}
    for preset in preset_names():
        sc = load_scenario(preset)
        skip = unused(sc)
        n_fact = n_assumption = 0
        for leaf in leaves(sc):
            why = skip.get(leaf.name)
            if why is not None or run_option(leaf.name):
                if why:
                    skipped.setdefault(f"`{leaf.name}`: {why}", set()).add(preset)
                continue
            entry = _find(leaf.name, preset)
            if entry is None:
                continue
            n_fact += entry.kind == "fact"
            n_assumption += entry.kind == "assumption"
            ident = (leaf.name, show(leaf.value), entry.preset, entry.pattern)
            rows.setdefault(ident, _Row(leaf.name, leaf.value, entry)).presets.append(preset)
        counts.append((preset, n_fact, n_assumption, len(skip)))
    everyone = set(preset_names())

    def where(row: _Row) -> str:
        return "all" if set(row.presets) == everyone else ", ".join(row.presets)

    L = ["# Parameters and their provenance", "",
         "Generated by `python -m scoresim.scenario.provenance docs/parameters.md` from "
         "`src/scoresim/scenario/provenance.toml` and the presets (a test checks it is "
         "current). Every value a preset sets or inherits as a default that shapes its "
         "results is either a **fact** (a source, the figure as the source gives it, and "
         "the transformation into the key's unit) or an **assumption** (a plausible range "
         "and why). `scoresim odd SCENARIO` shows the same per scenario; `scoresim compare "
         "A B --uncertainty N` draws the numeric assumptions over their ranges.", "",
         "| preset | facts | assumptions | values without effect there |",
         "|---|---|---|---|"]
    L += [f"| `{p}` | {f} | {a} | {u} |" for p, f, a, u in counts]
    L += ["", "Not listed: the run options, labels and names (" + "; ".join(
        f"`{p}`: {why}" for p, why in RUN_OPTIONS.items()) + "), and values without effect "
        "in a preset (the end of this page).", ""]
    facts = sorted((r for r in rows.values() if r.entry.kind == "fact"), key=lambda r: r.name)
    L += ["## Facts", "", "| key | value | presets | source | figure | transformation |",
          "|---|---|---|---|---|---|"]
    for r in facts:
        e = r.entry
        L.append(f"| `{r.name}` | {_cell(show(r.value))} | {where(r)} | {_cell(e.source)} "
                 f"| {_cell(e.quote)} | {_cell(e.transformation)}"
                 + (f" ({_cell(e.why)})" if e.why else "") + " |")
    assumptions = sorted((r for r in rows.values() if r.entry.kind == "assumption"),
                         key=lambda r: r.name)
    L += ["", "## Assumptions", "",
          "| key | value | range | group | presets | why |", "|---|---|---|---|---|---|"]
    for r in assumptions:
        e = r.entry
        rng = f"{_num(e.low)} to {_num(e.high)}" if e.low is not None else "-"
        L.append(f"| `{r.name}` | {_cell(show(r.value))} | {rng} | {e.group or '-'} | "
                 f"{where(r)} | {_cell(e.why)} |")
    L += ["", "## Values without effect", "",
          "Values a preset has (set or by default) that nothing reads in it:", ""]
    for text, presets in sorted(skipped.items()):
        who = "all" if presets == everyone else ", ".join(sorted(presets))
        L.append(f"- {text} ({who})")
    L.append("")
    return "\n".join(L)


if __name__ == "__main__":
    text = parameters_doc()
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text, encoding="utf-8")
    else:
        print(text, end="")
