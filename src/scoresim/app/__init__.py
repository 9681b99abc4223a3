"""``scoresim app``: the simulation live in a browser, two regimes side by side.

:func:`serve` starts a Panel (Bokeh) server on ``host:port`` (localhost unless told
otherwise). Every browser session gets its own page and run (:mod:`scoresim.app.page`);
the simulations step on worker threads (:mod:`scoresim.app.live`); scenarios come from
presets or uploaded files parsed in memory (:mod:`scoresim.app.scenarios`).
"""

from __future__ import annotations

from typing import Any

#: The largest message a page may send (an upload is capped far lower, at 64 KiB).
MAX_MESSAGE_BYTES = 4 * 1024 * 1024


def make_app(max_runs: int = 2, max_people: int = 1_000_000):
    """A function that builds one session's page (for ``panel.serve``)."""
    import panel as pn

    from scoresim.app.page import AppSession, Limits, Slots

    slots = Slots(Limits(max_runs=max_runs, max_people=max_people))

    def page():
        pn.extension(notifications=False)
        session = AppSession(slots)
        return session.view()

    page.slots = slots  # type: ignore[attr-defined]
    return page


def serve(host: str = "127.0.0.1", port: int = 5006, max_runs: int = 2,
          max_people: int = 1_000_000, show: bool = False, **kwargs: Any):
    """Serve the app until interrupted (``threaded=False``: sessions share one event loop;
    simulations run on their own threads)."""
    import panel as pn

    origin = [f"{host}:{port}"] + ([f"localhost:{port}"] if host == "127.0.0.1" else [])
    # A closed tab's session (and its run, and its slot) goes after a few seconds.
    kwargs.setdefault("check_unused_sessions_milliseconds", 2000)
    kwargs.setdefault("unused_session_lifetime_milliseconds", 3000)
    return pn.serve({"/": make_app(max_runs, max_people)}, address=host, port=port,
                    show=show, title="scoresim", websocket_origin=origin,
                    websocket_max_message_size=MAX_MESSAGE_BYTES, **kwargs)
