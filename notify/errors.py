"""How a failed send should be treated: try again later (when), or never; and who refused it."""

from __future__ import annotations

# Who refused a send for a reason retrying cannot fix (`DeliveryError.refused`).
CHANNEL = "channel"  # the provider refused us: the bot token, the SMTP login; every message on the channel waits
RECIPIENT = "recipient"  # the provider refused this recipient: no such chat, the bot blocked, a mailbox refused


class DeliveryError(Exception):
    """A send that did not go through.

    `permanent`: it never will (given up at once); `retry_after`: the provider said when to try again;
    `refused`: `CHANNEL` or `RECIPIENT` when the provider refused for a reason only a person can fix;
    `unanswered`: the request went out and no answer came (a timeout), so the provider may have accepted it.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        refused: str | None = None,
        unanswered: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.refused = refused
        self.unanswered = unanswered
