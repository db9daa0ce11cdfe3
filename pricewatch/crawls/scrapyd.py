"""Crawls as Scrapyd jobs: each distributor's crawl scheduled on the least busy Scrapyd host, followed to its end,
cancelled past its time limit, and summed up from the crawl run it stored — the same `CrawlSummary` the local
backend (pricewatch/crawls/local.py) gives.

A job carries the settings a local crawl process gets (`crawler.crawl_process.job_settings`) as Scrapyd
`setting=NAME=value` parameters, less what the host reads from its own environment (see `ScrapydHost.config` and
`ScrapydHost.database`); its job id is the crawl's run key. Set-up: docs/operations.md, "Scaling out with Scrapyd".
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from crawler import clock
from crawler.config import Config, Distributor, ScrapydHost
from crawler.crawl_process import job_settings
from crawler.errors import UserError
from crawler.settings import pack_known_urls
from crawler.stats import STAT_RESPONSES
from pricewatch.crawls.local import (
    KILL_GRACE_SECONDS,
    STATUS_FAILED,
    STATUS_FINISHED,
    STATUS_RUNNING,
    CrawlProgress,
    CrawlSummary,
    ProgressCallback,
    new_run_key,
    select_distributors,
)
from storage.engine import make_engine, resolve_db_url, safe_url, session_scope
from storage.models import RunStatus
from storage.queries.crawl_runs import RunState, fail_run, runs_by_key
from storage.queries.listings import known_listing_urls

log = logging.getLogger("pricewatch.scrapyd")

POLL_SECONDS = 1.0
# A cancelled crawl gets this long to close before it is cancelled again, harder: Scrapy closes gracefully on the
# first SIGINT (finishing the requests in flight), at once on the second; SIGKILL is the last resort.
CANCEL_GRACE_SECONDS = 60.0
CANCEL_SIGNALS = ("INT", "INT", "KILL")
# A host that stops answering this long while it has our jobs is given up: its crawls count as failed.
LOST_HOST_SECONDS = 300.0
# schedule.json lists the project's spiders in a subprocess before it answers (once per Scrapyd process).
_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
_MESSAGE_CHARS = 300
# Known listing URLs packed into one job setting at most this long: Linux takes no command-line argument over
# 128 KiB, and Scrapyd hands a job its settings as arguments.
MAX_PACKED_URLS = 96 * 1024


class ScrapydError(Exception):
    """A Scrapyd host did not answer (`unreachable`), refused the credentials, or answered with an error."""

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


@dataclass(frozen=True)
class Job:
    """One job as `listjobs.json` shows it."""

    state: str  # pending | running | finished
    pid: int | None = None
    log_url: str | None = None  # path on the host, e.g. /logs/pricewatch/shop/<job>.log


class ScrapydClient:
    """The JSON API of one Scrapyd host, for one project."""

    def __init__(self, host: ScrapydHost, http: httpx.Client) -> None:
        self.url = host.url.rstrip("/")
        self.project = host.project
        self._http = http
        self._auth: dict[str, Any] = {}
        if host.username and host.password:
            self._auth["auth"] = httpx.BasicAuth(host.username, host.password.get_secret_value())

    def _call(self, method: str, endpoint: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            if method == "GET":
                response = self._http.get(f"{self.url}/{endpoint}", params=params, **self._auth)
            else:
                response = self._http.post(f"{self.url}/{endpoint}", data=params, **self._auth)
        except httpx.TransportError as exc:
            raise ScrapydError(f"{self.url}: unreachable ({type(exc).__name__}: {exc})", unreachable=True) from None
        if response.status_code == 401:
            raise ScrapydError(f"{self.url}: unauthorized (check the host's username and password in crawl.scrapyd)")
        try:
            data = response.json()
        except ValueError:
            raise ScrapydError(f"{self.url}/{endpoint}: HTTP {response.status_code}, not a Scrapyd answer") from None
        if not isinstance(data, dict) or data.get("status") != "ok":
            message = " ".join(str(data.get("message", data) if isinstance(data, dict) else data).split())
            raise ScrapydError(f"{self.url}/{endpoint}: {message[:_MESSAGE_CHARS]}")
        return data

    def daemon_status(self) -> dict[str, Any]:
        return self._call("GET", "daemonstatus.json", {})

    def load(self) -> int:
        """Jobs the host runs or has queued, over every project."""
        status = self.daemon_status()
        return int(status["running"]) + int(status["pending"])

    def projects(self) -> list[str]:
        return list(self._call("GET", "listprojects.json", {})["projects"])

    def spiders(self) -> list[str]:
        return list(self._call("GET", "listspiders.json", {"project": self.project})["spiders"])

    def schedule(self, spider: str, job_id: str, settings: Sequence[str]) -> None:
        params = {"project": self.project, "spider": spider, "jobid": job_id, "setting": list(settings)}
        self._call("POST", "schedule.json", params)

    def jobs(self) -> dict[str, Job]:
        """The project's jobs by id: queued, running, and the finished ones the host still remembers."""
        data = self._call("GET", "listjobs.json", {"project": self.project})
        jobs = {entry["id"]: Job("finished", log_url=entry.get("log_url")) for entry in data["finished"]}
        jobs |= {entry["id"]: Job("running", entry.get("pid"), entry.get("log_url")) for entry in data["running"]}
        jobs |= {entry["id"]: Job("pending") for entry in data["pending"]}
        return jobs

    def cancel(self, job_id: str, signal: str) -> None:
        self._call("POST", "cancel.json", {"project": self.project, "job": job_id, "signal": signal})


def _setting_text(value: Any) -> str:
    """A setting's value as Scrapy reads it back from the command line (a dict setting as JSON)."""
    if isinstance(value, BaseSettings):
        return json.dumps(value.copy_to_dict())
    return str(value)


def job_parameters(
    host: ScrapydHost,
    *,
    distributor: str,
    run_key: str,
    db_url: str,
    limit: int,
    daily_run_id: int | None,
    known_urls: str | None = None,
) -> list[str]:
    """The job's settings as `NAME=value`: those of a local crawl process, less what the host takes from its
    environment — the config path unless `host.config` names it, the database URL unless `host.database` is `job`.
    `known_urls`: the distributor's known listing URLs, packed (`crawler.settings.pack_known_urls`)."""
    settings = job_settings(
        config_path=host.config or "",
        distributor=distributor,
        run_key=run_key,
        db_url=db_url if host.database == "job" else None,
        store=True,
        limit=limit,
        daily_run_id=daily_run_id,
        channel_fd=None,
        known_urls=known_urls,
    )
    job = SETTINGS_PRIORITIES["cmdline"]
    return [
        f"{name}={_setting_text(settings[name])}"
        for name in sorted(settings)
        if settings.getpriority(name) == job and settings[name] not in (None, "")
    ]


def packed_known_urls(engine: Engine, code: str, limit: int) -> str | None:
    """The distributor's known listing URLs as a job setting, for its crawl to revisit; None for a limited crawl
    (it revisits nothing), or when they would not fit on the job's command line (Scrapyd passes settings there):
    then that crawl confirms no shop listing gone, and says nothing false."""
    if limit:
        return None
    with session_scope(engine) as session:
        urls = known_listing_urls(session, code, clock.utcnow())
    if not urls:
        return None
    packed = pack_known_urls(urls)
    if len(packed) > MAX_PACKED_URLS:
        log.warning(
            "crawl %s: its %d known listing URLs do not fit in a Scrapyd job setting; it revisits none", code, len(urls)
        )
        return None
    return packed


def _has_password(db_url: str) -> bool:
    try:
        url = make_url(db_url)
    except ArgumentError:
        return False  # make_engine says what is wrong with it
    # `password`, and libpq's `sslpassword` (the client key's) among the query's parameters.
    return url.password is not None or any("password" in key.lower() for key in url.query)


def _refuse_sending_passwords(config: Config, db_url: str) -> None:
    """Scrapyd logs a job's settings (its command line) and lists queued jobs' settings to anyone who asks."""
    for i, host in enumerate(config.crawl.scrapyd):
        if host.database == "job" and _has_password(db_url):
            raise UserError(
                f"crawl.scrapyd[{i}].database: `job` would hand the database password to Scrapyd, which logs job "
                "settings; give that host DATABASE_URL in its environment and use `database: environment`"
            )


@dataclass
class _Host:
    index: int
    client: ScrapydClient
    load: int = 0
    down: str | None = None  # why it takes no jobs in this run
    silent_since: float | None = None

    @property
    def url(self) -> str:
        return self.client.url


@dataclass
class _Crawl:
    distributor: Distributor
    run_key: str
    progress: CrawlProgress
    host: _Host | None = None
    started: float | None = None  # first seen running (monotonic)
    ended: bool = False  # the host says the job is over; the summary follows from its stored run
    log_url: str | None = None
    cancels: int = 0
    last_cancel: float = 0.0
    summary: CrawlSummary | None = None

    @property
    def log_path(self) -> str | None:
        """The job's Scrapy log, served by its host."""
        return f"{self.host.url}{self.log_url}" if self.host is not None and self.log_url else None


@dataclass
class _ScrapydRun:
    config: Config
    hosts: list[_Host]
    engine: Engine
    db_url: str
    limit: int
    daily_run_id: int | None
    time_limit: float
    poll_seconds: float
    on_progress: ProgressCallback | None
    crawls: list[_Crawl] = field(default_factory=list)

    def report(self, crawl: _Crawl) -> None:
        if self.on_progress is not None:
            self.on_progress(crawl.progress)

    def run(self, distributors: Sequence[Distributor]) -> list[CrawlSummary]:
        self.crawls = [_Crawl(d, new_run_key(d.code), CrawlProgress(d.code)) for d in distributors]
        for crawl in self.crawls:
            self.report(crawl)
        try:
            self.measure_hosts()
            for crawl in self.crawls:
                self.schedule(crawl)
            while any(crawl.summary is None for crawl in self.crawls):
                time.sleep(self.poll_seconds)
                self.poll()
        except BaseException:
            self.cancel_all()
            raise
        return [crawl.summary for crawl in self.crawls if crawl.summary is not None]

    def measure_hosts(self) -> None:
        for host in self.hosts:
            try:
                host.load = host.client.load()
            except ScrapydError as exc:
                host.down = str(exc)
                log.warning("Scrapyd host left out of this run: %s", exc)

    def schedule(self, crawl: _Crawl) -> None:
        """On the least busy host (ties: the first in the config); a host that does not answer is left out."""
        refusals: list[str] = []
        known_urls = packed_known_urls(self.engine, crawl.distributor.code, self.limit)
        for host in sorted((h for h in self.hosts if h.down is None), key=lambda h: (h.load, h.index)):
            settings = job_parameters(
                self.config.crawl.scrapyd[host.index],
                distributor=crawl.distributor.code,
                run_key=crawl.run_key,
                db_url=self.db_url,
                limit=self.limit,
                daily_run_id=self.daily_run_id,
                known_urls=known_urls,
            )
            try:
                host.client.schedule(crawl.distributor.spider, crawl.run_key, settings)
            except ScrapydError as exc:
                refusals.append(str(exc))
                if exc.unreachable:
                    host.down = str(exc)
                continue
            host.load += 1
            crawl.host = host
            log.info("crawl %s scheduled on %s as job %s", crawl.distributor.code, host.url, crawl.run_key)
            return
        reasons = refusals + [h.down for h in self.hosts if h.down is not None and h.down not in refusals]
        self.end(crawl, None, "no Scrapyd host took the crawl: " + "; ".join(reasons))

    def poll(self) -> None:
        now = time.monotonic()
        for host in self.hosts:
            mine = [c for c in self.crawls if c.host is host and c.summary is None]
            if mine:
                self.poll_host(host, mine, now)
        self.update_followed()

    def poll_host(self, host: _Host, mine: list[_Crawl], now: float) -> None:
        """Follow the host's jobs of `mine`; a host that stays silent too long loses them."""
        try:
            jobs = host.client.jobs()
        except ScrapydError as exc:
            host.silent_since = host.silent_since or now
            if now - host.silent_since > LOST_HOST_SECONDS:
                for crawl in mine:
                    self.end(crawl, None, f"{exc}, for over {LOST_HOST_SECONDS:.0f} s while the crawl ran there")
            return
        host.silent_since = None
        for crawl in mine:
            self.follow(crawl, jobs.get(crawl.run_key), now)

    def update_followed(self) -> None:
        """Update every crawl seen running, and not summed up yet, from the run it stored."""
        followed = [c for c in self.crawls if c.summary is None and c.started is not None]
        with session_scope(self.engine) as session:
            runs = runs_by_key(session, [c.run_key for c in followed])
        for crawl in followed:
            self.update(crawl, runs.get(crawl.run_key))

    def follow(self, crawl: _Crawl, job: Job | None, now: float) -> None:
        """Note what the host says of the job; cancel it when it outlives the time limit."""
        assert crawl.host is not None
        if job is not None and job.state == "pending":
            return
        if crawl.started is None:
            crawl.started = now
            crawl.progress.status = STATUS_RUNNING
            self.report(crawl)
        if job is None or job.state == "finished":  # a job the host no longer lists ended long ago
            crawl.ended = True
            crawl.log_url = job.log_url if job is not None else crawl.log_url
            crawl.host.load -= 1
            return
        crawl.progress.pid, crawl.log_url = job.pid, job.log_url
        due = crawl.cancels == 0 or now - crawl.last_cancel > CANCEL_GRACE_SECONDS
        if now - crawl.started > self.time_limit and due and crawl.cancels < len(CANCEL_SIGNALS):
            signal = CANCEL_SIGNALS[crawl.cancels]
            log.warning("crawl %s outlived its time limit on %s: cancel (SIG%s)", crawl.run_key, crawl.host.url, signal)
            with contextlib.suppress(ScrapydError):  # tried again after the grace
                crawl.host.client.cancel(crawl.run_key, signal)
            crawl.cancels += 1
            crawl.last_cancel = now

    def update(self, crawl: _Crawl, run: RunState | None) -> None:
        """Progress from the run's stored offers; the summary once the job has ended."""
        if crawl.ended:
            self.end(crawl, run)
        elif run is not None and run.stored != crawl.progress.offers:
            crawl.progress.offers = run.stored
            self.report(crawl)

    def verdict(self, crawl: _Crawl, run: RunState | None) -> tuple[str, str]:
        """How an ended job went, by the run it stored: (status, reason)."""
        where = crawl.host.url if crawl.host is not None else "?"
        see_log = f" (log: {crawl.log_path})" if crawl.log_path else ""
        if crawl.cancels and (run is None or run.status != RunStatus.FINISHED):
            return STATUS_FAILED, f"cancelled on {where}: still running after the time limit of {self.time_limit:.0f} s"
        if run is None:
            return STATUS_FAILED, (
                f"the job on {where} ended without a crawl run in {safe_url(self.db_url)}: do the host's crawls "
                f"write there (its DATABASE_URL) and read the same config?{see_log}"
            )
        if run.status == RunStatus.RUNNING:
            return STATUS_FAILED, f"the crawl process on {where} ended before its run did{see_log}"
        if run.status == RunStatus.FAILED:
            return STATUS_FAILED, run.health_reason or f"the crawl failed{see_log}"
        return STATUS_FINISHED, "finished"

    def end(self, crawl: _Crawl, run: RunState | None, failure: str | None = None) -> None:
        """Sum up a crawl from the run it stored, or by `failure` when it never ran or was lost."""
        status, reason = (STATUS_FAILED, failure) if failure is not None else self.verdict(crawl, run)
        if run is not None and run.status == RunStatus.RUNNING:
            # Its process is gone: the run must not wait for the next crawl to be found dead.
            with session_scope(self.engine) as session:
                fail_run(session, run.id, reason)
        crawl.summary = CrawlSummary(
            distributor=crawl.distributor.code,
            run_key=crawl.run_key,
            status=status,
            pages=int(run.stats.get(STAT_RESPONSES, run.pages)) if run else 0,
            offers=(run.stored if run.status == RunStatus.RUNNING else run.offers) if run else 0,
            errors=run.errors if run else 0,
            duration=time.monotonic() - crawl.started if crawl.started is not None else 0.0,
            exit_code=None,
            reason=reason,
            health=run.health.value if run is not None and run.health is not None else None,
            log_path=crawl.log_path,
            stats=run.stats if run else {},
        )
        progress = crawl.progress
        progress.status, progress.pid = status, None
        progress.pages, progress.offers, progress.errors = (
            crawl.summary.pages,
            crawl.summary.offers,
            crawl.summary.errors,
        )
        self.report(crawl)
        if status == STATUS_FAILED:
            log.warning("crawl %s failed: %s", crawl.run_key, reason)

    def cancel_all(self) -> None:
        """Stop every job of this run still on a host (best effort: the run itself is going down)."""
        for crawl in self.crawls:
            if crawl.host is not None and crawl.summary is None:
                with contextlib.suppress(ScrapydError):
                    crawl.host.client.cancel(crawl.run_key, CANCEL_SIGNALS[0])


def run_crawls_on_scrapyd(
    config: Config,
    codes: Sequence[str] = (),
    *,
    db_url: str | None = None,
    daily_run_id: int | None = None,
    on_progress: ProgressCallback | None = None,
    limit: int = 0,
    time_limit: float | None = None,
    poll_seconds: float = POLL_SECONDS,
) -> list[CrawlSummary]:
    """Crawl the distributors as jobs on the config's Scrapyd hosts; one summary per distributor, in the order asked.

    Every host's crawls must write to `db_url` (the summaries are read from there). A job still running after
    `time_limit` seconds (default: the config's crawl time limit plus a grace) is cancelled and counts as failed.
    """
    distributors = select_distributors(config, codes)
    if not config.crawl.scrapyd:
        raise UserError("crawl.scrapyd: no Scrapyd host to crawl on")
    url = resolve_db_url(db_url)
    _refuse_sending_passwords(config, url)
    engine = make_engine(url)
    try:
        with httpx.Client(timeout=_TIMEOUT) as http:
            runner = _ScrapydRun(
                config=config,
                hosts=[_Host(i, ScrapydClient(host, http)) for i, host in enumerate(config.crawl.scrapyd)],
                engine=engine,
                db_url=url,
                limit=limit,
                daily_run_id=daily_run_id,
                time_limit=(
                    time_limit
                    if time_limit is not None
                    else config.schedule.crawl_time_limit_minutes * 60 + KILL_GRACE_SECONDS
                ),
                poll_seconds=poll_seconds,
                on_progress=on_progress,
            )
            return runner.run(distributors)
    finally:
        engine.dispose()


@dataclass(frozen=True)
class HostStatus:
    """What `pricewatch scrapyd status` shows of one host."""

    url: str
    ready: bool
    detail: str
    node: str | None = None
    running: list[str] = field(default_factory=list)  # the project's job ids
    pending: list[str] = field(default_factory=list)
    busy: int | None = None  # jobs running or queued, over every project

    def row(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "ready": self.ready,
            "detail": self.detail,
            "node": self.node,
            "busy": self.busy,
            "running": self.running,
            "pending": self.pending,
        }


def host_status(client: ScrapydClient, spiders: set[str]) -> HostStatus:
    """Whether a host can take our crawls: it answers, has the project, and lists the spiders the config uses."""
    try:
        status = client.daemon_status()
        node, busy = status.get("node_name"), int(status["running"]) + int(status["pending"])
        if client.project not in client.projects():
            return HostStatus(client.url, False, f"project {client.project!r} is not deployed", node, busy=busy)
        missing = sorted(spiders - set(client.spiders()))
        if missing:
            return HostStatus(client.url, False, f"spiders missing: {', '.join(missing)}", node, busy=busy)
        jobs = client.jobs()
    except ScrapydError as exc:
        return HostStatus(client.url, False, str(exc))
    running = sorted(job_id for job_id, job in jobs.items() if job.state == "running")
    pending = sorted(job_id for job_id, job in jobs.items() if job.state == "pending")
    return HostStatus(client.url, True, "ok", node, running, pending, busy)


def hosts_status(config: Config) -> list[HostStatus]:
    """Every configured Scrapyd host's status, in config order."""
    spiders: set[str] = {d.spider for d in config.distributors if d.enabled}
    with httpx.Client(timeout=_TIMEOUT) as http:
        return [host_status(ScrapydClient(host, http), spiders) for host in config.crawl.scrapyd]
