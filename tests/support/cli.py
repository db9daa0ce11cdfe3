"""The in-process `pricewatch` runner's result (the `pricewatch` fixture in tests/conftest.py runs it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """What one in-process `pricewatch` run ended with."""

    code: int
    out: str
    err: str


Pricewatch = Callable[..., Outcome]
