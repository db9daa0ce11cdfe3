"""Rules compare with a listing's last known reading, and a listing a complete ok crawl confirms gone is out of
stock, once: missing from a feed, its seller missing from a card, its page 404; it clears when the listing is back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from crawler.items import FLAG_BLOCKED, FLAG_NOT_FOUND, Health, StockState
from storage.engine import session_scope
from storage.models import Listing, Seller
from tests.support.builders import Seen, World, day
from tests.support.rules_world import BASE, MakeWorld, evaluate, found, history

IN, OUT, UNKNOWN = StockState.IN_STOCK, StockState.OUT_OF_STOCK, StockState.UNKNOWN
BLOCKED = Seen("TL-1001", stock=UNKNOWN, flags=(FLAG_BLOCKED,))
FEED: dict[str, Any] = {"code": "feed", "spider": "feed", "feed": {"url": "https://feed.test/market.yml"}}


def _gone(world: World) -> dict[tuple[str, str], tuple[str | None, bool]]:
    """(URL, seller code) → (gone reason, whether a run confirmed it) of every listing."""
    with session_scope(world.engine) as session:
        rows = session.execute(
            select(Listing.url, Seller.code, Listing.gone_reason, Listing.gone_run_id).join(Seller)
        ).tuples()
        return {(url, seller): (reason, run is not None) for url, seller, reason, run in rows}


def test_in_stock_unknown_then_out_is_a_stock_out_against_the_last_known_reading(make_world: MakeWorld) -> None:
    world = make_world()
    for n, seen in enumerate([Seen("TL-1001", price="10000"), BLOCKED, Seen("TL-1001", stock=OUT)], start=1):
        world.crawl("shop", day(n), [seen])
        evaluate(world)
    [alert] = found(world, "stock_out").values()
    assert alert.details["previous_stock"] == "in_stock"
    assert history(world, "stock_out") == [("shop/TL-1001", "opened")]


def test_in_stock_unknown_then_in_stock_is_nothing(make_world: MakeWorld) -> None:
    world = make_world()
    for n, seen in enumerate([Seen("TL-1001", price="10000"), BLOCKED, Seen("TL-1001", price="10000")], start=1):
        world.crawl("shop", day(n), [seen])
        evaluate(world)
    assert history(world) == []


def test_a_price_moves_against_the_last_known_price_never_against_a_degraded_runs(make_world: MakeWorld) -> None:
    world = make_world()
    world.crawl("shop", day(1), [Seen("TL-1001", price="10000")])
    evaluate(world)
    # The canary proved the price misread: the run is degraded, its 1 667 is no baseline.
    world.crawl("shop", day(2), [Seen("TL-1001", price="1667")], health=Health.DEGRADED, reason="canary")
    evaluate(world)
    world.crawl("shop", day(3), [Seen("TL-1001", price="10000")])
    evaluate(world)
    assert history(world, "price_move") == []

    world.crawl("shop", day(4), [BLOCKED])  # no price: skipped, not a baseline
    evaluate(world)
    world.crawl("shop", day(5), [Seen("TL-1001", price="12500")])
    evaluate(world)
    move = found(world, "price_move")["shop/TL-1001"]
    assert (move.details["previous_price"], move.details["price"]) == ("10000.00", "12500.00")


def test_an_offer_missing_from_a_complete_feed_is_delisted_once_and_clears_when_back(make_world: MakeWorld) -> None:
    world = make_world(distributors=[*BASE["distributors"], FEED])
    both = [Seen("TL-1001", price="10000"), Seen("TL-1002", price="2000")]
    world.crawl("feed", day(1), both, complete=True)
    evaluate(world)
    world.crawl("feed", day(2), both[:1], complete=False)  # an incomplete feed: nothing is gone
    evaluate(world)
    world.crawl("feed", day(3), both[:1], complete=True, health=Health.DEGRADED)  # a degraded one: neither
    evaluate(world)
    assert found(world, "stock_out") == {}
    assert {reason for reason, _ in _gone(world).values()} == {None}

    for n in (4, 5):  # missing from two complete feeds: one alert, kept
        world.crawl("feed", day(n), both[:1], complete=True)
        evaluate(world)
    alert = found(world, "stock_out")["feed/TL-1002"]
    assert alert.subject.startswith("Снят с продажи: TL-1002")
    assert (alert.details["gone"], alert.details["previous_stock"], alert.details["stock"]) == (
        "delisted",
        "in_stock",
        "out_of_stock",
    )
    assert _gone(world)[("https://shop.test/TL-1002/", "feed")] == ("missing", True)

    world.crawl("feed", day(6), both, complete=True)
    evaluate(world)
    assert history(world, "stock_out") == [
        ("feed/TL-1002", "opened"),
        ("feed/TL-1002", "ongoing"),  # counted for the digest; no instant message again
        ("feed/TL-1002", "resolved"),
    ]
    assert _gone(world)[("https://shop.test/TL-1002/", "feed")] == (None, False)


def test_a_seller_missing_from_a_card_read_fine_is_gone_for_that_seller(make_world: MakeWorld) -> None:
    world = make_world()
    card, other = "https://market.test/card/1", "https://market.test/card/2"
    day1 = [
        Seen("TL-1001", price="10000", seller="s-1", url=card),
        Seen("TL-1001", price="8000", seller="s-2", url=card),  # dumping, on the same card
        Seen("TL-1002", price="2000", seller="s-3", url=other),
    ]
    world.crawl("market", day(1), day1, complete=True)
    evaluate(world)
    assert set(found(world, "dumping")) == {"market/TL-1001/s-2"}

    # s-2 left the card, which was read; the other card did not answer (no reading): its seller is not gone.
    world.crawl("market", day(2), day1[:1], complete=True)
    evaluate(world)
    gone = found(world, "stock_out")
    assert list(gone) == ["market/TL-1001/s-2"]
    assert gone["market/TL-1001/s-2"].subject.startswith("Продавец пропал с карточки: TL-1001")
    assert gone["market/TL-1001/s-2"].details["gone"] == "seller_left"
    assert found(world, "dumping") == {}  # a seller gone sells at no price
    assert _gone(world) == {
        (card, "s-1"): (None, False),
        (card, "s-2"): ("left_card", True),
        (other, "s-3"): (None, False),
    }


def test_a_page_answering_404_marks_the_listing_gone_kept_while_unread_cleared_when_back(make_world: MakeWorld) -> None:
    world = make_world()
    url = "https://shop.test/TL-1001/"
    world.crawl("shop", day(1), [Seen("TL-1001", price="10000"), Seen("TL-1002", price="2000")], complete=True)
    evaluate(world)
    delisted = Seen("TL-1001", stock=OUT, flags=(FLAG_NOT_FOUND,))
    world.crawl("shop", day(2), [delisted, Seen("TL-1002", price="2000")], complete=True)
    evaluate(world)
    assert _gone(world)[(url, "shop")] == ("not_found", True)
    world.crawl("shop", day(3), [Seen("TL-1002", price="2000")], complete=True)  # gone: not revisited
    evaluate(world)
    assert history(world, "stock_out") == [("shop/TL-1001", "opened")]
    world.crawl("shop", day(4), [Seen("TL-1001", price="10000"), Seen("TL-1002", price="2000")])
    evaluate(world)
    assert history(world, "stock_out") == [("shop/TL-1001", "opened"), ("shop/TL-1001", "resolved")]
    assert _gone(world)[(url, "shop")] == (None, False)
