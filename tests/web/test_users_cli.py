"""`pricewatch users add|list|passwd|disable`: accounts with role and scope, one-line mistakes, hashed passwords."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from storage.engine import make_engine, session_scope
from storage.models import User
from tests.support.builders import World, make_config
from tests.support.cli import Pricewatch
from web.passwords import verify

PASSWORD = "a long enough password"


@pytest.fixture
def db(sqlite_url: str) -> str:
    engine = make_engine(sqlite_url)
    world = World(engine, make_config({"distributors": [{"code": "shop"}, {"code": "market"}]}))
    world.product("TL-1001", category="Обогреватели")
    engine.dispose()
    return sqlite_url


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text + "\n"))


def _user(db: str, name: str) -> User:
    engine = make_engine(db)
    with session_scope(engine) as session:
        user = session.scalar(select(User).where(User.username == name))
        assert user is not None
        session.expunge(user)
    engine.dispose()
    return user


def test_add_list_passwd_and_disable(pricewatch: Pricewatch, db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin(monkeypatch, PASSWORD)
    added = pricewatch(
        "users", "add", "oleg", "--role", "manager", "--distributor", "shop", "--password-stdin", "--db", db
    )
    assert (added.code, added.out.strip()) == (0, "user oleg added (manager)")
    user = _user(db, "oleg")
    assert user.distributors == ["shop"]
    assert user.password_hash.startswith("$argon2id$")
    assert verify(user.password_hash, PASSWORD)

    listed = pricewatch("users", "list", "--format", "json", "--db", db)
    assert json.loads(listed.out)[0] | {"last_login_at": None} == {
        "username": "oleg",
        "role": "manager",
        "distributors": ["shop"],
        "categories": [],
        "disabled": False,
        "last_login_at": None,
    }
    _stdin(monkeypatch, "another long password")
    assert pricewatch("users", "passwd", "oleg", "--password-stdin", "--db", db).code == 0
    changed = _user(db, "oleg")
    assert verify(changed.password_hash, "another long password")
    assert changed.password_changed_at > user.password_changed_at
    assert pricewatch("users", "disable", "oleg", "--db", db).code == 0
    assert _user(db, "oleg").disabled
    assert pricewatch("users", "disable", "oleg", "--enable", "--db", db).code == 0
    assert not _user(db, "oleg").disabled


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (("ann", "--role", "manager"), PASSWORD, "error: scope: a manager needs distributors and/or categories"),
        (("ann", "--role", "viewer", "--distributor", "shop"), PASSWORD, "error: scope: only a manager is limited"),
        (("ann", "--role", "manager", "--distributor", "nope"), PASSWORD, "error: distributor: no distributor 'nope'"),
        (("ann", "--role", "manager", "--category", "Пылесосы"), PASSWORD, "error: category: no product of category"),
        (("ann", "--role", "admin"), "short", "error: password: at least 10 characters"),
        (("a b", "--role", "admin"), PASSWORD, "error: username: 2–64 Latin letters"),
    ],
)
def test_a_mistake_is_one_line_and_stores_nothing(
    pricewatch: Pricewatch, db: str, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], password: str, message: str
) -> None:
    _stdin(monkeypatch, password)
    result = pricewatch("users", "add", *args, "--password-stdin", "--db", db)
    assert result.code == 2
    assert result.err.startswith(message)
    assert result.err.count("\n") == 1
    assert json.loads(pricewatch("users", "list", "--format", "json", "--db", db).out) == []


def test_a_name_is_taken_once(pricewatch: Pricewatch, db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for expected in (0, 2):
        _stdin(monkeypatch, PASSWORD)
        assert pricewatch("users", "add", "anna", "--role", "admin", "--password-stdin", "--db", db).code == expected
    _stdin(monkeypatch, PASSWORD)
    missing = pricewatch("users", "passwd", "nobody", "--password-stdin", "--db", db)
    assert missing.err.startswith("error: username: no user")


def test_the_panel_will_not_start_without_a_secret_key(pricewatch: Pricewatch, db: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "config.yaml"
    config.write_text(
        "distributors:\n  - {code: shop, name: Shop, start_urls: ['https://shop.test/']}\n", encoding="utf-8"
    )
    result = pricewatch("web", "--config", str(config), "--db", db)
    assert result.code == 2
    assert result.err.startswith("error: web.secret_key: the panel needs a secret key")
