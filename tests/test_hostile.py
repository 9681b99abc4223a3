"""The hostile-input corpus (tests/hostile/cases.py): every case ends with the expected exit
status and message, in one short paragraph, never a traceback. The command line runs in
this process (scoresim.cli.main with argv), so the corpus takes seconds."""

from __future__ import annotations

import importlib
import os
import shutil
from pathlib import Path

import pytest

from hostile.cases import CASES, Case, _held
from scoresim.cli import main


def invoke(args: list[str], capsys) -> tuple[int, str]:
    capsys.readouterr()
    try:
        main(args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    else:
        code = 0
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.fixture(scope="session")
def run_folder(tmp_path_factory) -> Path:
    """A small finished run folder (traced, no figures) that cases copy and damage."""
    out = tmp_path_factory.mktemp("hostile-run") / "run"
    try:
        main(["run", "seed", "--people", "300", "--days", "5", "--trace", "3", "--quiet",
              "--set", "output.figures=false", "--set", "output.report=false",
              "--out", str(out)])
    except SystemExit as exc:
        assert exc.code in (0, None)
    assert (out / "metadata.json").is_file()
    return out


def test_the_corpus_is_large_and_named_uniquely():
    names = [c.name for c in CASES]
    assert len(names) >= 40 and len(set(names)) == len(names)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_case(case: Case, tmp_path, monkeypatch, capsys, request):
    if case.setup is not None and "fifo" in case.name and not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    for name, content in case.files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    run = tmp_path / "run"
    if any("{run}" in a for a in case.args):
        shutil.copytree(request.getfixturevalue("run_folder"), run)
    if case.setup is not None:
        case.setup(tmp_path)
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    for target, value in case.patch.items():
        module, attr = target.split(":")
        monkeypatch.setattr(importlib.import_module(module), attr, value)
    monkeypatch.chdir(tmp_path)
    args = [a.format(tmp=tmp_path, run=run) for a in case.args]
    try:
        code, output = invoke(args, capsys)
    finally:
        while _held:
            os.close(_held.pop())
    assert "Traceback" not in output, output
    assert code == case.exit, f"exit {code}, expected {case.exit}:\n{output[:3000]}"
    assert case.fragment in output, f"{case.fragment!r} not in:\n{output[:3000]}"
    assert len(output) <= case.max_chars, f"{len(output)} characters:\n{output[:3000]}"
    if case.absent is not None:
        assert case.absent not in output, output
    if case.no_out is not None:
        gone = Path(case.no_out.format(tmp=tmp_path, run=run))
        assert not gone.exists(), f"{gone} was written"
        assert not list(gone.parent.glob(f"{gone.name}.partial-*")), "a partial folder remains"
    if case.after is not None:
        case.after(tmp_path)
