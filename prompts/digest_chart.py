"""The digest's chart: consistency per CSO and the health-band mix over the last weeks (PNG).

Drawn with matplotlib's Agg canvas (no display, no pyplot global state: safe in threads).
Sized for Slack's preview: 960×540 pixels, large type, few marks — a big organization is shown
as the spread of its CSOs (median, middle half, lowest to highest), not 200 lines.
"""

from __future__ import annotations

import io
import math
import statistics

import matplotlib

matplotlib.use("Agg")

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from domain.digest import ChartData

WIDTH_IN, HEIGHT_IN, DPI = 8.0, 4.5, 120  # 960 × 540 px
FONT_SIZE = 13
MAX_LINES = 6  # up to this many CSOs get a line each
BAND_COLOURS = {"green": "#2eb67d", "yellow": "#ecb22e", "red": "#e01e5a"}


def _label(week: str) -> str:
    return week.split("-")[-1]  # "2026-W47" -> "W47"


def _ticks(ax: Axes, weeks: list[str]) -> None:
    """Week labels that never overlap: every other one when there are more than five."""
    step = 1 if len(weeks) <= 5 else 2
    x = list(range(len(weeks)))
    ax.set_xticks(x[::-1][::step][::-1], [_label(w) for w in weeks][::-1][::step][::-1])


def _pct(values: list[float | None]) -> list[float]:
    return [math.nan if v is None else v * 100 for v in values]


def _consistency(ax: Axes, chart: ChartData) -> None:
    x = list(range(len(chart.weeks)))
    ax.set_title("Consistency per CSO")
    ax.set_ylim(0, 105)
    ax.set_ylabel("%")
    _ticks(ax, chart.weeks)
    ax.grid(axis="y", alpha=0.3)
    if all(v is None for v in chart.overall):
        ax.text(
            0.5, 0.5, "no consistency data yet", ha="center", va="center", transform=ax.transAxes
        )
        return
    if len(chart.csos) <= MAX_LINES:
        for name, values in chart.csos.items():
            ax.plot(x, _pct(values), marker="o", linewidth=2, label=name.split(" ")[0])
        _below(ax)
        return
    lows, q1s, meds, q3s, highs = [], [], [], [], []
    for i in x:
        week = sorted(v * 100 for values in chart.csos.values() if (v := values[i]) is not None)
        if len(week) < 2:
            week = week * 2 if week else [math.nan, math.nan]
        q1, med, q3 = statistics.quantiles(week, n=4, method="inclusive")
        lows.append(week[0])
        q1s.append(q1)
        meds.append(med)
        q3s.append(q3)
        highs.append(week[-1])
    ax.fill_between(x, lows, highs, color="#1264a3", alpha=0.12, label="lowest–highest")
    ax.fill_between(x, q1s, q3s, color="#1264a3", alpha=0.3, label="middle half")
    ax.plot(x, meds, color="#1264a3", linewidth=2.5, marker="o", label="median CSO")
    ax.plot(x, _pct(chart.overall), color="#1d1c1d", linewidth=1.5, linestyle="--", label="all")
    _below(ax)


def _below(ax: Axes) -> None:
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
        fontsize=FONT_SIZE - 3,
        frameon=False,
        ncol=2,
        handlelength=1.5,
    )


def _bands(ax: Axes, chart: ChartData) -> None:
    ax.set_title("Health-band mix")
    if not chart.bands:
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no health data yet", ha="center", va="center", transform=ax.transAxes)
        return
    x = list(range(len(chart.weeks)))
    bottom = [0] * len(x)
    for band in ("green", "yellow", "red"):
        counts = [week.get(band, 0) for week in chart.bands]
        ax.bar(x, counts, bottom=bottom, color=BAND_COLOURS[band], label=band.capitalize())
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    _ticks(ax, chart.weeks)
    ax.set_ylabel("clients")
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
        fontsize=FONT_SIZE - 3,
        frameon=False,
        ncol=3,
        handlelength=1,
        columnspacing=0.8,
    )


def render_chart(chart: ChartData, *, title: str = "") -> bytes:
    with rc_context({"font.size": FONT_SIZE, "axes.titlesize": FONT_SIZE + 2}):
        fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
        FigureCanvasAgg(fig)
        left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
        _consistency(left, chart)
        _bands(right, chart)
        if title:
            fig.suptitle(title, fontsize=FONT_SIZE + 3, fontweight="bold")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()
