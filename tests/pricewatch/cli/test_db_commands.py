"""`pricewatch db upgrade` / `db current`: create the schema, say where it stands."""

from __future__ import annotations

import json
from pathlib import Path

from storage.migrate import head_revision
from tests.support.cli import Pricewatch


def test_upgrade_creates_the_schema_then_has_nothing_to_do(pricewatch: Pricewatch, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    head = head_revision()

    fresh = pricewatch("db", "current", "--db", url)
    assert (fresh.code, fresh.out.strip()) == (0, f"{url}: no schema yet; run `pricewatch db upgrade`")

    first = pricewatch("db", "upgrade", "--db", url)
    assert (first.code, first.out.strip()) == (0, f"{url}: upgraded from an empty database to {head}")
    again = pricewatch("db", "upgrade", "--db", url)
    assert again.out.strip() == f"{url}: already at the newest revision {head}"

    current = pricewatch("db", "current", "--db", url, "--format", "json")
    assert json.loads(current.out) == [{"database": url, "revision": head, "head": head, "at_head": True}]


def test_current_on_postgresql_hides_the_password(pricewatch: Pricewatch, pg_server_url: str) -> None:
    url = pg_server_url.replace("//", "//root:s3cret@", 1)  # trust auth: any password is accepted
    result = pricewatch("db", "current", "--db", url, "--format", "json")
    assert result.code == 0, result.err
    assert "s3cret" not in result.out
    assert json.loads(result.out)[0]["at_head"] is True
