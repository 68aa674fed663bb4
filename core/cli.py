"""The ``roistory`` command line. Commands are thin: the work is in the core modules."""

from __future__ import annotations

import json
import shutil
import sys
import traceback
from contextlib import contextmanager
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import click

from roistory import __version__
from roistory.errors import BadInputError, RoistoryError

DOCS = "https://github.com/roistory/roistory/tree/main/docs"


class ReportFailed(click.ClickException):
    """A domain error, one line, with the exit code the spec gives it (2 = bad input)."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


class RoistoryGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except RoistoryError as exc:
            if ctx.obj and ctx.obj.get("verbose"):
                traceback.print_exc()
            raise ReportFailed(str(exc), exc.exit_code) from None


@click.group(cls=RoistoryGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="roistory")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Turn marketing exports into a board-ready ROI report (HTML, PDF, JSON).

    Documentation: https://github.com/roistory/roistory/tree/main/docs
    """
    ctx.ensure_object(dict)["verbose"] = verbose


def _formats(value: str | None) -> list[str] | None:
    if not value:
        return None
    formats = [f.strip() for f in value.split(",") if f.strip()]
    bad = [f for f in formats if f not in ("html", "pdf", "json")]
    if bad:
        raise click.BadParameter(f"unknown format '{bad[0]}'; use html, pdf, json", param_hint="--format")
    return formats


def render_config(config_path: Path, out: Path, *, period=None, locale=None, formats=None) -> dict[str, Path]:
    from roistory.config import load_config
    from roistory.pipeline import build_report
    from roistory.render import write_report

    config = load_config(config_path)
    report = build_report(config, period=period, locale=locale)
    return write_report(report, out, formats)


def _print_outputs(paths: dict[str, Path]) -> None:
    for kind, path in paths.items():
        if kind != "manifest":
            click.echo(str(path))


@cli.command()
@click.argument("config", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--period", help="Override report.period, e.g. 2026-10, 2026-Q3, 2026-01-01..2026-03-31.")
@click.option("--out", "out", type=click.Path(path_type=Path, file_okay=False), default="out", show_default=True, help="Folder for the outputs.")
@click.option("--format", "formats", help="Comma-separated: html,pdf,json (default: the config's formats).")
@click.option("--locale", help="Override report.locale, e.g. es, id, zh_Hant.")
def run(config: Path, period: str | None, out: Path, formats: str | None, locale: str | None) -> None:
    """Render the report described by CONFIG (a report.yaml) and print the output paths."""
    _print_outputs(render_config(config, out, period=period, locale=locale, formats=_formats(formats)))


@contextmanager
def _bundled_example():
    with as_file(files("roistory.examples") / "acme") as folder:
        yield Path(folder)


@cli.command()
@click.option("--out", "out", type=click.Path(path_type=Path, file_okay=False), default="out", show_default=True, help="Folder for the outputs.")
def demo(out: Path) -> None:
    """Render the bundled example report (HTML, PDF, JSON) and print the paths."""
    with _bundled_example() as folder:
        _print_outputs(render_config(folder / "report.yaml", out))


@cli.command()
@click.argument("config", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--period", help="Override report.period.")
def validate(config: Path, period: str | None) -> None:
    """Check CONFIG and its data; print findings; write nothing."""
    from roistory.config import load_config
    from roistory.pipeline import build_report
    from roistory.render import render_html

    report = build_report(load_config(config), period=period, write_history=False)
    render_html(report)  # theme, brand and template errors surface here too; nothing is written
    for source in report.inputs:
        click.echo(source_summary(source))
    for finding in report.data_quality:
        click.echo(f"{finding.severity:<7} {finding.code}: {finding.message}")
    missing = [r for r in report.maturity_records() if not r["measurable"]]
    if missing:
        needs = sorted({need for r in missing for need in r["needs"]})
        click.echo(f"n/m     {len(missing)} metrics not measurable without {', '.join(needs) or 'more data'}")
    click.echo(f"{config}: valid, period {report.period.label}")


def source_summary(source: Any) -> str:
    """One line per source for ``validate``: rows, the days they cover, whether the export's own
    totals reconciled, and how many findings loading it raised."""
    span = f"{source.covered[0]} to {source.covered[1]}" if getattr(source, "covered", None) else "no dates"
    codes = [f.code for f in source.findings]
    if "totals_mismatch" in codes:
        totals = "totals DO NOT reconcile"
    elif "totals_reconciled" in codes:
        totals = "totals reconciled"
    else:
        totals = "no total rows"
    warnings = sum(f.severity == "warning" for f in source.findings)
    notes = len(source.findings) - warnings
    return (
        f"{'ok' if not warnings else 'check':<7} {source.name} ({source.type} -> {source.table}): {source.rows:,} rows, "
        f"{span}, {totals}, {warnings} {'warning' if warnings == 1 else 'warnings'}, {notes} {'note' if notes == 1 else 'notes'}"
    )


@cli.command()
@click.argument("configs", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--out", "out", type=click.Path(path_type=Path, file_okay=False), default="out", show_default=True, help="Folder for the outputs.")
@click.option("--jobs", "-j", type=click.IntRange(1), default=2, show_default=True, help="Reports rendered at once.")
def batch(configs: tuple[Path, ...], out: Path, jobs: int) -> None:
    """Render many reports (one per client) in parallel, each into OUT/<client>/.

    The client is the config's report.client, else its folder's name. A failing
    client does not stop the others; a summary table follows. Exit code 1 if any failed.
    """
    from roistory.batch import run_batch

    results = run_batch(list(configs), out, jobs)
    width = max(len(r.client) for r in results)
    click.echo(f"{'client':<{width}}  status  seconds  output / error")
    for r in results:
        detail = r.outputs.get("pdf") or r.outputs.get("html") or r.outputs.get("json") or "" if r.ok else r.error
        click.echo(f"{r.client:<{width}}  {'ok' if r.ok else 'FAILED':<6}  {r.seconds:7.1f}  {detail}")
    failed = sum(not r.ok for r in results)
    click.echo(f"{len(results) - failed} of {len(results)} reports rendered")
    if failed:
        sys.exit(1)


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
def init(directory: Path) -> None:
    """Create a report project in DIRECTORY from the bundled example."""
    if directory.exists() and any(directory.iterdir()):
        raise ReportFailed(f"{directory}: exists and is not empty", 2)
    with _bundled_example() as folder:
        shutil.copytree(folder, directory, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__init__.py", "__pycache__", "generate.py"))
    click.echo(f"Created {directory}. Next: roistory run {directory / 'report.yaml'}")


@cli.command("new-plugin")
@click.argument("name")
@click.option("--kind", type=click.Choice(["source", "metrics", "attribution", "section", "theme"]), required=True)
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False), default=".", show_default=True)
def new_plugin(name: str, kind: str, directory: Path) -> None:
    """Create an installable plugin package roistory-NAME that passes its own tests."""
    from roistory.scaffold import new_plugin as scaffold

    target = scaffold(name, kind, directory)
    click.echo(f"Created {target}. Next: pip install -e '{target}[test]' && pytest {target}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
@click.option("--hook", "hooks", multiple=True, help="Only plugins implementing this hook.")
def plugins(as_json: bool, hooks: tuple[str, ...]) -> None:
    """List every loaded plugin, its version and the hooks it implements."""
    from roistory.plugin_manager import get_plugin_manager, loaded_plugins, plugin_info

    pm = get_plugin_manager()
    rows = []
    for name, plugin in loaded_plugins(pm):
        info = plugin_info(pm, name)
        implemented = sorted(impl.name for impl in pm.get_hookcallers(plugin) or [])
        if hooks and not set(hooks) & set(implemented):
            continue
        module_file = getattr(plugin, "__file__", None)
        is_package = bool(module_file) and Path(module_file).name == "__init__.py"
        ships_templates = is_package and (Path(module_file).parent / "templates").is_dir() and not info.builtin
        rows.append(
            {
                "name": name,
                "distribution": info.distribution,
                "version": info.version,
                "builtin": info.builtin,
                "templates": ships_templates,
                "hooks": implemented,
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    width = max((len(r["name"]) for r in rows), default=4)
    for row in rows:
        source = "builtin" if row["builtin"] else f"{row['distribution'] or 'local'} {row['version'] or ''}".strip()
        click.echo(f"{row['name']:<{width}}  {source:<22}  {', '.join(row['hooks'])}")


@cli.command()
def metrics() -> None:
    """List every available metric with its unit, family and definition."""
    from roistory.plugin_manager import build_registry

    registry = build_registry()
    for metric in registry.metrics.values():
        if metric.family == "internal":
            continue
        formula = f"  = {metric.formula}" if metric.formula else ""
        click.echo(f"{metric.id:<16} {metric.unit:<9} {metric.family:<11} [{registry.provider('metric', metric.id)}]")
        click.echo(f"    {metric.definition}{formula}")


@cli.command()
def models() -> None:
    """List every available attribution model with what it assumes."""
    from roistory.plugin_manager import build_registry

    registry = build_registry()
    for model in registry.models.values():
        click.echo(f"{model.id:<16} {model.label}  [{registry.provider('model', model.id)}]")
        click.echo(f"    {model.description}")


from roistory.attribute_command import attribute  # noqa: E402
from roistory.history_command import history  # noqa: E402

cli.add_command(attribute)
cli.add_command(history)


def make_cli(pm=None) -> click.Group:
    """A copy of the CLI with the commands plugins contribute (``register_commands``).

    The module-level ``cli`` stays as defined here, so tests can build CLIs with
    different plugins side by side.
    """
    from roistory.plugin_manager import get_plugin_manager

    group = RoistoryGroup(
        name=cli.name,
        commands=dict(cli.commands),
        params=list(cli.params),
        callback=cli.callback,
        help=cli.help,
        context_settings=cli.context_settings,
    )
    (pm or get_plugin_manager()).hook.register_commands(cli=group)
    return group


def main() -> None:
    if {"run", "demo"} & set(sys.argv[1:2]):
        from roistory import pdf_worker

        pdf_worker.prestart()  # overlaps WeasyPrint's import with loading plugins and data
    try:
        group = make_cli()
    except RoistoryError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    try:
        group(prog_name="roistory")
    except Exception as exc:  # a bug, not bad input: one line unless --verbose
        if "-v" in sys.argv or "--verbose" in sys.argv:
            raise
        code = 2 if isinstance(exc, BadInputError) else 1
        click.echo(f"Error: internal error {type(exc).__name__}: {exc} (run with --verbose for details)", err=True)
        sys.exit(code)


if __name__ == "__main__":
    main()
