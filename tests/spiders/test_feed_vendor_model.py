"""A YML feed's `type="vendor.model"` offers, which have no `<name>`: the title is «typePrefix vendor model»."""

from __future__ import annotations

import io
import json
from pathlib import Path

from crawler.config import load_config
from pricewatch.crawls.local import run_crawls
from tests.support.http_site import HttpSite

YML = """<?xml version="1.0" encoding="UTF-8"?>
<yml_catalog date="2026-12-04 06:00"><shop><name>Инструмент-Сервис</name><currencies>
<currency id="RUR" rate="1"/></currencies><offers>
<offer id="101" type="vendor.model" available="true">
  <url>https://tools.example/p/101</url><price>8990</price><currencyId>RUR</currencyId>
  <typePrefix>Дрель-шуруповерт аккумуляторная</typePrefix><vendor>Gromax</vendor><model>GD1850Z</model>
</offer>
<offer id="102" type="vendor.model" available="true">
  <url>https://tools.example/p/102</url><price>4590</price><currencyId>RUR</currencyId>
  <typePrefix>Аккумулятор</typePrefix><vendor>Gromax</vendor><model>Gromax BL1850 18 В 5,0 Ач</model>
</offer>
<offer id="103" type="vendor.model" available="true">
  <url>https://tools.example/p/103</url><price>3990</price><currencyId>RUR</currencyId>
  <vendor>Volten</vendor><model>VBA 18V 4,0 Ач</model>
</offer>
<offer id="104" available="true">
  <url>https://tools.example/p/104</url><price>2990</price><currencyId>RUR</currencyId>
  <name>Лобзик Gromax GJ4329, 720 Вт</name><vendor>Gromax</vendor><model>GJ4329</model>
</offer>
</offers></shop></yml_catalog>
"""


def test_vendor_model_offers_are_titled_type_vendor_model(tmp_path: Path) -> None:
    with HttpSite(lambda path, hit: (200, {"Content-Type": "application/xml"}, YML.encode())) as site:
        config = tmp_path / "config.yaml"
        config.write_text(
            "distributors:\n"
            "  - {code: tools, name: Инструмент-Сервис, kind: reseller, spider: feed,"
            f' feed: {{url: "{site.url}/market.yml"}}, politeness: {{obey_robots: false, retries: 0}}}}\n',
            encoding="utf-8",
        )
        out = io.StringIO()
        [summary] = run_crawls(load_config(config), config, ["tools"], output=out)
    assert summary.status == "finished", summary.reason
    titles = {o["url"].rsplit("/", 1)[1]: o["title"] for o in map(json.loads, out.getvalue().splitlines())}
    assert titles == {
        "101": "Дрель-шуруповерт аккумуляторная Gromax GD1850Z",
        "102": "Аккумулятор Gromax BL1850 18 В 5,0 Ач",  # the model already names the brand
        "103": "Volten VBA 18V 4,0 Ач",
        "104": "Лобзик Gromax GJ4329, 720 Вт",  # an offer with a name keeps it
    }
