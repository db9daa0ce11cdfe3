"""The case lifecycle: violation alerts open cases — one per seller and episode, rolled up to its distributor — or
join the seller's open one; a violation soon after a fix opens a repeat of the fixed case; a case is fixed once
every one of its alerts is resolved (the rules resolve one only from a healthy crawl that no longer sees it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from crawler.config import Config
from storage.models import Case, CaseListing, CaseStatus
from storage.queries.cases import (
    Violation,
    fix_times,
    last_fixed_case,
    open_cases,
    resolved_listings,
    untaken_violations,
    withdraw_pending,
)

HOUR = Decimal(3600)
CENT = Decimal("0.01")


@dataclass
class Changes:
    """What one pass changed: cases opened (repeats among them), alerts taken up, cases fixed, notices withdrawn."""

    opened: list[int] = field(default_factory=list)
    repeats: list[int] = field(default_factory=list)
    taken_up: int = 0
    fixed: list[int] = field(default_factory=list)
    withdrawn: int = 0


def _local_day(config: Config, at: dt.datetime) -> dt.date:
    return at.astimezone(config.tz).date()


def _open(session: Session, config: Config, violation: Violation) -> Case:
    """A new case for the violation's seller; a repeat of the seller's case fixed within the relapse window.

    A repeat keeps the approval of the case it repeats: the manager already agreed to write to this seller about
    this kind of episode."""
    window = config.enforcement.relapse_window_days
    since = violation.opened_at - dt.timedelta(days=window)
    previous = last_fixed_case(session, violation.seller_id, since) if window else None
    case = Case(
        seller_id=violation.seller_id,
        distributor_id=violation.distributor_id,
        status=CaseStatus.DETECTED,
        repeat_of_id=previous.id if previous else None,
        repeat_number=previous.repeat_number + 1 if previous else 0,
        opened_at=violation.opened_at,
        opened_on=_local_day(config, violation.opened_at),
        step=0,
        approved_at=previous.approved_at if previous else None,
        approved_by=previous.approved_by if previous else None,
    )
    session.add(case)
    session.flush()
    return case


def take_up(session: Session, config: Config, changes: Changes) -> None:
    """Give every untaken violation alert a case, in order of detection."""
    by_seller = {case.seller_id: case for case in open_cases(session)}
    for violation in untaken_violations(session, config.enforcement.rules):
        case = by_seller.get(violation.seller_id)
        if case is None:
            case = by_seller[violation.seller_id] = _open(session, config, violation)
            changes.opened.append(case.id)
            if case.repeat_of_id is not None:
                changes.repeats.append(case.id)
        session.add(
            CaseListing(
                case_id=case.id,
                alert_id=violation.alert_id,
                listing_id=violation.listing_id,
                rule=violation.rule,
                detected_at=violation.opened_at,
                detected_on=_local_day(config, violation.opened_at),
            )
        )
        changes.taken_up += 1
    session.flush()


def hours_between(start: dt.datetime, end: dt.datetime) -> Decimal:
    return (Decimal(str((end - start).total_seconds())) / HOUR).quantize(CENT, ROUND_HALF_UP)


def fix(session: Session, config: Config, changes: Changes, now: dt.datetime) -> None:
    """Mark listings whose alert was resolved, and fix the cases with none left (recording the day); a fixed
    case's notices still waiting in the outbox are taken back."""
    cases = {case.id: case for case in open_cases(session)}
    for listing, resolved_at in resolved_listings(session, list(cases)):
        listing.fixed_at = resolved_at
    session.flush()
    for case_id, fixed_at in sorted(fix_times(session, list(cases)).items()):
        case = cases[case_id]
        case.status = CaseStatus.FIXED
        case.fixed_at = fixed_at
        case.fixed_on = _local_day(config, fixed_at)
        case.hours_to_fix = hours_between(case.opened_at, fixed_at)
        changes.fixed.append(case_id)
        changes.withdrawn += withdraw_pending(session, case_id, now)
    session.flush()
