"""Render a run's report.html in headless Chromium and save a screenshot into docs/.

    apt-get install chromium        # Debian's package
    .venv/bin/python docs/report_screenshot.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from scoresim import Sim

DOCS = Path(__file__).parent


def main() -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("Debian's chromium is needed: apt-get install chromium")
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        Sim("seed", seed=0, people=5000, days=1100, trace=3).run().save(run)
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={Path(tmp) / 'profile'}", "--window-size=1200,5500",
                        f"--screenshot={DOCS / 'report-screenshot.png'}",
                        (run / "report.html").as_uri()], check=True, capture_output=True)
    print(f"wrote {DOCS / 'report-screenshot.png'}")


if __name__ == "__main__":
    main()
