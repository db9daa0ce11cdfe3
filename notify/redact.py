"""Keeping secrets (the bot token, the SMTP password) out of error texts and logs."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

# A Telegram bot token (`123456:AA...`), wherever it appears, e.g. inside an API URL `/bot<token>/sendMessage`.
_BOT_TOKEN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")
MASK = "<redacted>"
# A shorter "secret" is not searched for at all: its text turns up in unrelated words and numbers (a 1-letter password
# would mask every "e" of an error), so masking it would garble errors without hiding much. `config check` warns.
MIN_SECRET_CHARS = 8
# Libraries that log request URLs (and so the token in them): httpx at INFO, PTB's Bot at DEBUG.
_URL_LOGGERS = ("httpx", "httpcore", "telegram", "telegram.Bot", "telegram.ext", "telegram.ext.Updater")


def maskable(secrets: Iterable[str | None]) -> list[str]:
    """The secrets long enough to be searched for (MIN_SECRET_CHARS), longest first, each once."""
    return sorted({s for s in secrets if s and len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with each whole occurrence of a secret, and anything shaped like a bot token, replaced by MASK.

    One pass over the text: a mask already put in is never searched again, and only a secret's whole value (never
    a part of it, never a secret under MIN_SECRET_CHARS) is replaced, so no other text is rewritten.
    """
    known = maskable(secrets)
    if known:
        text = re.sub("|".join(map(re.escape, known)), MASK, text)
    return _BOT_TOKEN.sub(MASK, text)


class RedactingFilter(logging.Filter):
    """Rewrites a log record's message with the secrets masked (it never drops a record)."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__("pricewatch-redact")
        self.secrets = maskable(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            # A traceback's text is built later by the handler; pre-render it masked instead.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), self.secrets)
            record.exc_info = None
        return True


def install_log_redaction(secrets: Iterable[str | None]) -> None:
    """Mask secrets in what the URL-logging libraries log and in everything the root handlers write."""
    flt = RedactingFilter(secrets)
    targets: list[logging.Filterer] = [logging.getLogger(name) for name in _URL_LOGGERS]
    targets += logging.getLogger().handlers
    for target in targets:
        for old in [f for f in target.filters if isinstance(f, RedactingFilter)]:
            target.removeFilter(old)
        target.addFilter(flt)
