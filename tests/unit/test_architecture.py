"""The product's shape: no import cycle among its modules, and every question kind complete."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dialogs import Dialog, Kind
from dialogs.kinds import KINDS, Layout, parse_answer, rules
from dialogs.spec import Field
from tests.conftest import sample_answer

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "dialogs", "prompts", "storage")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    }


def import_graph() -> dict[str, set[str]]:
    """module -> the product's modules it imports (also under TYPE_CHECKING: a cycle there
    still ties the two modules together)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                # `from package import module` imports the module itself.
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_the_imports_of_the_core() -> None:
    graph = import_graph()
    assert "dialogs.kinds" in graph["dialogs.display"]
    assert "dialogs.costs.flow" in graph["dialogs.costs"]
    assert "dialogs.status" in graph["storage.models"]


def test_no_import_cycle_among_the_products_modules() -> None:
    assert cycles(import_graph()) == []


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_is_registered_whole(kind: Kind) -> None:
    entry = rules(kind)
    assert callable(entry.parse) and callable(entry.check) and callable(entry.present)
    assert isinstance(entry.screen, bool)
    assert isinstance(entry.layout, Layout)


@pytest.mark.parametrize("kind", [k for k in Kind if k not in (Kind.COSTS, Kind.GROUP)])
def test_a_parsed_answer_passes_its_kinds_check_and_is_presented(kind: Kind) -> None:
    choices = ("Wonen", "Werk", "Zorg")
    field = Field(key="x", kind=kind, text="?", choices=choices, columns=())
    reading = parse_answer(field, sample_answer(field))
    stored = reading.value  # type: ignore[union-attr]
    assert rules(kind).check(stored)
    assert rules(kind).present(stored, _Plain(), False)
    assert not rules(kind).check(object())


def test_only_free_text_is_screened_for_personal_data() -> None:
    assert {k for k, entry in KINDS.items() if entry.screen} == {Kind.TEXT, Kind.LIST}


def test_every_kind_has_a_flow(dialog: Dialog) -> None:
    assert set(dialog.flows) == set(Kind)


class _Plain:
    def money(self, amount: object, *, exact: bool = False) -> str:
        return str(amount)

    def number(self, value: object) -> str:
        return str(value)

    def date(self, value: object) -> str:
        return str(value)
