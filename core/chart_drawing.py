"""Drawing the report's charts with matplotlib: SVG data URIs, deterministic byte for byte.

Every colour and the font arrive resolved (:mod:`roistory.charts` picks them from the report's
brand), so a chart draws the same in this process or in the render worker.
"""

from __future__ import annotations

import base64
import functools
import io
import math
import re
import unicodedata
import warnings
from collections.abc import Sequence

import matplotlib
import numpy as np

matplotlib.use("svg")  # no GUI backend, and the SVG canvas is what we emit

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.textpath import TextToPath  # noqa: E402

from roistory.chart_colours import tint  # noqa: E402
from roistory.chart_operators import CHART_CLASS  # noqa: E402

FALLBACK_FONTS = "DejaVu Sans,Noto Sans CJK TC"  # WeasyPrint reads an SVG family list without spaces

_RC = {
    "svg.fonttype": "none",  # text stays text: report fonts and CJK fallback apply
    "svg.hashsalt": "roistory",  # stable element ids
    # one family only: WeasyPrint drops the 2nd family of matplotlib's quoted list
    "font.family": ["DejaVu Sans"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#9aa5b1",
    "axes.labelcolor": "#333333",
    "xtick.color": "#333333",
    "ytick.color": "#333333",
}


def svg_data_uri(figure: Figure, font_family: str | None = None) -> str:
    buffer = io.BytesIO()
    with matplotlib.rc_context(_RC), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure.savefig(buffer, format="svg", metadata={"Date": None})
        if any("constrained_layout not applied" in str(w.message) for w in caught):
            # labels and legend do not fit the chart's size: crop the figure to its ink instead (a
            # chart of another size than its placeholder makes the PDF lay its pages out again)
            figure.set_layout_engine("none")
            buffer = io.BytesIO()
            figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    for warning in caught:
        # CJK labels: matplotlib measures them with DejaVu and warns; the PDF's font fallback draws them
        if not re.search("Glyph .* missing from font|constrained_layout not applied", str(warning.message)):
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    # Add the CJK fallback as WeasyPrint reads it: an unquoted list without spaces after commas
    # (it drops the second family of matplotlib's quoted form) and the Traditional Chinese face.
    family = ",".join(f for f in (font_family, FALLBACK_FONTS) if f)
    svg = buffer.getvalue().replace(b"font-family: 'DejaVu Sans'", b"font-family: " + family.encode("ascii"))
    # marked as the report's own: the PDF draws it ahead of its page (roistory.chart_operators)
    svg = svg.replace(b"<svg ", f'<svg class="{CHART_CLASS}" '.encode("ascii"), 1)
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


LABEL_SHARE = 0.36  # of a chart's width, at most, for its category labels


def fitted_label(label: object, width: float) -> str:
    """A category label in at most two lines that fit ``LABEL_SHARE`` of the chart's width,
    cut with an ellipsis beyond that (the table beside the chart has it whole)."""
    room = LABEL_SHARE * width * 72
    # no glyph is narrower than a quarter em: more characters than this never fit in two lines
    words, lines = str(label)[: int(2 * room / (0.25 * 9)) + 1].split(), [""]
    for word in words:
        candidate = f"{lines[-1]} {word}".strip()
        if _text_points(candidate, 9) <= room or not lines[-1]:
            lines[-1] = candidate
        elif len(lines) < 2:
            lines.append(word)
        else:
            lines[-1] = candidate
    for i, line in enumerate(lines):
        if _text_points(line, 9) > room:  # the longest start that fits with an ellipsis
            fits, too_long = 0, len(line)
            while too_long - fits > 1:
                middle = (fits + too_long) // 2
                fits, too_long = (middle, too_long) if _text_points(line[:middle] + "…", 9) <= room else (fits, middle)
            lines[i] = line[:fits].rstrip() + "…"
    return "\n".join(lines)


def _label_lines(arguments: dict) -> list[int]:
    return [fitted_label(label, arguments["width"]).count("\n") + 1 for label in arguments.get("labels", [])]


def figure_size(kind: str, arguments: dict) -> tuple[float, float]:
    """A chart's size in inches, known before it is drawn: the SVG is exactly this size (matplotlib's
    constrained layout fits the labels and legend inside), so the PDF's layout can reserve its
    place while the chart is still being drawn (:func:`placeholder_svg`)."""
    width = arguments["width"]
    names = _legend_names(kind, arguments)
    # a legend of several rows gets their height on top of the plot's
    legend = (_legend_layout(names, _legend_room(kind, arguments))[1] - 1) * LEGEND_ROW_INCHES if names else 0.0
    if kind == "horizontal_bars":  # readable bars (and two-line labels), never more than about half a page
        rows = sum(max(len(arguments["series"]), 1, lines) for lines in _label_lines(arguments))
        height = min(4.2, 0.2 * rows + 0.9)
    elif kind == "range_chart":
        # legend included, no taller than the page shows it (never scaled down) while a row stays a
        # label's height; a chart of many channels is taller (at most 4.6 in), and the page scales it
        rows = len(arguments["labels"])
        height = min(max(RANGE_CHART_MAX_INCHES - legend, 0.16 * rows + 0.9), 0.22 * rows + 0.9, 4.6)
    elif kind == "goal_chart":
        height = 1.6
    else:
        height = arguments["height"]
    return width, height + legend


LEGEND_FONT_SIZE = 8
RANGE_CHART_MAX_INCHES = 80 / 25.4  # report.css: .section-attribution figure.chart img { max-height: 80mm }
LEGEND_ROW_INCHES = 0.17
_MEASURE = TextToPath()


@functools.lru_cache(maxsize=4096)  # a report measures the same labels for every chart
def _text_points(text: str, size: float) -> float:
    """The width of ``text`` at ``size`` in DejaVu Sans (matplotlib's measure); a CJK character
    counts a full em, as the PDF sets it in Noto Sans CJK."""
    narrow = "".join(c for c in text if unicodedata.east_asian_width(c) not in "WF")
    wide = len(text) - len(narrow)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        measured = _MEASURE.get_text_width_height_descent(
            narrow, FontProperties(family="DejaVu Sans", size=size), False
        )
    return measured[0] + wide * size


def _legend_names(kind: str, arguments: dict) -> list[str]:
    """The legend's entries ([] when a chart has none)."""
    names = [str(name) for name in arguments.get("series", {})]
    return names if kind == "range_chart" or (kind in ("horizontal_bars", "line_chart") and len(names) > 1) else []


def _legend_room(kind: str, arguments: dict) -> float:
    """Inches the legend may take: it starts where the plot starts, right of the longest label."""
    if kind in ("horizontal_bars", "range_chart"):
        lines = [
            line
            for label in arguments.get("labels", [])
            for line in fitted_label(label, arguments["width"]).split("\n")
        ]
    else:
        lines = ["$000,000"]  # a value axis' tick label
    longest = max((_text_points(line, 9) for line in lines), default=0.0)
    return arguments["width"] - longest / 72 - 0.25


def _legend_layout(names: list[str], room: float, most: int = 4) -> tuple[int, int]:
    """(columns, rows) of the widest legend that fits in ``room`` inches, at most ``most`` columns.
    An entry is its marker, the gaps (in ems, matplotlib's) and its text; matplotlib fills the
    columns top to bottom, the first ones a row longer."""
    size = LEGEND_FONT_SIZE
    entries = [_text_points(name, size) + (1.2 + 0.8 + 2.0) * size for name in names]
    for columns in range(min(most, len(names)), 1, -1):
        widths = [max(column) for column in np.array_split(np.array(entries), columns)]
        if sum(widths) <= room * 72:
            return columns, math.ceil(len(names) / columns)
    return 1, len(names)


def _points(inches: float) -> str:
    return f"{inches * 72:f}".rstrip("0").rstrip(".")  # as matplotlib's SVG writes a size


def placeholder_svg(kind: str, arguments: dict) -> str:
    """An empty SVG of the chart's size (:func:`figure_size`), written as matplotlib writes it."""
    width, height = (_points(inches) for inches in figure_size(kind, arguments))
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}pt" height="{height}pt" '
        f'viewBox="0 0 {width} {height}"></svg>'
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("ascii")).decode("ascii")


def _figure(kind: str, arguments: dict) -> Figure:
    with matplotlib.rc_context(_RC):
        figure = Figure(figsize=figure_size(kind, arguments), layout="constrained")
    figure.get_layout_engine().set(w_pad=4 / 72, h_pad=4 / 72)  # inches
    return figure


def _legend_above(ax, kind: str, arguments: dict, handles=None) -> None:
    """The legend in rows above the plot, never on top of a bar or a line, never wider than the chart."""
    kwargs = {"handles": handles} if handles is not None else {}
    columns, _rows = _legend_layout(_legend_names(kind, arguments), _legend_room(kind, arguments))
    ax.legend(
        frameon=False,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncols=columns,
        fontsize=LEGEND_FONT_SIZE,
        borderaxespad=0.2,
        handlelength=1.2,
        **kwargs,
    )


def _tick_step(labels: Sequence[str], width: float, font_size: float = 9) -> int:
    """Label every n-th tick so that the labels (their longest line) never overlap."""
    longest = max((len(line) for label in labels for line in str(label).split("\n")), default=1)
    room = width * 72 * 0.85 / max(1, len(labels))  # points per tick
    return max(1, math.ceil(longest * font_size * 0.62 / room))


def horizontal_bars(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    value_format,
    width: float,
    series_colours: Sequence[str] | None,
    label_colours: Sequence[str] | None,
    font_family: str | None,
) -> str:
    """Grouped horizontal bars (:func:`roistory.charts.horizontal_bars`): each series in its colour,
    or, with ``label_colours``, each label in its colour and the series told apart by shade."""
    with matplotlib.rc_context(_RC):
        fig = _figure("horizontal_bars", {"width": width, "labels": labels, "series": series})
        ax = fig.add_subplot()
        n = len(series)
        height = 0.8 / n
        positions = range(len(labels))
        handles = []
        for i, (name, values) in enumerate(series.items()):
            offsets = [p + (i - (n - 1) / 2) * height for p in positions]
            clean = [0.0 if v != v else v for v in values]  # NaN bars are drawn empty
            shade = 0.55 * (n - 1 - i) / max(1, n - 1)  # first series lightest, last solid
            if label_colours is not None:
                bar_colours = [tint(colour, shade) for colour in label_colours]
                handles.append(Patch(color=tint("#5d6d7e", shade), label=name))
            else:
                bar_colours = series_colours[i]
            ax.barh(offsets, clean, height=height * 0.92, color=bar_colours, label=name)
        ax.set_yticks(list(positions), [fitted_label(label, width) for label in labels])
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: value_format(v)))
        ax.axvline(0, color="#9aa5b1", linewidth=0.8)
        if n > 1:
            _legend_above(
                ax,
                "horizontal_bars",
                {"width": width, "labels": labels, "series": series},
                handles if label_colours is not None else None,
            )
        ax.grid(axis="x", color="#e5e8eb", linewidth=0.6)
        ax.set_axisbelow(True)
        return svg_data_uri(fig, font_family)


def line_chart(
    x_labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    value_format,
    width: float,
    height: float,
    series_colours: Sequence[str],
    font_family: str | None,
) -> str:
    """Lines over time (:func:`roistory.charts.line_chart`)."""
    with matplotlib.rc_context(_RC):
        fig = _figure("line_chart", {"width": width, "height": height, "series": series})
        ax = fig.add_subplot()
        for (name, values), colour in zip(series.items(), series_colours, strict=True):
            ax.plot(range(len(x_labels)), values, marker="o", markersize=3, color=colour, label=name)
        step = _tick_step(x_labels, width)
        ticks = list(range(len(x_labels)))[::-1][::step][::-1]  # always label the report's own (last) month
        ax.set_xticks(ticks, [x_labels[t] for t in ticks])
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: value_format(v)))
        ax.grid(axis="y", color="#e5e8eb", linewidth=0.6)
        if len(series) > 1:
            _legend_above(ax, "line_chart", {"width": width, "series": series})
        return svg_data_uri(fig, font_family)


def goal_chart(
    x_labels: Sequence[str],
    values: Sequence[float],
    target: float,
    *,
    value_format,
    width: float,
    line_colour: str,
    target_colour: str,
    font_family: str | None,
) -> str:
    """A metric's values with the goal's target as a dashed line (:func:`roistory.charts.goal_chart`)."""
    with matplotlib.rc_context(_RC):
        fig = _figure("goal_chart", {"width": width})
        ax = fig.add_subplot()
        ax.plot(range(len(values)), values, marker="o", markersize=2.5, color=line_colour)
        ax.axhline(target, color=target_colour, linestyle="--", linewidth=1)
        step = _tick_step(x_labels, width, 7)
        ticks = list(range(len(x_labels)))[::-1][::step][::-1]
        ax.set_xticks(ticks, [x_labels[t] for t in ticks])
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: value_format(v)))
        ax.tick_params(labelsize=7)
        return svg_data_uri(fig, font_family)


def range_chart(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    value_format,
    width: float,
    label_colours: Sequence[str],
    marker_colours: Sequence[str],
    font_family: str | None,
) -> str:
    """Per label a bar from the lowest to the highest value, a marker per series
    (:func:`roistory.charts.range_chart`)."""
    with matplotlib.rc_context(_RC):
        fig = _figure("range_chart", {"width": width, "labels": labels, "series": series})
        ax = fig.add_subplot()
        matrix = [[(v if v == v else 0.0) for v in values] for values in series.values()]
        for row, colour in enumerate(label_colours):
            column = [values[row] for values in matrix]
            ax.plot(
                [min(column), max(column)],
                [row, row],
                color=tint(colour, 0.45),
                linewidth=7,
                solid_capstyle="round",
                zorder=1,
            )
        markers = "oDs^vP*X"
        for i, (name, values) in enumerate(zip(series, matrix, strict=True)):
            ax.scatter(
                values,
                range(len(labels)),
                s=22,
                color=marker_colours[i],
                marker=markers[i % len(markers)],
                label=name,
                zorder=2,
                linewidths=0,
            )
        ax.set_yticks(range(len(labels)), [fitted_label(label, width) for label in labels])
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: value_format(v)))
        ax.grid(axis="x", color="#e5e8eb", linewidth=0.6)
        ax.set_axisbelow(True)
        _legend_above(ax, "range_chart", {"width": width, "labels": labels, "series": series})
        return svg_data_uri(fig, font_family)


CHARTS = {
    "horizontal_bars": horizontal_bars,
    "line_chart": line_chart,
    "goal_chart": goal_chart,
    "range_chart": range_chart,
}


def draw(kind: str, arguments: dict) -> str:
    """One chart from :mod:`roistory.charts`' resolved arguments."""
    return CHARTS[kind](**arguments)
