"""What a calibration leaves in its folder.

- ``best.toml``: a scenario that ``extends`` the base (a copy of the merged base in
  ``base.toml``, so the folder is self-contained) with the fixed and the fitted values, at
  the size the fit used; ``scoresim run OUT/best.toml`` runs it.
- ``trials.parquet``: every trial: its state, parameters, total and per-target
  log-likelihood, the model's value of each target, seeds, duration, and a failure's reason.
- ``calibration.html`` with ``targets.png`` (each observed value with its uncertainty
  against the best trial's replicates), ``history.png`` (the log-likelihood of each trial
  and the best so far), ``importance.png`` (parameter importances, two or more parameters)
  and ``parameters.png`` (each parameter against the log-likelihood; the trials within
  ``near_best`` of the best are the fit's uncertainty, their range in a table), and whether
  the search has settled (:func:`scoresim.experiments.calibration_summary.convergence`).

Each file is written to a temporary name and renamed, so a crash leaves the previous
version, never half a file.
"""

from __future__ import annotations

import html
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import tomli_w

from scoresim.experiments.calibration_summary import best_trial, convergence, summary

if TYPE_CHECKING:
    from scoresim.experiments.calibration import Calibration

PNG_DPI = 110


def _replace(path: Path, write) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)
    return path


def write_outputs(calib: Calibration, study, out: Path) -> list[Path]:
    written = [write_trials(calib, study, out / "trials.parquet")]
    best = best_trial(study)
    if best is not None:
        written += write_best(calib, best, out)
    written += write_report(calib, study, out)
    return written


# ------------------------------------------------------------------------ tables


def trial_rows(calib: Calibration, study) -> dict[str, list]:
    targets = calib.config.targets
    cols: dict[str, list] = {"trial": [], "state": [], "log_likelihood": [], "seeds": [],
                             "duration_s": [], "error": []}
    for p in calib.config.parameters:
        cols[f"param:{p.key}"] = []
    for i in range(len(targets)):
        cols[f"simulated:{i}:{targets[i].column}"] = []
        cols[f"log_likelihood:{i}:{targets[i].column}"] = []
    for t in study.get_trials(deepcopy=False):
        cols["trial"].append(t.number)
        cols["state"].append(t.state.name.lower())
        cols["log_likelihood"].append(t.value if t.value is not None and t.value > -1e299
                                      else None)
        cols["seeds"].append(list(t.user_attrs.get("seeds", [])))
        cols["duration_s"].append(t.duration.total_seconds() if t.duration else None)
        cols["error"].append(t.user_attrs.get("error")
                             or t.system_attrs.get("fail_reason") or "")
        for p in calib.config.parameters:
            v = t.params.get(p.key)
            cols[f"param:{p.key}"].append(None if v is None else float(v))
        sim = t.user_attrs.get("simulated") or [None] * len(targets)
        ll = t.user_attrs.get("log_likelihoods") or [None] * len(targets)
        for i in range(len(targets)):
            cols[f"simulated:{i}:{targets[i].column}"].append(sim[i])
            cols[f"log_likelihood:{i}:{targets[i].column}"].append(ll[i])
    return cols


def write_trials(calib: Calibration, study, path: Path) -> Path:
    table = pa.table(trial_rows(calib, study))
    return _replace(path, lambda tmp: pq.write_table(table, tmp))


def near_best(calib: Calibration, study) -> list:
    """The complete trials within ``near_best`` log-likelihood of the best."""
    from optuna.trial import TrialState

    best = best_trial(study)
    if best is None:
        return []
    return [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.value is not None and t.value >= best.value - calib.config.near_best]


def uncertainty(calib: Calibration, study) -> dict[str, tuple[float, float, float]]:
    """Each parameter's best value and its range over the trials near the best."""
    best, near = best_trial(study), near_best(calib, study)
    if best is None:
        return {}
    return {p.key: (float(best.params[p.key]), float(min(t.params[p.key] for t in near)),
                    float(max(t.params[p.key] for t in near)))
            for p in calib.config.parameters}


# --------------------------------------------------------------------- best.toml


def _nest(dotted: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """Dotted overrides as nested tables; a key through a list (``rules.3.points``) writes
    the whole list with that element changed (lists are replaced whole by ``extends``)."""
    from scoresim.scenario.loading import apply_overrides

    merged = apply_overrides(raw, dotted)
    out: dict[str, Any] = {}
    for key in dotted:
        parts = key.split(".")
        node_in, node_out = merged, out
        for i, part in enumerate(parts):
            value = node_in[int(part)] if isinstance(node_in, list) else node_in[part]
            if isinstance(value, list) or i == len(parts) - 1:
                node_out[part] = value
                break
            node_out = node_out.setdefault(part, {})
            node_in = value
    return out


def best_scenario(calib: Calibration, best) -> dict[str, Any]:
    cfg = calib.config
    fitted = {}
    for p in cfg.parameters:
        v = best.params[p.key]
        fitted[p.key] = int(v) if p.integer else float(v)
    size: dict[str, Any] = {}
    if cfg.people is not None:
        size["people.count"] = cfg.people
    if cfg.days is not None:
        size["end"] = calib.end
    # (the base's own values; ``base_raw`` already holds the fixed ``set``)
    overrides = {**dict(cfg.set), **size, **fitted}
    doc = {"extends": "base.toml", "name": f"{calib.base_raw.get('name', 'base')}-calibrated"[:64],
           "description": f"fitted by scoresim calibrate ({calib.path.name}), trial "
                          f"{best.number}, log-likelihood {best.value:.3f}"}
    doc.update(_nest(overrides, calib.base_raw))
    return doc


def write_best(calib: Calibration, best, out: Path) -> list[Path]:
    base = calib.base_raw.copy()
    head = (f"# The merged base scenario of {calib.path.name} ({calib.base_path.name} with "
            "its extends and the calibration's `set`), copied so best.toml runs from here.\n")
    p1 = _replace(out / "base.toml", lambda tmp: tmp.write_text(head + tomli_w.dumps(base)))
    lines = [f"# {calib.config.parameters[0].key} and the other fitted values: trial "
             f"{best.number} of the study in this folder (scoresim calibrate).",
             "# people.count and end are the size the fit used: change them for larger runs.",
             ""]
    text = "\n".join(lines) + tomli_w.dumps(best_scenario(calib, best))
    p2 = _replace(out / "best.toml", lambda tmp: tmp.write_text(text))
    return [p1, p2]


# ------------------------------------------------------------------------ figures


def _figure_targets(calib: Calibration, best, path: Path) -> None:
    import matplotlib.pyplot as plt

    targets = calib.config.targets
    fig, axes = plt.subplots(1, len(targets), figsize=(3.2 * len(targets) + 0.5, 3.4),
                             squeeze=False)
    reps = np.array(best.user_attrs.get("replicates", []), dtype=float) if best else None
    for i, (ax, t) in enumerate(zip(axes[0], targets, strict=True)):
        u = t.uncertainty if t.uncertainty is not None else math.sqrt(max(t.observed, 1.0))
        ax.errorbar([0], [t.observed], yerr=[2 * u], fmt="o", color="black", capsize=5,
                    label="observed ± 2 SE")
        if reps is not None and reps.size:
            ax.scatter(np.full(len(reps), 1.0), reps[:, i], color="tab:blue", alpha=0.7,
                       label="best trial's replicates")
            ax.hlines(np.nanmean(reps[:, i]), 0.8, 1.2, color="tab:blue")
        ax.set_xticks([0, 1], ["observed", "model"])
        ax.set_xlim(-0.6, 1.6)
        ax.set_title(t.column if len(t.column) < 30 else t.column[:28] + "…", fontsize=9)
        if i == 0:
            ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=PNG_DPI, format="png")
    plt.close(fig)


def _figure_history(study, path: Path) -> None:
    import matplotlib.pyplot as plt

    done = [(t.number, t.value) for t in study.get_trials(deepcopy=False)
            if t.value is not None and t.value > -1e299]
    fig, ax = plt.subplots(figsize=(6, 3.4))
    if done:
        x, y = zip(*sorted(done), strict=True)
        ax.scatter(x, y, s=14, color="tab:gray", label="trial")
        ax.plot(x, np.maximum.accumulate(np.array(y)), color="tab:red", label="best so far")
        ax.legend(fontsize=8)
    ax.set_xlabel("trial")
    ax.set_ylabel("log-likelihood")
    fig.tight_layout()
    fig.savefig(path, dpi=PNG_DPI, format="png")
    plt.close(fig)


def importances(study) -> dict[str, float]:
    """Optuna's parameter importances (fANOVA) over the complete trials; empty when they
    cannot be computed (one parameter, too few trials)."""
    import optuna

    try:
        return dict(optuna.importance.get_param_importances(study))
    except (RuntimeError, ValueError, ZeroDivisionError):
        return {}


def _figure_importance(imp: dict[str, float], path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 0.5 + 0.45 * len(imp)))
    names = list(imp)[::-1]
    ax.barh(names, [imp[n] for n in names], color="tab:green")
    ax.set_xlabel("importance (share of the log-likelihood's variance)")
    fig.tight_layout()
    fig.savefig(path, dpi=PNG_DPI, format="png")
    plt.close(fig)


def _figure_parameters(calib: Calibration, study, path: Path) -> None:
    import matplotlib.pyplot as plt

    params = calib.config.parameters
    fig, axes = plt.subplots(1, len(params), figsize=(3.4 * len(params) + 0.4, 3.2),
                             squeeze=False)
    near = {t.number for t in near_best(calib, study)}
    done = [t for t in study.get_trials(deepcopy=False)
            if t.value is not None and t.value > -1e299]
    for ax, p in zip(axes[0], params, strict=True):
        x = [t.params[p.key] for t in done]
        y = [t.value for t in done]
        c = ["tab:red" if t.number in near else "tab:gray" for t in done]
        ax.scatter(x, y, c=c, s=14)
        if p.log:
            ax.set_xscale("log")
        ax.set_xlabel(p.key if len(p.key) < 36 else "…" + p.key[-34:], fontsize=8)
        ax.set_ylabel("log-likelihood")
    fig.suptitle(f"red: within {calib.config.near_best:g} of the best (the fit's uncertainty)",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=PNG_DPI, format="png")
    plt.close(fig)


def write_report(calib: Calibration, study, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    best = best_trial(study)
    written = []
    figures = []
    if best is not None:
        written.append(_replace(out / "targets.png",
                                lambda tmp: _figure_targets(calib, best, tmp)))
        figures.append(("Targets", "targets.png"))
    written.append(_replace(out / "history.png", lambda tmp: _figure_history(study, tmp)))
    figures.append(("Optimisation history", "history.png"))
    imp = importances(study) if len(calib.config.parameters) > 1 else {}
    if imp:
        written.append(_replace(out / "importance.png", lambda tmp: _figure_importance(imp, tmp)))
        figures.append(("Parameter importances", "importance.png"))
    if best is not None:
        written.append(_replace(out / "parameters.png",
                                lambda tmp: _figure_parameters(calib, study, tmp)))
        figures.append(("Parameters against the fit", "parameters.png"))
    rep = summary(study, [])
    esc = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Calibration: "
             f"{esc(calib.path.name)}</title><style>body{{font-family:sans-serif;max-width:"
             "60em;margin:2em auto}} td,th{{padding:2px 10px;text-align:left}}</style></head>"
             f"<body><h1>Calibration of {esc(calib.base_path.name)}</h1>",
             f"<p>{esc(calib.path.name)}: {rep.trials} trials ({rep.complete} complete, "
             f"{rep.pruned} pruned, {rep.failed} failed); replicate seeds "
             f"{calib.seeds()} in every trial (common random numbers).</p>"]
    conv = convergence(calib, study)
    parts.append("<h2>Convergence</h2><ul>" + "".join(
        f"<li>{esc(line)}</li>" for line in conv.lines()) + "</ul>")
    if best is not None:
        sim = best.user_attrs.get("simulated", [])
        ll = best.user_attrs.get("log_likelihoods", [])
        parts.append(f"<h2>Best trial: {best.number}, log-likelihood {best.value:.3f}</h2>"
                     "<table><tr><th>target</th><th>observed</th><th>uncertainty</th>"
                     "<th>model (mean of replicates)</th><th>log-likelihood</th><th>source</th>"
                     "</tr>")
        for t, s, v in zip(calib.config.targets, sim, ll, strict=False):
            parts.append(f"<tr><td>{esc(t.label)}</td><td>{t.observed:.6g}</td><td>"
                         f"{'' if t.uncertainty is None else f'{t.uncertainty:.3g}'} "
                         f"({t.likelihood})</td><td>{s:.6g}</td><td>{v:.3f}</td>"
                         f"<td>{esc(t.source)}</td></tr>")
        parts.append("</table>")
        parts.append(f"<h2>Fitted values and their uncertainty</h2><p>Range over the "
                     f"{len(near_best(calib, study))} complete trials within "
                     f"{calib.config.near_best:g} log-likelihood of the best.</p><table><tr>"
                     "<th>parameter</th><th>best</th><th>low</th><th>high</th>"
                     "<th>importance</th></tr>")
        for key, (b, lo, hi) in uncertainty(calib, study).items():
            parts.append(f"<tr><td>{esc(key)}</td><td>{b:.6g}</td><td>{lo:.6g}</td><td>"
                         f"{hi:.6g}</td><td>{imp.get(key, float('nan')):.2f}</td></tr>")
        parts.append("</table><p><code>scoresim run best.toml</code> runs the fitted "
                     "scenario.</p>")
    for title, name in figures:
        parts.append(f"<h2>{esc(title)}</h2><img src='{name}' alt='{esc(title)}'>")
    parts.append("</body></html>")
    written.append(_replace(out / "calibration.html",
                            lambda tmp: tmp.write_text("\n".join(parts))))
    return written
