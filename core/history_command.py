"""``roistory history``: what the history store holds, per source and month.

::

    roistory history report.yaml              # the store report.yaml names (history.path)
    roistory history data/history.duckdb      # a store file directly
    roistory history report.yaml --format json
    roistory history report.yaml --drop google_ads           # forget a source
    roistory history report.yaml --drop google_ads:2026-09   # or one of its months
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from roistory.errors import ConfigError


def _store_path(target: Path) -> tuple[Path, set[str] | None]:
    """The store's path and the sources the config names (None: a store file was given)."""
    if target.suffix.lower() in (".yaml", ".yml"):
        from roistory.config import load_config
        from roistory.history import HistoryConfig, history_settings, store_location

        config = load_config(target)
        if history_settings(config) is None:  # the store a run would make once history is turned on
            settings = config.history.model_copy(update={"enabled": True}) if config.history else HistoryConfig()
            config = config.model_copy(update={"history": settings})
        return store_location(config), {s.name for s in config.sources}
    return target, None


@click.command("history")
@click.argument("target", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True, help="Output format."
)
@click.option(
    "--drop", "drop_spec", metavar="SOURCE[:YYYY-MM]", help="Remove a source, or one month of it, from the store."
)
def history(target: Path, fmt: str, drop_spec: str | None) -> None:
    """List what the history store of TARGET (a report.yaml or a .duckdb file) holds, per source and month."""
    from roistory.history import drop, list_stored

    path, configured = _store_path(target)
    key = "history.path" if configured is not None else None
    if not path.exists():
        if target.suffix.lower() not in (".yaml", ".yml"):
            raise ConfigError("file not found", file=str(path))
        click.echo(f"No history stored yet: {path} is created by the first `roistory run`.")
        return
    if drop_spec:
        source, _, month = drop_spec.partition(":")
        removed = drop(path, source, month or None, key=key)
        click.echo(f"Removed {removed:,} rows of {drop_spec} from {path}.")
        return
    stored = list_stored(path, key=key)
    if fmt == "json":
        click.echo(json.dumps({"store": str(path), "months": [m.as_json() for m in stored]}, indent=2))
        return
    if not stored:
        click.echo(f"{path}: empty.")
        return
    headers = ("source", "table", "month", "rows", "loaded at", "")
    lines = [
        (
            m.source,
            m.table,
            m.month,
            f"{m.rows:,}",
            m.loaded_at.strftime("%Y-%m-%d %H:%M"),
            "" if configured is None or m.source in configured else "(not in the config)",
        )
        for m in stored
    ]
    widths = [max(len(str(row[i])) for row in [headers, *lines]) for i in range(len(headers))]
    click.echo(f"{path}")
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in lines:
        cells = [
            str(c).rjust(w) if i == 3 else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        click.echo("  ".join(cells).rstrip())
    sources = sorted({m.source for m in stored})
    click.echo(f"{len(stored)} source-months, {sum(m.rows for m in stored):,} rows, {len(sources)} sources.")


def register_commands(cli: click.Group) -> None:
    """Usable as a ``register_commands`` hook implementation: ``cli.add_command(history)``."""
    cli.add_command(history)
