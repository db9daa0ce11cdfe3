"""Who is asking: the signed-in user from the session cookie, its role and scope; CSRF checks; login and logout.

No page is anonymous: every route but the login form and the static files depends on `signed_in`, which loads the
user on each request, so a disabled account or a changed password ends its sessions at once. Failed logins are
counted in the database per user name and per client; past `web.login_attempts` in `web.login_window_minutes`
the login answers 429 without looking at the password.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from storage.models import User, UserRole, utcnow
from storage.queries import web_users
from storage.queries.web_scope import Scope, scope_of
from web.panel import Panel, panel_of, render
from web.passwords import hash_password, needs_rehash, verify
from web.sessions import SessionData, new_token, same_token

router = APIRouter()


class LoginRequired(Exception):
    """No valid session: a page answers with the login form, an HTMX request with 401."""


class Forbidden(Exception):
    """Signed in, but the role may not do this."""


class CsrfFailed(Exception):
    """A form without the session's CSRF token."""


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    role: UserRole
    scope: Scope

    @property
    def is_admin(self) -> bool:
        return self.role == UserRole.ADMIN

    @property
    def can_act(self) -> bool:
        """Whether the user may change anything (feedback, notes, match decisions): admins and managers."""
        return self.role in (UserRole.ADMIN, UserRole.MANAGER)


def _session(request: Request, panel: Panel) -> SessionData:
    """The request's session (a fresh anonymous one when it has none); its CSRF token goes to the templates."""
    session = panel.cookies.read(request) or SessionData(csrf=new_token())
    request.state.csrf = session.csrf
    request.state.session = session
    return session


def _stamp(moment: dt.datetime) -> float:
    return moment.timestamp()


def signed_in(request: Request) -> Principal:
    """The user of a valid session; LoginRequired otherwise (no session, expired, disabled, password changed)."""
    panel = panel_of(request)
    session = _session(request, panel)
    if session.user_id is None:
        raise LoginRequired
    with panel.session() as db:
        user = web_users.user_by_id(db, session.user_id)
        if user is None or user.disabled or session.password_at != _stamp(user.password_changed_at):
            raise LoginRequired
        principal = Principal(user.id, user.username, user.role, scope_of(user))
    request.state.principal = principal
    return principal


def acting(principal: Annotated[Principal, Depends(signed_in)]) -> Principal:
    """A user who may change things: an admin or a manager (within its scope)."""
    if not principal.can_act:
        raise Forbidden
    return principal


def admin(principal: Annotated[Principal, Depends(signed_in)]) -> Principal:
    if not principal.is_admin:
        raise Forbidden
    return principal


SignedIn = Annotated[Principal, Depends(signed_in)]
Acting = Annotated[Principal, Depends(acting)]
Admin = Annotated[Principal, Depends(admin)]


def check_csrf(request: Request, token: str | None) -> None:
    """The form's token must be the session's: a page of another site cannot post as the user."""
    session: SessionData | None = getattr(request.state, "session", None)
    if session is None or not same_token(session.csrf, token):
        raise CsrfFailed


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _safe_next(target: str | None) -> str:
    """Only a path of this site: never `//host` or `https://host`, which would send the user elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    panel = panel_of(request)
    session = _session(request, panel)
    response = render(request, "login.html.j2", next=_safe_next(next), error=None)
    panel.cookies.write(response, session)  # the anonymous session that carries the form's CSRF token
    return response


def _rate_limited(panel: Panel, username: str, client: str, now: dt.datetime) -> bool:
    web = panel.config.web
    since = now - dt.timedelta(minutes=web.login_window_minutes)
    with panel.session() as db:
        web_users.forget_failures(db, since)
        by_name, by_client = web_users.recent_failures(db, username, client, since)
    return max(by_name, by_client) >= web.login_attempts


def _authenticate(panel: Panel, username: str, password: str, client: str, now: dt.datetime) -> SessionData | None:
    """The new session of a right user name and password; None (and a failure counted) otherwise."""
    with panel.session() as db:
        user: User | None = web_users.user_by_name(db, username)
        ok = verify(user.password_hash if user else None, password)
        if user is None or not ok or user.disabled:
            web_users.add_login_failure(db, username, client, now)
            return None
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        web_users.record_login(db, user, now)
        return SessionData(csrf=new_token(), user_id=user.id, password_at=_stamp(user.password_changed_at))


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    panel = panel_of(request)
    _session(request, panel)
    check_csrf(request, csrf)
    now, client, texts = utcnow(), _client(request), panel.texts
    if _rate_limited(panel, username, client, now):
        error = texts("login.rate_limited", minutes=panel.config.web.login_window_minutes)
        return render(request, "login.html.j2", status_code=429, next=_safe_next(next), error=error)
    session = _authenticate(panel, username.strip(), password, client, now)
    if session is None:
        return render(request, "login.html.j2", status_code=401, next=_safe_next(next), error=texts("login.failed"))
    response = RedirectResponse(_safe_next(next), status_code=303)
    panel.cookies.write(response, session)
    return response


@router.post("/logout")
def logout(request: Request, principal: SignedIn, csrf: Annotated[str, Form()] = "") -> Response:
    del principal  # only a signed-in user has a session to end
    check_csrf(request, csrf)
    response = RedirectResponse("/login", status_code=303)
    panel_of(request).cookies.clear(response)
    return response
