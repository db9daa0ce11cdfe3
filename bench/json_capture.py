"""JSON capture on «Витрина»: the same offers as the rendered crawl, at ≥ 10 × its rate.

A generated «Витрина» (`fixtures.sites.generated.GeneratedVitrina`: the fixture marketplace's pages and JSON, 300
cards at the pilot's seven sellers) is crawled from a URL list of its product pages in two regions, with the
`vitrina` entry of `pilot.yaml` (its selectors, JSON mapping, legal-info requests and politeness), three ways, each
in a crawl process of its own writing its offers as JSON lines: rendering every card in Chromium and reading it
with selectors (the baseline), reading the JSON endpoint directly through Scrapy (`json.mode: direct`), and
rendering while capturing the JSON the page fetches (`json.mode: capture`). A bare Scrapy spider fetching the same
JSON URLs (`bench.baselines.json_api`) is the direct read's own baseline. The URL list keeps the listing pages out
(they are rendered whichever way the cards are read): what is measured is the reading of offers. Rates are offers
per second of crawling (Scrapy's own elapsed time, so process start-up is not counted); every way must give the
same offers (URL with its region, seller, shown price, stock), and those of the ground truth.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from bench.baselines import run_baseline, write_config
from bench.common import Figure, quick
from crawler.config import Distributor, JsonSource, load_config, parse_config
from crawler.parsing.stock import state_for_quantity
from fixtures.pilot.vitrina import REGIONS
from fixtures.sites.base import SiteServer
from fixtures.sites.generated import GeneratedVitrina, vitrina_card
from fixtures.sites.pilot import env_name
from pricewatch.crawls.local import run_crawls

ROOT = Path(__file__).resolve().parent.parent
CODE = "vitrina"
REGION_CODES = ("msk", "spb")
SPEED_GOAL = 10.0
CAPTURE_GOAL = 0.85
BARE_GOAL = 0.5  # our direct read does real work the bare spider does not: mapping, legal details, pipelines
OfferKey = tuple[str, str, str | None, str]


def bench_vitrina(base_url: str, n: int) -> Distributor:
    """The pilot's vitrina entry, pointed at this server's n product pages (a URL list), in `REGION_CODES`."""
    pilot = ROOT / "pilot.yaml"
    env = {**os.environ, env_name(CODE): base_url}
    vitrina = parse_config(pilot.read_text(encoding="utf-8"), str(pilot), env=env).distributor(CODE)
    selectors = vitrina.selectors.model_copy(update={"product_links": None, "next_page": None})
    return vitrina.model_copy(
        update={
            "start_urls": [f"{base_url}{vitrina_card(i).path}" for i in range(n)],
            "selectors": selectors,
            "regions": [r for r in vitrina.regions if r.code in REGION_CODES],
            "canary": None,
        }
    )


def variant(vitrina: Distributor, json_source: JsonSource | None) -> Distributor:
    """The entry reading the JSON a given way (None: rendering every card)."""
    return vitrina.model_copy(update={"json_source": json_source})


def offers_per_second(stats: dict[str, Any]) -> float:
    return float(stats["item_scraped_count"]) / float(stats["elapsed_time_seconds"])


def crawl(tmp: Path, name: str, distributor: Distributor) -> tuple[float, set[OfferKey]]:
    """Offers per second of crawling, and the offers read."""
    config_path = write_config(tmp / f"{name}.yaml", distributor)
    sink = io.StringIO()
    [summary] = run_crawls(load_config(config_path), config_path, [CODE], output=sink)
    if summary.failed:
        raise RuntimeError(f"the {name} crawl went wrong: {summary.row()}")
    offers = [json.loads(line) for line in sink.getvalue().splitlines() if line.strip()]
    return offers_per_second(summary.stats), {_key(offer) for offer in offers}


def bare_crawl(tmp: Path, distributor: Distributor, expected: int) -> float:
    """Offers per second of the bare JSON spider."""
    stats = run_baseline("json_api", write_config(tmp / "bare.yaml", distributor), CODE)
    if int(stats.get("item_scraped_count", 0)) != expected:
        raise RuntimeError(f"the bare JSON crawl read {stats.get('item_scraped_count')} of {expected} offers")
    return offers_per_second(stats)


def _key(line: dict[str, Any]) -> OfferKey:
    offer = line.get("offer", line)
    return (offer["url"], str(offer["seller_code"]), offer.get("price"), offer["stock"])


def truth(base_url: str, n: int) -> set[OfferKey]:
    """What a correct crawler reads from the n cards in `REGION_CODES`."""
    return {
        (
            f"{base_url}{card.path}?dest={REGIONS[region][1]}",
            str(card.seller_id),
            str(card.prices[region].total),
            state_for_quantity(card.quantity(region)).value,
        )
        for card in map(vitrina_card, range(n))
        for region in REGION_CODES
    }


def run() -> list[Figure]:
    n = 40 if quick() else 300
    server = SiteServer(GeneratedVitrina(n)).start()
    try:
        base_url = server.url.rstrip("/")
        vitrina = bench_vitrina(base_url, n)
        source = vitrina.json_source
        if source is None or source.mode != "direct":
            raise RuntimeError("pilot.yaml's vitrina must read its JSON directly (json.mode: direct)")
        capture = source.model_copy(update={"mode": "capture", "url": r"/api/v2/detail\?", "product_id": None})
        expected = truth(base_url, n)
        with tempfile.TemporaryDirectory() as tmp:
            # The two JSON reads side by side, then the two renderings: the load on the machine drifts.
            bare_rate = bare_crawl(Path(tmp), vitrina, len(expected))
            direct_rate, direct = crawl(Path(tmp), "direct", variant(vitrina, source))
            rendered_rate, rendered = crawl(Path(tmp), "rendered", variant(vitrina, None))
            captured_rate, captured = crawl(Path(tmp), "capture", variant(vitrina, capture))
    finally:
        server.stop()
    if not (rendered == direct == captured == expected):
        ways = {"rendered": rendered, "direct": direct, "capture": captured}
        diff = ", ".join(f"{k} {len(v)} (+{len(v - expected)} −{len(expected - v)})" for k, v in ways.items())
        raise RuntimeError(f"the ways gave offers other than the {len(expected)} expected: {diff}")
    offers = f"{len(expected)} offers ({n} cards × {len(REGION_CODES)} regions) of a generated «Витрина»"
    rendered_name = "rendered crawl of the same cards in Chromium, read with selectors"
    return [
        Figure(
            name=f"JSON read directly (json.mode direct), {offers}",
            value=round(direct_rate, 1),
            unit="offers/s",
            baseline_name=rendered_name,
            baseline=round(rendered_rate, 2),
            goal=f"≥ {SPEED_GOAL:g} × baseline, the same offers",
            met=direct_rate >= SPEED_GOAL * rendered_rate,
        ),
        Figure(
            name="JSON captured while rendering (json.mode capture), the same offers",
            value=round(captured_rate, 2),
            unit="offers/s",
            baseline_name=rendered_name,
            baseline=round(rendered_rate, 2),
            goal=f"≥ {CAPTURE_GOAL:g} × baseline, the same offers",
            met=captured_rate >= CAPTURE_GOAL * rendered_rate,
        ),
        Figure(
            name=f"JSON read directly (json.mode direct), {offers}, legal details and pipelines included",
            value=round(direct_rate, 1),
            unit="offers/s",
            baseline_name="bare Scrapy spider fetching the same JSON URLs, one price read from each",
            baseline=round(bare_rate, 1),
            goal=f"≥ {BARE_GOAL:g} × baseline",
            met=direct_rate >= BARE_GOAL * bare_rate,
        ),
    ]
