"""One report run: a config in, the outputs and manifest written, delivery settings checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pluggy

from roistory.config import load_config
from roistory.delivery import check_destinations, deliver_run
from roistory.engines import engine_from_option
from roistory.limits import report_time_limit
from roistory.pipeline import build_report
from roistory.render import check_out_folder, write_report
from roistory.review import Run, approve


def render_config(
    config_path: Path,
    out: Path,
    *,
    period: str | None = None,
    locale: str | None = None,
    formats: list[str] | None = None,
    editions: list[str] | None = None,
    draft: bool = False,
    engine: str | None = None,
    time_limit: float | None = None,
    pm: pluggy.PluginManager | None = None,
) -> dict[str, Path]:
    """Load, compute and write one report; the paths written by format, plus ``manifest``.

    ``engine`` is ``--engine``: where journeys are built, overriding the config's ``engine:``.
    ``time_limit`` is ``--time-limit``: seconds for the whole report (default ``report.time_limit``).
    ``editions`` is ``--edition``: one document per edition (default ``report.edition``).
    """
    config = load_config(config_path)
    if engine is not None:
        config = config.model_copy(update={"engine": engine_from_option(engine, config.engine)})
    check_destinations(config, pm)  # an unknown delivery type is bad input, found before the work
    check_out_folder(out)  # so is an --out that cannot be written
    with report_time_limit(time_limit or config.report.time_limit):
        report = build_report(config, period=period, locale=locale, pm=pm)
        try:
            return write_report(report, out, formats, draft=draft, editions=editions)
        finally:
            if report.pending_history is not None:  # committed by write_report unless it failed
                report.pending_history.discard()


def render_and_deliver(
    config_path: Path,
    out: Path,
    *,
    deliver: bool = False,
    force: bool = False,
    approved_by: str = "roistory run --deliver",
    **render: Any,
) -> tuple[dict[str, Path], list[dict[str, Any]]]:
    """:func:`render_config`, then with ``deliver`` (and not a draft) approve and deliver at once.

    Asking to deliver a final render is the approval; a draft delivers nothing.
    Returns the paths written and the delivery records.
    """
    paths = render_config(config_path, out, **render)
    if not deliver or render.get("draft"):
        return paths, []
    run = Run.load(paths["manifest"])
    approve(run, by=approved_by)
    records, _skipped = deliver_run(run, force=force, pm=render.get("pm"))
    return paths, records
