"""The shape of the code: import contracts, no cycles, lazy imports only where they pay.

The contracts live in pyproject.toml ([tool.importlinter]) and run through
scripts/lint-imports (import-linter on the wheel's layout, plus a cycle check that
counts imports inside functions). Each contract is also shown to fail on a planted
violation, so a contract that stopped checking anything would fail here.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = ROOT / "scripts" / "lint-imports"

# Modules that run a command: they import the engine when the command runs, so that
# `roistory --help` does not pay for pandas. Everywhere else roistory imports sit at the top.
COMMAND_MODULES = {"cli.py", "launch.py", "attribute_command.py", "history_command.py", "batch.py", "testing.py"}
# roistory modules that load a heavy library, and the modules that preload them in a worker
HEAVY_MODULES = {"roistory.chart_drawing"}  # matplotlib
PRELOADING = {"pdf_worker.py"}  # the render worker imports what it will need while the parent works
# Third-party libraries worth loading only when used: optional extras or slow imports.
LAZY_LIBRARIES = {
    "babel",  # locale data, only when a locale is checked
    "duckdb",
    "email_validator",  # only when a delivery lists recipients
    "matplotlib",
    "openpyxl",
    "pandera",
    "psycopg",
    "pyarrow",
    "pypdf",
    "pyspark",
    "rich",  # the progress display, only for a batch
    "scipy",
    "sqlalchemy",
    "sqlglot",
    "threadpoolctl",
    "weasyprint",
}


def _lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "ROISTORY_LINT_ROOT": str(root)}
    return subprocess.run([sys.executable, str(LINT)], env=env, capture_output=True, text=True, timeout=300)


def test_the_import_contracts_hold_and_there_is_no_cycle():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout
    assert "Import cycles: 0" in result.stdout


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / "checkout"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("core", "plugins", "scripts"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def _plant(path: Path, line: str, *, in_function: bool = False) -> None:
    text = path.read_text()
    if in_function:  # hidden inside a function, where a cycle used to hide
        text += f"\n\ndef _planted():\n    {line}\n"
    else:
        text = text.replace(
            "from __future__ import annotations\n", f"from __future__ import annotations\n\n{line}\n", 1
        )
    path.write_text(text)


@pytest.mark.parametrize(
    ("target", "line", "in_function", "expected"),
    [
        ("plugins/core_metrics.py", "from roistory.metrics import DIMENSION_COLUMNS", False, "never each other BROKEN"),
        ("plugins/funnel_metrics.py", "from roistory.plugins import core_metrics", False, "never each other BROKEN"),
        ("core/render.py", "import roistory.plugins.core_metrics", False, "The core never imports a plugin BROKEN"),
        (
            "core/metrics.py",
            "import roistory.render",
            False,
            "roistory.metrics is not allowed to import roistory.render",
        ),
        ("core/errors.py", "import roistory.config", True, "import cycle: roistory.cascade <-> roistory.config"),
    ],
    ids=[
        "plugin-imports-private-module",
        "plugin-imports-plugin",
        "core-imports-plugin",
        "layer-upwards",
        "hidden-cycle",
    ],
)
def test_each_contract_fails_on_a_planted_violation(tmp_path, target, line, in_function, expected):
    copy = _copy(tmp_path)
    _plant(copy / target, line, in_function=in_function)
    result = _lint(copy)
    assert result.returncode != 0
    assert expected in result.stdout


def _function_imports(path: Path):
    tree = ast.parse(path.read_text())
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    yield node.lineno, node.module
                elif isinstance(node, ast.Import):
                    for alias in node.names:
                        yield node.lineno, alias.name


def _stdlib(module: str) -> bool:
    return module.split(".")[0] in sys.stdlib_module_names


def test_imports_inside_functions_only_load_heavy_or_optional_libraries():
    misplaced = []
    for path in sorted([*(ROOT / "core").rglob("*.py"), *(ROOT / "plugins").glob("*.py")]):
        name = path.relative_to(ROOT)
        for line, module in _function_imports(path):
            top = module.split(".")[0]
            if path.parent.name == "core" and path.name in COMMAND_MODULES:
                continue
            if top == "roistory":
                if module in HEAVY_MODULES or path.name in PRELOADING:
                    continue
                misplaced.append(f"{name}:{line} imports {module} inside a function")
            elif not _stdlib(module) and top not in LAZY_LIBRARIES:
                misplaced.append(f"{name}:{line} imports {module} inside a function")
    assert misplaced == []
