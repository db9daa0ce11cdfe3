"""Match review: unmatched and doubtful offers with their candidates; accept, reject for another product, or "not
ours", in place — the same decisions `match apply` stores (`apply_decisions`), remembered for other sellers."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from storage.models import Product
from storage.queries.matching import Decision, apply_decisions
from storage.queries.web_catalog import page_in_scope, product_by_code
from web.auth import Acting, Principal, SignedIn, check_csrf
from web.matching import IndexCache, review_pages
from web.panel import Panel, is_htmx, panel_of, render

router = APIRouter()
PAGE_SIZE = 25
_INDEX = IndexCache()


@router.get("/matches")
def matches(request: Request, me: SignedIn, page: int = 1) -> Response:
    panel = panel_of(request)
    with panel.session() as db:
        pages = review_pages(db, panel.config, me.scope, _INDEX)
    count = max(1, -(-len(pages) // PAGE_SIZE))
    page = min(max(page, 1), count)
    shown = pages[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return render(request, "matches.html.j2", pages=shown, total=len(pages), page=page, page_count=count)


def _chosen(panel: Panel, me: Principal, action: str, product_id: int | None, vendor_code: str) -> int | None:
    """The product the decision points to (None: not ours); one outside the user's categories is refused."""
    if action == "not_ours":
        return None
    with panel.session() as db:
        if action == "accept" and product_id is not None:
            found = db.get(Product, product_id)
            category, chosen = (found.category, found.id) if found else (None, None)
        else:
            line = product_by_code(db, vendor_code)
            category, chosen = (line.category, line.id) if line else (None, None)
    if chosen is None:
        raise HTTPException(400, panel.texts("matches.unknown_code", code=vendor_code or str(product_id)))
    if not me.scope.allows_category(category):
        raise HTTPException(403, panel.texts("error.403"))
    return chosen


@router.post("/matches/decide")
def decide(
    request: Request,
    me: Acting,
    *,
    distributor: Annotated[str, Form(max_length=64)],
    url: Annotated[str, Form(max_length=2048)],
    action: Annotated[Literal["accept", "reject", "not_ours"], Form()],
    product_id: Annotated[int | None, Form()] = None,
    vendor_code: Annotated[str, Form(max_length=128)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    panel = panel_of(request)
    with panel.session() as db:
        visible = page_in_scope(db, me.scope, distributor, url)
    if not visible:
        raise HTTPException(404)
    chosen = _chosen(panel, me, action, product_id, vendor_code)
    with panel.session() as db:
        changed = apply_decisions(db, [Decision(distributor, url, chosen)], me.username)
        product = db.get(Product, chosen) if chosen is not None else None
        what = f"{product.vendor_code} {product.name}" if product else panel.texts("matches.not_ours")
    if is_htmx(request):
        return render(request, "match_decided.html.j2", what=what, who=me.username, listings=changed)
    return RedirectResponse("/matches", status_code=303)
