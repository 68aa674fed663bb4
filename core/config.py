"""report.yaml: the schema (pydantic) and loading, with errors naming the file and key path.

Checks that need the plugin registry (does this source type, metric or model
exist?) live in :func:`roistory.pipeline.check_config_against_registry`.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from roistory.defaults import DORMANCY_DAYS, LOOKBACK_DAYS
from roistory.errors import ConfigError
from roistory.periods import parse_period
from roistory.source_settings import FxConfig, HistoryConfig, IdentityConfig

TABLES = ("spend", "touchpoints", "conversions", "leads", "customers", "email", "web", "social")
FORMATS = ("html", "pdf", "json")
COMPARISONS = ("previous", "year_ago")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReportSettings(_Strict):
    title: str = "Marketing Performance"
    client: str | None = None
    period: str
    compare: list[Literal["previous", "year_ago"]] = list(COMPARISONS)
    currency: str = "USD"
    locale: str = "en"
    timezone: str = "UTC"
    margin: float = Field(1.0, gt=0, le=10)
    theme: str = "default"
    formats: list[Literal["html", "pdf", "json"]] = list(FORMATS)
    page_size: Literal["A4", "Letter"] = "A4"

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, value: str) -> str:
        value = str(value)  # `period: 2026` is a YAML integer
        parse_period(value)
        return str(value)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError(f"'{value}' is not an ISO 4217 currency code such as USD")
        return value

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        from babel import Locale, UnknownLocaleError

        try:
            Locale.parse(value)
        except (UnknownLocaleError, ValueError) as exc:
            raise ValueError(f"unknown locale '{value}'") from exc
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone '{value}'") from exc
        return value


class SourceConfig(_Strict):
    name: str
    type: str
    table: Literal[TABLES]  # type: ignore[valid-type]
    path: str | None = None
    columns: dict[str, str] = {}
    values: dict[str, str | int | float | bool | date] = {}
    options: dict[str, Any] = {}
    # the export's language or locale (nl, de_CH, pt_BR ...): its decimal separator for numbers
    locale: str | None = None
    # {column: {value: channel}}: the channel of each row from one of its columns (e.g. the
    # campaign type), over the source type's default map
    channel_map: dict[str, dict[str, str]] = {}


class AttributionConfig(_Strict):
    # None: the models plugins register with ``default=True``, filled in by the pipeline
    models: Annotated[list[str], Field(min_length=1)] | None = None
    primary: str | None = None
    lookback_days: int = Field(LOOKBACK_DAYS, gt=0)
    dormancy_days: int = Field(DORMANCY_DAYS, gt=0)
    params: dict[str, dict[str, Any]] = {}

    @property
    def primary_model(self) -> str:
        if self.primary:
            return self.primary
        if not self.models:
            raise ValueError("attribution.models is not resolved against the registry yet")
        return self.models[0]


class CustomMetricConfig(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str | None = None
    formula: str
    unit: Literal["currency", "ratio", "percent", "count", "days", "months"] = "ratio"


class GoalConfig(_Strict):
    """A SMART objective. Completeness is checked by :func:`roistory.goals.check_goals`,
    whose messages say which letter of SMART a goal fails."""

    id: str
    objective: str | None = None
    metric: str | None = None
    segment: dict[str, str] = {}
    baseline: float | None = None
    target: float | str | None = None  # a number, or "20%" for percent metrics
    start: date | None = None  # when progress starts counting; default: the report period's start
    deadline: date | None = None
    owner: str | None = None


class Config(_Strict):
    report: ReportSettings
    sources: list[SourceConfig] = Field(min_length=1)
    attribution: AttributionConfig = AttributionConfig()
    metrics: list[str] | None = None
    custom_metrics: list[CustomMetricConfig] = []
    goals: list[GoalConfig] = []
    sections: list[str] | None = None
    fx: FxConfig = FxConfig()
    identity: IdentityConfig = IdentityConfig()
    history: HistoryConfig | None = None  # the embedded store of every run's tables; None = off

    # where relative paths resolve; set by load_config, not read from YAML
    base_dir: Path = Field(default=Path("."), exclude=True)
    path: Path | None = Field(default=None, exclude=True)

    def resolve(self, relative: str) -> Path:
        return (self.base_dir / relative).resolve()


def _key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def config_from_dict(data: Any, *, path: Path | None = None) -> Config:
    """Validate a parsed report.yaml; raises ConfigError naming the first bad key."""
    file = str(path) if path else "report.yaml"
    if not isinstance(data, dict):
        raise ConfigError("the file must be a mapping with a 'report' key", file=file)
    for forbidden in ("base_dir", "path"):
        if forbidden in data:
            raise ConfigError("unknown key", file=file, key=forbidden)
    base_dir = path.parent.resolve() if path else Path.cwd()
    try:
        return Config.model_validate({**data, "base_dir": base_dir, "path": path})
    except ValidationError as exc:
        error = exc.errors()[0]
        key = _key_path(tuple(p for p in error["loc"] if not str(p).startswith("function-")))
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "missing":
            message = "required key is missing"
        elif error["type"] == "literal_error":
            message = f"{message}, got {error.get('input')!r}"
        raise ConfigError(message, file=file, key=key) from None


def load_config(path: str | Path) -> Config:
    """Read and validate a report.yaml."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=str(path)) from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=str(path)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}malformed YAML: {problem}", file=str(path)) from None
    return config_from_dict(data, path=path)


# Every date a table can hold (pandas' nanosecond timestamps): the period of a config
# that reads files for a command rather than for a report.
ALL_DATES = "1677-09-22..2262-04-11"


def files_config(sources: list[dict[str, Any]], *, timezone: str) -> Config:
    """A config that reads loose files (``roistory attribute``): the sources are read and
    validated exactly as a report's, over every date (``ALL_DATES``)."""
    return config_from_dict({"report": {"period": ALL_DATES, "timezone": timezone}, "sources": sources})
