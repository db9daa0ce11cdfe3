"""One holder at a time across processes and hosts: a PostgreSQL advisory lock, or a lock row on SQLite."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psutil
from sqlalchemy import Connection, Engine, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from storage.models import RunLock, utcnow

HEARTBEAT_SECONDS = 30
# A lock row whose heartbeat is older than this belongs to a holder that died (or hung) on another host.
STALE_AFTER = dt.timedelta(seconds=HEARTBEAT_SECONDS * 5)


class LockBusy(Exception):
    """Another live process holds the lock."""

    def __init__(self, name: str, holder: str) -> None:
        super().__init__(f"{name} is already running ({holder})")
        self.holder = holder


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _advisory_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _holder_alive(holder: str) -> bool:
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname():
        return True  # cannot see another host's processes: rely on the heartbeat
    try:
        return psutil.pid_exists(int(pid))
    except ValueError:
        return False


@contextmanager
def _pg_lock(engine: Engine, name: str) -> Iterator[None]:
    # The session-level advisory lock dies with its connection, so a killed holder frees it at once.
    with engine.connect() as conn:
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _advisory_key(name)}).scalar()
        conn.commit()
        if not got:
            raise LockBusy(name, "another process holds the PostgreSQL advisory lock")
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _advisory_key(name)})
            conn.commit()


def _take_row(conn: Connection, name: str, me: str) -> None:
    now = utcnow()
    row = conn.execute(select(RunLock).where(RunLock.name == name)).first()
    if row is not None:
        stale = now - row.heartbeat_at > STALE_AFTER or not _holder_alive(row.holder)
        if not stale:
            raise LockBusy(name, row.holder)
        # Taken over only if nobody else took it over first.
        conn.execute(delete(RunLock).where(RunLock.name == name, RunLock.holder == row.holder))
    try:
        conn.execute(insert(RunLock).values(name=name, holder=me, acquired_at=now, heartbeat_at=now))
    except IntegrityError:
        raise LockBusy(name, "another process took it at the same moment") from None


@contextmanager
def _row_lock(engine: Engine, name: str) -> Iterator[None]:
    me = holder_id()
    with engine.connect() as conn:
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # serialize would-be holders on SQLite
        try:
            _take_row(conn, name, me)
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            with engine.begin() as c:
                c.execute(
                    update(RunLock).where(RunLock.name == name, RunLock.holder == me).values(heartbeat_at=utcnow())
                )

    beater = threading.Thread(target=beat, name=f"lock-heartbeat-{name}", daemon=True)
    beater.start()
    try:
        yield
    finally:
        stop.set()
        beater.join()
        with engine.begin() as c:
            c.execute(delete(RunLock).where(RunLock.name == name, RunLock.holder == me))


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[None]:
    """Hold the named lock for the block; raise LockBusy at once when a live holder has it."""
    lock = _pg_lock if engine.dialect.name == "postgresql" else _row_lock
    with lock(engine, name):
        yield
