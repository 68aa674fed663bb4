"""The PDF is laid out around placeholders while the charts are drawn, then the charts go in.

A chart's size is known before it is drawn (``chart_drawing.figure_size``: matplotlib's
constrained layout fits labels and legend inside a fixed figure), so the render worker hands
WeasyPrint an empty SVG of that size and swaps the drawn chart in before the pages are drawn.
These tests hold the two ends of that contract: every kind of chart is exactly its placeholder's
size, and the PDF made this way equals the PDF made with the charts in the HTML from the start
— also when a placeholder is wrong and the pages are laid out again.
"""

from __future__ import annotations

import base64
import re
from functools import partial

import pytest

from roistory import pdf
from roistory.chart_colours import chart_style
from roistory.chart_drawing import draw, figure_size, placeholder_svg
from roistory.charts import goal_chart, horizontal_bars, line_chart, range_chart
from roistory.formatting import Formatter

FMT = Formatter("en", "USD")
MODELS = {  # the attribution chart's legend: long names, two of them CJK
    name: [0.1, 0.4, 0.5]
    for name in (
        "First touch",
        "Last touch",
        "Last non-direct touch",
        "Linear",
        "Time decay",
        "Position based (U-shaped)",
        "Markov chain (removal effect)",
        "馬可夫鏈（移除效果）",
        "Shapley 值",
    )
}
CHANNELS = ["Paid Search", "LinkedIn Ads", "付費社群"]


class Recorder:
    """Catches what roistory.charts hands to the drawing (kind and arguments) instead of drawing."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, dict]] = []

    def send_chart(self, kind, payload):
        import pickle

        self.jobs.append((kind, pickle.loads(payload)))

    def collect_charts(self):
        return [None] * len(self.jobs)


def _jobs() -> list[tuple[str, dict]]:
    from roistory.charts import drawing_elsewhere

    recorder = Recorder()
    with chart_style({}), drawing_elsewhere(recorder):
        horizontal_bars(CHANNELS, {"Spend": [1.0, 2.0, 3.0], "Revenue": [2.0, 1.0, 4.0]}, value_format=FMT.number)
        horizontal_bars(CHANNELS, {"Spend": [1.0, 2.0, 3.0]}, value_format=FMT.number)
        line_chart(
            ["Oct", "Nov", "Dec"], {"Spend": [1.0, 2.0, 3.0], "Revenue": [2.0, 3.0, 1.0]}, value_format=FMT.number
        )
        range_chart(CHANNELS, MODELS, value_format=partial(FMT.as_display, "percent"))
        goal_chart(["Oct", "Nov", "Dec"], [1.0, 2.0, 3.0], 2.5, value_format=FMT.number)
    return recorder.jobs


def _svg(uri: str) -> bytes:
    return base64.b64decode(uri.split(",", 1)[1])


def _size(svg: bytes) -> tuple[str, str, str]:
    root = re.search(rb"<svg [^>]*>", svg)[0].decode()
    return tuple(re.search(rf'{name}="([^"]+)"', root)[1] for name in ("width", "height", "viewBox"))


@pytest.mark.parametrize("job", range(5), ids=["bars", "bars-one-series", "lines", "range", "goal"])
def test_a_chart_is_exactly_its_placeholder_size(job):
    kind, arguments = _jobs()[job]
    drawn, placeholder = _size(_svg(draw(kind, arguments))), _size(_svg(placeholder_svg(kind, arguments)))
    assert drawn == placeholder
    width, height = figure_size(kind, arguments)
    assert float(drawn[0].removesuffix("pt")) == pytest.approx(width * 72, abs=1e-4)
    assert float(drawn[1].removesuffix("pt")) == pytest.approx(height * 72, abs=1e-4)


def test_the_attribution_chart_is_never_taller_than_its_page_shows_it(recwarn):
    """report.css caps the attribution section's chart at a height; a taller SVG would be scaled
    down, its 9 pt labels printed at 6 pt. Ten channels and nine models (a four-row legend)
    fill exactly that height, drawn without a layout warning."""
    from pathlib import Path

    css = (Path(__file__).parents[1] / "templates" / "report.css").read_text()
    cap_mm = float(re.search(r"\.section-attribution figure\.chart img \{ max-height: ([\d.]+)mm", css)[1])
    channels = [*CHANNELS, "Email", "Direct", "Content", "Events", "Paid Social", "Referral", "Display"]
    kind, arguments = _jobs()[3]
    arguments = {**arguments, "labels": channels, "series": {n: [0.1] * len(channels) for n in MODELS}}
    few = {**arguments, "labels": channels[:3], "series": {n: [0.1] * 3 for n in MODELS}}
    assert figure_size(kind, arguments)[1] * 25.4 == pytest.approx(cap_mm)
    assert figure_size(kind, few)[1] * 25.4 < cap_mm  # a short chart keeps its own height
    many = {**arguments, "labels": [f"Channel {i}" for i in range(18)], "series": {n: [0.1] * 18 for n in MODELS}}
    assert figure_size(kind, many)[1] * 25.4 > cap_mm  # rows of 9 pt labels are not squeezed: taller, scaled
    drawn = _size(_svg(draw(kind, arguments)))
    assert float(drawn[1].removesuffix("pt")) / 72 * 25.4 == pytest.approx(cap_mm, abs=1e-3)
    assert not [w for w in recwarn if "layout" in str(w.message)]


def test_a_long_legend_takes_rows_not_width():
    """Nine model names do not fit in one row of the chart's width: the legend wraps and the
    figure grows by its extra rows, instead of the legend running past the chart's edge."""
    kind, arguments = _jobs()[3]
    one_row = {**arguments, "series": dict(list(MODELS.items())[:2])}
    assert figure_size(kind, arguments)[1] > figure_size(kind, one_row)[1]
    assert figure_size(kind, arguments)[0] == figure_size(kind, one_row)[0] == arguments["width"]


class Charts:
    """A ChartSource over drawn charts; ``wrong`` gives a placeholder of another size."""

    def __init__(self, jobs, wrong: bool = False) -> None:
        self.uris = [draw(kind, arguments) for kind, arguments in jobs]
        self.placeholders = [placeholder_svg(kind, arguments) for kind, arguments in jobs]
        if wrong:
            self.placeholders[0] = placeholder_svg("goal_chart", {"width": 1.0})
        self.asked_for_drawn: list[str] = []

    def _index(self, url):
        return int(url.removeprefix("chart:")) if url.startswith("chart:") else None

    def placeholder(self, url):
        index = self._index(url)
        return None if index is None else self.placeholders[index]

    def drawn(self, url):
        index = self._index(url)
        if index is not None:
            self.asked_for_drawn.append(url)
        return None if index is None else self.uris[index]

    def ahead(self, url):
        return None  # drawn when its page is (tests/test_chart_operators.py has the forks' drawings)


def _html(sources: list[str]) -> str:
    figures = "".join(f'<h2>Chart {i}</h2><img src="{src}" style="max-width: 100%">' for i, src in enumerate(sources))
    return f"<html><body>{figures}</body></html>"


@pytest.mark.parametrize("wrong", [False, True], ids=["swapped-in", "laid-out-again"])
def test_the_pdf_equals_one_laid_out_with_the_charts(tmp_path, monkeypatch, wrong):
    jobs = _jobs()
    charts = Charts(jobs, wrong=wrong)
    swapped = []
    swap = pdf._swap_in_charts

    def spy(cache, source):
        swapped.append(swap(cache, source))
        return swapped[-1]

    monkeypatch.setattr(pdf, "_swap_in_charts", spy)
    made = pdf.pdf_bytes(
        _html([f"chart:{i}" for i in range(len(jobs))]), f"{tmp_path}/", [], charts=charts, variant="none"
    )
    inline = pdf.pdf_bytes(_html(charts.uris), f"{tmp_path}/", [], variant="none")
    assert made == inline
    assert swapped == [not wrong]  # a wrong placeholder is caught and the pages laid out again
    assert sorted(set(charts.asked_for_drawn)) == sorted(f"chart:{i}" for i in range(len(jobs)))


LONG = "Brand - Exact - Spring promotion for returning customers in the northern region (test)"


@pytest.mark.parametrize(
    "label", [LONG, "x" * 150, "付費搜尋廣告" * 10, "Paid Search"], ids=["words", "one-word", "cjk", "short"]
)
def test_a_long_label_is_fitted_in_two_lines_of_its_share(label):
    from roistory.chart_drawing import LABEL_SHARE, _text_points, fitted_label

    fitted = fitted_label(label, 6.8)
    lines = fitted.split("\n")
    assert len(lines) in (1, 2)
    assert all(_text_points(line, 9) <= LABEL_SHARE * 6.8 * 72 for line in lines)
    if _text_points(label, 9) <= LABEL_SHARE * 6.8 * 72:
        assert fitted == label  # a label that fits is left alone
    else:
        assert fitted.replace("\n", " ").removesuffix("…") in label or fitted.endswith("…")


def test_long_labels_keep_the_chart_its_placeholder_size(recwarn):
    kind, arguments = _jobs()[0]
    arguments = {**arguments, "labels": [LONG, "x" * 150, "Email"], "series": {"Spend": [1.0, 2.0, 3.0]}}
    assert _size(_svg(draw(kind, arguments))) == _size(_svg(placeholder_svg(kind, arguments)))
    assert not [w for w in recwarn if "constrained_layout" in str(w.message)]


def test_a_chart_that_cannot_fit_its_size_is_cropped_to_its_ink_without_a_warning(recwarn):
    """Far too narrow for its labels: matplotlib's layout gives up, the chart is drawn as before
    (cropped to what it draws), and the PDF lays its pages out again (the test above)."""
    kind, arguments = _jobs()[3]
    arguments = {**arguments, "width": 0.6}
    svg = _svg(draw(kind, arguments))
    assert b"<svg" in svg and _size(svg) != _size(_svg(placeholder_svg(kind, arguments)))
    assert not [w for w in recwarn if "constrained_layout" in str(w.message)]
