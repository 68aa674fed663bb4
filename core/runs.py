"""One report run: a config in, the outputs and manifest written, delivery settings checked."""

from __future__ import annotations

from pathlib import Path

import pluggy

from roistory.config import load_config
from roistory.delivery import check_destinations
from roistory.errors import ConfigError
from roistory.pipeline import build_report
from roistory.render import write_report


def render_config(
    config_path: Path,
    out: Path,
    *,
    period: str | None = None,
    locale: str | None = None,
    formats: list[str] | None = None,
    editions: list[str] | None = None,
    draft: bool = False,
    pm: pluggy.PluginManager | None = None,
) -> dict[str, Path]:
    """Load, compute and write one report; the paths written by format, plus ``manifest``."""
    if editions:
        # accepted by run/batch so scripts can pass it; editions are built by another change
        raise ConfigError("editions are not available in this version of roistory", key="--edition")
    config = load_config(config_path)
    check_destinations(config, pm)  # an unknown delivery type is bad input, found before the work
    report = build_report(config, period=period, locale=locale, pm=pm)
    return write_report(report, out, formats, draft=draft)


