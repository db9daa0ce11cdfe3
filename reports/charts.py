"""Price-over-time charts against the RRP line, drawn with matplotlib (Agg, no display) as PNG."""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, DateFormatter, DayLocator, date2num
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from reports.data import HistorySeries
from reports.labels import ReportTexts

MAX_LINES = 5  # sellers per chart; more would be unreadable
DPI = 100


def price_chart_png(series: Sequence[HistorySeries], texts: ReportTexts, title: str) -> bytes:
    """One SKU: each listing's lowest price per day (one line per seller) and the RRP as a step line."""
    fig = Figure(figsize=(6.0, 2.8), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    # Day d spans [d, d + 1) on the x axis: prices sit mid-day, each day's RRP covers the whole day.
    rrp_points: dict[float, float] = {}
    for s in series[:MAX_LINES]:
        days = [float(date2num(p.day)) for p in s.points]
        prices = [float(p.price) if p.price is not None else float("nan") for p in s.points]
        ax.plot([d + 0.5 for d in days], prices, marker="o", markersize=2.5, linewidth=1.4, label=s.seller_name)
        rrp_points.update({d: float(p.rrp) for d, p in zip(days, s.points, strict=True) if p.rrp is not None})
    if rrp_points:
        days = sorted(rrp_points)
        ax.step(
            [*days, days[-1] + 1],
            [*(rrp_points[d] for d in days), rrp_points[days[-1]]],
            where="post",
            color="#c00000",
            linestyle="--",
            linewidth=1.2,
            label=texts("series.rrp"),
        )
    shown = [float(date2num(p.day)) for s in series[:MAX_LINES] for p in s.points]
    if shown:
        ax.set_xlim(min(shown), max(shown) + 1)
    span = (max(shown) - min(shown) + 1) if shown else 0
    ax.margins(y=0.12)
    ax.set_title(title, fontsize=9, loc="left")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: texts.money(round(value))))
    ax.xaxis_date()
    ax.xaxis.set_major_locator(
        DayLocator(interval=max(1, int(span) // 7)) if span <= 21 else AutoDateLocator(maxticks=8)
    )
    ax.xaxis.set_major_formatter(DateFormatter("%d.%m" if texts.language == "ru" else "%m-%d"))
    ax.tick_params(labelsize=7)
    ax.grid(True, linewidth=0.3, alpha=0.6)
    ax.legend(fontsize=7, loc="best", frameon=False)
    # Fixed margins: tight_layout would draw the figure twice.
    fig.subplots_adjust(left=0.13, right=0.98, top=0.9, bottom=0.12)
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
