"""What a theme or template may pull into a report (core/resources.py), called directly.

tests/test_render_security.py and tests/test_theme_attacks.py check the same rules end to end
in a child ``roistory run``; these tests run in process, so scripts/mutation can run them
against each mutant of core/resources.py (docs/testing.md).
"""

from __future__ import annotations

import base64
import os
from importlib.resources import files
from pathlib import Path
from types import SimpleNamespace

import pytest

from roistory.config import load_config
from roistory.errors import TemplateError
from roistory.resources import (
    ASSETS,
    MAX_LOGO_BYTES,
    logo_data_uri,
    may_read,
    private_files,
    resource_roots,
    theme_folder,
)
from roistory.themes import Theme

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 24

CONFIG = """\
report:
  period: 2026-10
  theme: {theme}
sources:
  - {{name: spend, type: csv, path: data/spend.csv, table: spend}}
  - {{name: leads, type: csv, path: ./data/../data/leads.csv, table: leads}}
  - {{name: ga4, type: ga4_api, table: web}}
{extra}"""


def make_report(
    folder: Path, *, theme: str = "default", extra: str = "", inputs: dict[str, bytes] | None = None
) -> SimpleNamespace:
    """A report project in ``folder`` (data/, assets/, the files ``inputs`` the config names) and the
    two things resources.py reads of a report: its config and the registered themes."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / ASSETS).mkdir(exist_ok=True)
    for name, content in (inputs or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    (folder / "report.yaml").write_text(CONFIG.format(theme=theme, extra=extra), encoding="utf-8")
    config = load_config(folder / "report.yaml")
    return SimpleNamespace(config=config, registry=SimpleNamespace(themes={"default": Theme("default")}))


def real(path: Path) -> Path:
    return Path(os.path.realpath(path))


# ---------------------------------------------------------------- the report's private files


def test_private_files_are_the_config_and_every_input(tmp_path):
    extra = "fx: {path: rates/fx.csv}\nidentity: {mapping: people.csv}\nhistory: {path: store/history.duckdb}\n"
    report = make_report(tmp_path, extra=extra, inputs={"rates/fx.csv": b"", "people.csv": b""})
    assert private_files(report) == [
        real(tmp_path / "report.yaml"),
        real(tmp_path / "data" / "spend.csv"),
        real(tmp_path / "data" / "leads.csv"),  # normalised: ./data/../data/leads.csv
        real(tmp_path / "rates" / "fx.csv"),
        real(tmp_path / "people.csv"),
        real(tmp_path / "store" / "history.duckdb"),
    ]


def test_private_files_without_fx_identity_or_history(tmp_path):
    report = make_report(tmp_path)
    assert report.config.history is None
    expected = [real(tmp_path / name) for name in ("report.yaml", "data/spend.csv", "data/leads.csv")]
    assert private_files(report) == expected


def test_a_private_file_is_known_by_its_target_not_its_name(tmp_path):
    """A data source that is a symlink into assets/ is private where it really is."""
    target = tmp_path / ASSETS / "spend-export.csv"
    report_folder = tmp_path / "project"
    report = make_report(report_folder)
    (report_folder / ASSETS).rmdir()
    (tmp_path / ASSETS).mkdir()
    target.write_text("date,cost\n", encoding="utf-8")
    (report_folder / "data" / "spend.csv").symlink_to(target)
    assert real(target) in private_files(report)
    assert not may_read(target, [tmp_path / ASSETS], private_files(report))


# ---------------------------------------------------------------- the folders the renderer may read


def test_theme_folder_is_a_project_folder_not_a_registered_name(tmp_path):
    assert theme_folder(make_report(tmp_path / "named")) is None
    (tmp_path / "folder" / "brand").mkdir(parents=True)
    assert theme_folder(make_report(tmp_path / "folder", theme="brand")) == (tmp_path / "folder" / "brand").resolve()
    assert theme_folder(make_report(tmp_path / "missing", theme="nowhere")) is None
    (tmp_path / "file").mkdir()
    (tmp_path / "file" / "brand.css").write_text("", encoding="utf-8")
    assert theme_folder(make_report(tmp_path / "file", theme="brand.css")) is None  # a file, not a folder


def test_resource_roots_of_a_registered_theme(tmp_path):
    report = make_report(tmp_path)
    plugin = tmp_path.parent / f"{tmp_path.name}-plugin"
    (plugin / "css").mkdir(parents=True)
    (plugin / "templates").mkdir()
    themes = [
        Theme("agency", templates=plugin / "templates", stylesheets=(plugin / "css/a.css", plugin / "css/b.css")),
        Theme("default", templates=files("roistory.templates"), stylesheets=(files("roistory.templates") / "x.css",)),
    ]
    roots = resource_roots(report, themes)
    assert roots == [tmp_path / ASSETS, plugin / "templates", plugin / "css", Path(str(files("roistory.templates")))]


def test_resource_roots_of_a_folder_theme(tmp_path):
    (tmp_path / "brand" / "templates").mkdir(parents=True)
    report = make_report(tmp_path, theme="brand")
    folder = (tmp_path / "brand").resolve()
    theme = Theme("brand", templates=folder / "templates", stylesheets=(folder / "style.css",))
    roots = resource_roots(report, [theme])
    assert roots == [tmp_path / ASSETS, folder, folder / "templates", Path(str(files("roistory.templates")))]
    # the project itself is never a root: its data and config stay out of reach
    assert tmp_path not in roots and tmp_path / "data" not in roots


def test_a_theme_without_templates_or_stylesheets_adds_no_root(tmp_path):
    report = make_report(tmp_path)
    assert resource_roots(report, [Theme("bare")]) == [tmp_path / ASSETS, Path(str(files("roistory.templates")))]


# ---------------------------------------------------------------- the logo


def test_a_logo_is_embedded_as_a_data_uri_of_its_content(tmp_path):
    report = make_report(tmp_path)
    (tmp_path / ASSETS / "logo.bin").write_bytes(PNG)  # the name says nothing; the bytes say PNG
    assert logo_data_uri({"logo": "assets/logo.bin"}, report) == (
        "data:image/png;base64," + base64.b64encode(PNG).decode("ascii")
    )
    svg = b"<svg xmlns='http://www.w3.org/2000/svg'><rect/></svg>"
    (tmp_path / ASSETS / "logo.svg").write_bytes(svg)
    assert logo_data_uri({"logo": "assets/logo.svg"}, report) == (
        "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
    )
    assert logo_data_uri({}, report) is None
    assert logo_data_uri({"logo": ""}, report) is None


def test_a_logo_may_sit_in_the_theme_folder(tmp_path):
    (tmp_path / "brand").mkdir(parents=True)
    report = make_report(tmp_path, theme="brand")
    (tmp_path / "brand" / "logo.png").write_bytes(PNG)
    assert logo_data_uri({"logo": "brand/logo.png"}, report).startswith("data:image/png;base64,")


@pytest.mark.parametrize(
    ("logo", "message"),
    [
        ("data/logo.png", r"brand.logo 'data/logo.png' must be an image file in the project's assets/ folder"),
        ("assets", r"brand.logo 'assets' must be an image file"),  # a folder
        ("assets/missing.png", r"brand.logo 'assets/missing.png' must be an image file"),
        ("../outside/logo.png", r"must be an image file in the project's assets/ folder or the theme folder"),
        ("assets/leads.png", r"brand.logo 'assets/leads.png' is one of the report's data files, not an image"),
        ("assets/logo.csv", r"brand.logo 'assets/logo.csv' is not a PNG, JPEG, GIF, WebP or SVG image"),
    ],
)
def test_a_logo_that_is_not_an_image_in_an_allowed_folder_is_refused(tmp_path, logo, message):
    project = tmp_path / "project"
    # a PNG by content, but it is fx.path
    report = make_report(project, extra="fx: {path: assets/leads.png}\n", inputs={"assets/leads.png": PNG})
    (project / "data" / "logo.png").write_bytes(PNG)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "logo.png").write_bytes(PNG)
    (project / ASSETS / "logo.csv").write_bytes(b"date,channel,cost\n2026-10-01,Search,10\n")
    with pytest.raises(TemplateError, match=message):
        logo_data_uri({"logo": logo}, report)


def test_a_logo_up_to_the_size_limit_is_embedded_and_a_larger_one_refused(tmp_path):
    report = make_report(tmp_path)
    (tmp_path / ASSETS / "big.png").write_bytes(PNG.ljust(MAX_LOGO_BYTES, b"\0"))
    assert logo_data_uri({"logo": "assets/big.png"}, report).startswith("data:image/png;base64,")
    (tmp_path / ASSETS / "huge.png").write_bytes(PNG.ljust(MAX_LOGO_BYTES + 1, b"\0"))
    with pytest.raises(TemplateError, match=r"brand.logo 'assets/huge.png' is larger than 5 MB"):
        logo_data_uri({"logo": "assets/huge.png"}, report)
