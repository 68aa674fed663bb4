"""The public API for plugin authors: everything a plugin may import.

Import from here (or from ``roistory``, which re-exports the same names)::

    from roistory.api import Metric, PeriodData, hookimpl, period_total

Every built-in plugin imports only from this surface (a lint contract checks
it), so anything not listed in ``__all__`` is internal and may move without
notice. Names here change only through a deprecation cycle noted in
docs/changelog.md. docs/plugin_hooks.md documents each name; a test fails when
one is undocumented.
"""

from __future__ import annotations

from roistory.attribution import NO_TOUCHPOINTS, AttributionModel, Journeys, ModelParamError
from roistory.charts import goal_chart, horizontal_bars, line_chart, range_chart
from roistory.config import Config, DeliveryConfig, IncrementalityConfig, SourceConfig, load_config
from roistory.context import ReportContext
from roistory.delivery import Receipt
from roistory.drivers import UNEXPLAINED, Contribution, driver_contributions
from roistory.editions import TOPICS, Edition
from roistory.errors import (
    BadInputError,
    ConfigError,
    DataError,
    DeliveryError,
    PluginError,
    RoistoryError,
    TemplateError,
)
from roistory.extras import require_extra
from roistory.forecast import Forecast
from roistory.hookspecs import hookimpl
from roistory.i18n import N_, Catalog, Nn_
from roistory.incrementality import (
    INCREMENTALITY_COLUMNS,
    IncrementalityReader,
    applicable_results,
    incremental_shares,
)
from roistory.layout import column_bands, longest_word, text_width
from roistory.maturity import LEVELS, assess
from roistory.metrics import (
    DIMENSIONS,
    NOT_SET,
    Metric,
    PeriodData,
    marketing_channels,
    period_total,
    placed_metrics,
)
from roistory.narrative import SMALL_SAMPLE, Figure, Sentence, compose, distinct, metric_figure
from roistory.paths import PathTable, path_rows
from roistory.periods import Period, parse_period
from roistory.quality import Finding, Joined, Phrase, mask_personal_data
from roistory.recommendations import ASSUMPTIONS as RECOMMENDATION_ASSUMPTIONS
from roistory.recommendations import Recommendation, measured_lift, recommend
from roistory.review import Run
from roistory.sections import ReportSection, metric_change
from roistory.sources import (
    CORE_OPTIONS,
    FINDINGS_ATTR,
    LINE_OF_ATTR,
    OPTIONS_ATTR,
    PERIOD_COLUMN,
    TABLE_COLUMNS,
    SourceType,
)
from roistory.sources.contract import HEADERS_ATTR, LOCALE_ATTR, TITLE_ATTR, check_options
from roistory.sources.csv_reader import csv_chunks, read_csv
from roistory.sources.dates import date_range_in
from roistory.sources.readers import (
    EXPORT_OPTIONS,
    ExportFormat,
    add_findings,
    parquet_chunks,
    read_excel,
    read_export,
    read_parquet,
    set_default,
)
from roistory.themes import Theme

# The context's name before it was split out of the pipeline; kept so existing plugins work.
Report = ReportContext

__all__ = [
    # hooks
    "hookimpl",
    # what plugins register
    "SourceType",
    "Metric",
    "AttributionModel",
    "ReportSection",
    "Theme",
    "Receipt",
    "Catalog",
    "IncrementalityReader",
    "Edition",
    # what sections, metrics and models receive
    "ReportContext",
    "Report",
    "Config",
    "SourceConfig",
    "DeliveryConfig",
    "IncrementalityConfig",
    "Forecast",
    "Run",
    "Period",
    "PeriodData",
    "Journeys",
    "PathTable",
    "Finding",
    "Phrase",
    "Joined",
    "mask_personal_data",
    "load_config",
    "parse_period",
    # errors (exit code 2 for bad input, 1 otherwise)
    "RoistoryError",
    "BadInputError",
    "ConfigError",
    "DataError",
    "TemplateError",
    "PluginError",
    "DeliveryError",
    "ModelParamError",
    # the table contract
    "TABLE_COLUMNS",
    "PERIOD_COLUMN",
    "DIMENSIONS",
    "NOT_SET",
    "NO_TOUCHPOINTS",
    "CORE_OPTIONS",
    "FINDINGS_ATTR",
    "LINE_OF_ATTR",
    "OPTIONS_ATTR",
    "HEADERS_ATTR",
    "LOCALE_ATTR",
    "TITLE_ATTR",
    "INCREMENTALITY_COLUMNS",
    # helpers for connectors
    "ExportFormat",
    "EXPORT_OPTIONS",
    "read_export",
    "read_csv",
    "read_excel",
    "read_parquet",
    "csv_chunks",
    "parquet_chunks",
    "check_options",
    "add_findings",
    "set_default",
    "date_range_in",
    "require_extra",
    # helpers for metrics, models and sections
    "period_total",
    "placed_metrics",
    "metric_change",
    "marketing_channels",
    "incremental_shares",
    "applicable_results",
    "path_rows",
    "assess",
    "LEVELS",
    "N_",
    "Nn_",
    "goal_chart",
    "horizontal_bars",
    "line_chart",
    "range_chart",
    # the story: drivers, sentences with traceable numbers, recommendations, editions
    "Contribution",
    "driver_contributions",
    "UNEXPLAINED",
    "Figure",
    "Sentence",
    "compose",
    "distinct",
    "metric_figure",
    "SMALL_SAMPLE",
    "Recommendation",
    "recommend",
    "measured_lift",
    "RECOMMENDATION_ASSUMPTIONS",
    "TOPICS",
    # page layout: tables in bands of columns that fit the page
    "column_bands",
    "longest_word",
    "text_width",
]
