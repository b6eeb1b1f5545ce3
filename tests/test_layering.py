"""The package's layering, read from its source with ``ast`` (issue #18).

Four rules: no module uses an underscore name of another module of the
package (underscore *modules* are fine: they are private implementation
behind plain names); no module lies on an import cycle, imports inside
functions included; the layers up to the workflows (ground, coordinates
and geodesy, zone data and filings, the engine, the regulation, siting and
audit) import neither the Dask adapter, the map and report modules, the CLI,
nor folium, branca or dask; and every module has a layer (README "Layout")
and imports only from its own layer or those below it. Two sizes keep it so:
no module is over 800 lines, and the CLI, a thin shell, is under 500.

Where a rule is still broken by a module that is being reworked elsewhere,
that module (or pair) is marked ``xfail(strict=True)`` with the reason: the
mark turns into a failure as soon as the rule holds, so it is removed then.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

import pilotzone

PACKAGE = Path(pilotzone.__file__).parent


@dataclass(frozen=True)
class Use:
    """One module's use of another: by an import, or by an attribute of an imported module."""

    importer: str
    target: str  # a module of the package, or the top-level name of a library
    name: str | None  # the name taken from ``target``; None for the module itself
    line: int


def _module_name(path: Path) -> str:
    parts = ("pilotzone", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _uses(module: str, text: str, *, is_package: bool = False) -> list[Use]:
    """Every use ``module`` (source ``text``) makes of another module, functions included."""
    tree = ast.parse(text, filename=module)
    package = module if is_package else module.rpartition(".")[0]
    uses: list[Use] = []
    bound: dict[str, str] = {}  # local name -> module it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                uses.append(Use(module, _target(alias.name), None, node.lineno))
                head = alias.name.partition(".")[0]
                bound[alias.asname or head] = alias.name if alias.asname else head
        elif isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, source] if source else base)
            for alias in node.names:
                full = f"{source}.{alias.name}"
                if full in SOURCES:
                    uses.append(Use(module, full, None, node.lineno))
                    bound[alias.asname or alias.name] = full
                else:
                    uses.append(Use(module, _target(source), alias.name, node.lineno))
        elif isinstance(node, ast.Call) and _dotted(node.func) in (
            ["importlib", "import_module"],
            ["import_module"],
            ["__import__"],
        ):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                uses.append(Use(module, _target(first.value), None, node.lineno))
    for node in ast.walk(tree):  # attribute uses: pilotzone.x._y, or m._y after importing m
        chain = _dotted(node) if isinstance(node, ast.Attribute) else None
        if chain and chain[0] in bound:
            owner = ".".join([bound[chain[0]], *chain[1:-1]])
            if owner in SOURCES and f"{owner}.{chain[-1]}" not in SOURCES:
                uses.append(Use(module, owner, chain[-1], node.lineno))
    return uses


def _target(dotted: str) -> str:
    """The package module a dotted import names, or a library's top-level name."""
    while dotted and dotted not in SOURCES:
        if not dotted.startswith("pilotzone."):
            return dotted.partition(".")[0]
        dotted = dotted.rpartition(".")[0]
    return dotted


def _dotted(node: ast.expr) -> list[str] | None:
    """``a.b.c`` as ["a", "b", "c"], or None for anything but names and attributes."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else [*head, node.attr]
    return None


USES = {
    module: _uses(module, path.read_text(encoding="utf-8"), is_package=path.name == "__init__.py")
    for module, path in SOURCES.items()
}
EDGES = {
    (use.importer, use.target)
    for uses in USES.values()
    for use in uses
    if use.target in SOURCES and use.target != use.importer
}


def _marked(params: list[str] | list[tuple[str, str]], known: dict) -> list:
    """The params, each named by its module(s), the known offenders marked strict xfail."""
    return [
        pytest.param(
            p,
            id="->".join(m.removeprefix("pilotzone.") for m in ((p,) if isinstance(p, str) else p)),
            marks=[pytest.mark.xfail(strict=True, reason=known[p])] if p in known else [],
        )
        for p in params
    ]


# ------------------------------------------------------------------ (a) private names stay home

#: (importer, module) pairs that still take an underscore name, and why they are left for now.
KNOWN_PRIVATE: dict[tuple[str, str], str] = {}


@pytest.mark.parametrize("edge", _marked(sorted(EDGES | set(KNOWN_PRIVATE)), KNOWN_PRIVATE))
def test_no_module_uses_a_private_name_of_another(edge: tuple[str, str]) -> None:
    importer, target = edge
    private = [
        f"{SOURCES[importer].name}:{use.line} uses {target}.{use.name}"
        for use in USES[importer]
        if use.target == target and use.name and _is_private(use.name)
    ]
    assert not private


def test_the_private_name_check_sees_every_kind_of_use() -> None:
    source = (
        "import pilotzone.locate\n"
        "from pilotzone import locate as engine, _geodesy\n"
        "from . import zones\n"
        "from .zones import load_zones, _GEOD\n"
        "def f():\n"
        "    from pilotzone.locate import _fingerprint\n"
        "    found = pilotzone.locate._INDEX_CACHE, engine._CHUNK, _geodesy.GEOD\n"
        "    return found, zones._MAX_LISTED\n"
    )
    used = {(u.target, u.name) for u in _uses("pilotzone.probe", source)}
    private = {(t, n) for t, n in used if n and _is_private(n)}
    assert private == {
        ("pilotzone.zones", "_GEOD"),
        ("pilotzone.zones", "_MAX_LISTED"),
        ("pilotzone.locate", "_fingerprint"),
        ("pilotzone.locate", "_INDEX_CACHE"),
        ("pilotzone.locate", "_CHUNK"),
    }
    assert ("pilotzone._geodesy", None) in used  # an underscore module is no private name


# ------------------------------------------------------------------ (b) no import cycles


def _path_back(start: str, goal: str) -> list[str] | None:
    """A chain of imports from ``start`` to ``goal`` (depth first), or None."""
    stack, seen = [[start]], {start}
    while stack:
        path = stack.pop()
        if path[-1] == goal:
            return path
        for importer, target in sorted(EDGES, reverse=True):
            if importer == path[-1] and target not in seen:
                seen.add(target)
                stack.append([*path, target])
    return None


#: Modules still on an import cycle, and the imports that close it.
KNOWN_CYCLES: dict[str, str] = {}


@pytest.mark.parametrize("module", _marked(sorted(SOURCES), KNOWN_CYCLES))
def test_no_module_is_on_an_import_cycle(module: str) -> None:
    cycles = [
        [module, *path]
        for importer, target in sorted(EDGES)
        if importer == module and (path := _path_back(target, module))
    ]
    assert not cycles, " | ".join(" -> ".join(c) for c in cycles)


# ------------------------------------------------------------------ (c) lower layers stay low

#: Every module's layer, from the ground up (README "Layout"): a module imports only from its own
#: layer or those below it.
LAYERS = {
    0: [  # ground
        "pilotzone.errors", "pilotzone._codes", "pilotzone._messages", "pilotzone._files",
        "pilotzone._paths", "pilotzone._version", "pilotzone._compat", "pilotzone._terminal",
    ],
    1: ["pilotzone.crs", "pilotzone._geodesy"],  # coordinates and geodesy
    2: [  # zone data and filings
        "pilotzone._manifest", "pilotzone._zone_record", "pilotzone._components",
        "pilotzone._user_boundaries",
        "pilotzone.zones", "pilotzone._formats", "pilotzone._raw", "pilotzone._read_csv",
        "pilotzone._read_excel", "pilotzone._read_kml", "pilotzone._read_geo",
        "pilotzone._readers", "pilotzone._validate", "pilotzone._columns", "pilotzone.facilities",
    ],
    3: ["pilotzone.locate", "pilotzone._grids"],  # the engine
    4: [
        "pilotzone.rules", "pilotzone.verify", "pilotzone.address", "pilotzone._results",
        "pilotzone._hinges", "pilotzone._sentences",
    ],  # rules
    5: ["pilotzone.siting", "pilotzone.audit"],  # workflows
    6: [  # output
        "pilotzone.maps", "pilotzone._map_drawing", "pilotzone._map_facilities",
        "pilotzone._map_assets", "pilotzone._map_points", "pilotzone.report",
        "pilotzone._report_html", "pilotzone._report_svg", "pilotzone._tables",
        "pilotzone._versions",
    ],
    7: ["pilotzone.parallel"],  # scale
    8: [  # face
        "pilotzone", "pilotzone.__main__", "pilotzone.cli", "pilotzone._parser",
        "pilotzone._console",
    ],
}  # fmt: skip
LAYER = {module: layer for layer, modules in LAYERS.items() for module in modules}

#: Ground, coordinates and geodesy, zone data and filings, the engine, the regulation, the
#: workflows (layers 0 to 5 of :data:`LAYERS`, below).
LOWER = [m for layer in range(6) for m in LAYERS[layer]]
#: The output, scale and face layers, and the libraries only they may use.
UPPER = [
    *(m for layer in range(6, 9) for m in LAYERS[layer]),
    "folium",
    "branca",
    "dask",
    "dask_geopandas",
    "distributed",
]
KNOWN_UPWARD: dict[tuple[str, str], str] = {}


@pytest.mark.parametrize(
    "pair", _marked([(low, up) for low in LOWER for up in UPPER], KNOWN_UPWARD)
)
def test_lower_layers_do_not_import_upper_ones(pair: tuple[str, str]) -> None:
    low, up = pair
    lines = [use.line for use in USES[low] if use.target == up]
    assert not lines, f"{SOURCES[low].name} imports {up} on lines {lines}"


def test_every_lower_module_exists() -> None:
    assert set(LOWER) <= set(SOURCES)
    assert {m for m in UPPER if m.startswith("pilotzone.")} <= set(SOURCES)


# ------------------------------------------------------------------ (d) one direction through all


def test_every_module_has_a_layer() -> None:
    assert sorted(SOURCES) == sorted(LAYER)


@pytest.mark.parametrize("module", sorted(SOURCES))
def test_imports_go_down_the_layers(module: str) -> None:
    upward = sorted(
        {
            (use.target, use.line)
            for use in USES[module]
            if LAYER.get(use.target, -1) > LAYER[module]
        }
    )
    assert not upward, f"{SOURCES[module].name} (layer {LAYER[module]}) imports {upward}"


# ------------------------------------------------------------------ (e) modules of one size


@pytest.mark.parametrize("module", sorted(SOURCES))
def test_no_module_is_over_800_lines(module: str) -> None:
    lines = len(SOURCES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= 800, f"{SOURCES[module].name} has {lines} lines: split what it owns"


def test_the_cli_is_a_thin_shell() -> None:
    lines = len(SOURCES["pilotzone.cli"].read_text(encoding="utf-8").splitlines())
    assert lines < 500, f"cli.py has {lines} lines: move what it computes into the library"
