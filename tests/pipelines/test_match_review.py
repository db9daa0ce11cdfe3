"""`pricewatch match review|apply`: uncertain offers out with candidates, a person's decisions in, for good."""

from __future__ import annotations

import csv
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from crawler.items import RawOffer
from storage.engine import make_engine, session_scope
from storage.models import Distributor, Listing, MatchMethod, MatchOverride, Product, Seller

Feed = Callable[..., subprocess.CompletedProcess[str]]
DECISION = "Решение: артикул или «-» (не наш)"
HEAT_GUN = "Тепловая пушка Termoline, новинка"  # three heat guns, and no power said: which one is for a person


@pytest.fixture
def reviewed_db(feed: Feed, catalog_sqlite: str, make_offer: Callable[..., RawOffer]) -> str:
    offers = [
        make_offer(n=0, is_canary=True),  # matched by vendor code: not for review
        make_offer(n=1, title=HEAT_GUN, vendor_code=None),  # unmatched
        make_offer(n=2, title="Фильтр для увлажнителя Termoline TL-3001", vendor_code="FL-1"),  # an accessory
        make_offer(n=3, title="Конвектор Nordwind NW-1500", vendor_code="NW-1500"),  # another brand
    ]
    feed(catalog_sqlite, "day-1", offers)
    return catalog_sqlite


def _listings(url: str, distributor: str = "shop") -> dict[str, tuple[str | None, MatchMethod, float]]:
    """The distributor's listings by page number: (matched vendor code, method, confidence)."""
    engine = make_engine(url)
    with session_scope(engine) as session:
        rows = session.execute(
            select(Listing.url, Product.vendor_code, Listing.match_method, Listing.match_confidence)
            .outerjoin(Product, Product.id == Listing.product_id)
            .join(Seller, Seller.id == Listing.seller_id)
            .join(Distributor, Distributor.id == Seller.distributor_id)
            .where(Distributor.code == distributor)
        ).all()
    engine.dispose()
    return {u.rsplit("/", 1)[1]: (code, method, conf) for u, code, method, conf in rows}


def _review(pricewatch: Callable[..., Any], config: Path, db: str, out: Path) -> list[dict[str, Any]]:
    outcome = pricewatch("match", "review", "--config", str(config), "--db", db, "--out", str(out))
    assert outcome.code == 0, outcome.err
    sheet = load_workbook(out).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    return [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)]


def _write_decisions(rows: list[dict[str, Any]], decisions: dict[str, str], path: Path) -> Path:
    """The review rows with the decision column filled (by the offer page's number), as a person saves CSV."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        for row in rows:
            writer.writerow(row | {DECISION: decisions.get(str(row["Ссылка"]).rsplit("/", 1)[1], "")})
    return path


def test_review_lists_uncertain_offers_with_candidates(
    reviewed_db: str, config_path: Path, tmp_path: Path, pricewatch: Callable[..., Any]
) -> None:
    rows = _review(pricewatch, config_path, reviewed_db, tmp_path / "review.xlsx")
    by_page = {str(r["Ссылка"]).rsplit("/", 1)[1]: r for r in rows}
    assert set(by_page) == {"1", "2", "3"}
    heat_guns = {by_page["1"][f"Кандидат {n}: артикул"] for n in (1, 2, 3)}
    assert heat_guns == {"TL-1013", "TL-1014", "TL-1015"}
    assert by_page["2"]["Кандидат 1: артикул"] == "TL-3001"  # the product the accessory is for
    assert by_page["1"][DECISION] is None


def test_review_says_why_and_lists_candidates_best_first(
    reviewed_db: str, config_path: Path, tmp_path: Path, pricewatch: Callable[..., Any]
) -> None:
    rows = _review(pricewatch, config_path, reviewed_db, tmp_path / "review.xlsx")
    by_page = {str(r["Ссылка"]).rsplit("/", 1)[1]: r for r in rows}
    assert by_page["1"]["Почему так"].startswith("два товара почти одинаково похожи, лучший кандидат TL-10")
    assert by_page["2"]["Почему так"] == "аксессуар: TL-3001, лучший кандидат TL-3001"
    assert by_page["3"]["Почему так"] == "в названии нет бренда"
    scores = [by_page["1"][f"Кандидат {n}: оценка"] for n in (1, 2, 3)]
    assert scores == sorted(scores, reverse=True)


def test_decisions_apply_at_once_and_win_on_later_crawls(
    reviewed_db: str,
    config_path: Path,
    tmp_path: Path,
    pricewatch: Callable[..., Any],
    feed: Feed,
    make_offer: Callable[..., RawOffer],
) -> None:
    rows = _review(pricewatch, config_path, reviewed_db, tmp_path / "review.xlsx")
    filled = _write_decisions(rows, {"1": "tl 1014", "3": "не наш"}, tmp_path / "decided.csv")

    outcome = pricewatch("match", "apply", str(filled), "--db", reviewed_db, "--by", "analyst")
    assert outcome.code == 0, outcome.err
    assert "2 decisions stored (1 matched, 1 not ours); 2 listings re-pointed" in outcome.out
    listings = _listings(reviewed_db)
    assert listings["1"] == ("TL-1014", MatchMethod.MANUAL, 1.0)
    assert listings["3"] == (None, MatchMethod.MANUAL, 1.0)
    assert listings["2"][1] == MatchMethod.NONE  # left empty: still for review

    # The next crawl sees the same pages; the decisions hold, and reviewed pages leave the review.
    feed(reviewed_db, "day-2", [make_offer(n=1, title=HEAT_GUN, vendor_code=None)])
    assert _listings(reviewed_db)["1"] == ("TL-1014", MatchMethod.MANUAL, 1.0)
    again = _review(pricewatch, config_path, reviewed_db, tmp_path / "again.xlsx")
    assert {str(r["Ссылка"]).rsplit("/", 1)[1] for r in again} == {"2"}


def test_a_bad_decision_applies_nothing_and_names_row_and_column(
    reviewed_db: str, config_path: Path, tmp_path: Path, pricewatch: Callable[..., Any]
) -> None:
    rows = _review(pricewatch, config_path, reviewed_db, tmp_path / "review.xlsx")
    filled = _write_decisions(rows, {"1": "TL-1014", "2": "TL-9999"}, tmp_path / "decided.csv")
    bad_row = 1 + next(i for i, r in enumerate(rows, start=1) if str(r["Ссылка"]).endswith("/2"))

    outcome = pricewatch("match", "apply", str(filled), "--db", reviewed_db)

    assert outcome.code == 2
    assert outcome.err.strip() == (
        f"error: decided.csv: row {bad_row}, column {DECISION}: unknown vendor code 'TL-9999' "
        "(write a catalog vendor code, or '-' for not ours)"
    )
    engine = make_engine(reviewed_db)
    with session_scope(engine) as session:
        assert session.scalars(select(MatchOverride)).all() == []
    engine.dispose()
    assert _listings(reviewed_db)["1"][1] == MatchMethod.NONE


def test_a_decision_holds_for_other_sellers_pages_with_the_same_title(
    reviewed_db: str,
    config_path: Path,
    tmp_path: Path,
    pricewatch: Callable[..., Any],
    feed: Feed,
    make_offer: Callable[..., RawOffer],
) -> None:
    other = make_offer("market", n=7, title=HEAT_GUN, vendor_code=None, seller_code="s-2", seller_name="Другой")
    feed(reviewed_db, "market-1", [other], distributor="market")
    rows = _review(pricewatch, config_path, reviewed_db, tmp_path / "review.xlsx")
    shop_rows = [r for r in rows if r["Дистрибьютор"] == "shop"]
    filled = _write_decisions(shop_rows, {"1": "TL-1014"}, tmp_path / "decided.csv")

    outcome = pricewatch("match", "apply", str(filled), "--db", reviewed_db)
    assert outcome.code == 0, outcome.err
    assert "1 decisions stored (1 matched, 0 not ours); 2 listings re-pointed" in outcome.out
    assert _listings(reviewed_db, "market")["7"] == ("TL-1014", MatchMethod.ALIAS, 0.98)
    # The next crawl of the other seller's page matches it by the decision, and it stays out of the review.
    feed(reviewed_db, "market-2", [other], distributor="market")
    assert _listings(reviewed_db, "market")["7"] == ("TL-1014", MatchMethod.ALIAS, 0.98)
    again = _review(pricewatch, config_path, reviewed_db, tmp_path / "again.xlsx")
    assert "7" not in {str(r["Ссылка"]).rsplit("/", 1)[1] for r in again}
