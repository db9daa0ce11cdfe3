"""The two-day pilot: the report shows every expected violation, each with evidence captured from the live sites."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import gzip
import io
from pathlib import Path

import openpyxl
import pytest
from PIL import Image
from sqlalchemy import select

from crawler.config import parse_config
from fixtures.pilot.files import PRICE_LIST_CSV
from fixtures.pilot.scenario import DAYS, SITES, expected_alerts
from fixtures.sites import start_pilot_sites
from pricewatch.alerting import run_rules_and_queue
from reports.evidence import capture_for_new_alerts
from reports.output import write_report
from storage.engine import make_engine, session_scope
from storage.models import Alert
from tests.support.builders import World, day, pilot_seen
from tests.support.services import REPO, require

CHROMIUM = Path("/usr/bin/chromium")
VIOLATIONS = ("dumping", "parallel_import")


@pytest.mark.chromium
def test_pilot_report_shows_every_expected_violation_with_evidence_that_opens(sqlite_url: str, tmp_path: Path) -> None:
    require(CHROMIUM.is_file(), f"Chromium at {CHROMIUM}")
    engine = make_engine(sqlite_url)
    with start_pilot_sites() as sites:
        env = {**sites.env(), "PRICEWATCH_EVIDENCE_DIR": str(tmp_path / "evidence")}
        config = parse_config((REPO / "pilot.yaml").read_text(encoding="utf-8"), "pilot.yaml", env=env)
        world = World(engine, config)
        world.import_catalog(PRICE_LIST_CSV, valid_from=dt.date(2026, 3, 1))
        for n in DAYS:
            sites.set_day(n)
            for hour, site in enumerate(SITES):
                # The ground truth's offers, on the pages the running sites serve.
                seen = [
                    dataclasses.replace(s, url=(s.url or "").replace(f"https://{site}.test", sites.urls[site]))
                    for s in pilot_seen(site, n)
                ]
                world.crawl(site, day(n, hours=hour), seen)
            with session_scope(engine) as session:  # the rules run right after the day's crawls
                run_rules_and_queue(session, config, now=day(n, hours=len(SITES)))
            capture_for_new_alerts(engine, config)  # as run-daily does after the rules

    expected = {(e.rule, e.vendor_code, e.seller) for n in DAYS for e in expected_alerts(n) if e.rule in VIOLATIONS}
    with session_scope(engine) as session:
        ids = {
            (a.rule, a.details["vendor_code"], a.details["seller_code"]): a.id
            for a in session.scalars(select(Alert).where(Alert.rule.in_(VIOLATIONS)))
        }
    assert set(ids) == expected

    period = {"date_from": day(1).astimezone(config.tz).date(), "date_to": day(DAYS[-1]).astimezone(config.tz).date()}
    report = tmp_path / "pilot.csv"
    write_report(report, "csv", engine, config, **period)
    rows = {int(r["alert_id"]): r for r in csv.DictReader(io.StringIO(report.read_text(encoding="utf-8-sig")))}
    assert set(rows) == set(ids.values())
    for row in rows.values():
        with Image.open(tmp_path / row["screenshot_file"]) as shot:
            shot.verify()
        page = gzip.decompress((tmp_path / row["html_file"]).read_bytes()).decode("utf-8")
        assert row["vendor_code"].replace("-", "") in page.replace("-", "").upper(), row["url"]

    workbook = tmp_path / "pilot.xlsx"
    write_report(workbook, "xlsx", engine, config, **period)
    sheet = openpyxl.load_workbook(workbook)["Нарушения"]
    header = [c.value for c in sheet[1]]
    links = [r[header.index("Скриншот")].hyperlink for r in sheet.iter_rows(min_row=2)]
    assert len(links) == len(ids)
    assert all((tmp_path / link.target.replace("\\", "/")).is_file() for link in links if link is not None)
    assert None not in links
    engine.dispose()
