"""Secrets stay secret: a planted database password, bot token and SMTP password appear on no command line `ps`
shows while crawls run, in no log, database row, report, export, evidence file or message; and redaction masks whole
secret values only, never garbling other text.

The run is an admin's: the secrets in the environment (DATABASE_URL with its password, TELEGRAM_BOT_TOKEN,
SMTP_PASSWORD), `pricewatch -v crawl --log-dir` and `pricewatch -v run-daily` over the techsnab pilot site (one
product page slow, so the crawl process is certainly seen), `config check --online`, then the reports and the export.
"""

from __future__ import annotations

import getpass
import gzip
import io
import shutil
import subprocess
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import pytest
from sqlalchemy.engine import make_url

from fixtures.pilot import scenario
from fixtures.pilot.files import PRICE_LIST_CSV
from fixtures.pilot.scenario import TECHSNAB
from fixtures.sites import PilotSites
from fixtures.sites.modes import Mode
from fixtures.smtp import FakeSmtpServer
from fixtures.telegram_api import FakeTelegramApi
from notify.redact import MASK, MIN_SECRET_CHARS, redact
from storage.engine import make_engine
from tests.support.reliability import Ran, every_stored_text, pricewatch, quick_config
from tests.support.services import require

DB_PASSWORD = "planted-db-pa55word-DoNotLeak"
TOKEN = "7093318257:AAF-planted-ps-Bot-Token-DoNotLeak_77"
SMTP_USER, SMTP_PASSWORD = "pricewatch", "planted-smtp-pa55-ps-DoNotLeak"
SECRETS = (DB_PASSWORD, TOKEN, TOKEN.split(":")[1], SMTP_PASSWORD)


def test_redaction_masks_whole_secrets_only_and_leaves_other_text_alone() -> None:
    error = "SMTPAuthenticationError: (535, b'5.7.8 Authentication credentials invalid')"
    assert redact(error, ["e"]) == error  # a 1-letter password is not searched for at all
    assert redact(error, ["a" * (MIN_SECRET_CHARS - 1)]) == error
    assert redact(f"login as ops with {SMTP_PASSWORD} refused", [SMTP_PASSWORD]) == f"login as ops with {MASK} refused"


def test_redaction_is_one_pass_longest_secret_first() -> None:
    # A secret inside a longer one, and one that spells the mask's own text: neither leaves a piece behind.
    text = "token=abcdefgh-ijklmnop redacted-word"
    assert redact(text, ["abcdefgh", "abcdefgh-ijklmnop", "redacted"]) == f"token={MASK} {MASK}-word"


class CommandLines:
    """Every distinct command line `ps` shows while the block runs (sampled every 20 ms on a thread)."""

    def __init__(self) -> None:
        self.lines: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            shown = subprocess.run(["ps", "-eww", "-o", "args="], capture_output=True, text=True, check=True)
            self.lines.update(line.strip() for line in shown.stdout.splitlines())
            time.sleep(0.02)

    def __enter__(self) -> CommandLines:
        self._thread.start()
        return self

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(10)


@dataclass
class Left:
    """What the run left that a person or another program can read, by where it was found."""

    places: dict[str, str] = field(default_factory=dict)

    def add(self, place: str, text: str) -> None:
        self.places[place] = self.places.get(place, "") + "\n" + text

    def ran(self, name: str, outcome: Ran) -> None:
        self.add(f"output of {name}", outcome.out + outcome.err)


def _with_password(url: str) -> str:
    """The test PostgreSQL's URL with a user and the planted password (it trusts 127.0.0.1: any password works)."""
    parsed = make_url(url)
    parsed = parsed.set(username=parsed.username or getpass.getuser(), password=DB_PASSWORD)
    return parsed.render_as_string(hide_password=False)


def _files_text(folder: Path) -> str:
    """Every file under `folder` as text: gzip members unpacked, workbooks' XML parts read."""
    parts: list[str] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        content = path.read_bytes()
        if path.suffix == ".gz":
            content = gzip.decompress(content)
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(io.BytesIO(content)) as book:
                content = b"\n".join(book.read(name) for name in book.namelist())
        parts.append(content.decode("latin-1"))
    return "\n".join(parts)


def _pdf_text(path: Path) -> str:
    require(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils)")
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout


def _env(pilot: PilotSites, db_url: str, api: FakeTelegramApi, smtp: FakeSmtpServer) -> dict[str, str]:
    return {
        **pilot.env(),
        "DATABASE_URL": db_url,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api.url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_SECURITY": "none",
        "SMTP_USER": SMTP_USER,
        "SMTP_PASSWORD": SMTP_PASSWORD,
    }


def _reports(folder: Path, config: Path, env: dict[str, str], left: Left) -> None:
    folder.mkdir()
    for name, args in {
        "violations.csv": ["report", "violations", "--format", "csv"],
        "violations.xlsx": ["report", "violations", "--format", "xlsx"],
        "violations.pdf": ["report", "violations", "--format", "pdf"],
        "offers.csv": ["offers", "export"],
    }.items():
        made = pricewatch(*args, "--out", str(folder / name), "--config", str(config), env=env)
        assert made.code == 0, made.err
        left.ran(name, made)
    left.add("reports and export", _files_text(folder))
    left.add("PDF text", _pdf_text(folder / "violations.pdf"))


def _run_as_an_admin(url: str, config: Path, pilot: PilotSites, left: Left) -> None:
    """Import, crawl, run the day and rehearse it, with the secrets in the environment and `ps` watched; then the
    reports. Every command must succeed and the messages go out: the token and the password were used."""
    folder = config.parent
    with FakeTelegramApi(token=TOKEN) as api, FakeSmtpServer(credentials=(SMTP_USER, SMTP_PASSWORD)) as smtp:
        env = _env(pilot, url, api, smtp)
        imported = pricewatch("catalog", "import", str(PRICE_LIST_CSV), "--valid-from", "2026-01-01", env=env)
        assert imported.code == 0, imported.err
        with CommandLines() as ps:
            crawl = ["-v", "crawl", "--config", str(config), "--log-dir", str(folder / "crawl-logs")]
            ran = {"crawl": pricewatch(*crawl, env=env)}
            ran["run-daily"] = pricewatch("-v", "run-daily", "--config", str(config), env=env)
        ran["config check"] = pricewatch("-v", "config", "check", "--online", "--config", str(config), env=env)
        _reports(folder / "reports", config, env, left)
        left.add("Telegram messages", "\n".join(c.params["text"] for c in api.messages))
        left.add("emails", "\n".join(m.as_string() for m in smtp.messages))
        assert api.messages
        assert smtp.messages
    for name, outcome in ran.items():
        assert outcome.code == 0, f"{name}: {outcome.err}"
        left.ran(name, outcome)
    assert any("crawler.crawl_process" in line for line in ps.lines), "no crawl process was seen"
    left.add("ps during the crawls", "\n".join(sorted(ps.lines)))


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_planted_secrets_show_on_no_command_line_log_row_report_or_evidence_file(
    db_url: str, pilot: PilotSites, tmp_path: Path
) -> None:
    url = _with_password(db_url)
    config = quick_config(tmp_path, enabled=[TECHSNAB], timeout=20)
    left = Left()
    # One product page answers after 2 s: the crawl process is alive while `ps` is sampled.
    pilot.set_mode(TECHSNAB, Mode.SLOW, path=scenario.offer_for(TECHSNAB, "TL-4003").path, delay=2)
    _run_as_an_admin(url, config, pilot, left)
    left.add("crawl logs", _files_text(tmp_path / "crawl-logs"))
    left.add("evidence files", _files_text(tmp_path / "evidence"))
    engine = make_engine(url)
    left.add("every text column of the database", every_stored_text(engine))
    engine.dispose()

    assert MASK in left.places["output of run-daily"]  # URLs with the token were logged, masked
    assert any(p.suffix == ".gz" for p in (tmp_path / "evidence").rglob("*"))  # evidence was kept
    leaks = [(place, secret) for place, text in left.places.items() for secret in SECRETS if secret in text]
    assert leaks == []
