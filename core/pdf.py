"""HTML to PDF with WeasyPrint, in this process or in :mod:`roistory.pdf_worker`'s child.

WeasyPrint fetches ``data:`` URIs and files under the allowed roots (the project's
``assets/``, the theme's folder, the package templates), never the config or a data
file, and nothing else: no network, no other local file. Attachments a template asks
for are dropped. A render that runs longer than ``RENDER_TIMEOUT_SECONDS`` stops with a
TemplateError.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

from roistory.chart_operators import ChartDrawing, DrawnChart, font_configuration, is_chart
from roistory.errors import TemplateError
from roistory.limits import time_limit as _limit
from roistory.resources import may_read
from roistory.safety import inside

RENDER_TIMEOUT_SECONDS = 120
# report.pdf.variant -> WeasyPrint's pdf_variant ("none": a plain PDF)
WEASYPRINT_VARIANTS = {"pdf/a-3b": "pdf/a-3b", "pdf/ua-1": "pdf/ua-1", "none": None}
RESULTS_ATTACHMENT = "roistory-results.json"

__all__ = [
    "RENDER_TIMEOUT_SECONDS",
    "RESULTS_ATTACHMENT",
    "inside",
    "make_url_fetcher",
    "pdf_bytes",
    "time_limit",
]


def time_limit(seconds: int = RENDER_TIMEOUT_SECONDS):
    """Stop a runaway template (a 10⁹-step loop) instead of hanging the batch."""
    return _limit(seconds, lambda: TemplateError(f"rendering took longer than {seconds} s; is a template looping?"))


def make_url_fetcher(
    allowed_roots: list[Path], private: list[Path] = (), charts: Callable[[str], str | None] | None = None
):
    """A WeasyPrint fetcher for data: URIs and files under ``allowed_roots`` only (never ``private``).

    ``charts`` maps a chart's placeholder URL (:mod:`roistory.charts`) to its data: URI, or None."""
    from weasyprint.urls import URLFetcher  # WeasyPrint loads only when a PDF is made

    class ProjectFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            chart = charts(url) if charts is not None else None
            if chart is not None:
                return super().fetch(chart, headers)
            scheme = urlparse(url).scheme.lower()
            if scheme == "file":
                path = Path(unquote(urlparse(url).path))
                if not may_read(path, allowed_roots, list(private)):
                    raise ValueError(f"refusing to read {url}: not in the project's assets/ or the theme")
            elif scheme != "data":
                raise ValueError(f"refusing to fetch {url}: reports never use the network")
            return super().fetch(url, headers)

    return ProjectFetcher(allowed_protocols={"data", "file"}, allow_redirects=False, timeout=5)


class ChartSource(Protocol):
    """Charts still being drawn (the render worker's forks), by their placeholder URLs."""

    def placeholder(self, url: str) -> str | None:
        """At once: an empty SVG data URI of the chart's exact size (None: not a chart's URL)."""

    def drawn(self, url: str) -> str | None:
        """The chart's SVG data URI, waiting for it if need be (None: not a chart's URL)."""

    def ahead(self, url: str) -> DrawnChart | None:
        """The chart's PDF drawing, made while the pages were laid out (None: not made)."""


def _swap_in_charts(cache: dict, charts: ChartSource) -> bool:
    """Put each drawn chart where its placeholder was laid out, before the pages are drawn.

    A placeholder has its chart's size, so the pages are those the chart itself gives, byte
    for byte. False if an image is not where this WeasyPrint version keeps it, or a chart
    is not its placeholder's size: the caller then lays the pages out again with the charts."""
    from xml.etree import ElementTree

    from weasyprint.images import SVGImage
    from weasyprint.svg import SVG

    for url, image in list(cache.items()):
        uri = charts.drawn(url) if isinstance(url, str) else None
        if uri is None:
            continue
        laid_out = getattr(image, "_svg", None)
        if not isinstance(image, SVGImage) or not isinstance(laid_out, SVG):
            return False
        tree = ElementTree.fromstring(base64.b64decode(uri.split(",", 1)[1]))
        chart = SVG(tree, url, laid_out.font_config, laid_out.url_fetcher)  # as WeasyPrint reads an <img>
        if (chart.get_intrinsic_size(1), chart.get_viewbox()) != (
            laid_out.get_intrinsic_size(1),
            laid_out.get_viewbox(),
        ):
            return False
        image._svg = ChartDrawing(chart, charts.ahead(url))
    return True


def _draw_charts_ahead(cache: dict) -> None:
    """Every chart not swapped in is drawn ahead too, when its page is drawn: a PDF made with
    the charts in its HTML equals one made with the worker's (:mod:`roistory.chart_operators`)."""
    from weasyprint.images import SVGImage
    from weasyprint.svg import SVG

    for image in cache.values():
        svg = getattr(image, "_svg", None)
        if isinstance(image, SVGImage) and isinstance(svg, SVG) and is_chart(svg):
            image._svg = ChartDrawing(svg)


def _results_attachment(json_text: str, created: str):
    """The JSON results as a PDF/A-3 associated file, dated like the document (reruns stay identical)."""
    from weasyprint import Attachment

    when = datetime.fromisoformat(created.replace("Z", "+00:00")).astimezone(UTC)
    return Attachment(
        string=json_text,
        name=RESULTS_ATTACHMENT,
        description="roistory results (JSON)",
        created=when,
        modified=when,
        relationship="Data",
    )


def pdf_bytes(
    html: str,
    base_url: str,
    roots: list[str],
    private: list[str] = (),
    *,
    variant: str = "pdf/a-3b",
    results_json: str | Callable[[], str] | None = None,
    created: str = "2000-01-01T00:00:00Z",
    charts: ChartSource | None = None,
) -> bytes:
    """HTML to PDF in ``variant`` with the restricted fetcher; may run in the worker.

    A template's attachments are dropped; a PDF/A-3b gets ``results_json`` (the .json output)
    attached, dated ``created`` (the report period's, never the clock's). ``results_json`` may
    be a function, called once the pages are laid out (the worker reads it from the parent then).
    ``charts``: the charts the worker's forks are drawing. The pages are laid out around
    placeholders of their size while they are drawn, and the charts put in before the pages are
    drawn, so the layout never waits for a chart. Every chart goes on its page as a run of PDF
    operators drawn ahead, by its fork if it could (:mod:`roistory.chart_operators`).
    """
    import logging

    from weasyprint import HTML  # WeasyPrint loads only when a PDF is made

    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # refused URLs are expected, not news
    allowed, refused = [Path(root) for root in roots], [Path(p) for p in private]
    pdf_variant = WEASYPRINT_VARIANTS[variant]

    def lay_out(chart_uri: Callable[[str], str | None] | None, cache: dict):
        fetcher = make_url_fetcher(allowed, refused, chart_uri)
        document = HTML(string=html, base_url=base_url, url_fetcher=fetcher)
        # its @font-face rules kept: a chart drawn ahead by the worker fits if drawn with the same
        return document.render(pdf_variant=pdf_variant, cache=cache, font_config=font_configuration())

    with time_limit(RENDER_TIMEOUT_SECONDS):
        cache: dict = {}
        document = lay_out(charts.placeholder if charts is not None else None, cache)
        if charts is not None and not _swap_in_charts(cache, charts):
            cache = {}
            document = lay_out(charts.drawn, cache)
        _draw_charts_ahead(cache)
        # <link rel=attachment> and <a rel=attachment> would embed files in the PDF: only roistory's own goes in
        document.metadata.attachments = []
        if variant == "pdf/a-3b" and results_json is not None:
            text = results_json() if callable(results_json) else results_json
            document.metadata.attachments = [_results_attachment(text, created)]
        for page in document.pages:
            page.links = [link for link in page.links if link[0] != "attachment"]
        return document.write_pdf(pdf_variant=pdf_variant)
