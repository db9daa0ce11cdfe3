"""Contracts import: the legal entities the brand has contracts with, from a CSV/XLSX file, all or nothing.

One row per entity: its ИНН (checked by its control digits), name, ОГРН, the distributor it buys from (a code or
name of a distributor in the config, not a marketplace), the contract's reference and whether it is in force
(да/нет, yes/no; да when empty). The file replaces the contracts imported before: an entity it no longer lists loses
its authorisation. An entity the config declares keeps what the config says (`storage.queries.legal_entities`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from crawler.config import Config
from crawler.errors import UserError
from crawler.parsing.registry_numbers import ogrn_problem, tax_id_problem
from storage.queries.legal_entities import EntitySpec, config_tax_ids, declare_contracts
from storage.queries.sellers import sync_distributors
from storage.tabular import MAX_BYTES, Column, Header, Row, cell_text, read_header

TAX_ID = Column("tax_id", ("ИНН", "ИНН контрагента", "ИНН продавца", "tax_id", "tax id", "inn"), required=True)
NAME = Column("name", ("Наименование", "Название", "Контрагент", "Юрлицо", "Юр. лицо", "name", "legal name"))
OGRN = Column("ogrn", ("ОГРН", "ОГРНИП", "ОГРН/ОГРНИП", "ogrn", "ogrnip"))
DISTRIBUTOR = Column(
    "distributor", ("Дистрибьютор", "Дистрибутор", "Код дистрибьютора", "Поставщик", "distributor", "supplier")
)
CONTRACT = Column("contract", ("Договор", "Номер договора", "№ договора", "contract", "contract ref", "contract no"))
AUTHORIZED = Column("authorized", ("Действует", "Действующий", "Авторизован", "authorized", "authorised", "active"))
COLUMNS = (TAX_ID, NAME, OGRN, DISTRIBUTOR, CONTRACT, AUTHORIZED)
YES = frozenset({"да", "д", "yes", "y", "true", "1", "+"})
NO = frozenset({"нет", "н", "no", "n", "false", "0", "-"})


@dataclass
class ContractsImport:
    file: str
    entities: int
    authorized: int
    in_config: int  # entities the config declares: only their contract reference and empty details were taken

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _cell(header: Header, row: Row, name: str) -> tuple[int | None, str | None]:
    index = header.first(name)
    text = "" if index is None else cell_text(row.get(index))
    return index, text or None


def _digits(header: Header, row: Row, name: str) -> str | None:
    """A number column as digits: spaces inside (`77 01 234567`) do not count; a spreadsheet's float is integral."""
    _, text = _cell(header, row, name)
    return None if text is None else "".join(text.split())


def _tax_id(header: Header, row: Row) -> str:
    index = header.columns["tax_id"][0]
    value = _digits(header, row, "tax_id")
    if value is None:
        raise UserError(f"{header.where(row, index)}: empty ИНН")
    problem = tax_id_problem(value)
    if problem is not None:
        raise UserError(f'{header.where(row, index)}: "{value}" {problem}')
    return value


def _ogrn(header: Header, row: Row) -> str | None:
    value = _digits(header, row, "ogrn")
    problem = None if value is None else ogrn_problem(value)
    if problem is not None:
        raise UserError(f'{header.where(row, header.columns["ogrn"][0])}: "{value}" {problem}')
    return value


def _authorized(header: Header, row: Row) -> bool:
    index, text = _cell(header, row, "authorized")
    if text is None:
        return True
    if text.casefold() in YES:
        return True
    if text.casefold() in NO:
        return False
    assert index is not None  # a value was read from the column
    raise UserError(f'{header.where(row, index)}: "{text}" is neither да nor нет (yes/no)')


def _distributor(header: Header, row: Row, config: Config, ids: dict[str, int]) -> int | None:
    """The id of the distributor the entity buys from, given by its code or name; a marketplace is not one."""
    index, text = _cell(header, row, "distributor")
    if text is None:
        return None
    suppliers = [d for d in config.distributors if d.kind != "marketplace"]
    for d in suppliers:
        if text.casefold() in (d.code.casefold(), d.name.casefold()):
            return ids[d.code]
    assert index is not None
    known = ", ".join(d.code for d in suppliers)
    raise UserError(f'{header.where(row, index)}: unknown distributor "{text}" (known: {known})')


def _spec(header: Header, row: Row, config: Config, ids: dict[str, int]) -> EntitySpec:
    """The row as an entity; its first problem names the row and the column."""
    tax_id = _tax_id(header, row)
    return EntitySpec(
        tax_id,
        legal_name=_cell(header, row, "name")[1],
        ogrn=_ogrn(header, row),
        distributor_id=_distributor(header, row, config, ids),
        authorized=_authorized(header, row),
        contract_ref=_cell(header, row, "contract")[1],
    )


def import_contracts(
    session: Session,
    path: str | Path,
    config: Config,
    *,
    mapping: Sequence[str] = (),
    sheet: str | None = None,
    max_bytes: int = MAX_BYTES,
) -> ContractsImport:
    """Replace the imported contracts with the file's, in the caller's transaction; a bad row refuses the file."""
    file = Path(path)
    header = read_header(file, COLUMNS, mapping=mapping, sheet=sheet, max_bytes=max_bytes)
    ids = sync_distributors(session, config)
    specs: dict[str, EntitySpec] = {}
    first_row: dict[str, int] = {}
    for row in header.data:
        if not any(cell_text(c) for c in row.cells):
            continue
        spec = _spec(header, row, config, ids)
        if spec.tax_id in specs:
            where = header.where(row, header.columns["tax_id"][0])
            raise UserError(f'{where}: ИНН "{spec.tax_id}" is on row {first_row[spec.tax_id]} already')
        specs[spec.tax_id], first_row[spec.tax_id] = spec, row.number
    if not specs:
        raise UserError(f"{header.source}: no contracts under the header on row {header.row}")
    declare_contracts(session, list(specs.values()), config)
    in_config = config_tax_ids(config) & set(specs)
    return ContractsImport(str(file), len(specs), sum(s.authorized for s in specs.values()), len(in_config))
