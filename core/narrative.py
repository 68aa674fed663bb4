"""Sentences whose numbers know where they came from.

A :class:`Sentence` is translated text with its numbers kept apart as
:class:`Figure` objects: each carries the metric id, segment and period (and the
JSON list it is found in) of the value it prints. The HTML wraps every figure in
a ``<span data-metric=... data-segment=... data-period=...>`` and the JSON
``narrative`` list repeats each sentence with its figures, so a reader (or a
test) can trace any number back to the computed result it states.
"""

from __future__ import annotations

import json
import math
import string
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from roistory.context import ReportContext

# SMALL_SAMPLE: a claim about a segment resting on fewer events than this (conversions,
# won deals) carries a small-sample caveat; 10 is the usual floor below which one event
# more or less moves a rate by over ten per cent.
SMALL_SAMPLE = 10


@dataclass(frozen=True)
class Figure:
    """A number printed in a sentence and the result it states.

    ``source`` names the JSON list that holds ``value``: ``metrics`` (id = ``metric``,
    ``segment``, ``period``), ``drivers`` (``metric``, ``segment``, comparison = ``period``),
    ``goals`` (goal id = ``metric``, field ``progress``), ``recommendations`` (``metric``
    names the field) or ``report`` (a setting such as ``margin``).
    """

    text: str
    metric: str
    value: float
    period: str = "current"
    segment: dict[str, str] = field(default_factory=dict)
    source: str = "metrics"

    def as_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "metric": self.metric,
            "segment": dict(self.segment),
            "period": self.period,
            "value": float(self.value),
            "source": self.source,
        }

    @property
    def attributes(self) -> dict[str, str]:
        """The ``data-*`` attributes of the figure's HTML element."""
        return {
            "data-metric": self.metric,
            "data-segment": json.dumps(self.segment, ensure_ascii=False, sort_keys=True),
            "data-period": self.period,
            "data-source": self.source,
        }


@dataclass(frozen=True)
class Sentence:
    """Text in parts: plain strings and :class:`Figure` objects, in reading order."""

    parts: tuple[str | Figure, ...]
    topic: str = ""

    @property
    def text(self) -> str:
        return "".join(p.text if isinstance(p, Figure) else p for p in self.parts)

    @property
    def figures(self) -> list[Figure]:
        return [p for p in self.parts if isinstance(p, Figure)]

    def as_template_data(self) -> list[dict[str, Any]]:
        """Plain data for a template: ``{"text": ...}`` and ``{"text": ..., "attrs": {...}}`` items."""
        return [{"text": p.text, "attrs": p.attributes} if isinstance(p, Figure) else {"text": p} for p in self.parts]

    def as_json(self, *, edition: str, section: str) -> dict[str, Any]:
        return {
            "edition": edition,
            "section": section,
            "text": self.text,
            "numbers": [f.as_json() for f in self.figures],
        }


def compose(template: str, topic: str = "", **fields: str | Figure) -> Sentence:
    """A sentence from a translated template with ``{name}`` fields (as ``str.format``).

    Figures stay separate parts; strings are inserted as text. A field the template
    does not use is ignored, as with ``str.format``.
    """
    parts: list[str | Figure] = []
    for literal, name, spec, conversion in string.Formatter().parse(template):
        if literal:
            parts.append(literal)
        if name is None:
            continue
        value = fields[name]
        if isinstance(value, Figure):
            parts.append(value)
        else:
            parts.append(format(str(value) if conversion == "s" else value, spec or ""))
    merged: list[str | Figure] = []
    for part in parts:  # adjacent strings in one piece, so the HTML has no needless spans
        if merged and isinstance(part, str) and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    return Sentence(tuple(merged), topic)


def metric_figure(
    report: ReportContext,
    metric_id: str,
    period: str = "current",
    segment: dict[str, str] | None = None,
    *,
    style: str | None = None,
) -> Figure | None:
    """The metric's value (total, or one segment's) as a figure; None when not measurable.

    ``style`` is a formatter method (``money``, ``percent``, ``multiple``, ``number``);
    default: the metric's own display.
    """
    segment = dict(segment or {})
    if segment:
        ((dimension, name),) = segment.items()
        series = report.value(metric_id, period, dimension)
        value = None if series is None or name not in series.index else series[name]
    else:
        value = report.value(metric_id, period)
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    fmt = report.formatter
    text = getattr(fmt, style)(value) if style else fmt.metric(report.metrics[metric_id], value)
    return Figure(text, metric_id, float(value), period, segment)


def distinct(sentences: list[Sentence]) -> list[Sentence]:
    """The sentences in order, without repeating one already said (same text)."""
    seen: set[str] = set()
    out = []
    for sentence in sentences:
        if sentence.text not in seen:
            seen.add(sentence.text)
            out.append(sentence)
    return out
