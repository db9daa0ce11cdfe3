"""Compliance readings: each matched listing's latest reading from a healthy crawl against the dumping threshold
in force on its day, one per listing and local day, for the compliance figures (storage/queries/compliance.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crawler.config import Config, PriceBasis
from crawler.items import Health
from rules.dumping import RRP_CURRENCY, basis_price
from storage.queries.cases import Reading, record_readings
from storage.queries.rules import OfferState, latest_offers, latest_runs


def _reading(offer: OfferState, config: Config, basis: tuple[PriceBasis, bool]) -> Reading | None:
    """The offer as a reading of the price dumping judges (`basis`: the distributor's price basis, and whether its
    site is read for the seller's own price); None when it says nothing about the RRP (no such price, no RRP,
    another currency)."""
    price = basis_price(offer, basis[0], seller_price_read=basis[1])
    rrp = offer.rrp
    if price is None or rrp is None or (offer.currency or RRP_CURRENCY) != RRP_CURRENCY:
        return None
    threshold = offer.threshold_price if offer.tolerance_pct is not None else None
    return Reading(
        listing_id=offer.listing_id,
        day=offer.observed_at.astimezone(config.tz).date(),
        distributor_id=offer.distributor_id,
        observed_at=offer.observed_at,
        price=price,
        rrp=rrp,
        threshold=threshold,
        compliant=threshold is None or price >= threshold,  # a promo without a tolerance exempts the offer
    )


def record(session: Session, config: Config) -> int:
    """Record the readings of every distributor whose latest run is healthy (ok): a degraded or failed crawl may
    have misread its prices, and must not count against anyone. Returns how many were recorded."""
    configured = {d.code: d for d in config.distributors}
    healthy = {
        run.distributor_id: (
            config.price_basis(run.code),
            run.code in configured and configured[run.code].reads_seller_price,
        )
        for run in latest_runs(session)
        if run.verdict == Health.OK
    }
    offers = latest_offers(session, config.tz, config.rules.dumping)
    readings = [
        reading
        for offer in offers
        if offer.current
        and offer.distributor_id in healthy
        and (reading := _reading(offer, config, healthy[offer.distributor_id])) is not None
    ]
    return record_readings(session, readings)
