"""Addresses of the web panel's pages: the links messages and reports carry once `web.base_url` is set.

The panel's routes (web/) are built from the same paths, so a link in a Telegram message, an email, an XLSX or a
PDF always lands on the page it names.
"""

from __future__ import annotations

from typing import Literal

EvidenceKind = Literal["html", "screenshot"]


def violation_path(alert_id: int) -> str:
    return f"/violations/{alert_id}"


def evidence_path(alert_id: int, kind: EvidenceKind) -> str:
    """The evidence file itself: the PNG, or the saved HTML (served sandboxed)."""
    return f"/violations/{alert_id}/evidence/{kind}"


def packet_path(alert_id: int) -> str:
    """The evidence packet: HTML, screenshot and a manifest with their hashes, as one zip."""
    return f"/violations/{alert_id}/evidence.zip"


def panel_url(base_url: str | None, path: str) -> str | None:
    """`path` on the panel at `base_url`; None when no panel is configured."""
    if not base_url:
        return None
    return base_url.rstrip("/") + path
