"""`pricewatch demo`: the whole flow on the pilot sites and a fresh SQLite file, reports in the out folder.

The demo runs once for this module (it takes a minute and a half): a month of history, then day 1 yesterday and
day 2 today, each crawled at its own date; the tests read what it printed, stored and wrote.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from rich.console import Console
from sqlalchemy import func, select

from crawler.config import Config, load_config
from crawler.errors import UserError
from fixtures.pilot import history, vitrina
from fixtures.pilot.expected import pilot_events
from fixtures.pilot.scenario import DAYS
from pricewatch.demo import DemoResult, run_demo
from reports.data import collect_report
from storage.engine import make_engine, session_scope
from storage.models import Alert, CrawlRun, Distributor, Observation, Product
from tests.support.pdf import annex_pages, need_poppler, page_texts, raster_images, render_pages
from tests.support.services import REPO

SILENT = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "SMTP_HOST", "SMTP_PORT", "SMTP_SECURITY")


@dataclass(frozen=True)
class Demo:
    result: DemoResult
    printed: str
    config: Config
    out: Path

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.out / 'pricewatch.db'}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    out = tmp_path_factory.mktemp("demo") / "demo-out"
    with pytest.MonkeyPatch.context() as env:
        for name in SILENT:
            env.delenv(name, raising=False)
        printed = io.StringIO()
        result = run_demo(str(REPO / "pilot.yaml"), out, Console(file=printed, width=200))
        env.setenv("PRICEWATCH_EVIDENCE_DIR", str(out / "evidence"))
        config = load_config(str(REPO / "pilot.yaml"))
    return Demo(result, printed.getvalue(), config, out)


def test_demo_runs_both_days_prints_the_expected_alerts_and_writes_the_reports(demo: Demo) -> None:
    result = demo.result
    assert result.ok, {d: r.failures for d, r in result.days.items()}
    for day in DAYS:
        printed = Counter((e["rule"], e["kind"]) for e in result.events[day])
        assert printed == Counter((rule, event) for (rule, *_, event) in pilot_events(day).elements())
    assert "Would send" in demo.printed
    assert "Where to look" in demo.printed
    assert re.search(r"the demo took (\d+ min \d\d|\d+) s\n", demo.printed)
    names = sorted(p.name for p in result.reports)
    assert names == ["violations.csv", "violations.pdf", "violations.xlsx"]
    assert (demo.out / "violations.pdf").read_bytes().startswith(b"%PDF")
    book = openpyxl.load_workbook(demo.out / "violations.xlsx")
    assert book.sheetnames[0] in {"Сводка", "Summary"}
    assert any((demo.out / "evidence").rglob("*.png"))


def test_the_days_are_consecutive_dates_after_a_month_written_to_storage(demo: Demo) -> None:
    today = dt.datetime.now(demo.config.tz).date()
    assert f"History: {history.DAYS} days" in demo.printed
    assert "written straight to the database from the pilot's ground truth (not crawled)" in demo.printed
    for day in DAYS:
        assert f"day {day}: {today - dt.timedelta(days=DAYS[-1] - day):%d.%m.%Y}" in demo.printed
    engine = make_engine(demo.db_url)
    with session_scope(engine) as session:
        runs = session.execute(select(Distributor.code, CrawlRun.started_at).join(CrawlRun)).all()
        observed = session.scalars(select(Observation.observed_at)).all()
    engine.dispose()
    days_by_site: dict[str, set[dt.date]] = {}
    for code, started in runs:
        days_by_site.setdefault(code, set()).add(started.astimezone(demo.config.tz).date())
    first = today - dt.timedelta(days=history.DAYS + len(DAYS) - 1)
    every_day = {first + dt.timedelta(days=i) for i in range(history.DAYS + len(DAYS))}
    demo_days = {today - dt.timedelta(days=DAYS[-1] - day) for day in DAYS}
    # The month of history is the scenario's three sites'; «Витрина» is crawled on the demo's days.
    assert days_by_site == dict.fromkeys(("techsnab", "klimatprof", "marketplace"), every_day) | {"vitrina": demo_days}
    assert {t.astimezone(demo.config.tz).date() for t in observed} == every_day  # stored at the demo day's time


def test_the_reports_figures_agree_with_the_alerts(demo: Demo) -> None:
    """No stock-out days of zero after a stock-out, no lost sales for a product that never alerted."""
    engine = make_engine(demo.db_url)
    with session_scope(engine) as session:
        # A distributor's stock-out days count days it had the product nowhere: «Витрина»'s TL-3001 is out in one
        # region only (its alerts name the region), so it has none.
        stock_alerts = {
            (code, vendor_code)
            for code, vendor_code, details in session.execute(
                select(Distributor.code, Product.vendor_code, Alert.details)
                .join(Alert, Alert.distributor_id == Distributor.id)
                .join(Product, Product.id == Alert.product_id)
                .where(Alert.rule == "stock_out")
            )
            if details.get("region") is None
        }
        vitrina_dumping = sum(1 for f in vitrina.expected_findings(DAYS[0]) if f.rule == "dumping")  # by region
        assert session.scalar(select(func.count(Alert.id)).where(Alert.rule == "dumping")) == 4 + vitrina_dumping
    today = dt.datetime.now(demo.config.tz).date()
    data = collect_report(engine, demo.config, date_from=today - dt.timedelta(days=history.DAYS + 1), date_to=today)
    engine.dispose()
    summaries = {s.code: s for s in data.summaries}
    assert {(s.distributor_code, s.vendor_code) for s in data.stock} == stock_alerts
    assert summaries["techsnab"].stock_out_days == 2  # TL-1007 and TL-2005 on day 2
    assert summaries["klimatprof"].stock_out_days == 4  # TL-2005 in the history
    assert all(s.lost_sales for s in data.stock)
    assert summaries["marketplace"].repeat_offences == 1  # Климат-Маркет dumped TL-2002 in the history too
    charted = {h.vendor_code: len(h.points) for h in data.history.values()}
    assert charted["TL-2002"] == charted["TL-1003"] == charted["TL-4002"] == history.DAYS + len(DAYS)


def test_the_demo_pdf_shows_a_cover_vector_charts_of_the_month_and_a_readable_annex(demo: Demo, tmp_path: Path) -> None:
    need_poppler()
    pdf = demo.out / "violations.pdf"
    pages = page_texts(pdf)
    assert pages[0].startswith("Termoline")
    assert "Нарушения РРЦ — Все дистрибьюторы" in pages[0]
    chart_pages = {i for i, text in enumerate(pages, start=1) if "Цена и РРЦ по SKU" in text}
    images = raster_images(pdf)
    assert chart_pages
    assert not chart_pages & {i.page for i in images}  # the charts are vector
    assert {i.page for i in images} <= annex_pages(pages)  # every screenshot in the annex, none elsewhere
    assert len(images) >= 4
    assert min(i.width for i in images) >= 1366  # full browser width: the price is readable
    assert len(render_pages(pdf, tmp_path / "pages")) == len(pages)


def test_demo_refuses_to_wipe_a_folder_it_did_not_make(tmp_path: Path) -> None:
    keep = tmp_path / "mine"
    keep.mkdir()
    (keep / "important.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(UserError, match="was not made by the demo"):
        run_demo(str(REPO / "pilot.yaml"), keep, Console(file=io.StringIO()))
    assert (keep / "important.txt").exists()
