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
  there that day said out of stock; *lost potential sales* add, per such day, the month's planned quantity
  divided by the days in the month, times the RRP valid that day.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import os
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from crawler.config import Config
from crawler.errors import UserError
from crawler.items import StockState
from storage.engine import session_scope
from storage.queries import evidence as evidence_queries
from storage.queries import reports as queries

DEFAULT_DAYS = 30
NIGHT_FROM = dt.time(22)
NIGHT_UNTIL = dt.time(7)
CENT = Decimal("0.01")
ALL = "all"


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


def parse_day(value: str | dt.date | None, option: str) -> dt.date | None:
    """A YYYY-MM-DD date from the command line; a bad one is a UserError naming the option."""
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(f"{option}: expected a date as YYYY-MM-DD, got {value!r}") from None


def resolve_period(
    tz: ZoneInfo, date_from: str | dt.date | None, date_to: str | dt.date | None, today: dt.date | None = None
) -> Period:
    """The period asked for; by default the last 30 days up to today (local)."""
    first = parse_day(date_from, "--from")
    last = parse_day(date_to, "--to")
    if last is None:
        last = today or dt.datetime.now(tz).date()
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


def _depth(price: Decimal | None, rrp: Decimal | None) -> tuple[Decimal, Decimal]:
    """Sort key: deepest deviation below the RRP first; without an RRP, the lowest price."""
    deviation = deviation_pct(price, rrp)
    return (Decimal("Infinity") if deviation is None else deviation, price or Decimal(0))


class RrpBook:
    """RRP of a product on a day: the latest price-list version valid then."""

    def __init__(self, history: dict[int, list[tuple[dt.date, Decimal]]]) -> None:
        self._dates = {p: [d for d, _ in rows] for p, rows in history.items()}
        self._values = {p: [v for _, v in rows] for p, rows in history.items()}

    def on(self, product_id: int | None, day: dt.date) -> Decimal | None:
        if product_id is None or product_id not in self._dates:
            return None
        i = bisect.bisect_right(self._dates[product_id], day)
        return self._values[product_id][i - 1] if i else None


@dataclass(frozen=True)
class EvidenceFile:
    kind: str  # html | screenshot
    url: str
    captured_at: dt.datetime
    sha256: str
    path: Path  # absolute
    size: int

    def link_from(self, base: Path) -> str:
        """The file's path relative to `base` (where the report is), with forward slashes."""
        return Path(os.path.relpath(self.path, base.resolve())).as_posix()


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
    price: Decimal | None
    stock: StockState


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

    @property
    def is_repeat(self) -> bool:
        return self.repeat_offences > 0


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

    def section(self, code: str) -> ReportData:
        """The same report restricted to one distributor."""
        violations = [v for v in self.violations if v.distributor_code == code]
        listing_ids = {v.listing_id for v in violations}
        return replace(
            self,
            summaries=[s for s in self.summaries if s.code == code],
            violations=violations,
            history={k: h for k, h in self.history.items() if k in listing_ids},
            stock=[s for s in self.stock if s.distributor_code == code],
            top_listing_ids=[i for i in self.top_listing_ids if i in listing_ids],
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
) -> ReportData:
    """Everything a violations report shows for one distributor (`distributor` code) or all (None / "all")."""
    period = resolve_period(config.tz, date_from, date_to, today)
    with _reading(source) as session:
        return _Collector(session, config, period).collect(None if distributor in (None, ALL) else distributor)


class _Collector:
    def __init__(self, session: Session, config: Config, period: Period) -> None:
        self.session = session
        self.config = config
        self.period = period
        self.evidence_dir = Path(config.evidence.dir).resolve()

    def collect(self, code: str | None) -> ReportData:
        dists = queries.distributors(self.session, code)
        if code is not None and not dists:
            known = ", ".join(d.code for d in queries.distributors(self.session)) or "none yet"
            raise UserError(f"--distributor: no distributor {code!r} in the database (known: {known})")
        by_id = {d.id: d for d in dists}
        start, end = self.period.start, self.period.end
        alerts = queries.violation_alerts(self.session, by_id, start, end)
        violated = {a.listing_id for a in alerts}
        # One pass over the period's observations: violated listings' history, stock days, watched products.
        points: dict[int, list[_Point]] = defaultdict(list)
        watched: dict[int, set[int]] = defaultdict(set)
        stock_days: dict[tuple[int, int], dict[dt.date, bool]] = defaultdict(dict)
        tz, unknown, out = self.period.tz, StockState.UNKNOWN, StockState.OUT_OF_STOCK  # a hot loop
        for listing_id, dist_id, product_id, observed_at, amount, state in queries.period_observations(
            self.session, by_id, start, end
        ):
            local = observed_at.astimezone(tz)
            watched[dist_id].add(product_id)
            if state != unknown:
                per_day = stock_days[(dist_id, product_id)]
                day = local.date()
                per_day[day] = per_day.get(day, True) and state == out
            if listing_id in violated:
                points[listing_id].append(_Point(observed_at, local, amount, state))
        for listing_points in points.values():
            listing_points.sort(key=lambda p: p.observed_at)
        # Violated listings matched to no product are not in that pass.
        for listing_id, rows in queries.listing_history(self.session, violated - set(points), start, end).items():
            points[listing_id] = [
                _Point(r.observed_at, self.period.local(r.observed_at), r.price, r.stock) for r in rows
            ]
        product_ids = {a.product_id for a in alerts if a.product_id is not None} | {p for _, p in stock_days}
        rrp = RrpBook(queries.rrp_history(self.session, product_ids))
        evidence = evidence_queries.evidence_by_ids(
            self.session, [i for a in alerts for i in (a.evidence_html_id, a.evidence_screenshot_id)]
        )

        times = {listing_id: [p.observed_at for p in ps] for listing_id, ps in points.items()}
        violations = [
            self._violation(
                a,
                by_id[a.distributor_id],
                points=points.get(a.listing_id, []),
                times=times.get(a.listing_id, []),
                rrp=rrp,
                evidence=evidence,
            )
            for a in alerts
        ]
        order = {d.code: i for i, d in enumerate(dists)}
        violations.sort(
            key=lambda v: (
                order[v.distributor_code],
                v.deviation_pct is None,
                v.deviation_pct or Decimal(0),
                v.vendor_code or "",
                v.alert_id,
            )
        )
        history = self._history(violations, points, rrp)
        stock = self._stock(stock_days, by_id, rrp)
        summaries = [self._summary(d, len(watched.get(d.id, ())), violations, stock) for d in dists]
        top = sorted(
            (v for v in violations if v.deviation_pct is not None),
            key=lambda v: (v.deviation_pct, v.alert_id),
        )
        top_listing_ids = list(dict.fromkeys(v.listing_id for v in top))
        return ReportData(
            period=self.period,
            generated_at=dt.datetime.now(dt.UTC),
            evidence_dir=self.evidence_dir,
            summaries=summaries,
            violations=violations,
            history=history,
            stock=stock,
            top_listing_ids=top_listing_ids,
        )

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
    ) -> Violation:
        """`points` of the alert's listing, oldest first; `times` their observation times."""
        opening = bisect.bisect_right(times, alert.opened_at)  # the observation that opened it is the last before
        window_start = times[opening - 1] if opening else alert.opened_at
        first, last = bisect.bisect_left(times, window_start), bisect.bisect_right(times, alert.last_seen_at)
        inside = []
        for p in points[first:last]:
            day_rrp = rrp.on(alert.product_id, p.local.date())
            if alert.rule == "dumping" and (p.price is None or day_rrp is None or p.price >= day_rrp):
                continue
            inside.append((p, day_rrp))
        priced = [(p, r) for p, r in inside if p.price is not None]
        if priced:
            deepest, price_rrp = min(priced, key=lambda pr: (*_depth(pr[0].price, pr[1]), pr[0].observed_at))
            price: Decimal | None = deepest.price
        else:
            price = _money(alert.details.get("price"))
            price_rrp = _money(alert.details.get("rrp"))
        if inside:
            first_seen, last_seen = inside[0][0].observed_at, inside[-1][0].observed_at
        else:
            first_seen = max(alert.opened_at, self.period.start)
            last_seen = min(alert.last_seen_at, self.period.end)
        local_times = [p.local for p, _ in inside]
        signals = alert.details.get("signals") or []
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
            days=len({t.date() for t in local_times}),
            repeat_offences=alert.earlier_alerts,
            observations=len(local_times),
            weekend_observations=sum(1 for t in local_times if t.weekday() >= 5),
            night_observations=sum(1 for t in local_times if t.time() >= NIGHT_FROM or t.time() < NIGHT_UNTIL),
            signals=tuple(str(s.get("signal")) for s in signals if isinstance(s, dict)),
            html=self._evidence(alert.evidence_html_id, evidence),
            screenshot=self._evidence(alert.evidence_screenshot_id, evidence),
        )

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
        out_days = {key: sorted(d for d, out in per_day.items() if out) for key, per_day in days.items()}
        out_days = {key: ds for key, ds in out_days.items() if ds}
        if not out_days:
            return []
        plans = queries.monthly_plans(
            self.session, dists, self.period.date_from.replace(day=1), self.period.date_to.replace(day=1)
        )
        names = queries.products(self.session, {p for _, p in out_days})
        result = []
        for (dist_id, product_id), ds in out_days.items():
            units: Decimal | None = None
            lost: Decimal | None = None
            for day in ds:
                quantity = plans.get((dist_id, product_id, day.replace(day=1)))
                if quantity is None:
                    continue
                daily = Decimal(quantity) / calendar.monthrange(day.year, day.month)[1]
                units = (units or Decimal(0)) + daily
                day_rrp = rrp.on(product_id, day)
                if day_rrp is not None:
                    lost = (lost or Decimal(0)) + daily * day_rrp
            product = names[product_id]
            result.append(
                StockRow(
                    distributor_code=dists[dist_id].code,
                    distributor_name=dists[dist_id].name,
                    product_id=product_id,
                    vendor_code=product.vendor_code,
                    product_name=product.name,
                    days_out=len(ds),
                    first_out=ds[0],
                    last_out=ds[-1],
                    planned_units=None if units is None else units.quantize(CENT, ROUND_HALF_UP),
                    rrp=rrp.on(product_id, ds[-1]),
                    lost_sales=None if lost is None else lost.quantize(CENT, ROUND_HALF_UP),
                )
            )
        order = {d.code: i for i, d in enumerate(dists.values())}
        result.sort(key=lambda s: (order[s.distributor_code], -(s.lost_sales or 0), -s.days_out, s.vendor_code))
        return result

    @staticmethod
    def _summary(
        dist: queries.DistributorRow, watched: int, violations: list[Violation], stock: list[StockRow]
    ) -> DistributorSummary:
        mine = [v for v in violations if v.distributor_code == dist.code]
        deviations = [v.deviation_pct for v in mine if v.rule == "dumping" and v.deviation_pct is not None]
        observations = sum(v.observations for v in mine)
        stock_rows = [s for s in stock if s.distributor_code == dist.code]
        lost = [s.lost_sales for s in stock_rows if s.lost_sales is not None]
        return DistributorSummary(
            code=dist.code,
            name=dist.name,
            skus_watched=watched,
            skus_in_violation=len({v.product_id for v in mine if v.product_id is not None}),
            violations=len(mine),
            avg_deviation_pct=(sum(deviations, Decimal(0)) / len(deviations)).quantize(CENT, ROUND_HALF_UP)
            if deviations
            else None,
            deepest_deviation_pct=min(deviations) if deviations else None,
            violation_days=sum(v.days for v in mine),
            repeat_offences=sum(1 for v in mine if v.is_repeat),
            weekend_share=_share(sum(v.weekend_observations for v in mine), observations),
            night_share=_share(sum(v.night_observations for v in mine), observations),
            stock_out_days=sum(s.days_out for s in stock_rows),
            lost_sales=sum(lost, Decimal(0)) if lost else None,
        )
