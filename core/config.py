"""report.yaml: the schema (pydantic) and loading, with errors naming the file and key path.

Checks that need the plugin registry (does this source type, metric or model
exist?) live in :func:`roistory.pipeline.check_config_against_registry`.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from roistory.cascade import Layers, item_key, key_of, load_layers
from roistory.defaults import DORMANCY_DAYS, LOOKBACK_DAYS
from roistory.errors import ConfigError
from roistory.periods import FIRST_DAY, LAST_DAY, parse_period
from roistory.source_settings import FxConfig, HistoryConfig, IdentityConfig, check_currency
from roistory.validation import config_problems

TABLES = ("spend", "touchpoints", "conversions", "leads", "customers", "email", "web", "social")
FORMATS = ("html", "pdf", "json")
COMPARISONS = ("previous", "year_ago")
MAX_WINDOW_DAYS = 3660  # lookback and dormancy: ten years is already longer than any sales cycle


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


PDF_VARIANTS = ("pdf/a-3b", "pdf/ua-1", "none")


class PdfSettings(_Strict):
    """``report.pdf``: which standard the PDF follows (docs/config.md)."""

    # pdf/a-3b: archival, the JSON results attached; pdf/ua-1: tagged for screen readers; none: plain
    variant: Literal["pdf/a-3b", "pdf/ua-1", "none"] = "pdf/a-3b"


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
    pdf: PdfSettings = PdfSettings()
    time_limit: float = Field(900, ge=1, le=86_400)  # seconds for the whole report (roistory.limits)
    # one document per edition (board, cfo, cmo, sales or a plugin's); None = one full report
    edition: list[str] | None = None
    # the dimensions the summary's driver analysis splits changes by (roistory.drivers)
    drivers: list[Literal["channel", "campaign", "media_type", "audience", "market"]] = ["channel"]

    @field_validator("edition", mode="before")
    @classmethod
    def _edition(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, value: str) -> str:
        value = str(value)  # `period: 2026` is a YAML integer
        parse_period(value)
        return str(value)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        check_currency(value)
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
    lookback_days: int = Field(LOOKBACK_DAYS, gt=0, le=MAX_WINDOW_DAYS)
    dormancy_days: int = Field(DORMANCY_DAYS, gt=0, le=MAX_WINDOW_DAYS)
    params: dict[str, dict[str, Any]] = {}

    @property
    def primary_model(self) -> str:
        if self.primary:
            return self.primary
        if not self.models:
            raise ValueError("attribution.models is not resolved against the registry yet")
        return self.models[0]


class EngineConfig(_Strict):
    """Where journeys and path tables are built (docs/scale.md): auto = memory below a size, DuckDB above."""

    backend: Literal["auto", "memory", "duckdb", "spark"] = "auto"
    master: str | None = None  # spark: local[*], spark://host:7077, yarn, k8s://...
    conf: dict[str, str | int | float | bool] = {}  # spark.* settings, or DuckDB settings (memory_limit, threads)


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
    goal: str | None = None  # the id of the company goal (``company_goals:``) this objective serves
    team: Literal["marketing", "sales"] | None = None  # who owns it; shown side by side


class CompanyGoalConfig(_Strict):
    """A company goal: a direction ("increase lead generation") the SMART objectives
    in ``goals:`` serve (each names it with ``goal:``)."""

    id: str
    statement: str


class IncrementalityConfig(_Strict):
    """A file of lift-test, holdout or MMM results shown beside the attribution models
    (:mod:`roistory.incrementality`). ``type`` names a reader plugin (``csv``, ``robyn``,
    ``pymc_marketing``, ``meridian`` ...); ``options`` are the reader's own settings."""

    name: str
    type: str
    path: str
    options: dict[str, Any] = {}


class DeliveryConfig(BaseModel):
    """Where an approved report goes. ``type`` names a delivery plugin (``folder``, ``smtp`` …),
    which checks its own settings; the core checks recipients are e-mail addresses."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str
    name: str | None = None
    to: list[str] = []
    cc: list[str] = []

    @field_validator("to", "cc")
    @classmethod
    def _addresses(cls, values: list[str]) -> list[str]:
        from email_validator import EmailNotValidError, validate_email  # loads only for a delivery

        for value in values:
            try:
                validate_email(str(value), check_deliverability=False)
            except EmailNotValidError as exc:
                raise ValueError(f"'{value}' is not an e-mail address ({exc})") from None
        return values

    @property
    def key(self) -> str:
        """How ``extends`` merges it and how deliveries are recorded: its name, else its type."""
        return self.name or self.type


class Config(_Strict):
    report: ReportSettings
    sources: list[SourceConfig] = Field(min_length=1)
    attribution: AttributionConfig = AttributionConfig()
    engine: EngineConfig = EngineConfig()
    metrics: list[str] | None = None
    custom_metrics: list[CustomMetricConfig] = []
    goals: list[GoalConfig] = []
    company_goals: list[CompanyGoalConfig] = []
    incrementality: list[IncrementalityConfig] = []
    sections: list[str] | None = None
    fx: FxConfig = FxConfig()
    identity: IdentityConfig = IdentityConfig()
    history: HistoryConfig | None = None  # the embedded store of every run's tables; None = off
    delivery: list[DeliveryConfig] = []

    # where relative paths resolve; set by load_config, not read from YAML
    base_dir: Path = Field(default=Path("."), exclude=True)
    path: Path | None = Field(default=None, exclude=True)

    def resolve(self, relative: str) -> Path:
        # realpath, not Path.resolve: a symlink loop is then reported by whoever opens the file
        return Path(os.path.realpath(self.base_dir / relative))

    @model_validator(mode="after")
    def _unique_deliveries(self) -> Config:
        keys = [d.key for d in self.delivery]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(f"two deliveries named '{twice[0]}': give each a distinct 'name'")
        return self


def _key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def config_from_dict(data: Any, *, path: Path | None = None, layers: Layers | None = None) -> Config:
    """Validate a parsed report.yaml; raises ConfigError naming the first bad key
    (and, for a cascaded config, the file that set it)."""
    file = str(path) if path else "report.yaml"
    if not isinstance(data, dict):
        raise ConfigError("the file must be a mapping with a 'report' key", file=file)
    for forbidden in ("base_dir", "path"):
        if forbidden in data:
            raise ConfigError("unknown key", file=file, key=forbidden)
    base_dir = path.parent.resolve() if path else Path.cwd()

    def rejected(loc: tuple[Any, ...], message: str) -> ConfigError:
        origin = layers.origin(key_of(loc, data)) if layers is not None else None
        return ConfigError(message, file=str(origin) if origin else file, key=_key_path(loc))

    try:
        config = Config.model_validate({**data, "base_dir": base_dir, "path": path})
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(p for p in error["loc"] if not str(p).startswith("function-"))
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "missing":
            message = "required key is missing"
        elif error["type"] == "literal_error":
            message = f"{message}, got {error.get('input')!r}"
        raise rejected(loc, message) from None
    for loc, message in config_problems(config):
        raise rejected(loc, message)
    return config


def load_config(path: str | Path) -> Config:
    """Read and validate a report.yaml and every file it ``extends``."""
    return load_config_layers(path)[0]


def load_config_layers(path: str | Path) -> tuple[Config, Layers]:
    """The validated config and the merged files behind it (who set which value)."""
    layers = load_layers(Path(path))
    return config_from_dict(layers.data, path=Path(path), layers=layers), layers


def explain_config(path: str | Path) -> tuple[list[Path], list[tuple[str, Any, str | None]]]:
    """The files of the chain (nearest first) and every effective value as
    (key, value, file that set it or None for a default)."""
    config, layers = load_config_layers(path)
    rows: list[tuple[str, Any, str | None]] = []

    def walk(key: str, value: Any, list_name: str = "") -> None:
        if isinstance(value, dict) and value:
            for name, child in value.items():
                walk(f"{key}.{name}" if key else name, child, name)
        elif isinstance(value, list) and value and all(item_key(list_name, v) for v in value):
            for item in value:
                walk(f"{key}[{item_key(list_name, item)}]", item)
        else:
            origin = layers.origin(key)
            rows.append((key, value, str(origin) if origin else None))

    walk("", config.model_dump(mode="json", exclude={"base_dir", "path"}, exclude_none=True))
    return layers.files, rows


# Every date a table can hold (pandas' nanosecond timestamps): the period of a config
# that reads files for a command rather than for a report.
ALL_DATES = f"{FIRST_DAY.isoformat()}..{LAST_DAY.isoformat()}"


def files_config(sources: list[dict[str, Any]], *, timezone: str) -> Config:
    """A config that reads loose files (``roistory attribute``): the sources are read and
    validated exactly as a report's, over every date (``ALL_DATES``)."""
    return config_from_dict({"report": {"period": ALL_DATES, "compare": [], "timezone": timezone}, "sources": sources})
