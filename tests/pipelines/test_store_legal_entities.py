"""The store on a marketplace with legal details: entities upserted by ИНН and storefronts tied to them, a config
entity's own word kept, the region and the seller's and card prices stored, the JSON evidence hashed; a batch that
fails leaves no entity behind."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, select

from crawler.items import RawOffer
from storage.engine import session_scope
from storage.models import Distributor, Evidence, LegalEntity, Listing, Observation, Seller

Feed = Callable[..., subprocess.CompletedProcess[str]]

CONFIG = """
timezone: Europe/Moscow
distributors:
  - code: shop
    name: Магазин
    kind: distributor
    start_urls: ["http://127.0.0.1:9/"]
  - code: market
    name: Маркет
    kind: marketplace
    spider: marketplace
    start_urls: ["http://127.0.0.1:9/"]
sellers:
  - {marketplace: market, seller_id: s-1, name: КлиматМаркет}
  - {marketplace: market, name: Уютный климат, tax_id: "7728345613"}
legal_entities:
  - {tax_id: "7811654328", name: ООО «КлиматМаркет», distributor: shop}
matching:
  brand_tokens: [Termoline]
evidence:
  dir: "{evidence}"
"""
KLIMAT = {
    "tax_id": "7811654328",
    "ogrn": "1157847123400",
    "legal_name": "ООО «Климат Маркет»",  # the marketplace spells it its own way
    "address": "192019, г. Санкт-Петербург, ул. Седова, д. 12",
    "source": "json:/api/seller/1",
}
GLOBAL = {"tax_id": "9701987656", "ogrn": "1217700456786", "legal_name": "ООО «Глобал Трейд Импорт»", "address": None}
UYUT = {"tax_id": "7728345613", "ogrn": None, "legal_name": "ООО «Уютный Климат»", "address": None}
MISREAD = {"tax_id": "7811654321", "ogrn": None, "legal_name": "ООО «Кто-то»", "address": None}  # control digits wrong


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "legal.yaml"
    path.write_text(CONFIG.replace("{evidence}", str(tmp_path / "evidence")), encoding="utf-8")
    return path


def _offer(make_offer: Callable[..., RawOffer], seller: str, n: int, **fields: object) -> RawOffer:
    return make_offer("market", n=n, seller_code=seller, seller_name=f"Витрина {seller}", **fields)


def _entities(engine: Engine) -> dict[str, tuple[str | None, str | None, str | None, str | None, bool, str]]:
    with session_scope(engine) as session:
        rows = session.execute(
            select(LegalEntity, Distributor.code).outerjoin(Distributor, Distributor.id == LegalEntity.distributor_id)
        ).tuples()
        return {e.tax_id: (e.legal_name, e.ogrn, e.address, code, e.authorized, e.source) for e, code in rows}


def _sellers(engine: Engine) -> dict[str, tuple[str | None, str | None, bool]]:
    """Marketplace seller code → (the ИНН of its linked entity, its legal name, authorised storefront)."""
    with session_scope(engine) as session:
        rows = session.execute(
            select(Seller.code, LegalEntity.tax_id, Seller.legal_name, Seller.authorized)
            .join(Distributor, Distributor.id == Seller.distributor_id)
            .outerjoin(LegalEntity, LegalEntity.id == Seller.legal_entity_id)
            .where(Distributor.code == "market", Seller.code != "market")
        ).tuples()
        return {code: (tax_id, name, authorized) for code, tax_id, name, authorized in rows}


def test_entities_links_region_prices_and_json_evidence_are_stored(
    feed: Feed, catalog_db: str, db_engine: Engine, make_offer: Callable[..., RawOffer], tmp_path: Path
) -> None:
    config = _config(tmp_path)
    document = tmp_path / "evidence" / "json" / "detail-1.json"
    document.parent.mkdir(parents=True)
    document.write_bytes(json.dumps({"data": {"products": [{"id": 1}]}}).encode())
    first = [
        _offer(
            make_offer,
            "s-1",
            1,
            url="http://127.0.0.1:9/p/1?dest=-1257786",
            price="4391.20",
            seller_price="4990",
            card_price="по карте",  # not a price: stored as none, never as a wrong number
            price_sources={"price": "json:sizes[0].price.total", "seller_price": "json:sizes[0].price.product"},
            region="msk",
            json_path=str(document),
            seller_legal=KLIMAT,
        ),
        _offer(make_offer, "s-2", 2, seller_legal=GLOBAL, card_price="4790.5"),
        _offer(make_offer, "s-3", 3, seller_legal=MISREAD),
        _offer(make_offer, "s-4", 4, seller_legal=UYUT),
    ]
    feed(catalog_db, "legal-1", first, distributor="market", config=config)

    entities = _entities(db_engine)
    # The config's entity keeps its name, distributor, authorisation and source; its empty details are filled.
    assert entities["7811654328"] == (
        "ООО «КлиматМаркет»",
        "1157847123400",
        "192019, г. Санкт-Петербург, ул. Седова, д. 12",
        "shop",
        True,
        "config",
    )
    assert entities["9701987656"] == (
        "ООО «Глобал Трейд Импорт»",
        "1217700456786",
        None,
        None,
        False,
        "marketplace",
    )
    assert entities["7728345613"][3:] == (None, True, "config")  # authorised by ИНН alone (`sellers:` tax_id)
    assert "7811654321" not in entities  # a misread ИНН ties nobody to anything
    assert _sellers(db_engine) == {
        "s-1": ("7811654328", "ООО «Климат Маркет»", True),
        "s-2": ("9701987656", "ООО «Глобал Трейд Импорт»", False),
        "s-3": (None, None, False),
        "s-4": ("7728345613", "ООО «Уютный Климат»", False),  # the entity is authorised, the storefront is not listed
    }

    with session_scope(db_engine) as session:
        rows = session.execute(
            select(Listing.url, Listing.region, Observation.price, Observation.seller_price, Observation.card_price)
            .join(Observation, Observation.listing_id == Listing.id)
            .order_by(Listing.url)
        ).all()
        details = session.scalars(
            select(Observation.details).join(Listing).where(Listing.url.endswith("?dest=-1257786"))
        ).one()
        evidence = session.get(Evidence, details["json_evidence_id"])
        assert evidence is not None
        stored = (evidence.kind, evidence.sha256, evidence.path, evidence.size)
    assert [tuple(r) for r in rows] == [
        ("http://127.0.0.1:9/p/1?dest=-1257786", "msk", Decimal("4391.20"), Decimal("4990.00"), None),
        ("http://127.0.0.1:9/p/2", None, Decimal("4990.00"), None, Decimal("4790.50")),
        ("http://127.0.0.1:9/p/3", None, Decimal("4990.00"), None, None),
        ("http://127.0.0.1:9/p/4", None, Decimal("4990.00"), None, None),
    ]
    assert details["price_sources"] == {
        "price": "json:sizes[0].price.total",
        "seller_price": "json:sizes[0].price.product",
    }
    data = document.read_bytes()
    assert stored == ("json", hashlib.sha256(data).hexdigest(), "json/detail-1.json", len(data))

    # The next day: s-2 read without its legal details keeps its entity; the marketplace renames ООО «Глобал…».
    renamed = GLOBAL | {"legal_name": "ООО «ГТИ»", "address": "105005, г. Москва"}
    second = [
        _offer(make_offer, "s-2", 2, fetched_at="2026-11-24T06:00:00+00:00"),
        _offer(make_offer, "s-5", 5, seller_legal=renamed, fetched_at="2026-11-24T06:00:00+00:00"),
    ]
    feed(catalog_db, "legal-2", second, distributor="market", config=config)
    assert _entities(db_engine)["9701987656"][:3] == ("ООО «ГТИ»", "1217700456786", "105005, г. Москва")
    assert _entities(db_engine)["7811654328"][0] == "ООО «КлиматМаркет»"
    sellers = _sellers(db_engine)
    assert (sellers["s-2"][0], sellers["s-5"][0]) == ("9701987656", "9701987656")


def test_a_batch_that_fails_leaves_no_legal_entity_behind(
    feed: Feed, catalog_db: str, db_engine: Engine, make_offer: Callable[..., RawOffer], tmp_path: Path
) -> None:
    # Batches of one offer; the database refuses the second batch's observation, after its entity and link.
    sqlite = db_engine.dialect.name == "sqlite"
    with db_engine.begin() as conn:
        if sqlite:
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_legal BEFORE INSERT ON observations WHEN NEW.price = 6666.66 "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE OR REPLACE FUNCTION refuse_legal() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN IF NEW.price = 6666.66 THEN RAISE EXCEPTION 'refused by the test'; END IF; "
                "RETURN NEW; END $$"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_legal BEFORE INSERT ON observations FOR EACH ROW EXECUTE FUNCTION refuse_legal()"
            )
    offers = [
        _offer(make_offer, "s-1", 1, seller_legal=KLIMAT),
        _offer(make_offer, "s-2", 2, seller_legal=GLOBAL, price="6666.66"),
    ]
    try:
        feed(catalog_db, "legal-failed", offers, distributor="market", config=_config(tmp_path), batch=1)
    finally:
        with db_engine.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER refuse_legal" + ("" if sqlite else " ON observations"))
            if not sqlite:
                conn.exec_driver_sql("DROP FUNCTION refuse_legal()")

    entities = _entities(db_engine)
    assert set(entities) == {"7811654328", "7728345613"}  # the config's; the lost batch's entity is not there
    assert entities["7811654328"][1] == "1157847123400"  # filled by the batch that was stored
    assert _sellers(db_engine) == {"s-1": ("7811654328", "ООО «Климат Маркет»", True)}  # s-2 went with its batch
