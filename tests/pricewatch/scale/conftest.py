"""Two real Scrapyd daemons on 127.0.0.1 (ephemeral ports), set up as docs/operations.md tells an admin to: the
project `pricewatch` mapped to `crawler.settings`, crawls writing to the session's PostgreSQL database."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml

from crawler.config import Config, parse_config
from fixtures.sites import PilotSites
from tests.support.scrapyd import PASSWORD, PILOT_YAML, USERNAME, Pair, start_scrapyd


@pytest.fixture(scope="session")
def scrapyd_pair(
    pg_server_url: str, pilot_sites: PilotSites, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("scrapyd")
    sites = pilot_sites.env()
    a = start_scrapyd(
        "a",
        root / "a",
        {
            **sites,
            "DATABASE_URL": pg_server_url,
            "PRICEWATCH_CONFIG": str(PILOT_YAML),
            "PRICEWATCH_EVIDENCE_DIR": str(root / "a" / "evidence"),
        },
        auth=(USERNAME, PASSWORD),
    )
    try:
        b = start_scrapyd("b", root / "b", {**sites, "PRICEWATCH_EVIDENCE_DIR": str(root / "b" / "evidence")})
    except BaseException:
        a.stop()
        raise
    try:
        yield Pair(a, b, pg_server_url)
    finally:
        a.stop()
        b.stop()


@pytest.fixture
def scrapyd_config(pilot: PilotSites) -> Callable[..., Config]:
    """pilot.yaml pointed at the running pilot sites, with `crawl.backend: scrapyd` on the given hosts."""

    def make(hosts: list[dict[str, Any]], **schedule: Any) -> Config:
        data = yaml.safe_load(PILOT_YAML.read_text(encoding="utf-8"))
        data["crawl"] = {"backend": "scrapyd", "scrapyd": hosts}
        data["schedule"] = {**data.get("schedule", {}), **schedule}
        env = {**os.environ, **pilot.env(), "SCRAPYD_TEST_PASSWORD": PASSWORD}
        return parse_config(yaml.safe_dump(data, allow_unicode=True), "scrapyd-test.yaml", env=env)

    return make
