"""The app's scenarios: presets or an uploaded file, the main knobs, the resolved TOML and
the command that reproduces a run.

An uploaded file is parsed from memory and refused before anything runs if it is too large,
not UTF-8 TOML, names a file to read (``extends`` other than a preset, an edge list) or
fails validation; the message names the key and what was expected, as the CLI does. The
server never opens a path a page chose.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from scoresim.errors import ScenarioError, one_line
from scoresim.limits import parse_toml
from scoresim.results.run_folder import scenario_toml
from scoresim.scenario import schema as model
from scoresim.scenario.loading import (
    apply_overrides,
    load_scenario,
    preset_names,
    read_raw,
    validate,
)
from scoresim.scenario.schema import Scenario
from scoresim.sim import resize

MAX_UPLOAD_BYTES = 64 * 1024


def _doc(cfg: type, name: str) -> str:
    return " ".join((cfg.model_fields[name].description or "").split())


@dataclass(frozen=True)
class Knob:
    """One of the main knobs: the dotted keys it sets in a scenario and its help text."""

    name: str
    label: str
    kind: str  # "number", "choice" or "date"
    doc: str
    bounds: tuple[float, float, float] = (0.0, 1.0, 0.01)  # (start, end, step) of a number
    options: tuple[str, ...] = ()

    def keys(self, sc: Scenario) -> list[str]:
        """The dotted keys this knob sets in ``sc`` (none: it does not apply)."""
        if self.name == "friend_weight":
            return [f"schemes.{n}.friend_weight" for n in sc.schemes]
        if self.name == "critical_points":
            return [f"schemes.{n}.rules.{i}.points" for n, s in sc.schemes.items()
                    for i, r in enumerate(s.rules) if r.kind == "critical_statement"]
        if self.name == "visibility":
            return [f"schemes.{n}.visibility" for n in sc.schemes]
        if self.name == "mandatory_date":
            phases = {s.enrolment.mandatory_from_phase for s in sc.schemes.values()}
            return [f"phases.{p}" for p in sorted(p for p in phases if p)]
        if self.name == "error_rate":
            return [f"sources.{s}.error_rate" for s in sc.sources]
        if self.name == "self_censorship":
            return ["adaptation.self_censorship"]
        raise KeyError(self.name)

    def value(self, sc: Scenario) -> Any:
        """The scenario's value (of the first key it sets), or None if it does not apply."""
        keys = self.keys(sc)
        if not keys:
            return None
        node: Any = sc
        for part in keys[0].split("."):
            node = node[int(part)] if part.isdigit() else (
                node[part] if isinstance(node, dict) else getattr(node, part))
        return node

    def help(self, sc: Scenario) -> str:
        """The documentation, with what the knob sets in this scenario."""
        keys = self.keys(sc)
        if not keys:
            return f"{self.doc} (Not used by scenario {sc.name}.)"
        if self.name == "error_rate":
            rates = ", ".join(f"{s} {c.error_rate:g}" for s, c in sc.sources.items())
            return f"{self.doc} Sets every source to this rate (now: {rates})."
        return f"{self.doc} Sets {', '.join(keys)}."


KNOBS: tuple[Knob, ...] = (
    Knob("friend_weight", "friends' weight in a score", "number",
         "Friend influence (M4): " + _doc(model.SchemeConfig, "friend_weight"),
         bounds=(0.0, 1.0, 0.05)),
    Knob("critical_points", "points for a critical statement", "number",
         "Political points (M2): " + _doc(model.RuleConfig, "points")
         + " Applies to the rules on critical statements.", bounds=(-50.0, 10.0, 1.0)),
    Knob("visibility", "score visibility", "choice",
         _doc(model.SchemeConfig, "visibility"),
         options=get_args(model.SchemeConfig.model_fields["visibility"].annotation)),
    Knob("mandatory_date", "mandatory from", "date",
         "Start date of the phase from which enrolment is mandatory (M7): "
         + _doc(model.EnrolmentConfig, "mandatory_from_phase")),
    Knob("error_rate", "data-source error rate", "number",
         "Data errors (M11): " + _doc(model.SourceConfig, "error_rate"),
         bounds=(0.0, 0.1, 0.001)),
    Knob("self_censorship", "self-censorship rule", "choice",
         _doc(model.AdaptationConfig, "self_censorship"),
         options=get_args(model.AdaptationConfig.model_fields["self_censorship"].annotation)),
)
KNOB = {k.name: k for k in KNOBS}
PEOPLE_DOC = _doc(model.PeopleConfig, "count")


def _display_name(filename: str) -> str:
    """A name for messages: the file's base name, reduced to safe characters."""
    base = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(filename or "upload.toml").name)[:60]
    return base or "upload.toml"


def _scenario_name(display: str) -> str:
    stem = re.sub(r"[^a-z0-9_]", "_", Path(display).stem.lower()).strip("_")
    return stem if stem[:1].isalpha() else f"upload_{stem}".rstrip("_")


@dataclass
class Base:
    """A scenario as chosen: a preset, or an uploaded file (merged with its preset)."""

    label: str
    preset: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)  # an upload's merged keys
    scenario: Scenario | None = None

    @classmethod
    def of_preset(cls, name: str) -> Base:
        if name not in preset_names():
            raise ScenarioError(f"{name!r}: no such preset; presets are "
                                f"{', '.join(preset_names())}.")
        return cls(label=name, preset=name, scenario=load_scenario(name))

    @classmethod
    def of_upload(cls, data: bytes, filename: str) -> Base:
        name = _display_name(filename)
        if len(data) > MAX_UPLOAD_BYTES:
            raise ScenarioError(f"{name}: {len(data):,} bytes; the app accepts scenario files "
                                f"of at most {MAX_UPLOAD_BYTES // 1024} KiB.")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ScenarioError(f"{name}: not a text file (expected UTF-8 TOML).") from None
        # (its shape first: dotted parts, nesting and numbers bound what the parser holds;
        # a 64 KiB key of 32,000 parts took tomllib 4 GB)
        own = parse_toml(text, name)
        parent = own.get("extends")
        if parent is not None and parent not in preset_names():
            raise ScenarioError(
                f"{name}: key `extends`: in the app a scenario may extend a preset only "
                f"({', '.join(preset_names())}), got {parent!r}: the server reads no file "
                "that a page names.")
        net = own.get("network")
        if isinstance(net, dict) and ("path" in net or net.get("kind") == "edgelist"):
            raise ScenarioError(
                f"{name}: key `network.path`: the app reads no edge list (the server reads no "
                "file that a page names); expected network.kind small_world, scale_free or "
                "region_clustered.")
        with tempfile.TemporaryDirectory(prefix="scoresim-upload-") as tmp:
            path = Path(tmp) / "upload.toml"  # (a name the server chose)
            path.write_bytes(data)
            try:
                raw = read_raw(path)
                raw.setdefault("name", _scenario_name(name))
                scenario = validate(raw, path)
            except ScenarioError as exc:
                raise ScenarioError(str(exc).replace(str(path.resolve()), name)
                                    .replace(str(path), name)) from None
            except (RecursionError, ValueError, OverflowError, MemoryError) as exc:
                raise ScenarioError(f"{name}: {one_line(exc)}") from None
        return cls(label=f"{name} (uploaded)", raw=raw, scenario=scenario)

    def with_overrides(self, overrides: dict[str, Any]) -> Scenario:
        if not overrides:
            assert self.scenario is not None
            return self.scenario
        if self.preset is not None:
            return load_scenario(self.preset, overrides)
        return validate(apply_overrides(self.raw, overrides), Path(self.label), overrides)


def overrides_for(sc: Scenario, values: dict[str, Any]) -> dict[str, Any]:
    """The dotted keys to set for knob values that differ from the scenario's own."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        knob = KNOB[name]
        current = knob.value(sc)
        if value is None or current is None or value == current:
            continue
        if knob.kind == "number":
            value = float(value)
        elif knob.kind == "date" and isinstance(value, dt.datetime):
            value = value.date()
        for key in knob.keys(sc):
            out[key] = value
    return out


def resolved(sc: Scenario, people: int, days: int, seed: int) -> Scenario:
    """The scenario exactly as it runs (people, days and seed set)."""
    return resize(sc, people=people, days=days, seed=seed)


def resolved_toml(sc: Scenario) -> str:
    return scenario_toml(sc)


def _set_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _run_args(base: Base, overrides: dict[str, Any], file: str) -> list[str]:
    if base.preset is None:
        return [file]  # (the resolved file holds the knobs' values)
    args = [base.preset]
    for key, value in overrides.items():
        args += ["--set", f"{key}={_set_value(value)}"]
    return args


def reproduce(a: Base, a_overrides: dict[str, Any], b: Base | None,
              b_overrides: dict[str, Any] | None, people: int, days: int, seed: int,
              replicates: int, traced: list[int]) -> str:
    """The CLI commands that give this run again (with the sampled people's ledger)."""
    size = ["--people", str(people), "--days", str(days)]
    lines = []
    trace = ["--trace-ids", ",".join(map(str, traced))] if traced else []
    regimes = [("a", a, a_overrides)] + ([("b", b, b_overrides or {})] if b else [])
    for label, base, ov in regimes:
        args = ["scoresim", "run", *_run_args(base, ov, f"scenario-{label}.toml"), *size,
                "--seed", str(seed), *trace, "--out", f"runs/app-{label}"]
        lines.append(shlex.join(args))
    if b is not None:
        def name(label: str, base: Base, ov: dict) -> str:
            return base.preset if base.preset and not ov else f"scenario-{label}.toml"

        lines.append(shlex.join(["scoresim", "compare", name("a", a, a_overrides),
                                 name("b", b, b_overrides or {}), "--replicates",
                                 str(replicates), *size, "--seed", str(seed), "--out",
                                 "runs/app-compare"]))
    return "\n".join(lines)
