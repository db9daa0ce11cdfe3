"""Two weeks on the pilot sites, crawled for real, on a clock the test moves (issue 18's "done when").

Three distributors: marketplace seller s-2040 fixes TL-2002 after its first notice; klimatprof fixes TL-4002 only
after the second notice and the escalation; techsnab fixes TL-1003 after its first notice, then relapses and fixes
again. The grey seller s-7777 (parallel import) has no contact: its case waits. The channel manager approves each
first notice with the Telegram button. The sites are crawled on the days their pages change, and all of them on the
Monday of the second week and on the last day; every day runs the rules, the enforcement step and a flush.
The exact cases, notices, escalation and compliance figures come out, in the report (XLSX and PDF's HTML) and in the
BI view.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from sqlalchemy import Engine, select, text

from crawler.config import Config, load_config
from enforcement.run import daily_step
from fixtures.pilot.scenario import KLIMATPROF, MARKETPLACE, SITES, TECHSNAB, TWO_WEEKS
from fixtures.sites import PilotSites
from fixtures.smtp import FakeSmtpServer
from fixtures.telegram_api import FakeTelegramApi
from notify import bot_commands
from notify.outbox import flush
from pricewatch.alerting import run_rules_and_queue
from pricewatch.crawls.local import run_crawls
from reports.data import collect_report
from reports.labels import texts_for
from reports.pdf import render_html
from reports.xlsx import render_xlsx
from storage.catalog_import import import_catalog
from storage.engine import make_engine, session_scope
from storage.models import Case, CaseStatus, Notice
from storage.queries.cases import list_cases, notices
from storage.queries.compliance import compliance
from tests.support.enforcement import move_crawl
from tests.support.services import REPO

TOKEN = "424242:two-weeks-test-token-aaaaaaaaaaaa"
MONDAY = dt.datetime(2026, 11, 16, 5, 0, tzinfo=dt.UTC)  # day 1, 08:00 in Moscow
MANAGER_CHAT, MANAGER_EMAIL, HEAD_OF_SALES = "100200300", "a.petrova@termoline.example", "head@termoline.example"
TECHSNAB_EMAIL, TECHSNAB_CHAT = "partners@techsnab.example", "300100"
KLIMATPROF_EMAIL, S2040_EMAIL = "sales@klimatprof.example", "s2040@klimat-market.example"
# The sites crawled on each day: those whose pages change, and every site on days 1, 8 and 14.
CRAWLS: dict[int, tuple[str, ...]] = {
    1: SITES,
    2: (TECHSNAB, KLIMATPROF),
    3: (MARKETPLACE,),
    5: (TECHSNAB,),
    7: (TECHSNAB,),
    8: SITES,
    12: (KLIMATPROF,),
    14: SITES,
}


def at(day: int, hours: float = 0, minutes: int = 0) -> dt.datetime:
    return MONDAY + dt.timedelta(days=day - 1, hours=hours, minutes=minutes)


def _config_file(tmp_path: Path) -> Path:
    """pilot.yaml with the distributors' contacts, the channel manager and the head of sales."""
    data = yaml.safe_load((REPO / "pilot.yaml").read_text(encoding="utf-8"))
    contacts = {
        TECHSNAB: [{"person": "Ирина Смирнова", "email": TECHSNAB_EMAIL, "telegram": TECHSNAB_CHAT}],
        KLIMATPROF: [{"email": KLIMATPROF_EMAIL}],
        MARKETPLACE: [{"seller": "s-2040", "email": S2040_EMAIL}],
    }
    # The scenario's three sites only: «Витрина» has no part in the fortnight.
    data["distributors"] = [d for d in data["distributors"] if d["code"] in contacts]
    data["sellers"] = [s for s in data["sellers"] if s["marketplace"] in contacts]
    for distributor in data["distributors"]:
        distributor["contacts"] = contacts[distributor["code"]]
    data["routes"] = []  # the alerts' own messages are tested elsewhere; here only enforcement speaks
    data["enforcement"] = {
        "managers": [{"name": "Анна Петрова", "telegram": MANAGER_CHAT, "email": MANAGER_EMAIL}],
        "escalation": {"email": [HEAD_OF_SALES]},
    }
    data["notify"]["journal_dir"] = str(tmp_path / "journal")
    path = tmp_path / "two-weeks.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


class Fortnight:
    """The days of the scenario, one after the other."""

    def __init__(self, engine: Engine, config: Config, config_path: Path, db_url: str, sites: PilotSites) -> None:
        self.engine, self.config, self.config_path, self.db_url, self.sites = engine, config, config_path, db_url, sites

    def crawl(self, day: int) -> None:
        self.sites.set_day(day)
        for site in CRAWLS.get(day, ()):
            (summary,) = run_crawls(self.config, self.config_path, [site], db_url=self.db_url)
            assert (summary.status, summary.health) == ("finished", "ok"), summary.reason
            move_crawl(self.engine, summary.run_key, at(day, minutes=SITES.index(site)))

    def run(self, day: int) -> None:
        """The crawls, then the daily run's rules, enforcement and delivery."""
        self.crawl(day)
        with session_scope(self.engine) as session:
            run_rules_and_queue(session, self.config, now=at(day, minutes=10))
        with session_scope(self.engine) as session:
            daily_step(session, self.config, now=at(day, minutes=15))
        flush(self.engine, self.config, now=at(day, minutes=20))

    def approve_waiting(self, day: int) -> list[int]:
        """At 10:00 the manager presses every approval button of the day; the notices go at once."""
        with session_scope(self.engine) as session:
            waiting = [v.case.id for v in list_cases(session, open_only=True) if v.case.approval_requested_at]
            pressed = [
                case_id
                for case_id in waiting
                if bot_commands.approve_case(
                    session, self.config, f"case:{case_id}:approve", "@anna", at(day, 2)
                ).startswith("Одобрено")
            ]
        flush(self.engine, self.config, now=at(day, 2))
        return pressed


def _who(engine: Engine) -> dict[int, str]:
    with session_scope(engine) as session:
        return {v.case.id: f"{v.distributor_code}/{v.seller_code}" for v in list_cases(session)}


NOV = {n: dt.date(2026, 11, n) for n in range(1, 31)}
TS, KP, S2040, S7777 = "techsnab/techsnab", "klimatprof/klimatprof", "marketplace/s-2040", "marketplace/s-7777"
FIXED, DETECTED = CaseStatus.FIXED, CaseStatus.DETECTED
# (who, status, opened, fixed, hours to fix, relapse no., ladder step reached)
CASES = [
    (TS, FIXED, NOV[16], NOV[17], Decimal("24.00"), 0, 1),  # fixed the day after its first notice
    (S2040, FIXED, NOV[16], NOV[18], Decimal("48.00"), 0, 1),  # fixed two days after its first notice
    (S7777, DETECTED, NOV[16], None, None, 0, 0),  # the grey seller: no contact, nothing sent
    (KP, FIXED, NOV[17], NOV[27], Decimal("240.00"), 0, 3),  # fixed after the escalation
    (TS, FIXED, NOV[20], NOV[22], Decimal("48.00"), 1, 1),  # techsnab's relapse, fixed after its notice
]
# (who, notice, channel, recipient, issued on); every one delivered.
NOTICES = [
    (TS, "approval", "telegram", MANAGER_CHAT, NOV[16]),
    (TS, "approval", "email", MANAGER_EMAIL, NOV[16]),
    (TS, "first", "telegram", TECHSNAB_CHAT, NOV[16]),
    (TS, "first", "email", TECHSNAB_EMAIL, NOV[16]),
    (S2040, "approval", "telegram", MANAGER_CHAT, NOV[16]),
    (S2040, "approval", "email", MANAGER_EMAIL, NOV[16]),
    (S2040, "first", "email", S2040_EMAIL, NOV[16]),
    (KP, "approval", "telegram", MANAGER_CHAT, NOV[17]),
    (KP, "approval", "email", MANAGER_EMAIL, NOV[17]),
    (KP, "first", "email", KLIMATPROF_EMAIL, NOV[17]),
    (KP, "second", "email", KLIMATPROF_EMAIL, NOV[21]),  # the first notice's deadline was the 20th
    (KP, "escalation", "telegram", MANAGER_CHAT, NOV[25]),  # the second's was the 24th
    (KP, "escalation", "email", MANAGER_EMAIL, NOV[25]),
    (KP, "escalation", "email", HEAD_OF_SALES, NOV[25]),
    (TS, "first", "telegram", TECHSNAB_CHAT, NOV[20]),  # the relapse keeps the approval: no new request
    (TS, "first", "email", TECHSNAB_EMAIL, NOV[20]),
]
# (distributor, period start): watched, compliant, share, violations opened, median and p90 hours to fix, notices
# sent, relapses. Watched: the matched listings priced against the RRP (techsnab's TL-2005 is delisted on day 2, so
# the second week watches 21 of its 22); klimatprof ends week 1 with TL-4002 still below the threshold.
WEEKS = {
    ("klimatprof", NOV[16]): (22, 21, Decimal("0.9545"), 1, None, None, 2, 0),
    ("klimatprof", NOV[23]): (22, 22, Decimal("1.0000"), 0, Decimal("240.00"), Decimal("240.00"), 0, 0),
    ("marketplace", NOV[16]): (20, 20, Decimal("1.0000"), 2, Decimal("48.00"), Decimal("48.00"), 1, 0),
    ("marketplace", NOV[23]): (20, 20, Decimal("1.0000"), 0, None, None, 0, 0),
    ("techsnab", NOV[16]): (22, 22, Decimal("1.0000"), 2, Decimal("36.00"), Decimal("45.60"), 2, 1),
    ("techsnab", NOV[23]): (21, 21, Decimal("1.0000"), 0, None, None, 0, 0),
}
MONTH = {
    ("klimatprof", NOV[1]): (22, 22, Decimal("1.0000"), 1, Decimal("240.00"), Decimal("240.00"), 2, 0),
    ("marketplace", NOV[1]): (20, 20, Decimal("1.0000"), 2, Decimal("48.00"), Decimal("48.00"), 1, 0),
    ("techsnab", NOV[1]): (22, 22, Decimal("1.0000"), 2, Decimal("36.00"), Decimal("45.60"), 2, 1),
}


def _figures(rows: list[Any]) -> dict[tuple[str, dt.date], tuple[Any, ...]]:
    return {
        (r.distributor_code, r.period_start): (
            r.watched_listings,
            r.compliant_listings,
            r.share,
            r.violations_opened,
            r.median_hours_to_fix,
            r.p90_hours_to_fix,
            r.notices_sent,
            r.repeat_offences,
        )
        for r in rows
    }


def _check_cases_and_notices(engine: Engine, approved: dict[int, list[int]]) -> None:
    who = _who(engine)
    assert {day: sorted(who[c] for c in ids) for day, ids in approved.items() if ids} == {1: [S2040, TS], 2: [KP]}
    with session_scope(engine) as session:
        cases = [
            (who[c.id], c.status, c.opened_on, c.fixed_on, c.hours_to_fix, c.repeat_number, c.step)
            for c in session.scalars(select(Case))
        ]
        sent = [
            (who[n.notice.case_id], n.notice.kind.value, n.notice.channel, n.notice.recipient, n.notice.issued_on)
            for n in notices(session)
            if n.delivery == "sent"
        ]
        relapse = session.scalars(select(Case).where(Case.repeat_number == 1)).one()
        relapse_text = session.scalars(
            select(Notice.text).where(Notice.case_id == relapse.id, Notice.channel == "email")
        ).one()
        escalation = session.scalars(
            select(Notice).where(Notice.kind == "escalation", Notice.recipient == HEAD_OF_SALES)
        ).one()
    assert sorted(cases, key=lambda c: (c[2], c[0])) == sorted(CASES, key=lambda c: (c[2], c[0]))
    assert sorted(sent, key=lambda n: (n[4], n[0], n[1], n[2], n[3])) == sorted(
        NOTICES, key=lambda n: (n[4], n[0], n[1], n[2], n[3])
    )
    assert relapse.repeat_of_id == min(c for c, name in who.items() if name == TS)
    assert "снова видим отклонение" in relapse_text
    assert escalation.subject is not None
    assert escalation.subject.startswith("pricewatch: эскалация обращения")
    assert "Уведомления: первое 17.11.2026, повторное 21.11.2026" in escalation.text


def _check_delivery(telegram: FakeTelegramApi, smtp: FakeSmtpServer) -> None:
    """Each notice went exactly once: a message per recipient and notice, nothing twice."""
    expected = Counter(to for _, _, _, to, _ in NOTICES)
    got = Counter(str(c.params["chat_id"]) for c in telegram.messages) + Counter(m["To"] for m in smtp.messages)
    assert got == expected
    assert max(Counter(m["Message-ID"] for m in smtp.messages).values()) == 1


def _check_compliance(engine: Engine, config: Config) -> None:
    with session_scope(engine) as session:
        weeks = compliance(session, start=NOV[16], end=NOV[29], period="week")
        month = compliance(session, start=NOV[1], end=NOV[30], period="month")
        view = session.execute(
            text(
                "SELECT period, distributor_code, period_start, watched_listings, compliant_listings, share, "
                "violations_opened, median_hours_to_fix, p90_hours_to_fix, notices_sent, repeat_offences "
                "FROM v_compliance"
            )
        ).all()
    assert _figures(weeks) == WEEKS
    assert _figures(month) == MONTH
    bi = {(p, code, start): tuple(rest) for p, code, start, *rest in view}
    assert bi == {("week", *k): v for k, v in WEEKS.items()} | {("month", *k): v for k, v in MONTH.items()}


def _check_report(engine: Engine, config: Config, tmp_path: Path) -> None:
    """The report of the fortnight shows the same figures: the XLSX's compliance sheet and the PDF's table."""
    data = collect_report(engine, config, date_from=NOV[16], date_to=NOV[29])
    texts = texts_for(config)
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(data, texts, tmp_path)), read_only=True)
    sheet = book["Соблюдение РРЦ"]
    rows = {
        (r[0], r[1].date()): tuple(r[2:10])
        for r in sheet.iter_rows(min_row=1, values_only=True)
        if r and isinstance(r[1], dt.datetime)
    }

    def xlsx(value: Any) -> Any:
        return None if value is None else float(value)

    # The month's row counts the report's period (the 16th to the 29th): here, the whole scenario.
    assert rows == {k: tuple(xlsx(x) for x in v) for k, v in (WEEKS | MONTH).items()}
    html = render_html(data, texts, tmp_path)
    assert "Соблюдение рекомендованных цен" in html
    assert '<td class="num">21 / 22</td><td class="num">95,50 %</td>' in html
    assert '<td class="num">36,0</td>' in html
    assert '<td class="num">45,6</td>' in html


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_weeks_of_cases_notices_escalation_and_compliance(
    db_url: str, pilot: PilotSites, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeTelegramApi(token=TOKEN) as telegram, FakeSmtpServer() as smtp:
        env = pilot.env() | {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": telegram.url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp.port),
            "SMTP_SECURITY": "none",
            "PRICEWATCH_EVIDENCE_DIR": str(tmp_path / "evidence"),
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        config_path = _config_file(tmp_path)
        config = load_config(config_path)
        engine = make_engine(db_url)
        with session_scope(engine) as session:
            import_catalog(session, REPO / "fixtures/pilot/price_list.csv", valid_from=dt.date(2026, 1, 1))
        days = Fortnight(engine, config, config_path, db_url, pilot)
        approved = {}
        for day in TWO_WEEKS:
            days.run(day)
            approved[day] = days.approve_waiting(day)
        _check_cases_and_notices(engine, approved)
        _check_delivery(telegram, smtp)
        _check_compliance(engine, config)
        _check_report(engine, config, tmp_path)
        engine.dispose()
