"""SQL over a run folder without loading it: DuckDB reads the parquet files in place,
only the columns and row groups a query needs (``scoresim query RUN "SQL"``).

The folder's tables are views named after their files: ``people``, ``network`` (ties
``a < b``), ``outcomes``, ``ledger``, ``ledger_friends``, and ``friends`` (each tie in both
directions: ``person``, ``friend``), plus ``regions`` (``region``, ``population_share``).
The query is one SELECT (or WITH, DESCRIBE, SUMMARIZE, SHOW, EXPLAIN) statement, run in an
in-memory database that may read the run folder's files and nothing else (DuckDB's
``enable_external_access = false`` with the folder as the one allowed directory, the
configuration locked): it cannot change the run folder, read other files or reach the
network. The SQL
is the user's own; nothing of a scenario is ever run as SQL. docs/query.md has examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scoresim.errors import ScenarioError, cut

TABLES = ("people", "network", "outcomes", "ledger", "ledger_friends")
#: At most this many rows are returned unless asked for more.
DEFAULT_LIMIT = 1000


@dataclass
class Answer:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    more: bool  # True: the query had more rows than were fetched


def _duckdb():
    try:
        import duckdb
    except ImportError:  # pragma: no cover - the extra is installed with [test]
        raise ScenarioError("query needs DuckDB: pip install 'scoresim[query]'.") from None
    return duckdb


def connect(folder: Path | str):
    """An in-memory DuckDB connection with the run folder's tables as views."""
    duckdb = _duckdb()
    folder = Path(folder).resolve()
    if not (folder / "outcomes.parquet").is_file():
        raise ScenarioError(f"{folder}: not a run folder (no outcomes.parquet).")
    con = duckdb.connect(":memory:")
    found = []
    for name in TABLES:
        path = folder / f"{name}.parquet"
        if path.is_file():
            quoted = str(path).replace("'", "''")
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{quoted}')")
            found.append(name)
    if "network" in found:
        con.execute("CREATE VIEW friends AS SELECT a AS person, b AS friend FROM network "
                    "UNION ALL SELECT b AS person, a AS friend FROM network")
    if (folder / "scenario.toml").is_file():
        from scoresim.limits import read_toml

        people = read_toml(folder / "scenario.toml").get("people", {})
        regions = people.get("regions", {}) if isinstance(people, dict) else {}
        con.execute("CREATE TABLE regions (region VARCHAR, population_share DOUBLE)")
        if isinstance(regions, dict) and regions:
            con.executemany("INSERT INTO regions VALUES (?, ?)",
                            [(str(k), float(v)) for k, v in regions.items()
                             if isinstance(v, int | float)])
    quoted_dir = str(folder).replace("'", "''")
    con.execute(f"SET allowed_directories = ['{quoted_dir}/']")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def query(folder: Path | str, sql: str, limit: int | None = DEFAULT_LIMIT) -> Answer:
    """Run ``sql`` on the run folder's tables; at most ``limit`` rows (None: all)."""
    duckdb = _duckdb()
    con = connect(folder)
    try:
        statements = con.extract_statements(sql)
        if len(statements) != 1 or statements[0].type not in (
                duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN):
            raise ScenarioError("query: one SELECT statement (WITH, DESCRIBE, SUMMARIZE, SHOW "
                                "and EXPLAIN too) is read; no COPY, SET, ATTACH, CREATE or "
                                "other statements: the run folder is read-only.")
        cur = con.execute(statements[0])
        if cur.description is None:
            return Answer([], [], False)
        columns = [d[0] for d in cur.description]
        if limit is None:
            return Answer(columns, cur.fetchall(), False)
        rows = cur.fetchmany(limit + 1)
        return Answer(columns, rows[:limit], len(rows) > limit)
    except duckdb.Error as exc:
        raise ScenarioError(f"query: {cut(str(exc), 400)}") from None
    finally:
        con.close()
