"""Reports the panel hands out, built by reports/ and cut to what the user may see: exactly the violations a filter
selected, or one distributor's negotiation report."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy.orm import Session

from crawler.config import Config
from reports.data import ReportData, StockRow, Violation, collect_report
from reports.labels import texts_for
from reports.output import ReportFormat, render
from storage.queries.reports import VIOLATION_RULES
from storage.queries.web_catalog import categories_of
from storage.queries.web_scope import Scope
from storage.queries.web_violations import selection
from web.filters import Query

MEDIA_TYPES: dict[ReportFormat, str] = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
}


def _own_compliance(data: ReportData, scope: Scope) -> ReportData:
    """Compliance counts every category of a distributor: none of it for a user limited to some categories."""
    return replace(data, compliance_weeks=[], compliance_months=[]) if scope.categories is not None else data


def _render(fmt: ReportFormat, data: ReportData, config: Config, base_url: str) -> bytes:
    """The file, its links to the panel (`web.base_url`, else the address the user reached it at)."""
    linked = replace(data, panel_url=config.web.base_url or base_url)
    return render(fmt, linked, texts_for(config, config.web.language), linked.evidence_dir)


def filtered_report(
    session: Session, config: Config, scope: Scope, query: Query, *, fmt: ReportFormat, base_url: str, today: dt.date
) -> bytes:
    """The report of exactly the violations the filter selects: its dates, else from the first one opened to today;
    stock rows only of the selected products at their distributors."""
    chosen = selection(session, scope, query.filter)
    ids = {s.alert_id for s in chosen}
    first = min((s.opened_at.astimezone(config.tz).date() for s in chosen), default=today)
    data = collect_report(
        session,
        config,
        distributor=query.filter.distributor,
        date_from=query.date_from or min(first, today),
        date_to=query.date_to or today,
        rules=sorted({s.rule for s in chosen}) or VIOLATION_RULES,
    )
    kept = [v for v in data.violations if v.alert_id in ids]
    pairs = {(v.distributor_code, v.product_id) for v in kept}
    restricted = data.restricted(
        distributor=scope.allows_distributor,
        violation=lambda v: v.alert_id in ids,
        stock=lambda s: (s.distributor_code, s.product_id) in pairs,
    )
    return _render(fmt, _own_compliance(restricted, scope), config, base_url)


def scoped(session: Session, data: ReportData, scope: Scope) -> ReportData:
    """The report as the scope allows it: its distributors, and its categories' violations and stock rows."""
    if scope.everything:
        return data
    categories = categories_of(session, {s.product_id for s in data.stock})

    def violation(v: Violation) -> bool:
        return scope.allows_category(v.category)

    def stock(s: StockRow) -> bool:
        return scope.allows_category(categories.get(s.product_id))

    return _own_compliance(
        data.restricted(distributor=scope.allows_distributor, violation=violation, stock=stock), scope
    )


def distributor_report(
    session: Session, config: Config, scope: Scope, code: str, *, days: int, fmt: ReportFormat, base_url: str
) -> bytes:
    """The negotiation report of one distributor over the last `days` days."""
    today = dt.datetime.now(config.tz).date()
    data = collect_report(
        session, config, distributor=code, date_from=today - dt.timedelta(days=days - 1), date_to=today
    )
    return _render(fmt, scoped(session, data, scope), config, base_url)
