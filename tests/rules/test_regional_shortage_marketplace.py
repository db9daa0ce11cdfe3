"""Regional shortage on a marketplace read per delivery region: a SKU out at every seller in one region while in
stock in another; readings that say nothing are skipped, and hold an open alert they leave undecided."""

from __future__ import annotations

from crawler.items import FLAG_BLOCKED, Health, StockState
from tests.support.builders import Seen, World, day
from tests.support.rules_world import MARKET_REGIONS, MakeWorld, distributors, evaluate, found, history

IN, OUT, UNKNOWN = StockState.IN_STOCK, StockState.OUT_OF_STOCK, StockState.UNKNOWN
SPB = "market/spb/TL-1001"


def seen(region: str, seller: str, stock: StockState, vendor_code: str = "TL-1001") -> Seen:
    if stock == UNKNOWN:
        return Seen(vendor_code, stock=UNKNOWN, flags=(FLAG_BLOCKED,), seller=seller, region=region)
    return Seen(vendor_code, price="10000" if stock != OUT else None, stock=stock, seller=seller, region=region)


def crawl(
    world: World,
    n: int,
    spb: tuple[StockState, StockState],
    msk: StockState,
    nsk: StockState = UNKNOWN,
    health: Health = Health.OK,
) -> None:
    """TL-1001 at s-1 and s-2 in Saint Petersburg, at s-1 in Moscow and Novosibirsk (blocked there by default);
    TL-1002 in stock everywhere."""
    offers = [
        seen("spb", "s-1", spb[0]),
        seen("spb", "s-2", spb[1]),
        seen("msk", "s-1", msk),
        seen("nsk", "s-1", nsk),
        *(seen(region, "s-1", IN, "TL-1002") for region in ("spb", "msk", "nsk")),
    ]
    world.crawl("market", day(n), offers, health=health)
    evaluate(world)


def test_out_at_every_seller_of_a_region_while_in_stock_in_another_opens_a_shortage(make_world: MakeWorld) -> None:
    world = make_world(distributors=distributors(regions=MARKET_REGIONS))
    crawl(world, 1, (OUT, OUT), IN)

    shortages = found(world, "regional_shortage")
    assert list(shortages) == [SPB]  # Novosibirsk unknown: no judgement; TL-1002 in stock everywhere
    alert = shortages[SPB]
    assert alert.fingerprint == f"regional_shortage:market:spb:{world.products['TL-1001']}"
    assert alert.distributor_id == world.distributors["market"]
    assert alert.details == {
        "region": "spb",
        "region_name": "Санкт-Петербург",
        "marketplace": "market",
        "marketplace_name": "Market",
        "regions_in_stock": ["msk"],
        "sellers": ["s-1", "s-2"],
        "distributors": ["market"],
        "vendor_code": "TL-1001",
        "product_name": "Термолайн TL-1001",
        "category": "Обогреватели",
    }
    assert alert.subject == (
        "Дефицит в регионе Санкт-Петербург на Market: TL-1001 Термолайн TL-1001 нет ни у одного продавца (2), "
        "в наличии: Москва"
    )


def test_one_seller_in_stock_in_the_region_or_none_anywhere_is_no_shortage(make_world: MakeWorld) -> None:
    world = make_world(distributors=distributors(regions=MARKET_REGIONS))
    crawl(world, 1, (OUT, IN), IN)
    assert found(world, "regional_shortage") == {}
    crawl(world, 2, (OUT, OUT), OUT, OUT)  # out everywhere: a stock-out, not a regional shortage
    assert found(world, "regional_shortage") == {}


def test_it_resolves_when_a_seller_of_the_region_has_it_again(make_world: MakeWorld) -> None:
    world = make_world(distributors=distributors(regions=MARKET_REGIONS))
    crawl(world, 1, (OUT, OUT), IN)
    crawl(world, 2, (OUT, IN), IN)

    assert history(world, "regional_shortage") == [(SPB, "opened"), (SPB, "resolved")]


def test_unknown_readings_are_skipped_and_hold_what_they_cannot_judge(make_world: MakeWorld) -> None:
    world = make_world(distributors=distributors(regions=MARKET_REGIONS))
    crawl(world, 1, (OUT, OUT), IN)
    crawl(world, 2, (UNKNOWN, UNKNOWN), IN)  # nothing known in the region: held
    crawl(world, 3, (OUT, UNKNOWN), IN)  # the known reading is out: still short
    crawl(world, 4, (OUT, OUT), UNKNOWN)  # nowhere else known to have it: held
    assert history(world, "regional_shortage") == [(SPB, "opened"), (SPB, "ongoing")]

    crawl(world, 5, (OUT, OUT), OUT, OUT)  # known out everywhere
    assert history(world, "regional_shortage")[-1] == (SPB, "resolved")


def test_a_degraded_marketplace_run_holds_it(make_world: MakeWorld) -> None:
    world = make_world(distributors=distributors(regions=MARKET_REGIONS))
    crawl(world, 1, (OUT, OUT), IN)
    crawl(world, 2, (IN, IN), IN, health=Health.DEGRADED)

    assert list(found(world, "regional_shortage")) == [SPB]
    assert history(world, "regional_shortage") == [(SPB, "opened")]
