"""The report's charts as SVG data URIs: colours from the report's brand, drawn elsewhere when possible.

Each function picks its colours here, in the order the charts are asked for (a name keeps its
first colour in every chart: :mod:`roistory.chart_colours`), then hands the drawing to
:func:`roistory.chart_drawing.draw`. Inside :func:`drawing_elsewhere` (the renderer uses it around
the sections) a chart whose arguments can be sent goes to the render worker, which has matplotlib
loaded and a core to itself while this process computes the next sections: the call returns a
placeholder at once (a URL the worker's PDF fetcher answers, so the PDF's layout need not wait
for the last chart), and :meth:`ChartBatch.resolve` swaps each placeholder for its SVG. Anything
else — no worker, a tick format that cannot be sent (a lambda), a worker that fails — is drawn
here, with the same result byte for byte.
"""

from __future__ import annotations

import pickle
import re
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

from roistory.chart_colours import current_style


class ChartWorker(Protocol):
    def send_chart(self, kind: str, payload: bytes) -> None: ...

    def collect_charts(self) -> list[str | None]: ...


def draw_here(kind: str, arguments: dict) -> str:
    from roistory.chart_drawing import draw  # matplotlib loads only when this process draws

    return draw(kind, arguments)


class ChartBatch:
    """The charts of one report sent to a worker: placeholders out, SVGs in."""

    def __init__(self, worker: ChartWorker) -> None:
        self._worker: ChartWorker | None = worker
        # a URL the render worker's PDF fetcher answers; no data value can spell it
        self.prefix = f"roistory-chart:{secrets.token_hex(8)}/"
        self._jobs: list[tuple[str, dict]] = []
        self._drawn: list[str] | None = None

    def submit(self, kind: str, arguments: dict) -> str:
        if self._worker is not None:
            try:
                payload = pickle.dumps(arguments)
            except (pickle.PicklingError, AttributeError, TypeError):  # a lambda or a local function
                return draw_here(kind, arguments)
            try:
                self._worker.send_chart(kind, payload)
            except Exception:  # noqa: BLE001  (the worker is gone: draw the rest here)
                self._worker = None
            else:
                self._jobs.append((kind, arguments))
                return f"{self.prefix}{len(self._jobs) - 1}"
        return draw_here(kind, arguments)

    def resolve(self, value: Any) -> Any:
        """``value`` (a section's context) with every placeholder replaced by its chart."""
        if not self._jobs:
            return value
        if self._drawn is None or len(self._drawn) < len(self._jobs):
            self._drawn = (self._drawn or []) + self._collect(len(self._drawn or []))
        drawn = self._drawn
        pattern = re.compile(re.escape(self.prefix) + r"(\d+)")

        def swap(item: Any) -> Any:
            if isinstance(item, str):
                if self.prefix not in item:
                    return item
                return type(item)(pattern.sub(lambda m: drawn[int(m[1])], item))  # Markup stays Markup
            if isinstance(item, dict):
                return {key: swap(v) for key, v in item.items()}
            if isinstance(item, list | tuple):
                return type(item)(swap(v) for v in item)
            return item

        return swap(value)

    def _collect(self, start: int) -> list[str]:
        """The charts from job ``start`` on (the worker sends those drawn since it last sent)."""
        jobs = self._jobs[start:]
        try:
            drawn = self._worker.collect_charts() if self._worker is not None else []
        except Exception:  # noqa: BLE001  (the worker died: its charts are drawn below)
            self._worker, drawn = None, []
        drawn = list(drawn)[: len(jobs)] + [None] * (len(jobs) - len(drawn))
        return [svg if svg is not None else draw_here(*job) for svg, job in zip(drawn, jobs, strict=True)]


_batch: ContextVar[ChartBatch | None] = ContextVar("roistory_chart_batch", default=None)


@contextmanager
def drawing_elsewhere(worker: ChartWorker | None) -> Iterator[ChartBatch | None]:
    """Charts asked for inside go to ``worker`` (None: drawn here as they are asked for)."""
    batch = ChartBatch(worker) if worker is not None else None
    token = _batch.set(batch)
    try:
        yield batch
    finally:
        _batch.reset(token)


def _draw(kind: str, arguments: dict) -> str:
    batch = _batch.get()
    return batch.submit(kind, arguments) if batch is not None else draw_here(kind, arguments)


def horizontal_bars(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    value_format=str,
    colors: Sequence[str] | None = None,
    width: float = 6.8,
    color_by_label: bool = False,
) -> str:
    """Grouped horizontal bars, one group per label, one bar per series.

    ``color_by_label``: each label (a channel) in its report colour, the series told apart by
    shade (the first lightest), so a channel looks the same in every chart."""
    style = current_style()
    series = {name: list(values) for name, values in series.items()}
    label_colours = [style.color(str(label)) for label in labels] if color_by_label else None
    if color_by_label:
        series_colours = None
    else:
        series_colours = [colors[i % len(colors)] if colors else style.color(name) for i, name in enumerate(series)]
    return _draw(
        "horizontal_bars",
        {
            "labels": list(labels),
            "series": series,
            "value_format": value_format,
            "width": width,
            "series_colours": series_colours,
            "label_colours": label_colours,
            "font_family": style.font_family,
        },
    )


def line_chart(
    x_labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    value_format=str,
    colors: Sequence[str] | None = None,
    width: float = 6.8,
    height: float = 2.4,
) -> str:
    """Lines over time (e.g. monthly trend), one per series; month labels may hold a line break."""
    style = current_style()
    series = {name: list(values) for name, values in series.items()}
    return _draw(
        "line_chart",
        {
            "x_labels": list(x_labels),
            "series": series,
            "value_format": value_format,
            "width": width,
            "height": height,
            "series_colours": [
                colors[i % len(colors)] if colors else style.color(name) for i, name in enumerate(series)
            ],
            "font_family": style.font_family,
        },
    )


def goal_chart(
    x_labels: Sequence[str], values: Sequence[float], target: float, *, value_format=str, width: float = 3.2
) -> str:
    """A metric's values with the goal's target as a dashed line."""
    style = current_style()
    return _draw(
        "goal_chart",
        {
            "x_labels": list(x_labels),
            "values": list(values),
            "target": target,
            "value_format": value_format,
            "width": width,
            "line_colour": style.palette[0],
            "target_colour": style.palette[min(2, len(style.palette) - 1)],
            "font_family": style.font_family,
        },
    )


def range_chart(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    value_format=str,
    colors: Sequence[str] | None = None,
    width: float = 6.8,
) -> str:
    """Per label, a bar from the lowest to the highest value and a marker per series:
    shows at a glance how far the series (e.g. attribution models) disagree. The bar has the
    label's (channel's) report colour, lightened; the series differ by marker shape."""
    style = current_style()
    series = {name: list(values) for name, values in series.items()}
    return _draw(
        "range_chart",
        {
            "labels": list(labels),
            "series": series,
            "value_format": value_format,
            "width": width,
            "label_colours": [style.color(str(label)) for label in labels],
            "marker_colours": [colors[i % len(colors)] if colors else "#2c3e50" for i in range(len(series))],
            "font_family": style.font_family,
        },
    )
