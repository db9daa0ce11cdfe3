"""Test data written through the storage layer the way the catalog import and a crawl write it.

    world = World(engine, config)              # distributors and sellers synced from the config
    tl1 = world.product("TL-1001", category="Обогреватели", gtins=["4607123010017"])
    world.price_list(dt.date(2026, 3, 1), {"TL-1001": "10000"})           # RRP (dealer price: a pair)
    run = world.crawl("shop", day(1), [Seen("TL-1001", price="9000")])    # one finished, ok crawl run

A `Seen` is one offer as the store pipeline receives it: matched to a catalog vendor code (or to nothing),
with the price, stock, flags and markers a correct crawler reports; on a marketplace also the seller's own and the
card price, the delivery region and the seller's legal entity (its ИНН), written straight into their columns.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from crawler.config import Config, parse_config
from crawler.items import Health, StockState
from crawler.stats import STAT_COMPLETE
from fixtures.pilot.scenario import MARKETPLACE, offers
from storage.catalog_import import import_catalog
from storage.codes import normalize_gtin, normalize_vendor_code
from storage.engine import session_scope
from storage.models import LegalEntity, LegalEntitySource, Listing, MatchMethod, Observation, RunStatus, Seller
from storage.queries import catalog
from storage.queries.crawl_runs import finish_run, start_run
from storage.queries.listings import (
    ListingSeen,
    SellerSeen,
    add_sellers,
    distributor_id,
    record_gone,
    seller_ids,
    upsert_listings,
)
from storage.queries.observations import ObservationRow, insert_observations
from storage.queries.plans import write_plan
from storage.queries.sellers import sync_distributors

START = dt.datetime(2026, 3, 2, 5, 0, tzinfo=dt.UTC)  # 08:00 in Moscow


def day(n: int, hours: float = 0) -> dt.datetime:
    """The crawl time of day `n` (1-based): 08:00 Moscow time plus `hours`."""
    return START + dt.timedelta(days=n - 1, hours=hours)


def config_yaml(data: Mapping[str, Any]) -> str:
    """The config file for a dict of its sections; distributors need only `code` (and what differs)."""
    full = dict(data)
    full["distributors"] = [
        {"name": d["code"].title(), "start_urls": [f"https://{d['code']}.test/"], **d} for d in data["distributors"]
    ]
    return yaml.safe_dump(full, allow_unicode=True)


def make_config(data: Mapping[str, Any]) -> Config:
    return parse_config(config_yaml(data), "test-config")


@dataclass(frozen=True)
class Seen:
    """One offer a crawl read. `vendor_code` is the catalog product it matched (None: not the brand's)."""

    vendor_code: str | None
    price: str | None = None
    stock: StockState = StockState.IN_STOCK
    quantity: int | None = None
    seller: str | None = None  # a marketplace's seller id; a shop's own offers leave it empty
    seller_name: str | None = None
    url: str | None = None  # default: one page per product (and seller)
    title: str | None = None
    gtin: str | None = None
    flags: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()
    currency: str | None = "RUB"
    seller_price: str | None = None  # a marketplace's: the seller's own price before the platform's discount
    card_price: str | None = None
    region: str | None = None  # the delivery region's code; the default URL then carries it
    tax_id: str | None = None  # the seller's ИНН as the marketplace publishes it: links the seller to that entity
    legal_name: str | None = None
    ogrn: str | None = None


def pilot_seen(site: str, n: int) -> list[Seen]:
    """The pilot site's ground-truth offers on day `n` (fixtures/pilot/scenario.py), as a correct crawl reads them."""
    return [
        Seen(
            o.catalog_code,
            price=None if o.price is None else str(o.price),
            stock=o.stock,
            quantity=o.quantity,
            seller=o.seller_id if site == MARKETPLACE else None,
            seller_name=o.seller_name,
            url=o.url(f"https://{site}.test"),
            title=o.title,
            gtin=o.gtin,
            flags=o.flags,
            markers=o.markers,
            currency=o.currency,
        )
        for o in offers(site, n)
    ]


class World:
    def __init__(self, engine: Engine, config: Config) -> None:
        self.engine = engine
        self.config = config
        self.products: dict[str, int] = {}
        with session_scope(engine) as session:
            self.distributors = sync_distributors(session, config)

    def product(
        self, vendor_code: str, *, name: str | None = None, category: str | None = None, gtins: Iterable[str] = ()
    ) -> int:
        with session_scope(self.engine) as session:
            (product_id,) = catalog.insert_products(
                session,
                [
                    {
                        "vendor_code": vendor_code,
                        "vendor_code_norm": normalize_vendor_code(vendor_code),
                        "name": name or f"Термолайн {vendor_code}",
                        "category": category,
                        "brand": "Termoline",
                    }
                ],
            )
            catalog.insert_gtins(session, [{"gtin": normalize_gtin(g), "product_id": product_id} for g in gtins])
        self.products[vendor_code] = product_id
        return product_id

    def import_catalog(self, path: Path, valid_from: dt.date) -> None:
        """A price-list file through the catalog import, as `pricewatch catalog import` loads it."""
        with session_scope(self.engine) as session:
            import_catalog(session, path, valid_from=valid_from)
            self.products.update({p.vendor_code: p.id for p in catalog.products_by_code(session).values()})

    def price_list(self, valid_from: dt.date, prices: Mapping[str, str | tuple[str, str]]) -> int:
        """A price-list version: vendor code → RRP, or (RRP, dealer price)."""
        with session_scope(self.engine) as session:
            price_list = catalog.add_price_list(
                session,
                name=f"prices {valid_from}",
                valid_from=valid_from,
                source_file="test",
                sha256=hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
                row_count=len(prices),
            )
            rows = []
            for code, value in prices.items():
                rrp, dealer = value if isinstance(value, tuple) else (value, None)
                rows.append(
                    {
                        "price_list_id": price_list.id,
                        "product_id": self.products[code],
                        "rrp": Decimal(rrp),
                        "map_price": None,
                        "dealer_price": Decimal(dealer) if dealer is not None else None,
                    }
                )
            catalog.insert_prices(session, rows)
            return price_list.id

    def crawl(
        self,
        distributor: str,
        at: dt.datetime,
        offers: Iterable[Seen],
        *,
        health: Health = Health.OK,
        reason: str | None = None,
        status: RunStatus = RunStatus.FINISHED,
        complete: bool = False,
    ) -> int:
        """One crawl run of `distributor` at `at` that stored `offers` and ended with `status` and `health`.

        `complete`: the spider went through every entry point, unlimited; a finished ok run then marks the listings
        it confirms gone, as the store does (`record_gone`)."""
        offers = list(offers)
        with session_scope(self.engine) as session:
            d_id = distributor_id(session, distributor)
            assert d_id is not None, f"{distributor} is not in the config"
            run = start_run(session, f"{distributor}-{uuid.uuid4().hex}", d_id, pid=0, host="test")
            run.started_at = at
            known = seller_ids(session, d_id)
            new = {o.seller: SellerSeen(o.seller, o.seller_name or o.seller, False) for o in offers if o.seller}
            known.update(add_sellers(session, d_id, [s for code, s in new.items() if code not in known]))
            listings = [self._listing(known[o.seller or distributor], o, at) for o in offers]
            ids = upsert_listings(session, listings)
            rows = [
                ObservationRow(
                    listing_id=ids[(listing.seller_id, listing.url)],
                    observed_at=at,
                    price=Decimal(o.price) if o.price is not None else None,
                    currency=o.currency if o.price is not None else None,
                    old_price=None,
                    stock=o.stock,
                    quantity=o.quantity,
                    http_status=404 if "not_found" in o.flags else 200,
                    flags=list(o.flags),
                    details={k: v for k, v in {"title": o.title, "markers": list(o.markers)}.items() if v},
                )
                for listing, o in zip(listings, offers, strict=True)
            ]
            insert_observations(session, run.id, rows)
            for listing, o in zip(listings, offers, strict=True):
                self._marketplace_columns(session, run.id, ids[(listing.seller_id, listing.url)], listing, o)
            finish_run(
                session,
                run.id,
                status=status,
                health=Health.FAILED if status == RunStatus.FAILED else health,
                reason=reason or health.value,
                pages=len(offers),
                offers=len(offers),
                errors=0,
                stats={STAT_COMPLETE: 1} if complete else {},
            )
            run.finished_at = at + dt.timedelta(minutes=30)
            if status == RunStatus.FINISHED and health == Health.OK:
                feed = self.config.distributor(distributor).spider == "feed"
                record_gone(session, run.id, d_id, at=run.finished_at, complete=complete, missing_is_gone=feed)
            return run.id

    def legal_entity(
        self,
        tax_id: str,
        *,
        name: str | None = None,
        ogrn: str | None = None,
        authorized: bool | None = None,
        distributor: str | None = None,
        source: LegalEntitySource = LegalEntitySource.CONTRACT,
    ) -> int:
        """The legal entity with this ИНН (added if missing), with what is given set on it; returns its id."""
        with session_scope(self.engine) as session:
            return self._legal_entity(
                session, tax_id, name=name, ogrn=ogrn, authorized=authorized, distributor=distributor, source=source
            )

    def _legal_entity(
        self,
        session: Session,
        tax_id: str,
        *,
        name: str | None = None,
        ogrn: str | None = None,
        authorized: bool | None = None,
        distributor: str | None = None,
        source: LegalEntitySource = LegalEntitySource.MARKETPLACE,
    ) -> int:
        entity = session.scalar(select(LegalEntity).where(LegalEntity.tax_id == tax_id))
        if entity is None:
            entity = LegalEntity(tax_id=tax_id, authorized=False, source=source)
            session.add(entity)
        entity.legal_name = name or entity.legal_name
        entity.ogrn = ogrn or entity.ogrn
        if authorized is not None:
            entity.authorized = authorized
        if distributor is not None:
            entity.distributor_id = self.distributors[distributor]
        session.flush()
        return entity.id

    def _marketplace_columns(
        self, session: Session, run_id: int, listing_id: int, listing: ListingSeen, offer: Seen
    ) -> None:
        """What the store writes beside a shop's reading (its own columns): the seller's and the card price, the
        listing's region, the seller's legal entity."""
        if offer.seller_price is not None or offer.card_price is not None:
            session.execute(
                update(Observation)
                .where(Observation.crawl_run_id == run_id, Observation.listing_id == listing_id)
                .values(
                    seller_price=None if offer.seller_price is None else Decimal(offer.seller_price),
                    card_price=None if offer.card_price is None else Decimal(offer.card_price),
                )
            )
        if offer.region is not None:
            session.execute(update(Listing).where(Listing.id == listing_id).values(region=offer.region))
        if offer.tax_id is not None:
            entity_id = self._legal_entity(session, offer.tax_id, name=offer.legal_name, ogrn=offer.ogrn)
            session.execute(update(Seller).where(Seller.id == listing.seller_id).values(legal_entity_id=entity_id))

    def plan(self, distributor: str, month: dt.date, quantities: Mapping[str, int]) -> None:
        """A sales plan for `distributor` in `month` (its first day): vendor code → units."""
        with session_scope(self.engine) as session:
            d_id = self.distributors[distributor]
            write_plan(session, {(d_id, self.products[code], month): qty for code, qty in quantities.items()})

    def _listing(self, seller_id: int, offer: Seen, at: dt.datetime) -> ListingSeen:
        code = offer.vendor_code
        return ListingSeen(
            seller_id=seller_id,
            url=offer.url
            or f"https://shop.test/{code or 'other'}/{offer.seller or ''}"
            + (f"?dest={offer.region}" if offer.region else ""),
            seller_sku=None,
            title=offer.title or (f"Термолайн {code}" if code else "Чужой товар"),
            raw_vendor_code=code,
            raw_gtin=normalize_gtin(offer.gtin) if offer.gtin else None,
            product_id=self.products[code] if code else None,
            match_method=MatchMethod.VENDOR_CODE if code else MatchMethod.NONE,
            match_confidence=1.0 if code else 0.0,
            seen_at=at,
        )
