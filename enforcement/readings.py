"""Compliance readings: each matched listing's latest reading from a healthy crawl against the dumping threshold
in force on its day, one per listing and local day, for the compliance figures (storage/queries/compliance.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crawler.config import Config
from crawler.items import Health
from rules.dumping import RRP_CURRENCY
from storage.queries.cases import Reading, record_readings
from storage.queries.rules import OfferState, latest_offers, latest_runs


def _reading(offer: OfferState, config: Config) -> Reading | None:
    """The offer as a reading; None when it says nothing about the RRP (no firm price, no RRP, another currency)."""
    price, rrp = offer.firm_price, offer.rrp
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
    healthy = {run.distributor_id for run in latest_runs(session) if run.verdict == Health.OK}
    offers = latest_offers(session, config.tz, config.rules.dumping)
    readings = [
        reading
        for offer in offers
        if offer.current and offer.distributor_id in healthy and (reading := _reading(offer, config)) is not None
    ]
    return record_readings(session, readings)
