"""The web panel's test world: two distributors with violations, evidence, hostile crawled names, one account per
role, and an HTTP client that logs in as one of them.

    world = build_world(engine, tmp_path)        # the data, through the rules as a daily run writes it
    client = world.client("shop_manager")        # logged in; `client.csrf` is its session's token
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine, select

from crawler.config import Config
from storage.engine import session_scope
from storage.models import Alert, Evidence
from storage.queries.evidence import attach_evidence
from tests.support.builders import Seen, World, day, make_config
from tests.support.rules_world import evaluate
from web.accounts import NewUser, create
from web.app import create_app

SECRET = "test-secret-key-" + "x" * 32
PASSWORD = "correct horse battery"
HOSTILE_PRODUCT = '<script>alert("product")</script> Обогреватель'
HOSTILE_SELLER = "<script>alert('seller')</script><img src=x onerror=alert(1)>"
SAVED_PAGE = b"<html><body><script>document.title='ran'</script><p class=price>8 000 \xe2\x82\xbd</p></body></html>"
# (user name, role, distributors, categories)
ACCOUNTS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("admin", "admin", (), ()),
    ("viewer", "viewer", (), ()),
    ("shop_manager", "manager", ("shop",), ()),
    ("heaters_manager", "manager", (), ("Обогреватели",)),
)
ROLES = tuple(a[0] for a in ACCOUNTS)

CONFIG: dict[str, Any] = {
    "distributors": [
        {"code": "shop", "name": "Магазин Тепла", "region": "Москва"},
        {"code": "market", "name": "Маркет", "kind": "marketplace", "spider": "marketplace", "region": "Казань"},
    ],
    "sellers": [{"marketplace": "market", "seller_id": "s-1", "name": "Официальный магазин"}],
}


class PanelClient(TestClient):
    """A TestClient that remembers its session's CSRF token (read from the last page it was given)."""

    csrf: str = ""

    def page(self, url: str, **kwargs: Any) -> Any:
        response = self.get(url, **kwargs)
        found = re.search(r'name="csrf" value="([^"]+)"', response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def post_form(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.post(url, data={"csrf": self.csrf, **(data or {})}, follow_redirects=False, **kwargs)


@dataclass
class WebWorld:
    engine: Engine
    config: Config
    evidence_dir: Path
    alerts: dict[str, int]  # "<distributor>-<rule>-<vendor code>" → alert id
    products: dict[str, int]  # vendor code → product id
    first_run: int  # the shop's first crawl run
    app: FastAPI = field(init=False)

    def __post_init__(self) -> None:
        self.app = create_app(self.engine, self.config, SECRET, evidence_dir=self.evidence_dir)

    def client(self, username: str | None = None, **kwargs: Any) -> PanelClient:
        """A client logged in as `username` (None: anonymous, with the login form's session)."""
        client = PanelClient(self.app, **kwargs)
        client.page("/login")
        if username is not None:
            response = client.post_form("/login", {"username": username, "password": PASSWORD, "next": "/"})
            assert response.status_code == 303, response.text
            client.page("/")
        return client


def png(color: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, format="PNG")
    return out.getvalue()


def store_evidence(engine: Engine, evidence_dir: Path, alert_id: int, url: str, at: dt.datetime) -> tuple[int, int]:
    """An HTML copy and a screenshot of the alert's page, stored as the evidence capture stores them."""
    ids = []
    for kind, content, suffix in (
        ("html", gzip.compress(SAVED_PAGE, mtime=0), ".html.gz"),
        ("screenshot", png(), ".png"),
    ):
        digest = hashlib.sha256(content).hexdigest()
        rel = f"{at:%Y-%m-%d}/{digest}{suffix}"
        (evidence_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (evidence_dir / rel).write_bytes(content)
        with session_scope(engine) as session:
            row = Evidence(kind=kind, url=url, captured_at=at, sha256=digest, path=rel, size=len(content))
            session.add(row)
            session.flush()
            ids.append(row.id)
    with session_scope(engine) as session:
        attach_evidence(session, [alert_id], ids[0], ids[1])
    return ids[0], ids[1]


def _alert_ids(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        alerts = list(session.scalars(select(Alert)))
        out = {}
        for a in alerts:
            code = a.details.get("distributor_code")
            vendor = a.details.get("vendor_code")
            out[f"{code}-{a.rule}-{vendor}"] = a.id
        return out


def build_world(engine: Engine, tmp_path: Path) -> WebWorld:
    """Two days of crawls: the shop dumps a heater and a fan (its own page for each), the marketplace's grey seller
    (with a hostile name) dumps the heater; the rules open the alerts; the shop's heater alert has evidence."""
    evidence_dir = tmp_path / "evidence"
    evidence_dir.mkdir(exist_ok=True)
    config = make_config({**CONFIG, "evidence": {"dir": str(evidence_dir)}})
    world = World(engine, config)
    world.product("TL-1001", name=HOSTILE_PRODUCT, category="Обогреватели")
    world.product("TL-2002", name="Вентилятор Термолайн", category="Вентиляторы")
    world.price_list(dt.date(2026, 3, 1), {"TL-1001": "10000", "TL-2002": "5000"})
    runs = []
    for n in (1, 2):
        runs.append(
            world.crawl(
                "shop",
                day(n),
                [
                    Seen("TL-1001", price="8000", url="https://shop.test/tl-1001"),
                    Seen("TL-2002", price="4000", url="https://shop.test/tl-2002"),
                    Seen(None, price="100", url="https://shop.test/other", title="Чайник Термолайн ТЛ-77"),
                ],
            )
        )
        world.crawl(
            "market",
            day(n, 1),
            [
                Seen("TL-1001", price="7000", seller="s-9", seller_name=HOSTILE_SELLER, url="https://market.test/1"),
                Seen(
                    "TL-2002",
                    price="5000",
                    seller="s-1",
                    seller_name="Официальный магазин",
                    url="https://market.test/2",
                ),
            ],
        )
        evaluate(world)
    alerts = _alert_ids(engine)
    store_evidence(engine, evidence_dir, alerts["shop-dumping-TL-1001"], "https://shop.test/tl-1001", day(2))
    with session_scope(engine) as session:
        for username, role, distributors, categories in ACCOUNTS:
            create(session, NewUser(username, PASSWORD, role, distributors, categories))
    return WebWorld(engine, config, evidence_dir, alerts, dict(world.products), runs[0])


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """The app on uvicorn on an ephemeral 127.0.0.1 port, in a thread; yields its base URL."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
