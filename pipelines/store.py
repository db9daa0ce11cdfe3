"""Last pipeline: record the crawl run, upsert sellers and listings, append observations in batches, and judge
the run's health when the spider closes.

One transaction per batch (500 offers, or what came in 2 s), so a crawl killed part-way leaves whole batches
only; its run stays `running` until the next crawl's `mark_stale_runs_failed` marks it `failed`, and readers
ignore runs not `finished`.
Re-storing a run (same `PRICEWATCH_RUN_KEY`) resumes its row and writes no observation twice.
A batch also records, in its transaction, the legal entities its marketplace sellers publish and ties each storefront
to its own (`storage.queries.legal_entities`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.utils.asyncio import AsyncioLoopingCall, create_looping_call
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from twisted.internet.task import LoopingCall

from crawler import clock
from crawler.config import Config
from crawler.crawl_process import FINISHED_REASONS
from crawler.items import Health, StockState
from crawler.settings import job_config
from crawler.stats import (
    STAT_COMPLETE,
    STAT_ERRORS,
    STAT_HEALTH,
    STAT_HEALTH_CAUSE,
    STAT_OFFERS,
    STAT_PRODUCT_PAGES,
)
from pipelines.health import CanaryCheck, Verdict, judge
from pipelines.match import MatchedOffer
from storage.engine import make_engine, session_scope
from storage.models import RunStatus
from storage.queries.crawl_runs import (
    fail_run,
    finish_run,
    last_good_offers,
    mark_stale_runs_failed,
    start_run,
    this_host,
)
from storage.queries.legal_entities import LegalSeen, SellerLink, link_sellers, seller_links, upsert_seen_entities
from storage.queries.listings import (
    KnownListing,
    ListingSeen,
    SellerSeen,
    add_sellers,
    distributor_id,
    insert_new_listings,
    known_listings,
    new_listing,
    record_gone,
    seller_ids,
    touch_listings,
    upsert_listings,
)
from storage.queries.observations import (
    EvidenceRow,
    ObservationRow,
    add_evidence,
    already_observed,
    insert_observations,
    run_has_observations,
)
from storage.queries.sellers import sync_distributors

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
FLUSH_SECONDS = 2.0  # a batch is written when full, or this long after its first offer
STAT_STORED = "pricewatch/stored"
STAT_STORE_FAILED = "pricewatch/store_failed_batches"
# Close reasons that mean the crawl was stopped before it went through the site.
_INTERRUPTED = frozenset({"shutdown", "cancelled"})
# A running run older than the crawl time limit plus this is given up as dead.
_STALE_GRACE = dt.timedelta(minutes=15)


_ListingKey = tuple[int, str]  # (seller id, URL)
_Link = tuple[int, str | None]  # a storefront's (legal entity id, legal name)


@dataclass(frozen=True, slots=True)
class _Prepared:
    item: MatchedOffer
    listing: ListingSeen
    evidence: tuple[EvidenceRow, ...]


def _details(item: MatchedOffer) -> dict[str, Any]:
    """What the page said beyond the columns: raw texts, markers (parallel import), structured data."""
    offer = item.offer
    details: dict[str, Any] = {
        "title": offer.title,
        "price_raw": offer.price_raw,
        "old_price_raw": offer.old_price_raw,
        "stock_raw": offer.stock_raw,
        "seller_name": offer.seller_name,
        "markers": offer.markers,
        "structured": offer.structured,
        "canary": offer.is_canary,
        "price_sources": offer.price_sources,
        "seller_legal": offer.seller_legal,
    }
    if item.match.candidates and not item.match.matched:
        details["candidates"] = [c.vendor_code for c in item.match.candidates]
    return {key: value for key, value in details.items() if value}


def _add_evidence(session: Session, todo: Sequence[_Prepared]) -> dict[EvidenceRow, int]:
    """Store the files saved for the pages; several offers of one page (a marketplace's sellers) share them."""
    files = list(dict.fromkeys(e for p in todo for e in p.evidence))
    return dict(zip(files, add_evidence(session, files), strict=True))


def _evidence(
    offer_url: str, at: dt.datetime, root: Path, paths: Sequence[tuple[str, str | None]]
) -> tuple[EvidenceRow, ...]:
    """Records of the files the spider saved for this page; paths relative to the evidence directory."""
    rows = []
    for kind, path in paths:
        if not path:
            continue
        file = Path(path)
        try:
            data = file.read_bytes()
        except OSError as exc:
            logger.warning("evidence file %s unreadable: %s", path, exc.strerror)
            continue
        try:
            stored = str(file.resolve().relative_to(root.resolve()))
        except ValueError:
            stored = str(file.resolve())
        rows.append(EvidenceRow(kind, offer_url, at, hashlib.sha256(data).hexdigest(), stored, len(data)))
    return tuple(rows)


class StorePipeline:
    def __init__(
        self,
        crawler: Crawler,
        config: Config,
        *,
        distributor_code: str,
        db_url: str,
        run_key: str,
        daily_run_id: int | None,
        batch_size: int = BATCH_SIZE,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self.crawler = crawler
        self.config = config
        self.distributor = config.distributor(distributor_code)
        self.db_url = db_url
        self.run_key = run_key
        self.daily_run_id = daily_run_id
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self._buffered_since = 0.0
        self._timer: AsyncioLoopingCall | LoopingCall | None = None
        self.engine: Engine | None = None
        self.run_id: int | None = None
        self.distributor_id: int | None = None
        self.sellers: dict[str, int] = {}
        self.listings: dict[tuple[int, str], KnownListing] = {}
        self.known_before = 0  # listings of the distributor known when the run started
        self._learned: dict[tuple[int, str], KnownListing] = {}
        # Legal entities: the details this run wrote (ИНН → (details, id)) and each storefront's link, so that a
        # batch writes only what changed; `_pending_*` are a batch's, kept once it is committed.
        self.entities: dict[str, tuple[LegalSeen, int]] = {}
        self.links: dict[str, _Link] = {}
        self._pending_entities: dict[str, tuple[LegalSeen, int]] = {}
        self._pending_links: dict[str, _Link] = {}
        self.resumed = False
        self.buffer: list[MatchedOffer] = []
        self.stored = 0
        self.failed_batches = 0
        self.last_error: str | None = None
        self.canary_seen: MatchedOffer | None = None
        self.evidence_dir = Path(config.evidence.dir)
        # Storefronts on the authorised list; an entry with a `tax_id` alone authorises the entity (legal_entities).
        self._authorized = {
            s.seller_id for s in config.sellers if s.marketplace == distributor_code and s.seller_id is not None
        }

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        settings = crawler.settings
        run_key = settings.get("PRICEWATCH_RUN_KEY")
        if not run_key:
            raise ValueError("PRICEWATCH_RUN_KEY is not set: the store needs the crawl run's key")
        daily = settings.getint("PRICEWATCH_DAILY_RUN_ID", 0)
        pipeline = cls(
            crawler,
            job_config(settings),
            distributor_code=settings.get("PRICEWATCH_DISTRIBUTOR"),
            db_url=settings.get("PRICEWATCH_DB_URL"),
            run_key=run_key,
            daily_run_id=daily or None,
            batch_size=settings.getint("PRICEWATCH_STORE_BATCH", BATCH_SIZE),
            flush_seconds=settings.getfloat("PRICEWATCH_STORE_FLUSH_SECONDS", FLUSH_SECONDS),
        )
        crawler.signals.connect(pipeline.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    # ---------------------------------------------------------------- lifecycle

    def open_spider(self) -> None:
        self.engine = make_engine(self.db_url)
        limit = dt.timedelta(minutes=self.config.schedule.crawl_time_limit_minutes) + _STALE_GRACE
        with session_scope(self.engine) as session:
            stale = mark_stale_runs_failed(session, max_age=limit)
        if stale:
            logger.warning("crawl runs %s had died and are now marked failed", stale)
        with session_scope(self.engine) as session:
            sync_distributors(session, self.config)
            self.distributor_id = distributor_id(session, self.distributor.code)
            assert self.distributor_id is not None  # sync_distributors just wrote it
            run = start_run(
                session,
                self.run_key,
                self.distributor_id,
                pid=os.getpid(),
                host=this_host(),
                daily_run_id=self.daily_run_id,
            )
            self.run_id = run.id
            self.sellers = seller_ids(session, self.distributor_id)
            self.links = seller_links(session, self.distributor_id)
            self.listings = known_listings(session, self.distributor_id)
            self.known_before = len(self.listings)
            self.resumed = run_has_observations(session, run.id)
        logger.info("crawl run %s (%s) started for %s", self.run_id, self.run_key, self.distributor.code)

    def spider_opened(self, spider: Spider) -> None:
        """Also write what is buffered every few seconds, so a slow site's offers do not wait for a full batch
        (and a killed crawl loses seconds of work, not a batch)."""
        self._timer = create_looping_call(self._flush_due)
        self._timer.start(max(self.flush_seconds / 2, 0.1), now=False)

    def _flush_due(self) -> None:
        if self.buffer and time.monotonic() - self._buffered_since >= self.flush_seconds:
            self.flush()

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, MatchedOffer):
            return item
        if not self.buffer:
            self._buffered_since = time.monotonic()
        self.buffer.append(item)
        if item.offer.is_canary:
            self.canary_seen = item
        if len(self.buffer) >= self.batch_size:
            self.flush()
        return item

    def close_spider(self) -> None:
        """Store the last batch, then judge the run and finish it (before `spider_closed` reports it)."""
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        self.flush()
        if self.engine is None or self.run_id is None or self.distributor_id is None:
            return
        # The engine stops running when the crawl is shut down (a signal): then it did not go through the site.
        interrupted = not self.crawler.engine.running
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        with session_scope(self.engine) as session:
            touch_listings(session, self.run_id)
            last_good = last_good_offers(session, self.distributor_id, exclude_run_id=self.run_id)
            verdict = judge(
                stats, last_good, self._canary(), self.config.rules.crawl_health, known_listings=self.known_before
            )
            status = RunStatus.FINISHED
            if interrupted:
                status, verdict = RunStatus.FAILED, Verdict(Health.FAILED, "the crawl was stopped before it ended")
            elif self.failed_batches:
                status = RunStatus.FAILED
                verdict = Verdict(
                    Health.FAILED, f"{self.failed_batches} batches could not be stored: {self.last_error}"
                )
            finish_run(
                session,
                self.run_id,
                status=status,
                health=verdict.health,
                reason=verdict.reason,
                pages=int(stats.get(STAT_PRODUCT_PAGES, 0)),
                offers=int(stats.get(STAT_OFFERS, self.stored)),
                errors=int(stats.get(STAT_ERRORS, 0)),
                stats=_plain_stats({**stats, **self._outcome(verdict)}),
            )
            if status == RunStatus.FINISHED and verdict.health == Health.OK:
                self._record_gone(session, self.run_id, self.distributor_id, complete=bool(stats.get(STAT_COMPLETE)))
        if self.crawler.stats:
            self.crawler.stats.set_value(STAT_HEALTH, verdict.health.value)
            if verdict.cause is not None:
                self.crawler.stats.set_value(STAT_HEALTH_CAUSE, verdict.cause.value)
        logger.info("crawl run %s %s: %s (%s)", self.run_id, status.value, verdict.health.value, verdict.reason)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """A crawl cancelled (not shut down, which close_spider saw), or closed by its spider for a reason of its own
        (a listing page it could not read), must not count as finished either."""
        if self.engine is None or self.run_id is None:
            return
        failure = f"the crawl was stopped ({reason})" if reason in _INTERRUPTED else None
        if failure is None and reason not in FINISHED_REASONS:
            failure = reason  # the spider closed itself and said why (a listing page it could not read)
        if failure is not None:
            with session_scope(self.engine) as session:
                fail_run(session, self.run_id, failure)
            if self.crawler.stats:
                self.crawler.stats.set_value(STAT_HEALTH, Health.FAILED.value)
        self.engine.dispose()

    def _record_gone(self, session: Session, run_id: int, distributor_id: int, *, complete: bool) -> None:
        """A run judged ok: the gone listings it read are back; a complete one marks the listings it confirms gone
        (a feed: every one missing from it)."""
        changes = record_gone(
            session,
            run_id,
            distributor_id,
            at=clock.utcnow(),
            complete=complete,
            missing_is_gone=self.distributor.spider == "feed",
        )
        if changes.gone or changes.back:
            logger.info("crawl run %s: gone %s, back %d", run_id, changes.gone, changes.back)

    def _outcome(self, verdict: Verdict) -> dict[str, Any]:
        """What the store adds to the run's stats: offers stored, batches lost, the degraded verdict's cause."""
        outcome: dict[str, Any] = {STAT_STORED: self.stored, STAT_STORE_FAILED: self.failed_batches}
        if verdict.cause is not None:
            outcome[STAT_HEALTH_CAUSE] = verdict.cause.value
        return outcome

    # ---------------------------------------------------------------- batches

    def _canary(self) -> CanaryCheck | None:
        canary = self.distributor.canary
        if canary is None:
            return None
        expected_stock = canary.stock
        if self.canary_seen is None:
            return CanaryCheck(canary.url, canary.price, expected_stock)
        offer = self.canary_seen.offer
        return CanaryCheck(
            canary.url,
            canary.price,
            expected_stock,
            seen=True,
            price=Decimal(offer.price) if offer.price is not None else None,
            stock=offer.stock,
            flags=tuple(offer.flags),
        )

    def flush(self) -> None:
        """Store the buffered offers in one transaction; a failure loses this batch only and fails the run."""
        batch, self.buffer = self.buffer, []
        if not batch or self.engine is None or self.run_id is None or self.distributor_id is None:
            return
        self._learned, self._pending_entities, self._pending_links = {}, {}, {}
        try:
            with session_scope(self.engine) as session:
                self.stored += self._store(session, self.run_id, self.distributor_id, batch)
            self.listings.update(self._learned)
            self.entities.update(self._pending_entities)
            self.links.update(self._pending_links)
        except Exception as exc:
            self.failed_batches += 1
            self.last_error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            logger.exception("a batch of %d offers could not be stored", len(batch))
        if self.crawler.stats:
            self.crawler.stats.set_value(STAT_STORED, self.stored)

    def _seller(self, item: MatchedOffer) -> SellerSeen:
        offer = item.offer
        own = offer.seller_code == self.distributor.code
        name = offer.seller_name or (self.distributor.name if own else offer.seller_code)
        authorized = self.distributor.authorized if own else offer.seller_code in self._authorized
        return SellerSeen(offer.seller_code, name, authorized)

    def _store(self, session: Session, run_id: int, distributor: int, batch: Sequence[MatchedOffer]) -> int:
        self._add_sellers(session, distributor, batch)
        self._write_legal(session, batch)
        by_key = self._last_readings(batch)
        listing_id = self._write_listings(session, by_key)
        todo = list(by_key.items())
        if self.resumed:
            seen_before = already_observed(session, run_id, listing_id.values())
            todo = [(key, p) for key, p in todo if listing_id[key] not in seen_before]
        evidence_ids = _add_evidence(session, [p for _, p in todo])
        rows = [self._observation(listing_id[key], p, evidence_ids) for key, p in todo]
        return insert_observations(session, run_id, rows)

    def _add_sellers(self, session: Session, distributor: int, batch: Sequence[MatchedOffer]) -> None:
        new = [self._seller(item) for item in batch if item.offer.seller_code not in self.sellers]
        if new:
            self.sellers.update(add_sellers(session, distributor, new))

    def _write_legal(self, session: Session, batch: Sequence[MatchedOffer]) -> None:
        """Record the legal entities the batch's sellers published and tie each storefront to its own (the last
        reading counts). A seller read without legal details keeps the entity it was tied to."""
        seen: dict[str, LegalSeen] = {}
        owner: dict[str, str] = {}  # seller code → ИНН
        for item in batch:
            legal = item.offer.seller_legal
            tax_id = legal.get("tax_id") if legal else None
            if legal is None or not tax_id:
                continue
            seen[tax_id] = LegalSeen(tax_id, legal.get("ogrn"), legal.get("legal_name"), legal.get("address"))
            owner[item.offer.seller_code] = tax_id
        if not seen:
            return
        # An entity already written with the same details this run is not written again.
        fresh = [e for tax_id, e in seen.items() if tax_id not in self.entities or self.entities[tax_id][0] != e]
        written = upsert_seen_entities(session, fresh, clock.utcnow())
        ids = {tax_id: entity_id for tax_id, (_, entity_id) in self.entities.items()} | written
        self._pending_entities = {tax_id: (seen[tax_id], ids[tax_id]) for tax_id in written}
        for code, tax_id in owner.items():
            link = (ids[tax_id], seen[tax_id].legal_name)
            if self.links.get(code) != link:
                self._pending_links[code] = link
        link_sellers(
            session,
            [
                SellerLink(self.sellers[code], entity_id, name, owner[code])
                for code, (entity_id, name) in self._pending_links.items()
            ],
        )

    def _last_readings(self, batch: Sequence[MatchedOffer]) -> dict[_ListingKey, _Prepared]:
        """The batch's offers by listing; the same page twice in one batch: its last reading counts."""
        by_key: dict[_ListingKey, _Prepared] = {}
        for item in batch:
            prepared = self._prepare(item)
            by_key[(prepared.listing.seller_id, prepared.listing.url)] = prepared
        return by_key

    def _write_listings(self, session: Session, by_key: dict[_ListingKey, _Prepared]) -> dict[_ListingKey, int]:
        """Insert the new listings and update the changed ones; the listing id of every key.

        The rest keep their row (last_seen_at is set at run end). What was written is kept in `_learned`, for the
        cache once the batch is committed.
        """
        fresh = [p.listing for key, p in by_key.items() if key not in self.listings]
        changed = [p.listing for key, p in by_key.items() if key in self.listings and self._changes(key, p.listing)]
        ids = insert_new_listings(session, fresh) | upsert_listings(session, changed)
        for key, prepared in by_key.items():
            if key in ids:
                was = self.listings.get(key)
                self._learned[key] = was.after(prepared.listing) if was else new_listing(ids[key], prepared.listing)
        return {key: ids.get(key) or self.listings[key].id for key in by_key}

    def _changes(self, key: _ListingKey, seen: ListingSeen) -> bool:
        """This reading changes what the known listing's row holds."""
        known = self.listings[key]
        return known.after(seen) != known

    def _prepare(self, item: MatchedOffer) -> _Prepared:
        offer, match = item.offer, item.match
        at = dt.datetime.fromisoformat(offer.fetched_at) if offer.fetched_at else clock.utcnow()
        listing = ListingSeen(
            seller_id=self.sellers[offer.seller_code],
            url=offer.url,
            seller_sku=offer.seller_sku,
            title=offer.title,
            raw_vendor_code=offer.vendor_code,
            raw_gtin=offer.gtin,
            product_id=match.product_id,
            match_method=match.method,
            match_confidence=match.confidence,
            seen_at=at,
            match_reason=match.reason.as_json(),
            region=offer.region,
        )
        if not (offer.html_path or offer.screenshot_path or offer.json_path):  # most pages: nothing to hash
            return _Prepared(item, listing, ())
        files = [("html", offer.html_path), ("screenshot", offer.screenshot_path), ("json", offer.json_path)]
        return _Prepared(item, listing, _evidence(offer.url, at, self.evidence_dir, files))

    @staticmethod
    def _observation(listing_id: int, prepared: _Prepared, evidence_ids: dict[EvidenceRow, int]) -> ObservationRow:
        offer = prepared.item.offer
        details = _details(prepared.item)
        ids = {e.kind: evidence_ids[e] for e in prepared.evidence}
        if "screenshot" in ids:
            details["screenshot_evidence_id"] = ids["screenshot"]
        if "json" in ids:
            details["json_evidence_id"] = ids["json"]
        return ObservationRow(
            listing_id=listing_id,
            observed_at=prepared.listing.seen_at,
            price=Decimal(offer.price) if offer.price is not None else None,
            currency=offer.currency,
            old_price=Decimal(offer.old_price) if offer.old_price is not None else None,
            stock=StockState(offer.stock),
            quantity=offer.quantity,
            http_status=offer.http_status,
            flags=list(offer.flags),
            details=details,
            evidence_id=ids.get("html", ids.get("screenshot")),
            seller_price=Decimal(offer.seller_price) if offer.seller_price is not None else None,
            card_price=Decimal(offer.card_price) if offer.card_price is not None else None,
        )


def _plain_stats(stats: dict[str, Any]) -> dict[str, Any]:
    """The JSON-storable part of Scrapy's stats (numbers and strings)."""
    return {key: value for key, value in stats.items() if isinstance(value, int | float | str)}
