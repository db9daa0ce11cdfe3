"""`pricewatch contracts`: the legal entities the brand has contracts with — import a CSV/XLSX, list them, and say
which distributor an entity buys from."""

from __future__ import annotations

from pathlib import Path

import click

from crawler.errors import UserError
from pricewatch.cli.common import config_option, db_option, emit, format_option, get_config
from pricewatch.cli.table_import import run_import, table_options

COLUMNS = [
    ("tax_id", "ИНН"),
    ("legal_name", "name"),
    ("distributor", "distributor"),
    ("authorized", "authorised"),
    ("storefronts", "storefronts seen"),
    ("source", "source"),
    ("contract", "contract"),
]


@click.group()
def cli() -> None:
    """Legal entities (ИНН) behind marketplace storefronts: contracts, authorisation, the distributor they buy from."""


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@table_options("tax_id, name, ogrn, distributor, contract, authorized")
@config_option
@db_option
@format_option("table", "json")
def import_(
    *, file: Path, mapping: tuple[str, ...], sheet: str | None, config_path: str, db_url: str, fmt: str
) -> None:
    """Replace the imported contracts with the file's: an entity the file no longer lists loses its authorisation.

    Columns (Russian or English headers): ИНН / tax_id (checked by its control digits), Наименование / name,
    ОГРН / ogrn, Дистрибьютор / distributor (the code or name of the distributor it buys from), Договор / contract,
    Действует / authorized (да/нет, yes/no; да when empty). An entity the config declares keeps what the config
    says. A bad row refuses the whole file, naming its row and column.
    """
    from storage.contracts_import import import_contracts

    result = run_import(import_contracts, file, config_path=config_path, db_url=db_url, mapping=mapping, sheet=sheet)
    emit(
        [result.as_dict()],
        fmt,
        None if fmt == "json" else [("entities", "entities"), ("authorized", "authorised"), ("in_config", "in config")],
        title=(f"{file}: импортировано", f"{file}: imported"),
    )


@cli.command("list")
@config_option
@db_option
@format_option("table", "json")
def list_(*, config_path: str, db_url: str, fmt: str) -> None:
    """Every legal entity by ИНН: its name, the distributor it buys from, whether it is authorised, and the
    storefronts crawls found to be its."""
    from storage.engine import make_engine, session_scope
    from storage.queries.legal_entities import entity_rows

    engine = make_engine(db_url, create=False)
    try:
        with session_scope(engine) as session:
            entities = entity_rows(session)
    finally:
        engine.dispose()
    rows = [
        {
            "tax_id": e.tax_id,
            "legal_name": e.legal_name,
            "ogrn": e.ogrn,
            "distributor": e.distributor,
            "authorized": e.authorized,
            "storefronts": e.storefronts if fmt == "json" else ", ".join(e.storefronts),
            "source": e.source,
            "contract": e.contract_ref,
        }
        for e in entities
    ]
    emit(rows, fmt, COLUMNS, title=(f"юрлиц: {len(rows)}", f"{len(rows)} legal entities"))


@cli.command("map")
@click.argument("tax_id")
@click.argument("distributor")
@config_option
@db_option
def map_(*, tax_id: str, distributor: str, config_path: str, db_url: str) -> None:
    """Record a person's review: the entity with this ИНН buys from DISTRIBUTOR (a distributor's code)."""
    from crawler import clock
    from crawler.parsing.registry_numbers import tax_id_problem
    from storage.engine import make_engine, session_scope
    from storage.queries.legal_entities import set_distributor
    from storage.queries.sellers import sync_distributors

    problem = tax_id_problem(tax_id)
    if problem is not None:
        raise UserError(f"TAX_ID: {tax_id!r} {problem}")
    config = get_config(config_path)
    suppliers = [d.code for d in config.distributors if d.kind != "marketplace"]
    if distributor not in suppliers:
        raise UserError(f"DISTRIBUTOR: no distributor {distributor!r} in {config_path} (known: {', '.join(suppliers)})")
    for i, entity in enumerate(config.legal_entities):
        if entity.tax_id == tax_id and entity.distributor is not None:
            # The next sync would put the config's back: the config is where this one is decided.
            raise UserError(
                f"{config_path}: legal_entities[{i}]({tax_id}).distributor says {entity.distributor!r}: change it there"
            )
    engine = make_engine(db_url, create=False)
    try:
        with session_scope(engine) as session:
            ids = sync_distributors(session, config)
            if not set_distributor(session, tax_id, ids[distributor], clock.utcnow()):
                raise UserError(
                    f"TAX_ID: no legal entity with ИНН {tax_id!r} (see `pricewatch contracts list`, or import it)"
                )
    finally:
        engine.dispose()
    click.echo(f"{tax_id} → {distributor}")
