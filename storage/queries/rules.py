"""Reads and the lock for the rule engine: each distributor's latest runs, the latest offer per matched listing,
dumping violations with their history, and the alerts a rules run continues from."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CTE,
    Integer,
    Numeric,
    String,
    Subquery,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    null,
    or_,
    select,
    text,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect

from crawler.config import DumpingRule, PriceBasis
from crawler.items import (
    FLAG_BLOCKED,
    FLAG_NOT_FOUND,
    FLAG_PRICE_CONFLICT,
    FLAG_PRICE_FROM,
    FLAG_PRICE_ON_REQUEST,
    Health,
    StockState,
)
from crawler.stats import STAT_COMPLETE
from storage.codes import normalize_vendor_code
from storage.models import (
    MONEY,
    Alert,
    AlertStatus,
    CrawlRun,
    Distributor,
    LegalEntity,
    Listing,
    Observation,
    Price,
    PriceList,
    Product,
    ProductGtin,
    RulesRun,
    RunStatus,
    Seller,
    SellerKind,
    UTCDateTime,
)
from storage.queries.observations import counted_run, latest_observations

# The page states it has no firm price; with a blocked page, no price can be compared with the RRP.
PRICE_FLAGS = (FLAG_PRICE_FROM, FLAG_PRICE_CONFLICT, FLAG_PRICE_ON_REQUEST)
NOT_FIRM_FLAGS = (*PRICE_FLAGS, FLAG_BLOCKED)
AVAILABLE = (StockState.IN_STOCK, StockState.LOW_STOCK)
PCT = Numeric(7, 2)
RULES_LOCK = "pricewatch:rules-run"


@dataclass(frozen=True)
class DistributorRun:
    """A distributor's latest run that ended (finished or failed), with the offers of its last ok run before."""

    distributor_id: int
    code: str
    name: str
    kind: SellerKind
    region: str | None
    run_id: int
    status: RunStatus
    health: Health | None
    reason: str | None
    offers: int
    last_ok_offers: int | None
    started_at: dt.datetime
    complete: bool = False  # went through every entry point, unlimited (STAT_COMPLETE): what it did not list, it lacks

    @property
    def verdict(self) -> Health:
        if self.status == RunStatus.FAILED:
            return Health.FAILED
        return self.health or Health.OK


class OfferState(NamedTuple):
    """The latest counted observation of one matched listing, with what the rules compare it with.

    A listing gone since that observation (`listings.gone_at`) reads as gone instead: delisted, out of stock, no
    price; `current` when its distributor's latest run confirmed it gone. A named tuple: 50,000 of these are built
    per rules run, straight from the rows.
    """

    listing_id: int
    product_id: int
    distributor_id: int
    current: bool  # read in its distributor's latest run (not left over from an earlier one)
    observed_at: dt.datetime
    firm_price: Decimal | None  # the price when it is comparable with the RRP
    price_flagged: bool  # "from", "on request" or two prices: the page states it has no firm price
    blocked: bool  # an anti-bot page: nothing is known
    delisted: bool  # 404/410, or gone
    gone: str | None  # gone (the listing's `gone_reason`): it reads as delisted, out of stock, without a price
    currency: str | None
    stock: StockState
    quantity: int | None
    markers: list[str] | None  # foreign-version phrases the spider picked up
    url: str
    title: str | None
    listing_gtin: str | None
    seller_code: str
    seller_name: str
    seller_authorized: bool  # as the database recorded it
    vendor_code: str
    product_name: str
    category: str | None
    rrp: Decimal | None  # in the price list in force on the observation's date
    dealer_price: Decimal | None  # likewise
    tolerance_pct: Decimal | None  # the dumping tolerance in force (None: a promo exempts the offer)
    promo: str | None  # the promo in force, if any
    threshold_price: Decimal | None  # RRP × (1 − tolerance), to the cent
    # The listing's last known reading before its distributor's latest run, from the ok runs the rules evaluated
    # (a blocked or unread page, a run judged degraded, is no reading): its firm price, its stock (not unknown).
    previous_price: Decimal | None
    last_known_stock: StockState | None
    last_in_stock_at: dt.datetime | None  # latest ok-run observation in stock (filled only when out of stock now)
    # A marketplace's other prices beside the shown one (`firm_price`), when the reading is firm: the seller's own
    # price before the platform's discount (None at a shop: its one price is the shown one) and a card price.
    seller_price: Decimal | None
    card_price: Decimal | None
    region: str | None  # the listing's region code (a regional marketplace listing)
    # The seller's legal entity (the seller's own ИНН when no entity is linked): what the database recorded.
    legal_tax_id: str | None
    legal_ogrn: str | None
    legal_name: str | None
    legal_authorized: bool | None  # the entity's recorded authorisation (a contract); None: no entity linked
    legal_distributor: str | None  # the code of the distributor it buys from


@dataclass(frozen=True)
class Spell:
    """How long and how often a listing has been dumping."""

    since: dt.datetime  # the first of its trailing observations that all violate
    repeat_offences: int  # its earlier violations, resolved


def _has_flag(flags: Any, flag: str) -> ColumnElement[bool]:
    # Flags are a JSON list of plain identifiers; its text form is the same on SQLite and PostgreSQL.
    return cast(flags, String).like(f'%"{flag}"%')


def _firm(obs: Any, value: Any) -> ColumnElement[Decimal | None]:
    """`value` (one of the observation's prices) when the reading is firm, else NULL: a page stating it has no firm
    price, a blocked one or a suspect price (far from the RRP: likely misread) gives none of its prices."""
    firm = and_(value.is_not(None), obs.price_suspect == false(), *(~_has_flag(obs.flags, f) for f in NOT_FIRM_FLAGS))
    return case((firm, value), else_=null())


def firm_price(obs: Any) -> ColumnElement[Decimal | None]:
    """The observation's (shown) price when it is a firm one, else NULL."""
    return _firm(obs, obs.price)


def _basis_price(obs: Any, basis: PriceBasis) -> ColumnElement[Decimal | None]:
    """The firm price dumping judges on `basis`: the seller's own or the card price, each falling back to the
    shown one where the page has none (a shop has only the one price)."""
    if basis == "seller":
        return func.coalesce(_firm(obs, obs.seller_price), firm_price(obs))
    if basis == "card":
        return func.coalesce(_firm(obs, obs.card_price), firm_price(obs))
    return firm_price(obs)


def _basis_price_at(
    obs: Any, default: PriceBasis, by_distributor: Mapping[str, PriceBasis]
) -> ColumnElement[Decimal | None]:
    """`_basis_price` with each distributor's own basis, for a statement that joins the observation's Distributor."""
    overrides = [
        (Distributor.code.in_(sorted(c for c, b in by_distributor.items() if b == basis)), _basis_price(obs, basis))
        for basis in ("seller", "shown", "card")
        if basis != default and basis in by_distributor.values()
    ]
    fallback = _basis_price(obs, default)
    return case(*overrides, else_=fallback) if overrides else fallback


def _latest_run(*conditions: ColumnElement[bool]) -> Subquery:
    ranked = (
        select(
            CrawlRun.id,
            CrawlRun.distributor_id,
            func.row_number()
            .over(partition_by=CrawlRun.distributor_id, order_by=(CrawlRun.started_at.desc(), CrawlRun.id.desc()))
            .label("rn"),
        )
        .where(*conditions)
        .subquery()
    )
    return select(ranked.c.id, ranked.c.distributor_id).where(ranked.c.rn == 1).subquery()


def _unevaluated_runs(session: Session) -> list[int]:
    """Ended runs newer than the one the last rules run evaluated for their distributor.

    Crawls nobody evaluated (a daily run killed before its rules, a manual crawl) must not become the run the
    rules compare with: a change between the last evaluated run and now would never be seen.
    """
    evaluated = last_evaluated_runs(session)
    if not evaluated:
        return []
    rows = session.execute(
        select(CrawlRun.id, CrawlRun.distributor_id, CrawlRun.started_at).where(CrawlRun.status != RunStatus.RUNNING)
    ).all()
    order = {run_id: (started_at, run_id) for run_id, _, started_at in rows}
    return [
        run_id
        for run_id, distributor_id, started_at in rows
        if (seen := evaluated.get(distributor_id)) in order and (started_at, run_id) > order[seen]
    ]


def _run_pointers(unevaluated: Sequence[int]) -> Subquery:
    """Per distributor: its latest ended run, and the last ok run before it among those the rules have evaluated
    (`unevaluated`: see `_unevaluated_runs`)."""
    current = _latest_run(CrawlRun.status != RunStatus.RUNNING)
    earlier = [CrawlRun.id.not_in(select(current.c.id))]
    if unevaluated:
        earlier.append(CrawlRun.id.not_in(unevaluated))
    last_ok = _latest_run(CrawlRun.status == RunStatus.FINISHED, CrawlRun.health == Health.OK, *earlier)
    return (
        select(current.c.distributor_id, current.c.id.label("run_id"), last_ok.c.id.label("last_ok_run_id"))
        .select_from(current)
        .outerjoin(last_ok, last_ok.c.distributor_id == current.c.distributor_id)
        .subquery("run_pointers")
    )


def latest_runs(session: Session) -> list[DistributorRun]:
    """Every distributor that has an ended run, with that run's verdict."""
    rp = _run_pointers(_unevaluated_runs(session))
    last_ok = aliased(CrawlRun)
    stmt = (
        select(
            Distributor.id,
            Distributor.code,
            Distributor.name,
            Distributor.kind,
            Distributor.region,
            CrawlRun.id,
            CrawlRun.status,
            CrawlRun.health,
            CrawlRun.health_reason,
            CrawlRun.offers,
            last_ok.offers,
            CrawlRun.started_at,
            CrawlRun.stats,
        )
        .select_from(rp)
        .join(Distributor, Distributor.id == rp.c.distributor_id)
        .join(CrawlRun, CrawlRun.id == rp.c.run_id)
        .outerjoin(last_ok, last_ok.id == rp.c.last_ok_run_id)
        .order_by(Distributor.code)
    )
    return [_distributor_run(row) for row in session.execute(stmt)]


def _distributor_run(row: Any) -> DistributorRun:
    """The row of `latest_runs`; whether the run was complete is the spider's mark in its stats (the last column)."""
    *fields, stats = row
    return replace(DistributorRun(*fields), complete=bool((stats or {}).get(STAT_COMPLETE)))


def _local_midnight_utc(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tz).astimezone(dt.UTC)


def price_periods(session: Session, tz: ZoneInfo) -> CTE:
    """Each product's prices with the UTC span each price-list version is in force for it: from local midnight
    of its valid-from date until the next version that lists the product (open-ended for the newest)."""
    starts_rows = [
        select(literal(pl_id, Integer).label("id"), literal(_local_midnight_utc(day, tz), UTCDateTime()).label("at"))
        for pl_id, day in session.execute(select(PriceList.id, PriceList.valid_from))
    ]
    if not starts_rows:
        starts_rows = [select(literal(0, Integer).label("id"), literal(None, UTCDateTime()).label("at")).where(false())]
    starts = (union_all(*starts_rows) if len(starts_rows) > 1 else starts_rows[0]).subquery("price_list_starts")
    return (
        select(
            Price.product_id,
            Price.rrp,
            Price.dealer_price,
            starts.c.at.label("valid_from"),
            func.lead(starts.c.at)
            .over(partition_by=Price.product_id, order_by=(starts.c.at, starts.c.id))
            .label("valid_until"),
        )
        .join(starts, starts.c.id == Price.price_list_id)
        .cte("price_periods")
    )


def _in_force(periods: Any, product_id: Any, at: Any) -> ColumnElement[bool]:
    """Join condition: the product's price-list version in force at `at`."""
    return and_(
        periods.c.product_id == product_id,
        periods.c.valid_from <= at,
        or_(periods.c.valid_until.is_(None), at < periods.c.valid_until),
    )


def _last_known(
    rp: Subquery,
    unevaluated: Sequence[int],
    listing_id: Any,
    value: Callable[[Any], ColumnElement[Any]],
    known: Callable[[Any], ColumnElement[bool]],
) -> ScalarSelect[Any]:
    """The listing's latest `value` that is `known`, before its distributor's latest run: from the finished ok runs
    the rules evaluated, newest first (a blocked page, a listing not read, a degraded run is skipped)."""
    hist, run = aliased(Observation), aliased(CrawlRun)
    conditions = [
        hist.listing_id == listing_id,
        run.status == RunStatus.FINISHED,
        run.health == Health.OK,
        run.id != func.coalesce(rp.c.run_id, 0),
        known(hist),
    ]
    if unevaluated:
        conditions.append(run.id.not_in(unevaluated))
    return (
        select(value(hist))
        .join(run, run.id == hist.crawl_run_id)
        .where(*conditions)
        .order_by(hist.observed_at.desc(), hist.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _gone_now(obs: Any) -> ColumnElement[bool]:
    """The listing was found gone after this observation (a later reading, from a degraded run, wins)."""
    return and_(Listing.gone_at.is_not(None), obs.observed_at <= Listing.gone_at)


def _reading(obs: Any, rp: Subquery) -> list[ColumnElement[Any]]:
    """The current-reading columns of OfferState, `current` to `quantity`: the observation's, or a gone one."""
    gone = _gone_now(obs)
    current = or_(obs.crawl_run_id == rp.c.run_id, and_(gone, Listing.gone_run_id == rp.c.run_id))
    return [
        func.coalesce(current, false()).label("current"),
        case((gone, Listing.gone_at), else_=obs.observed_at).label("observed_at"),
        case((gone, null()), else_=firm_price(obs)).label("firm_price"),
        and_(~gone, or_(*(_has_flag(obs.flags, f) for f in PRICE_FLAGS))).label("price_flagged"),
        and_(~gone, _has_flag(obs.flags, FLAG_BLOCKED)).label("blocked"),
        or_(gone, _has_flag(obs.flags, FLAG_NOT_FOUND)).label("delisted"),
        case((gone, Listing.gone_reason), else_=null()).label("gone"),
        obs.currency.label("currency"),
        case((gone, literal(StockState.OUT_OF_STOCK, obs.stock.type)), else_=obs.stock).label("stock"),
        case((gone, null()), else_=obs.quantity).label("quantity"),
    ]


def latest_offers(session: Session, tz: ZoneInfo, dumping: DumpingRule) -> list[OfferState]:
    """The latest counted observation of every matched listing (or its gone state), joined to what the rules
    compare it with: the price list and the dumping tolerance in force on its date, its last known reading, the
    seller's legal entity. One statement (a rules run reads 50,000 of these)."""
    periods = price_periods(session, tz)
    latest = latest_observations(matched_only=True)
    unevaluated = _unevaluated_runs(session)
    rp = _run_pointers(unevaluated)
    obs, hist = aliased(Observation), aliased(Observation)
    previous_price = _last_known(rp, unevaluated, obs.listing_id, firm_price, lambda h: firm_price(h).is_not(None))
    last_known_stock = _last_known(
        rp, unevaluated, obs.listing_id, lambda h: h.stock, lambda h: h.stock != StockState.UNKNOWN
    )
    last_in_stock = (
        select(func.max(hist.observed_at))
        .join(CrawlRun, CrawlRun.id == hist.crawl_run_id)
        .where(
            hist.listing_id == obs.listing_id,
            hist.stock.in_(AVAILABLE),
            CrawlRun.status == RunStatus.FINISHED,
            CrawlRun.health == Health.OK,
        )
        .scalar_subquery()
    )
    tolerance, promo = _tolerance(dumping, tz, obs.observed_at)
    supplier = aliased(Distributor)
    gone = _gone_now(obs)
    stmt = (
        select(
            Listing.id.label("listing_id"),
            Listing.product_id.label("product_id"),
            Seller.distributor_id.label("distributor_id"),
            *_reading(obs, rp),
            # Decoded only where present: most offers carry no markers.
            case(
                (and_(~_gone_now(obs), cast(obs.details, String).like('%"markers"%')), obs.details["markers"]),
                else_=null(),
            ).label("markers"),
            Listing.url.label("url"),
            Listing.title.label("title"),
            Listing.raw_gtin.label("listing_gtin"),
            Seller.code.label("seller_code"),
            Seller.name.label("seller_name"),
            Seller.authorized.label("seller_authorized"),
            Product.vendor_code.label("vendor_code"),
            Product.name.label("product_name"),
            Product.category.label("category"),
            periods.c.rrp.label("rrp"),
            periods.c.dealer_price.label("dealer_price"),
            tolerance.label("tolerance_pct"),
            promo.label("promo"),
            _threshold(periods.c.rrp, tolerance).label("threshold_price"),
            previous_price.label("previous_price"),
            last_known_stock.label("last_known_stock"),
            case((or_(_gone_now(obs), obs.stock == StockState.OUT_OF_STOCK), last_in_stock), else_=null()).label(
                "last_in_stock_at"
            ),
            case((gone, null()), else_=_firm(obs, obs.seller_price)).label("seller_price"),
            case((gone, null()), else_=_firm(obs, obs.card_price)).label("card_price"),
            Listing.region.label("region"),
            func.coalesce(LegalEntity.tax_id, Seller.tax_id).label("legal_tax_id"),
            LegalEntity.ogrn.label("legal_ogrn"),
            func.coalesce(LegalEntity.legal_name, Seller.legal_name).label("legal_name"),
            LegalEntity.authorized.label("legal_authorized"),
            supplier.code.label("legal_distributor"),
        )
        .select_from(latest)
        .join(obs, obs.id == latest.c.id)
        .join(Listing, Listing.id == latest.c.listing_id)
        .join(Seller, Seller.id == Listing.seller_id)
        .join(Distributor, Distributor.id == Seller.distributor_id)
        .join(Product, Product.id == Listing.product_id)
        .outerjoin(LegalEntity, LegalEntity.id == Seller.legal_entity_id)
        .outerjoin(supplier, supplier.id == LegalEntity.distributor_id)
        .outerjoin(rp, rp.c.distributor_id == Seller.distributor_id)
        .outerjoin(periods, _in_force(periods, Listing.product_id, obs.observed_at))
    )
    if list(stmt.selected_columns.keys()) != list(OfferState._fields):
        raise AssertionError("latest_offers: the selected columns must be OfferState's fields, in order")
    # Core execution: the ORM's row loading is not needed for plain columns.
    return [OfferState._make(row) for row in session.connection().execute(stmt).all()]


def product_gtins(session: Session) -> dict[int, frozenset[str]]:
    """Each catalog product's GTIN-14s."""
    found: dict[int, set[str]] = {}
    for product_id, gtin in session.execute(select(ProductGtin.product_id, ProductGtin.gtin)):
        found.setdefault(product_id, set()).add(gtin)
    return {k: frozenset(v) for k, v in found.items()}


def _tolerance(rule: DumpingRule, tz: ZoneInfo, at: Any) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The tolerance in force at `at` (NULL: exempt by a promo) and the promo's name, as SQL, for a statement
    that joins the observation's Distributor and Product.

    A promo window in force wins; then the most specific override: distributor, vendor code, category.
    """
    distributor, vendor_code, category = Distributor.code, Product.vendor_code_norm, Product.category
    tolerance: list[tuple[ColumnElement[bool], Any]] = []
    promo_names: list[tuple[ColumnElement[bool], Any]] = []
    for promo in rule.promos:
        window = [at >= _local_midnight_utc(promo.start, tz), at < _local_midnight_utc(promo.end, tz) + _DAY]
        if promo.vendor_codes:
            window.append(vendor_code.in_([normalize_vendor_code(v) for v in promo.vendor_codes]))
        if promo.categories:
            window.append(category.in_(promo.categories))
        if promo.distributors:
            window.append(distributor.in_(promo.distributors))
        applies = and_(*window)
        pct = null() if promo.tolerance_pct is None else literal(promo.tolerance_pct, PCT)
        tolerance.append((applies, pct))
        promo_names.append((applies, literal(promo.name, String)))
    tolerance += [(distributor == code, literal(pct, PCT)) for code, pct in rule.by_distributor.items()]
    tolerance += [
        (vendor_code == normalize_vendor_code(code), literal(pct, PCT)) for code, pct in rule.by_vendor_code.items()
    ]
    tolerance += [(category == name, literal(pct, PCT)) for name, pct in rule.by_category.items()]
    default = literal(rule.tolerance_pct, PCT)
    tol_expr = case(*tolerance, else_=default) if tolerance else default
    promo_expr = case(*promo_names, else_=null()) if promo_names else null()
    return type_coerce(tol_expr, PCT), type_coerce(promo_expr, String)


_DAY = dt.timedelta(days=1)


def _threshold(rrp: Any, tolerance: Any) -> ColumnElement[Any]:
    # Rounded to money so that the comparison with a stored price is exact on SQLite's floats too.
    return type_coerce(func.round(rrp * (100 - tolerance) / 100, 2), MONEY)


SPELL_CHUNK = 5_000  # listings per statement: well under both databases' limits on bound parameters


def dumping_spells(
    session: Session,
    rule: DumpingRule,
    tz: ZoneInfo,
    listing_ids: Sequence[int],
    alert_rule: str,
    *,
    price_basis: Mapping[str, PriceBasis] | None = None,
) -> dict[int, Spell]:
    """For listings dumping now: since when (back through their counted history, against the RRP and tolerance
    in force on each observation's date) and how many earlier `alert_rule` alerts on them were resolved.

    The price judged is the basis price (`rule.price_basis`; `price_basis`: distributor code → its own basis).
    Observations without a firm basis price neither extend nor break a spell.
    """
    periods = price_periods(session, tz)
    spells: dict[int, Spell] = {}
    for start in range(0, len(listing_ids), SPELL_CHUNK):
        chunk = list(listing_ids[start : start + SPELL_CHUNK])
        hist = aliased(Observation)
        price = _basis_price_at(hist, rule.price_basis, price_basis or {})
        tolerance, _ = _tolerance(rule, tz, hist.observed_at)
        history = (
            select(
                hist.listing_id,
                hist.observed_at,
                case((price < _threshold(periods.c.rrp, tolerance), 1), else_=0).label("violating"),
            )
            .join(Listing, Listing.id == hist.listing_id)
            .join(Seller, Seller.id == Listing.seller_id)
            .join(Distributor, Distributor.id == Seller.distributor_id)
            .join(Product, Product.id == Listing.product_id)
            .join(CrawlRun, CrawlRun.id == hist.crawl_run_id)
            .outerjoin(periods, _in_force(periods, Listing.product_id, hist.observed_at))
            .where(hist.listing_id.in_(chunk), counted_run(CrawlRun), price.is_not(None))
            .cte("history")
        )
        last_clear = (
            select(history.c.listing_id, func.max(history.c.observed_at).label("at"))
            .where(history.c.violating == 0)
            .group_by(history.c.listing_id)
            .subquery("last_clear")
        )
        since = (
            select(history.c.listing_id, func.min(history.c.observed_at).label("since"))
            .outerjoin(last_clear, last_clear.c.listing_id == history.c.listing_id)
            .where(or_(last_clear.c.at.is_(None), history.c.observed_at > last_clear.c.at))
            .group_by(history.c.listing_id)
            .subquery("since")
        )
        repeats = (
            select(Alert.listing_id, func.count().label("n"))
            .where(Alert.rule == alert_rule, Alert.status == AlertStatus.RESOLVED, Alert.listing_id.in_(chunk))
            .group_by(Alert.listing_id)
            .subquery("repeats")
        )
        stmt = select(since.c.listing_id, since.c.since, func.coalesce(repeats.c.n, 0)).outerjoin(
            repeats, repeats.c.listing_id == since.c.listing_id
        )
        spells.update({listing_id: Spell(at, n) for listing_id, at, n in session.execute(stmt).tuples()})
    return spells


def begin_rules_run(session: Session) -> None:
    """Serialize rules runs; must be the first statement of the session's transaction.

    PostgreSQL: a transaction-level advisory lock; no JIT (it costs more than it saves on these queries) and
    times sent in UTC (the driver reads those fastest). SQLite: BEGIN IMMEDIATE takes the write lock up front, so
    a second run waits (busy timeout) until the first commits, and then sees its alerts.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(RULES_LOCK.encode()).digest()[:8], "big", signed=True)
        session.execute(select(func.pg_advisory_xact_lock(key)))
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL TIME ZONE 'UTC'"))
    else:
        session.execute(text("BEGIN IMMEDIATE"))


def open_alerts(session: Session) -> list[Alert]:
    return list(session.scalars(select(Alert).where(Alert.status == AlertStatus.OPEN)))


def last_evaluated_runs(session: Session) -> dict[int, int]:
    """{distributor id: crawl run id} the latest finished rules run evaluated; empty before the first."""
    evaluated = session.scalar(
        select(RulesRun.evaluated_runs).where(RulesRun.finished_at.is_not(None)).order_by(RulesRun.id.desc()).limit(1)
    )
    return {int(k): int(v) for k, v in (evaluated or {}).items()}
