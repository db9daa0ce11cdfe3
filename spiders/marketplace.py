"""A JavaScript marketplace rendered in Chromium (scrapy-playwright): one offer per seller on a product page.

With `regions`, every product page is read once per region: a query region's parameters go into the page URL
(which is then the offer's URL), a cookie region sends its cookies (its own cookie jar, its own browser context)
and marks the URL `#region=<code>`; a known listing's URL is read for the region it names. The canary is marked
in its first region only.

With `json`, offers come from the marketplace's JSON: `direct` asks the API through Scrapy for each product page
(no browser) and renders the page only when the document gives no priced offer and `fallback_render` is on;
`capture` renders the page and reads the JSON it fetched, the page's selectors being the fallback. The raw
document is saved as evidence (`json/<distributor>/<stamp>-<hash>.json`, once per distinct document) under the
same switch as the screenshots, `playwright.screenshots`: a crawl that keeps no screenshots keeps no JSON either.

With `legal_info`, each seller's legal page is asked for once per crawl, when the first offer names the seller;
that seller's offers wait for the answer and carry it as `seller_legal` (None, counted and logged, where it
fails: never a guess).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, parse_qsl, quote, urlencode, urlsplit, urlunsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.http import Request, Response, TextResponse
from scrapy_playwright.page import PageMethod
from twisted.python.failure import Failure

from crawler.browser import REGION_COOKIES, JsonCapture, add_region_cookies, wait_for_prices
from crawler.config import Region
from crawler.extract import XPATH_PREFIX, OfferFields, build_offer, not_found_offer, page_root
from crawler.items import FLAG_BLOCKED, FLAG_NOT_FOUND, RawOffer
from crawler.json_offers import JsonOfferReader, legal_from_json, legal_from_page, load_document
from crawler.parsing.legal import LegalDetails
from crawler.parsing.structured import StructuredOffer, extract_product
from crawler.stats import (
    STAT_ERRORS,
    STAT_JSON_FALLBACK,
    STAT_LEGAL_UNRESOLVED,
    STAT_NOT_FOUND,
    STAT_PAGES_NOT_FOUND,
    STAT_PRICE_MISSING,
    STAT_PRODUCT_PAGES,
    STAT_RESPONSES,
)
from spiders.base import META_CANARY, META_PRODUCT, requested_url
from spiders.pages import PageSpider

_WAIT = "wait"  # key of the page method whose result says whether the prices rendered
_CAPTURE = "capture"  # key of the page method whose result is the JSON the page fetched
META_REGION = "pw_region"  # the code of the region a request reads the product page for
META_PAGE_URL = "pw_page_url"  # a JSON request's product page (with its region): the offers' URL
META_SELLER = "pw_seller"  # a legal-details request's seller id
_PAGE_META = (META_PRODUCT, META_CANARY, META_REGION)  # what a product page's request carries on to a fallback
LEGAL_PRIORITY = 500  # before product pages: the offers waiting for a seller's answer go out sooner
# What a config selector may pick out of an element (parsel's `::attr(href)`, `::text`; XPath's `/@href`,
# `/text()`): Playwright waits for the element itself.
_CSS_PSEUDO = re.compile(r"::(?:attr\([^)]*\)|text)")
_XPATH_VALUE = re.compile(r"/(?:@[\w:-]+|text\(\))\s*$")


def playwright_selector(query: str) -> str:
    """A config selector (CSS, or XPath after `xpath:`) as Playwright waits for it: the element it reads."""
    if query.startswith(XPATH_PREFIX):
        return f"xpath={_XPATH_VALUE.sub('', query.removeprefix(XPATH_PREFIX).strip())}"
    return _CSS_PSEUDO.sub("", query).strip() or "*"


def with_query(url: str, params: dict[str, str]) -> str:
    """`url` with `params` set in its query (replacing the same names, keeping the rest)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode([*query, *params.items()])))


def regional_url(url: str, region: Region) -> str:
    """The product page URL as `region` reads it: its query parameters set, or marked `#region=<code>`."""
    if region.query:
        return with_query(url, region.query)
    return urlunsplit(urlsplit(url)._replace(fragment=urlencode({"region": region.code})))


def region_of(url: str, regions: list[Region]) -> Region | None:
    """The region a product URL was read for (a known listing's): its `#region=`, or the region whose query
    parameters it carries; None for a URL that names none."""
    parts = urlsplit(url)
    code = parse_qs(parts.fragment).get("region", [None])[0]
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    for region in regions:
        if region.code == code or (region.query and region.query.items() <= params.items()):
            return region
    return None


def site_base(url: str) -> str:
    """scheme://host[:port] of a URL: the `{base}` of the JSON and legal URL templates."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class _SellerLegal:
    """A seller's legal answer, or the offers waiting for it."""

    waiting: list[RawOffer] = field(default_factory=list)
    answered: bool = False
    details: dict[str, str | None] | None = None


class MarketplaceSpider(PageSpider):
    """Pages render in Chromium; the spider waits for the prices, then reads every seller's offer."""

    name = "marketplace"
    unreadable: list[str]  # listing pages that could not be read, with why
    json_reader: JsonOfferReader | None
    regional_urls: set[str]  # the per-region URLs of the product pages asked for
    sellers: dict[str, _SellerLegal]  # seller id → its legal details (legal_info)
    saved_json: dict[str, str]  # a document's sha256 → where it was saved

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        source = spider.distributor.json_source
        spider.unreadable = []
        spider.json_reader = None if source is None else JsonOfferReader(source, spider.distributor)
        spider.regional_urls, spider.sellers, spider.saved_json = set(), {}, {}
        return spider

    def evidence_path(self, kind: str, digest: str, suffix: str) -> str:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        root = Path(self.settings.get("PRICEWATCH_EVIDENCE_DIR") or "evidence")
        return str(root / kind / self.distributor.code / f"{stamp}-{digest[:16]}{suffix}")

    def screenshot_path(self, url: str) -> str | None:
        if not self.distributor.playwright.screenshots:
            return None
        return self.evidence_path("screenshots", hashlib.sha256(url.encode()).hexdigest(), ".png")

    def save_json(self, body: bytes) -> str | None:
        """The raw JSON document as evidence (once per distinct document), where screenshots are kept."""
        if not self.distributor.playwright.screenshots:
            return None
        digest = hashlib.sha256(body).hexdigest()
        path = self.saved_json.get(digest)
        if path is None:
            path = self.saved_json[digest] = self.evidence_path("json", digest, ".json")
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_bytes(body)
        return path

    # Requests.

    def product_page(
        self, url: str, *, meta: dict[str, Any] | None = None, priority: int = 0, known: bool = True
    ) -> Request:
        """The product page read once per region (the first region's request is returned, the others are
        scheduled beside it); a URL that names its region (a known listing's) for that region only."""
        meta = {META_PRODUCT: known, **(meta or {})}
        regions = self.distributor.regions
        if not regions:
            return self.read_request(url, None, meta, priority)
        region = region_of(url, regions)
        if region is not None:
            self.regional_urls.add(url)
            return self.read_request(url, region, meta, priority)
        first, *rest = regions
        others = {k: v for k, v in meta.items() if k != META_CANARY}  # the canary is its first region's page
        assert self.crawler.engine is not None
        for other in rest:
            self.regional_urls.add(regional_url(url, other))
            self.crawler.engine.crawl(self.read_request(regional_url(url, other), other, others, priority))
        self.regional_urls.add(regional_url(url, first))
        return self.read_request(regional_url(url, first), first, meta, priority)

    def read_request(self, url: str, region: Region | None, meta: dict[str, Any], priority: int) -> Request:
        """The request that reads a product page: its JSON (mode `direct`) or the page rendered."""
        meta = {**meta, META_REGION: region.code if region else None}
        source = self.distributor.json_source
        if source is not None and source.mode == "direct":
            assert source.product_id is not None
            found = re.search(source.product_id, url)
            if found is not None:
                api = source.url.format(base=site_base(url), id=found.group(1))
                return Request(
                    with_query(api, region.query) if region else api,
                    self.parse_json,
                    errback=self.on_error,
                    priority=priority,
                    headers={"Accept": "application/json"},
                    cookies=_cookies(region),
                    meta={**meta, **_cookie_jar(region), META_PAGE_URL: url},
                    dont_filter=bool(region and region.cookies),  # the same API URL for every cookie region
                )
            # A URL the product_id regex does not fit has no JSON to ask for: the page is all there is to read.
            self.logger.warning("No product id (json.product_id) in %s: the page is rendered instead", url)
        return self.page_request(url, self.parse_product, product=True, meta=meta, priority=priority)

    def page_request(
        self,
        url: str,
        callback: Callable[[Response], Any],
        *,
        product: bool,
        meta: dict[str, Any] | None = None,
        priority: int = 0,
    ) -> Request:
        cfg = self.distributor.playwright
        links = self.distributor.selectors.product_links
        wait_for = cfg.wait_for if product or not links else playwright_selector(links)
        shot = self.screenshot_path(url) if product else None
        stamp = (self.config.timezone, self.config.notify.language) if shot else None
        methods = {_WAIT: PageMethod(wait_for_prices, wait_for, cfg.timeout * 1000, shot, stamp)}
        meta = {**(meta or {}), "playwright": True, "pw_screenshot": shot}
        source = self.distributor.json_source
        if product and source is not None and source.mode == "capture":
            capture = JsonCapture(source.url)
            meta["playwright_page_event_handlers"] = {"response": capture.on_response}
            methods[_CAPTURE] = PageMethod(capture.collect)
        region = self._region(meta)
        if region is not None and region.cookies:
            # Its own browser context holds the region's cookies, so no page of another region sees them.
            meta["playwright_context"] = f"region-{region.code}"
            meta["playwright_page_init_callback"] = add_region_cookies
            meta[REGION_COOKIES] = [{"name": k, "value": v, "url": site_base(url)} for k, v in region.cookies.items()]
        meta["playwright_page_methods"] = methods
        return Request(
            url,
            callback,
            errback=self.on_error,
            priority=priority,
            meta=meta,
            dont_filter=bool(region and region.cookies),  # the URLs differ by their #region= fragment only
        )

    def revisit_requests(self) -> list[Request]:
        """As every page spider's, the per-region URLs asked for counting as asked for."""
        urls = sorted(self.known_urls - self.product_urls - self.regional_urls - self.offer_urls)
        return [request.replace(dont_filter=True) for url in urls if (request := self.follow_product(url))]

    def _region(self, meta: dict[str, Any]) -> Region | None:
        code = meta.get(META_REGION)
        return next((r for r in self.distributor.regions if r.code == code), None)

    # Listings.

    def parse_listing(self, response: Response) -> Iterator[Request]:
        """A listing whose product links never rendered gives nothing, and the crawl fails (`spider_idle`)."""
        if self.unusable(response, product=False) is not None:
            return
        if not response.meta["playwright_page_methods"][_WAIT].result:
            selector = self.distributor.selectors.product_links
            why = f"its product links ({selector}) did not appear within {self.distributor.playwright.timeout:g} s"
            self.entry_failed(response.url, why)
            self.unreadable.append(f"{response.url}: {why}")
            return
        assert isinstance(response, TextResponse)
        yield from self._listing_requests(response, page_root(response))

    def spider_idle(self) -> None:
        """A crawl whose listing pages rendered without their product links ends failed, with the reason, never
        finished: the offers they lead to were never seen. A listing page that is blocked (a captcha, a 403) is not
        unreadable but blocked: the run is judged degraded by its health verdict, as on any site."""
        super().spider_idle()
        if self.unreadable:
            more = f" (and {len(self.unreadable) - 1} more)" if len(self.unreadable) > 1 else ""
            raise CloseSpider(f"listing pages could not be read: {self.unreadable[0]}{more}")

    # Rendered product pages.

    def parse_product(self, response: Response) -> Iterator[RawOffer | Request]:
        region = self._region(response.meta)
        for item in super().parse_product(response):
            if isinstance(item, RawOffer):
                item.region = region.code if region else None
                yield from self._with_legal(item)
            else:
                yield item

    def read_product(self, response: TextResponse, root: Any, *, known: bool) -> list[RawOffer]:
        fetched = self._captured_offers(response)
        if fetched is None:
            if not response.meta["playwright_page_methods"][_WAIT].result:
                return []
            fetched = [*self._selector_offers(response, root), *self._structured_offers(response)]
            shot = response.meta.get("pw_screenshot")
            for offer in fetched:
                offer.screenshot_path = shot
        if self._region(response.meta) is not None:
            for offer in fetched:
                offer.url = requested_url(response)  # the region's URL, its #region= fragment included
        return fetched

    def _captured_offers(self, response: TextResponse) -> list[RawOffer] | None:
        """Mode `capture`: the offers of the first captured document that gives a priced one; else None (the
        page's selectors then), or, without `fallback_render`, a page that said nothing."""
        method = response.meta["playwright_page_methods"].get(_CAPTURE)
        if method is None or self.json_reader is None:
            return None
        for captured in method.result or []:
            if captured.status >= 400:
                continue
            offers = self.json_reader.read(load_document(captured.body), url=response.url, http_status=captured.status)
            if offers and any(o.price is not None for o in offers):
                path = self.save_json(captured.body)
                for offer in offers:
                    offer.json_path, offer.screenshot_path = path, response.meta.get("pw_screenshot")
                    offer.seller_name = offer.seller_name or self.distributor.name
                return offers
        assert self.distributor.json_source is not None
        if self.distributor.json_source.fallback_render:
            if method.result is not None:
                self.stat(STAT_JSON_FALLBACK)
            return None
        return [self._said_nothing(response.url, response.status)] if response.meta.get(META_PRODUCT) else []

    def nothing_read(self, response: Response) -> None:
        # The prices never rendered, and the page is no block page: a changed layout or a slow site.
        self.stat(STAT_ERRORS)
        self.stat(STAT_PRICE_MISSING)
        self.logger.warning("Prices did not render within %ss: %s", self.distributor.playwright.timeout, response.url)

    def _offer(self, fields: OfferFields, response: Response, structured: StructuredOffer | None = None) -> RawOffer:
        offer = build_offer(
            fields,
            distributor=self.distributor,
            url=response.url,
            seller_code=fields.seller_id or fields.seller or self.seller_code,
            structured=structured,
            http_status=response.status,
        )
        if offer.seller_name is None:
            offer.seller_name = self.distributor.name
        return offer

    def _said_nothing(self, url: str, status: int) -> RawOffer:
        """A product page whose JSON gave no priced offer and that is not to be rendered: price missing, which
        counts against the crawl's health, as a shop page without a price does."""
        self.logger.warning("No priced offer in the JSON of %s (json.fallback_render is off)", url)
        offer = build_offer(
            OfferFields(), distributor=self.distributor, url=url, seller_code=self.seller_code, http_status=status
        )
        offer.seller_name = self.distributor.name
        return offer

    def _selector_offers(self, response: TextResponse, root: Any) -> list[RawOffer]:
        if self.reader.has("offer"):
            nodes = self.reader.select(root, "offer")
        elif self.reader.has("price"):
            nodes = [root]
        else:
            return []
        # The product's own fields (name, codes) sit outside the offer elements.
        name, vendor_code, ean = (self.reader.text(root, field) for field in ("name", "vendor_code", "ean"))
        offers = []
        for node in nodes:
            fields = self.reader.fields(node)
            fields.name = fields.name or name
            fields.vendor_code = fields.vendor_code or vendor_code
            fields.ean = fields.ean or ean
            if fields.says_anything():
                offers.append(self._offer(fields, response))
        return offers

    def _structured_offers(self, response: TextResponse) -> list[RawOffer]:
        """With extraction `auto` and no selectors: one offer per schema.org Offer (its seller's name as the id)."""
        if self.distributor.extraction != "auto" or self.reader.has("price"):
            return []
        product = extract_product(response.text, response.url)
        if product is None:
            return []
        offers = []
        for item in product.offers:
            fields = OfferFields(
                name=product.name, vendor_code=product.mpn or product.sku, ean=product.gtin, seller_sku=product.sku
            )
            fields.seller = item.seller_name
            offers.append(self._offer(fields, response, item))
        return offers

    # JSON asked for directly.

    def parse_json(self, response: Response) -> Iterator[RawOffer | Request]:
        """A product's JSON (mode `direct`): its offers under the product page's URL. A document listing no
        offer is a gone product; one that gives no priced offer (no JSON, another shape, no price) has the page
        rendered (`fallback_render`) or is a page that said nothing; a block or error is judged as a page's."""
        self.stat(STAT_RESPONSES)
        assert self.json_reader is not None
        page_url, known = response.meta[META_PAGE_URL], bool(response.meta.get(META_PRODUCT))
        page = _as_page(response, page_url)
        region = self._region(response.meta)
        region_code = region.code if region else None
        document = load_document(response.body) if response.status < 400 else None
        offers = self.json_reader.read(document, url=page_url, http_status=response.status)
        if offers is not None and any(o.price is not None for o in offers):
            yield from self._json_offers(offers, response.body, page, region_code)
        elif offers == []:
            yield from self._gone(page, response.status, known)
        else:
            yield from self._unpriced_json(response, page, offers, known, region_code)

    def _json_offers(
        self, offers: list[RawOffer], body: bytes, page: Response, region_code: str | None
    ) -> Iterator[RawOffer | Request]:
        """A JSON with a priced offer: its offers (the JSON saved beside them), each with its seller's legal details."""
        path = self.save_json(body)
        self.stat(STAT_PRODUCT_PAGES)
        for offer in offers:
            offer.json_path, offer.region = path, region_code
            offer.seller_name = offer.seller_name or self.distributor.name
            yield from self._with_legal(self.offered(offer, page))

    def _unpriced_json(
        self,
        response: Response,
        page: Response,
        offers: list[RawOffer] | None,
        known: bool,
        region_code: str | None,
    ) -> Iterator[RawOffer | Request]:
        """A JSON with no priced offer: a dead page's offers, else the rendered page (`fallback_render`), else
        (a known listing) the offers it gave or a page that said nothing."""
        assert self.distributor.json_source is not None
        dead = self.dead_page(page, product=True)
        if dead is not None:
            self.stat(STAT_PRODUCT_PAGES)
            for offer in dead:
                offer.region = region_code
                yield offer
            return
        if self.distributor.json_source.fallback_render:
            yield self._render_instead(response, page.url)
            return
        if known:
            self.stat(STAT_PRODUCT_PAGES)
            said = offers or [self._said_nothing(page.url, response.status)]
            for offer in said:
                offer.region = region_code
                yield self.offered(offer, page)

    def _render_instead(self, response: Response, page_url: str) -> Request:
        """The product page to render and read, since its JSON gave no priced offer."""
        self.stat(STAT_JSON_FALLBACK)
        self.logger.info("No priced offer in %s: reading the rendered page %s", response.url, page_url)
        meta = {key: response.meta[key] for key in _PAGE_META if key in response.meta}
        return self.page_request(page_url, self.parse_product, product=True, meta=meta, priority=1)

    def _gone(self, page: Response, status: int, known: bool) -> Iterator[RawOffer]:
        """A known listing whose JSON lists no offer: delisted, as a 404 page is (a sitemap's URL: nothing)."""
        if not known:
            return
        self.stat(STAT_PRODUCT_PAGES)
        self.stat(STAT_NOT_FOUND)
        self.stat(STAT_PAGES_NOT_FOUND)
        offer = not_found_offer(self.distributor, page.url, self.seller_code, status)
        offer.stock_raw = "no offers in the JSON"
        region = self._region(page.meta)
        offer.region = region.code if region else None
        yield self.offered(offer, page)

    # Sellers' legal details.

    def _with_legal(self, offer: RawOffer) -> Iterator[RawOffer | Request]:
        """The offer now, with its seller's legal details, or once they are known (asked for on first sight)."""
        info = self.distributor.legal_info
        gone = FLAG_BLOCKED in offer.flags or FLAG_NOT_FOUND in offer.flags
        if info is None or gone or offer.seller_code == self.seller_code:
            yield offer
            return
        seller = self.sellers.get(offer.seller_code)
        if seller is not None and seller.answered:
            offer.seller_legal = None if seller.details is None else dict(seller.details)
            yield offer
            return
        if seller is not None:
            seller.waiting.append(offer)
            return
        self.sellers[offer.seller_code] = _SellerLegal([offer])
        url = info.url.format(base=site_base(offer.url), seller_id=quote(offer.seller_code, safe=""))
        yield Request(
            url,
            self.parse_legal,
            errback=self.legal_failed,
            priority=LEGAL_PRIORITY,
            meta={META_SELLER: offer.seller_code},
            dont_filter=True,
        )

    def parse_legal(self, response: Response) -> Iterator[RawOffer]:
        info = self.distributor.legal_info
        assert info is not None
        seller = response.meta[META_SELLER]
        result: LegalDetails | str
        if response.status != 200:
            result = f"HTTP {response.status}"
        elif info.format == "json":
            result = legal_from_json(load_document(response.body), info.fields, response.url)
        elif isinstance(response, TextResponse):
            result = legal_from_page(page_root(response), info.fields, response.url)
        else:
            result = f"not a web page ({response.headers.get('Content-Type')!r})"
        yield from self._legal_answer(seller, result, response.url)

    def legal_failed(self, failure: Failure) -> Iterator[RawOffer]:
        """Errback: the legal page never answered (timeout, refused, robots.txt): the seller is unresolved."""
        request = failure.request  # type: ignore[attr-defined]
        yield from self._legal_answer(request.meta[META_SELLER], failure.getErrorMessage(), request.url)

    def _legal_answer(self, seller: str, result: LegalDetails | str, url: str) -> Iterator[RawOffer]:
        """The seller's waiting offers, with its details (None where `result` says why there are none)."""
        state = self.sellers[seller]
        state.answered = True
        if isinstance(result, str):
            self.stat(STAT_LEGAL_UNRESOLVED)
            self.logger.warning("Legal details of seller %s unresolved (%s): %s", seller, result, url)
        else:
            state.details = result.as_dict()
        waiting, state.waiting = state.waiting, []
        for offer in waiting:
            offer.seller_legal = None if state.details is None else dict(state.details)
            yield offer


def _cookies(region: Region | None) -> dict[str | bytes, str | bytes | bool | float | int] | None:
    if region is None or not region.cookies:
        return None
    cookies: dict[str | bytes, str | bytes | bool | float | int] = {}
    cookies.update(region.cookies)
    return cookies


def _cookie_jar(region: Region | None) -> dict[str, str]:
    """A cookie region's own cookie jar (Scrapy's `cookiejar` meta), so its cookies reach no other request."""
    return {"cookiejar": region.code} if region is not None and region.cookies else {}


def _as_page(response: Response, page_url: str) -> Response:
    """A JSON response seen as the product page it was asked for: blocks, 404s and the canary are judged, and
    offers recorded, under the page's URL, not the API's."""
    assert response.request is not None
    meta = {k: v for k, v in response.meta.items() if k != "redirect_urls"}
    return response.replace(url=page_url, request=response.request.replace(url=page_url, meta=meta))
