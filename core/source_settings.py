"""The report.yaml settings of the source layer: ``fx``, ``identity`` and ``history``.

Pydantic only (no pandas), so :mod:`roistory.config` can import them cheaply. The
behaviour lives in :mod:`roistory.sources.fx`, :mod:`roistory.identity` and :mod:`roistory.history`.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator


class FxConfig(BaseModel):
    """``fx:``: rates to the report currency (units of it per 1 unit of the other currency)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rates: dict[str, float] = Field(default_factory=dict)  # fixed rates, e.g. {EUR: 1.08}
    path: str | None = None  # a CSV/Parquet table: date, currency, rate

    @field_validator("rates")
    @classmethod
    def _rates(cls, value: dict[str, float]) -> dict[str, float]:
        for code, rate in value.items():
            if not re.fullmatch(r"[A-Z]{3}", code):
                raise ValueError(f"'{code}' is not an ISO 4217 currency code such as EUR")
            if not rate > 0:
                raise ValueError(f"the rate for {code} must be positive, got {rate}")
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
