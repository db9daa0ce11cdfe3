"""Legal entities (an ИНН behind storefronts) and their sellers' links, from three sources of different weight.

The config (`legal_entities:`, and `sellers:` entries with a `tax_id`) says who is authorised and whom an entity buys
from; a contracts file (`pricewatch contracts import`) says the same for the entities it lists, except those the config
has; a marketplace only publishes an entity's details (legal name, ОГРН, address), which fill a known entity's empty
ones and never change its source, authorisation or distributor.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import ColumnElement, Table, bindparam, case, func, select, update
from sqlalchemy.orm import Session

from crawler.config import Config
from storage.models import Distributor, LegalEntity, LegalEntitySource, Seller, utcnow
from storage.queries.upsert import dialect_insert


@dataclass(frozen=True, slots=True)
class LegalSeen:
    """A seller's legal details as a marketplace published them (the ИНН checked already)."""

    tax_id: str
    ogrn: str | None
    legal_name: str | None
    address: str | None


@dataclass(frozen=True, slots=True)
class SellerLink:
    """A storefront tied to the entity behind it, with the legal name and ИНН the seller row repeats."""

    seller_id: int
    legal_entity_id: int
    legal_name: str | None
    tax_id: str


@dataclass(frozen=True, slots=True)
class EntitySpec:
    """An entity as the config or a contracts file declares it; None leaves a stored value as it is."""

    tax_id: str
    legal_name: str | None = None
    ogrn: str | None = None
    distributor_id: int | None = None
    authorized: bool = True
    contract_ref: str | None = None


def upsert_seen_entities(session: Session, entities: Iterable[LegalSeen], now: dt.datetime) -> dict[str, int]:
    """Record entities a marketplace published; returns ИНН → entity id.

    A new one is added as `marketplace` and not authorised; one only marketplaces know takes the newest details;
    a config or contract entity keeps its own, its empty ones filled.
    """
    unique = {e.tax_id: e for e in entities}
    if not unique:
        return {}
    table = LegalEntity.__table__
    insert = dialect_insert(session, table)
    excluded = insert.excluded
    seen_only = table.c.source == LegalEntitySource.MARKETPLACE.value

    def filled(column: str) -> ColumnElement[object]:
        return case(
            (seen_only, func.coalesce(excluded[column], table.c[column])),
            else_=func.coalesce(table.c[column], excluded[column]),
        )

    stmt = insert.on_conflict_do_update(
        index_elements=[table.c.tax_id],
        set_={
            "ogrn": filled("ogrn"),
            "legal_name": filled("legal_name"),
            "address": filled("address"),
            "updated_at": excluded.updated_at,
        },
    ).returning(table.c.tax_id, table.c.id)
    rows = [
        {
            "tax_id": e.tax_id,
            "ogrn": e.ogrn,
            "legal_name": e.legal_name,
            "address": e.address,
            "authorized": False,
            "source": LegalEntitySource.MARKETPLACE.value,
            "updated_at": now,
        }
        # One order for every writer: two crawls upserting the same entities cannot deadlock on PostgreSQL.
        for _, e in sorted(unique.items())
    ]
    return {tax_id: entity_id for tax_id, entity_id in session.execute(stmt, rows).tuples()}


def link_sellers(session: Session, links: Sequence[SellerLink]) -> None:
    """Tie storefronts to their entities; the seller row's legal name and ИНН follow (a name unknown stays)."""
    if not links:
        return
    table = cast(Table, Seller.__table__)
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            legal_entity_id=bindparam("b_entity"),
            legal_name=func.coalesce(bindparam("b_name"), table.c.legal_name),
            tax_id=bindparam("b_tax_id"),
        )
    )
    params = [
        {"b_id": s.seller_id, "b_entity": s.legal_entity_id, "b_name": s.legal_name, "b_tax_id": s.tax_id}
        for s in sorted(links, key=lambda link: link.seller_id)
    ]
    session.connection().execute(stmt, params)


def seller_links(session: Session, distributor_id: int) -> dict[str, tuple[int, str | None]]:
    """The distributor's storefronts tied to an entity: seller code → (entity id, the seller row's legal name)."""
    rows = session.execute(
        select(Seller.code, Seller.legal_entity_id, Seller.legal_name).where(
            Seller.distributor_id == distributor_id, Seller.legal_entity_id.is_not(None)
        )
    )
    return {code: (entity_id, name) for code, entity_id, name in rows.tuples() if entity_id is not None}


def config_entities(config: Config, distributor_ids: Mapping[str, int]) -> dict[str, EntitySpec]:
    """The config's entities by ИНН: `legal_entities:` entries and `sellers:` entries with a `tax_id`.

    A `sellers:` entry with a `tax_id` authorises its entity (the rules read it so as well).
    """
    specs: dict[str, EntitySpec] = {}
    for entity in config.legal_entities:
        specs[entity.tax_id] = EntitySpec(
            entity.tax_id,
            legal_name=entity.name,
            ogrn=entity.ogrn,
            distributor_id=distributor_ids[entity.distributor] if entity.distributor else None,
            authorized=entity.authorized,
        )
    for seller in config.sellers:
        if seller.tax_id is None:
            continue
        known = specs.get(seller.tax_id)
        if known is None:
            specs[seller.tax_id] = EntitySpec(seller.tax_id, legal_name=seller.legal_name)
        elif not known.authorized:
            specs[seller.tax_id] = EntitySpec(
                known.tax_id, known.legal_name or seller.legal_name, known.ogrn, known.distributor_id
            )
    return specs


def sync_legal_entities(session: Session, config: Config, distributor_ids: Mapping[str, int]) -> dict[str, int]:
    """Write the config's entities (source `config`); an entity the config no longer has loses its authorisation.

    A distributor, name or ОГРН the config leaves out keeps the stored one (a contract's, or a person's review).
    Returns ИНН → entity id of the config's entities.
    """
    specs = config_entities(config, distributor_ids)
    written = _declare(session, specs.values(), LegalEntitySource.CONFIG, keep=frozenset())
    dropped = select(LegalEntity).where(
        LegalEntity.source == LegalEntitySource.CONFIG.value,
        LegalEntity.authorized.is_(True),
        LegalEntity.tax_id.not_in(list(specs)),
    )
    for row in session.scalars(dropped):
        row.authorized = False
    session.flush()
    return written


def config_tax_ids(config: Config) -> frozenset[str]:
    """The ИНН of every entity the config declares."""
    return frozenset(e.tax_id for e in config.legal_entities) | {s.tax_id for s in config.sellers if s.tax_id}


def declare_contracts(session: Session, specs: Sequence[EntitySpec], config: Config) -> dict[str, int]:
    """Write a contracts file's entities (source `contract`), replacing the previous file's: a contract entity the
    file no longer lists loses its authorisation. An entity the config has keeps what the config says (only its
    contract reference and empty details are taken). Returns ИНН → entity id."""
    written = _declare(session, specs, LegalEntitySource.CONTRACT, keep=config_tax_ids(config))
    listed = [s.tax_id for s in specs]
    dropped = select(LegalEntity).where(
        LegalEntity.source == LegalEntitySource.CONTRACT.value,
        LegalEntity.authorized.is_(True),
        LegalEntity.tax_id.not_in(listed),
    )
    for row in session.scalars(dropped):
        row.authorized = False
    session.flush()
    return written


def _declare(
    session: Session, specs: Iterable[EntitySpec], source: LegalEntitySource, *, keep: frozenset[str]
) -> dict[str, int]:
    """Insert-or-update the declared entities under `source`; those in `keep` take only their empty details and
    the contract reference."""
    wanted = {s.tax_id: s for s in specs}
    if not wanted:
        return {}
    session.execute(
        dialect_insert(session, LegalEntity)
        .values([{"tax_id": t, "source": source.value, "authorized": False} for t in sorted(wanted)])
        .on_conflict_do_nothing(index_elements=["tax_id"])
    )
    rows = {e.tax_id: e for e in session.scalars(select(LegalEntity).where(LegalEntity.tax_id.in_(list(wanted))))}
    for tax_id, spec in wanted.items():
        _apply_spec(rows[tax_id], spec, source, kept=tax_id in keep)
    now = utcnow()
    for row in rows.values():
        if session.is_modified(row):
            row.updated_at = now
    session.flush()
    return {tax_id: row.id for tax_id, row in rows.items()}


def _apply_spec(row: LegalEntity, spec: EntitySpec, source: LegalEntitySource, *, kept: bool) -> None:
    """Write one declared entity onto its row; a `kept` row takes only the contract reference and empty details."""
    if spec.contract_ref is not None:
        row.contract_ref = spec.contract_ref
    if kept:
        row.legal_name = row.legal_name or spec.legal_name
        row.ogrn = row.ogrn or spec.ogrn
        return
    row.source = source.value
    row.authorized = spec.authorized
    row.legal_name = spec.legal_name or row.legal_name
    row.ogrn = spec.ogrn or row.ogrn
    if spec.distributor_id is not None:
        row.distributor_id = spec.distributor_id


def set_distributor(session: Session, tax_id: str, distributor_id: int | None, now: dt.datetime) -> bool:
    """A person's review: the distributor the entity buys from. False when no entity has this ИНН."""
    row = session.scalar(select(LegalEntity).where(LegalEntity.tax_id == tax_id))
    if row is None:
        return False
    row.distributor_id = distributor_id
    row.updated_at = now
    return True


@dataclass(frozen=True, slots=True)
class EntityRow:
    """An entity as `pricewatch contracts list` shows it."""

    tax_id: str
    legal_name: str | None
    ogrn: str | None
    distributor: str | None  # the code of the distributor it buys from
    authorized: bool
    source: str
    contract_ref: str | None
    storefronts: list[str] = field(default_factory=list)  # "<marketplace>:<seller id>"


def entity_rows(session: Session) -> list[EntityRow]:
    """Every entity by ИНН, with the storefronts crawls tied to it."""
    storefronts: dict[int, list[str]] = defaultdict(list)
    linked = (
        select(Seller.legal_entity_id, Distributor.code, Seller.code)
        .join(Distributor, Distributor.id == Seller.distributor_id)
        .where(Seller.legal_entity_id.is_not(None))
        .order_by(Distributor.code, Seller.code)
    )
    for entity_id, marketplace, seller in session.execute(linked).tuples():
        if entity_id is not None:
            storefronts[entity_id].append(f"{marketplace}:{seller}")
    query = (
        select(LegalEntity, Distributor.code)
        .outerjoin(Distributor, Distributor.id == LegalEntity.distributor_id)
        .order_by(LegalEntity.tax_id)
    )
    return [
        EntityRow(
            e.tax_id, e.legal_name, e.ogrn, code, e.authorized, e.source, e.contract_ref, storefronts.get(e.id, [])
        )
        for e, code in session.execute(query).tuples()
    ]
