"""Report sections: a template plus a function that builds its context."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from roistory.context import ReportContext
    from roistory.items import Metric


@dataclass(frozen=True)
class ReportSection:
    """A section a report's ``sections:`` list can name.

    ``build(report)`` returns the context of ``template`` (a dict, exposed to the
    template as ``data``) or ``None`` when the report has nothing to show here;
    ``report`` is the read-only :class:`roistory.api.ReportContext`.
    ``title`` is the default heading, translated for the report's locale.
    ``templates`` is the folder holding the plugin's own templates (searched
    after the theme's, so a theme can still override the section).

    A report without ``sections:`` shows every section whose ``default`` is
    true, by ``order`` (lower first; the built-ins use 10, 20, ... 110), then
    those without an ``order`` in registration order.
    """

    id: str
    title: str
    template: str
    build: Callable[[ReportContext], dict[str, Any] | None]
    description: str = ""
    templates: Traversable | Path | None = None
    order: float | None = None
    default: bool = True


def default_sections(sections: Iterable[ReportSection]) -> list[str]:
    """The ids of the sections a report without ``sections:`` shows, in order."""
    shown = [s for s in sections if s.default]
    return [s.id for s in sorted(shown, key=lambda s: float("inf") if s.order is None else s.order)]


def metric_change(report: ReportContext, metric: Metric, value: float, key: str) -> dict[str, str] | None:
    """``value``'s change against comparison period ``key`` as a tile prints it, or ``None``.

    ``{"label": "vs September 2026", "text": "+12.5%", "tone": "good"|"bad"|"neutral"}``: a
    rate changes in points (a % of a % misleads); a change that prints as zero is neutral.
    """
    if key not in report.periods:
        return None
    before = report.value(metric.id, key)
    if not isinstance(before, float) or math.isnan(before):
        return None
    fmt, _ = report.formatter, report.gettext
    rate = metric.display == "percent" or metric.unit == "percent"
    text = _("{points} pts").format(points=fmt.points(value, before, 1)) if rate else fmt.change(value, before)
    if not text:
        return None
    printed = round((value - before) * 100, 1) if rate else round((value - before) / abs(before), 3)
    better = (
        (value > before) if metric.direction == "higher" else (value < before) if metric.direction == "lower" else None
    )
    tone = "neutral" if better is None or printed == 0 else ("good" if better else "bad")
    return {"label": _("vs {period}").format(period=fmt.period(report.periods[key])), "text": text, "tone": tone}
