"""Rendering a computed report to HTML, PDF and JSON, and writing the files.

Safety: every template (built-in, theme or report project) renders in Jinja's
immutable sandbox with autoescape, and sees plain data only; WeasyPrint fetches
``data:`` URIs and files inside the report project or the package templates,
nothing else (no network, no other local file). Files are written to a
temporary name and renamed, so a failure never leaves a half-written report.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import os
import re
import tempfile
from importlib.abc import Traversable
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from roistory import __version__, pdf_worker
from roistory.context import ReportContext
from roistory.errors import RoistoryError, TemplateError
from roistory.json_output import report_json
from roistory.pdf import RENDER_TIMEOUT_SECONDS, inside, pdf_bytes, time_limit
from roistory.plugin_manager import get_plugin_manager, loaded_plugins, plugin_info
from roistory.sections import default_sections
from roistory.themes import Theme, check_brand, theme_from_folder


class TraversableLoader(jinja2.BaseLoader):
    """Loads templates from a folder given as a path or an importlib.resources Traversable."""

    def __init__(self, root: Traversable | Path):
        self.root = root

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str | None, Any]:
        parts = [p for p in template.split("/") if p]
        if any(p in (".", "..") for p in parts):
            raise jinja2.TemplateNotFound(template)
        node = self.root
        for part in parts:
            node = node.joinpath(part)
        if not node.is_file():
            raise jinja2.TemplateNotFound(template)
        if isinstance(self.root, Path) and not inside(Path(node), self.root):
            raise jinja2.TemplateNotFound(template)  # a symlink out of the theme folder
        return node.read_text(encoding="utf-8"), None, lambda: True


def default_templates() -> Traversable:
    return files("roistory.templates")


def resolve_theme(report: ReportContext) -> list[Theme]:
    """The report's theme and the themes it extends, most specific first."""
    name = report.config.report.theme
    registered = report.registry.themes
    chain: list[Theme] = []
    theme = registered.get(name) or theme_from_folder(report.config.resolve(name))
    while theme is not None and len(chain) < 10:
        chain.append(theme)
        theme = registered.get(theme.extends) if theme.extends else None
    return chain


def make_environment(report: ReportContext, themes: list[Theme]) -> jinja2.Environment:
    defaults = TraversableLoader(default_templates())
    loaders: list[jinja2.BaseLoader] = [TraversableLoader(t.templates) for t in themes if t.templates is not None]
    loaders += [jinja2.PrefixLoader({"default": defaults}, delimiter=":"), defaults]
    loaders += [TraversableLoader(s.templates) for s in report.registry.sections.values() if s.templates is not None]
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,  # select_autoescape() would not escape *.html.j2
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(report.translations, newstyle=True)
    fmt = report.formatter
    env.filters.update(
        money=fmt.money,
        money_compact=fmt.money_compact,
        number=fmt.number,
        percent=fmt.percent,
        multiple=fmt.multiple,
    )
    pm = get_plugin_manager() if report.pm is None else report.pm
    pm.hook.prepare_jinja2_environment(env=env, report=report)
    return env


def _brand(themes: list[Theme], report: ReportContext) -> dict[str, Any]:
    brand: dict[str, Any] = {}
    for theme in reversed(themes):
        brand.update(theme.brand)
    check_brand(brand, where="brand")
    return brand


def _stylesheets(themes: list[Theme]) -> str:
    css = []
    for theme in reversed(themes):
        for sheet in theme.stylesheets:
            css.append(sheet.read_text(encoding="utf-8"))
    # A stylesheet cannot close the <style> element it is inlined into.
    return re.sub(r"</(style)", r"<\\/\1", "\n".join(css), flags=re.IGNORECASE)


def _logo_data_uri(brand: dict[str, Any], report: ReportContext) -> str | None:
    logo = brand.get("logo")
    if not logo:
        return None
    path = report.config.resolve(str(logo))
    if not inside(path, report.config.base_dir) or not path.is_file():
        raise TemplateError(f"brand.logo '{logo}' must be a file inside the report project")
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if not mime.startswith("image/"):
        raise TemplateError(f"brand.logo '{logo}' is not an image")
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def report_context(report: ReportContext, themes: list[Theme]) -> dict[str, Any]:
    """What the page template sees: plain strings, numbers, lists and dicts only."""
    settings = report.config.report
    wanted = report.config.sections or default_sections(report.registry.sections.values())
    sections = []
    for section_id in wanted:
        section = report.registry.sections[section_id]
        context = section.build(report)
        if context is not None:
            sections.append(
                {"id": section.id, "title": report.gettext(context.pop("title", section.title)), "template": section.template, "data": context}
            )
    brand = _brand(themes, report)
    return {
        "report": {
            "title": settings.title,
            "client": settings.client,
            "period": report.formatter.period(report.period),
            "period_start": report.formatter.date(report.period.start),
            "period_end": report.formatter.date(report.period.end),
            "currency": settings.currency,
            "locale": settings.locale,
            "lang": settings.locale.replace("_", "-"),
            "page_size": settings.page_size,
            "version": __version__,
        },
        "brand": {**brand, "logo": _logo_data_uri(brand, report)},
        "stylesheet": _stylesheets(themes),
        "sections": sections,
    }


def render_html(report: ReportContext) -> str:
    themes = resolve_theme(report)
    env = make_environment(report, themes)
    try:
        with time_limit(RENDER_TIMEOUT_SECONDS):
            template = env.get_template("report.html.j2")
            return template.render(report_context(report, themes))
    except RoistoryError:
        raise
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{exc.filename or exc.name}, line {exc.lineno}: {exc.message}") from None
    except (jinja2.TemplateError, OverflowError) as exc:  # OverflowError: the sandbox's range() limit
        raise TemplateError(f"template error: {exc}") from None


def render_pdf(report: ReportContext, html: str) -> bytes:
    roots = [str(report.config.base_dir)]
    templates = default_templates()
    if isinstance(templates, Path):
        roots.append(str(templates))
    base_url = str(report.config.base_dir) + os.sep
    worker = pdf_worker.take()
    if worker is None:
        return pdf_bytes(html, base_url, roots)
    try:
        return worker.render(html, base_url, roots)
    finally:
        worker.close()


def output_name(report: ReportContext) -> str:
    base = report.config.report.client or (report.config.base_dir.name if report.config.path else "report")
    return re.sub(r"[^A-Za-z0-9._-]+", "-", f"{base}-{report.period.label}").strip("-")


def manifest(report: ReportContext, outputs: dict[str, Path]) -> str:
    pm = report.pm or get_plugin_manager()
    plugins = []
    for name, _plugin in loaded_plugins(pm):
        info = plugin_info(pm, name)
        plugins.append({"name": name, "distribution": info.distribution, "version": info.version})
    data = {
        "roistory_version": __version__,
        "plugins": plugins,
        "config": report.config.model_dump(mode="json", exclude={"base_dir", "path"}),
        "config_path": str(report.config.path.resolve()) if report.config.path else None,
        "inputs": [
            {**source.as_json(), "type": source.type, "path": str(source.path) if source.path else None}
            for source in report.inputs
        ],
        "outputs": {fmt: path.name for fmt, path in outputs.items()},
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _write_atomic(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp creates 0600; reports are ordinary files
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_report(report: ReportContext, out_dir: Path, formats: list[str] | None = None) -> dict[str, Path]:
    """Render every format first, then write them all: a failure writes nothing."""
    formats = formats or list(report.config.report.formats)
    name = output_name(report)
    rendered: dict[str, bytes] = {}
    html = render_html(report) if {"html", "pdf"} & set(formats) else None
    if "html" in formats:
        rendered["html"] = html.encode("utf-8")
    if "pdf" in formats:
        rendered["pdf"] = render_pdf(report, html)
    if "json" in formats:
        rendered["json"] = report_json(report).encode("utf-8")
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {fmt: out_dir / f"{name}.{fmt}" for fmt in rendered}
    manifest_path = out_dir / f"{name}.manifest.json"
    manifest_bytes = manifest(report, paths).encode("utf-8")
    for fmt, data in rendered.items():
        _write_atomic(paths[fmt], data)
    _write_atomic(manifest_path, manifest_bytes)
    return {**paths, "manifest": manifest_path}
