"""An evidence packet: the files as stored, the page also as plain HTML, a manifest with every hash."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image

from crawler.i18n import Texts
from crawler.stamp import stamp_png
from reports.packet import PacketFile, build_packet

MSK = ZoneInfo("Europe/Moscow")
AT = dt.datetime(2026, 12, 3, 4, 5, tzinfo=dt.UTC)
URL = "http://shop.test/p/1"


def _capture() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (200, 120), (200, 220, 240)).save(out, format="PNG")
    return out.getvalue()


def test_the_packet_has_the_page_as_plain_html_and_the_hash_of_the_unstamped_capture(tmp_path: Path) -> None:
    page = "<html><body>Цена 12 090 ₽</body></html>".encode()
    stamped, capture_hash = stamp_png(_capture(), URL, AT, MSK, Texts("ru", MSK))
    stored_page, stored_shot = tmp_path / "page.html.gz", tmp_path / "shot.png"
    stored_page.write_bytes(gzip.compress(page, mtime=0))
    stored_shot.write_bytes(stamped)
    files = [
        PacketFile("html", URL, AT, hashlib.sha256(stored_page.read_bytes()).hexdigest(), stored_page),
        PacketFile("screenshot", URL, AT, hashlib.sha256(stamped).hexdigest(), stored_shot),
    ]
    with zipfile.ZipFile(io.BytesIO(build_packet({"id": 7}, files, MSK, AT))) as packet:
        assert packet.read("page.html") == page  # opens in a browser on Windows, no .gz tool needed
        assert gzip.decompress(packet.read("page.html.gz")) == page
        manifest = json.loads(packet.read("manifest.json"))
        sums = packet.read("SHA256SUMS").decode()
    html, shot = manifest["files"]
    assert html["readable_copy"] == "page.html"
    assert shot["sha256_before_stamp"] == capture_hash == hashlib.sha256(_capture()).hexdigest()
    assert shot["sha256_now"] == shot["sha256_recorded"]
    assert shot["captured_at_local"] == "2026-12-03T07:05:00+03:00"
    assert f"{shot['sha256_now']}  screenshot.png" in sums
