"""Enforcement: violation cases and their listings, notices, distributors' contacts, compliance readings, and the
BI view `v_compliance` (issue 18).

`v_compliance` gives, per distributor and calendar week (from Monday) and month, the figures
`storage.queries.compliance.compliance()` computes for whole weeks and months: watched listings (those with a
reading in the period), compliant ones (latest reading in the period at or above the dumping threshold), their
share, violations opened, the median and 90th percentile of hours to fix (interpolated between ranks), notices
delivered and repeat offences. It repeats that code's rules in SQL rather than sharing them: a migration is frozen
(see 0006). Change either one only together with the other (a new migration for the view).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_CASE = "status IN ('detected', 'notified', 'acknowledged', 'escalated')"

# The first day of the week (Monday) or month a date column falls in, per dialect.
_BUCKET = {
    "sqlite": "CASE WHEN p.period = 'week' THEN date({col}, '-6 days', 'weekday 1') "
    "ELSE date({col}, 'start of month') END",
    "postgresql": "CASE WHEN p.period = 'week' THEN CAST(date_trunc('week', {col}) AS DATE) "
    "ELSE CAST(date_trunc('month', {col}) AS DATE) END",
}

COMPLIANCE = """
CREATE VIEW v_compliance AS
WITH periods(period) AS (SELECT 'week' UNION ALL SELECT 'month'),
ranked AS (
    SELECT p.period, {reading} AS period_start, r.distributor_id, r.compliant,
           ROW_NUMBER() OVER (PARTITION BY p.period, {reading}, r.listing_id
                              ORDER BY r.day DESC, r.observed_at DESC) AS rn
    FROM compliance_readings r CROSS JOIN periods p
),
coverage AS (
    SELECT period, period_start, distributor_id, COUNT(*) AS watched,
           SUM(CASE WHEN compliant THEN 1 ELSE 0 END) AS compliant
    FROM ranked WHERE rn = 1
    GROUP BY period, period_start, distributor_id
),
opened AS (
    SELECT p.period, {detected} AS period_start, c.distributor_id, COUNT(*) AS n
    FROM case_listings cl JOIN cases c ON c.id = cl.case_id CROSS JOIN periods p
    GROUP BY p.period, {detected}, c.distributor_id
),
fixes AS (
    SELECT p.period, {fixed} AS period_start, c.distributor_id, c.hours_to_fix AS hours,
           ROW_NUMBER() OVER (PARTITION BY p.period, {fixed}, c.distributor_id ORDER BY c.hours_to_fix) AS rn,
           COUNT(*) OVER (PARTITION BY p.period, {fixed}, c.distributor_id) AS n
    FROM cases c CROSS JOIN periods p
    WHERE c.fixed_on IS NOT NULL AND c.hours_to_fix IS NOT NULL
),
fix_ranks AS (
    SELECT period, period_start, distributor_id,
           MAX(CASE WHEN rn = 1 + (n - 1) / 2 THEN hours END) AS m_lo,
           MAX(CASE WHEN rn = 2 + (n - 1) / 2 THEN hours END) AS m_hi,
           MAX(((n - 1) % 2) / 2.0) AS m_frac,
           MAX(CASE WHEN rn = 1 + (n - 1) * 9 / 10 THEN hours END) AS p_lo,
           MAX(CASE WHEN rn = 2 + (n - 1) * 9 / 10 THEN hours END) AS p_hi,
           MAX(((n - 1) * 9 % 10) / 10.0) AS p_frac
    FROM fixes
    GROUP BY period, period_start, distributor_id
),
sent AS (
    SELECT p.period, {issued} AS period_start, x.distributor_id, COUNT(*) AS n
    FROM (SELECT DISTINCT c.distributor_id, nt.case_id, nt.kind, nt.issued_on
          FROM notices nt JOIN cases c ON c.id = nt.case_id JOIN outbox o ON o.id = nt.outbox_id
          WHERE nt.kind IN ('first', 'second') AND o.status = 'sent') x
    CROSS JOIN periods p
    GROUP BY p.period, {issued}, x.distributor_id
),
repeats AS (
    SELECT p.period, {opened} AS period_start, c.distributor_id, COUNT(*) AS n
    FROM cases c CROSS JOIN periods p
    WHERE c.repeat_of_id IS NOT NULL
    GROUP BY p.period, {opened}, c.distributor_id
),
keyed AS (
    SELECT period, period_start, distributor_id FROM coverage
    UNION SELECT period, period_start, distributor_id FROM opened
    UNION SELECT period, period_start, distributor_id FROM fix_ranks
    UNION SELECT period, period_start, distributor_id FROM sent
    UNION SELECT period, period_start, distributor_id FROM repeats
)
SELECT k.period,
       k.period_start,
       d.id AS distributor_id,
       d.code AS distributor_code,
       COALESCE(cv.watched, 0) AS watched_listings,
       COALESCE(cv.compliant, 0) AS compliant_listings,
       CASE WHEN cv.watched > 0 THEN ROUND(cv.compliant * 1.0 / cv.watched, 4) END AS share,
       COALESCE(op.n, 0) AS violations_opened,
       ROUND(fr.m_lo + fr.m_frac * (COALESCE(fr.m_hi, fr.m_lo) - fr.m_lo), 2) AS median_hours_to_fix,
       ROUND(fr.p_lo + fr.p_frac * (COALESCE(fr.p_hi, fr.p_lo) - fr.p_lo), 2) AS p90_hours_to_fix,
       COALESCE(st.n, 0) AS notices_sent,
       COALESCE(rp.n, 0) AS repeat_offences
FROM keyed k
JOIN distributors d ON d.id = k.distributor_id
LEFT JOIN coverage cv
       ON cv.period = k.period AND cv.period_start = k.period_start AND cv.distributor_id = k.distributor_id
LEFT JOIN opened op
       ON op.period = k.period AND op.period_start = k.period_start AND op.distributor_id = k.distributor_id
LEFT JOIN fix_ranks fr
       ON fr.period = k.period AND fr.period_start = k.period_start AND fr.distributor_id = k.distributor_id
LEFT JOIN sent st
       ON st.period = k.period AND st.period_start = k.period_start AND st.distributor_id = k.distributor_id
LEFT JOIN repeats rp
       ON rp.period = k.period AND rp.period_start = k.period_start AND rp.distributor_id = k.distributor_id
"""


def _status(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)


def _cases() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("distributor_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            _status("case_status", "detected", "notified", "acknowledged", "escalated", "fixed", "closed"),
            nullable=False,
        ),
        sa.Column("repeat_of_id", sa.Integer(), nullable=True),
        sa.Column("repeat_number", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("approval_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=256), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=256), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fixed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fixed_on", sa.Date(), nullable=True),
        sa.Column("hours_to_fix", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=256), nullable=True),
        sa.Column("close_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["distributor_id"],
            ["distributors.id"],
            name=op.f("fk_cases_distributor_id_distributors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["repeat_of_id"], ["cases.id"], name=op.f("fk_cases_repeat_of_id_cases"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["sellers.id"], name=op.f("fk_cases_seller_id_sellers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(
            "uq_cases_open_seller",
            ["seller_id"],
            unique=True,
            sqlite_where=sa.text(OPEN_CASE),
            postgresql_where=sa.text(OPEN_CASE),
        )
        batch_op.create_index("ix_cases_distributor_opened", ["distributor_id", "opened_on"], unique=False)
    op.create_table(
        "case_listings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detected_on", sa.Date(), nullable=False),
        sa.Column("fixed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_case_listings_alert_id_alerts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_listings_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"], ["listings.id"], name=op.f("fk_case_listings_listing_id_listings"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_listings")),
        sa.UniqueConstraint("alert_id", name=op.f("uq_case_listings_alert_id")),
    )
    with op.batch_alter_table("case_listings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_listings_case_id"), ["case_id"], unique=False)


def _notices() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", _status("notice_kind", "first", "second", "escalation", "approval"), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=256), nullable=False),
        sa.Column("person", sa.String(length=256), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=1024), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_notices_case_id_cases"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name=op.f("fk_notices_outbox_id_outbox"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("case_id", "kind", "channel", "recipient", name=op.f("uq_notices_case_id")),
    )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notices_case_id"), ["case_id"], unique=False)


def _contacts_and_readings() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("distributor_id", sa.Integer(), nullable=False),
        sa.Column("seller_code", sa.String(length=256), nullable=True),
        sa.Column("person", sa.String(length=256), nullable=True),
        sa.Column("email", sa.String(length=256), nullable=True),
        sa.Column("telegram", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["distributor_id"],
            ["distributors.id"],
            name=op.f("fk_contacts_distributor_id_distributors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_distributor_id"), ["distributor_id"], unique=False)
    op.create_table(
        "compliance_readings",
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("distributor_id", sa.Integer(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("price", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("rrp", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("threshold", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("compliant", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["distributor_id"],
            ["distributors.id"],
            name=op.f("fk_compliance_readings_distributor_id_distributors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.id"],
            name=op.f("fk_compliance_readings_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("listing_id", "day", name=op.f("pk_compliance_readings")),
    )
    with op.batch_alter_table("compliance_readings", schema=None) as batch_op:
        batch_op.create_index("ix_compliance_readings_distributor_day", ["distributor_id", "day"], unique=False)


def upgrade() -> None:
    _cases()
    _notices()
    _contacts_and_readings()
    bucket = _BUCKET["sqlite" if op.get_bind().dialect.name == "sqlite" else "postgresql"]
    op.execute(
        COMPLIANCE.format(
            reading=bucket.format(col="r.day"),
            detected=bucket.format(col="cl.detected_on"),
            fixed=bucket.format(col="c.fixed_on"),
            issued=bucket.format(col="x.issued_on"),
            opened=bucket.format(col="c.opened_on"),
        )
    )


def downgrade() -> None:
    op.execute("DROP VIEW v_compliance")
    op.drop_table("compliance_readings")
    op.drop_table("contacts")
    op.drop_table("notices")
    op.drop_table("case_listings")
    op.drop_table("cases")
