"""Recognise pages that say nothing about the offer: HTTP refusals, captchas, anti-bot challenges, empty bodies.

Runs on every response, so it reads only a few headers and the first HEAD_CHARS of the body, lower-cased once.
What a page must show to count as blocked, and why:

- Cloudflare, DDoS-Guard and Qrator front many healthy shops: their `Server` header alone is no block. A block
  is their challenge or refusal page (markers below), or their header together with a refusing status.
- Captcha widgets (reCAPTCHA, hCaptcha, Yandex SmartCaptcha) also sit in feedback forms of ordinary product
  pages, so a widget counts only under a captcha <title>, or on a short page (< SHORT_PAGE_CHARS) with no sign of
  a shop page (JSON-LD, a price itemprop, "₽", "в корзину"); the "prove you are not a robot" phrases count anywhere in
  the head ("робот-пылесос" does not match them).
- 401, 403 and 429 are blocks: a 429 that reaches the spider has outlived the retry middleware's backoff.
- A body of only whitespace is "empty". A small JS shell is not a block: marketplaces are legitimately JS pages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

HEAD_CHARS = 20_000
SHORT_PAGE_CHARS = 10_000
BLOCK_STATUSES = frozenset({401, 403, 429})

_CLOUDFLARE = (
    "_cf_chl_opt",
    "cf-browser-verification",
    "cf_chl_prog",
    "<title>just a moment...</title>",
    "<title>attention required! | cloudflare</title>",
    "checking your browser before accessing",
    "sorry, you have been blocked",
    "error code: 1020",
)
_DDOS_GUARD = (
    "check.ddos-guard.net",
    "/.well-known/ddos-guard/check",
    "<title>ddos-guard</title>",
    "ddos-guard.net/js",
)
_QRATOR = ("/__qrator/", "qauth_", "<title>qrator", "qrator_jsid")
# (reason, page markers, what its `Server` header says), in the order they are told apart.
_SERVICES = (
    ("cloudflare", _CLOUDFLARE, "cloudflare"),
    ("ddos_guard", _DDOS_GUARD, "ddos-guard"),
    ("qrator", _QRATOR, "qrator"),
)
_CAPTCHA_PHRASES = re.compile(
    r"(?:вы|я|а)\s+не\s+робот(?![-\w])|не\s+являетесь\s+роботом|что\s+вы\s+человек|(?:i'?m|am|are)\s+not\s+a\s+robot"
    r"|are\s+you\s+(?:a\s+robot|human)|(?:verify|confirm)\s+(?:that\s+)?you\s+are\s+(?:a\s+)?human"
)
# The phrase regex is costly on Cyrillic text; it runs only when one of these words is on the page.
_CAPTCHA_PHRASE_WORDS = ("робот", "robot", "человек", "human")
_CAPTCHA_WIDGETS = (
    "g-recaptcha",
    "google.com/recaptcha",
    "recaptcha/api.js",
    "h-captcha",
    "hcaptcha.com",
    "smartcaptcha",
    "captcha.yandex",
    "showcaptcha",
    "checkbox-captcha",
)
# A page with these is a shop page whose forms may carry a captcha widget, not a captcha page.
_SHOP_MARKERS = (
    "application/ld+json",
    'itemprop="price"',
    "itemprop='price'",
    "₽",
    "руб.",
    "в наличии",
    "в корзину",
    "купить",
    "add to cart",
)
_TITLE = re.compile(r"<title[^>]*>([^<]{0,300})")
_CAPTCHA_TITLE = re.compile(
    r"captcha|капча|не\s+робот|not\s+a\s+robot|human|проверка\s+(?:браузера|безопасности)|security\s+check"
    r"|доступ\s+ограничен|access\s+denied"
)


HeaderMap = Mapping[str, bytes | str] | Mapping[bytes, bytes | list[bytes]]


def _headers(headers: HeaderMap | None, names: tuple[str, ...]) -> dict[str, str]:
    """The named headers' values, lower-cased, from a plain dict or Scrapy's Headers (bytes keys, lists of bytes)."""
    found = dict.fromkeys(names, "")
    for key, value in (headers or {}).items():
        name = (key.decode("latin-1") if isinstance(key, bytes) else str(key)).lower()
        if name in found:
            values = value if isinstance(value, list | tuple) else [value]
            found[name] = " ".join(v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in values).lower()
    return found


def _anti_bot_service(head: str, headers: dict[str, str], refused: bool) -> str | None:
    """The anti-bot service whose challenge or refusal this is: its page's markers, or its `Server` header on a
    refusing status (Cloudflare also says so in `cf-mitigated`)."""
    if "challenge" in headers["cf-mitigated"]:
        return "cloudflare"
    server = headers["server"]
    for reason, markers, server_name in _SERVICES:
        if any(m in head for m in markers) or (refused and server_name in server):
            return reason
    return None


def _is_captcha(head: str, body: str) -> bool:
    """A "prove you are not a robot" phrase, or a captcha widget under a captcha title or on a short non-shop page."""
    if any(word in head for word in _CAPTCHA_PHRASE_WORDS) and _CAPTCHA_PHRASES.search(head):
        return True
    if not any(w in head for w in _CAPTCHA_WIDGETS):
        return False
    title = _TITLE.search(head)
    if title and _CAPTCHA_TITLE.search(title.group(1)):
        return True
    return len(body) < SHORT_PAGE_CHARS and not any(m in head for m in _SHOP_MARKERS)


def detect_block(status: int, headers: HeaderMap | None, body: str) -> str | None:
    """Why the page tells nothing about the offer: "cloudflare", "ddos_guard", "qrator", "captcha", "http_<status>"
    (401, 403, 429) or "empty"; None for a page to be read."""
    head = body[:HEAD_CHARS].lower()
    refused = status in BLOCK_STATUSES
    service = _anti_bot_service(head, _headers(headers, ("server", "cf-mitigated")), refused)
    if service is not None:
        return service
    if _is_captcha(head, body):
        return "captcha"
    if refused:
        return f"http_{status}"
    if not head.strip() and not body.strip():
        return "empty"
    return None
