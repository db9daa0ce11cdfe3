"""The pilot shop techsnab with a fault on any set of its product pages: a site that half-works.

    site = FaultyTechsnab()
    with served(site) as url:                       # PILOT_TECHSNAB_URL for pilot.yaml
        site.faults = {path: PageFault.BLOCKED for path in product_paths()}
        site.price_factor = Decimal("0.6")          # every price, the canary's too, printed at 60 %

The pilot sites' own modes put the whole site or one page in a fault; these put many pages at once, the canary left
as it is, to try the crawl-health verdict built from every page.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal

from fixtures.pilot.russian import format_amount
from fixtures.pilot.scenario import TECHSNAB, offers
from fixtures.sites import modes
from fixtures.sites.base import SiteServer
from fixtures.sites.techsnab import Techsnab, not_found_page
from fixtures.sites.web import Request, Response

# The main price block and the sticky buy panel print the price in the same element.
_PRICE = re.compile(r'(<div class="product-item-detail-price-current"[^>]*>)([^<]*)(</div>)')
_AMOUNT = re.compile(r"\d(?:[\d\u00a0\u2009 ]*\d)?")


class PageFault(enum.StrEnum):
    BLOCKED = "blocked"  # a Cloudflare 403 challenge
    NOT_FOUND = "not_found"  # the shop's 404 page
    TIMEOUT = "timeout"  # the page, after `delay` seconds: beyond the crawler's timeout
    RESET = "reset"  # the connection dropped without an answer
    CONFLICT = "conflict"  # the sticky panel prints twice the price of the main block


def product_paths(day: int = 1) -> list[str]:
    """techsnab's product pages on `day`, the canary's left out."""
    return [o.path for o in offers(TECHSNAB, day) if not o.canary]


def _scaled(text: str, factor: Decimal) -> str:
    """`4 990 ₽` × 0.6 → `2 994 ₽`; a text without an amount («Цена по запросу») as it is."""
    return _AMOUNT.sub(lambda m: format_amount((Decimal(re.sub(r"\D", "", m[0])) * factor).quantize(Decimal(1))), text)


def reprice(html: str, factor: Decimal, *, last_only: bool = False) -> str:
    """The product page with its printed prices (or the sticky panel's only) multiplied by `factor`."""
    found = list(_PRICE.finditer(html))
    for m in reversed(found[-1:] if last_only else found):
        html = html[: m.start(2)] + _scaled(m[2], factor) + html[m.end(2) :]
    return html


class FaultyTechsnab(Techsnab):
    """techsnab; each path in `faults` answers with its fault, and with `price_factor` every price is misprinted."""

    def __init__(self, day: int = 1, *, delay: float = 3.0) -> None:
        super().__init__(day)
        self.faults: Mapping[str, PageFault] = {}
        self.price_factor: Decimal | None = None
        self.delay = delay

    def handle(self, request: Request) -> Response | None:
        fault = self.faults.get(request.path)
        if fault is PageFault.BLOCKED:
            return modes.cloudflare_challenge(request.host)
        if fault is PageFault.NOT_FOUND:
            return not_found_page(request.base_url)
        if fault is PageFault.RESET:
            return None
        if fault is PageFault.TIMEOUT:
            self.stopping.wait(self.delay)
        response = super().handle(request)
        if response is None or not response.is_html:
            return response
        if fault is PageFault.CONFLICT:
            return response.replaced(body=reprice(response.text(), Decimal(2), last_only=True))
        if self.price_factor is not None:
            return response.replaced(body=reprice(response.text(), self.price_factor))
        return response


@contextmanager
def served(site: FaultyTechsnab) -> Iterator[str]:
    """The site on an ephemeral 127.0.0.1 port; yields its base URL."""
    server = SiteServer(site).start()
    try:
        yield server.url
    finally:
        server.stop()
