"""The rules' small world (shops in two regions, a marketplace, two products) and what tests read back from it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from fixtures.pilot.catalog import ean13
from pricewatch.alerting import run_rules_and_queue
from rules.engine import RulesRunSummary
from storage.engine import session_scope
from storage.models import Alert, AlertEvent, AlertStatus, Outbox
from tests.support.builders import World

GTIN_1001 = ean13("460712300100")


GTIN_1002 = ean13("460712300200")


PRICES_FROM = dt.date(2026, 3, 1)


BASE: dict[str, Any] = {
    "distributors": [
        {"code": "shop", "name": "Магазин", "region": "Москва"},
        {"code": "shop2", "region": "Москва"},
        {"code": "shop3", "region": "Москва"},
        {"code": "grey", "region": "Казань", "authorized": False},
        {"code": "market", "kind": "marketplace", "spider": "marketplace"},
    ],
    "sellers": [{"marketplace": "market", "seller_id": "s-1", "name": "Официальный магазин"}],
}

# The marketplace read per delivery region (its `regions`), as «Витрина» is: each listing carries a region code.
MARKET_REGIONS = [
    {"code": "msk", "name": "Москва", "query": {"dest": "-1257786"}},
    {"code": "spb", "name": "Санкт-Петербург", "query": {"dest": "-1198055"}},
    {"code": "nsk", "name": "Новосибирск", "query": {"dest": "-364763"}},
]


def distributors(**market: Any) -> list[dict[str, Any]]:
    """BASE's distributors with these settings on the marketplace (`regions=MARKET_REGIONS`, `price_basis=…`)."""
    return [d | market if d["code"] == "market" else dict(d) for d in BASE["distributors"]]


MakeWorld = Callable[..., World]


def evaluate(world: World) -> RulesRunSummary:
    """One `rules run` (its own transaction, the real outbox routing)."""
    with session_scope(world.engine) as session:
        return run_rules_and_queue(session, world.config)


def alerts(world: World, *, status: AlertStatus | None = AlertStatus.OPEN) -> dict[str, Alert]:
    """Alerts by fingerprint (open ones by default; the latest of each fingerprint otherwise)."""
    with session_scope(world.engine) as session:
        query = select(Alert).order_by(Alert.id)
        if status is not None:
            query = query.where(Alert.status == status)
        return {a.fingerprint: a for a in session.scalars(query)}


def events(world: World) -> list[tuple[str, str]]:
    """(fingerprint, event kind) of every alert event, in order."""
    with session_scope(world.engine) as session:
        rows = session.execute(
            select(Alert.fingerprint, AlertEvent.kind)
            .join(Alert, Alert.id == AlertEvent.alert_id)
            .order_by(AlertEvent.id)
        )
        return [(fp, kind.value) for fp, kind in rows.tuples()]


def outbox_keys(world: World) -> list[str]:
    with session_scope(world.engine) as session:
        return list(session.scalars(select(Outbox.dedup_key).order_by(Outbox.id)))


def subject_key(alert: Alert) -> str:
    """`shop/TL-1001`, `market/TL-1001/s-2` (a marketplace seller), `Москва/TL-1001` (a region), `market/spb/TL-1001`
    (a marketplace's region), `market/s-2` (a storefront), `shop` (a crawl)."""
    d = alert.details
    if alert.rule == "crawler_health":
        return str(d["distributor_code"])
    if alert.rule == "regional_shortage":
        where = [d["marketplace"], d["region"]] if "marketplace" in d else [d["region"]]
        return "/".join([*where, d["vendor_code"]])
    if alert.rule == "unlisted_storefront":
        return f"{d['distributor_code']}/{d['seller_code']}"
    seller = d.get("seller_code")
    parts = [d["distributor_code"], d["vendor_code"]] + ([seller] if seller != d["distributor_code"] else [])
    return "/".join(parts)


def found(world: World, rule: str, *, status: AlertStatus | None = AlertStatus.OPEN) -> dict[str, Alert]:
    """The rule's alerts by `subject_key` (open ones by default)."""
    return {subject_key(a): a for a in alerts(world, status=status).values() if a.rule == rule}


def history(world: World, rule: str | None = None) -> list[tuple[str, str]]:
    """(subject key, event kind) of every event (of one rule), in order."""
    with session_scope(world.engine) as session:
        rows = session.execute(
            select(Alert, AlertEvent.kind).join(Alert, Alert.id == AlertEvent.alert_id).order_by(AlertEvent.id)
        )
        return [(subject_key(a), kind.value) for a, kind in rows.tuples() if rule is None or a.rule == rule]
