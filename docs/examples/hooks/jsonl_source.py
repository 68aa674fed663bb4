"""Example for register_data_sources: a source type reading JSON Lines files."""

import pandas as pd

from roistory.api import DataError, SourceType, hookimpl


def read_jsonl(source, config):
    """One record per line; the index is the line number, quoted in error messages."""
    if source.path is None:
        raise DataError("a jsonl source needs a path", file=source.name)
    path = config.resolve(source.path)
    try:
        frame = pd.read_json(path, lines=True, dtype=False)
    except ValueError as exc:
        raise DataError(f"cannot read as JSON Lines: {exc}", file=str(path)) from None
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame


@hookimpl
def register_data_sources(register):
    register(SourceType("jsonl", read_jsonl, "JSON Lines file, one record per line."))
