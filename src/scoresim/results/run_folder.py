"""Results of a run: outcomes per step, final people, metadata; saved as a run folder.

A run folder is written to ``<out>.partial-<pid>`` and renamed to ``<out>`` only when every
file is in place, so an interrupted run never looks complete.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from scoresim.declarations.categories import AGE_BANDS, ENROLMENT_STATES, JOBS
from scoresim.errors import ScenarioError, cut
from scoresim.results.outdir import OutputFolder
from scoresim.scenario.schema import Scenario
from scoresim.version import __version__

if TYPE_CHECKING:
    import pandas as pd

    from scoresim.sim import Sim

RUN_FILES = ("scenario.toml", "metadata.json", "outcomes.parquet")
OPTIONAL_TABLES = ("people", "ledger", "ledger_friends", "network")


def scenario_toml(scenario: Scenario) -> str:
    """The resolved scenario (``scenario.toml``; checked to be readable again when it is
    loaded: :func:`scoresim.scenario.loading.check_resolved_size`)."""
    from scoresim.scenario.loading import resolved_toml

    return resolved_toml(scenario)


def scenario_hash(scenario: Scenario) -> str:
    return hashlib.sha256(scenario_toml(scenario).encode()).hexdigest()


#: Rows of a people or network table written at a time: each row group is built from
#: slices of the engine's arrays, written, and let go, so writing a table of 10^8 people
#: holds one row group (tens of MB), never the whole table.
ROW_GROUP = 1 << 20


def _categorical(codes: np.ndarray, labels: list[str] | tuple[str, ...]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), pa.array(labels))


def people_columns(sim: Sim, lo: int = 0, hi: int | None = None) -> dict[str, Any]:
    """The people table's columns for the people ``lo`` to ``hi`` (slices of the engine's
    arrays, no copies but the few computed columns); a categorical column is a pair
    ``(codes, labels)``."""
    p = sim.people
    hi = p.n if hi is None else hi
    cut_ = slice(lo, hi)
    cols: dict[str, Any] = {
        "id": np.arange(lo, hi, dtype=np.int32),
        "person_id": p.person_id[cut_],
        "age_years": (p.age_days[cut_] / 365.25).astype(np.float32),
        "region": (p.region[cut_], list(sim.scenario.people.regions)),
        "age_band": (p.age_band[cut_], AGE_BANDS),
        "income_decile": p.income_decile[cut_],
        "job": (p.job[cut_], JOBS),
        "private_opinion": p.private_opinion[cut_],
        "expressed_opinion": p.expressed_opinion[cut_],
        "risk_aversion": p.risk_aversion[cut_],
        "boldness": p.boldness[cut_],
        "commerce_account": p.commerce_account[cut_],
        "social_account": p.social_account[cut_],
        "foreigner": p.foreigner[cut_],
        "bill_reliability": p.bill_reliability[cut_],
        "university": p.university[cut_],
        "degree": sim.network.degree[cut_],
        "blacklisted": p.blacklisted_until[cut_] >= sim.t - 1,
        "sanctions": sim.sanctions.received[cut_],
        "sanctions_wrongful": sim.sanctions.received_wrongful[cut_],
        "sanctions_association": sim.sanctions.received_association[cut_],
    }
    for name, sch in sim.schemes.items():
        cols[f"{name}_state"] = (sch.state[cut_], ENROLMENT_STATES)
        cols[f"{name}_enrol_step"] = sch.enrol_step[cut_]
        cols[f"{name}_early"] = sch.early[cut_]
        cols[f"{name}_own_score"] = sch.b[cut_]
        cols[f"{name}_score"] = sch.s[cut_]
        cols[f"{name}_visible"] = sch.visible_to_self[cut_]
        if sch.tier_names:
            cols[f"{name}_tier"] = (sch.tier_index(sch.s[cut_]), sch.tier_names)
    return cols


def _batch(cols: dict[str, Any]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({
        k: _categorical(*v) if isinstance(v, tuple) else pa.array(v) for k, v in cols.items()})


def people_batches(sim: Sim, rows: int | None = None) -> Iterator[pa.RecordBatch]:
    """The people table, ``rows`` people at a time (:data:`ROW_GROUP`)."""
    rows = rows or ROW_GROUP
    for lo in range(0, max(sim.people.n, 1), rows):
        yield _batch(people_columns(sim, lo, min(lo + rows, sim.people.n)))


def network_batches(sim: Sim, rows: int | None = None) -> Iterator[pa.RecordBatch]:
    """The ties (``a < b``), ``rows`` ties at a time (:data:`ROW_GROUP`)."""
    rows = rows or ROW_GROUP
    u, v = sim.network.u, sim.network.v
    for lo in range(0, max(u.shape[0], 1), rows):
        yield pa.RecordBatch.from_pydict({"a": pa.array(u[lo:lo + rows]),
                                          "b": pa.array(v[lo:lo + rows])})


def people_table(sim: Sim) -> pa.Table:
    """The whole people table in memory (small runs; a run folder streams it instead)."""
    return pa.Table.from_batches(list(people_batches(sim)))


def network_table(sim: Sim) -> pa.Table:
    return pa.Table.from_batches(list(network_batches(sim)))


class TableSource:
    """A table of a run that is not held in memory: the engine's arrays at the end of a
    run (written in row groups), or a parquet file of a run folder (read on request)."""

    def __init__(self, batches: Callable[[], Iterator[pa.RecordBatch]] | None = None,
                 path: Path | None = None, sim: Sim | None = None):
        self._batches, self.path, self._sim = batches, path, sim
        self._t = None if sim is None else sim.t

    def _check(self) -> None:
        if self._sim is not None and self._sim.t != self._t:
            raise RuntimeError("the simulation went on after its results were taken; take "
                               "them again (sim.run() or Results.from_sim) to get its tables")

    def table(self) -> pa.Table:
        """The whole table in memory."""
        if self.path is not None:
            return pq.read_table(self.path)
        self._check()
        return pa.Table.from_batches(list(self._batches()))

    def write(self, path: Path) -> None:
        """Write the table as parquet, one row group at a time."""
        if self.path is not None:
            import shutil

            shutil.copyfile(self.path, path)
            return
        self._check()
        writer = None
        try:
            for batch in self._batches():
                if writer is None:
                    writer = pq.ParquetWriter(path, batch.schema)
                # (a table per batch: each ends its own row group, none is buffered)
                writer.write_table(pa.Table.from_batches([batch]),
                                   row_group_size=max(batch.num_rows, 1))
        finally:
            if writer is not None:
                writer.close()


@contextmanager
def atomic_folder(out: Path | str, folder: OutputFolder | None = None) -> Iterator[Path]:
    """Yield a temporary folder beside ``out``; rename it to ``out`` only if the block
    finishes. An existing ``out`` is never overwritten; an interrupted block leaves
    nothing behind. ``folder``: one claimed (and checked) before the work began."""
    folder = folder if folder is not None else OutputFolder(out)
    try:
        yield folder.tmp
        folder.commit()
    finally:
        folder.discard()


class Results:
    """A run's tables (pyarrow; ``*_df()`` give pandas), metadata and end-of-run summary.

    The people and network tables of a run of millions are not held in memory: ``people``
    and ``network`` build (from the engine's arrays) or read (from a run folder) the whole
    table only when asked; :meth:`save` streams them in row groups, and the report uses
    :attr:`summary` (:mod:`scoresim.results.summary`), never the tables.
    """

    def __init__(self, scenario: Scenario, outcomes: pa.Table,
                 people: pa.Table | TableSource | None = None,
                 metadata: dict[str, Any] | None = None, ledger: pa.Table | None = None,
                 ledger_friends: pa.Table | None = None,
                 network: pa.Table | TableSource | None = None,
                 summary: dict[str, Any] | None = None, folder: Path | None = None):
        self.scenario, self.outcomes = scenario, outcomes
        self.metadata = metadata if metadata is not None else {}
        self.ledger, self.ledger_friends = ledger, ledger_friends
        self._tables: dict[str, pa.Table | TableSource | None] = {"people": people,
                                                                   "network": network}
        self._summary, self._folder = summary, folder
        #: Figures drawn while saving: name -> (PNG, alt text); the report embeds them.
        self.drawn: dict[str, tuple[bytes, str]] = {}

    def _table(self, name: str) -> pa.Table | None:
        value = self._tables[name]
        if isinstance(value, TableSource):
            value = self._tables[name] = value.table()
        return value

    @property
    def people(self) -> pa.Table | None:
        """The whole people table (read or built on first use: GBs at 10^7 people)."""
        return self._table("people")

    @people.setter
    def people(self, value: pa.Table | None) -> None:
        self._tables["people"] = value

    @property
    def network(self) -> pa.Table | None:
        """The whole tie table (read or built on first use)."""
        return self._table("network")

    @network.setter
    def network(self, value: pa.Table | None) -> None:
        self._tables["network"] = value

    @property
    def summary(self) -> dict[str, Any] | None:
        """The end-of-run summary the report is drawn from (histograms, tier counts, group
        gaps, a neighbourhood); for a folder written without one, computed from its
        parquet files a column at a time (None without a people table)."""
        if self._summary is None and self._folder is not None:
            from scoresim.results.summary import summarise_folder

            self._summary = summarise_folder(self.scenario, self._folder)
        return self._summary

    @classmethod
    def from_sim(cls, sim: Sim) -> Results:
        from scoresim.results.summary import summarise_sim

        sim.observer.finish()
        sc = sim.scenario
        meta = {
            "scoresim_version": __version__,
            "scenario": sc.name,
            "seed": sim.seed,
            "scenario_sha256": scenario_hash(sc),
            "people": sim.people.n,
            "days": sim.t,
            "start": sc.start.isoformat(),
            "end": sim.dates[sim.t - 1].isoformat() if sim.t else None,
            "edges": sim.network.n_edges,
            "timings": dict(sim.timings),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "platform": platform.platform(),
            "engine": sim.engine,
        }
        if sim.continued_from is not None:
            meta["continued_from"] = sim.continued_from
        people = TableSource(lambda: people_batches(sim), sim=sim) \
            if sc.output.people_table else None
        ledger = friends = None
        if sim.tracer is not None:
            ledger, friends = sim.tracer.table(), sim.tracer.friends_table()
            meta["traced"] = sim.tracer.ids.tolist()
        network = TableSource(lambda: network_batches(sim), sim=sim) \
            if sc.output.network else None
        return cls(sc, sim.outcomes.to_arrow(), people, meta, ledger, friends, network,
                   summary=summarise_sim(sim))

    # ------------------------------------------------------------------- frames

    def outcomes_df(self) -> pd.DataFrame:
        return self.outcomes.to_pandas()

    def people_df(self) -> pd.DataFrame:
        if self.people is None:
            raise ValueError("this run kept no people table (output.people_table = false)")
        return self.people.to_pandas()

    def ledger_df(self) -> pd.DataFrame:
        if self.ledger is None:
            raise ValueError("this run traced nobody (run with --trace K or --trace-ids)")
        return self.ledger.to_pandas()

    def column(self, name: str) -> np.ndarray:
        return self.outcomes.column(name).to_numpy()

    def final(self, name: str) -> float:
        return float(self.column(name)[-1])

    # --------------------------------------------------------------------- disk

    def save(self, out: Path, figures: bool | None = None, report: bool | None = None,
             folder: OutputFolder | None = None) -> Path:
        """Write the run folder atomically; refuse to overwrite an existing one.
        ``folder``: the output folder claimed before the run (:mod:`scoresim.results.outdir`).
        metadata.json records the SHA-256 of every other file
        (:mod:`scoresim.results.integrity`)."""
        from scoresim.results.integrity import folder_digests

        with atomic_folder(out, folder) as tmp:
            (tmp / "scenario.toml").write_text(scenario_toml(self.scenario), encoding="utf-8")
            pq.write_table(self.outcomes, tmp / "outcomes.parquet")
            for name in OPTIONAL_TABLES:
                value = self._tables[name] if name in self._tables else getattr(self, name)
                if isinstance(value, TableSource):
                    value.write(tmp / f"{name}.parquet")
                elif value is not None:
                    pq.write_table(value, tmp / f"{name}.parquet")
            if self.summary is not None:
                (tmp / "summary.json").write_text(json.dumps(self.summary), encoding="utf-8")
            if self.scenario.output.figures if figures is None else figures:
                from scoresim.results.figures import write_figures

                self.metadata["figures"] = write_figures(self, tmp)
            self.metadata["sha256"] = folder_digests(tmp)
            (tmp / "metadata.json").write_text(
                json.dumps(self.metadata, indent=2, default=str), encoding="utf-8"
            )
            if self.scenario.output.report if report is None else report:
                from scoresim.results.report import run_report, write_page

                write_page(tmp, run_report(self))
        return Path(out)

    @classmethod
    def load(cls, run_dir: Path | str, verify: bool = True) -> Results:
        """Read a run folder. Every file is checked against the SHA-256 digests in
        metadata.json (``verify``); a missing, changed, truncated or unreadable file is a
        :class:`ScenarioError` naming it."""
        from pydantic import ValidationError

        from scoresim.limits import META_MAX_BYTES, decode, parse_toml, read_bytes
        from scoresim.results import integrity

        run_dir = Path(run_dir)
        if not run_dir.is_dir():
            raise ScenarioError(f"{run_dir}: no such run folder.")
        missing = [f for f in RUN_FILES if not (run_dir / f).is_file()]
        if missing:
            raise ScenarioError(f"{run_dir}: not a complete run folder (missing "
                                f"{', '.join(missing)}).")
        meta_path = run_dir / "metadata.json"
        try:
            metadata = json.loads(decode(read_bytes(meta_path, "metadata file", META_MAX_BYTES),
                                         meta_path, "metadata file"))
        except (json.JSONDecodeError, RecursionError) as exc:
            raise ScenarioError(f"{meta_path}: not valid JSON ({cut(str(exc), 120)}); the run "
                                "folder is damaged.") from None
        if not isinstance(metadata, dict):
            raise ScenarioError(f"{meta_path}: expected a JSON object; the run folder is "
                                "damaged.")
        if verify and "sha256" in metadata:
            integrity.verify(run_dir, metadata["sha256"])
        toml_path = run_dir / "scenario.toml"
        raw = parse_toml(decode(read_bytes(toml_path, "scenario file", META_MAX_BYTES),
                                toml_path, "scenario file"), str(toml_path))
        try:
            scenario = Scenario.model_validate(raw)
        except ValidationError as exc:
            from scoresim.scenario.loading import explain_validation

            raise ScenarioError(explain_validation(exc, toml_path)) from None

        def table(name: str) -> pa.Table:
            path = run_dir / f"{name}.parquet"
            try:
                return pq.read_table(path)
            except (pa.ArrowException, OSError) as exc:
                raise ScenarioError(f"{path}: not a readable parquet table "
                                    f"({cut(str(exc), 120)}); the run folder is damaged.") \
                    from None

        tables: dict[str, Any] = {name: table(name) for name in ("ledger", "ledger_friends")
                                  if (run_dir / f"{name}.parquet").is_file()}
        for name in ("people", "network"):  # (read when asked for: GBs at 10^7 people)
            path = run_dir / f"{name}.parquet"
            if path.is_file():
                try:
                    pq.ParquetFile(path).close()
                except (pa.ArrowException, OSError) as exc:
                    raise ScenarioError(f"{path}: not a readable parquet table "
                                        f"({cut(str(exc), 120)}); the run folder is "
                                        "damaged.") from None
                tables[name] = TableSource(path=path)
        summary = None
        summary_path = run_dir / "summary.json"
        if summary_path.is_file():
            summary = _read_summary(summary_path)
        outcomes = table("outcomes")
        if "date" not in outcomes.column_names or outcomes.num_rows == 0:
            raise ScenarioError(f"{run_dir / 'outcomes.parquet'}: not an outcome table (no "
                                "rows or no `date` column); the run folder is damaged.")
        return cls(
            scenario=scenario,
            outcomes=outcomes,
            people=tables.pop("people", None),
            metadata=metadata,
            summary=summary,
            folder=run_dir,
            **tables,
        )


def _read_summary(path: Path) -> dict[str, Any]:
    from scoresim.limits import META_MAX_BYTES, decode, read_bytes
    from scoresim.results.summary import SUMMARY_VERSION

    try:
        data = json.loads(decode(read_bytes(path, "summary file", META_MAX_BYTES), path,
                                 "summary file"))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ScenarioError(f"{path}: not valid JSON ({cut(str(exc), 120)}); the run folder "
                            "is damaged.") from None
    if not isinstance(data, dict) or data.get("version") != SUMMARY_VERSION:
        raise ScenarioError(f"{path}: not a summary this version of scoresim reads (version "
                            f"{SUMMARY_VERSION} expected); the run folder is damaged or newer.")
    return data
