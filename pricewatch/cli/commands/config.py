"""`pricewatch config check`: validate the YAML config and say what is wrong, by key path."""

from __future__ import annotations

import click

from crawler.config import Config
from pricewatch.cli.common import config_option, emit, format_option, get_config


@click.group()
def cli() -> None:
    """The YAML config: distributors, sellers, matching, rules, routes, schedule."""


@cli.command()
@config_option
@format_option("table", "json")
def check(*, config_path: str, fmt: str) -> None:
    """Load and validate the config; on a mistake name the key path and what was expected."""
    config = get_config(config_path)
    for warning in config_warnings(config):
        click.echo(f"warning: {config_path}: {warning}", err=True)
    enabled = [d for d in config.distributors if d.enabled]
    row = {
        "file": config_path,
        "distributors": len(config.distributors),
        "enabled": len(enabled),
        "marketplaces": sum(1 for d in config.distributors if d.kind == "marketplace"),
        "authorized_sellers": len(config.sellers),
        "routes": len(config.routes),
        "schedule": config.schedule.cron,
        "timezone": config.timezone,
    }
    if fmt == "json":
        emit([row], fmt)
        return
    click.echo(
        f"OK: {config_path}: {row['distributors']} distributors ({row['enabled']} enabled, "
        f"{row['marketplaces']} marketplaces), {row['authorized_sellers']} authorized marketplace sellers, "
        f"{row['routes']} routes, schedule '{row['schedule']}' ({row['timezone']})"
    )


def config_warnings(config: Config) -> list[str]:
    """Valid but probably unintended: routes to a channel that has no credentials configured."""
    warnings: list[str] = []
    for i, route in enumerate(config.routes):
        if route.telegram and config.notify.telegram.token is None:
            warnings.append(f"routes[{i}]({route.name}).telegram: notify.telegram.token is not set")
        if route.email and config.notify.email.host is None:
            warnings.append(f"routes[{i}]({route.name}).email: notify.email.host is not set")
    return warnings
