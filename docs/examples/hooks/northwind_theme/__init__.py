"""Example for register_themes: an agency look shared by all its clients' reports."""

from pathlib import Path

from roistory.api import Theme, hookimpl

HERE = Path(__file__).parent


@hookimpl
def register_themes(register):
    register(
        Theme(
            name="northwind",
            templates=HERE / "templates",
            stylesheets=(HERE / "style.css",),
            brand={
                "primary_color": "#0b3d2e",
                "accent_color": "#f2a900",
                "footer_text": "Prepared by Northwind Agency",
            },
            extends="default",
        )
    )
