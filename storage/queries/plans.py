"""Sales plans: quantity per (distributor, product, month), replaced key by key."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from storage.models import SalesPlan

PlanKey = tuple[int, int, dt.date]  # distributor id, product id, first day of month


def existing_keys(session: Session, distributor_ids: set[int], months: set[dt.date]) -> set[PlanKey]:
    if not distributor_ids or not months:
        return set()
    rows = session.execute(
        select(SalesPlan.distributor_id, SalesPlan.product_id, SalesPlan.month).where(
            SalesPlan.distributor_id.in_(distributor_ids), SalesPlan.month.in_(months)
        )
    )
    return {(d, p, m) for d, p, m in rows}


def write_plan(session: Session, quantities: Mapping[PlanKey, int]) -> tuple[int, int]:
    """Insert new keys and replace the quantity of existing ones in bulk; returns (inserted, replaced)."""
    present = existing_keys(session, {k[0] for k in quantities}, {k[2] for k in quantities})
    rows = [
        {"distributor_id": d, "product_id": p, "month": m, "quantity": qty} for (d, p, m), qty in quantities.items()
    ]
    new = [r for r in rows if (r["distributor_id"], r["product_id"], r["month"]) not in present]
    old = [r for r in rows if (r["distributor_id"], r["product_id"], r["month"]) in present]
    if new:
        session.execute(insert(SalesPlan), new)
    if old:
        session.execute(update(SalesPlan), old)
    return len(new), len(old)
