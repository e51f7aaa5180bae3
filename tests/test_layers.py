"""The package's layers, read from its import graph (every import, lazy ones included).

- no import cycle inside ``reactortrace/``;
- ``core`` imports neither Twisted nor Textual, nor any other layer of ours;
- only ``instrumentation`` (and the demo program) import Twisted, only ``tui``
  imports Textual;
- ``--no-tui`` runs never load Textual: what a traced program loads at start-up
  does not reach it.
"""

from __future__ import annotations

import graphlib
import subprocess
import sys

import grimp
import pytest

PACKAGE = "reactortrace"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(PACKAGE, include_external_packages=True)


def ours(graph: grimp.ImportGraph) -> list[str]:
    return sorted(m for m in graph.modules if m == PACKAGE or m.startswith(PACKAGE + "."))


def importers_of(graph: grimp.ImportGraph, package: str) -> set[str]:
    """Our modules that import ``package`` or one of its modules directly."""
    found: set[str] = set()
    for module in graph.modules:
        if module == package or module.startswith(package + "."):
            found |= graph.find_modules_that_directly_import(module)
    return {m for m in found if m.startswith(PACKAGE)}


def cycle(edges: dict[str, set[str]]) -> list[str]:
    """One import cycle, if the graph has any (the standard library finds it)."""
    try:
        tuple(graphlib.TopologicalSorter(edges).static_order())
    except graphlib.CycleError as error:
        return list(error.args[1])
    return []


def test_cycle_finder_finds_a_cycle() -> None:
    assert set(cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})) == {"a", "b", "c"}
    assert cycle({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_inside_the_package(graph: grimp.ImportGraph) -> None:
    modules = ours(graph)
    edges = {m: {d for d in graph.find_modules_directly_imported_by(m) if d in modules}
             for m in modules}
    assert cycle(edges) == []


def test_core_imports_only_core(graph: grimp.ImportGraph) -> None:
    for module in ours(graph):
        if not module.startswith(f"{PACKAGE}.core"):
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            assert imported.split(".")[0] not in ("twisted", "textual"), (module, imported)
            if imported.startswith(PACKAGE + "."):
                assert imported.startswith((f"{PACKAGE}.core", f"{PACKAGE}.errors")), (
                    module, imported)


@pytest.mark.parametrize(("external", "allowed"), [
    ("twisted", (f"{PACKAGE}.instrumentation", f"{PACKAGE}.demo")),
    ("textual", (f"{PACKAGE}.tui",)),
])
def test_only_one_layer_imports_each_framework(
    graph: grimp.ImportGraph, external: str, allowed: tuple[str, ...]
) -> None:
    importers = importers_of(graph, external)
    assert importers, f"nothing imports {external}: is the graph built right?"
    assert {m for m in importers if not m.startswith(allowed)} == set()


def test_recording_without_the_tui_never_loads_textual() -> None:
    code = (
        "import sys, reactortrace.launch.session, reactortrace.instrumentation.tracer, "
        "reactortrace.formats.jsonl, reactortrace.formats.chrome, reactortrace.live.server; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.strip() == "[]"
