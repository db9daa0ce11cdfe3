"""docs/config.md documents every key of the config schema, and its full example is a valid config."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from crawler.config import Config, parse_config
from tests.support.cli import Pricewatch
from tests.support.services import REPO

DOC = REPO / "docs" / "config.md"


def _models(annotation: Any) -> Iterator[tuple[type[BaseModel], str]]:
    """Sections inside a field's type: (model, "" for a section, "[]" for a list of sections)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation, ""
    elif typing.get_origin(annotation) is list:
        for model, _ in _models(typing.get_args(annotation)[0]):
            yield model, "[]"
    elif typing.get_origin(annotation) in (typing.Union, types.UnionType, typing.Annotated):
        for arg in typing.get_args(annotation):
            yield from _models(arg)


def key_paths(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    for name, field in model.model_fields.items():
        key = field.alias or name  # as the YAML spells it (`json`, not the attribute `json_source`)
        path = f"{prefix}.{key}" if prefix else key
        yield path
        for inner, suffix in _models(field.annotation):
            yield from key_paths(inner, path + suffix)


def test_every_config_key_is_documented() -> None:
    documented = set(re.findall(r"^\| `([^`]+)` \|", DOC.read_text(encoding="utf-8"), flags=re.MULTILINE))
    paths = list(key_paths(Config))
    assert len(paths) > 100
    assert [p for p in paths if p not in documented] == []
    assert sorted(documented - set(paths)) == []  # and nothing that is not a key


def test_the_full_example_is_a_valid_config(pricewatch: Pricewatch, tmp_path: Path) -> None:
    example = DOC.read_text(encoding="utf-8").split("## A full example", 1)[1]
    yaml_text = re.search(r"```yaml\n(.*?)```", example, flags=re.DOTALL)
    assert yaml_text is not None
    config = parse_config(yaml_text[1], "example", env={"TELEGRAM_BOT_TOKEN": "1:x", "SMTP_PASSWORD": "pw"})
    assert config.codes() == ["techsnab", "klimatprof", "marketplace"]
    assert config.notify.telegram.token is not None
    assert config.notify.telegram.token.get_secret_value() == "1:x"

    path = tmp_path / "example.yaml"
    path.write_text(yaml_text[1], encoding="utf-8")
    result = pricewatch("config", "check", "--config", str(path))
    assert result.code == 0
    assert result.out.startswith(f"OK: {path}: 3 distributors")
