"""Stock-outs in the reports: days a product that was there ran out, as the stock-out rule alerts on them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from crawler.items import StockState
from reports.data import collect_report
from storage.engine import session_scope
from storage.models import SalesPlan

OUT, IN = StockState.OUT_OF_STOCK, StockState.IN_STOCK


def test_a_product_never_in_stock_is_no_stock_out_and_loses_no_sales(blank_scenario: Any) -> None:
    b = blank_scenario.builder
    b.distributor("techsnab", "ТехСнаб")
    b.seller("s", "techsnab", "ТехСнаб")
    b.product("sold-out", "TL-1007", "Тепловентилятор")  # there, then gone
    b.product("never", "TL-3005", "Увлажнитель")  # never stocked: an assortment gap, not a stock-out
    b.product("earlier", "TL-2005", "Вентилятор")  # in stock before the period, out all through it
    b.price_list("pl", dt.date(2026, 1, 1), {"sold-out": "3100", "never": "3100", "earlier": "3100"})
    for key in ("sold-out", "never", "earlier"):
        b.listing(key, "s", key, f"http://127.0.0.1:8701/{key}")
    b.observe("earlier", "techsnab", -5, 6, "3100", IN)
    for day in range(1, 5):
        b.observe("sold-out", "techsnab", day, 6, "3100" if day <= 2 else None, IN if day <= 2 else OUT)
        b.observe("never", "techsnab", day, 6, None, OUT)
        b.observe("earlier", "techsnab", day, 6, None, OUT)
    with session_scope(blank_scenario.engine) as session:
        for key in ("sold-out", "never", "earlier"):
            session.add(
                SalesPlan(
                    distributor_id=b.ids["techsnab"], product_id=b.ids[key], month=dt.date(2026, 3, 1), quantity=31
                )
            )
    data = collect_report(blank_scenario.engine, blank_scenario.config, date_from="2026-03-01", date_to="2026-03-04")
    rows = {r.vendor_code: r for r in data.stock}
    assert set(rows) == {"TL-1007", "TL-2005"}
    assert (rows["TL-1007"].days_out, rows["TL-1007"].first_out) == (2, dt.date(2026, 3, 3))
    assert rows["TL-1007"].lost_sales == 6200  # 2 days × 1 a day × 3 100
    assert rows["TL-2005"].days_out == 4  # it was there before the period began
    assert data.summaries[0].stock_out_days == 6
