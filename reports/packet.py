"""An evidence packet: a violation's saved page and screenshot in one zip, with a manifest of their hashes.

The files go in exactly as they were stored (the page gzip-compressed), so the SHA-256 recorded when they were
captured still matches: `sha256sum -c SHA256SUMS` in the unpacked folder checks them. `page.html` is the saved page
unpacked, for reading (a Windows user cannot open `.gz`). `manifest.json` says what the violation is, where each file
came from and when (UTC and the config's time zone), the hash recorded at capture and the one computed now (for a
stamped screenshot also the hash of the capture before its stamp), and marks a file gone from disk.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image

from crawler.stamp import UNSTAMPED_SHA256_KEY

NAMES = {"html": "page.html.gz", "screenshot": "screenshot.png"}


@dataclass(frozen=True)
class PacketFile:
    kind: str  # html | screenshot
    url: str
    captured_at: dt.datetime
    sha256: str  # recorded when captured
    path: Path | None  # absolute; None: gone from disk (or a record pointing outside the evidence folder)


def evidence_file(root: Path, relative: str) -> Path | None:
    """The stored file `relative` names under the evidence folder; None when it is outside it (a record that
    points elsewhere is never followed) or gone."""
    base = root.resolve()
    path = (base / relative).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        return None
    return path


def _unstamped_sha256(content: bytes | None) -> str | None:
    """The capture hash a stamped screenshot carries (crawler/stamp.py); None for any other file."""
    if content is None or not content.startswith(b"\x89PNG"):
        return None
    try:
        with Image.open(io.BytesIO(content)) as image:
            value = image.info.get(UNSTAMPED_SHA256_KEY)
    except OSError:
        return None
    return value if isinstance(value, str) else None


def _entry(file: PacketFile, tz: ZoneInfo, content: bytes | None) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if file.kind == "html":
        extra["readable_copy"] = "page.html"
    elif (unstamped := _unstamped_sha256(content)) is not None:
        extra["sha256_before_stamp"] = unstamped
    return {
        "file": NAMES.get(file.kind, file.kind),
        "kind": file.kind,
        "source_url": file.url,
        "captured_at_utc": file.captured_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "captured_at_local": file.captured_at.astimezone(tz).isoformat(timespec="seconds"),
        "sha256_recorded": file.sha256,
        "sha256_now": hashlib.sha256(content).hexdigest() if content is not None else None,
        "missing": content is None,
        **extra,
    }


def build_packet(about: dict[str, Any], files: Sequence[PacketFile], tz: ZoneInfo, now: dt.datetime) -> bytes:
    """The zip's bytes; `about` (the violation: id, rule, seller, product, page) heads the manifest."""
    entries, sums = [], []
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as packet:
        for file in files:
            content = file.path.read_bytes() if file.path is not None else None
            entry = _entry(file, tz, content)
            entries.append(entry)
            if content is None:
                continue
            packet.writestr(entry["file"], content)
            sums.append(f"{entry['sha256_now']}  {entry['file']}")
            if file.kind == "html":
                packet.writestr("page.html", unpacked_page(content))
        manifest = {
            "violation": about,
            "generated_at_utc": now.astimezone(dt.UTC).isoformat(timespec="seconds"),
            "time_zone": tz.key,
            "files": entries,
        }
        packet.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2, default=str))
        packet.writestr("SHA256SUMS", "\n".join(sums) + ("\n" if sums else ""))
    return out.getvalue()


def unpacked_page(content: bytes) -> bytes:
    """A saved page as HTML: gunzipped when it is gzip, as it is otherwise."""
    if content[:2] != b"\x1f\x8b":
        return content
    try:
        return gzip.decompress(content)
    except (OSError, EOFError):
        return content
