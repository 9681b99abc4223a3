"""Command line: ``scoresim run | scenarios | show | validate``.

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
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
) -> None:
    """Run a scenario and write a run folder (scenario, outcomes, people, figures)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from scoresim.loading import load_scenario
    from scoresim.sim import Sim

    try:
        sc = load_scenario(scenario, parse_sets(set_ or []))
        base = Path(scenario).parent if Path(scenario).is_file() else None
        sim = Sim(sc, seed=seed, people=people, days=days, base_dir=base)
        if out is None:
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            out = Path("runs") / f"{sim.scenario.name}-seed{sim.seed}-{stamp}"
        if out.exists():
            raise ScenarioError(f"{out}: the output folder exists already; choose another "
                                "--out or remove it.")
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
