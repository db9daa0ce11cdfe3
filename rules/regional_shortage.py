"""Regional shortage: at least N distributors of one region out of one SKU at once (a procurement signal); or, on
a marketplace read per delivery region, a SKU out at every seller in one region while in stock in another."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from crawler.config import Config
from crawler.items import Health, StockState
from rules.base import Finding, OnBadRun, Rule, RuleContext, RuleResult
from rules.describe import subject
from storage.models import SellerKind
from storage.queries.rules import AVAILABLE, DistributorRun, OfferState

NAME = "regional_shortage"
SUBJECT = {
    "ru": "Дефицит в регионе {region}: {vendor_code} {product} нет у {count} дистрибьюторов ({codes})",
    "en": "Shortage in {region}: {vendor_code} {product} out at {count} distributors ({codes})",
}
MARKETPLACE_SUBJECT = {
    "ru": "Дефицит в регионе {region} на {marketplace}: {vendor_code} {product} нет ни у одного продавца ({count}), "
    "в наличии: {regions}",
    "en": "Shortage in {region} on {marketplace}: {vendor_code} {product} out at every seller ({count}), "
    "in stock: {regions}",
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
    undecided = {
        fp
        for fp, alert in ctx.open(NAME).items()
        if "marketplace" not in (details := alert.details or {}) and details.get("region") in unsure_regions
    }
    on_marketplaces, unsure = _marketplace_shortages(ctx)
    return RuleResult(findings + on_marketplaces, frozenset(undecided | unsure))


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


@dataclass
class _RegionStock:
    """One marketplace's offers of one product in one delivery region: who is out, whether any is not."""

    out: set[str] = field(default_factory=set)  # the sellers out of stock (or delisted, or gone)
    not_out: bool = False  # a known reading not out of stock (in stock, low, pre-order)
    available: bool = False  # in stock or low at some seller
    unknown: bool = False  # a reading that says nothing (a blocked page): skipped

    @property
    def all_out(self) -> bool:
        return bool(self.out) and not self.not_out

    def record(self, offer: OfferState) -> None:
        """Count one seller's latest reading of the product in this region."""
        if offer.stock == StockState.UNKNOWN:
            self.unknown = True
        elif offer.stock == StockState.OUT_OF_STOCK:
            self.out.add(offer.seller_code)
        else:
            self.not_out = True
            self.available = self.available or offer.stock in AVAILABLE


_MarketplaceStock = dict[tuple[int, int], dict[str, _RegionStock]]  # (marketplace id, product id) → region → stock


def _marketplace_shortages(ctx: RuleContext) -> tuple[list[Finding], set[str]]:
    """A marketplace read per region (its listings carry a region) whose latest run is ok: a SKU out at every seller
    in one region (each seller's known readings; unknown ones skipped) while in stock in another region of it.
    Open alerts that cannot be judged (the region's readings all unknown, or the other regions' unknown) are kept."""
    marketplaces = {
        run.distributor_id: run
        for run in ctx.runs.values()
        if run.kind == SellerKind.MARKETPLACE and run.verdict == Health.OK
    }
    stock, sample = _marketplace_stock(ctx, marketplaces)
    findings = _marketplace_findings(ctx, marketplaces, stock, sample)
    unsure = _unsure_marketplace_alerts(ctx, marketplaces, stock, found={f.fingerprint for f in findings})
    return findings, unsure


def _marketplace_stock(
    ctx: RuleContext, marketplaces: dict[int, DistributorRun]
) -> tuple[_MarketplaceStock, dict[int, OfferState]]:
    """The regional offers of `marketplaces` by marketplace, product and region; and an offer of each product,
    for its names."""
    stock: _MarketplaceStock = defaultdict(dict)
    sample: dict[int, OfferState] = {}
    for offer in ctx.offers:
        if offer.region is None or offer.distributor_id not in marketplaces:
            continue
        region = stock[(offer.distributor_id, offer.product_id)].setdefault(offer.region, _RegionStock())
        sample.setdefault(offer.product_id, offer)
        region.record(offer)
    return stock, sample


def _marketplace_findings(
    ctx: RuleContext,
    marketplaces: dict[int, DistributorRun],
    stock: _MarketplaceStock,
    sample: dict[int, OfferState],
) -> list[Finding]:
    """A finding per region out at every seller while some other region of the marketplace has the product."""
    findings: list[Finding] = []
    for (distributor_id, product_id), regions in sorted(stock.items()):
        in_stock = sorted(code for code, r in regions.items() if r.available)
        for code, r in sorted(regions.items()):
            if r.all_out and in_stock:
                run, product = marketplaces[distributor_id], sample[product_id]
                findings.append(_marketplace_finding(ctx, run, code, product, out=r.out, in_stock=in_stock))
    return findings


def _unsure_marketplace_alerts(
    ctx: RuleContext, marketplaces: dict[int, DistributorRun], stock: _MarketplaceStock, *, found: set[str]
) -> set[str]:
    """The open marketplace alerts of `marketplaces` not `found` again that the readings cannot judge."""
    unsure = set()
    for fp, alert in ctx.open(NAME).items():
        details = alert.details or {}
        if fp in found or "marketplace" not in details or alert.distributor_id not in marketplaces:
            continue
        regions = stock.get((alert.distributor_id, alert.product_id or 0), {})
        here = regions.get(str(details.get("region")))
        if here is not None and _undecided(here, [r for code, r in regions.items() if r is not here]):
            unsure.add(fp)
    return unsure


def _undecided(here: _RegionStock, others: list[_RegionStock]) -> bool:
    """A region's open shortage cannot be judged: nothing known there, or out there with the rest unknown."""
    if not (here.out or here.not_out):
        return True
    return here.all_out and any(r.unknown for r in others)


def _marketplace_finding(
    ctx: RuleContext, run: DistributorRun, region: str, product: OfferState, *, out: set[str], in_stock: list[str]
) -> Finding:
    """`out`: the sellers out of the product in the region; `in_stock`: the regions where some seller has it."""
    names = next((d.regions for d in ctx.config.distributors if d.code == run.code), [])
    name = {r.code: r.name for r in names}
    return Finding(
        rule=NAME,
        fingerprint=f"{NAME}:{run.code}:{region}:{product.product_id}",
        severity="warning",
        subject=subject(
            ctx,
            MARKETPLACE_SUBJECT,
            region=name.get(region, region),
            marketplace=run.name,
            vendor_code=product.vendor_code,
            product=product.product_name,
            count=len(out),
            regions=", ".join(name.get(code, code) for code in in_stock),
        ),
        details={
            "region": region,
            "region_name": name.get(region, region),
            "marketplace": run.code,
            "marketplace_name": run.name,
            "regions_in_stock": in_stock,
            "sellers": sorted(out),
            "distributors": [run.code],
            "vendor_code": product.vendor_code,
            "product_name": product.product_name,
            "category": product.category,
        },
        product_id=product.product_id,
        distributor_id=run.distributor_id,
    )


def enabled(config: Config) -> bool:
    return config.rules.stock_out.enabled


RULE = Rule(NAME, evaluate, enabled, on_degraded=OnBadRun.HOLD)
