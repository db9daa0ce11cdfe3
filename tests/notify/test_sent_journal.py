"""The sent-journal: fsynced lines that survive a torn write, compaction, and reconciliation into the outbox."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

import notify.outbox
from notify.journal import ATTEMPT, FAILED, SENT, Entry, SentJournal, journal_path, reconcile
from notify.outbox import LEASE, flush, sent_journal
from storage.models import OutboxStatus


def entry(kind: str, row_id: int, claim: str = "x:1:1:host", at: str | None = None) -> Entry:
    return Entry(
        kind, ((row_id, f"{row_id}:telegram:1001"),), "telegram", "1001", claim, at or "2026-11-23T06:00:00+00:00"
    )


def test_entries_are_read_back_and_a_torn_last_line_is_ignored_and_not_glued_to_the_next(tmp_path: Path) -> None:
    journal = SentJournal(tmp_path / "j" / "sent.jsonl")
    assert journal.entries() == []
    assert not (tmp_path / "j").exists()  # reading creates nothing
    journal.append(entry(ATTEMPT, 1))
    with journal.path.open("ab") as out:
        out.write(b'{"kind":"sent","rows":[[1,"1:tel')  # killed mid-write
    assert journal.entries() == [entry(ATTEMPT, 1)]

    journal.append(entry(SENT, 2))
    assert journal.entries() == [entry(ATTEMPT, 1), entry(SENT, 2)]
    assert oct(journal.path.stat().st_mode & 0o777) == "0o600"


def test_compaction_drops_what_is_done_and_keeps_what_others_appended(tmp_path: Path) -> None:
    journal = SentJournal(tmp_path / "sent.jsonl")
    writers = [threading.Thread(target=journal.append, args=(entry(ATTEMPT, i),)) for i in range(40)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    assert sorted(e.rows[0][0] for e in journal.entries()) == list(range(40))

    journal.drop([entry(ATTEMPT, i) for i in range(0, 40, 2)])
    assert sorted(e.rows[0][0] for e in journal.entries()) == list(range(1, 40, 2))
    journal.drop(journal.entries())
    assert not journal.path.exists()  # nothing left: no file
    assert not list(tmp_path.glob(".*tmp"))


def test_the_journal_lives_beside_an_sqlite_file_or_in_the_configured_folder(tmp_path: Path) -> None:
    db = tmp_path / "data" / "pricewatch.db"
    assert journal_path(make_url(f"sqlite:///{db}")) == db.with_name("pricewatch.db-sent.jsonl")
    beside = journal_path(make_url(f"sqlite:///{db}"), str(tmp_path / "j"))
    assert beside.parent == tmp_path / "j"
    pg = journal_path(make_url("postgresql+psycopg://u:secret@db.example:5432/pw"), str(tmp_path / "j"))
    assert pg.parent == tmp_path / "j"
    assert "secret" not in str(pg)
    assert pg != beside
    assert pg == journal_path(make_url("postgresql+psycopg://u:other@db.example:5432/pw"), str(tmp_path / "j"))


def test_reconcile_records_sent_flags_orphaned_attempts_and_keeps_live_ones(
    engine: Engine, make_config: Any, queue: Any, outbox_rows: Any, tmp_path: Path
) -> None:
    config = make_config([{"name": "all", "telegram": ["1001"]}])
    for _ in range(4):
        queue(engine, config)
    rows = outbox_rows(engine)
    keys = [((r.id, r.dedup_key),) for r in rows]
    live = notify.outbox.q.claim_token()  # this process: alive
    gone = "dead0000:999999:1:" + live.split(":")[3]  # a pid that does not run here
    long_ago = (dt.datetime.now(dt.UTC) - LEASE - dt.timedelta(minutes=1)).isoformat()
    now = dt.datetime.now(dt.UTC).isoformat()
    journal = SentJournal(tmp_path / "sent.jsonl")
    lines = [
        Entry(ATTEMPT, keys[0], "telegram", "1001", gone, now),
        Entry(SENT, keys[0], "telegram", "1001", gone, now, "77"),  # accepted, never recorded
        Entry(ATTEMPT, keys[1], "telegram", "1001", gone, now),  # killed while waiting for the answer
        Entry(ATTEMPT, keys[2], "telegram", "1001", live, now),  # a live flush's send under way
        Entry(ATTEMPT, keys[3], "telegram", "1001", live, long_ago),  # answered by nobody for longer than a lease
        Entry(FAILED, ((999, "999:telegram:1001"),), "telegram", "1001", gone, now),  # a row of another database
    ]
    for line in lines:
        journal.append(line)

    done = reconcile(engine, journal, own_claim="", wait=dt.timedelta(seconds=1), lease=LEASE)

    assert (done.sent, done.repeats) == (1, 2)
    after = outbox_rows(engine)
    assert (after[0].status, after[0].provider_message_id) == (OutboxStatus.SENT, "77")
    assert [bool(r.payload.get("repeat")) for r in after] == [False, True, False, True]
    assert journal.entries() == [lines[3]]  # only the send still under way


def test_a_row_the_journal_says_was_accepted_is_not_sent_again(
    engine: Engine, telegram_api: Any, make_config: Any, queue: Any, outbox_rows: Any
) -> None:
    config = make_config(telegram_url=telegram_api.url)
    queue(engine, config)
    (row,) = outbox_rows(engine)
    journal = sent_journal(engine, config)
    journal.append(
        Entry(
            SENT, ((row.id, row.dedup_key),), "telegram", row.recipient, "gone:1:1:h", "2026-11-23T06:00:00+00:00", "5"
        )
    )

    assert flush(engine, config, dry_run=True).preview == []
    report = flush(engine, config)

    assert report.sent == 0
    assert telegram_api.messages == []
    (row,) = outbox_rows(engine)
    assert (row.status, row.provider_message_id) == (OutboxStatus.SENT, "5")
    assert row.sent_at == dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC)
    assert not journal.path.exists()  # compacted


def test_a_flush_leaves_no_journal_behind(engine: Engine, telegram_api: Any, make_config: Any, queue: Any) -> None:
    config = make_config(telegram_url=telegram_api.url)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    for _ in range(3):
        queue(engine, config)
    telegram_api.fail_next("500", times=1, methods={"sendMessage"})
    assert (flush(engine, config).retried, flush(engine, config, now=later).sent) == (1, 3)
    assert not sent_journal(engine, config).path.exists()
