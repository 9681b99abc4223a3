"""Loading scenarios: presets and files, ``extends`` with deep merge, clear errors.

Merge rule for ``extends``: tables merge key by key, everything else (numbers, strings,
arrays) is replaced. ``replace = ["schemes", "sanctions"]`` drops those (dotted) keys of the
parent before the merge: that is how ``baseline`` removes every scheme and sanction of
``seed``, and how ``sesame`` keeps only its own.
"""

from __future__ import annotations

import copy
import difflib
import re
import typing
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from scoresim.errors import ScenarioError, cut, cut_path
from scoresim.limits import MAX_KEY_PARTS, read_toml
from scoresim.scenario.schema import Scenario

PRESET_DIR = "presets"
#: Problems listed in one error message; the rest are counted.
MAX_PROBLEMS = 20


def preset_names() -> list[str]:
    files = resources.files("scoresim.scenario").joinpath(PRESET_DIR).iterdir()
    return sorted(p.name[:-5] for p in files if p.name.endswith(".toml"))


def _preset_path(name: str) -> Path:
    return Path(str(resources.files("scoresim.scenario").joinpath(PRESET_DIR, f"{name}.toml")))


def resolve_source(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    """A preset name or a file path -> the file to read."""
    text = str(name_or_path)
    if text in preset_names():
        return _preset_path(text)
    path = Path(text)
    if relative_to is not None and not path.is_absolute():
        path = relative_to / path
    if path.is_file():
        return path
    if path.exists():
        from scoresim.limits import read_bytes

        read_bytes(path, "scenario file", 0)  # (raises: names what it is instead)
    raise ScenarioError(
        f"{cut(text)}: no such preset or scenario file. Presets are: "
        f"{', '.join(preset_names())}; a file path must point to an existing .toml file."
    )


def resolve_inside(ref: str, folder: Path, key: str, where: Path) -> Path:
    """A preset name, or a path relative to ``folder`` that stays inside it (``key`` of the
    file ``where``): a scenario from elsewhere cannot make scoresim read files outside its
    own folder. Paths given on the command line are not limited."""
    if ref in preset_names():
        return _preset_path(ref)
    path = Path(ref)
    if path.is_absolute():
        raise ScenarioError(f"{cut_path(where)}: key `{key}`: expected a preset name or a "
                            "path relative to the file's folder, got the absolute path "
                            f"{cut(ref)!r}.")
    target = (folder / path).resolve()
    if not target.is_relative_to(folder.resolve()):
        raise ScenarioError(f"{cut_path(where)}: key `{key}`: {cut(ref)!r} leads outside the "
                            f"file's folder ({cut_path(folder)}); keep shared files in that "
                            "folder or below.")
    return target


def safe_name(stem: str) -> str:
    """A file name's stem as a scenario name: letters, digits, - and _ only."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-")[:64]
    return name or "scenario"


def deep_merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    out = dict(parent)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    """A regular file under the size cap, UTF-8, shallow enough: see :mod:`scoresim.limits`."""
    return read_toml(path, "scenario file")


def read_raw(path: Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a scenario file and everything it extends, merged (no validation yet)."""
    path = path.resolve()
    if path in _seen:
        chain = " -> ".join(str(p) for p in (*_seen, path))
        raise ScenarioError(f"{cut_path(path)}: `extends` forms a cycle: {chain}.")
    raw = _read_toml(path)
    parent_ref = raw.pop("extends", None)
    replace = raw.pop("replace", [])
    if parent_ref is None:
        if replace:
            raise ScenarioError(f"{cut_path(path)}: key `replace` needs `extends` (what to "
                                "replace in).")
        return raw
    if not isinstance(replace, list) or not all(isinstance(k, str) for k in replace):
        raise ScenarioError(
            f"{cut_path(path)}: key `replace`: expected a list of dotted keys such as "
            f'["schemes", "sanctions"], got {replace!r}.'
        )
    if not isinstance(parent_ref, str):
        raise ScenarioError(
            f"{cut_path(path)}: key `extends`: expected a preset name or a relative path (a "
            f"string), got {cut(parent_ref)}."
        )
    parent_path = resolve_inside(parent_ref, path.parent, "extends", path)
    if not parent_path.exists():
        raise ScenarioError(f"{cut_path(path)}: key `extends`: {cut(parent_ref)}: no such "
                            f"preset or scenario file in {cut_path(path.parent)}. Presets are: "
                            f"{', '.join(preset_names())}.")
    parent = read_raw(parent_path, (*_seen, path))
    for dotted in replace:
        *head, last = dotted.split(".")
        node = parent
        for part in head:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or last not in node:
            raise ScenarioError(
                f"{cut_path(path)}: key `replace`: {cut(dotted)!r} is not a key of "
                f"{cut(parent_path.name)}."
            )
        del node[last]
    return deep_merge(parent, raw)


def apply_overrides(raw: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Set dotted keys in a raw scenario mapping: ``people.count``, or with a list index,
    ``schemes.government.rules.3.points``. Missing tables are created."""
    out = copy.deepcopy(raw)
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        if len(parts) > MAX_KEY_PARTS:
            raise ScenarioError(f"--set {cut(dotted)}: more than {MAX_KEY_PARTS} dotted parts; "
                                "keys of a scenario have a few.")
        node: Any = out
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise ScenarioError(
                        f"--set {cut(dotted)}: {'.'.join(parts[:i])} is a list of {len(node)}; "
                        f"expected an index from 0 to {len(node) - 1}, got {cut(part)!r}."
                    )
                key: Any = int(part)
            elif isinstance(node, dict):
                key = part
                if not last and not isinstance(node.get(part), dict | list):
                    node[part] = {}
            else:
                raise ScenarioError(
                    f"--set {cut(dotted)}: {cut('.'.join(parts[:i]))} is a value, not a table."
                )
            if last:
                node[key] = value
            else:
                node = node[key]
    return out


def load_scenario(
    name_or_path: str | Path, overrides: dict[str, Any] | None = None
) -> Scenario:
    """Load a preset by name or a TOML file by path, apply dotted overrides, validate."""
    path = resolve_source(name_or_path)
    raw = read_raw(path)
    if overrides:
        raw = apply_overrides(raw, overrides)
    raw.setdefault("name", safe_name(path.stem))
    scenario = validate(raw, path, overrides)
    check_edgelist_path(scenario, path, overrides)
    check_resolved_size(scenario, path)
    return scenario


def resolved_toml(scenario: Scenario) -> str:
    """The fully resolved scenario as TOML: what a run folder's ``scenario.toml`` holds and
    ``scoresim show`` prints."""
    import tomli_w

    return tomli_w.dumps(scenario.model_dump(mode="python", exclude_none=True))


def check_resolved_size(scenario: Scenario, path: Path | str) -> None:
    """Refuse a scenario whose resolved form (a run folder's ``scenario.toml``) would be
    larger than a scenario file may be: it could be written, but never read back to run
    again (a short list of numbers in the file is written one per line)."""
    from scoresim.limits import TOML_MAX_BYTES, _size

    size = len(resolved_toml(scenario).encode("utf-8"))
    if size > TOML_MAX_BYTES:
        raise ScenarioError(
            f"{cut_path(path)}: the resolved scenario (the scenario.toml a run writes) would "
            f"be {_size(size)}, but at most {_size(TOML_MAX_BYTES)} of a scenario file is "
            "read, so the run could not be repeated from it; give long per-person lists as a "
            "file (people.thresholds.distribution = \"file\") and fewer regions or rules.")


def check_edgelist_path(scenario: Scenario, path: Path, overrides: dict[str, Any] | None
                        ) -> None:
    """An edge list named in a scenario file stays inside the file's folder (one given with
    ``--set network.path=...`` on the command line may lie anywhere)."""
    ref = scenario.network.path
    if scenario.network.kind != "edgelist" or not ref or "network.path" in (overrides or {}):
        return
    resolve_inside(ref, path.parent, "network.path", path)


def validate(
    raw: dict[str, Any], path: Path | str, overrides: dict[str, Any] | None = None
) -> Scenario:
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(explain_validation(exc, Path(path), overrides)) from None


# ----------------------------------------------------------------------------- messages


def _model_at(loc: tuple[Any, ...], root: type[BaseModel]) -> type[BaseModel] | None:
    """The pydantic model that holds the last key of ``loc``, for 'did you mean'."""
    node: Any = root
    for part in loc[:-1]:
        if isinstance(node, type) and issubclass(node, BaseModel):
            field = node.model_fields.get(str(part))
            if field is None:
                return None
            node = field.annotation
        else:
            args = typing.get_args(node)
            node = args[-1] if args else None
        while typing.get_origin(node) in (typing.Union, type(int | None)):
            node = next(a for a in typing.get_args(node) if a is not type(None))
        if typing.get_origin(node) is typing.Annotated:
            node = typing.get_args(node)[0]
    return node if isinstance(node, type) and issubclass(node, BaseModel) else None


def _line_of(path: Path, key: str) -> int | None:
    from scoresim.limits import read_text

    try:
        lines = read_text(path, "file").splitlines()
    except ScenarioError:
        return None
    pattern = re.compile(rf"^\s*(\[+\s*)?([\w.\"-]*\.)?{re.escape(key)}\s*(=|\]|\.)")
    for number, line in enumerate(lines, start=1):
        if pattern.match(line):
            return number
    return None


def _as_given(value: Any) -> str:
    """An override's value as it was written on the command line (TOML), cut."""
    import datetime as dt

    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return cut(value)


def explain_validation(exc: ValidationError, path: Path, overrides: dict[str, Any] | None = None,
                       root: type[BaseModel] = Scenario) -> str:
    """One paragraph per problem: file, line, dotted key, what was given and expected."""
    overrides = overrides or {}
    parts = []
    errors = exc.errors()
    for err in errors[:MAX_PROBLEMS]:
        loc = tuple(p for p in err["loc"]
                    if not str(p).startswith("function-after") and p != "[key]")
        dotted = ".".join(str(p) for p in loc) or "(top level)"
        where = cut_path(path)
        set_by = [k for k in overrides if k == dotted or k.startswith(dotted + ".")
                  or dotted.startswith(k + ".")]
        key_for_line = next((str(p) for p in reversed(loc) if isinstance(p, str)), None)
        line = _line_of(path, key_for_line) if key_for_line else None
        if not set_by and not loc:  # (a check of the whole scenario: any override may count)
            set_by = list(overrides)
        if set_by:
            where += " with " + ", ".join(f"--set {cut(k)}={_as_given(overrides[k])}"
                                          for k in set_by[:3])
            if len(set_by) > 3:
                where += f" (and {len(set_by) - 3:,} more)"
        elif line is not None:
            where += f", line {line}"
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if err["type"] == "string_pattern_mismatch":
            msg = ("a scenario name is 1 to 64 letters, digits, - and _ (never a path)"
                   if loc == ("name",) else
                   "a name is lower-case letters, digits and _, starting with a letter")
        if err["type"] == "extra_forbidden":
            model = _model_at(loc, root)
            valid = sorted(model.model_fields) if model else []
            guess = difflib.get_close_matches(str(loc[-1])[:100], valid, n=1)
            hint = f" Did you mean `{guess[0]}`?" if guess else ""
            parts.append(
                f"{where}: unknown key `{cut(dotted)}`.{hint} Valid keys here: "
                f"{', '.join(valid)}."
            )
        elif err["type"] == "missing":
            parts.append(f"{where}: key `{cut(dotted)}` is required but missing.")
        else:
            given = err.get("input")
            shown = "" if isinstance(given, dict) or repr(given) in msg else f", got {cut(given)}"
            parts.append(f"{where}: key `{cut(dotted)}`: {cut(msg, 300)}{shown}.")
    if len(errors) > MAX_PROBLEMS:
        parts.append(f"{cut_path(path)}: ... and {len(errors) - MAX_PROBLEMS:,} more problems.")
    return "\n".join(parts)
