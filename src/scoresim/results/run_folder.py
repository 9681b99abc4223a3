"""Results of a run: outcomes per step, final people, metadata; saved as a run folder.

A run folder is written to ``<out>.partial-<pid>`` and renamed to ``<out>`` only when every
file is in place, so an interrupted run never looks complete.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import tomli_w

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
    data = scenario.model_dump(mode="python", exclude_none=True)
    return tomli_w.dumps(data)


def scenario_hash(scenario: Scenario) -> str:
    return hashlib.sha256(scenario_toml(scenario).encode()).hexdigest()


def _categorical(codes: np.ndarray, labels: list[str] | tuple[str, ...]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), pa.array(labels))


def people_table(sim: Sim) -> pa.Table:
    p = sim.people
    cols: dict[str, Any] = {
        "id": pa.array(np.arange(p.n, dtype=np.int32)),
        "person_id": p.person_id,
        "age_years": (p.age_days / 365.25).astype(np.float32),
        "region": _categorical(p.region, list(sim.scenario.people.regions)),
        "age_band": _categorical(p.age_band, AGE_BANDS),
        "income_decile": p.income_decile,
        "job": _categorical(p.job, JOBS),
        "private_opinion": p.private_opinion,
        "expressed_opinion": p.expressed_opinion,
        "risk_aversion": p.risk_aversion,
        "boldness": p.boldness,
        "commerce_account": p.commerce_account,
        "social_account": p.social_account,
        "foreigner": p.foreigner,
        "bill_reliability": p.bill_reliability,
        "university": p.university,
        "degree": sim.network.degree,
        "blacklisted": p.blacklisted_until >= sim.t - 1,
        "sanctions": sim.sanctions.received,
        "sanctions_wrongful": sim.sanctions.received_wrongful,
        "sanctions_association": sim.sanctions.received_association,
    }
    for name, sch in sim.schemes.items():
        cols[f"{name}_state"] = _categorical(sch.state, ENROLMENT_STATES)
        cols[f"{name}_enrol_step"] = sch.enrol_step
        cols[f"{name}_early"] = sch.early
        cols[f"{name}_own_score"] = sch.b
        cols[f"{name}_score"] = sch.s
        cols[f"{name}_visible"] = sch.visible_to_self
        if sch.tier_names:
            cols[f"{name}_tier"] = _categorical(sch.tier_index(), sch.tier_names)
    return pa.table({k: v if isinstance(v, pa.Array) else pa.array(v) for k, v in cols.items()})


def network_table(sim: Sim) -> pa.Table:
    return pa.table({"a": pa.array(sim.network.u), "b": pa.array(sim.network.v)})


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


@dataclass
class Results:
    """A run's tables (pyarrow; ``*_df()`` give pandas) and metadata."""

    scenario: Scenario
    outcomes: pa.Table
    people: pa.Table | None
    metadata: dict[str, Any] = field(default_factory=dict)
    ledger: pa.Table | None = None
    ledger_friends: pa.Table | None = None
    network: pa.Table | None = None

    @classmethod
    def from_sim(cls, sim: Sim) -> Results:
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
        people = people_table(sim) if sc.output.people_table else None
        ledger = friends = None
        if sim.tracer is not None:
            ledger, friends = sim.tracer.table(), sim.tracer.friends_table()
            meta["traced"] = sim.tracer.ids.tolist()
        network = network_table(sim) if sc.output.network else None
        return cls(sc, sim.outcomes.to_arrow(), people, meta, ledger, friends, network)

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
                if getattr(self, name) is not None:
                    pq.write_table(getattr(self, name), tmp / f"{name}.parquet")
            if self.scenario.output.figures if figures is None else figures:
                from scoresim.results.figures import write_figures

                self.metadata["figures"] = write_figures(self, tmp)
            self.metadata["sha256"] = folder_digests(tmp)
            (tmp / "metadata.json").write_text(
                json.dumps(self.metadata, indent=2, default=str), encoding="utf-8"
            )
            if self.scenario.output.report if report is None else report:
                from scoresim.results.report import write_report

                write_report(tmp)
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

        tables = {name: table(name) for name in OPTIONAL_TABLES
                  if (run_dir / f"{name}.parquet").is_file()}
        outcomes = table("outcomes")
        if "date" not in outcomes.column_names or outcomes.num_rows == 0:
            raise ScenarioError(f"{run_dir / 'outcomes.parquet'}: not an outcome table (no "
                                "rows or no `date` column); the run folder is damaged.")
        return cls(
            scenario=scenario,
            outcomes=outcomes,
            people=tables.pop("people", None),
            metadata=metadata,
            **tables,
        )
