"""Explain a traced person's score from the run's ledger: what the commercial scorer of the
reports refuses to say (M13)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from scoresim.errors import ScenarioError
from scoresim.results.run_folder import Results

PART_LABELS = {
    "initial": "score at enrolment",
    "head_start": "head start for enrolling early",
    "bonus": "bonus for early enrolment",
    "decay": "decay for inactivity",
    "lapse": "points lapsed (their period over)",
    "repair": "negative records removed by credit repair",
    "range": "cut off at the score range",
    "friends": "pull of friends' scores",
}


def explain(results: Results, person: int, scheme: str | None = None) -> dict[str, Any]:
    """A structured account of why ``person`` has the scores they have."""
    if results.ledger is None:
        raise ScenarioError("this run traced nobody: rerun with --trace K or --trace-ids IDS.")
    ledger = results.ledger.to_pandas()
    traced = sorted(int(p) for p in results.metadata.get("traced", ledger.person.unique()))
    if person not in traced:
        shown = ", ".join(map(str, traced[:20])) + (" ..." if len(traced) > 20 else "")
        raise ScenarioError(f"person {person} was not traced in this run (traced: {shown}); "
                            f"rerun with --trace-ids {person}.")
    schemes = list(results.scenario.schemes)
    if scheme is not None and scheme not in schemes:
        raise ScenarioError(f"--scheme: unknown scheme {scheme!r}; this run has: "
                            f"{', '.join(schemes)}.")
    mine = ledger[ledger.person == person]
    out: dict[str, Any] = {"person": person, "attributes": _attributes(results, person),
                           "schemes": {}}
    for name in [scheme] if scheme else schemes:
        rows = mine[mine.scheme == name]
        scored = rows[rows.kind != "sanction"]
        if scored.empty:
            out["schemes"][name] = {"scored": False}
            continue
        last = scored.iloc[-1]
        rules = scored[scored.kind == "rule"]
        by_rule = (rules.groupby(["rule", "source"], dropna=False)
                   .agg(points=("points", "sum"), records=("records", "sum"),
                        misattributed=("misattributed", "sum"))
                   .reset_index())
        by_rule = by_rule.reindex(by_rule.points.abs().sort_values(ascending=False).index)
        by_rule = by_rule.astype({"records": int, "misattributed": int})
        wrong_share = (rules.misattributed / rules.records.where(rules.records > 0)).fillna(0)
        parts = {kind: float(scored[scored.kind == kind].points.sum()) for kind in PART_LABELS}
        sanctions = rows[rows.kind == "sanction"]
        out["schemes"][name] = {
            "scored": True,
            "score": float(last.score),
            "own_score": float(last.own_score),
            "tier": last.tier or "",
            "total_of_rows": float(scored.points.sum()),
            "parts": parts,
            "rules": by_rule.to_dict(orient="records"),
            "misattributed_records": int(rules.misattributed.sum()),
            "misattributed_points": float((rules.points * wrong_share).sum()),
            "sanctions": [{"date": str(r.date), "sanction": r.sanctions}
                          for r in sanctions.itertuples()],
            "friends": _friends(results, person, name),
        }
    blacklist = mine[(mine.kind == "sanction") & (mine.scheme == "")]
    out["other_sanctions"] = [{"date": str(r.date), "sanction": r.sanctions}
                              for r in blacklist.itertuples()]
    return out


def _attributes(results: Results, person: int) -> dict[str, Any]:
    if results.people is None:
        return {}
    row = results.people.slice(person, 1).to_pylist()[0]
    keep = ("region", "age_band", "income_decile", "job", "private_opinion",
            "expressed_opinion", "foreigner", "degree", "blacklisted", "sanctions",
            "sanctions_wrongful", "sanctions_association")
    return {k: row[k] for k in keep if k in row}


def _friends(results: Results, person: int, scheme: str) -> dict[str, Any]:
    if results.ledger_friends is None:
        return {}
    f = results.ledger_friends.to_pandas()
    f = f[(f.person == person) & f[f"{scheme}_scored"]].sort_values(f"{scheme}_score")
    return {"count": int(len(f)),
            "mean_score": float(f[f"{scheme}_score"].mean()) if len(f) else None,
            "lowest": [{"friend": int(r.friend), "score": float(getattr(r, f"{scheme}_score"))}
                       for r in f.head(5).itertuples()]}


def contributions_frame(account: dict[str, Any]) -> pd.DataFrame:
    """One row per contribution (rule and source, or part), for CSV output."""
    rows = []
    for scheme, acc in account["schemes"].items():
        if not acc.get("scored"):
            continue
        for part, points in acc["parts"].items():
            if points:
                rows.append({"scheme": scheme, "part": part, "rule": "", "source": "",
                             "records": 0, "misattributed": 0, "points": points})
        for r in acc["rules"]:
            rows.append({"scheme": scheme, "part": "rule", **r})
    return pd.DataFrame(rows, columns=["scheme", "part", "rule", "source", "records",
                                       "misattributed", "points"])


def print_account(account: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    attrs = account["attributes"]
    console.print(f"[bold]Person {account['person']}[/bold]  " + ", ".join(
        f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in attrs.items()))
    for scheme, acc in account["schemes"].items():
        if not acc.get("scored"):
            console.print(f"\n[bold]{scheme}[/bold]: never scored")
            continue
        console.print(f"\n[bold]{scheme}[/bold]: published score {acc['score']:.1f} "
                      f"(own score {acc['own_score']:.1f}), tier {acc['tier'] or '-'}")
        table = Table("where the points come from", "source", "records", "misattributed",
                      "points")
        for part, points in acc["parts"].items():
            if part != "friends" and abs(points) >= 0.005:
                table.add_row(PART_LABELS[part], "", "", "", f"{points:+.2f}")
        for r in acc["rules"][:12]:
            table.add_row(f"rule {r['rule']}", str(r["source"]), str(r["records"]),
                          str(r["misattributed"]), f"{r['points']:+.2f}")
        if len(acc["rules"]) > 12:
            rest = sum(r["points"] for r in acc["rules"][12:])
            table.add_row(f"{len(acc['rules']) - 12} more rules", "", "", "", f"{rest:+.2f}")
        table.add_row(PART_LABELS["friends"], "", "", "", f"{acc['parts']['friends']:+.2f}")
        table.add_row("[bold]total[/bold]", "", "", "", f"[bold]{acc['total_of_rows']:.2f}")
        console.print(table)
        fr = acc["friends"]
        if fr:
            low = ", ".join(f"#{x['friend']} ({x['score']:.0f})" for x in fr["lowest"])
            console.print(f"friends scored: {fr['count']}, mean score "
                          f"{fr['mean_score'] or float('nan'):.1f}; lowest: {low or '-'}")
        if acc["misattributed_records"]:
            console.print(f"misattributed records received: {acc['misattributed_records']} "
                          f"({acc['misattributed_points']:+.2f} points)")
        for s in acc["sanctions"]:
            console.print(f"sanction on {s['date']}: {s['sanction']}")
    for s in account["other_sanctions"]:
        console.print(f"sanction on {s['date']}: {s['sanction']}")
