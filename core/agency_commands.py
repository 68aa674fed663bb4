"""Month-end commands for agencies: ``batch``, ``config``, ``approve``, ``deliver`` and ``diff``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from roistory.batch import BatchOptions, BatchResult, expand_targets, run_batch
from roistory.config import explain_config
from roistory.delivery import deliver_run
from roistory.diff import DEFAULT_THRESHOLD, diff_runs, diff_text
from roistory.errors import BadInputError
from roistory.review import Run
from roistory.review import approve as approve_run

FORMATS = ("html", "pdf", "json")


def _list_option(value: str | None, allowed: tuple[str, ...] | None = None, name: str = "") -> list[str] | None:
    if not value:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if allowed and v not in allowed]
    if bad:
        raise click.BadParameter(f"unknown value '{bad[0]}'; use {', '.join(allowed or ())}", param_hint=name)
    return items


def _summary(results: list[BatchResult]) -> None:
    """client, status, pages, seconds, outputs (or the reason it failed), aligned."""
    rows = [("client", "status", "pages", "seconds", "outputs")]
    for r in results:
        detail = ", ".join(r.outputs.values()) if r.ok else r.error or ""
        if r.delivered:
            detail += f" (delivered: {', '.join(r.delivered)})"
        pages = "" if r.pages is None else str(r.pages)
        rows.append((r.client, "ok" if r.ok else "FAILED", pages, f"{r.seconds:.1f}", detail))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2].rjust(widths[2]), row[3].rjust(widths[3])]
        click.echo("  ".join([*cells, row[4]]).rstrip())


@click.command()
@click.argument("targets", nargs=-1, required=True)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, file_okay=False),
    default="out",
    show_default=True,
    help="Folder for the outputs: OUT/<client>/.",
)
@click.option("--jobs", "-j", type=click.IntRange(1), default=2, show_default=True, help="Reports rendered at once.")
@click.option("--period", help="Every client's report.period, e.g. 2026-11.")
@click.option("--locale", help="Every client's report.locale.")
@click.option("--format", "formats", help="Comma-separated: html,pdf,json (default: each config's formats).")
@click.option("--edition", "editions", help="Comma-separated editions: one document per edition for every client.")
@click.option("--draft", is_flag=True, help="Watermark every page DRAFT; drafts are never delivered.")
@click.option("--deliver", is_flag=True, help="Approve and deliver each client's outputs after it renders.")
@click.option("--force", is_flag=True, help="With --deliver: send again what was already delivered.")
def batch(
    targets: tuple[str, ...],
    out: Path,
    jobs: int,
    period: str | None,
    locale: str | None,
    formats: str | None,
    editions: str | None,
    draft: bool,
    deliver: bool,
    force: bool,
) -> None:
    """Render many reports (one per client) in parallel, each into OUT/<client>/.

    TARGETS are report.yaml files, quoted globs ('clients/*/report.yaml') or
    batch files (one config path or glob per line, relative to the file). The
    client is the config's report.client, else its folder's name. A failing
    client does not stop the others; a summary table follows. Exit code 1 if any failed.
    """
    configs = expand_targets(list(targets))
    options = BatchOptions(
        period=period,
        locale=locale,
        formats=_list_option(formats, FORMATS, "--format"),
        editions=_list_option(editions),
        draft=draft,
        deliver=deliver,
        force=force,
    )
    from rich.console import Console  # loads only for a batch
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    if console.is_terminal:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("rendering", total=len(configs))

            def done(result: BatchResult) -> None:
                progress.advance(task)
                if not result.ok:
                    progress.console.print(f"FAILED {result.client}: {result.error}", markup=False, highlight=False)

            results = run_batch(configs, out, jobs, options, on_done=done)
    else:
        finished: list[BatchResult] = []

        def done(result: BatchResult) -> None:
            finished.append(result)
            outcome = "ok" if result.ok else f"FAILED: {result.error}"
            click.echo(f"[{len(finished)}/{len(configs)}] {result.client} {outcome}", err=True)

        results = run_batch(configs, out, jobs, options, on_done=done)
    _summary(results)
    failed = sum(not r.ok for r in results)
    click.echo(f"{len(results) - failed} of {len(results)} reports rendered")
    if failed:
        sys.exit(1)


@click.command()
@click.argument("config_path", metavar="CONFIG", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
def config(config_path: Path, as_json: bool) -> None:
    """Print CONFIG's effective settings (after extends:) and the file each value came from."""
    files, rows = explain_config(config_path)
    if as_json:
        values = [{"key": k, "value": v, "from": origin} for k, v, origin in rows]
        click.echo(json.dumps({"files": [str(f) for f in files], "values": values}, indent=2, ensure_ascii=False))
        return
    click.echo(f"# {files[0]}" + "".join(f"\n#   extends {f}" for f in files[1:]))
    texts = [(key, json.dumps(value, ensure_ascii=False)) for key, value, _ in rows]
    width = min(70, max(len(key) + len(text) + 2 for key, text in texts))
    for (key, text), (_, _, origin) in zip(texts, rows, strict=True):
        click.echo(f"{f'{key}: {text}':<{width}}  # {origin or 'default'}")


@click.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--by", help="Who reviewed it (default: the user name).")
@click.option("--note", help="A note kept with the approval.")
def approve(run: Path, by: str | None, note: str | None) -> None:
    """Mark the reviewed run RUN (an output folder or manifest) as approved for delivery."""
    loaded = Run.load(run)
    record = approve_run(loaded, by=by, note=note)
    click.echo(f"approved {loaded.name} by {record['approved_by']} ({', '.join(record['outputs'])})")


@click.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Send again to destinations that already got these outputs.")
@click.option("--dry-run", is_flag=True, help="Check and show what would be sent; send and record nothing.")
def deliver(run: Path, force: bool, dry_run: bool) -> None:
    """Send the approved run RUN through its config's delivery: entries, and record it."""
    records, skipped = deliver_run(Run.load(run), force=force, dry_run=dry_run)
    for key in skipped:
        click.echo(f"skipped {key}: already delivered (use --force to send again)", err=True)
    verb = "would deliver" if dry_run else "delivered"
    for record in records:
        to = ", ".join(record["recipients"]) or record["location"]
        click.echo(f"{verb}: {record['destination']} -> {to} [{record['location']}]")


@click.command()
@click.argument("run_a", type=click.Path(path_type=Path))
@click.argument("run_b", type=click.Path(path_type=Path))
@click.option(
    "--threshold",
    type=click.FloatRange(0),
    default=DEFAULT_THRESHOLD,
    show_default=True,
    help="Relative change below which a metric has not moved.",
)
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
def diff(run_a: Path, run_b: Path, threshold: float, output: str) -> None:
    """Explain what changed from RUN_A to RUN_B (output folders or manifests): metrics, inputs, config, versions."""
    if run_a == run_b:
        raise BadInputError("RUN_A and RUN_B are the same run")
    result = diff_runs(run_a, run_b, threshold)
    click.echo(json.dumps(result, indent=2, ensure_ascii=False) if output == "json" else diff_text(result))
