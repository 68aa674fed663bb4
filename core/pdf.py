"""HTML to PDF with WeasyPrint, in this process or in :mod:`roistory.pdf_worker`'s child.

WeasyPrint fetches ``data:`` URIs and files under the allowed roots (the report
project, the package templates), nothing else: no network, no other local file.
A render that runs longer than ``RENDER_TIMEOUT_SECONDS`` stops with a TemplateError.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

from roistory.errors import TemplateError

RENDER_TIMEOUT_SECONDS = 120


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Stop a runaway template (a 10⁹-step loop) instead of hanging the batch."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield
        return

    def expired(signum, frame):
        raise TemplateError(f"rendering took longer than {seconds} s; is a template looping?")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def inside(path: Path, root: Path) -> bool:
    try:
        real, base = os.path.realpath(path), os.path.realpath(root)
        return os.path.commonpath([real, base]) == base
    except ValueError:
        return False


def make_url_fetcher(allowed_roots: list[Path]):
    """A WeasyPrint fetcher for data: URIs and files under ``allowed_roots`` only."""
    from weasyprint.urls import URLFetcher  # WeasyPrint loads only when a PDF is made

    class ProjectFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            scheme = urlparse(url).scheme.lower()
            if scheme == "file":
                path = Path(unquote(urlparse(url).path))
                if not any(inside(path, root) for root in allowed_roots):
                    raise ValueError(f"refusing to read {url}: outside the report project")
            elif scheme != "data":
                raise ValueError(f"refusing to fetch {url}: reports never use the network")
            return super().fetch(url, headers)

    return ProjectFetcher(allowed_protocols={"data", "file"}, allow_redirects=False, timeout=5)


def pdf_bytes(html: str, base_url: str, roots: list[str]) -> bytes:
    """HTML to PDF/A-3b with the restricted fetcher; may run in :mod:`roistory.pdf_worker`."""
    import logging

    from weasyprint import HTML  # WeasyPrint loads only when a PDF is made

    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # refused URLs are expected, not news
    fetcher = make_url_fetcher([Path(root) for root in roots])
    with time_limit(RENDER_TIMEOUT_SECONDS):
        document = HTML(string=html, base_url=base_url, url_fetcher=fetcher)
        return document.write_pdf(pdf_variant="pdf/a-3b")


