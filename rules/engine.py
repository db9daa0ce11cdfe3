"""The alert lifecycle: findings become opened, ongoing and resolved alerts, and each change an alert event.

One rules run works in the caller's transaction (killed part-way, it leaves nothing) under a lock (two at once
cannot open an alert twice), and is idempotent: over the same crawl runs a second run opens and resolves nothing.
The run returns its events; the caller queues them to the outbox in the same transaction (pricewatch/alerting.py).
Degraded means quiet: for a distributor whose latest run is degraded or failed, every rule but crawler health is
held (`OnBadRun.HOLD`): it opens, continues and resolves nothing there, and its open alerts stay open.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from crawler.config import Config
from rules import (
    assortment_gap,
    crawler_health,
    dumping,
    low_stock,
    parallel_import,
    platform_discount,
    price_move,
    regional_shortage,
    stock_out,
    unlisted_storefront,
)
from rules.base import Finding, OnBadRun, Rule, RuleContext, RuleResult
from storage.models import Alert, AlertEvent, AlertStatus, EventKind, RulesRun, utcnow
from storage.queries.rules import DistributorRun, begin_rules_run, last_evaluated_runs, latest_runs, open_alerts

RULES: tuple[Rule, ...] = (
    crawler_health.RULE,
    dumping.RULE,
    platform_discount.RULE,
    stock_out.RULE,
    low_stock.RULE,
    regional_shortage.RULE,
    parallel_import.RULE,
    unlisted_storefront.RULE,
    price_move.RULE,
    assortment_gap.RULE,
)
RULE_NAMES = tuple(rule.name for rule in RULES)


@dataclass
class RulesRunSummary:
    rules_run_id: int
    counts: dict[str, Counter[EventKind]] = field(default_factory=dict)
    queued: int = 0  # outbox rows, filled in by whoever queued the events
    new_crawl_runs: list[int] = field(default_factory=list)
    events: list[tuple[Alert, AlertEvent]] = field(default_factory=list)  # in the order they happened

    def total(self, kind: EventKind) -> int:
        return sum(c[kind] for c in self.counts.values())


class _Lifecycle:
    """Turns each rule's result into alert changes; the events are written together at the end."""

    def __init__(self, now: dt.datetime, runs: dict[int, DistributorRun], fresh: set[int]) -> None:
        self.now = now
        self.runs = runs
        self.fresh = fresh
        self.changes: list[tuple[Alert, EventKind]] = []

    def _has_news(self, distributor_id: int | None) -> bool:
        """New crawl data since the last rules run, for the alert's distributor (any, for a regional one)."""
        return bool(self.fresh) if distributor_id is None else distributor_id in self.fresh

    def apply(self, rule: Rule, result: RuleResult, open_now: dict[str, Alert]) -> None:
        held = {d for d, run in self.runs.items() if rule.on(run.verdict) == OnBadRun.HOLD}
        found = self._apply_findings(rule, result.findings, open_now, held)
        self._resolve_missing(open_now, found | result.undecided, held)

    def _apply_findings(
        self, rule: Rule, findings: Iterable[Finding], open_now: dict[str, Alert], held: set[int]
    ) -> set[str]:
        """Open or continue an alert per finding, except on held distributors; returns the fingerprints found."""
        found: set[str] = set()
        for finding in findings:
            if finding.fingerprint in found:
                raise ValueError(f"rule {rule.name} found {finding.fingerprint} twice")
            if finding.distributor_id in held:
                continue
            found.add(finding.fingerprint)
            alert = open_now.get(finding.fingerprint)
            if alert is None:
                self._open(finding)
            elif self._has_news(finding.distributor_id):
                self._continue(alert, finding)
        return found

    def _resolve_missing(self, open_now: dict[str, Alert], kept: Collection[str], held: set[int]) -> None:
        """Resolve the open alerts whose fingerprint is not `kept`, except those of held distributors."""
        for fp, alert in open_now.items():
            if fp in kept or alert.distributor_id in held:
                continue
            alert.status = AlertStatus.RESOLVED
            alert.resolved_at = self.now
            self.changes.append((alert, EventKind.RESOLVED))

    def _open(self, finding: Finding) -> None:
        alert = Alert(
            rule=finding.rule,
            fingerprint=finding.fingerprint,
            status=AlertStatus.OPEN,
            opened_at=self.now,
            last_seen_at=self.now,
            seen_count=1,
        )
        _describe(alert, finding)
        self.changes.append((alert, EventKind.OPENED))

    def _continue(self, alert: Alert, finding: Finding) -> None:
        _describe(alert, finding)
        alert.last_seen_at = self.now
        alert.seen_count += 1
        self.changes.append((alert, EventKind.ONGOING))


def _describe(alert: Alert, finding: Finding) -> None:
    alert.severity = finding.severity
    alert.subject = finding.subject
    alert.details = finding.details
    alert.listing_id = finding.listing_id
    alert.product_id = finding.product_id
    alert.distributor_id = finding.distributor_id


def _by_rule(alerts: Iterable[Alert]) -> dict[str, dict[str, Alert]]:
    grouped: dict[str, dict[str, Alert]] = defaultdict(dict)
    for alert in alerts:
        grouped[alert.rule][alert.fingerprint] = alert
    return grouped


def run_rules(session: Session, config: Config, *, now: dt.datetime | None = None) -> RulesRunSummary:
    """Evaluate every enabled rule and apply the lifecycle, in the caller's transaction (which must be fresh:
    the run lock is its first statement). Returns the run's events; the caller queues them and commits."""
    begin_rules_run(session)
    now = now or utcnow()
    record = RulesRun(started_at=now)
    session.add(record)
    runs, fresh = _latest_runs(session)
    enabled = [rule for rule in RULES if rule.enabled(config)]
    changes = _evaluate(session, config, enabled, _Lifecycle(now, runs, fresh))
    events = _write_events(session, record, now, changes)
    summary = RulesRunSummary(
        record.id,
        _counts(enabled, changes),
        new_crawl_runs=sorted(runs[d].run_id for d in fresh),
        events=[(alert, event) for (alert, _), event in zip(changes, events, strict=True)],
    )
    _finish(record, summary, runs)
    session.flush()
    return summary


def _latest_runs(session: Session) -> tuple[dict[int, DistributorRun], set[int]]:
    """Each distributor's latest run, and the distributors whose latest run no rules run has evaluated yet."""
    runs = {run.distributor_id: run for run in latest_runs(session)}
    before = last_evaluated_runs(session)
    return runs, {d for d, run in runs.items() if before.get(d) != run.run_id}


def _evaluate(
    session: Session, config: Config, rules: Sequence[Rule], lifecycle: _Lifecycle
) -> list[tuple[Alert, EventKind]]:
    """Each rule's findings applied to its open alerts; returns the alert changes in the order they happened."""
    open_now = _by_rule(open_alerts(session))
    ctx = RuleContext(session, config, lifecycle.runs, open_now)
    for rule in rules:
        lifecycle.apply(rule, rule.evaluate(ctx), open_now.get(rule.name, {}))
    return lifecycle.changes


def _write_events(
    session: Session, record: RulesRun, now: dt.datetime, changes: Sequence[tuple[Alert, EventKind]]
) -> list[AlertEvent]:
    """Add the new alerts and an event per change (flushed: both have their ids)."""
    session.add_all(alert for alert, kind in changes if kind == EventKind.OPENED)
    session.flush()  # new alerts get their ids
    events = [
        AlertEvent(
            alert_id=alert.id,
            rules_run_id=record.id,
            kind=kind,
            at=now,
            payload={"subject": alert.subject, "severity": alert.severity, "details": alert.details},
        )
        for alert, kind in changes
    ]
    session.add_all(events)
    session.flush()
    return events


def _counts(rules: Sequence[Rule], changes: Iterable[tuple[Alert, EventKind]]) -> dict[str, Counter[EventKind]]:
    """Events per rule and kind; every rule that ran is listed, with or without events."""
    counts: dict[str, Counter[EventKind]] = {rule.name: Counter() for rule in rules}
    for alert, kind in changes:
        counts[alert.rule][kind] += 1
    return counts


def _finish(record: RulesRun, summary: RulesRunSummary, runs: dict[int, DistributorRun]) -> None:
    """The run's record: its event counts, the crawl runs it evaluated, when it finished."""
    record.opened = summary.total(EventKind.OPENED)
    record.ongoing = summary.total(EventKind.ONGOING)
    record.resolved = summary.total(EventKind.RESOLVED)
    record.evaluated_runs = {str(d): run.run_id for d, run in runs.items()}
    record.finished_at = utcnow()
