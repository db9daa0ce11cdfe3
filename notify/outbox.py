"""Delivering the outbox: claim due rows under a lease, send, record each outcome; digests bundled per recipient.

What a recipient gets (docs/reliability.md, "Delivery guarantee"):

- A message the provider accepted and answered is sent at most once. Its acceptance is written to the sent-journal
  (`notify.journal`, fsynced) before the database is asked to record it; recording "sent" retries through database
  locks for up to `RECORD_WAIT`, and every flush reconciles the journal into the outbox before it claims anything.
  So neither a lock, a crash nor a kill between the provider's answer and the commit sends it again.
- A message is never lost: rows are claimed (status `sending`, `locked_until`, `claimed_by`) and that claim is
  committed before anything is sent; rows a flush claimed and did not record are taken over when its lease runs out,
  or at the next flush when its process is gone from this host (killed). A refused bot token or SMTP login keeps
  every message waiting (no attempt counted) until the admin fixes it.
- A send that went out and got no answer (a timeout, a flush killed while waiting) may have arrived: it is sent again
  (at least once) and that text carries the "повтор" / "repeat" mark, so the rare true duplicate is recognisable.

A flush never starts a send when its lease is nearly spent (`SEND_BUDGET` covers the longest send and
`RECORD_WAIT` its recording), so a second flush that re-claims an expired row cannot overlap a send in flight.
A refusal that retries cannot fix (a refused token or login, a chat that does not exist, a refused mailbox) is
reported by route in `FlushReport.refusals` and raises one admin alert per failure episode on the other channels.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from crawler.config import Config
from notify import messages, notices
from notify.email import Attachment, EmailSender, build_message
from notify.errors import CHANNEL, DeliveryError
from notify.journal import ATTEMPT, FAILED, SENT, Entry, SentJournal, journal_path, reconcile, retry_through_locks
from notify.journal import utc_now_iso as journal_time
from notify.ratelimit import TelegramRateLimiter
from notify.redact import install_log_redaction
from notify.routing import EMAIL, TELEGRAM, enqueue_delivery_alert
from notify.telegram import TelegramSender
from storage.engine import session_scope
from storage.models import Outbox, utcnow
from storage.queries import outbox as q

log = logging.getLogger(__name__)

INSTANT, DIGEST = "instant", "digest"
LEASE = dt.timedelta(minutes=10)
SEND_BUDGET = dt.timedelta(minutes=2)  # longer than any one send may take (Telegram and SMTP timeouts)
RECORD_WAIT = dt.timedelta(minutes=2)  # how long recording "sent" waits through database locks
BATCH = 100
PARALLEL_RECIPIENTS = 8
BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_CAP = dt.timedelta(hours=1)

# Builds the file digest emails carry (`notify.report_files.digest_attachment`); called at most once a flush.
AttachmentHook = Callable[[], Attachment | None]


@dataclass(frozen=True)
class Refusal:
    """A route whose messages retries cannot deliver: refused by the provider, or given up after every attempt."""

    channel: str
    recipient: str
    reason: str
    kept: bool  # the messages wait for the fix (a refused token or login); else they were given up

    def line(self) -> str:
        outcome = "messages wait until it is fixed" if self.kept else "messages to it given up"
        return f"delivery refused: {self.channel} → {self.recipient}: {self.reason} ({outcome})"


@dataclass
class FlushReport:
    sent: int = 0  # alert and digest messages the providers accepted
    retried: int = 0
    dead: int = 0
    admin_alerts: int = 0  # the admin's alerts about delivery failures that went
    would_send: dict[str, int] = field(default_factory=dict)  # channel → due rows, channel not configured
    preview: list[dict[str, Any]] = field(default_factory=list)  # --dry-run: what would be sent
    refusals: list[Refusal] = field(default_factory=list)  # one per route, in the order they happened

    def summary(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "retried": self.retried,
            "dead": self.dead,
            "admin_alerts": self.admin_alerts,
            "would_send": dict(self.would_send),
            "refused": self.refusal_lines(),
        }

    def refusal_lines(self) -> list[str]:
        return [r.line() for r in self.refusals]

    def refuse(self, refusal: Refusal) -> None:
        if all((r.channel, r.recipient) != (refusal.channel, refusal.recipient) for r in self.refusals):
            self.refusals.append(refusal)


@dataclass
class Outcome:
    """How one send ended: a provider message id, or a DeliveryError and when the rows are tried next."""

    message_id: str | None = None
    error: DeliveryError | None = None
    next_at: dt.datetime | None = None


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


def episode(channel: str, recipient: str | None = None) -> str:
    """The fingerprint of a delivery failure episode: a whole channel, or one recipient on it."""
    return f"{q.DELIVERY_RULE}:{channel}" if recipient is None else f"{q.DELIVERY_RULE}:{channel}:{recipient}"[:128]


def _is_notice(row: Outbox) -> bool:
    """An admin alert about pricewatch's own delivery."""
    return (row.payload or {}).get("rule") == q.DELIVERY_RULE


def _groups(rows: Sequence[Outbox]) -> dict[tuple[str, str], list[Outbox]]:
    groups: dict[tuple[str, str], list[Outbox]] = {}
    for row in rows:
        groups.setdefault((row.channel, row.recipient), []).append(row)
    return groups


class Flusher:
    """One flush: the senders, the clock, this flush's claim token, its journal and the tally."""

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
        journal: SentJournal,
        failures: Sequence[str] = (),
    ) -> None:
        self.engine, self.config, self.clock, self.rng = engine, config, clock, rng
        self.failures = list(failures)
        self.telegram, self.email, self.attachment = telegram, email, attachment
        self.journal = journal
        self.token = q.claim_token()
        self._attached: list[Attachment | None] = []  # built on first use
        self.report = FlushReport()
        self.channels = {c for c, sender in ((TELEGRAM, telegram), (EMAIL, email)) if sender is not None}
        self.down: dict[str, dt.datetime] = {}  # channel refused this flush → when its rows are tried next
        self.episodes: set[str] = set()  # delivery failure episodes open
        self.settled: list[Entry] = []  # journal lines the outbox now reflects: dropped after each batch
        self.cutoff = clock()
        self.notices_queued = False

    # -- the flush ---------------------------------------------------------------------------------------
    async def run(self, digest: bool) -> FlushReport:
        self.cutoff = self.clock()  # rows put back during this flush are due after it, so each row is tried once
        with session_scope(self.engine) as session:
            self.episodes = q.open_delivery_fingerprints(session)
        try:
            await self._instant_rounds()
            if digest:
                rows, lease_until = self._claim([DIGEST], None)
                await self._each_group(rows, lease_until, self._deliver_digest)
                self._settle()
                if self.notices_queued:
                    await self._instant_rounds()
        finally:
            self._settle()
        return self.report

    async def _instant_rounds(self) -> None:
        """Claim and deliver batches until nothing instant is due; admin alerts go after the batch's other rows,
        so one whose episode ended meanwhile (its channel delivered again) is withdrawn, not sent."""
        self.notices_queued = False
        while True:
            rows, lease_until = self._claim([INSTANT], BATCH)
            if not rows:
                return
            await self._each_group([r for r in rows if not _is_notice(r)], lease_until, self._deliver_instant)
            await self._each_group([r for r in rows if _is_notice(r)], lease_until, self._deliver_instant)
            self._settle()

    def _claim(self, modes: Sequence[str], limit: int | None) -> tuple[list[Outbox], dt.datetime]:
        """Reconcile the journal (nothing is sent before), then claim due rows of the channels still accepting."""
        done = reconcile(self.engine, self.journal, own_claim=self.token, wait=RECORD_WAIT, lease=LEASE)
        if done.sent or done.repeats:
            log.warning("sent-journal: %d rows recorded as sent, %d to be marked as a repeat", done.sent, done.repeats)
        lease_until = self.clock() + LEASE
        with session_scope(self.engine) as session:
            rows = q.claim_due(
                session,
                channels=self.channels - set(self.down),
                modes=modes,
                cutoff=self.cutoff,
                lease_until=lease_until,
                token=self.token,
                limit=limit,
            )
        return rows, lease_until

    def _settle(self) -> None:
        self.journal.drop(self.settled)
        self.settled = []

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

    def _must_stop(self, channel: str, lease_until: dt.datetime) -> bool:
        """The channel was refused in this flush, or too little lease is left to send and record one more."""
        return channel in self.down or self.clock() >= lease_until - SEND_BUDGET - RECORD_WAIT

    # -- instant rows and digests ------------------------------------------------------------------------
    async def _deliver_instant(
        self, channel: str, recipient: str, rows: list[Outbox], lease_until: dt.datetime
    ) -> None:
        """One recipient's rows in order; after a failure that is not final the rest wait with it, keeping order."""
        for index, row in enumerate(rows):
            if self._must_stop(channel, lease_until):
                self._release(rows[index:], self.down.get(channel, self.clock()))
                return
            if _is_notice(row) and not self._notice_wanted(row):
                continue
            held = notices.held_until(row.payload, self.config, self.clock())
            if held is not None:  # an enforcement notice never goes in the quiet hours
                self._release([row], held)
                continue
            outcome = await self._attempt(
                channel, recipient, [row], functools.partial(self._send_instant, channel, row)
            )
            if outcome.error is not None and not outcome.error.permanent:
                self._release(rows[index + 1 :], outcome.next_at or self.clock())
                return

    async def _send_instant(self, channel: str, row: Outbox, on_send: Callable[[], None]) -> str:
        enforcement = notices.is_enforcement(row.payload)
        if channel == TELEGRAM and self.telegram is not None:
            show = notices.telegram_message if enforcement else messages.telegram_alert
            msg = show(row.payload, self.config)
            return await self.telegram.send_message(row.recipient, msg.text, msg.buttons, on_send=on_send)
        if channel == EMAIL and self.email is not None:
            content = (notices.email_content if enforcement else messages.email_alert)(row.payload, self.config)
            mid = messages.message_id([row.dedup_key], self.config.notify.email.sender)
            packet = notices.attachment(row.payload, self.config, self.clock()) if enforcement else None
            email_msg = build_message(self.config.notify.email, row.recipient, content, mid, packet)
            return await asyncio.to_thread(self.email.send, email_msg, on_send)
        raise DeliveryError(f"unknown channel {channel!r}", permanent=True)

    async def _deliver_digest(self, channel: str, recipient: str, rows: list[Outbox], lease_until: dt.datetime) -> None:
        """All of a recipient's pending digest rows in one message; marked sent together after it went."""
        if self._must_stop(channel, lease_until):
            self._release(rows, self.down.get(channel, self.clock()))
            return
        await self._attempt(channel, recipient, rows, functools.partial(self._send_digest, channel, recipient, rows))

    async def _send_digest(self, channel: str, recipient: str, rows: list[Outbox], on_send: Callable[[], None]) -> str:
        view = messages.digest_view([r.payload for r in rows], self.config, self.clock(), self.failures)
        if channel == TELEGRAM and self.telegram is not None:
            text = messages.telegram_digest(view, self.config)
            return await self.telegram.send_message(recipient, text, on_send=on_send)
        if channel == EMAIL and self.email is not None:
            attachment = self._attachment()
            name = attachment.filename if attachment is not None else None
            content = messages.email_digest(view, self.config, attached=attachment is not None, attachment_name=name)
            message_id = messages.message_id([r.dedup_key for r in rows], self.config.notify.email.sender)
            email_msg = build_message(self.config.notify.email, recipient, content, message_id, attachment)
            return await asyncio.to_thread(self.email.send, email_msg, on_send)
        raise DeliveryError(f"unknown channel {channel!r}", permanent=True)

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

    # -- one send, journaled -----------------------------------------------------------------------------
    async def _attempt(
        self, channel: str, recipient: str, rows: list[Outbox], send: Callable[[Callable[[], None]], Awaitable[str]]
    ) -> Outcome:
        """Send, journaling the attempt right before the request leaves and the answer as soon as it comes, then
        record the outcome: the journal knows before the database does."""
        keys = tuple((r.id, r.dedup_key) for r in rows)
        went: list[Entry] = []

        def journal_attempt() -> None:
            # No journal, no send: an OSError here stops the flush before the request leaves.
            went.append(Entry(ATTEMPT, keys, channel, recipient, self.token, journal_time()))
            self.journal.append(went[0])

        try:
            message_id = await send(journal_attempt)
        except DeliveryError as exc:
            outcome = Outcome(error=exc, next_at=self._mark_failed(rows, exc))
            if went:
                self._journal_answer(went[0], went[0].answered(FAILED))
            return outcome
        attempt = went[0] if went else Entry(ATTEMPT, keys, channel, recipient, self.token, journal_time())
        sent = attempt.answered(SENT, message_id)
        self._journal_answer(attempt, sent, keep=True)
        if _is_notice(rows[0]):
            self.report.admin_alerts += 1
        else:
            self.report.sent += len(rows)
        if await self._record_sent(rows, message_id):
            self.settled += [attempt, sent]
        self._delivered(channel, recipient)
        return Outcome(message_id=message_id)

    def _journal_answer(self, attempt: Entry, answer: Entry, keep: bool = False) -> None:
        """Journal how the attempt ended; a failure here is logged, never raised: the message went (or did not)."""
        try:
            self.journal.append(answer)
        except OSError as exc:
            log.error("the sent-journal %s could not be written: %s", self.journal.path, exc)
        if not keep:
            self.settled += [attempt, answer]

    async def _record_sent(self, rows: Sequence[Outbox], message_id: str) -> bool:
        """Mark rows sent, waiting through database locks; False (the journal keeps the truth) if it still cannot."""
        pairs = [(r.id, r.dedup_key) for r in rows]
        at = self.clock()

        def write() -> int:
            with session_scope(self.engine) as session:
                return q.record_sent(session, pairs, at=at, provider_message_id=message_id)

        try:
            await asyncio.to_thread(retry_through_locks, write, RECORD_WAIT)
        except OperationalError as exc:
            log.error(
                "outbox %s was delivered but could not be recorded (%s); the sent-journal keeps it for the next flush",
                [r.id for r in rows],
                exc,
            )
            return False
        return True

    def _mark_failed(self, rows: Sequence[Outbox], error: DeliveryError) -> dt.datetime:
        """Schedule the next try (or give up); returns when the next try is."""
        now = self.clock()
        failures = max(r.attempts for r in rows) + 1
        # Flood control is Telegram saying "later", a refused token or login the admin's to fix: no attempt counted.
        waiting = error.retry_after is not None or error.refused == CHANNEL
        next_at = now + dt.timedelta(seconds=error.retry_after) if error.retry_after is not None else None
        next_at = next_at or now + backoff(failures, self.rng)
        dead = error.permanent or (not waiting and failures >= self.config.notify.max_attempts)
        with session_scope(self.engine) as session:
            if error.unanswered:
                q.flag_repeat(session, [(r.id, r.dedup_key) for r in rows])
            q.mark_failed(
                session,
                [r.id for r in rows],
                self.token,
                dead=dead,
                next_attempt_at=next_at,
                last_error=str(error)[:2000],
                count_attempt=not waiting,
            )
        self._tally(rows, error, dead=dead, failures=failures, next_at=next_at)
        return next_at

    def _tally(
        self, rows: Sequence[Outbox], error: DeliveryError, *, dead: bool, failures: int, next_at: dt.datetime
    ) -> None:
        channel, recipient, ids = rows[0].channel, rows[0].recipient, [r.id for r in rows]
        if dead:
            self.report.dead += len(rows)
            reason = str(error) if error.permanent else f"given up after {failures} attempt(s): {error}"
            self.report.refuse(Refusal(channel, recipient, reason, kept=False))
            log.warning("outbox %s to %s %s: given up: %s", ids, channel, recipient, reason)
        else:
            self.report.retried += len(rows)
            log.info("outbox %s: retry at %s: %s", ids, next_at.isoformat(), error)
        if error.refused == CHANNEL:
            self.down[channel] = next_at
            self.report.refuse(Refusal(channel, recipient, str(error), kept=True))
            log.warning("%s refuses delivery (%s): its messages wait until the admin fixes it", channel, error)
        if error.refused is not None:
            self._raise_episode(channel, recipient, error)

    def _release(self, rows: Sequence[Outbox], next_at: dt.datetime) -> None:
        if rows:
            with session_scope(self.engine) as session:
                q.release(session, [r.id for r in rows], self.token, next_at)

    # -- failure episodes and the admin's alerts ---------------------------------------------------------
    def _raise_episode(self, channel: str, recipient: str, error: DeliveryError) -> None:
        """Open the episode of a refusal (once) and queue the admin's alert everywhere but where it failed."""
        whole = error.refused == CHANNEL
        fingerprint = episode(channel, None if whole else recipient)
        if fingerprint in self.episodes:
            return
        self.episodes.add(fingerprint)
        details = {"channel": channel, "recipient": recipient, "reason": str(error)[:2000], "kept": whole}
        subject = messages.delivery_subject(self.config, channel, None if whole else recipient)

        def excluded(to_channel: str, to_recipient: str) -> bool:
            return to_channel == channel and (whole or to_recipient == recipient)

        try:
            with session_scope(self.engine) as session:
                opened = q.open_delivery_alert(
                    session, fingerprint=fingerprint, subject=subject, details=details, now=self.clock()
                )
                queued = 0
                if opened is not None:
                    queued = enqueue_delivery_alert(session, self.config, *opened, due=self.cutoff, excluded=excluded)
        except IntegrityError:
            return  # another flush opened this episode at the same moment
        if opened is not None:
            self.notices_queued = self.notices_queued or queued > 0
            log.warning("delivery failure %s: the admin is alerted on %d other route(s)", fingerprint, queued)

    def _delivered(self, channel: str, recipient: str) -> None:
        """A message went: the episodes of its channel and recipient are over."""
        ended = {episode(channel), episode(channel, recipient)} & self.episodes
        if ended:
            with session_scope(self.engine) as session:
                q.resolve_delivery_alerts(session, ended, self.clock())
            self.episodes -= ended
            log.warning("delivery on %s works again (%s)", channel, ", ".join(sorted(ended)))

    def _notice_wanted(self, row: Outbox) -> bool:
        """An admin alert goes only while its episode is open; one whose episode ended first is withdrawn (the
        episode stays in the alert's history)."""
        with session_scope(self.engine) as session:
            if q.alert_is_open(session, int(row.payload["alert_id"])):
                return True
            q.withdraw(session, [row.id], self.token)
        log.info("admin alert %s withdrawn: delivery worked again before it could go", row.id)
        return False


def _instant_preview(row: Outbox, config: Config) -> dict[str, Any]:
    if notices.is_enforcement(row.payload):
        text = notices.preview(row.channel, row.payload, config)
    elif row.channel == TELEGRAM:
        text = messages.telegram_alert(row.payload, config).text
    else:
        text = messages.email_alert(row.payload, config).subject
    return {"channel": row.channel, "recipient": row.recipient, "mode": INSTANT, "rows": 1, "text": text}


def _preview(
    engine: Engine, config: Config, modes: Sequence[str], cutoff: dt.datetime, journaled: set[int]
) -> list[dict[str, Any]]:
    with session_scope(engine) as session:
        due = q.due_rows(session, channels=(TELEGRAM, EMAIL), modes=modes, cutoff=cutoff)
    rows = [r for r in due if r.id not in journaled]  # the journal says these went already
    out = [_instant_preview(row, config) for row in rows if row.mode == INSTANT]
    for (channel, recipient), group in _groups([r for r in rows if r.mode == DIGEST]).items():
        view = messages.digest_view([r.payload for r in group], config, cutoff)
        text = messages.telegram_digest(view, config) if channel == TELEGRAM else view.subject
        out.append({"channel": channel, "recipient": recipient, "mode": DIGEST, "rows": len(group), "text": text})
    return out


def _senders(
    config: Config, ready: set[str], limiter: TelegramRateLimiter | None
) -> tuple[TelegramSender | None, EmailSender | None]:
    tg_cfg, mail_cfg = config.notify.telegram, config.notify.email
    install_log_redaction([s.get_secret_value() if s else None for s in (tg_cfg.token, mail_cfg.password)])
    telegram = TelegramSender(tg_cfg, limiter) if TELEGRAM in ready else None
    email = EmailSender(mail_cfg) if EMAIL in ready else None
    return telegram, email


def sent_journal(engine: Engine, config: Config) -> SentJournal:
    """The sent-journal of the database `engine` writes to, on this host."""
    return SentJournal(journal_path(engine.url, config.notify.journal_dir))


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
    journal = sent_journal(engine, config)
    if dry_run:
        return FlushReport(preview=_preview(engine, config, modes, cutoff, journal.sent_rows()))
    reconcile(engine, journal, own_claim="", wait=RECORD_WAIT, lease=LEASE)
    ready = configured_channels(config)
    report = FlushReport()
    with session_scope(engine) as session:
        report.would_send = q.count_due(session, channels={TELEGRAM, EMAIL} - ready, modes=modes, cutoff=cutoff)
    if not ready:
        return report
    telegram, email = _senders(config, ready, limiter)
    flusher = Flusher(
        engine,
        config,
        clock=clock,
        rng=rng or random.Random(),
        telegram=telegram,
        email=email,
        attachment=attachment,
        journal=journal,
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
    Routes refused for a reason retries cannot fix are in `refusals` (the caller exits non-zero on them).
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
