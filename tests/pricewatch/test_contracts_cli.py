"""`pricewatch contracts`: import the pilot's contracts, list the entities in the config's language with the
storefronts tied to them, map an entity to a distributor; a mistake is one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import Pricewatch
from tests.support.services import REPO

PILOT_YAML = str(REPO / "pilot.yaml")
CONTRACTS = str(REPO / "fixtures" / "pilot" / "contracts.csv")


@pytest.fixture
def imported(pricewatch: Pricewatch, sqlite_url: str) -> str:
    args = ("import", CONTRACTS, "--config", PILOT_YAML, "--db", sqlite_url, "--format", "json")
    result = pricewatch("contracts", *args)
    assert result.code == 0, result.err
    assert json.loads(result.out)[0] | {"file": ""} == {"file": "", "entities": 4, "authorized": 4, "in_config": 4}
    return sqlite_url


def _listed(pricewatch: Pricewatch, db: str) -> dict[str, dict[str, object]]:
    result = pricewatch("contracts", "list", "--config", PILOT_YAML, "--db", db, "--format", "json")
    assert result.code == 0, result.err
    return {row["tax_id"]: row for row in json.loads(result.out)}


def test_the_list_shows_entities_their_storefronts_and_contracts(pricewatch: Pricewatch, imported: str) -> None:
    rows = _listed(pricewatch, imported)
    klimat = rows["7811654328"]
    assert (klimat["distributor"], klimat["authorized"], klimat["contract"]) == ("techsnab", True, "ДП-2025/014")
    assert klimat["storefronts"] == ["vitrina:1180302"]  # the config's storefront with that ИНН
    assert rows["9701987656"]["authorized"] is False  # the config's known grey importer, no contract
    table = pricewatch("contracts", "list", "--config", PILOT_YAML, "--db", imported)
    assert table.code == 0
    for shown in ("ИНН", "наименование", "авторизован", "витрины", "ООО «Уютный Климат»", "да", "нет"):
        assert shown in table.out


def test_map_records_the_distributor_an_entity_buys_from(pricewatch: Pricewatch, imported: str) -> None:
    result = pricewatch("contracts", "map", "7704123450", "klimatprof", "--config", PILOT_YAML, "--db", imported)
    assert (result.code, result.out) == (0, "7704123450 → klimatprof\n")
    assert _listed(pricewatch, imported)["7704123450"]["distributor"] == "klimatprof"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("7707083893", "techsnab"), "error: TAX_ID: no legal entity with ИНН '7707083893'"),
        (("77283", "techsnab"), "error: TAX_ID: '77283' is not an ИНН (10 or 12 digits)"),
        (("7704123450", "vitrina"), "error: DISTRIBUTOR: no distributor 'vitrina' in"),
        (("7811654328", "klimatprof"), "legal_entities[1](7811654328).distributor says 'techsnab': change it there"),
    ],
)
def test_map_refuses_an_unknown_entity_or_distributor_in_one_line(
    pricewatch: Pricewatch, imported: str, args: tuple[str, str], message: str
) -> None:
    result = pricewatch("contracts", "map", *args, "--config", PILOT_YAML, "--db", imported)
    assert (result.code, result.out, result.err.count("\n")) == (2, "", 1)
    assert message in result.err


def test_a_bad_file_is_one_line_and_imports_nothing(pricewatch: Pricewatch, sqlite_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "contracts.csv"
    bad.write_text("ИНН;Наименование\n7811654328;ООО «КлиматМаркет»\n77012;ООО «Кто-то»\n", encoding="utf-8")
    result = pricewatch("contracts", "import", str(bad), "--config", PILOT_YAML, "--db", sqlite_url)
    assert (result.code, result.out) == (2, "")
    assert result.err == 'error: contracts.csv: row 3, column ИНН: "77012" is not an ИНН (10 or 12 digits)\n'
    assert _listed(pricewatch, sqlite_url) == {}
