"""Vector charts (matplotlib SVG) embedded as data: URIs, deterministic byte for byte.

Colours and font come from the report's brand (:mod:`roistory.chart_colours`).
"""

from __future__ import annotations

import base64
import io
import math
import warnings
from collections.abc import Sequence

import matplotlib

matplotlib.use("svg")  # no GUI backend, and the SVG canvas is what we emit

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from roistory.chart_colours import current_style, tint  # noqa: E402

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


def svg_data_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    with matplotlib.rc_context(_RC), warnings.catch_warnings():
        # CJK labels: matplotlib measures them with DejaVu and warns; the PDF's font fallback draws them
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    # Add the CJK fallback as WeasyPrint reads it: an unquoted list without spaces after commas
    # (it drops the second family of matplotlib's quoted form) and the Traditional Chinese face.
    family = ",".join(f for f in (current_style().font_family, FALLBACK_FONTS) if f)
    svg = buffer.getvalue().replace(b"font-family: 'DejaVu Sans'", b"font-family: " + family.encode("ascii"))
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(_RC):
        return Figure(figsize=(width, height))


def _legend_above(ax, handles=None, columns: int = 4) -> None:
    """The legend in a row above the plot: never on top of a bar or a line."""
    kwargs = {"handles": handles} if handles is not None else {}
    ax.legend(
        frameon=False,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncols=columns,
        fontsize=8,
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
    value_format=str,
    colors: Sequence[str] | None = None,
    width: float = 6.8,
    color_by_label: bool = False,
) -> str:
    """Grouped horizontal bars, one group per label, one bar per series.

    ``color_by_label``: each label (a channel) in its report colour, the series told apart by
    shade (the first lightest), so a channel looks the same in every chart."""
    style = current_style()
    with matplotlib.rc_context(_RC):
        # bars stay readable but the chart never takes more than about half a page
        fig = _figure(width, min(4.2, 0.2 * len(labels) * max(1, len(series)) + 0.9))
        ax = fig.add_subplot()
        n = len(series)
        height = 0.8 / n
        positions = range(len(labels))
        handles = []
        for i, (name, values) in enumerate(series.items()):
            offsets = [p + (i - (n - 1) / 2) * height for p in positions]
            clean = [0.0 if v != v else v for v in values]  # NaN bars are drawn empty
            shade = 0.55 * (n - 1 - i) / max(1, n - 1)  # first series lightest, last solid
            if color_by_label:
                bar_colours = [tint(style.color(str(label)), shade) for label in labels]
                handles.append(Patch(color=tint("#5d6d7e", shade), label=name))
            else:
                bar_colours = colors[i % len(colors)] if colors else style.color(name)
            ax.barh(offsets, clean, height=height * 0.92, color=bar_colours, label=name)
        ax.set_yticks(list(positions), labels)
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: value_format(v)))
        ax.axvline(0, color="#9aa5b1", linewidth=0.8)
        if n > 1:
            _legend_above(ax, handles if color_by_label else None)
        ax.grid(axis="x", color="#e5e8eb", linewidth=0.6)
        ax.set_axisbelow(True)
        return svg_data_uri(fig)


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
    with matplotlib.rc_context(_RC):
        fig = _figure(width, height)
        ax = fig.add_subplot()
        for i, (name, values) in enumerate(series.items()):
            colour = colors[i % len(colors)] if colors else style.color(name)
            ax.plot(range(len(x_labels)), values, marker="o", markersize=3, color=colour, label=name)
        step = _tick_step(x_labels, width)
        ticks = list(range(len(x_labels)))[::-1][::step][::-1]  # always label the report's own (last) month
        ax.set_xticks(ticks, [x_labels[t] for t in ticks])
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: value_format(v)))
        ax.grid(axis="y", color="#e5e8eb", linewidth=0.6)
        if len(series) > 1:
            _legend_above(ax, columns=min(4, len(series)))
        return svg_data_uri(fig)


def goal_chart(
    x_labels: Sequence[str], values: Sequence[float], target: float, *, value_format=str, width: float = 3.2
) -> str:
    """A metric's values with the goal's target as a dashed line."""
    style = current_style()
    with matplotlib.rc_context(_RC):
        fig = _figure(width, 1.6)
        ax = fig.add_subplot()
        ax.plot(range(len(values)), values, marker="o", markersize=2.5, color=style.palette[0])
        ax.axhline(target, color=style.palette[min(2, len(style.palette) - 1)], linestyle="--", linewidth=1)
        step = _tick_step(x_labels, width, 7)
        ticks = list(range(len(x_labels)))[::-1][::step][::-1]
        ax.set_xticks(ticks, [x_labels[t] for t in ticks])
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: value_format(v)))
        ax.tick_params(labelsize=7)
        return svg_data_uri(fig)


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
    with matplotlib.rc_context(_RC):
        fig = _figure(width, min(4.6, 0.3 * len(labels) + 1.1))
        ax = fig.add_subplot()
        matrix = [[(v if v == v else 0.0) for v in values] for values in series.values()]
        for row, label in enumerate(labels):
            column = [values[row] for values in matrix]
            ax.plot(
                [min(column), max(column)],
                [row, row],
                color=tint(style.color(str(label)), 0.45),
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
                color=colors[i % len(colors)] if colors else "#2c3e50",
                marker=markers[i % len(markers)],
                label=name,
                zorder=2,
                linewidths=0,
            )
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: value_format(v)))
        ax.grid(axis="x", color="#e5e8eb", linewidth=0.6)
        ax.set_axisbelow(True)
        _legend_above(ax, columns=min(4, len(series)))
        return svg_data_uri(fig)
