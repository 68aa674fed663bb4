"""The public API is one documented surface, and the built-in plugins use nothing else."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import roistory
from roistory import api

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = {"roistory", "roistory.api"}


def _api_section() -> str:
    text = (ROOT / "docs" / "plugin_hooks.md").read_text(encoding="utf-8")
    return text.split("## The public API", 1)[1].split("\n## ", 1)[0]


def test_every_public_name_is_documented():
    section = _api_section()
    missing = [name for name in api.__all__ if not re.search(rf"`{re.escape(name)}[`(]", section)]
    assert not missing, f"roistory.api names missing from docs/plugin_hooks.md 'The public API': {missing}"


def test_the_package_re_exports_the_api():
    for name in api.__all__:
        assert getattr(roistory, name) is getattr(api, name), name
    assert set(api.__all__) <= set(dir(roistory))


def test_documented_names_exist():
    """A name the section documents as public is really there (no stale docs)."""
    bullets = re.findall(r"^- `(\w+)", _api_section(), flags=re.M)
    assert bullets
    stale = [name for name in bullets if name not in api.__all__]
    assert not stale, f"documented in 'The public API' but not in roistory.api.__all__: {stale}"


def _roistory_imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) of every roistory import in a file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "roistory":
            found.append((node.lineno, node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name, []) for a in node.names if a.name.split(".")[0] == "roistory"]
    return found


def test_builtin_plugins_import_only_the_public_api():
    offences = []
    for path in sorted((ROOT / "plugins").glob("*.py")):
        for line, module, names in _roistory_imports(path):
            if module not in PUBLIC:
                offences.append(f"plugins/{path.name}:{line} imports {module}")
            elif module == "roistory" and not set(names) <= {"hookimpl", "api"}:
                offences.append(f"plugins/{path.name}:{line} imports {names} from roistory (use roistory.api)")
    assert not offences, "\n".join(offences)


def test_public_imports_are_documented_examples_too():
    """The worked examples in docs/ are plugins as a third party writes them: public API only."""
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted((ROOT / "docs" / "examples").rglob("*.py"))
        for line, module, _ in _roistory_imports(path)
        if module not in PUBLIC
    ]
    assert not offences, "\n".join(offences)
