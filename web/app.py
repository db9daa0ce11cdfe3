"""The panel as an ASGI application: routes, static files, security headers and the pages errors end on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Engine
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from crawler.config import Config
from crawler.errors import UserError
from web import auth
from web.panel import STATIC, Panel, environment, is_htmx, render
from web.routes import distributors, evidence, health, matches, overview, skus, users, violations
from web.sessions import SessionCookies
from web.texts import texts_for

# Pages: only this site's scripts, styles, images and frames; nothing inline, nothing from elsewhere.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)


def _security_headers(
    secure: bool,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    async def add_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        # A route that serves saved crawled HTML sets its own, stricter policy (a sandbox); keep it.
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")  # pages hold data a shared cache must not
        if secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response

    return add_headers


def _error(request: Request, status: int, message: str) -> Response:
    if is_htmx(request):
        return Response(message, status_code=status, media_type="text/plain; charset=utf-8")
    return render(request, "error.html.j2", status_code=status, message=message)


def _install_errors(app: FastAPI, texts: Callable[..., str]) -> None:
    async def login_required(request: Request, _exc: Exception) -> Response:
        if is_htmx(request) or request.method != "GET":
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return auth.login_redirect(request)

    async def forbidden(request: Request, _exc: Exception) -> Response:
        return _error(request, 403, texts("error.403"))

    async def csrf_failed(request: Request, _exc: Exception) -> Response:
        return _error(request, 403, texts("error.csrf"))

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return _error(request, status, texts("error.404") if status == 404 else str(getattr(exc, "detail", "")))

    async def bad_request(request: Request, exc: Exception) -> Response:
        detail = str(exc).splitlines()[0] if isinstance(exc, UserError) else _validation_line(exc)
        return _error(request, 400, texts("error.bad_request", detail=detail))

    app.add_exception_handler(auth.LoginRequired, login_required)
    app.add_exception_handler(auth.Forbidden, forbidden)
    app.add_exception_handler(auth.CsrfFailed, csrf_failed)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, bad_request)
    app.add_exception_handler(UserError, bad_request)


def _validation_line(exc: Exception) -> str:
    """The first problem of a request that does not fit a route: the parameter and what was wrong."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    if not errors:
        return str(exc)
    first = errors[0]
    return f"{'.'.join(str(p) for p in first.get('loc', ()))}: {first.get('msg', '')}"


def create_app(engine: Engine, config: Config, secret_key: str, *, evidence_dir: Path | None = None) -> FastAPI:
    """The panel over `engine`; `secret_key` signs the session cookies (`web.secret_key`)."""
    texts = texts_for(config)
    panel = Panel(
        engine=engine,
        config=config,
        texts=texts,
        cookies=SessionCookies(secret_key, config.web.session_hours * 3600, config.web.secure),
        templates=environment(),
        evidence_dir=(evidence_dir or Path(config.evidence.dir)).resolve(),
    )
    app = FastAPI(title="pricewatch", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.panel = panel
    app.middleware("http")(_security_headers(config.web.secure))
    _install_errors(app, texts)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(auth.router)
    for module in (overview, violations, evidence, skus, distributors, matches, health, users):
        app.include_router(module.router)
    return app
