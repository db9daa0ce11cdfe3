"""Evidence for violations: the page's HTML (gzip) and a full-page screenshot with the price outlined, stamped.

`capture_for_new_alerts` runs after `rules run`: every open dumping or parallel-import alert without evidence gets
it, once per page. A page the marketplace spider already rendered keeps that visit's files (the observation's
`screenshot_path` / `html_path`, or its evidence record); anything missing is fetched now — the HTML with httpx, the
screenshot in one Chromium shared by the whole run, its fixed and sticky elements (a buy panel) put back in the page's
flow first, so each shows once and its copy of the price is not outlined again. Every screenshot is stored stamped
with its URL, its local and UTC time and the SHA-256 of the capture before the stamp (crawler/stamp.py). Files are
named by their SHA-256 under `<evidence.dir>/<UTC date>/`, and each gets an `Evidence` record with URL, UTC time and
hash.
`prune_evidence` deletes records and files past `evidence.retention_days`, except those an open alert references.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import httpx
from sqlalchemy import Engine

from crawler import clock
from crawler.browser import PINNED_ATTR, UNPIN_SCRIPT
from crawler.config import Config
from crawler.config import Distributor as DistributorConfig
from crawler.i18n import Texts
from crawler.settings import DOWNLOAD_MAXSIZE, PLAYWRIGHT_LAUNCH_OPTIONS, USER_AGENT
from crawler.stamp import is_stamped, stamp_png
from storage.engine import session_scope
from storage.queries import evidence as queries
from storage.queries.observations import EvidenceRow, add_evidence

log = logging.getLogger(__name__)

EVIDENCE_RULES = ("dumping", "parallel_import")
VIEWPORT = {"width": 1366, "height": 900}
OUTLINE_COLOR = "#ff0000"
Kind = Literal["html", "screenshot"]
SUFFIX: dict[str, str] = {"html": ".html.gz", "screenshot": ".png"}
GONE_STATUSES = frozenset({404, 410})  # a 403 may be an anti-bot answer to httpx that a browser gets past
_SCRAPY_PSEUDO = re.compile(r"::(?:text|attr\([^)]*\))")

# Outlines the price elements: those matching the configured price selector that show one of the observed prices
# (several sellers of one page may be in violation), else the first match; without a selector, `[data-price]`
# elements the same way; else the innermost elements whose text is an observed price. Returns their texts.
OUTLINE_SCRIPT = """
({selector, xpath, digits, color, pinned}) => {
  const onlyDigits = (s) => (s || "").replace(/\\D/g, "");
  const shows = (el) => digits.includes(onlyDigits(el.getAttribute("data-price")))
    || digits.includes(onlyDigits(el.innerText));
  const mark = (els) => els.map((el) => {
    el.style.setProperty("outline", `4px solid ${color}`, "important");
    el.style.setProperty("outline-offset", "2px", "important");
    return (el.innerText || el.textContent || "").trim().slice(0, 80);
  }).join(" | ");
  // A fixed or sticky panel repeats the price: outlined only when the page shows it nowhere else.
  const inPage = (els) => {
    const own = els.filter((el) => !el.closest(`[${pinned}]`));
    return own.length ? own : els;
  };
  const pick = (all) => {
    const els = inPage(all);
    const showing = els.filter(shows);
    return showing.length ? showing : els.slice(0, 1);
  };
  let found = [];
  try {
    if (xpath) {
      const r = document.evaluate(xpath, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
      for (let i = 0; i < r.snapshotLength; i++) {
        const node = r.snapshotItem(i);
        found.push(node.nodeType === 1 ? node : node.parentElement);
      }
    } else if (selector) {
      found = Array.from(document.querySelectorAll(selector));
    }
  } catch (e) {
    found = [];  // a selector the browser cannot read: fall back to finding the price
  }
  if (found.length) return mark(pick(found));
  const tagged = Array.from(document.querySelectorAll("[data-price]"));
  if (tagged.length) return mark(pick(tagged));
  if (!digits.length) return null;
  const showing = inPage(Array.from(document.body.querySelectorAll("*")).filter(shows));
  const innermost = showing.filter((el) => !showing.some((other) => other !== el && el.contains(other)));
  return innermost.length ? mark(innermost) : null;
}
"""


@dataclass
class Capture:
    """What one page's capture produced for the alerts about it."""

    url: str
    alert_ids: list[int]
    html_id: int | None = None
    screenshot_id: int | None = None
    outlined: str | None = None  # the text of the elements outlined on the screenshot ("a | b")
    from_crawl: bool = False  # some of the evidence comes from the crawl's own browser visit
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PruneResult:
    records: int
    files: int


class Stamper:
    """Stamps a screenshot with its URL, time (local and UTC) and capture hash, in the config's zone and language."""

    def __init__(self, config: Config) -> None:
        self.tz = config.tz
        self.texts = Texts(config.notify.language, config.tz)

    def __call__(self, png: bytes, url: str, captured_at: dt.datetime) -> bytes:
        if is_stamped(png):
            return png
        stamped, _ = stamp_png(png, url, captured_at, self.tz, self.texts)
        return stamped


class EvidenceStore:
    """Content-addressed files under the evidence directory: `<UTC date>/<sha256><suffix>`; screenshots stamped
    when a `stamper` is given."""

    def __init__(self, root: Path, stamper: Stamper | None = None) -> None:
        self.root = root
        self.stamper = stamper

    def put(self, kind: Kind, url: str, content: bytes, captured_at: dt.datetime) -> EvidenceRow:
        if kind == "screenshot" and self.stamper is not None:
            content = self.stamper(content, url, captured_at)
        digest = hashlib.sha256(content).hexdigest()
        rel = f"{captured_at.astimezone(dt.UTC):%Y-%m-%d}/{digest}{SUFFIX[kind]}"
        target = self.root / rel
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".evidence.", dir=target.parent)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(content)
                Path(tmp).replace(target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return EvidenceRow(kind=kind, url=url, captured_at=captured_at, sha256=digest, path=rel, size=len(content))

    def remove(self, rel: str) -> bool:
        path = self.root / rel
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # the date folder, once empty
        return True


def gzip_html(content: bytes) -> bytes:
    """Deterministic gzip (no timestamp in the header) so the same page always hashes the same."""
    return content if content[:2] == b"\x1f\x8b" else gzip.compress(content, mtime=0)


def browser_selector(selector: str | None) -> tuple[str | None, str | None]:
    """A config selector as (CSS, XPath) for the browser: Scrapy's `::text` / `::attr(…)` dropped."""
    if not selector:
        return None, None
    if selector.startswith("xpath:"):
        return None, selector.removeprefix("xpath:")
    return _SCRAPY_PSEUDO.sub("", selector).strip() or None, None


def price_digits(price: Decimal | None) -> list[str]:
    """How the price's digits may appear on the page: `12990.00` → `12990`, `1299000`."""
    if price is None:
        return []
    whole = str(int(price))
    cents = f"{int((abs(price) % 1) * 100):02d}"
    return [whole, whole + cents]


class Browser:
    """One headless Chromium for all screenshots of a run, started on first use."""

    def __init__(self) -> None:
        self._playwright: Any = None
        self._browser: Any = None

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _ensure(self) -> Any:
        if self._browser is None:
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(**PLAYWRIGHT_LAUNCH_OPTIONS)
        return self._browser

    def screenshot(
        self, url: str, distributor: DistributorConfig | None, prices: Sequence[Decimal | None], outline: bool = True
    ) -> tuple[bytes, str | None]:
        """A full-page PNG of `url` and the text of the price elements outlined on it (None: none found)."""
        timeout_ms = (distributor.politeness.timeout if distributor else 30) * 1000
        context = self._ensure().new_context(viewport=VIEWPORT, user_agent=USER_AGENT, locale="ru-RU")
        try:
            page = context.new_page()
            response = page.goto(url, wait_until="load", timeout=timeout_ms)
            if response is None or response.status >= 400:
                raise RuntimeError(f"HTTP {response.status if response else 'no response'}")
            _wait_for_offers(page, url, distributor)
            page.evaluate(UNPIN_SCRIPT)
            outlined = _outline(page, distributor, prices) if outline else None
            png: bytes = page.screenshot(full_page=True, type="png")
            return png, outlined
        finally:
            context.close()

    def close(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._browser = None
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None


def _wait_for_offers(page: Any, url: str, distributor: DistributorConfig | None) -> None:
    """On a marketplace, until its offers have rendered; a page without them still gets its screenshot."""
    if distributor is None or distributor.spider != "marketplace":
        return
    try:
        page.wait_for_selector(distributor.playwright.wait_for, timeout=distributor.playwright.timeout * 1000)
    except Exception as exc:  # Playwright raises its own TimeoutError
        log.info("evidence %s: %s did not appear: %s", url, distributor.playwright.wait_for, exc)


def _outline(page: Any, distributor: DistributorConfig | None, prices: Sequence[Decimal | None]) -> str | None:
    """Outline the price elements (not their copies in a fixed or sticky panel); their text, None when none."""
    css, xpath = browser_selector(distributor.selectors.price if distributor else None)
    outlined: str | None = page.evaluate(
        OUTLINE_SCRIPT,
        {
            "selector": css,
            "xpath": xpath,
            "digits": [d for price in prices for d in price_digits(price)],
            "color": OUTLINE_COLOR,
            "pinned": PINNED_ATTR,
        },
    )
    return outlined


def fetch_html(client: httpx.Client, url: str, timeout: float) -> bytes:
    """The page's HTML as the server sent it; an HTTP error or an oversized body raises."""
    with client.stream("GET", url, timeout=timeout) as response:
        response.raise_for_status()
        body = b""
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > DOWNLOAD_MAXSIZE:
                raise ValueError(f"page larger than {DOWNLOAD_MAXSIZE} bytes")
    return body


def _price(target: queries.EvidenceTarget) -> Decimal | None:
    if target.observed_price is not None:
        return target.observed_price
    try:
        return Decimal(str(target.details["price"]))
    except (KeyError, InvalidOperation, TypeError):
        return None


def _crawl_file(value: object, root: Path) -> Path | None:
    """A file the crawl saved (absolute, or relative to the working or the evidence directory)."""
    if not isinstance(value, str) or not value:
        return None
    for candidate in (Path(value), root / value):
        if candidate.is_file():
            return candidate
    return None


@contextmanager
def _http_client() -> Iterator[httpx.Client]:
    headers = {"User-Agent": USER_AGENT, "Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"}
    with httpx.Client(headers=headers, follow_redirects=True) as client:
        yield client


class _Capturer:
    def __init__(self, engine: Engine, config: Config, browser: Browser, client: httpx.Client) -> None:
        self.engine = engine
        self.config = config
        self.store = EvidenceStore(Path(config.evidence.dir), Stamper(config))
        self.browser = browser
        self.client = client

    def _distributor(self, code: str) -> DistributorConfig | None:
        return next((d for d in self.config.distributors if d.code == code), None)

    def _from_crawl(self, targets: list[queries.EvidenceTarget], result: Capture) -> dict[str, EvidenceRow]:
        """Evidence of the crawl's own visit: records the store made, or files the spider saved."""
        stored = self._crawl_records(targets, result)
        rows = self._crawl_files(targets[0], result)
        result.from_crawl = bool(stored or rows)
        return rows

    def _crawl_records(
        self, targets: list[queries.EvidenceTarget], result: Capture
    ) -> dict[int, queries.StoredEvidence]:
        """The evidence records the crawl's store made for the observations; the first of each kind is the result's."""
        refs = [t.observation_evidence_id for t in targets]
        refs += [t.observation_details.get("screenshot_evidence_id") for t in targets]
        with session_scope(self.engine) as session:
            stored = queries.evidence_by_ids(session, [r for r in refs if isinstance(r, int)])
        for record in stored.values():
            if record.kind == "html" and result.html_id is None:
                result.html_id = record.id
            elif record.kind == "screenshot" and result.screenshot_id is None:
                result.screenshot_id = record.id
        return stored

    def _crawl_files(self, first: queries.EvidenceTarget, result: Capture) -> dict[str, EvidenceRow]:
        """Files the spider saved on its visit, stored for the kinds the result has no record of yet."""
        rows: dict[str, EvidenceRow] = {}
        visited = first.observed_at or clock.utcnow()
        crawl_files: tuple[tuple[Kind, str, int | None], ...] = (
            ("screenshot", "screenshot_path", result.screenshot_id),
            ("html", "html_path", result.html_id),
        )
        for kind, key, have in crawl_files:
            path = _crawl_file(first.observation_details.get(key), self.store.root)
            if path is not None and have is None:
                content = path.read_bytes()
                rows[kind] = self.store.put(kind, first.url, gzip_html(content) if kind == "html" else content, visited)
        return rows

    def capture(self, targets: list[queries.EvidenceTarget]) -> Capture:
        first = targets[0]
        result = Capture(url=first.url, alert_ids=[t.alert_id for t in targets])
        rows = self._from_crawl(targets, result)
        distributor = self._distributor(first.distributor_code)
        gone = False  # the page is not there at all: no browser would fare better than httpx
        if result.html_id is None and "html" not in rows:
            gone = self._fetch_html(first.url, distributor, result, rows)
        if gone:
            result.errors.append("screenshot: skipped, the page could not be fetched")
        elif self.config.evidence.screenshots and result.screenshot_id is None and "screenshot" not in rows:
            self._screenshot(targets, distributor, result, rows)
        self._record(rows, result)
        for error in result.errors:
            log.warning("evidence for %s (alerts %s): %s", first.url, result.alert_ids, error)
        return result

    def _fetch_html(
        self, url: str, distributor: DistributorConfig | None, result: Capture, rows: dict[str, EvidenceRow]
    ) -> bool:
        """Fetch and store the page's HTML into `rows`; True when the page is gone (or its host unreachable)."""
        try:
            html = fetch_html(self.client, url, distributor.politeness.timeout if distributor else 30.0)
            rows["html"] = self.store.put("html", url, gzip_html(html), clock.utcnow())
        except (httpx.HTTPError, ValueError) as exc:
            result.errors.append(f"html: {exc}")
            return _page_gone(exc)
        return False

    def _screenshot(
        self,
        targets: list[queries.EvidenceTarget],
        distributor: DistributorConfig | None,
        result: Capture,
        rows: dict[str, EvidenceRow],
    ) -> None:
        """Take and store the page's screenshot, the observed prices outlined, into `rows`."""
        url = targets[0].url
        try:
            prices = [_price(t) for t in targets]
            png, result.outlined = self.browser.screenshot(url, distributor, prices)
            rows["screenshot"] = self.store.put("screenshot", url, png, clock.utcnow())
        except Exception as exc:  # Playwright raises its own Error and TimeoutError types
            result.errors.append(f"screenshot: {exc}")
        else:
            if not result.outlined:
                log.info("evidence for %s: no price element found to outline", url)

    def _record(self, rows: dict[str, EvidenceRow], result: Capture) -> None:
        """Add the new evidence records and attach the result's evidence to its alerts."""
        with session_scope(self.engine) as session:
            kinds = list(rows)
            for kind, new_id in zip(kinds, add_evidence(session, [rows[k] for k in kinds]), strict=True):
                if kind == "html":
                    result.html_id = new_id
                else:
                    result.screenshot_id = new_id
            queries.attach_evidence(session, result.alert_ids, result.html_id, result.screenshot_id)


def _page_gone(exc: httpx.HTTPError | ValueError) -> bool:
    """Whether a failed fetch says the page is not there at all, or its host cannot be reached."""
    return isinstance(exc, httpx.TransportError) or (
        isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code in GONE_STATUSES
    )


def capture_for_new_alerts(engine: Engine, config: Config) -> list[Capture]:
    """Capture evidence for every open dumping / parallel-import alert that has none; one capture per page."""
    with session_scope(engine) as session:
        targets = queries.alerts_without_evidence(session, EVIDENCE_RULES)
    if not targets:
        return []
    by_url: dict[str, list[queries.EvidenceTarget]] = {}
    for target in targets:
        by_url.setdefault(target.url, []).append(target)
    results = []
    with Browser() as browser, _http_client() as client:
        capturer = _Capturer(engine, config, browser, client)
        for group in by_url.values():
            results.append(capturer.capture(group))
    return results


def prune_evidence(engine: Engine, config: Config, *, now: dt.datetime | None = None) -> PruneResult:
    """Delete evidence older than `evidence.retention_days`, except what an open alert references."""
    cutoff = (now or clock.utcnow()) - dt.timedelta(days=config.evidence.retention_days)
    store = EvidenceStore(Path(config.evidence.dir))
    with session_scope(engine) as session:
        expired = queries.expired_evidence(session, cutoff)
        queries.delete_evidence(session, [e.id for e in expired])
        still_used = queries.paths_in_use(session, [e.path for e in expired])
    # Files go only after the records are gone for good: a failed transaction leaves both in place.
    files = sum(1 for path in {e.path for e in expired} - still_used if store.remove(path))
    return PruneResult(records=len(expired), files=files)
