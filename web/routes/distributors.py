"""Distributors and each one's scorecard: compliance over time, violation days, repeat offences, weekend and night
shares, stock-out days and sales lost against the plan, with the negotiation report one click away."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from reports.data import collect_report
from reports.output import ReportFormat
from storage.queries import reports as report_queries
from web.auth import SignedIn
from web.exports import MEDIA_TYPES, distributor_report, scoped
from web.figures import compliance_rows
from web.panel import Panel, panel_of, render

router = APIRouter()
PERIODS = (30, 90)


def _distributor(panel: Panel, me: SignedIn, code: str) -> report_queries.DistributorRow:
    with panel.session() as db:
        found = [d for d in report_queries.distributors(db, code) if me.scope.allows_distributor(d.code)]
    if not found:
        raise HTTPException(404)
    return found[0]


def _days(days: int) -> int:
    if days not in PERIODS:
        raise HTTPException(400, f"days: expected one of {', '.join(map(str, PERIODS))}")
    return days


@router.get("/distributors")
def distributors(request: Request, me: SignedIn) -> Response:
    panel = panel_of(request)
    with panel.session() as db:
        rows = [d for d in report_queries.distributors(db) if me.scope.allows_distributor(d.code)]
    return render(request, "distributors.html.j2", rows=rows)


@router.get("/distributors/{code}")
def scorecard(request: Request, me: SignedIn, code: str, days: int = 90) -> Response:
    panel = panel_of(request)
    dist, days = _distributor(panel, me, code), _days(days)
    today = dt.datetime.now(panel.config.tz).date()
    start = today - dt.timedelta(days=days - 1)
    with panel.session() as db:
        data = scoped(db, collect_report(db, panel.config, distributor=code, date_from=start, date_to=today), me.scope)
        # Compliance covers every category of the distributor: not for a manager limited to some categories.
        weeks = compliance_rows(db, start, today, "week", [dist.id]) if me.scope.categories is None else []
    summary = data.summaries[0] if data.summaries else None
    return render(
        request,
        "scorecard.html.j2",
        dist=dist,
        summary=summary,
        stock=data.stock,
        weeks=weeks,
        days=days,
        periods=PERIODS,
        start=start,
        today=today,
        category_limited=me.scope.categories is not None,
    )


@router.get("/distributors/{code}/report.{fmt}")
def report(request: Request, me: SignedIn, code: str, fmt: Literal["pdf", "xlsx"], days: int = 90) -> Response:
    panel = panel_of(request)
    dist, days = _distributor(panel, me, code), _days(days)
    report_fmt: ReportFormat = fmt
    with panel.session() as db:
        content = distributor_report(
            db, panel.config, me.scope, dist.code, days=days, fmt=report_fmt, base_url=str(request.base_url)
        )
    name = f"violations-{dist.code}-{days}d.{fmt}"
    return Response(
        content, media_type=MEDIA_TYPES[report_fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
