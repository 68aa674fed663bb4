"""Rendering a computed report to HTML, PDF and JSON, and writing the files.

Safety: every template (built-in, theme or report project) renders in Jinja's
immutable sandbox with autoescape, and sees plain data only; WeasyPrint fetches
``data:`` URIs and files inside the report project or the package templates,
nothing else (no network, no other local file). Files are written to a
temporary name and renamed, so a failure never leaves a half-written report.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
import re
import tempfile
import threading
import time
from importlib.abc import Traversable
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2

from roistory import __version__, pdf_worker
from roistory.audit import build_manifest, manifest_json
from roistory.chart_colours import chart_style
from roistory.charts import ChartBatch, ChartWorker, drawing_elsewhere
from roistory.context import ReportContext
from roistory.editions import FULL, Edition
from roistory.errors import OutputError, RoistoryError, TemplateError, unknown_name
from roistory.json_output import report_json
from roistory.limits import memory_limit
from roistory.pdf import RENDER_TIMEOUT_SECONDS, pdf_bytes, time_limit
from roistory.plugin_manager import get_plugin_manager
from roistory.resources import check_stylesheet_files, logo_data_uri, private_files, resource_roots
from roistory.safety import inside
from roistory.sandbox import BoundedSandbox
from roistory.sections import default_sections
from roistory.themes import Theme, check_brand, theme_from_folder
from roistory.watermark import watermark


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
    env = BoundedSandbox(
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
    env.bytecode_cache = compiled_templates(env)  # after the plugins: what they add is in its key
    return env


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):  # a read-only or full disk: compile again next time
            super().dump_bytecode(bucket)


def compiled_templates(env: jinja2.Environment) -> jinja2.BytecodeCache | None:
    """Jinja's cache of compiled templates on disk (its private per-user folder in the temp
    directory: mode 0700, checked to be the user's own), so a run does not compile the same
    templates again — a tenth of a second of every report. Jinja recompiles a template whose
    source changed; the file name holds everything else that changes the compiled code: the
    versions, the sandbox's class and what the plugins added (extensions, filters, tests).
    None where Jinja finds no safe folder."""
    key = repr(
        (
            __version__,
            jinja2.__version__,
            f"{type(env).__module__}.{type(env).__qualname__}",
            sorted(env.extensions),
            sorted(env.filters),
            sorted(env.tests),
            [getattr(env, option, None) for option in _COMPILE_OPTIONS],
        )
    )
    try:
        return _CompiledTemplates(pattern=f"__roistory_{hashlib.sha256(key.encode()).hexdigest()[:16]}_%s.cache")
    except (OSError, RuntimeError):  # no temp folder Jinja trusts
        return None


# Environment settings that change what a template compiles to
_COMPILE_OPTIONS = (
    "block_start_string", "block_end_string", "variable_start_string", "variable_end_string",
    "comment_start_string", "comment_end_string", "line_statement_prefix", "line_comment_prefix",
    "trim_blocks", "lstrip_blocks", "newline_sequence", "keep_trailing_newline", "optimized",
    "autoescape", "is_async", "intercepted_binops", "intercepted_unops",
)  # fmt: skip


def _brand(themes: list[Theme], report: ReportContext) -> dict[str, Any]:
    brand: dict[str, Any] = {}
    for theme in reversed(themes):
        brand.update(theme.brand)
    check_brand(brand, where="brand")
    return brand


def _shown_path(sheet: Traversable | Path, report: ReportContext) -> str:
    """A stylesheet as an error names it: relative to the project when it is in it."""
    if isinstance(sheet, Path):
        with contextlib.suppress(ValueError):  # not in the project: named in full
            return sheet.relative_to(report.config.base_dir).as_posix()
    return str(sheet)


def _stylesheets(report: ReportContext, themes: list[Theme]) -> str:
    css = []
    for theme in reversed(themes):
        for sheet in theme.stylesheets:
            text = sheet.read_text(encoding="utf-8")
            check_stylesheet_files(text, _shown_path(sheet, report), report)
            css.append(text)
    # A stylesheet cannot close the <style> element it is inlined into.
    return re.sub(r"</(style)", r"<\\/\1", "\n".join(css), flags=re.IGNORECASE)


def section_ids(report: ReportContext) -> list[str]:
    """The sections of the report's edition: its own list (those registered), else the report's."""
    if report.edition.sections:
        return [s for s in report.edition.sections if s in report.registry.sections]
    return report.config.sections or default_sections(report.registry.sections.values())


def build_sections(report: ReportContext, worker: ChartWorker | None = None) -> list[dict[str, Any]]:
    """Each shown section's template context, built once for the HTML, the PDF and the JSON.

    ``shown_metrics`` (popped from a section's context) lists the metric ids it prints: what
    the definitions appendix defines. With a ``worker``, use :func:`sections_and_charts`.
    """
    sections, charts = sections_and_charts(report, worker)
    return charts.resolve(sections) if charts is not None else sections


def sections_and_charts(
    report: ReportContext, worker: ChartWorker | None
) -> tuple[list[dict[str, Any]], ChartBatch | None]:
    """The sections, their charts still being drawn by ``worker`` (placeholders until
    :meth:`ChartBatch.resolve`), so the PDF's layout can start before the last chart is done."""
    sections = []
    with (
        chart_style(_brand(resolve_theme(report), report)),  # the brand's colours reach every chart
        drawing_elsewhere(worker) as charts,
    ):
        for section_id in section_ids(report):
            section = report.registry.sections[section_id]
            context = section.build(report)
            if context is not None:
                shown = context.pop("shown_metrics", [])
                title = report.gettext(context.pop("title", section.title))
                sections.append(
                    {
                        "id": section.id,
                        "title": title,
                        "template": section.template,
                        "data": context,
                        "shown_metrics": shown,
                    }
                )
    return sections, charts


def section_narrative(sections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The sentences sections list under ``narrative`` (with their traced numbers), in page order."""
    return [entry for section in sections for entry in section["data"].get("narrative", [])]


def report_context(
    report: ReportContext, themes: list[Theme], sections: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """What the page template sees: plain strings, numbers, lists and dicts only."""
    settings = report.config.report
    if sections is None:
        sections = build_sections(report)
    brand = _brand(themes, report)
    edition = report.edition
    shown = [metric for section in sections for metric in section["shown_metrics"]]
    period = report.formatter.period(report.period)
    return {
        "report": {
            "title": settings.title,
            "client": settings.client,
            "period": period,
            "subject": " — ".join(p for p in (settings.client, settings.title, period) if p),
            "keywords": [p for p in (settings.client, period) if p] + [s["title"] for s in sections],
            "created": pdf_created(report),
            "period_start": report.formatter.date(report.period.start),
            "period_end": report.formatter.date(report.period.end),
            "currency": settings.currency,
            "locale": settings.locale,
            "lang": settings.locale.replace("_", "-"),
            "page_size": settings.page_size,
            "version": __version__,
            "edition": edition.id,
            "edition_title": report.gettext(edition.title) if edition.sections else "",
        },
        "brand": {**brand, "logo": logo_data_uri(brand, report)},
        "stylesheet": _stylesheets(report, themes),
        "sections": sections,
        "shown_metrics": list(dict.fromkeys(shown)),
    }


def render_html(report: ReportContext, sections: list[dict[str, Any]] | None = None) -> str:
    themes = resolve_theme(report)
    env = make_environment(report, themes)
    try:
        with time_limit(RENDER_TIMEOUT_SECONDS), memory_limit():
            template = env.get_template("report.html.j2")
            return template.render(report_context(report, themes, sections))
    except RoistoryError:
        raise
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{exc.filename or exc.name}, line {exc.lineno}: {exc.message}") from None
    except (jinja2.TemplateError, OverflowError) as exc:  # OverflowError: the sandbox's range() limit
        raise TemplateError(f"template error: {exc}") from None
    except RecursionError:
        raise TemplateError("template error: a macro or loop calls itself too deeply") from None
    except MemoryError:
        raise TemplateError("template error: rendering ran out of memory") from None


def pdf_created(report: ReportContext) -> str:
    """The PDF's creation date: the report period's last day, so a rerun is byte-identical."""
    return f"{report.period.end.isoformat()}T00:00:00Z"


def fetch_scope(report: ReportContext) -> tuple[str, list[str], list[str]]:
    """What the PDF renderer resolves URLs against and may read: base URL, roots, private files."""
    roots = [str(root) for root in resource_roots(report, resolve_theme(report))]
    return str(report.config.base_dir) + os.sep, roots, [str(path) for path in private_files(report)]


class PendingPdf:
    """A PDF being laid out (in ``worker``, if given): :meth:`result` takes the .json output
    (a PDF/A-3b's attachment) and returns the PDF, so the parent computes the JSON while the
    worker lays out the pages. The worker fetches ``charts``' placeholders from the forks
    drawing them. The caller closes the worker."""

    def __init__(
        self, report: ReportContext, html: str, worker: pdf_worker.PdfWorker | None, charts: ChartBatch | None
    ) -> None:
        base_url, roots, private = fetch_scope(report)
        variant = report.config.report.pdf.variant
        options = {"variant": variant, "created": pdf_created(report)}
        self._attached = variant == "pdf/a-3b"
        self._worker = worker
        self._job = (html, base_url, roots, private, options)
        if worker is not None:
            if charts is not None:
                options = {**options, "charts_prefix": charts.prefix}
            worker.start(html, base_url, roots, private, results_json_follows=self._attached, **options)

    def result(self, results_json: str | None) -> bytes:
        if self._worker is None:
            html, base_url, roots, private, options = self._job
            return pdf_bytes(html, base_url, roots, private, results_json=results_json, **options)
        return self._worker.finish(results_json if self._attached else None)


def behind_the_pdf(compute):
    """``compute()`` in a thread at the lowest CPU priority (Linux sets it per thread), so the
    charts and the layout the PDF waits for get both cores first; the thread ends with the call."""
    outcome: dict[str, Any] = {}

    def low_priority() -> None:
        with contextlib.suppress(OSError, AttributeError):  # not Linux: an ordinary thread
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        try:
            outcome["value"] = compute()
        except BaseException as exc:  # noqa: BLE001  (raised again in the caller)
            outcome["error"] = exc

    context = contextvars.copy_context()  # the caller's context variables, as if called here
    thread = threading.Thread(target=context.run, args=(low_priority,), name="roistory-json", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def output_name(report: ReportContext) -> str:
    base = report.config.report.client or (report.config.base_dir.name if report.config.path else "report")
    return re.sub(r"[^A-Za-z0-9._-]+", "-", f"{base}-{report.period.label}").strip("-")


def _cannot_write(exc: OSError) -> str:
    if isinstance(exc, FileExistsError | NotADirectoryError):
        return "cannot hold the outputs: it, or a folder above it, is a file"
    return f"cannot hold the outputs: {exc.strerror or exc}"


def check_out_folder(out_dir: Path) -> None:
    """``--out`` must be a folder roistory can write, checked before any work (a report can take
    minutes). The probe leaves nothing behind: folders it had to create are removed again."""
    missing = []
    folder = out_dir
    while not os.path.lexists(folder) and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=out_dir, prefix=".roistory-", suffix=".probe")
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(_cannot_write(exc), path=str(out_dir)) from None
    finally:
        for created in missing:  # nearest first
            with contextlib.suppress(OSError):
                created.rmdir()


def _temporary_beside(path: Path, data: bytes) -> str:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp creates 0600; reports are ordinary files
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return temporary


def write_all(files: list[tuple[Path, bytes]]) -> None:
    """Every file or none: each is written beside its target first, then all are moved in. If
    one cannot be (a folder in the way, a full disk), those already moved in are taken back
    and the files they replaced (an earlier run's) restored from hard-linked copies."""
    written: list[tuple[str, Path]] = []
    moved: list[tuple[Path, str | None]] = []
    target = files[0][0] if files else Path(".")
    try:
        for target, data in files:
            if target.is_dir():
                raise OutputError("is a folder where an output file goes", path=str(target))
            written.append((_temporary_beside(target, data), target))
        for temporary, target in written:
            moved.append((target, _keep_a_copy(target)))
            os.replace(temporary, target)
    except BaseException as exc:
        for path, previous in reversed(moved):
            if previous is not None:
                os.replace(previous, path)
                Path(previous).unlink(missing_ok=True)  # still there when the move had not happened (same file)
            else:
                path.unlink(missing_ok=True)
        for temporary, _path in written:
            Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(_cannot_write(exc), path=str(target)) from None
        raise
    for _path, previous in moved:
        if previous is not None:
            Path(previous).unlink(missing_ok=True)


def _keep_a_copy(path: Path) -> str | None:
    """A hard link to the file at ``path`` (an earlier run's output), or None when there is none."""
    if not path.is_file():
        return None
    copy = str(path.with_name(f".{path.name}.previous"))
    with contextlib.suppress(FileNotFoundError):
        os.unlink(copy)
    try:
        os.link(path, copy)
    except OSError:  # a file system without hard links: the old file cannot come back
        return None
    return copy


def report_editions(report: ReportContext, editions: list[str] | None = None) -> list[Edition]:
    """The editions to render: ``--edition``, else ``report.edition``, else the full report alone."""
    wanted = editions or report.config.report.edition
    if not wanted:
        return [FULL]
    registered = report.registry.editions
    key = "--edition" if editions else "report.edition"
    for name in wanted:
        if name not in registered:
            raise unknown_name("edition", name, list(registered), key)
    return [registered[name] for name in dict.fromkeys(wanted)]


def render_edition(report: ReportContext, formats: list[str], *, draft: bool = False) -> dict[str, bytes]:
    """One document in each format, all from the same built sections.

    The render worker (if started, and only for the first edition) draws the charts while
    this process builds the sections, then lays out the PDF while this process writes the JSON.
    """
    rendered: dict[str, bytes] = {}
    worker = pdf_worker.take()
    try:
        wanted = {"html", "pdf", "json"} & set(formats)
        if worker is not None and "pdf" in formats:
            stylesheet = _stylesheets(report, resolve_theme(report))
            if "@font-face" in stylesheet.lower():  # the charts' forks load the brand fonts first
                worker.send_theme_fonts(stylesheet, *fetch_scope(report))
        sections, charts = sections_and_charts(report, worker) if wanted else ([], None)
        html = render_html(report, sections) if {"html", "pdf"} & set(formats) else None
        if draft and html is not None:
            html = watermark(html)
        pending = PendingPdf(report, html, worker, charts) if "pdf" in formats else None
        # computed once: the .json output and the PDF/A-3b's attachment are the same bytes
        wanted = "json" in formats or report.config.report.pdf.variant == "pdf/a-3b"
        results_json = None
        if wanted:
            compute = lambda: report_json(report, narrative=section_narrative(sections))  # noqa: E731
            results_json = behind_the_pdf(compute) if pending is not None and worker is not None else compute()
        if pending is not None:
            rendered["pdf"] = pending.result(results_json)
        if charts is not None and html is not None:  # also without an HTML output: a chart that failed raises here
            html = charts.resolve(html)
        if "html" in formats:
            rendered["html"] = html.encode("utf-8")
        if "json" in formats:
            rendered["json"] = results_json.encode("utf-8")
    finally:
        if worker is not None:
            worker.close()  # a child still waiting for the JSON gets None, fails and exits
    return rendered


def write_report(
    report: ReportContext,
    out_dir: Path,
    formats: list[str] | None = None,
    *,
    draft: bool = False,
    editions: list[str] | None = None,
) -> dict[str, Path]:
    """Render every format (of every edition) first, then write them all: a failure writes nothing.

    ``draft`` puts a DRAFT watermark on every page of the HTML and PDF and says so in the manifest.
    ``editions`` (``--edition``, else ``report.edition``): one document per edition, named
    ``<name>-<edition>.<ext>`` and listed as ``<edition>.<ext>`` in the returned paths and the manifest.
    """
    started = time.perf_counter()
    formats = formats or list(report.config.report.formats)
    name = output_name(report)
    chosen = report_editions(report, editions)
    outputs: dict[str, tuple[Path, bytes]] = {}
    for edition in chosen:
        rendered = render_edition(report.for_edition(edition), formats, draft=draft)
        for fmt, data in rendered.items():
            if edition is FULL:
                outputs[fmt] = (out_dir / f"{name}.{fmt}", data)
            else:
                outputs[f"{edition.id}.{fmt}"] = (out_dir / f"{name}-{edition.id}.{fmt}", data)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(_cannot_write(exc), path=str(out_dir)) from None
    manifest_path = out_dir / f"{name}.manifest.json"
    seconds = time.perf_counter() - started
    manifest_bytes = manifest_json(build_manifest(report, outputs, draft=draft, seconds=seconds)).encode("utf-8")
    write_all([*outputs.values(), (manifest_path, manifest_bytes)])
    if report.pending_history is not None:  # the history store changes only after every output is written
        report.pending_history.commit()
    return {**{key: path for key, (path, _data) in outputs.items()}, "manifest": manifest_path}
