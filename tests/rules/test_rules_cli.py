"""`pricewatch rules run`, `alerts list` and `alerts show` through the CLI, tables and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.builders import Seen, World, config_yaml, day
from tests.support.cli import Pricewatch
from tests.support.rules_world import BASE, MakeWorld


def _setup(make_world: MakeWorld, tmp_path: Path) -> tuple[World, Path]:
    world = make_world()
    config = tmp_path / "pricewatch.yaml"
    config.write_text(config_yaml(BASE), encoding="utf-8")
    world.crawl("shop", day(1), [Seen("TL-1001", price="9000"), Seen("TL-1002", price="2000")])
    return world, config


def test_rules_run_reports_per_rule_and_a_second_run_nothing(
    pricewatch: Pricewatch,
    make_world: MakeWorld,
    db_url: str,
    tmp_path: Path,
) -> None:
    _, config = _setup(make_world, tmp_path)
    result = pricewatch("rules", "run", "--config", str(config), "--db", db_url, "--format", "json")
    assert (result.code, result.err) == (0, "")
    report = json.loads(result.out)
    assert len(report["new_crawl_runs"]) == 1
    counts = {r["rule"]: (r["opened"], r["ongoing"], r["resolved"]) for r in report["rules"]}
    assert counts == {
        "crawler_health": (0, 0, 0),
        "dumping": (1, 0, 0),
        "stock_out": (0, 0, 0),
        "low_stock": (0, 0, 0),
        "regional_shortage": (0, 0, 0),
        "parallel_import": (0, 0, 0),
        "price_move": (0, 0, 0),
        "assortment_gap": (0, 0, 0),
        "platform_discount": (0, 0, 0),
        "unlisted_storefront": (0, 0, 0),
    }

    table = pricewatch("rules", "run", "--config", str(config), "--db", db_url)
    assert table.code == 0
    assert "no new crawl runs" in table.out
    assert "Демпинг" in table.out  # rules in words, in the config's language


def test_alerts_list_filters_and_show_tells_the_history(
    pricewatch: Pricewatch,
    make_world: MakeWorld,
    db_url: str,
    tmp_path: Path,
) -> None:
    world, config = _setup(make_world, tmp_path)
    world.crawl("grey", day(1), [Seen("TL-1002", price="1900")])  # unauthorized: parallel import
    common = ("--config", str(config), "--db", db_url)
    assert pricewatch("rules", "run", *common).code == 0
    world.crawl("shop", day(2), [Seen("TL-1001", price="9900"), Seen("TL-1002", price="2000")])
    assert pricewatch("rules", "run", *common).code == 0

    everything = json.loads(pricewatch("alerts", "list", *common, "--format", "json").out)
    assert sorted((a["rule"], a["status"], a["distributor_code"]) for a in everything) == [
        ("dumping", "resolved", "shop"),
        ("parallel_import", "open", "grey"),
    ]
    open_only = json.loads(pricewatch("alerts", "list", "--open", *common, "--format", "json").out)
    assert [a["rule"] for a in open_only] == ["parallel_import"]
    by_shop = json.loads(pricewatch("alerts", "list", "--distributor", "shop", *common, "--format", "json").out)
    assert [a["rule"] for a in by_shop] == ["dumping"]
    nosuch = pricewatch("alerts", "list", "--distributor", "nosuch", *common)
    assert nosuch.code == 2
    assert nosuch.err.startswith("error: --distributor: no distributor 'nosuch' in the database (known: ")
    by_rule = json.loads(pricewatch("alerts", "list", "--rule", "dumping", *common, "--format", "json").out)
    assert by_rule[0]["details"]["price"] == "9000.00"
    assert by_rule[0]["opened_at"].endswith("+00:00")  # JSON times are UTC ISO

    dumping_id = by_rule[0]["id"]
    shown = json.loads(pricewatch("alerts", "show", str(dumping_id), *common, "--format", "json").out)
    assert [e["kind"] for e in shown["events"]] == ["opened", "resolved"]
    assert shown["events"][0]["payload"]["details"]["deviation_pct"] == "-10.00"

    table = pricewatch("alerts", "list", *common)
    assert table.code == 0
    assert "Параллельный импорт" in table.out  # rules in words, in the config's language
    assert "Демпинг: TL-1001" in pricewatch("alerts", "show", str(dumping_id), *common).out

    missing = pricewatch("alerts", "show", "999", *common)
    assert (missing.code, missing.out) == (2, "")
    assert missing.err == "error: alert 999: no such alert (see `pricewatch alerts list`)\n"


@pytest.mark.parametrize("command", [("rules", "run"), ("alerts", "list"), ("alerts", "show")], ids=" ".join)
def test_commands_answer_help_and_take_json(pricewatch: Pricewatch, command: tuple[str, ...]) -> None:
    result = pricewatch(*command, "--help")
    assert result.code == 0
    assert result.out.startswith(f"Usage: pricewatch {' '.join(command)}")
    assert "--format [table|json]" in result.out
