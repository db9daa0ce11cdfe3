"""What a rule is given and what it gives back: the evaluation context, findings, and the rule's declaration."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from crawler.config import Config
from crawler.items import Health, StockState
from storage.models import Alert, SellerKind
from storage.queries.rules import DistributorRun, OfferState, latest_offers, product_gtins

Severity = Literal["info", "warning", "critical"]


@dataclass(frozen=True)
class Finding:
    """One thing a rule found true now; the engine opens or continues the alert with its fingerprint."""

    rule: str
    fingerprint: str
    severity: Severity
    subject: str
    details: dict[str, Any]
    listing_id: int | None = None
    product_id: int | None = None
    distributor_id: int | None = None


@dataclass(frozen=True)
class RuleResult:
    findings: list[Finding]
    # Open fingerprints the rule could not judge this time (no data): kept open, without an event.
    undecided: frozenset[str] = field(default_factory=frozenset)


class OnBadRun(enum.Enum):
    """What a rule does for a distributor whose latest run is degraded or failed: every rule but crawler health
    holds (a run that cannot be believed opens and resolves nothing)."""

    EVALUATE = "evaluate"  # as usual
    HOLD = "hold"  # no new findings, open alerts kept as they are


@dataclass(frozen=True)
class Rule:
    name: str
    evaluate: Callable[[RuleContext], RuleResult]
    enabled: Callable[[Config], bool]
    on_degraded: OnBadRun
    on_failed: OnBadRun = OnBadRun.HOLD

    def on(self, verdict: Health) -> OnBadRun:
        if verdict == Health.FAILED:
            return self.on_failed
        if verdict == Health.DEGRADED:
            return self.on_degraded
        return OnBadRun.EVALUATE


class RuleContext:
    """The state one rules run evaluates; the latest offers are read once and shared by the rules."""

    def __init__(
        self,
        session: Session,
        config: Config,
        runs: Mapping[int, DistributorRun],
        open_alerts: Mapping[str, Mapping[str, Alert]],
    ) -> None:
        self.session = session
        self.config = config
        self.runs = runs
        self._open = open_alerts

    @property
    def tz(self) -> ZoneInfo:
        return self.config.tz

    @property
    def language(self) -> str:
        return self.config.notify.language

    def open(self, rule: str) -> Mapping[str, Alert]:
        """The rule's open alerts by fingerprint."""
        return self._open.get(rule, {})

    @cached_property
    def offers(self) -> list[OfferState]:
        return latest_offers(self.session, self.tz, self.config.rules.dumping)

    @cached_property
    def offers_by_listing(self) -> dict[int, OfferState]:
        return {offer.listing_id: offer for offer in self.offers}

    @cached_property
    def gtins(self) -> dict[int, frozenset[str]]:
        return product_gtins(self.session)

    @cached_property
    def _authorized_sellers(self) -> frozenset[tuple[str, str]]:
        return frozenset((s.marketplace, s.seller_id) for s in self.config.sellers)

    @cached_property
    def _configured(self) -> dict[str, bool]:
        return {d.code: d.authorized for d in self.config.distributors}

    def seller_authorized(self, offer: OfferState) -> bool:
        """By the config: a marketplace seller on its `sellers` list, a shop that is an authorized distributor.

        A distributor no longer in the config keeps what the database recorded.
        """
        run = self.runs[offer.distributor_id]
        if run.code not in self._configured:
            return offer.seller_authorized
        if run.kind == SellerKind.MARKETPLACE:
            return (run.code, offer.seller_code) in self._authorized_sellers
        return self._configured[run.code] if offer.seller_code == run.code else offer.seller_authorized


def listing_fingerprint(rule: str, listing_id: int) -> str:
    return f"{rule}:{listing_id}"


def stock_readings(ctx: RuleContext, rule: str) -> tuple[list[tuple[str, OfferState]], frozenset[str]]:
    """The offers a stock rule can judge — read in their distributor's latest run, stock known — by fingerprint;
    and the rule's open fingerprints on the others, which stay open undecided."""
    open_alerts = ctx.open(rule)
    judged, undecided = [], set()
    for offer in ctx.offers:
        fp = listing_fingerprint(rule, offer.listing_id)
        if offer.current and offer.stock != StockState.UNKNOWN:
            judged.append((fp, offer))
        elif fp in open_alerts:
            undecided.add(fp)
    return judged, frozenset(undecided)
