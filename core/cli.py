"""The ``roistory`` command line. Commands are thin: the work is in the core modules."""

from __future__ import annotations

import json
import shutil
import sys
import traceback
import warnings
from contextlib import contextmanager
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import click

from roistory import __version__, pdf_worker
from roistory.errors import BadInputError, RoistoryError
from roistory.plugin_manager import plugin_at_fault

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


def _editions(value: str | None) -> list[str] | None:
    return [e.strip() for e in value.split(",") if e.strip()] if value else None


def _formats(value: str | None) -> list[str] | None:
    if not value:
        return None
    formats = [f.strip() for f in value.split(",") if f.strip()]
    bad = [f for f in formats if f not in ("html", "pdf", "json")]
    if bad:
        raise click.BadParameter(f"unknown format '{bad[0]}'; use html, pdf, json", param_hint="--format")
    return formats


def _print_outputs(paths: dict[str, Path]) -> None:
    for kind, path in paths.items():
        if kind != "manifest":
            click.echo(str(path))


@cli.command()
@click.argument("config", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--period", help="Override report.period, e.g. 2026-10, 2026-Q3, 2026-01-01..2026-03-31.")
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, file_okay=False),
    default="out",
    show_default=True,
    help="Folder for the outputs.",
)
@click.option("--format", "formats", help="Comma-separated: html,pdf,json (default: the config's formats).")
@click.option("--locale", help="Override report.locale, e.g. es, id, zh_Hant.")
@click.option(
    "--edition",
    "editions",
    help="Comma-separated editions (board, cfo, cmo, sales or a plugin's): one document each, <name>-<edition>.<ext>.",
)
@click.option("--draft", is_flag=True, help="Watermark every page DRAFT; a draft is never delivered.")
@click.option("--deliver", is_flag=True, help="Approve and send the outputs to the config's delivery: entries.")
@click.option(
    "--force", is_flag=True, help="With --deliver: send again to destinations that already got these outputs."
)
@click.option(
    "--engine", help="Where journeys are built: memory, duckdb, spark or a Spark master URL (overrides engine:)."
)
@click.option(
    "--time-limit",
    type=click.FloatRange(1, 86_400),
    help="Seconds the whole report may take (default: report.time_limit, 900).",
)
def run(
    config: Path,
    period: str | None,
    out: Path,
    formats: str | None,
    locale: str | None,
    editions: str | None,
    draft: bool,
    deliver: bool,
    force: bool,
    engine: str | None,
    time_limit: float | None,
) -> None:
    """Render the report described by CONFIG (a report.yaml) and print the output paths."""
    # imported here: the pipeline loads pandas, which `roistory --help` need not pay for
    from roistory.runs import render_and_deliver

    paths, records = render_and_deliver(
        config,
        out,
        period=period,
        locale=locale,
        formats=_formats(formats),
        editions=_editions(editions),
        draft=draft,
        deliver=deliver,
        force=force,
        engine=engine,
        time_limit=time_limit,
    )
    _print_outputs(paths)
    if deliver and draft:
        click.echo("draft: nothing delivered", err=True)
    for record in records:
        to = ", ".join(record["recipients"]) or record["location"]
        click.echo(f"delivered: {record['destination']} -> {to}", err=True)


@contextmanager
def _bundled_example():
    with as_file(files("roistory.examples") / "acme") as folder:
        yield Path(folder)


@cli.command()
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, file_okay=False),
    default="out",
    show_default=True,
    help="Folder for the outputs.",
)
def demo(out: Path) -> None:
    """Render the bundled example report (HTML, PDF, JSON) and print the paths."""
    from roistory.runs import render_config  # loads pandas: not for `roistory --help`

    with _bundled_example() as folder:
        _print_outputs(render_config(folder / "report.yaml", out))


@cli.command()
@click.argument("config", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--period", help="Override report.period.")
def validate(config: Path, period: str | None) -> None:
    """Check CONFIG and its data; print findings; write nothing."""
    from roistory.config import load_config
    from roistory.delivery import check_destinations
    from roistory.limits import report_time_limit
    from roistory.pipeline import build_report
    from roistory.render import render_html

    loaded = load_config(config)
    check_destinations(loaded)  # delivery settings are config too
    with report_time_limit(loaded.report.time_limit):
        report = build_report(loaded, period=period, write_history=False)
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
        f"{'ok' if not warnings else 'check':<7} {source.name} ({source.type} -> {source.table}): {source.rows:,} "
        "rows, "
        f"{span}, {totals}, {warnings} {'warning' if warnings == 1 else 'warnings'}, {notes} "
        f"{'note' if notes == 1 else 'notes'}"
    )


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
def init(directory: Path) -> None:
    """Create a report project in DIRECTORY from the bundled example."""
    if directory.exists() and any(directory.iterdir()):
        raise ReportFailed(f"{directory}: exists and is not empty", 2)
    with _bundled_example() as folder:
        shutil.copytree(
            folder,
            directory,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__init__.py", "__pycache__", "generate.py"),
        )
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


from roistory.agency_commands import approve, batch, config, deliver, diff  # noqa: E402
from roistory.attribute_command import attribute  # noqa: E402
from roistory.history_command import history  # noqa: E402

for command in (attribute, history, batch, config, approve, deliver, diff):
    cli.add_command(command)


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


def _one_line(text: str) -> str:
    """Every error is one line on stderr: a message holding a newline (a quoted cell) is folded."""
    return " ".join(str(text).split())


def _usage_hint(exc: click.UsageError) -> str:
    path = exc.ctx.command_path if exc.ctx is not None else "roistory"
    return f" (see '{path} --help')"


def main() -> None:
    # a sum that overflows becomes "not measurable" with a data-quality finding
    # (roistory.metrics.finite_or_nan); numpy's own warning would only add noise on stderr
    warnings.filterwarnings("ignore", message="overflow encountered", category=RuntimeWarning)
    if pdf_worker.RENDERING_COMMANDS & set(sys.argv[1:2]):
        pdf_worker.prestart()  # (already started by the `roistory` command: roistory.launch)
    try:
        group = make_cli()
    except RoistoryError as exc:
        click.echo(f"Error: {_one_line(exc)}", err=True)
        sys.exit(exc.exit_code)
    try:
        # standalone_mode=False: click's own three-line usage errors become one line here
        code = group.main(prog_name="roistory", standalone_mode=False)
    except click.UsageError as exc:
        click.echo(f"Error: {_one_line(exc.format_message())}{_usage_hint(exc)}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"Error: {_one_line(exc.format_message())}", err=True)
        sys.exit(exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        click.echo("Error: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug, not bad input: one line unless --verbose
        if "-v" in sys.argv or "--verbose" in sys.argv:
            raise
        code = 2 if isinstance(exc, BadInputError) else 1
        blame = plugin_at_fault(exc)
        if blame:
            click.echo(f"Error: {blame} (run with --verbose for the traceback)", err=True)
        else:
            click.echo(
                f"Error: internal error {type(exc).__name__}: {_one_line(exc)} (run with --verbose for details)",
                err=True,
            )
        sys.exit(code)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
