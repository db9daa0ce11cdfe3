"""The store: listings upserted, observations appended once per run, whole batches only, runs finished or failed."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal

import psutil
from sqlalchemy import Engine, select

from crawler.items import Health, RawOffer
from storage.engine import session_scope
from storage.models import CrawlRun, Distributor, Listing, MatchMethod, Observation, Product, RunStatus, Seller
from storage.queries.crawl_runs import mark_stale_runs_failed, start_run

Feed = Callable[..., subprocess.CompletedProcess[str]]


def _run(engine: Engine, key: str) -> CrawlRun:
    with session_scope(engine) as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.run_key == key)).one()
        session.expunge(run)
        return run


def test_a_run_stores_listings_observations_and_finishes_ok(
    feed: Feed, catalog_db: str, db_engine: Engine, make_offer: Callable[..., RawOffer]
) -> None:
    offers = [
        make_offer(n=1, is_canary=True),
        make_offer(n=2, title="Масляный радиатор Termoline TL 1004", vendor_code="TL1004-RU", price="5 490"),
        make_offer(n=3, title="Конвектор Nordwind NW-1500", vendor_code="NW-1500", price="3990.5"),
    ]
    feed(catalog_db, "run-1", offers, stats={**_stats(3), "pricewatch/canary_seen": 1})

    run = _run(db_engine, "run-1")
    assert (run.status, run.health, run.offers) == (RunStatus.FINISHED, Health.OK, 3)
    with session_scope(db_engine) as session:
        rows = session.execute(
            select(Listing.url, Product.vendor_code, Listing.match_method, Observation.price, Observation.currency)
            .join(Observation, Observation.listing_id == Listing.id)
            .outerjoin(Product, Product.id == Listing.product_id)
            .order_by(Listing.url)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("http://127.0.0.1:9/p/1", "TL-1001", MatchMethod.VENDOR_CODE, Decimal("4990.00"), "RUB"),
        ("http://127.0.0.1:9/p/2", "TL-1004", MatchMethod.VENDOR_CODE, None, "RUB"),  # "5 490" is no decimal string
        ("http://127.0.0.1:9/p/3", None, MatchMethod.NONE, Decimal("3990.50"), "RUB"),
    ]


def _stats(offers: int) -> dict[str, int]:
    return {"pricewatch/responses": offers, "pricewatch/product_pages": offers, "pricewatch/offers": offers}


def test_storing_the_same_run_twice_writes_nothing_twice(
    feed: Feed,
    catalog_db: str,
    db_engine: Engine,
    make_offer: Callable[..., RawOffer],
    table_counts: Callable[[Engine], dict[str, int]],
) -> None:
    # 1 200 offers in batches of 500, on a shop and on a marketplace with sellers seen for the first time.
    shop = [make_offer(n=i, price=f"{4000 + i}.00") for i in range(1200)]
    market = [make_offer("market", n=i % 7, seller_code=f"s-{i}", seller_name=f"Продавец {i}") for i in range(40)]
    feed(catalog_db, "shop-1", shop, stats=_stats(1200), batch=500)
    feed(catalog_db, "market-1", market, distributor="market", stats=_stats(40))
    before = table_counts(db_engine)

    feed(catalog_db, "shop-1", shop, stats=_stats(1200), batch=500)
    feed(catalog_db, "market-1", market, distributor="market", stats=_stats(40))

    assert table_counts(db_engine) == before
    assert before["observations"] == 1240
    assert before["crawl_runs"] == 2
    assert _run(db_engine, "shop-1").status == RunStatus.FINISHED
    with session_scope(db_engine) as session:
        sellers = dict(
            session.execute(
                select(Seller.code, Seller.authorized)
                .join(Distributor, Distributor.id == Seller.distributor_id)
                .where(Distributor.code == "market")
            )
            .tuples()
            .all()
        )
    assert sellers["s-1"] is True  # authorized in the config
    assert sellers["s-2"] is False  # first seen in the crawl
    assert len(sellers) == 41  # the marketplace itself + 40 sellers


def _refuse_price(engine: Engine, price: str) -> None:
    """A database trigger that refuses one observation, as a full disk or a lost connection would mid-batch."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(
                f"CREATE TRIGGER refuse BEFORE INSERT ON observations WHEN NEW.price = {price} "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN IF NEW.price = {price} THEN RAISE EXCEPTION 'refused by the test'; END IF; "
                "RETURN NEW; END $$"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON observations FOR EACH ROW EXECUTE FUNCTION refuse()"
            )


def test_a_batch_that_fails_is_written_whole_or_not_at_all_and_fails_the_run(
    feed: Feed,
    catalog_db: str,
    db_engine: Engine,
    make_offer: Callable[..., RawOffer],
    visible_urls: Callable[[Engine], set[str]],
) -> None:
    # Batches of 100; the database refuses offer 150 after the batch's listings were already upserted.
    offers = [make_offer(n=i) for i in range(300)]
    offers[150] = make_offer(n=150, price="6666.66")
    _refuse_price(db_engine, "6666.66")
    try:
        feed(catalog_db, "broken", offers, stats=_stats(300), batch=100)
    finally:
        with db_engine.begin() as conn:
            conn.exec_driver_sql(
                "DROP TRIGGER refuse" + (" ON observations" if db_engine.dialect.name != "sqlite" else "")
            )

    run = _run(db_engine, "broken")
    assert (run.status, run.health) == (RunStatus.FAILED, Health.FAILED)
    assert "could not be stored" in (run.health_reason or "")
    with session_scope(db_engine) as session:
        listed = {int(url.rsplit("/", 1)[1]) for url in session.scalars(select(Listing.url))}
        observed = {
            int(url.rsplit("/", 1)[1])
            for url in session.scalars(select(Listing.url).join(Observation, Observation.listing_id == Listing.id))
        }
    whole = {*range(100), *range(200, 300)}
    assert observed == whole  # batch 2 entirely absent, batches 1 and 3 whole
    assert listed == whole  # its listings rolled back with it
    assert visible_urls(db_engine) == set()  # a failed run's observations are invisible


def test_a_person_decision_survives_later_crawls(
    feed: Feed, catalog_db: str, db_engine: Engine, make_offer: Callable[..., RawOffer]
) -> None:
    feed(catalog_db, "day-1", [make_offer(n=1)])
    with session_scope(db_engine) as session:
        listing = session.scalars(select(Listing)).one()
        listing.product_id = session.scalar(select(Product.id).where(Product.vendor_code == "TL-2001"))
        listing.match_method = MatchMethod.MANUAL
        listing.match_confidence = 1.0
    feed(catalog_db, "day-2", [make_offer(n=1)])
    with session_scope(db_engine) as session:
        code, method = session.execute(
            select(Product.vendor_code, Listing.match_method).join(Product, Product.id == Listing.product_id)
        ).one()
    assert (code, method) == ("TL-2001", MatchMethod.MANUAL)


def test_a_cancelled_crawl_leaves_its_run_failed(
    feed: Feed,
    catalog_db: str,
    db_engine: Engine,
    make_offer: Callable[..., RawOffer],
    visible_urls: Callable[[Engine], set[str]],
) -> None:
    feed(catalog_db, "cancelled", [make_offer(n=i) for i in range(5)], fail=True)
    run = _run(db_engine, "cancelled")
    assert (run.status, run.health) == (RunStatus.FAILED, Health.FAILED)
    assert visible_urls(db_engine) == set()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_runs_are_marked_failed_and_live_ones_kept(catalog_db: str, db_engine: Engine) -> None:
    now = dt.datetime.now(dt.UTC)
    host = socket.gethostname()
    we_started = dt.datetime.fromtimestamp(psutil.Process().create_time(), dt.UTC)
    with session_scope(db_engine) as session:
        distributor = Distributor(code="shop", name="Магазин", kind="distributor", authorized=True)
        session.add(distributor)
        session.flush()

        def run(key: str, pid: int, started_at: dt.datetime, on: str = host) -> int:
            r = start_run(session, key, distributor.id, pid=pid, host=on)
            r.started_at = started_at
            session.flush()
            return r.id

        dead = run("dead", _dead_pid(), now)
        alive = run("alive", os.getpid(), now)
        # Our pid, but the run began an hour before this process did: another process that died had the pid.
        reused = run("reused-pid", os.getpid(), we_started - dt.timedelta(hours=1))
        elsewhere = run("elsewhere", 1, now - dt.timedelta(days=1), on="other-host")
        too_old = run("too-old", 1, now - dt.timedelta(days=4), on="other-host")

    with session_scope(db_engine) as session:
        marked = mark_stale_runs_failed(session, max_age=dt.timedelta(days=3))

    assert sorted(marked) == sorted([dead, reused, too_old])
    with session_scope(db_engine) as session:
        runs = {r.id: r for r in session.scalars(select(CrawlRun))}
    assert {runs[i].status for i in (alive, elsewhere)} == {RunStatus.RUNNING}
    assert {runs[i].status for i in (dead, reused, too_old)} == {RunStatus.FAILED}
    assert "died" in (runs[dead].health_reason or "")
    assert "longer than" in (runs[too_old].health_reason or "")
