"""report.html: one self-contained page for a run (figures inline as PNG data URIs; no
script, no network needed to view it). The page parts here serve the comparison's report
too (:mod:`scoresim.experiments.compare`)."""

from __future__ import annotations

import base64
import html
import io
import os
from pathlib import Path

import numpy as np
import pandas as pd

from scoresim.errors import ScenarioError

CSS = """
body { font-family: system-ui, sans-serif; max-width: 1150px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; display: block; margin: 0.8em 0; }
.note { color: #555; font-size: 0.9em; }
"""


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return _img_bytes(buf.getvalue())


def _img_bytes(data: bytes, alt: str = "figure") -> str:
    return (f'<img alt="{html.escape(alt)}" '
            f'src="data:image/png;base64,{base64.b64encode(data).decode()}">')


def _img_file(path: Path) -> str:
    return _img_bytes(path.read_bytes(), path.stem) if path.is_file() else ""


def _table(df: pd.DataFrame, digits: int = 6) -> str:
    return df.to_html(index=False, float_format=lambda x: f"{x:.{digits}g}", border=0,
                      na_rep="-")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# ------------------------------------------------------------------------------ runs


def _summary(results) -> str:
    sc, meta = results.scenario, results.metadata
    parts = [f"<p>{html.escape(sc.description)}</p>",
             f"<p>{meta['people']:,} synthetic people, {meta['days']} days from {meta['start']} "
             f"to {meta['end']}, seed {meta['seed']}. Phases: "
             + ", ".join(f"{html.escape(k)} from {v}" for k, v in sc.phases.items()) + ".</p>"]
    if sc.schemes:
        def enrolment(e) -> str:
            later = f", mandatory from {e.mandatory_from_phase}" if e.mandatory_from_phase else ""
            return e.mode + later

        rows = [{"scheme": n, "label": s.label, "range": f"{s.min_score:g}-{s.max_score:g}",
                 "start": s.initial_score, "friend weight": s.friend_weight,
                 "enrolment": enrolment(s.enrolment),
                 "visibility": s.visibility, "shadow score": s.shadow_score,
                 "opaque": s.opaque, "rules": len(s.rules)} for n, s in sc.schemes.items()]
        parts.append(_table(pd.DataFrame(rows)))
    else:
        parts.append("<p>No scoring scheme: this is a counterfactual without scoring.</p>")
    src = [{"source": n, "label": s.label, "covers": s.accounts, "coverage": s.coverage,
            "error rate": s.error_rate, "real names from": s.real_name_from or "-"}
           for n, s in sc.sources.items()]
    parts.append(_table(pd.DataFrame(src)))
    if sc.sanctions:
        sanc = [{"rule": n, "effect": s.effect, "scheme": s.scheme or "-",
                 "condition": (f"below {s.below:g}" if s.below is not None else
                               f"at least {s.above:g}" if s.above is not None else
                               f"tiers {', '.join(s.tiers)}" if s.tiers else "blacklisted"),
                 "phases": ", ".join(s.phases) or "all"} for n, s in sc.sanctions.items()]
        parts.append(_table(pd.DataFrame(sanc)))
    return "\n".join(parts)


def _headlines(results) -> str:
    df = results.outcomes_df()
    cols = [("critical_statements", "critical statements per day (last 30 days)"),
            ("self_censoring_share", "share self-censoring"),
            ("expression_gap", "private/expressed gap"),
            ("critic_degree_ratio", "critics' degree / others'"),
            ("isolated_critics", "critics without friends"),
            ("sanctions_total", "sanctions in all"),
            ("sanctions_wrongful", "wrongful sanctions"),
            ("sanctions_association", "sanctions by association")]
    rows = []
    for col, label in cols:
        if col.startswith("sanctions"):
            value = float(df[col].sum())
        elif col == "critical_statements":
            value = float(df[col].tail(30).mean())
        else:
            value = float(df[col].iloc[-1])
        rows.append({"outcome": label, "at the end": value})
    for name in results.scenario.schemes:
        rows.append({"outcome": f"{name}: mean score", "at the end":
                     float(df[f"{name}_score_mean"].iloc[-1])})
        rows.append({"outcome": f"{name}: enrolled share", "at the end":
                     float(df[f"{name}_enrolled_share"].iloc[-1])})
    return _table(pd.DataFrame(rows), 4)


def _distribution(results) -> str:
    if results.people is None or not results.scenario.schemes:
        return "<p>No scores in this run.</p>"
    plt = _plt()
    people = results.people_df()
    schemes = list(results.scenario.schemes)
    fig, axes = plt.subplots(1, len(schemes), figsize=(5.5 * len(schemes), 3.3), squeeze=False)
    for ax, name in zip(axes[0], schemes, strict=True):
        scored = people[people[f"{name}_state"] != "none"]
        ax.hist(scored[f"{name}_score"], bins=60, color="#4477aa")
        for t in results.scenario.schemes[name].tiers.values():
            ax.axvline(t.min, color="grey", lw=0.5)
        ax.set_title(f"{name}: published scores at the end (tier bounds in grey)")
    return _png(fig)


def _expression(results) -> str:
    if results.people is None:
        return ""
    plt = _plt()
    people = results.people_df()
    fig, ax = plt.subplots(figsize=(7, 3.3))
    bins = np.linspace(-1, 1, 41)
    ax.hist(people.private_opinion, bins=bins, alpha=0.6, label="private opinion")
    ax.hist(people.expressed_opinion, bins=bins, alpha=0.6, label="expressed opinion")
    ax.set_title("what people hold and what they show (-1 critic, +1 loyal)")
    ax.legend()
    return _png(fig)


def _by_group(results) -> str:
    if results.people is None:
        return ""
    people = results.people_df()
    band = pd.cut(people.income_decile, [-1, 2, 6, 9], labels=["poor (0-2)", "middle (3-6)",
                                                                "rich (7-9)"])
    out = []
    for label, key in (("income", band), ("region", people.region)):
        g = people.groupby(key, observed=True).agg(
            people=("id", "size"), sanctions=("sanctions", "sum"),
            wrongful=("sanctions_wrongful", "sum"), association=("sanctions_association", "sum"),
            good_job=("job", lambda j: float((j == "good").mean())))
        g["sanctions per 1000"] = 1000 * g.sanctions / g.people
        out.append(f"<h3>by {label}</h3>" + _table(g.reset_index().rename(
            columns={"index": label, "income_decile": label}), 4))
    return "\n".join(out)


def _sampled_subgraph(nx, a: np.ndarray, b: np.ndarray, centre: int):
    """A person, their friends and up to 8 friends of each (first ties first), at most 200
    people, with every tie among them: the graph the whole network would give, built from
    the ties that touch them only (a networkx graph of 10^6 people's ties takes GBs)."""

    def friends(rows: np.ndarray, x: int) -> np.ndarray:
        mine = rows[(a[rows] == x) | (b[rows] == x)]
        return np.where(a[mine] == x, b[mine], a[mine])

    everything = np.arange(a.shape[0])
    first = {centre} | set(friends(everything, centre).tolist())
    pick = np.fromiter(first, np.int64)
    near = np.flatnonzero(np.isin(a, pick) | np.isin(b, pick))
    nodes = set(first)
    for friend in first:
        nodes |= set(friends(near, friend)[:8].tolist())
    keep = np.array(sorted(nodes)[:200], np.int64)
    rows = np.flatnonzero(np.isin(a, keep) | np.isin(b, keep))
    inside = rows[np.isin(a[rows], keep) & np.isin(b[rows], keep)]
    wanted = set(keep.tolist())
    order = {}  # people in the order the whole graph met them
    for x in np.column_stack([a[rows], b[rows]]).ravel().tolist():
        if x in wanted:
            order.setdefault(x, None)
    in_graph = np.unique(np.concatenate([a, b])).shape[0]
    if 2 * len(wanted) < in_graph:  # (networkx's subgraph view then lists them as a set)
        order = dict.fromkeys(set(keep.tolist()))
    g = nx.Graph()
    g.add_nodes_from(order)
    g.add_edges_from(zip(a[inside].tolist(), b[inside].tolist(), strict=True))
    return g


def _neighbourhood(results, folder: Path) -> str:
    """A sampled neighbourhood of the network: a critic's friends and their friends."""
    if results.network is None or results.people is None:
        return "<p>The network was not saved (output.network = false).</p>"
    import networkx as nx

    plt = _plt()
    people = results.people_df()
    a = results.network.column("a").to_numpy()
    b = results.network.column("b").to_numpy()
    schemes = list(results.scenario.schemes)
    colour = f"{schemes[0]}_score" if schemes else "expressed_opinion"
    critics = people[(people.private_opinion < results.scenario.people.critic_below)
                     & (people.degree > 0)]
    pool = critics if len(critics) else people[people.degree > 0]
    if pool.empty:
        return "<p>Nobody has friends at the end of this run.</p>"
    centre = int(pool.sort_values("id").iloc[len(pool) // 2].id)
    sub = _sampled_subgraph(nx, a, b, centre)
    pos = nx.spring_layout(sub, seed=1)
    values = people.set_index("id").loc[list(sub.nodes), colour].to_numpy()
    fig, ax = plt.subplots(figsize=(7.5, 6))
    nx.draw_networkx_edges(sub, pos, ax=ax, alpha=0.3)
    art = nx.draw_networkx_nodes(sub, pos, ax=ax, node_size=[160 if n == centre else 40
                                                            for n in sub.nodes],
                                 node_color=values, cmap="RdYlGn")
    fig.colorbar(art, ax=ax, label=colour.replace("_", " "))
    ax.set_title(f"neighbourhood of critic #{centre} (large dot), coloured by {colour}")
    ax.axis("off")
    return _png(fig)


def run_report(folder: Path) -> str:
    from scoresim.results.run_folder import Results

    res = Results.load(folder)
    sc = res.scenario
    body = [
        f"<h1>scoresim run: {html.escape(sc.name)}</h1>",
        "<p class='note'>Everyone in this simulation is synthetic.</p>",
        "<h2>What was simulated</h2>", _summary(res),
        "<h2>Headline outcomes</h2>", _headlines(res),
        "<h2>Scores and tiers over time</h2>", _img_file(folder / "scores.png"),
        "<h2>Score distribution</h2>", _distribution(res),
        "<h2>Expression and self-censorship</h2>", _img_file(folder / "expression.png"),
        _expression(res),
        "<h2>Isolation of critics</h2>", _img_file(folder / "isolation.png"),
        "<h2>Sanctions</h2>", _img_file(folder / "sanctions.png"), _by_group(res),
        "<h2>A neighbourhood of the network</h2>", _neighbourhood(res, folder),
    ]
    return _page(f"scoresim: {sc.name}", body)


def _page(title: str, body: list[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def write_report(folder: Path | str) -> Path:
    """Write report.html into a run folder (atomically). A comparison's report is written
    by :func:`scoresim.experiments.compare.write_comparison_report`."""
    from scoresim.results.outdir import check_writable_folder

    folder = Path(folder)
    if not folder.is_dir():
        raise ScenarioError(f"{folder}: no such run or comparison folder.")
    if not (folder / "outcomes.parquet").is_file():
        raise ScenarioError(f"{folder}: neither a run folder nor a comparison folder.")
    check_writable_folder(folder, "the folder (report.html goes there)")
    return write_page(folder, run_report(folder))


def write_page(folder: Path, text: str) -> Path:
    """Write ``text`` as folder/report.html, atomically."""
    out = folder / "report.html"
    tmp = folder / f"report.html.partial-{os.getpid()}"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out
