"""Currency conversion: every money column in the report currency, never a silent mixed sum.

A row's currency is its ``currency`` column (spend, touchpoints, conversions,
leads and customers may have one; ``values: {currency: EUR}`` sets it for a
whole source). Rows without one are in the report currency (SPEC). Rates come
from the report's ``fx`` settings::

    fx:
      rates: {EUR: 1.08, GBP: 1.27}    # report-currency units per 1 unit, fixed
      path: data/fx_rates.csv          # and/or a table: date, currency, rate

A rate table gives, per date, how many units of the report currency one unit
of ``currency`` buys; a row uses the latest rate on or before its date (so
monthly or daily rates both work). Fixed ``rates`` apply where the table has
no rate for a currency. A row in a currency without a rate is an error naming
the file, row and currency.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from roistory.errors import ConfigError, DataError
from roistory.i18n import N_
from roistory.quality import Finding, Joined, Phrase
from roistory.source_settings import FxConfig
from roistory.sources.contract import MONEY_COLUMNS, PERIOD_COLUMN, data_error

if TYPE_CHECKING:
    from roistory.config import Config


def fx_settings(config: Config) -> FxConfig:
    """The report's fx settings (an empty FxConfig when it has none)."""
    value = getattr(config, "fx", None)
    if value is None:
        return FxConfig()
    if isinstance(value, FxConfig):
        return value
    if isinstance(value, dict):
        return FxConfig.model_validate(value)
    return FxConfig.model_validate(value.model_dump() if hasattr(value, "model_dump") else dict(value))


def read_rate_table(path: Path) -> pd.DataFrame:
    """A rate table (CSV or Parquet): columns date, currency, rate; sorted by currency and date."""
    return _read_rate_table(str(path), path.stat().st_mtime_ns if path.exists() else 0).copy()


@lru_cache(maxsize=8)
def _read_rate_table(file: str, _mtime: int) -> pd.DataFrame:
    path = Path(file)
    if not path.exists():
        raise ConfigError("file not found", file=file, key="fx.path")
    if path.suffix.lower() == ".parquet":
        raw = pd.read_parquet(path)
        raw.index = pd.RangeIndex(1, len(raw) + 1)
    else:
        try:
            raw = pd.read_csv(
                path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig", sep=None, engine="python"
            )
        except (pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise DataError(f"cannot read the currency table: {exc}", file=file) from None
        raw.index = pd.RangeIndex(2, len(raw) + 2)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    for column in ("date", "currency", "rate"):
        if column not in raw:
            raise DataError(
                f"the currency table needs columns date, currency, rate; '{column}' is missing",
                file=file,
                column=column,
            )
    dates = pd.to_datetime(raw["date"].astype(str).str.strip(), format="ISO8601", errors="coerce")
    if dates.isna().any():
        row = dates.index[dates.isna().to_numpy().argmax()]
        raise DataError(f"cannot read '{raw.loc[row, 'date']}' as an ISO date", file=file, row=int(row), column="date")
    rates = pd.to_numeric(raw["rate"].astype(str).str.strip().str.replace(",", "."), errors="coerce")
    bad = rates.isna() | (rates <= 0)
    if bad.any():
        row = rates.index[bad.to_numpy().argmax()]
        raise DataError(f"'{raw.loc[row, 'rate']}' is not a positive rate", file=file, row=int(row), column="rate")
    table = pd.DataFrame(
        {
            "date": dates.dt.normalize().astype("datetime64[ns]"),
            "currency": raw["currency"].astype(str).str.strip().str.upper(),
            "rate": rates.astype(float),
        }
    )
    return table.sort_values(["currency", "date"], kind="stable").reset_index(drop=True)


def convert_frame(
    frame: pd.DataFrame,
    table: str,
    config: Config,
    *,
    file: str,
    line: Callable[[Any], Any] = lambda row: row,
    source_name: str = "",
) -> tuple[pd.DataFrame, list[Finding]]:
    """Convert one source's money columns to the report currency (by each row's ``currency``)."""
    money = [c for c in MONEY_COLUMNS.get(table, ()) if c in frame]
    if "currency" not in frame or not money or frame.empty:
        return frame, []
    target = config.report.currency
    codes = pa.array(frame["currency"], from_pandas=True)
    if pc.all(pc.equal(codes, target)).as_py() is not False:  # every code the report's (or missing)
        return frame, []
    distinct = pc.unique(codes).to_pylist()
    if all(v is None or str(v).strip().upper() == target for v in distinct):
        return frame.assign(currency=frame["currency"].str.strip().str.upper()), []
    currency = frame["currency"].astype("str").str.strip().str.upper()
    foreign = (currency.notna() & (currency != target)).to_numpy()
    if not foreign.any():
        if currency.notna().any():
            frame = frame.assign(currency=currency.where(currency.isna(), target))
        return frame, []
    settings = fx_settings(config)
    date_column = PERIOD_COLUMN[table]
    dates = frame[date_column]
    factor = np.ones(len(frame))
    found = np.zeros(len(frame), bool)
    found[~foreign] = True
    rate_table = read_rate_table(config.resolve(settings.path)) if settings.path else None
    codes = sorted(set(currency[foreign].dropna()))
    for code in codes:
        rows = (currency == code).to_numpy()
        if rate_table is not None:
            known = rate_table[rate_table["currency"] == code]
            if len(known):
                when = dates[rows].to_numpy("datetime64[ns]")
                position = np.searchsorted(known["date"].to_numpy("datetime64[ns]"), when, side="right") - 1
                ok = position >= 0
                values = np.where(ok, known["rate"].to_numpy()[np.clip(position, 0, None)], np.nan)
                idx = np.flatnonzero(rows)
                factor[idx[ok]] = values[ok]
                found[idx[ok]] = True
        if code in settings.rates:
            rest = rows & ~found
            factor[rest] = settings.rates[code]
            found[rest] = True
    missing = ~found
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        code = currency.iloc[i]
        when = dates.iloc[i]
        on = f" on or before {when:%Y-%m-%d}" if pd.notna(when) and rate_table is not None else ""
        n = int(missing.sum())
        raise data_error(
            f"amount in {code} but no {code}→{target} rate{on} ({n} {'row' if n == 1 else 'rows'}); add "
            f"fx.rates.{code} "
            "or a row to the fx rate table: currencies are never summed unconverted",
            file=file,
            row=line(frame.index[i]),
            column="currency",
        )
    frame = frame.copy()
    for column in money:
        frame[column] = frame[column].to_numpy(float) * factor
    frame["currency"] = currency.where(currency.isna(), target)
    counts = {code: int((currency == code).sum()) for code in codes}
    # TRANSLATORS: how many rows were in a currency, e.g. "12 in EUR"
    detail = Joined([Phrase(N_("{count} in {currency}"), count=n, currency=code) for code, n in counts.items()])
    if rate_table is not None:
        msgid = N_("source '{source}': {detail} converted to {currency} at the rate table's rate for each date")
    else:
        msgid = N_("source '{source}': {detail} converted to {currency} at the fixed rates in fx.rates")
    finding = Finding.of(
        "info", "currency_converted", int(foreign.sum()), msgid, source=source_name, detail=detail, currency=target
    )
    return frame, [finding]
