"""`pricewatch scheduler`: the APScheduler daemon that runs `run-daily` on the configured cron."""

from __future__ import annotations

import logging

import click

from crawler.cli.common import config_option, db_option, get_config


@click.command("scheduler")
@config_option
@db_option
@click.option("--list", "list_only", is_flag=True, help="Print the scheduled jobs and their next run, then exit.")
def cli(config_path: str, db_url: str, list_only: bool) -> None:
    """Run `run-daily` on `schedule.cron` (default 06:00 Europe/Moscow) until SIGTERM.

    Jobs are kept in the database: a machine that was down runs once when it wakes (coalesced, within
    `schedule.misfire_grace_minutes`). A distributor with its own `schedule` gets its own job.
    """
    import scheduler

    config = get_config(config_path)
    logging.getLogger("pricewatch").setLevel(logging.INFO)
    if list_only:
        sched = scheduler.build_scheduler(config, config_path, db_url)
        try:
            for job in sched.get_jobs():
                click.echo(f"{job.id}: next run {job.next_run_time:%Y-%m-%d %H:%M %Z}")
        finally:
            sched.shutdown(wait=False)
        return
    scheduler.serve(config, config_path, db_url)
