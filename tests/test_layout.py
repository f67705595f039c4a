"""The folder listing is the pipeline: layers import only downward, and nothing grows too big.

model -> builders -> pipeline (compose, ordering, status, feedback) -> serving -> offline -> main.
A module may import its own layer or the ones below, except that a builder never
imports another builder; there are no import cycles (annotation-only imports count
too); and no module is over MAX_LINES lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

FUNCTION = Path(__file__).resolve().parent.parent / "function"
MAX_LINES = 400
# Each layer, bottom first: the module-name prefixes that belong to it.
LAYERS = (
    ("model", ("function.model",)),
    ("builders", ("function.builders",)),
    ("pipeline", ("function.compose", "function.ordering", "function.status", "function.feedback")),
    ("serving", ("function.serving",)),
    ("offline", ("function.offline",)),
    ("command line", ("function.main", "function.__main__")),
)
BUILDERS = "function.builders."


def _layer(module: str) -> int | None:
    """The module's layer, bottom first; None for the package's own ``__init__``."""
    for rank, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(f"{p}.") for p in prefixes):
            return rank
    return None


def _imports(module: str, source: str, modules: set[str]) -> set[str]:
    """The modules of the package that ``source`` imports, wherever the import statement is."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and not node.level:
            found.add(node.module)
            # `from function.model import keys` imports the module function.model.keys.
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name in modules and name != module}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle, as the modules along it, or [] if there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> list[str]:
        state[module] = 1
        for imported in sorted(graph[module]):
            if state.get(imported) == 1:
                return [*path[path.index(imported) :], imported]
            if imported not in state and (found := visit(imported, [*path, imported])):
                return found
        state[module] = 2
        return []

    for module in sorted(graph):
        if module not in state and (found := visit(module, [module])):
            return found
    return []


def violations(sources: dict[str, str]) -> list[str]:
    """Every breach of the layering rules by ``sources`` (module name -> source text)."""
    modules = set(sources)
    graph = {module: _imports(module, source, modules) for module, source in sources.items()}
    problems = []
    for module, imported in sorted(graph.items()):
        rank = _layer(module)
        for other in sorted(imported):
            other_rank = _layer(other)
            if rank is not None and other_rank is not None and other_rank > rank:
                problems.append(
                    f"{module} ({LAYERS[rank][0]}) imports {other} ({LAYERS[other_rank][0]})"
                )
            if module.startswith(BUILDERS) and other.startswith(BUILDERS):
                problems.append(f"{module} imports the builder {other}")
    if cycle := _cycle(graph):
        problems.append("import cycle: " + " -> ".join(cycle))
    problems.extend(
        f"{module} has {lines} lines, more than {MAX_LINES}"
        for module, source in sorted(sources.items())
        if (lines := len(source.splitlines())) > MAX_LINES
    )
    return problems


def _package() -> dict[str, str]:
    sources = {}
    for path in sorted(FUNCTION.rglob("*.py")):
        parts = path.relative_to(FUNCTION.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        sources[name] = path.read_text(encoding="utf-8")
    return sources


def test_the_package_keeps_its_layers() -> None:
    """Every module of function/ imports only downward, without cycles, and is short enough."""
    sources = _package()
    assert {_layer(m) for m in sources if m != "function"} == set(range(len(LAYERS)))
    assert violations(sources) == []


@pytest.mark.parametrize("folder", ["bench", "hack"])
def test_the_tools_keep_modules_short(folder: str) -> None:
    """The benchmark's and the maintenance scripts' modules are held to the same size."""
    long = {
        path.name: lines
        for path in sorted((FUNCTION.parent / folder).glob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"over {MAX_LINES} lines: {long}"


LONG = "x = 1\n" * (MAX_LINES + 1)


@pytest.mark.parametrize(
    ("reason", "sources", "expected"),
    [
        pytest.param(
            "the model must not know the builders that read it",
            {"function.model.keys": "from function.builders import vcluster\n",
             "function.builders.vcluster": ""},
            ["function.model.keys (model) imports function.builders.vcluster (builders)"],
            id="model-imports-builder",
        ),
        pytest.param(
            "a builder takes keys from the model, not from a sibling builder",
            {"function.builders.domain": "from function.builders.apigateway import STAGE\n",
             "function.builders.apigateway": ""},
            ["function.builders.domain imports the builder function.builders.apigateway"],
            id="builder-imports-builder",
        ),
        pytest.param(
            "an import needed only for annotations still points upward",
            {"function.builders.connection": "if TYPE_CHECKING:\n    import function.status\n",
             "function.status": ""},
            ["function.builders.connection (builders) imports function.status (pipeline)"],
            id="annotation-import-upward",
        ),
        pytest.param(
            "two modules of one layer must not import each other",
            {"function.model.a": "from function.model import b\n",
             "function.model.b": "from function.model import a\n"},
            ["import cycle: function.model.a -> function.model.b -> function.model.a"],
            id="cycle",
        ),
        pytest.param(
            "a module over the limit has more than one concern in it",
            {"function.model.big": LONG},
            [f"function.model.big has {MAX_LINES + 1} lines, more than {MAX_LINES}"],
            id="too-long",
        ),
        pytest.param(
            "the command line sits on top of serving and offline",
            {"function.main": "from function.serving import fn\nfrom function.offline import x\n",
             "function.serving.fn": "", "function.offline.x": ""},
            [],
            id="downward-is-fine",
        ),
    ],
)  # fmt: skip
def test_the_checker_finds_each_breach(
    reason: str, sources: dict[str, str], expected: list[str]
) -> None:
    """The rules above are enforced: each kind of breach is reported."""
    assert violations(sources) == expected, reason
