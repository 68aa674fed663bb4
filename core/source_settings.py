"""The report.yaml settings of the source layer: ``fx``, ``identity`` and ``history``.

Pydantic only (no pandas), so :mod:`roistory.config` can import them cheaply. The
behaviour lives in :mod:`roistory.sources.fx`, :mod:`roistory.identity` and :mod:`roistory.history`.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, field_validator

RATE_RANGE = (1e-9, 1e9)  # units of the report currency per unit of another: beyond is a typo


def check_currency(code: str) -> None:
    """ValueError unless ``code`` is an ISO 4217 code Babel knows (USD, EUR, JPY ...)."""
    from babel.numbers import list_currencies

    if not (isinstance(code, str) and code in list_currencies()):
        raise ValueError(f"'{code}' is not an ISO 4217 currency code such as USD or EUR")


class FxConfig(BaseModel):
    """``fx:``: rates to the report currency (units of it per 1 unit of the other currency)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rates: dict[str, float] = Field(default_factory=dict)  # fixed rates, e.g. {EUR: 1.08}
    path: str | None = None  # a CSV/Parquet table: date, currency, rate

    @field_validator("rates")
    @classmethod
    def _rates(cls, value: dict[str, float]) -> dict[str, float]:
        for code, rate in value.items():
            check_currency(code)
            low, high = RATE_RANGE
            if not (math.isfinite(rate) and low <= rate <= high):
                raise ValueError(f"the rate for {code} must be a positive number from {low:g} to {high:g}, got {rate}")
        return value


class IdentityConfig(BaseModel):
    """``identity:``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mapping: str | None = None  # a CSV/Parquet file: each row's values name one person
    merge_duplicate_leads: bool = True


class HistoryConfig(BaseModel):
    """``history:``: the embedded DuckDB store of every run's tables."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = "history.duckdb"  # relative to report.yaml
    enabled: bool = True
    allow_outside: bool = False  # a path outside the report project must be asked for explicitly
