"""`pricewatch web`: the managers' panel (FastAPI on uvicorn), behind nginx in production."""

from __future__ import annotations

import click

from pricewatch.cli.common import config_option, db_option, get_config


@click.command("web")
@click.option("--host", default=None, help="Address to listen on [default: web.host, 127.0.0.1].")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port [default: web.port, 8080].")
@config_option
@db_option
def cli(host: str | None, port: int | None, config_path: str, db_url: str) -> None:
    """Serve the web panel until interrupted.

    Needs `web.secret_key` (from the environment: `${PRICEWATCH_WEB_SECRET}`) and at least one account
    (`pricewatch users add`). Put it behind nginx with TLS (docs/operations.md); with `web.base_url` set, links in
    messages and reports point to it.
    """
    from storage.engine import make_engine, safe_url
    from web.app import create_app
    from web.server import secret_key, serve

    config = get_config(config_path)
    key = secret_key(config)
    engine = make_engine(db_url, create=False)
    click.echo(f"pricewatch panel on http://{host or config.web.host}:{port or config.web.port} ({safe_url(db_url)})")
    try:
        serve(create_app(engine, config, key), config, host, port)
    finally:
        engine.dispose()
