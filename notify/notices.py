"""Enforcement notices in the outbox. They come rendered (enforcement/notices.py): delivery sends them as they are,
an email with the evidence packet of its case's listings, and never inside `enforcement.quiet_hours`."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from crawler.config import Config
from enforcement.notices import ENFORCEMENT
from notify.email import Attachment
from notify.messages import EmailContent, TelegramMessage, repeat_mark, texts_for
from reports.packet import PacketFile, build_packet, evidence_file

ZIP_TYPE = ("application", "zip")


def is_enforcement(payload: Mapping[str, Any] | None) -> bool:
    return (payload or {}).get("kind") == ENFORCEMENT


def telegram_message(payload: Mapping[str, Any], config: Config) -> TelegramMessage:
    text = str(payload["text"])
    if payload.get("repeat"):
        text = repeat_mark(texts_for(config)) + text
    return TelegramMessage(text, [(str(label), str(data)) for label, data in payload.get("buttons") or []])


def email_content(payload: Mapping[str, Any], config: Config) -> EmailContent:
    subject = str(payload["subject"])
    if payload.get("repeat"):
        subject = f"[{texts_for(config)('message.repeat')}] {subject}"
    return EmailContent(subject=subject, text=str(payload["text"]), html=str(payload["html"]))


def _files(refs: list[dict[str, Any]], config: Config) -> dict[int, list[PacketFile]]:
    """The evidence files by alert, resolved under the evidence folder (a file gone is listed as missing)."""
    root = Path(config.evidence.dir)
    by_alert: dict[int, list[PacketFile]] = {}
    for ref in refs:
        captured = dt.datetime.fromisoformat(str(ref["captured_at"]))
        path = evidence_file(root, str(ref["path"]))
        file = PacketFile(str(ref["kind"]), str(ref["url"]), captured, str(ref["sha256"]), path)
        by_alert.setdefault(int(ref["alert_id"]), []).append(file)
    return by_alert


def attachment(payload: Mapping[str, Any], config: Config, now: dt.datetime) -> Attachment | None:
    """The case's evidence as one zip: a folder per listing holding its packet (page, screenshot, manifest, sums)."""
    refs = list(payload.get("evidence") or [])
    if not refs:
        return None
    about = {int(r["alert_id"]): r for r in refs}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as case_zip:
        for alert_id, files in _files(refs, config).items():
            ref = about[alert_id]
            folder = f"{ref.get('vendor_code') or 'listing'}-{alert_id}".replace("/", "_")
            violation = {
                "id": alert_id,
                "case": payload.get("case_id"),
                "vendor_code": ref.get("vendor_code"),
                "page": ref.get("page"),
            }
            packet = build_packet(violation, files, config.tz, now)
            with zipfile.ZipFile(io.BytesIO(packet)) as inner:
                for name in inner.namelist():
                    case_zip.writestr(f"{folder}/{name}", inner.read(name))
    return Attachment(f"evidence-case-{payload.get('case_id')}.zip", out.getvalue(), *ZIP_TYPE)


def held_until(payload: Mapping[str, Any], config: Config, now: dt.datetime) -> dt.datetime | None:
    """When an enforcement message may go, if `now` is inside the quiet hours; None: it may go now."""
    quiet = config.enforcement.quiet_hours
    if quiet is None or not is_enforcement(payload):
        return None
    return quiet.end_after(now, config.tz)


def preview(channel: str, payload: Mapping[str, Any], config: Config) -> str:
    """What `notify flush --dry-run` shows of the message: the Telegram text or the email subject."""
    if channel == "telegram":
        return telegram_message(payload, config).text
    return email_content(payload, config).subject
