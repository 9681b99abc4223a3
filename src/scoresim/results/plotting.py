"""How every figure of scoresim looks: a colour-blind-safe palette, a layout engine that keeps
text apart, date axes without rotated labels, and a check that no two pieces of text in a
drawn figure overlap.

Every figure is made by :func:`figure` (matplotlib's constrained layout, the palette as the
colour cycle) and returned as a :class:`Chart`: the figure, a file name and its alt text.
Callers save or embed it; tests draw it and call :func:`text_overlaps`.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

#: Okabe & Ito (2008), "Color Universal Design": eight colours that stay distinct under the
#: common forms of colour blindness (protanopia, deuteranopia, tritanopia). Black last.
PALETTE: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9",
                            "#D55E00", "#F0E442", "#000000")
#: Greys for reference marks (zero lines, phase boundaries, tier bounds); not data.
GREYS: tuple[str, ...] = ("#555555", "#888888", "#BBBBBB", "#DDDDDD")
#: The colour maps used for ordered values: perceptually uniform and readable by people
#: with red-green colour blindness (cividis was designed for it; viridis is safe too).
COLOUR_MAPS: tuple[str, ...] = ("cividis", "viridis")

#: Figure widths in inches at :data:`DPI`: fits a 1024 px screen and an A4 page's text width
#: (the report scales images down to the column, never up).
WIDE, NARROW = 9.6, 6.4
DPI = 100

RC: dict[str, Any] = {
    "font.size": 9.5,
    "axes.titlesize": 10,
    "axes.labelsize": 9.5,
    "legend.fontsize": 8.5,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlelocation": "left",
    "legend.frameon": False,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
}


@dataclass
class Chart:
    """A finished figure: ``name`` is its file name (``scores.png``), ``alt`` says in words
    what it shows (the report's alt text and caption)."""

    name: str
    figure: Any
    alt: str

    @property
    def anchor(self) -> str:
        """The id of the figure in a report: ``fig-scores`` for ``scores.png``."""
        return "fig-" + self.name.removesuffix(".png")

    def png(self) -> bytes:
        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=DPI)
        return buf.getvalue()

    def close(self) -> None:
        import matplotlib.pyplot as plt

        plt.close(self.figure)


def pyplot():
    """matplotlib.pyplot on the Agg backend (imported here: ``import scoresim`` stays fast)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@contextmanager
def style() -> Iterator[Any]:
    """The rc settings and palette of every scoresim figure (yields pyplot)."""
    plt = pyplot()
    from cycler import cycler

    with plt.rc_context({**RC, "axes.prop_cycle": cycler(color=PALETTE)}):
        yield plt


def figure(width: float = WIDE, height: float = 3.2, **kwargs):
    """A new figure with constrained layout (text never overlaps across axes)."""
    plt = pyplot()
    with style():
        fig = plt.figure(figsize=(width, height), layout="constrained", **kwargs)
    fig.get_layout_engine().set(h_pad=0.06, w_pad=0.06, hspace=0.06, wspace=0.04)
    return fig


def subplots(nrows: int = 1, ncols: int = 1, width: float = WIDE, height: float = 3.2,
             **kwargs):
    """:func:`figure` and its axes (always a 2-d array of axes unless squeeze is asked for)."""
    fig = figure(width, height)
    with style():
        axes = fig.subplots(nrows, ncols, squeeze=kwargs.pop("squeeze", False), **kwargs)
    return fig, axes


def in_style(func):
    """Decorator: draw inside :func:`style` (so the palette and font sizes apply)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with style():
            return func(*args, **kwargs)

    return wrapper


def wrap(text: str, width: int = 48) -> str:
    """A title or label broken into lines of at most ``width`` characters."""
    return "\n".join(textwrap.wrap(text, width)) or text


def date_axis(ax) -> None:
    """Concise, horizontal date labels (no rotation: their boxes never overlap). The year
    shows at the first tick of each year; no offset text under the axis (a legend goes
    there)."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))


def mark_phases(ax, phases: dict, start, end, label: bool = True) -> None:
    """Dashed grey lines where phases begin; names written in a band above the data."""
    import numpy as np

    for name, day in phases.items():
        if start < day <= end:
            ax.axvline(np.datetime64(day), color=GREYS[1], lw=0.8, ls="--", zorder=0)
            if label:
                ax.annotate(f" {name}", (np.datetime64(day), 1.0),
                            xycoords=("data", "axes fraction"), fontsize=7.5,
                            color=GREYS[0], va="top", ha="left")


def rolling_mean(values, days: int = 30):
    """The mean of the last ``days`` values at each day (fewer at the start; NaN as 0)."""
    import numpy as np

    values = np.nan_to_num(np.asarray(values, dtype=float))
    sums = np.cumsum(values)
    out = sums.copy()
    out[days:] = sums[days:] - sums[:-days]
    return out / np.minimum(np.arange(1, len(values) + 1), days)


def legend_below(ax, ncol: int = 4, **kwargs):
    """A legend under the axes, outside the data (constrained layout makes room for it)."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    return ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.12),
                     ncol=min(ncol, len(handles)), **kwargs)


# ---------------------------------------------------------------------- checking text


def drawn_texts(fig) -> list[tuple[Any, Any]]:
    """Draw ``fig`` and return ``(text, bbox in pixels)`` for every non-empty text actually
    drawn (titles, labels, tick labels, legend entries, annotations)."""
    from unittest import mock

    import matplotlib.text as mtext

    drawn: list[Any] = []
    original = mtext.Text.draw

    def spy(self, renderer):
        if self.get_visible() and self.get_text().strip():
            drawn.append(self)
        return original(self, renderer)

    with mock.patch.object(mtext.Text, "draw", spy):
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    seen: set[int] = set()
    out = []
    for text in drawn:
        if id(text) not in seen:
            seen.add(id(text))
            out.append((text, text.get_window_extent(renderer)))
    return out


def text_overlaps(fig, tolerance: float = 0.5) -> list[tuple[str, str]]:
    """Pairs of drawn texts whose bounding boxes overlap by more than ``tolerance`` pixels
    both ways, and texts that stick out of the figure (paired with ``"<figure edge>"``)."""
    texts = drawn_texts(fig)
    bounds = fig.bbox
    found = []
    for i, (a, box_a) in enumerate(texts):
        if (box_a.x0 < bounds.x0 - tolerance or box_a.y0 < bounds.y0 - tolerance
                or box_a.x1 > bounds.x1 + tolerance or box_a.y1 > bounds.y1 + tolerance):
            found.append((a.get_text(), "<figure edge>"))
        for b, box_b in texts[i + 1:]:
            dx = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
            dy = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
            if dx > tolerance and dy > tolerance:
                found.append((a.get_text(), b.get_text()))
    return found
