"""Charts are drawn ahead of their pages (roistory.chart_operators), and look as WeasyPrint draws them.

The render worker's chart forks draw each chart's PDF operators while the pages are laid out;
the page then only appends them. These tests compare that with WeasyPrint's own drawing of the
same HTML (the text each label puts in the PDF, where, and the pixels of every page), check that
a drawing made in another process is used only when it is the one this document would make, and
that whatever the operators cannot carry is left to WeasyPrint.
"""

from __future__ import annotations

import base64
import io
import shutil
from pathlib import Path

import matplotlib
import pdfplumber
import pikepdf
import pytest
from PIL import Image, ImageChops, ImageFilter

from roistory import chart_operators, pdf
from roistory.chart_colours import chart_style
from roistory.chart_drawing import draw
from roistory.charts import goal_chart, horizontal_bars, line_chart, range_chart
from roistory.formatting import Formatter

FMT = Formatter("en", "USD")
BRAND_FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSerif.ttf"  # a font file at hand


def _charts() -> dict[str, str]:
    with chart_style({}):
        return {
            "bars": horizontal_bars(
                ["Paid Search", "LinkedIn Ads", "付費社群"],
                {"Spend": [1e5, 2e5, 3e4], "Revenue": [2e5, 1e5, 4e5]},
                value_format=FMT.number,
            ),
            "lines": line_chart(["Oct\n2025", "Nov\n2025", "Dec\n2025"], {"ROI": [0.5, 1.5, 1.0]}, value_format=str),
            "range": range_chart(
                ["Paid Search", "Email"], {"First touch": [0.2, 0.5], "Shapley 值": [0.3, 0.4]}, value_format=str
            ),
            "goal": goal_chart(["Oct", "Nov", "Dec"], [1.0, 2.0, 3.0], 2.5, value_format=FMT.number),
        }


CHARTS = _charts()


def _uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _html(sources: list[str], css: str = "") -> str:
    # the first copy is scaled to the column (as the report's are: an A4 column is narrower than
    # 6.8 in), the second keeps its own size
    figures = "".join(
        f'<p>Figure {i}: Paid Search 付費社群</p><img src="{src}" style="max-width: 100%"><img src="{src}">'
        for i, src in enumerate(sources)
    )
    return f"<html><head><style>@page {{ size: A4 }} {css}</style></head><body>{figures}</body></html>"


def _pdf(html: str, tmp_path: Path, monkeypatch, *, ahead: bool, roots=(), **options) -> bytes:
    with monkeypatch.context() as patch:
        if not ahead:  # WeasyPrint draws every chart itself
            patch.setattr(pdf, "_draw_charts_ahead", lambda cache: None)
        return pdf.pdf_bytes(html, f"{tmp_path}/", [str(root) for root in roots], variant="none", **options)


def _pages(document: bytes) -> list[tuple[list[tuple[str, float, float]], Image.Image]]:
    with pdfplumber.open(io.BytesIO(document)) as opened:
        return [
            (
                [(c["text"], c["x0"], c["top"]) for c in page.chars],
                page.to_image(resolution=100).original.convert("L"),
            )
            for page in opened.pages
        ]


def _glyph_widths(document: bytes) -> dict[str, dict[int, float]]:
    """Each embedded font's widths (its /W array), by font name without the subset tag."""
    fonts = {}
    with pikepdf.open(io.BytesIO(document)) as opened:
        for page in opened.pages:
            for font in page.Resources.get("/Font", {}).values():
                widths, array = {}, list(font.DescendantFonts[0].get("/W", []))
                while array:
                    first, run = int(array.pop(0)), array.pop(0)
                    widths.update({first + i: float(width) for i, width in enumerate(run)})
                fonts[str(font.BaseFont).split("+")[-1]] = widths
    return fonts


def _assert_looks_the_same(made: bytes, native: bytes) -> None:
    assert _glyph_widths(made) == _glyph_widths(native)  # what text selection and search go by
    made_pages, native_pages = _pages(made), _pages(native)
    assert len(made_pages) == len(native_pages)
    for (chars, image), (native_chars, native_image) in zip(made_pages, native_pages, strict=True):
        assert [c[0] for c in chars] == [c[0] for c in native_chars]  # every label, as text, in order
        assert (
            max((abs(a[1] - b[1]) + abs(a[2] - b[2]) for a, b in zip(chars, native_chars, strict=True)), default=0)
            < 0.01
        )
        assert image.size == native_image.size
        # a hairline may fall on the next pixel (the scale is one product more or less): a pixel
        # differs only if no pixel around it in the other image has its shade
        for one, other in ((image, native_image), (native_image, image)):
            darker = ImageChops.subtract(other.filter(ImageFilter.MinFilter(3)), one)
            lighter = ImageChops.subtract(one, other.filter(ImageFilter.MaxFilter(3)))
            changed = sum(ImageChops.lighter(darker, lighter).histogram()[40:])
            assert changed == 0, f"{changed} pixels differ"


def _count_calls(monkeypatch, module, name) -> list:
    calls = []
    original = getattr(module, name)

    def spy(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return calls


REPORT_FONTS = "body { font-family: DejaVu Sans, Noto Sans CJK TC }"  # the charts' fonts, as in the report


def test_the_charts_drawn_ahead_look_as_weasyprint_draws_them(tmp_path, monkeypatch):
    html = _html(list(CHARTS.values()), REPORT_FONTS)  # their glyphs go into fonts the text has loaded
    native = _pdf(html, tmp_path, monkeypatch, ahead=False)
    put = _count_calls(monkeypatch, chart_operators, "_put_on_page")
    made = _pdf(html, tmp_path, monkeypatch, ahead=True)
    assert len(put) == 2 * len(CHARTS)  # every copy was drawn ahead, none left to WeasyPrint
    _assert_looks_the_same(made, native)


def test_a_translucent_element_and_anchored_labels_are_carried_in_their_groups(tmp_path, monkeypatch):
    svg = (
        f'<svg class="{chart_operators.CHART_CLASS}" xmlns="http://www.w3.org/2000/svg" width="300pt" '
        'height="120pt" viewBox="0 0 300 120">'
        '<g opacity="0.5"><rect x="10" y="10" width="200" height="60" fill="#1f77b4"/>'
        '<text x="110" y="50" style="font-size: 12px; text-anchor: middle; font-family: DejaVu Sans">'
        "middle of the bar</text></g>"
        '<text x="290" y="110" style="font-size: 10px; text-anchor: end; font-family: DejaVu Sans">end</text>'
        "</svg>"
    )
    from xml.etree import ElementTree

    from weasyprint.svg import SVG
    from weasyprint.text.fonts import FontConfiguration

    drawn, _fonts = chart_operators.draw_ahead(SVG(ElementTree.fromstring(svg), None, FontConfiguration()))
    assert len(drawn.content.groups) == 2  # the translucent group (holding an anchored label) and "end"
    assert len(drawn.content.groups[0].content.groups) == 1
    html = _html([_uri(svg)])
    _assert_looks_the_same(
        _pdf(html, tmp_path, monkeypatch, ahead=True), _pdf(html, tmp_path, monkeypatch, ahead=False)
    )


class Forks:
    """A pdf.ChartSource whose charts were drawn ahead elsewhere, as the worker's forks draw them
    (another font configuration: another process's)."""

    def __init__(self, uris: list[str], fonts=None) -> None:
        fonts = fonts or chart_operators.font_configuration()  # the worker's: no @font-face loaded
        self.uris = uris
        self.drawings = [chart_operators.draw_uri_ahead(uri, fonts) for uri in uris]
        assert all(self.drawings)

    def placeholder(self, url):
        return self.drawn(url)

    def drawn(self, url):
        return self.uris[int(url.removeprefix("chart:"))] if url.startswith("chart:") else None

    def ahead(self, url):
        return self.drawings[int(url.removeprefix("chart:"))] if url.startswith("chart:") else None


def test_the_forks_drawings_are_used_and_the_pdf_equals_one_made_here(tmp_path, monkeypatch):
    forks = Forks(list(CHARTS.values()))
    here = _pdf(_html(forks.uris, REPORT_FONTS), tmp_path, monkeypatch, ahead=True)
    drawn_here = _count_calls(monkeypatch, chart_operators, "draw_ahead")
    placeholders = [f"chart:{i}" for i in range(len(forks.uris))]
    made = _pdf(_html(placeholders, REPORT_FONTS), tmp_path, monkeypatch, ahead=True, charts=forks)
    assert drawn_here == []  # every chart went in as its fork drew it
    assert made == here


@pytest.mark.parametrize("theme_fonts_loaded", [False, True], ids=["forks-without-them", "forks-with-them"])
def test_a_drawing_from_elsewhere_is_used_only_with_the_documents_font_faces(tmp_path, monkeypatch, theme_fonts_loaded):
    """With @font-face, a family may be another file in the document than in the fork that drew
    the chart: without the theme's fonts the fork fell back to DejaVu Sans (a font the document
    has too), and the chart is drawn again here; with them (the worker loads the theme's
    stylesheet before the charts) its drawing is used. The labels are in the brand's font."""
    from weasyprint import CSS

    shutil.copy(BRAND_FONT, tmp_path / "brand.ttf")
    uri = draw(
        "goal_chart",
        {
            "x_labels": ["Oct", "Nov"],
            "values": [1.0, 2.0],
            "target": 1.5,
            "value_format": str,
            "width": 3.2,
            "line_colour": "#000000",
            "target_colour": "#ff0000",
            "font_family": "Brand Sans",
        },
    )
    css = (  # both fonts in the text before the charts: only the @font-face rules can tell the drawings apart
        "@font-face { font-family: Brand Sans; src: url(brand.ttf) } p { font-family: Brand Sans }"
        ' p::after { content: " (DejaVu)"; font-family: DejaVu Sans }'
    )
    fonts = chart_operators.font_configuration()
    if theme_fonts_loaded:
        CSS(string=css, base_url=f"{tmp_path}/", url_fetcher=pdf.make_url_fetcher([tmp_path]), font_config=fonts)
    forks = Forks([uri], fonts)
    here = _pdf(_html([uri], css), tmp_path, monkeypatch, ahead=True, roots=[tmp_path])
    drawn_here = _count_calls(monkeypatch, chart_operators, "draw_ahead")
    made = _pdf(_html(["chart:0"], css), tmp_path, monkeypatch, ahead=True, roots=[tmp_path], charts=forks)
    assert len(drawn_here) == (0 if theme_fonts_loaded else 2)  # both copies drawn again here, or neither
    assert made == here
    with pdfplumber.open(io.BytesIO(made)) as opened:
        fonts = {c["fontname"].split("+")[-1] for c in opened.pages[0].chars if c["text"] in "ONv"}
    assert fonts == {"Brand-Sans"}


def test_a_font_new_to_the_document_is_added_with_the_glyphs_the_chart_uses(tmp_path, monkeypatch):
    """The body is set in a serif, the chart in DejaVu Sans: the fork's drawing names a font the
    document does not have yet, so the chart is drawn again here and its font embedded."""
    forks = Forks([CHARTS["goal"]])
    css = "body { font-family: DejaVu Serif }"
    made = _pdf(_html(["chart:0"], css), tmp_path, monkeypatch, ahead=True, charts=forks)
    assert made == _pdf(_html(forks.uris, css), tmp_path, monkeypatch, ahead=True)
    _assert_looks_the_same(made, _pdf(_html(forks.uris, css), tmp_path, monkeypatch, ahead=False))


GRADIENT = (
    '<defs><linearGradient id="g"><stop offset="0" stop-color="#f00"/><stop offset="1" stop-color="#00f"/>'
    '</linearGradient></defs><rect width="200" height="100" fill="url(#g)"/>'
)
NO_FONT_HAS_IT = '<text x="10" y="50" style="font-size: 20px; font-family: DejaVu Sans">Q\U000f0000 \u0378</text>'


@pytest.mark.parametrize("inside", [GRADIENT, NO_FONT_HAS_IT], ids=["gradient", "glyph-no-font-has"])
def test_what_the_operators_cannot_carry_is_drawn_by_weasyprint(inside, tmp_path, monkeypatch):
    svg = (
        f'<svg class="{chart_operators.CHART_CLASS}" xmlns="http://www.w3.org/2000/svg" width="200pt" '
        f'height="100pt" viewBox="0 0 200 100">{inside}</svg>'
    )
    html = _html([_uri(svg)])
    put = _count_calls(monkeypatch, chart_operators, "_put_on_page")
    made = _pdf(html, tmp_path, monkeypatch, ahead=True)
    assert put == []
    assert made == _pdf(html, tmp_path, monkeypatch, ahead=False)
    image = _pages(made)[0][1]
    assert image.getextrema()[0] < 100  # the chart is there (not a blank box)


def test_a_weasyprint_whose_insides_differ_draws_the_charts_itself(tmp_path, monkeypatch):
    def changed(*args, **kwargs):
        raise AttributeError("'Stream' object has no attribute '_fonts'")

    html = _html([CHARTS["bars"]], REPORT_FONTS)
    native = _pdf(html, tmp_path, monkeypatch, ahead=False)
    monkeypatch.setattr(chart_operators, "draw_ahead", changed)
    assert _pdf(html, tmp_path, monkeypatch, ahead=True) == native
