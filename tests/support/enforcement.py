"""Enforcement scenarios: the rules' small world with contacts and a channel manager, delivery to the fake Telegram
API and the local SMTP server, and days the tests move through one by one.

    world = make_world(approval="off")               # tests/enforcement/conftest.py
    run_day(world, 1, {"shop": [Seen("TL-1001", price="9000")]})   # crawl → rules → enforcement → flush
"""

from __future__ import annotations

import copy
import datetime as dt
import gzip
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from enforcement.run import StepReport, daily_step
from notify.outbox import FlushReport, flush
from pricewatch.alerting import run_rules_and_queue
from storage.engine import session_scope
from storage.models import Alert, AlertStatus, Case, CrawlRun, Listing, Notice, Observation, Outbox
from storage.queries.evidence import attach_evidence
from storage.queries.observations import EvidenceRow, add_evidence
from tests.support.builders import Seen, World, day
from tests.support.rules_world import BASE

SHOP_EMAIL, SHOP_CHAT = "irina@shop.example", "5001"
SHOP2_EMAIL = "sales@shop2.example"
SELLER_EMAIL, MARKET_EMAIL = "s9@market.example", "partners@market.example"
MANAGER_CHAT, MANAGER_EMAIL = "7001", "anna@brand.example"
HEAD_OF_SALES = "head.sales@brand.example"
RRP_OK, DUMPING = "10000", "9000"  # TL-1001: RRP 10 000, threshold 9 500 (5 %)

# Minutes after the day's crawl (08:00 Moscow) at which the rules, enforcement and delivery run.
RULES_AT, ENFORCE_AT, FLUSH_AT = 10, 15, 20


CONTACTS: dict[str, list[dict[str, str]]] = {
    "shop": [{"person": "Ирина", "email": SHOP_EMAIL, "telegram": SHOP_CHAT}],
    "shop2": [{"email": SHOP2_EMAIL}],
    "market": [{"seller": "s-9", "email": SELLER_EMAIL}, {"email": MARKET_EMAIL}],
}


def sections(
    tmp_path: Path,
    *,
    telegram_url: str,
    smtp_port: int,
    contacts: Mapping[str, list[Any]] | None = None,
    **enforcement: Any,
) -> dict[str, Any]:
    """The rules world's config with contacts (`CONTACTS`, some replaced by `contacts`), a channel manager, a head
    of sales, and both channels configured."""
    data = copy.deepcopy(BASE)
    chosen = CONTACTS | dict(contacts or {})
    for d in data["distributors"]:
        d["contacts"] = chosen.get(d["code"], [])
    data["enforcement"] = {
        "managers": [{"name": "Анна", "telegram": MANAGER_CHAT, "email": MANAGER_EMAIL}],
        "escalation": {"email": [HEAD_OF_SALES]},
    } | enforcement
    data["notify"] = {
        "telegram": {"token": "${PW_TEST_BOT_TOKEN:-123456:enforcement-test-token}", "base_url": telegram_url},
        "email": {"host": "127.0.0.1", "port": smtp_port, "security": "none", "sender": "partners@brand.example"},
        "journal_dir": str(tmp_path / "journal"),
    }
    data["evidence"] = {"dir": str(tmp_path / "evidence")}
    return data


def moment(n: int, minutes: int) -> dt.datetime:
    return day(n) + dt.timedelta(minutes=minutes)


def run_day(
    world: World, n: int, offers: Mapping[str, Sequence[Seen]], *, deliver: bool = True
) -> tuple[StepReport, FlushReport | None]:
    """Day `n`: each distributor's crawl at 08:00 Moscow time, then the rules, enforcement and (`deliver`) a flush."""
    for site, seen in offers.items():
        world.crawl(site, day(n), seen)
    with session_scope(world.engine) as session:
        run_rules_and_queue(session, world.config, now=moment(n, RULES_AT))
    with session_scope(world.engine) as session:
        report = daily_step(session, world.config, now=moment(n, ENFORCE_AT))
    delivered = flush(world.engine, world.config, now=moment(n, FLUSH_AT)) if deliver else None
    return report, delivered


def cases(world: World) -> list[Case]:
    with session_scope(world.engine) as session:
        return list(session.scalars(select(Case).order_by(Case.id)))


def notices(world: World) -> list[tuple[int, str, str, str]]:
    """(case id, kind, channel, recipient) of every notice, in the order issued."""
    with session_scope(world.engine) as session:
        rows = session.execute(
            select(Notice.case_id, Notice.kind, Notice.channel, Notice.recipient).order_by(Notice.id)
        ).tuples()
        return [(case_id, kind.value, channel, recipient) for case_id, kind, channel, recipient in rows]


def outbox(world: World) -> list[Outbox]:
    with session_scope(world.engine) as session:
        return list(session.scalars(select(Outbox).order_by(Outbox.id)))


def open_alert_ids(world: World, rule: str = "dumping") -> list[int]:
    with session_scope(world.engine) as session:
        query = select(Alert.id).where(Alert.rule == rule, Alert.status == AlertStatus.OPEN).order_by(Alert.id)
        return list(session.scalars(query))


def give_evidence(world: World, alert_id: int, folder: Path, page: bytes) -> str:
    """A saved page for the alert, stored as the evidence capture stores one; returns its SHA-256."""
    content = gzip.compress(page, mtime=0)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"alert-{alert_id}.html.gz").write_bytes(content)
    sha = hashlib.sha256(content).hexdigest()
    with session_scope(world.engine) as session:
        (html_id,) = add_evidence(
            session,
            [EvidenceRow("html", "https://shop.test/TL-1001/", day(1), sha, f"alert-{alert_id}.html.gz", len(content))],
        )
        attach_evidence(session, [alert_id], html_id, None)
    return sha


def move_crawl(engine: Engine, run_key: str, at: dt.datetime) -> None:
    """Put a real crawl's run, observations and listings' sightings at `at` (the tests' clock), as if it ran then."""
    with session_scope(engine) as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.run_key == run_key)).one()
        started, shift = run.started_at, at - run.started_at
        run.started_at = at
        run.finished_at = run.finished_at + shift if run.finished_at else None
        observations = list(session.scalars(select(Observation).where(Observation.crawl_run_id == run.id)))
        for observation in observations:
            observation.observed_at += shift
        seen = select(Listing).where(Listing.id.in_([o.listing_id for o in observations]))
        for listing in session.scalars(seen):
            if listing.first_seen_at >= started:  # first seen by this crawl
                listing.first_seen_at += shift
            listing.last_seen_at = at
