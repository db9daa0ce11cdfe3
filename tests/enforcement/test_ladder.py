"""The escalation ladder over simulated days: first notice, deadline, second notice, escalation, the fix; approval
on and off; a fix before the deadline; quiet hours; a relapse; a seller with several listings; marketplace sellers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from crawler.items import Health
from fixtures.smtp import FakeSmtpServer
from fixtures.telegram_api import FakeTelegramApi
from notify import bot_commands
from notify.outbox import flush
from storage.engine import session_scope
from storage.models import CaseStatus, Notice, OutboxStatus
from tests.enforcement.conftest import MakeWorld
from tests.support.builders import Seen, World, day
from tests.support.enforcement import (
    DUMPING,
    HEAD_OF_SALES,
    MANAGER_CHAT,
    MANAGER_EMAIL,
    MARKET_EMAIL,
    RRP_OK,
    SELLER_EMAIL,
    SHOP2_EMAIL,
    SHOP_CHAT,
    SHOP_EMAIL,
    cases,
    moment,
    notices,
    outbox,
    run_day,
)

DUMP = {"shop": [Seen("TL-1001", price=DUMPING)]}
FINE = {"shop": [Seen("TL-1001", price=RRP_OK)]}
SHOP_NOTICE = [("telegram", SHOP_CHAT), ("email", SHOP_EMAIL)]


def _kinds(world: World) -> list[tuple[str, str, str]]:
    """(notice kind, channel, recipient) of every notice, in the order issued."""
    return [(kind, channel, to) for _, kind, channel, to in notices(world)]


def test_the_whole_ladder_over_two_weeks_without_approval(
    make_world: MakeWorld, telegram_api: FakeTelegramApi, smtp_server: FakeSmtpServer
) -> None:
    world = make_world(approval="off", ladder={"days_to_fix": 3, "days_to_fix_second": 4})
    report, _ = run_day(world, 1, DUMP)  # Monday 2 March 2026
    assert len(report.changes.opened) == 1
    assert report.outcome.awaiting_approval == []
    (case,) = cases(world)
    assert (case.status, case.step, case.deadline) == (CaseStatus.NOTIFIED, 1, day(4).date())
    assert _kinds(world) == [("first", c, to) for c, to in SHOP_NOTICE]
    for n in (2, 3, 4):  # the deadline's day still belongs to the seller
        run_day(world, n, DUMP)
    assert len(notices(world)) == 2
    run_day(world, 5, DUMP)
    (case,) = cases(world)
    assert (case.step, case.deadline) == (2, day(9).date())
    assert _kinds(world)[2:] == [("second", c, to) for c, to in SHOP_NOTICE]
    for n in range(6, 10):
        run_day(world, n, DUMP)
    assert len(notices(world)) == 4
    run_day(world, 10, DUMP)
    (case,) = cases(world)
    assert (case.status, case.step, case.escalated_at) == (CaseStatus.ESCALATED, 3, moment(10, 15))
    assert _kinds(world)[4:] == [
        ("escalation", "telegram", MANAGER_CHAT),
        ("escalation", "email", MANAGER_EMAIL),
        ("escalation", "email", HEAD_OF_SALES),
    ]
    run_day(world, 11, DUMP)
    run_day(world, 12, FINE)
    (case,) = cases(world)
    assert (case.status, case.fixed_on, case.hours_to_fix) == (CaseStatus.FIXED, day(12).date(), Decimal("264.00"))
    assert len(notices(world)) == 7  # nothing after the escalation
    assert all(row.status == OutboxStatus.SENT for row in outbox(world))
    # Every message went once: two Telegram notices and an escalation; two emails, an escalation to two addresses.
    assert sorted(c.params["chat_id"] for c in telegram_api.messages) == sorted([SHOP_CHAT, SHOP_CHAT, MANAGER_CHAT])
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(
        [SHOP_EMAIL, SHOP_EMAIL, MANAGER_EMAIL, HEAD_OF_SALES]
    )


def test_approval_waits_for_the_manager_then_the_notice_goes(
    make_world: MakeWorld, telegram_api: FakeTelegramApi, smtp_server: FakeSmtpServer
) -> None:
    world = make_world()  # approval: case, the default
    report, _ = run_day(world, 1, DUMP)
    (case,) = cases(world)
    assert report.outcome.awaiting_approval == [case.id]
    assert (case.status, case.step) == (CaseStatus.DETECTED, 0)
    assert _kinds(world) == [("approval", "telegram", MANAGER_CHAT), ("approval", "email", MANAGER_EMAIL)]
    (request,) = telegram_api.messages
    button = request.params["reply_markup"]["inline_keyboard"][0][0]
    assert button["callback_data"] == f"case:{case.id}:approve"
    assert f"pricewatch cases approve {case.id}" in smtp_server.messages[0].get_body(("plain",)).get_content()
    run_day(world, 2, DUMP)  # asked once: no second request, no notice
    assert len(notices(world)) == 2

    with session_scope(world.engine) as session:
        answer = bot_commands.approve_case(session, world.config, button["callback_data"], "@anna", moment(2, 60))
    assert answer == "Одобрено: уведомление уходит продавцу"
    flush(world.engine, world.config, now=moment(2, 61))
    (case,) = cases(world)
    assert (case.status, case.approved_by, case.deadline) == (CaseStatus.NOTIFIED, "@anna", day(5).date())
    assert _kinds(world)[2:] == [("first", c, to) for c, to in SHOP_NOTICE]
    assert [c.params["chat_id"] for c in telegram_api.messages] == [MANAGER_CHAT, SHOP_CHAT]
    with session_scope(world.engine) as session:
        again = bot_commands.approve_case(session, world.config, button["callback_data"], "@anna", moment(2, 62))
    assert again.startswith("Не одобрено: case")


@pytest.mark.parametrize(("approval", "second_case_waits"), [("case", True), ("distributor", False)])
def test_approval_per_case_or_once_per_distributor(
    make_world: MakeWorld, approval: str, second_case_waits: bool
) -> None:
    world = make_world(approval=approval)
    run_day(world, 1, DUMP)
    (first,) = cases(world)
    with session_scope(world.engine) as session:
        bot_commands.approve_case(session, world.config, f"case:{first.id}:approve", "@anna", moment(1, 60))
    run_day(world, 2, FINE)  # fixed
    run_day(world, 3, FINE)
    # Past the relapse window the next violation is a new case (not a repeat that keeps the approval).
    world.crawl("shop", day(40), FINE["shop"])
    report, _ = run_day(world, 41, DUMP)
    second = cases(world)[-1]
    assert (second.id != first.id, second.repeat_of_id) == (True, None)
    assert (report.outcome.awaiting_approval == [second.id]) is second_case_waits
    assert (second.step == 0) is second_case_waits


def test_no_notice_goes_while_the_sellers_site_reads_unhealthy(make_world: MakeWorld) -> None:
    world = make_world()
    run_day(world, 1, DUMP)
    (case,) = cases(world)
    world.crawl("shop", day(2), DUMP["shop"], health=Health.DEGRADED, reason="layout changed")
    run_day(world, 2, {})
    with session_scope(world.engine) as session:
        answer = bot_commands.approve_case(session, world.config, f"case:{case.id}:approve", "@anna", moment(2, 60))
    assert answer == "Одобрено; уведомление уйдёт после исправного сбора"
    assert [kind for kind, _, _ in _kinds(world)] == ["approval", "approval"]
    report, _ = run_day(world, 3, DUMP)  # healthy again: the approved notice goes
    assert report.outcome.held == []
    assert [kind for kind, _, _ in _kinds(world)][2:] == ["first", "first"]
    assert cases(world)[0].deadline == day(6).date()


def test_a_fix_before_the_deadline_ends_the_ladder(make_world: MakeWorld) -> None:
    world = make_world(approval="off")
    run_day(world, 1, DUMP)
    report, _ = run_day(world, 2, FINE)
    (case,) = cases(world)
    assert report.changes.fixed == [case.id]
    assert (case.status, case.fixed_on, case.hours_to_fix) == (CaseStatus.FIXED, day(2).date(), Decimal("24.00"))
    for n in range(3, 8):
        run_day(world, n, FINE)
    assert [kind for kind, _, _ in _kinds(world)] == ["first", "first"]


def test_a_notice_held_by_quiet_hours_is_withdrawn_when_the_seller_fixes_first(
    make_world: MakeWorld, telegram_api: FakeTelegramApi
) -> None:
    # The crawl at 08:00 Moscow time falls in the quiet hours (until 12:00): the notice waits for noon.
    config = {"schedule": {"cron": "0 13 * * *"}}
    world = make_world(config, approval="off", quiet_hours={"start": "21:00", "end": "12:00"})
    run_day(world, 1, DUMP)
    (row_1, row_2) = outbox(world)
    assert row_1.next_attempt_at == day(1, hours=4)  # 12:00 Moscow
    assert row_1.status == row_2.status == OutboxStatus.PENDING
    assert telegram_api.messages == []
    run_day(world, 2, FINE)  # fixed at 08:00 the next day, before the notice could go
    assert outbox(world) == []
    assert {cases(world)[0].status} == {CaseStatus.FIXED}
    with session_scope(world.engine) as session:
        withdrawn = [n.withdrawn_at for n in session.scalars(select(Notice))]
    assert withdrawn == [moment(2, 15)] * 2
    flush(world.engine, world.config, now=day(2, hours=5))
    assert telegram_api.messages == []


def test_a_relapse_within_the_window_reopens_the_case_as_a_repeat(make_world: MakeWorld) -> None:
    world = make_world(relapse_window_days=10)
    run_day(world, 1, DUMP)
    (first,) = cases(world)
    with session_scope(world.engine) as session:
        bot_commands.approve_case(session, world.config, f"case:{first.id}:approve", "@anna", moment(1, 60))
    run_day(world, 2, FINE)
    run_day(world, 8, DUMP)  # six days after the fix
    first, repeat = cases(world)
    assert (first.status, repeat.repeat_of_id, repeat.repeat_number) == (CaseStatus.FIXED, first.id, 1)
    # The repeat keeps the approval: its first notice goes at once, and says it is a repeat.
    assert (repeat.status, repeat.approved_by) == (CaseStatus.NOTIFIED, "@anna")
    with session_scope(world.engine) as session:
        text = session.scalar(select(Notice.text).where(Notice.case_id == repeat.id, Notice.channel == "email"))
    assert "снова видим отклонение" in str(text)
    run_day(world, 9, FINE)
    run_day(world, 25, DUMP)  # sixteen days after the last fix: a new case
    assert (cases(world)[-1].repeat_of_id, cases(world)[-1].repeat_number) == (None, 0)


def test_a_seller_with_several_listings_has_one_case(make_world: MakeWorld, smtp_server: FakeSmtpServer) -> None:
    world = make_world(approval="off")
    both = {"shop": [Seen("TL-1001", price=DUMPING), Seen("TL-1002", price="1500")]}
    run_day(world, 1, both)
    (case,) = cases(world)
    assert len(notices(world)) == 2  # one notice (to two addresses) lists both listings
    body = smtp_server.messages[0].get_body(("plain",)).get_content()
    assert "Конвектор Термолайн TL-1001 (TL-1001) — 9 000 ₽ при рекомендованной цене 10 000 ₽ (−10 %)" in body
    assert "Вентилятор Термолайн TL-1002 (TL-1002) — 1 500 ₽ при рекомендованной цене 2 000 ₽ (−25 %)" in body
    run_day(world, 2, {"shop": [Seen("TL-1001", price=RRP_OK), Seen("TL-1002", price="1500")]})
    assert cases(world)[0].status == CaseStatus.NOTIFIED
    run_day(world, 3, {"shop": [Seen("TL-1001", price=RRP_OK), Seen("TL-1002", price="2000")]})
    (case,) = cases(world)
    assert (case.status, case.fixed_on) == (CaseStatus.FIXED, day(3).date())


def test_a_marketplace_seller_is_told_through_its_own_contact_only(
    make_world: MakeWorld, smtp_server: FakeSmtpServer
) -> None:
    world = make_world(approval="off")
    run_day(
        world,
        1,
        {
            "market": [
                Seen("TL-1001", price=DUMPING, seller="s-9", seller_name="Климат-Маркет"),
                Seen("TL-1001", price="8000", seller="s-5", seller_name="Без контакта"),
            ]
        },
    )
    told, silent = cases(world)
    assert told.status == CaseStatus.NOTIFIED
    assert (silent.status, silent.step) == (CaseStatus.DETECTED, 0)
    assert [to for _, _, to in _kinds(world)] == [SELLER_EMAIL]
    assert MARKET_EMAIL not in [m["To"] for m in smtp_server.messages]


def test_distributors_are_treated_alike_in_order_of_detection(make_world: MakeWorld) -> None:
    world = make_world(approval="off")
    run_day(world, 1, {"shop2": [Seen("TL-1001", price=DUMPING)]})
    run_day(world, 2, DUMP | {"shop2": [Seen("TL-1001", price=DUMPING)]})
    shop2, shop = cases(world)
    assert [(case_id, kind, to) for case_id, kind, _, to in notices(world)] == [
        (shop2.id, "first", SHOP2_EMAIL),
        (shop.id, "first", SHOP_CHAT),
        (shop.id, "first", SHOP_EMAIL),
    ]
    # The same ladder for both: three days from each one's first notice.
    assert (shop2.deadline, shop.deadline) == (day(4).date(), day(5).date())
