"""Our top-level names belong to pricewatch alone, and every dependency we declare is one we import."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from tests.support.layout import package_files

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# The packages and modules pyproject.toml installs, by the names code imports them with.
OURS = sorted(
    {*PYPROJECT["tool"]["setuptools"]["py-modules"]}
    | {name.rstrip("*") for name in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]}
)
# Dependencies run as programs rather than imported: what runs them.
RUN_NOT_IMPORTED = {
    "scrapyd": "the Scrapyd hosts run its `scrapyd` server (tests/pricewatch/scale)",
    "python-multipart": "FastAPI reads the web panel's forms with it (web/routes)",
}


def _distribution(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_each_of_our_top_level_names_is_installed_by_pricewatch_alone():
    owners = packages_distributions()
    wrong = {name: sorted(set(owners.get(name, []))) for name in OURS if set(owners.get(name, [])) != {"pricewatch"}}
    assert not wrong, (
        "top-level names shared with another installed distribution (an import of ours could load theirs): "
        + "; ".join(f"{name} ← {', '.join(dists) or 'nothing'}" for name, dists in wrong.items())
    )


def test_every_declared_dependency_is_imported_somewhere():
    imported = set()
    for _package, path in package_files(ROOT):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    providers: dict[str, set[str]] = {}
    for top, dists in packages_distributions().items():
        for dist in dists:
            providers.setdefault(dist.lower().replace("_", "-"), set()).add(top)
    unused = [
        dist
        for dist in map(_distribution, PYPROJECT["project"]["dependencies"])
        if dist not in RUN_NOT_IMPORTED and not providers.get(dist, set()) & imported
    ]
    assert not unused, f"declared in pyproject.toml but never imported: {', '.join(unused)}"
