"""One "latest offer": the export, the rules and the `v_latest_offers` view pick the same observation per listing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, Integer, column, select, table, update

from crawler.items import Health
from storage.engine import session_scope
from storage.models import CrawlRun, Listing, RunStatus, UTCDateTime
from storage.queries import offers, rules
from tests.support.builders import Seen, World, day, make_config

CONFIG = {"distributors": [{"code": "shop"}, {"code": "shop2"}]}
OTHER_URL = "https://shop.test/someone-elses-heater"
VIEW = table("v_latest_offers", column("listing_id", Integer), column("observed_at", UTCDateTime()))


def _url(vendor_code: str, distributor: str = "shop") -> str:
    return f"https://{distributor}.test/{vendor_code}"


def _seen(*vendor_codes: str, distributor: str = "shop", price: str = "1.00") -> list[Seen]:
    return [Seen(code, price=price, url=_url(code, distributor)) for code in vendor_codes]


def _leave_running(engine: Engine, run_id: int) -> None:
    """A crawl still writing its batches: running, no verdict yet."""
    with session_scope(engine) as session:
        running = {"status": RunStatus.RUNNING, "health": None, "finished_at": None}
        session.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(**running))


@pytest.fixture
def world(engine: Engine) -> World:
    """Five runs on `shop` (an older ok one, a newer ok one, one judged failed, one that died, one still running)
    and a degraded run on `shop2`; what each listing's latest offer must be is in `EXPECTED`."""
    world = World(engine, make_config(CONFIG))
    for code in ("TL-1001", "TL-1002", "TL-1003"):
        world.product(code)
    world.price_list(dt.date(2026, 3, 1), {"TL-1001": "10000", "TL-1002": "2000", "TL-1003": "3000"})
    older = [*_seen("TL-1001", "TL-1002", price="9000.00"), Seen(None, price="100.00", url=OTHER_URL)]
    world.crawl("shop", day(1), older)
    world.crawl("shop", day(2), _seen("TL-1001", price="9100.00"))
    world.crawl("shop", day(3), _seen("TL-1001", "TL-1002", "TL-1003"), health=Health.FAILED, reason="site down")
    world.crawl("shop", day(4), _seen("TL-1003"), status=RunStatus.FAILED)
    running = world.crawl("shop", day(5), [*_seen("TL-1001", "TL-1002", "TL-1003"), Seen(None, url=OTHER_URL)])
    _leave_running(engine, running)
    world.crawl("shop2", day(1), _seen("TL-1001", distributor="shop2", price="9000.00"))
    world.crawl("shop2", day(2), _seen("TL-1001", distributor="shop2"), health=Health.DEGRADED, reason="degraded")
    return world


# URL → the crawl day its latest offer comes from; TL-1003 was read only by runs that do not count.
EXPECTED = {_url("TL-1001"): day(2), _url("TL-1002"): day(1), OTHER_URL: day(1), _url("TL-1001", "shop2"): day(2)}


def test_the_export_the_rules_and_the_view_pick_the_same_latest_offer(world: World) -> None:
    config = world.config
    with session_scope(world.engine) as session:
        urls = dict(session.execute(select(Listing.id, Listing.url)).tuples().all())
        matched = set(session.scalars(select(Listing.id).where(Listing.product_id.is_not(None))))
        exported = {o.listing_id: o.observed_at for o in offers.latest_offers(session, config.tz)}
        for_rules = {o.listing_id: o.observed_at for o in rules.latest_offers(session, config.tz, config.rules.dumping)}
        in_view = dict(session.execute(select(VIEW.c.listing_id, VIEW.c.observed_at)).tuples().all())
    by_url = {urls[listing_id]: at for listing_id, at in exported.items()}
    assert by_url == EXPECTED
    assert in_view == exported
    assert for_rules == {listing_id: at for listing_id, at in exported.items() if listing_id in matched}
