"""With `web.base_url` set, every link in Telegram, email, the digest, the XLSX and the PDF opens the panel."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import Any

import openpyxl

from crawler.config import Config
from notify.messages import digest_view, email_alert, email_digest, telegram_alert
from reports.data import collect_report
from reports.labels import texts_for
from reports.pdf import render_html
from reports.xlsx import render_xlsx
from tests.support.builders import day
from tests.support.web import WebWorld

PANEL = "https://panel.example.ru"


def _with_panel(config: Config) -> Config:
    return config.model_copy(update={"web": config.web.model_copy(update={"base_url": PANEL})})


def _snapshot(alert_id: int) -> dict[str, Any]:
    return {
        "alert_id": alert_id,
        "event_id": 1,
        "kind": "opened",
        "rule": "dumping",
        "severity": "critical",
        "subject": "dumping",
        "details": {"url": "https://shop.test/tl-1001", "price": "8000.00", "rrp": "10000.00"},
        "at": "2026-11-23T06:00:00+00:00",
        "opened_at": "2026-11-23T06:00:00+00:00",
    }


def test_messages_link_the_panels_page_of_the_violation(sqlite_web_world: WebWorld) -> None:
    plain, panel = sqlite_web_world.config, _with_panel(sqlite_web_world.config)
    assert 'href="https://shop.test/tl-1001">Открыть страницу' in telegram_alert(_snapshot(7), plain).text
    message = telegram_alert(_snapshot(7), panel).text
    assert f'href="{PANEL}/violations/7">Открыть в панели' in message
    assert "shop.test" not in message
    mail = email_alert(_snapshot(7), panel)
    assert f"{PANEL}/violations/7" in mail.text
    assert f'href="{PANEL}/violations/7"' in mail.html
    digest = email_digest(digest_view([_snapshot(7)], panel, day(1)), panel, attached=False)
    assert f'href="{PANEL}/violations/7"' in digest.html


def test_reports_link_the_evidence_on_the_panel(sqlite_web_world: WebWorld) -> None:
    world = sqlite_web_world
    alert_id = world.alerts["shop-dumping-TL-1001"]
    data = collect_report(world.engine, _with_panel(world.config))  # the alerts were opened today
    assert data.panel_url == PANEL
    texts = texts_for(world.config)
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(data, texts, Path.cwd())))
    sheet = book[texts("sheet.violations")]
    links = {cell.hyperlink.target for row in sheet.iter_rows() for cell in row if cell.hyperlink}
    assert f"{PANEL}/violations/{alert_id}/evidence/screenshot" in links
    assert f"{PANEL}/violations/{alert_id}/evidence/html" in links
    assert not [link for link in links if link.startswith("external:")]
    html = render_html(data, texts, Path.cwd())
    assert f'href="{PANEL}/violations/{alert_id}"' in html
    assert f'href="{PANEL}/violations/{alert_id}/evidence.zip"' in html
    local = render_html(replace(data, panel_url=None), texts, Path.cwd())
    assert "evidence.zip" not in local
    assert ".png" in local  # without a panel the evidence is linked as files, as before
