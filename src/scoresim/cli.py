"""Command line: ``scoresim run | compare | sweep | calibrate | report | query | explain |
sensitivity | scenarios | show | validate | validation | odd | app``.

The edge (:func:`main`): bad input ends with one paragraph on stderr naming the file or
argument and what was expected, and exit status 2; decoding, recursion, overflow, file
system, Arrow, JSON and TOML errors alike (:func:`scoresim.errors.one_line`). A traceback
only with ``--debug``. Ctrl-C prints ``interrupted: ...`` (what was kept) and exits 130.
"""

from __future__ import annotations

import datetime as dt
import sys
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer

from scoresim.errors import ScenarioError, cut

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Simulate social-scoring systems on synthetic societies.")

#: What the edge reports: --debug, and what an interruption keeps.
_state: dict[str, Any] = {"debug": False, "interrupted": "nothing was written"}
#: The longest --set item read.
MAX_SET_CHARS = 10_000


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="on an error, print the traceback")]
    = False,
) -> None:
    _state["debug"] = debug


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _new_folder(out: Path | None, name: str) -> Path:
    """The output folder: as given, or runs/NAME-TIMESTAMP; never an existing one."""
    if out is None:
        out = Path("runs") / f"{name}-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
    if out.exists():
        raise ScenarioError(f"{out}: the output folder exists already; choose another --out "
                            "or remove it.")
    return out


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
    from scoresim.sim import Sim, resize

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
            check_memory(scenario_memory(sc, trace + len(ids)),
                         f"{scenario or from_}: this run ({sc.people.count:,} people, "
                         f"{sc.days:,} days)", force,
                         largest=lambda have, sc=sc: scenario_largest(
                             sc, have, trace + len(ids)))
        if from_ is not None:
            sim = Sim.from_state(from_, sets, engine=engine)
            sc = sim.scenario
        out = _new_folder(out, f"{sc.name}-seed{sc.seed}")
        claimed = OutputFolder(out)  # (created and checked before any work)
        with claimed:
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
        if replicates < 1:
            raise ScenarioError(f"--replicates: expected a number >= 1, got {replicates}.")
        if workers is not None and workers < 1:
            raise ScenarioError(f"--workers: expected a number >= 1, got {workers}.")
        if uncertainty < 0 or uncertainty == 1:
            raise ScenarioError(f"--uncertainty: expected 0 (off) or at least 2 parameter "
                                f"sets, got {uncertainty}.")
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
        claimed = OutputFolder(out)  # (created and checked before any work)
        with claimed:
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
def report(
    folder: Annotated[Path, typer.Argument(help="a run or comparison folder")],
) -> None:
    """Write report.html (self-contained) into a run or comparison folder."""
    from scoresim.results.report import write_report

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
) -> None:
    """Query a run folder with SQL (DuckDB reads its parquet files in place; read-only).
    docs/query.md has examples."""
    import csv
    import json

    from scoresim.results.query import query as run_query

    try:
        if format_ not in ("table", "csv", "json"):
            raise ScenarioError(f"--format: expected table, csv or json, got {format_!r}.")
        if limit < 0:
            raise ScenarioError(f"--limit: expected 0 or more, got {limit}.")
        answer = run_query(folder, sql, limit or None)
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

        table = Table(*answer.columns)
        for row in answer.rows:
            table.add_row(*("" if x is None else f"{x:.6g}" if isinstance(x, float) else str(x)
                            for x in row))
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
        sw = Sweep.load(sweep_file, force=force, workers=workers, local=scheduler is None)
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
    port: Annotated[int, typer.Option(help="port")] = 5006,
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
            typer.echo(f"error: {exc}", err=True)
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
    out: Annotated[Path | None, typer.Option(help="file to write (default: print)")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="override a key")] = None,
    parameters: Annotated[bool, typer.Option(
        "--parameters", help="only the parameter table, with each value's provenance")] = False,
) -> None:
    """Write the ODD protocol (Grimm et al. 2020) of a scenario: the model's declarations,
    step order and every parameter with its value, unit and provenance (fact or
    assumption)."""
    from scoresim.experiments.odd import odd_protocol, parameter_table
    from scoresim.scenario.loading import load_scenario

    sc = load_scenario(scenario, parse_sets(set_ or []))
    text = ("\n".join(parameter_table(sc)) + "\n") if parameters else odd_protocol(sc)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}")


def main(argv: list[str] | None = None) -> None:
    """The edge: run the command line and turn every error into one line and an exit
    status (2 for input, 130 for Ctrl-C, 1 for a fault of scoresim's own)."""

    from scoresim.errors import one_line

    args = list(sys.argv[1:] if argv is None else argv)
    _state.update(debug="--debug" in args, interrupted="nothing was written")
    try:
        code = app(args=args, prog_name="scoresim", standalone_mode=False)
    except (KeyboardInterrupt, typer.Abort):
        code = 130
    except _usage_errors() as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ScenarioError as exc:
        _report(exc, str(exc))
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001  (the edge: one line, not a traceback)
        known = _input_error(exc)
        _report(exc, one_line(exc) if known else
                f"internal error: {one_line(exc)} (run with --debug for the traceback; "
                "please report it)")
        sys.exit(2 if known else 1)
    if code == 130:
        typer.echo(f"interrupted: {_state['interrupted']}", err=True)
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
    typer.echo(f"error: {line}", err=True)


if __name__ == "__main__":
    main()
