"""What a rule is given and what it gives back: the evaluation context, findings, and the rule's declaration."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from crawler.config import Config, PriceBasis
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
    def _price_basis(self) -> dict[int, PriceBasis]:
        return {d: self.config.price_basis(run.code) for d, run in self.runs.items()}

    def price_basis(self, offer: OfferState) -> PriceBasis:
        """The price dumping judges at the offer's distributor (`Config.price_basis`)."""
        return self._price_basis[offer.distributor_id]

    @cached_property
    def _reads_seller_price(self) -> frozenset[int]:
        configured = {d.code for d in self.config.distributors if d.reads_seller_price}
        return frozenset(d for d, run in self.runs.items() if run.code in configured)

    def reads_seller_price(self, offer: OfferState) -> bool:
        """The offer's site is read for the seller's own price (`Distributor.reads_seller_price`)."""
        return offer.distributor_id in self._reads_seller_price

    @cached_property
    def _listed_storefronts(self) -> frozenset[tuple[str, str]]:
        """(marketplace, seller id) of the `sellers` entries naming a storefront."""
        return frozenset((s.marketplace, s.seller_id) for s in self.config.sellers if s.seller_id is not None)

    @cached_property
    def _listed_entities(self) -> frozenset[tuple[str, str]]:
        """(marketplace, ИНН) of the `sellers` entries naming a legal entity alone: every storefront of it."""
        return frozenset((s.marketplace, s.tax_id) for s in self.config.sellers if s.seller_id is None and s.tax_id)

    @cached_property
    def _entity_authorization(self) -> dict[str, bool]:
        """ИНН → authorised, by the config: `legal_entities`, then any `sellers` entry giving the ИНН (authorised)."""
        known = {e.tax_id: e.authorized for e in self.config.legal_entities}
        known.update({s.tax_id: True for s in self.config.sellers if s.tax_id})
        return known

    @cached_property
    def _configured(self) -> dict[str, bool]:
        return {d.code: d.authorized for d in self.config.distributors}

    def storefront_listed(self, offer: OfferState) -> bool:
        """A marketplace offer's storefront is on the authorised list: by its seller id, or by its ИНН alone."""
        code = self.runs[offer.distributor_id].code
        listed_entity = offer.legal_tax_id is not None and (code, offer.legal_tax_id) in self._listed_entities
        return (code, offer.seller_code) in self._listed_storefronts or listed_entity

    def entity_authorized(self, offer: OfferState) -> bool:
        """The seller's legal entity is authorised: by the config where it names the ИНН, else as recorded (a
        contract); an unknown entity is not."""
        if offer.legal_tax_id is None:
            return False
        configured = self._entity_authorization.get(offer.legal_tax_id)
        return configured if configured is not None else bool(offer.legal_authorized)

    def unlisted_storefront(self, offer: OfferState) -> bool:
        """A configured marketplace's storefront not on the authorised list whose legal entity is authorised."""
        run = self.runs[offer.distributor_id]
        return (
            run.code in self._configured
            and run.kind == SellerKind.MARKETPLACE
            and not self.storefront_listed(offer)
            and self.entity_authorized(offer)
        )

    def seller_authorized(self, offer: OfferState) -> bool:
        """By the config: a marketplace storefront on its `sellers` list or of an authorised legal entity (an
        unlisted storefront is reported as such, not as an unauthorised seller), a shop that is an authorised
        distributor. A distributor no longer in the config keeps what the database recorded.
        """
        run = self.runs[offer.distributor_id]
        if run.code not in self._configured:
            return offer.seller_authorized
        if run.kind == SellerKind.MARKETPLACE:
            return self.storefront_listed(offer) or self.entity_authorized(offer)
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
