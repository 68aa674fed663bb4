"""Domain errors. The CLI turns each into one line and exit code 2 (bad input) or 1."""

from __future__ import annotations

import difflib


class RoistoryError(Exception):
    """Base class: something the user can fix, reported without a traceback."""

    exit_code = 1


class BadInputError(RoistoryError):
    """Input the user supplied is wrong: config, data, template. Exit code 2."""

    exit_code = 2


class ConfigError(BadInputError):
    """report.yaml is missing, malformed or invalid."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None):
        self.file, self.key, self.message = file, key, message
        where = ": ".join(p for p in (file, key) if p)
        super().__init__(f"{where}: {message}" if where else message)


class DataError(BadInputError):
    """A data file cannot be read or breaks the canonical table contract."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ):
        self.file, self.row, self.column = file, row, column
        parts = [file] if file else []
        if row is not None:
            parts.append(f"row {row}")
        if column:
            parts.append(f"column '{column}'")
        super().__init__(f"{', '.join(parts)}: {message}" if parts else message)


class TemplateError(BadInputError):
    """A report template or theme cannot be loaded or rendered."""


class OutputError(BadInputError):
    """The ``--out`` folder cannot take the outputs: not a folder, not writable, a name in the way."""

    def __init__(self, message: str, *, path: str):
        self.path = path
        super().__init__(f"{path}: {message}")


class PluginError(RoistoryError):
    """A plugin failed to load or registered something invalid."""


def unknown_name(kind: str, name: str, known: list[str], key: str) -> ConfigError:
    """A ConfigError for a name no plugin provides, with the closest known name as a hint."""
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else f"; available: {', '.join(sorted(known))}"
    return ConfigError(f"unknown {kind} '{name}'{hint}", key=key)


class DeliveryError(RoistoryError):
    """An approved report could not be delivered (server refused, folder not writable)."""
