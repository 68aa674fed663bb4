"""Report sections: a template plus a function that builds its context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from roistory.pipeline import Report


@dataclass(frozen=True)
class ReportSection:
    """A section a report's ``sections:`` list can name.

    ``build(report)`` returns the context of ``template`` (a dict, exposed to the
    template as ``data``) or ``None`` when the report has nothing to show here.
    ``title`` is the default heading, translated for the report's locale.
    ``templates`` is the folder holding the plugin's own templates (searched
    after the theme's, so a theme can still override the section).
    """

    id: str
    title: str
    template: str
    build: Callable[[Report], dict[str, Any] | None]
    description: str = ""
    templates: Traversable | Path | None = None
