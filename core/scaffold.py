"""``roistory new-plugin``: an installable plugin package that passes its own tests as generated."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2

from roistory import __version__
from roistory.errors import BadInputError

KINDS = {
    # kind: (hook, registry kind, registered name pattern, summary)
    "source": ("register_data_sources", "source", "{name}", "a source type reading {name} exports"),
    "metrics": ("register_metrics", "metric", "{name}_cost_per_click", "metrics computed from canonical tables"),
    "attribution": ("register_attribution_models", "model", "{name}", "an attribution model"),
    "section": ("register_report_sections", "section", "{name}", "a report section"),
    "theme": ("register_themes", "theme", "{name}", "a report theme"),
}


def new_plugin(name: str, kind: str, directory: Path) -> Path:
    """Write ``directory/roistory-<name>/``; returns that folder."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise BadInputError(f"plugin name '{name}': use lowercase letters, digits and underscores")
    hook, registry_kind, registered, summary = KINDS[kind]
    dist, module = f"roistory-{name.replace('_', '-')}", f"roistory_{name}"
    target = directory / dist
    if target.exists():
        raise BadInputError(f"{target}: already exists")
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("roistory.templates", "scaffold"),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    context = {
        "name": name,
        "kind": kind,
        "dist": dist,
        "module": module,
        "hook": hook,
        "registry_kind": registry_kind,
        "registered": registered.format(name=name),
        "summary": summary.format(name=name),
        "title": name.replace("_", " ").title(),
        "roistory_version": __version__,
    }
    files = {
        "pyproject.toml": "pyproject.toml.j2",
        "README.md": "README.md.j2",
        f"{module}/__init__.py": f"{kind}.py.j2",
        f"tests/test_{name}.py": "test_plugin.py.j2",
    }
    if kind == "section":
        files[f"{module}/templates/sections/{name}.html.j2"] = "section.html.j2.j2"
    if kind == "theme":
        files[f"{module}/templates/style.css"] = "theme.css.j2"
    for relative, template in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(env.get_template(template).render(context), encoding="utf-8")
    return target
