"""Token buckets for Telegram's limits: about 25 messages a second overall and one a second per chat."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class TokenBucket:
    """`rate` tokens a second, holding at most `burst`; `reserve()` says how long to wait for one token."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens = burst
        self.stamp = clock()

    def reserve(self) -> float:
        """Take a token (possibly going into debt) and return the seconds until it is really ours."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class TelegramRateLimiter:
    """Waits before each message so neither the global nor the chat's bucket is exceeded."""

    def __init__(
        self,
        global_rate: float = 25.0,
        per_chat_rate: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.global_bucket = TokenBucket(global_rate, max(1.0, global_rate), clock)
        self.per_chat_rate = per_chat_rate
        self.chats: dict[str, TokenBucket] = {}
        self.clock, self.sleep = clock, sleep

    async def wait(self, chat_id: str) -> None:
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = self.chats[chat_id] = TokenBucket(self.per_chat_rate, 1.0, self.clock)
        delay = max(self.global_bucket.reserve(), chat.reserve())
        if delay > 0:
            await self.sleep(delay)
