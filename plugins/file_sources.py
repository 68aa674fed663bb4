"""Source types ``csv``, ``excel`` and ``parquet``: files shaped like (or renamed to) a canonical table.

The readers live in the public API (:func:`roistory.api.read_csv` and friends),
so connector plugins reuse them without importing this plugin.
"""

from roistory.api import (
    SourceType,
    csv_chunks,
    hookimpl,
    parquet_chunks,
    read_csv,
    read_excel,
    read_parquet,
)


@hookimpl
def register_data_sources(register):
    register(
        SourceType(
            "csv",
            read_csv,
            "Delimited text file; encoding, delimiter and title lines detected "
            "(options: delimiter, encoding, skiprows, decimal, date_format, date_order, duplicates, chunk_mb).",
            chunks=csv_chunks,
            needs_path=True,
        )
    )
    register(
        SourceType(
            "parquet",
            read_parquet,
            "Apache Parquet file (read in row groups when large).",
            chunks=parquet_chunks,
            needs_path=True,
        )
    )
    register(
        SourceType("excel", read_excel, "Excel .xlsx workbook, one sheet (options: sheet, skiprows).", needs_path=True)
    )
