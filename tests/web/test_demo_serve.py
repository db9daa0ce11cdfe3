"""`pricewatch demo --serve`: the panel over the demo's database with its two demo logins."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from pricewatch.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, DemoResult, demo_panel
from storage.engine import make_engine
from tests.support.builders import World, make_config
from tests.support.services import REPO


def _login(client: TestClient, username: str) -> None:
    page = client.get("/login").text
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    data = {"username": username, "password": DEMO_PASSWORD, "csrf": csrf}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303


def test_the_demo_panel_logs_in_its_admin_and_its_one_distributor_manager(
    sqlite_template: Path, tmp_path: Path
) -> None:
    shutil.copy(sqlite_template, tmp_path / "pricewatch.db")
    engine = make_engine(f"sqlite:///{tmp_path / 'pricewatch.db'}")
    World(engine, make_config({"distributors": [{"code": "techsnab"}, {"code": "klimatprof"}]}))
    engine.dispose()
    app, _config = demo_panel(DemoResult(tmp_path), str(REPO / "pilot.yaml"))
    assert [a[0] for a in DEMO_ACCOUNTS] == ["admin", "manager"]
    admin, manager = TestClient(app), TestClient(app)
    _login(admin, "admin")
    _login(manager, "manager")
    assert admin.get("/users").status_code == 200
    assert manager.get("/users").status_code == 403
    assert manager.get("/distributors/techsnab").status_code == 200
    assert manager.get("/distributors/klimatprof").status_code == 404
