"""Regional shortage: at least N distributors of one region out of one SKU at once (a procurement signal)."""

from __future__ import annotations

from collections import defaultdict

from crawler.config import Config
from crawler.items import Health, StockState
from rules.base import Finding, OnBadRun, Rule, RuleContext, RuleResult
from rules.describe import subject
from storage.models import SellerKind
from storage.queries.rules import OfferState

NAME = "regional_shortage"
SUBJECT = {
    "ru": "Дефицит в регионе {region}: {vendor_code} {product} нет у {count} дистрибьюторов ({codes})",
    "en": "Shortage in {region}: {vendor_code} {product} out at {count} distributors ({codes})",
}


def evaluate(ctx: RuleContext) -> RuleResult:
    """A distributor is out of a SKU when every listing of it there is out of stock (or delisted, or gone) in its
    last known reading (an unknown one, a blocked page, is skipped). Only distributors whose latest run is ok
    count; while a distributor of a region cannot be read, the region's open alerts are kept as they are."""
    minimum = ctx.config.rules.stock_out.regional_shortage_min_distributors
    counted, unsure_regions = _regional_distributors(ctx)
    out, sample = _out_of_stock(ctx, counted)
    findings = []
    for (region, product_id), states in sorted(out.items()):
        codes = sorted(code for code, all_out in states.items() if all_out)
        if len(codes) >= minimum:
            findings.append(_finding(ctx, region, sample[product_id], codes))
    undecided = frozenset(
        fp for fp, alert in ctx.open(NAME).items() if (alert.details or {}).get("region") in unsure_regions
    )
    return RuleResult(findings, undecided)


def _regional_distributors(ctx: RuleContext) -> tuple[dict[int, tuple[str, str]], set[str]]:
    """The distributors (not marketplaces) with a region whose latest run is ok, by id: (region, code);
    and the regions with a distributor that cannot be read."""
    regional = [(run, run.region) for run in ctx.runs.values() if run.region and run.kind != SellerKind.MARKETPLACE]
    counted = {run.distributor_id: (region, run.code) for run, region in regional if run.verdict == Health.OK}
    unsure_regions = {region for run, region in regional if run.verdict != Health.OK}
    return counted, unsure_regions


def _out_of_stock(
    ctx: RuleContext, counted: dict[int, tuple[str, str]]
) -> tuple[dict[tuple[str, int], dict[str, bool]], dict[int, OfferState]]:
    """(region, product) → distributor code → whether all its listings of the product are out; and an offer of
    each product, for its names."""
    out: dict[tuple[str, int], dict[str, bool]] = defaultdict(dict)
    sample: dict[int, OfferState] = {}
    for offer in ctx.offers:
        if offer.distributor_id not in counted:
            continue
        region, code = counted[offer.distributor_id]
        states = out[(region, offer.product_id)]
        known = offer.last_known_stock if offer.stock == StockState.UNKNOWN else offer.stock
        states[code] = states.get(code, True) and known == StockState.OUT_OF_STOCK
        sample.setdefault(offer.product_id, offer)
    return out, sample


def _finding(ctx: RuleContext, region: str, product: OfferState, codes: list[str]) -> Finding:
    """`codes`: the distributors of the region out of the product."""
    return Finding(
        rule=NAME,
        fingerprint=f"{NAME}:{region}:{product.product_id}",
        severity="warning",
        subject=subject(
            ctx,
            SUBJECT,
            region=region,
            vendor_code=product.vendor_code,
            product=product.product_name,
            count=len(codes),
            codes=", ".join(codes),
        ),
        details={
            "region": region,
            "distributors": codes,
            "vendor_code": product.vendor_code,
            "product_name": product.product_name,
            "category": product.category,
        },
        product_id=product.product_id,
    )


def enabled(config: Config) -> bool:
    return config.rules.stock_out.enabled


RULE = Rule(NAME, evaluate, enabled, on_degraded=OnBadRun.HOLD)
