"""The harness's session fixtures are defined once: a conftest that imports a fixture from
another module defines it again, and pytest gives each definition an instance of its own.
The browser fixtures imported into five conftests launched five more chromiums in each
test process, idle until the end of the run (``tests/browser/fixtures.py``), and the
mail admin's copy of the migration tests' Dovecot started and filled a second one."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT


def session_fixtures_defined_in(path: Path) -> set[str]:
    """The names of the functions of ``path`` decorated with ``pytest.fixture(scope="session")``
    (a copy of a narrower fixture costs nothing more: it is made again for each test or
    module anyway)."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "pytest.fixture":
                    scope = next((k.value for k in decorator.keywords if k.arg == "scope"), None)
                    if isinstance(scope, ast.Constant) and scope.value in ("session", "package"):
                        names.add(node.name)
    return names


def test_conftests_import_no_session_fixture_so_each_starts_once() -> None:
    imported = []
    for conftest in sorted((ROOT / "tests").rglob("conftest.py")):
        for node in ast.parse(conftest.read_text()).body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tests."):
                source = ROOT / (node.module.replace(".", "/") + ".py")
                fixtures = session_fixtures_defined_in(source) if source.exists() else set()
                imported += [f"{conftest.relative_to(ROOT)}: {a.name}" for a in node.names if a.name in fixtures]
    assert not imported, f"session fixtures imported into a conftest (define each once, above them): {imported}"
