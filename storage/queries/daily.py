"""Daily-run bookkeeping: start, finish, and runs that died before they finished."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from storage.models import Alert, AlertEvent, DailyRun, utcnow


def fail_abandoned_runs(session: Session) -> list[int]:
    """Runs still marked running when the lock is free again died; mark them failed and say which."""
    ids = list(session.scalars(select(DailyRun.id).where(DailyRun.status == "running")))
    if ids:
        session.execute(
            update(DailyRun)
            .where(DailyRun.id.in_(ids))
            .values(status="failed", finished_at=utcnow(), summary={"died": "the process ended before the run did"})
        )
    return ids


def start_daily_run(session: Session, host: str, pid: int) -> int:
    run = DailyRun(host=host, pid=pid, status="running")
    session.add(run)
    session.flush()
    return run.id


def finish_daily_run(session: Session, run_id: int | None, *, ok: bool, summary: dict[str, Any]) -> None:
    session.execute(
        update(DailyRun)
        .where(DailyRun.id == run_id)
        .values(status="ok" if ok else "failed", finished_at=utcnow(), summary=summary)
    )


def latest_daily_runs(session: Session, limit: int = 10) -> list[DailyRun]:
    return list(session.scalars(select(DailyRun).order_by(DailyRun.started_at.desc()).limit(limit)))


def events_of_rules_run(session: Session, rules_run_id: int | None) -> list[dict[str, Any]]:
    """The alert events one rules run produced, opened first, for printing."""
    if rules_run_id is None:
        return []
    order = case({"opened": 0, "resolved": 1}, value=AlertEvent.kind, else_=2)
    rows = session.execute(
        select(AlertEvent.kind, Alert.rule, Alert.severity, Alert.subject)
        .join(Alert, Alert.id == AlertEvent.alert_id)
        .where(AlertEvent.rules_run_id == rules_run_id)
        .order_by(order, Alert.rule, Alert.subject)
    )
    return [{"kind": str(k), "rule": r, "severity": s, "subject": subj} for k, r, s, subj in rows]
