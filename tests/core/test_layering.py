"""The modular monolith's rule: the core never imports a module; a module imports another
module only through its ``service`` package."""

from __future__ import annotations

import ast
from pathlib import Path

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


def test_modules_reach_each_other_only_through_service() -> None:
    bad: dict[str, list[str]] = {}
    for module in MODULES:
        for path in (SRC / module).rglob("*.py"):
            for name in imported_names(path):
                for other in MODULES:
                    prefix = f"hexagone.{other}"
                    if (
                        other != module
                        and (name == prefix or name.startswith(prefix + "."))
                        and not (name == f"{prefix}.service" or name.startswith(f"{prefix}.service."))
                    ):
                        bad.setdefault(str(path.relative_to(SRC)), []).append(name)
    assert bad == {}
