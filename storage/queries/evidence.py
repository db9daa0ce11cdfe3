"""Evidence records: which violation alerts still need evidence, attaching it, and what retention may delete."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from storage.models import Alert, AlertStatus, CrawlRun, Distributor, Evidence, Listing, Observation, RunStatus, Seller


@dataclass(frozen=True, slots=True)
class EvidenceTarget:
    """An open alert without evidence, the page it is about, and that page's latest observation."""

    alert_id: int
    rule: str
    url: str
    distributor_code: str
    listing_id: int
    details: dict[str, Any]
    observed_at: dt.datetime | None
    observed_price: Decimal | None
    observation_details: dict[str, Any]
    observation_evidence_id: int | None


@dataclass(frozen=True, slots=True)
class StoredEvidence:
    id: int
    kind: str
    url: str
    captured_at: dt.datetime
    sha256: str
    path: str  # relative to the evidence directory
    size: int


def alerts_without_evidence(session: Session, rules: Sequence[str]) -> list[EvidenceTarget]:
    """Open alerts of `rules` on a listing that reference no evidence yet, oldest first."""
    query = (
        select(Alert.id, Alert.rule, Alert.details, Listing.id, Listing.url, Distributor.code)
        .join(Listing, Listing.id == Alert.listing_id)
        .join(Seller, Seller.id == Listing.seller_id)
        .join(Distributor, Distributor.id == Seller.distributor_id)
        .where(
            Alert.status == AlertStatus.OPEN,
            Alert.rule.in_(list(rules)),
            Alert.evidence_html_id.is_(None),
            Alert.evidence_screenshot_id.is_(None),
        )
        .order_by(Alert.id)
    )
    targets = []
    for alert_id, rule, details, listing_id, url, code in session.execute(query).all():
        latest = session.execute(
            select(Observation.observed_at, Observation.price, Observation.details, Observation.evidence_id)
            .join(CrawlRun, CrawlRun.id == Observation.crawl_run_id)
            .where(Observation.listing_id == listing_id, CrawlRun.status == RunStatus.FINISHED)
            .order_by(Observation.observed_at.desc(), Observation.id.desc())
            .limit(1)
        ).first()
        targets.append(
            EvidenceTarget(
                alert_id=alert_id,
                rule=rule,
                url=url,
                distributor_code=code,
                listing_id=listing_id,
                details=details or {},
                observed_at=latest[0] if latest else None,
                observed_price=latest[1] if latest else None,
                observation_details=(latest[2] or {}) if latest else {},
                observation_evidence_id=latest[3] if latest else None,
            )
        )
    return targets


def _stored(row: Evidence) -> StoredEvidence:
    return StoredEvidence(row.id, row.kind, row.url, row.captured_at, row.sha256, row.path, row.size)


def evidence_by_ids(session: Session, ids: Collection[int | None]) -> dict[int, StoredEvidence]:
    wanted = sorted({i for i in ids if i is not None})
    out: dict[int, StoredEvidence] = {}
    for start in range(0, len(wanted), 500):
        for row in session.scalars(select(Evidence).where(Evidence.id.in_(wanted[start : start + 500]))):
            out[row.id] = _stored(row)
    return out


def attach_evidence(
    session: Session, alert_ids: Collection[int], html_id: int | None, screenshot_id: int | None
) -> None:
    """Reference the evidence from the alerts; a reference an alert already has is kept."""
    ids = list(alert_ids)
    if html_id is not None:
        session.execute(
            update(Alert).where(Alert.id.in_(ids), Alert.evidence_html_id.is_(None)).values(evidence_html_id=html_id)
        )
    if screenshot_id is not None:
        session.execute(
            update(Alert)
            .where(Alert.id.in_(ids), Alert.evidence_screenshot_id.is_(None))
            .values(evidence_screenshot_id=screenshot_id)
        )


def expired_evidence(session: Session, captured_before: dt.datetime) -> list[StoredEvidence]:
    """Evidence captured before the cut-off that no open alert references."""
    held = (
        select(Evidence.id)
        .join(Alert, or_(Alert.evidence_html_id == Evidence.id, Alert.evidence_screenshot_id == Evidence.id))
        .where(Alert.status == AlertStatus.OPEN)
    )
    query = select(Evidence).where(Evidence.captured_at < captured_before, Evidence.id.not_in(held))
    return [_stored(row) for row in session.scalars(query.order_by(Evidence.id))]


def delete_evidence(session: Session, ids: Collection[int]) -> None:
    """Delete the records; alerts and observations that referenced them keep NULL (ON DELETE SET NULL)."""
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), 500):
        session.execute(delete(Evidence).where(Evidence.id.in_(wanted[start : start + 500])))


def paths_in_use(session: Session, paths: Collection[str]) -> set[str]:
    """Which of the file paths some evidence record still names (one file may back several records)."""
    wanted = sorted(set(paths))
    used: set[str] = set()
    for start in range(0, len(wanted), 500):
        used.update(session.scalars(select(Evidence.path).where(Evidence.path.in_(wanted[start : start + 500]))))
    return used
