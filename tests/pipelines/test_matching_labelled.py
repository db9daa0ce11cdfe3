"""The labelled set (fixtures/matching): three brands' tools and appliances, 700+ Russian offer titles, matched with
the default config at precision 100 % and recall ≥ 99 %."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from crawler.config import parse_config
from fixtures import matching as labelled
from fixtures.matching import generate
from pipelines.matching import CatalogIndex, MatchSettings
from storage.codes import normalize_vendor_code
from storage.queries.matching import CatalogProduct

# A config with nothing said of matching: what a new user starts from.
DEFAULT_CONFIG = """
distributors:
  - {code: labelled, name: Магазины, start_urls: ["http://127.0.0.1:9/"]}
"""


@pytest.fixture(scope="module")
def index() -> CatalogIndex:
    rows = [
        CatalogProduct(n, c.vendor_code, normalize_vendor_code(c.vendor_code), c.name, c.brand, ())
        for n, c in enumerate(labelled.catalog(), start=1)
    ]
    return CatalogIndex(rows, {}, MatchSettings.from_config(parse_config(DEFAULT_CONFIG)))


def _vendor_code(index: CatalogIndex, offer: labelled.LabelledOffer) -> str | None:
    result = index.match(offer)
    return None if result.product_id is None else index.products[result.product_id].row.vendor_code


def test_every_match_is_right_and_at_least_99_percent_of_the_brands_offers_are_found(index: CatalogIndex) -> None:
    score = labelled.accuracy(labelled.offers(), lambda offer: _vendor_code(index, offer))
    assert score.wrong == []
    assert score.precision == 100.0
    assert score.recall >= 99.0, "\n".join(score.missed)


def test_the_set_holds_what_confuses_matchers() -> None:
    offers = labelled.offers()
    brands = {row.brand for row in labelled.catalog()}
    kinds = Counter(offer.kind.split("/")[0] for offer in offers)
    styles = Counter(offer.kind.split("/")[1] for offer in offers if "/" in offer.kind)
    assert len(offers) >= 600
    assert len(brands) >= 3
    for kind in ("kit", "body", "colour", "pack", "compatible", "accessory", "other_brand", "unknown_variant"):
        assert kinds[kind] >= 10, kind
    for style in ("shop", "distributor", "marketplace", "yml", "name_only"):
        assert styles[style] >= 10, style
    # Most offers the brand sells are labelled a product; the rest are the look-alikes that must stay unmatched.
    assert sum(1 for o in offers if o.expected) >= 500


def test_the_files_are_what_the_generator_writes(tmp_path: Path) -> None:
    generate.write(tmp_path)
    for name in ("catalog.csv", "offers.csv"):
        assert (tmp_path / name).read_bytes() == (labelled.HERE / name).read_bytes(), name
