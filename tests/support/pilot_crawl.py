"""What a crawl of a pilot site gave, and how it compares with the site's ground truth."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fixtures.pilot.scenario import Offer
from fixtures.sites.base import Hit
from pricewatch.crawls.local import CrawlSummary
from storage.codes import normalize_gtin


@dataclass(frozen=True)
class Crawl:
    """One crawl's summary and the offers it wrote (JSON lines, after the normalize pipeline)."""

    summary: CrawlSummary
    offers: list[dict[str, Any]]
    base_url: str
    hits: list[Hit]  # what the site was asked, in order

    @property
    def stats(self) -> dict[str, Any]:
        return self.summary.stats

    def by_key(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Offers keyed by (URL path, seller code); a key twice would be a duplicate offer."""
        keyed: dict[tuple[str, str], dict[str, Any]] = {}
        for offer in self.offers:
            key = (offer["url"].removeprefix(self.base_url), offer["seller_code"])
            assert key not in keyed, f"offer {key} came out twice"
            keyed[key] = offer
        return keyed

    def offer(self, path: str, seller: str | None = None) -> dict[str, Any]:
        found = [o for (p, s), o in self.by_key().items() if p == path and (seller is None or s == seller)]
        assert len(found) == 1, f"{len(found)} offers for {path} (seller {seller})"
        return found[0]


def mismatches(truth: Offer, got: dict[str, Any]) -> list[str]:
    """What a crawled offer gets wrong against the ground truth (empty: all right)."""
    wrong = []

    def check(what: str, expected: Any, actual: Any) -> None:
        if expected != actual:
            wrong.append(f"{truth.path} [{truth.seller_id}] {what}: expected {expected!r}, got {actual!r}")

    check("price", truth.price, None if got["price"] is None else Decimal(got["price"]))
    if truth.price is not None:
        check("currency", truth.currency, got["currency"])
        check("old price", truth.old_price, None if got["old_price"] is None else Decimal(got["old_price"]))
    check("stock", truth.stock.value, got["stock"])
    check("quantity", truth.quantity, got["quantity"])
    check("flags", sorted(truth.flags), sorted(got["flags"]))
    check("vendor code", truth.vendor_code, got["vendor_code"])
    check("gtin", normalize_gtin(truth.gtin) if truth.gtin else None, got["gtin"])
    check("seller name", truth.seller_name if truth.http_status == 200 else None, got["seller_name"])
    check("markers", sorted(truth.markers), sorted(got["markers"]))
    check("canary", truth.canary, got["is_canary"])
    return wrong


def assert_matches_truth(crawl: Crawl, truth: tuple[Offer, ...]) -> None:
    """Every ground-truth offer came out right, and no offer came out that the site does not show."""
    got = crawl.by_key()
    expected = {(o.path, o.seller_id): o for o in truth}
    assert sorted(set(expected) - set(got)) == [], "offers the crawl missed"
    assert sorted(set(got) - set(expected)) == [], "offers the crawl invented"
    wrong = [line for key, offer in expected.items() for line in mismatches(offer, got[key])]
    assert wrong == []


CrawlPilot = Callable[..., Crawl]
