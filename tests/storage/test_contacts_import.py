"""Contacts import (CSV/XLSX): all or nothing, a bad row is one line naming its row and column; the file replaces
the imported contacts and leaves the config's alone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, select

from crawler.config import Config, parse_config
from crawler.errors import UserError
from enforcement.contacts import sync_config_contacts
from storage.contacts_import import import_contacts
from storage.engine import session_scope
from storage.models import Contact

CONFIG_YAML = """
distributors:
  - code: techsnab
    name: ТехСнаб
    start_urls: ["http://127.0.0.1:8701/"]
    contacts: [{person: Ирина, email: irina@techsnab.example}]
  - code: marketplace
    name: МаркетПлюс
    kind: marketplace
    spider: marketplace
    start_urls: ["http://127.0.0.1:8703/"]
"""
NOW = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)
HEADER = "Дистрибьютор;Продавец;Контактное лицо;E-mail;Telegram;Язык\n"


def _config() -> Config:
    return parse_config(CONFIG_YAML, "test.yaml", env={})


def _csv(tmp_path: Path, rows: str, name: str = "contacts.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def _contacts(engine: Engine) -> list[tuple[str, str | None, str | None, str | None, str | None, str | None]]:
    with session_scope(engine) as session:
        rows = session.scalars(select(Contact).order_by(Contact.source, Contact.id))
        return [(c.source, c.seller_code, c.person, c.email, c.telegram, c.language) for c in rows]


def test_a_file_replaces_the_imported_contacts_and_keeps_the_configs(engine: Engine, tmp_path: Path) -> None:
    config = _config()
    with session_scope(engine) as session:
        sync_config_contacts(session, config, NOW)
        import_contacts(session, _csv(tmp_path, "techsnab;;Олег;;@oleg_ts;\n"), config, now=NOW)
    first = _csv(tmp_path, "ТехСнаб;;Пётр;petr@techsnab.example;;en\nmarketplace;s-7;;;-100123;рус\n", "second.csv")
    with session_scope(engine) as session:
        result = import_contacts(session, first, config, now=NOW)
    assert (result.contacts, result.distributors) == (2, ["marketplace", "techsnab"])
    assert _contacts(engine) == [
        ("config", None, "Ирина", "irina@techsnab.example", None, None),
        ("csv", None, "Пётр", "petr@techsnab.example", None, "en"),
        ("csv", "s-7", None, None, "-100123", "ru"),
    ]


def test_an_xlsx_file_reads_the_same(engine: Engine, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Контакты партнёров"])  # a title line above the header
    sheet.append(["Distributor", "Person", "Email"])
    sheet.append(["techsnab", "Ирина", "irina@techsnab.example"])
    path = tmp_path / "contacts.xlsx"
    book.save(path)
    with session_scope(engine) as session:
        assert import_contacts(session, path, _config(), now=NOW).contacts == 1


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("techsnab;;Ирина;;;\n", "contacts.csv: row 3: a contact needs an `email` and/or a `telegram` chat"),
        ("techsnab;;;irina(at)techsnab;;\n", "contacts.csv: row 3, column E-mail: not an email address"),
        ("techsnab;;;;chat 5;\n", "contacts.csv: row 3, column Telegram: not a Telegram chat"),
        ("nowhere;;;a@b.example;;\n", "contacts.csv: row 3, column Дистрибьютор: unknown distributor 'nowhere'"),
        (";;;a@b.example;;\n", "contacts.csv: row 3, column Дистрибьютор: empty distributor"),
        ("techsnab;s-1;;a@b.example;;\n", "contacts.csv: row 3, column Продавец: techsnab is not a marketplace"),
        ("techsnab;;;a@b.example;;de\n", "contacts.csv: row 3, column Язык: unknown language 'de' (ru or en)"),
    ],
)
def test_a_bad_row_refuses_the_file_in_one_line(engine: Engine, tmp_path: Path, rows: str, message: str) -> None:
    config = _config()
    with session_scope(engine) as session:
        import_contacts(session, _csv(tmp_path, "techsnab;;Олег;oleg@techsnab.example;;\n", "before.csv"), config)
    with pytest.raises(UserError) as raised, session_scope(engine) as session:
        import_contacts(session, _csv(tmp_path, "marketplace;s-2;;s2@market.example;;\n" + rows), config)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)
    assert [email for *_, email, _, _ in _contacts(engine)] == ["oleg@techsnab.example"]  # nothing written half


def test_a_file_of_a_header_alone_is_refused(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(UserError) as raised, session_scope(engine) as session:
        import_contacts(session, _csv(tmp_path, ""), _config())
    assert str(raised.value) == "contacts.csv: no contacts under the header on row 1"


def test_a_file_without_the_distributor_column_says_what_it_has(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("Имя;Email\nИрина;irina@techsnab.example\n", encoding="utf-8")
    with pytest.raises(UserError) as raised, session_scope(engine) as session:
        import_contacts(session, path, _config())
    assert str(raised.value).startswith("people.csv: row 1: missing required column distributor")
