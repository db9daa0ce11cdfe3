"""`pricewatch config check`: the night run's rehearsal. Validate the YAML config and list every problem by key path;
with `--online` also reach what the run needs: the database, the Telegram bot, the SMTP server, the Scrapyd hosts."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from typing import Any, Literal

import click
from pydantic import SecretStr

from crawler.config import Config, ConfigError, Email, Telegram
from crawler.errors import UserError
from notify.redact import MIN_SECRET_CHARS, install_log_redaction, redact
from pricewatch.cli.common import config_option, db_option, emit, format_option, get_config

# `config check` exits 2 when the config is wrong; 1 when it is right but an --online check failed.
EXIT_CONFIG, EXIT_ONLINE = 2, 1


@click.group()
def cli() -> None:
    """The YAML config: distributors, sellers, matching, rules, routes, schedule."""


@cli.command()
@config_option
@db_option
@click.option(
    "--online",
    is_flag=True,
    help="Also connect to the database, ask Telegram for the bot (getMe) and greet the SMTP server (EHLO, login).",
)
@format_option("table", "json")
def check(*, config_path: str, db_url: str, online: bool, fmt: str) -> None:
    """Load and validate the config; list every mistake (one line each: the key path and what was expected).

    Exits 2 when the config is wrong; with --online, 1 when a service the daily run needs refuses.
    """
    config = _valid_config(config_path)
    for warning in config_warnings(config):
        click.echo(f"warning: {config_path}: {warning}", err=True)
    row = _summary(config_path, config)
    checks = online_checks(config, db_url) if online else []
    if fmt == "json":
        emit([{**row, "online": [asdict(c) for c in checks]} if online else row], fmt)
    else:
        click.echo(
            f"OK: {config_path}: {row['distributors']} distributors ({row['enabled']} enabled, "
            f"{row['marketplaces']} marketplaces), {row['authorized_sellers']} authorized marketplace sellers, "
            f"{row['routes']} routes, schedule '{row['schedule']}' ({row['timezone']})"
        )
        for result in checks:
            click.echo(result.line(), err=result.status == "error")
    if any(c.status == "error" for c in checks):
        sys.exit(EXIT_ONLINE)


def _valid_config(config_path: str) -> Config:
    """The config; when it is wrong, every problem on its own `error:` line, then exit 2."""
    try:
        return get_config(config_path)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(EXIT_CONFIG)


def _summary(config_path: str, config: Config) -> dict[str, Any]:
    return {
        "file": config_path,
        "distributors": len(config.distributors),
        "enabled": sum(1 for d in config.distributors if d.enabled),
        "marketplaces": sum(1 for d in config.distributors if d.kind == "marketplace"),
        "authorized_sellers": len(config.sellers),
        "routes": len(config.routes),
        "schedule": config.schedule.cron,
        "timezone": config.timezone,
    }


def config_warnings(config: Config) -> list[str]:
    """Valid but probably unintended: routes to a channel without credentials, secrets too short to be masked."""
    warnings: list[str] = []
    for i, route in enumerate(config.routes):
        if route.telegram and config.notify.telegram.token is None:
            warnings.append(f"routes[{i}]({route.name}).telegram: notify.telegram.token is not set")
        if route.email and config.notify.email.host is None:
            warnings.append(f"routes[{i}]({route.name}).email: notify.email.host is not set")
    for path, secret in _secrets(config).items():
        if secret is not None and len(secret.get_secret_value()) < MIN_SECRET_CHARS:
            warnings.append(
                f"{path}: a weak secret of {len(secret.get_secret_value())} characters; one under {MIN_SECRET_CHARS} "
                "is not masked in error texts and logs (its text would match unrelated words)"
            )
    return warnings


def _secrets(config: Config) -> dict[str, SecretStr | None]:
    """Every secret the config holds, by key path."""
    secrets = {
        "notify.telegram.token": config.notify.telegram.token,
        "notify.email.password": config.notify.email.password,
    }
    secrets |= {f"crawl.scrapyd[{i}].password": host.password for i, host in enumerate(config.crawl.scrapyd)}
    return secrets


@dataclass(frozen=True)
class Check:
    """One --online check: what was tried (`check`), how it went, and what was seen, in one line."""

    check: str
    status: Literal["ok", "skipped", "error"]
    detail: str

    def line(self) -> str:
        return f"{self.status}: {self.check}: {self.detail}"


def online_checks(config: Config, db_url: str) -> list[Check]:
    """Reach every service the daily run will use, each on its own (one failing does not stop the others)."""
    # Before any client logs a request: the Bot API's URLs hold the token (httpx logs them with -v).
    install_log_redaction(s.get_secret_value() for s in _secrets(config).values() if s is not None)
    checks = [check_database(db_url), check_telegram(config.notify.telegram), check_smtp(config.notify.email)]
    if config.crawl.backend == "scrapyd":
        checks += check_scrapyd(config)
    return checks


def check_database(db_url: str) -> Check:
    """Connect (never creating an SQLite file) and compare the schema's revision with the code's."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.db_errors import describe_db_error
    from storage.engine import DatabaseFileError, make_engine, resolve_db_url, safe_url
    from storage.migrate import current_revision

    where = safe_url(resolve_db_url(db_url))
    try:
        engine = make_engine(db_url, create=False)
        try:
            revision = current_revision(engine)
        finally:
            engine.dispose()
    except UserError as exc:
        return Check("database", "error", str(exc))
    except (SQLAlchemyError, DatabaseFileError) as exc:
        return Check("database", "error", describe_db_error(exc, db_url) or f"{where}: {type(exc).__name__}")
    return _schema_check(where, revision)


def _schema_check(where: str, revision: str | None) -> Check:
    from storage.migrate import head_revision, is_newer_than_code

    head = head_revision()
    if revision == head:
        return Check("database", "ok", f"{where}: connected, schema at the newest revision {head}")
    if revision is None:
        return Check("database", "error", f"{where}: connected, but it has no schema: run `pricewatch db upgrade`")
    if is_newer_than_code(revision):
        return Check("database", "error", f"{where}: schema revision {revision} is newer than this pricewatch's")
    return Check("database", "error", f"{where}: schema at {revision}, not {head}: run `pricewatch db upgrade`")


def check_telegram(telegram: Telegram) -> Check:
    """Resolve the bot (getMe) through the configured API base URL."""
    import asyncio

    from telegram.error import TelegramError

    from notify.telegram import DEFAULT_API

    if telegram.token is None:
        return Check("telegram", "skipped", "notify.telegram.token is not set")
    token = telegram.token.get_secret_value()
    where = f"getMe at {telegram.base_url or DEFAULT_API}"
    try:
        username = asyncio.run(_bot_username(telegram))
    except (TelegramError, OSError) as exc:
        return Check("telegram", "error", redact(f"{where}: {type(exc).__name__}: {exc}", [token]))
    return Check("telegram", "ok", f"{where}: the bot is @{username}")


async def _bot_username(telegram: Telegram) -> str:
    from notify.telegram import make_bot

    async with make_bot(telegram) as bot:  # entering runs getMe
        return bot.username


def check_smtp(email: Email) -> Check:
    """Greet the SMTP server as delivery connects to it (TLS as configured), and log in when a user is set."""
    import smtplib

    from notify.email import EmailSender

    if email.host is None:
        return Check("smtp", "skipped", "notify.email.host is not set")
    password = email.password.get_secret_value() if email.password else None
    where = f"{email.host}:{email.port} ({email.security})"
    try:
        with EmailSender(email)._connect() as smtp:
            code, _answer = smtp.ehlo()
            if code != 250:
                return Check("smtp", "error", f"{where}: EHLO answered {code}")
            if email.username:
                smtp.login(email.username, password or "")
    except (smtplib.SMTPException, OSError) as exc:
        return Check("smtp", "error", redact(f"{where}: {type(exc).__name__}: {exc}", [password]))
    login = f"; logged in as {email.username}" if email.username else "; no login configured"
    return Check("smtp", "ok", f"{where}: EHLO answered{login}")


def check_scrapyd(config: Config) -> list[Check]:
    """Each Scrapyd host: answers, has the project and the spiders the config uses (as `scrapyd status` shows)."""
    from pricewatch.crawls.scrapyd import hosts_status

    return [
        Check(f"scrapyd {status.url}", "ok" if status.ready else "error", status.detail)
        for status in hosts_status(config)
    ]
