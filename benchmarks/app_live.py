"""Benchmark (not a test): simulated days per second that ``scoresim app`` shows live.

Starts ``scoresim app`` on a free port of 127.0.0.1, opens it in Chromium (Playwright,
``/usr/bin/chromium`` or ``$SCORESIM_CHROMIUM``), sets the people (default 100,000) and
presses Play; once the first point is drawn it counts the points the page's plots hold
(the days plotted in the browser, not the days computed) over a window of seconds:

    .venv/bin/python benchmarks/app_live.py --people 100000 --window 30
    .venv/bin/python benchmarks/app_live.py --people 100000 --side-by-side

Defaults of the page otherwise: preset ``seed``, a network sample of 300 with 25 traced
people, speed "as fast as it goes". Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

COUNT = "() => { const s = Bokeh.documents[0].get_model_by_name('series');" \
        " return s ? s.data.x.length : 0 }"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=1826)
    ap.add_argument("--window", type=float, default=30.0, help="seconds counted")
    ap.add_argument("--side-by-side", action="store_true", help="B = baseline beside A")
    ap.add_argument("--traced", type=int, default=25)
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("SCORESIM_CHROMIUM", "/usr/bin/chromium")
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="scoresim-bench-")) / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-c", "from scoresim.cli import main; main()", "app", "--port",
             str(port), "--max-people", str(max(args.people * 2, 1))],
            stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        end = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5):
                    break
            except OSError:
                if time.monotonic() > end or server.poll() is not None:
                    raise SystemExit(f"the server did not start:\n{log.read_text()}") from None
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.set_default_timeout(600_000)
            page.goto(url)
            page.wait_for_selector(".play button")
            page.wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0")
            for css, value in (("people", args.people), ("days", args.days),
                               ("traced", args.traced)):
                box = page.locator(f".{css} input").first
                box.fill(str(value))
                box.press("Enter")
                page.wait_for_timeout(200)
            if args.side_by_side:
                page.locator(".side-by-side input").check()
            t_click = time.perf_counter()
            page.locator(".play button").first.click()
            page.wait_for_function(f"() => ({COUNT})() > 0")
            first_s = time.perf_counter() - t_click
            n0, t0 = page.evaluate(COUNT), time.perf_counter()
            page.wait_for_timeout(args.window * 1000)
            n1, t1 = page.evaluate(COUNT), time.perf_counter()
            page.locator(".pause button").first.click()
            status = page.evaluate(
                "() => { const all = (s, r = document) => { const o = [...r.querySelectorAll(s)];"
                " for (const e of r.querySelectorAll('*')) if (e.shadowRoot)"
                " o.push(...all(s, e.shadowRoot)); return o };"
                " return all('.status').map(e => [...(e.shadowRoot ?? e).children]"
                ".filter(c => c.tagName !== 'STYLE').map(c => c.textContent).join(' '))"
                ".join(' ') }")
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    shown = (n1 - n0) / (t1 - t0)
    print(json.dumps({
        "people": args.people, "regimes": 2 if args.side_by_side else 1,
        "traced": args.traced, "window_s": round(t1 - t0, 1),
        "days_shown": n1 - n0, "days_per_s_shown": round(shown, 1),
        "first_point_after_s": round(first_s, 1),
        "status": " ".join(status.split()), "cpus": os.cpu_count(),
        "load_avg": os.getloadavg(), "python": platform.python_version(),
    }))


if __name__ == "__main__":
    main()
