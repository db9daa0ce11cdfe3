"""Command-line tables speak the config's language: headers, known codes in words, money as messages write it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crawler.i18n import Texts
from pricewatch.cli import headers
from tests.support.cli import Pricewatch
from tests.support.services import REPO

MSK = ZoneInfo("Europe/Moscow")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ru", ["правило", "Параллельный импорт", "12 090 ₽", "устранено", "деградация", "TL-1003"]),
        ("en", ["rule", "Parallel import", "12,090 RUB", "resolved", "degraded", "TL-1003"]),
    ],
)
def test_headers_and_known_values_follow_the_language(language: str, expected: list[str]) -> None:
    texts = Texts(language, MSK)  # type: ignore[arg-type]
    shown = [
        headers.header(texts, "rule", "rule"),
        headers.cell(texts, "rule", "parallel_import"),
        headers.cell(texts, "rrp", Decimal("12090.00")),
        headers.cell(texts, "status", "resolved"),
        headers.cell(texts, "health", "degraded"),
        headers.cell(texts, "vendor_code", "TL-1003"),  # not a code of a known kind: as it is
    ]
    assert shown == expected


def test_an_unknown_code_is_shown_as_it_is() -> None:
    assert headers.cell(Texts("ru", MSK), "rule", "new_rule") == "new_rule"


def test_an_english_config_gives_english_tables(pricewatch: Pricewatch, tmp_path: Path, sqlite_url: str) -> None:
    config = tmp_path / "en.yaml"
    text = (REPO / "pilot.yaml").read_text(encoding="utf-8")
    config.write_text(text.replace("language: ru", "language: en", 1), encoding="utf-8")
    assert "language: en" in config.read_text(encoding="utf-8")
    assert pricewatch("db", "upgrade", "--db", sqlite_url).code == 0
    outcome = pricewatch("alerts", "list", "--config", str(config), "--db", sqlite_url)
    assert outcome.code == 0
    assert "0 alert(s)" in outcome.out
    assert "severity" in outcome.out
    ru = pricewatch("alerts", "list", "--config", str(REPO / "pilot.yaml"), "--db", sqlite_url)
    assert "Оповещений: 0" in ru.out
    assert "важность" in ru.out
