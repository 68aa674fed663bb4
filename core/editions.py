"""Editions: one computed report told to one reader (board, CFO, CMO, sales).

An edition is data, registered through the ``register_editions`` hook like a
section or a theme: which sections it shows, the metrics it leads with, the
metric its headline states and the topics its summary speaks about. A report
asks for editions with ``report.edition`` or ``--edition``; each one renders
from the same :class:`roistory.context.ReportContext` into
``<name>-<edition>.<ext>``.
"""

from __future__ import annotations

from dataclasses import dataclass

# What a summary can speak about, in the order an edition lists them (roistory.plugins.summary_section).
TOPICS = ("headline", "margin", "drivers", "performers", "funnel", "economics", "goals", "caveats")


@dataclass(frozen=True)
class Edition:
    """A document for one audience, built from the report everyone else gets.

    ``sections``: the section ids it shows, in order (ids no plugin registered are skipped,
    so an edition can name a section a plugin may add). ``lead_metrics``: the metrics its
    KPI tiles show first. ``headline``: the metric its first sentence states (and compares).
    ``topics``: what its summary speaks about, in order, from :data:`TOPICS`.
    ``max_pages``: the length its PDF is designed to stay within (documentation; the
    sections are chosen so that it holds for a typical report).
    """

    id: str
    title: str
    sections: tuple[str, ...]
    lead_metrics: tuple[str, ...] = ()
    headline: str = "roas"
    topics: tuple[str, ...] = TOPICS
    max_pages: int | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not self.id.isidentifier():
            raise ValueError(f"edition id '{self.id}' must be a plain name (letters, digits, _)")
        unknown = [t for t in self.topics if t not in TOPICS]
        if unknown:
            raise ValueError(f"edition '{self.id}': unknown summary topic '{unknown[0]}' (known: {', '.join(TOPICS)})")
        object.__setattr__(self, "sections", tuple(self.sections))
        object.__setattr__(self, "lead_metrics", tuple(self.lead_metrics))
        object.__setattr__(self, "topics", tuple(self.topics))


# The full report: what a run without editions renders (not registered, so no plugin can replace it).
FULL = Edition("full", "Full report", sections=(), description="Every section the report asks for.")
