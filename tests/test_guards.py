"""Guards of the second hostile-input round (issue 31) that the corpus
(tests/hostile/cases.py) cannot check by exit status and message alone: what a refusal left
untouched, and the memory estimate of many schemes against measured peaks."""

from __future__ import annotations

import copy
import sqlite3

import pytest

from hostile.cases import calibration
from scoresim.cli import main


def _exit(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    return 0


def test_an_unrelated_sqlite_file_given_as_storage_is_left_as_it_was(tmp_path, capsys):
    db = tmp_path / "mine.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE notes (x TEXT)")
    con.execute("INSERT INTO notes VALUES ('keep me')")
    con.commit()
    con.close()
    before = db.read_bytes()
    (tmp_path / "c.toml").write_text(calibration(), encoding="utf-8")
    code = _exit(["calibrate", str(tmp_path / "c.toml"), "--out", str(tmp_path / "o"),
                  "--storage", f"sqlite:///{db}"])
    assert code == 2
    assert "database of something else (it holds the table 'notes')" in capsys.readouterr().err
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml", "mine.db"]  # no lock, no --out


def test_an_empty_or_optuna_sqlite_file_is_accepted_as_storage(tmp_path):
    from scoresim.experiments.calibration import check_sqlite_file

    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    check_sqlite_file(empty, f"sqlite:///{empty}")
    study = tmp_path / "study.db"
    con = sqlite3.connect(study)
    con.execute("CREATE TABLE studies (study_id INTEGER)")
    con.execute("CREATE TABLE alembic_version (version_num TEXT)")
    con.commit()
    con.close()
    check_sqlite_file(study, f"sqlite:///{study}")
    check_sqlite_file(tmp_path / "new.db", f"sqlite:///{tmp_path / 'new.db'}")


def test_odd_never_overwrites_a_file_without_force(tmp_path, capsys):
    out = tmp_path / "odd.md"
    out.write_text("mine", encoding="utf-8")
    assert _exit(["odd", "seed", "--out", str(out)]) == 2
    assert out.read_text(encoding="utf-8") == "mine"
    assert _exit(["odd", "seed", "--out", str(out), "--force"]) == 0
    assert out.read_text(encoding="utf-8").startswith("#")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd.md"]  # (no temporary left)


def _schemes(count: int):
    """seed with copies of its government scheme: ``count`` schemes in all."""
    from scoresim.scenario.loading import read_raw, resolve_source, validate

    path = resolve_source("seed")
    raw = read_raw(path)
    for i in range(count - len(raw["schemes"])):
        raw["schemes"][f"g{i}"] = copy.deepcopy(raw["schemes"]["government"])
    return validate(raw, path)


#: Peak resident memory of `scoresim run` (a run folder, 30 days) of seed with 58 copies of
#: its government scheme, measured on this project's 2-core machine (os.wait4 of the child,
#: as benchmarks/seed_scaling.py); before the schemes' arrays were counted the estimate
#: missed by 25-29%.
MEASURED_60_SCHEMES = [(30_000, 722), (100_000, 1442), (200_000, 2381)]


@pytest.mark.parametrize(("people", "peak_mib"), MEASURED_60_SCHEMES)
def test_the_memory_estimate_of_60_schemes_is_within_10_percent(people, peak_mib):
    from scoresim.limits import scenario_memory
    from scoresim.sim import resize

    sc = resize(_schemes(60), people, 30)
    estimate = scenario_memory(sc) / 2**20
    assert abs(estimate - peak_mib) / peak_mib < 0.10, f"{estimate:.0f} MiB"


def test_each_scheme_adds_to_the_estimate():
    from scoresim.limits import scenario_memory
    from scoresim.sim import resize

    two, ten = (scenario_memory(resize(_schemes(k), 100_000, 30)) for k in (2, 10))
    assert ten - two > 8 * 100_000 * 40
