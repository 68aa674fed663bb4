"""A chart's PDF drawing, made before the page it goes on is drawn.

WeasyPrint draws an SVG image when it draws the page that holds it, and for the report's
charts that is about half of writing the PDF: each element's style is parsed and each label
laid out by Pango. Drawn once on a blank stream at its own size, a chart is a run of PDF
operators, the alpha states they name and the glyphs they use (:class:`DrawnChart`); putting
that on the page, scaled to the size the layout gave the chart, is an append.

The render worker's chart forks draw each chart so while the layout runs
(:mod:`roistory.pdf_worker`), with the theme's @font-face fonts loaded; elsewhere, or when a
fork's drawing cannot be used, the chart is drawn so when its page is drawn. Either way the
page gets the same bytes (:class:`ChartDrawing`). Only the report's own charts
(:data:`CHART_CLASS`) are drawn so: their root has a viewBox and the layout only ever scales
them evenly. Anything the run of operators cannot carry (a pattern, gradient, image or mask,
a glyph no font has) makes WeasyPrint draw the chart itself.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CHART_CLASS = "roistory-chart"  # on the root of every chart roistory.chart_drawing makes
_ALPHA_STATE = re.compile(r"[aA][0-9.]+")  # the states Stream.set_alpha names: "a0.8", "A1"
_PAINT_GROUP = re.compile(rb"/(x[0-9]+) Do")  # Stream.draw_x_object of a group (glyphs are hex strings)


@dataclass(frozen=True)
class FontUse:
    """What a chart adds to one of the document's fonts (WeasyPrint's ``pdf.fonts.Font``)."""

    name: str  # the font's name in the operators (Font.hash): the same font in any process
    to_unicode: dict[int, str]
    widths: dict[int, int]


@dataclass(frozen=True)
class Content:
    """What one stream of a chart holds: its operators, the alpha states they name and the
    transparency groups they paint (``Stream.add_group``: WeasyPrint puts a label anchored at its
    middle or end in one, and a translucent element)."""

    operators: bytes
    states: dict[str, Any]  # ExtGState name -> its dictionary
    groups: tuple[DrawnGroup, ...]


@dataclass(frozen=True)
class DrawnGroup:
    name: str  # as the operators paint it ("x0 Do")
    bbox: tuple[float, ...]
    content: Content


@dataclass(frozen=True)
class DrawnChart:
    """A chart drawn at its own size (``width`` × ``height`` CSS px), ready for any page."""

    width: float
    height: float
    content: Content
    fonts: dict[int, FontUse]  # by WeasyPrint's font key, in the order first used
    font_faces: tuple[str, ...] | None = None  # the @font-face rules it was drawn with (None: unknown)


def font_configuration():
    """A WeasyPrint ``FontConfiguration`` that keeps the @font-face rules it loads (``faces``).

    A family is the same file in two of them when they loaded the same rules: a chart drawn
    ahead with one is the drawing a document laid out with the other would make."""
    from weasyprint.text.fonts import FontConfiguration

    class Fonts(FontConfiguration):
        def __init__(self) -> None:
            super().__init__()
            self.faces: list[str] = []

        def add_font_face(self, rule_descriptors, url_fetcher):
            self.faces.append(repr(sorted((name, _plain(value)) for name, value in rule_descriptors.items())))
            return super().add_font_face(rule_descriptors, url_fetcher)

    return Fonts()


def _plain(value):
    """A descriptor's value without where it was written (a tinycss2 token keeps its line)."""
    if isinstance(value, list | tuple):
        return tuple(_plain(item) for item in value)
    return value.serialize() if hasattr(value, "serialize") else value


def is_chart(svg) -> bool:
    """Whether a WeasyPrint ``svg.SVG`` is one of the report's charts."""
    return CHART_CLASS in (svg.tree.get("class") or "").split()


def draw_ahead(svg, known_fonts: Mapping[int, Any] = {}, context=None) -> tuple[DrawnChart, dict[int, Any]] | None:  # noqa: B006
    """The chart drawn on a blank stream, and the fonts it needed that ``known_fonts`` lacks
    (WeasyPrint ``Font`` objects, usable in this process only); None if it cannot be drawn so."""
    from weasyprint.pdf.fonts import Font
    from weasyprint.pdf.stream import Stream
    from weasyprint.text.fonts import get_pango_font_key

    width, height = svg.get_intrinsic_size(1)
    if not width or not height or not svg.get_viewbox():
        return None

    class BlankStream(Stream):
        def add_font(self, pango_font):
            # A font the document has is copied without its glyphs: the chart records only its own.
            key, description, font_size = get_pango_font_key(pango_font)
            if key not in self._fonts:
                if key in known_fonts:
                    font = self._fonts[key] = copy.copy(known_fonts[key])
                    font.widths, font.to_unicode = {}, {}
                else:
                    self._fonts[key] = Font(pango_font, description, font_size)
            return self._fonts[key], font_size

    empty = ("ExtGState", "XObject", "Pattern", "Shading", "ColorSpace")
    images: dict = {}
    stream = BlankStream({}, (0, 0, width, height), {name: {} for name in empty}, images, None, {}, None)
    try:
        svg.draw(stream, width, height, None, context)
    except Exception:  # noqa: BLE001  (WeasyPrint then draws it itself, and reports what it finds)
        return None
    content = _content(stream, Stream)
    if (
        content is None
        or images
        or len(stream._ctm_stack) != 1  # a state it saved and did not restore
        or any(font.missing for font in stream._fonts.values())  # a glyph no font has
    ):
        return None
    fonts = {key: FontUse(font.hash, font.to_unicode, font.widths) for key, font in stream._fonts.items()}
    drawn = DrawnChart(width=width, height=height, content=content, fonts=fonts)
    return drawn, {key: font for key, font in stream._fonts.items() if key not in known_fonts}


def _content(stream, stream_type) -> Content | None:
    """``stream``'s content, or None if it holds what :func:`_put` cannot carry (a pattern, a
    gradient, an image, a mask's state)."""
    resources = stream._resources
    if (
        resources.get("Pattern")
        or resources.get("Shading")
        or not all(_ALPHA_STATE.fullmatch(name) for name in resources.get("ExtGState", {}))
        or not all(isinstance(item, bytes) for item in stream.stream)
    ):
        return None
    groups = []
    for name, group in resources.get("XObject", {}).items():
        inner = _content(group, stream_type) if isinstance(group, stream_type) else None
        if inner is None:
            return None
        groups.append(DrawnGroup(name, tuple(group.extra["BBox"]), inner))
    return Content(b"\n".join(stream.stream), dict(resources.get("ExtGState", {})), tuple(groups))


def draw_uri_ahead(uri: str, font_config) -> DrawnChart | None:
    """:func:`draw_ahead` for a chart's ``data:`` URI, as a chart fork does it."""
    from xml.etree import ElementTree

    from weasyprint.svg import SVG

    try:
        svg = SVG(ElementTree.fromstring(base64.b64decode(uri.split(",", 1)[1])), None, font_config)
        made = draw_ahead(svg) if is_chart(svg) else None
    except Exception:  # noqa: BLE001  (the page then draws it)
        return None
    if made is None:
        return None
    faces = getattr(font_config, "faces", None)
    return dataclasses.replace(made[0], font_faces=tuple(faces) if faces is not None else None)


class ChartDrawing:
    """Stands in for a chart's ``weasyprint.svg.SVG`` once the pages are laid out: draws it as
    ``ahead`` says if that fits the document (drawn with its fonts), else ahead now, else as
    WeasyPrint does."""

    def __init__(self, svg, ahead: DrawnChart | None = None) -> None:
        self._svg = svg
        self._ahead = ahead

    def __getattr__(self, name: str):
        return getattr(self._svg, name)

    def draw(self, stream, concrete_width, concrete_height, base_url, context) -> None:
        try:
            made = self._drawing(stream, context)
        except Exception:  # noqa: BLE001  (a WeasyPrint whose insides differ: it draws the chart itself)
            made = None
        if made is None:
            self._svg.draw(stream, concrete_width, concrete_height, base_url, context)
        else:
            _put_on_page(stream, *made, concrete_width, concrete_height)

    def _drawing(self, stream, context) -> tuple[DrawnChart, dict[int, Any]] | None:
        if self._ahead is not None and self._fits(self._ahead, stream._fonts):
            return self._ahead, {}
        return draw_ahead(self._svg, stream._fonts, context)

    def _fits(self, drawn: DrawnChart, fonts: Mapping[int, Any]) -> bool:
        """Whether a drawing made in another process is the one this document would make: drawn
        with the same @font-face rules (a family is the same file), its fonts already the
        document's, and at this chart's size."""
        faces = getattr(self._svg.font_config, "faces", None)
        if drawn.font_faces is None or faces is None or tuple(faces) != drawn.font_faces:
            return False
        return (drawn.width, drawn.height) == self._svg.get_intrinsic_size(1) and all(
            key in fonts and fonts[key].hash == use.name for key, use in drawn.fonts.items()
        )


def _put_on_page(stream, drawn: DrawnChart, new_fonts: dict[int, Any], width: float, height: float) -> None:
    """``drawn`` on ``stream`` at ``width`` × ``height``, centred and scaled evenly as the chart's
    viewBox would be (``xMidYMid meet``)."""
    scale = min(width / drawn.width, height / drawn.height)
    if (scale, width, height) != (1, drawn.width, drawn.height):
        stream.transform(a=scale, d=scale, e=(width - drawn.width * scale) / 2, f=(height - drawn.height * scale) / 2)
    _put(stream, drawn.content)
    for key, use in drawn.fonts.items():
        font = stream._fonts.get(key)
        if font is None:
            stream._fonts[key] = new_fonts[key]
            continue
        for glyph, text in use.to_unicode.items():
            font.to_unicode.setdefault(glyph, text)
        for glyph, glyph_width in use.widths.items():
            font.widths.setdefault(glyph, glyph_width)


def _put(stream, content: Content) -> None:
    names = {}
    for group in content.groups:  # made by the page's stream: its name, colour space and resources
        made = stream.add_group(0, 0, 0, 0)
        made.extra["BBox"][:] = group.bbox
        _put(made, group.content)
        names[group.name.encode()] = made.id.encode()
    operators = content.operators
    if names:
        operators = _PAINT_GROUP.sub(lambda match: b"/" + names[match[1]] + b" Do", operators)
    if operators:  # all within the chart's own q … Q: the page's state after it is as before
        stream.stream.append(operators)
    for name, state in content.states.items():
        stream._resources["ExtGState"].setdefault(name, state)
