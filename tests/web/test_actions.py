"""What the panel's actions write (the same records as the Telegram buttons and `match apply`), exports of exactly
the filtered set, the evidence packet, and a manager who sees nothing of another distributor anywhere."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile

import openpyxl
from sqlalchemy import select

from storage.engine import session_scope
from storage.models import Alert, Listing, MatchMethod, MatchOverride
from tests.support.web import WebWorld


def _alert(world: WebWorld, key: str) -> Alert:
    with session_scope(world.engine) as session:
        alert = session.get(Alert, world.alerts[key])
        assert alert is not None
        session.expunge(alert)
        return alert


def _csv_ids(content: bytes) -> list[int]:
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    return [int(r["alert_id"]) for r in rows]


def test_feedback_writes_the_record_the_telegram_buttons_write(web_world: WebWorld) -> None:
    client = web_world.client("shop_manager")
    alert_id = web_world.alerts["shop-dumping-TL-1001"]
    response = client.post_form(f"/violations/{alert_id}/feedback", {"verdict": "false_alarm"})
    assert response.status_code == 303
    alert = _alert(web_world, "shop-dumping-TL-1001")
    assert (alert.feedback, alert.feedback_by) == ("false_alarm", "shop_manager")
    assert alert.feedback_at is not None
    page = client.get(f"/violations/{alert_id}").text
    assert "ложная тревога: shop_manager" in page


def test_an_htmx_feedback_gets_back_only_the_updated_part(sqlite_web_world: WebWorld) -> None:
    client = sqlite_web_world.client("admin")
    alert_id = sqlite_web_world.alerts["shop-dumping-TL-1001"]
    response = client.post_form(
        f"/violations/{alert_id}/feedback", {"verdict": "confirmed"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert response.text.startswith('<section id="feedback"')
    assert "подтверждено: admin" in response.text


def test_a_note_is_kept_with_who_and_when(sqlite_web_world: WebWorld) -> None:
    client = sqlite_web_world.client("admin")
    alert_id = sqlite_web_world.alerts["market-dumping-TL-1001"]
    assert (
        client.post_form(f"/violations/{alert_id}/note", {"text": "  Позвонили, обещали исправить  "}).status_code
        == 303
    )
    alert = _alert(sqlite_web_world, "market-dumping-TL-1001")
    assert (alert.note, alert.note_by) == ("Позвонили, обещали исправить", "admin")
    assert client.post_form(f"/violations/{alert_id}/note", {"text": ""}).status_code == 303
    assert _alert(sqlite_web_world, "market-dumping-TL-1001").note is None


def test_accepting_a_match_makes_the_decision_match_apply_makes(web_world: WebWorld) -> None:
    client = web_world.client("admin")
    page = client.get("/matches").text
    assert "Чайник Термолайн ТЛ-77" in page
    product_id = web_world.products["TL-2002"]
    data = {"distributor": "shop", "url": "https://shop.test/other", "action": "accept", "product_id": product_id}
    response = client.post_form("/matches/decide", data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "TL-2002" in response.text
    with session_scope(web_world.engine) as session:
        override = session.scalar(select(MatchOverride).where(MatchOverride.url == "https://shop.test/other"))
        listing = session.scalar(select(Listing).where(Listing.url == "https://shop.test/other"))
        assert override is not None
        assert listing is not None
        assert (override.distributor_code, override.product_id, override.decided_by) == ("shop", product_id, "admin")
        assert (listing.product_id, listing.match_method, listing.match_confidence) == (
            product_id,
            MatchMethod.MANUAL,
            1.0,
        )
    assert "Чайник Термолайн ТЛ-77" not in client.get("/matches").text


def test_rejecting_for_another_product_and_not_ours(sqlite_web_world: WebWorld) -> None:
    client = sqlite_web_world.client("admin")
    data = {"distributor": "shop", "url": "https://shop.test/other", "action": "reject", "vendor_code": "nope-1"}
    assert client.post_form("/matches/decide", data).status_code == 400
    data = {"distributor": "shop", "url": "https://shop.test/other", "action": "not_ours"}
    assert client.post_form("/matches/decide", data).status_code == 303
    with session_scope(sqlite_web_world.engine) as session:
        override = session.scalar(select(MatchOverride).where(MatchOverride.url == "https://shop.test/other"))
        assert override is not None
        assert override.product_id is None


def test_an_export_holds_exactly_the_filtered_set(web_world: WebWorld) -> None:
    client = web_world.client("admin")
    alerts = web_world.alerts
    query = "rule=dumping&q=TL-1001"
    listed = client.get(f"/violations?{query}").text
    expected = {alerts["shop-dumping-TL-1001"], alerts["market-dumping-TL-1001"]}
    assert {int(i) for i in re.findall(r'href="/violations/(\d+)"', listed)} == expected
    assert sorted(_csv_ids(client.get(f"/violations/export.csv?{query}").content)) == sorted(expected)
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/violations/export.xlsx?{query}").content))
    assert book["Нарушения"].max_row == 1 + len(expected)
    assert client.get(f"/violations/export.pdf?{query}").content.startswith(b"%PDF")
    everything = _csv_ids(client.get("/violations/export.csv").content)
    assert sorted(everything) == sorted(alerts.values())


def test_a_manager_sees_nothing_of_another_distributor(web_world: WebWorld) -> None:
    client = web_world.client("shop_manager")
    market = web_world.alerts["market-dumping-TL-1001"]
    listed = client.get("/violations").text
    assert "Маркет" not in listed
    assert "Маркет" not in client.get("/violations?q=market").text
    assert "Маркет" not in client.get("/").text
    assert market not in _csv_ids(client.get("/violations/export.csv").content)
    assert market not in _csv_ids(client.get("/violations/export.csv?distributor=market").content)
    assert client.get(f"/violations/{market}/evidence.zip").status_code == 404
    sku = client.get(f"/skus/{web_world.products['TL-1001']}").text
    assert "market.test" not in sku
    assert "Магазин Тепла" in sku
    assert "Маркет" not in client.get("/health").text
    assert "market.test" not in client.get("/matches").text


def test_the_evidence_packet_has_both_files_and_their_hashes(sqlite_web_world: WebWorld) -> None:
    client = sqlite_web_world.client("viewer")
    alert_id = sqlite_web_world.alerts["shop-dumping-TL-1001"]
    response = client.get(f"/violations/{alert_id}/evidence.zip")
    assert response.headers["content-type"] == "application/zip"
    packet = zipfile.ZipFile(io.BytesIO(response.content))
    assert set(packet.namelist()) == {"page.html.gz", "page.html", "screenshot.png", "manifest.json", "SHA256SUMS"}
    manifest = json.loads(packet.read("manifest.json"))
    assert manifest["violation"]["id"] == alert_id
    for entry in manifest["files"]:
        content = packet.read(entry["file"])
        assert entry["sha256_recorded"] == entry["sha256_now"] == hashlib.sha256(content).hexdigest()
        assert entry["captured_at_utc"].endswith("+00:00")
        assert entry["captured_at_local"].endswith("+03:00")
    sums = packet.read("SHA256SUMS").decode().splitlines()
    assert sorted(line.split("  ")[1] for line in sums) == ["page.html.gz", "screenshot.png"]
    assert b"<p class=price>" in packet.read("page.html")
