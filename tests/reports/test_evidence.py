"""Evidence: real pages over HTTP on 127.0.0.1, real Chromium, files named and recorded by their SHA-256."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import logging
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from PIL import Image
from sqlalchemy import func, select

from crawler.i18n import Texts
from crawler.stamp import CAPTURED_KEY, UNSTAMPED_SHA256_KEY, URL_KEY, stamp_lines
from reports.evidence import Browser, browser_selector, capture_for_new_alerts, price_digits, prune_evidence
from storage.engine import session_scope
from storage.models import Alert, Evidence, Observation, SellerKind
from tests.support.services import require

CHROMIUM = Path("/usr/bin/chromium")
SHOP_PAGE = """<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8"><title>TL-1001</title></head>
<body style="background:#fff;font:16px sans-serif">
<h1>Обогреватель Термолайн ОМ-1001</h1>
<p>Старая цена: <s>10 000 ₽</s></p>
<div class="product-price">8 500 ₽</div>
<p>Артикул TL-1001</p>
</body></html>""".encode()
# A JSON-LD page without a price selector: the outline goes to the element showing the observed price.
MARKET_PAGE = """<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8">
<script type="application/ld+json">{"@type": "Product", "offers": {"price": "9800.00"}}</script></head>
<body style="background:#fff;font:16px sans-serif">
<h1>Обогреватель Термолайн ОМ-1001</h1>
<div><span>Продавец: ИП Серый</span> <span>9 800 ₽</span></div>
<div><span>Продавец: Магазин Тепла</span> <span>11 000 ₽</span></div>
</body></html>""".encode()
# A long page whose buy panel (fixed at the bottom of the window, blue) repeats the price, as Bitrix shops do.
PANEL_BLUE = (0, 90, 200)
STICKY_PAGE = f"""<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8"><style>
body {{ margin: 0; background: #fff; font: 16px sans-serif }}
.panel {{ position: fixed; bottom: 0; left: 0; right: 0; height: 60px; background: rgb{PANEL_BLUE}; color: #fff }}
header {{ position: sticky; top: 0; background: #eee; height: 40px }}
</style></head><body>
<header>Меню</header>
<h1>Обогреватель Термолайн ОМ-1001</h1>
<div class="product-price">8 500 ₽</div>
<div style="height: 2600px">Описание</div>
<div class="panel">Обогреватель <span class="product-price">8 500 ₽</span></div>
</body></html>""".encode()


class _Site(BaseHTTPRequestHandler):
    pages: ClassVar[dict[str, bytes]] = {
        "/product/tl-1001": SHOP_PAGE,
        "/item/1": MARKET_PAGE,
        "/product/sticky": STICKY_PAGE,
    }

    def do_GET(self) -> None:
        body = self.pages.get(self.path.split("?")[0])
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body or b"<html><body>not found</body></html>")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def chromium() -> None:
    require(CHROMIUM.is_file(), f"Chromium at {CHROMIUM}")


def _red_pixels(png: bytes) -> int:
    with Image.open(io.BytesIO(png)) as image:
        colors = image.convert("RGB").getcolors(maxcolors=1 << 24) or []
    return sum(count for count, color in colors if color == (255, 0, 0))


def _alerts(scenario: Any, site: str) -> dict[str, int]:
    """Open alerts on three pages of the local site and one on a port nobody listens on."""
    b = scenario.builder
    b.distributor("techsnab", "ТехСнаб")
    b.distributor("market", "МаркетПлюс", SellerKind.MARKETPLACE)
    b.seller("s-techsnab", "techsnab", "ТехСнаб")
    b.seller("s-grey", "market", "ИП Серый", authorized=False)
    b.product("p1", "TL-1001", "Обогреватель Термолайн ОМ-1001")
    b.listing("shop", "s-techsnab", "p1", f"{site}/product/tl-1001")
    b.listing("market", "s-grey", "p1", f"{site}/item/1?seller=grey")
    b.listing("gone", "s-techsnab", "p1", f"{site}/product/gone")
    b.listing("down", "s-grey", "p1", "http://127.0.0.1:9/item/2")
    b.observe("shop", "techsnab", 1, 6, "8500")
    b.observe("market", "market", 1, 12, "9800")
    opened, seen = scenario.at(1, 7), scenario.at(1, 7)
    return {
        "dumping": b.alert("a-dump", "dumping", "shop", "p1", "techsnab", opened, seen),
        # Two alerts on one page share one capture.
        "parallel": b.alert("a-pi", "parallel_import", "market", "p1", "market", opened, seen),
        "dumping_market": b.alert("a-dm", "dumping", "market", "p1", "market", opened, seen),
        "gone": b.alert("a-gone", "dumping", "gone", "p1", "techsnab", opened, seen),
        "down": b.alert("a-down", "parallel_import", "down", "p1", "market", opened, seen),
        "stock": b.alert("a-stock", "stock_out", "shop", "p1", "techsnab", opened, seen),
    }


@pytest.mark.usefixtures("chromium")
def test_capture_keeps_html_and_an_outlined_screenshot_per_page(
    blank_scenario: Any, site: str, caplog: pytest.LogCaptureFixture
) -> None:
    alerts = _alerts(blank_scenario, site)
    urls = {
        "dumping": f"{site}/product/tl-1001",
        "parallel": f"{site}/item/1?seller=grey",
        "dumping_market": f"{site}/item/1?seller=grey",
    }
    with caplog.at_level(logging.WARNING, logger="reports.evidence"):
        results = capture_for_new_alerts(blank_scenario.engine, blank_scenario.config)

    by_url = {r.url: r for r in results}
    assert set(by_url) == {
        f"{site}/product/tl-1001",
        f"{site}/item/1?seller=grey",
        f"{site}/product/gone",
        "http://127.0.0.1:9/item/2",
    }
    shop = by_url[f"{site}/product/tl-1001"]
    assert shop.outlined == "8 500 ₽"  # the configured `.product-price::text`
    market = by_url[f"{site}/item/1?seller=grey"]
    assert sorted(market.alert_ids) == sorted([alerts["parallel"], alerts["dumping_market"]])
    assert market.outlined == "9 800 ₽"  # found by the observed price, not the other seller's

    root = blank_scenario.evidence_dir
    with session_scope(blank_scenario.engine) as session:
        rows = {a.id: a for a in session.scalars(select(Alert))}
        records = {e.id: e for e in session.scalars(select(Evidence))}
        for key in ("dumping", "parallel", "dumping_market"):
            alert = rows[alerts[key]]
            html, shot = records[alert.evidence_html_id], records[alert.evidence_screenshot_id]
            for record in (html, shot):
                content = (root / record.path).read_bytes()
                assert hashlib.sha256(content).hexdigest() == record.sha256 == Path(record.path).name.split(".")[0]
                assert record.size == len(content)
                assert record.captured_at.tzinfo is not None
                assert record.path.startswith(record.captured_at.strftime("%Y-%m-%d/"))
            assert html.kind == "html"
            assert shot.kind == "screenshot"
            assert html.url == shot.url == urls[key]
            assert (root / shot.path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        shop_html = gzip.decompress((root / records[rows[alerts["dumping"]].evidence_html_id].path).read_bytes())
        assert shop_html == SHOP_PAGE
        shop_record = records[rows[alerts["dumping"]].evidence_screenshot_id]
        shop_png = (root / shop_record.path).read_bytes()
        # Pages that cannot be fetched get nothing, and nobody crashes; stock alerts never get evidence.
        for key in ("gone", "down", "stock"):
            assert rows[alerts[key]].evidence_html_id is None
            assert rows[alerts[key]].evidence_screenshot_id is None
    assert by_url[f"{site}/product/gone"].errors
    assert by_url["http://127.0.0.1:9/item/2"].errors
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "/product/gone" in warned
    assert "127.0.0.1:9/item/2" in warned

    # The outline is what makes the red pixels: the same page without it has none.
    assert _red_pixels(shop_png) > 100
    with Browser() as browser:
        plain, outlined = browser.screenshot(
            f"{site}/product/tl-1001", blank_scenario.config.distributor("techsnab"), [Decimal("8500")], outline=False
        )
    assert outlined is None
    assert _red_pixels(plain) == 0
    _assert_stamped(shop_png, plain, f"{site}/product/tl-1001", shop_record.captured_at)

    # A second run finds nothing new to capture for the alerts that have evidence.
    again = capture_for_new_alerts(blank_scenario.engine, blank_scenario.config)
    assert {r.url for r in again} == {f"{site}/product/gone", "http://127.0.0.1:9/item/2"}


@pytest.mark.parametrize("saved_as", ["records", "files"])
def test_pages_rendered_during_the_crawl_keep_that_visit(blank_scenario: Any, tmp_path: Path, saved_as: str) -> None:
    """The marketplace spider's own screenshot and HTML are used, as the store recorded them or as bare files."""
    b, root = blank_scenario.builder, blank_scenario.evidence_dir
    visit = blank_scenario.at(1, 12, 5)
    b.distributor("market", "МаркетПлюс", SellerKind.MARKETPLACE)
    b.seller("s-grey", "market", "ИП Серый", authorized=False)
    b.product("p1", "TL-1001", "Обогреватель Термолайн ОМ-1001")
    # Nobody listens on port 9: any fetch would fail and show up as an error.
    b.listing("l", "s-grey", "p1", "http://127.0.0.1:9/item/1?seller=grey")
    if saved_as == "records":  # what pipelines.store writes: evidence rows, referenced from the observation
        html_id = b.evidence(root, "html", "http://127.0.0.1:9/item/1", gzip.compress(MARKET_PAGE, mtime=0), visit)
        shot_id = b.evidence(root, "screenshot", "http://127.0.0.1:9/item/1", _png(), visit)
        b.observe("l", "market", 1, 12, "9800", details={"screenshot_evidence_id": shot_id})
        with session_scope(blank_scenario.engine) as session:
            session.get_one(Observation, b.ids["obs-l-1"]).evidence_id = html_id
    else:  # files the spider saved, named on the offer
        crawl_dir = tmp_path / "crawl"
        crawl_dir.mkdir()
        (crawl_dir / "page.png").write_bytes(_png())
        (crawl_dir / "page.html").write_bytes(MARKET_PAGE)
        details = {"screenshot_path": str(crawl_dir / "page.png"), "html_path": str(crawl_dir / "page.html")}
        b.observe("l", "market", 1, 12, "9800", details=details)
    alert_id = b.alert("a", "parallel_import", "l", "p1", "market", blank_scenario.at(1, 13), blank_scenario.at(1, 13))

    (result,) = capture_for_new_alerts(blank_scenario.engine, blank_scenario.config)
    assert result.errors == []
    assert result.from_crawl
    with session_scope(blank_scenario.engine) as session:
        alert = session.get_one(Alert, alert_id)
        shot = session.get_one(Evidence, alert.evidence_screenshot_id)
        html = session.get_one(Evidence, alert.evidence_html_id)
        assert shot.captured_at == html.captured_at == visit
        stored = (root / shot.path).read_bytes()
        if saved_as == "records":  # the store's record stands as it is
            assert stored == _png()
        else:  # a bare file is stored stamped, once
            with Image.open(io.BytesIO(stored)) as image:
                assert image.info[UNSTAMPED_SHA256_KEY] == hashlib.sha256(_png()).hexdigest()
                assert image.info[CAPTURED_KEY] == visit.isoformat(timespec="seconds")
        assert gzip.decompress((root / html.path).read_bytes()) == MARKET_PAGE
        assert session.scalar(select(func.count(Evidence.id))) == 2  # nothing captured twice


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (".price::text", (".price", None)),
        (".mp-offer__price::text, .price", (".mp-offer__price, .price", None)),
        ("a.more::attr(href)", ("a.more", None)),
        ("xpath://dd[@class='p']/text()", (None, "//dd[@class='p']/text()")),
        (None, (None, None)),
    ],
)
def test_config_selectors_are_made_readable_for_the_browser(
    selector: str | None, expected: tuple[str | None, str | None]
) -> None:
    assert browser_selector(selector) == expected


def test_price_digits_match_any_way_a_page_writes_the_price() -> None:
    assert price_digits(Decimal("12990.00")) == ["12990", "1299000"]
    assert price_digits(Decimal("4990.50")) == ["4990", "499050"]
    assert price_digits(None) == []


def _assert_stamped(stamped: bytes, capture: bytes, url: str, captured_at: dt.datetime) -> None:
    """`stamped` is `capture` under a band of text, carrying the capture's hash, the URL and the time."""
    with Image.open(io.BytesIO(stamped)) as image, Image.open(io.BytesIO(capture)) as shot:
        assert image.info[URL_KEY] == url
        assert image.info[CAPTURED_KEY] == captured_at.astimezone(dt.UTC).isoformat(timespec="seconds")
        assert len(image.info[UNSTAMPED_SHA256_KEY]) == 64
        band = image.height - shot.height
        assert image.width == shot.width
        assert 40 < band < 120
        top = image.convert("L").crop((0, 0, image.width, band - 1))
        assert top.getextrema()[0] < 60  # dark text on the light band


def test_the_stamp_names_the_url_the_local_and_utc_time_and_the_capture_hash() -> None:
    moment = dt.datetime(2026, 12, 3, 4, 5, 13, tzinfo=dt.UTC)
    from zoneinfo import ZoneInfo

    msk = ZoneInfo("Europe/Moscow")
    lines = stamp_lines("http://shop/p/1", moment, "ab" * 32, msk, Texts("ru", msk))
    assert lines == [
        "URL: http://shop/p/1",
        "Снято: 03.12.2026 07:05:13 MSK · 2026-12-03 04:05:13 UTC",
        f"SHA-256 снимка до штампа: {'ab' * 32}",
    ]


@pytest.mark.usefixtures("chromium")
def test_a_fixed_buy_panel_shows_once_at_the_end_and_its_price_is_not_outlined(site: str, blank_scenario: Any) -> None:
    with Browser() as browser:
        png, outlined = browser.screenshot(
            f"{site}/product/sticky", blank_scenario.config.distributor("techsnab"), [Decimal("8500")]
        )
    assert outlined == "8 500 ₽"  # one element: the panel's copy is left alone
    with Image.open(io.BytesIO(png)) as image:
        rgb = image.convert("RGB")
        blue_rows = [y for y in range(rgb.height) if rgb.getpixel((rgb.width // 2, y)) == PANEL_BLUE]
        red_rows = [y for y in range(rgb.height) for x in (2, 3, 4, 5, 6) if rgb.getpixel((x, y)) == (255, 0, 0)]
        height = rgb.height
    assert height > 2600
    # The panel is in the page's flow at its end, not pasted over the page where the window ended.
    assert blue_rows
    assert min(blue_rows) > height - 120
    assert red_rows
    assert max(red_rows) < 300  # the outline is round the price under the title only


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 30)).save(out, format="PNG")
    return out.getvalue()


def test_retention_prunes_old_evidence_but_never_what_an_open_alert_holds(blank_scenario: Any) -> None:
    b, root = blank_scenario.builder, blank_scenario.evidence_dir
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    old, recent = now - dt.timedelta(days=45), now - dt.timedelta(days=5)  # retention is 30 days
    b.distributor("techsnab", "ТехСнаб")
    b.seller("s", "techsnab", "ТехСнаб")
    b.product("p1", "TL-1001", "Обогреватель")
    b.listing("l", "s", "p1", "http://127.0.0.1:9/p")
    expired = b.evidence(root, "screenshot", "http://127.0.0.1:9/p", b"old and free", old)
    held = b.evidence(root, "screenshot", "http://127.0.0.1:9/p", b"old but held", old)
    by_resolved = b.evidence(root, "html", "http://127.0.0.1:9/p", b"old, resolved alert", old)
    fresh = b.evidence(root, "html", "http://127.0.0.1:9/p", b"recent", recent)
    b.alert("open", "dumping", "l", "p1", "techsnab", old, recent, evidence_screenshot_id=held)
    b.alert("done", "dumping", "l", "p1", "techsnab", old, old, resolved_at=old, evidence_html_id=by_resolved)

    with session_scope(blank_scenario.engine) as session:
        paths = {e.id: root / e.path for e in session.scalars(select(Evidence))}
    result = prune_evidence(blank_scenario.engine, blank_scenario.config, now=now)

    assert (result.records, result.files) == (2, 2)
    with session_scope(blank_scenario.engine) as session:
        left = set(session.scalars(select(Evidence.id)))
        resolved = session.get_one(Alert, b.ids["done"])
        assert resolved.evidence_html_id is None
    assert left == {held, fresh}
    assert not paths[expired].exists()
    assert not paths[by_resolved].exists()
    assert paths[held].exists()
    assert paths[fresh].exists()
