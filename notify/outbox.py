"""Delivering the outbox: claim due rows under a lease, send, record each outcome; digests bundled per recipient.

Delivery is at-least-once with the window kept to the send call itself. A row is claimed (status `sending`,
`locked_until`, `claimed_by`) and that claim is committed before anything is sent; it is marked `sent` in its
own transaction right after the provider accepts it. Rows a flush claimed and did not record stay `sending`
until its lease runs out, or only until the next flush when that flush's process is gone from this host (killed),
and are then sent again. So a process dying between the provider accepting a message and that commit — one send
call plus one commit — is the only way a recipient sees a message twice. A flush never starts a send when its
lease is nearly spent (`SEND_BUDGET` covers the longest send), so a second flush that re-claims an expired row
cannot overlap a send still in flight.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from crawler.config import Config
from notify import messages
from notify.email import Attachment, EmailSender, build_message
from notify.errors import DeliveryError
from notify.ratelimit import TelegramRateLimiter
from notify.redact import install_log_redaction
from notify.routing import EMAIL, TELEGRAM
from notify.telegram import TelegramSender
from storage.engine import session_scope
from storage.models import Outbox, utcnow
from storage.queries import outbox as q

log = logging.getLogger(__name__)

INSTANT, DIGEST = "instant", "digest"
LEASE = dt.timedelta(minutes=10)
SEND_BUDGET = dt.timedelta(minutes=2)  # longer than any one send may take (Telegram and SMTP timeouts)
BATCH = 100
PARALLEL_RECIPIENTS = 8
BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_CAP = dt.timedelta(hours=1)

# Builds the file digest emails carry (`notify.report_files.digest_attachment`); called at most once a flush.
AttachmentHook = Callable[[], Attachment | None]


@dataclass
class FlushReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    would_send: dict[str, int] = field(default_factory=dict)  # channel → due rows, channel not configured
    preview: list[dict[str, Any]] = field(default_factory=list)  # --dry-run: what would be sent

    def summary(self) -> dict[str, Any]:
        return {"sent": self.sent, "retried": self.retried, "dead": self.dead, "would_send": dict(self.would_send)}


@dataclass(frozen=True)
class Outcome:
    """How one send ended: a provider message id, or a DeliveryError."""

    message_id: str | None = None
    error: DeliveryError | None = None


def backoff(failures: int, rng: random.Random) -> dt.timedelta:
    """Exponential in the number of failures so far, capped, with equal jitter so retries do not bunch up."""
    full = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(0, failures - 1)))
    return full / 2 + full / 2 * rng.random()


def configured_channels(config: Config) -> set[str]:
    channels = set()
    if config.notify.telegram.token is not None:
        channels.add(TELEGRAM)
    if config.notify.email.host is not None:
        channels.add(EMAIL)
    return channels


def _groups(rows: Sequence[Outbox]) -> dict[tuple[str, str], list[Outbox]]:
    groups: dict[tuple[str, str], list[Outbox]] = {}
    for row in rows:
        groups.setdefault((row.channel, row.recipient), []).append(row)
    return groups


class Flusher:
    """One flush: the senders, the clock, this flush's claim token and the tally."""

    def __init__(
        self,
        engine: Engine,
        config: Config,
        *,
        clock: Callable[[], dt.datetime],
        rng: random.Random,
        telegram: TelegramSender | None,
        email: EmailSender | None,
        attachment: AttachmentHook | None,
        failures: Sequence[str] = (),
    ) -> None:
        self.engine, self.config, self.clock, self.rng = engine, config, clock, rng
        self.failures = list(failures)
        self.telegram, self.email, self.attachment = telegram, email, attachment
        self.token = q.claim_token()
        self._attached: list[Attachment | None] = []  # built on first use
        self.report = FlushReport()
        self.channels = {c for c, sender in ((TELEGRAM, telegram), (EMAIL, email)) if sender is not None}

    def _claim(self, modes: Sequence[str], cutoff: dt.datetime, limit: int | None) -> tuple[list[Outbox], dt.datetime]:
        lease_until = self.clock() + LEASE
        with session_scope(self.engine) as session:
            rows = q.claim_due(
                session,
                channels=self.channels,
                modes=modes,
                cutoff=cutoff,
                lease_until=lease_until,
                token=self.token,
                limit=limit,
            )
        return rows, lease_until

    async def run(self, digest: bool) -> FlushReport:
        cutoff = self.clock()  # rows put back during this flush are due after it, so each row is tried once
        while True:
            rows, lease_until = self._claim([INSTANT], cutoff, BATCH)
            if not rows:
                break
            await self._each_group(rows, lease_until, self._deliver_instant)
        if digest:
            rows, lease_until = self._claim([DIGEST], cutoff, None)
            await self._each_group(rows, lease_until, self._deliver_digest)
        return self.report

    async def _each_group(
        self,
        rows: Sequence[Outbox],
        lease_until: dt.datetime,
        deliver: Callable[[str, str, list[Outbox], dt.datetime], Any],
    ) -> None:
        gate = asyncio.Semaphore(PARALLEL_RECIPIENTS)

        async def one(key: tuple[str, str], group: list[Outbox]) -> None:
            async with gate:
                await deliver(key[0], key[1], group, lease_until)

        await asyncio.gather(*(one(key, group) for key, group in _groups(rows).items()))

    def _lease_spent(self, lease_until: dt.datetime) -> bool:
        return self.clock() >= lease_until - SEND_BUDGET

    async def _deliver_instant(
        self, channel: str, recipient: str, rows: list[Outbox], lease_until: dt.datetime
    ) -> None:
        """One recipient's rows in order; after a failure that is not final the rest wait with it, keeping order."""
        for index, row in enumerate(rows):
            if self._lease_spent(lease_until):
                self._release(rows[index:], self.clock())
                return
            outcome = await self._send_instant(channel, recipient, row)
            if outcome.error is None:
                self._mark_sent([row], outcome.message_id or "")
                continue
            next_at = self._mark_failed([row], outcome.error)
            if not outcome.error.permanent:
                self._release(rows[index + 1 :], next_at)
                return

    async def _send_instant(self, channel: str, recipient: str, row: Outbox) -> Outcome:
        try:
            if channel == TELEGRAM and self.telegram is not None:
                msg = messages.telegram_alert(row.payload, self.config)
                return Outcome(await self.telegram.send_message(recipient, msg.text, msg.buttons))
            if channel == EMAIL and self.email is not None:
                content = messages.email_alert(row.payload, self.config)
                mid = messages.message_id([row.dedup_key], self.config.notify.email.sender)
                email_msg = build_message(self.config.notify.email, recipient, content, mid)
                return Outcome(await asyncio.to_thread(self.email.send, email_msg))
        except DeliveryError as exc:
            return Outcome(error=exc)
        return Outcome(error=DeliveryError(f"unknown channel {channel!r}", permanent=True))

    async def _deliver_digest(self, channel: str, recipient: str, rows: list[Outbox], lease_until: dt.datetime) -> None:
        """All of a recipient's pending digest rows in one message; marked sent together after it went."""
        if self._lease_spent(lease_until):
            self._release(rows, self.clock())
            return
        view = messages.digest_view([r.payload for r in rows], self.config, self.clock(), self.failures)
        try:
            if channel == TELEGRAM and self.telegram is not None:
                mid = await self.telegram.send_message(recipient, messages.telegram_digest(view, self.config))
            elif channel == EMAIL and self.email is not None:
                attachment = self._attachment()
                content = messages.email_digest(view, self.config, attached=attachment is not None)
                message_id = messages.message_id([r.dedup_key for r in rows], self.config.notify.email.sender)
                email_msg = build_message(self.config.notify.email, recipient, content, message_id, attachment)
                mid = await asyncio.to_thread(self.email.send, email_msg)
            else:
                raise DeliveryError(f"unknown channel {channel!r}", permanent=True)
        except DeliveryError as exc:
            self._mark_failed(rows, exc)
            return
        self._mark_sent(rows, mid)

    def _attachment(self) -> Attachment | None:
        if self.attachment is None or not self.config.notify.digest_attach_xlsx:
            return None
        if not self._attached:
            try:
                self._attached.append(self.attachment())
            except Exception:
                # A report that cannot be built must not hold back the digests themselves.
                log.exception("the digest attachment could not be built; sending digests without it")
                self._attached.append(None)
        return self._attached[0]

    def _mark_sent(self, rows: Sequence[Outbox], message_id: str) -> None:
        with session_scope(self.engine) as session:
            held = q.mark_sent(session, [r.id for r in rows], self.token, self.clock(), message_id)
        self.report.sent += held
        if held < len(rows):
            log.warning("outbox rows %s were re-claimed while being sent (lease expired)", [r.id for r in rows])

    def _mark_failed(self, rows: Sequence[Outbox], error: DeliveryError) -> dt.datetime:
        """Schedule the next try (or give up); returns when the next try is."""
        now = self.clock()
        max_attempts = self.config.notify.max_attempts
        failures = max(r.attempts for r in rows) + 1
        # Flood control is Telegram saying "later", not a failure: exactly retry_after, no attempt counted.
        flood = error.retry_after is not None
        next_at = now + dt.timedelta(seconds=error.retry_after or 0) if flood else now + backoff(failures, self.rng)
        dead = error.permanent or (not flood and failures >= max_attempts)
        with session_scope(self.engine) as session:
            q.mark_failed(
                session,
                [r.id for r in rows],
                self.token,
                dead=dead,
                next_attempt_at=next_at,
                last_error=str(error)[:2000],
                count_attempt=not flood,
            )
        ids = [r.id for r in rows]
        if dead:
            self.report.dead += len(rows)
            log.warning(
                "outbox %s to %s %s: given up after %d attempt(s): %s",
                ids,
                rows[0].channel,
                rows[0].recipient,
                failures,
                error,
            )
        else:
            self.report.retried += len(rows)
            log.info("outbox %s: retry at %s: %s", ids, next_at.isoformat(), error)
        return next_at

    def _release(self, rows: Sequence[Outbox], next_at: dt.datetime) -> None:
        if rows:
            with session_scope(self.engine) as session:
                q.release(session, [r.id for r in rows], self.token, next_at)


def _preview(engine: Engine, config: Config, modes: Sequence[str], cutoff: dt.datetime) -> list[dict[str, Any]]:
    with session_scope(engine) as session:
        rows = q.due_rows(session, channels=(TELEGRAM, EMAIL), modes=modes, cutoff=cutoff)
    out: list[dict[str, Any]] = []
    for row in (r for r in rows if r.mode == INSTANT):
        if row.channel == TELEGRAM:
            text = messages.telegram_alert(row.payload, config).text
        else:
            text = messages.email_alert(row.payload, config).subject
        out.append({"channel": row.channel, "recipient": row.recipient, "mode": INSTANT, "rows": 1, "text": text})
    for (channel, recipient), group in _groups([r for r in rows if r.mode == DIGEST]).items():
        view = messages.digest_view([r.payload for r in group], config, cutoff)
        text = messages.telegram_digest(view, config) if channel == TELEGRAM else view.subject
        out.append({"channel": channel, "recipient": recipient, "mode": DIGEST, "rows": len(group), "text": text})
    return out


async def flush_async(
    engine: Engine,
    config: Config,
    *,
    digest: bool = False,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    attachment: AttachmentHook | None = None,
    notes: Sequence[str] = (),
    rng: random.Random | None = None,
    limiter: TelegramRateLimiter | None = None,
) -> FlushReport:
    """Deliver what is due; see `flush`."""
    clock: Callable[[], dt.datetime] = (lambda: now) if now is not None else utcnow
    cutoff = clock()
    modes = [INSTANT, DIGEST] if digest else [INSTANT]
    if dry_run:
        return FlushReport(preview=_preview(engine, config, modes, cutoff))
    ready = configured_channels(config)
    report = FlushReport()
    with session_scope(engine) as session:
        report.would_send = q.count_due(session, channels={TELEGRAM, EMAIL} - ready, modes=modes, cutoff=cutoff)
    if not ready:
        return report
    tg_cfg, mail_cfg = config.notify.telegram, config.notify.email
    install_log_redaction(
        [s.get_secret_value() if s else None for s in (tg_cfg.token, mail_cfg.password)],
    )
    telegram = TelegramSender(tg_cfg, limiter) if TELEGRAM in ready else None
    email = EmailSender(mail_cfg) if EMAIL in ready else None
    flusher = Flusher(
        engine,
        config,
        clock=clock,
        rng=rng or random.Random(),
        telegram=telegram,
        email=email,
        attachment=attachment,
        failures=notes,
    )
    flusher.report.would_send = report.would_send
    if telegram is None:
        return await flusher.run(digest)
    async with telegram:
        return await flusher.run(digest)


def flush(
    engine: Engine,
    config: Config,
    *,
    digest: bool = False,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    attachment: AttachmentHook | None = None,
    notes: Sequence[str] = (),
    rng: random.Random | None = None,
    limiter: TelegramRateLimiter | None = None,
) -> FlushReport:
    """Deliver due instant rows (and, with `digest`, one digest per recipient of the pending digest rows).

    Channels without config (no Telegram token, no SMTP host) are left pending and counted in `would_send`.
    `notes` (the daily run's failed steps) head every digest sent.
    `now` replaces the clock (tests flush "later" instead of sleeping through a backoff); `dry_run` claims
    nothing and returns the messages that would go in `preview`.
    """
    return asyncio.run(
        flush_async(
            engine,
            config,
            digest=digest,
            dry_run=dry_run,
            now=now,
            attachment=attachment,
            rng=rng,
            limiter=limiter,
            notes=notes,
        )
    )
