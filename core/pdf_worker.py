"""A child process that renders PDFs, started before the parent loads plugins and data.

Importing WeasyPrint and setting up its fonts takes about a second; doing it in a
forked child while the parent reads, computes and renders HTML takes that second
off every ``roistory run``. The child renders with the same restricted fetcher
and time limit as in-process rendering (:func:`roistory.pdf.pdf_bytes`).

It draws the report's charts too (:mod:`roistory.charts`): it has matplotlib loaded,
and forks of it draw the charts, at low priority, while the parent computes the
sections and this process lays out the PDF around placeholders of the charts' size
(:func:`roistory.pdf.pdf_bytes`). A fork also draws its chart's PDF operators, so that
drawing the pages only appends them (:mod:`roistory.chart_operators`). The parent never
imports matplotlib, and neither it nor the layout waits for a chart.

The child never outlives its parent, however the parent ends (``kill -9``, the OOM
killer, a CI timeout): on Linux the kernel sends it SIGKILL when the parent dies
(``PR_SET_PDEATHSIG``), and everywhere it exits when its end of the pipe reports EOF
(it holds no copy of the parent's end, so the parent's death closes the pipe).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import gc
import multiprocessing
import os
import pickle
import select
import signal
import sys
import tempfile
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from types import SimpleNamespace

from roistory.chart_operators import DrawnChart, draw_uri_ahead, font_configuration
from roistory.errors import TemplateError
from roistory.pdf import make_url_fetcher, pdf_bytes, time_limit

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
PIPE_BYTES = 1 << 20  # Linux's default most for an unprivileged pipe (/proc/sys/fs/pipe-max-size)
RENDERING_COMMANDS = {"run", "demo"}  # the commands that start the worker
THEME_FONTS_SECONDS = 10  # loading a theme's fonts takes milliseconds; the PDF's own limit covers the rest


def _die_with_parent(parent: int) -> None:
    """Ask the kernel for SIGKILL when the parent dies (Linux); exit now if it already has."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(0)


_fonts = None  # what the chart forks draw with: the warm-up's font configuration, or the theme's


def _warm_up() -> None:
    """Import WeasyPrint and matplotlib and make a one-page PDF with a line in each of the
    report's font families and a chart: fontconfig, Pango's font map, HarfBuzz, matplotlib's
    font caches and the C types WeasyPrint declares on first use are ready before the
    report's HTML arrives (and the chart forks inherit them)."""
    global _fonts
    import roistory.formatting  # noqa: F401  (a chart's tick format is a report's Formatter)
    from roistory.chart_drawing import line_chart

    chart = line_chart(
        ["a"], {"b": [1.0]}, value_format=str, width=2, height=1, series_colours=["#000000"], font_family=None
    )
    from weasyprint import HTML

    _fonts = font_configuration()
    try:
        HTML(
            string=(
                '<h1 style="font-family: DejaVu Sans">0 <b>1</b></h1>'
                '<p lang="zh-TW" style="font-family: DejaVu Sans, Noto Sans CJK TC">台北</p>'
                f'<img src="{chart}" alt="">'
            )
        ).write_pdf(pdf_variant="pdf/a-3b", font_config=_fonts)
    except Exception:  # noqa: BLE001  (a warm-up only: the real render reports any problem)
        pass


def _load_theme_fonts(css: str, base_url: str, roots: list[str], private: list[str]) -> None:
    """The theme's @font-face fonts, loaded as the document will load them, for the chart forks
    started from now on: their drawings ahead then fit a document with those fonts."""
    global _fonts
    import logging

    from weasyprint import CSS

    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # refused URLs are the PDF's to report
    fetcher = make_url_fetcher([Path(root) for root in roots], [Path(path) for path in private])
    try:
        with time_limit(THEME_FONTS_SECONDS):
            fonts = font_configuration()
            CSS(string=css, base_url=base_url, url_fetcher=fetcher, font_config=fonts)
    except Exception:  # noqa: BLE001  (the forks draw without them; the charts are drawn at their pages)
        return
    _fonts = fonts


def _idle_priority() -> None:
    """Run only on CPU time nothing else wants (Linux's SCHED_IDLE; elsewhere nice 10): a chart
    can wait for the layout, the layout cannot wait for a chart. At nice 10 the forks still
    took about a tenth of the layout's core."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        os.nice(10)


def _draw(kind: str, payload: bytes) -> str | None:
    """A chart, or None if it fails here (the parent then draws it and reports any error)."""
    try:
        from roistory.chart_drawing import draw

        return draw(kind, pickle.loads(payload))
    except Exception:  # noqa: BLE001
        return None


def _draw_with_pdf_drawing(kind: str, payload: bytes) -> tuple[str | None, DrawnChart | None]:
    """In a chart fork: the chart, and its PDF drawing for the page (:mod:`roistory.chart_operators`)."""
    svg = _draw(kind, payload)
    return svg, (draw_uri_ahead(svg, _fonts) if svg is not None and _fonts is not None else None)


class _ChartForks:
    """Charts drawn by forks of this process (matplotlib loaded), up to ``LIMIT`` at a time.

    Not a multiprocessing pool: this process is a daemon, which multiprocessing forbids
    children. Each fork draws one chart, writes it to its pipe and exits; it dies with
    this process like this process dies with the parent. Submitting never waits: charts
    beyond the limit queue up and start as forks finish (:meth:`wait_for` and
    :meth:`placeholder` start them), so a PDF job that arrives meanwhile starts its layout
    at once. A chart a fork fails to draw is drawn once more here."""

    LIMIT = 8  # forks at once: enough for a report's charts to be drawn during its layout

    def __init__(self) -> None:
        self._jobs: list[tuple[str, bytes]] = []  # every chart submitted, by number
        self._queued: list[int] = []  # not started yet, oldest first
        self._running: dict[int, tuple[int, int]] = {}  # number -> (pipe, pid)
        self._drawn: dict[int, str | None] = {}
        self._ahead: dict[int, DrawnChart | None] = {}  # by number: its PDF drawing, if the fork made it
        self._placeholders: list[str | None] = []  # by number, made when submitted
        self._collected = 0  # numbers below this were sent to the parent

    def submit(self, kind: str, payload: bytes) -> None:
        self._jobs.append((kind, payload))
        self._queued.append(len(self._jobs) - 1)
        self._start_queued()
        # the placeholder now, while the PDF job has not come: measuring its labels during the
        # layout would add to it
        self._placeholders.append(self._placeholder_svg(len(self._jobs) - 1))

    def _placeholder_svg(self, number: int) -> str | None:
        try:
            from roistory.chart_drawing import placeholder_svg

            return placeholder_svg(self._jobs[number][0], pickle.loads(self._jobs[number][1]))
        except Exception:  # noqa: BLE001  (the layout waits for the chart instead)
            return None

    def _start_queued(self) -> None:
        while self._queued and len(self._running) < self.LIMIT:
            number = self._queued.pop(0)
            read_end, write_end = os.pipe()
            with contextlib.suppress(AttributeError, OSError):
                # room for the whole chart: the fork exits at once, instead of holding on to
                # copy-on-write pages of this process (which make every write here a page copy)
                fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
            parent = os.getpid()
            pid = os.fork()
            if pid == 0:  # the fork: draw, send, exit without running the parent's clean-up
                status = 1
                try:
                    os.close(read_end)
                    _die_with_parent(parent)
                    _idle_priority()
                    with os.fdopen(write_end, "wb") as out:
                        out.write(pickle.dumps(_draw_with_pdf_drawing(*self._jobs[number])))
                    status = 0
                finally:
                    os._exit(status)
            os.close(write_end)
            self._running[number] = (read_end, pid)

    def _finish(self, number: int) -> None:
        read_end, pid = self._running.pop(number)
        try:
            with os.fdopen(read_end, "rb") as pipe:
                data = pipe.read()
            svg, self._ahead[number] = pickle.loads(data) if data else (None, None)
        except Exception:  # noqa: BLE001  (a fork that failed)
            svg = None
        finally:
            os.waitpid(pid, 0)
        self._drawn[number] = svg if svg is not None else _draw(*self._jobs[number])
        self._start_queued()

    def _finish_one(self, timeout: float | None = None, also: Connection | None = None) -> bool:
        """Finish the first fork to be ready (within ``timeout``); False if ``also`` is ready first."""
        pipes = {pipe: number for number, (pipe, _pid) in self._running.items()}
        ready, _, _ = select.select([*pipes, *([also] if also is not None else [])], [], [], timeout)
        for pipe in ready:
            if pipe in pipes:
                self._finish(pipes[pipe])
                return True
        return False

    def _wait_drawn(self, number: int) -> None:
        while number not in self._drawn:
            if number in self._running:
                self._finish(number)
            else:  # still queued: whichever fork is ready first makes room
                self._finish_one()

    def wait_for(self, connection: Connection) -> None:
        """Take in finished charts (starting the queued ones) until ``connection`` has a message."""
        while self._running and not connection.poll():
            if not self._finish_one(also=connection):
                return

    def placeholder(self, prefix: str, url: str) -> str | None:
        """At once, an empty SVG of the size of the chart whose placeholder is ``url``
        (:class:`roistory.pdf.ChartSource`; the chart itself if its size cannot be told)."""
        number = self._number(prefix, url)
        if number is None:
            return None
        while self._running and self._finish_one(timeout=0):  # room for the queued ones
            pass
        return self._placeholders[number] or self.drawn(prefix, url)

    def drawn(self, prefix: str, url: str) -> str | None:
        """The data: URI of the chart whose placeholder is ``url``, once drawn."""
        number = self._number(prefix, url)
        if number is None:
            return None
        self._wait_drawn(number)
        return self._drawn[number]

    def ahead(self, prefix: str, url: str) -> DrawnChart | None:
        """The PDF drawing of the chart whose placeholder is ``url``, if its fork made one."""
        number = self._number(prefix, url)
        if number is None:
            return None
        self._wait_drawn(number)
        return self._ahead.get(number)

    def _number(self, prefix: str, url: str) -> int | None:
        if not url.startswith(prefix) or not url[len(prefix) :].isdigit():
            return None
        number = self._collected + int(url[len(prefix) :])
        return number if number < len(self._jobs) else None

    def collect(self) -> list[str | None]:
        """Every chart since the last collect, in the order submitted."""
        numbers = range(self._collected, len(self._jobs))
        for number in numbers:
            self._wait_drawn(number)
        self._collected = len(self._jobs)
        for number in numbers:
            self._ahead.pop(number, None)
        return [self._drawn.pop(number) for number in numbers]


def _serve(connection: Connection, parent_end: Connection, parent: int) -> None:
    _die_with_parent(parent)
    parent_end.close()  # the fork's copy of the parent's end: without closing it, no EOF ever comes
    gc.disable()  # as in roistory.launch: imports free nothing for a collection to find
    _warm_up()  # the point: pay WeasyPrint's import and font set-up while the parent works
    # what is loaded now lives as long as this process: the collector need not walk it again at
    # every collection during the layout, nor touch it (copying pages) in the chart forks
    gc.freeze()
    gc.enable()
    with _scratch_folder():
        _serve_jobs(connection)


def _serve_jobs(connection: Connection) -> None:
    charts = _ChartForks()
    while True:
        charts.wait_for(connection)
        try:
            job = connection.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if job is None:
            return
        if job[0] == "chart":
            charts.submit(*job[1:])
            continue
        if job[0] == "theme fonts":
            _load_theme_fonts(*job[1:])
            continue
        if job[0] == "charts":
            connection.send(charts.collect())
            continue
        try:
            _pdf, arguments, options = job
            prefix = options.pop("charts_prefix", None)
            if prefix is not None:
                options["charts"] = SimpleNamespace(
                    placeholder=partial(charts.placeholder, prefix),
                    drawn=partial(charts.drawn, prefix),
                    ahead=partial(charts.ahead, prefix),
                )
            if options.pop("results_json_follows", False):
                # the parent computes the JSON while this process lays out the pages: read it when needed
                options["results_json"] = connection.recv
            connection.send((True, pdf_bytes(*arguments, **options)))
        except Exception as exc:  # reported in the parent as one line
            connection.send((False, f"{type(exc).__name__}: {exc}"))


@contextlib.contextmanager
def _scratch_folder():
    """This process's temporary files in a folder removed when it is done: WeasyPrint copies each
    @font-face font to a folder it deletes when its font configuration is collected, which here
    never happens (the layout's reference cycles outlive the job, and a multiprocessing child
    exits without a last collection), so a brand font was left in /tmp by every run."""
    with tempfile.TemporaryDirectory(prefix="roistory-pdf-") as folder:
        tempfile.tempdir = folder  # mkdtemp's default folder (the chart forks exit without removing it)
        try:
            yield
        finally:
            tempfile.tempdir = None


class PdfWorker:
    def __init__(self) -> None:
        context = multiprocessing.get_context("fork")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, self._connection, os.getpid()), daemon=True)
        self._process.start()
        child.close()

    def render(self, html: str, base_url: str, roots: list[str], private: list[str] = (), **options) -> bytes:
        """:func:`roistory.pdf.pdf_bytes` in the child (same arguments)."""
        self.start(html, base_url, roots, private, **options)
        return self.finish()

    def start(
        self,
        html: str,
        base_url: str,
        roots: list[str],
        private: list[str] = (),
        *,
        results_json_follows: bool = False,
        **options,
    ) -> None:
        """Send the job and return at once; with ``results_json_follows`` the PDF/A-3b's JSON
        attachment is sent by :meth:`finish` (the child asks for it after laying out the pages)."""
        options["results_json_follows"] = results_json_follows
        try:
            self._connection.send(("pdf", (html, base_url, roots, list(private)), options))
        except OSError as exc:
            raise TemplateError(f"the PDF renderer stopped unexpectedly ({exc})") from None

    def send_theme_fonts(self, css: str, base_url: str, roots: list[str], private: list[str]) -> None:
        """The report's stylesheet, whose @font-face fonts the charts sent next are drawn with."""
        with contextlib.suppress(OSError):  # a worker already gone: the PDF job says so
            self._connection.send(("theme fonts", css, base_url, roots, private))

    def send_chart(self, kind: str, payload: bytes) -> None:
        """Queue a chart (:mod:`roistory.charts`: the kind and its pickled arguments)."""
        self._connection.send(("chart", kind, payload))

    def collect_charts(self) -> list[str | None]:
        """The queued charts' SVG data URIs, in order (None: failed there, to draw here)."""
        self._connection.send(("charts",))
        return self._connection.recv()

    def finish(self, results_json: str | None = None) -> bytes:
        """The PDF of the started job; ``results_json`` when the job said it follows."""
        try:
            if results_json is not None:
                self._connection.send(results_json)
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


def current() -> PdfWorker | None:
    """The prestarted worker, if any, still the shared one (it draws charts before the PDF)."""
    return _started


def take() -> PdfWorker | None:
    """The prestarted worker, if any; the caller closes it."""
    global _started
    worker, _started = _started, None
    return worker
