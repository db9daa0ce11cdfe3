"""One rules run and the messages it calls for: alerts updated and their events queued in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session

from crawler.config import Config
from notify.routing import enqueue_events
from rules.engine import RulesRunSummary, run_rules
from storage.models import Alert, AlertEvent

# Outbox rows for (alert, event) pairs per the config's routes; returns how many.
Enqueue = Callable[[Session, Config, Iterable[tuple[Alert, AlertEvent]]], int]


def run_rules_and_queue(
    session: Session, config: Config, *, now: dt.datetime | None = None, enqueue: Enqueue = enqueue_events
) -> RulesRunSummary:
    """Run the rules and queue each event to the routes that want it, in the caller's transaction: a run killed
    between the two leaves neither alerts without messages nor messages without alerts."""
    summary = run_rules(session, config, now=now)
    summary.queued = enqueue(session, config, summary.events)
    return summary
