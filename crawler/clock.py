"""The time pricewatch works in: the machine's clock, moved by whole days when `PRICEWATCH_CLOCK_SHIFT_DAYS` is set.

The demo runs its pilot days on consecutive dates (day 1 yesterday, day 2 today) by setting the shift for itself
and the crawl processes it starts, so every time pricewatch stores (observations, crawl runs, alerts, evidence)
is the demo day's. Unset, this is the machine's clock; nothing else sets it.
"""

from __future__ import annotations

import datetime as dt
import os

SHIFT_ENV = "PRICEWATCH_CLOCK_SHIFT_DAYS"


def shift() -> dt.timedelta:
    """How far the clock is moved from the machine's (whole days; zero when unset)."""
    raw = os.environ.get(SHIFT_ENV, "").strip()
    if not raw:
        return dt.timedelta(0)
    try:
        return dt.timedelta(days=int(raw))
    except ValueError:
        raise ValueError(f"{SHIFT_ENV}: expected a whole number of days, got {raw!r}") from None


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC) + shift()


def machine_time(moment: dt.datetime) -> dt.datetime:
    """A time of this clock on the machine's clock (to compare with what the OS reports, e.g. process start)."""
    return moment - shift()
