"""`pricewatch plan import` through the CLI: the config's distributors, the catalog's SKUs."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import Pricewatch
from tests.support.services import REPO

SAMPLES = REPO / "fixtures" / "samples"
CONFIG = """
distributors:
  - {code: techsnab, name: ТехСнаб, start_urls: ["http://127.0.0.1:8701/"]}
  - {code: klimatprof, name: КлиматПроф, start_urls: ["http://127.0.0.1:8702/"]}
  - {code: marketplace, name: МаркетПлюс, kind: marketplace, start_urls: ["http://127.0.0.1:8703/"]}
"""


def test_plan_import_loads_the_wide_sample(pricewatch: Pricewatch, db_url: str, tmp_path: Path) -> None:
    config = tmp_path / "pw.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    assert pricewatch("catalog", "import", str(SAMPLES / "pricelist_ru.csv"), "--db", db_url).code == 0

    args = ("plan", "import", str(SAMPLES / "sales_plan_ru.csv"), "--config", str(config), "--db", db_url)
    result = pricewatch(*args, "--format", "json")
    assert (result.code, result.err) == (0, "")
    summary = json.loads(result.out)[0]
    assert (summary["entries"], summary["inserted"], summary["replaced"]) == (14, 14, 0)

    again = pricewatch(*args)
    assert again.code == 0
    assert "2026-01 … 2026-03" in again.out
    assert "14" in again.out


def test_plan_with_unknown_distributor_is_one_error_line(
    pricewatch: Pricewatch, sqlite_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "pw.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    pricewatch("catalog", "import", str(SAMPLES / "pricelist_ru.csv"), "--db", sqlite_url)
    plan = tmp_path / "plan.csv"
    plan.write_text("Дистрибьютор;Артикул;Месяц;План\ntechsnab-msk;TL-1001;2026-01;5\n", encoding="utf-8")
    result = pricewatch("plan", "import", str(plan), "--config", str(config), "--db", sqlite_url)
    assert result.code == 2
    assert result.err == (
        "error: plan.csv: row 2, column Дистрибьютор: unknown distributor 'techsnab-msk' "
        "(known: techsnab, klimatprof, marketplace)\n"
    )
