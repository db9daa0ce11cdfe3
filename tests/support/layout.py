"""The project's floors (DESIGN.md, Layout) and a reader of every module's imports that checks them."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Low → high: a package imports its own floor or lower, and no two packages import each other.
FLOORS: dict[str, int] = {
    "crawler": 0,
    "storage": 1,
    "spiders": 2,
    "pipelines": 2,
    "rules": 2,
    "enforcement": 3,
    "notify": 4,
    "reports": 4,
    "web": 5,
    "pricewatch": 6,
    "scheduler": 6,
}
# Spiders know nothing of SQL or pipelines: they stand on the ground floor alone.
ONLY: dict[str, frozenset[str]] = {"spiders": frozenset({"crawler"})}


@dataclass(frozen=True)
class Import:
    path: Path  # relative to the project root
    line: int
    module: str  # the imported module, absolute
    importer: str  # the importing module, dotted
    type_only: bool  # under `if TYPE_CHECKING:`, never run

    @property
    def package(self) -> str:
        return self.importer.split(".")[0]

    @property
    def target(self) -> str:
        return self.module.split(".")[0]


def package_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(package, file) for every module of the judged packages that exists under `root`."""
    for package in FLOORS:
        single = root / f"{package}.py"
        if single.is_file():
            yield package, single
        elif (root / package).is_dir():
            for path in sorted((root / package).rglob("*.py")):
                yield package, path


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Reader(ast.NodeVisitor):
    def __init__(self, root: Path, path: Path) -> None:
        self.rel = path.relative_to(root)
        self.importer = _module_name(root, path)
        self.is_package = path.name == "__init__.py"
        self.type_only = 0  # > 0 inside a TYPE_CHECKING block
        self.found: list[Import] = []

    def _add(self, node: ast.stmt, module: str) -> None:
        self.found.append(Import(self.rel, node.lineno, module, self.importer, self.type_only > 0))

    def visit_If(self, node: ast.If) -> None:
        typing_only = _is_type_checking(node)
        self.type_only += typing_only
        self.generic_visit(node)
        self.type_only -= typing_only

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:  # relative: resolve against the importing module
            base = self.importer.split(".")
            base = base[: len(base) - node.level + (1 if self.is_package else 0)]
            module = ".".join([*base, node.module] if node.module else base)
        else:
            module = node.module or ""
        self._add(node, module)


def read_imports(root: Path) -> list[Import]:
    """Every import statement of the judged packages under `root`, function-level ones included."""
    found: list[Import] = []
    for _package, path in package_files(root):
        reader = _Reader(root, path)
        reader.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        found.extend(reader.found)
    return found


def against_floors(imports: list[Import]) -> list[str]:
    """One line per import that points up a floor, or past what a package may import at all."""
    wrong: list[str] = []
    for imp in imports:
        source, target = imp.package, imp.target
        if target not in FLOORS or target == source:
            continue
        if FLOORS[target] > FLOORS[source]:
            wrong.append(
                f"{imp.path}:{imp.line} imports {imp.module}: {source} is floor {FLOORS[source]}, "
                f"{target} floor {FLOORS[target]}"
            )
        elif source in ONLY and target not in ONLY[source]:
            allowed = ", ".join(sorted(ONLY[source]))
            wrong.append(f"{imp.path}:{imp.line} imports {imp.module}: {source} may import only {allowed}")
    return wrong


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected group of more than one node (Tarjan), its members sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def _cycle_lines(imports: list[Import], groups: list[list[str]], key: str) -> list[str]:
    lines = []
    for group in groups:
        members = set(group)
        where = [
            f"{imp.path}:{imp.line} ({getattr(imp, key)} → {imp.module})"
            for imp in imports
            if getattr(imp, key) in members and _node(imp.module, members) not in (None, getattr(imp, key))
        ]
        lines.append(f"cycle between {', '.join(group)}: " + "; ".join(where))
    return lines


def _node(module: str, members: set[str]) -> str | None:
    """The member of `members` that `module` is or lies in, if any."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        if name in members:
            return name
    return None


def package_cycles(imports: list[Import]) -> list[str]:
    """One line per group of packages that import each other, naming the imports that close it."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if imp.target in FLOORS and imp.target != imp.package:
            graph.setdefault(imp.package, set()).add(imp.target)
    return _cycle_lines(imports, _cycles(graph), "package")


def module_cycles(imports: list[Import]) -> list[str]:
    """One line per group of modules that import each other, in a function or not (only typing imports may)."""
    modules = {imp.importer for imp in imports}
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if not imp.type_only and (target := _node(imp.module, modules)) and target != imp.importer:
            graph.setdefault(imp.importer, set()).add(target)
    run = [imp for imp in imports if not imp.type_only]
    return _cycle_lines(run, _cycles(graph), "importer")
