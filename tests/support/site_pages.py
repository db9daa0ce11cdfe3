"""Reading the fixture sites' pages as a person's browser would: selectors, listings, amounts."""

from __future__ import annotations

import re
from decimal import Decimal

import httpx
from parsel import Selector, SelectorList

from fixtures.sites import PilotSites


def _matches(page: Selector, query: str | None) -> SelectorList[Selector]:
    assert query is not None
    return page.xpath(query.removeprefix("xpath:")) if query.startswith("xpath:") else page.css(query)


def select(page: Selector, query: str | None) -> list[str]:
    """A pilot.yaml selector (CSS, or XPath after `xpath:`) on a page: every match's text, spaces normalized."""
    texts = (m.root if isinstance(m.root, str) else m.xpath("string()").get() or "" for m in _matches(page, query))
    return [" ".join(t.split()) for t in texts if t.strip()]


def links(page: Selector, query: str | None) -> list[str]:
    """The hrefs a pilot.yaml link selector finds (matched `::attr(href)` strings, or the links' href)."""
    return [m.root if isinstance(m.root, str) else m.attrib["href"] for m in _matches(page, query)]


def crawl_listing(
    client: httpx.Client, base_url: str, start: str, product_links: str | None, next_page: str | None
) -> list[str]:
    """Product links of a listing, following its next-page links to the end."""
    found: list[str] = []
    path: str | None = start
    while path:
        response = client.get(base_url + path)
        assert response.status_code == 200, path
        page = Selector(response.text)
        found += links(page, product_links)
        following = links(page, next_page)
        path = following[0] if following else None
    return found


def amounts(texts: list[str]) -> list[Decimal]:
    """`12 990 ₽` → 12990, `5 490,00` → 5490.00: the number in each text that has one."""
    out = []
    for text in texts:
        number = re.sub(r"[^\d,]", "", text).replace(",", ".")
        if number:
            out.append(Decimal(number))
    return out


Selectors = dict[str, dict[str, str | None]]


class Browser:
    """Fetch pages of the running pilot sites over HTTP."""

    def __init__(self, sites: PilotSites) -> None:
        self.sites = sites
        self.client = httpx.Client(timeout=10)

    def get(self, code: str, path: str, *, follow_redirects: bool = False) -> httpx.Response:
        return self.client.get(self.sites.urls[code] + path, follow_redirects=follow_redirects)

    def page(self, code: str, path: str) -> Selector:
        response = self.get(code, path)
        assert response.status_code == 200, (path, response.status_code)
        return Selector(response.text)
