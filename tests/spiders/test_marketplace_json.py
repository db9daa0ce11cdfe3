"""The marketplace spider on vitrina: offers from the JSON asked for directly or captured while rendering, per
region, with the seller's legal details asked for once per seller; a JSON it cannot read falls back to the page."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from fixtures.pilot.vitrina import (
    CANARY_NM,
    REGIONS,
    SELLERS,
    VITRINA,
    card_offer,
    legal_entity,
    offers,
)
from tests.support.pilot_crawl import Crawl, CrawlPilot, assert_matches_truth
from tests.support.services import require

CHROMIUM = Path("/usr/bin/chromium")
PILOT_YAML = Path(__file__).resolve().parents[2] / "pilot.yaml"
pytestmark = pytest.mark.chromium
FIRST_REGION = "msk"  # pilot.yaml's first region: the canary's
MONEY_FIELDS = ("price", "seller_price", "card_price", "old_price")


def _entry() -> dict[str, Any]:
    data = yaml.safe_load(PILOT_YAML.read_text(encoding="utf-8"))
    entry: dict[str, Any] = next(d for d in data["distributors"] if d["code"] == VITRINA)
    return entry


def _json(**changed: Any) -> dict[str, Any]:
    """pilot.yaml's vitrina `json` with some keys changed (None: removed)."""
    source = {**_entry()["json"], **changed}
    return {"json": {k: v for k, v in source.items() if v is not None}}


def _money(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _truth(path: str, seller: str) -> Any:
    nm, dest = int(path.split("/")[2]), path.split("dest=")[1]
    region = next(code for code, (_, d) in REGIONS.items() if d == dest)
    truth = card_offer(nm, 1, region)
    assert truth.seller_id == seller
    return truth


@pytest.fixture(scope="module")
def direct(crawl_pilot: CrawlPilot, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    """Every card in every region, its JSON asked for directly, JSON evidence kept."""
    require(CHROMIUM.exists(), f"Chromium at {CHROMIUM}")  # the listing pages still render
    playwright = {**_entry()["playwright"], "screenshots": True}
    return crawl_pilot(VITRINA, distributor={"playwright": playwright}, evidence=str(tmp_path_factory.mktemp("ev")))


def test_direct_json_gives_every_card_in_every_region_with_its_prices_and_stock(direct: Crawl) -> None:
    assert direct.summary.status == "finished", direct.summary.reason
    # The canary is its first region's page: the other regions' offers of the canary card are plain offers.
    truth = tuple(replace(o, canary=o.canary and o.region == FIRST_REGION) for o in offers(1))
    assert_matches_truth(direct, truth)
    for (path, seller), got in direct.by_key().items():
        expected = _truth(path, seller)
        assert got["region"] == expected.region
        assert _money(got["seller_price"]) == expected.seller_price, path
        assert _money(got["card_price"]) == expected.card_price, path


def test_every_price_says_it_came_from_the_json(direct: Crawl) -> None:
    sources = Counter(tuple(sorted(o["price_sources"].items())) for o in direct.offers)
    with_card = sum(1 for o in offers(1) if o.card_price is not None)
    assert sources == {
        (("price", "json:sizes[0].price.total"), ("seller_price", "json:sizes[0].price.product")): len(offers(1))
        - with_card,
        (
            ("card_price", "json:sizes[0].cardPrice"),
            ("price", "json:sizes[0].price.total"),
            ("seller_price", "json:sizes[0].price.product"),
        ): with_card,
    }


def test_product_pages_are_never_rendered_in_direct_mode(direct: Crawl) -> None:
    api = [hit.target for hit in direct.hits if hit.target.startswith("/api/v2/detail")]
    assert len(api) == len(set(api)) == len(offers(1))
    assert not [hit for hit in direct.hits if "/detail.aspx" in hit.target]
    assert direct.stats["playwright/page_count"] == 3  # the three listing pages


def test_the_canary_is_marked_once_in_its_first_region(direct: Crawl) -> None:
    [marked] = [o for o in direct.offers if o["is_canary"]]
    assert (marked["url"].split("/")[4], marked["region"]) == (str(CANARY_NM), FIRST_REGION)
    assert direct.stats["pricewatch/canary_seen"] == 1


def test_the_raw_json_is_kept_as_evidence_once_per_document(direct: Crawl) -> None:
    paths = {o["json_path"] for o in direct.offers}
    assert None not in paths
    # Two regions of a card may answer the same document (out of stock in both, at one price): one file.
    bodies = [Path(path).read_bytes() for path in paths]
    assert len(set(bodies)) == len(bodies) == len(list(Path(next(iter(paths))).parent.iterdir()))
    assert len(bodies) > len(offers(1)) * 0.9
    for offer in direct.offers:
        product = json.loads(Path(offer["json_path"]).read_text(encoding="utf-8"))["data"]["products"][0]
        assert str(product["supplierId"]) == offer["seller_code"]
        assert f"/catalog/{product['id']}/" in offer["url"]


def test_each_sellers_legal_details_are_asked_for_once(direct: Crawl) -> None:
    asked = Counter(hit.target for hit in direct.hits if hit.target.startswith("/api/seller/"))
    assert asked == {f"/api/seller/{seller}": 1 for seller in SELLERS}


def test_offers_carry_their_sellers_legal_details(direct: Crawl) -> None:
    for offer in direct.offers:
        entity = legal_entity(int(offer["seller_code"]))
        if entity is None:
            continue
        assert offer["seller_legal"] == {
            "tax_id": entity.tax_id,
            "ogrn": entity.ogrn,
            "legal_name": entity.name,
            "address": entity.address,
            "source": f"{direct.base_url}/api/seller/{offer['seller_code']}",
        }


def test_a_seller_whose_legal_json_is_404_is_unresolved_never_guessed(direct: Crawl) -> None:
    unknown = [s for s in SELLERS if legal_entity(s) is None]
    assert unknown == [1180307]
    theirs = [o for o in direct.offers if o["seller_code"] == "1180307"]
    assert len(theirs) == len(REGIONS)
    assert [o["seller_legal"] for o in theirs] == [None] * len(REGIONS)
    assert direct.stats["pricewatch/legal_unresolved"] == 1


@pytest.fixture(scope="module")
def captured(crawl_pilot: CrawlPilot) -> Crawl:
    """Three cards (and the canary) rendered, their offers read from the JSON the pages fetched."""
    require(CHROMIUM.exists(), f"Chromium at {CHROMIUM}")
    return crawl_pilot(VITRINA, limit=3, distributor=_json(mode="capture", url=r"/api/v2/detail\?", product_id=None))


def test_capture_mode_gives_the_same_offers_as_direct_on_the_same_pages(captured: Crawl, direct: Crawl) -> None:
    assert captured.summary.status == "finished", captured.summary.reason
    got, same = captured.by_key(), direct.by_key()
    assert len(got) == 4 * len(REGIONS)
    compared = ("title", "stock", "quantity", "vendor_code", "gtin", "region", "seller_legal", "price_sources")
    for key, offer in got.items():
        for name in (*MONEY_FIELDS, *compared, "is_canary"):
            assert offer[name] == same[key][name], (key, name)
    assert [hit for hit in captured.hits if "/detail.aspx?dest=" in hit.target]  # the pages themselves rendered


@pytest.fixture(scope="module")
def fallen_back(crawl_pilot: CrawlPilot) -> Crawl:
    """The JSON in another shape than the config says: two cards (and the canary) read from the rendered page."""
    require(CHROMIUM.exists(), f"Chromium at {CHROMIUM}")
    return crawl_pilot(VITRINA, limit=2, distributor=_json(offers="data.items"))


def test_a_json_that_gives_no_offer_falls_back_to_the_rendered_page(fallen_back: Crawl) -> None:
    assert fallen_back.summary.status == "finished", fallen_back.summary.reason
    assert len(fallen_back.offers) == 3 * len(REGIONS)
    assert fallen_back.stats["pricewatch/json_fallback"] == 3 * len(REGIONS)
    for (path, seller), offer in fallen_back.by_key().items():
        expected = _truth(path, seller)
        assert (_money(offer["price"]), offer["region"]) == (expected.price, expected.region)
        # The rendered card shows the seller's own price too, so dumping can still judge it (and a card price).
        assert _money(offer["seller_price"]) == expected.seller_price
        assert _money(offer["card_price"]) == expected.card_price
        sources = {"price": "css:.vt-price-shown::text", "seller_price": "css:.vt-price-seller::text"}
        if expected.card_price is not None:
            sources["card_price"] = "css:.vt-price-card::text"
        assert offer["price_sources"] == sources
        assert offer["seller_legal"] is None or offer["seller_legal"]["tax_id"] == SELLERS[int(seller)].tax_id
