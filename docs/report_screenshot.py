"""Render a run's and a comparison's report.html in headless Chromium, as a reader at a
1024 px screen sees them, and save full-page screenshots into docs/.

    apt-get install chromium                     # Debian's package (or SCORESIM_CHROMIUM=...)
    .venv/bin/pip install -e '.[test]'           # Playwright drives it
    .venv/bin/python docs/report_screenshot.py   # about two minutes
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from scoresim import Sim, load_scenario
from scoresim.experiments.compare import compare
from scoresim.results.screenshot import SCREEN_WIDTH, browser, chromium_path, open_report

DOCS = Path(__file__).parent


def main() -> None:
    if chromium_path() is None:
        sys.exit("Chromium is needed: apt-get install chromium (or set SCORESIM_CHROMIUM)")
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        Sim("seed", seed=0, people=5000, days=1100, trace=3).run().save(run)
        early = {"phases.mandatory": "2018-06-01"}
        cmp = Path(tmp) / "cmp"
        compare(load_scenario("baseline", early), load_scenario("seed", early),
                replicates=5, people=3000, days=730).save(cmp)
        with browser() as b:
            for folder, name in ((run, "report-screenshot.png"),
                                 (cmp, "compare-screenshot.png")):
                page = open_report(b, folder / "report.html", SCREEN_WIDTH, png=DOCS / name)
                print(f"wrote {DOCS / name}: {SCREEN_WIDTH} x {page.height} px, "
                      f"document {page.scroll_width} px wide")


if __name__ == "__main__":
    main()
