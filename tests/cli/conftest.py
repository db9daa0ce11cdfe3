"""Running `pricewatch` in-process through `crawler.cli.main`, as the console script does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from crawler.cli import main


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


Pricewatch = Callable[..., Outcome]


@pytest.fixture
def pricewatch(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Pricewatch:
    """`pricewatch("catalog", "list", "--db", url)` → exit code, stdout, stderr."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("PRICEWATCH_CONFIG", raising=False)

    def run(*args: str) -> Outcome:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run
