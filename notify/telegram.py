"""Sending to Telegram with python-telegram-bot, and what each Bot API failure means for a retry."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import Callable
from types import TracebackType

import httpx
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, RetryAfter, TelegramError, TimedOut
from telegram.request import HTTPXRequest

from crawler.config import Telegram as TelegramConfig
from notify.errors import CHANNEL, RECIPIENT, DeliveryError
from notify.ratelimit import TelegramRateLimiter
from notify.redact import redact

DEFAULT_API = "https://api.telegram.org"
# Opt in to PTB's coming behaviour (time periods as timedelta, e.g. RetryAfter.retry_after) instead of its
# deprecation warnings; `retry_after_seconds` reads either form.
os.environ.setdefault("PTB_TIMEDELTA", "true")
# A Bad Request that names the recipient, not the message: the chat is gone or never was.
_NO_SUCH_CHAT = ("chat not found", "user not found", "peer_id_invalid", "chat_id is empty")
# Timeouts before the request left: it cannot have been accepted.
_NOT_SENT = (httpx.ConnectTimeout, httpx.PoolTimeout)


def api_urls(base: str | None) -> tuple[str, str]:
    """PTB's `base_url` / `base_file_url` for a Bot API server root (PTB appends the token to each).

    `http://127.0.0.1:8081` → (`http://127.0.0.1:8081/bot`, `http://127.0.0.1:8081/file/bot`); a base given
    with the trailing `/bot` is taken as the same server.
    """
    root = (base or DEFAULT_API).rstrip("/").removesuffix("/bot")
    return f"{root}/bot", f"{root}/file/bot"


def make_bot(config: TelegramConfig, request: HTTPXRequest | None = None) -> Bot:
    if config.token is None:
        raise ValueError("Telegram is not configured (notify.telegram.token)")
    base_url, base_file_url = api_urls(config.base_url)
    return Bot(config.token.get_secret_value(), base_url=base_url, base_file_url=base_file_url, request=request)


def retry_after_seconds(exc: RetryAfter) -> float:
    """The wait Telegram asked for, whether PTB hands it over as int seconds or as a timedelta."""
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def _unanswered(exc: Exception) -> bool:
    """A timeout after the request went out: Telegram may have accepted the message without our hearing it."""
    return isinstance(exc, TimedOut) and not isinstance(exc.__cause__, _NOT_SENT)


def classify(exc: Exception, token: str | None, *, request_sent: bool = False) -> DeliveryError:
    """Flood control → retry exactly when told; a refused token → the channel waits for the admin; a gone chat or a
    blocked bot → that recipient never; a bad request → never; else later (`request_sent`: the send itself failed,
    not the preparation, so a timeout may hide an accepted message)."""
    message = redact(f"{type(exc).__name__}: {exc}", [token])
    if isinstance(exc, RetryAfter):
        return DeliveryError(message, retry_after=retry_after_seconds(exc))
    if isinstance(exc, InvalidToken):
        return DeliveryError(message, refused=CHANNEL)
    if isinstance(exc, Forbidden | ChatMigrated) or (
        isinstance(exc, BadRequest) and any(phrase in str(exc).lower() for phrase in _NO_SUCH_CHAT)
    ):
        return DeliveryError(message, permanent=True, refused=RECIPIENT)
    if isinstance(exc, BadRequest):
        return DeliveryError(message, permanent=True)
    return DeliveryError(message, unanswered=request_sent and _unanswered(exc))


class TelegramSender:
    """One Bot for a flush: messages wait for the rate limiter, failures come out as `DeliveryError`."""

    def __init__(self, config: TelegramConfig, limiter: TelegramRateLimiter | None = None) -> None:
        self.config = config
        self.token = config.token.get_secret_value() if config.token else None
        self.limiter = limiter or TelegramRateLimiter(global_rate=config.rate_per_second)
        # The read timeout is well above Telegram's slow answers: a message accepted late is not sent twice.
        self.bot = make_bot(config, HTTPXRequest(connection_pool_size=16, read_timeout=config.read_timeout))
        self._ready = False
        self._init_lock = asyncio.Lock()

    async def __aenter__(self) -> TelegramSender:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.bot.shutdown()

    async def _call_ready(self, chat_id: str) -> None:
        """Check the token (getMe, on first use) and wait for the rate limiter; nothing is sent to `chat_id` yet."""
        try:
            async with self._init_lock:
                if not self._ready:
                    await self.bot.initialize()
                    self._ready = True
            await self.limiter.wait(chat_id)
        except (TelegramError, OSError) as exc:
            raise classify(exc, self.token) from None

    async def send_message(
        self,
        chat_id: str,
        html: str,
        buttons: list[tuple[str, str]] | None = None,
        *,
        on_send: Callable[[], None] | None = None,
    ) -> str:
        """Send an HTML message (with inline buttons: (label, callback data)); returns Telegram's message id.

        `on_send` is called once the bot is ready and the rate limiter lets it go, right before the request leaves.
        """
        markup = None
        if buttons:
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(label, callback_data=data) for label, data in buttons]]
            )
        await self._call_ready(chat_id)
        if on_send is not None:
            on_send()
        try:
            message = await self.bot.send_message(
                chat_id=chat_id,
                text=html,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except (TelegramError, OSError) as exc:
            raise classify(exc, self.token, request_sent=True) from None
        return str(message.message_id)

    async def send_document(self, chat_id: str, filename: str, content: bytes, caption: str | None = None) -> str:
        await self._call_ready(chat_id)
        try:
            message = await self.bot.send_document(
                chat_id=chat_id, document=content, filename=filename, caption=caption, parse_mode=ParseMode.HTML
            )
        except (TelegramError, OSError) as exc:
            raise classify(exc, self.token, request_sent=True) from None
        return str(message.message_id)
