"""Running the panel: uvicorn on the configured address, believing forwarded headers only from the proxies named."""

from __future__ import annotations

from fastapi import FastAPI

from crawler.config import Config
from crawler.errors import UserError


def secret_key(config: Config) -> str:
    """`web.secret_key`, which the panel cannot run without; a UserError naming the key when it is not set."""
    if config.web.secret_key is None:
        raise UserError(
            "web.secret_key: the panel needs a secret key of at least 32 characters "
            "(set it as ${PRICEWATCH_WEB_SECRET}; `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
        )
    return config.web.secret_key.get_secret_value()


def serve(app: FastAPI, config: Config, host: str | None = None, port: int | None = None) -> None:
    """Serve until interrupted (one process: the rate limit and the match index are per process, and light)."""
    import uvicorn

    uvicorn.run(
        app,
        host=host or config.web.host,
        port=port or config.web.port,
        proxy_headers=True,
        forwarded_allow_ips=",".join(config.web.forwarded_allow_ips),
        server_header=False,
        log_level="info",
    )
