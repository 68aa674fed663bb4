"""``roistory attribute``: attribution alone, on a CSV or Parquet touchpoints file.

::

    roistory attribute touchpoints.csv --conversions conversions.csv --model markov,linear
    roistory attribute sessions.parquet --model shapley --format json
    roistory attribute touchpoints.csv --conversions c.csv --model markov --param markov.order=2

The files are read and validated exactly like a report's sources (canonical
``touchpoints`` and ``conversions`` tables, :func:`roistory.sources.normalise_table`);
without ``--conversions`` the touchpoints must carry session-format
``conversion``/``revenue`` columns. Every journey — converting or not — goes
to the models (the data-driven ones learn from the journeys that did not
convert). Conversions without any touchpoint in the lookback are reported on
stderr and shown as their own segment, so totals still add up.

Bad input (missing columns, unparseable or mixed-zone timestamps, negative
revenue, an unknown model, a bad parameter) exits with code 2 and one line.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import sys
from pathlib import Path
from typing import Any

import click

from roistory.errors import ConfigError, DataError, RoistoryError
from roistory.safety import csv_safe, require_regular_file

LARGE_INPUT_BYTES = 50 * 2**20  # show progress from this file size on
FORMATS = ("table", "csv", "json")


class AttributeFailed(click.ClickException):
    """One line on stderr and the domain error's exit code (2 = bad input)."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def _parse_param(text: str) -> tuple[str, str, Any]:
    """``model.param=value`` with a YAML value (``markov.order=2``, ``position_based.weights=[0.3,0.4,0.3]``)."""
    import yaml

    name, sep, raw = text.partition("=")
    model, dot, param = name.strip().partition(".")
    if not sep or not dot or not model or not param:
        raise ConfigError(f"'{text}' is not model.param=value (e.g. markov.order=2)", key="--param")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw
    return model, param.strip(), value


def _source_type(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    raise DataError("unsupported file type: use a .csv or .parquet file", file=str(path))


def _read_table(path: Path, table: str, registry, timezone: str):
    from roistory.config import SourceConfig, config_from_dict
    from roistory.sources import normalise_table

    if not path.exists():
        raise DataError("file not found", file=str(path))
    require_regular_file(path)  # a FIFO would block the read forever
    kind = _source_type(path)
    options = {"delimiter": "\t"} if path.suffix.lower() == ".tsv" else {}
    source_dict = {"name": path.stem or table, "type": kind, "table": table, "path": str(path.resolve()), "options": options}
    source = SourceConfig(**source_dict)
    # a throwaway report config: the source types read relative to its folder
    config = config_from_dict({"report": {"period": "2026-01", "timezone": timezone}, "sources": [source_dict]})
    raw = registry.sources[kind].read(source, config)
    return normalise_table(raw, source, file=str(path), timezone=timezone)


def _check_models(names: list[str], params: dict[str, dict[str, Any]], registry) -> list:
    from roistory.attribution import resolve_params

    known = list(registry.models)
    models = []
    for name in names:
        if name not in registry.models:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f"; available: {', '.join(sorted(known))}"
            raise ConfigError(f"unknown attribution model '{name}'{hint}", key="--model")
        models.append(registry.models[name])
    for name in params:
        if name not in names:
            raise ConfigError(f"parameters for '{name}', which is not in --model", key=f"attribution.params.{name}")
    for model in models:
        resolve_params(model, params.get(model.id))  # bad parameters fail before any data is read
    return models


def _records(results: dict[str, Any], dimension: str) -> list[dict[str, Any]]:
    records = []
    for model_id, credits in results.items():
        for segment, row in credits.iterrows():
            records.append(
                {
                    "model": model_id,
                    "segment": {dimension: str(segment)},
                    "conversions": float(row["conversions"]),
                    "revenue": float(row["revenue"]),
                }
            )
    return records


def _table(results: dict[str, Any], labels: dict[str, str], dimension: str) -> str:
    lines = []
    for model_id, credits in results.items():
        total_conv = float(credits["conversions"].sum())
        total_rev = float(credits["revenue"].sum())
        width = max([len(dimension), 5, *(len(str(s)) for s in credits.index)])
        lines.append(f"{model_id} — {labels[model_id]}")
        lines.append(f"  {dimension:<{width}}  {'conversions':>12}  {'revenue':>16}  {'share':>7}")
        for segment, row in credits.sort_values("revenue", ascending=False).iterrows():
            share = row["revenue"] / total_rev if total_rev else (row["conversions"] / total_conv if total_conv else 0.0)
            lines.append(f"  {str(segment):<{width}}  {row['conversions']:>12,.2f}  {row['revenue']:>16,.2f}  {share:>7.1%}")
        lines.append(f"  {'total':<{width}}  {total_conv:>12,.2f}  {total_rev:>16,.2f}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _csv(records: list[dict[str, Any]], dimension: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["model", dimension, "conversions", "revenue"])
    for record in records:
        # segment names come from the data: a name like =HYPERLINK(...) must not run in a spreadsheet
        writer.writerow([record["model"], csv_safe(record["segment"][dimension]), repr(record["conversions"]), repr(record["revenue"])])
    return out.getvalue()


def _note(message: str) -> None:
    click.echo(f"note: {message}", err=True)


def run_attribute(
    touchpoints_path: Path,
    conversions_path: Path | None,
    model_names: list[str],
    *,
    dimension: str = "channel",
    lookback_days: int = 90,
    dormancy_days: int = 180,
    params: dict[str, dict[str, Any]] | None = None,
    timezone: str = "UTC",
    progress: bool | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Read, validate, build journeys and run the models: credits per model id, and the models' labels."""
    import pandas as pd

    from roistory.attribution import NO_TOUCHPOINTS, build_journeys, conversion_events, run_model
    from roistory.plugin_manager import build_registry
    from roistory.sources import TABLE_COLUMNS

    params = params or {}
    registry = build_registry()
    models = _check_models(model_names, params, registry)
    dimensions = [c for c, (kind, _) in TABLE_COLUMNS["touchpoints"].items() if kind == "str" and c != "person_id"]
    if dimension not in dimensions:
        raise ConfigError(f"'{dimension}' is not a touchpoints dimension; use one of {', '.join(dimensions)}", key="--dimension")

    size = touchpoints_path.stat().st_size if touchpoints_path.exists() else 0
    show = progress if progress is not None else size >= LARGE_INPUT_BYTES
    steps = ["read touchpoints", *(["read conversions"] if conversions_path else []), "build journeys", *(m.id for m in models)]
    bar = click.progressbar(length=len(steps), label="attribution", file=sys.stderr, show_pos=True) if show else None

    def step(name: str) -> None:
        if bar is not None:
            bar.label = name
            bar.update(1)

    try:
        if bar is not None:
            bar.__enter__()
            bar.label = steps[0]
            bar.render_progress()
        touchpoints = _read_table(touchpoints_path, "touchpoints", registry, timezone)
        step("read conversions" if conversions_path else "build journeys")
        conversions = None
        if conversions_path is not None:
            conversions = _read_table(conversions_path, "conversions", registry, timezone)
            step("build journeys")
        elif "conversion" not in touchpoints:
            raise DataError(
                "no conversions: pass --conversions FILE, or give the touchpoints a 'conversion' column (0/1)",
                file=str(touchpoints_path),
            )
        if dimension not in touchpoints:
            raise DataError(f"has no '{dimension}' column to attribute by", file=str(touchpoints_path), column=dimension)
        events = conversion_events(touchpoints, conversions)
        journeys, stats = build_journeys(
            touchpoints, events, dimension=dimension, lookback_days=lookback_days, dormancy_days=dormancy_days
        )
        del touchpoints
        results: dict[str, Any] = {}
        for model in models:
            step(model.id)
            credits = run_model(model, journeys, params.get(model.id))
            orphans = stats.unattributed
            if len(orphans):
                credits = pd.concat(
                    [
                        credits,
                        pd.DataFrame(
                            {"conversions": [float(len(orphans))], "revenue": [float(orphans["revenue"].sum())]},
                            index=pd.Index([NO_TOUCHPOINTS], name="segment"),
                        ),
                    ]
                )
            results[model.id] = credits
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)

    if len(stats.unattributed):
        _note(
            f"{len(stats.unattributed)} conversions had no touchpoint in the {lookback_days}-day lookback "
            f"(revenue {float(stats.unattributed['revenue'].sum()):,.2f}); shown as '{NO_TOUCHPOINTS}'"
        )
    if stats.touches_beyond_lookback:
        _note(f"{stats.touches_beyond_lookback} touchpoints came more than {lookback_days} days before their conversion and get no credit")
    if stats.reengaged_journeys:
        _note(f"{stats.reengaged_journeys} journeys restarted after more than {dormancy_days} days of inactivity")
    return results, {m.id: m.label for m in models}


@click.command("attribute")
@click.argument("touchpoints", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--conversions", "conversions", type=click.Path(path_type=Path, dir_okay=False), help="Conversions file (CSV or Parquet).")
@click.option("--model", "model", required=True, help="Comma-separated model ids, e.g. markov,linear (see `roistory models`).")
@click.option("--format", "fmt", default="table", show_default=True, help="table, csv or json.")
@click.option("--lookback-days", type=int, default=90, show_default=True, help="Touches this long before a conversion still count.")
@click.option("--dormancy-days", type=int, default=180, show_default=True, help="A gap this long starts a new journey.")
@click.option("--dimension", default="channel", show_default=True, help="Touchpoints column to credit: channel, campaign, ...")
@click.option("--param", "param", multiple=True, help="Model parameter as model.param=value, e.g. markov.order=2 (repeatable).")
@click.option("--timezone", default="UTC", show_default=True, help="Time zone of timestamps without one; zoned ones are converted to it.")
@click.option("--progress/--no-progress", default=None, help="Progress on stderr (default: for inputs over 50 MB).")
def attribute(
    touchpoints: Path,
    conversions: Path | None,
    model: str,
    fmt: str,
    lookback_days: int,
    dormancy_days: int,
    dimension: str,
    param: tuple[str, ...],
    timezone: str,
    progress: bool | None,
) -> None:
    """Attribute the conversions of a TOUCHPOINTS file (CSV or Parquet) with one or more models."""
    try:
        if fmt not in FORMATS:
            raise ConfigError(f"unknown format '{fmt}'; use table, csv or json", key="--format")
        for name, value in (("--lookback-days", lookback_days), ("--dormancy-days", dormancy_days)):
            if value <= 0:
                raise ConfigError(f"must be a positive number of days, got {value}", key=name)
        names = [m.strip() for m in model.split(",") if m.strip()]
        if not names:
            raise ConfigError("name at least one model", key="--model")
        params: dict[str, dict[str, Any]] = {}
        for text in param:
            model_id, name, value = _parse_param(text)
            params.setdefault(model_id, {})[name] = value
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"unknown time zone '{timezone}'", key="--timezone") from None
        results, labels = run_attribute(
            touchpoints,
            conversions,
            names,
            dimension=dimension,
            lookback_days=lookback_days,
            dormancy_days=dormancy_days,
            params=params,
            timezone=timezone,
            progress=progress,
        )
    except RoistoryError as exc:
        raise AttributeFailed(str(exc), exc.exit_code) from None
    records = _records(results, dimension)
    if fmt == "json":
        click.echo(json.dumps({"attribution": records}, indent=2))
    elif fmt == "csv":
        click.echo(_csv(records, dimension), nl=False)
    else:
        click.echo(_table(results, labels, dimension), nl=False)
