"""Notices through the outbox, as alerts go: a failing channel is tried again, a notice is never sent twice and
never lost; one whose answer was lost goes again marked as a repeat; a refused mailbox is recorded."""

from __future__ import annotations

from fixtures.smtp import FakeSmtpServer
from fixtures.telegram_api import FakeTelegramApi
from notify.outbox import flush
from storage.engine import session_scope
from storage.models import OutboxStatus
from storage.queries.cases import notices as notice_log
from tests.enforcement.conftest import MakeWorld
from tests.support.builders import Seen, day
from tests.support.enforcement import DUMPING, SHOP_CHAT, SHOP_EMAIL, outbox, run_day

DUMP = {"shop": [Seen("TL-1001", price=DUMPING)]}


def test_a_failing_channel_is_tried_again_and_nothing_goes_twice(
    make_world: MakeWorld, telegram_api: FakeTelegramApi, smtp_server: FakeSmtpServer
) -> None:
    world = make_world(approval="off")
    telegram_api.fail_next("500", times=1, methods={"sendMessage"})
    smtp_server.down()
    _, first = run_day(world, 1, DUMP)
    assert first is not None
    assert (first.sent, first.retried) == (0, 2)
    assert {row.status for row in outbox(world)} == {OutboxStatus.PENDING}
    smtp_server.up()
    later = flush(world.engine, world.config, now=day(1, hours=2))  # past the first backoff (at most 30 s)
    assert later.sent == 2
    assert flush(world.engine, world.config, now=day(1, hours=3)).sent == 0
    run_day(world, 2, DUMP)  # the same notice is not issued again before its deadline
    assert [c.params["chat_id"] for c in telegram_api.messages] == [SHOP_CHAT]
    assert [m["To"] for m in smtp_server.messages] == [SHOP_EMAIL]
    assert {row.status for row in outbox(world)} == {OutboxStatus.SENT}


def test_a_notice_whose_answer_was_lost_goes_again_marked_as_a_repeat(
    make_world: MakeWorld, telegram_api: FakeTelegramApi
) -> None:
    world = make_world(contacts={"shop": [{"telegram": SHOP_CHAT}]}, approval="off")
    notify = world.config.notify
    telegram = notify.telegram.model_copy(update={"read_timeout": 0.5})  # the fake answers after 2 s
    config = world.config.model_copy(update={"notify": notify.model_copy(update={"telegram": telegram})})
    world.config = config
    telegram_api.answer_slowly(2.0, methods={"sendMessage"})
    run_day(world, 1, DUMP)
    flush(world.engine, config, now=day(1, hours=2))
    first, again = telegram_api.messages
    assert not first.params["text"].startswith("🔁")
    assert again.params["text"] == "🔁 повтор · " + first.params["text"]
    (row,) = outbox(world)
    assert row.status == OutboxStatus.SENT


def test_a_refused_mailbox_is_recorded_on_the_notice(make_world: MakeWorld, smtp_server: FakeSmtpServer) -> None:
    world = make_world(approval="off")
    smtp_server.refuse(SHOP_EMAIL)
    _, flushed = run_day(world, 1, DUMP)
    assert flushed is not None
    assert flushed.dead == 1
    with session_scope(world.engine) as session:
        delivery = {(v.notice.channel, v.delivery) for v in notice_log(session)}
    assert delivery == {("telegram", "sent"), ("email", "dead")}
    assert flushed.refusals[0].line().startswith(f"delivery refused: email → {SHOP_EMAIL}")
