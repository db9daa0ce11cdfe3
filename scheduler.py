"""The APScheduler daemon: runs the daily flow on the configured cron and retries failed deliveries in between;
jobs kept in the database. Its command, `pricewatch scheduler`, joins the CLI through an entry point."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from types import FrameType

import click
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.config import Config, ConfigError
from crawler.config import cron_trigger as config_cron_trigger
from pricewatch.cli.common import config_option, db_option, get_config
from storage.engine import make_engine, resolve_db_url

log = logging.getLogger("pricewatch.scheduler")
ALL_JOB = "run-daily"
FLUSH_JOB = "notify-flush"
# Messages the daily run could not deliver (Telegram down, flood control, SMTP refusing) are retried through the
# day as they fall due, not by tomorrow's run.
FLUSH_EVERY = dt.timedelta(minutes=5)


def cron_trigger(expr: str, timezone: str) -> CronTrigger:
    """A 5-field crontab, or 6 fields with seconds first (handy for tests and odd schedules): the config's rule."""
    try:
        return config_cron_trigger(expr, timezone)
    except ValueError as exc:
        raise ConfigError(f"schedule: bad cron expression {expr!r}: {exc}") from None


def daily_job(config_path: str, db_url: str, distributors: list[str] | None = None) -> int:
    """What a scheduled run does; module-level so the persistent job store can refer to it by name."""
    from crawler.config import load_config
    from pricewatch.daily import run_daily

    result = run_daily(load_config(config_path), config_path, db_url, distributors=distributors)
    log.warning("scheduled run finished: %s", result.headline())
    return result.exit_code


def flush_job(config_path: str, db_url: str) -> int:
    """Deliver the instant messages that fell due since the last delivery; returns how many were sent."""
    from crawler.config import load_config
    from notify.outbox import flush

    engine = make_engine(db_url)
    try:
        return flush(engine, load_config(config_path)).sent
    finally:
        engine.dispose()


def jobs_for(config: Config) -> list[tuple[str, str, list[str] | None]]:
    """(job id, cron, distributors) — a distributor with its own cron leaves the main job for its own."""
    own = [d for d in config.distributors if d.enabled and d.schedule]
    rest = [d.code for d in config.distributors if d.enabled and not d.schedule]
    jobs: list[tuple[str, str, list[str] | None]] = []
    if rest:
        jobs.append((ALL_JOB, config.schedule.cron, rest if own else None))
    jobs += [(f"{ALL_JOB}:{d.code}", d.schedule or "", [d.code]) for d in own]
    return jobs


def build_scheduler(config: Config, config_path: str, db_url: str | None = None) -> BackgroundScheduler:
    """A scheduler whose job store is the pricewatch database and whose jobs match the config."""
    url = resolve_db_url(db_url)
    grace = config.schedule.misfire_grace_minutes * 60
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=make_engine(url))},
        # Daily runs one at a time; delivery retries beside them, so a long crawl does not hold messages back.
        executors={"default": ThreadPoolExecutor(1), "delivery": ThreadPoolExecutor(1)},
        # Coalesce: a machine that was down runs once on waking, not once per missed day.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace},
        timezone=config.timezone,
    )
    wanted = jobs_for(config)
    triggers = {job_id: cron_trigger(cron, config.timezone) for job_id, cron, _ in wanted}
    scheduler.start(paused=True)
    for job in scheduler.get_jobs():
        if job.id not in triggers and job.id != FLUSH_JOB:
            job.remove()
    for job_id, _cron, distributors in wanted:
        scheduler.add_job(
            daily_job,
            trigger=triggers[job_id],
            args=[config_path, url, distributors],
            id=job_id,
            name=job_id,
            replace_existing=True,
        )
    scheduler.add_job(
        flush_job,
        trigger=IntervalTrigger(seconds=FLUSH_EVERY.total_seconds(), timezone=config.timezone),
        args=[config_path, url],
        id=FLUSH_JOB,
        name=FLUSH_JOB,
        executor="delivery",
        misfire_grace_time=int(FLUSH_EVERY.total_seconds()),
        replace_existing=True,
    )

    def outcome(event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            log.warning("job %s missed its time %s", event.job_id, event.scheduled_run_time)
        elif event.exception is not None:
            log.error("job %s failed: %s", event.job_id, event.exception)
        elif event.job_id == FLUSH_JOB:
            if event.retval:
                log.warning("delivered %s message(s) that had failed before", event.retval)
        else:
            log.warning("job %s ended with exit code %s", event.job_id, event.retval)

    scheduler.add_listener(outcome, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    return scheduler


def serve(config: Config, config_path: str, db_url: str | None = None) -> None:
    """Run until SIGTERM or SIGINT; a run in progress is finished before the process ends."""
    scheduler = build_scheduler(config, config_path, db_url)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.warning("received %s, stopping after the current run", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    scheduler.resume()
    for job in scheduler.get_jobs():
        log.warning("scheduled %s: next run %s", job.id, job.next_run_time)
    stop.wait()
    scheduler.shutdown(wait=True)
    log.warning("scheduler stopped")


@click.command("scheduler")
@config_option
@db_option
@click.option("--list", "list_only", is_flag=True, help="Print the scheduled jobs and their next run, then exit.")
def cli(config_path: str, db_url: str, list_only: bool) -> None:
    """Run `run-daily` on `schedule.cron` (default 06:00 Europe/Moscow) until SIGTERM.

    Jobs are kept in the database: a machine that was down runs once when it wakes (coalesced, within
    `schedule.misfire_grace_minutes`). A distributor with its own `schedule` gets its own job.
    """
    config = get_config(config_path)
    logging.getLogger("pricewatch").setLevel(logging.INFO)
    if list_only:
        sched = build_scheduler(config, config_path, db_url)
        try:
            for job in sched.get_jobs():
                click.echo(f"{job.id}: next run {job.next_run_time:%Y-%m-%d %H:%M %Z}")
        finally:
            sched.shutdown(wait=False)
        return
    serve(config, config_path, db_url)
