"""Blocked pages (refusals, captchas, anti-bot challenges, empty bodies) are told apart from pages to read."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.http import Headers

from crawler.parsing.blocking import HEAD_CHARS, detect_block

PAGES = Path(__file__).parent / "data" / "pages"


def page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "status", "headers", "reason"),
    [
        ("cloudflare_challenge.html", 403, {"Server": "cloudflare", "cf-mitigated": "challenge"}, "cloudflare"),
        ("cloudflare_challenge.html", 503, {"Server": "cloudflare"}, "cloudflare"),
        ("cloudflare_challenge.html", 200, None, "cloudflare"),
        ("cloudflare_blocked.html", 403, {"Server": "cloudflare"}, "cloudflare"),
        ("cloudflare_blocked.html", 200, {}, "cloudflare"),
        ("ddos_guard.html", 403, {"Server": "ddos-guard"}, "ddos_guard"),
        ("ddos_guard.html", 200, {"Server": "ddos-guard"}, "ddos_guard"),
        ("qrator.html", 401, {"Server": "QRATOR"}, "qrator"),
        ("qrator.html", 200, {}, "qrator"),
        ("yandex_smartcaptcha.html", 200, {"Server": "nginx"}, "captcha"),
        ("recaptcha_page.html", 200, {"Server": "nginx"}, "captcha"),
        ("recaptcha_page.html", 429, {"Server": "nginx"}, "captcha"),
        ("hcaptcha_page.html", 200, {}, "captcha"),
    ],
)
def test_challenge_pages_are_blocked(name: str, status: int, headers: dict[str, str] | None, reason: str) -> None:
    assert detect_block(status, headers, page(name)) == reason


@pytest.mark.parametrize(
    ("name", "headers"),
    [
        ("product_robot_vacuum.html", {"Server": "cloudflare", "CF-RAY": "8a1b2c3d4e5f6a7d-DME"}),
        ("product_robot_vacuum.html", {"Server": "ddos-guard"}),
        ("product_robot_vacuum.html", {"Server": "QRATOR"}),
        ("listing_page.html", {"Server": "nginx"}),
        ("marketplace_shell.html", {"Server": "nginx"}),
    ],
)
def test_pages_to_read_are_not_blocked(name: str, headers: dict[str, str]) -> None:
    """A robot vacuum, a captcha in a review form, a CDN's beacon script, a JS shell: all pages to read."""
    assert detect_block(200, headers, page(name)) is None


@pytest.mark.parametrize(("status", "reason"), [(401, "http_401"), (403, "http_403"), (429, "http_429")])
def test_refusing_statuses_are_blocked(status: int, reason: str) -> None:
    assert detect_block(status, {"Server": "nginx"}, "<html><body><h1>Forbidden</h1></body></html>") == reason


@pytest.mark.parametrize("status", [200, 404, 410, 500, 502, 503])
def test_other_statuses_are_left_to_the_spider(status: int) -> None:
    """404/410 mean delisted and 5xx are errors: not blocks (the spider handles them)."""
    assert detect_block(status, {"Server": "nginx"}, "<html><body><h1>Нет такой страницы</h1></body></html>") is None


def test_anti_bot_server_header_with_a_refusal_names_the_vendor() -> None:
    assert detect_block(403, {"server": "cloudflare"}, "<html>error</html>") == "cloudflare"
    assert detect_block(403, {"Server": "ddos-guard"}, "<html>error</html>") == "ddos_guard"
    assert detect_block(429, {"Server": "QRATOR"}, "") == "qrator"


@pytest.mark.parametrize("body", ["", " ", "\n\r\n\t  ", "\xa0\n"])
def test_an_empty_body_is_blocked(body: str) -> None:
    assert detect_block(200, {}, body) == "empty"


def test_an_empty_body_with_a_refusal_names_the_refusal() -> None:
    assert detect_block(403, {}, "") == "http_403"


def test_scrapy_headers_are_read() -> None:
    headers = Headers({"Server": "cloudflare", "cf-mitigated": "challenge"})
    assert detect_block(200, headers, "<html>…</html>") == "cloudflare"
    assert detect_block(403, Headers({"Server": ["ddos-guard"]}), "<html>…</html>") == "ddos_guard"
    assert detect_block(200, Headers({"Server": "cloudflare"}), page("product_robot_vacuum.html")) is None


def test_raw_bytes_headers_are_read() -> None:
    assert detect_block(200, {b"CF-Mitigated": b"challenge"}, "<html>…</html>") == "cloudflare"


def test_only_the_head_of_a_long_page_is_read() -> None:
    """The cost stays flat on a 20 MB page: a marker beyond HEAD_CHARS is not looked for."""
    filler = "<p>Обогреватель 12 990 ₽</p>" * (HEAD_CHARS // 20)
    assert detect_block(200, {}, filler + "<script>window._cf_chl_opt={}</script>") is None
    assert detect_block(200, {}, "<script>window._cf_chl_opt={}</script>" + filler) == "cloudflare"


def test_a_captcha_widget_under_a_captcha_title_is_blocked_on_a_long_page() -> None:
    body = "<html><head><title>Captcha</title></head><body><div class='g-recaptcha'></div>" + " " * 50_000
    assert detect_block(200, {}, body) == "captcha"
