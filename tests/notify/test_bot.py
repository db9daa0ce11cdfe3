"""The Telegram bot: commands as functions over the database, and end to end through the fake Bot API."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select

from crawler.items import Health, StockState
from fixtures.telegram_api import FakeTelegramApi
from notify import bot_commands as commands
from notify.bot import build_application
from notify.report_files import violations_xlsx
from storage.engine import session_scope
from storage.models import (
    Alert,
    CrawlRun,
    Distributor,
    Listing,
    MatchMethod,
    Observation,
    Price,
    PriceList,
    Product,
    RunStatus,
    Seller,
    SellerKind,
)

ALLOWED, STRANGER = "1001", "2002"
DAY = dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC)


def seed_offers(engine: Engine) -> None:
    """Two distributors' last runs, and TL-1001 at two sellers against an RRP of 12 990."""
    with session_scope(engine) as s:
        techsnab = Distributor(code="techsnab", name="ТехСнаб", kind=SellerKind.DISTRIBUTOR)
        market = Distributor(code="marketplace", name="МаркетПлюс", kind=SellerKind.MARKETPLACE)
        s.add_all([techsnab, market, Distributor(code="klimatprof", name="КлиматПроф", kind=SellerKind.DISTRIBUTOR)])
        s.flush()
        product = Product(vendor_code="TL-1001", vendor_code_norm="TL1001", name="Обогреватель <Termoline>")
        prices = PriceList(
            name="2026", valid_from=dt.date(2026, 1, 1), source_file="rrp.csv", source_sha256="x" * 64, row_count=1
        )
        s.add_all([product, prices])
        s.flush()
        s.add(Price(price_list_id=prices.id, product_id=product.id, rrp=Decimal("12990.00")))
        runs = {
            techsnab.id: CrawlRun(
                run_key="r1",
                distributor_id=techsnab.id,
                started_at=DAY,
                finished_at=DAY,
                status=RunStatus.FINISHED,
                health=Health.OK,
                offers=120,
            ),
            market.id: CrawlRun(
                run_key="r2",
                distributor_id=market.id,
                started_at=DAY,
                finished_at=DAY,
                status=RunStatus.FINISHED,
                health=Health.DEGRADED,
                offers=3,
                health_reason="offers fell to 3 of 140",
            ),
        }
        s.add_all(runs.values())
        s.flush()
        for distributor, seller_name, price in ((techsnab, "ТехСнаб", "12990.00"), (market, "Ромашка", "10990.00")):
            seller = Seller(distributor_id=distributor.id, code=seller_name, name=seller_name)
            s.add(seller)
            s.flush()
            listing = Listing(
                seller_id=seller.id,
                url=f"http://{distributor.code}.test/tl-1001",
                product_id=product.id,
                match_method=MatchMethod.VENDOR_CODE,
                match_confidence=1.0,
            )
            s.add(listing)
            s.flush()
            s.add(
                Observation(
                    listing_id=listing.id,
                    crawl_run_id=runs[distributor.id].id,
                    observed_at=DAY,
                    price=Decimal(price),
                    currency="RUB",
                    stock=StockState.IN_STOCK,
                    quantity=7,
                )
            )


def test_status_lists_each_distributors_last_run_and_health(engine: Engine, make_config: Any) -> None:
    seed_offers(engine)
    with session_scope(engine) as s:
        text = commands.status(s, make_config()).text
    assert "✅ <b>techsnab</b> (ТехСнаб): в норме · 23.11.2026 09:00 MSK · Предложений 120" in text
    assert "⚠️ <b>marketplace</b> (МаркетПлюс): деградация" in text
    assert "offers fell to 3 of 140" in text
    assert "⚪ <b>klimatprof</b> (КлиматПроф): ещё не собиралось" in text


def test_sku_shows_latest_prices_across_sellers_against_rrp(engine: Engine, make_config: Any) -> None:
    seed_offers(engine)
    config = make_config()
    with session_scope(engine) as s:
        text = commands.sku(s, config, ["tl", "1001"]).text  # normalized like the catalog: TL1001
        unknown = commands.sku(s, config, ["TL-9999"]).text
    lines = text.splitlines()
    assert lines[0] == "<b>Обогреватель &lt;Termoline&gt; (TL-1001)</b> · РРЦ 12 990 ₽"
    assert lines[1].startswith(
        '• <a href="http://marketplace.test/tl-1001">Ромашка · МаркетПлюс</a>: 10 990 ₽ (−15,40 %)'
    )
    assert "в наличии, 7" in lines[1]
    assert lines[2].startswith('• <a href="http://techsnab.test/tl-1001">ТехСнаб</a>: 12 990 ₽ (0 %)')
    assert unknown == "Артикул «TL-9999» не найден в каталоге."


def test_violations_by_distributor(
    engine: Engine, make_config: Any, add_alert: Any, dumping_details: dict[str, Any]
) -> None:
    config = make_config()
    with session_scope(engine) as s:
        add_alert(s, severity="critical")
        add_alert(
            s,
            rule="parallel_import",
            details={
                **dumping_details,
                "distributor_code": "marketplace",
                "product_name": "Вентилятор",
                "vendor_code": "TL-2002",
            },
        )
        add_alert(s, rule="stock_out")  # not a violation
        all_text = commands.violations(s, config, []).text
        market = commands.violations(s, config, ["marketplace"]).text
        wrong = commands.violations(s, config, ["nosuch"]).text
    assert all_text.splitlines()[0] == "<b>Открытые нарушения</b> (2)"
    assert "• Демпинг: <a href=" in all_text
    assert "• Параллельный импорт: " in all_text
    assert "Нет в наличии" not in all_text
    assert market.splitlines()[0] == "<b>Открытые нарушения · marketplace</b> (1)"
    assert "Демпинг" not in market
    assert wrong.startswith("Нет дистрибьютора «nosuch»")


def test_mute_and_unmute_change_what_routing_queues(
    engine: Engine, make_config: Any, queue: Any, outbox_rows: Any
) -> None:
    config = make_config([{"name": "all", "telegram": [ALLOWED]}])
    with session_scope(engine) as s:
        assert commands.mute(s, config, ALLOWED, ["rule", "dumping"]).text == "Уведомления отключены: правило Демпинг"
        assert commands.mute(s, config, ALLOWED, ["rule", "nosuch"]).text.startswith("Нет правила «nosuch»")
        assert commands.mute(s, config, ALLOWED, ["color", "red"]).text.startswith("Использование: /mute rule")
        assert commands.mute(s, config, ALLOWED, []).text == "Отключено: правило Демпинг"
    assert queue(engine, config)[1] == 0
    assert queue(engine, config, rule="stock_out")[1] == 1
    with session_scope(engine) as s:
        assert commands.unmute(s, config, ALLOWED, []).text == "Уведомления включены (1)"
    assert queue(engine, config)[1] == 1


def test_report_sends_the_violations_xlsx(engine: Engine, make_config: Any, add_alert: Any) -> None:
    config = make_config()
    with session_scope(engine) as s:
        add_alert(s, severity="critical")
    with session_scope(engine) as s:
        assert commands.report(s, config, [], None).text == "Отчёты пока недоступны."
        assert commands.report(s, config, ["nosuch"], violations_xlsx).text.startswith("Нет дистрибьютора «nosuch»")
        reply = commands.report(s, config, ["techsnab"], violations_xlsx)
    assert reply.document is not None
    filename, content = reply.document
    assert filename.startswith("violations-techsnab-")
    assert filename.endswith(".xlsx")
    assert content.startswith(b"PK")  # a zip: the workbook
    assert reply.text == filename


def test_only_chats_on_the_allow_list_are_answered(make_config: Any) -> None:
    config = make_config(allowed_chats=[ALLOWED])
    assert commands.is_allowed(config, int(ALLOWED))
    assert not commands.is_allowed(config, STRANGER)
    assert not commands.is_allowed(make_config(), ALLOWED)  # an empty list answers nobody


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_end_to_end_through_the_fake_bot_api(
    engine: Engine,
    telegram_api: FakeTelegramApi,
    make_config: Any,
    add_alert: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seed_offers(engine)
    config = make_config(telegram_url=telegram_api.url, allowed_chats=[ALLOWED])
    with session_scope(engine) as s:
        alert_id = add_alert(s)[0].id
    caplog.set_level(logging.INFO, logger="notify.bot")

    async def converse() -> None:
        app = build_application(engine, config)
        async with app:
            assert app.post_init is not None  # run_polling calls it; here we start the parts ourselves
            await app.post_init(app)
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=1)
            telegram_api.push_message(STRANGER, "/sku private-question-text")
            telegram_api.push_message(ALLOWED, "/status")
            await asyncio.to_thread(telegram_api.wait_for, "sendMessage")
            telegram_api.push_callback(ALLOWED, f"fb:{alert_id}:false_alarm", message_id=42)
            await asyncio.to_thread(telegram_api.wait_for, "editMessageReplyMarkup")
            await app.updater.stop()
            await app.stop()

    asyncio.run(converse())

    assert [c.params["commands"][0]["command"] for c in telegram_api.calls_to("setMyCommands")] == ["status"]
    (reply,) = telegram_api.messages
    assert reply.params["chat_id"] == ALLOWED
    assert "<b>Последние сборы</b>" in reply.params["text"]
    (answer,) = telegram_api.calls_to("answerCallbackQuery")
    assert answer.params["text"] == "Записано: ложная тревога"
    with session_scope(engine) as s:
        alert = s.scalar(select(Alert).where(Alert.id == alert_id))
        assert alert is not None
        assert (alert.feedback, alert.feedback_by) == ("false_alarm", "@manager")
        assert alert.feedback_at is not None
    assert f"from chat {STRANGER}" in caplog.text
    assert "private-question-text" not in caplog.text
