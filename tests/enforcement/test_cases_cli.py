"""`pricewatch cases list|show|notify|approve|ack|close|log`: previews that write nothing, approvals, one-line
mistakes; `pricewatch contacts import|list`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storage.models import CaseStatus
from tests.enforcement.conftest import CONFIG_FILE, MakeWorld
from tests.support.builders import Seen, World
from tests.support.cli import Pricewatch
from tests.support.enforcement import DUMPING, MANAGER_CHAT, SHOP_CHAT, SHOP_EMAIL, cases, notices, run_day


@pytest.fixture
def detected(make_world: MakeWorld) -> World:
    """A case waiting for approval: the shop dumped TL-1001 on day 1 and the manager was asked."""
    world = make_world()
    run_day(world, 1, {"shop": [Seen("TL-1001", price=DUMPING)]})
    return world


def _args(world: World, tmp_path: Path, *args: str) -> list[str]:
    return [*args, "--config", str(tmp_path / CONFIG_FILE), "--db", str(world.engine.url)]


def test_list_and_show_a_case_waiting_for_approval(detected: World, pricewatch: Pricewatch, tmp_path: Path) -> None:
    (case,) = cases(detected)
    table = pricewatch(*_args(detected, tmp_path, "cases", "list", "--open"))
    assert table.code == 0
    assert "1 case(s)" in table.out
    assert "detected" in table.out
    listed = json.loads(pricewatch(*_args(detected, tmp_path, "cases", "list", "--format", "json")).out)
    assert [(c["id"], c["status"], c["distributor"], c["listings_open"]) for c in listed] == [
        (case.id, "detected", "shop", 1)
    ]
    shown = json.loads(pricewatch(*_args(detected, tmp_path, "cases", "show", str(case.id), "--format", "json")).out)
    assert [n["kind"] for n in shown["notices"]] == ["approval", "approval"]
    assert [(i["vendor_code"], i["price"]) for i in shown["listings"]] == [("TL-1001", "9000.00")]


def test_notify_dry_run_previews_every_notice_and_writes_nothing(
    detected: World, pricewatch: Pricewatch, tmp_path: Path
) -> None:
    (case,) = cases(detected)
    before = notices(detected)
    result = pricewatch(*_args(detected, tmp_path, "cases", "notify", str(case.id), "--dry-run", "--format", "json"))
    assert result.code == 0, result.err
    preview = json.loads(result.out)
    assert preview["dry_run"] is True
    assert [(n["kind"], n["channel"], n["recipient"]) for n in preview["notices"]] == [
        ("first", "telegram", SHOP_CHAT),
        ("first", "email", SHOP_EMAIL),
    ]
    assert "рекомендованн" in preview["notices"][1]["text"]
    assert notices(detected) == before
    assert cases(detected)[0].status == CaseStatus.DETECTED
    table = pricewatch(*_args(detected, tmp_path, "cases", "notify", "--dry-run"))
    assert table.code == 0
    assert "would queue 0 notice(s)" in table.out  # the whole ladder: nothing due without the approval


def test_approve_ack_close_and_the_notice_log(detected: World, pricewatch: Pricewatch, tmp_path: Path) -> None:
    (case,) = cases(detected)
    approved = pricewatch(*_args(detected, tmp_path, "cases", "approve", str(case.id), "--by", "anna"))
    assert approved.code == 0, approved.err
    assert "queued 2 notice(s)" in approved.out
    assert (cases(detected)[0].status, cases(detected)[0].approved_by) == (CaseStatus.NOTIFIED, "anna")
    db = ["--db", str(detected.engine.url)]
    assert pricewatch("cases", "ack", str(case.id), "--by", "anna", *db).out == f"case {case.id}: acknowledged\n"
    assert pricewatch("cases", "close", str(case.id), "--note", "договорились", *db).code == 0
    (closed,) = cases(detected)
    assert (closed.status, closed.close_note, closed.acknowledged_by) == (CaseStatus.CLOSED, "договорились", "anna")
    log = json.loads(pricewatch(*_args(detected, tmp_path, "cases", "log", "--format", "json")).out)
    assert [(n["kind"], n["recipient"], n["delivery"]) for n in log] == [
        ("approval", MANAGER_CHAT, "sent"),
        ("approval", "anna@brand.example", "sent"),
        ("first", SHOP_CHAT, "withdrawn"),  # closed before the next flush could send them
        ("first", SHOP_EMAIL, "withdrawn"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("cases", "show", "99"), "error: case 99: no such case (see `pricewatch cases list`)"),
        (("cases", "approve", "99"), "error: case 99: no such case (see `pricewatch cases list`)"),
        (("cases", "close", "{case}", "--note", " "), "error: case {case}: say why it is closed (--note)"),
        (("cases", "ack", "{case}"), "error: case {case}: no notice has gone yet, so there is nothing to acknowledge"),
    ],
)
def test_a_mistake_is_one_line(
    detected: World, pricewatch: Pricewatch, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    case_id = str(cases(detected)[0].id)
    command = [a.replace("{case}", case_id) for a in args]
    if command[1] in ("show", "approve"):
        command += ["--config", str(tmp_path / CONFIG_FILE)]
    result = pricewatch(*command, "--db", str(detected.engine.url))
    assert (result.code, result.out) == (2, "")
    assert result.err == message.replace("{case}", case_id) + "\n"


def test_contacts_import_replaces_the_imported_ones(detected: World, pricewatch: Pricewatch, tmp_path: Path) -> None:
    file = tmp_path / "contacts.csv"
    file.write_text(
        "Дистрибьютор;Продавец;Контактное лицо;Email;Telegram\n"
        "shop2;;Олег;oleg@shop2.example;\n"
        "market;s-5;;;@seller_five\n",
        encoding="utf-8",
    )
    imported = pricewatch(*_args(detected, tmp_path, "contacts", "import", str(file), "--format", "json"))
    assert imported.code == 0, imported.err
    assert json.loads(imported.out) == [{"file": str(file), "contacts": 2, "distributors": ["market", "shop2"]}]
    listed = json.loads(pricewatch("contacts", "list", "--format", "json", "--db", str(detected.engine.url)).out)
    assert [(c["distributor"], c["seller"], c["email"] or c["telegram"], c["source"]) for c in listed] == [
        ("market", None, "partners@market.example", "config"),
        ("market", "s-5", "@seller_five", "csv"),
        ("market", "s-9", "s9@market.example", "config"),
        ("shop", None, SHOP_EMAIL, "config"),
        ("shop2", None, "sales@shop2.example", "config"),
        ("shop2", None, "oleg@shop2.example", "csv"),
    ]
