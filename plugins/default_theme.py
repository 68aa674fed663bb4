"""The ``default`` theme: the built-in templates and stylesheet."""

from __future__ import annotations

from importlib.resources import files

from roistory.api import Theme, hookimpl


@hookimpl
def register_themes(register):
    templates = files("roistory.templates")
    register(
        Theme(
            name="default",
            templates=templates,
            stylesheets=(templates / "report.css",),
            brand={"primary_color": "#1f4e79", "accent_color": "#2e86c1", "text_color": "#1d2530"},
            extends=None,
        )
    )
