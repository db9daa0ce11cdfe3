"""The Telegram bot: commands as functions over the database, and end to end through the fake Bot API."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import logging
import re
import zipfile
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select

from crawler.items import Health, StockState
from fixtures.telegram_api import FakeTelegramApi
from notify import bot_commands as commands
from notify.bot import build_application
from notify.bot_chat import help_text, hint
from notify.report_files import ReportFile, ReportRequest, report_files
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

ALLOWED, STRANGER, SCOPED = "1001", "2002", "3003"
TODAY = dt.date(2026, 11, 23)
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
        text = commands.status(s, make_config(), ALLOWED).text
    assert "✅ <b>techsnab</b> (ТехСнаб): в норме · 23.11.2026 09:00 MSK · Предложений 120" in text
    assert "⚠️ <b>marketplace</b> (МаркетПлюс): деградация" in text
    assert "offers fell to 3 of 140" in text
    assert "⚪ <b>klimatprof</b> (КлиматПроф): ещё не собиралось" in text


def test_sku_shows_latest_prices_across_sellers_against_rrp(engine: Engine, make_config: Any) -> None:
    seed_offers(engine)
    config = make_config()
    with session_scope(engine) as s:
        text = commands.sku(s, config, ["tl", "1001"], ALLOWED).text  # normalized like the catalog: TL1001
        unknown = commands.sku(s, config, ["TL-9999"], ALLOWED).text
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
        all_text = commands.violations(s, config, [], ALLOWED).text
        market = commands.violations(s, config, ["marketplace"], ALLOWED).text
        wrong = commands.violations(s, config, ["nosuch"], ALLOWED).text
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


def _report(s: Any, config: Any, args: list[str], builder: Any = report_files, chat: str = ALLOWED) -> Any:
    return commands.report(s, config, args, builder, chat_id=chat, today=TODAY)


def _dumping_on(s: Any, add_alert: Any, details: dict[str, Any], distributor: str) -> None:
    """A dumping alert on the distributor's listing of TL-1001 (`seed_offers`)."""
    alert, _ = add_alert(s, details={**details, "distributor_code": distributor})
    alert.listing_id = s.scalar(
        select(Listing.id).join(Seller).join(Distributor).where(Distributor.code == distributor)
    )
    alert.product_id = s.scalar(select(Product.id))


def test_report_sends_the_pdf_and_the_xlsx_bundled_with_its_evidence(
    engine: Engine, make_config: Any, add_alert: Any, dumping_details: dict[str, Any]
) -> None:
    seed_offers(engine)
    config = make_config()
    with session_scope(engine) as s:
        _dumping_on(s, add_alert, dumping_details, "techsnab")
    with session_scope(engine) as s:
        assert _report(s, config, [], None).text == "Отчёты пока недоступны."
        assert _report(s, config, ["nosuch"]).text.startswith("Нет дистрибьютора «nosuch»")
        assert _report(s, config, ["techsnab", "31.02.2026"]).text.startswith("Использование: /report")
        reply = _report(s, config, ["techsnab", "01.11.2026", "2026-11-23"])
    pdf, bundle = reply.documents
    assert reply.text == "Отчёт о нарушениях: файлов 2."
    assert pdf.filename == "violations-techsnab-2026-11-23.pdf"
    assert pdf.content.startswith(b"%PDF")
    assert pdf.caption.startswith("Нарушения РРЦ — ТехСнаб, 01.11.2026 — 23.11.2026. Нарушений: 1")
    assert bundle.filename == "violations-techsnab-2026-11-23.zip"  # no web panel: the XLSX goes with its evidence
    assert "Распакуйте архив целиком" in bundle.caption
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as packed:
        names = packed.namelist()
    assert "violations-techsnab-2026-11-23/violations.xlsx" in names
    assert "violations-techsnab-2026-11-23/violations.pdf" in names


def test_report_with_a_web_panel_sends_the_xlsx_linked_to_it(engine: Engine, make_config: Any, add_alert: Any) -> None:
    config = make_config()
    panel = config.model_copy(update={"web": config.web.model_copy(update={"base_url": "https://panel.example"})})
    with session_scope(engine) as s:
        add_alert(s, severity="critical")
    with session_scope(engine) as s:
        pdf, table = _report(s, panel, ["7"]).documents
    assert (pdf.filename, table.filename) == ("violations-2026-11-23.pdf", "violations-2026-11-23.xlsx")
    assert table.content.startswith(b"PK")
    assert "панель" in table.caption


def test_a_scoped_chat_sees_only_its_distributors(
    engine: Engine, make_config: Any, add_alert: Any, dumping_details: dict[str, Any]
) -> None:
    seed_offers(engine)
    config = make_config(allowed_chats=[ALLOWED, SCOPED], chat_scopes={SCOPED: ["marketplace"]})
    asked: list[ReportRequest] = []

    def builder(_s: Any, _c: Any, request: ReportRequest) -> list[ReportFile]:
        asked.append(request)
        return []

    with session_scope(engine) as s:
        add_alert(s)  # techsnab
        add_alert(s, rule="parallel_import", details={**dumping_details, "distributor_code": "marketplace"})
        status = commands.status(s, config, SCOPED).text
        violations = commands.violations(s, config, [], SCOPED).text
        other = commands.violations(s, config, ["techsnab"], SCOPED).text
        offers = commands.sku(s, config, ["TL-1001"], SCOPED).text
        mute = commands.mute(s, config, SCOPED, ["distributor", "techsnab"]).text
        _report(s, config, [], builder, chat=SCOPED)
        refused = _report(s, config, ["techsnab"], builder, chat=SCOPED).text
        everything = commands.status(s, config, ALLOWED).text
    assert "marketplace" in status
    assert "techsnab" not in status
    assert "klimatprof" not in status
    assert violations.splitlines()[0] == "<b>Открытые нарушения</b> (1)"
    assert "Параллельный импорт" in violations
    assert other == "Нет дистрибьютора «techsnab». Известны: marketplace"
    assert "Ромашка · МаркетПлюс" in offers
    assert "techsnab.test" not in offers
    assert mute.startswith("Нет дистрибьютора «techsnab»")
    assert refused.startswith("Нет дистрибьютора «techsnab»")
    assert [(r.distributor, r.scope) for r in asked] == [(None, ["marketplace"])]
    assert "techsnab" in everything  # a chat without a scope sees every distributor


def test_a_scoped_report_counts_only_the_chats_distributors(
    engine: Engine, make_config: Any, add_alert: Any, dumping_details: dict[str, Any]
) -> None:
    seed_offers(engine)
    config = make_config(allowed_chats=[SCOPED], chat_scopes={SCOPED: ["marketplace"]})
    with session_scope(engine) as s:
        _dumping_on(s, add_alert, dumping_details, "techsnab")
        _dumping_on(s, add_alert, dumping_details, "marketplace")
    with session_scope(engine) as s:
        pdf, _bundle = _report(s, config, [], chat=SCOPED).documents
    assert pdf.caption.startswith("Нарушения РРЦ — МаркетПлюс, ")
    assert "Нарушений: 1" in pdf.caption  # techsnab's dumping is not this chat's


def test_start_and_help_say_what_the_bot_does_for_this_chat(make_config: Any) -> None:
    config = make_config(allowed_chats=[ALLOWED, SCOPED], chat_scopes={SCOPED: ["techsnab", "klimatprof"]})
    start = help_text(config, ALLOWED, greeting=True)
    scoped = help_text(config, SCOPED, greeting=False)
    assert start.startswith("Здравствуйте! Я бот pricewatch")
    for command in ("/status", "/violations", "/sku", "/report", "/cases", "/mute", "/unmute", "/help"):
        assert f"\n{command} — " in start
    assert "Этот чат видит всех дистрибьюторов: ТехСнаб (techsnab), КлиматПроф (klimatprof), МаркетПлюс" in start
    assert not scoped.startswith("Здравствуйте")
    assert "Этот чат видит только: ТехСнаб (techsnab), КлиматПроф (klimatprof)\n" in scoped
    assert hint(config, "/nosuch") == "Не знаю команды /nosuch. Список команд — /help."
    assert hint(config, None).startswith("Я отвечаю на команды")


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
            for text in ("/start", "добрый день", "/nosuch@pricewatch_test_bot 1", "/report techsnab 30"):
                telegram_api.push_message(ALLOWED, text)
            await asyncio.to_thread(telegram_api.wait_for, "sendDocument", 2, 60)
            await app.updater.stop()
            await app.stop()

    asyncio.run(converse())

    (menu,) = telegram_api.calls_to("setMyCommands")
    menu_commands = [c["command"] for c in menu.params["commands"]]
    assert menu_commands == ["status", "violations", "sku", "report", "mute", "unmute", "cases", "help"]
    status, start, text, unknown, report, pdf, bundle = telegram_api.messages
    assert {m.params["chat_id"] for m in telegram_api.messages} == {ALLOWED}
    assert "<b>Последние сборы</b>" in status.params["text"]
    assert start.params["text"].startswith("Здравствуйте! Я бот pricewatch")
    assert text.params["text"].startswith("Я отвечаю на команды")
    assert unknown.params["text"] == "Не знаю команды /nosuch. Список команд — /help."
    assert report.params["text"] == "Отчёт о нарушениях: файлов 2."
    assert pdf.files["document"][0].endswith(".pdf")
    assert pdf.params["caption"].startswith("Нарушения РРЦ — ТехСнаб, ")
    assert bundle.files["document"][0].endswith(".zip")
    assert "Распакуйте архив целиком" in bundle.params["caption"]
    (answer,) = telegram_api.calls_to("answerCallbackQuery")
    assert answer.params["text"] == "Записано: ложная тревога"
    with session_scope(engine) as s:
        alert = s.scalar(select(Alert).where(Alert.id == alert_id))
        assert alert is not None
        assert (alert.feedback, alert.feedback_by) == ("false_alarm", "@manager")
        assert alert.feedback_at is not None
    assert f"from chat {STRANGER}" in caplog.text
    assert "private-question-text" not in caplog.text


@pytest.mark.parametrize(
    ("scopes", "message"),
    [
        ({SCOPED: ["nosuch"]}, f"bot.chat_scopes.{SCOPED}[0]: no distributor 'nosuch' in the config"),
        ({STRANGER: ["techsnab"]}, f"bot.chat_scopes.{STRANGER}: the chat is not on bot.allowed_chats"),
        ({SCOPED: []}, f"bot.chat_scopes.{SCOPED}: name at least one distributor"),
    ],
)
def test_chat_scopes_name_allowed_chats_and_known_distributors(
    make_config: Any, scopes: dict[str, list[str]], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        make_config(allowed_chats=[ALLOWED, SCOPED], chat_scopes=scopes)
