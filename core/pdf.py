"""HTML to PDF with WeasyPrint, in this process or in :mod:`roistory.pdf_worker`'s child.

WeasyPrint fetches ``data:`` URIs and files under the allowed roots (the project's
``assets/``, the theme's folder, the package templates), never the config or a data
file, and nothing else: no network, no other local file. Attachments a template asks
for are dropped. A render that runs longer than ``RENDER_TIMEOUT_SECONDS`` stops with a
TemplateError.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from roistory.errors import TemplateError
from roistory.limits import time_limit as _limit
from roistory.resources import may_read
from roistory.safety import inside

RENDER_TIMEOUT_SECONDS = 120

__all__ = ["RENDER_TIMEOUT_SECONDS", "inside", "make_url_fetcher", "pdf_bytes", "time_limit"]


def time_limit(seconds: int = RENDER_TIMEOUT_SECONDS):
    """Stop a runaway template (a 10⁹-step loop) instead of hanging the batch."""
    return _limit(seconds, lambda: TemplateError(f"rendering took longer than {seconds} s; is a template looping?"))


def make_url_fetcher(allowed_roots: list[Path], private: list[Path] = ()):
    """A WeasyPrint fetcher for data: URIs and files under ``allowed_roots`` only (never ``private``)."""
    from weasyprint.urls import URLFetcher  # WeasyPrint loads only when a PDF is made

    class ProjectFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            scheme = urlparse(url).scheme.lower()
            if scheme == "file":
                path = Path(unquote(urlparse(url).path))
                if not may_read(path, allowed_roots, list(private)):
                    raise ValueError(f"refusing to read {url}: not in the project's assets/ or the theme")
            elif scheme != "data":
                raise ValueError(f"refusing to fetch {url}: reports never use the network")
            return super().fetch(url, headers)

    return ProjectFetcher(allowed_protocols={"data", "file"}, allow_redirects=False, timeout=5)


def pdf_bytes(html: str, base_url: str, roots: list[str], private: list[str] = ()) -> bytes:
    """HTML to PDF/A-3b with the restricted fetcher and no attachments; may run in the worker."""
    import logging

    from weasyprint import HTML  # WeasyPrint loads only when a PDF is made

    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # refused URLs are expected, not news
    fetcher = make_url_fetcher([Path(root) for root in roots], [Path(p) for p in private])
    with time_limit(RENDER_TIMEOUT_SECONDS):
        document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(pdf_variant="pdf/a-3b")
        # <link rel=attachment> and <a rel=attachment> would embed files in the PDF: roistory adds none
        document.metadata.attachments = []
        for page in document.pages:
            page.links = [link for link in page.links if link[0] != "attachment"]
        return document.write_pdf(pdf_variant="pdf/a-3b")
