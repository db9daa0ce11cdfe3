"""Conventions every command of the foundation keeps: --help, one-line errors, exit codes, end to end."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import Pricewatch
from tests.support.services import REPO, require

SAMPLE = REPO / "fixtures" / "samples" / "pricelist_ru.csv"
COMMANDS = [
    ("db",),
    ("db", "upgrade"),
    ("db", "current"),
    ("catalog",),
    ("catalog", "import"),
    ("catalog", "list"),
    ("plan",),
    ("plan", "import"),
    ("config",),
    ("config", "check"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_answers_help(pricewatch: Pricewatch, command: tuple[str, ...]) -> None:
    result = pricewatch(*command, "--help")
    assert result.code == 0
    assert result.out.startswith(f"Usage: pricewatch {' '.join(command)}")
    if len(command) == 2 and command[1] in {"import", "list", "current", "check"}:
        assert "--format [table|json]" in result.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("catalog", "import", "nope.csv"), "error: nope.csv: file not found"),
        (("catalog", "import", "{sample}", "--map", "rrp"), "error: --map 'rrp': expected FIELD=HEADER"),
        (("catalog", "import", "{sample}", "--map", "price=Цена"), "error: --map 'price=Цена': unknown field 'price'"),
        (("catalog", "import", "{sample}", "--valid-from", "32.01.2026"), "error: Invalid value for '--valid-from'"),
        (("catalog", "import", "{sample}", "--format", "xml"), "error: Invalid value for '--format'"),
        (("catalog", "import"), "error: Missing argument 'FILE'"),
        (("catalog", "frobnicate"), "error: No such command 'frobnicate'"),
        (("catalog", "list", "--db", "mysql://x/y"), "error: --db / DATABASE_URL: only sqlite and postgresql"),
    ],
)
def test_a_mistake_is_one_stderr_line_and_exit_2(pricewatch: Pricewatch, args: tuple[str, ...], message: str) -> None:
    result = pricewatch(*(a.replace("{sample}", str(SAMPLE)) for a in args))
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith(message)
    assert result.err.count("\n") == 1


def test_unreachable_database_is_one_line_without_the_password(pricewatch: Pricewatch) -> None:
    result = pricewatch("catalog", "list", "--db", "postgresql://pw:s3cret@127.0.0.1:9/pricewatch")
    assert result.code == 1
    assert result.err.startswith(
        "error: database unreachable or not upgraded (postgresql+psycopg://pw:***@127.0.0.1:9/pricewatch): "
    )
    assert result.err.count("\n") == 1
    assert "s3cret" not in result.err


def test_database_without_schema_says_to_upgrade(pricewatch: Pricewatch, tmp_path: Path) -> None:
    result = pricewatch("catalog", "import", str(SAMPLE), "--db", f"sqlite:///{tmp_path / 'empty.db'}")
    assert result.code == 1
    assert result.err.endswith("run `pricewatch db upgrade` first\n")
    assert result.err.count("\n") == 1


def test_end_to_end_through_the_console_script(tmp_path: Path) -> None:
    script = REPO / ".venv" / "bin" / "pricewatch"
    require(script.exists(), f"the console script {script} (make setup installs it)")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "PRICEWATCH_CONFIG"}}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'pw.db'}"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [str(script), *args]
        return subprocess.run(command, check=False, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)

    assert run("db", "upgrade").returncode == 0
    imported = run("catalog", "import", str(SAMPLE), "--format", "json")
    assert (imported.returncode, imported.stderr) == (0, "")
    assert json.loads(imported.stdout)[0]["rows"] == 7
    listed = json.loads(run("catalog", "list", "--format", "json").stdout)
    assert {p["vendor_code"]: p["rrp"] for p in listed}["TL-1003"] == "12990.00"
    bad = run("catalog", "import", str(tmp_path / "pw.db"))
    assert bad.returncode == 2
    assert bad.stderr == "error: pw.db: not a table file (binary content; expected CSV text or XLSX)\n"


def _groups(pricewatch: Pricewatch) -> list[tuple[str, ...]]:
    """Every command group's path, the top one first (read off the top-level help's command list)."""
    listing = pricewatch("--help").out.split("Commands:", 1)[1]
    names = [line.split()[0] for line in listing.splitlines() if line.startswith("  ") and not line.startswith("   ")]
    return [(), *[(name,) for name in names if "Commands:" in pricewatch(name, "--help").out]]


def test_help_lists_every_command_with_its_whole_first_sentence(pricewatch: Pricewatch) -> None:
    groups = _groups(pricewatch)
    assert ("catalog",) in groups
    for group in groups:
        listing = pricewatch(*group, "--help").out.split("Commands:", 1)[1]
        cut = [line for line in listing.splitlines() if line.rstrip().endswith(("...", "…"))]
        assert cut == [], f"pricewatch {' '.join(group)} --help"
