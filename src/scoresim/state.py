"""Every piece of a simulation's mutable state, named in one place; checkpoints.

A simulation is its scenario and seed (which rebuild everything derived from them: the
population's draws, the network's first ties, the sources' linkage draws, the compiled
rules) plus the state listed here, which the steps change. :func:`collect` takes that
state from a running :class:`~scoresim.sim.Sim`, :func:`restore` puts it into a freshly
built one, and :func:`save` / :func:`load` write it to a checkpoint folder and read it
back. Random draws need no state: every stream is keyed by (seed, name, step).

A checkpoint folder holds ``checkpoint.json`` (the scoresim version, the scenario as it
ran, the step reached, and the state's small values) and ``state.npz`` (its arrays; read
without pickle, so a checkpoint from someone else cannot run code). A checkpoint names its
scoresim version and is refused by another.

At a fork (continuing with changed keys), the society stays as it was (people, network,
sources, seed and start cannot change: :data:`SOCIETY_KEYS`); a scheme's, a rule's or a
sanction's state carries over where the name (and for a capped rule its definition) is
the same, and starts afresh where it is new.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from scoresim.errors import ScenarioError
from scoresim.version import __version__

if TYPE_CHECKING:
    from scoresim.sim import Sim

#: Checkpoint format: 3 since the record log, the tie ages and capacities, the beliefs
#: about risk and the demography; 4 since checkpoint.json records the SHA-256 of
#: state.npz and scenario.toml (a checkpoint of another format is refused).
FORMAT = 4
#: Top-level scenario keys that define the society: a fork cannot change them.
SOCIETY_KEYS = ("seed", "start", "people", "network", "sources", "demography",
                "burn_in_days")

#: Per scheme (:class:`scoresim.model.scoring.Scheme`): what the steps change.
SCHEME_ARRAYS = ("state", "enrol_step", "early", "b", "b_clean", "s", "s_clean",
                 "last_active", "knowledge")
#: Sanctions (:class:`scoresim.model.sanctions.Sanctions`): counts and ongoing effects.
SANCTION_ARRAYS = ("received", "received_wrongful", "received_association",
                   "loan_refused_until", "throttle", "dating_weight", "spending",
                   "housing_denied_until")
#: Learning about risk (:class:`scoresim.model.risk.RiskBeliefs`): remembered observations.
BELIEF_ARRAYS = ("detected", "missed", "sanctions_seen")


@dataclasses.dataclass
class State:
    """A simulation's mutable state: ``arrays`` by dotted name, ``values`` (small,
    JSON-able) by dotted name, and the step the next day starts at."""

    step: int
    arrays: dict[str, np.ndarray]
    values: dict[str, Any]


def collect(sim: Sim) -> State:
    """The state of ``sim`` between two steps (views, not copies: save or copy it before
    the next step)."""
    from scoresim.model.people import People

    a: dict[str, np.ndarray] = {}
    v: dict[str, Any] = {}
    for f in dataclasses.fields(People):
        a[f"people.{f.name}"] = getattr(sim.people, f.name)
    # (people.age_days and people.person_id with the rest; the counter of ids with them)
    v["demography.next_id"] = int(sim.demography.next_id)
    for name, u in zip(sim.sources.names, sim.sources.link_u, strict=True):
        a[f"sources.{name}.link_u"] = u  # (redrawn for newcomers)
    net = sim.network
    a["network.u"], a["network.v"] = net.u, net.v
    a["network.formed"], a["network.capacity"] = net.formed, net.capacity
    v["network.version"] = int(net.version)
    for name, sch in sim.schemes.items():
        for attr in SCHEME_ARRAYS:
            a[f"scheme.{name}.{attr}"] = getattr(sch, attr)
        v[f"scheme.{name}.state_version"] = int(sch.state_version)
        v[f"scheme.{name}.started"] = bool(sch.started)
        v[f"scheme.{name}.mode"] = sch.cfg.enrolment.mode
        for key, rule in _capped_rules(name, sch):
            a[f"{key}.cum"], a[f"{key}.cum_clean"] = rule.cum, rule.cum_clean
        if sch.log is not None:  # the records in force (scores as levels)
            for key, arr in sch.log.collect().items():
                a[f"scheme.{name}.log.{key}"] = arr
        for fname, flog in zip(sch.factor_names, sch.factor_logs, strict=True):
            for key, arr in flog.collect().items():  # (a weighted level of factors)
                a[f"scheme.{name}.factor.{fname}.log.{key}"] = arr
        a[f"adaptation.prev_s.{name}"] = sim.adaptation.prev_s[name]
    san = sim.sanctions
    for attr in SANCTION_ARRAYS:
        a[f"sanctions.{attr}"] = getattr(san, attr)
    for name, ongoing in san.ongoing.items():
        a[f"sanctions.ongoing.{name}"] = ongoing
    v["sanctions.last_refusal_day"] = int(san.last_refusal_day)
    v["sanctions.in_force"] = sorted(san.in_force)
    for kind, m in sim.multipliers.items():
        a[f"behaviour.multiplier.{kind}"] = m
    a["adaptation.expressed_dissent"] = np.asarray(sim.expressed_dissent)
    if sim.adaptation.beliefs is not None:  # (learning about risk: remembered observations)
        for attr in BELIEF_ARRAYS:
            a[f"adaptation.beliefs.{attr}"] = getattr(sim.adaptation.beliefs, attr)
    # The outcome rows so far, and a score assortativity the next step would finish.
    for col, values in sim.outcomes.data.items():
        a[f"outcomes.{col}"] = values[:sim.t]
    for name, p in sim.observer._pending.items():
        key = f"observer.pending.{name}"
        a[f"{key}.scores"], a[f"{key}.scored"] = p.scores, p.scored
        v[key] = {"step": p.step, "centre": float(p.centre), "moments": list(p.moments),
                  "network_version": p.network_version,
                  "scores_are_published": p.scores is sim.schemes[name].s}
    obs = sim.observer  # (M14: the year of default prediction under way)
    v["observer.year_start"] = int(obs.year_start)
    v["observer.default_auc"] = {k: float(x) for k, x in obs.default_auc.items()}
    a["observer.defaulted"] = obs.defaulted
    for name, scores in obs.year_scores.items():
        a[f"observer.year_scores.{name}"] = scores
    return State(sim.t, a, v)


#: Collected arrays that are not one value per person: the ties (per tie), the outcome
#: rows (per day), a record log's entries (per entry; ``person`` renumbered) and its day.
#: Every other array is one value per person along its last axis (:func:`resized`).
_NOT_PER_PERSON = ("network.u", "network.v", "network.formed")
_LOG_ENTRIES = ("lapse_day", "person", "amount", "negative")


def resized(state: State, n: int, keep: np.ndarray, add: int) -> State:
    """``state`` (of ``n`` people) with the people of the slots ``keep`` (ascending) kept,
    in their order, and ``add`` empty slots after them (zeros: the caller makes them
    newcomers). Every per-person array is cut and extended (along its last axis); ties and
    record-log entries of people not kept are dropped and the rest renumbered (the order
    of ties and entries is kept: the renumbering keeps the slots' order). An array this
    function does not know to be other than per-person must have ``n`` values on its last
    axis, else a ValueError names it (a new array must be classified, not left behind)."""
    keep = np.asarray(keep, np.int64)
    if keep.size and (np.any(np.diff(keep) <= 0) or keep[0] < 0 or keep[-1] >= n):
        raise ValueError("keep: expected ascending slots of the population")
    index = np.full(n, -1, np.int64)  # old slot -> new slot (-1: gone)
    index[keep] = np.arange(keep.size)
    m = keep.size + int(add)
    a = state.arrays
    out: dict[str, np.ndarray] = {}
    logs = {k[:-len("person")] for k in a if k.startswith("scheme.") and k.endswith(".log.person")}
    for key, x in a.items():
        if key in _NOT_PER_PERSON or key.startswith("outcomes."):
            continue  # (below, or kept as they are)
        if any(key == f"{log}{e}" for log in logs for e in (*_LOG_ENTRIES, "day")):
            continue
        if key.startswith("observer.pending."):
            raise ValueError(f"{key}: a pending assortativity (finish it before resizing)")
        if x.ndim == 0 or x.shape[-1] != n:
            raise ValueError(f"{key}: {x.dtype}{list(x.shape)} is not one value per person "
                             f"({n}); classify it in state.resized")
        y = np.zeros(x.shape[:-1] + (m,), x.dtype)
        y[..., :keep.size] = x[..., keep]
        out[key] = y
    for key, x in a.items():
        if key.startswith("outcomes."):
            out[key] = x
    u, v = index[a["network.u"]], index[a["network.v"]]
    tied = (u >= 0) & (v >= 0)
    out["network.u"] = u[tied].astype(a["network.u"].dtype)
    out["network.v"] = v[tied].astype(a["network.v"].dtype)
    out["network.formed"] = a["network.formed"][tied]
    for log in logs:
        person = index[a[f"{log}person"]]
        kept = person >= 0
        out[f"{log}day"] = a[f"{log}day"]
        out[f"{log}person"] = person[kept].astype(a[f"{log}person"].dtype)
        out[f"{log}lapse_day"] = a[f"{log}lapse_day"][kept]
        out[f"{log}negative"] = a[f"{log}negative"][kept]
        out[f"{log}amount"] = a[f"{log}amount"][:, kept]
    return State(state.step, out, dict(state.values))


def _capped_rules(name: str, sch) -> list[tuple[str, Any]]:
    """(key, rule) of a scheme's capped rules, keyed by the rule's definition (and its
    occurrence among identical ones), so that a rule keeps its running total at a fork
    whatever rules are added or removed around it."""
    out, seen = [], {}
    for rule in sch.rules:
        if rule.cap is None:
            continue
        text = json.dumps(rule.config.model_dump(mode="json"), sort_keys=True)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        seen[digest] = seen.get(digest, -1) + 1
        out.append((f"scheme.{name}.rule.{digest}.{seen[digest]}", rule))
    return out


def ties(n: int, a: dict[str, np.ndarray]):
    """The saved network of ``n`` people (checked: whole-number ids below ``n``)."""
    from scoresim.model.network import Network

    u, v = a["network.u"], a["network.v"]
    if (u.ndim != 1 or u.shape != v.shape or u.dtype.kind not in "iu"
            or v.dtype.kind not in "iu"
            or (u.size and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= n))):
        raise ValueError("network.u, network.v: not the ties of this population")
    net = Network(n, u, v)  # (saved in order: the same order of ties)
    net.formed = _like(a, "network.formed", net.formed)
    net.capacity = _like(a, "network.capacity", net.capacity)
    return net


def _like(a: dict[str, np.ndarray], key: str, like: np.ndarray) -> np.ndarray:
    """The saved array ``key``, checked against the freshly built one it replaces."""
    x = a[key]
    if x.shape != like.shape or x.dtype != like.dtype:
        raise ValueError(f"{key}: {x.dtype}{list(x.shape)} where {like.dtype}"
                         f"{list(like.shape)} belongs")
    return x


def restore(sim: Sim, state: State) -> None:
    """Put ``state`` into ``sim``, freshly built from the scenario (with the same society)
    it is to continue, on the checkpoint's ties (``Sim(..., network=ties(n, arrays))``);
    caches are dropped so that they are made again."""
    from scoresim.results.outcomes import _PendingAssortativity

    a, v = state.arrays, state.values
    people = sim.people
    for f in dataclasses.fields(people):
        setattr(people, f.name, _like(a, f"people.{f.name}", getattr(people, f.name)))
    people.__dict__.pop("_expressed_cache", None)
    sim.demography.next_id = int(v["demography.next_id"])
    src = sim.sources
    src.link_u = [_like(a, f"sources.{name}.link_u", u)
                  for name, u in zip(src.names, src.link_u, strict=True)]
    src._attribution = {}
    # (the ties: ``sim`` was built on them, :func:`ties`, by Sim.from_state; only the
    # version observers cache by is the checkpoint's)
    if sim.network.n_edges != a["network.u"].shape[0]:
        raise ValueError("network.u: not the ties this simulation was built on")
    sim.network.version = int(v["network.version"])
    for name, sch in sim.schemes.items():
        if f"scheme.{name}.b" not in a:
            continue  # a scheme new at this fork starts as everyone's would
        for attr in SCHEME_ARRAYS:
            setattr(sch, attr, _like(a, f"scheme.{name}.{attr}", getattr(sch, attr)))
        sch.state_version = int(v[f"scheme.{name}.state_version"])
        # (a scheme whose enrolment mode changed at the fork has its first day again)
        sch.started = bool(v[f"scheme.{name}.started"]) and (
            v[f"scheme.{name}.mode"] == sch.cfg.enrolment.mode)
        sch._state_cache.clear()
        sch.friend_sums = None
        sch._scored_friends_version = None
        sch._scored_changed = []
        for key, rule in _capped_rules(name, sch):
            if f"{key}.cum" in a:  # (a rule new at the fork starts its period afresh)
                rule.cum = _like(a, f"{key}.cum", rule.cum)
                rule.cum_clean = _like(a, f"{key}.cum_clean", rule.cum_clean)
        if sch.log is not None:
            prefix = f"scheme.{name}.log."
            saved = {k[len(prefix):]: v for k, v in a.items() if k.startswith(prefix)}
            if saved:
                sch.log.restore(saved)
            else:  # (points lapse from the fork on: those before it count for ever)
                sch.log.for_ever = np.stack([sch.b - sch.cfg.initial_score,
                                             sch.b_clean - sch.cfg.initial_score]
                                            ).astype(np.float64)
        for fname, flog in zip(sch.factor_names, sch.factor_logs, strict=True):
            prefix = f"scheme.{name}.factor.{fname}.log."
            saved = {k[len(prefix):]: v for k, v in a.items() if k.startswith(prefix)}
            if saved:
                flog.restore(saved)
        if sch.cfg.factors and not any(k.startswith(f"scheme.{name}.factor.") for k in a):
            # (factors new at the fork: what the score has beyond the empty factors counts
            # for ever, as points)
            level, level_clean = sch._unclipped()
            if sch.log.for_ever is None:
                sch.log.for_ever = np.zeros((2, sch.n), np.float64)
            sch.log.for_ever += np.stack([sch.b - level, sch.b_clean - level_clean])
        sim.adaptation.prev_s[name] = _like(a, f"adaptation.prev_s.{name}", sch.s)
    sim.adaptation._uncensored = None
    sim.adaptation._knowledge_from = {}
    san = sim.sanctions
    for attr in SANCTION_ARRAYS:
        setattr(san, attr, _like(a, f"sanctions.{attr}", getattr(san, attr)))
    for name in san.ongoing:
        if f"sanctions.ongoing.{name}" in a:
            san.ongoing[name] = _like(a, f"sanctions.ongoing.{name}", san.ongoing[name])
    san.last_refusal_day = int(v["sanctions.last_refusal_day"])
    san.in_force = set(v["sanctions.in_force"])
    prefix = "behaviour.multiplier."
    sim.multipliers = {k[len(prefix):]: m for k, m in a.items() if k.startswith(prefix)}
    sim.expressed_dissent = a["adaptation.expressed_dissent"]
    if sim.adaptation.beliefs is not None:  # (a fork that turns learning on starts afresh)
        for attr in BELIEF_ARRAYS:
            if f"adaptation.beliefs.{attr}" in a:
                setattr(sim.adaptation.beliefs, attr, _like(
                    a, f"adaptation.beliefs.{attr}", getattr(sim.adaptation.beliefs, attr)))
    if sim.expressed_dissent.shape != (people.n,):
        raise ValueError("adaptation.expressed_dissent: not one value per person")
    for col, values in sim.outcomes.data.items():
        if f"outcomes.{col}" in a:
            values[:state.step] = _like(a, f"outcomes.{col}", values[:state.step])
    obs = sim.observer
    obs._pending = {}
    for name, sch in sim.schemes.items():
        key = f"observer.pending.{name}"
        if key in v:
            p = v[key]
            scores = sch.s if p["scores_are_published"] else a[f"{key}.scores"]
            obs._pending[name] = _PendingAssortativity(
                p["step"], scores, a[f"{key}.scored"], np.float32(p["centre"]),
                tuple(p["moments"]), p["network_version"])
    obs.reset()  # (who is working or a critic: the restored people's)
    obs.year_start = int(v.get("observer.year_start", -1))
    obs.defaulted = _like(a, "observer.defaulted", obs.defaulted) if (
        "observer.defaulted" in a) else obs.defaulted
    obs.default_auc.update({k: x for k, x in v.get("observer.default_auc", {}).items()
                            if k in obs.default_auc})
    obs.year_scores = {k[len("observer.year_scores."):]: x for k, x in a.items()
                       if k.startswith("observer.year_scores.")
                       and k[len("observer.year_scores."):] in sim.schemes}
    for name in sim.schemes:  # (a scheme new at a fork: its year from today)
        if obs.year_start >= 0 and name not in obs.year_scores:
            obs.year_scores[name] = np.full(people.n, np.nan, np.float32)
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
