"""Users (admins only): every account with its role and scope; add one, change a password, disable or enable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from crawler.errors import UserError
from storage.queries.web_users import all_users
from web.accounts import ROLES, NewUser, change_password, create, set_disabled
from web.auth import Admin, check_csrf
from web.panel import panel_of, render
from web.passwords import MIN_LENGTH

router = APIRouter()


def _listed(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _page(request: Request, error: str | None = None, status_code: int = 200) -> Response:
    with panel_of(request).session() as db:
        users = all_users(db)
        return render(
            request,
            "users.html.j2",
            status_code=status_code,
            users=users,
            roles=ROLES,
            min_length=MIN_LENGTH,
            error=error,
        )


def _changed(request: Request, change: Callable[[Session], object]) -> Response:
    """Make one account change: back to the list, or the page again saying why the change was refused."""
    try:
        with panel_of(request).session() as db:
            change(db)
    except UserError as exc:
        return _page(request, error=str(exc), status_code=400)
    return RedirectResponse("/users", status_code=303)


@router.get("/users")
def users(request: Request, me: Admin) -> Response:
    del me
    return _page(request)


@router.post("/users")
def add_user(
    request: Request,
    me: Admin,
    *,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    role: Annotated[str, Form(max_length=16)],
    distributors: Annotated[str, Form(max_length=2000)] = "",
    categories: Annotated[str, Form(max_length=4000)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    del me
    check_csrf(request, csrf)
    new = NewUser(username.strip(), password, role, _listed(distributors), _listed(categories))
    return _changed(request, lambda db: create(db, new))


@router.post("/users/{username}/password")
def set_password(
    request: Request,
    me: Admin,
    username: str,
    password: Annotated[str, Form(max_length=1024)],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    del me
    check_csrf(request, csrf)
    return _changed(request, lambda db: change_password(db, username, password))


@router.post("/users/{username}/state")
def set_state(
    request: Request,
    me: Admin,
    username: str,
    disabled: Annotated[bool, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    if username == me.username and disabled:
        return _page(request, error="username: an admin cannot disable itself", status_code=400)
    return _changed(request, lambda db: set_disabled(db, username, disabled))
