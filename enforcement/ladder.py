"""The escalation ladder: the first notice (after a manager's approval, when one is wanted), a second notice once
its deadline passed, then the escalation to the channel manager and the second address (head of sales).

Deadlines are local calendar days: a notice issued on day D with `days_to_fix: 3` asks for a fix by D + 3, and the
next step comes on the first run after that day. Cases are taken in order of detection, so every distributor is
treated alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from crawler.config import Config
from crawler.errors import UserError
from crawler.items import Health
from enforcement.contacts import Recipient, escalation_recipients, manager_recipients, seller_recipients
from enforcement.notices import Issue, Subject, issue, release_time
from storage.models import CaseStatus, Notice, NoticeKind
from storage.queries.cases import CaseView, case_items, distributor_approved, issued_days, list_cases
from storage.queries.rules import latest_runs

FIRST, SECOND, ESCALATED = 1, 2, 3  # Case.step after each


@dataclass
class Outcome:
    """What the ladder did this time, and which open cases it could not move."""

    notices: list[Notice] = field(default_factory=list)
    awaiting_approval: list[int] = field(default_factory=list)
    without_contact: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)  # their distributor's latest crawl is not healthy


def needs_approval(session: Session, config: Config, view: CaseView) -> bool:
    """Whether the case's first notice still waits for a manager (`enforcement.approval`)."""
    mode, case = config.enforcement.approval, view.case
    if mode == "off" or case.approved_at is not None:
        return False
    return mode == "case" or not distributor_approved(session, case.distributor_id)


class _Ladder:
    def __init__(self, session: Session, config: Config, now: dt.datetime, outcome: Outcome) -> None:
        self.session, self.config, self.now, self.outcome = session, config, now, outcome
        self.today = now.astimezone(config.tz).date()
        # A misread site must never turn into a notice: a case moves only while its site reads healthy.
        self.healthy = {run.distributor_id for run in latest_runs(session) if run.verdict == Health.OK}

    def subject(self, view: CaseView) -> Subject:
        case_id = view.case.id
        items = [i for i in case_items(self.session, [case_id]).get(case_id, []) if i.fixed_at is None]
        return Subject(view, items, issued_days(self.session, [case_id]).get(case_id, {}))

    def send(
        self, view: CaseView, kind: NoticeKind, recipients: list[Recipient], extra: dict[str, object] | None = None
    ) -> list[Notice]:
        step = Issue(kind, self.subject(view), recipients, self.now, extra or {})
        notices = issue(self.session, self.config, step)
        self.outcome.notices += notices
        return notices

    def notify(self, view: CaseView, kind: NoticeKind, recipients: list[Recipient]) -> None:
        """A notice to the seller's contacts with a new deadline."""
        case, ladder = view.case, self.config.enforcement.ladder
        days = ladder.days_to_fix if kind == NoticeKind.FIRST else ladder.days_to_fix_second
        case.deadline = release_time(self.config, self.now).astimezone(self.config.tz).date() + dt.timedelta(days)
        case.step = FIRST if kind == NoticeKind.FIRST else SECOND
        if case.status == CaseStatus.DETECTED:
            case.status = CaseStatus.NOTIFIED
        self.send(view, kind, recipients)

    def escalate(self, view: CaseView) -> None:
        case = view.case
        case.step, case.status, case.escalated_at = ESCALATED, CaseStatus.ESCALATED, self.now
        self.send(view, NoticeKind.ESCALATION, escalation_recipients(self.config, view.distributor_code))

    def first(self, view: CaseView) -> None:
        """The first notice, or the approval it waits for (asked once, of the distributor's managers)."""
        recipients = seller_recipients(self.session, self.config, view.case)
        if not recipients:
            self.outcome.without_contact.append(view.case.id)
            return
        if needs_approval(self.session, self.config, view):
            self.outcome.awaiting_approval.append(view.case.id)
            managers = manager_recipients(self.config, view.distributor_code)
            if view.case.approval_requested_at is None and managers:
                self.send(view, NoticeKind.APPROVAL, managers, {"recipients": [r.address for r in recipients]})
                view.case.approval_requested_at = self.now
            return
        self.notify(view, NoticeKind.FIRST, recipients)

    def later(self, view: CaseView) -> None:
        """Past the current notice's deadline: the second notice, or the escalation."""
        case, ladder = view.case, self.config.enforcement.ladder
        if case.step == FIRST and ladder.second_notice:
            self.notify(view, NoticeKind.SECOND, seller_recipients(self.session, self.config, case))
        elif ladder.escalate:
            self.escalate(view)

    def due(self, view: CaseView) -> None:
        case = view.case
        if case.distributor_id not in self.healthy:
            self.outcome.held.append(case.id)
        elif case.step == 0:
            self.first(view)
        elif case.step < ESCALATED and case.deadline is not None and self.today > case.deadline:
            self.later(view)


def advance(session: Session, config: Config, now: dt.datetime, case_ids: Collection[int] | None = None) -> Outcome:
    """Take every open case (or those of `case_ids`) one step if one is due; returns what was issued."""
    outcome = Outcome()
    ladder = _Ladder(session, config, now, outcome)
    for view in list_cases(session, open_only=True):
        if case_ids is None or view.case.id in case_ids:
            ladder.due(view)
    session.flush()
    return outcome


def force(session: Session, config: Config, view: CaseView, now: dt.datetime) -> Outcome:
    """The case's next step now, whatever its deadline says (`pricewatch cases notify ID`)."""
    outcome = Outcome()
    ladder = _Ladder(session, config, now, outcome)
    case = view.case
    if case.distributor_id not in ladder.healthy:
        raise UserError(
            f"case {case.id}: the latest crawl of {view.distributor_code} is not healthy; "
            "its notices wait for one that is"
        )
    if case.step == 0:
        ladder.first(view)
    elif case.step == FIRST and config.enforcement.ladder.second_notice:
        ladder.later(view)
    elif case.step < ESCALATED:
        ladder.escalate(view)
    else:
        raise UserError(f"case {case.id}: already escalated; nothing more goes out (close it when it is settled)")
    session.flush()
    return outcome
