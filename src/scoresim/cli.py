"""Command line: ``scoresim run | scenarios | show | validate | app | ...``.

Bad input ends with one paragraph on stderr naming the file, the key and what was expected,
and exit status 2; never a traceback.
"""

from __future__ import annotations

import datetime as dt
import sys
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer

from scoresim.errors import ScenarioError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Simulate social-scoring systems on synthetic societies.")


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
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ScenarioError(f"--set {item!r}: expected KEY=VALUE, e.g. people.count=5000.")
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text
        out[key.strip()] = value
    return out


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="preset name or scenario TOML file")],
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
) -> None:
    """Run a scenario and write a run folder (scenario, outcomes, people, figures, report)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from scoresim.loading import load_scenario
    from scoresim.sim import Sim

    try:
        sc = load_scenario(scenario, parse_sets(set_ or []))
        base = Path(scenario).parent if Path(scenario).is_file() else None
        sim = Sim(sc, seed=seed, people=people, days=days, base_dir=base, trace=trace,
                  trace_ids=parse_ids(trace_ids))
        out = _new_folder(out, f"{sim.scenario.name}-seed{sim.seed}")
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                      TextColumn("day {task.completed:.0f}/{task.total:.0f}"),
                      TimeRemainingColumn(), disable=quiet, transient=False) as bar:
            task = bar.add_task(f"{sim.scenario.name}, {sim.people.n:,} people",
                                total=sim.n_steps)
            results = sim.run(progress=lambda done, total: bar.update(task, completed=done))
        folder = results.save(out)
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
        raise ScenarioError(f"--trace-ids: expected person ids like 3,17, got {text!r}.") \
            from None


@app.command()
def explain(
    run_dir: Annotated[Path, typer.Argument(help="a run folder")],
    person: Annotated[int, typer.Option(help="the person's id")],
    scheme: Annotated[str | None, typer.Option(help="only this scheme")] = None,
    format_: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
) -> None:
    """Explain a traced person's score: rules, sources, friends, decay, errors, sanctions."""
    import json

    from scoresim.explain import contributions_frame, explain, print_account
    from scoresim.results import Results

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
) -> None:
    """Effect of B against A with common random numbers, over replicate seeds."""
    from scoresim.compare import compare as run_compare
    from scoresim.loading import load_scenario

    try:
        if replicates < 1:
            raise ScenarioError(f"--replicates: expected a number >= 1, got {replicates}.")
        if workers is not None and workers < 1:
            raise ScenarioError(f"--workers: expected a number >= 1, got {workers}.")
        sa, sb = load_scenario(a), load_scenario(b)
        out = _new_folder(out, f"compare-{sa.name}-vs-{sb.name}")
        typer.echo(f"comparing {sb.name} against {sa.name}: {replicates} seeds ...", err=True)
        result = run_compare(sa, sb, replicates, people, days, seed, workers)
        result.save(out)
    except ScenarioError as exc:
        _fail(str(exc))
        return
    typer.echo(f"wrote {out}")
    for row in result.effects.itertuples():
        typer.echo(f"  {row.label:36s} {row.a_mean:12.4g} -> {row.b_mean:12.4g}  effect "
                   f"{row.effect:+.4g} [{row.ci_low:+.4g}, {row.ci_high:+.4g}]")


@app.command()
def report(
    folder: Annotated[Path, typer.Argument(help="a run or comparison folder")],
) -> None:
    """Write report.html (self-contained) into a run or comparison folder."""
    from scoresim.report import write_report

    try:
        path = write_report(folder)
    except ScenarioError as exc:
        _fail(str(exc))
        return
    typer.echo(f"wrote {path}")


@app.command()
def sweep(
    sweep_file: Annotated[Path, typer.Argument(help="a sweep TOML file")],
    out: Annotated[Path | None, typer.Option(help="sweep folder (resumes if it exists)")] = None,
    workers: Annotated[int | None, typer.Option(help="local processes (default: all cores)")]
    = None,
    scheduler: Annotated[str | None, typer.Option(
        help="address of a dask.distributed scheduler, e.g. tcp://10.0.0.5:8786")] = None,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
) -> None:
    """Run a sweep: a design of parameter values times replicate seeds; resumable."""
    from scoresim.sweep import Sweep

    try:
        if workers is not None and workers < 1:
            raise ScenarioError(f"--workers: expected a number >= 1, got {workers}.")
        sw = Sweep.load(sweep_file)
        out = out or Path("runs") / f"sweep-{sweep_file.stem}"
        report = sw.run(out, workers=workers, scheduler=scheduler, progress=not quiet)
    except ScenarioError as exc:
        _fail(str(exc))
        return
    typer.echo(f"wrote {out}: {report.computed} runs computed, {report.skipped} found done, "
               f"{len(report.failed)} failed, of {report.total} ({report.seconds:.1f} s)")
    if report.failed:
        typer.echo(f"failed runs are listed in {out / 'failures.json'}", err=True)
        raise typer.Exit(code=1)


@app.command()
def sensitivity(
    folder: Annotated[Path, typer.Argument(help="a finished sweep folder")],
    outcome: Annotated[str, typer.Option(help="outcome, e.g. critical_statements:final")],
) -> None:
    """Sobol indices (or Morris mu*, sigma) of one outcome, as a table and a figure."""
    from rich.console import Console
    from rich.table import Table

    from scoresim.sensitivity import sensitivity as analyse

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
    if max_runs < 1 or max_people < 1:
        _fail("--max-runs and --max-people: expected numbers >= 1.")
    from scoresim.app import serve

    typer.echo(f"scoresim app on http://{host}:{port}/ (Ctrl-C to stop)", err=True)
    serve(host=host, port=port, max_runs=max_runs, max_people=max_people, show=show)


@app.command()
def scenarios() -> None:
    """List the shipped presets."""
    from scoresim.loading import load_scenario, preset_names

    for name in preset_names():
        typer.echo(f"{name:18s} {load_scenario(name).description}")


@app.command()
def show(
    scenario: Annotated[str, typer.Argument(help="preset name or scenario TOML file")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="override a key")] = None,
) -> None:
    """Print the fully resolved scenario (what would run) as TOML."""
    from scoresim.loading import load_scenario
    from scoresim.results import scenario_toml

    try:
        typer.echo(scenario_toml(load_scenario(scenario, parse_sets(set_ or []))), nl=False)
    except ScenarioError as exc:
        _fail(str(exc))


@app.command()
def validate(
    files: Annotated[list[str], typer.Argument(help="scenario files or preset names")],
) -> None:
    """Check scenario files; exit 0 if all are valid, 2 if any is not."""
    from scoresim.loading import load_scenario

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


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted: no run folder was completed", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
