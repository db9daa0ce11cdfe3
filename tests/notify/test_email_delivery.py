"""Email through a local SMTP server (aiosmtpd): digests bundled per recipient, instant mail, refusals, outages."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from typing import Any

from sqlalchemy import Engine

from fixtures.smtp import FakeSmtpServer
from fixtures.telegram_api import FakeTelegramApi
from notify.email import Attachment
from notify.messages import message_id
from notify.outbox import flush
from storage.models import EventKind, OutboxStatus

BOSS, OPS, CHAT = "boss@brand.example", "ops@brand.example", "1001"
DIGEST = [{"name": "daily", "email": [BOSS, OPS], "telegram": [CHAT], "mode": "digest"}]


def later(seconds: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    return text.get_content(), html.get_content()


def seed_day(engine: Engine, config: Any, queue: Any, details: dict[str, Any]) -> None:
    """A day's events: dumping opened and ongoing, a stock-out opened, a price move resolved."""
    queue(engine, config, severity="critical")
    fan = {**details, "product_name": "Вентилятор TL-2002", "vendor_code": "TL-2002"}
    queue(engine, config, kind=EventKind.ONGOING, details=fan)
    queue(engine, config, rule="stock_out", details={**details, "previous_stock": "in_stock", "stock": "out_of_stock"})
    moved = {**details, "previous_price": "12990.00", "change_pct": "-15.40"}
    queue(engine, config, rule="price_move", severity="info", kind=EventKind.RESOLVED, details=moved)


def test_digest_bundles_a_recipients_rows_into_one_email_with_the_attachment(
    engine: Engine,
    smtp_server: FakeSmtpServer,
    telegram_api: FakeTelegramApi,
    make_config: Any,
    queue: Any,
    outbox_rows: Any,
    dumping_details: dict[str, Any],
) -> None:
    config = make_config(DIGEST, telegram_url=telegram_api.url, smtp_port=smtp_server.port)
    seed_day(engine, config, queue, dumping_details)
    built: list[Attachment] = []

    def report() -> Attachment:
        built.append(Attachment("violations.xlsx", b"PK-fake-xlsx"))
        return built[-1]

    assert flush(engine, config, attachment=report).sent == 0  # digest rows wait for the digest run
    assert smtp_server.messages == []

    result = flush(engine, config, digest=True, attachment=report)

    assert result.sent == 12
    assert len(built) == 1  # one report for all of the flush's digests
    by_rcpt = {r.rcpt_tos[0]: r.message for r in smtp_server.received}
    assert sorted(by_rcpt) == [BOSS, OPS]
    mail = by_rcpt[BOSS]
    assert mail["Subject"].startswith("pricewatch: сводка за ")
    keys = [r.dedup_key for r in outbox_rows(engine) if r.recipient == BOSS]
    assert mail["Message-ID"] == message_id(keys, "pricewatch@brand.example")
    text, html = parts(mail)
    assert "- Демпинг: 1 / 1 / 0" in text
    assert "- Нет в наличии: 1 / 0 / 0" in text
    assert "- Изменение цены: 0 / 0 / 1" in text
    assert "Итого: 2 / 1 / 1" in text
    assert "Вентилятор TL-2002 (TL-2002)" in text  # ongoing: still open, in the table
    assert "Изменение цены: " not in text.split("Открытые нарушения")[1]  # resolved: not in the table
    assert "Обогреватель &lt;Termoline&gt; TL-1001 &amp; &#34;Comfort&#34;" in html
    assert "Отчёт о нарушениях во вложении (XLSX)." in text
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_filename() == "violations.xlsx"
    assert attachment.get_content() == b"PK-fake-xlsx"

    (tg,) = telegram_api.messages
    assert tg.params["chat_id"] == CHAT
    assert "Итого</b>: 2 / 1 / 1" in tg.params["text"]

    rows = outbox_rows(engine)
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    assert len({r.provider_message_id for r in rows if r.recipient == BOSS}) == 1
    assert flush(engine, config, digest=True, attachment=report).sent == 0
    assert len(smtp_server.messages) == 2


def test_instant_email_and_an_english_digest(
    engine: Engine, smtp_server: FakeSmtpServer, make_config: Any, queue: Any, outbox_rows: Any
) -> None:
    routes = [{"name": "now", "email": [OPS]}, {"name": "daily", "email": [BOSS], "mode": "digest"}]
    config = make_config(routes, smtp_port=smtp_server.port, language="en")
    queue(engine, config, severity="critical")

    assert flush(engine, config).sent == 1
    (instant,) = smtp_server.messages
    assert instant["To"] == OPS
    assert instant["Subject"] == 'pricewatch: Dumping — Обогреватель <Termoline> TL-1001 & "Comfort" (TL-1001)'
    assert instant["Message-ID"] == message_id([outbox_rows(engine)[0].dedup_key], "pricewatch@brand.example")
    text, html = parts(instant)
    assert "Price: 10,990 RUB vs RRP 12,990 RUB (-15.40%)" in text
    assert "&lt;Termoline&gt;" in html

    assert flush(engine, config, digest=True).sent == 1
    digest = smtp_server.messages[1]
    assert digest["Subject"].startswith("pricewatch: digest for ")
    assert "Total: 1 / 0 / 0" in parts(digest)[0]
    assert "The violations report is attached" not in parts(digest)[0]  # no attachment hook given


def test_a_refused_recipient_is_dead_and_the_others_are_delivered(
    engine: Engine, smtp_server: FakeSmtpServer, make_config: Any, queue: Any, outbox_rows: Any
) -> None:
    smtp_server.refuse(OPS)
    config = make_config([{"name": "now", "email": [BOSS, OPS]}], smtp_port=smtp_server.port)
    queue(engine, config)
    report = flush(engine, config)
    assert (report.sent, report.dead) == (1, 1)
    dead = next(r for r in outbox_rows(engine) if r.recipient == OPS)
    assert dead.status == OutboxStatus.DEAD
    assert "550" in (dead.last_error or "")
    # The alert, then the admin's alert about the refused mailbox (BOSS's catch-all route hears crawler health too).
    assert [m["To"] for m in smtp_server.messages] == [BOSS, BOSS]
    assert OPS in smtp_server.messages[1]["Subject"]
    assert report.admin_alerts == 1


def test_smtp_down_during_a_flush_then_everything_once_after_recovery(
    engine: Engine,
    smtp_server: FakeSmtpServer,
    make_config: Any,
    queue: Any,
    outbox_rows: Any,
    dumping_details: dict[str, Any],
) -> None:
    routes = [{"name": "now", "email": [OPS]}, {"name": "daily", "email": [BOSS], "mode": "digest"}]
    config = make_config(routes, smtp_port=smtp_server.port)
    seed_day(engine, config, queue, dumping_details)
    smtp_server.down()

    report = flush(engine, config, digest=True, now=later(1))
    # 3 instant rows (the ongoing event is digest only): the first failed, the other two wait behind it untried;
    # the 4 digest rows failed as one email.
    assert (report.sent, report.retried) == (0, 5)
    rows = outbox_rows(engine)
    assert {r.status for r in rows} == {OutboxStatus.PENDING}
    assert sorted(r.attempts for r in rows) == [0, 0, 1, 1, 1, 1, 1]

    smtp_server.up()
    assert flush(engine, config, digest=True, now=later(3600)).sent == 7
    assert flush(engine, config, digest=True, now=later(7200)).sent == 0
    assert sorted(m["To"] for m in smtp_server.messages) == [BOSS, OPS, OPS, OPS]
