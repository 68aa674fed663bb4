"""A child process that renders PDFs, started before the parent loads plugins and data.

Importing WeasyPrint and setting up its fonts takes about a second; doing it in a
forked child while the parent reads, computes and renders HTML takes that second
off every ``roistory run``. The child renders with the same restricted fetcher
and time limit as in-process rendering (:func:`roistory.pdf.pdf_bytes`).
"""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing.connection import Connection

from roistory.errors import TemplateError
from roistory.pdf import pdf_bytes


def _serve(connection: Connection) -> None:
    import weasyprint  # noqa: F401  (the point: pay the import while the parent works)

    while True:
        job = connection.recv()
        if job is None:
            return
        try:
            connection.send((True, pdf_bytes(*job)))
        except Exception as exc:  # reported in the parent as one line
            connection.send((False, f"{type(exc).__name__}: {exc}"))


class PdfWorker:
    def __init__(self) -> None:
        context = multiprocessing.get_context("fork")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), daemon=True)
        self._process.start()
        child.close()

    def render(self, html: str, base_url: str, roots: list[str]) -> bytes:
        try:
            self._connection.send((html, base_url, roots))
            ok, payload = self._connection.recv()
        except (EOFError, OSError) as exc:
            raise TemplateError(f"the PDF renderer stopped unexpectedly ({exc})") from None
        if not ok:
            raise TemplateError(f"PDF rendering failed: {payload}")
        return payload

    def close(self) -> None:
        try:
            self._connection.send(None)
        except OSError:
            pass
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.terminate()


_started: PdfWorker | None = None


def prestart() -> None:
    """Start the shared worker (POSIX only; elsewhere PDFs render in-process)."""
    global _started
    if _started is None and os.name == "posix" and not os.environ.get("ROISTORY_NO_PDF_WORKER"):
        _started = PdfWorker()


def take() -> PdfWorker | None:
    """The prestarted worker, if any; the caller closes it."""
    global _started
    worker, _started = _started, None
    return worker
