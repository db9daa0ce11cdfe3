"""Enforcement's entry points: the daily step (after the rules, before delivery) and what a person does to a case
(approve its first notice, record an answer, send its next step now, close it).

Each works in the caller's transaction under the enforcement lock (`begin_enforcement`, its first statement), so a
step killed part-way leaves nothing, and two at once cannot issue one notice twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from crawler.config import Config
from crawler.errors import UserError
from enforcement import cases, ladder, readings
from enforcement.contacts import sync_config_contacts
from storage.models import OPEN_CASE_STATUSES, CaseStatus, Notice
from storage.queries.cases import CaseView, begin_enforcement, get_case, withdraw_pending


@dataclass
class StepReport:
    """What the daily enforcement step did."""

    readings: int = 0
    changes: cases.Changes = field(default_factory=cases.Changes)
    outcome: ladder.Outcome = field(default_factory=ladder.Outcome)

    @property
    def notices(self) -> list[Notice]:
        return self.outcome.notices

    def line(self) -> str:
        c, o = self.changes, self.outcome
        waiting = f", {len(o.awaiting_approval)} awaiting approval" if o.awaiting_approval else ""
        no_contact = f", {len(o.without_contact)} without a contact" if o.without_contact else ""
        held = f", {len(o.held)} held for an unhealthy crawl" if o.held else ""
        return (
            f"{len(c.opened)} cases opened ({len(c.repeats)} repeats), {len(c.fixed)} fixed, "
            f"{len(o.notices)} notices queued{waiting}{no_contact}{held}; {self.readings} compliance readings"
        )


def daily_step(session: Session, config: Config, *, now: dt.datetime) -> StepReport:
    """Record the compliance readings, open and fix cases from the alerts, and take each case a step if due."""
    begin_enforcement(session)
    report = StepReport(readings=readings.record(session, config))
    if not config.enforcement.enabled:
        return report
    sync_config_contacts(session, config, now)
    cases.take_up(session, config, report.changes)
    cases.fix(session, config, report.changes, now)
    report.outcome = ladder.advance(session, config, now)
    return report


def _open_case(session: Session, case_id: int) -> CaseView:
    view = get_case(session, case_id)
    if view is None:
        raise UserError(f"case {case_id}: no such case (see `pricewatch cases list`)")
    if view.case.status not in OPEN_CASE_STATUSES:
        raise UserError(f"case {case_id}: already {view.case.status.value}")
    return view


def approve(session: Session, config: Config, case_id: int, *, by: str, now: dt.datetime) -> ladder.Outcome:
    """A manager's approval of the case's first notice, which is queued at once (quiet hours permitting)."""
    begin_enforcement(session)
    view = _open_case(session, case_id)
    if view.case.approved_at is not None:
        raise UserError(f"case {case_id}: approved already by {view.case.approved_by}")
    view.case.approved_at, view.case.approved_by = now, by
    sync_config_contacts(session, config, now)
    return ladder.advance(session, config, now, [case_id])


def acknowledge(session: Session, case_id: int, *, by: str, now: dt.datetime) -> CaseView:
    """The seller answered a notice; the deadlines still run."""
    begin_enforcement(session)
    view = _open_case(session, case_id)
    if view.case.step == 0:
        raise UserError(f"case {case_id}: no notice has gone yet, so there is nothing to acknowledge")
    view.case.acknowledged_at, view.case.acknowledged_by = now, by
    if view.case.status == CaseStatus.NOTIFIED:
        view.case.status = CaseStatus.ACKNOWLEDGED
    return view


def notify(session: Session, config: Config, case_id: int, *, by: str, now: dt.datetime) -> ladder.Outcome:
    """The case's next step now (running the command approves a first notice that waited for approval)."""
    begin_enforcement(session)
    view = _open_case(session, case_id)
    if view.case.step == 0 and ladder.needs_approval(session, config, view):
        view.case.approved_at, view.case.approved_by = now, by
    sync_config_contacts(session, config, now)
    outcome = ladder.force(session, config, view, now)
    if outcome.without_contact:
        raise UserError(f"case {case_id}: no contact for {view.seller_name} ({view.distributor_code}); add one")
    return outcome


def close(session: Session, case_id: int, *, by: str, note: str, now: dt.datetime) -> CaseView:
    """Close a case by hand (an agreement, a false alarm); its notices still waiting are taken back."""
    begin_enforcement(session)
    view = _open_case(session, case_id)
    if not note.strip():
        raise UserError(f"case {case_id}: say why it is closed (--note)")
    view.case.status = CaseStatus.CLOSED
    view.case.closed_at, view.case.closed_by, view.case.close_note = now, by, note.strip()
    withdraw_pending(session, case_id, now)
    return view
