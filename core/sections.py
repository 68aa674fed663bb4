"""Report sections: a template plus a function that builds its context."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from roistory.context import ReportContext


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
