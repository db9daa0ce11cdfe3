"""How a failed send should be treated: try again later (when), or never."""

from __future__ import annotations


class DeliveryError(Exception):
    """A send that did not go through. `permanent`: it never will; `retry_after`: the provider said when."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
