"""Secrets and hostile content: a planted bot token and SMTP password show up nowhere; a price list's or a page's
text stays text in every message, report and export; the bot answers only its allow-list.

One module-scoped run does what an admin's machine does: a price list naming a product with a formula, markup and a
line break; `pricewatch -v run-daily` over a shop whose page (a dumping offer of that product, so it reaches every
output) carries scripts, with the planted secrets in the environment and Telegram and SMTP both refusing them; then
delivery once they accept; then the reports and the offers export through the console script.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import gzip
import io
import logging
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from sqlalchemy import Engine, select

from crawler.config import Config, parse_config
from fixtures.smtp import FakeSmtpServer
from fixtures.telegram_api import FakeTelegramApi
from notify.bot import build_application
from notify.outbox import flush
from notify.report_files import digest_attachment
from reports.cells import FORMULA_TRIGGERS
from storage.engine import make_engine, session_scope
from storage.models import Alert, Evidence, Mute, Outbox, OutboxStatus
from tests.support.http_site import HttpSite
from tests.support.reliability import (
    PILOT_YAML,
    every_stored_text,
    fresh_sqlite,
    pricewatch,
    seed_pilot_days,
)
from tests.support.services import require

pytestmark = pytest.mark.slow

TOKEN = "7093318257:AAF-planted-Bot-Token-DoNotLeak_4242"  # shaped like a real one: masked by value and by shape
PASSWORD = "planted-smtp-p4ss-DoNotLeak"  # shaped like nothing: only masking by value catches it
SECRETS = (TOKEN, TOKEN.split(":")[1], PASSWORD)
SMTP_USER = "pricewatch"

# A price list from outside (hostile, or just careless) names a product with a formula, markup and a line break
# that would end an email's Subject header; the distributor's page titles it with an <img onerror>.
PRODUCT = '=HYPERLINK("http://evil.example/","Termoline") <script>alert(2)</script>\nBcc: victim@evil.example'
TITLE = "Обогреватель Termoline TL-9003 <img src=x onerror=alert(1)>"
PAGE = f"""<!doctype html><html><head><meta charset="utf-8"><title>TL-9003</title>
<script>alert('evidence-script-7731')</script></head><body>
<h1 class="name">{TITLE.replace("<", "&lt;").replace(">", "&gt;")}</h1>
<div class="price">9 990 ₽</div><div class="stock">В наличии</div><div class="sku">TL-9003</div>
<img src="x" onerror="alert('evidence-img-7731')"></body></html>"""
EVIDENCE_MARKS = ("evidence-script-7731", "evidence-img-7731")


def _answer(path: str, _count: int) -> tuple[int, dict[str, str], bytes]:
    if path == "/product/tl-9003":
        return 200, {}, PAGE.encode()
    return 404, {"Content-Type": "text/plain"}, b"not found"


def hostile_config(folder: Path, site_url: str) -> Path:
    """pilot.yaml's routes and notify section around one shop: the hostile page."""
    data = yaml.safe_load(PILOT_YAML.read_text(encoding="utf-8"))
    data["distributors"] = [
        {
            "code": "hostile",
            "name": "Магазин",
            "region": "Москва",
            "start_urls": [f"{site_url}/product/tl-9003"],
            "extraction": "selectors",
            "selectors": {
                "name": "h1.name::text",
                "price": ".price::text",
                "availability": ".stock::text",
                "vendor_code": ".sku::text",
            },
            "politeness": {"timeout": 5, "retries": 0, "autothrottle": False},
        }
    ]
    data["sellers"] = data["legal_entities"] = []
    for route in data["routes"]:  # the digest to its own reader (with sales' address it would fold into theirs)
        if route.get("mode") == "digest":
            route["email"] = ["digest@termoline.example"]
    data["evidence"] = {"dir": str(folder / "evidence"), "screenshots": False}
    data["notify"]["email"]["username"] = "${SMTP_USER:-}"
    path = folder / "hostile.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@dataclass
class Run:
    """Everything the run left behind that a person or another program could read."""

    engine: Engine
    folder: Path
    logs: list[str] = field(default_factory=list)  # stdout and stderr of every command
    files: dict[str, Path] = field(default_factory=dict)  # reports and exports by name
    telegram_texts: list[str] = field(default_factory=list)
    emails: list[EmailMessage] = field(default_factory=list)


def _env(api: FakeTelegramApi, smtp: FakeSmtpServer) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api.url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_SECURITY": "none",
        "SMTP_USER": SMTP_USER,
        "SMTP_PASSWORD": PASSWORD,
    }


@pytest.fixture(scope="module")
def hostile_run(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    folder = tmp_path_factory.mktemp("hostile")
    db_url = fresh_sqlite(sqlite_template, folder)
    engine = make_engine(db_url)
    run = Run(engine, folder)
    prices = folder / "prices.csv"
    with prices.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out, delimiter=";").writerows([["Артикул", "Наименование", "РРЦ"], ["TL-9003", PRODUCT, "12990"]])
    imported = pricewatch("catalog", "import", str(prices), "--valid-from", "2026-01-01", "--db", db_url)
    assert imported.code == 0, imported.err
    with HttpSite(_answer) as site:
        config_path = hostile_config(folder, site.url)
        cfg = str(config_path)
        # Telegram does not know the token, the mail server rejects the password.
        with (
            FakeTelegramApi(token="5550001:another-bots-token-aaaaaaaaaaaaaaa") as stranger,
            FakeSmtpServer(credentials=(SMTP_USER, "the-right-password")) as refusing,
        ):
            env = _env(stranger, refusing)
            for args in (
                ["-v", "run-daily", "--config", cfg, "--db", db_url, "--format", "json"],
                ["-v", "config", "check", "--config", cfg],
                ["-v", "notify", "flush", "--digest", "--config", cfg, "--db", db_url],
            ):
                ran = pricewatch(*args, env=env)
                run.logs += [ran.out, ran.err]
        with FakeTelegramApi(token=TOKEN) as api, FakeSmtpServer(credentials=(SMTP_USER, PASSWORD)) as smtp:
            config = parse_config(config_path.read_text(encoding="utf-8"), cfg, env=_env(api, smtp))
            later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
            report = flush(engine, config, digest=True, now=later, attachment=digest_attachment(engine, config))
            assert report.sent == 3, report  # the alert to the chat and to sales, and the digest
            run.telegram_texts = [c.params["text"] for c in api.messages]
            run.emails = smtp.messages
    for name, args in {
        "report.xlsx": ["report", "violations", "--format", "xlsx"],
        "report.csv": ["report", "violations", "--format", "csv"],
        "report.pdf": ["report", "violations", "--format", "pdf"],
        "offers.xlsx": ["offers", "export"],
        "offers.csv": ["offers", "export"],
    }.items():
        path = folder / name
        ran = pricewatch(*args, "--out", str(path), "--config", cfg, "--db", db_url)
        assert ran.code == 0, ran.err
        run.logs += [ran.out, ran.err]
        run.files[name] = path
    yield run
    engine.dispose()


def _pdf_text(path: Path) -> str:
    require(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils)")
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout


def _xlsx_parts(content: bytes) -> str:
    """Every XML part of a workbook: cells, shared strings, sheet names, chart titles, properties."""
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        return "\n".join(book.read(name).decode("utf-8", errors="replace") for name in book.namelist())


def _attachments(run: Run) -> list[bytes]:
    """The workbooks the emails carry: attached as they are, or inside the bundle of the report and its evidence."""
    books = []
    for content in (part.get_payload(decode=True) for m in run.emails for part in m.iter_attachments()):
        with zipfile.ZipFile(io.BytesIO(content)) as packed:
            inner = [n for n in packed.namelist() if n.endswith("/violations.xlsx")]
            books += [packed.read(n) for n in inner] if inner else [content]
    return books


def test_the_run_met_the_hostile_page_and_both_refusals(hostile_run: Run) -> None:
    """What the other tests rely on: the page was crawled, alerted on and kept as evidence; delivery failed first."""
    with session_scope(hostile_run.engine) as session:
        alert = session.scalars(select(Alert).where(Alert.rule == "dumping")).one()
        evidence = session.scalars(select(Evidence).where(Evidence.kind == "html")).one()
        errors = [r.last_error or "" for r in session.scalars(select(Outbox))]
        assert {r.status for r in session.scalars(select(Outbox))} == {OutboxStatus.SENT}
    assert (alert.severity, alert.details["product_name"]) == ("critical", PRODUCT)
    stored = gzip.decompress((hostile_run.folder / "evidence" / evidence.path).read_bytes())
    assert all(mark.encode() in stored for mark in EVIDENCE_MARKS)  # evidence keeps the page as it was
    assert any("rejected by the server" in e for e in errors)  # Telegram refused the token…
    assert any("535" in e for e in errors)  # …and the mail server the password
    assert any("<redacted>" in log for log in hostile_run.logs)  # URLs with the token were logged, masked


def test_planted_secrets_appear_in_no_log_row_report_export_or_message(hostile_run: Run) -> None:
    places = {
        "logs of -v run-daily, config check, notify flush, report, export": "\n".join(hostile_run.logs),
        "every text column of the database": every_stored_text(hostile_run.engine),
        "Telegram messages": "\n".join(hostile_run.telegram_texts),
        "emails with their attachments": "\n".join(m.as_string() for m in hostile_run.emails),
        "attached workbooks": "\n".join(_xlsx_parts(b) for b in _attachments(hostile_run)),
        "PDF text": _pdf_text(hostile_run.files["report.pdf"]),
        "PDF bytes": hostile_run.files["report.pdf"].read_bytes().decode("latin-1"),
    }
    for name in ("report.csv", "offers.csv"):
        places[name] = hostile_run.files[name].read_text(encoding="utf-8-sig")
    for name in ("report.xlsx", "offers.xlsx"):
        places[name] = _xlsx_parts(hostile_run.files[name].read_bytes())
    leaks = [(place, secret) for place, text in places.items() for secret in SECRETS if secret in text]
    assert leaks == []


def test_the_pages_markup_stays_text_in_messages_and_the_pdf(hostile_run: Run) -> None:
    htmls = [p.get_content() for m in hostile_run.emails for p in m.walk() if p.get_content_type() == "text/html"]
    assert htmls
    for html in [*htmls, *hostile_run.telegram_texts]:
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
        assert "<script" not in html
        assert not any(mark in html for mark in EVIDENCE_MARKS)
    for message in hostile_run.emails:
        assert "\n" not in message["Subject"]
        assert message["Bcc"] is None  # the line break did not start a header of its own
    pdf = _pdf_text(hostile_run.files["report.pdf"])
    assert "<script>alert(2)</script>" in pdf  # printed as the characters the price list holds
    assert not any(mark in pdf for mark in EVIDENCE_MARKS)  # the stored page is linked, never laid out


def _cells(run: Run) -> dict[str, list[Any]]:
    sheets: dict[str, list[Any]] = {}
    books = {name: path.read_bytes() for name, path in run.files.items() if name.endswith(".xlsx")}
    books.update({f"digest attachment {i}": b for i, b in enumerate(_attachments(run))})
    for name, content in books.items():
        book = openpyxl.load_workbook(io.BytesIO(content))  # formulas as written, not their cached values
        sheets[name] = [cell for ws in book.worksheets for row in ws.iter_rows() for cell in row]
    # The report is plain CSV; the export is Excel's Russian CSV (semicolons).
    for name, delimiter in (("report.csv", ","), ("offers.csv", ";")):
        text = run.files[name].read_text(encoding="utf-8-sig")
        sheets[name] = [value for row in csv.reader(io.StringIO(text), delimiter=delimiter) for value in row]
    return sheets


NUMBER = re.compile(r"-?\d+(\.\d+)?$")  # a CSV's negative number: a spreadsheet reads it as the number it is


def test_no_exported_cell_can_run_as_a_formula(hostile_run: Run) -> None:
    sheets = _cells(hostile_run)
    assert len(sheets) >= 5
    for name, cells in sheets.items():
        values = [c.value if hasattr(c, "value") else c for c in cells]
        formulas = [c.coordinate for c in cells if getattr(c, "data_type", None) == "f"]
        assert formulas == [], name
        starts = [v for v in values if isinstance(v, str) and v.startswith(FORMULA_TRIGGERS) and not NUMBER.match(v)]
        assert starts == [], name
        assert any(isinstance(v, str) and v.startswith(f"'{PRODUCT[:20]}") for v in values), f"{name}: no product"


ALLOWED, STRANGER = "100200300", "666"


def test_the_bot_ignores_commands_and_buttons_from_chats_off_the_allow_list(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config_path = tmp_path / "pilot.yaml"
    config_path.write_text(PILOT_YAML.read_text(encoding="utf-8"), encoding="utf-8")
    with FakeTelegramApi(token=TOKEN) as api:
        config: Config = parse_config(
            config_path.read_text(encoding="utf-8"),
            str(config_path),
            env={"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api.url, "PILOT_TELEGRAM_CHAT": ALLOWED},
        )
        seed_pilot_days(sqlite_url, config, [1])
        engine = make_engine(sqlite_url)
        with session_scope(engine) as session:
            alert_id = session.scalars(select(Alert.id)).first()
        caplog.set_level(logging.INFO, logger="notify.bot")

        async def converse() -> None:
            app = build_application(engine, config)
            async with app:
                await app.start()
                assert app.updater is not None
                await app.updater.start_polling(poll_interval=0.0, timeout=1)
                api.push_callback(STRANGER, f"fb:{alert_id}:false_alarm", message_id=7)
                api.push_message(STRANGER, "/mute dumping")
                api.push_message(STRANGER, "/report techsnab")
                api.push_message(ALLOWED, "/status")  # answered: so the three before it were seen and dropped
                await asyncio.to_thread(api.wait_for, "sendMessage")
                await app.updater.stop()
                await app.stop()

        asyncio.run(converse())
        (reply,) = api.messages
        assert str(reply.params["chat_id"]) == ALLOWED
        assert api.calls_to("answerCallbackQuery") == []
        assert api.calls_to("editMessageReplyMarkup") == []
        with session_scope(engine) as session:
            assert session.scalars(select(Mute)).all() == []
            assert {a.feedback for a in session.scalars(select(Alert))} == {None}
        engine.dispose()
    assert caplog.text.count(f"from chat {STRANGER}: not on bot.allowed_chats") == 3
    assert TOKEN not in caplog.text
