"""The bot's `/cases` (a manager's open cases) and the approval button, as functions and end to end through the fake
Telegram Bot API: pressing the button approves the case and sends its first notice at once."""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine

from fixtures.telegram_api import FakeTelegramApi
from notify import bot_commands
from notify.bot import build_application
from storage.engine import session_scope
from tests.enforcement.conftest import MakeWorld
from tests.support.builders import Seen
from tests.support.enforcement import DUMPING, MANAGER_CHAT, MANAGER_EMAIL, SHOP_CHAT, cases, run_day

BOTH = {"shop": [Seen("TL-1001", price=DUMPING)], "shop2": [Seen("TL-1001", price=DUMPING)]}
OTHER_CHAT = "7002"


def test_cases_lists_the_open_cases_of_the_managers_distributors(make_world: MakeWorld) -> None:
    managers = [
        {"name": "Анна", "telegram": MANAGER_CHAT, "email": MANAGER_EMAIL, "distributors": ["shop2"]},
        {"name": "Борис", "telegram": OTHER_CHAT},
    ]
    world = make_world(managers=managers)
    run_day(world, 1, BOTH)
    shop, shop2 = cases(world)
    with session_scope(world.engine) as session:
        mine = bot_commands.cases(session, world.config, MANAGER_CHAT).text
        everyone = bot_commands.cases(session, world.config, OTHER_CHAT).text
    assert mine.splitlines() == [
        "<b>Открытые обращения</b> (1)",
        f"№ {shop2.id} · <b>Shop2</b> · ждёт одобрения · нарушений: 1",
    ]
    assert everyone.splitlines()[1:] == [
        f"№ {shop.id} · <b>Магазин</b> · ждёт одобрения · нарушений: 1",
        f"№ {shop2.id} · <b>Shop2</b> · ждёт одобрения · нарушений: 1",
    ]


def test_the_approval_button_sends_the_first_notice_at_once(
    make_world: MakeWorld, telegram_api: FakeTelegramApi, engine: Engine
) -> None:
    world = make_world({"bot": {"allowed_chats": [MANAGER_CHAT]}})
    run_day(world, 1, {"shop": [Seen("TL-1001", price=DUMPING)]})
    (case,) = cases(world)
    (request,) = telegram_api.messages
    data = request.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]

    async def converse() -> None:
        app = build_application(engine, world.config)
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=1)
            telegram_api.push_message(MANAGER_CHAT, "/cases")
            await asyncio.to_thread(telegram_api.wait_for, "sendMessage", 2)
            telegram_api.push_callback(MANAGER_CHAT, data, message_id=int(request.params.get("message_id", 1)))
            await asyncio.to_thread(telegram_api.wait_for, "sendMessage", 3)
            await app.updater.stop()
            await app.stop()

    asyncio.run(converse())

    reply = telegram_api.messages[1]
    assert reply.params["chat_id"] == MANAGER_CHAT
    assert f"№ {case.id} · <b>Магазин</b> · ждёт одобрения" in reply.params["text"]
    (answer,) = telegram_api.calls_to("answerCallbackQuery")
    assert answer.params["text"] == "Одобрено: уведомление уходит продавцу"
    assert telegram_api.calls_to("editMessageReplyMarkup")
    notice = telegram_api.messages[2]
    assert notice.params["chat_id"] == SHOP_CHAT
    assert "Рекомендованные розничные цены Termoline" in notice.params["text"]
    (approved,) = cases(world)
    assert approved.approved_by == "@manager"
