"""Panel accounts as `pricewatch users` and the users page manage them: checked, hashed, stored."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.orm import Session

from crawler.errors import UserError
from storage.models import User, UserRole, utcnow
from storage.queries import web_users
from web.passwords import check_strength, hash_password

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$")
ROLES = tuple(r.value for r in UserRole)


@dataclass(frozen=True)
class NewUser:
    username: str
    password: str
    role: str
    distributors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()


def _role(value: str) -> UserRole:
    if value not in ROLES:
        raise UserError(f"role: expected one of {', '.join(ROLES)}, got {value!r}")
    return UserRole(value)


def _check_scope(session: Session, role: UserRole, distributors: Collection[str], categories: Collection[str]) -> None:
    if role != UserRole.MANAGER:
        if distributors or categories:
            raise UserError(f"scope: only a manager is limited to distributors or categories (this is {role.value})")
        return
    if not (distributors or categories):
        raise UserError("scope: a manager needs distributors and/or categories (--distributor, --category)")
    unknown = web_users.unknown_distributors(session, distributors)
    if unknown:
        raise UserError(f"distributor: no distributor {', '.join(map(repr, unknown))} in the database")
    missing = web_users.unknown_categories(session, categories)
    if missing:
        raise UserError(f"category: no product of category {', '.join(map(repr, missing))} in the catalog")


def create(session: Session, new: NewUser) -> User:
    """A new account; every mistake is a UserError naming the field, and nothing is stored then."""
    if not _USERNAME.match(new.username):
        raise UserError(f"username: 2–64 Latin letters, digits, and . _ @ -, got {new.username!r}")
    if web_users.user_by_name(session, new.username) is not None:
        raise UserError(f"username: {new.username!r} already exists")
    role = _role(new.role)
    _check_scope(session, role, new.distributors, new.categories)
    check_strength(new.password)
    return web_users.add_user(
        session,
        new.username,
        hash_password(new.password),
        role,
        distributors=new.distributors,
        categories=new.categories,
    )


def existing(session: Session, username: str) -> User:
    user = web_users.user_by_name(session, username)
    if user is None:
        raise UserError(f"username: no user {username!r}")
    return user


def change_password(session: Session, username: str, password: str) -> User:
    """A new password; the user's sessions end."""
    check_strength(password)
    user = existing(session, username)
    web_users.set_password(session, user, hash_password(password), utcnow())
    return user


def set_disabled(session: Session, username: str, disabled: bool) -> User:
    user = existing(session, username)
    web_users.set_disabled(session, user, disabled)
    return user
