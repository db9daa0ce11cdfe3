"""The sent-journal: what a provider accepted, fsynced on the flushing host the moment it answered, and reconciled
into the outbox before a flush sends anything.

A flush appends one line before each send (`attempt`: the outbox rows, channel, recipient, its claim) and one after
the provider answered (`sent` with the provider's message id, or `failed`). A message the provider accepted is thus on
disk before the database is asked to record it, so neither a database lock, a crash nor a kill between the two sends
it again: the next flush reads the journal first and marks those rows sent. An `attempt` with no answer, left by a
flush that died or long ago, means the message may have arrived unheard: its rows are flagged so that their next send
carries the "repeat" mark. Lines are dropped once the outbox holds what they say (compaction), so the file stays as
small as what is in flight; a torn last line (a kill mid-write) is ignored.

The file is one per database, beside an SQLite file (`<db>-sent.jsonl`) or in `notify.journal_dir` (default for
PostgreSQL: `$XDG_STATE_HOME/pricewatch`, else `~/.local/state/pricewatch`), as `sent-<hash of the database>.jsonl`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import URL, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from storage.engine import session_scope
from storage.queries import outbox as q

log = logging.getLogger(__name__)

ATTEMPT, SENT, FAILED = "attempt", "sent", "failed"
_KINDS = (ATTEMPT, SENT, FAILED)
T = TypeVar("T")


def utc_now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


@dataclass(frozen=True)
class Entry:
    """One journal line: a send about to go (`attempt`) or how it ended (`sent`, `failed`)."""

    kind: str
    rows: tuple[tuple[int, str], ...]  # (outbox id, dedup key): a row is named by both, never by a reused id alone
    channel: str
    recipient: str
    claim: str  # the flush's claim token: which process wrote it
    at: str  # UTC, ISO 8601
    message_id: str | None = None

    def answered(self, kind: str, message_id: str | None = None) -> Entry:
        """The outcome line of this attempt."""
        return replace(self, kind=kind, message_id=message_id, at=utc_now_iso())

    def line(self) -> bytes:
        return (json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")

    @classmethod
    def parse(cls, line: str) -> Entry | None:
        """The entry a line holds; None for a torn or foreign line."""
        try:
            data = json.loads(line)
            rows = tuple((int(i), str(k)) for i, k in data["rows"])
            entry = cls(
                kind=str(data["kind"]),
                rows=rows,
                channel=str(data["channel"]),
                recipient=str(data["recipient"]),
                claim=str(data["claim"]),
                at=str(data["at"]),
                message_id=None if data.get("message_id") is None else str(data["message_id"]),
            )
        except (ValueError, TypeError, KeyError):
            return None
        return entry if entry.kind in _KINDS and entry.rows else None

    def moment(self) -> dt.datetime | None:
        try:
            moment = dt.datetime.fromisoformat(self.at)
        except ValueError:
            return None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "pricewatch"


def journal_path(url: URL, journal_dir: str | None = None) -> Path:
    """Where the journal of the database at `url` lives on this host (see the module's docstring)."""
    sqlite_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if sqlite_file and not journal_dir:
        database = Path(str(url.database)).absolute()
        return database.with_name(database.name + "-sent.jsonl")
    if sqlite_file:
        identity = str(Path(str(url.database)).absolute())
    elif url.get_backend_name() == "sqlite":
        identity = f"memory:{os.getpid()}"  # an in-memory database lives and dies with this process
    else:
        identity = f"{url.get_backend_name()}://{url.username}@{url.host}:{url.port}/{url.database}"  # no password
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]
    folder = Path(journal_dir).expanduser() if journal_dir else _state_dir()
    return folder / f"sent-{digest}.jsonl"


def _fsync_dir(fd: int) -> None:
    with contextlib.suppress(OSError):  # some file systems cannot sync a folder; the file itself was synced
        os.fsync(fd)


class SentJournal:
    """The append-only file, locked (flock on its folder) against the other flushes on this host."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def _locked(self, mode: int, create: bool) -> Iterator[int | None]:
        """The folder's descriptor under `mode` (LOCK_EX / LOCK_SH); None when the folder does not exist."""
        folder = self.path.parent
        if create:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        elif not folder.is_dir():
            yield None
            return
        fd = os.open(folder, os.O_RDONLY)
        try:
            fcntl.flock(fd, mode)
            yield fd
        finally:
            os.close(fd)  # closing releases the lock

    def append(self, entry: Entry) -> None:
        """Write one entry and fsync it before returning."""
        with self._locked(fcntl.LOCK_EX, create=True) as folder:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                size = os.fstat(fd).st_size
                # A torn line (a kill mid-write) ends the file: the entry starts a line of its own.
                torn = size > 0 and os.pread(fd, 1, size - 1) != b"\n"
                os.write(fd, (b"\n" if torn else b"") + entry.line())
                os.fsync(fd)
            finally:
                os.close(fd)
            if size == 0 and folder is not None:
                _fsync_dir(folder)

    def _read(self) -> list[Entry]:
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        entries = [Entry.parse(line) for line in text.splitlines() if line.strip()]
        return [e for e in entries if e is not None]

    def entries(self) -> list[Entry]:
        with self._locked(fcntl.LOCK_SH, create=False) as folder:
            return [] if folder is None else self._read()

    def drop(self, done: Collection[Entry]) -> None:
        """Compaction: rewrite the file without `done` (and without torn lines); remove it when nothing is left."""
        if not done or not self.path.exists():
            return
        gone = set(done)
        with self._locked(fcntl.LOCK_EX, create=False) as folder:
            if folder is None:
                return
            keep = [e for e in self._read() if e not in gone]
            if keep:
                spare = self.path.with_name(f".{self.path.name}.tmp")
                fd = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                try:
                    os.write(fd, b"".join(e.line() for e in keep))
                    os.fsync(fd)
                finally:
                    os.close(fd)
                os.replace(spare, self.path)
            else:
                self.path.unlink(missing_ok=True)
            _fsync_dir(folder)

    def sent_rows(self) -> set[int]:
        """Outbox ids the journal says were accepted (a dry run shows them as sent)."""
        return {row_id for e in self.entries() if e.kind == SENT for row_id, _ in e.rows}


def _lock_or_link(exc: OperationalError) -> bool:
    """A database lock (SQLite busy, a PostgreSQL lock or serialization conflict) or a lost connection."""
    import psycopg

    if exc.connection_invalidated:
        return True
    orig: Any = exc.orig
    if isinstance(orig, psycopg.errors.LockNotAvailable | psycopg.errors.TransactionRollback):
        return True
    return any(word in str(orig).lower() for word in ("database is locked", "database table is locked"))


def retry_through_locks(action: Callable[[], T], wait: dt.timedelta, sleep: Callable[[float], None] = time.sleep) -> T:
    """`action()`, tried again with backoff while the database is locked, for up to `wait` (plus the database's own
    lock wait per try); the last error is raised when the time is up."""
    deadline = time.monotonic() + wait.total_seconds()
    delay = 0.1
    while True:
        try:
            return action()
        except OperationalError as exc:
            if not _lock_or_link(exc) or time.monotonic() + delay > deadline:
                raise
            log.warning("the database is locked; trying again in %.1f s", delay)
        sleep(delay)
        delay = min(delay * 2, 5.0)


@dataclass(frozen=True)
class Reconciled:
    sent: int = 0  # rows marked sent from the journal
    repeats: int = 0  # rows whose last send may have arrived unheard


def _orphans(entries: list[Entry], own_claim: str, stale_before: dt.datetime) -> list[Entry]:
    """Attempts with no answer whose flush is gone (or that are older than any lease): nobody will answer them."""
    answered = {(e.claim, e.rows) for e in entries if e.kind != ATTEMPT}
    out = []
    for e in entries:
        if e.kind != ATTEMPT or (e.claim, e.rows) in answered or e.claim == own_claim:
            continue
        moment = e.moment()
        if q.claimer_gone(e.claim) or moment is None or moment < stale_before:
            out.append(e)
    return out


def _record(session: Session, entry: Entry) -> int:
    at = entry.moment() or dt.datetime.now(dt.UTC)
    return q.record_sent(session, entry.rows, at=at, provider_message_id=entry.message_id or "")


def reconcile(
    engine: Engine, journal: SentJournal, *, own_claim: str, wait: dt.timedelta, lease: dt.timedelta
) -> Reconciled:
    """Bring what the journal knows into the outbox, then drop it from the journal.

    `sent` lines mark their rows sent (with the provider's message id and time); orphaned attempts flag theirs for
    the "repeat" mark; answered attempts are simply dropped. Retries through database locks for up to `wait` and
    raises if it still cannot: then nothing may be sent.
    """
    entries = journal.entries()
    if not entries:
        return Reconciled()
    sent = [e for e in entries if e.kind == SENT]
    orphans = _orphans(entries, own_claim, dt.datetime.now(dt.UTC) - lease)
    answered = {(e.claim, e.rows) for e in entries if e.kind != ATTEMPT}
    settled = [e for e in entries if e.kind != ATTEMPT or (e.claim, e.rows) in answered]

    def write() -> Reconciled:
        with session_scope(engine) as session:
            marked = sum(_record(session, e) for e in sent)
            flagged = q.flag_repeat(session, [row for e in orphans for row in e.rows])
        return Reconciled(marked, flagged)

    done = retry_through_locks(write, wait)
    journal.drop(settled + orphans)
    return done
