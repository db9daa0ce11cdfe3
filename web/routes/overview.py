"""The overview: open violations by rule and distributor today against yesterday, compliance over 30 and 90 days,
and each site's last crawl with its verdict."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fastapi import APIRouter, Request
from starlette.responses import Response

from storage.models import utcnow
from storage.queries import reports as report_queries
from storage.queries.bot import last_runs
from storage.queries.web_violations import OpenCount, open_counts
from web.auth import SignedIn
from web.figures import WINDOWS, Share, shares
from web.panel import panel_of, render

router = APIRouter()


@dataclass(frozen=True)
class ComplianceLine:
    code: str
    name: str
    shares: list[Share]  # one per window of WINDOWS


def day_start(moment: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """Local midnight of `moment`'s day, in UTC."""
    local = moment.astimezone(tz)
    return dt.datetime.combine(local.date(), dt.time(), tz).astimezone(dt.UTC)


@router.get("/")
def overview(request: Request, me: SignedIn) -> Response:
    panel = panel_of(request)
    now = utcnow()
    today = now.astimezone(panel.config.tz).date()
    with panel.session() as db:
        counts: list[OpenCount] = open_counts(db, me.scope, now, day_start(now, panel.config.tz))
        dists = [d for d in report_queries.distributors(db) if me.scope.allows_distributor(d.code)]
        compliance: list[ComplianceLine] = []
        # The figures cover every category: a manager limited to some categories is not shown them.
        if me.scope.categories is None:
            by_window = [shares(db, today, days, [d.id for d in dists]) for days in WINDOWS]
            compliance = [ComplianceLine(d.code, d.name, [w.get(d.id, Share(0, 0)) for w in by_window]) for d in dists]
        runs = [(d, r) for d, r in last_runs(db) if me.scope.allows_distributor(d.code)]
        return render(
            request,
            "overview.html.j2",
            counts=counts,
            totals=(sum(c.now for c in counts), sum(c.day_start for c in counts)),
            compliance=compliance,
            windows=WINDOWS,
            runs=runs,
        )
