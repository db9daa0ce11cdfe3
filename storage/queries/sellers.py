"""Distributors, their sellers and the legal entities the config declares, kept in step with the database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.config import Config
from storage.models import Distributor, Seller, SellerKind
from storage.queries.legal_entities import sync_legal_entities
from storage.queries.upsert import dialect_insert


@dataclass(frozen=True)
class _SellerSpec:
    code: str
    name: str
    legal_name: str | None
    tax_id: str | None
    authorized: bool
    legal_entity_id: int | None = None


def sync_distributors(session: Session, config: Config) -> dict[str, int]:
    """Upsert the config's distributors, each one's own seller, each marketplace's authorized storefronts and the
    config's legal entities (`storage.queries.legal_entities.sync_legal_entities`).

    A marketplace seller that was authorized but is no longer listed under `sellers:` loses its authorization;
    sellers a crawl discovered are kept. A storefront listed with a `tax_id` is tied to that entity. Distributors
    gone from the config stay (their history stays). Returns distributor code → id.
    """
    # Insert-if-missing first: crawls starting together on a fresh database must not collide on the codes.
    if config.distributors:
        session.execute(
            dialect_insert(session, Distributor)
            .values(
                [
                    {"code": d.code, "name": d.name, "kind": SellerKind(d.kind), "authorized": d.authorized}
                    for d in config.distributors
                ]
            )
            .on_conflict_do_nothing(index_elements=["code"])
        )
    existing = {d.code: d for d in session.scalars(select(Distributor))}
    for conf in config.distributors:
        row = existing[conf.code]
        row.name = conf.name
        row.kind = SellerKind(conf.kind)
        row.region = conf.region
        row.authorized = conf.authorized
    session.flush()
    ids = {code: d.id for code, d in existing.items()}
    entities = sync_legal_entities(session, config, ids)

    for conf in config.distributors:
        wanted = [_SellerSpec(conf.code, conf.name, conf.seller.legal_name, conf.seller.tax_id, conf.authorized)]
        # A `sellers:` entry without a `seller_id` authorises an entity (by ИНН), not a storefront.
        wanted += [
            _SellerSpec(s.seller_id, s.name, s.legal_name, s.tax_id, True, entities.get(s.tax_id or ""))
            for s in config.sellers
            if s.marketplace == conf.code and s.seller_id is not None
        ]
        _sync_sellers(session, ids[conf.code], wanted)
    session.flush()
    return ids


def _sync_sellers(session: Session, distributor_id: int, wanted: list[_SellerSpec]) -> None:
    session.execute(
        dialect_insert(session, Seller)
        .values([{"distributor_id": distributor_id, "code": w.code, "name": w.name} for w in wanted])
        .on_conflict_do_nothing(index_elements=["distributor_id", "code"])
    )
    rows = {s.code: s for s in session.scalars(select(Seller).where(Seller.distributor_id == distributor_id))}
    for spec in wanted:
        row = rows[spec.code]
        row.name = spec.name
        # What the config leaves out stays as a marketplace published it.
        if spec.legal_name is not None:
            row.legal_name = spec.legal_name
        if spec.tax_id is not None:
            row.tax_id = spec.tax_id
        if spec.legal_entity_id is not None:
            row.legal_entity_id = spec.legal_entity_id
        row.authorized = spec.authorized
    listed = {spec.code for spec in wanted}
    for code, row in rows.items():
        if code not in listed and row.authorized:
            row.authorized = False
