"""The source layer: canonical tables and source loading.

A source type (registered by a plugin) reads a file or system into a raw
DataFrame; this module renames and completes its columns as the report config
says, then parses and validates them against the canonical table, so every
plugin gets the same checks and the same error messages.

Parsing is vectorised (pyarrow compute and numpy): a clean column costs one
cast; only a column that needs it pays for cleaning (currency symbols,
``1.234,56`` decimals, percent signs, placeholders such as ``--``). Every
error names the file, the row (the reader's row number: a CSV's line number)
and the column.

What the normaliser does to rows, in order (each step counted as a finding
when it changes anything, see :class:`LoadedSource`):

1. header names trimmed, the source's ``columns`` rename map applied,
   ``values`` constants added;
2. a required column missing: error, naming the closest header;
3. totals and subtotal rows ("Total", "Total: Account", "Grand Totals (12
   records)", "Subtotal") dropped;
4. numbers parsed; placeholders (``--``, ``N/A``, ``-``, ``null``) in an
   optional column read as missing, in a required column an error;
5. dates parsed in one format per column (ISO 8601, else detected: ``10/15/2026``,
   ``15.10.2026``, ``Oct 15, 2026``, ``20261015``, ...); a column mixing formats,
   or whose day/month order cannot be told, is an error;
6. values checked: required cells present, amounts not negative, flags 0/1;
7. rows identical in every column of the export dropped (``options.duplicates:
   keep`` keeps them).

Modules, one concern each: :mod:`.contract` (tables, columns, options, errors),
:mod:`.sniff`, :mod:`.csv_reader` and :mod:`.readers` (reading files as tools export
them), :mod:`.numbers`, :mod:`.dates`, :mod:`.rows` (totals and duplicates),
:mod:`.normalise` (the steps above), :mod:`.fx` (currencies) and :mod:`.load`.
This package re-exports what the rest of the core uses; plugins import from
:mod:`roistory.api`.
"""

from roistory.sources.contract import (
    CORE_OPTIONS,
    FINDINGS_ATTR,
    LINE_OF_ATTR,
    MONEY_COLUMNS,
    OPTIONS_ATTR,
    PERIOD_COLUMN,
    TABLE_COLUMNS,
    SourceType,
    data_error,
    table_schema,
)
from roistory.sources.load import (
    LoadedSource,
    file_sha256,
    load_source,
    load_sources,
    rows_outside_period,
    source_findings,
)
from roistory.sources.normalise import Normaliser, normalise_table

__all__ = [
    "CORE_OPTIONS",
    "FINDINGS_ATTR",
    "LINE_OF_ATTR",
    "MONEY_COLUMNS",
    "OPTIONS_ATTR",
    "PERIOD_COLUMN",
    "TABLE_COLUMNS",
    "LoadedSource",
    "Normaliser",
    "SourceType",
    "data_error",
    "file_sha256",
    "load_source",
    "load_sources",
    "normalise_table",
    "rows_outside_period",
    "source_findings",
    "table_schema",
]
