"""Charts drawn by the render worker are the charts this process would draw, byte for byte.

The worker (roistory.pdf_worker) draws every chart whose arguments it can receive while the
parent computes the next sections; the rest (a lambda tick format), and everything when the
worker fails, is drawn in the parent. The colours are picked in the parent, in call order,
so a name keeps one colour however the charts are split.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest

from roistory.chart_colours import chart_style
from roistory.charts import drawing_elsewhere, goal_chart, horizontal_bars, line_chart, range_chart
from roistory.formatting import Formatter
from roistory.pdf_worker import PdfWorker

BRAND = {"primary_color": "#5b3a29", "accent_color": "#d9822b", "font_family": "Georgia, serif"}
FMT = Formatter("es", "EUR")


def _report_charts() -> list[str]:
    """A report's worth of charts, in the order a report asks for them."""
    channels = ["Paid Search", "Email", "Organic"]
    return [
        horizontal_bars(channels, {"Spend": [1200.0, 300.0, 0.0], "Revenue": [5400.0, 900.0, 2500.0]},
                        value_format=FMT.money_compact, color_by_label=True),
        line_chart(["ene", "feb", "mar"], {"Spend": [1.0, 2.0, 3.0], "Revenue": [2.0, 3.5, 5.0]},
                   value_format=FMT.money_compact),
        range_chart(channels, {"Linear": [0.5, 0.2, 0.3], "Markov": [0.6, 0.1, 0.3]},
                    value_format=lambda v: FMT.percent(v, 0)),  # a lambda: drawn here
        goal_chart(["ene", "feb", "mar"], [0.1, 0.2, 0.25], 0.3, value_format=partial(FMT.as_display, "percent")),
        horizontal_bars(["Organic", "Referral"], {"Count": [10.0, 4.0]}, value_format=FMT.number),
    ]  # fmt: skip


def _drawn_here() -> list[str]:
    with chart_style(BRAND):
        return _report_charts()


@pytest.fixture
def worker():
    started = PdfWorker()
    yield started
    started.close()


def test_the_worker_draws_the_same_charts(worker):
    expected = _drawn_here()
    with chart_style(BRAND), drawing_elsewhere(worker) as batch:
        sent = _report_charts()
        drawn = batch.resolve(sent)
    assert drawn == expected
    assert all(uri.startswith("data:image/svg+xml;base64,") for uri in drawn)
    # all but the lambda went to the worker: placeholders until resolved
    assert [uri.startswith("data:") for uri in sent] == [False, False, True, False, False]


def test_placeholders_are_replaced_wherever_the_section_put_them(worker):
    with chart_style(BRAND), drawing_elsewhere(worker) as batch:
        chart = line_chart(["a", "b"], {"Spend": [1.0, 2.0]}, value_format=FMT.number)
        context = {"charts": [{"src": chart, "alt": "x"}], "figure": (chart,), "html": f'<img src="{chart}">'}
        resolved = batch.resolve(context)
    with chart_style(BRAND):
        expected = line_chart(["a", "b"], {"Spend": [1.0, 2.0]}, value_format=FMT.number)
    assert resolved == {
        "charts": [{"src": expected, "alt": "x"}],
        "figure": (expected,),
        "html": f'<img src="{expected}">',
    }


def test_a_dead_worker_leaves_the_charts_to_this_process(worker):
    expected = _drawn_here()
    with chart_style(BRAND), drawing_elsewhere(worker) as batch:
        sent = _report_charts()[:2]
        os.kill(worker._process.pid, signal.SIGKILL)
        worker._process.join()
        sent += _report_charts()[2:]  # sending fails now: drawn here at once
        assert batch.resolve(sent) == expected


def test_the_pdf_fetches_the_charts_from_the_worker_and_equals_one_made_here(tmp_path):
    """The worker draws the charts and lays out the PDF before the last one is drawn (placeholders
    fetched from its forks): the PDF and HTML are byte-identical to those of a run without the
    worker, and the command's own process never imports matplotlib."""
    example = Path(__file__).parents[1] / "examples" / "acme" / "report.yaml"
    arguments = ["run", str(example), "--format", "html,pdf"]
    script = (  # the `roistory` command (roistory.launch), reporting what it imported
        "import sys\n"
        "from roistory import launch\n"
        f"sys.argv = ['roistory', *{arguments!r}, '--out', {str(tmp_path / 'worker')!r}]\n"
        "try:\n    launch.main()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib')[:3])\n"
    )
    with_worker = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert with_worker.returncode == 0, with_worker.stderr[-2000:]
    assert with_worker.stdout.strip().splitlines()[-1] == "[]"
    here = subprocess.run(
        [str(Path(sys.executable).parent / "roistory"), *arguments, "--out", str(tmp_path / "here")],
        env={**os.environ, "ROISTORY_NO_PDF_WORKER": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert here.returncode == 0, here.stderr[-2000:]
    outputs = {
        name: {p.suffix: p.read_bytes() for p in (tmp_path / name).iterdir() if p.suffix in (".pdf", ".html")}
        for name in ("worker", "here")
    }
    assert outputs["worker"][".html"].count(b"data:image/svg+xml;base64,") >= 8
    assert b"roistory-chart:" not in outputs["worker"][".html"]
    assert outputs["worker"] == outputs["here"]


def test_the_json_made_beside_the_pdf_equals_the_json_made_alone(tmp_path):
    """With a PDF the JSON is computed in a low-priority thread while the worker lays out the
    pages (render.behind_the_pdf); it is the same JSON, and the PDF/A-3b's attachment is it."""
    example = Path(__file__).parents[1] / "examples" / "acme" / "report.yaml"
    command = str(Path(sys.executable).parent / "roistory")
    for formats, out in (("pdf,json", "beside"), ("json", "alone")):
        done = subprocess.run(
            [command, "run", str(example), "--format", formats, "--out", str(tmp_path / out)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    beside = (tmp_path / "beside" / "acme-2026-10.json").read_bytes()
    assert beside == (tmp_path / "alone" / "acme-2026-10.json").read_bytes()
    import pikepdf

    with pikepdf.open(tmp_path / "beside" / "acme-2026-10.pdf") as pdf:
        attached = pdf.attachments["roistory-results.json"].get_file().read_bytes()
    assert attached == beside


def test_a_font_the_theme_loads_leaves_no_file_behind(tmp_path, cli):
    """WeasyPrint copies an @font-face font to a temporary folder it deletes only when its font
    configuration is garbage-collected, which the worker never did: every run left the brand font
    in /tmp. The PDF still has the font, in its text (the default stylesheet used to override a
    theme's font_family there) as in its charts, and equals the PDF made without the worker."""
    import matplotlib
    import pdfplumber

    project = tmp_path / "project"
    theme = project / "themes" / "brand"
    theme.mkdir(parents=True)
    shutil.copy(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSerif.ttf", theme / "brand.ttf")
    (theme / "theme.yaml").write_text("brand:\n  font_family: Brand Serif\n")
    (theme / "style.css").write_text("@font-face { font-family: Brand Serif; src: url(themes/brand/brand.ttf) }\n")
    config = cli.default_config()
    config["report"].update(formats=["pdf"], theme="themes/brand")
    cli.write_project(project, config)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    environment = {**os.environ, "TMPDIR": str(scratch)}
    done = cli.run("run", "report.yaml", "--out", tmp_path / "out", cwd=project, env=environment)
    assert done.code == 0, done.output
    assert [p.name for p in scratch.iterdir() if p.name.startswith(("weasyprint-", "roistory-pdf-"))] == []
    # the worker loaded the theme's fonts before its forks drew the charts: the same PDF as one made here
    in_process = {**environment, "ROISTORY_NO_PDF_WORKER": "1"}
    alone = cli.run("run", "report.yaml", "--out", tmp_path / "here", cwd=project, env=in_process)
    assert alone.code == 0, alone.output
    made = next((tmp_path / "out").glob("*.pdf"))
    assert made.read_bytes() == next((tmp_path / "here").glob("*.pdf")).read_bytes()
    with pdfplumber.open(made) as pdf:
        title = [c for c in pdf.pages[0].chars if c["size"] == max(c["size"] for c in pdf.pages[0].chars)]
        assert "".join(c["text"] for c in title).startswith("Tiny Co")
        # the text, not only the charts (bold: the face emboldened)
        assert {c["fontname"].split("+")[-1] for c in title} == {"Brand-Serif-Bold"}
