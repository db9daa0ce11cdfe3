"""Panel accounts and the failed logins their rate limit counts. Passwords arrive here hashed (web/passwords.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage.models import Distributor, LoginFailure, Product, User, UserRole


def user_by_name(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def add_user(
    session: Session,
    username: str,
    password_hash: str,
    role: UserRole,
    *,
    distributors: Collection[str] = (),
    categories: Collection[str] = (),
    at: dt.datetime | None = None,
) -> User:
    """A new account; the caller checks the name is free (`user_by_name`) and the scope names what exists."""
    user = User(
        username=username,
        password_hash=password_hash,
        role=role,
        distributors=sorted(set(distributors)),
        categories=sorted(set(categories)),
        disabled=False,
    )
    if at is not None:
        user.created_at = user.password_changed_at = at
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: User, password_hash: str, at: dt.datetime) -> None:
    """A new password; sessions issued under the old one end (they name `password_changed_at`)."""
    user.password_hash = password_hash
    user.password_changed_at = at
    session.flush()


def set_disabled(session: Session, user: User, disabled: bool) -> None:
    user.disabled = disabled
    session.flush()


def record_login(session: Session, user: User, at: dt.datetime) -> None:
    user.last_login_at = at
    session.execute(delete(LoginFailure).where(LoginFailure.username == user.username))
    session.flush()


def add_login_failure(session: Session, username: str, client: str, at: dt.datetime) -> None:
    session.add(LoginFailure(username=username[:64], client=client[:64], at=at))
    session.flush()


def recent_failures(session: Session, username: str, client: str, since: dt.datetime) -> tuple[int, int]:
    """Failed logins since `since`: (for this user name, from this client)."""
    base = select(func.count(LoginFailure.id)).where(LoginFailure.at >= since)
    by_name = session.scalar(base.where(LoginFailure.username == username[:64])) or 0
    by_client = session.scalar(base.where(LoginFailure.client == client[:64])) or 0
    return int(by_name), int(by_client)


def forget_failures(session: Session, before: dt.datetime) -> None:
    """Failures older than the rate limit's window count for nothing: they are deleted."""
    session.execute(delete(LoginFailure).where(LoginFailure.at < before))


def unknown_distributors(session: Session, codes: Collection[str]) -> list[str]:
    known = set(session.scalars(select(Distributor.code).where(Distributor.code.in_(sorted(set(codes))))))
    return sorted(set(codes) - known)


def unknown_categories(session: Session, categories: Collection[str]) -> list[str]:
    known = set(session.scalars(select(Product.category).where(Product.category.in_(sorted(set(categories))))))
    return sorted(set(categories) - known)
