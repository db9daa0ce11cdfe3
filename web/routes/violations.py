"""The violations list (filter, sort, search, page, export) and a violation's page with its history, observations,
evidence, feedback and note."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from reports.output import ReportFormat
from storage.models import utcnow
from storage.queries.bot import record_feedback
from storage.queries.reports import rrp_history
from storage.queries.web_violations import (
    PAGE_SIZE,
    ViolationDetail,
    choices,
    listing_observations,
    set_note,
    violation,
    violations_page,
)
from web.auth import Acting, SignedIn, check_csrf
from web.charts import violation_chart
from web.exports import MEDIA_TYPES, filtered_report
from web.filters import read_query
from web.panel import Panel, is_htmx, panel_of, render

router = APIRouter()
VERDICTS = ("confirmed", "false_alarm")
NOTE_LIMIT = 4000


@router.get("/violations")
def violations_list(request: Request, me: SignedIn, page: int = 1) -> Response:
    panel = panel_of(request)
    query = read_query(request.query_params, panel.config.tz)
    with panel.session() as db:
        rows, total = violations_page(db, me.scope, query.filter, page=page)
        options = choices(db, me.scope)
        pages = max(1, -(-total // PAGE_SIZE))
        template = "violations_table.html.j2" if is_htmx(request) else "violations.html.j2"
        return render(
            request, template, rows=rows, total=total, page=min(page, pages), pages=pages, q=query, options=options
        )


@router.get("/violations/export.{fmt}")
def export(request: Request, me: SignedIn, fmt: Literal["xlsx", "pdf", "csv"]) -> Response:
    panel = panel_of(request)
    query = read_query(request.query_params, panel.config.tz)
    today = dt.datetime.now(panel.config.tz).date()
    report_fmt: ReportFormat = fmt
    with panel.session() as db:
        content = filtered_report(
            db, panel.config, me.scope, query, fmt=report_fmt, base_url=str(request.base_url), today=today
        )
    name = f"violations-{today.isoformat()}.{fmt}"
    return Response(
        content, media_type=MEDIA_TYPES[report_fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _found(panel: Panel, me: SignedIn, alert_id: int) -> ViolationDetail:
    with panel.session() as db:
        found = violation(db, me.scope, alert_id)
    if found is None:  # not there, or another scope's: the same answer, so nothing leaks
        raise HTTPException(404)
    return found


@router.get("/violations/{alert_id}")
def violation_page(request: Request, me: SignedIn, alert_id: int) -> Response:
    panel = panel_of(request)
    with panel.session() as db:
        detail = violation(db, me.scope, alert_id)
        if detail is None:
            raise HTTPException(404)
        observations = listing_observations(db, detail.row.listing_id)
        product_id = detail.row.product_id
        rrps = rrp_history(db, [product_id]).get(product_id, []) if product_id is not None else []
    chart = violation_chart(observations, rrps, detail.row.details, panel.config)
    return render(request, "violation.html.j2", v=detail, observations=observations, chart=chart)


def _back(request: Request, alert_id: int, fragment: str, **context: Any) -> Response:
    """An HTMX request gets the updated part of the page; a plain form post goes back to the page."""
    if is_htmx(request):
        return render(request, fragment, **context)
    return RedirectResponse(f"/violations/{alert_id}", status_code=303)


@router.post("/violations/{alert_id}/feedback")
def feedback(
    request: Request,
    me: Acting,
    alert_id: int,
    verdict: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Confirm or call a false alarm: the same record the Telegram buttons write (who and when)."""
    check_csrf(request, csrf)
    panel = panel_of(request)
    _found(panel, me, alert_id)
    if verdict not in VERDICTS:
        raise HTTPException(400, f"verdict: expected one of {', '.join(VERDICTS)}")
    with panel.session() as db:
        record_feedback(db, alert_id, verdict, me.username, utcnow())
    return _back(request, alert_id, "violation_feedback.html.j2", v=_found(panel, me, alert_id))


@router.post("/violations/{alert_id}/note")
def note(
    request: Request,
    me: Acting,
    alert_id: int,
    text: Annotated[str, Form(max_length=NOTE_LIMIT)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    panel = panel_of(request)
    _found(panel, me, alert_id)
    with panel.session() as db:
        set_note(db, alert_id, text.strip() or None, me.username, utcnow())
    return _back(request, alert_id, "violation_note.html.j2", v=_found(panel, me, alert_id))
