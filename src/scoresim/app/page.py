"""The page of ``scoresim app``: one per browser session, each with its own run.

Widgets choose the scenario and the run; a periodic callback on the page's event loop
streams the new days' points into the plots (``ColumnDataSource.stream``: points are
appended, figures are never redrawn), redraws the network sample when the worker has a new
snapshot, and shows explanations and downloads once the worker has them ready. The
simulation itself runs on the worker thread of :class:`~scoresim.app.live.LiveRun`.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import logging
import os
import shutil
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import panel as pn
from bokeh.models import (
    BoxZoomTool,
    ColumnDataSource,
    HoverTool,
    Legend,
    LegendItem,
    PanTool,
    Range1d,
    ResetTool,
    TapTool,
    WheelZoomTool,
)
from bokeh.palettes import Category10_10, RdYlGn11
from bokeh.plotting import figure
from bokeh.transform import factor_cmap, linear_cmap

from scoresim.app.live import MAX_SAMPLE, LiveRun, score_scheme
from scoresim.app.scenarios import (
    KNOBS,
    PEOPLE_DOC,
    Base,
    overrides_for,
    reproduce,
    resolved,
    resolved_toml,
)
from scoresim.errors import ScenarioError, one_line, shown
from scoresim.results.outcomes import columns_for
from scoresim.scenario.loading import preset_names

log = logging.getLogger(__name__)

TICK_MS = int(os.environ.get("SCORESIM_APP_TICK_MS", "500"))  # (page updates: ms apart)
SPEEDS = {"as fast as it goes": None, "100 days/s": 100.0, "50 days/s": 50.0,
          "20 days/s": 20.0, "10 days/s": 10.0, "5 days/s": 5.0, "2 days/s": 2.0,
          "1 day/s": 1.0}
UPLOAD = "(uploaded file)"


@dataclass
class Limits:
    """What one server allows: simulations at once (over all sessions) and people per
    session (every society of a run: people x replicates x regimes)."""

    max_runs: int = 2
    max_people: int = 1_000_000


class Slots:
    """The sessions whose runs hold memory now. A session holds one slot however many of
    its runs are alive: a run it replaced may still be ending on its worker while the new
    one starts; the slot is given back when the last of them has ended."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self._lock = threading.Lock()
        self._holders: dict[object, int] = {}  # holder -> runs of it still alive

    def acquire(self, holder: object) -> bool:
        with self._lock:
            if holder not in self._holders and len(self._holders) >= self.limits.max_runs:
                return False
            self._holders[holder] = self._holders.get(holder, 0) + 1
            return True

    def release(self, holder: object) -> None:
        with self._lock:
            left = self._holders.get(holder, 0) - 1
            if left > 0:
                self._holders[holder] = left
            else:
                self._holders.pop(holder, None)

    @property
    def used(self) -> int:
        with self._lock:
            return len(self._holders)


class RegimeChooser:
    """A preset or an uploaded file, and the main knobs, for one regime."""

    def __init__(self, label: str, preset: str):
        self.label = label
        self.base = Base.of_preset(preset)
        self.preset = pn.widgets.Select(name=f"{label}: preset", options=preset_names(),
                                        value=preset, sizing_mode="stretch_width",
                                        css_classes=[f"preset-{label.lower()}"])
        self.upload = pn.widgets.FileInput(accept=".toml", multiple=False,
                                           css_classes=[f"upload-{label.lower()}"],
                                           sizing_mode="stretch_width")
        self.error = pn.pane.Alert("", alert_type="danger", visible=False,
                                   css_classes=[f"error-{label.lower()}"],
                                   sizing_mode="stretch_width")
        self.source = pn.pane.Markdown("", css_classes=[f"source-{label.lower()}"],
                                       margin=(0, 10))
        self.knobs: dict[str, pn.widgets.Widget] = {}
        for knob in KNOBS:
            kw: dict[str, Any] = dict(name=knob.label, sizing_mode="stretch_width",
                                      css_classes=[f"knob-{knob.name}-{label.lower()}"])
            if knob.kind == "number":
                start, end, step = knob.bounds
                w = pn.widgets.FloatInput(start=start, end=end, step=step, **kw)
            elif knob.kind == "choice":
                w = pn.widgets.Select(options=list(knob.options), **kw)
            else:
                w = pn.widgets.DatePicker(**kw)
            self.knobs[knob.name] = w
        self.preset.param.watch(self._on_preset, "value")
        self.upload.param.watch(self._on_upload, "value")
        self._show_base()

    def _show_base(self) -> None:
        sc = self.base.scenario
        assert sc is not None
        self.source.object = f"**{html.escape(self.base.label)}**: {html.escape(sc.description)}"
        for knob in KNOBS:
            w, value = self.knobs[knob.name], knob.value(sc)
            w.description = knob.help(sc).replace("*", "·")  # (a product, not emphasis)
            w.disabled = value is None
            if value is not None:
                w.value = value
            elif knob.kind == "choice":
                w.value = knob.options[0]

    def _on_preset(self, event) -> None:
        if event.new == UPLOAD:
            return
        self.base = Base.of_preset(event.new)
        self.error.visible = False
        self._show_base()

    def _on_upload(self, event) -> None:
        if event.new is None:
            return
        try:
            base = Base.of_upload(event.new, self.upload.filename or "upload.toml")
        except ScenarioError as exc:
            self._refuse(str(exc))
            return
        except Exception as exc:  # noqa: BLE001  (every refusal in the page, not the log)
            log.exception("upload refused")
            self._refuse(f"the file could not be read: {one_line(exc)}")
            return
        self.error.visible = False
        self.base = base
        self.preset.options = [*preset_names(), UPLOAD]
        self.preset.value = UPLOAD
        self._show_base()

    def _refuse(self, message: str) -> None:
        """The refusal in the chooser's error area (escaped; the old scenario stays)."""
        problems = "\n\n".join(html.escape(line) for line in shown(message).splitlines())
        self.error.object = f"**{self.label}: scenario refused.**\n\n{problems}"
        self.error.visible = True

    def overrides(self) -> dict[str, Any]:
        assert self.base.scenario is not None
        return overrides_for(self.base.scenario, {k: w.value for k, w in self.knobs.items()
                                                  if not w.disabled})

    def scenario(self):
        return self.base.with_overrides(self.overrides())

    def panel(self) -> pn.Column:
        return pn.Column(self.preset, pn.pane.Markdown("or upload a scenario TOML (64 KiB at "
                                                       "most; `extends` a preset):",
                                                       margin=(0, 10)),
                         self.upload, self.error, self.source,
                         *self.knobs.values(), sizing_mode="stretch_width")


def _empty_series(run: LiveRun) -> dict[str, list]:
    cols: dict[str, list] = {"x": []}
    for m in run.metrics:
        for suffix in ("a", "b", "d", "lo", "hi"):
            cols[f"{m.key}_{suffix}"] = []
    return cols


class AppSession:
    """Everything one browser session sees and owns."""

    def __init__(self, slots: Slots):
        self.slots = slots
        self.limits = slots.limits
        self.run: LiveRun | None = None
        self.slot = object()  # (this session's slot, held while any of its runs is alive)
        self.a = RegimeChooser("A", "seed")
        self.b = RegimeChooser("B", "baseline")
        self.side_by_side = pn.widgets.Checkbox(name="run B side by side with A",
                                                value=False, css_classes=["side-by-side"])
        self.b_column = pn.Column(self.b.panel(), visible=False, sizing_mode="stretch_width")
        self.side_by_side.param.watch(lambda e: setattr(self.b_column, "visible", e.new),
                                      "value")
        start_people = min(self.a.base.scenario.people.count, self.limits.max_people)
        self.people = pn.widgets.IntInput(
            name="people", value=start_people, start=1, end=self.limits.max_people, step=1000,
            description=f"{PEOPLE_DOC} This server allows {self.limits.max_people:,} per "
            "session (people x replicates x regimes).", css_classes=["people"],
            sizing_mode="stretch_width")
        self.days = pn.widgets.IntInput(name="days", value=365, start=1, end=20_000,
                                        description="Days to simulate from the scenario's "
                                        "start.", css_classes=["days"],
                                        sizing_mode="stretch_width")
        self.seed = pn.widgets.IntInput(name="seed", value=0, start=0, css_classes=["seed"],
                                        description="Random seed: same scenario and seed, "
                                        "same run.", sizing_mode="stretch_width")
        self.replicates = pn.widgets.IntInput(
            name="replicates", value=1, start=1, end=20, css_classes=["replicates"],
            description="Seeds seed, seed+1, ...: with more than one, the difference B - A "
            "gets a 95% t-interval over them (the method of `scoresim compare`).",
            sizing_mode="stretch_width")
        self.sample = pn.widgets.IntInput(
            name="network sample", value=300, start=1, end=MAX_SAMPLE, css_classes=["sample"],
            description=f"People drawn in the network view (at most {MAX_SAMPLE:,}): a "
            "critic's neighbourhood.", sizing_mode="stretch_width")
        self.traced = pn.widgets.IntInput(
            name="traced people", value=25, start=0, end=MAX_SAMPLE, css_classes=["traced"],
            description="Sampled people whose every point is kept in a ledger (the ones "
            "nearest the centre; ringed). Each costs time per day.",
            sizing_mode="stretch_width")
        self.speed = pn.widgets.Select(name="speed", options=list(SPEEDS),
                                       value="as fast as it goes", css_classes=["speed"],
                                       sizing_mode="stretch_width")
        self.reset_button = pn.widgets.Button(name="Reset", button_type="warning",
                                              css_classes=["reset"])
        self.play_button = pn.widgets.Button(name="Play", button_type="success",
                                             css_classes=["play"])
        self.pause_button = pn.widgets.Button(name="Pause", button_type="primary",
                                              css_classes=["pause"])
        self.step_button = pn.widgets.Button(name="Step", button_type="default",
                                             css_classes=["step"])
        self.reset_button.on_click(lambda e: self.reset())
        self.play_button.on_click(lambda e: self.play())
        self.pause_button.on_click(lambda e: self.run and self.run.pause())
        self.step_button.on_click(lambda e: self.step())
        self.speed.param.watch(lambda e: self.run and self.run.set_speed(SPEEDS[e.new]),
                               "value")
        self.status = pn.pane.Markdown("Choose a scenario, then **Play**.",
                                       css_classes=["status"], sizing_mode="stretch_width")
        self.message = pn.pane.Alert("", alert_type="danger", visible=False,
                                     css_classes=["message"], sizing_mode="stretch_width")
        self.plots = pn.FlexBox(sizing_mode="stretch_width", css_classes=["plots"])
        self.network_pane = pn.Column(sizing_mode="stretch_width")
        self.colour_by = pn.widgets.RadioButtonGroup(options=["score tier", "expressed opinion"],
                                                     value="score tier",
                                                     css_classes=["colour-by"])
        self.network_regime = pn.widgets.RadioButtonGroup(options=["A", "B"], value="A",
                                                          css_classes=["network-regime"])
        self.colour_by.param.watch(lambda e: self._colour_nodes(), "value")
        self.network_regime.param.watch(lambda e: self._draw_network(force=True), "value")
        self.tier_factors: list[str] = []
        self.tier_palette: list[str] = []
        self.ledger = pn.Column(pn.pane.Markdown(
            "Click a ringed person in the network to see their score explained."),
            css_classes=["ledger"], sizing_mode="stretch_width")
        self.reproduce_box = pn.pane.Markdown("", css_classes=["reproduce"],
                                              sizing_mode="stretch_width")
        self.toml_a = pn.widgets.FileDownload(callback=lambda: self._toml(self.a),
                                              filename="scenario-a.toml",
                                              label="resolved scenario A (TOML)",
                                              css_classes=["download-toml-a"])
        self.toml_b = pn.widgets.FileDownload(callback=lambda: self._toml(self.b),
                                              filename="scenario-b.toml",
                                              label="resolved scenario B (TOML)",
                                              css_classes=["download-toml-b"])
        self.prepare_button = pn.widgets.Button(name="Prepare run folder and report",
                                                css_classes=["prepare"])
        self.prepare_button.on_click(lambda e: self.prepare())
        self.zip_download = pn.widgets.FileDownload(label="run folder (zip)", visible=False,
                                                    css_classes=["download-zip"])
        self.report_download = pn.widgets.FileDownload(label="report (html)", visible=False,
                                                       css_classes=["download-report"])
        self.impact_button = pn.widgets.Button(
            name="Impact card: A against B", css_classes=["impact"],
            description="The impact card of regime A against regime B as its counterfactual "
            "(B: baseline unless chosen), at these people, days, seed and replicates: harm "
            "in unrelated contexts, disproportion, wrongful sanctions, who bears them, "
            "redress (the method of `scoresim impact`, docs/impact.md).")
        self.impact_button.on_click(lambda e: self.impact_card())
        self.impact_download = pn.widgets.FileDownload(label="impact card (html)",
                                                       visible=False,
                                                       css_classes=["download-impact"])
        self._impact: tuple[str, Any] | None = None
        self._impact_pool = None
        self.series: ColumnDataSource | None = None
        self._make_network_figure()
        self.network_pane.objects = [pn.pane.Bokeh(self.network_figure,
                                                   sizing_mode="stretch_width")]
        self._sample_shown = False
        self._network_version = -1
        self._explaining = None
        self._preparing = None
        self._shown_day = -1
        self._shown_state = ""
        self._streamed = 0  # days plotted
        self.periodic = pn.state.add_periodic_callback(self._tick, period=TICK_MS)
        pn.state.on_session_destroyed(lambda ctx: self.close())

    # ----------------------------------------------------------------------- layout

    def view(self) -> pn.viewable.Viewable:
        controls = pn.Column(
            pn.pane.Markdown("### Run"), self.people, self.days, self.seed, self.replicates,
            self.sample, self.traced,
            pn.Row(self.play_button, self.pause_button, self.step_button, self.reset_button),
            self.speed, width=340)
        sidebar = pn.Column(
            pn.pane.Markdown("## scoresim\nA social-scoring system on a **synthetic** "
                             "society, live. Knob changes apply at **Reset**."),
            controls, pn.pane.Markdown("### Regime A"), self.a.panel(),
            pn.pane.Markdown("### Regime B"), self.side_by_side, self.b_column,
            width=360, css_classes=["sidebar"])
        network = pn.Column(
            pn.pane.Markdown("### The network: a neighbourhood sample"),
            pn.Row(self.colour_by, self.network_regime),
            pn.pane.Markdown("Colours: score tier from the lowest (red) to the highest (green), "
                             "grey for people not scored; expressed opinion from critical "
                             "(-1, red) to supportive (+1, green). Hover for a person; click a "
                             "ringed (traced) one for their score explained.", margin=(0, 10)),
            self.network_pane, self.ledger,
            sizing_mode="stretch_width")
        take_home = pn.Column(
            pn.pane.Markdown("### Take it home"),
            pn.Row(self.toml_a, self.toml_b, self.prepare_button, self.zip_download,
                   self.report_download),
            pn.Row(self.impact_button, self.impact_download),
            self.reproduce_box, sizing_mode="stretch_width")
        main = pn.Column(self.status, self.message, self.plots, network, take_home,
                         sizing_mode="stretch_width")
        return pn.Row(sidebar, main, sizing_mode="stretch_width")

    # ---------------------------------------------------------------- the run's life

    def _show_message(self, text: str) -> None:
        self.message.object = "\n\n".join(html.escape(line) for line in shown(text).splitlines())
        self.message.visible = bool(text)

    def _settings(self):
        a = self.a.scenario()
        b = self.b.scenario() if self.side_by_side.value else None
        people, days, seed = int(self.people.value), int(self.days.value), int(self.seed.value)
        reps = int(self.replicates.value)
        total = people * reps * (2 if b is not None else 1)
        if total > self.limits.max_people:
            raise ScenarioError(
                f"people x replicates x regimes = {total:,}: this server allows "
                f"{self.limits.max_people:,} people per session (scoresim app --max-people).")
        a = resolved(a, people, days, seed)
        b = resolved(b, people, days, seed) if b is not None else None
        if b is not None and a.start != b.start:
            raise ScenarioError(f"A starts on {a.start} and B on {b.start}: side by side, "
                                "both must cover the same days.")
        return a, b, reps

    def reset(self) -> bool:
        """A new run from the page's settings (the old one is dropped)."""
        self.close_run()
        try:
            a, b, reps = self._settings()
        except ScenarioError as exc:
            self._show_message(str(exc))
            return False
        token = self.slot  # (one slot per session, given back when its runs have ended)
        if not self.slots.acquire(token):
            self._show_message(
                f"This server runs {self.limits.max_runs} simulation(s) at once and all are "
                "taken by other sessions; try again when one closes (scoresim app "
                "--max-runs).")
            return False
        self._show_message("")
        self.run = LiveRun(a, b, reps, sample=int(self.sample.value),
                           traced=int(self.traced.value),
                           on_exit=lambda: self.slots.release(token))
        self.run.set_speed(SPEEDS[self.speed.value])
        self._build_plots(self.run)
        self.network_figure.title.text = "drawing the sample ..."
        self.network_regime.visible = b is not None
        self.network_regime.value = "A"
        self._network_version = -1
        self._sample_shown = False
        self._shown_day = -1
        self._streamed = 0
        self.reproduce_box.object = ""
        self.zip_download.visible = self.report_download.visible = False
        self.ledger.objects = [pn.pane.Markdown(
            "Click a ringed person in the network to see their score explained.")]
        return True

    def play(self) -> None:
        if self.run is None or self.run.state in ("finished", "failed", "closed"):
            if not self.reset():
                return
        self.run.play()

    def step(self) -> None:
        if self.run is None or self.run.state in ("failed", "closed"):
            if not self.reset():
                return
        self.run.pause()
        self.run.step(1)

    def close_run(self) -> None:
        """Stop the run; its slot is given back when its worker has ended."""
        if self.run is not None:
            self.run.close()
            self.run = None

    def close(self) -> None:
        try:
            self.periodic.stop()
        except Exception:  # (the session is gone already)
            pass
        self.close_run()
        if self._impact_pool is not None:
            self._impact_pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ impact card

    def impact_card(self) -> None:
        """Compute the impact card of regime A against B on a thread of its own (checked
        first: a regime without scheme or sanction is refused at once, in the page)."""
        from concurrent.futures import ThreadPoolExecutor

        from scoresim.experiments.impact import check

        if self._impact is not None:
            return
        people, reps = int(self.people.value), int(self.replicates.value)
        if people * reps * 2 > self.limits.max_people:
            self._show_message(f"The impact card runs A and B for each of {reps} seeds: "
                               f"{people * reps * 2:,} people, more than this server's "
                               f"{self.limits.max_people:,}; fewer people or replicates.")
            return
        try:
            a = resolved(self.a.scenario(), people, int(self.days.value),
                         int(self.seed.value))
            b = resolved(self.b.scenario(), people, int(self.days.value),
                         int(self.seed.value))
            check(a, b)
        except ScenarioError as exc:
            self._show_message(str(exc))
            return
        self.impact_button.name = "computing the impact card ..."
        self.impact_button.disabled = True
        self._impact_pool = self._impact_pool or ThreadPoolExecutor(1)
        self._impact = (a.name, self._impact_pool.submit(impact_html, a, b, reps,
                                                         int(self.seed.value)))

    def _show_impact(self) -> None:
        name, fut = self._impact
        self._impact = None
        self.impact_button.name = "Impact card: A against B"
        self.impact_button.disabled = False
        try:
            page = fut.result()
        except Exception as exc:
            self._show_message(f"could not make the impact card: {exc}")
            return
        self.impact_download.file = io.BytesIO(page)
        self.impact_download.filename = f"{name}-impact.html"
        self.impact_download.visible = True

    # ---------------------------------------------------------------------- plots

    def _build_plots(self, run: LiveRun) -> None:
        """Two figures per plot: both regimes (A solid, B dashed), and B - A with its band;
        a line only where the regime has the outcome (``baseline`` has no scores)."""
        self.series = ColumnDataSource(_empty_series(run), name="series")
        both = run.b is not None
        has = {"a": set(columns_for(run.a)), "b": set(columns_for(run.b)) if both else set()}
        x_range = None
        cards = []
        for plot in run.plots:
            level = figure(title=plot.title, x_axis_type="datetime", height=260,
                           sizing_mode="stretch_width", name=f"level-{plot.key}",
                           y_axis_label=plot.y_label,
                           tools=[PanTool(), WheelZoomTool(), BoxZoomTool(), ResetTool()])
            x_range = x_range or level.x_range
            level.x_range = x_range
            band = " (95% interval over the replicates)" if len(run.seeds) > 1 else ""
            diff = figure(title=f"B - A{band}", x_axis_type="datetime", height=190,
                          sizing_mode="stretch_width", x_range=x_range,
                          name=f"diff-{plot.key}", y_axis_label=plot.y_label,
                          tools=[PanTool(), WheelZoomTool(), ResetTool()])
            for fig in (level, diff):
                fig.yaxis.formatter.use_scientific = False
            items, diffs = [], 0
            for i, m in enumerate(plot.metrics):
                colour = Category10_10[i % 10]
                lines = []
                if m.column in has["a"]:
                    lines.append(level.line("x", f"{m.key}_a", source=self.series,
                                            color=colour, line_width=2, name=f"a-{m.key}"))
                if m.column in has["b"]:
                    lines.append(level.line("x", f"{m.key}_b", source=self.series,
                                            color=colour, line_width=2, line_dash="dashed",
                                            name=f"b-{m.key}"))
                if m.column in has["a"] and m.column in has["b"]:
                    diffs += 1
                    if band:
                        diff.varea("x", f"{m.key}_lo", f"{m.key}_hi", source=self.series,
                                   fill_color=colour, fill_alpha=0.2, name=f"band-{m.key}")
                    diff.line("x", f"{m.key}_d", source=self.series, color=colour,
                              line_width=2, name=f"d-{m.key}")  # (colours as above)
                if lines:
                    items.append(LegendItem(label=m.label, renderers=lines))
            level.add_layout(Legend(items=items, orientation="horizontal",
                                    label_text_font_size="8pt", click_policy="hide",
                                    spacing=4, padding=2, margin=2), "below")
            regimes = f"solid: A ({run.a.name})" + (
                f", dashed: B ({run.b.name})" if both else "")
            panes = [pn.pane.Markdown(f"**{plot.title}**: {regimes}", margin=(0, 10)),
                     pn.pane.Bokeh(level, sizing_mode="stretch_width")]
            if both and diffs:
                panes.append(pn.pane.Bokeh(diff, sizing_mode="stretch_width"))
            card = pn.Column(*panes, width=520, css_classes=[f"plot-{plot.key}"])
            cards.append(card)
        self.plots.objects = cards

    # --------------------------------------------------------------------- network

    def _make_network_figure(self) -> None:
        """The network figure, once per session (later runs change its data only)."""
        empty = {k: [] for k in ("x", "y", "id", "traced", "ring", "size", "tier", "opinion",
                                 "score", "degree")}
        self.nodes = ColumnDataSource(empty, name="nodes")
        self.edges = ColumnDataSource({"x0": [], "y0": [], "x1": [], "y1": []}, name="edges")
        fig = figure(height=520, sizing_mode="stretch_width", name="network",
                     x_range=Range1d(-1.1, 1.1), y_range=Range1d(-1.1, 1.1),
                     tools=[PanTool(), WheelZoomTool(), ResetTool(), TapTool()],
                     title="the sample is drawn when a run starts")
        fig.axis.visible = False
        fig.grid.visible = False
        fig.segment("x0", "y0", "x1", "y1", source=self.edges, line_alpha=0.25,
                    line_color="#555555")
        self.node_renderer = fig.scatter("x", "y", source=self.nodes, size="size",
                                         line_color="black", line_width="ring",
                                         name="people")
        fig.add_tools(HoverTool(renderers=[self.node_renderer], tooltips=[
            ("person", "@id"), ("score", "@score{0.0}"), ("tier", "@tier"),
            ("expressed opinion", "@opinion{0.00}"), ("friends", "@degree"),
            ("traced", "@traced")]))
        self.nodes.selected.on_change("indices", self._on_tap)
        self.network_figure = fig
        self._colour_nodes()

    def _show_sample(self, run: LiveRun, edges: dict, nodes: dict) -> None:
        """A new run's sample in the figure: positions, who is traced, tiers' colours."""
        sample = run.sample
        assert sample is not None
        _, tiers = score_scheme(run.a, run.b)
        self.tier_factors = [*tiers, "scored", "not scored", "no scheme"]
        palette = list(RdYlGn11[::-1]) if len(tiers) > 1 else ["#1f77b4"]
        step = max(1, (len(palette) - 1) // max(len(tiers) - 1, 1))
        self.tier_palette = [palette[min(i * step, len(palette) - 1)]
                             for i in range(len(tiers))] + ["#1f77b4", "#bbbbbb", "#bbbbbb"]
        traced = np.isin(sample.ids, sample.traced)
        self.nodes.selected.indices = []
        self.nodes.data = {
            "x": sample.x, "y": sample.y, "id": sample.ids,
            "traced": np.where(traced, "yes", "no"), "ring": np.where(traced, 2.5, 0.0),
            "size": np.where(sample.ids == sample.centre, 16, 9), **nodes}
        self.edges.data = edges
        fig, pad = self.network_figure, 0.1
        fig.x_range.update(start=sample.x.min() - pad, end=sample.x.max() + pad)
        fig.y_range.update(start=sample.y.min() - pad, end=sample.y.max() + pad)
        fig.title.text = (f"{sample.ids.size} people around critic #{sample.centre} (large "
                          f"dot); ringed: traced ({sample.traced.size})")
        self._colour_nodes()
        self._sample_shown = True

    def _colour_nodes(self) -> None:
        if self.node_renderer is None:
            return
        if self.colour_by.value == "score tier":
            colour = factor_cmap("tier", self.tier_palette, self.tier_factors)
        else:
            colour = linear_cmap("opinion", list(RdYlGn11[::-1]), -1.0, 1.0)
        r = self.node_renderer
        for glyph in (r.glyph, r.selection_glyph, r.nonselection_glyph):
            if not isinstance(glyph, str):  # ("auto": follows the glyph)
                glyph.fill_color = colour
        r.nonselection_glyph.fill_alpha = r.nonselection_glyph.line_alpha = 0.6

    def _draw_network(self, force: bool = False) -> None:
        """The latest snapshot of the sample: ties and colours. The figure is made (with
        its first data) when a run's sample is first drawn; later snapshots change the
        data of the page's models (never in the tick that adds them to the page)."""
        run = self.run
        if run is None or run.sample is None:
            return
        version, shot = run.network("b" if self.network_regime.value == "B" else "a")
        if shot is None or (version == self._network_version and not force):
            return
        self._network_version = version
        sample = run.sample
        u, v = shot["u"], shot["v"]
        edges = {"x0": sample.x[u], "y0": sample.y[u], "x1": sample.x[v], "y1": sample.y[v]}
        nodes = {"tier": shot["tier"], "opinion": shot["opinion"], "score": shot["score"],
                 "degree": shot["degree"]}
        if not self._sample_shown:
            self._show_sample(run, edges, nodes)
            return
        self.edges.data = edges
        self.nodes.data.update(nodes)

    def _on_tap(self, attr, old, new) -> None:
        if not new or self.run is None or self.nodes is None:
            return
        # (a Bokeh callback: the page changes in the next tick, with Panel's other changes)
        person = int(self.nodes.data["id"][new[0]])
        label = "b" if self.network_regime.value == "B" else "a"
        self._explaining = (person, label, self.run.submit(
            lambda run: run.explain(label, person)))

    def _show_explanation(self) -> None:
        person, label, fut = self._explaining
        self._explaining = None
        try:
            acc = fut.result()
        except ScenarioError as exc:
            self.ledger.objects = [pn.pane.Alert(html.escape(str(exc)), alert_type="warning")]
            return
        self.ledger.objects = explanation_panes(acc, label)

    # ------------------------------------------------------------------- take home

    def _toml(self, chooser: RegimeChooser) -> io.StringIO:
        try:
            sc = resolved(chooser.scenario(), int(self.people.value), int(self.days.value),
                          int(self.seed.value))
            return io.StringIO(resolved_toml(sc))
        except ScenarioError as exc:
            return io.StringIO(f"# this scenario does not validate:\n# {exc}\n")

    def _reproduce(self) -> str:
        run = self.run
        if run is None:
            return ""
        traced = run.sample.traced.tolist() if run.sample is not None else []
        text = reproduce(self.a.base, self.a.overrides(),
                         self.b.base if run.b is not None else None,
                         self.b.overrides() if run.b is not None else None,
                         run.a.people.count, run.a.days, run.seeds[0], len(run.seeds), traced)
        files = ("scenario-a.toml" in text) or ("scenario-b.toml" in text)
        note = ("\n\n(`scenario-a.toml`, `scenario-b.toml`: the resolved scenarios above.)"
                if files else "")
        return ("**Reproduce this** (same scenario and seed, same numbers):\n\n"
                f"```bash\n{text}\n```{note}")

    def prepare(self) -> None:
        if self.run is None or self.run.t == 0:
            self._show_message("Nothing has run yet: press Play or Step first.")
            return
        self.run.pause()
        tmp = Path(tempfile.mkdtemp(prefix="scoresim-app-"))
        name = f"scoresim-{self.run.a.name}" + (f"-vs-{self.run.b.name}" if self.run.b else "")
        name += f"-day{self.run.t}"
        self.prepare_button.name = "preparing ..."
        self.prepare_button.disabled = True
        self._preparing = (tmp, name, self.run.submit(lambda run: run.run_folder(tmp / name)))

    def _show_downloads(self) -> None:
        tmp, name, fut = self._preparing
        self._preparing = None
        self.prepare_button.name = "Prepare run folder and report"
        self.prepare_button.disabled = False
        try:
            paths = fut.result()
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                for path in sorted(paths["folder"].rglob("*")):
                    if path.is_file():
                        zf.write(path, Path(name) / path.relative_to(paths["folder"]))
            report = paths["report"].read_bytes()
        except Exception as exc:
            self._show_message(f"could not write the run folder: {exc}")
            return
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        buf.seek(0)
        self.zip_download.file = buf
        self.zip_download.filename = f"{name}.zip"
        self.report_download.file = io.BytesIO(report)
        self.report_download.filename = f"{name}-report.html"
        self.zip_download.visible = self.report_download.visible = True

    # ------------------------------------------------------------------------ tick

    def _tick(self) -> None:
        if self._impact is not None and self._impact[1].done():
            self._show_impact()
        run = self.run
        if run is None:
            return
        data = run.take()
        if data is not None and self.series is not None:
            self.series.stream(data)
            self._streamed += len(data["x"])
        if run.sample is not None:
            self._draw_network()
        if self._explaining is not None and self._explaining[2].done():
            self._show_explanation()
        if self._preparing is not None and self._preparing[2].done():
            self._show_downloads()

        if self._streamed != self._shown_day or run.state != self._shown_state:
            self._shown_day, self._shown_state = self._streamed, run.state
            self.status.object = status_text(run, self._streamed)
            if run.state == "failed":
                self._show_message(run.error)
            if not self.reproduce_box.object and run.sample is not None:
                self.reproduce_box.object = self._reproduce()


def impact_html(a, b, replicates: int, seed: int) -> bytes:
    """impact.html (self-contained: its figures inline) of scenario ``a`` against ``b``
    (both resolved: people, days and seed set), ``replicates`` seeds from ``seed``, run in
    this process."""
    from scoresim.experiments.impact import impact
    from scoresim.results.impact_card import card_page

    card = impact(a, b, replicates, first_seed=seed, workers=1)
    return card_page(card).encode("utf-8")


def status_text(run: LiveRun, t: int) -> str:
    """What the page shows: the days plotted (``t``), the state, the speed."""
    n = run.n_steps
    date = (run.a.start + dt.timedelta(days=t - 1)).isoformat() if t else "-"
    speed = ""
    if run.timing["steps"]:
        speed = f" · {run.timing['steps'] / run.timing['step_s']:.1f} days/s computed"
    state = {"building": "building the society ...", "ready": "playing" if run.playing
             else "paused", "finished": "finished", "failed": "failed",
             "closed": "closed"}[run.state]
    regimes = run.a.name + (f" vs {run.b.name}" if run.b is not None else "")
    return (f"**day {t} of {n}** ({date}) · {state} · {regimes} · "
            f"{run.a.people.count:,} people × {len(run.seeds)} seed(s){speed}")


def explanation_panes(acc: dict[str, Any], label: str) -> list:
    """The account of one person: attributes, per scheme the parts and rules, the ledger."""
    import pandas as pd

    from scoresim.results.explain import PART_LABELS

    attrs = ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                      for k, v in acc["attributes"].items())
    out: list = [pn.pane.Markdown(
        f"#### Person {acc['person']} (regime {label.upper()}, day {acc['day']})\n{attrs}")]
    for scheme, s in acc["schemes"].items():
        if not s.get("scored"):
            out.append(pn.pane.Markdown(f"**{scheme}**: not scored (yet)."))
            continue
        rows = [{"where the points come from": PART_LABELS[part], "source": "",
                 "records": "", "points": round(points, 2)}
                for part, points in s["parts"].items() if abs(points) >= 0.005]
        rows += [{"where the points come from": f"rule {r['rule']}", "source": r["source"],
                  "records": f"{r['records']} ({r['misattributed']} misattributed)",
                  "points": round(r["points"], 2)} for r in s["rules"][:15]]
        friends = s.get("friends") or {}
        extra = ""
        if friends:
            mean = friends.get("mean_score")
            extra = (f" Friends scored: {friends['count']}"
                     + (f", mean score {mean:.1f}." if mean is not None else "."))
        if s["misattributed_records"]:
            extra += (f" Misattributed records: {s['misattributed_records']} "
                      f"({s['misattributed_points']:+.2f} points).")
        sanctions = "; ".join(f"{x['date']}: {x['sanction']}" for x in s["sanctions"])
        out.append(pn.pane.Markdown(
            f"**{scheme}**: published score **{s['score']:.1f}** (own {s['own_score']:.1f}), "
            f"tier {s['tier'] or '-'}; the rows add up to {s['total_of_rows']:.1f}.{extra}"
            + (f" Sanctions: {sanctions}." if sanctions else "")))
        out.append(pn.pane.DataFrame(pd.DataFrame(rows), index=False,
                                     sizing_mode="stretch_width", css_classes=["account"]))
    ledger = acc["ledger"][["date", "scheme", "kind", "source", "rule", "records", "points",
                            "lapses", "score", "tier", "sanctions"]]
    out.append(pn.pane.Markdown("**The ledger** (last rows):"))
    out.append(pn.pane.DataFrame(ledger.round(2).astype(object).fillna(""), index=False,
                                 sizing_mode="stretch_width", css_classes=["ledger-rows"],
                                 max_rows=15))
    return out
