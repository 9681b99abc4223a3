"""A corpus of broken scenarios (tests/broken/), each with the message it must produce.

Each file starts with one or more ``# expect: TEXT`` lines; validating it must end with exit
status 2, a message holding every TEXT and the file's path, and never a traceback.
"""

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scoresim import ScenarioError, load_scenario
from scoresim.cli import app

BROKEN = sorted((Path(__file__).parent / "broken").glob("*.toml"))


def expectations(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.removeprefix("# expect: ") for line in lines if line.startswith("# expect: ")]


def test_the_corpus_is_large_enough():
    assert len(BROKEN) >= 30
    assert all(expectations(p) for p in BROKEN)


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_scenario_is_explained(path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    for text in expectations(path):
        assert text in message, f"{path.name}: {text!r} not in\n{message}"
    assert path.name in message


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_validate_exits_2_without_traceback(path):
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 2
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert "Traceback" not in res.output


def test_validate_as_a_process_prints_no_traceback():
    res = subprocess.run([sys.executable, "-m", "scoresim.cli", "validate", *map(str, BROKEN)],
                         capture_output=True, text=True)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert res.stderr.count("error:") == len(BROKEN)


def test_validate_accepts_the_presets():
    res = CliRunner().invoke(app, ["validate", "seed", "baseline", "sesame",
                                   "government-pilot"])
    assert res.exit_code == 0, res.output
