"""The modular monolith's rule: the core never imports a module; a module imports another
module only through its ``service`` package, and from it only the names its ``__all__``
states (the module's public face)."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

SRC = Path(__file__).resolve().parents[2] / "src" / "hexagone"
MODULES = sorted(p.name for p in SRC.iterdir() if (p / "module.py").exists())


def imported_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_core_imports_no_module() -> None:
    assert MODULES, "no module found under src/hexagone"
    offenders = {
        str(path.relative_to(SRC)): sorted(
            n
            for n in imported_names(path)
            if any(n == f"hexagone.{m}" or n.startswith(f"hexagone.{m}.") for m in MODULES)
        )
        for path in (SRC / "core").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def public_face(module: str) -> set[str]:
    """The names ``hexagone.<module>.service`` states in its ``__all__`` (read, not imported)."""
    init = SRC / module / "service" / "__init__.py"
    for node in ast.parse(init.read_text(), filename=str(init)).body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            return set(ast.literal_eval(value))
    raise AssertionError(f"{init.relative_to(SRC)} states no __all__")


def cross_module_imports(path: Path, module: str) -> list[tuple[str, str, list[str]]]:
    """(other module, imported module, names) for each import of another module in ``path``."""
    found = []
    pairs: list[tuple[str, list[str]]]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            pairs = [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            pairs = [(node.module, [alias.name for alias in node.names])]
        else:
            continue
        for name, names in pairs:
            for other in MODULES:
                if other != module and (name == f"hexagone.{other}" or name.startswith(f"hexagone.{other}.")):
                    found.append((other, name, names))
    return found


def test_every_module_states_its_public_face() -> None:
    for module in MODULES:
        public_face(module)


def test_modules_reach_each_other_only_through_the_names_of_their_service_face() -> None:
    """``from hexagone.<other>.service import <a name in its __all__>``: never a submodule
    (``hexagone.<other>.service.directory``), a model or a page, nor a name the other
    module did not make public."""
    faces = {module: public_face(module) for module in MODULES}
    bad: dict[str, list[str]] = {}
    for module in MODULES:
        for path in (SRC / module).rglob("*.py"):
            for other, name, names in cross_module_imports(path, module):
                if name != f"hexagone.{other}.service":
                    bad.setdefault(str(path.relative_to(SRC)), []).append(name)
                else:
                    bad.setdefault(str(path.relative_to(SRC)), []).extend(
                        f"{name}.{n}" for n in names if n not in faces[other]
                    )
    assert {k: v for k, v in bad.items() if v} == {}


def test_no_module_of_src_imports_itself_through_others() -> None:
    """No import circle at the level of single files, imports inside functions and under
    TYPE_CHECKING included (.importlinter checks packages): grimp's graph, its strongly
    connected components."""
    graph = grimp.build_graph("hexagone", include_external_packages=False)
    circles = [sorted(component) for component in strongly_connected(graph) if len(component) > 1]
    assert circles == []


def strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """Tarjan's algorithm, iterative (the graph has a few hundred modules)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    components.append(component)
            elif target not in index:
                index[target] = low[target] = len(index)
                stack.append(target)
                on_stack.add(target)
                work.append((target, iter(sorted(graph.find_modules_directly_imported_by(target)))))
            elif target in on_stack:
                low[node] = min(low[node], index[target])
    return components


def test_strongly_connected_finds_a_circle_of_three_beside_a_chain() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e")]:
        graph.add_import(importer=importer, imported=imported)
    assert [c for c in strongly_connected(graph) if len(c) > 1] == [{"a", "b", "c"}]
