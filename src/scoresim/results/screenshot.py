"""Open a report in headless Chromium as a reader would: measure it, screenshot it, print it.

Needs Playwright (``pip install -e '.[test]'``) and a Chromium binary: Debian's package
(``apt-get install chromium``) at ``/usr/bin/chromium``, or any Chromium named by the
``SCORESIM_CHROMIUM`` environment variable. Playwright's own browser download
(``playwright install``) is never needed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Chromium flags for a headless, offline, reproducible page (no sandbox: CI runs as root).
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--hide-scrollbars",
        "--font-render-hinting=none"]

#: The width a report must fit without horizontal scrolling.
SCREEN_WIDTH = 1024
#: An A4 page's printable width at CSS's 96 px per inch with the report's 14 mm margins.
A4_TEXT_WIDTH = round((210 - 2 * 14) / 25.4 * 96)


def chromium_path() -> str | None:
    """The Chromium to launch, or None if there is none on this machine."""
    named = os.environ.get("SCORESIM_CHROMIUM")
    if named:
        return named if Path(named).is_file() else None
    for candidate in ("chromium", "chromium-browser"):
        found = shutil.which(candidate)
        if found:
            return found
    return None


@contextmanager
def browser() -> Iterator[Any]:
    """A headless Chromium (Playwright's Browser), closed on exit."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        raise FileNotFoundError("no Chromium: apt-get install chromium, or set "
                                "SCORESIM_CHROMIUM to a Chromium binary")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@dataclass
class Page:
    """What a reader's browser measured on a report."""

    scroll_width: int          # of the document; more than the viewport means a sideways scroll
    height: int
    images: list[dict]         # per <img>: alt, loaded (decoded with a size), width shown
    summary_top: float | None  # where the summary in words begins (px from the top)
    first_figure_top: float | None
    broken_links: list[str]    # in-page links (#id) whose target does not exist


MEASURE = """() => {
  const doc = document.documentElement;
  const top = el => el ? el.getBoundingClientRect().top + window.scrollY : null;
  const links = [...document.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute('href'))
    .filter(h => !document.getElementById(h.slice(1)));
  return {
    scroll_width: doc.scrollWidth, height: doc.scrollHeight,
    images: [...document.images].map(i => ({alt: i.alt, loaded: i.complete && i.naturalWidth > 0,
                                            width: i.getBoundingClientRect().width})),
    summary_top: top(document.querySelector('section.summary')),
    first_figure_top: top(document.querySelector('figure')),
    broken_links: links,
  };
}"""


def open_report(b, html: Path, width: int = SCREEN_WIDTH, media: str = "screen",
                png: Path | None = None) -> Page:
    """Load ``html`` at ``width`` px (``media`` "screen" or "print"), measure it and, if
    ``png`` is given, save a full-page screenshot there."""
    page = b.new_page(viewport={"width": width, "height": 900})
    try:
        page.emulate_media(media=media)
        page.goto(Path(html).resolve().as_uri())
        page.wait_for_load_state("load")
        measured = page.evaluate(MEASURE)
        if png is not None:
            page.screenshot(path=str(png), full_page=True)
        return Page(**measured)
    finally:
        page.close()


def print_pdf(b, html: Path, pdf: Path) -> bytes:
    """Print ``html`` to A4 as Chromium's print dialog would; return the PDF's bytes."""
    page = b.new_page()
    try:
        page.emulate_media(media="print")
        page.goto(Path(html).resolve().as_uri())
        page.pdf(path=str(pdf), format="A4", prefer_css_page_size=True)
    finally:
        page.close()
    return Path(pdf).read_bytes()
