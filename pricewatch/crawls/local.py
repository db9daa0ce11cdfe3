"""Running crawls: each distributor in a process of its own, a bounded number at a time, progress streamed back.

`run_crawls(config, config_path, ["techsnab"], output=sys.stdout)` writes the offers as JSON lines and stores
nothing; without `output` the child's pipelines store them in `db_url` and judge the run's health. A crawl that
stores, unlimited, gets its distributor's known listing URLs (from `db_url`) in a file, to revisit those its entry
points no longer lead to.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from crawler import clock
from crawler.channel import OFFER_PREFIX
from crawler.config import Config, Distributor
from crawler.crawl_process import DB_URL_ENV, FINISHED_REASONS
from crawler.errors import UserError
from storage.engine import make_engine, session_scope
from storage.queries.listings import known_listing_urls

STATUS_WAITING, STATUS_RUNNING, STATUS_FINISHED, STATUS_FAILED = "waiting", "running", "finished", "failed"
# After its own time limit (CLOSESPIDER_TIMEOUT) a crawl gets this long to close before it is killed.
KILL_GRACE_SECONDS = 120
_CHUNK = 256 * 1024
_LOG_TAIL = 40


@dataclass
class CrawlProgress:
    """What one crawl has done so far."""

    distributor: str
    status: str = STATUS_WAITING
    pages: int = 0
    offers: int = 0
    errors: int = 0
    pid: int | None = None  # the crawl process, while it runs


@dataclass
class CrawlSummary:
    """How one distributor's crawl ended."""

    distributor: str
    run_key: str
    status: str  # finished | failed
    pages: int
    offers: int
    errors: int
    duration: float  # seconds
    exit_code: int | None
    reason: str | None  # Scrapy's finish reason, or why the crawl failed
    health: str | None = None  # the stored run's verdict (ok / degraded / failed), when it was stored
    log_path: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status == STATUS_FAILED

    def row(self) -> dict[str, Any]:
        """The summary without the raw stats, for tables and JSON output."""
        row = asdict(self)
        row.pop("stats")
        row["duration"] = round(self.duration, 1)
        return row


ProgressCallback = Callable[[CrawlProgress], None]


def new_run_key(code: str) -> str:
    """A unique key for one crawl run (the store is idempotent on it)."""
    return f"{code}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def select_distributors(config: Config, codes: Sequence[str]) -> list[Distributor]:
    """The named distributors (an unknown code is a UserError), or every enabled one when none is named."""
    if codes:
        return [config.distributor(code) for code in dict.fromkeys(codes)]
    return [d for d in config.distributors if d.enabled]


def run_crawls(
    config: Config,
    config_path: str | os.PathLike[str],
    codes: Sequence[str] = (),
    *,
    db_url: str | None = None,
    output: IO[str] | None = None,
    limit: int = 0,
    daily_run_id: int | None = None,
    max_parallel: int | None = None,
    on_progress: ProgressCallback | None = None,
    log_dir: str | os.PathLike[str] | None = None,
) -> list[CrawlSummary]:
    """Crawl the distributors, each in its own process, at most `max_parallel` (default: the config's) at once.

    With `output`, offers go there as JSON lines (after the normalize pipeline) and nothing is stored; otherwise
    the crawl processes store into `db_url`. Returns one summary per distributor, in the order asked.
    """
    distributors = select_distributors(config, codes)
    if output is None and not db_url:
        raise UserError("a crawl needs --db to store into, or --output to write offers to")
    runner = _Runner(
        config_path=str(Path(config_path).resolve()),
        db_url=db_url,
        output=output,
        limit=limit,
        daily_run_id=daily_run_id,
        on_progress=on_progress,
        log_dir=Path(log_dir) if log_dir else None,
        time_limit=config.schedule.crawl_time_limit_minutes * 60 + KILL_GRACE_SECONDS,
    )
    parallel = max_parallel or config.schedule.max_parallel_crawls
    codes = [d.code for d in distributors]
    with tempfile.TemporaryDirectory(prefix="pricewatch-known-") as folder:
        if output is None and not limit:
            runner.known_urls = _known_url_files(db_url, codes, Path(folder))
        return asyncio.run(runner.run_all(codes, parallel))


def _known_url_files(db_url: str | None, codes: Sequence[str], folder: Path) -> dict[str, str]:
    """Per distributor, a file of its known listing URLs (one a line), for its crawl to revisit."""
    engine = make_engine(db_url)
    now = clock.utcnow()
    files = {}
    try:
        with session_scope(engine) as session:
            for code in codes:
                path = folder / f"{code}.txt"
                path.write_text("".join(f"{url}\n" for url in known_listing_urls(session, code, now)), encoding="utf-8")
                files[code] = str(path)
    finally:
        engine.dispose()
    return files


@dataclass
class _Runner:
    config_path: str
    db_url: str | None
    output: IO[str] | None
    limit: int
    daily_run_id: int | None
    on_progress: ProgressCallback | None
    log_dir: Path | None
    time_limit: float
    known_urls: dict[str, str] = field(default_factory=dict)  # distributor code → file of known listing URLs

    async def run_all(self, codes: list[str], parallel: int) -> list[CrawlSummary]:
        gate = asyncio.Semaphore(parallel)
        progress = {code: CrawlProgress(code) for code in codes}
        for item in progress.values():
            self.report(item)
        return list(await asyncio.gather(*(self.run_one(progress[code], gate) for code in codes)))

    def report(self, progress: CrawlProgress) -> None:
        if self.on_progress is not None:
            self.on_progress(progress)

    def environment(self) -> dict[str, str]:
        """The child's environment: ours, plus the database URL, which must never be on its command line."""
        env = dict(os.environ)
        env.pop(DB_URL_ENV, None)
        if self.db_url:
            env[DB_URL_ENV] = self.db_url
        return env

    def command(self, code: str, run_key: str, channel_fd: int) -> list[str]:
        cmd = [sys.executable, "-m", "crawler.crawl_process", "--config", self.config_path, "--distributor", code]
        cmd += ["--run-key", run_key, "--channel-fd", str(channel_fd), "--limit", str(self.limit)]
        if self.output is not None:
            cmd.append("--output")
        if self.daily_run_id is not None:
            cmd += ["--daily-run-id", str(self.daily_run_id)]
        if code in self.known_urls:
            cmd += ["--known-urls", self.known_urls[code]]
        return cmd

    async def run_one(self, progress: CrawlProgress, gate: asyncio.Semaphore) -> CrawlSummary:
        async with gate:
            run_key = new_run_key(progress.distributor)
            progress.status = STATUS_RUNNING
            self.report(progress)
            started = time.monotonic()
            summary = await self.crawl(progress, run_key)
            summary.duration = time.monotonic() - started
            progress.status = summary.status
            progress.pages, progress.offers, progress.errors = summary.pages, summary.offers, summary.errors
            self.report(progress)
            return summary

    async def crawl(self, progress: CrawlProgress, run_key: str) -> CrawlSummary:
        read_fd, write_fd = os.pipe()
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.command(progress.distributor, run_key, write_fd),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                pass_fds=(write_fd,),
                env=self.environment(),
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        progress.pid = proc.pid
        log_path = self.log_dir / f"{run_key}.log" if self.log_dir else None
        tail: deque[str] = deque(maxlen=_LOG_TAIL)
        logs = asyncio.create_task(_collect_log(proc, tail, log_path))
        events: dict[str, dict[str, Any]] = {}
        try:
            await asyncio.wait_for(self.follow(read_fd, progress, events), self.time_limit)
            exit_code = await proc.wait()
        except TimeoutError:
            proc.kill()
            exit_code = await proc.wait()
            events["failed"] = {"reason": f"killed: still running after {self.time_limit:.0f} s"}
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            raise
        finally:
            await logs
        return _summary(progress, run_key=run_key, exit_code=exit_code, events=events, tail=tail, log_path=log_path)

    async def follow(self, read_fd: int, progress: CrawlProgress, events: dict[str, dict[str, Any]]) -> None:
        """Read the child's channel until it closes: progress to the callback, offers to the output."""
        loop = asyncio.get_running_loop()
        offer_prefix = OFFER_PREFIX.encode()
        reader = asyncio.StreamReader()
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_fd, "rb", buffering=0)
        )
        try:
            pending = b""
            # Whole chunks at a time: a big crawl sends tens of thousands of offer lines.
            while chunk := await reader.read(_CHUNK):
                lines = (pending + chunk).split(b"\n")
                pending = lines.pop()
                for line in lines:
                    self.handle(line, offer_prefix, progress, events)
            if pending:
                self.handle(pending, offer_prefix, progress, events)
        finally:
            transport.close()
            if self.output is not None:
                self.output.flush()

    def handle(
        self, line: bytes, offer_prefix: bytes, progress: CrawlProgress, events: dict[str, dict[str, Any]]
    ) -> None:
        """One line of the channel: an offer goes to the output as it is, other events are read."""
        if line.startswith(offer_prefix):
            if self.output is not None:
                # `{"event": "offer", "offer": {…}}` → `{…}`, without parsing it.
                self.output.write(line[len(offer_prefix) : -1].decode("utf-8") + "\n")
            return
        try:
            event = json.loads(line)
        except ValueError:
            return
        kind = event.get("event")
        if kind in ("progress", "done"):
            progress.pages, progress.offers, progress.errors = event["pages"], event["offers"], event["errors"]
            self.report(progress)
            if self.output is not None:
                self.output.flush()
        if kind in ("done", "failed"):
            events[kind] = event


async def _collect_log(proc: asyncio.subprocess.Process, tail: deque[str], log_path: Path | None) -> None:
    """Keep the last lines of the child's log (for a failure's reason) and, with a log dir, all of it."""
    assert proc.stdout is not None
    sink = None
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        sink = log_path.open("wb")
    try:
        async for line in proc.stdout:
            if sink is not None:
                sink.write(line)
            text = line.decode("utf-8", errors="replace").rstrip()
            if text:
                tail.append(text)
    finally:
        if sink is not None:
            sink.close()


def _failure_reason(exit_code: int, tail: deque[str]) -> str:
    if exit_code < 0:
        return f"the crawl process was killed by signal {-exit_code}"
    for line in reversed(tail):
        if "Error" in line or line.startswith("error:"):
            return line.removeprefix("error: ")[:500]
    return f"the crawl process exited with status {exit_code}" + (f": {tail[-1][:300]}" if tail else "")


def _summary(
    progress: CrawlProgress,
    *,
    run_key: str,
    exit_code: int,
    events: dict[str, dict[str, Any]],
    tail: deque[str],
    log_path: Path | None,
) -> CrawlSummary:
    done = events.get("done", {})
    reason = done.get("reason")
    if "failed" in events:
        status, reason = STATUS_FAILED, events["failed"]["reason"]
    elif done and reason not in FINISHED_REASONS:
        status = STATUS_FAILED  # the spider closed itself and said why (a listing it could not read)
    elif exit_code != 0 or not done:
        status, reason = STATUS_FAILED, _failure_reason(exit_code, tail)
    else:
        status = STATUS_FINISHED
    return CrawlSummary(
        distributor=progress.distributor,
        run_key=run_key,
        status=status,
        pages=progress.pages,
        offers=progress.offers,
        errors=progress.errors,
        duration=0.0,
        exit_code=exit_code,
        reason=reason,
        health=done.get("health"),
        log_path=str(log_path) if log_path else None,
        stats=done.get("stats", {}),
    )
