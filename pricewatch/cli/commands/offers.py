"""`pricewatch offers export`: the latest offer per listing with its match, price vs RRP, stock and crawl health."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pricewatch.cli.common import config_option, db_option, get_config
from pricewatch.cli.tables import Col, Kind, format_from_path, write_table

# (key, Russian header, English header, kind, width)
_COLUMNS: tuple[tuple[str, str, str, Kind, int], ...] = (
    ("distributor", "Дистрибьютор", "Distributor", "text", 16),
    ("seller", "Продавец", "Seller", "text", 24),
    ("seller_authorized", "Авторизован", "Authorized", "text", 10),
    ("url", "Ссылка", "URL", "text", 50),
    ("title", "Название на сайте", "Title", "text", 40),
    ("vendor_code", "Артикул", "Vendor code", "text", 14),
    ("product_name", "Товар", "Product", "text", 30),
    ("match_method", "Сопоставлено по", "Match method", "text", 12),
    ("match_confidence", "Уверенность", "Confidence", "number", 10),
    ("match_reason", "Почему так", "Why", "text", 45),
    ("price", "Цена", "Price", "money", 14),
    ("price_suspect", "Сомнительная цена", "Suspect price", "text", 10),
    ("currency", "Валюта", "Currency", "text", 8),
    ("rrp", "РРЦ", "RRP", "money", 14),
    ("deviation_pct", "Отклонение, %", "Deviation, %", "number", 12),
    ("stock", "Наличие", "Stock", "text", 12),
    ("quantity", "Количество", "Quantity", "int", 10),
    ("observed_at", "Время (UTC)", "Observed at (UTC)", "datetime", 20),
    ("crawl_health", "Состояние обхода", "Crawl health", "text", 12),
)


@click.group()
def cli() -> None:
    """Offers as the latest finished crawls saw them."""


@cli.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "xlsx"]),
    help="File format [default: from the --out file name].",
)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="File to write.")
@click.option("--distributor", "distributors", multiple=True, metavar="CODE", help="Only these distributors.")
@config_option
@db_option
def export(*, fmt: str | None, out: Path, distributors: tuple[str, ...], config_path: str, db_url: str) -> None:
    """Write the latest offer of every listing (from finished crawl runs only) to CSV, JSON or XLSX.

    Columns: distributor, seller, URL, matched vendor code, match method and confidence, why it matched or was
    refused (the rule, score and margin, conflicting or missing numbers), price, whether the price
    is suspect (far below or above the RRP: a misread or a wrong match, never a dumping), currency, the RRP in
    force on the day of the observation, deviation in %, stock, quantity, time (UTC), crawl health.
    Money is exact: decimal text in CSV/JSON, numbers in rouble format in XLSX.
    """
    from crawler.i18n import Texts
    from pipelines.match_reason import MatchReason, describe
    from storage.engine import make_engine, session_scope
    from storage.queries.offers import latest_offers

    config = get_config(config_path)
    fmt = format_from_path(out, fmt)
    for code in distributors:
        config.distributor(code)
    english = config.notify.language == "en"
    texts = Texts(config.notify.language, config.tz)
    columns = [Col(key, en if english else ru, kind, width) for key, ru, en, kind, width in _COLUMNS]
    engine = make_engine(db_url, create=False)
    try:
        with session_scope(engine) as session:
            offers = latest_offers(session, config.tz, distributors)
    finally:
        engine.dispose()
    rows: list[dict[str, Any]] = [
        {
            "distributor": o.distributor_code,
            "seller": o.seller_name,
            "seller_authorized": o.seller_authorized,
            "url": o.url,
            "title": o.title,
            "vendor_code": o.vendor_code,
            "product_name": o.product_name,
            "match_method": o.match_method.value,
            "match_confidence": o.match_confidence,
            "match_reason": describe(MatchReason.from_json(o.match_reason), texts),
            "price": o.price,
            "price_suspect": o.price_suspect,
            "currency": o.currency,
            "rrp": o.rrp,
            "deviation_pct": o.deviation_pct,
            "stock": o.stock.value,
            "quantity": o.quantity,
            "observed_at": o.observed_at,
            "crawl_health": o.crawl_health.value if o.crawl_health else None,
        }
        for o in offers
    ]
    write_table(rows, columns, out, fmt)
    click.echo(f"{len(rows)} offers written to {out}")
