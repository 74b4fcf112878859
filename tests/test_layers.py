"""The package's imports point one way: every module imports only from its own layer or the layers below it, and no
modules import each other in a circle. Imports inside functions count as much as those at the top of a module: a
function-local import does not make a circle go away, it only moves the error to run time."""
import ast
from pathlib import Path

import pytest

import studiogan_slt

PACKAGE = Path(studiogan_slt.__file__).parent
# Lowest first. A module belongs to the longest prefix that names it; the package's own __init__ is the face of the
# plain-PyTorch packages (its public names are loaded from supermask and ticket on first use).
LAYERS = [
    ("studiogan_slt", "studiogan_slt.errors", "studiogan_slt.atomic", "studiogan_slt.cache", "studiogan_slt.csv_rows",
     "studiogan_slt.digests", "studiogan_slt.hub", "studiogan_slt.strict_yaml"),
    ("studiogan_slt.supermask",),
    ("studiogan_slt.ticket",),
    ("studiogan_slt.data",),
    ("studiogan_slt.metrics",),
    ("studiogan_slt.moments",),
    ("studiogan_slt.studiogan", "studiogan_slt.studiogan.run_files"),
    ("studiogan_slt.studiogan.host",),
    ("studiogan_slt.studiogan.section",),
    ("studiogan_slt.studiogan.rebuild",),
    ("studiogan_slt.studiogan.loop",),
    ("studiogan_slt.studiogan.preflight", "studiogan_slt.studiogan.summary"),
    ("studiogan_slt.studiogan.launch",),
    ("studiogan_slt.reporting",),
    ("studiogan_slt.sweep",),
    ("studiogan_slt.cli",),
    ("studiogan_slt.__main__",),
]


def _modules():
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _target(name):
    """The module of the package an imported name lives in: a submodule, or the module that defines it."""
    if name.startswith("studiogan_slt.") and name.split(".", 1)[1] in studiogan_slt._PUBLIC:
        return studiogan_slt._PUBLIC[name.split(".", 1)[1]]
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name if name in MODULES else None


def imports(module):
    """{imported module: line} of every import of a package module in `module`, at any depth."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = {}
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            target = _target(name) if name.startswith("studiogan_slt") else None
            if target is not None and target != module:
                found.setdefault(target, node.lineno)
    return found


def layer(module):
    matches = [(len(prefix), rank) for rank, prefixes in enumerate(LAYERS) for prefix in prefixes
               if module == prefix or module.startswith(prefix + ".")]
    assert matches, f"{module} is on no layer: add it to LAYERS"
    return max(matches)[1]


GRAPH = {module: imports(module) for module in MODULES}


def test_every_module_is_on_a_layer():
    for module in MODULES:
        layer(module)


def test_no_import_goes_up_a_layer():
    upward = [f"{MODULES[a].relative_to(PACKAGE.parent)}:{line} imports {b}"
              for a, targets in GRAPH.items() for b, line in targets.items() if layer(b) > layer(a)]
    assert not upward, "\n".join(upward)


def find_cycle(graph):
    """One circle of `graph` ({node: {node: ...}}) as a list of nodes, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_no_modules_import_each_other_in_a_circle():
    cycle = find_cycle(GRAPH)
    assert cycle is None, " -> ".join(cycle)


@pytest.mark.parametrize("graph, circle", [({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}}, True),
                                           ({"a": {"b": 1}, "b": {"c": 1}, "c": {}}, False)])
def test_find_cycle_finds_a_circle(graph, circle):
    assert (find_cycle(graph) is not None) == circle


def test_function_local_imports_count(tmp_path, monkeypatch):
    source = tmp_path / "studiogan_slt" / "studiogan" / "run_files.py"
    source.parent.mkdir(parents=True)
    source.write_text("def f():\n    from studiogan_slt.studiogan.host import compat\n")
    monkeypatch.setitem(MODULES, "studiogan_slt.studiogan.run_files", source)
    assert imports("studiogan_slt.studiogan.run_files") == {"studiogan_slt.studiogan.host.compat": 2}
    assert layer("studiogan_slt.studiogan.host.compat") > layer("studiogan_slt.studiogan.run_files")
