"""Ablation: each mechanism's effect, the scenario against itself with that mechanism off.

The mechanisms are declared once, here, as data (:data:`MECHANISMS`): an id from MODEL.md, a
label, and a function of the scenario that gives the dotted overrides (as ``--set`` takes
them) that switch the mechanism off, or the reason it cannot be switched off in that
scenario (it lacks the feature: then it is skipped). Each ablated scenario is compared with
the full one by :func:`scoresim.experiments.compare.compare` (common random numbers: the same
seeds), A = ablated, B = full, so the effect is full minus ablated: what the mechanism adds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from scoresim.errors import ScenarioError
from scoresim.scenario.schema import Scenario

#: Overrides that switch a mechanism off, or a string: why it is skipped for this scenario.
Switch = Callable[[Scenario], "dict[str, Any] | str"]


@dataclass(frozen=True)
class Mechanism:
    name: str
    model_id: str
    label: str
    switch_off: Switch
    how: str


def _per_scheme(key: str, value: Any, active: Callable[[Any], bool], what: str) -> Switch:
    def switch(sc: Scenario) -> dict[str, Any] | str:
        names = [n for n, s in sc.schemes.items() if active(s)]
        if not names:
            return f"no scheme has {what}"
        return {f"schemes.{n}.{key}": value for n in names}
    return switch


def _per_source(key: str, value: Any, active: Callable[[Any], bool], what: str) -> Switch:
    def switch(sc: Scenario) -> dict[str, Any] | str:
        names = [n for n, s in sc.sources.items() if active(s)]
        if not names:
            return f"no source has {what}"
        return {f"sources.{n}.{key}": value for n in names}
    return switch


def _adaptation(key: str, value: Any, what: str) -> Switch:
    def switch(sc: Scenario) -> dict[str, Any] | str:
        if getattr(sc.adaptation, key) == value:
            return f"{what} is off already (adaptation.{key} = {value!r})"
        return {f"adaptation.{key}": value}
    return switch


def _head_start(sc: Scenario) -> dict[str, Any] | str:
    out: dict[str, Any] = {}
    for n, s in sc.schemes.items():
        if s.enrolment.head_start_points:
            out[f"schemes.{n}.enrolment.head_start_points"] = 0.0
        if s.enrolment.early_bonus_points_per_day:
            out[f"schemes.{n}.enrolment.early_bonus_points_per_day"] = 0.0
    return out or "no scheme gives early registrants a head start or an early bonus"


def _sanctions(sc: Scenario) -> dict[str, Any] | str:
    return {"sanctions": {}} if sc.sanctions else "the scenario has no sanction rules"


def _blacklist(sc: Scenario) -> dict[str, Any] | str:
    if not sc.blacklist.sources:
        return "the scenario has no blacklist (blacklist.sources is empty)"
    kept = {n: s.model_dump(mode="json") for n, s in sc.sanctions.items() if not s.blacklisted}
    out: dict[str, Any] = {"blacklist.sources": []}
    if len(kept) < len(sc.sanctions):
        out["sanctions"] = kept  # (rules on the blacklist go with it)
    return out


#: The mechanisms, in MODEL.md's order. ``how``: what switching it off means, for the page.
MECHANISMS: tuple[Mechanism, ...] = (
    Mechanism("data_errors", "M1", "data errors",
              _per_source("error_rate", 0.0, lambda s: s.error_rate > 0, "error_rate > 0"),
              "every source's error_rate = 0"),
    Mechanism("friends_pull", "M4", "friends' pull",
              _per_scheme("friend_weight", 0.0, lambda s: s.friend_weight > 0,
                          "friend_weight > 0"),
              "every scheme's friend_weight = 0"),
    Mechanism("sanctions", "M5", "sanctions and privileges", _sanctions,
              "no sanction or privilege rules"),
    Mechanism("unfriending", "M6", "unfriending",
              _adaptation("unfriend_probability", 0.0, "unfriending"),
              "adaptation.unfriend_probability = 0"),
    Mechanism("self_censorship", "M6", "self-censorship",
              _adaptation("self_censorship", "none", "self-censorship"),
              'adaptation.self_censorship = "none"'),
    Mechanism("gaming", "M6", "gaming",
              _adaptation("gaming_strength", 0.0, "gaming"),
              "adaptation.gaming_strength = 0"),
    Mechanism("head_start", "M8", "early head start", _head_start,
              "every scheme's head_start_points and early_bonus_points_per_day = 0"),
    Mechanism("shadow_scores", "M10", "shadow scores",
              _per_scheme("shadow_score", False, lambda s: s.shadow_score, "shadow_score"),
              "every scheme's shadow_score = false"),
    Mechanism("blacklist", "M11", "the blacklist", _blacklist,
              "blacklist.sources = [] and no rules on the blacklist"),
    Mechanism("real_name", "M12", "real-name linkage",
              _per_source("real_name_from", None, lambda s: s.real_name_from is not None,
                          "real_name_from"),
              "no source's real_name_from"),
    Mechanism("opacity", "M13", "opacity",
              _per_scheme("opaque", False, lambda s: s.opaque, "opaque = true"),
              "every scheme's opaque = false"),
)
BY_NAME = {m.name: m for m in MECHANISMS}
#: Outcomes in the figure.
FIGURE_OUTCOMES = ("self_censoring_share", "critical_statements", "mean_degree",
                   "sanctions_total")


def pick(only: list[str] | None) -> list[Mechanism]:
    """The mechanisms named (all when None); an unknown name is refused with the list."""
    if not only:
        return list(MECHANISMS)
    unknown = [n for n in only if n not in BY_NAME]
    if unknown:
        raise ScenarioError(f"--only: unknown mechanism {', '.join(map(repr, unknown))}; "
                            f"expected some of {', '.join(BY_NAME)}.")
    return [BY_NAME[n] for n in only]


def ablated(sc: Scenario, mech: Mechanism) -> tuple[Scenario | None, dict[str, Any] | str]:
    """The scenario with ``mech`` off and its overrides, or (None, why it is skipped)."""
    from pydantic import ValidationError

    from scoresim.scenario.loading import apply_overrides

    overrides = mech.switch_off(sc)
    if isinstance(overrides, str):
        return None, overrides
    raw = apply_overrides(sc.model_dump(mode="json"), overrides)
    raw["name"] = f"{sc.name}-no-{mech.name}".replace("_", "-")
    try:
        return Scenario.model_validate(raw), overrides
    except ValidationError as exc:
        return None, f"switched off, the scenario is not valid: {exc.errors()[0]['msg']}"


@dataclass
class Ablation:
    scenario: str
    effects: pd.DataFrame
    skipped: list[tuple[str, str]]
    metadata: dict[str, Any]
    #: One row per mechanism, seed and outcome: full, ablated and their difference.
    replicates: pd.DataFrame


def ablate(sc: Scenario, replicates: int = 3, people: int | None = None,
           days: int | None = None, first_seed: int = 0, workers: int | None = None,
           only: list[str] | None = None, base_dir: Path | None = None,
           progress: Callable[[str], None] | None = None,
           mechanisms: list[Mechanism] | None = None) -> Ablation:
    """Each mechanism's effect (full minus ablated) over the same replicate seeds.
    ``only``: names from :data:`MECHANISMS`; ``mechanisms``: others (tests)."""
    from scoresim.experiments.compare import compare

    rows, skipped, switched, reps = [], [], {}, []
    for mech in mechanisms if mechanisms is not None else pick(only):
        off, overrides = ablated(sc, mech)
        if off is None:
            skipped.append((mech.name, str(overrides)))
            if progress:
                progress(f"  {mech.name}: skipped ({overrides})")
            continue
        if progress:
            progress(f"  {mech.name} ({mech.model_id}): {mech.how} ...")
        result = compare(off, sc, replicates, people, days, first_seed, workers,
                         base_dirs=(base_dir, base_dir))
        switched[mech.name] = {"model_id": mech.model_id, "label": mech.label,
                               "how": mech.how, "overrides": overrides}
        reps.append(result.replicates.rename(columns={"a": "ablated", "b": "full"})
                    .assign(mechanism=mech.name))
        for row in result.effects.itertuples():
            rows.append({"mechanism": mech.name, "model_id": mech.model_id,
                         "mechanism_label": mech.label, "outcome": row.outcome,
                         "label": row.label, "full_mean": row.b_mean,
                         "ablated_mean": row.a_mean, "effect": row.effect,
                         "ci_low": row.ci_low, "ci_high": row.ci_high,
                         "clear": bool(row.ci_low > 0 or row.ci_high < 0),
                         "replicates": row.replicates})
    from scoresim.sim import resize

    r = resize(sc, people, days)
    meta = {"scenario": sc.name, "people": r.people.count, "days": r.days,
            "seeds": list(range(first_seed, first_seed + replicates)),
            "switched_off": switched, "skipped": dict(skipped)}
    per_seed = (pd.concat(reps, ignore_index=True)[
        ["mechanism", "seed", "outcome", "full", "ablated", "effect"]] if reps
        else pd.DataFrame(columns=["mechanism", "seed", "outcome", "full", "ablated",
                                   "effect"]))
    return Ablation(sc.name, pd.DataFrame(rows), skipped, meta, per_seed)


def _fmt(x: float) -> str:
    return "nan" if pd.isna(x) else f"{x:+.4g}"


def markdown_table(effects: pd.DataFrame) -> str:
    """One row per mechanism and outcome: full, ablated, effect and its 95% interval."""
    lines = ["| mechanism | outcome | full | ablated | effect (full - ablated) | 95% interval "
             "| clear |", "|---|---|---|---|---|---|---|"]
    for r in effects.itertuples():
        lines.append(f"| {r.model_id} {r.mechanism_label} | {r.label} | {r.full_mean:.4g} | "
                     f"{r.ablated_mean:.4g} | {_fmt(r.effect)} | [{_fmt(r.ci_low)}, "
                     f"{_fmt(r.ci_high)}] | {'yes' if r.clear else 'no'} |")
    return "\n".join(lines) + "\n"


def write_figure(effects: pd.DataFrame, path: Path) -> None:
    """Effects with 95% intervals per mechanism, one panel per headline outcome."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outcomes = [o for o in FIGURE_OUTCOMES if o in set(effects.outcome)]
    fig, axes = plt.subplots(1, max(1, len(outcomes)), figsize=(4 * max(1, len(outcomes)), 4),
                             sharey=True, squeeze=False)
    for ax, outcome in zip(axes[0], outcomes, strict=False):
        d = effects[effects.outcome == outcome].reset_index(drop=True)
        y = range(len(d))
        lo = (d.effect - d.ci_low).fillna(0).clip(lower=0)
        hi = (d.ci_high - d.effect).fillna(0).clip(lower=0)
        ax.errorbar(d.effect, list(y), xerr=[lo, hi], fmt="o", capsize=3)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yticks(list(y))
        ax.set_yticklabels([f"{m} {label}" for m, label in
                            zip(d.model_id, d.mechanism_label, strict=True)])
        ax.set_title(d.label.iloc[0] if len(d) else outcome, fontsize=9)
        ax.set_xlabel("full - ablated")
    fig.suptitle("What each mechanism adds (95% intervals over seeds)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def page(ab: Ablation) -> str:
    m = ab.metadata
    out = [f"# Ablation of {ab.scenario}", "",
           f"{m['people']:,} people, {m['days']:,} days, seeds {m['seeds']}. Each mechanism "
           "is switched off alone; the full and the ablated scenario run on the same seeds "
           "(common random numbers). Effect = full - ablated: what the mechanism adds; "
           "95% t-intervals over the seeds. 'clear': the interval excludes 0.", "",
           *(["![effects](ablation.png)", ""] if len(ab.effects) else []),
           "## Switched off", ""]
    for name, w in m["switched_off"].items():
        out.append(f"- {w['model_id']} {w['label']} (`{name}`): {w['how']} "
                   f"(keys: {', '.join(f'`{k}`' for k in w['overrides'])})")
    if ab.skipped:
        out += ["", "## Skipped", ""]
        out += [f"- `{name}`: {why}" for name, why in ab.skipped]
    if len(ab.effects):
        none = [n for n, d in ab.effects.groupby("mechanism", sort=False) if not d.clear.any()]
        out += ["", "## No clear effect", "",
                ("Mechanisms whose every headline effect has an interval including 0: "
                 + ", ".join(f"`{n}`" for n in none) + ".") if none else
                "Every mechanism has a clear effect on at least one headline outcome."]
    out += ["", "## Effects", "", markdown_table(ab.effects) if len(ab.effects) else "none"]
    return "\n".join(out) + "\n"


def save(ab: Ablation, out: Path, folder) -> Path:
    """Write the ablation folder atomically (``folder``: the OutputFolder claimed before)."""
    import json

    from scoresim.results.run_folder import atomic_folder

    with atomic_folder(out, folder) as tmp:
        ab.effects.to_csv(tmp / "ablation.csv", index=False)
        ab.replicates.to_csv(tmp / "replicates.csv", index=False)
        (tmp / "ablation.md").write_text(markdown_table(ab.effects) if len(ab.effects)
                                         else "no mechanism was switched off\n",
                                         encoding="utf-8")
        if len(ab.effects):
            write_figure(ab.effects, tmp / "ablation.png")
        (tmp / "index.md").write_text(page(ab), encoding="utf-8")
        (tmp / "ablation.json").write_text(json.dumps(ab.metadata, indent=2, default=str),
                                           encoding="utf-8")
    return out
