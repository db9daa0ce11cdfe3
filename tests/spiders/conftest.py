"""Crawling the pilot sites for real: `pricewatch crawl --output` through the process runner, over HTTP.

Each test module crawls a site once (module-scoped fixtures) and asserts many things on the result.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from crawler.config import load_config
from fixtures.sites import PilotSites
from fixtures.sites.modes import Mode
from pricewatch.crawls.local import run_crawls
from tests.support.pilot_crawl import Crawl, CrawlPilot

PILOT_YAML = Path(__file__).resolve().parent.parent.parent / "pilot.yaml"


@pytest.fixture(scope="session")
def crawl_pilot(pilot_sites: PilotSites, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrawlPilot]:
    """`crawl_pilot("techsnab", day=2, mode=Mode.CAPTCHA, path=…, limit=5, distributor={...})` → Crawl.

    The site is switched to `day` and `mode` for the crawl and put back to day 1, normal, afterwards.
    `distributor` replaces keys of the site's pilot.yaml entry (e.g. to crawl klimatprof through its feed);
    `evidence` is the evidence directory (screenshots).
    """
    config_dir = tmp_path_factory.mktemp("crawl-configs")

    def crawl(
        code: str,
        *,
        day: int = 1,
        mode: Mode | None = None,
        path: str | None = None,
        count: int = 4,
        limit: int = 0,
        distributor: dict[str, Any] | None = None,
        evidence: str | None = None,
    ) -> Crawl:
        config_path = PILOT_YAML
        if distributor or evidence:
            data = yaml.safe_load(PILOT_YAML.read_text(encoding="utf-8"))
            entry = next(d for d in data["distributors"] if d["code"] == code)
            entry.update(distributor or {})
            if evidence:
                data["evidence"] = {**data.get("evidence", {}), "dir": evidence}
            config_path = config_dir / f"{code}-{len(list(config_dir.iterdir()))}.yaml"
            config_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        pilot_sites.reset(day)
        if mode is not None:
            pilot_sites.set_mode(code, mode, path=path, count=count)
        out = io.StringIO()
        try:
            with pytest.MonkeyPatch.context() as env:
                for name, value in pilot_sites.env().items():
                    env.setenv(name, value)
                [summary] = run_crawls(load_config(config_path), config_path, [code], output=out, limit=limit)
            hits = pilot_sites.requests(code)
        finally:
            pilot_sites.reset()
        offers = [json.loads(line) for line in out.getvalue().splitlines()]
        return Crawl(summary, offers, pilot_sites.urls[code], hits)

    yield crawl
    shutil.rmtree(config_dir, ignore_errors=True)
