"""Unlisted storefront: a marketplace storefront not on the authorised list whose legal entity is authorised.

The entity has a contract (by its ИНН: `legal_entities`, a `sellers` entry giving it, or a recorded contract), so
the storefront is not an unauthorised seller for parallel import; it should be put on the list, or explained."""

from __future__ import annotations

from collections import defaultdict

from crawler.config import Config
from rules.base import Finding, OnBadRun, Rule, RuleContext, RuleResult
from rules.describe import legal_entity, subject
from storage.queries.rules import OfferState

NAME = "unlisted_storefront"
URLS_SHOWN = 10  # of the storefront's pages in the details: enough to look at, not its whole range
SUBJECT = {
    "ru": "Витрина вне списка: {seller} ({code}) на {marketplace} — {entity}, ИНН {tax_id}, авторизовано; "
    "витрины нет в списке ({count} предл.)",
    "en": "Unlisted storefront: {seller} ({code}) on {marketplace} — {entity}, INN {tax_id}, is authorised; "
    "the storefront is not listed ({count} offers)",
}


def fingerprint(marketplace: str, seller_code: str) -> str:
    return f"{NAME}:{marketplace}:{seller_code}"


def evaluate(ctx: RuleContext) -> RuleResult:
    """Each such storefront offering the brand (any listing read neither delisted nor blocked). Resolves when the
    storefront is listed, its entity no longer authorised, or it no longer offers the brand; while its pages are
    blocked, its alert stays as it is."""
    offering: dict[str, list[OfferState]] = defaultdict(list)
    blocked: set[str] = set()
    for offer in ctx.offers:
        if offer.delisted or not ctx.unlisted_storefront(offer):
            continue
        fp = fingerprint(ctx.runs[offer.distributor_id].code, offer.seller_code)
        if offer.blocked:
            blocked.add(fp)
        else:
            offering[fp].append(offer)
    findings = [_finding(ctx, fp, offers) for fp, offers in sorted(offering.items())]
    undecided = frozenset(fp for fp in blocked - offering.keys() if fp in ctx.open(NAME))
    return RuleResult(findings, undecided)


def _finding(ctx: RuleContext, fp: str, offers: list[OfferState]) -> Finding:
    first = offers[0]
    run = ctx.runs[first.distributor_id]
    entity = legal_entity(first)
    return Finding(
        rule=NAME,
        fingerprint=fp,
        severity="warning",
        subject=subject(
            ctx,
            SUBJECT,
            seller=first.seller_name,
            code=first.seller_code,
            marketplace=run.name,
            entity=first.legal_name or first.legal_tax_id,
            tax_id=first.legal_tax_id,
            count=len(offers),
        ),
        details={
            "distributor_code": run.code,
            "distributor_name": run.name,
            "seller_name": first.seller_name,
            "seller_code": first.seller_code,
            "seller_authorized": True,  # by its legal entity
            "storefront_listed": False,
            "legal_entity": entity,
            "legal_entity_distributor": _supplier(ctx, first),
            "offers": len(offers),
            "vendor_codes": sorted({o.vendor_code for o in offers}),
            "urls": sorted(o.url for o in offers)[:URLS_SHOWN],
        },
        # One of its listings, so that reports and the panel can show the storefront and its evidence like any
        # listing alert's; the finding is the storefront's (its fingerprint), not that listing's.
        listing_id=min(o.listing_id for o in offers),
        distributor_id=first.distributor_id,
    )


def _supplier(ctx: RuleContext, offer: OfferState) -> str | None:
    """The distributor the storefront's entity buys from: as the config says, else as recorded."""
    configured = next((e.distributor for e in ctx.config.legal_entities if e.tax_id == offer.legal_tax_id), None)
    return configured or offer.legal_distributor


def enabled(config: Config) -> bool:
    return config.rules.parallel_import.enabled and config.rules.parallel_import.unlisted_storefront


RULE = Rule(NAME, evaluate, enabled, on_degraded=OnBadRun.HOLD)
