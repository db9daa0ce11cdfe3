"""The violations filter as a query string: read from a request (the list and its export read the same one)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from crawler.errors import UserError
from storage.models import AlertStatus
from storage.queries.web_violations import SEVERITY_RANK, SORTS, ViolationFilter

FIELDS = ("distributor", "seller", "rule", "category", "severity", "status", "from", "to", "q", "sort", "dir")


@dataclass(frozen=True)
class Query:
    """The filter as the form holds it (strings), and the storage filter it means."""

    values: dict[str, str]
    filter: ViolationFilter
    date_from: dt.date | None
    date_to: dt.date | None

    def link(self, **changes: str | int | None) -> str:
        """This query string with some values changed (None drops one)."""
        merged: dict[str, str | int] = {k: v for k, v in self.values.items() if v}
        for key, value in changes.items():
            if value is None or value == "":
                merged.pop(key, None)
            else:
                merged[key] = value
        return urlencode(merged)


def _day(value: str, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{name}: expected a date as YYYY-MM-DD, got {value!r}") from None


def _choice(value: str, name: str, allowed: tuple[str, ...]) -> str | None:
    if not value:
        return None
    if value not in allowed:
        raise UserError(f"{name}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


def read_query(params: Mapping[str, str], tz: ZoneInfo) -> Query:
    """The filter of a query string; a value that makes no sense is a UserError naming the parameter."""
    values = {name: params.get(name, "").strip()[:200] for name in FIELDS}
    first, last = _day(values["from"], "from"), _day(values["to"], "to")
    if first and last and first > last:
        raise UserError(f"from {first.isoformat()} is after to {last.isoformat()}")
    start = dt.datetime.combine(first, dt.time(), tz).astimezone(dt.UTC) if first else None
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz).astimezone(dt.UTC) if last else None
    statuses = tuple(s.value for s in AlertStatus)
    filt = ViolationFilter(
        distributor=values["distributor"] or None,
        seller=values["seller"] or None,
        rule=values["rule"] or None,
        category=values["category"] or None,
        severity=_choice(values["severity"], "severity", tuple(SEVERITY_RANK)),
        status=_choice(values["status"], "status", statuses),
        start=start,
        end=end,
        search=values["q"] or None,
        sort=_choice(values["sort"], "sort", SORTS) or "opened",
        descending=_choice(values["dir"], "dir", ("desc", "asc")) != "asc",
    )
    return Query(values, filt, first, last)
