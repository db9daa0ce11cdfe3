"""Contacts import: the distributors' contacts for notices from a CSV/XLSX file (a CRM export), all or nothing.

One row per contact: the distributor (its code or name in the config), optionally the marketplace seller it speaks
for (the seller's id on the marketplace), the person, an email address and/or a Telegram chat, and optionally
the notices' language. The file replaces every contact imported before; contacts written in the config stay.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from crawler.config import Config
from crawler.config import Contact as ContactSpec
from crawler.errors import UserError
from storage.models import utcnow
from storage.queries.cases import ContactRow, replace_contacts
from storage.queries.sellers import sync_distributors
from storage.tabular import MAX_BYTES, Column, Header, Row, cell_text, read_header

SOURCE = "csv"
DISTRIBUTOR = Column(
    "distributor",
    ("Дистрибьютор", "Код дистрибьютора", "Дистрибутор", "Партнер", "Партнёр", "distributor", "distributor code"),
    required=True,
)
SELLER = Column("seller", ("Продавец", "ID продавца", "Код продавца", "seller", "seller id"))
PERSON = Column("person", ("Контактное лицо", "Контакт", "ФИО", "Имя", "person", "contact", "name"))
EMAIL = Column("email", ("Email", "E-mail", "Эл. почта", "Электронная почта", "Почта", "email address", "mail"))
TELEGRAM = Column("telegram", ("Telegram", "Телеграм", "Телеграм чат", "Чат", "telegram chat", "chat id", "chat"))
LANGUAGE = Column("language", ("Язык", "language", "lang"))
COLUMNS = (DISTRIBUTOR, SELLER, PERSON, EMAIL, TELEGRAM, LANGUAGE)
LANGUAGES = {"ru": "ru", "рус": "ru", "русский": "ru", "russian": "ru", "en": "en", "англ": "en", "english": "en"}


@dataclass
class ContactsImport:
    file: str
    contacts: int
    distributors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _cell(header: Header, row: Row, name: str) -> str | None:
    index = header.first(name)
    text = "" if index is None else cell_text(row.get(index))
    return text or None


def _language(header: Header, row: Row) -> str | None:
    raw = _cell(header, row, "language")
    if raw is None:
        return None
    language = LANGUAGES.get(raw.casefold())
    if language is None:
        raise UserError(f"{header.where(row, header.columns['language'][0])}: unknown language {raw!r} (ru or en)")
    return language


def _spec(header: Header, row: Row) -> ContactSpec:
    """The row as the config's contact schema reads it; its first problem names the row and column."""
    values = {name: _cell(header, row, name) for name in ("person", "email", "telegram", "seller")}
    try:
        return ContactSpec.model_validate(values | {"language": _language(header, row)})
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else ""
        index = header.first(name) if name else None
        where = header.where(row, index) if index is not None else f"{header.source}: row {row.number}"
        raise UserError(f"{where}: {error['msg'].removeprefix('Value error, ')}") from None


def _distributor(header: Header, row: Row, config: Config) -> str:
    """The code of the row's distributor, given by code or by name."""
    index = header.columns["distributor"][0]
    raw = cell_text(row.get(index))
    if not raw:
        raise UserError(f"{header.where(row, index)}: empty distributor")
    for d in config.distributors:
        if raw.casefold() in (d.code.casefold(), d.name.casefold()):
            return d.code
    raise UserError(f"{header.where(row, index)}: unknown distributor {raw!r} (known: {', '.join(config.codes())})")


def _row_contact(header: Header, row: Row, config: Config, ids: dict[str, int]) -> tuple[str, ContactRow]:
    code = _distributor(header, row, config)
    spec = _spec(header, row)
    if spec.seller is not None and config.distributor(code).kind != "marketplace":
        index = header.columns["seller"][0]
        raise UserError(f"{header.where(row, index)}: {code} is not a marketplace: its contacts name no seller")
    return code, ContactRow(ids[code], spec.seller, spec.person, spec.email, spec.telegram, spec.language)


def import_contacts(
    session: Session,
    path: str | Path,
    config: Config,
    *,
    mapping: Sequence[str] = (),
    sheet: str | None = None,
    max_bytes: int = MAX_BYTES,
    now: dt.datetime | None = None,
) -> ContactsImport:
    """Replace the imported contacts with the file's, in the caller's transaction; a bad row refuses the file."""
    file = Path(path)
    header = read_header(file, COLUMNS, mapping=mapping, sheet=sheet, max_bytes=max_bytes)
    ids = sync_distributors(session, config)
    rows = [_row_contact(header, row, config, ids) for row in header.data if any(cell_text(c) for c in row.cells)]
    if not rows:
        raise UserError(f"{header.source}: no contacts under the header on row {header.row}")
    replace_contacts(session, SOURCE, [contact for _, contact in rows], now or utcnow())
    return ContactsImport(str(file), len(rows), sorted({code for code, _ in rows}))
