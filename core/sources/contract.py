"""The table contract: the canonical tables and columns, what a source type is, the options
every source accepts, and the error every parsing step raises.

Kept free of the parsing code so that everything the source layer shares (readers,
the normaliser, currency conversion) can import it without importing each other.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

import numpy as np

from roistory.errors import DataError
from roistory.items import SourceType  # noqa: F401 (re-exported)

if TYPE_CHECKING:
    import pandera.pandas as pa_schema

    from roistory.config import SourceConfig

# A reader may attach these to the DataFrame it returns (``frame.attrs[...]``):
FINDINGS_ATTR = "roistory.findings"
"""list[Finding]: what the reader itself dropped or assumed (footer lines, totals it checked)."""
LINE_OF_ATTR = "roistory.line_of"
"""Callable[[int], int]: turns a row number of the frame's index into the exact line of the
file, for readers whose index is a fast approximation (it is only called to word an error)."""
LOCALE_ATTR = "roistory.locale"
"""str: the file's language as the reader recognised it from its headers (e.g. ``nl``); a hint
for numbers that read two ways, used only when nothing in the file decides them."""
TITLE_ATTR = "roistory.title_lines"
"""list[str]: the lines above the header (report name, date range), for readers that place
rows from them."""
HEADERS_ATTR = "roistory.headers"
"""dict[str, str]: canonical column -> the export's own header, for columns a reader renamed."""
DUPLICATE_HEADERS_ATTR = "roistory.duplicate_headers"
"""dict[str, str]: for a header written twice or more, each later column's unique name
(``cost.1``) -> the header it repeats (``cost``)."""
OPTIONS_ATTR = "roistory.options"
"""dict: defaults for the core options (``date_order``, ``decimal``, ...) that the export
format implies (LinkedIn writes US dates); the source's own ``options`` win."""


# Column kinds: "str", "date" (a day), "timestamp", "number" (>= 0), "signed" (any number), "flag" (0/1)
TABLE_COLUMNS: dict[str, dict[str, tuple[str, bool]]] = {
    # table: {column: (kind, required)}
    "spend": {
        "date": ("date", True),
        "channel": ("str", True),
        "cost": ("number", True),
        "campaign": ("str", False),
        "media_type": ("str", False),
        "audience": ("str", False),
        "market": ("str", False),
        "currency": ("str", False),
        "impressions": ("number", False),
        "clicks": ("number", False),
        "platform_conversions": ("number", False),
        "impression_share": ("number", False),
        # the ad platform or tool the row came from (Google Ads, Meta Ads ...), a dimension
        "platform": ("str", False),
        # the last day a row covers when it covers several (a weekly export, a title-line
        # range): the row is spread evenly over its days (roistory.sources.spread)
        "end_date": ("date", False),
    },
    "touchpoints": {
        "person_id": ("str", True),
        "timestamp": ("timestamp", True),
        "channel": ("str", True),
        "campaign": ("str", False),
        "interaction": ("str", False),
        "media_type": ("str", False),
        "audience": ("str", False),
        "market": ("str", False),
        "conversion": ("flag", False),
        "revenue": ("number", False),
        "currency": ("str", False),
        # a login / CRM id seen on the touch (GA4 user_id): identity resolution links it
        "user_id": ("str", False),
        "email": ("str", False),
    },
    "conversions": {
        "person_id": ("str", True),
        "timestamp": ("timestamp", True),
        "revenue": ("number", False),
        "conversion_type": ("str", False),
        "deal_id": ("str", False),
        "currency": ("str", False),
        "user_id": ("str", False),
        "email": ("str", False),
    },
    "leads": {
        "lead_id": ("str", True),
        "created_at": ("date", True),
        "person_id": ("str", False),
        "email": ("str", False),
        "company": ("str", False),
        "source_channel": ("str", False),
        "source_campaign": ("str", False),
        "mql_at": ("date", False),
        "sql_at": ("date", False),
        "opportunity_at": ("date", False),
        "won_at": ("date", False),
        "lost_at": ("date", False),
        "amount": ("number", False),
        "market": ("str", False),
        "currency": ("str", False),
    },
    "customers": {
        "customer_id": ("str", True),
        "start_date": ("date", True),
        "end_date": ("date", False),
        "mrr": ("number", False),
        "acquisition_channel": ("str", False),
        "market": ("str", False),
        "currency": ("str", False),
    },
    "email": {
        "date": ("date", True),
        "campaign": ("str", True),
        "sent": ("number", True),
        **{
            c: ("number", False)
            for c in (
                "delivered",
                "opens",
                "clicks",
                "replies",
                "unsubscribes",
                "bounces",
                "conversions",
            )
        },
    },
    "web": {
        "date": ("date", True),
        "channel": ("str", True),
        "sessions": ("number", True),
        **{c: ("number", False) for c in ("users", "new_users", "conversions", "pageviews")},
        # as for spend: a GA4 report without a Date column covers its Start-End range
        "end_date": ("date", False),
    },
    "social": {
        "date": ("date", True),
        "platform": ("str", False),
        **{
            c: ("number", False)
            for c in (
                "mentions",
                "shares",
                "comments",
                "followers",
                "reach",
                "branded_searches",
            )
        },
    },
}

# Money columns, converted to the report currency by roistory.sources.fx.
MONEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "spend": ("cost",),
    "touchpoints": ("revenue",),
    "conversions": ("revenue",),
    "leads": ("amount",),
    "customers": ("mrr",),
}

# Number columns that are ratios, not amounts: copied, not divided, when a row is spread.
NOT_ADDITIVE = {"impression_share"}

# The date column that places a table's rows in a period (report periods, history months, out-of-period counts).
PERIOD_COLUMN = {
    "spend": "date",
    "touchpoints": "timestamp",
    "conversions": "timestamp",
    "leads": "created_at",
    "customers": "start_date",
    "email": "date",
    "web": "date",
    "social": "date",
}

# What happens to rows identical in every column: an aggregated export (spend, email, web,
# social) or a record table (leads, customers, conversions) never legitimately repeats a row,
# so the repeat is dropped and counted; an event log (touchpoints) can (two clicks in the same
# second), so its rows are kept unless options.duplicates says otherwise.
DUPLICATES_DEFAULT = {"touchpoints": "keep"}

# Options every source type accepts, handled here rather than by the reader.
CORE_OPTIONS = {"duplicates", "date_format", "date_order", "decimal", "thousands"}

_DTYPES = {"str": str, "date": "datetime64[ns]", "timestamp": "datetime64[ns]"}


def table_schema(table: str) -> pa_schema.DataFrameSchema:
    """The pandera schema of a canonical table (a description for plugin authors and tests;
    :func:`normalise_table` validates with equivalent vectorised checks)."""
    import pandera.pandas as pa_schema  # heavy; only tests and plugin authors ask for a schema

    columns = {}
    for name, (kind, required) in TABLE_COLUMNS[table].items():
        if kind in ("number", "signed", "flag"):
            checks = {"number": [pa_schema.Check.ge(0)], "flag": [pa_schema.Check.isin([0, 1])]}.get(kind, [])
            columns[name] = pa_schema.Column(
                float, checks=checks, nullable=not required, coerce=True, required=required
            )
        else:
            columns[name] = pa_schema.Column(_DTYPES[kind], nullable=not required, coerce=True, required=required)
    return pa_schema.DataFrameSchema(columns, strict=False, name=table)


def closest_hint(name: str, candidates: list[str]) -> str:
    match = difflib.get_close_matches(name, candidates, n=1, cutoff=0.5)
    if not match:
        lowered = {c.lower(): c for c in candidates}
        match = [lowered[name.lower()]] if name.lower() in lowered else []
    return f" (did you mean '{match[0]}'?)" if match else ""


def data_error(message: str, *, file: str | None, row: Any = None, column: str | None = None) -> DataError:
    """A DataError that remembers its bare message (so the row can be re-mapped later)."""
    row = None if row is None or (isinstance(row, float) and np.isnan(row)) else int(row)
    error = DataError(message, file=file, row=row, column=column)
    error.detail = message  # type: ignore[attr-defined]
    return error


def check_options(source: SourceConfig, allowed: set[str], kind: str, file: str) -> dict[str, Any]:
    """The source's options, after checking each is one ``allowed`` (an error names the first that is not)."""
    unknown = sorted(set(source.options) - allowed)
    if unknown:
        raise DataError(f"unknown {kind} option '{unknown[0]}'; use {', '.join(sorted(allowed))}", file=file)
    return dict(source.options)
