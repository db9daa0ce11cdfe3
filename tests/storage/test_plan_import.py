"""Sales-plan import and distributor/seller sync from the config, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, func, select

from crawler.config import Config, parse_config
from crawler.errors import UserError
from storage.catalog_import import import_catalog
from storage.engine import session_scope
from storage.models import Distributor, SalesPlan, Seller, SellerKind
from storage.plan_import import import_plan, parse_month, parse_quantity
from storage.queries.sellers import sync_distributors

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "fixtures" / "samples"

CONFIG_YAML = """
distributors:
  - code: techsnab
    name: ТехСнаб
    region: Москва
    start_urls: ["http://127.0.0.1:8701/"]
    seller: {legal_name: ООО «ТехСнаб», tax_id: "7701234567"}
  - code: klimatprof
    name: КлиматПроф
    region: Санкт-Петербург
    authorized: false
    start_urls: ["http://127.0.0.1:8702/"]
  - code: marketplace
    name: МаркетПлюс
    kind: marketplace
    spider: marketplace
    start_urls: ["http://127.0.0.1:8703/"]
sellers:
  - {marketplace: marketplace, seller_id: "1001", name: ТехСнаб на МаркетПлюс, legal_name: ООО «ТехСнаб»}
  - {marketplace: marketplace, seller_id: "1002", name: Климат-Онлайн}
"""


def config(text: str = CONFIG_YAML) -> Config:
    return parse_config(text, "test.yaml", env={})


@pytest.fixture
def catalog_engine(engine: Engine) -> Engine:
    with session_scope(engine) as session:
        import_catalog(session, SAMPLES / "pricelist_ru.csv")
    return engine


def plan(engine: Engine) -> dict[tuple[str, str, str], int]:
    from storage.models import Product

    with session_scope(engine) as session:
        rows = session.execute(
            select(Distributor.code, Product.vendor_code, SalesPlan.month, SalesPlan.quantity)
            .join(Distributor, Distributor.id == SalesPlan.distributor_id)
            .join(Product, Product.id == SalesPlan.product_id)
        )
        return {(d, p, f"{m:%Y-%m}"): q for d, p, m, q in rows}


def load(engine: Engine, path: Path, cfg: Config | None = None, **kwargs: object) -> object:
    with session_scope(engine) as session:
        return import_plan(session, path, cfg or config(), **kwargs)  # type: ignore[arg-type]


def write(tmp_path: Path, lines: list[str], name: str = "plan.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_sync_distributors_upserts_distributors_and_their_sellers(engine: Engine) -> None:
    with session_scope(engine) as session:
        ids = sync_distributors(session, config())
    assert set(ids) == {"techsnab", "klimatprof", "marketplace"}
    changed = CONFIG_YAML.replace("name: КлиматПроф", "name: Климат-Проф").replace(
        '  - {marketplace: marketplace, seller_id: "1002", name: Климат-Онлайн}\n', ""
    )
    with session_scope(engine) as session:
        session.add(Seller(distributor_id=ids["marketplace"], code="777", name="Серый импортёр", authorized=False))
    with session_scope(engine) as session:
        assert sync_distributors(session, config(changed)) == ids  # same rows, updated in place
    with session_scope(engine) as session:
        distributors = {d.code: (d.name, d.kind, d.region, d.authorized) for d in session.scalars(select(Distributor))}
        sellers = {
            (d, s.code): (s.name, s.legal_name, s.tax_id, s.authorized)
            for d, s in session.execute(select(Distributor.code, Seller).join(Distributor))
        }
    assert distributors == {
        "techsnab": ("ТехСнаб", SellerKind.DISTRIBUTOR, "Москва", True),
        "klimatprof": ("Климат-Проф", SellerKind.DISTRIBUTOR, "Санкт-Петербург", False),
        "marketplace": ("МаркетПлюс", SellerKind.MARKETPLACE, None, True),
    }
    assert sellers == {
        ("techsnab", "techsnab"): ("ТехСнаб", "ООО «ТехСнаб»", "7701234567", True),
        ("klimatprof", "klimatprof"): ("Климат-Проф", None, None, False),
        ("marketplace", "marketplace"): ("МаркетПлюс", None, None, True),
        ("marketplace", "1001"): ("ТехСнаб на МаркетПлюс", "ООО «ТехСнаб»", None, True),
        ("marketplace", "1002"): ("Климат-Онлайн", None, None, False),  # dropped from the config: no longer authorized
        ("marketplace", "777"): ("Серый импортёр", None, None, False),  # found by a crawl: kept as it was
    }


def test_seller_of_an_unknown_marketplace_is_a_config_error() -> None:
    with pytest.raises(UserError, match=r"sellers\[0\]\.marketplace: 'techsnab' is not a marketplace distributor"):
        config(
            CONFIG_YAML.replace(
                '{marketplace: marketplace, seller_id: "1001"', '{marketplace: techsnab, seller_id: "1001"'
            )
        )


def test_wide_plan_with_one_column_per_month(catalog_engine: Engine) -> None:
    result = load(catalog_engine, SAMPLES / "sales_plan_ru.csv")
    assert result.as_dict() == {  # type: ignore[attr-defined]
        "file": str(SAMPLES / "sales_plan_ru.csv"),
        "rows": 5,
        "entries": 14,
        "inserted": 14,
        "replaced": 0,
        "distributors": ["klimatprof", "marketplace", "techsnab"],
        "months": ["2026-01", "2026-02", "2026-03"],
    }
    stored = plan(catalog_engine)
    assert stored[("techsnab", "TL-1001", "2026-01")] == 120
    assert stored[("marketplace", "TL-2001", "2026-03")] == 400
    assert ("techsnab", "TL-1002", "2026-03") not in stored  # an empty cell is no plan, not zero


def test_long_plan_replaces_the_same_keys_and_keeps_others(catalog_engine: Engine, tmp_path: Path) -> None:
    load(catalog_engine, SAMPLES / "sales_plan_ru.csv")
    path = write(
        tmp_path,
        [
            "Distributor,SKU,Month,Quantity",
            "techsnab,TL-1001,2026-01,150",  # replaces 120
            "ТехСнаб,tl 1002,03.2026,1 000",  # by name; a new month
            "KLIMATPROF,TL-3001,«апрель 2026»,0",
            "techsnab,TL-1001,15.05.2026,7",
        ],
    )
    result = load(catalog_engine, path)
    assert (result.rows, result.inserted, result.replaced) == (4, 3, 1)  # type: ignore[attr-defined]
    stored = plan(catalog_engine)
    assert stored[("techsnab", "TL-1001", "2026-01")] == 150
    assert stored[("techsnab", "TL-1001", "2026-02")] == 100  # untouched
    assert stored[("techsnab", "TL-1002", "2026-03")] == 1000
    assert stored[("klimatprof", "TL-3001", "2026-04")] == 0
    assert stored[("techsnab", "TL-1001", "2026-05")] == 7
    assert len(stored) == 17


def test_xlsx_plan_with_date_headers(catalog_engine: Engine, tmp_path: Path) -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["Код дистрибьютора", "Артикул", dt.datetime(2026, 1, 1), dt.datetime(2026, 2, 1)])
    ws.append(["techsnab", "TL-1001", 10, 12.0])
    path = tmp_path / "plan.xlsx"
    book.save(path)
    load(catalog_engine, path)
    assert plan(catalog_engine) == {("techsnab", "TL-1001", "2026-01"): 10, ("techsnab", "TL-1001", "2026-02"): 12}


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            ["Дистрибьютор;Артикул;Месяц;Количество", "techsnab;TL-1001;2026-01;5", "nosuch;TL-1001;2026-01;5"],
            "plan.csv: row 3, column Дистрибьютор: unknown distributor 'nosuch' "
            "(known: techsnab, klimatprof, marketplace)",
        ),
        (
            ["Дистрибьютор;Артикул;Месяц;Количество", "techsnab;TL-1001;2026-01;5", "techsnab;TL-9999;2026-01;5"],
            "plan.csv: row 3, column Артикул: unknown SKU (not in the catalog) 'TL-9999'",
        ),
        (
            ["Дистрибьютор;Артикул;Месяц;Количество", "techsnab;TL-1001;2026-01;5", "techsnab;TL-1001;13.2026;5"],
            "plan.csv: row 3, column Месяц: not a month: '13.2026'",
        ),
        (
            ["Дистрибьютор;Артикул;Месяц;Количество", "techsnab;TL-1001;2026-01;5", "techsnab;TL-1002;2026-01;2,5"],
            "plan.csv: row 3, column Количество: not a whole number of units: '2,5'",
        ),
        (
            ["Дистрибьютор;Артикул;Месяц;Количество", "techsnab;TL-1001;2026-01;-5"],
            "plan.csv: row 2, column Количество: negative quantity",
        ),
        (
            ["Дистрибьютор;Артикул;Месяц;Количество", "techsnab;TL-1001;2026-01;5", "techsnab;tl1001;01.2026;6"],
            "plan.csv: row 3: the same distributor, SKU and month 2026-01 as row 2",
        ),
        (["Дистрибьютор;Артикул;Количество", "techsnab;TL-1001;5"], "plan.csv: row 1: missing required column month"),
        (["Артикул;Январь 2026", "TL-1001;5"], "plan.csv: row 1: missing required column distributor"),
        (["Дистрибьютор;Артикул;Январь 2026", ";TL-1001;5"], "plan.csv: row 2, column Дистрибьютор: empty distributor"),
    ],
    ids=["distributor", "sku", "month", "fraction", "negative", "duplicate", "no-month", "no-distributor", "empty"],
)
def test_bad_plan_is_refused_whole_with_row_and_column(
    catalog_engine: Engine, tmp_path: Path, lines: list[str], message: str
) -> None:
    load(catalog_engine, SAMPLES / "sales_plan_ru.csv")
    before = plan(catalog_engine)
    with pytest.raises(UserError) as err:
        load(catalog_engine, write(tmp_path, lines))
    assert message in str(err.value)
    assert plan(catalog_engine) == before


def test_plan_before_any_catalog_is_refused(engine: Engine) -> None:
    with pytest.raises(UserError, match="the catalog is empty; import a price list first"):
        load(engine, SAMPLES / "sales_plan_ru.csv")
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(SalesPlan)) == 0


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("2026-01", "2026-01-01"),
        ("2026-1", "2026-01-01"),
        ("2026-01-15", "2026-01-01"),
        ("2026-01-15T00:00:00", "2026-01-01"),
        ("01.2026", "2026-01-01"),
        ("1/2026", "2026-01-01"),
        ("15.01.2026", "2026-01-01"),
        ("январь 2026", "2026-01-01"),
        ("Январь 2026 г.", "2026-01-01"),
        ("января 2026 года", "2026-01-01"),
        ("Май 2026", "2026-05-01"),
        ("мая 2026", "2026-05-01"),
        ("сент. 2026", "2026-09-01"),
        ("Jan 2026", "2026-01-01"),
        ("December, 2026", "2026-12-01"),
    ],
)
def test_month_spellings(text: str, month: str) -> None:
    assert parse_month(text) == dt.date.fromisoformat(month)


@pytest.mark.parametrize("text", ["2026", "13.2026", "2026-00", "смаль 2026", "январь", "", "01.1899"])
def test_not_a_month(text: str) -> None:
    with pytest.raises(ValueError, match="not a month"):
        parse_month(text)


def test_quantities() -> None:
    assert parse_quantity("1 200") == 1200
    assert parse_quantity("1\u00a0200 шт.") == 1200
    assert parse_quantity(12.0) == 12
    assert parse_quantity("") is None
    assert parse_quantity(None) is None
    with pytest.raises(ValueError, match="whole number"):
        parse_quantity(2.5)
    with pytest.raises(ValueError, match="not a quantity"):
        parse_quantity("много")
