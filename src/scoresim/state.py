"""Every piece of a simulation's mutable state, named in one place; checkpoints.

A simulation is its scenario and seed (which rebuild everything derived from them: the
population's draws, the network's first ties, the sources' linkage draws, the compiled
rules) plus the state its components declare (:mod:`scoresim.model.component`), which the
steps change. :func:`collect` takes that state from a running :class:`~scoresim.sim.Sim`,
:func:`restore` puts it into a freshly built one, :func:`resized` cuts and extends it by
each array's declared axis, and :func:`save` / :func:`read` write it to a checkpoint
folder and read it back. No array is named here: a component's declarations are the
list. Random draws need no state: every stream is keyed by (seed, name, step).

A checkpoint folder holds ``checkpoint.json`` (the scoresim version, the scenario as it
ran, the step reached, and the state's small values) and ``state.npz`` (its arrays; read
without pickle, so a checkpoint from someone else cannot run code). A checkpoint names its
scoresim version and is refused by another.

At a fork (continuing with changed keys), the society stays as it was (people, network,
sources, seed and start cannot change: :data:`SOCIETY_KEYS`); a scheme's, a rule's or a
sanction's state carries over where the name (and for a rule its definition) is the same,
and starts afresh where it is new.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from scoresim.errors import ScenarioError
from scoresim.model.component import OTHER, ROW, Array, like
from scoresim.version import __version__

if TYPE_CHECKING:
    from scoresim.sim import Sim

#: Checkpoint format: 4 since the components declare their state (keys by component),
#: checkpoint.json records the SHA-256 of state.npz and scenario.toml, and each scheme's
#: publishing keeps ``s_own`` and pulls ``s_clean`` toward friends' ``s_clean``. A
#: checkpoint of another format is refused.
FORMAT = 4
#: Top-level scenario keys that define the society: a fork cannot change them.
SOCIETY_KEYS = ("seed", "start", "people", "network", "sources", "demography",
                "burn_in_days")


@dataclasses.dataclass
class State:
    """A simulation's mutable state: ``arrays`` by dotted name (``KEY.name`` of the
    component that declares it), ``values`` (small, JSON-able) by dotted name, and the
    step the next day starts at. ``specs``: each array's declaration (its axis), where
    known (a checkpoint read back has the declarations of the simulation it goes into)."""

    step: int
    arrays: dict[str, np.ndarray]
    values: dict[str, Any]
    specs: dict[str, Array] = dataclasses.field(default_factory=dict)


def collect(sim: Sim) -> State:
    """The state of ``sim`` between two steps, as its components declare it (views, not
    copies: save or copy it before the next step)."""
    arrays: dict[str, np.ndarray] = {}
    specs: dict[str, Array] = {}
    values: dict[str, Any] = {}
    for component in sim.components():
        component.gather(arrays, specs, values)
    return State(sim.t, arrays, values, specs)


def resized(state: State, n: int, keep: np.ndarray, add: int) -> State:
    """``state`` (of ``n`` people) with the people of the slots ``keep`` (ascending) kept,
    in their order, and ``add`` empty slots after them (zeros: the caller makes them
    newcomers). By each array's declared axis: a person array is cut and extended along
    its last axis; a table of rows (ties, record-log entries) loses the rows of people not
    kept and has its slot arrays renumbered (the order of rows is kept: the renumbering
    keeps the slots' order); anything else is kept as it is. A person array without
    ``n`` values on its last axis is refused (ValueError naming it)."""
    keep = np.asarray(keep, np.int64)
    if keep.size and (np.any(np.diff(keep) <= 0) or keep[0] < 0 or keep[-1] >= n):
        raise ValueError("keep: expected ascending slots of the population")
    index = np.full(n, -1, np.int64)  # old slot -> new slot (-1: gone)
    index[keep] = np.arange(keep.size)
    m = keep.size + int(add)
    a, specs = state.arrays, state.specs
    out: dict[str, np.ndarray] = {}
    tables: dict[str, list[str]] = {}
    for key, x in a.items():
        spec = specs.get(key)
        if spec is None:
            raise ValueError(f"{key}: not declared by any component (declare it with its "
                             "axis: scoresim.model.component.Array)")
        if spec.axis == OTHER:
            out[key] = x
        elif spec.axis == ROW:
            tables.setdefault(f"{key.rsplit('.', 1)[0]}:{spec.table}", []).append(key)
        else:
            if x.ndim == 0 or x.shape[-1] != n:
                raise ValueError(f"{key}: {x.dtype}{list(x.shape)} is not one value per "
                                 f"person ({n}); declare its axis")
            y = np.zeros(x.shape[:-1] + (m,), x.dtype)
            y[..., :keep.size] = x[..., keep]
            out[key] = y
    for keys in tables.values():
        slots = [k for k in keys if specs[k].slots]
        kept = np.ones(a[keys[0]].shape[-1], bool)
        for k in slots:
            kept &= index[a[k]] >= 0
        for k in keys:
            x = a[k][..., kept]
            out[k] = index[x].astype(x.dtype) if specs[k].slots else x
    return State(state.step, out, dict(state.values), dict(specs))


def ties(n: int, a: dict[str, np.ndarray]):
    """The saved network of ``n`` people (checked: whole-number ids below ``n``)."""
    from scoresim.model.network import Network

    u, v = a["network.u"], a["network.v"]
    if (u.ndim != 1 or u.shape != v.shape or u.dtype.kind not in "iu"
            or v.dtype.kind not in "iu"
            or (u.size and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= n))):
        raise ValueError("network.u, network.v: not the ties of this population")
    net = Network(n, u, v)  # (saved in order: the same order of ties)
    net.formed = like("network.formed", a["network.formed"], net.formed)
    net.capacity = like("network.capacity", a["network.capacity"], net.capacity)
    return net


def restore(sim: Sim, state: State) -> None:
    """Put ``state`` into ``sim``, freshly built from the scenario (with the same society)
    it is to continue, on the checkpoint's ties (``Sim(..., network=ties(n, arrays))``):
    each component takes its own arrays and values (:meth:`Component.load`); caches are
    dropped so that they are made again."""
    for component in sim.components():
        component.load(state.arrays, state.values)
    if sim.adaptation.expressed_dissent.shape != (sim.people.n,):
        raise ValueError("adaptation.expressed_dissent: not one value per person")
    sim.t = state.step


# ------------------------------------------------------------------ checkpoint folders


def save(sim: Sim, folder: Path | str) -> Path:
    """Write a checkpoint of ``sim`` (between steps) to ``folder`` (created; must not
    exist), atomically: written under a temporary name, then renamed."""
    from scoresim.results.integrity import checkpoint_digests
    from scoresim.results.run_folder import scenario_toml

    if sim.tracer is not None:
        raise ScenarioError("checkpoints of a traced run are not supported: run without "
                            "--trace and --trace-ids.")
    folder = Path(folder)
    if folder.exists():
        raise ScenarioError(f"{folder}: exists already; a checkpoint is never overwritten.")
    state = collect(sim)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.partial-", dir=folder.parent))
    date = sim.dates[sim.t - 1] if sim.t else None
    meta = {"format": FORMAT, "scoresim_version": __version__, "step": state.step,
            "date": str(date) if date else None, "people": sim.people.n,
            "values": state.values}
    with open(tmp / "state.npz", "wb") as fh:
        np.savez(fh, **state.arrays)
    (tmp / "scenario.toml").write_text(scenario_toml(sim.scenario), encoding="utf-8")
    meta["sha256"] = checkpoint_digests(tmp)
    (tmp / "checkpoint.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    os.replace(tmp, folder)
    return folder


def read(folder: Path | str) -> tuple[dict[str, Any], State, str]:
    """(metadata, state, scenario TOML text) of a checkpoint folder; a clear error if it
    is not one, is damaged, or was written by another version of scoresim."""
    from scoresim.results.integrity import open_checkpoint, read_checkpoint_meta

    folder = Path(folder)
    meta_path = folder / "checkpoint.json"
    meta = read_checkpoint_meta(folder)  # (files read as run folders' are: integrity.py)
    try:
        version, fmt = meta["scoresim_version"], meta["format"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ScenarioError(f"{meta_path}: not a readable checkpoint ({exc}).") from None
    if version != __version__ or fmt != FORMAT:
        raise ScenarioError(
            f"{folder}: written by scoresim {version} (format {fmt}); this is scoresim "
            f"{__version__} (format {FORMAT}), which does not read it.")
    if not (isinstance(meta.get("step"), int) and isinstance(meta.get("people"), int)
            and isinstance(meta.get("values"), dict)):
        raise ScenarioError(f"{meta_path}: not a readable checkpoint (step, people or values "
                            "missing or of the wrong type).")
    text, npz = open_checkpoint(folder, meta)  # (hashes and unpacked size checked)
    try:
        with npz, np.load(npz, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ScenarioError(f"{folder}: damaged checkpoint ({exc}).") from None
    # Arrays come back writable and owned (np.load gives fresh arrays).
    return meta, State(int(meta["step"]), arrays, meta["values"]), text


def check_fork(before: dict[str, Any], after: dict[str, Any], where: str) -> None:
    """Refuse a change, at a fork, of a key that defines the society."""
    for key in SOCIETY_KEYS:
        if before.get(key) != after.get(key):
            raise ScenarioError(
                f"{where}: '{key}' defines the society and cannot change at a fork "
                "(only policy keys can: schemes, sanctions, phases, adaptation, "
                "behaviour, life, blacklist, end, output).")
