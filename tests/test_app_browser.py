"""``scoresim app`` in a real browser: Playwright driving the system's Chromium (issue 15).

The server runs as ``scoresim app`` in a subprocess on a free port of 127.0.0.1 and is
always stopped. Pages may load nothing but from the server: any other request is refused
(and would show as a console error), as in CI, which has no network.

Skipped only outside CI when Chromium is absent (``apt-get install chromium``); in CI
(``CI=true``) a missing browser fails.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path
from urllib.parse import urlparse

import pytest

from scoresim.results.run_folder import Results
from scoresim.scenario.loading import load_scenario

CHROMIUM = Path(os.environ.get("SCORESIM_CHROMIUM", "/usr/bin/chromium"))
DOCS = Path(__file__).resolve().parents[1] / "docs"
START_S = 120  # the longest the server may take to answer
WAIT_MS = 120_000  # the longest a page may take to reach a state


# Panel draws every component in a shadow root: find and read through them.
DEEP = """
window.__all = (sel, root = document) => {
  const out = [...root.querySelectorAll(sel)];
  for (const e of root.querySelectorAll('*'))
    if (e.shadowRoot) out.push(...__all(sel, e.shadowRoot));
  return out };
window.__deep = e => {
  let t = '';
  for (const c of (e.shadowRoot ?? e).childNodes) {
    if (c.nodeType === 3) t += c.textContent;
    else if (c.nodeType === 1 && !['STYLE', 'SCRIPT'].includes(c.tagName)) t += ' ' + __deep(c);
  }
  return t };
window.__text = sel => __all(sel).map(__deep).join(' ').replace(/\\s+/g, ' ');
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("app") / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from scoresim.cli import main; main()", "app",
             "--port", str(port), "--max-runs", "2", "--max-people", "50000"],
            stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        end = time.monotonic() + START_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"scoresim app ended (status {proc.returncode}):\n"
                            + log.read_text(errors="replace"))
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > end:
                pytest.fail(f"scoresim app did not answer in {START_S} s:\n"
                            + log.read_text(errors="replace"))
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI: {CHROMIUM} is missing; .ci/run installs it with apt-get.")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


class App:
    """One browser context on the app, with its console errors."""

    def __init__(self, browser, url: str, width: int = 1500):
        self.context = browser.new_context(viewport={"width": width, "height": 1000},
                                           accept_downloads=True)
        self.context.route("**/*", self._local_only)
        self.context.add_init_script(DEEP)
        self.closed = False
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text)
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.set_default_timeout(WAIT_MS)
        self.page.goto(url)
        self.page.wait_for_selector(".play button")
        self.page.wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0")

    @staticmethod
    def _local_only(route) -> None:
        host = urlparse(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            route.abort()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.context.close()

    def set(self, css: str, value) -> None:
        box = self.page.locator(f".{css} input").first
        box.fill(str(value))
        box.press("Enter")
        self.page.wait_for_timeout(150)

    def click(self, css: str) -> None:
        self.page.locator(f".{css} button").first.click()

    def text(self, css: str) -> str:
        """The text of the elements of class ``css``, through shadow roots."""
        return self.page.evaluate("s => __text(s)", f".{css}")

    def wait_text(self, css: str, text: str) -> None:
        self.page.wait_for_function("([s, t]) => __text(s).includes(t)", arg=[f".{css}", text])

    def day(self) -> int:
        found = re.search(r"day (\d+) of", self.text("status"))
        return int(found.group(1)) if found else -1

    def wait_day(self, day: int) -> None:
        self.page.wait_for_function(
            "d => { const m = /day (\\d+) of/.exec(__text('.status')); return m && +m[1] >= d }",
            arg=day)

    def js(self, code: str, arg=None):
        return self.page.evaluate(code, arg)

    def series(self, column: str) -> list:
        return self.js("c => { const s = Bokeh.documents[0].get_model_by_name('series');"
                       " return s ? Array.from(s.data[c] ?? [], v => Number.isFinite(v) ? v :"
                       " null) : [] }", column)

    def renderer_names(self) -> set[str]:
        return set(self.js("() => { const out = []; for (const m of Bokeh.documents[0]"
                           ".all_models) { if (m.type === 'GlyphRenderer' && m.name)"
                           " out.push(m.name) } return out }"))

    def click_person(self) -> int:
        """Click the traced person farthest from the others (a scored one if any);
        returns their id."""
        self.page.wait_for_function(
            "() => { const n = Bokeh.documents[0].get_model_by_name('nodes');"
            " return n && n.data.traced.includes('yes') }")
        self.page.locator(".colour-by").first.scroll_into_view_if_needed()
        self.page.mouse.wheel(0, 300)
        self.page.wait_for_timeout(300)
        where = self.js("""() => {
            const views = []; const walk = v => { views.push(v);
              for (const c of (v.child_views ?? [])) walk(c) };
            for (const v of Object.values(Bokeh.index)) walk(v);
            const fig = views.find(v => v.model.name === 'network');
            const d = Bokeh.documents[0].get_model_by_name('nodes').data;
            const px = i => [fig.frame.x_scale.compute(d.x[i]), fig.frame.y_scale.compute(d.y[i])];
            let best = -1, gap = -1;
            const scored = [...d.tier].some((t, i) => d.traced[i] === 'yes'
              && !['not scored', 'no scheme'].includes(t));
            for (let i = 0; i < d.x.length; i++) {
              if (d.traced[i] !== 'yes') continue;
              if (scored && ['not scored', 'no scheme'].includes(d.tier[i])) continue;
              const [x, y] = px(i); let near = Infinity;
              for (let j = 0; j < d.x.length; j++) { if (j === i) continue;
                const [u, v] = px(j); near = Math.min(near, Math.hypot(x - u, y - v)) }
              if (near > gap) { gap = near; best = i } }
            const r = fig.canvas_view.el.getBoundingClientRect(); const [x, y] = px(best);
            return [r.left + x, r.top + y, Number(d.id[best])] }""")
        self.page.mouse.click(where[0], where[1])
        return int(where[2])


@pytest.fixture
def app(browser, server):
    opened: list[App] = []

    def open_app(**kw) -> App:
        a = App(browser, server, **kw)
        opened.append(a)
        return a

    yield open_app
    for a in opened:
        a.close()


def test_page_loads_and_play_streams_points(app):
    a = app()
    assert "Choose a scenario" in a.text("status")
    a.set("people", 2000)
    a.set("days", 200)
    a.click("play")
    a.wait_day(30)
    a.page.wait_for_function("() => Bokeh.documents[0].get_model_by_name('series')"
                             ".data.x.length >= 30")
    first = len(a.series("self_censoring_a"))
    a.page.wait_for_function("n => Bokeh.documents[0].get_model_by_name('series')"
                             ".data.x.length > n", arg=first)
    assert len(a.series("x")) > first  # (the plots gained points while playing)
    assert {"a-score_mean", "a-self_censoring", "a-sanctions_total"} <= a.renderer_names()
    a.click("pause")
    assert a.errors == []


def test_side_by_side_shows_both_and_their_difference(app):
    a = app()
    a.set("people", 1000)  # (4 societies: with a busy test worker beside it, 2,000 once took
    a.set("days", 400)     # over the 120 s wait on CI's 2 cores; alone it takes 15 s)
    a.set("replicates", 2)
    a.set("sample", 150)
    a.set("traced", 40)
    a.page.locator(".side-by-side input").check()
    a.page.locator(".preset-b select").select_option("seed")
    a.set("knob-critical_points-b", -40)
    a.click("play")
    a.wait_day(60)
    # (the status and the plotted series are pushed apart: wait for the series too)
    a.page.wait_for_function("n => { const s = Bokeh.documents[0].get_model_by_name("
                             "'series'); return s && s.data.x.length >= n }", arg=60)
    a.click("pause")
    names = a.renderer_names()
    for key in ("score_mean", "self_censoring", "sanctions_total"):
        assert {f"a-{key}", f"b-{key}", f"d-{key}", f"band-{key}"} <= names
    level_a, level_b = a.series("score_mean_a"), a.series("score_mean_b")
    diff, lo, hi = (a.series(f"score_mean_{k}") for k in ("d", "lo", "hi"))
    assert len(level_a) >= 60
    assert None not in level_a[-30:] + level_b[-30:] + diff[-30:]  # (from day 1: enrolled)
    assert any(abs(d) > 0 for d in diff[-30:])  # (B deducts five times as much)
    assert any(h > low for h, low in zip(hi[-30:], lo[-30:], strict=True))  # (2 seeds)
    assert "solid: A (seed), dashed: B (seed)" in a.text("plot-scores")
    person = a.click_person()
    a.wait_text("ledger", f"Person {person}")
    a.wait_text("ledger", "The ledger")
    a.page.screenshot(path=str(DOCS / "app-screenshot.png"), full_page=True)
    assert a.errors == []


def test_click_on_a_person_shows_their_ledger_and_downloads(app, tmp_path):
    a = app()
    a.set("people", 1500)
    a.set("days", 120)
    a.set("sample", 40)
    a.set("traced", 40)
    a.click("step")
    a.wait_day(1)
    a.click("play")
    a.wait_day(45)
    a.click("pause")
    person = a.click_person()
    a.wait_text("ledger", f"Person {person}")
    a.wait_text("ledger", "The ledger")
    text = a.text("ledger")
    assert "published score" in text or "not scored" in text
    rows = a.js("() => __all('.ledger-rows').map(e => __all('tr', e.shadowRoot ?? e).length)")
    assert sum(rows) > 1
    assert "score at enrolment" in text  # (the account adds up the ledger from the start)
    assert re.search(r"\d{4}-\d\d-\d\d (government|sesame) ", a.text("ledger-rows"))
    # take it home: the resolved scenario, the run folder, the command
    with a.page.expect_download() as got:
        a.click("download-toml-a")
    toml = tmp_path / "scenario-a.toml"
    got.value.save_as(toml)
    sc = load_scenario(toml)
    assert (sc.people.count, sc.days, sc.seed) == (1500, 120, 0)
    a.click("prepare")
    a.page.locator(".download-zip button").first.wait_for(state="visible")
    with a.page.expect_download() as got:
        a.click("download-zip")
    folder = tmp_path / "zip"
    got.value.save_as(tmp_path / "run.zip")
    with zipfile.ZipFile(tmp_path / "run.zip") as zf:
        zf.extractall(folder)
    run = next(folder.iterdir())
    res = Results.load(run)
    assert (run / "report.html").is_file() and res.ledger is not None
    assert person in res.metadata["traced"] and res.outcomes.num_rows == a.day()
    command = a.text("reproduce")
    assert "scoresim run seed --people 1500 --days 120 --seed 0 --trace-ids" in command
    assert a.errors == []


def test_broken_upload_shows_its_error_and_caps_hold(app):
    a = app()
    a.page.locator(".upload-a input[type=file]").set_input_files(files=[{
        "name": "broken.toml", "mimeType": "application/toml",
        "buffer": b'extends = "seed"\n\n[schemes.government]\nfriend_weight = 2\n'}])
    a.wait_text("error-a", "friend_weight")
    shown = a.text("error-a")
    assert "broken.toml, line 4" in shown and "schemes.government.friend_weight" in shown
    assert "less than or equal to 1" in shown and "Traceback" not in shown
    a.page.locator(".upload-a input[type=file]").set_input_files(files=[{
        "name": "../harsh.toml", "mimeType": "application/toml",
        "buffer": b'extends = "seed"\nname = "harsh"\n'}])
    a.wait_text("source-a", "harsh.toml (uploaded)")
    assert "broken" not in a.text("error-a") or not a.js(
        "() => __all('.error-a').some(e => e.offsetParent !== null)")
    a.set("people", 30000)  # (x 2 replicates: this server allows 50,000 per session)
    a.set("replicates", 2)
    a.click("play")
    a.wait_text("message", "allows 50,000 people per session")
    assert "Traceback" not in a.page.content()
    assert a.errors == []


def test_two_contexts_run_separate_simulations(app):
    one, two = app(), app()
    one.set("people", 1500)
    one.set("days", 1800)
    two.page.locator(".preset-a select").select_option("sesame")
    two.set("people", 1000)
    two.set("days", 1800)  # (long enough to play on while the other one settles)
    one.click("play")
    two.click("play")
    one.wait_day(10)
    two.wait_day(10)
    one.click("pause")
    assert "seed" in one.text("status") and "1,500 people" in one.text("status")
    assert "sesame" in two.text("status") and "1,000 people" in two.text("status")
    assert "scores (government)" in one.text("plot-scores")
    assert "scores (sesame)" in two.text("plot-scores")
    paused_at, end = one.day(), time.monotonic() + 60
    while time.monotonic() < end:  # (until the last days computed before the pause show)
        time.sleep(1.5)
        if one.day() == paused_at:
            break
        paused_at = one.day()
    later = two.day()
    two.wait_day(later + 5)  # (the other session plays on)
    assert one.day() == paused_at
    # a third session finds both runs taken (this server: --max-runs 2)
    three = app()
    three.set("people", 1000)
    three.click("play")
    three.wait_text("message", "simulation(s) at once")
    one.close()  # (its session ends, its run goes, and the third may start)
    end = time.monotonic() + 60
    while three.day() < 1 and time.monotonic() < end:
        three.click("play")
        three.page.wait_for_timeout(2000)
    assert three.day() >= 1
    for a in (two, three):
        assert a.errors == []


def test_impact_card_of_the_regime_on_screen(app, tmp_path):
    """Regime A's impact card against B (baseline), at the page's people and days: a
    download of the one-page card, its figures inline; a regime without a scheme is
    refused in the page at once."""
    a = app()
    a.set("people", 800)
    a.set("days", 200)
    a.click("impact")
    a.page.locator(".download-impact button").first.wait_for(state="visible",
                                                             timeout=180_000)
    with a.page.expect_download() as got:
        a.click("download-impact")
    page = tmp_path / "impact.html"
    got.value.save_as(page)
    text = page.read_text(encoding="utf-8")
    assert "Impact card: seed" in text and "against <strong>baseline</strong>" in text
    assert text.count("<img alt=") == 6 and "In short" in text
    assert a.errors == []
