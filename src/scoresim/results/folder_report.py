"""``scoresim report``: (re)write report.html into a run or a comparison folder, whichever
it is, from what the folder holds. The pages themselves are built by
:func:`scoresim.results.report.run_report` and
:func:`scoresim.results.comparison.comparison_report`, which the run and the comparison
folders also call as they are saved."""

from __future__ import annotations

from pathlib import Path

from scoresim.errors import ScenarioError
from scoresim.results.comparison import comparison_report
from scoresim.results.outdir import check_writable_folder
from scoresim.results.report import run_report, write_page
from scoresim.results.run_folder import Results


def write_report(folder: Path | str) -> Path:
    """Write report.html into a run or comparison folder (atomically)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ScenarioError(f"{folder}: no such run or comparison folder.")
    if (folder / "comparison.json").is_file():
        make = comparison_report
    elif (folder / "outcomes.parquet").is_file():
        def make(folder: Path) -> str:
            return run_report(Results.load(folder))
    else:
        raise ScenarioError(f"{folder}: neither a run folder nor a comparison folder.")
    check_writable_folder(folder, "the folder (report.html goes there)")
    return write_page(folder, make(folder))
