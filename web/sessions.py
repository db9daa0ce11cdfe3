"""The session cookie: signed (itsdangerous) and time-limited, holding the user, its password's date and a CSRF token.

Nothing secret is in it and nothing in it can be changed unseen. A visitor who has not logged in gets one too, for
the login form's CSRF token; logging in issues a new one (a fresh token: no session fixation). A cookie names the
moment its user's password was last set, so changing a password ends every session issued before.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "pricewatch_session"
_SALT = "pricewatch.web.session"


@dataclass(frozen=True)
class SessionData:
    csrf: str
    user_id: int | None = None
    password_at: float | None = None  # the user's password_changed_at, as a POSIX timestamp


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


class SessionCookies:
    def __init__(self, secret_key: str, max_age_seconds: int, secure: bool) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt=_SALT)
        self.max_age = max_age_seconds
        self.secure = secure

    def read(self, request: Request) -> SessionData | None:
        """The request's session; None when it has none, or a forged or expired one."""
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data: Any = self._serializer.loads(raw, max_age=self.max_age)
        except BadSignature:  # also an expired one (SignatureExpired is a BadSignature)
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        user_id, password_at = data.get("u"), data.get("p")
        return SessionData(
            csrf=data["c"],
            user_id=user_id if isinstance(user_id, int) else None,
            password_at=float(password_at) if isinstance(password_at, int | float) else None,
        )

    def write(self, response: Response, session: SessionData) -> None:
        payload = {"c": session.csrf, "u": session.user_id, "p": session.password_at}
        response.set_cookie(
            COOKIE,
            self._serializer.dumps(payload),
            max_age=self.max_age,
            path="/",
            secure=self.secure,
            httponly=True,
            # Lax, not Strict: a link from Telegram or an email must arrive logged in (it is a top-level GET).
            samesite="lax",
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", secure=self.secure, httponly=True, samesite="lax")
