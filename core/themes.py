"""Themes: where templates come from, which stylesheet is inlined, brand settings.

A report's ``theme`` names a registered theme, or a folder in the report project
holding any of ``theme.yaml`` (brand settings, ``extends``), ``templates/``
(overrides) and ``style.css`` (inlined after the base theme's stylesheet).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

from roistory.cascade import read_yaml
from roistory.errors import ConfigError
from roistory.safety import inside

_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")  # used with fullmatch: no trailing newline slips through
# a CSS font-family list: names of letters, digits, spaces and hyphens, each bare or in matching
# quotes, separated by commas ("Open Sans", Arial) -- an unbalanced quote would swallow the CSS after it
_FONT_NAME = r"\s*(?:[A-Za-z0-9][A-Za-z0-9 -]*|\"[A-Za-z0-9 -]+\"|'[A-Za-z0-9 -]+')\s*"
_FONT_FAMILY = re.compile(rf"{_FONT_NAME}(?:,{_FONT_NAME})*")
BRAND_KEYS = ("primary_color", "accent_color", "text_color", "font_family", "logo", "footer_text")


@dataclass(frozen=True)
class Theme:
    """A look for the report.

    ``templates`` is a folder of Jinja templates searched before the defaults;
    ``stylesheets`` are CSS files inlined into the HTML after those of the
    theme it ``extends`` (``None`` for a theme that stands alone);
    ``brand`` holds ``primary_color``, ``accent_color``, ``text_color``
    (``#rrggbb``), ``font_family``, ``logo`` (a file in the report project) and
    ``footer_text``.
    """

    name: str
    templates: Traversable | Path | None = None
    stylesheets: tuple[Traversable | Path, ...] = ()
    brand: dict[str, Any] = field(default_factory=dict)
    extends: str | None = None

    def __post_init__(self) -> None:
        check_brand(self.brand, where=f"theme '{self.name}'")


def check_brand(brand: dict[str, Any], *, where: str) -> None:
    """Brand values go into CSS, where autoescape does not protect: allow only safe shapes."""
    for key, value in brand.items():
        if key not in BRAND_KEYS:
            raise ConfigError(f"unknown brand key; use one of {', '.join(BRAND_KEYS)}", key=f"{where}.{key}")
        if key.endswith("_color") and not (isinstance(value, str) and _COLOUR.fullmatch(value)):
            raise ConfigError(f"'{value}' is not a colour like #1a2b3c", key=f"{where}.{key}")
        if key == "font_family" and not (isinstance(value, str) and _FONT_FAMILY.fullmatch(value)):
            raise ConfigError(
                "font_family must be font names separated by commas, each bare or in matching quotes "
                '(e.g. "Open Sans", Arial)',
                key=f"{where}.{key}",
            )


def theme_from_folder(folder: Path) -> Theme:
    """A theme defined by a folder in the report project."""
    settings: dict[str, Any] = {}
    settings_file = folder / "theme.yaml"
    if settings_file.is_file():  # read as a report.yaml is: no NUL, no alias bombs, no deep nesting
        settings = read_yaml(settings_file, shape="a mapping (brand, extends)", empty_ok=True)
    unknown = set(settings) - {"extends", "brand"}
    if unknown:
        raise ConfigError("unknown key", file=str(settings_file), key=sorted(unknown)[0])
    templates = folder / "templates"
    for part in (templates, folder / "style.css"):
        if part.exists() and not inside(part, folder):
            raise ConfigError("points outside the theme folder (a symlink?)", file=str(part))
    return Theme(
        name=folder.name,
        templates=templates if templates.is_dir() else None,
        stylesheets=(folder / "style.css",) if (folder / "style.css").is_file() else (),
        brand=dict(settings.get("brand") or {}),
        extends=settings.get("extends", "default"),
    )
