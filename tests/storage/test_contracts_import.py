"""Contracts import (CSV/XLSX): legal entities by ИНН, all or nothing; a bad row is one line naming its row and
column; the file replaces the contracts imported before, and an entity the config declares keeps the config's word."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, select

from crawler.config import Config, parse_config
from crawler.errors import UserError
from fixtures.pilot.vitrina import LEGAL_ENTITIES
from storage.contracts_import import import_contracts
from storage.engine import session_scope
from storage.models import Distributor, LegalEntity
from tests.support.services import REPO

CONFIG_YAML = """
distributors:
  - code: techsnab
    name: ТехСнаб
    start_urls: ["http://127.0.0.1:8701/"]
  - code: klimatprof
    name: КлиматПроф
    start_urls: ["http://127.0.0.1:8702/"]
  - code: vitrina
    name: Витрина
    kind: marketplace
    spider: marketplace
    start_urls: ["http://127.0.0.1:8704/"]
legal_entities:
  - {tax_id: "9701987656", name: ООО «Глобал Трейд Импорт», authorized: false}
"""
HEADER = "ИНН;Наименование;ОГРН;Дистрибьютор;Договор;Действует\n"
PILOT_CONTRACTS = REPO / "fixtures" / "pilot" / "contracts.csv"

Entity = tuple[str, str | None, str | None, str | None, bool, str, str | None]


def _config(text: str = CONFIG_YAML) -> Config:
    return parse_config(text, "test.yaml", env={})


def _csv(tmp_path: Path, rows: str, name: str = "contracts.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def _entities(engine: Engine) -> list[Entity]:
    with session_scope(engine) as session:
        rows = session.execute(
            select(LegalEntity, Distributor.code)
            .outerjoin(Distributor, Distributor.id == LegalEntity.distributor_id)
            .order_by(LegalEntity.tax_id)
        ).tuples()
        return [(e.tax_id, e.legal_name, e.ogrn, code, e.authorized, e.source, e.contract_ref) for e, code in rows]


def _import(engine: Engine, path: Path, config: Config | None = None) -> None:
    with session_scope(engine) as session:
        import_contracts(session, path, config or _config())


def test_a_file_writes_contract_entities_and_the_next_replaces_it(engine: Engine, tmp_path: Path) -> None:
    _import(
        engine,
        _csv(
            tmp_path,
            "7811654328;ООО «КлиматМаркет»;1157847123400;techsnab;ДП-14;да\n"
            "77 28 345613;ООО «Уютный Климат»;;КлиматПроф;ДП-21;\n",  # spaces inside; distributor by name
        ),
    )
    assert _entities(engine) == [
        ("7728345613", "ООО «Уютный Климат»", None, "klimatprof", True, "contract", "ДП-21"),
        ("7811654328", "ООО «КлиматМаркет»", "1157847123400", "techsnab", True, "contract", "ДП-14"),
        ("9701987656", "ООО «Глобал Трейд Импорт»", None, None, False, "config", None),
    ]
    # The next file no longer lists ООО «Уютный Климат»: its contract ended. A row says нет: not in force.
    _import(engine, _csv(tmp_path, "7811654328;ООО «КлиматМаркет»;;;ДП-14/2;нет\n", "second.csv"))
    assert _entities(engine)[:2] == [
        ("7728345613", "ООО «Уютный Климат»", None, "klimatprof", False, "contract", "ДП-21"),
        ("7811654328", "ООО «КлиматМаркет»", "1157847123400", "techsnab", False, "contract", "ДП-14/2"),
    ]


def test_an_entity_the_config_declares_keeps_the_configs_word(engine: Engine, tmp_path: Path) -> None:
    path = _csv(tmp_path, "9701987656;Глобал;1217700456786;techsnab;ДП-99;да\n")
    with session_scope(engine) as session:
        result = import_contracts(session, path, _config())
    assert (result.entities, result.in_config) == (1, 1)
    # Not authorised, no distributor, its name as the config says; only the contract and the empty ОГРН taken.
    assert _entities(engine) == [
        ("9701987656", "ООО «Глобал Трейд Импорт»", "1217700456786", None, False, "config", "ДП-99")
    ]


def test_the_pilot_contracts_are_the_authorised_entities_of_vitrina(engine: Engine) -> None:
    config = parse_config((REPO / "pilot.yaml").read_text(encoding="utf-8"), "pilot.yaml", env={})
    _import(engine, PILOT_CONTRACTS, config)
    authorised = {e.tax_id: (e.name, e.ogrn, e.distributor) for e in LEGAL_ENTITIES.values() if e.authorized}
    stored = {t: (name, ogrn, code) for t, name, ogrn, code, ok, _, ref in _entities(engine) if ok and ref}
    assert stored == authorised
    assert "7728345613" in stored  # the contract-only entity: no storefront of it is on the list


def test_an_xlsx_file_reads_the_same_with_english_headers(engine: Engine, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Договоры с продавцами"])  # a title line above the header
    sheet.append(["tax_id", "name", "distributor", "authorized"])
    sheet.append([7811654328, "ООО «КлиматМаркет»", "techsnab", "yes"])  # a number cell, as Excel keeps an ИНН
    path = tmp_path / "contracts.xlsx"
    book.save(path)
    _import(engine, path)
    assert _entities(engine)[0] == ("7811654328", "ООО «КлиматМаркет»", None, "techsnab", True, "contract", None)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("77012;ООО;;;;\n", 'contracts.csv: row 3, column ИНН: "77012" is not an ИНН (10 or 12 digits)'),
        (
            "7811654321;ООО;;;;\n",
            'contracts.csv: row 3, column ИНН: "7811654321" is not an ИНН: its control digits do not match (a typo?)',
        ),
        (";ООО;;;;\n", "contracts.csv: row 3, column ИНН: empty ИНН"),
        (
            "7811654328;ООО;1157847123401;;;\n",
            'contracts.csv: row 3, column ОГРН: "1157847123401" is not an ОГРН: its control digit does not match',
        ),
        ("7811654328;ООО;;vitrina;;\n", 'contracts.csv: row 3, column Дистрибьютор: unknown distributor "vitrina"'),
        ("7811654328;ООО;;;;может быть\n", 'contracts.csv: row 3, column Действует: "может быть" is neither'),
        ("7811654328;ООО;;;;\n", 'contracts.csv: row 3, column ИНН: ИНН "7811654328" is on row 2 already'),
    ],
)
def test_a_bad_row_refuses_the_whole_file_in_one_line(engine: Engine, tmp_path: Path, rows: str, message: str) -> None:
    path = _csv(tmp_path, "7811654328;ООО «КлиматМаркет»;;techsnab;ДП-14;да\n" + rows)
    with pytest.raises(UserError) as caught, session_scope(engine) as session:
        import_contracts(session, path, _config())
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    with session_scope(engine) as session:
        assert session.scalars(select(LegalEntity)).all() == []


def test_a_file_without_rows_is_refused(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no contracts under the header on row 1"), session_scope(engine) as session:
        import_contracts(session, _csv(tmp_path, ""), _config())
