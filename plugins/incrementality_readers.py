"""Readers of measured incrementality (docs/incrementality.md): roistory's own CSV shape,
and the tables Robyn, PyMC-Marketing and Google Meridian export.

Each returns the canonical table of :data:`roistory.api.INCREMENTALITY_COLUMNS`
indexed by the file's line number; the core parses and checks the values.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from roistory.api import ConfigError, DataError, IncrementalityReader, hookimpl

MMM_KPIS = ("revenue", "conversions")


def _read(path: Path) -> pd.DataFrame:
    """A CSV as text, indexed by line number (the header is line 1)."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read as CSV: {str(exc).splitlines()[0]}", file=str(path)) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.index = pd.RangeIndex(2, len(frame) + 2)
    return frame


def _option(item, name: str, default=None, *, required: bool = False):
    value = item.options.get(name, default)
    if required and value is None:
        raise ConfigError(
            f"the '{item.type}' reader needs options.{name}", key=f"incrementality[{item.name}].options.{name}"
        )
    return value


def _kpi_column(item) -> str:
    kpi = _option(item, "kpi", "revenue")
    if kpi not in MMM_KPIS:
        raise ConfigError(
            f"options.kpi is one of {', '.join(MMM_KPIS)}, got {kpi!r}", key=f"incrementality[{item.name}].options.kpi"
        )
    return f"incremental_{kpi}"


def _require(frame: pd.DataFrame, columns: tuple[str, ...], path: Path, what: str) -> None:
    for column in columns:
        if column not in frame:
            raise DataError(
                f"not {what}: column '{column}' is missing (columns: {', '.join(frame.columns)})", file=str(path)
            )


def _numbers(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    values = pd.to_numeric(frame[column].str.strip().replace({"": None, "NA": None}), errors="coerce")
    bad = values.isna() & ~frame[column].str.strip().isin(["", "NA"])
    if bad.any():
        raise DataError(
            f"'{frame[column].loc[bad.idxmax()]}' is not a number", file=str(path), row=int(bad.idxmax()), column=column
        )
    return values


# --------------------------------------------------------------------------
# roistory's own shape: one row per measured channel
# --------------------------------------------------------------------------


def read_csv_results(item, config) -> pd.DataFrame:
    """``type: csv``: the canonical columns, or any headers renamed with ``options.columns``."""
    frame = _read(config.resolve(item.path))
    return frame.rename(columns=_option(item, "columns", {}))


# --------------------------------------------------------------------------
# Robyn (R, Meta): pareto_aggregated.csv or pareto_alldecomp_matrix.csv
# --------------------------------------------------------------------------


def _one_model(frame: pd.DataFrame, item, path: Path) -> pd.DataFrame:
    wanted = _option(item, "solID")
    models = list(dict.fromkeys(frame["solID"]))
    if wanted is None:
        if len(models) > 1:
            raise ConfigError(
                f"{path} holds {len(models)} Robyn models ({', '.join(models[:3])}…): choose one with options.solID",
                key=f"incrementality[{item.name}].options.solID",
            )
        wanted = models[0] if models else None
    chosen = frame[frame["solID"] == str(wanted)]
    if chosen.empty:
        raise DataError(f"no rows for solID '{wanted}'", file=str(path), column="solID")
    return chosen


def read_robyn(item, config) -> pd.DataFrame:
    """``type: robyn``: Robyn's ``pareto_aggregated.csv`` (one row per model ``solID`` and
    variable ``rn``: ``xDecompAgg`` the variable's summed effect over the modelling window,
    ``xDecompPerc`` its share of the total) or ``pareto_alldecomp_matrix.csv`` (one row per
    date ``ds``, one column per variable). Media variables are the rows with ``total_spend``
    unless ``options.channels`` maps variable names to channels; the aggregated file has no
    dates, so ``options.window_start``/``window_end`` give the model's window."""
    path = config.resolve(item.path)
    frame = _read(path)
    column = _kpi_column(item)
    channels: dict[str, str] = _option(item, "channels", {}) or {}
    if "rn" in frame:
        _require(frame, ("solID", "rn", "xDecompAgg", "xDecompPerc"), path, "a Robyn pareto_aggregated.csv")
        chosen = _one_model(frame, item, path)
        if channels:
            media = chosen[chosen["rn"].isin(channels)]
        elif "total_spend" in chosen:
            media = chosen[chosen["total_spend"].str.strip().replace("NA", "") != ""]
        else:
            raise ConfigError(
                "name the media variables with options.channels ({rn: channel})",
                key=f"incrementality[{item.name}].options.channels",
            )
        return pd.DataFrame(
            {
                "name": f"Robyn {chosen['solID'].iloc[0]}",
                "channel": media["rn"].map(lambda rn: channels.get(rn, rn)),
                "method": "mmm",
                "period_start": str(_option(item, "window_start", required=True)),
                "period_end": str(_option(item, "window_end", required=True)),
                column: _numbers(media, "xDecompAgg", path),
                "share": _numbers(media, "xDecompPerc", path),
            },
            index=media.index,
        )
    _require(frame, ("ds", "dep_var", "solID"), path, "a Robyn pareto_aggregated.csv or pareto_alldecomp_matrix.csv")
    if not channels:
        raise ConfigError(
            "name the media columns with options.channels ({column: channel})",
            key=f"incrementality[{item.name}].options.channels",
        )
    chosen = _one_model(frame, item, path)
    _require(chosen, tuple(channels), path, "a Robyn decomposition with these media variables")
    dates = pd.to_datetime(chosen["ds"], format="ISO8601", errors="coerce")
    if dates.isna().any():
        raise DataError(
            f"'{chosen['ds'].loc[dates.isna().idxmax()]}' is not a date",
            file=str(path),
            row=int(dates.isna().idxmax()),
            column="ds",
        )
    total = _numbers(chosen, "dep_var", path).sum()
    rows = []
    for variable, channel in channels.items():
        effect = float(_numbers(chosen, variable, path).sum())
        rows.append({"channel": channel, column: effect, "share": effect / total if total else None})
    result = pd.DataFrame(rows, index=[int(chosen.index[0])] * len(rows))
    return result.assign(
        name=f"Robyn {chosen['solID'].iloc[0]}",
        method="mmm",
        period_start=dates.min().date().isoformat(),
        period_end=dates.max().date().isoformat(),
    )


# --------------------------------------------------------------------------
# PyMC-Marketing: compute_channel_contribution_original_scale(), exported long
# --------------------------------------------------------------------------

POSTERIOR_INTERVAL = (0.03, 0.97)  # a 94% interval, ArviZ's default probability, equal-tailed


def read_pymc_marketing(item, config) -> pd.DataFrame:
    """``type: pymc_marketing``: ``mmm.compute_channel_contribution_original_scale()``
    exported with ``.to_dataframe(name=...).reset_index().to_csv(...)``: columns ``date``,
    ``channel``, the contribution (``options.value_column``, else the one other column) and,
    for posterior draws, ``chain`` and ``draw``. Each draw's contributions are summed over
    the dates; the result is their mean with a 94% interval (3rd to 97th percentile)."""
    path = config.resolve(item.path)
    frame = _read(path)
    _require(frame, ("date", "channel"), path, "a PyMC-Marketing channel contribution table")
    draws = [c for c in ("chain", "draw") if c in frame]
    value = _option(item, "value_column")
    if value is None:
        others = [c for c in frame.columns if c not in ("date", "channel", *draws)]
        if len(others) != 1:
            raise ConfigError(
                f"{path}: name the contribution column with options.value_column (one of "
                f"{', '.join(others) or 'none'})",
                key=f"incrementality[{item.name}].options.value_column",
            )
        value = others[0]
    _require(frame, (value,), path, "a PyMC-Marketing channel contribution table")
    dates = pd.to_datetime(frame["date"], format="ISO8601", errors="coerce")
    if dates.isna().any():
        raise DataError(
            f"'{frame['date'].loc[dates.isna().idxmax()]}' is not a date",
            file=str(path),
            row=int(dates.isna().idxmax()),
            column="date",
        )
    parsed = frame.assign(_value=_numbers(frame, value, path), _date=dates, _line=frame.index)
    per_draw = parsed.groupby(["channel", *draws], sort=False)["_value"].sum()
    grouped = per_draw.groupby(level="channel", sort=False)
    window = parsed.groupby("channel", sort=False).agg(
        start=("_date", "min"), end=("_date", "max"), line=("_line", "min")
    )
    low, high = POSTERIOR_INTERVAL
    result = pd.DataFrame(
        {
            "channel": window.index,
            "method": "mmm",
            "name": _option(item, "label", "PyMC-Marketing"),
            "period_start": window["start"].dt.date.astype(str).to_numpy(),
            "period_end": window["end"].dt.date.astype(str).to_numpy(),
            _kpi_column(item): grouped.mean().reindex(window.index).to_numpy(),
        },
        index=window["line"].to_numpy(),
    )
    if draws:
        result["ci_low"] = grouped.quantile(low).reindex(window.index).to_numpy()
        result["ci_high"] = grouped.quantile(high).reindex(window.index).to_numpy()
    return result


# --------------------------------------------------------------------------
# Google Meridian: the scenario planner's MediaOutcome table
# --------------------------------------------------------------------------

MERIDIAN_TOTAL_ROWS = {"baseline", "all channels"}


def read_meridian(item, config) -> pd.DataFrame:
    """``type: meridian``: the ``MediaOutcome`` table of Meridian's scenario planner
    (``Channel``, ``Incremental Outcome``, ``Contribution Share``, ``Analysis Date Start``,
    ``Analysis Date End``; one row per channel and analysis period). The ``baseline`` and
    ``All Channels`` rows are totals, not channels, and are left out. ``options.share_percent:
    true`` when the share is written in percent (25 for 25%)."""
    path = config.resolve(item.path)
    frame = _read(path)
    needed = ("Channel", "Incremental Outcome", "Analysis Date Start", "Analysis Date End")
    _require(frame, needed, path, "a Meridian MediaOutcome table")
    channels = frame[~frame["Channel"].str.strip().str.lower().isin(MERIDIAN_TOTAL_ROWS)]
    result = pd.DataFrame(
        {
            "name": _option(item, "label", "Meridian"),
            "channel": channels["Channel"],
            "method": "mmm",
            "period_start": channels["Analysis Date Start"],
            "period_end": channels["Analysis Date End"],
            _kpi_column(item): channels["Incremental Outcome"],
        },
        index=channels.index,
    )
    if "Contribution Share" in channels:
        share = _numbers(channels, "Contribution Share", path)
        result["share"] = share / 100 if _option(item, "share_percent", False) else share
    return result


READERS = [
    IncrementalityReader("csv", read_csv_results, "Lift tests, holdouts or MMM results in roistory's CSV shape."),
    IncrementalityReader("robyn", read_robyn, "Robyn's pareto_aggregated.csv or pareto_alldecomp_matrix.csv."),
    IncrementalityReader("pymc_marketing", read_pymc_marketing, "PyMC-Marketing channel contributions, exported long."),
    IncrementalityReader("meridian", read_meridian, "Google Meridian's MediaOutcome table."),
]


@hookimpl
def register_incrementality_readers(register):
    for reader in READERS:
        register(reader)
