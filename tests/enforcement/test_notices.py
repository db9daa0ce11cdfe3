"""What a notice says and carries: the recommended price and the partner agreement (never penalties), the
violations' table, the evidence packet, crawled text escaped, a brand's own templates, English for a contact that
wants it; and every notice recorded."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crawler.config import Config
from enforcement.notices import render
from enforcement.run import approve
from fixtures.smtp import FakeSmtpServer
from fixtures.telegram_api import FakeTelegramApi
from notify.outbox import flush
from storage.engine import session_scope
from storage.models import Notice
from tests.enforcement.conftest import MakeWorld
from tests.support.builders import Seen, day, make_config
from tests.support.enforcement import DUMPING, SHOP_CHAT, SHOP_EMAIL, give_evidence, open_alert_ids, run_day
from tests.support.rules_world import BASE

KINDS = ("first", "second", "escalation", "approval")
PENALTY_WORDS = {
    "ru": r"штраф|санкци|наказ|неустойк|минимальн\w* цен|обязаны|требуем",
    "en": r"\bpenalt|\bfines?\b|sanction|minimum price|\bmust\b|\bdemand",
}
ITEM = {
    "rule": "dumping",
    "product": "Конвектор",
    "vendor_code": "TL-1001",
    "url": "https://shop.test/tl-1001",
    "price": "9 000 ₽",
    "rrp": "10 000 ₽",
    "threshold": "9 500 ₽",
    "deviation": "−10 %",
    "signals": "",
    "since": "02.03.2026",
    "panel_url": None,
}


def _sample() -> dict[str, Any]:
    return {
        "case": {"id": 7, "repeat_number": 0, "opened": "02.03.2026"},
        "repeat": False,
        "distributor": {"code": "shop", "name": "Магазин"},
        "seller": {"code": "shop", "name": "Магазин", "legal_name": None, "tax_id": None},
        "brand": "Termoline",
        "items": [ITEM],
        "sent": {"first": "02.03.2026", "second": "06.03.2026"},
        "deadline": "05.03.2026",
        "person": None,
        "attached": True,
        "recipients": ["irina@shop.example"],
    }


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_default_templates_recommend_and_never_threaten(kind: str, language: str) -> None:
    config: Config = make_config(BASE)
    parts = render(config, kind, language, _sample())
    for text in (parts.subject, parts.text, parts.html, parts.telegram):
        assert text
        assert re.search(PENALTY_WORDS[language], text, flags=re.IGNORECASE) is None, text
    if kind in ("first", "second"):
        recommended = "рекомендованн" if language == "ru" else "recommended"
        agreement = "партнёрск" if language == "ru" else "partner agreement"
        assert recommended in parts.text.lower()
        assert agreement in parts.text.lower()
        assert "05.03.2026" in parts.text  # the deadline


def test_a_telegram_notice_of_many_listings_fits_one_message() -> None:
    many = _sample() | {"items": [ITEM | {"vendor_code": f"TL-{n:04}"} for n in range(300)]}
    parts = render(make_config(BASE), "first", "ru", many)
    assert len(parts.telegram) <= 4096
    shown = parts.telegram.count("• <a href=")
    assert 0 < shown < 300
    assert f"…и ещё {300 - shown}" in parts.telegram
    assert parts.text.count("https://shop.test/tl-1001") == 300  # the email lists every one


def test_the_email_notice_lists_the_violations_and_the_deadline(
    make_world: MakeWorld, smtp_server: FakeSmtpServer
) -> None:
    world = make_world(approval="off")
    run_day(world, 1, {"shop": [Seen("TL-1001", price=DUMPING)]})
    (message,) = smtp_server.messages
    assert message["Subject"] == "Рекомендованные розничные цены Termoline: Магазин"
    assert message["From"] == "partners@brand.example"
    body = message.get_body(("plain",)).get_content()
    assert body.startswith("Здравствуйте, Ирина!")
    line = "1. Конвектор Термолайн TL-1001 (TL-1001) — 9 000 ₽ при рекомендованной цене 10 000 ₽ (−10 %), с 02.03.2026"
    assert line in body
    assert "до 05.03.2026" in body
    assert list(message.iter_attachments()) == []  # no evidence was captured


def test_a_notice_issued_with_evidence_attaches_its_packet(
    make_world: MakeWorld, smtp_server: FakeSmtpServer, tmp_path: Path
) -> None:
    world = make_world(approval="case")
    run_day(world, 1, {"shop": [Seen("TL-1001", price=DUMPING)]})
    (alert_id,) = open_alert_ids(world)
    sha = give_evidence(world, alert_id, tmp_path / "evidence", b"<html>9 000 \xe2\x82\xbd</html>")
    with session_scope(world.engine) as session:
        case_id = session.scalar(select(Notice.case_id))
        assert case_id is not None
        approve(session, world.config, case_id, by="@anna", now=day(1, hours=1))
    flush(world.engine, world.config, now=day(1, hours=1))
    notice_mail = [m for m in smtp_server.messages if m["To"] == SHOP_EMAIL]
    (message,) = notice_mail
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == f"evidence-case-{case_id}.zip"
    with zipfile.ZipFile(io.BytesIO(attachment.get_content())) as packet:
        folder = f"TL-1001-{alert_id}"
        manifest = json.loads(packet.read(f"{folder}/manifest.json"))
        assert packet.read(f"{folder}/page.html") == b"<html>9 000 \xe2\x82\xbd</html>"
    (entry,) = manifest["files"]
    assert (entry["sha256_recorded"], entry["sha256_now"], entry["missing"]) == (sha, sha, False)
    with session_scope(world.engine) as session:
        recorded = session.scalars(select(Notice).where(Notice.kind == "first", Notice.channel == "email")).one()
        assert [e["sha256"] for e in recorded.evidence] == [sha]
        assert recorded.subject == message["Subject"]
        assert recorded.text == message.get_body(("plain",)).get_content().strip()


def test_crawled_text_is_escaped_in_html_and_telegram(
    make_world: MakeWorld, smtp_server: FakeSmtpServer, telegram_api: FakeTelegramApi
) -> None:
    world = make_world(approval="off")
    world.product("TL-1003", name='<script>alert("x")</script> & Co')
    world.price_list(dt.date(2026, 3, 1), {"TL-1003": "10000"})
    run_day(world, 1, {"shop": [Seen("TL-1003", price=DUMPING)]})
    (message,) = smtp_server.messages
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in html
    assert '<script>alert("x")</script> & Co' in message.get_body(("plain",)).get_content()
    (sent,) = telegram_api.messages
    assert sent.params["chat_id"] == SHOP_CHAT
    assert "&lt;script&gt;" in sent.params["text"]
    assert "<script>" not in sent.params["text"]


def test_a_brands_own_template_replaces_the_default(
    make_world: MakeWorld, smtp_server: FakeSmtpServer, tmp_path: Path
) -> None:
    own = tmp_path / "templates" / "ru"
    own.mkdir(parents=True)
    (own / "first.j2").write_text(
        '{% if part == "subject" %}Цены {{ seller.name }}{% elif part == "text" %}Свой текст до {{ deadline }}'
        '{% elif part == "html" %}<p>Свой текст</p>{% else %}Свой текст{% endif %}',
        encoding="utf-8",
    )
    world = make_world(approval="off", templates_dir=str(tmp_path / "templates"))
    run_day(world, 1, {"shop": [Seen("TL-1001", price=DUMPING)]})
    (message,) = smtp_server.messages
    assert message["Subject"] == "Цены Магазин"
    assert message.get_body(("plain",)).get_content().strip() == "Свой текст до 05.03.2026"


def test_a_contact_that_wants_english_gets_english(make_world: MakeWorld, smtp_server: FakeSmtpServer) -> None:
    world = make_world(contacts={"shop": [{"email": "buyer@shop.example", "language": "en"}]}, approval="off")
    run_day(world, 1, {"shop": [Seen("TL-1001", price=DUMPING)]})
    (message,) = smtp_server.messages
    assert message["Subject"] == "Recommended retail prices of Termoline: Магазин"
    body = message.get_body(("plain",)).get_content()
    assert "9,000 RUB against the recommended price 10,000 RUB (-10%), since 2026-03-02" in body
    assert "by 2026-03-05" in body
