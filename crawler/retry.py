"""Scrapy's retries, spaced out: each retry waits for the server's Retry-After or an exponential backoff."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request, Response
from scrapy.settings import BaseSettings
from scrapy.utils.response import response_status_message

logger = logging.getLogger(__name__)


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds a `Retry-After` header asks to wait (delta-seconds or an HTTP date), or None if absent/unreadable."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class BackoffRetryMiddleware(RetryMiddleware):
    """Retries like Scrapy's RetryMiddleware, but waits before each retry.

    The wait is the response's Retry-After (429/503) when present, else `RETRY_BACKOFF_BASE * 2**(n-1)` with
    jitter, capped at `RETRY_BACKOFF_MAX`. A Retry-After longer than `RETRY_AFTER_MAX` is not waited for: the
    response goes to the spider, which reports the page as blocked.
    """

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)
        self.retry_after_max = settings.getfloat("RETRY_AFTER_MAX", 120.0)

    def backoff(self, retry_times: int) -> float:
        delay = min(self.backoff_base * 2 ** max(retry_times - 1, 0), self.backoff_max)
        return delay * random.uniform(0.75, 1.25)  # jitter, not cryptography

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        asked = retry_after_seconds(response.headers.get(b"Retry-After"))
        if asked is not None and asked > self.retry_after_max:
            logger.warning(
                "Not retrying %s: Retry-After %.0f s is longer than RETRY_AFTER_MAX (%.0f s)",
                request,
                asked,
                self.retry_after_max,
            )
            self.crawler.stats.inc_value("retry/retry_after_too_long")
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        await self._wait(asked if asked is not None else self.backoff(retry.meta["retry_times"]))
        return retry

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        retry = super().process_exception(request, exception)
        if isinstance(retry, Request):
            await self._wait(self.backoff(retry.meta["retry_times"]))
        return retry

    async def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.crawler.stats.inc_value("retry/wait_ms", round(seconds * 1000))
            await asyncio.sleep(seconds)
