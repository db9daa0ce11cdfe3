"""The violations report from `reports/` as a file: the digest email's attachment and the bot's /report."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from crawler.config import Config
from notify.email import Attachment
from storage.models import utcnow


def violations_xlsx(source: Engine | Session, config: Config, distributor: str | None = None) -> tuple[str, bytes]:
    """(file name, XLSX bytes) of the violations report over the reports' default period."""
    from reports.output import build_report

    day = utcnow().astimezone(config.tz).date().isoformat()
    name = f"violations-{distributor}-{day}.xlsx" if distributor else f"violations-{day}.xlsx"
    return name, build_report("xlsx", source, config, distributor=distributor)


def digest_attachment(engine: Engine, config: Config) -> Callable[[], Attachment]:
    """The hook `flush(..., attachment=...)` takes: the XLSX, built when the first digest email needs it."""

    def build() -> Attachment:
        name, content = violations_xlsx(engine, config)
        return Attachment(name, content)

    return build
