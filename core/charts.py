"""Vector charts (matplotlib SVG) embedded as data: URIs, deterministic byte for byte."""

from __future__ import annotations

import base64
import io
import warnings
from collections.abc import Sequence

import matplotlib

matplotlib.use("svg")  # no GUI backend, and the SVG canvas is what we emit

from matplotlib.figure import Figure  # noqa: E402

PALETTE = ("#1f4e79", "#2e86c1", "#48c9b0", "#f5b041", "#dc7633", "#af7ac5", "#7f8c8d", "#c0392b")

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
    svg = buffer.getvalue().replace(b"font-family: 'DejaVu Sans'", b"font-family: DejaVu Sans,Noto Sans CJK TC")
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(_RC):
        return Figure(figsize=(width, height))


def horizontal_bars(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    value_format=str,
    colors: Sequence[str] = PALETTE,
    width: float = 6.8,
) -> str:
    """Grouped horizontal bars, one group per label, one bar per series."""
    with matplotlib.rc_context(_RC):
        # bars stay readable but the chart never takes more than about half a page
        fig = _figure(width, min(4.2, 0.16 * len(labels) * max(1, len(series)) + 0.7))
        ax = fig.add_subplot()
        n = len(series)
        height = 0.8 / n
        positions = range(len(labels))
        for i, (name, values) in enumerate(series.items()):
            offsets = [p + (i - (n - 1) / 2) * height for p in positions]
            clean = [0.0 if v != v else v for v in values]  # NaN bars are drawn empty
            ax.barh(offsets, clean, height=height * 0.92, color=colors[i % len(colors)], label=name)
        ax.set_yticks(list(positions), labels)
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: value_format(v)))
        ax.axvline(0, color="#9aa5b1", linewidth=0.8)
        if n > 1:
            ax.legend(frameon=False, loc="lower right")
        ax.grid(axis="x", color="#e5e8eb", linewidth=0.6)
        ax.set_axisbelow(True)
        return svg_data_uri(fig)


def line_chart(
    x_labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    value_format=str,
    colors: Sequence[str] = PALETTE,
    width: float = 6.8,
    height: float = 2.4,
) -> str:
    """Lines over time (e.g. monthly trend), one per series."""
    with matplotlib.rc_context(_RC):
        fig = _figure(width, height)
        ax = fig.add_subplot()
        for i, (name, values) in enumerate(series.items()):
            ax.plot(range(len(x_labels)), values, marker="o", markersize=3, color=colors[i % len(colors)], label=name)
        ax.set_xticks(range(len(x_labels)), x_labels)
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: value_format(v)))
        ax.grid(axis="y", color="#e5e8eb", linewidth=0.6)
        if len(series) > 1:
            ax.legend(frameon=False, ncols=min(4, len(series)), loc="upper left", fontsize=8)
        return svg_data_uri(fig)


def goal_chart(
    x_labels: Sequence[str], values: Sequence[float], target: float, *, value_format=str, width: float = 3.2
) -> str:
    """A metric's monthly values with the goal's target as a dashed line."""
    with matplotlib.rc_context(_RC):
        fig = _figure(width, 1.5)
        ax = fig.add_subplot()
        ax.plot(range(len(values)), values, marker="o", markersize=2.5, color=PALETTE[0])
        ax.axhline(target, color=PALETTE[4], linestyle="--", linewidth=1)
        ax.set_xticks(range(len(x_labels))[:: max(1, len(x_labels) // 4)], list(x_labels)[:: max(1, len(x_labels) // 4)])
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: value_format(v)))
        ax.tick_params(labelsize=7)
        return svg_data_uri(fig)


def range_chart(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    value_format=str,
    colors: Sequence[str] = PALETTE,
    width: float = 6.8,
) -> str:
    """Per label, a bar from the lowest to the highest value and a dot per series:
    shows at a glance how far the series (e.g. attribution models) disagree."""
    with matplotlib.rc_context(_RC):
        fig = _figure(width, min(4.6, 0.3 * len(labels) + 0.9))
        ax = fig.add_subplot()
        matrix = [[(v if v == v else 0.0) for v in values] for values in series.values()]
        for row, _label in enumerate(labels):
            column = [values[row] for values in matrix]
            ax.plot([min(column), max(column)], [row, row], color="#d5dbe1", linewidth=7, solid_capstyle="round", zorder=1)
        markers = "oDs^vP*X"
        for i, (name, values) in enumerate(zip(series, matrix, strict=True)):
            ax.scatter(values, range(len(labels)), s=22, color=colors[i % len(colors)], marker=markers[i % len(markers)],
                       label=name, zorder=2, linewidths=0)
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: value_format(v)))
        ax.grid(axis="x", color="#e5e8eb", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.legend(frameon=False, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
        return svg_data_uri(fig)
