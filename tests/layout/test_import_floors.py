"""Imports follow the floors of DESIGN.md: nothing points up a floor, no two packages or modules import each other."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.layout import against_floors, module_cycles, package_cycles, read_imports

ROOT = Path(__file__).resolve().parents[2]
TYPING_ONLY = "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    {}\n"


@pytest.fixture(scope="module")
def imports():
    return read_imports(ROOT)


def test_every_package_of_the_floors_is_read(imports):
    packages = {imp.package for imp in imports}
    assert {"crawler", "storage", "spiders", "pipelines", "rules", "notify", "reports", "pricewatch"} <= packages
    assert any(imp.package == "scheduler" for imp in imports)


def test_no_import_points_up_a_floor(imports):
    wrong = against_floors(imports)
    assert not wrong, f"{len(wrong)} imports against the floors:\n" + "\n".join(wrong)


def test_no_two_packages_import_each_other(imports):
    cycles = package_cycles(imports)
    assert not cycles, "\n".join(cycles)


def test_no_two_modules_import_each_other(imports):
    cycles = module_cycles(imports)
    assert not cycles, "\n".join(cycles)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_storage_importing_rules_is_named_with_its_line(tmp_path):
    root = _tree(
        tmp_path,
        {
            "storage/__init__.py": "",
            "storage/models.py": '"""x"""\n\nfrom rules import dumping\n',
            "rules/__init__.py": "",
            "rules/dumping.py": "from storage.models import Alert\n",
        },
    )
    imports = read_imports(root)
    assert against_floors(imports) == [
        "storage/models.py:3 imports rules: storage is floor 1, rules floor 2",
    ]
    assert package_cycles(imports) == [
        "cycle between rules, storage: storage/models.py:3 (storage → rules); "
        "rules/dumping.py:1 (rules → storage.models)"
    ]


def test_a_function_level_import_counts_and_spiders_may_stand_on_the_crawler_alone(tmp_path):
    root = _tree(
        tmp_path,
        {
            "spiders/shop.py": "def parse():\n    from storage.models import Listing\n",
            "crawler/items.py": "import crawler.errors\n",
        },
    )
    assert against_floors(read_imports(root)) == [
        "spiders/shop.py:2 imports storage.models: spiders may import only crawler",
    ]


def test_a_module_cycle_is_named_even_through_a_function_but_a_typing_import_is_not(tmp_path):
    root = _tree(
        tmp_path,
        {
            "reports/__init__.py": "",
            "reports/output.py": "from reports.xlsx import render\n",
            "reports/xlsx.py": "from reports.output import texts\n",
            "reports/pdf.py": "from reports.output import texts\n",
            "reports/csv_report.py": TYPING_ONLY.format("from reports.pdf import x"),
        },
    )
    imports = read_imports(root)
    assert module_cycles(imports) == [
        "cycle between reports.output, reports.xlsx: reports/output.py:1 (reports.output → reports.xlsx); "
        "reports/xlsx.py:1 (reports.xlsx → reports.output)"
    ]
    (root / "reports/output.py").write_text("def render():\n    from reports.xlsx import render\n")
    assert module_cycles(read_imports(root)) == [
        "cycle between reports.output, reports.xlsx: reports/output.py:2 (reports.output → reports.xlsx); "
        "reports/xlsx.py:1 (reports.xlsx → reports.output)"
    ]
    (root / "reports/output.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import reports.xlsx\n"
    )
    assert module_cycles(read_imports(root)) == []


def test_the_spiders_and_the_parsers_load_no_orm_and_nothing_above_them():
    """A parse must not pay for SQLAlchemy (StockState once lived in storage/models.py)."""
    probe = (
        "import sys\n"
        "import crawler.extract, crawler.parsing.stock, crawler.parsing.prices, crawler.items\n"
        "import spiders.shop, spiders.feed, spiders.marketplace\n"
        "above = {'sqlalchemy', 'storage', 'pipelines', 'rules', 'notify', 'reports', 'pricewatch', 'scheduler'}\n"
        "print(sorted({name.split('.')[0] for name in sys.modules} & above))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
