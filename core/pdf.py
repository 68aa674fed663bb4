"""HTML to PDF with WeasyPrint, in this process or in :mod:`roistory.pdf_worker`'s child.

WeasyPrint fetches ``data:`` URIs and files under the allowed roots (the project's
``assets/``, the theme's folder, the package templates), never the config or a data
file, and nothing else: no network, no other local file. Attachments a template asks
for are dropped. A render that runs longer than ``RENDER_TIMEOUT_SECONDS`` stops with a
TemplateError.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

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
    charts: Callable[[str], str | None] | None = None,
) -> bytes:
    """HTML to PDF in ``variant`` with the restricted fetcher; may run in the worker.

    A template's attachments are dropped; a PDF/A-3b gets ``results_json`` (the .json output)
    attached, dated ``created`` (the report period's, never the clock's). ``results_json`` may
    be a function, called once the pages are laid out (the worker reads it from the parent then).
    ``charts``: the worker's answer to a chart's placeholder URL (:func:`make_url_fetcher`).
    """
    import logging

    from weasyprint import HTML  # WeasyPrint loads only when a PDF is made

    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # refused URLs are expected, not news
    fetcher = make_url_fetcher([Path(root) for root in roots], [Path(p) for p in private], charts)
    pdf_variant = WEASYPRINT_VARIANTS[variant]
    with time_limit(RENDER_TIMEOUT_SECONDS):
        document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(pdf_variant=pdf_variant)
        # <link rel=attachment> and <a rel=attachment> would embed files in the PDF: only roistory's own goes in
        document.metadata.attachments = []
        if variant == "pdf/a-3b" and results_json is not None:
            text = results_json() if callable(results_json) else results_json
            document.metadata.attachments = [_results_attachment(text, created)]
        for page in document.pages:
            page.links = [link for link in page.links if link[0] != "attachment"]
        return document.write_pdf(pdf_variant=pdf_variant)
