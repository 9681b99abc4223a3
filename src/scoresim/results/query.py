"""SQL over a run folder without loading it: DuckDB reads the parquet files in place,
only the columns and row groups a query needs (``scoresim query RUN "SQL"``).

The folder's tables are views named after their files: ``people``, ``network`` (ties
``a < b``), ``outcomes``, ``ledger``, ``ledger_friends``, and ``friends`` (each tie in both
directions: ``person``, ``friend``), plus ``regions`` (``region``, ``population_share``).
The query is one SELECT (or WITH, DESCRIBE, SUMMARIZE, SHOW, EXPLAIN) statement.

What keeps it read-only is DuckDB's own configuration, not the statement's text: the
tables are Arrow datasets of the folder's files, registered before
``enable_external_access = false`` is set with no allowed path, and the configuration is
then locked. So no statement, whatever it says (``EXPLAIN ANALYZE COPY ... TO``,
``read_csv('/etc/passwd')``, ``ATTACH``, ``SET``), can open a file for reading or writing,
anywhere, or reach the network; with no temporary directory nothing is spilled to disk.
A query runs under a memory limit (DuckDB's ``memory_limit``) and a time limit (a timer
interrupts the connection), and Ctrl-C interrupts it at once. The SQL is the user's own;
nothing of a scenario is ever run as SQL. docs/query.md has examples.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scoresim.errors import ScenarioError, cut

TABLES = ("people", "network", "outcomes", "ledger", "ledger_friends")
#: At most this many rows are returned unless asked for more.
DEFAULT_LIMIT = 1000
#: A query is interrupted after this many seconds unless asked for more.
DEFAULT_TIMEOUT_S = 60.0
#: DuckDB's memory for one query unless asked for more (it spills nothing to disk).
DEFAULT_MEMORY_LIMIT = "2GB"
_MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.I)
#: Rows fetched at a time (the time limit and Ctrl-C are checked between batches).
_BATCH = 10_000


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


def check_memory_limit(text: str) -> str:
    if not _MEMORY.match(text):
        raise ScenarioError(f"--memory-limit {cut(text)!r}: expected a size such as 500MB or "
                            "2GB.")
    return text.strip()


def _table_file(folder: Path, name: str) -> Path | None:
    """``folder/NAME.parquet`` if it is a regular file of the folder (not a link)."""
    path = folder / f"{name}.parquet"
    return path if path.is_file() and not path.is_symlink() else None


def connect(folder: Path | str, memory_limit: str = DEFAULT_MEMORY_LIMIT):
    """An in-memory DuckDB connection with the run folder's tables as views, which can
    open no file at all (the tables are Arrow datasets registered before external access
    is turned off) and whose configuration is locked."""
    duckdb = _duckdb()
    import pyarrow as pa
    import pyarrow.dataset as ds

    folder = Path(folder).resolve()
    if _table_file(folder, "outcomes") is None:
        raise ScenarioError(f"{folder}: not a run folder (no outcomes.parquet).")
    config = {"memory_limit": check_memory_limit(memory_limit), "temp_directory": "",
              "max_temp_directory_size": "0B", "autoinstall_known_extensions": False,
              "autoload_known_extensions": False}
    try:
        con = duckdb.connect(":memory:", config=config)
    except duckdb.Error as exc:
        raise ScenarioError(f"query: {cut(str(exc), 200)}") from None
    try:
        found = []
        for name in TABLES:
            path = _table_file(folder, name)
            if path is None:
                continue
            try:
                con.register(name, ds.dataset(str(path), format="parquet"))
            except (pa.ArrowException, OSError) as exc:
                raise ScenarioError(f"{path}: not a readable parquet table "
                                    f"({cut(str(exc), 200)}).") from None
            found.append(name)
        if "network" in found:
            con.execute("CREATE VIEW friends AS SELECT a AS person, b AS friend FROM network "
                        "UNION ALL SELECT b AS person, a AS friend FROM network")
        con.execute("CREATE TABLE regions (region VARCHAR, population_share DOUBLE)")
        if (folder / "scenario.toml").is_file():
            from scoresim.limits import META_MAX_BYTES, parse_toml, read_text

            path = folder / "scenario.toml"
            people = parse_toml(read_text(path, "scenario", META_MAX_BYTES), str(path)
                                ).get("people", {})
            regions = people.get("regions", {}) if isinstance(people, dict) else {}
            if isinstance(regions, dict) and regions:
                con.executemany("INSERT INTO regions VALUES (?, ?)",
                                [(str(k), float(v)) for k, v in regions.items()
                                 if isinstance(v, int | float)])
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def query(folder: Path | str, sql: str, limit: int | None = DEFAULT_LIMIT, *,
          timeout: float = DEFAULT_TIMEOUT_S,
          memory_limit: str = DEFAULT_MEMORY_LIMIT) -> Answer:
    """Run ``sql`` on the run folder's tables; at most ``limit`` rows (None: all), within
    ``timeout`` seconds and DuckDB's ``memory_limit``. Ctrl-C interrupts it at once."""
    duckdb = _duckdb()
    if not timeout > 0:
        raise ScenarioError(f"--timeout: expected seconds > 0, got {timeout}.")
    con = connect(folder, memory_limit)
    try:
        try:
            statements = con.extract_statements(sql)
        except duckdb.Error as exc:
            raise ScenarioError(f"query: {_message(exc)}") from None
        if len(statements) != 1 or statements[0].type not in (
                duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN):
            raise ScenarioError("query: one SELECT statement (WITH, DESCRIBE, SUMMARIZE, SHOW "
                                "and EXPLAIN too) is read; no COPY, SET, ATTACH, CREATE or "
                                "other statements: the run folder is read-only.")
        return _timed(con, statements[0], limit, timeout, memory_limit)
    finally:
        try:
            con.close()
        except duckdb.Error:  # (still busy after an interrupt: left to the process's end)
            pass


def _message(exc: BaseException) -> str:
    return cut(" ".join(str(exc).split()), 400)


def _halt(con, thread: threading.Thread, stop: threading.Event, wait: float) -> None:
    """Interrupt the connection until the query's thread has ended (an interrupt that
    comes before DuckDB has started the query is lost: so again), for ``wait`` seconds."""
    stop.set()
    end = time.monotonic() + wait
    while thread.is_alive() and time.monotonic() < end:
        con.interrupt()
        thread.join(0.05)


def _timed(con, statement, limit: int | None, timeout: float, memory_limit: str) -> Answer:
    """Run the statement in a thread; interrupt the connection when ``timeout`` seconds
    have passed or on Ctrl-C (which reaches the main thread while it waits)."""
    duckdb = _duckdb()
    box: dict[str, Any] = {}
    stop = threading.Event()

    def work() -> None:
        try:
            cur = con.execute(statement)
            if cur.description is None:
                box["answer"] = Answer([], [], False)
                return
            columns = [d[0] for d in cur.description]
            want = None if limit is None else limit + 1
            rows: list[tuple[Any, ...]] = []
            while not stop.is_set() and (want is None or len(rows) < want):
                batch = cur.fetchmany(_BATCH if want is None else min(_BATCH,
                                                                      want - len(rows)))
                if not batch:
                    break
                rows += batch
            if stop.is_set():
                return
            more = limit is not None and len(rows) > limit
            box["answer"] = Answer(columns, rows[:limit] if more else rows, more)
        except BaseException as exc:  # noqa: BLE001  (handed to the waiting thread)
            box["error"] = exc

    thread = threading.Thread(target=work, name="scoresim-query", daemon=True)
    deadline = time.monotonic() + timeout
    thread.start()
    try:
        while thread.is_alive() and time.monotonic() < deadline:
            thread.join(min(0.1, max(0.0, deadline - time.monotonic())))
    except KeyboardInterrupt:
        _halt(con, thread, stop, 1.0)
        raise
    if thread.is_alive():
        _halt(con, thread, stop, 5.0)
        raise ScenarioError(f"query: stopped after {timeout:g} s (--timeout {timeout:g}); "
                            "narrow the query (fewer rows, a WHERE, a LIMIT) or give it more "
                            "time with --timeout.")
    exc = box.get("error")
    if exc is None:
        return box["answer"]
    if isinstance(exc, duckdb.OutOfMemoryException) or isinstance(exc, MemoryError):
        raise ScenarioError(f"query: needs more memory than --memory-limit {memory_limit} "
                            "allows (nothing is spilled to disk); narrow the query or raise "
                            "--memory-limit.") from None
    if isinstance(exc, duckdb.Error):
        raise ScenarioError(f"query: {_message(exc)}") from None
    raise exc
