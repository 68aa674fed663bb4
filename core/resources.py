"""What a theme or template may pull into a report: which folders, which files, which logo.

- Folders the PDF renderer may read from (:func:`resource_roots`): the project's
  ``assets/`` folder, the report's theme folder (a folder theme in the project), the
  template and stylesheet folders of registered (plugin) themes, and roistory's own
  templates. Not the rest of the project.
- Files no template may embed, wherever they sit (:func:`private_files`): the config, every
  data source, ``fx.path``, ``identity.mapping`` and the history store.
- A logo (:func:`logo_data_uri`) is a file in ``assets/`` or the theme folder that is an
  image by its content (PNG, JPEG, GIF, WebP or SVG), not by its name.
- A relative ``url(...)`` in a theme's stylesheet names a file that exists
  (:func:`check_stylesheet_files`); whether it may be read is the fetcher's rule above.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from roistory.errors import TemplateError
from roistory.safety import image_type, inside

if TYPE_CHECKING:
    from roistory.pipeline import Report
    from roistory.themes import Theme

ASSETS = "assets"  # the project folder templates may reference
MAX_LOGO_BYTES = 5 << 20  # embedded in every HTML and PDF: a logo is a few hundred kB at most


def theme_folder(report: Report) -> Path | None:
    """The report's theme folder when ``report.theme`` is a folder rather than a registered name."""
    name = report.config.report.theme
    if name in report.registry.themes:
        return None
    folder = report.config.resolve(name)
    return folder if folder.is_dir() else None


def resource_roots(report: Report, themes: list[Theme]) -> list[Path]:
    """Folders the renderer may read files from."""
    roots = [report.config.base_dir / ASSETS]
    folder = theme_folder(report)
    if folder is not None:
        roots.append(folder)
    for theme in themes:
        for part in (theme.templates, *(sheet.parent for sheet in theme.stylesheets if isinstance(sheet, Path))):
            if isinstance(part, Path):
                roots.append(part)
    templates = files("roistory.templates")
    if isinstance(templates, Path):
        roots.append(templates)
    return list(dict.fromkeys(roots))


def private_files(report: Report) -> list[Path]:
    """The report's inputs and config: never embedded, even when they sit in an allowed folder."""
    config = report.config
    paths = [config.path] if config.path else []
    paths += [config.resolve(source.path) for source in config.sources if source.path]
    for value in (config.fx.path, config.identity.mapping, config.history.path if config.history else None):
        if value:
            paths.append(config.resolve(value))
    return [Path(os.path.realpath(p)) for p in paths]


def may_read(path: Path, roots: list[Path], private: list[Path]) -> bool:
    """May the renderer read ``path``: inside a root, and not one of the report's inputs."""
    real = os.path.realpath(path)
    return any(inside(real, root) for root in roots) and all(real != str(p) for p in private)


def logo_data_uri(brand: dict[str, Any], report: Report) -> str | None:
    """The brand logo as a ``data:`` URI, after checking where it is and what it is."""
    logo = brand.get("logo")
    if not logo:
        return None
    path = report.config.resolve(str(logo))
    folders = [report.config.base_dir / ASSETS, *filter(None, [theme_folder(report)])]
    if not any(inside(path, folder) for folder in folders) or not path.is_file():
        raise TemplateError(
            f"brand.logo '{logo}' must be an image file in the project's {ASSETS}/ folder or the theme folder"
        )
    if not may_read(path, folders, private_files(report)):
        raise TemplateError(f"brand.logo '{logo}' is one of the report's data files, not an image")
    if path.stat().st_size > MAX_LOGO_BYTES:
        raise TemplateError(f"brand.logo '{logo}' is larger than {MAX_LOGO_BYTES >> 20} MB")
    data = path.read_bytes()
    mime = image_type(data[:4096])
    if mime is None:
        raise TemplateError(f"brand.logo '{logo}' is not a PNG, JPEG, GIF, WebP or SVG image (checked by its content)")
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)""", re.IGNORECASE)


def check_stylesheet_files(css: str, where: str, report: Report) -> None:
    """Every relative ``url(...)`` in a theme's stylesheet names a file that exists.

    The PDF leaves out what it cannot read (a font falls back, an image is blank): a brand font
    written relative to the theme folder, as one would, was used nowhere and nothing said so.
    A file that exists but may not be read, the network and absolute paths stay left out
    quietly (theming.md, "What a theme can load")."""
    for match in _CSS_URL.finditer(_CSS_COMMENT.sub("", css)):
        url = next(group for group in match.groups() if group is not None).strip()
        if not url or urlparse(url).scheme or url.startswith(("/", "#")):
            continue
        relative = unquote(urlparse(url).path)
        if (report.config.base_dir / relative).exists():
            continue
        folder, hint = theme_folder(report), ""
        if folder is not None and (folder / relative).is_file():
            with contextlib.suppress(ValueError):  # a theme folder reached through a symlink: no hint
                hint = f"; did you mean url({(folder / relative).relative_to(report.config.base_dir).as_posix()})?"
        raise TemplateError(
            f"{where}: url({url}) is not a file: a url in a theme's stylesheet resolves against the report's "
            f"folder{hint}"
        )
