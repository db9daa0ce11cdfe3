"""The daily flow: crawl → rules → evidence → enforcement → delivery and digest, one run at a time across hosts."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from crawler.config import Config
from pricewatch.crawls.local import CrawlProgress, CrawlSummary
from storage.engine import make_engine, resolve_db_url, session_scope
from storage.locks import LockBusy, exclusive
from storage.queries import daily as daily_queries

log = logging.getLogger("pricewatch.daily")
LOCK_NAME = "run-daily"
EXIT_OK, EXIT_FAILED, EXIT_BUSY = 0, 1, 3


class DeliveryRefused(RuntimeError):
    """A provider refused delivery for a reason retries cannot fix (the message names each route and why)."""


@dataclass
class StepOutcome:
    name: str
    ok: bool
    detail: str


@dataclass
class DailyResult:
    """What one daily run did; `exit_code` is what `pricewatch run-daily` exits with."""

    daily_run_id: int | None = None
    rules_run_id: int | None = None
    skipped_reason: str | None = None
    steps: list[StepOutcome] = field(default_factory=list)
    crawls: list[CrawlSummary] = field(default_factory=list)
    alerts: dict[str, dict[str, int]] = field(default_factory=dict)  # rule → opened/ongoing/resolved
    delivery: dict[str, Any] = field(default_factory=dict)

    @property
    def failures(self) -> list[str]:
        return [f"{s.name}: {s.detail}" for s in self.steps if not s.ok]

    @property
    def exit_code(self) -> int:
        if self.skipped_reason:
            return EXIT_BUSY
        return EXIT_FAILED if self.failures else EXIT_OK

    def headline(self) -> str:
        if self.skipped_reason:
            return f"skipped: {self.skipped_reason}"
        crawled = sum(1 for c in self.crawls if not c.failed)
        opened = sum(c.get("opened", 0) for c in self.alerts.values())
        resolved = sum(c.get("resolved", 0) for c in self.alerts.values())
        state = "failed: " + "; ".join(self.failures) if self.failures else "ok"
        return (
            f"run {self.daily_run_id}: {crawled}/{len(self.crawls)} crawls finished, "
            f"{opened} alerts opened, {resolved} resolved, {self.delivery.get('sent', 0)} messages sent — {state}"
        )

    def summary(self) -> dict[str, Any]:
        return {
            "steps": [s.__dict__ for s in self.steps],
            "crawls": [c.row() for c in self.crawls],
            "alerts": self.alerts,
            "delivery": self.delivery,
        }


class _Flow:
    def __init__(self, config: Config, config_path: str, engine: Engine, db_url: str, result: DailyResult) -> None:
        self.config, self.config_path, self.engine, self.db_url, self.result = (
            config,
            config_path,
            engine,
            db_url,
            result,
        )

    def step(self, name: str, action: Callable[[], str]) -> bool:
        """Run one step; a failure is recorded (and later reported in the digest), never raised."""
        try:
            detail = action()
        except Exception as exc:
            log.error("step %s failed: %s", name, exc)
            log.debug("%s", traceback.format_exc())
            detail = str(exc) if isinstance(exc, DeliveryRefused) else f"{type(exc).__name__}: {exc}"
            self.result.steps.append(StepOutcome(name, False, detail))
            return False
        self.result.steps.append(StepOutcome(name, True, detail))
        return True

    def prepare(self) -> str:
        from storage.queries.crawl_runs import mark_stale_runs_failed
        from storage.queries.sellers import sync_distributors

        with session_scope(self.engine) as session:
            sync_distributors(session, self.config)
            # A crawl may run up to its time limit; only past that (or with its process gone) is it stale.
            limit = dt.timedelta(minutes=self.config.schedule.crawl_time_limit_minutes + 10)
            stale = mark_stale_runs_failed(session, max_age=limit)
        return f"{len(stale)} stale crawl runs marked failed" if stale else "distributors in sync"

    def crawl(self, codes: Sequence[str], on_progress: Callable[[CrawlProgress], None] | None) -> str:
        if self.config.crawl.backend == "scrapyd":
            from pricewatch.crawls.scrapyd import run_crawls_on_scrapyd

            self.result.crawls = run_crawls_on_scrapyd(
                self.config, codes, db_url=self.db_url, daily_run_id=self.result.daily_run_id, on_progress=on_progress
            )
        else:
            from pricewatch.crawls.local import run_crawls

            self.result.crawls = run_crawls(
                self.config,
                self.config_path,
                codes,
                db_url=self.db_url,
                daily_run_id=self.result.daily_run_id,
                on_progress=on_progress,
            )
        failed = [c for c in self.result.crawls if c.failed]
        if failed:
            raise RuntimeError(", ".join(f"{c.distributor} ({c.reason})" for c in failed))
        verdicts = ", ".join(f"{c.distributor}: {c.health or c.status}" for c in self.result.crawls)
        return verdicts or "no distributor to crawl"

    def rules(self) -> str:
        from pricewatch.alerting import run_rules_and_queue

        with session_scope(self.engine) as session:
            summary = run_rules_and_queue(session, self.config)
        self.result.rules_run_id = summary.rules_run_id
        self.result.alerts = {
            rule: {kind.value: n for kind, n in counts.items()} for rule, counts in summary.counts.items()
        }
        return f"rules run {summary.rules_run_id}: {summary.queued} messages queued"

    def evidence(self) -> str:
        from reports.evidence import capture_for_new_alerts, prune_evidence

        captures = capture_for_new_alerts(self.engine, self.config)
        pruned = prune_evidence(self.engine, self.config)
        return f"{len(captures)} pages captured; {pruned.files} old evidence files pruned"

    def enforcement(self) -> str:
        from enforcement.run import daily_step
        from storage.models import utcnow

        with session_scope(self.engine) as session:
            return daily_step(session, self.config, now=utcnow()).line()

    def deliver(self) -> str:
        from notify.outbox import flush
        from notify.report_files import digest_attachment

        report = flush(
            self.engine,
            self.config,
            digest=True,
            attachment=digest_attachment(self.engine, self.config),
            notes=self.result.failures,
        )
        self.result.delivery = report.summary()
        waiting = sum(report.would_send.values())
        not_configured = f", {waiting} waiting for a channel to be configured" if waiting else ""
        if report.refusals:
            # Loud: a refused token, login or chat fails the run, naming each route and its reason on one line.
            raise DeliveryRefused("; ".join(report.refusal_lines()))
        if report.dead:
            raise RuntimeError(f"{report.dead} messages could not be delivered (see `pricewatch notify flush`)")
        return f"{report.sent} sent, {report.retried} to retry{not_configured}"


def run_daily(
    config: Config,
    config_path: str,
    db_url: str | None = None,
    *,
    distributors: Sequence[str] | None = None,
    on_progress: Callable[[CrawlProgress], None] | None = None,
) -> DailyResult:
    """Crawl, evaluate, capture evidence, deliver; skipped (exit 3) when another run holds the lock."""
    url = resolve_db_url(db_url)
    engine = make_engine(url)
    result = DailyResult()
    try:
        with exclusive(engine, LOCK_NAME):
            with session_scope(engine) as session:
                died = daily_queries.fail_abandoned_runs(session)
                result.daily_run_id = daily_queries.start_daily_run(session, socket.gethostname(), os.getpid())
            if died:
                log.warning("daily runs %s had died; taken over", died)
            flow = _Flow(config, config_path, engine, url, result)
            if flow.step("prepare", flow.prepare):
                flow.step("crawl", lambda: flow.crawl(distributors or (), on_progress))
                # Rules run even after a failed crawl: that failure must reach the admin as a health alert.
                if flow.step("rules", flow.rules):
                    flow.step("evidence", flow.evidence)
                    # Cases and notices from the alerts just updated, with their evidence captured.
                    flow.step("enforcement", flow.enforcement)
            flow.step("deliver", flow.deliver)
            with session_scope(engine) as session:
                daily_queries.finish_daily_run(
                    session, result.daily_run_id, ok=not result.failures, summary=result.summary()
                )
    except LockBusy as busy:
        result.skipped_reason = f"another run-daily holds the lock ({busy.holder})"
    finally:
        engine.dispose()
    # A run that did all it should is news, not a warning; a failed or skipped one is a warning.
    log.log(logging.INFO if result.exit_code == 0 else logging.WARNING, "run-daily %s", result.headline())
    return result
