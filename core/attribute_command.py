"""``roistory attribute``: attribution alone, on a CSV or Parquet touchpoints file.

::

    roistory attribute touchpoints.csv --conversions conversions.csv --model markov,linear
    roistory attribute sessions.parquet --model shapley --format json
    roistory attribute touchpoints.csv --conversions c.csv --model markov --param markov.order=2

The files are read and validated exactly like a report's sources (canonical
``touchpoints`` and ``conversions`` tables, :func:`roistory.sources.normalise_table`),
and attributed by the same functions as ``roistory run``
(:mod:`roistory.attribution_run`), with the report's defaults;
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
import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from roistory.defaults import DORMANCY_DAYS, LOOKBACK_DAYS
from roistory.errors import ConfigError, DataError, RoistoryError
from roistory.quality import mask_personal_data
from roistory.safety import csv_safe, require_existing_file

if TYPE_CHECKING:
    import pandas as pd

    from roistory.config import AttributionConfig, Config
    from roistory.registry import Registry

LARGE_INPUT_BYTES = 50 * 2**20  # show progress from this file size on
FORMATS = ("table", "csv", "json")


class AttributeFailed(click.ClickException):
    """One line on stderr and the domain error's exit code (2 = bad input)."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def _parse_param(text: str) -> tuple[str, str, Any]:
    """``model.param=value`` with a YAML value (``markov.order=2``, ``position_based.weights=[0.3,0.4,0.3]``)."""
    import yaml  # the command's imports load when it runs, so `roistory --help` stays fast

    name, sep, raw = text.partition("=")
    model, dot, param = name.strip().partition(".")
    if not sep or not dot or not model or not param:
        raise ConfigError(f"'{text}' is not model.param=value (e.g. markov.order=2)", key="--param")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw
    except RecursionError:
        raise ConfigError(f"the value of '{name.strip()}' is nested too deeply", key="--param") from None
    return model, param.strip(), value


def attribution_settings(
    names: list[str], params: dict[str, dict[str, Any]], lookback_days: int, dormancy_days: int
) -> AttributionConfig:
    """The options as a report's ``attribution:`` settings, checked by the same schema."""
    from pydantic import ValidationError  # loads when the command runs, not for `roistory --help`

    from roistory.config import AttributionConfig

    try:
        return AttributionConfig(models=names, params=params, lookback_days=lookback_days, dormancy_days=dormancy_days)
    except ValidationError as exc:
        error = exc.errors()[0]
        option = "--model" if error["loc"][0] == "models" else f"--{str(error['loc'][0]).replace('_', '-')}"
        raise ConfigError(f"{error['msg']}, got {error.get('input')!r}", key=option) from None


def _source_type(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    raise DataError("unsupported file type: use a .csv or .parquet file", file=str(path))


def _source(path: Path, table: str) -> dict[str, Any]:
    options = {"delimiter": "\t"} if path.suffix.lower() == ".tsv" else {}
    return {
        "name": path.stem or table,
        "type": _source_type(path),
        "table": table,
        "path": os.path.abspath(path),  # not resolve(): a symlink loop is said by the file check
        "options": options,
    }


def _read_table(config: Config, index: int, registry: Registry) -> pd.DataFrame:
    source = config.sources[index]
    path = Path(source.path or "")
    require_existing_file(path)  # a FIFO would block the read forever
    from roistory.sources import normalise_table  # pandas: loads when the command runs

    raw = registry.sources[source.type].read(source, config)
    return normalise_table(raw, source, file=str(path), timezone=config.report.timezone)


def _table(results: dict[str, Any], labels: dict[str, str], dimension: str) -> str:
    lines = []
    for model_id, credits in results.items():
        total_conv = float(credits["conversions"].sum())
        total_rev = float(credits["revenue"].sum())
        names = {s: mask_personal_data(str(s)) for s in credits.index}  # as the JSON and CSV records
        width = max([len(dimension), 5, *(len(name) for name in names.values())])
        lines.append(f"{model_id} — {labels[model_id]}")
        lines.append(f"  {dimension:<{width}}  {'conversions':>12}  {'revenue':>16}  {'share':>7}")
        for segment, row in credits.sort_values("revenue", ascending=False).iterrows():
            share = (
                row["revenue"] / total_rev if total_rev else (row["conversions"] / total_conv if total_conv else 0.0)
            )
            lines.append(
                f"  {names[segment]:<{width}}  {row['conversions']:>12,.2f}  {row['revenue']:>16,.2f}  {share:>7.1%}"
            )
        lines.append(f"  {'total':<{width}}  {total_conv:>12,.2f}  {total_rev:>16,.2f}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _csv(records: list[dict[str, Any]], dimension: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["model", dimension, "conversions", "revenue"])
    for record in records:
        # segment names come from the data: a name like =HYPERLINK(...) must not run in a spreadsheet
        writer.writerow(
            [
                record["model"],
                csv_safe(record["segment"][dimension]),
                repr(record["conversions"]),
                repr(record["revenue"]),
            ]
        )
    return out.getvalue()


@contextmanager
def _progress(steps: list[str], show: bool) -> Iterator[Callable[[str], None]]:
    """A progress bar on stderr naming the current step (or nothing); yields "next step"."""
    if not show:
        yield lambda name: None
        return
    bar = click.progressbar(length=len(steps), label="attribution", file=sys.stderr, show_pos=True)
    with bar:
        bar.label = steps[0]
        bar.render_progress()

        def step(name: str) -> None:
            bar.label = name
            bar.update(1)

        yield step


def run_attribute(
    touchpoints_path: Path,
    conversions_path: Path | None,
    settings: AttributionConfig,
    *,
    dimension: str = "channel",
    timezone: str = "UTC",
    progress: bool | None = None,
    engine: str | None = None,
    sql_input: Any = None,
    since: Any = None,
    until: Any = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Read, validate, build journeys and run the models: credits per model id, and the models' labels.

    ``engine`` is ``--engine`` (auto: DuckDB reads files over 512 MiB itself);
    ``sql_input`` a :class:`roistory.engines.SqlInput` (the rules run in that database).
    ``since``/``until`` (timestamps) keep the events in [since, until); a file engine reads only those.
    """
    # the engine (pandas, the plugins) loads when the command runs, not for `roistory --help`
    from roistory.attribution import conversion_events
    from roistory.attribution_run import (
        check_models,
        journeys_by_dimension,
        model_credits,
    )
    from roistory.config import files_config
    from roistory.engines import FileInput, credits_for, engine_from_option, resolve_backend
    from roistory.plugin_manager import build_registry
    from roistory.sources import TABLE_COLUMNS

    registry = build_registry()
    names = settings.models or []
    models = check_models(
        names, {m: p for m, p in settings.params.items() if m in names}, registry, key=lambda i: "--model"
    )
    for name in settings.params:
        if name not in names:
            raise ConfigError(f"parameters for '{name}', which is not in --model", key=f"attribution.params.{name}")
    dimensions = [c for c, (kind, _) in TABLE_COLUMNS["touchpoints"].items() if kind == "str" and c != "person_id"]
    if dimension not in dimensions:
        raise ConfigError(
            f"'{dimension}' is not a touchpoints dimension; use one of {', '.join(dimensions)}", key="--dimension"
        )
    engine_settings = engine_from_option(engine)
    size = 0
    if sql_input is None:
        size = touchpoints_path.stat().st_size if touchpoints_path.exists() else 0
        backend = resolve_backend(engine_settings.backend, file_bytes=size)
        engine_settings = engine_settings.model_copy(update={"backend": backend})
    if sql_input is not None or engine_settings.backend != "memory":
        # the rules run where the data is (DuckDB over the files, Spark, the database);
        # only the path table and the per-channel sums come back
        source = sql_input if sql_input is not None else FileInput(touchpoints_path, conversions_path, since, until)
        with _progress(["attribute"], bool(progress)) as step:
            results, stats = credits_for(
                source,
                engine_settings,
                models,
                settings.params,
                dimension=dimension,
                lookback_days=settings.lookback_days,
                dormancy_days=settings.dormancy_days,
            )
            step("attribute")
        return _noted(results, stats, settings), {m.id: m.label for m in models}

    sources = [_source(touchpoints_path, "touchpoints")]
    if conversions_path is not None:
        sources.append(_source(conversions_path, "conversions"))
    try:
        config = files_config(sources, timezone=timezone)
    except ConfigError as exc:
        if exc.key == "report.timezone":  # the schema's check, reported against the option
            raise ConfigError(exc.message, key="--timezone") from None
        raise

    steps = [
        "read touchpoints",
        *(["read conversions"] if conversions_path else []),
        "build journeys",
        *(m.id for m in models),
    ]
    with _progress(steps, progress if progress is not None else size >= LARGE_INPUT_BYTES) as step:
        touchpoints = _read_table(config, 0, registry)
        step("read conversions" if conversions_path else "build journeys")
        conversions = None
        if conversions_path is not None:
            conversions = _read_table(config, 1, registry)
            step("build journeys")
        elif "conversion" not in touchpoints:
            raise DataError(
                "no conversions: pass --conversions FILE, or give the touchpoints a 'conversion' column (0/1)",
                file=str(touchpoints_path),
            )
        if dimension not in touchpoints:
            raise DataError(
                f"has no '{dimension}' column to attribute by", file=str(touchpoints_path), column=dimension
            )
        touchpoints = _in_range(touchpoints, since, until)
        conversions = _in_range(conversions, since, until)
        events = conversion_events(touchpoints, conversions)
        journeys, stats = journeys_by_dimension(touchpoints, events, [dimension], settings, engine_settings)[dimension]
        del touchpoints
        results: dict[str, Any] = {}
        for model in models:
            step(model.id)
            provider = registry.provider("model", model.id)
            results[model.id] = model_credits(model, journeys, stats, settings.params.get(model.id), provider=provider)

    return _noted(results, stats, settings), {m.id: m.label for m in models}


def _in_range(table: Any, since: Any, until: Any) -> Any:
    """The rows of ``table`` (or None) whose timestamp lies in [since, until): the file engines' date-range rule."""
    if table is None or (since is None and until is None):
        return table
    keep = table["timestamp"].notna()
    if since is not None:
        keep &= table["timestamp"] >= since
    if until is not None:
        keep &= table["timestamp"] < until
    return table[keep]


def _timestamp_option(value: str | None, option: str) -> Any:
    """``--since``/``--until``: an ISO date or date-time."""
    if value is None:
        return None
    import pandas as pd

    try:
        stamp = pd.Timestamp(value)
    except ValueError:
        stamp = pd.NaT
    if pd.isna(stamp):
        raise ConfigError(f"'{value}' is not a date (use YYYY-MM-DD or YYYY-MM-DDTHH:MM)", key=option)
    return stamp.tz_localize(None) if stamp.tzinfo else stamp


def _noted(results: dict[str, Any], stats: Any, settings: AttributionConfig) -> dict[str, Any]:
    """What building the journeys left out, as notes on stderr (the report's own wording)."""
    from roistory.attribution_run import journey_findings

    for finding in journey_findings(stats, settings, money=lambda revenue: f"revenue {revenue:,.2f}"):
        click.echo(f"note: {finding.message}", err=True)
    return results


@click.command("attribute")
@click.argument("touchpoints")
@click.option(
    "--conversions",
    "conversions",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Conversions file (CSV or Parquet).",
)
@click.option(
    "--model", "model", required=True, help="Comma-separated model ids, e.g. markov,linear (see `roistory models`)."
)
@click.option("--format", "fmt", default="table", show_default=True, help="table, csv or json.")
@click.option(
    "--lookback-days",
    type=int,
    default=LOOKBACK_DAYS,
    show_default=True,
    help="Touches this long before a conversion still count.",
)
@click.option(
    "--dormancy-days", type=int, default=DORMANCY_DAYS, show_default=True, help="A gap this long starts a new journey."
)
@click.option(
    "--dimension", default="channel", show_default=True, help="Touchpoints column to credit: channel, campaign, ..."
)
@click.option(
    "--param", "param", multiple=True, help="Model parameter as model.param=value, e.g. markov.order=2 (repeatable)."
)
@click.option(
    "--timezone",
    default="UTC",
    show_default=True,
    help="Time zone of timestamps without one; zoned ones are converted to it.",
)
@click.option("--progress/--no-progress", default=None, help="Progress on stderr (default: for inputs over 50 MB).")
@click.option("--engine", help="memory, duckdb, spark or a Spark master URL (default: DuckDB for files over 512 MiB).")
@click.option(
    "--since", help="Keep events at or after this date (YYYY-MM-DD[THH:MM]); DuckDB and Spark read only those."
)
@click.option("--until", help="Keep events before this date (exclusive).")
@click.option(
    "--query", "query", help="With a database URL as TOUCHPOINTS: the touchpoints query (or table) run there."
)
@click.option("--conversions-query", help="With a database URL as TOUCHPOINTS: the conversions query (or table).")
def attribute(
    touchpoints: str,
    conversions: Path | None,
    model: str,
    fmt: str,
    lookback_days: int,
    dormancy_days: int,
    dimension: str,
    param: tuple[str, ...],
    timezone: str,
    progress: bool | None,
    engine: str | None,
    since: str | None,
    until: str | None,
    query: str | None,
    conversions_query: str | None,
) -> None:
    """Attribute the conversions of a TOUCHPOINTS file (CSV or Parquet) with one or more models.

    TOUCHPOINTS may also be a PostgreSQL URL with --query: the journeys are then built in that database.
    """
    try:
        sql_input = None
        if "://" in touchpoints:
            from roistory.engines import SqlInput

            if not query:
                raise ConfigError(
                    "a database URL as TOUCHPOINTS needs --query (the touchpoints query or table)", key="--query"
                )
            sql_input = SqlInput(touchpoints, query, conversions_query)
            if since or until:
                raise ConfigError(
                    "--since/--until filter files; with a database, put the date range in --query", key="--since"
                )
        if fmt not in FORMATS:
            raise ConfigError(f"unknown format '{fmt}'; use table, csv or json", key="--format")
        params: dict[str, dict[str, Any]] = {}
        for text in param:
            model_id, name, value = _parse_param(text)
            params.setdefault(model_id, {})[name] = value
        names = [m.strip() for m in model.split(",") if m.strip()]
        settings = attribution_settings(names, params, lookback_days, dormancy_days)
        since_at, until_at = _timestamp_option(since, "--since"), _timestamp_option(until, "--until")
        if since_at is not None and until_at is not None and since_at >= until_at:
            raise ConfigError(f"{until} is not after --since {since}: no event could be kept", key="--until")
        results, labels = run_attribute(
            Path(touchpoints),
            conversions,
            settings,
            dimension=dimension,
            timezone=timezone,
            progress=progress,
            engine=engine,
            sql_input=sql_input,
            since=since_at,
            until=until_at,
        )
    except RoistoryError as exc:
        raise AttributeFailed(str(exc), exc.exit_code) from None
    from roistory.attribution_run import attribution_records  # loaded by run_attribute already

    records = attribution_records({model_id: {dimension: credits} for model_id, credits in results.items()})
    if fmt == "json":
        from roistory.json_output import finite

        click.echo(json.dumps(finite({"attribution": records}), indent=2, allow_nan=False))
    elif fmt == "csv":
        click.echo(_csv(records, dimension), nl=False)
    else:
        click.echo(_table(results, labels, dimension), nl=False)
