"""`pricewatch bot`: the Telegram bot for channel managers."""

from __future__ import annotations

import click

from pricewatch.cli.common import config_option, db_option, get_config


@click.command()
@config_option
@db_option
def cli(*, config_path: str, db_url: str) -> None:
    """Run the Telegram bot (long polling) until interrupted.

    Commands: /status, /violations [distributor], /sku CODE, /report, /mute rule|distributor X, /unmute.
    It answers only the chats on `bot.allowed_chats`; alert buttons record "confirmed" / "false alarm".
    """
    from notify.bot import run_bot
    from storage.engine import make_engine

    config = get_config(config_path)
    run_bot(make_engine(db_url, create=False), config)
