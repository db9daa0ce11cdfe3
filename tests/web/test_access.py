"""Every route × every role: no anonymous page, viewers change nothing, managers see only their scope, only admins
manage users — and a page outside the scope answers exactly as one that does not exist."""

from __future__ import annotations

import pytest

from tests.support.web import ROLES, WebWorld

ANON = "anonymous"
OK, LOGIN, FORBIDDEN, MISSING = 200, 303, 403, 404
# (method, path, {role: status}); roles not named answer 200. `{name}` is an alert or product id of the world.
GETS: list[tuple[str, dict[str, int]]] = [
    ("/", {}),
    ("/violations", {}),
    ("/violations?status=open&rule=dumping&q=TL&sort=deviation&dir=asc", {}),
    ("/violations/{shop-dumping-TL-1001}", {}),
    ("/violations/{shop-dumping-TL-2002}", {"heaters_manager": MISSING}),
    ("/violations/{market-dumping-TL-1001}", {"shop_manager": MISSING}),
    ("/violations/{shop-dumping-TL-1001}/evidence/html", {}),
    ("/violations/{shop-dumping-TL-1001}/evidence/screenshot", {}),
    ("/violations/{shop-dumping-TL-1001}/evidence.zip", {}),
    ("/violations/export.csv", {}),
    ("/violations/export.xlsx?distributor=shop", {}),
    ("/violations/export.pdf?rule=dumping", {}),
    ("/skus", {}),
    ("/skus/{TL-1001}", {}),
    ("/skus/{TL-2002}", {"heaters_manager": MISSING}),
    ("/distributors", {}),
    ("/distributors/shop", {}),
    ("/distributors/market?days=30", {"shop_manager": MISSING}),
    ("/distributors/shop/report.pdf", {}),
    ("/distributors/market/report.xlsx", {"shop_manager": MISSING}),
    ("/matches", {}),
    ("/health", {}),
    ("/health?distributor=market", {}),
    ("/health/runs/{run}", {}),
    ("/users", {"viewer": FORBIDDEN, "shop_manager": FORBIDDEN, "heaters_manager": FORBIDDEN}),
]
READ_ONLY = {"viewer": FORBIDDEN}
ADMIN_ONLY = {"viewer": FORBIDDEN, "shop_manager": FORBIDDEN, "heaters_manager": FORBIDDEN}
# Successful posts redirect (303) back to their page.
POSTS: list[tuple[str, dict[str, str], dict[str, int]]] = [
    ("/violations/{shop-dumping-TL-1001}/feedback", {"verdict": "confirmed"}, READ_ONLY),
    ("/violations/{market-dumping-TL-1001}/note", {"text": "звонили"}, {**READ_ONLY, "shop_manager": MISSING}),
    (
        "/violations/{shop-dumping-TL-2002}/feedback",
        {"verdict": "false_alarm"},
        {**READ_ONLY, "heaters_manager": MISSING},
    ),
    (
        "/matches/decide",
        {"distributor": "shop", "url": "https://shop.test/other", "action": "not_ours"},
        {**READ_ONLY, "heaters_manager": MISSING},
    ),
    ("/users", {"username": "newbie", "password": "long enough pass", "role": "viewer"}, ADMIN_ONLY),
    ("/users/viewer/password", {"password": "another long one"}, ADMIN_ONLY),
    ("/users/heaters_manager/state", {"disabled": "true"}, ADMIN_ONLY),
    ("/logout", {}, {}),
]


def _path(world: WebWorld, template: str) -> str:
    names = {**world.alerts, **{code: pid for code, pid in world.products.items()}, "run": world.first_run}
    for name, value in names.items():
        template = template.replace("{" + name + "}", str(value))
    assert "{" not in template, template
    return template


def _expected(role: str, table: dict[str, int], success: int) -> int:
    if role == ANON:
        return LOGIN if success == OK else 401
    return table.get(role, success)


@pytest.mark.parametrize("role", [ANON, *ROLES])
def test_every_page_answers_each_role_as_its_scope_allows(web_world: WebWorld, role: str) -> None:
    client = web_world.client(None if role == ANON else role)
    wrong = []
    for template, table in GETS:
        path = _path(web_world, template)
        response = client.get(path, follow_redirects=False)
        expected = _expected(role, table, OK)
        if response.status_code != expected:
            wrong.append(f"GET {path}: {response.status_code}, expected {expected}")
        if role == ANON and response.status_code == LOGIN:
            assert response.headers["location"].startswith("/login?next=")
    assert wrong == []


@pytest.mark.parametrize("role", [ANON, *ROLES])
def test_every_action_answers_each_role_as_its_role_and_scope_allow(sqlite_web_world: WebWorld, role: str) -> None:
    wrong = []
    for template, data, table in POSTS:
        client = sqlite_web_world.client(None if role == ANON else role)  # fresh: logout and disabling end sessions
        path = _path(sqlite_web_world, template)
        response = client.post_form(path, data)
        expected = _expected(role, table, LOGIN)
        if response.status_code != expected:
            wrong.append(f"POST {path}: {response.status_code}, expected {expected}: {response.text[:200]}")
    assert wrong == []


def test_static_files_are_the_only_thing_served_without_a_login(sqlite_web_world: WebWorld) -> None:
    client = sqlite_web_world.client()
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/vendor/uPlot.iife.min.js").status_code == 200
    assert client.get("/login").status_code == 200
    assert client.get("/no-such-page", follow_redirects=False).status_code == 404
