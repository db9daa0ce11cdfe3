"""The data model: catalog, sellers, listings, the observation history, crawl runs, alerts and outbox."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from crawler import clock
from crawler.items import Health, StockState

MONEY = Numeric(14, 2)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on both SQLite (which drops the zone) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return clock.utcnow()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class SellerKind(enum.StrEnum):
    DISTRIBUTOR = "distributor"
    RESELLER = "reseller"
    MARKETPLACE = "marketplace"


class MatchMethod(enum.StrEnum):
    GTIN = "gtin"
    VENDOR_CODE = "vendor_code"
    TITLE_CODE = "title_code"
    NAME = "name"
    MANUAL = "manual"
    ALIAS = "alias"  # a person's decision on another page with the same title
    NONE = "none"


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


class AlertStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class EventKind(enum.StrEnum):
    OPENED = "opened"
    ONGOING = "ongoing"
    RESOLVED = "resolved"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings (no native PG enum) so new members need no type migration.
    return Enum(cls, name=name, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_code: Mapped[str] = mapped_column(String(128), unique=True)
    vendor_code_norm: Mapped[str] = mapped_column(String(128), index=True)
    name: Mapped[str] = mapped_column(String(512))
    category: Mapped[str | None] = mapped_column(String(256))
    brand: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    gtins: Mapped[list[ProductGtin]] = relationship(back_populates="product", cascade="all, delete-orphan")


class ProductGtin(Base):
    """One EAN/GTIN of a product, kept as GTIN-14 digits so EAN-13, UPC-A and GTIN-14 compare equal."""

    __tablename__ = "product_gtins"

    gtin: Mapped[str] = mapped_column(String(14), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)

    product: Mapped[Product] = relationship(back_populates="gtins")


class PriceList(Base):
    __tablename__ = "price_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    valid_from: Mapped[dt.date] = mapped_column(Date, index=True)
    source_file: Mapped[str] = mapped_column(String(1024))
    source_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    row_count: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Price(Base):
    """RRP (and optional MAP and dealer price) of one product in one price-list version."""

    __tablename__ = "prices"

    price_list_id: Mapped[int] = mapped_column(ForeignKey("price_lists.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    rrp: Mapped[Decimal] = mapped_column(MONEY)
    map_price: Mapped[Decimal | None] = mapped_column(MONEY)
    dealer_price: Mapped[Decimal | None] = mapped_column(MONEY)

    __table_args__ = (Index("ix_prices_product", "product_id", "price_list_id"),)


class Distributor(Base):
    __tablename__ = "distributors"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(256))
    kind: Mapped[SellerKind] = mapped_column(_enum(SellerKind, "seller_kind"))
    region: Mapped[str | None] = mapped_column(String(128))
    authorized: Mapped[bool] = mapped_column(Boolean, default=True)


class LegalEntitySource(enum.StrEnum):
    CONFIG = "config"  # `legal_entities:` or an authorised seller's `tax_id` in the config
    CONTRACT = "contract"  # a CSV of contracts (`pricewatch contracts import`)
    MARKETPLACE = "marketplace"  # only as a marketplace publishes a seller's details


class LegalEntity(Base):
    """A company or sole trader (ИНН) behind one or more storefronts; authorisation is a contract with it."""

    __tablename__ = "legal_entities"

    id: Mapped[int] = mapped_column(primary_key=True)
    tax_id: Mapped[str] = mapped_column(String(12), unique=True)
    ogrn: Mapped[str | None] = mapped_column(String(15))  # ОГРН (13 digits) or ОГРНИП (15)
    legal_name: Mapped[str | None] = mapped_column(String(512))
    address: Mapped[str | None] = mapped_column(String(1024))
    # The distributor it buys the brand's goods from (config, a contract, or a person's review); NULL: unknown.
    distributor_id: Mapped[int | None] = mapped_column(ForeignKey("distributors.id", ondelete="SET NULL"))
    authorized: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(16))  # LegalEntitySource
    contract_ref: Mapped[str | None] = mapped_column(String(256))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Seller(Base):
    """Who sells on a distributor's site: the distributor itself, or one of a marketplace's sellers."""

    __tablename__ = "sellers"

    id: Mapped[int] = mapped_column(primary_key=True)
    distributor_id: Mapped[int] = mapped_column(ForeignKey("distributors.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(256))
    name: Mapped[str] = mapped_column(String(512))
    legal_name: Mapped[str | None] = mapped_column(String(512))
    tax_id: Mapped[str | None] = mapped_column(String(32))
    authorized: Mapped[bool] = mapped_column(Boolean, default=False)
    legal_entity_id: Mapped[int | None] = mapped_column(ForeignKey("legal_entities.id", ondelete="SET NULL"))

    __table_args__ = (UniqueConstraint("distributor_id", "code"),)


class Listing(Base):
    """One place an offer lives: a seller and a URL, matched (or not) to a catalog product."""

    __tablename__ = "listings"

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    seller_sku: Mapped[str | None] = mapped_column(String(256))
    title: Mapped[str | None] = mapped_column(String(1024))
    raw_vendor_code: Mapped[str | None] = mapped_column(String(256))
    raw_gtin: Mapped[str | None] = mapped_column(String(64))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"), index=True)
    match_method: Mapped[MatchMethod] = mapped_column(_enum(MatchMethod, "match_method"), default=MatchMethod.NONE)
    match_confidence: Mapped[float] = mapped_column(Float, default=0.0)
    # Why it matched or was refused (pipelines.match_reason): rule, score, margin, deciding or conflicting tokens.
    match_reason: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Gone (revision 0008): since when a complete, ok crawl no longer finds the offer, the last run that confirmed
    # it, and how (GONE_* in storage/queries/listings.py); cleared when an ok crawl reads the listing again.
    gone_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    gone_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id", ondelete="SET NULL"))
    gone_reason: Mapped[str | None] = mapped_column(String(16))
    region: Mapped[str | None] = mapped_column(String(64))  # a regional marketplace listing's region code

    __table_args__ = (UniqueConstraint("seller_id", "url"),)


class CrawlRun(Base):
    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_key: Mapped[str] = mapped_column(String(64), unique=True)
    distributor_id: Mapped[int] = mapped_column(ForeignKey("distributors.id", ondelete="CASCADE"))
    daily_run_id: Mapped[int | None] = mapped_column(ForeignKey("daily_runs.id", ondelete="SET NULL"))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus, "run_status"), default=RunStatus.RUNNING)
    health: Mapped[Health | None] = mapped_column(_enum(Health, "health"))
    health_reason: Mapped[str | None] = mapped_column(Text)
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(256))
    pages: Mapped[int] = mapped_column(Integer, default=0)
    offers: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_crawl_runs_distributor_started", "distributor_id", "started_at"),)


class Evidence(Base):
    """A saved copy of what a page said: compressed HTML or a screenshot, with its hash."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # html | screenshot
    url: Mapped[str] = mapped_column(String(2048))
    captured_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(1024))
    size: Mapped[int] = mapped_column(Integer)


class Observation(Base):
    """Append-only: what one listing said in one crawl run."""

    __tablename__ = "observations"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    crawl_run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"))
    observed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    price: Mapped[Decimal | None] = mapped_column(MONEY)
    currency: Mapped[str | None] = mapped_column(String(3))
    old_price: Mapped[Decimal | None] = mapped_column(MONEY)
    # `price` is the shown price; a marketplace also shows the seller's own price and a card price (revision 0012).
    seller_price: Mapped[Decimal | None] = mapped_column(MONEY)
    card_price: Mapped[Decimal | None] = mapped_column(MONEY)
    stock: Mapped[StockState] = mapped_column(_enum(StockState, "stock_state"))
    quantity: Mapped[int | None] = mapped_column(Integer)
    http_status: Mapped[int | None] = mapped_column(Integer)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # `price_suspect` in `flags`, as a column the queries read (revision 0007): far from the RRP, not a price.
    price_suspect: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id", ondelete="SET NULL"))

    __table_args__ = (
        UniqueConstraint("listing_id", "crawl_run_id"),
        Index("ix_observations_run", "crawl_run_id"),
        Index("ix_observations_listing_observed", "listing_id", "observed_at"),  # latest per listing (rules)
    )


class MatchOverride(Base):
    """A person's matching decision; wins over every automatic method. product_id NULL means 'not ours'."""

    __tablename__ = "match_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    distributor_code: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2048))
    # The page's title as matching compares titles: the decision holds for other sellers' pages with it too.
    title_key: Mapped[str | None] = mapped_column(String(1024), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    decided_by: Mapped[str | None] = mapped_column(String(256))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("distributor_code", "url"),)


class SalesPlan(Base):
    __tablename__ = "sales_plans"

    distributor_id: Mapped[int] = mapped_column(ForeignKey("distributors.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # first day of the month
    quantity: Mapped[int] = mapped_column(Integer)


class RulesRun(Base):
    __tablename__ = "rules_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    opened: Mapped[int] = mapped_column(Integer, default=0)
    ongoing: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    # {distributor id: crawl run id} evaluated, so the next run knows what is new since.
    evaluated_runs: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(128), index=True)
    severity: Mapped[str] = mapped_column(String(16))  # info | warning | critical
    status: Mapped[AlertStatus] = mapped_column(_enum(AlertStatus, "alert_status"), default=AlertStatus.OPEN)
    subject: Mapped[str] = mapped_column(String(512))  # human-readable subject line
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listings.id", ondelete="SET NULL"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    distributor_id: Mapped[int | None] = mapped_column(ForeignKey("distributors.id", ondelete="SET NULL"))
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    seen_count: Mapped[int] = mapped_column(Integer, default=1)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    evidence_html_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id", ondelete="SET NULL"))
    evidence_screenshot_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id", ondelete="SET NULL"))
    feedback: Mapped[str | None] = mapped_column(String(32))  # confirmed | false_alarm
    feedback_by: Mapped[str | None] = mapped_column(String(256))
    feedback_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)  # a manager's note in the panel
    note_by: Mapped[str | None] = mapped_column(String(256))
    note_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        # One open alert per fingerprint, enforced by the database on both dialects.
        Index(
            "uq_alerts_open_fingerprint",
            "fingerprint",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_alerts_status_rule", "status", "rule"),
    )


class AlertEvent(Base):
    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    rules_run_id: Mapped[int | None] = mapped_column(ForeignKey("rules_runs.id", ondelete="SET NULL"))
    kind: Mapped[EventKind] = mapped_column(_enum(EventKind, "event_kind"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Outbox(Base):
    """One message to deliver: (alert event or digest, channel, recipient). Unique, so never queued twice."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(256), unique=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("alert_events.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))  # telegram | email
    recipient: Mapped[str] = mapped_column(String(256))
    mode: Mapped[str] = mapped_column(String(16))  # instant | digest
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary)
    provider_message_id: Mapped[str | None] = mapped_column(String(128))  # Telegram message id / email Message-ID
    claimed_by: Mapped[str | None] = mapped_column(String(64))  # the flush holding the lease (status sending)

    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)


class Mute(Base):
    """A channel manager's mute from the bot: by rule and/or distributor, for one chat."""

    __tablename__ = "mutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str | None] = mapped_column(String(64))
    distributor_code: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseStatus(enum.StrEnum):
    """A violation case's place on the ladder; the first four are open."""

    DETECTED = "detected"  # no notice yet: waiting for approval, a contact or quiet hours to end
    NOTIFIED = "notified"  # a notice (first or second) went to the seller's contacts
    ACKNOWLEDGED = "acknowledged"  # the seller answered; the deadlines still run
    ESCALATED = "escalated"  # past the last deadline: the channel manager and head of sales were told
    FIXED = "fixed"  # a healthy crawl saw every listing back at or above the threshold
    CLOSED = "closed"  # closed by a person, with a note


OPEN_CASE_STATUSES = (CaseStatus.DETECTED, CaseStatus.NOTIFIED, CaseStatus.ACKNOWLEDGED, CaseStatus.ESCALATED)


class NoticeKind(enum.StrEnum):
    FIRST = "first"  # to the seller's contacts
    SECOND = "second"  # to the seller's contacts
    ESCALATION = "escalation"  # to the channel manager and the second address (internal)
    APPROVAL = "approval"  # asking the channel manager to approve the first notice (internal)


class Case(Base):
    """One seller's violation episode, rolled up to its distributor: from detection to the fix (or a close).

    A relapse within the configured window is a new case that repeats the one before (`repeat_of_id`).
    """

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id", ondelete="CASCADE"))
    distributor_id: Mapped[int] = mapped_column(ForeignKey("distributors.id", ondelete="CASCADE"))
    status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus, "case_status"), default=CaseStatus.DETECTED)
    repeat_of_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    repeat_number: Mapped[int] = mapped_column(Integer, default=0)  # 0: a first offence; n: the n-th relapse
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    opened_on: Mapped[dt.date] = mapped_column(Date)  # local date
    step: Mapped[int] = mapped_column(Integer, default=0)  # 0 none, 1 first notice, 2 second notice, 3 escalated
    deadline: Mapped[dt.date | None] = mapped_column(Date)  # local date the current notice asks a fix by
    approval_requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(256))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(256))
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    fixed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    fixed_on: Mapped[dt.date | None] = mapped_column(Date)  # local date of the crawl that saw it fixed
    hours_to_fix: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(256))
    close_note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # One open case per seller, enforced by the database on both dialects.
        Index(
            "uq_cases_open_seller",
            "seller_id",
            unique=True,
            sqlite_where=text("status IN ('detected', 'notified', 'acknowledged', 'escalated')"),
            postgresql_where=text("status IN ('detected', 'notified', 'acknowledged', 'escalated')"),
        ),
        Index("ix_cases_distributor_opened", "distributor_id", "opened_on"),
    )


class CaseListing(Base):
    """A violation alert of a case: one listing of the seller, from detection to its alert's resolution."""

    __tablename__ = "case_listings"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), unique=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(64))
    detected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    detected_on: Mapped[dt.date] = mapped_column(Date)  # local date
    fixed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Notice(Base):
    """One enforcement message to one recipient, as rendered: to whom, when, which text, which evidence.

    Delivered through the outbox (`outbox_id`), so it is never sent twice and never lost, as alerts are.
    """

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[NoticeKind] = mapped_column(_enum(NoticeKind, "notice_kind"))
    channel: Mapped[str] = mapped_column(String(16))  # telegram | email
    recipient: Mapped[str] = mapped_column(String(256))
    person: Mapped[str | None] = mapped_column(String(256))
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str | None] = mapped_column(String(1024))
    text: Mapped[str] = mapped_column(Text)  # the email's text part, or the Telegram message (HTML)
    html: Mapped[str | None] = mapped_column(Text)  # the email's HTML part
    # Each listing's evidence as the notice cited it (kind, page, capture time, SHA-256, file); an email carries it
    # as a packet.
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())  # after quiet hours
    issued_on: Mapped[dt.date] = mapped_column(Date)  # local date of `due_at`
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # the case ended before it went

    __table_args__ = (UniqueConstraint("case_id", "kind", "channel", "recipient"),)


class Contact(Base):
    """A distributor's contact for notices (from the config or a CSV import); `seller_code`: a marketplace
    seller the contact speaks for (NULL: the distributor itself)."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    distributor_id: Mapped[int] = mapped_column(ForeignKey("distributors.id", ondelete="CASCADE"), index=True)
    seller_code: Mapped[str | None] = mapped_column(String(256))
    person: Mapped[str | None] = mapped_column(String(256))
    email: Mapped[str | None] = mapped_column(String(256))
    telegram: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(16))  # config | csv
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ComplianceReading(Base):
    """A listing's latest reading on one local day from a healthy crawl, against the dumping threshold then."""

    __tablename__ = "compliance_readings"

    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # local date
    distributor_id: Mapped[int] = mapped_column(ForeignKey("distributors.id", ondelete="CASCADE"))
    observed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    price: Mapped[Decimal] = mapped_column(MONEY)
    rrp: Mapped[Decimal] = mapped_column(MONEY)
    threshold: Mapped[Decimal | None] = mapped_column(MONEY)  # NULL: a promo exempted the offer
    compliant: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (Index("ix_compliance_readings_distributor_day", "distributor_id", "day"),)


class DailyRun(Base):
    __tablename__ = "daily_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | ok | failed
    host: Mapped[str | None] = mapped_column(String(256))
    pid: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RunLock(Base):
    """A named lock row for SQLite, where there is no advisory lock; holders keep a heartbeat."""

    __tablename__ = "run_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(256))
    acquired_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class UserRole(enum.StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"  # sees and acts on its distributors and/or categories only
    VIEWER = "viewer"  # sees everything, changes nothing


class User(Base):
    """A web panel account. A manager's scope: distributor codes and/or product categories (both: the overlap)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[UserRole] = mapped_column(_enum(UserRole, "user_role"))
    distributors: Mapped[list[str]] = mapped_column(JSON, default=list)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A session cookie names the password it was issued under: changing the password ends every session.
    password_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class LoginFailure(Base):
    """A failed panel login, counted per user name and per client to rate-limit guessing."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
