"""The web panel's page render time at scale: 100,000 observations and 10,000 violations, on SQLite and PostgreSQL.

The data is the reports bench's (bench/reports.py): 5 distributors × 500 listings crawled daily for 40 days, four
dumping episodes per listing. Each figure is the 95th percentile of requests to one page, through the whole
application in process (routing, the session cookie and its user, the queries, the template): the overview, the
violations list (its first page of 50, with the filter's choices and the count) and a violation page (its listing's
every observation, the chart data, the evidence block). The baseline is the login page of the same app in the same
run: a page with a template and no data. Goal: p95 under 300 ms.
"""

from __future__ import annotations

import random
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bench.common import Figure, quick, stopwatch
from bench.reports import _config, build
from bench.rules import databases
from storage.engine import make_engine, session_scope
from storage.migrate import upgrade
from storage.models import Alert, Observation
from web.accounts import NewUser, create
from web.app import create_app

GOAL_MS = 300.0
LISTINGS, DAYS = 500, 40  # 5 × 500 listings × 40 days = 100,000 observations, 4 episodes each = 10,000 violations
PASSWORD = "bench password 1"


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1] if len(samples) > 1 else samples[0]


def _timed(get: Callable[[], object], repeats: int) -> float:
    """The 95th percentile in milliseconds of `repeats` calls, after one warm-up call."""
    get()
    samples = []
    for _ in range(repeats):
        with stopwatch() as elapsed:
            get()
        samples.append(elapsed() * 1000)
    return _p95(samples)


def _client(url: str, folder: Path) -> tuple[TestClient, list[int], int]:
    """A logged-in admin's client over the built data; the alert ids and the observation count."""
    engine = make_engine(url)
    with session_scope(engine) as session:
        create(session, NewUser("bench", PASSWORD, "admin"))
        ids = list(session.scalars(select(Alert.id)))
        observations = int(session.scalar(select(func.count(Observation.id))) or 0)
    client = TestClient(create_app(engine, _config(folder / "evidence"), "bench-secret-" + "k" * 32))
    page = client.get("/login").text
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/login", data={"username": "bench", "password": PASSWORD, "csrf": csrf}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return client, ids, observations


def _measure(dialect: str, url: str, folder: Path, *, listings: int, days: int, repeats: int) -> list[Figure]:
    engine = make_engine(url)
    upgrade(engine)
    violations = build(engine, listings, days)
    engine.dispose()
    client, ids, observations = _client(url, folder)
    rng = random.Random(7)

    def get(path: str) -> Callable[[], object]:
        def call() -> object:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            return response

        return call

    def violation_page() -> object:
        return get(f"/violations/{rng.choice(ids)}")()

    baseline = _timed(get("/login"), repeats)
    pages = {
        "overview": _timed(get("/"), repeats),
        "violations list": _timed(get("/violations"), repeats),
        "violations list, filtered and searched": _timed(
            get("/violations?distributor=d2&q=TL-0&sort=severity"), repeats
        ),
        "violation page": _timed(violation_page, repeats),
    }
    label = f"{violations:,} violations, {observations:,} observations, {dialect}"
    return [
        Figure(
            f"{name} p95, {label}", ms, "ms", "login page p95 (same app)", baseline, f"< {GOAL_MS:.0f} ms", ms < GOAL_MS
        )
        for name, ms in pages.items()
    ]


def run() -> list[Figure]:
    listings, days, repeats = (100, 10, 10) if quick() else (LISTINGS, DAYS, 40)
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="pw-bench-web-") as tmp, databases() as targets:
        for dialect, url in targets:
            figures += _measure(dialect, url, Path(tmp), listings=listings, days=days, repeats=repeats)
    return figures
