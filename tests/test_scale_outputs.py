"""Outputs that scale: the people and network tables are written in row groups straight
from the engine's arrays (never a whole table, never pandas); the report is drawn from
the summary the run keeps (never from the tables); a run folder is queried with SQL in
place (DuckDB)."""

import json
import tracemalloc

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from scoresim import Results, ScenarioError, Sim
from scoresim.cli import app
from scoresim.results import run_folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("scale") / "run"
    res = CliRunner().invoke(app, ["run", "seed", "--people", "3000", "--days", "40",
                                   "--trace", "20", "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    return out


def test_writing_a_run_folder_holds_a_row_group_not_the_table(tmp_path, monkeypatch):
    """The table writer's peak (tracemalloc: numpy and Python allocations, where a pandas
    frame of the table would land) stays under a fifth of the people table's size: the
    bound holds only if the table is never built whole (a pandas frame of it is at least
    its size). (The rest of save() holds file blocks of 1 MiB for the checksums.)"""
    monkeypatch.setattr(run_folder, "ROW_GROUP", 1024)
    sim = Sim("seed", people=20_000, days=2)
    results = sim.run()
    source = results._tables["people"]
    assert isinstance(source, run_folder.TableSource)
    (tmp_path / "run").mkdir()
    tracemalloc.start()
    try:
        source.write(tmp_path / "run" / "people.parquet")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    results.save(tmp_path / "saved", figures=False, report=False)
    people = pq.ParquetFile(tmp_path / "run" / "people.parquet")
    table_bytes = pq.read_table(tmp_path / "run" / "people.parquet").nbytes
    assert people.metadata.num_row_groups == 20  # (20,000 people, 1,024 a group)
    assert table_bytes > 1_500_000
    assert peak < table_bytes / 5, (peak, table_bytes)
    assert pq.ParquetFile(tmp_path / "saved" / "network.parquet").metadata.num_row_groups > 1
    # (the whole table, as the writer made it before: the bound would catch it)
    tracemalloc.start()
    try:
        run_folder.people_table(sim).to_pandas()
        _, whole = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert whole > table_bytes / 5


def test_the_streamed_tables_are_the_whole_tables(tmp_path, monkeypatch):
    sim = Sim("seed", people=2500, days=5)
    results = sim.run()
    whole_people, whole_net = run_folder.people_table(sim), run_folder.network_table(sim)
    monkeypatch.setattr(run_folder, "ROW_GROUP", 700)
    results.save(tmp_path / "run", figures=False, report=False)
    assert pq.read_table(tmp_path / "run" / "people.parquet").equals(whole_people)
    assert pq.read_table(tmp_path / "run" / "network.parquet").equals(whole_net)
    assert Results.load(tmp_path / "run").people.equals(whole_people)


def test_the_report_reads_neither_the_people_nor_the_network_table(folder, monkeypatch):
    from scoresim.results.folder_report import write_report

    def refuse(self):
        raise AssertionError(f"the report read {self.path.name} whole")

    monkeypatch.setattr(run_folder.TableSource, "table", refuse)
    before = (folder / "report.html").read_text()
    write_report(folder)
    after = (folder / "report.html").read_text()
    assert after == before  # the same page as the run wrote, from the summary alone
    for heading in ("by income", "by region", "fig-neighbourhood", "fig-distribution",
                    "fig-opinions"):
        assert heading in after


def test_a_folder_without_a_summary_is_summarised_from_its_tables(folder):
    """Folders written before summary.json: the same summary from the parquet files."""
    from scoresim.results.summary import summarise_folder

    saved = json.loads((folder / "summary.json").read_text())
    again = json.loads(json.dumps(summarise_folder(Results.load(folder).scenario, folder)))
    assert again == saved


def test_the_summary_matches_the_people_table(folder):
    people = pq.read_table(folder / "people.parquet").to_pandas()
    summary = Results.load(folder).summary
    assert summary["people"] == len(people)
    income = {r["group"]: r for r in summary["groups"]["income"]}
    poor = people[people.income_decile <= 2]
    assert income["poor (0-2)"]["people"] == len(poor)
    assert income["poor (0-2)"]["sanctions"] == poor.sanctions.sum()
    region = {r["group"]: r for r in summary["groups"]["region"]}
    beijing = people[people.region == "beijing"]
    assert region["beijing"]["good_job"] == pytest.approx((beijing.job == "good").mean())
    gov = summary["scores"]["government"]
    scored = people.loc[people.government_state != "none", "government_score"]
    assert gov["scored"] == len(scored) == sum(gov["counts"])
    assert gov["p10_p50_p90"][1] == pytest.approx(np.percentile(scored, 50))
    assert sum(summary["opinions"]["private"]) == len(people)
    hood = summary["neighbourhood"]
    assert hood["centre"] in hood["people"] and len(hood["people"]) <= 200
    assert hood["friends"] == people.degree[hood["centre"]]


# ------------------------------------------------------------------------------- query


def test_query_counts_and_joins(folder):
    from scoresim.results.query import query

    answer = query(folder, "SELECT count(*) AS n FROM people")
    assert answer.rows == [(3000,)]
    ties = query(folder, "SELECT count(*) FROM network").rows[0][0]
    assert query(folder, "SELECT count(*) FROM friends").rows[0][0] == 2 * ties
    degree = query(folder, "SELECT sum(degree) FROM people").rows[0][0]
    assert degree == 2 * ties
    tiers = query(folder, "SELECT government_tier AS tier, count(*) AS n, avg(degree) "
                          "FROM people GROUP BY tier ORDER BY tier")
    assert sum(r[1] for r in tiers.rows) == 3000


def test_query_is_read_only_and_reads_only_the_folder(folder, tmp_path):
    from scoresim.results.query import query

    with pytest.raises(ScenarioError, match="query:"):
        query(folder, "SELECT * FROM read_csv('/etc/hostname')")
    with pytest.raises(ScenarioError, match="query:"):
        query(folder, f"COPY people TO '{tmp_path / 'x.parquet'}'")
    with pytest.raises(ScenarioError, match="query:"):
        query(folder, f"COPY people TO '{folder / 'people.parquet'}'")
    with pytest.raises(ScenarioError, match="query:"):
        query(folder, "SET enable_external_access = true")
    assert not (tmp_path / "x.parquet").exists()
    Results.load(folder)  # every file as the run wrote it


def test_query_from_the_cli(folder):
    res = CliRunner().invoke(app, [
        "query", str(folder), "--format", "json",
        "SELECT region, count(*) AS critics_without_good_job FROM people "
        "WHERE private_opinion < -0.3 AND job <> 'good' GROUP BY region ORDER BY region"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert {r["region"] for r in rows} <= {"beijing", "shanghai", "suqian", "rongcheng",
                                           "other"}
    bad = CliRunner().invoke(app, ["query", str(folder), "SELEC nonsense"])
    assert bad.exit_code == 2 and "query:" in bad.output
    limited = CliRunner().invoke(app, ["query", str(folder), "--format", "csv", "--limit", "5",
                                       "SELECT id FROM people ORDER BY id"])
    assert limited.exit_code == 0
    assert limited.stdout.splitlines() == ["id", "0", "1", "2", "3", "4"]


# ------------------------------------------------------------------------ bad input


def test_a_population_that_will_not_fit_is_refused_with_the_largest_that_would(monkeypatch):
    """Refused before the society is built (Sim is never constructed), naming the estimate
    and the most people that would fit."""
    import re

    from scoresim import sim as sim_module
    from scoresim.limits import largest_population, run_memory

    def never(*args, **kwargs):
        raise AssertionError("the society was built before the memory check")

    monkeypatch.setattr(sim_module.Sim, "__init__", never)
    monkeypatch.setenv("SCORESIM_MEMORY_BYTES", str(2 << 30))
    res = CliRunner().invoke(app, ["run", "seed", "--people", "20000000", "--days", "30",
                                   "--quiet", "--out", "/nonexistent/never"])
    assert res.exit_code == 2
    text = " ".join(res.output.split())
    assert "needs about" in text and "only 2.0 GiB is available" in text
    most = int(re.search(r"largest population that fits is about ([\d,]+) people",
                         text).group(1).replace(",", ""))
    assert most == largest_population(2 << 30, 10, 30)
    assert run_memory(most, 10, 30) <= 2 << 30 < run_memory(most + 1000, 10, 30)


def test_the_summary_does_not_depend_on_its_chunks(monkeypatch):
    from scoresim.results import summary

    sim = Sim("seed", people=2500, days=5)
    sim.run()
    whole = summary.summarise_sim(sim)
    monkeypatch.setattr(summary, "CHUNK", 700)
    chunked = summary.summarise_sim(sim)
    for key in ("private_mean", "expressed_mean"):
        assert chunked["opinions"].pop(key) == pytest.approx(whole["opinions"].pop(key),
                                                             rel=1e-12)
    assert chunked == whole


def test_the_summary_histogram_counts_as_numpys():
    """The summary's histograms (a binary search among the edges) count each value where
    ``np.histogram`` does: bins closed on the left, the last closed on both sides, values
    outside left out; on values at, between and beyond the edges, float32 and float64."""
    from scoresim.results.summary import OPINION_EDGES, histogram

    rng = np.random.default_rng(3)
    for trial in range(60):
        edges = (OPINION_EDGES, np.linspace(0.0, 1000.0, 21), np.linspace(-3.0, 7.0, 6))[trial % 3]
        pool = np.concatenate([edges, rng.uniform(edges[0] - 1, edges[-1] + 1, 40)])
        values = rng.choice(pool, int(rng.integers(0, 2000))).astype(
            (np.float32, np.float64)[trial % 2])
        np.testing.assert_array_equal(histogram(values, edges), np.histogram(values, edges)[0])


def test_every_example_of_the_query_docs_runs(folder):
    """docs/query.md's SQL, each block run on a small folder (with a ledger)."""
    import re
    from pathlib import Path

    from scoresim.results.query import query

    doc = (Path(__file__).parent.parent / "docs" / "query.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n(.*?)```", doc, flags=re.S)
    assert len(blocks) >= 5
    for sql in blocks:
        answer = query(folder, sql)
        assert answer.columns, sql
