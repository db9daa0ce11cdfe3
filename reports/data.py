"""The one data model every violation report format renders: gathered from storage once per report.

Definitions the reports rely on (and state in their notes):
- a *violation* is a dumping or parallel-import alert that was open at some time in the period;
- its *observations* are its listing's observations in the period from the one that opened it up to the alert's
  last confirmation (for dumping only those below the RRP); its price and deviation are those of the observation
  deepest below the RRP valid on its day; *days* are the distinct local dates among them;
- a *repeat offence* is a violation whose listing had an earlier alert of the same kind;
- the *price history* of a violated listing has, per local day, its lowest price and the RRP valid that day;
- *weekend / night share*: the share of violation observations made on a Saturday or Sunday / between 22:00
  and 07:00 in the config's time zone;
- a day is *out of stock* for a distributor and product when every known-stock observation of the product
  there that day said out of stock, after the product had once been there in stock (one never stocked there is
  an assortment gap, not a stock-out: the stock-out rule never alerts on it); *lost potential sales* add, per
  such day, the month's planned quantity divided by the days in the month, times the RRP valid that day;
- a marketplace dumping violation's price is the one dumping judged (`price_basis` in its details: the seller's
  own, the shown or the card price); a *platform discount* is a shown (or card) price below the threshold that the
  platform's discount made, the seller's own price respecting it: listed apart, never counted against the seller;
- *offenders by legal entity* group the marketplace findings (violations, platform discounts, unlisted
  storefronts) by the legal entity behind each storefront (ИНН), those without one as one group; a distributor's
  report adds the marketplace findings of the legal entities that buy from it.
"""

from __future__ import annotations

import bisect
import datetime as dt
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NamedTuple, Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from crawler import clock
from crawler.config import Config
from crawler.errors import UserError
from crawler.items import StockState
from storage.engine import session_scope
from storage.lost_sales import RrpBook, planned_loss
from storage.queries import evidence as evidence_queries
from storage.queries import reports as queries
from storage.queries.compliance import ComplianceRow, PeriodName, compliance

DEFAULT_DAYS = 30
NIGHT_FROM = dt.time(22)
NIGHT_UNTIL = dt.time(7)
CENT = Decimal("0.01")
ALL = "all"
PLATFORM_DISCOUNT = "platform_discount"
# The offenders tables' count per rule, in this order (a platform discount last: it is not the seller's doing).
OFFENDER_RULES = ("dumping", "parallel_import", "unlisted_storefront", PLATFORM_DISCOUNT)


@dataclass(frozen=True)
class Period:
    """Whole local days [date_from, date_to] in the config's time zone."""

    date_from: dt.date
    date_to: dt.date
    tz: ZoneInfo

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.date_from, dt.time(), self.tz).astimezone(dt.UTC)

    @property
    def end(self) -> dt.datetime:
        """Exclusive: local midnight after `date_to`, in UTC."""
        return dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time(), self.tz).astimezone(dt.UTC)

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.tz)


DAY_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")  # ISO, and the way a Russian user writes a date


def parse_day(value: str | dt.date | None, option: str) -> dt.date | None:
    """A YYYY-MM-DD or DD.MM.YYYY date from the command line; a bad one is a UserError naming the option."""
    if value is None or isinstance(value, dt.date):
        return value
    for pattern in DAY_FORMATS:
        try:
            return dt.datetime.strptime(value.strip(), pattern).date()
        except ValueError:
            continue
    raise UserError(f"{option}: expected a date as YYYY-MM-DD or DD.MM.YYYY, got {value!r}")


def resolve_period(
    tz: ZoneInfo, date_from: str | dt.date | None, date_to: str | dt.date | None, today: dt.date | None = None
) -> Period:
    """The period asked for; by default the last 30 days up to today (local)."""
    first = parse_day(date_from, "--from")
    last = parse_day(date_to, "--to")
    if last is None:
        last = today or clock.utcnow().astimezone(tz).date()
    if first is None:
        first = last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise UserError(f"--from {first.isoformat()} is after --to {last.isoformat()}")
    return Period(first, last, tz)


def deviation_pct(price: Decimal | None, rrp: Decimal | None) -> Decimal | None:
    """(price − RRP) / RRP in percent, to 0.01; negative below the RRP."""
    if price is None or rrp is None or rrp <= 0:
        return None
    return ((price - rrp) * 100 / rrp).quantize(CENT, ROUND_HALF_UP)


def _money(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _share(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP) if whole else None


def _cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT, ROUND_HALF_UP)


def _mean(values: Sequence[Decimal]) -> Decimal | None:
    """To the cent; None of no values."""
    return (sum(values, Decimal(0)) / len(values)).quantize(CENT, ROUND_HALF_UP) if values else None


def _total(values: Iterable[Decimal | None]) -> Decimal | None:
    """The sum of the known values; None when none is known."""
    known = [v for v in values if v is not None]
    return sum(known, Decimal(0)) if known else None


def _depth(price: Decimal | None, rrp: Decimal | None) -> tuple[Decimal, Decimal]:
    """Sort key: deepest deviation below the RRP first; without an RRP, the lowest price."""
    deviation = deviation_pct(price, rrp)
    return (Decimal("Infinity") if deviation is None else deviation, price or Decimal(0))


@dataclass(frozen=True)
class EvidenceFile:
    kind: str  # html | screenshot
    url: str
    captured_at: dt.datetime
    sha256: str
    path: Path  # absolute
    size: int
    shown_as: Path | None = None  # where the report's reader has the file, when not at `path` (a bundle's copy)

    def link_from(self, base: Path) -> str:
        """The file's path relative to `base` (where the report is), with forward slashes."""
        return Path(os.path.relpath(self.shown_as or self.path, base.resolve())).as_posix()


class DayPrice(NamedTuple):
    """A listing's lowest price on one local day, the RRP valid that day, and its last stock state."""

    day: dt.date
    price: Decimal | None
    rrp: Decimal | None
    stock: StockState

    @property
    def deviation_pct(self) -> Decimal | None:
        return deviation_pct(self.price, self.rrp)

    @property
    def below_rrp(self) -> bool:
        return self.price is not None and self.rrp is not None and self.price < self.rrp


@dataclass(frozen=True)
class HistorySeries:
    """One violated listing's prices day by day over the whole period (days without an observation left out)."""

    listing_id: int
    distributor_code: str
    distributor_name: str
    seller_name: str
    vendor_code: str | None
    product_name: str | None
    url: str
    points: list[DayPrice]


class _Point(NamedTuple):
    observed_at: dt.datetime
    local: dt.datetime
    price: Decimal | None  # shown
    stock: StockState
    seller_price: Decimal | None = None
    card_price: Decimal | None = None


@dataclass(frozen=True)
class Violation:
    alert_id: int
    rule: str
    severity: str
    status: str
    distributor_code: str
    distributor_name: str
    seller_name: str
    seller_authorized: bool
    listing_id: int
    url: str
    product_id: int | None
    vendor_code: str | None
    product_name: str | None
    category: str | None
    rrp: Decimal | None
    price: Decimal | None
    deviation_pct: Decimal | None
    first_seen: dt.datetime
    last_seen: dt.datetime
    days: int
    repeat_offences: int
    observations: int
    weekend_observations: int
    night_observations: int
    signals: tuple[str, ...]
    html: EvidenceFile | None
    screenshot: EvidenceFile | None
    seller_code: str = ""
    marketplace: bool = False  # a storefront on a marketplace
    region: str | None = None  # the listing's region code
    region_name: str | None = None  # as the config names it
    price_basis: str | None = None  # the price dumping judged: seller | shown | card (None: the shown price)
    shown_price: Decimal | None = None  # at the observation `price` is from
    seller_price: Decimal | None = None
    card_price: Decimal | None = None
    legal_entity_id: int | None = None
    tax_id: str | None = None  # ИНН
    legal_name: str | None = None
    supplier_code: str | None = None  # the distributor the legal entity buys from

    @property
    def is_repeat(self) -> bool:
        return self.repeat_offences > 0


@dataclass(frozen=True)
class Offender:
    """A legal entity behind marketplace storefronts with findings in the period (or, with `entity` None, every
    storefront whose legal entity is not known)."""

    entity: queries.LegalEntityRow | None
    storefronts: list[queries.StorefrontRow]  # the entity's every storefront; unknown: those with findings
    by_rule: dict[str, int]  # findings in the period per rule
    open_now: int  # of them still open
    worst_deviation_pct: Decimal | None  # the deepest of its dumping violations
    findings: list[Violation]  # deepest first

    @property
    def seller_violations(self) -> int:
        """What the entity's storefronts did themselves (a platform discount is not theirs)."""
        return sum(n for rule, n in self.by_rule.items() if rule != PLATFORM_DISCOUNT)


@dataclass(frozen=True)
class PriceSplit:
    """Who made the marketplace prices low: dumping by the seller against discounts the platform funds."""

    seller_dumping: int
    platform_discounts: list[Violation]  # deepest first


@dataclass(frozen=True)
class StockRow:
    distributor_code: str
    distributor_name: str
    product_id: int
    vendor_code: str
    product_name: str
    days_out: int
    first_out: dt.date
    last_out: dt.date
    planned_units: Decimal | None  # planned sales over the out-of-stock days; None without a plan
    rrp: Decimal | None  # on the last out-of-stock day
    lost_sales: Decimal | None


@dataclass(frozen=True)
class DistributorSummary:
    code: str
    name: str
    skus_watched: int
    skus_in_violation: int
    violations: int
    avg_deviation_pct: Decimal | None  # over dumping violations
    deepest_deviation_pct: Decimal | None
    violation_days: int
    repeat_offences: int
    weekend_share: Decimal | None  # 0..1
    night_share: Decimal | None
    stock_out_days: int
    lost_sales: Decimal | None


@dataclass(frozen=True)
class ReportData:
    period: Period
    generated_at: dt.datetime
    evidence_dir: Path
    summaries: list[DistributorSummary]
    violations: list[Violation]
    history: dict[int, HistorySeries]  # by listing id, in the order of the violations
    stock: list[StockRow]
    top_listing_ids: list[int] = field(default_factory=list)  # violated listings, deepest deviation first
    panel_url: str | None = None  # `web.base_url`: evidence links then point to the panel
    brand: str | None = None  # the catalog's brand, for the cover
    # Compliance per distributor and week / month of the period (storage/queries/compliance.py).
    compliance_weeks: list[ComplianceRow] = field(default_factory=list)
    compliance_months: list[ComplianceRow] = field(default_factory=list)
    # Platform discounts and unlisted storefronts at the report's distributors (not violations of the seller).
    findings: list[Violation] = field(default_factory=list)
    # Marketplace findings (violations too) of legal entities buying from the report's distributors.
    bought: list[Violation] = field(default_factory=list)
    entities: dict[int, queries.LegalEntityRow] = field(default_factory=dict)

    def offenders(self) -> list[Offender]:
        """The report's marketplace findings by legal entity: most seller violations first, unknown entity last."""
        return offenders(self.violations + self.findings + self.bought, self.entities)

    def price_split(self) -> PriceSplit:
        """Marketplace dumping by the sellers against the platform's discounts, at the report's distributors."""
        return PriceSplit(
            seller_dumping=sum(1 for v in self.violations if v.rule == "dumping" and v.marketplace),
            platform_discounts=_deepest_first([v for v in self.findings if v.rule == PLATFORM_DISCOUNT]),
        )

    def section(self, code: str) -> ReportData:
        """The same report restricted to one distributor."""
        return self._narrowed(
            lambda c: c == code,
            summaries=[s for s in self.summaries if s.code == code],
            violations=[v for v in self.violations if v.distributor_code == code],
            stock=[s for s in self.stock if s.distributor_code == code],
        )

    def restricted(
        self,
        distributor: Callable[[str], bool],
        violation: Callable[[Violation], bool],
        stock: Callable[[StockRow], bool],
    ) -> ReportData:
        """The report of the distributors, violations and stock rows kept (a person's scope, a filtered selection),
        its summaries counted again from what is kept (SKUs watched as before)."""
        violations = [v for v in self.violations if distributor(v.distributor_code) and violation(v)]
        stock_rows = [s for s in self.stock if distributor(s.distributor_code) and stock(s)]
        violations_of, stock_of = _by_distributor(violations), _by_distributor(stock_rows)
        summaries = [
            _summary(
                queries.DistributorRow(0, s.code, s.name),  # a summary needs only the code and name
                s.skus_watched,
                violations_of.get(s.code, []),
                stock_of.get(s.code, []),
            )
            for s in self.summaries
            if distributor(s.code)
        ]
        return self._narrowed(
            distributor,
            summaries=summaries,
            violations=violations,
            stock=stock_rows,
            findings=[v for v in self.findings if distributor(v.distributor_code) and violation(v)],
        )

    def _narrowed(
        self,
        distributor: Callable[[str], bool],
        *,
        summaries: list[DistributorSummary],
        violations: list[Violation],
        stock: list[StockRow],
        findings: list[Violation] | None = None,
    ) -> ReportData:
        """These summaries, violations, stock rows and findings (by default those of the distributors kept), with
        the history, compliance and legal entities' findings that go with them."""
        listing_ids = {v.listing_id for v in violations}
        return replace(
            self,
            findings=_kept(self.findings, distributor) if findings is None else findings,
            bought=[v for v in self.bought if v.supplier_code is not None and distributor(v.supplier_code)],
            summaries=summaries,
            violations=violations,
            history={k: h for k, h in self.history.items() if k in listing_ids},
            stock=stock,
            top_listing_ids=[i for i in self.top_listing_ids if i in listing_ids],
            compliance_weeks=_kept(self.compliance_weeks, distributor),
            compliance_months=_kept(self.compliance_months, distributor),
        )


@contextmanager
def _reading(source: Engine | Session) -> Iterator[Session]:
    if isinstance(source, Session):
        yield source
        return
    with session_scope(source) as session:
        yield session


def collect_report(
    source: Engine | Session,
    config: Config,
    *,
    distributor: str | None = None,
    date_from: str | dt.date | None = None,
    date_to: str | dt.date | None = None,
    today: dt.date | None = None,
    rules: Sequence[str] = queries.VIOLATION_RULES,
) -> ReportData:
    """Everything a violations report shows for one distributor (`distributor` code) or all (None / "all");
    `rules`: the alerts it counts as violations (the panel exports the stock alerts it lists too)."""
    period = resolve_period(config.tz, date_from, date_to, today)
    with _reading(source) as session:
        collector = _Collector(session, config, period, rules)
        return collector.collect(None if distributor in (None, ALL) else distributor)


@dataclass
class _Scan:
    """What the pass over the period's observations gathers.

    `points`: violated listing → its observations, oldest first; `watched`: distributor → the products seen there;
    `stock_days`: (distributor, product) → local day → whether every known-stock observation said out of stock.
    """

    points: dict[int, list[_Point]] = field(default_factory=lambda: defaultdict(list))
    watched: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    stock_days: dict[tuple[int, int], dict[dt.date, bool]] = field(default_factory=lambda: defaultdict(dict))


class _Spread(NamedTuple):
    """When a violation's observations were made."""

    days: int  # distinct local dates
    observations: int
    weekend: int
    night: int


class _OfDistributor(Protocol):
    @property
    def distributor_code(self) -> str: ...


_Row = TypeVar("_Row", bound=_OfDistributor)


class _Collector:
    def __init__(self, session: Session, config: Config, period: Period, rules: Sequence[str]) -> None:
        self.session = session
        self.config = config
        self.period = period
        self.rules = rules
        self.evidence_dir = Path(config.evidence.dir).resolve()

    def collect(self, code: str | None) -> ReportData:
        dists = self._distributors(code)
        by_id = {d.id: d for d in dists}
        everyone = {d.id: d for d in queries.distributors(self.session)}  # the marketplaces of bought findings
        start, end = self.period.start, self.period.end
        found = queries.violation_alerts(self.session, by_id, start, end, (*self.rules, *queries.ENTITY_FINDINGS))
        alerts = [a for a in found if a.rule in self.rules]
        extra = [a for a in found if a.rule not in self.rules]
        bought = queries.violation_alerts(
            self.session, by_id, start, end, (*queries.VIOLATION_RULES, *queries.ENTITY_FINDINGS), bought_from=True
        )
        scan = self._scan(by_id, found, bought)
        rrp = self._rrp_book([*found, *bought], scan.stock_days)
        violations = self._violations(alerts, by_id, scan.points, rrp, everyone)
        history = self._history(violations, scan.points, rrp)
        stock = self._stock(scan.stock_days, by_id, rrp)
        entity_ids = {a.legal_entity_id for a in (*found, *bought) if a.legal_entity_id is not None and a.marketplace}
        return ReportData(
            period=self.period,
            generated_at=clock.utcnow(),
            evidence_dir=self.evidence_dir,
            summaries=_summaries(dists, scan.watched, violations, stock),
            violations=violations,
            history=history,
            stock=stock,
            top_listing_ids=_deepest_listings(violations),
            panel_url=self.config.web.base_url,
            brand=queries.catalog_brand(self.session),
            compliance_weeks=self._compliance(by_id, "week"),
            compliance_months=self._compliance(by_id, "month"),
            findings=self._violations(extra, by_id, scan.points, rrp, everyone),
            bought=self._violations(bought, everyone, scan.points, rrp, everyone),
            entities=queries.legal_entities(self.session, entity_ids),
        )

    def _compliance(self, dists: dict[int, queries.DistributorRow], period: PeriodName) -> list[ComplianceRow]:
        """The distributors' compliance per week or month of the report's period."""
        p = self.period
        return compliance(self.session, start=p.date_from, end=p.date_to, period=period, distributor_ids=list(dists))

    def _distributors(self, code: str | None) -> list[queries.DistributorRow]:
        """The distributor with `code` (every one for None); an unknown code is a UserError naming the known."""
        if code is not None:
            return [queries.require_distributor(self.session, code)]
        return queries.distributors(self.session)

    def _scan(
        self,
        dists: dict[int, queries.DistributorRow],
        alerts: Sequence[queries.ViolationAlertRow],
        bought: Sequence[queries.ViolationAlertRow],
    ) -> _Scan:
        """The observation pass, then the full history of the listings it leaves out or cannot judge: matched to no
        product, outside the report's distributors (`bought`), or judged on the seller's or the card price."""
        violated = {a.listing_id for a in alerts}
        scan = self._observation_pass(dists, violated)
        for listing_points in scan.points.values():
            listing_points.sort(key=lambda p: p.observed_at)
        # A shop has only the one price: its dumping needs nothing beyond the pass whatever the basis says.
        detailed = {a.listing_id for a in alerts if a.marketplace and _judged_on(a) != "shown"}
        detailed |= {a.listing_id for a in bought}
        history = queries.listing_history(
            self.session, (violated - set(scan.points)) | detailed, self.period.start, self.period.end
        )
        for listing_id, rows in history.items():
            scan.points[listing_id] = [
                _Point(r.observed_at, self.period.local(r.observed_at), r.price, r.stock, r.seller_price, r.card_price)
                for r in rows
            ]
        return scan

    def _observation_pass(self, dists: dict[int, queries.DistributorRow], violated: set[int]) -> _Scan:
        """One pass over the period's observations: violated listings' history, stock days, watched products."""
        scan = _Scan()
        points, watched, stock_days = scan.points, scan.watched, scan.stock_days
        tz, unknown, out = self.period.tz, StockState.UNKNOWN, StockState.OUT_OF_STOCK  # a hot loop
        for listing_id, dist_id, product_id, observed_at, amount, state in queries.period_observations(
            self.session, dists, self.period.start, self.period.end
        ):
            local = observed_at.astimezone(tz)
            watched[dist_id].add(product_id)
            if state != unknown:
                per_day = stock_days[(dist_id, product_id)]
                day = local.date()
                per_day[day] = per_day.get(day, True) and state == out
            if listing_id in violated:
                points[listing_id].append(_Point(observed_at, local, amount, state))
        return scan

    def _rrp_book(
        self, alerts: Sequence[queries.ViolationAlertRow], stock_days: dict[tuple[int, int], dict[dt.date, bool]]
    ) -> RrpBook:
        """The RRP history of every product a violation or a stock row is about."""
        product_ids = {a.product_id for a in alerts if a.product_id is not None} | {p for _, p in stock_days}
        return RrpBook(queries.rrp_history(self.session, product_ids))

    def _violations(
        self,
        alerts: Sequence[queries.ViolationAlertRow],
        dists: dict[int, queries.DistributorRow],
        points: dict[int, list[_Point]],
        rrp: RrpBook,
        everyone: dict[int, queries.DistributorRow],
    ) -> list[Violation]:
        """One per alert, by distributor (in `dists` order), then deepest deviation first; `everyone`: every
        distributor by id (a legal entity's supplier)."""
        evidence = evidence_queries.evidence_by_ids(
            self.session, [i for a in alerts for i in (a.evidence_html_id, a.evidence_screenshot_id)]
        )
        times = {listing_id: [p.observed_at for p in ps] for listing_id, ps in points.items()}
        violations = [
            self._violation(
                a,
                dists[a.distributor_id],
                points=points.get(a.listing_id, []),
                times=times.get(a.listing_id, []),
                rrp=rrp,
                evidence=evidence,
                supplier=everyone.get(a.supplier_id) if a.supplier_id is not None else None,
            )
            for a in alerts
        ]
        order = {d.code: i for i, d in enumerate(dists.values())}
        violations.sort(
            key=lambda v: (
                order[v.distributor_code],
                v.deviation_pct is None,
                v.deviation_pct or Decimal(0),
                v.vendor_code or "",
                v.alert_id,
            )
        )
        return violations

    def _evidence(self, ref: int | None, stored: dict[int, evidence_queries.StoredEvidence]) -> EvidenceFile | None:
        row = stored.get(ref) if ref is not None else None
        if row is None:
            return None
        return EvidenceFile(row.kind, row.url, row.captured_at, row.sha256, self.evidence_dir / row.path, row.size)

    def _violation(
        self,
        alert: queries.ViolationAlertRow,
        dist: queries.DistributorRow,
        *,
        points: Sequence[_Point],
        times: Sequence[dt.datetime],
        rrp: RrpBook,
        evidence: dict[int, evidence_queries.StoredEvidence],
        supplier: queries.DistributorRow | None,
    ) -> Violation:
        """`points` of the alert's listing, oldest first; `times` their observation times."""
        inside = _violation_observations(alert, points, times, rrp)
        price, price_rrp, deepest = _violation_price(alert, inside)
        details = alert.details
        shown, own, card = (
            (deepest.price, deepest.seller_price, deepest.card_price)
            if deepest is not None
            else (
                _money(details.get("shown_price")),
                _money(details.get("seller_price")),
                _money(details.get("card_price")),
            )
        )
        recorded = details.get("legal_entity")
        entity: dict[str, Any] = recorded if isinstance(recorded, dict) else {}
        first_seen, last_seen = self._seen(alert, inside)
        spread = _spread([p.local for p, _, _ in inside])
        return Violation(
            alert_id=alert.alert_id,
            rule=alert.rule,
            severity=alert.severity,
            status=alert.status,
            distributor_code=dist.code,
            distributor_name=dist.name,
            seller_name=alert.seller_name,
            seller_authorized=alert.seller_authorized,
            listing_id=alert.listing_id,
            url=alert.url,
            product_id=alert.product_id,
            vendor_code=alert.vendor_code,
            product_name=alert.product_name,
            category=alert.category,
            rrp=price_rrp,
            price=price,
            deviation_pct=deviation_pct(price, price_rrp),
            first_seen=first_seen,
            last_seen=last_seen,
            days=spread.days,
            repeat_offences=alert.earlier_alerts,
            observations=spread.observations,
            weekend_observations=spread.weekend,
            night_observations=spread.night,
            signals=_signal_names(alert.details),
            html=self._evidence(alert.evidence_html_id, evidence),
            screenshot=self._evidence(alert.evidence_screenshot_id, evidence),
            seller_code=alert.seller_code,
            marketplace=alert.marketplace,
            region=alert.region,
            region_name=self._region_name(dist.code, alert.region),
            price_basis=details.get("price_basis") if alert.rule in JUDGED_RULES and alert.marketplace else None,
            shown_price=shown,
            seller_price=own,
            card_price=card,
            legal_entity_id=alert.legal_entity_id,
            # What the alert recorded when the seller's entity is no longer linked (a person's review undid it).
            tax_id=alert.tax_id or entity.get("tax_id"),
            legal_name=alert.legal_name or entity.get("name"),
            supplier_code=supplier.code if supplier else None,
        )

    def _region_name(self, distributor_code: str, region: str | None) -> str | None:
        """The region's name as the marketplace's config entry gives it (its code when the config lost it)."""
        if region is None:
            return None
        for d in self.config.distributors:
            if d.code == distributor_code:
                for r in d.regions:
                    if r.code == region:
                        return r.name
        return region

    def _seen(
        self, alert: queries.ViolationAlertRow, inside: Sequence[tuple[_Point, Decimal | None, Decimal | None]]
    ) -> tuple[dt.datetime, dt.datetime]:
        """The first and last violation observation; without any, the alert's own span within the period."""
        if inside:
            return inside[0][0].observed_at, inside[-1][0].observed_at
        return max(alert.opened_at, self.period.start), min(alert.last_seen_at, self.period.end)

    def _history(
        self, violations: list[Violation], points: dict[int, list[_Point]], rrp: RrpBook
    ) -> dict[int, HistorySeries]:
        history: dict[int, HistorySeries] = {}
        for v in violations:
            if v.listing_id in history:
                continue
            days: list[DayPrice] = []
            for p in points.get(v.listing_id, []):  # oldest first
                day = p.local.date()
                if days and days[-1].day == day:
                    last = days[-1]
                    lowest = (
                        p.price if last.price is None or (p.price is not None and p.price < last.price) else last.price
                    )
                    days[-1] = last._replace(price=lowest, stock=p.stock)
                else:
                    days.append(DayPrice(day, p.price, rrp.on(v.product_id, day), p.stock))
            history[v.listing_id] = HistorySeries(
                listing_id=v.listing_id,
                distributor_code=v.distributor_code,
                distributor_name=v.distributor_name,
                seller_name=v.seller_name,
                vendor_code=v.vendor_code,
                product_name=v.product_name,
                url=v.url,
                points=days,
            )
        return history

    def _stock(
        self,
        days: dict[tuple[int, int], dict[dt.date, bool]],
        dists: dict[int, queries.DistributorRow],
        rrp: RrpBook,
    ) -> list[StockRow]:
        """`days`: (distributor, product) → local day → whether every known-stock observation said out of stock."""
        out_days = self._after_first_stocked(_out_of_stock_days(days))
        if not out_days:
            return []
        plans = queries.monthly_plans(
            self.session, dists, self.period.date_from.replace(day=1), self.period.date_to.replace(day=1)
        )
        names = queries.products(self.session, {p for _, p in out_days})
        result = [
            _stock_row(dists[dist_id], names[product_id], ds, planned_loss(plans, dist_id, product_id, ds, rrp), rrp)
            for (dist_id, product_id), ds in out_days.items()
        ]
        order = {d.code: i for i, d in enumerate(dists.values())}
        result.sort(key=lambda s: (order[s.distributor_code], -(s.lost_sales or 0), -s.days_out, s.vendor_code))
        return result

    def _after_first_stocked(
        self, out_days: dict[tuple[int, int], list[dt.date]]
    ) -> dict[tuple[int, int], list[dt.date]]:
        """The out-of-stock days that follow the product's first day in stock there (those never stocked left out)."""
        if not out_days:
            return {}
        first = queries.first_available(self.session, out_days, self.period.end)
        kept = {}
        for key, days in out_days.items():
            if key in first:
                stocked = first[key].astimezone(self.period.tz).date()
                after = [d for d in days if d > stocked]
                if after:
                    kept[key] = after
        return kept


# The rules whose price is judged against the RRP: an observation counts only below it.
JUDGED_RULES = ("dumping", PLATFORM_DISCOUNT)


def _judged_on(alert: queries.ViolationAlertRow) -> str:
    """Which price of an observation the alert is about: dumping's basis (the seller's own, the card or the shown
    price), a platform discount's the lowest the buyer sees (shown or card), any other rule's the shown price."""
    if alert.rule == PLATFORM_DISCOUNT:
        return "lowest"
    basis = alert.details.get("price_basis") if alert.rule == "dumping" else None
    return basis if basis in ("seller", "card") else "shown"


def _price_of(p: _Point, judged_on: str) -> Decimal | None:
    if judged_on == "seller":
        return p.seller_price if p.seller_price is not None else p.price
    if judged_on == "card":
        return p.card_price if p.card_price is not None else p.price
    if judged_on == "lowest" and p.card_price is not None and (p.price is None or p.card_price < p.price):
        return p.card_price
    return p.price


def _violation_observations(
    alert: queries.ViolationAlertRow, points: Sequence[_Point], times: Sequence[dt.datetime], rrp: RrpBook
) -> list[tuple[_Point, Decimal | None, Decimal | None]]:
    """The alert's observations, each with the price it is judged on and its day's RRP: from the one that opened
    it to its last confirmation, for dumping and platform discounts only those below the RRP."""
    opening = bisect.bisect_right(times, alert.opened_at)  # the observation that opened it is the last before
    window_start = times[opening - 1] if opening else alert.opened_at
    first, last = bisect.bisect_left(times, window_start), bisect.bisect_right(times, alert.last_seen_at)
    judged, judged_on = alert.rule in JUDGED_RULES, _judged_on(alert)
    inside = []
    for p in points[first:last]:
        day_rrp = rrp.on(alert.product_id, p.local.date())
        price = _price_of(p, judged_on)
        if judged and (price is None or day_rrp is None or price >= day_rrp):
            continue
        inside.append((p, price, day_rrp))
    return inside


def _violation_price(
    alert: queries.ViolationAlertRow, inside: Sequence[tuple[_Point, Decimal | None, Decimal | None]]
) -> tuple[Decimal | None, Decimal | None, _Point | None]:
    """Price and RRP of the observation deepest below the RRP, and that observation; without a priced one, those
    the alert recorded."""
    priced = [(p, price, r) for p, price, r in inside if price is not None]
    if not priced:
        return _money(alert.details.get("price")), _money(alert.details.get("rrp")), None
    deepest, price, price_rrp = min(priced, key=lambda pr: (*_depth(pr[1], pr[2]), pr[0].observed_at))
    return price, price_rrp, deepest


def _spread(local_times: Sequence[dt.datetime]) -> _Spread:
    return _Spread(
        days=len({t.date() for t in local_times}),
        observations=len(local_times),
        weekend=sum(1 for t in local_times if t.weekday() >= 5),
        night=sum(1 for t in local_times if t.time() >= NIGHT_FROM or t.time() < NIGHT_UNTIL),
    )


def _signal_names(details: dict[str, Any]) -> tuple[str, ...]:
    """The names of the parallel-import signals an alert recorded."""
    signals = details.get("signals") or []
    return tuple(str(s.get("signal")) for s in signals if isinstance(s, dict))


def _out_of_stock_days(days: dict[tuple[int, int], dict[dt.date, bool]]) -> dict[tuple[int, int], list[dt.date]]:
    """Per (distributor, product), its out-of-stock days in order; those never out left out."""
    out_days = {key: sorted(d for d, out in per_day.items() if out) for key, per_day in days.items()}
    return {key: ds for key, ds in out_days.items() if ds}


def _stock_row(
    dist: queries.DistributorRow,
    product: queries.ProductRow,
    days: Sequence[dt.date],
    loss: tuple[Decimal | None, Decimal | None],
    rrp: RrpBook,
) -> StockRow:
    """`days`: the product's out-of-stock days there, in order; `loss`: their planned units and lost sales."""
    units, lost = loss
    return StockRow(
        distributor_code=dist.code,
        distributor_name=dist.name,
        product_id=product.id,
        vendor_code=product.vendor_code,
        product_name=product.name,
        days_out=len(days),
        first_out=days[0],
        last_out=days[-1],
        planned_units=_cents(units),
        rrp=rrp.on(product.id, days[-1]),
        lost_sales=_cents(lost),
    )


def _summaries(
    dists: Sequence[queries.DistributorRow],
    watched: dict[int, set[int]],
    violations: Sequence[Violation],
    stock: Sequence[StockRow],
) -> list[DistributorSummary]:
    """One per distributor, in `dists` order; `watched`: the products observed at each distributor."""
    violations_of, stock_of = _by_distributor(violations), _by_distributor(stock)
    return [
        _summary(d, len(watched.get(d.id, ())), violations_of.get(d.code, []), stock_of.get(d.code, [])) for d in dists
    ]


def _summary(
    dist: queries.DistributorRow, watched: int, mine: Sequence[Violation], stock_rows: Sequence[StockRow]
) -> DistributorSummary:
    """A distributor's figures from its violations and its stock rows."""
    deviations = _dumping_deviations(mine)
    observations = sum(v.observations for v in mine)
    return DistributorSummary(
        code=dist.code,
        name=dist.name,
        skus_watched=watched,
        skus_in_violation=len({v.product_id for v in mine if v.product_id is not None}),
        violations=len(mine),
        avg_deviation_pct=_mean(deviations),
        deepest_deviation_pct=min(deviations, default=None),
        violation_days=sum(v.days for v in mine),
        repeat_offences=sum(1 for v in mine if v.is_repeat),
        weekend_share=_share(sum(v.weekend_observations for v in mine), observations),
        night_share=_share(sum(v.night_observations for v in mine), observations),
        stock_out_days=sum(s.days_out for s in stock_rows),
        lost_sales=_total(s.lost_sales for s in stock_rows),
    )


def _by_distributor(rows: Iterable[_Row]) -> dict[str, list[_Row]]:
    """`rows` by distributor code, each group in the order of `rows`."""
    grouped: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        grouped[row.distributor_code].append(row)
    return grouped


def _kept(rows: Iterable[_Row], distributor: Callable[[str], bool]) -> list[_Row]:
    """The `rows` of the distributors kept, in their order."""
    return [row for row in rows if distributor(row.distributor_code)]


def _dumping_deviations(violations: Sequence[Violation]) -> list[Decimal]:
    return [v.deviation_pct for v in violations if v.rule == "dumping" and v.deviation_pct is not None]


def _deepest_first(violations: Iterable[Violation]) -> list[Violation]:
    """Deepest deviation first; those without one (no RRP) after them."""
    return sorted(violations, key=lambda v: (v.deviation_pct is None, v.deviation_pct or Decimal(0), v.alert_id))


def offenders(findings: Iterable[Violation], entities: dict[int, queries.LegalEntityRow]) -> list[Offender]:
    """The marketplace `findings` (each alert once) by the legal entity behind the storefront; `entities` by id.

    Most findings of the sellers' own first, then by ИНН; the storefronts of no known entity are the last group."""
    groups: dict[int | None, dict[int, Violation]] = defaultdict(dict)
    for v in findings:
        if v.marketplace:
            key = v.legal_entity_id if v.legal_entity_id in entities else None
            groups[key].setdefault(v.alert_id, v)
    rows = []
    for key, found in groups.items():
        mine = _deepest_first(found.values())
        entity = entities.get(key) if key is not None else None
        if entity is not None:
            storefronts = entity.storefronts
        else:
            seen = {(v.distributor_code, v.seller_code): v for v in mine}
            storefronts = [
                queries.StorefrontRow(
                    v.distributor_code, v.distributor_name, v.seller_code, v.seller_name, v.seller_authorized
                )
                for v in sorted(seen.values(), key=lambda v: (v.distributor_code, v.seller_name))
            ]
        by_rule: dict[str, int] = defaultdict(int)
        for v in mine:
            by_rule[v.rule] += 1
        rows.append(
            Offender(
                entity=entity,
                storefronts=storefronts,
                by_rule=dict(by_rule),
                open_now=sum(1 for v in mine if v.status == "open"),
                worst_deviation_pct=min(_dumping_deviations(mine), default=None),
                findings=mine,
            )
        )
    rows.sort(key=lambda o: (o.entity is None, -o.seller_violations, o.entity.tax_id if o.entity else ""))
    return rows


def _deepest_listings(violations: Sequence[Violation]) -> list[int]:
    """The violated listings with a deviation, deepest first, each once."""
    top = sorted(
        (v for v in violations if v.deviation_pct is not None),
        key=lambda v: (v.deviation_pct, v.alert_id),
    )
    return list(dict.fromkeys(v.listing_id for v in top))
