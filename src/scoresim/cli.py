"""Command line: ``scoresim run | compare | ablate | sweep | calibrate | report | query | explain |
sensitivity | clean | scenarios | show | validate | validation | odd | app``.

The edge (:func:`main`): bad input ends with one paragraph on stderr naming the file or
argument and what was expected, and exit status 2; decoding, recursion, overflow, file
system, Arrow, JSON and TOML errors alike (:func:`scoresim.errors.one_line`). A traceback
only with ``--debug``. Ctrl-C prints ``interrupted: ...`` (what was kept) and exits 130;
SIGTERM and SIGHUP are handled alike (exit 143 and 129).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from scoresim.errors import ScenarioError, cut, cut_path, shown

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Simulate social-scoring systems on synthetic societies.")

#: What the edge reports: --debug, and what an interruption keeps.
_state: dict[str, Any] = {"debug": False, "interrupted": "nothing was written"}
#: The longest --set item read.
MAX_SET_CHARS = 10_000
#: The most folders of an --out path (Path.mkdir makes them one call deep each).
MAX_OUT_PARTS = 256


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="on an error, print the traceback")]
    = False,
) -> None:
    _state["debug"] = debug


#: A run of this many characters without a space in an error message is input (a path, a
#: URL, a value) that no message cut: it is cut at the edge (:func:`_uncut_words`).
LONG_WORD = 100


def _uncut_words(message: str) -> str:
    """The message with every run of more than :data:`LONG_WORD` non-space characters cut
    to :data:`scoresim.errors.CUT` (a safety net for paths and values echoed by messages
    that did not cut them: a file name of 4,000 characters, an OS error's path)."""
    import re

    def shorter(m: re.Match) -> str:
        word = m.group()
        body = word.rstrip(":;,.'\")")
        return cut(body) + word[len(body):]

    return re.sub(rf"\S{{{LONG_WORD + 1},}}", shorter, message)


def _error(message: str) -> None:
    """An error as the edge prints it: long words cut, control characters escaped."""
    typer.echo(f"error: {shown(_uncut_words(message))}", err=True)


def _fail(message: str) -> None:
    _error(message)
    raise typer.Exit(code=2)


def _check_replicate_options(replicates: int, workers: int | None, uncertainty: int) -> None:
    """The options ``compare``, ``impact`` and ``ablate`` share, checked before any run."""
    if replicates < 1:
        raise ScenarioError(f"--replicates: expected a number >= 1, got {replicates}.")
    if workers is not None and workers < 1:
        raise ScenarioError(f"--workers: expected a number >= 1, got {workers}.")
    if uncertainty < 0 or uncertainty == 1:
        raise ScenarioError(f"--uncertainty: expected 0 (off) or at least 2 parameter "
                            f"sets, got {uncertainty}.")


def _new_folder(out: Path | None, name: str) -> Path:
    """The output folder: as given, or runs/NAME-TIMESTAMP; never an existing one."""
    if out is None:
        out = Path("runs") / f"{name}-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
    if len(out.parts) > MAX_OUT_PARTS:
        raise ScenarioError(f"--out {cut_path(out)}: a path of {len(out.parts):,} folders; at "
                            f"most {MAX_OUT_PARTS} are made.")
    if out.exists():
        raise ScenarioError(f"{cut_path(out)}: the output folder exists already; choose "
                            "another --out or remove it.")
    return out


def _name_stale_partials(out: Path) -> None:
    """A warning naming partial folders beside ``out`` of processes that have ended."""
    from scoresim.results.outdir import stale_partials

    folder = out.parent
    stale = stale_partials(folder)
    if stale:
        names = ", ".join(str(p) for p in stale[:3]) + (
            f" and {len(stale) - 3:,} more" if len(stale) > 3 else "")
        typer.echo(shown(f"warning: {len(stale):,} unfinished output folder(s) of processes "
                         f"that have ended: {names}; remove them with: scoresim clean "
                         f"{folder}"), err=True)


def parse_sets(items: list[str]) -> dict[str, Any]:
    """``key.path=value`` pairs; values are parsed as TOML (strings may go unquoted)."""
    from scoresim.limits import check_toml_shape

    out: dict[str, Any] = {}
    for item in items:
        if len(item) > MAX_SET_CHARS:
            raise ScenarioError(f"--set {cut(item)}: longer than {MAX_SET_CHARS:,} characters.")
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ScenarioError(f"--set {cut(item)!r}: expected KEY=VALUE, e.g. "
                                "people.count=5000.")
        check_toml_shape(f"v = {text}", f"--set {cut(key.strip())}")
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except (tomllib.TOMLDecodeError, ValueError, RecursionError):
            value = text
        out[key.strip()] = value
    return out


def _source_dir(scenario: str) -> Path | None:
    """The folder of a scenario file (relative paths inside it are read from there)."""
    from scoresim.scenario.loading import preset_names, resolve_source

    return None if scenario in preset_names() else resolve_source(scenario).parent


def parse_date(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ScenarioError(f"{what} {cut(text)!r}: expected a date like 2020-06-30.") from None


@app.command()
def run(
    scenario: Annotated[str | None, typer.Argument(
        help="preset name or scenario TOML file (not with --from)")] = None,
    people: Annotated[int | None, typer.Option(help="number of people")] = None,
    days: Annotated[int | None, typer.Option(help="days to simulate, from the start")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed")] = None,
    out: Annotated[Path | None, typer.Option(help="run folder to write")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="override a key: --set schemes.government.friend_weight=0.3")] = None,
    trace: Annotated[int, typer.Option(help="keep a ledger for K people drawn at random")] = 0,
    trace_ids: Annotated[str | None, typer.Option(
        help="keep a ledger for these people: --trace-ids 3,17")] = None,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
    force: Annotated[bool, typer.Option(
        help="run even if the memory estimate exceeds the memory available")] = False,
    checkpoint_at: Annotated[list[str] | None, typer.Option(
        help="also write a checkpoint of the end of this day into the run folder "
             "(checkpoint-DATE; repeatable)")] = None,
    from_: Annotated[Path | None, typer.Option(
        "--from", help="continue from a checkpoint folder to the scenario's end; --set may "
                       "change policy keys")] = None,
    engine: Annotated[str, typer.Option(
        help="compiled (fast) or reference (every rule from its plain function; slow)")]
        = "compiled",
) -> None:
    """Run a scenario and write a run folder (scenario, outcomes, people, figures, report)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from scoresim.limits import check_memory, scenario_largest, scenario_memory
    from scoresim.results.outdir import OutputFolder
    from scoresim.scenario.loading import load_scenario
    from scoresim.sim import Sim, resize, state_bytes

    try:
        ids = parse_ids(trace_ids)
        sets = parse_sets(set_ or [])
        dates = [parse_date(d, "--checkpoint-at") for d in checkpoint_at or []]
        if dates and (trace or ids):
            raise ScenarioError("--checkpoint-at: checkpoints of a traced run are not "
                                "supported; leave out --trace and --trace-ids.")
        if from_ is not None:
            given = [flag for flag, value in (("SCENARIO", scenario), ("--people", people),
                     ("--days", days), ("--seed", seed), ("--trace", trace or None),
                     ("--trace-ids", trace_ids)) if value is not None]
            if given:
                raise ScenarioError(f"--from: the checkpoint fixes the scenario and the "
                                    f"society; {', '.join(given)} cannot be given with it "
                                    "(use --set for policy keys).")
            sc = load_scenario(from_ / "scenario.toml", sets) if (
                from_ / "scenario.toml").is_file() else None
            base = None
        elif scenario is None:
            raise ScenarioError("run: give a SCENARIO (a preset or a TOML file), or --from "
                                "a checkpoint folder.")
        else:
            sc = resize(load_scenario(scenario, sets), people, days, seed)
            base = _source_dir(scenario)
        for d in dates if sc is not None else []:
            if not sc.start <= d <= sc.end:
                raise ScenarioError(f"--checkpoint-at {d}: outside the run ({sc.start} to "
                                    f"{sc.end}).")
        if sc is not None:
            # The estimate from the fitted constants first (nothing is built), then, where
            # it passes, from the state the components declare (a small society of 512
            # is built to count it: an added component's arrays are counted too).
            what = (f"{scenario or from_}: this run ({sc.people.count:,} people, "
                    f"{sc.days:,} days)")
            traced = trace + len(ids)
            check_memory(scenario_memory(sc, traced), what, force,
                         largest=lambda have, sc=sc: scenario_largest(sc, have, traced))
            declared = None if force else state_bytes(sc)
            if declared is not None:
                check_memory(scenario_memory(sc, traced, declared), what, force,
                             largest=lambda have, sc=sc: scenario_largest(sc, have, traced))
        if from_ is not None:
            sim = Sim.from_state(from_, sets, engine=engine)
            sc = sim.scenario
        out = _new_folder(out, f"{sc.name}-seed{sc.seed}")
        _name_stale_partials(out)
        claimed = OutputFolder(out)  # (created and checked before any work)
        with claimed, _stopped_at_once(claimed):
            if from_ is None:
                sim = Sim(sc, base_dir=base, trace=trace, trace_ids=ids, engine=engine)
            checkpoints = {d: claimed.tmp / f"checkpoint-{d}" for d in dates}
            with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                          TextColumn("day {task.completed:.0f}/{task.total:.0f}"),
                          TimeRemainingColumn(), disable=quiet, transient=False) as bar:
                task = bar.add_task(f"{sim.scenario.name}, {sim.people.n:,} people",
                                    total=sim.n_steps)
                results = sim.run(
                    progress=lambda done, total: bar.update(task, completed=done),
                    checkpoints=checkpoints)
            folder = results.save(out, folder=claimed)
    except ScenarioError as exc:
        _fail(str(exc))
        return
    _summary(results, folder)


def _summary(results, folder: Path) -> None:
    meta = results.metadata
    typer.echo(f"wrote {folder}  ({meta['people']:,} people, {meta['days']} days, "
               f"{meta['timings']['run_s']:.1f} s)")
    for name in results.scenario.schemes:
        typer.echo(f"  {name}: mean score {results.final(f'{name}_score_mean'):.1f}, "
                   f"enrolled {results.final(f'{name}_enrolled_share'):.1%}")
    col = results.column
    critical = col("critical_statements")
    typer.echo(f"  critical statements, first vs last 30 days: {critical[:30].mean():.1f} -> "
               f"{critical[-30:].mean():.1f} per day")
    typer.echo(f"  self-censoring share at the end: {results.final('self_censoring_share'):.1%}")
    typer.echo(f"  sanctions: {int(col('sanctions_total').sum()):,} "
               f"(wrongful {int(col('sanctions_wrongful').sum()):,}, "
               f"by association {int(col('sanctions_association').sum()):,})")


def parse_ids(text: str | None) -> list[int]:
    if not text:
        return []
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ScenarioError(f"--trace-ids: expected person ids like 3,17, got "
                            f"{cut(text)!r}.") from None


@app.command()
def explain(
    run_dir: Annotated[Path, typer.Argument(help="a run folder")],
    person: Annotated[int, typer.Option(help="the person's id")],
    scheme: Annotated[str | None, typer.Option(help="only this scheme")] = None,
    format_: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
) -> None:
    """Explain a traced person's score: rules, sources, friends, decay, errors, sanctions."""
    import json

    from scoresim.results.explain import contributions_frame, explain, print_account
    from scoresim.results.run_folder import Results

    try:
        if format_ not in ("table", "csv", "json"):
            raise ScenarioError(f"--format: expected table, csv or json, got {format_!r}.")
        account = explain(Results.load(run_dir), person, scheme)
    except ScenarioError as exc:
        _fail(str(exc))
        return
    if format_ == "json":
        typer.echo(json.dumps(account, indent=2, default=str))
    elif format_ == "csv":
        typer.echo(contributions_frame(account).to_csv(index=False), nl=False)
    else:
        print_account(account)


@app.command()
def compare(
    a: Annotated[str, typer.Argument(help="the reference scenario, e.g. baseline")],
    b: Annotated[str, typer.Argument(help="the scenario whose effect is measured")],
    replicates: Annotated[int, typer.Option(help="replicate seeds")] = 5,
    people: Annotated[int | None, typer.Option(help="number of people")] = None,
    days: Annotated[int | None, typer.Option(help="days to simulate, from the start")] = None,
    seed: Annotated[int, typer.Option(help="first replicate seed")] = 0,
    workers: Annotated[int | None, typer.Option(help="processes (default: all cores)")] = None,
    out: Annotated[Path | None, typer.Option(help="comparison folder to write")] = None,
    force: Annotated[bool, typer.Option(
        help="run even if the memory estimate exceeds the memory available")] = False,
    fork_at: Annotated[str | None, typer.Option(
        help="B shares A's history up to the end of this day; its policy applies from the "
             "next")] = None,
    uncertainty: Annotated[int, typer.Option(
        help="also draw this many parameter sets over the assumptions' ranges (Latin "
             "hypercube; docs/parameters.md) and report each effect's interval over them and "
             "the seeds, with a sensitivity of each effect to each assumption")] = 0,
    uncertainty_groups: Annotated[str | None, typer.Option(
        help="with --uncertainty: draw only the assumptions of these groups (comma-"
             "separated, e.g. dissent,learning)")] = None,
) -> None:
    """Effect of B against A with common random numbers, over replicate seeds (and with
    --uncertainty, over what the assumptions leave open)."""
    from scoresim.experiments.compare import compare as run_compare
    from scoresim.experiments.compare import compare_memory, society_differences
    from scoresim.limits import check_memory
    from scoresim.results.outdir import OutputFolder
    from scoresim.scenario.loading import load_scenario
    from scoresim.sim import resize

    try:
        _check_replicate_options(replicates, workers, uncertainty)
        if uncertainty and fork_at is not None:
            raise ScenarioError("--uncertainty and --fork-at cannot be combined: a drawn "
                                "parameter set changes the shared history.")
        groups = ([g.strip() for g in uncertainty_groups.split(",") if g.strip()]
                  if uncertainty_groups else None)
        fork = None if fork_at is None else parse_date(fork_at, "--fork-at")
        sa, sb = load_scenario(a), load_scenario(b)
        ra, rb = resize(sa, people, days), resize(sb, people, days)
        if fork is not None:
            from scoresim.state import check_fork

            check_fork(ra.model_dump(mode="json"), rb.model_dump(mode="json"), "--fork-at")
        check_memory(compare_memory(ra, rb, replicates, workers),
                     f"compare ({replicates:,} replicates of {ra.people.count:,} people)", force)
        differ = society_differences(ra, rb)
        if differ:
            typer.echo(f"warning: {sa.name} and {sb.name} describe different societies (they "
                       f"differ in {', '.join(differ)}): the effects mix the policy with the "
                       "society.", err=True)
        out = _new_folder(out, f"compare-{sa.name}-vs-{sb.name}")
        _name_stale_partials(out)
        claimed = OutputFolder(out)  # (created and checked before any work)
        with claimed, _stopped_at_once(claimed):
            typer.echo(f"comparing {sb.name} against {sa.name}: {replicates} seeds"
                       + (f", and {uncertainty} parameter sets times {replicates} seeds over "
                          "the assumptions" if uncertainty else "") + " ...", err=True)
            if uncertainty:
                from scoresim.experiments.uncertainty import uncertain_compare

                result = uncertain_compare(sa, sb, uncertainty, replicates, people, days,
                                           seed, workers, groups,
                                           base_dirs=(_source_dir(a), _source_dir(b)))
            else:
                result = run_compare(sa, sb, replicates, people, days, seed, workers,
                                     base_dirs=(_source_dir(a), _source_dir(b)),
                                     fork_at=fork)
            result.save(out, folder=claimed)
    except ScenarioError as exc:
        _fail(str(exc))
        return
    typer.echo(f"wrote {out}")
    for row in result.effects.itertuples():
        typer.echo(f"  {row.label:36s} {row.a_mean:12.4g} -> {row.b_mean:12.4g}  effect "
                   f"{row.effect:+.4g} [{row.ci_low:+.4g}, {row.ci_high:+.4g}]")
    if result.uncertainty is not None:
        from scoresim.experiments.uncertainty import clear

        typer.echo(f"effects over {uncertainty} parameter sets x {replicates} seeds "
                   "(2.5%-97.5%), beside the seeds-only 95% interval:")
        for row in result.uncertainty.itertuples():
            typer.echo(f"  {row.label:36s} seeds [{row.seeds_low:+.4g}, {row.seeds_high:+.4g}]"
                       f"  assumptions+seeds [{row.uncertain_low:+.4g}, "
                       f"{row.uncertain_high:+.4g}]")
        drivers = clear(result.sensitivity)
        typer.echo("assumptions whose first-order index (RBD-FAST) is clear of its noise, "
                   "largest first (sensitivity.csv has all):")
        for outcome in result.uncertainty.outcome:
            d = drivers[drivers.outcome == outcome].head(3)
            top = ", ".join(f"{p} {s:.2f}±{c:.2f}" for p, s, c in
                            zip(d.parameter, d.S1, d.S1_conf, strict=True)) or "none"
            typer.echo(f"  {outcome}: {top}")


@app.command()
def impact(
    scenario: Annotated[str, typer.Argument(help="a preset name or scenario file")],
    baseline: Annotated[str, typer.Option(
        help="the counterfactual: the same society without the scheme")] = "baseline",
    replicates: Annotated[int, typer.Option(help="replicate seeds")] = 4,
    uncertainty: Annotated[int, typer.Option(
        help="also draw this many parameter sets over the assumptions' ranges and give "
             "each measure's range over them and the seeds")] = 0,
    people: Annotated[int | None, typer.Option(help="number of people")] = None,
    days: Annotated[int | None, typer.Option(help="days to simulate, from the start")] = None,
    seed: Annotated[int, typer.Option(help="first replicate seed")] = 0,
    workers: Annotated[int | None, typer.Option(help="processes (default: all cores)")] = None,
    out: Annotated[Path | None, typer.Option(help="folder to write the card into")] = None,
    force: Annotated[bool, typer.Option(
        help="run even if the memory estimate exceeds the memory available")] = False,
) -> None:
    """The impact card: harm in unrelated contexts, disproportion, wrongful sanctions, who
    bears them, redress and the chilling effect, against a counterfactual (docs/impact.md)."""
    from scoresim.experiments.compare import compare_memory
    from scoresim.experiments.impact import MEASURES, check
    from scoresim.experiments.impact import impact as run_impact
    from scoresim.limits import check_memory
    from scoresim.results.impact_card import write_card
    from scoresim.results.outdir import OutputFolder
    from scoresim.scenario.loading import load_scenario
    from scoresim.sim import resize

    try:
        _check_replicate_options(replicates, workers, uncertainty)
        sb = load_scenario(scenario)
        try:
            sa = load_scenario(baseline)
        except ScenarioError as exc:
            raise ScenarioError(f"--baseline: {exc}") from None
        check(sb, sa)
        ra, rb = resize(sa, people, days), resize(sb, people, days)
        check_memory(compare_memory(ra, rb, replicates, workers),
                     f"impact ({replicates:,} replicates of {rb.people.count:,} people)", force)
        out = _new_folder(out, f"impact-{sb.name}")
        _name_stale_partials(out)
        claimed = OutputFolder(out)  # (created and checked before any work)
        with claimed, _stopped_at_once(claimed):
            typer.echo(f"impact of {sb.name} against {sa.name}: {replicates} seeds"
                       + (f", and {uncertainty} parameter sets times {replicates} seeds over "
                          "the assumptions" if uncertainty else "") + " ...", err=True)
            card = run_impact(sb, sa, replicates, people, days, seed, workers, uncertainty,
                              base_dirs=(_source_dir(baseline), _source_dir(scenario)))
            write_card(card, out, folder=claimed)
    except ScenarioError as exc:
        _fail(str(exc))
        return
    typer.echo(f"wrote {out}/impact.html and impact.json")
    for key in MEASURES:
        m = card["measures"][key]
        value = "n/a" if m["value"] is None else f"{m['value']:.4g}"
        ci = ("" if m["low"] is None or m["high"] is None
              else f" [{m['low']:.4g}, {m['high']:.4g}]")
        per = f" per {m['per']}" if m.get("per") else ""
        typer.echo(f"  {m['label'][:60]:60s} {value}{ci} ({m['unit']}{per})")


@app.command()
def ablate(
    scenario: Annotated[str, typer.Argument(help="a preset name or scenario file")],
    replicates: Annotated[int, typer.Option(help="replicate seeds")] = 3,
    people: Annotated[int | None, typer.Option(help="number of people")] = None,
    days: Annotated[int | None, typer.Option(help="days to simulate, from the start")] = None,
    seed: Annotated[int, typer.Option(help="first replicate seed")] = 0,
    workers: Annotated[int | None, typer.Option(help="processes (default: all cores)")] = None,
    out: Annotated[Path | None, typer.Option(help="ablation folder to write")] = None,
    only: Annotated[str | None, typer.Option(
        help="switch off only these mechanisms (comma-separated, e.g. friends_pull,opacity)")]
    = None,
    force: Annotated[bool, typer.Option(
        help="run even if the memory estimate exceeds the memory available")] = False,
) -> None:
    """Each mechanism's effect: the scenario against itself with one mechanism switched off
    at a time, common random numbers, over replicate seeds (effect = full - ablated)."""
    from scoresim.experiments.ablation import ablate as run_ablate
    from scoresim.experiments.ablation import pick, save
    from scoresim.experiments.compare import compare_memory
    from scoresim.limits import check_memory
    from scoresim.results.outdir import OutputFolder
    from scoresim.scenario.loading import load_scenario
    from scoresim.sim import resize

    try:
        _check_replicate_options(replicates, workers, 0)
        names = [n.strip() for n in only.split(",") if n.strip()] if only else None
        pick(names)  # (an unknown name refused before any work)
        sc = load_scenario(scenario)
        rs = resize(sc, people, days)
        check_memory(compare_memory(rs, rs, replicates, workers),
                     f"ablate ({replicates:,} replicates of {rs.people.count:,} people)", force)
        out = _new_folder(out, f"ablate-{sc.name}")
        _name_stale_partials(out)
        claimed = OutputFolder(out)  # (created and checked before any work)
        with claimed, _stopped_at_once(claimed):
            typer.echo(f"ablating {sc.name}: {replicates} seeds per mechanism ...", err=True)
            result = run_ablate(sc, replicates, people, days, seed, workers, names,
                                base_dir=_source_dir(scenario),
                                progress=lambda line: typer.echo(line, err=True))
            save(result, out, claimed)
    except ScenarioError as exc:
        _fail(str(exc))
        return
    typer.echo(f"wrote {out}")
    for row in result.effects.itertuples():
        typer.echo(f"  {row.model_id:4s} {row.mechanism_label:26s} {row.label:36s} effect "
                   f"{row.effect:+.4g} [{row.ci_low:+.4g}, {row.ci_high:+.4g}]")
    for name, why in result.skipped:
        typer.echo(f"  skipped {name}: {why}")


@app.command()
def report(
    folder: Annotated[Path, typer.Argument(help="a run or comparison folder")],
) -> None:
    """Write report.html (self-contained) into a run or comparison folder."""
    from scoresim.results.folder_report import write_report

    try:
        path = write_report(folder)
    except ScenarioError as exc:
        _fail(str(exc))
        return
    typer.echo(f"wrote {path}")


@app.command()
def query(
    folder: Annotated[Path, typer.Argument(help="a run folder")],
    sql: Annotated[str, typer.Argument(help="a SQL query over the tables people, network, "
                                            "friends, outcomes, ledger, regions")],
    format_: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
    limit: Annotated[int, typer.Option(help="print at most this many rows (0: all)")]
    = 1000,
    timeout: Annotated[float, typer.Option(help="stop the query after this many seconds")]
    = 60.0,
    memory_limit: Annotated[str, typer.Option(
        help="DuckDB's memory for the query, e.g. 500MB or 4GB (nothing spills to disk)")]
    = "2GB",
) -> None:
    """Query a run folder with SQL (DuckDB reads its parquet files in place; it can write
    nothing and read nothing else). docs/query.md has examples."""
    import csv
    import json

    from scoresim.results.query import query as run_query

    try:
        if format_ not in ("table", "csv", "json"):
            raise ScenarioError(f"--format: expected table, csv or json, got {format_!r}.")
        if limit < 0:
            raise ScenarioError(f"--limit: expected 0 or more, got {limit}.")
        answer = run_query(folder, sql, limit or None, timeout=timeout,
                           memory_limit=memory_limit)
    except ScenarioError as exc:
        _fail(str(exc))
        return
    if format_ == "json":
        typer.echo(json.dumps([dict(zip(answer.columns, r, strict=True)) for r in answer.rows],
                              default=str, indent=1))
    elif format_ == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(answer.columns)
        writer.writerows(answer.rows)
    else:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table()  # (cells as Text: a value such as '[/x]' is shown, not markup)
        for name in answer.columns:
            table.add_column(Text(name))
        for row in answer.rows:
            table.add_row(*(Text("" if x is None else f"{x:.6g}" if isinstance(x, float)
                                 else str(x)) for x in row))
        Console(width=200).print(table)
    if answer.more:
        typer.echo(f"(first {limit:,} rows; --limit 0 prints all)", err=True)


@app.command()
def sweep(
    sweep_file: Annotated[Path, typer.Argument(help="a sweep TOML file")],
    out: Annotated[Path | None, typer.Option(help="sweep folder (resumes if it exists)")] = None,
    workers: Annotated[int | None, typer.Option(help="local processes (default: all cores)")]
    = None,
    scheduler: Annotated[str | None, typer.Option(
        help="address of a dask.distributed scheduler, e.g. tcp://10.0.0.5:8786")] = None,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
    force: Annotated[bool, typer.Option(
        help="run even if the memory estimate exceeds the memory available")] = False,
) -> None:
    """Run a sweep: a design of parameter values times replicate seeds; resumable."""
    from scoresim.experiments.sweep import Sweep

    try:
        if workers is not None and workers < 1:
            raise ScenarioError(f"--workers: expected a number >= 1, got {workers}.")
        sw = Sweep.load(sweep_file, force=force, workers=workers, local=scheduler is None,
                        say=None if quiet else lambda line: typer.echo(line, err=True))
        out = out or Path("runs") / f"sweep-{sweep_file.stem}"
        _state["interrupted"] = (f"the runs finished so far are kept in {out / 'runs'}; the "
                                 "same command resumes the sweep")
        report = sw.run(out, workers=workers, scheduler=scheduler, progress=not quiet)
    except ScenarioError as exc:
        _fail(str(exc))
        return
    for note in report.notes:
        typer.echo(f"note: {note}", err=True)
    typer.echo(f"wrote {out}: {report.computed} runs computed, {report.skipped} found done, "
               f"{len(report.failed)} failed, of {report.total} ({report.seconds:.1f} s)")
    if report.failed:
        typer.echo(f"failed runs are listed in {out / 'failures.json'}", err=True)
        raise typer.Exit(code=1)


@app.command()
def calibrate(
    calibration_file: Annotated[Path, typer.Argument(help="a calibration TOML file")],
    out: Annotated[Path | None, typer.Option(
        help="calibration folder (continues the study if it exists)")] = None,
    trials: Annotated[int | None, typer.Option(
        help="finished trials the study should hold (default: the file's `trials`)")] = None,
    workers: Annotated[int, typer.Option(help="local processes running trials")] = 1,
    storage: Annotated[str | None, typer.Option(
        help="an Optuna RDB URL shared by several processes or machines, e.g. "
             "postgresql://user@host/db (default: sqlite file OUT/study.db)")] = None,
) -> None:
    """Fit a scenario's parameters to observed figures (Optuna; resumable; docs/calibration.md)."""
    from scoresim.experiments.calibration import Calibration
    from scoresim.experiments.calibration import calibrate as run_calibration

    try:
        if workers < 1:
            raise ScenarioError(f"--workers: expected a number >= 1, got {workers}.")
        calib = Calibration.load(calibration_file, trials)
        out = out or Path("runs") / f"calibrate-{calibration_file.stem}"
        kept = storage or out / "study.db"
        _state["interrupted"] = (f"the finished trials are kept in the study ({kept}); the "
                                 "same command continues it")
        report = run_calibration(calib, out, workers=workers, storage=storage)
    except ScenarioError as exc:
        _fail(str(exc))
        return
    typer.echo(f"wrote {out}: {report.trials} trials ({report.complete} complete, "
               f"{report.pruned} pruned, {report.failed} failed)")
    if report.best_value is not None:
        fitted = ", ".join(f"{k} = {v:.4g}" for k, v in report.best_params.items())
        typer.echo(f"best: log-likelihood {report.best_value:.3f}: {fitted}")
        typer.echo(f"fitted scenario: {out / 'best.toml'}; report: {out / 'calibration.html'}")
    if report.convergence is not None:
        for line in report.convergence.lines():
            typer.echo(line)


@app.command()
def sensitivity(
    folder: Annotated[Path, typer.Argument(help="a finished sweep folder")],
    outcome: Annotated[str, typer.Option(help="outcome, e.g. critical_statements:final")],
) -> None:
    """Sobol indices (or Morris mu*, sigma) of one outcome, as a table and a figure."""
    from rich.console import Console
    from rich.table import Table

    from scoresim.experiments.sensitivity import sensitivity as analyse

    try:
        table, figure = analyse(folder, outcome)
    except ScenarioError as exc:
        _fail(str(exc))
        return
    view = Table(*table.columns)
    for row in table.itertuples(index=False):
        view.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
    Console().print(view)
    typer.echo(f"wrote {figure} and {figure.with_suffix('.csv')}")


@app.command("app")
def app_(
    host: Annotated[str, typer.Option(help="address to bind (default: this machine only)")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port (1 to 65535)", min=1, max=65535)] = 5006,
    max_runs: Annotated[int, typer.Option(help="simulations at once, over all sessions")] = 2,
    max_people: Annotated[int, typer.Option(
        help="people per session (people x replicates x regimes)")] = 1_000_000,
    show: Annotated[bool, typer.Option(help="open a browser")] = False,
) -> None:
    """Serve the web app: the simulation live, two regimes side by side."""
    import importlib.util

    if max_runs < 1 or max_people < 1:
        _fail("--max-runs and --max-people: expected numbers >= 1.")
    missing = [m for m in ("panel", "bokeh") if importlib.util.find_spec(m) is None]
    if missing:
        _fail(f"scoresim app needs {' and '.join(missing)}: install the app extra "
              "(pip install -e '.[app]' in a checkout, or pip install 'scoresim[app]').")
    from scoresim.app import serve

    typer.echo(f"scoresim app on http://{host}:{port}/ (Ctrl-C to stop)", err=True)
    serve(host=host, port=port, max_runs=max_runs, max_people=max_people, show=show)


@app.command()
def clean(
    folder: Annotated[Path, typer.Argument(help="the folder of run folders (default: runs)")]
    = Path("runs"),
    dry_run: Annotated[bool, typer.Option(help="list them; remove nothing")] = False,
) -> None:
    """Remove the partial folders (NAME.partial-PID) that killed runs, comparisons and
    sweeps left in FOLDER and below: only those whose process has ended on this machine."""
    from scoresim.results.outdir import remove_partial, stale_partials

    if not folder.is_dir():
        _fail(f"{folder}: no such folder.")
    stale = stale_partials(folder, recursive=True)
    for path in stale:
        if not dry_run:
            try:
                remove_partial(path)
            except OSError as exc:
                _fail(f"{path}: cannot be removed: {exc.strerror or exc}.")
        typer.echo(shown(f"{'would remove' if dry_run else 'removed'} {path}"))
    if not stale:
        typer.echo(shown(f"{folder}: no partial folders of ended processes."))


@app.command()
def scenarios() -> None:
    """List the shipped presets."""
    from scoresim.scenario.loading import load_scenario, preset_names

    for name in preset_names():
        typer.echo(f"{name:18s} {load_scenario(name).description}")


@app.command()
def show(
    scenario: Annotated[str, typer.Argument(help="preset name or scenario TOML file")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="override a key")] = None,
) -> None:
    """Print the fully resolved scenario (what would run) as TOML."""
    from scoresim.results.run_folder import scenario_toml
    from scoresim.scenario.loading import load_scenario

    try:
        typer.echo(scenario_toml(load_scenario(scenario, parse_sets(set_ or []))), nl=False)
    except ScenarioError as exc:
        _fail(str(exc))


@app.command()
def validate(
    files: Annotated[list[str], typer.Argument(help="scenario files or preset names")],
) -> None:
    """Check scenario files; exit 0 if all are valid, 2 if any is not."""
    from scoresim.scenario.loading import load_scenario

    bad = 0
    for name in files:
        try:
            load_scenario(name)
            typer.echo(f"ok: {name}")
        except ScenarioError as exc:
            bad += 1
            _error(str(exc))
    if bad:
        raise typer.Exit(code=2)



@app.command()
def validation(
    quick: Annotated[bool, typer.Option(
        help="small populations and few points (the form the test suite runs)")] = False,
    out: Annotated[Path, typer.Option(
        help="folder for validation.md and its figures (validation/NAME.png)")]
        = Path("docs"),
    case: Annotated[list[str] | None, typer.Option(
        help="run only this case (repeatable)")] = None,
    no_figures: Annotated[bool, typer.Option(
        help="print the table only: no validation.md, no figures")] = False,
) -> None:
    """Reproduce published results with the model's rules: the published number beside the
    measured one, pass or fail against a stated tolerance; writes OUT/validation.md with a
    figure per case. Exit 0 if every case passes, 1 if any fails."""
    from scoresim.experiments import validation as gallery

    figures = None if no_figures else out / "validation"

    def show(outcome) -> None:
        typer.echo("\n".join(gallery.table_lines(outcome)))

    outcomes = gallery.run_all(quick=quick, figures=figures, only=case or None,
                               progress=show)
    passed = sum(o.passed for o in outcomes)
    typer.echo(f"{passed} of {len(outcomes)} cases pass "
               f"({sum(o.seconds for o in outcomes):.0f} s).")
    if not no_figures:
        typer.echo(f"wrote {gallery.write(outcomes, out, quick)}")
    if passed < len(outcomes):
        raise typer.Exit(code=1)


@app.command()
def odd(
    scenario: Annotated[str, typer.Argument(help="preset name or scenario TOML file")],
    out: Annotated[Path | None, typer.Option(
        help="file to write, a new one (default: print)")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="override a key")] = None,
    force: Annotated[bool, typer.Option(help="replace an existing --out file")] = False,
    parameters: Annotated[bool, typer.Option(
        "--parameters", help="only the parameter table, with each value's provenance")] = False,
) -> None:
    """Write the ODD protocol (Grimm et al. 2020) of a scenario: the model's declarations,
    step order and every parameter with its value, unit and provenance (fact or
    assumption)."""
    from scoresim.experiments.odd import odd_protocol, parameter_table
    from scoresim.scenario.loading import load_scenario

    try:
        if out is not None:
            check_new_file(out, force)
        sc = load_scenario(scenario, parse_sets(set_ or []))
        text = ("\n".join(parameter_table(sc)) + "\n") if parameters else odd_protocol(sc)
        if out is not None:
            write_new_file(out, text, force)
    except ScenarioError as exc:
        _fail(str(exc))
        return
    if out is None:
        typer.echo(text, nl=False)
    else:
        typer.echo(f"wrote {cut_path(out)}")


def check_new_file(out: Path, force: bool) -> None:
    """An --out file: a new one, or with --force a regular file to replace; never a pipe,
    device or folder (a write into a FIFO would wait for a reader for ever)."""
    import os
    import stat

    from scoresim.limits import _kind

    try:
        st = os.stat(out)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ScenarioError(f"{cut_path(out)}: --out cannot be written: {exc.strerror}.") \
            from None
    if not stat.S_ISREG(st.st_mode):
        raise ScenarioError(f"{cut_path(out)}: --out must be a regular file (or a new "
                            f"file's name), not {_kind(st.st_mode)}.")
    if not force:
        raise ScenarioError(f"{cut_path(out)}: --out exists already; choose another file, "
                            "or pass --force to replace it.")


def write_new_file(out: Path, text: str, force: bool) -> None:
    """Write ``text`` to ``out`` atomically (a temporary file beside it, then a rename):
    never a half-written file, never over a file that appeared meanwhile unless --force."""
    import os

    check_new_file(out, force)
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                     0o644)
        try:
            os.write(fd, text.encode("utf-8"))
        finally:
            os.close(fd)
        if force:
            os.replace(tmp, out)
        else:
            os.link(tmp, out)  # (fails if out appeared meanwhile: nothing is overwritten)
    except FileExistsError:
        raise ScenarioError(f"{cut_path(out)}: --out was created by someone else meanwhile; "
                            "choose another file, or pass --force to replace it.") from None
    except OSError as exc:
        raise ScenarioError(f"{cut_path(out)}: --out cannot be written: "
                            f"{exc.strerror or exc}.") from None
    finally:
        if tmp.exists():
            tmp.unlink()


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where Ctrl-C's KeyboardInterrupt would be: the same paths
    remove partial folders and stop workers; the exit status is 128 + the signal."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, frame) -> None:
    if _state.get("signal") is not None:  # (a second signal does not cut the clean-up short)
        return
    _state["signal"] = signum  # (typer turns the exception into exit status 130)
    if _state.get("at_once") is not None:
        _stop_at_once(signum, _state["at_once"])
    raise Stopped(signum)


def _stop_at_once(signum: int, clean_up) -> None:
    """Remove the partial output folder, say so and exit, from the signal handler itself:
    no exception is sent unwinding through compiled code, the compiler and the thread
    pool (one raised there crashed or hung the process now and then)."""
    import os
    import signal

    try:
        kept = clean_up()
        by = "" if signum == signal.SIGINT else f" by {signal.Signals(signum).name}"
        if sys.stdout.isatty():  # (the progress bar hid the cursor)
            sys.stdout.write("\x1b[?25h\n")
        sys.stdout.flush()
        sys.stderr.write(f"interrupted{by}: {shown(kept)}\n")
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001  (a closed terminal: exit all the same)
        pass
    finally:
        os._exit(128 + signum)


@contextlib.contextmanager
def _stopped_at_once(claimed) -> Iterator[None]:
    """Within: Ctrl-C, SIGTERM and SIGHUP remove the claimed partial folder
    (``outdir.OutputFolder``) and end the process at once, exit 128 + the signal."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def clean_up() -> str:
        if claimed.committed:
            return f"{claimed.out} was written"
        claimed.discard()
        return "nothing was written"

    _state["at_once"] = clean_up
    before = signal.signal(signal.SIGINT, _stop)
    try:
        yield
    finally:
        _state["at_once"] = None
        signal.signal(signal.SIGINT, before)


def _signal_handlers() -> dict:
    """SIGTERM and SIGHUP handled like Ctrl-C while a command runs (main thread only)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}
    before = {}
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            before[sig] = signal.signal(sig, _stop)
    return before


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from or during (at most 20)."""
    out, todo = [], [exc]
    while todo and len(out) < 20:
        e = todo.pop(0)
        if e is not None and all(e is not o for o in out):
            out.append(e)
            todo += [e.__cause__, e.__context__]
    return out


def _interruption(exc: BaseException) -> int | None:
    """The signal that stopped the command, if ``exc`` came of one: a Stopped or Ctrl-C's
    KeyboardInterrupt (130), perhaps wrapped by the parser in an Abort or by a compiled
    function in a SystemError ("returned a result with an exception set")."""
    import signal

    chain = _chain(exc)
    for e in chain:
        if isinstance(e, Stopped):
            return e.signum
    if any(isinstance(e, KeyboardInterrupt) for e in chain) or isinstance(exc, typer.Abort):
        return int(signal.SIGINT)
    return None


def main(argv: list[str] | None = None) -> None:
    """The edge: run the command line and turn every error into one line and an exit
    status (2 for input, 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP, 1 for a fault
    of scoresim's own)."""
    import signal

    before = _signal_handlers()
    try:
        _main(argv)
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def _main(argv: list[str] | None) -> None:
    import signal

    from scoresim.errors import one_line

    args = list(sys.argv[1:] if argv is None else argv)
    _state.update(debug="--debug" in args, interrupted="nothing was written", signal=None,
                  at_once=None)
    stopped_by = None
    try:
        code = app(args=args, prog_name="scoresim", standalone_mode=False)
    except (KeyboardInterrupt, typer.Abort, SystemError) as exc:
        stopped_by = _state["signal"] or _interruption(exc)
        if stopped_by is None:  # (a SystemError of its own)
            _report(exc, f"internal error: {one_line(exc)} (run with --debug for the "
                         "traceback; please report it)")
            sys.exit(1)
        code = 128 + stopped_by
    except _usage_errors() as exc:
        import io

        text = io.StringIO()  # (the parser's message repeats arguments: shown escaped)
        exc.show(file=text)
        sys.stderr.write(shown(text.getvalue()))
        sys.exit(exc.exit_code)
    except ScenarioError as exc:
        _report(exc, str(exc))
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001  (the edge: one line, not a traceback)
        if _interrupted(exc):
            typer.echo(f"interrupted: {_state['interrupted']}", err=True)
            sys.exit(130)
        known = _input_error(exc)
        _report(exc, one_line(exc) if known else
                f"internal error: {one_line(exc)} (run with --debug for the traceback; "
                "please report it)")
        sys.exit(2 if known else 1)
    stopped_by = _state["signal"] or stopped_by
    if stopped_by is not None:
        code = 128 + stopped_by
    if code == 130:
        typer.echo(f"interrupted: {shown(_state['interrupted'])}", err=True)
    elif stopped_by is not None:
        typer.echo(f"interrupted by {signal.Signals(stopped_by).name}: "
                   f"{shown(_state['interrupted'])}", err=True)
    sys.exit(code if isinstance(code, int) else 0)


def _usage_errors() -> tuple[type[BaseException], ...]:
    """Usage errors of the command-line parser (typer's own click, or click)."""
    kinds: list[type[BaseException]] = [
        next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")]
    try:
        import click

        kinds.append(click.ClickException)
    except ImportError:
        pass
    return tuple(kinds)


def _interrupted(exc: BaseException) -> bool:
    """A Ctrl-C that reached compiled code: numba (and other extensions) can end with a
    ``SystemError`` ("returned a result with an exception set") whose cause or context is
    the ``KeyboardInterrupt``."""
    if not isinstance(exc, SystemError):
        return False
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc.__cause__, exc.__context__]
    while todo:
        link = todo.pop()
        if link is None or id(link) in seen:
            continue
        if isinstance(link, KeyboardInterrupt):
            return True
        seen.add(id(link))
        todo += [link.__cause__, link.__context__]
    return False


def _input_error(exc: BaseException) -> bool:
    """Errors that bad input (not a fault of scoresim) can cause."""
    import json

    import pyarrow as pa
    from pydantic import ValidationError

    return isinstance(exc, UnicodeDecodeError | RecursionError | OverflowError | OSError
                      | MemoryError | json.JSONDecodeError | tomllib.TOMLDecodeError
                      | pa.ArrowException | ValidationError)


def _report(exc: BaseException, line: str) -> None:
    if _state["debug"]:
        import traceback

        traceback.print_exception(exc)
    _error(line)


if __name__ == "__main__":
    main()
