"""A violation's evidence: the screenshot, the saved page (sandboxed, scripts off) and the packet as one zip.

Every file is reached through its violation, so the scope check is the violation's: a manager of one distributor
cannot fetch another's evidence by guessing a number.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from crawler.links import EvidenceKind
from reports.packet import PacketFile, build_packet, evidence_file, unpacked_page
from storage.models import utcnow
from storage.queries.evidence import StoredEvidence
from storage.queries.web_violations import ViolationDetail, violation
from web.auth import SignedIn
from web.panel import Panel, panel_of

router = APIRouter()

# The saved page runs nothing and loads nothing: no script, no request to the shop (or anywhere), no form; it
# gets an opaque origin (sandbox) so it cannot read the panel's cookies or pages even if something slipped by.
SAVED_PAGE_CSP = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "form-action 'none'; frame-ancestors 'self'; base-uri 'none'"
)


def _detail(panel: Panel, me: SignedIn, alert_id: int) -> ViolationDetail:
    with panel.session() as db:
        found = violation(db, me.scope, alert_id)
    if found is None:
        raise HTTPException(404)
    return found


def _content(panel: Panel, stored: StoredEvidence | None) -> bytes:
    path = evidence_file(panel.evidence_dir, stored.path) if stored is not None else None
    if path is None:
        raise HTTPException(404)
    return path.read_bytes()


@router.get("/violations/{alert_id}/evidence/{kind}")
def evidence(request: Request, me: SignedIn, alert_id: int, kind: Literal["html", "screenshot"]) -> Response:
    panel = panel_of(request)
    detail = _detail(panel, me, alert_id)
    chosen: EvidenceKind = kind
    if chosen == "screenshot":
        return Response(_content(panel, detail.screenshot), media_type="image/png")
    page = unpacked_page(_content(panel, detail.html))
    headers = {"Content-Security-Policy": SAVED_PAGE_CSP, "X-Frame-Options": "SAMEORIGIN"}
    # No charset: the browser takes the one the saved page declares, as the shop served it.
    return Response(page, media_type="text/html", headers=headers)


@router.get("/violations/{alert_id}/evidence.zip")
def packet(request: Request, me: SignedIn, alert_id: int) -> Response:
    panel = panel_of(request)
    detail = _detail(panel, me, alert_id)
    files = []
    for stored in (detail.html, detail.screenshot):
        if stored is None:
            continue
        path = evidence_file(panel.evidence_dir, stored.path)
        files.append(PacketFile(stored.kind, stored.url, stored.captured_at, stored.sha256, path))
    if not files:
        raise HTTPException(404)
    row = detail.row
    about = {
        "id": row.alert_id,
        "rule": row.rule,
        "subject": row.subject,
        "distributor": row.distributor_code,
        "seller": row.seller_name,
        "vendor_code": row.vendor_code,
        "product": row.product_name,
        "page": row.url,
        "opened_at_utc": row.opened_at.isoformat(timespec="seconds"),
    }
    content = build_packet(about, files, panel.config.tz, utcnow())
    name = f"evidence-{alert_id}.zip"
    return Response(
        content, media_type="application/zip", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
