"""Telegram rate limits: one message a second per chat, about 25 a second overall."""

from __future__ import annotations

import asyncio

import pytest

from notify.ratelimit import TelegramRateLimiter


def run(limiter_chats: list[str], global_rate: float = 25.0) -> list[float]:
    clock = [0.0]
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    limiter = TelegramRateLimiter(global_rate=global_rate, per_chat_rate=1.0, clock=lambda: clock[0], sleep=sleep)

    async def send_all() -> None:
        for chat in limiter_chats:
            await limiter.wait(chat)

    asyncio.run(send_all())
    return sleeps


def test_one_chat_gets_at_most_one_message_a_second() -> None:
    assert run(["a", "a", "a", "b"]) == [1.0, 1.0]


def test_many_chats_are_held_to_the_global_rate_after_a_burst() -> None:
    sleeps = run([f"chat{i}" for i in range(30)])
    assert sleeps == pytest.approx([0.04] * 5)
