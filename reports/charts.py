"""Price-over-time charts against the RRP line, drawn with matplotlib as SVG: vector in the PDF, sharp at any zoom.

Text is drawn as paths (matplotlib's `svg.fonttype: path`), so the chart needs no font where it is shown.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Sequence

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.dates import AutoDateLocator, DateFormatter, DayLocator, date2num
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, Locator

from reports.data import HistorySeries
from reports.labels import ReportTexts

MAX_LINES = 5  # sellers per chart; more would be unreadable
RRP_COLOR = "#c00000"
BELOW_COLOR = "#d40000"


def price_chart_svg(
    series: Sequence[HistorySeries], texts: ReportTexts, title: str, period: tuple[dt.date, dt.date] | None = None
) -> str:
    """One SKU: each listing's lowest price per day (one line per seller; days below the RRP in red) and the RRP as a
    step line, over `period` (first and last day) when given, else over the days shown."""
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "pricewatch", "font.family": "DejaVu Sans"}):
        fig = Figure(figsize=(6.0, 2.8))
        FigureCanvasSVG(fig)
        ax = fig.add_subplot()
        shown = series[:MAX_LINES]
        rrp_by_day = _plot_prices(ax, shown, texts("series.below_rrp"))
        if rrp_by_day:
            _plot_rrp(ax, rrp_by_day, texts("series.rrp"))
        days = [float(date2num(p.day)) for s in shown for p in s.points]
        if period is not None:
            days += [float(date2num(period[0])), float(date2num(period[1]))]
        if days:
            ax.set_xlim(min(days), max(days) + 1)
        ax.margins(y=0.15)
        ax.set_title(title, fontsize=9, loc="left")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: texts.money(round(value))))
        ax.xaxis_date()
        ax.xaxis.set_major_locator(_date_ticks(days))
        ax.xaxis.set_major_formatter(DateFormatter("%d.%m" if texts.language == "ru" else "%m-%d"))
        ax.tick_params(labelsize=7)
        ax.grid(True, linewidth=0.3, alpha=0.6)
        ax.legend(fontsize=7, loc="best", frameon=False)
        # Fixed margins: tight_layout would draw the figure twice.
        fig.subplots_adjust(left=0.14, right=0.98, top=0.9, bottom=0.12)
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def _plot_prices(ax: Axes, series: Sequence[HistorySeries], below_label: str) -> dict[float, float]:
    """A price line per listing, its days below the RRP marked red; returns the RRP of each day they show."""
    # Day d spans [d, d + 1) on the x axis: prices sit mid-day, each day's RRP covers the whole day.
    rrp_by_day: dict[float, float] = {}
    below_x: list[float] = []
    below_y: list[float] = []
    for s in series:
        days = [float(date2num(p.day)) for p in s.points]
        prices = [float(p.price) if p.price is not None else math.nan for p in s.points]
        ax.plot([d + 0.5 for d in days], prices, marker="o", markersize=2, linewidth=1.3, label=s.seller_name)
        rrp_by_day.update({d: float(p.rrp) for d, p in zip(days, s.points, strict=True) if p.rrp is not None})
        for d, p in zip(days, s.points, strict=True):
            if p.below_rrp and p.price is not None:
                below_x.append(d + 0.5)
                below_y.append(float(p.price))
    if below_x:
        ax.scatter(below_x, below_y, s=9, color=BELOW_COLOR, zorder=3, label=below_label)
    return rrp_by_day


def _plot_rrp(ax: Axes, rrp_by_day: dict[float, float], label: str) -> None:
    """The RRP as a dashed step line, each day's value held to the end of the day."""
    days = sorted(rrp_by_day)
    ax.step(
        [*days, days[-1] + 1],
        [*(rrp_by_day[d] for d in days), rrp_by_day[days[-1]]],
        where="post",
        color=RRP_COLOR,
        linestyle="--",
        linewidth=1.1,
        label=label,
    )


def _date_ticks(days: Sequence[float]) -> Locator:
    """A tick every day or few days over up to three weeks; over more, as many as fit."""
    span = (max(days) - min(days) + 1) if days else 0
    return DayLocator(interval=max(1, int(span) // 7)) if span <= 21 else AutoDateLocator(maxticks=8)
