"""CSRF on every form, hostile crawled text shown as text, sandboxed saved pages, cookies, login rate limit, and
sessions that end when an account is disabled or its password changes."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from storage.engine import session_scope
from tests.support.web import HOSTILE_PRODUCT, HOSTILE_SELLER, PASSWORD, SECRET, WebWorld
from web.accounts import change_password, set_disabled
from web.app import PAGE_CSP, create_app
from web.routes.evidence import SAVED_PAGE_CSP
from web.sessions import COOKIE


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_a_form_without_the_sessions_csrf_token_changes_nothing(sqlite_web_world: WebWorld, token: str | None) -> None:
    client = sqlite_web_world.client("admin")
    alert = sqlite_web_world.alerts["shop-dumping-TL-1001"]
    data = {"verdict": "confirmed"} if token is None else {"verdict": "confirmed", "csrf": token}
    response = client.post(f"/violations/{alert}/feedback", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert "Форма устарела" in response.text
    page = client.get(f"/violations/{alert}").text
    assert "Ещё не оценено." in page


def test_every_form_of_every_page_carries_the_csrf_token(sqlite_web_world: WebWorld) -> None:
    client = sqlite_web_world.client("admin")
    alert = sqlite_web_world.alerts["shop-dumping-TL-1001"]
    for path in ("/", "/violations", f"/violations/{alert}", "/matches", "/users", "/health"):
        html = client.get(path).text
        for form in re.findall(r"<form[^>]*method=\"post\"[^>]*>.*?</form>", html, flags=re.DOTALL):
            assert f'name="csrf" value="{client.csrf}"' in form, (path, form[:200])


def test_a_login_from_another_site_is_refused(sqlite_web_world: WebWorld) -> None:
    client = sqlite_web_world.client()
    response = client.post("/login", data={"username": "admin", "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 403


def test_crawled_names_with_markup_render_as_text(sqlite_web_world: WebWorld) -> None:
    client = sqlite_web_world.client("admin")
    alerts = sqlite_web_world.alerts
    pages = [
        "/violations",
        f"/violations/{alerts['market-dumping-TL-1001']}",
        f"/skus/{sqlite_web_world.products['TL-1001']}",
        "/skus",
        "/violations?q=script",
    ]
    for path in pages:
        html = client.get(path).text
        assert "<script>alert" not in html, path
        assert "<img src=x" not in html, path
    market = client.get(f"/violations/{alerts['market-dumping-TL-1001']}").text
    assert "&lt;script&gt;alert(&#39;seller&#39;)&lt;/script&gt;" in market
    assert "&lt;script&gt;alert(&#34;product&#34;)&lt;/script&gt; Обогреватель" in market
    assert HOSTILE_SELLER not in market
    assert HOSTILE_PRODUCT not in market


def test_pages_forbid_inline_and_foreign_scripts(sqlite_web_world: WebWorld) -> None:
    client = sqlite_web_world.client("admin")
    response = client.get("/violations")
    assert response.headers["content-security-policy"] == PAGE_CSP
    assert "script-src 'self';" in PAGE_CSP
    assert "unsafe-inline" not in PAGE_CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert "<script>" not in response.text  # only <script src=…> and JSON data blocks


def test_the_saved_page_is_served_in_a_sandbox_with_scripts_off(sqlite_web_world: WebWorld) -> None:
    client = sqlite_web_world.client("admin")
    alert = sqlite_web_world.alerts["shop-dumping-TL-1001"]
    response = client.get(f"/violations/{alert}/evidence/html")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == SAVED_PAGE_CSP
    assert SAVED_PAGE_CSP.startswith("sandbox;")
    assert "script-src" not in SAVED_PAGE_CSP
    assert b"<p class=price>" in response.content  # the page as saved (unzipped), for a person to read
    page = client.get(f"/violations/{alert}").text
    assert re.search(r'<iframe class="saved-page" src="[^"]+/evidence/html" sandbox=""', page)


def test_the_session_cookie_is_httponly_samesite_and_secure_behind_tls(sqlite_web_world: WebWorld) -> None:
    client = sqlite_web_world.client()
    cookie = client.get("/login").headers["set-cookie"]
    assert COOKIE in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http (no web.base_url): a Secure cookie would never come back
    web = sqlite_web_world.config.web.model_copy(update={"base_url": "https://panel.example"})
    behind_tls = sqlite_web_world.config.model_copy(update={"web": web})
    app = create_app(sqlite_web_world.engine, behind_tls, SECRET, evidence_dir=sqlite_web_world.evidence_dir)
    response = TestClient(app, base_url="https://panel.example").get("/login")
    assert "Secure" in response.headers["set-cookie"]
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_logins_are_rate_limited_per_user_name(sqlite_web_world: WebWorld) -> None:
    client = sqlite_web_world.client()
    limit = sqlite_web_world.config.web.login_attempts
    for _ in range(limit):
        assert client.post_form("/login", {"username": "admin", "password": "wrong password"}).status_code == 401
    response = client.post_form("/login", {"username": "admin", "password": PASSWORD})
    assert response.status_code == 429  # even the right password waits out the window
    assert "Слишком много неудачных попыток" in response.text


def test_a_disabled_account_or_a_changed_password_ends_its_sessions(sqlite_web_world: WebWorld) -> None:
    manager, viewer = sqlite_web_world.client("shop_manager"), sqlite_web_world.client("viewer")
    assert manager.get("/violations", follow_redirects=False).status_code == 200
    with session_scope(sqlite_web_world.engine) as session:
        set_disabled(session, "shop_manager", True)
        change_password(session, "viewer", "a brand new password")
    assert manager.get("/violations", follow_redirects=False).status_code == 303
    assert viewer.get("/violations", follow_redirects=False).status_code == 303
    assert manager.post_form("/login", {"username": "shop_manager", "password": PASSWORD}).status_code == 401


def test_a_forged_cookie_is_no_session(sqlite_web_world: WebWorld) -> None:
    client = sqlite_web_world.client("admin")
    client.cookies.set(COOKIE, client.cookies[COOKIE][:-3] + "abc")
    assert client.get("/violations", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_login_never_sends_the_user_to_another_site(sqlite_web_world: WebWorld, target: str) -> None:
    client = sqlite_web_world.client()
    response = client.post_form("/login", {"username": "admin", "password": PASSWORD, "next": target})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
