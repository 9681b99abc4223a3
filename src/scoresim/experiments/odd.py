"""An ODD protocol (Overview, Design concepts, Details; Grimm et al. 2020, JASSS 23(2) 7)
of one scenario, written from the model's own declarations so that it stays true as the
model grows:

- entities and state variables from :class:`scoresim.model.people.People` (its fields and
  their comments) and the arrays the scheme and sanction components declare;
- the schedule from the day's plan, :data:`scoresim.sim.DAY`;
- the submodels from the docstrings of the modules in :mod:`scoresim.model`;
- the random streams from the names the package's sources draw from;
- observation from :mod:`scoresim.declarations.outcomes`, event kinds and sanction effects
  from :mod:`scoresim.declarations`;
- every parameter, with the scenario's value, a unit, the schema's description and its
  provenance (a fact or an assumption, :mod:`scoresim.scenario.provenance`), by walking the
  scenario's pydantic models (a key added to the schema appears by itself).

``scoresim odd SCENARIO [--out FILE]``, or only the parameter table with ``--parameters``;
``docs/odd-seed.md`` is this for ``seed`` (a test checks it fresh: ``python -m
scoresim.experiments.odd seed docs/odd-seed.md``).
"""

from __future__ import annotations

import ast
import datetime as dt
import importlib
import inspect
import pkgutil
import re
import sys
import typing
from importlib import resources
from pathlib import Path

from pydantic import BaseModel

from scoresim.declarations import outcomes as declared_outcomes
from scoresim.declarations.events import EVENT_KINDS
from scoresim.declarations.sanctions import EFFECTS
from scoresim.scenario.schema import Scenario


def _declared(component: type) -> str:
    """A component class's declared state, as a list of names for the page."""
    return ", ".join(f"`{a.name}`" for a in component.STATE) or "(none)"

# ------------------------------------------------------------------------------ units

#: Units read from a key's last part, first match wins (names carry their unit: STYLE.md).
_NAME_UNITS: tuple[tuple[str, str], ...] = (
    (r"points_per_day$", "points per day"),
    (r"probability_per_day$", "chance per day (0-1)"),
    (r"_per_day$", "per day"),
    (r"_per_point$", "severity per point"),
    (r"_per_sanction$", "severity per sanction rule"),
    (r"(^|_)days$", "days"),
    (r"(^|_)points($|_scale$)|_score$|^(below|above|min|max)$", "points"),
    (r"_share_per_decile$", "share (0-1) per income decile"),
    (r"deciles_per_", "income deciles"),
    (r"_decile$", "income decile (0-9)"),
    (r"^count$", "people"),
    (r"degree", "ties per person"),
    (r"probability|_share$|^awareness$|^coverage$|^error_rate$|^tolerance$", "share (0-1)"),
    (r"opinion|critic_below", "opinion (-1 critic to +1 loyal)"),
    (r"^seed$", "(seed)"),
)


def unit(key: str, annotation, value, metadata: list | None = None) -> str:
    """The unit of a parameter, from its name and type (``metadata``: pydantic's field
    metadata, where the bounds of an annotated type end up)."""
    leaf = key.rsplit(".", 1)[-1].split("[", 1)[0]
    if ".rates_per_day." in f".{key}":
        return "events per person per day"
    if isinstance(value, bool) or annotation is bool:
        return "yes/no"
    if isinstance(value, dt.date) or dt.date in typing.get_args(annotation):
        return "date"
    for pattern, name in _NAME_UNITS:
        if re.search(pattern, leaf) and not (name == "opinion (-1 critic to +1 loyal)"
                                             and "beta" in leaf):
            return name
    base = typing.get_args(annotation)[0] if typing.get_origin(annotation) is typing.Annotated \
        else annotation
    if typing.get_origin(base) is typing.Literal:
        return "choice"
    if isinstance(value, list):
        return "names" if _of_strings(annotation) else "list of numbers"
    if _has_pattern(annotation, metadata or []):
        return "name"
    if isinstance(value, str) or value is None:
        return "text"
    if _bounded_share(annotation, metadata or []):
        return "share (0-1)"
    return "dimensionless"


def _of_strings(annotation) -> bool:
    """A list of names or other strings (or of literals: event kinds)."""
    stack, seen = [annotation], []
    while stack:
        a = stack.pop()
        seen.append(a)
        stack += [x for x in typing.get_args(a) if not isinstance(x, str | int | float)]
    return any(a is str or typing.get_origin(a) is typing.Literal for a in seen)


def _has_pattern(annotation, metadata: list) -> bool:
    """A name (a string with a pattern), or a list or optional of names."""
    items = list(metadata)
    stack = [annotation]
    while stack:
        a = stack.pop()
        if typing.get_origin(a) is typing.Annotated:
            items += list(typing.get_args(a)[1:])
        stack += [x for x in typing.get_args(a) if not isinstance(x, str | int | float)]
    return any(getattr(x, "pattern", None) for m in items
               for x in [m, *getattr(m, "metadata", [])])


def _bounded_share(annotation, metadata: list) -> bool:
    meta = list(metadata)
    if typing.get_origin(annotation) is typing.Annotated:
        meta += list(typing.get_args(annotation)[1:])
    items = [x for m in meta for x in [m, *getattr(m, "metadata", [])]]
    return (any(getattr(x, "ge", None) == 0 for x in items)
            and any(getattr(x, "le", None) == 1 for x in items))


# ------------------------------------------------------------------------- parameters


def parameters(scenario: Scenario) -> list[tuple[str, str, str, str]]:
    """Every parameter of the scenario as (dotted key, value, unit, meaning), in the
    schema's order."""
    rows: list[tuple[str, str, str, str]] = []

    def walk(model: BaseModel, prefix: str) -> None:
        for name, field in type(model).model_fields.items():
            key = f"{prefix}{name}"
            value = getattr(model, name)
            meaning = " ".join((field.description or "").split())
            if isinstance(value, BaseModel):
                walk(value, f"{key}.")
            elif isinstance(value, dict) and value and all(
                    isinstance(v, BaseModel) for v in value.values()):
                for sub, v in value.items():
                    walk(v, f"{key}.{sub}.")
            elif isinstance(value, list) and value and all(
                    isinstance(v, BaseModel) for v in value):
                for i, v in enumerate(value):
                    walk(v, f"{key}[{i}].")
            elif isinstance(value, dict):
                if not value:
                    rows.append((key, "(none)", "-", meaning))
                args = typing.get_args(field.annotation)
                entry = args[1] if len(args) == 2 else None
                for sub, v in value.items():
                    rows.append((f"{key}.{sub}", _show(v), unit(key, entry, v), meaning))
            else:
                rows.append((key, _show(value),
                             unit(key, field.annotation, value, field.metadata), meaning))

    walk(scenario, "")
    return rows


def provenance_column(scenario: Scenario) -> dict[str, str]:
    """{dotted key as :func:`parameters` writes it: the provenance shown in the table}."""
    from scoresim.scenario import provenance as prov

    entries = prov.provenance(scenario)
    skip = prov.unused(scenario)
    out = {}
    for leaf in prov.leaves(scenario):
        key = re.sub(r"\.(\d+)\.", r"[\1].", leaf.key)
        entry = entries.get(leaf.key)
        option = prov.run_option(leaf.name)
        if option:
            out[key] = f"not a parameter: {option}"
        elif leaf.name in skip:
            out[key] = f"no effect here: {skip[leaf.name]}"
        elif entry is None:
            out[key] = "none (no fact or assumption in provenance.toml)"
        elif not prov.documents(entry, leaf.value):
            out[key] = f"set here (documented: {prov.show(entry.value)}, {entry.short()})"
        else:
            out[key] = entry.short()
    return out


def parameter_table(scenario: Scenario) -> list[str]:
    """The Markdown table of every parameter: value, unit, provenance, meaning."""
    column = provenance_column(scenario)
    lines = ["| parameter | value | unit | provenance | meaning |", "|---|---|---|---|---|"]
    for key, value, u, meaning in parameters(scenario):
        lines.append(f"| `{key}` | {_cell(value)} | {u} | {_cell(column.get(key, '-'))} | "
                     f"{_cell(meaning)} |")
    return lines


def _show(value) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ", ".join(map(str, value)) if value else "(none)"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return f'"{value}"' if value else '""'
    return str(value)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


# ---------------------------------------------------------------------- declarations


def step_order(scenario: Scenario | None = None) -> list[str]:
    """The steps of a day, in order, as the simulation runs them (:data:`scoresim.sim.DAY`,
    with the steps of the components registered to the day: those ``scenario`` wants,
    where one is given)."""
    from scoresim.model.component import REGISTRY
    from scoresim.sim import DAY

    out = [f"**{stage.name}**: {stage.does}" for stage in DAY]
    for cls in REGISTRY:
        if scenario is not None and not cls.wanted(scenario):
            continue
        at = [s.split("**")[1] for s in out].index(cls.STAGE) + 1
        out.insert(at, f"**{cls.KEY}** (added component): {(cls.__doc__ or '').strip()}")
    return out


def people_fields() -> list[tuple[str, str]]:
    """(name, comment) of each per-person array, from the People declaration."""
    from scoresim.model.people import People

    source = inspect.getsource(People)
    out = []
    for line in source.splitlines():
        m = re.match(r"\s+(\w+):\s*np\.ndarray\s*(?:#\s*(.*))?$", line)
        if m:
            out.append((m.group(1), (m.group(2) or "").strip()))
    return out


def model_modules() -> list[tuple[str, str]]:
    """(module, docstring) of every module of the rules, in name order."""
    import scoresim.model as model

    out = []
    for info in sorted(pkgutil.iter_modules(model.__path__), key=lambda i: i.name):
        mod = importlib.import_module(f"scoresim.model.{info.name}")
        out.append((f"scoresim.model.{info.name}", inspect.getdoc(mod) or ""))
    return out


def plain_rules(module: str) -> list[tuple[str, str]]:
    """(name, first sentence of the docstring) of the module's public functions and
    classes defined there."""
    mod = importlib.import_module(module)
    out = []
    for name, obj in vars(mod).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module:
            continue
        if inspect.isfunction(obj) or inspect.isclass(obj):
            doc = (inspect.getdoc(obj) or "").split("\n\n")[0]
            if doc.startswith(f"{name}("):  # (a dataclass's generated signature)
                doc = ""
            out.append((name, " ".join(doc.split())))
    return out


def random_streams() -> list[str]:
    """The names of the random streams the package draws from (``streams.gen(NAME)``;
    an f-string's fields shown as {...}), read from its sources."""
    names: set[str] = set()
    root = resources.files("scoresim")

    def visit(folder) -> None:
        for item in folder.iterdir():
            if item.is_dir():
                visit(item)
            elif item.name.endswith(".py"):
                tree = ast.parse(item.read_text(encoding="utf-8"))
                for node in ast.walk(tree):
                    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                            and node.func.attr == "gen" and node.args):
                        arg = node.args[0]
                        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                            names.add(arg.value)
                        elif isinstance(arg, ast.JoinedStr):
                            names.add("".join(v.value if isinstance(v, ast.Constant)
                                              else "{" + ast.unparse(v.value) + "}"
                                              for v in arg.values))

    visit(root)
    return sorted(n for n in names if not n.startswith("trace."))


# --------------------------------------------------------------------------- protocol


def odd_protocol(sc: Scenario) -> str:
    """The ODD protocol of scenario ``sc`` as Markdown."""
    from scoresim.experiments.validation import CASES
    from scoresim.model.accumulation import Accumulation
    from scoresim.model.enrolment import Enrolment
    from scoresim.model.publishing import Publishing
    from scoresim.model.rules import CompiledRule
    from scoresim.model.sanctions import Sanctions

    ad = sc.adaptation
    L: list[str] = []
    add = L.append
    add(f"# ODD protocol: scenario `{sc.name}`")
    add("")
    add("Generated by `scoresim odd " + sc.name + "` from the model's declarations (the "
        "schema's key descriptions, `declarations/`, the step order in `sim.py`, the rules' "
        "docstrings in `model/`) and the scenario's values. The structure follows Grimm et "
        "al. (2020), \"The ODD protocol for describing agent-based and other simulation "
        "models: a second update\", JASSS 23(2) 7.")
    add("")

    # 1
    add("## 1. Purpose and patterns")
    add("")
    add("scoresim simulates a social-scoring system (China's planned Social Credit System "
        "and Alibaba's Sesame Credit, as two German reports describe them) on a synthetic "
        "society, to show and measure what it does to expression, friendships, careers, "
        "inequality, and to innocent people hit by data errors. Everyone in it is "
        "synthetic; it scores no real person.")
    add("")
    add(f"This scenario: {sc.description or '(no description)'}")
    add("")
    add("**Patterns** the model is checked against (the validation gallery, "
        "`scoresim validation`, docs/validation.md):")
    add("")
    for case in CASES:
        add(f"- {case.title}: {case.claim} ({case.source})")
    add("")
    add("**Outcomes** by which a run is evaluated: the outcome table, one row per day "
        f"({len(declared_outcomes.GLOBAL)} columns every scenario has, "
        f"{len(declared_outcomes.PER_SCHEME)} per scheme; section 4, Observation).")
    add("")

    # 2
    add("## 2. Entities, state variables and scales")
    add("")
    add(f"**People** ({sc.people.count:,} in this scenario), one array per attribute, one "
        "entry per person (`scoresim.model.people.People`):")
    add("")
    add("| state variable | type and meaning |")
    add("|---|---|")
    for name, comment in people_fields():
        add(f"| `{name}` | {_cell(comment)} |")
    add("")
    add("**Ties**: an undirected friendship network, the pairs `u < v` "
        f"(`scoresim.model.network.Network`); generated as `{sc.network.kind}` with mean "
        f"degree {sc.network.mean_degree:g}, changed by rewiring every "
        f"{ad.rewire_every_days} days.")
    add("")
    schemes = ", ".join(f"`{n}`" for n in sc.schemes) or "(none)"
    add(f"**Scoring schemes** ({schemes}), per person, as their components declare it: "
        "enrolment " + _declared(Enrolment) + "; own score " + _declared(Accumulation)
        + "; published score " + _declared(Publishing) + "; a capped rule "
        + _declared(CompiledRule) + " (`scoresim.model.scoring.Scheme`).")
    add("")
    add("**Sanctions**, per person: " + _declared(Sanctions)
        + " (`scoresim.model.sanctions.Sanctions`); per rule, who meets an ongoing "
        "sanction's condition today.")
    add("")
    add(f"**Data sources** ({', '.join(f'`{n}`' for n in sc.sources) or '(none)'}) and "
        "**sanction rules** "
        f"({', '.join(f'`{n}`' for n in sc.sanctions) or '(none)'}) carry no state of their "
        "own beyond the above; their parameters are listed in section 7.")
    add("")
    regions = ", ".join(f"{r} ({s:g})" for r, s in sc.people.regions.items())
    phases = ", ".join(f"{p} from {d}" for p, d in sorted(sc.phases.items(),
                                                           key=lambda kv: kv[1])) or "(none)"
    add(f"**Scales**: one step is one day; from {sc.start} to {sc.end} ({sc.days:,} days). "
        f"Space is not explicit: people belong to regions ({regions}) and to the network. "
        f"Phases: {phases}.")
    add("")

    # 3
    add("## 3. Process overview and scheduling")
    add("")
    add("Every day, in this order (`scoresim.sim.DAY`, which `Sim.step` runs); all people are "
        "updated together (synchronously) within each part, from the state the earlier "
        "parts left:")
    add("")
    for i, step in enumerate(step_order(sc), 1):
        add(f"{i}. {step}")
    add("")
    add(f"Ties are dropped and formed every {ad.rewire_every_days} days (part of "
        "adaptation). Friends' influence reads friends' published scores of the previous "
        "day.")
    add("")

    # 4
    add("## 4. Design concepts")
    add("")
    rule = {"strategic": "the strategic rule of Daymude, Axelrod and Forrest (2025), with "
                         f"{ad.punishment} punishment and tolerance {ad.tolerance:g}",
            "threshold": "a threshold cascade (Granovetter 1978, Kuran): a person voices "
                         "punished dissent once the share of friends who did reaches "
                         "their threshold",
            "falsification": "preference falsification (Kuran 1995): a person voices "
                             "their dissent where its expressive utility (boldness times "
                             "the dissent hidden) plus its reputational utility "
                             f"({ad.falsification.reputation_weight:g} times the share of "
                             f"{ad.falsification.observed} who voiced dissent, less the "
                             "share who did not) outweighs the punishment they expect "
                             f"({ad.punishment}), and otherwise keeps to the tolerance "
                             f"{ad.tolerance:g}",
            "none": "none: everyone says what they think"}.get(ad.self_censorship,
                                                               ad.self_censorship)
    concepts = [
        ("Basic principles", "Points for recorded acts add to an own score; friends' "
         "published scores pull one's own (a Friedkin-Johnsen influence model); scores "
         "gate privileges and sanctions; people adapt what they say, what they do and whom "
         f"they keep as friends. Self-censorship: {rule}."),
        ("Emergence", "Score distributions and inequality, self-censorship and the "
         "private/expressed gap, critics' isolation, wrongful and association sanctions, "
         "access gaps by income and region arise from the individual rules; nothing of "
         "these is imposed."),
        ("Adaptation", "People choose how much dissent to express (above), raise rewarded "
         f"and lower punished acts they know of (gaming strength "
         f"{ad.gaming_strength:g}), drop friends whose visible scores drag theirs, form "
         "ties by homophily, and opt out where allowed."),
        ("Objectives", "In the strategic rule a person chooses the dissent that maximises "
         "their utility: expressing what they desire, weighted by their boldness, against "
         "the punishment they expect (surveillance, tolerance and severity); other choices "
         "follow rules of thumb."),
        ("Learning", "Knowledge of a transparent scheme's rules is a share `awareness` at "
         "enrolment; of an opaque scheme (M13) it grows only when one sees one's own "
         f"published score move, by what the days since the scheme's last recomputation "
         f"teach (rate {ad.learning_rate_per_day:g} per day)."),
        ("Prediction", "Implicit: the strategic rule weighs the punishment a dissenting act "
         "would bring; no one forecasts beyond the day."),
        ("Sensing", "People see their own score and friends' scores where the scheme's "
         "visibility allows, the rules they know, the surveillance and severity of dissent "
         "where they are, and (threshold rule) what friends expressed the day before."),
        ("Interaction", "Direct through ties (friends' scores, unfriending, new ties, "
         "friends' expression); mediated through data sources, schemes and sanctions "
         "(misattributed records land on others)."),
        ("Stochasticity", "Events, records, misattribution, enrolment, life events, ties "
         "and the population are random; every decision draws from its own named stream "
         "spawned from one seed, keyed by (seed, name, step), so two scenarios share draws "
         f"where they do not differ. Seed {sc.seed}. Streams: "
         + ", ".join(f"`{s}`" for s in random_streams()) + "; per-record draws keyed by "
         "(person, kind name)."),
        ("Collectives", "Regions (regional rules, M3), age bands, enrolment states; the "
         "network's clusters are not modelled as entities."),
        ("Observation", "One row of the outcome table per day "
         "(`scoresim.declarations.outcomes`): "
         + "; ".join(f"`{c.name}` ({c.unit})" for c in declared_outcomes.GLOBAL)
         + ". Per scheme NAME: " + "; ".join(f"`NAME_{c.name}` ({c.unit})"
                                             for c in declared_outcomes.PER_SCHEME) + "."),
    ]
    for title, text in concepts:
        add(f"- **{title}.** {text}")
    add("")

    # 5
    add("## 5. Initialisation")
    add("")
    p = sc.people
    add(f"{p.count:,} people are drawn from the seed ({sc.seed}): regions by their shares; "
        f"age bands {p.age_shares.student:g} students, {p.age_shares.working:g} working, "
        f"{p.age_shares.retired:g} retired; private opinion 2 Beta({p.opinion_beta_a:g}, "
        f"{p.opinion_beta_b:g}) - 1, expressed opinion equal to it; accounts, foreigners, "
        "bill reliability, income and jobs from the `people` keys (section 7). The "
        f"network is generated ({sc.network.kind}). Each scheme's own and published "
        "scores start at its initial score:")
    add("")
    for name, s in sc.schemes.items():
        add(f"- `{name}`: initial score {s.initial_score:g} in [{s.min_score:g}, "
            f"{s.max_score:g}], enrolment {s.enrolment.mode} ({s.enrolment.eligible})"
            + (f", mandatory from phase {s.enrolment.mandatory_from_phase}"
               if s.enrolment.mandatory_from_phase else "") + ".")
    if not sc.schemes:
        add("- no scoring scheme.")
    add("")

    # 6
    add("## 6. Input data")
    add("")
    if sc.network.kind == "edgelist":
        add(f"The friendship ties are read from `{sc.network.path}`. No other external "
            "data drive the model.")
    else:
        add("None: no time series or external data drive the model; policy changes are "
            "dated phases and keys of the scenario.")
    add("")

    # 7
    add("## 7. Submodels")
    add("")
    add("Each rule is a plain numpy function in `src/scoresim/model/` (the reference "
        "engine runs these; the default engine runs compiled kernels that give the same "
        "numbers bit for bit). The modules, as their docstrings state them:")
    add("")
    for module, doc in model_modules():
        add(f"### `{module}`")
        add("")
        if doc:
            add("```text")
            add(doc)
            add("```")
            add("")
        rules = plain_rules(module)
        if rules:
            add("| rule | what it does |")
            add("|---|---|")
            for name, text in rules:
                add(f"| `{name}` | {_cell(text) or '-'} |")
            add("")
    add("### Event kinds")
    add("")
    add("| kind | rate per person per day | rate follows | political | what it is |")
    add("|---|---|---|---|---|")
    rates = sc.behaviour.rates_per_day
    for k in EVENT_KINDS:
        rate = getattr(rates, k.name, k.rate_per_day)
        add(f"| `{k.name}` | {rate:g} | {k.factor or '-'} | "
            f"{'yes' if k.political else 'no'} | {_cell(k.description)} |")
    add("")
    add("### Sanction effects")
    add("")
    add("| effect | kind | what it does |")
    add("|---|---|---|")
    for e in EFFECTS:
        add(f"| `{e.name}` | {'privilege' if e.privilege else 'sanction'} | "
            f"{_cell(e.acts_on)} |")
    add("")
    add("### Parameters")
    add("")
    add("Every key of the scenario, with its value here, its unit, its provenance (a fact "
        "with its source, or an assumption with its range: docs/parameters.md gives the "
        "figures, transformations and reasons) and its meaning (the schema's description; "
        "docs/scenarios.md has types, bounds and defaults).")
    add("")
    L.extend(parameter_table(sc))
    add("")
    return "\n".join(L)


if __name__ == "__main__":
    from scoresim.scenario.loading import load_scenario

    name = sys.argv[1] if len(sys.argv) > 1 else "seed"
    text = odd_protocol(load_scenario(name))
    if len(sys.argv) > 2:
        Path(sys.argv[2]).write_text(text, encoding="utf-8")
    else:
        print(text, end="")
