"""`catalog import` of a 20,000-row Russian CSV price list (BOM, `;`, NBSP thousands, decimal commas).

Each figure is one full import in one transaction (read, check every row, write products, EANs and prices) into
a fresh database; its baseline is reading and checking the same file without the database, in the same run —
the least any import must do. Then the same file as a new version over the loaded catalog (updates, no inserts).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import psycopg

from bench.common import Figure, quick, stopwatch
from storage.catalog_import import import_catalog, parse_price_list
from storage.engine import make_engine, session_scope
from storage.migrate import upgrade
from storage.tabular import read_table

GOAL_SECONDS = 5.0
PG_ADMIN_DSN = os.environ.get("PRICEWATCH_TEST_PG", "postgresql://127.0.0.1:5432/test")


def _ean(n: int) -> str:
    body = f"460{n:09d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def write_price_list(path: Path, rows: int, rename: bool = False) -> None:
    def money(rubles: int, kopecks: int) -> str:  # "12 990,50" with an NBSP, as Excel exports it
        return f"{rubles:,}".replace(",", "\u00a0") + f",{kopecks:02d}"

    lines = ["Артикул;Наименование;Штрихкод;Категория;Бренд;РРЦ, руб.;МРЦ, руб.;Дилерская цена, руб."]
    for i in range(rows):
        rrp = 990 + (i * 37) % 150_000
        name = f"{'Изделие' if rename else 'Товар'} Термолайн модель {i}"
        lines.append(
            f"TL-{i:05d};{name};{_ean(i)};Категория {i % 40};Термолайн;{money(rrp, i % 100)};;{money(rrp * 7 // 10, 0)}"
        )
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8"))


def _pg_database() -> tuple[str, psycopg.Connection[tuple[object, ...]]] | None:
    try:
        admin = psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        return None
    name = f"pw_bench_catalog_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}", admin


def _measure(dialect: str, url: str, first: Path, second: Path, parse_seconds: float) -> list[Figure]:
    engine = make_engine(url)
    upgrade(engine)
    try:
        with stopwatch() as elapsed, session_scope(engine) as session:
            result = import_catalog(session, first)
        new_seconds = elapsed()
        with stopwatch() as elapsed, session_scope(engine) as session:
            again = import_catalog(session, second)
        version_seconds = elapsed()
    finally:
        engine.dispose()
    if result.new_products != result.rows or again.updated_products != again.rows:
        raise RuntimeError(f"unexpected import results: {result} / {again}")
    figures = []
    for what, seconds in (("new catalog", new_seconds), ("new version, every product renamed", version_seconds)):
        figures.append(
            Figure(
                name=f"catalog import {result.rows:,} rows, {what} ({dialect})",
                value=seconds,
                unit="s",
                baseline_name="reading and checking the file only",
                baseline=parse_seconds,
                goal=f"≤ {GOAL_SECONDS:g} s",
                met=seconds <= GOAL_SECONDS,
            )
        )
    return figures


def run() -> list[Figure]:
    rows = 2_000 if quick() else 20_000
    with tempfile.TemporaryDirectory() as tmp:
        first, second = Path(tmp) / "rrp.csv", Path(tmp) / "rrp-2.csv"
        write_price_list(first, rows)
        write_price_list(second, rows, rename=True)
        with stopwatch() as elapsed:
            parse_price_list(read_table(first))
        parse_seconds = elapsed()

        figures = _measure("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", first, second, parse_seconds)
        pg = _pg_database()
        if pg is not None:
            url, admin = pg
            try:
                figures += _measure("PostgreSQL", url, first, second, parse_seconds)
            finally:
                admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
                admin.close()
    return figures
