"""What a report project's theme can make the renderer read, fetch or run.

A hostile theme (a folder in the project: templates/ overrides and style.css) asks
for everything PDF.md lists as dangerous with WeasyPrint's default fetcher: network
URLs (to a local HTTP server that records every request), file:// URLs, ``../``
paths and symlinks out of the project, attachments, and Jinja sandbox escapes.
The report must render without any of it. Each check has a control showing it
can see a leak: the same kinds of resources inside the project do appear.
"""

from __future__ import annotations

import io
import subprocess
import threading
import urllib.request
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import IndirectObject, StreamObject

from roistory.pdf import RESULTS_ATTACHMENT

HOST_FILE = Path("/etc/hostname") if Path("/etc/hostname").is_file() else Path("/etc/hosts")
THEME = "clienttheme"


# ---------------------------------------------------------------- helpers


def svg_with_text(text: str, extra: str = "") -> str:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="300" height="40">{extra}<text x="4" y="24" font-size="14">{text}</text></svg>'
    )


def jpeg_with_comment(marker: str) -> bytes:
    """A JPEG whose bytes hold ``marker``: WeasyPrint embeds JPEG data verbatim."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "JPEG", comment=marker.encode())
    return buffer.getvalue()


def pdf_text(path: Path) -> str:
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def pdf_bytes(path: Path) -> bytes:
    """The file and every stream in it, decompressed: a marker anywhere in the PDF is found."""
    reader = PdfReader(path)
    chunks = [path.read_bytes()]
    ids = [(num, gen) for gen, table in reader.xref.items() for num in table]
    ids += [(num, 0) for num in reader.xref_objStm]
    for num, gen in ids:
        obj = reader.get_object(IndirectObject(num, gen, reader))
        if isinstance(obj, StreamObject):
            try:
                chunks.append(obj.get_data())
            except Exception:  # a filter pypdf cannot undo: keep the raw data
                chunks.append(obj._data)
    return b"\n".join(chunks)


def pdf_attachments(path: Path) -> list[str]:
    """Embedded files: document attachments and file-attachment annotations."""
    reader = PdfReader(path)
    found = [f"attachment {name}" for name in reader.attachments]
    names = reader.trailer["/Root"].get("/Names")
    if names is not None and "/EmbeddedFiles" in names.get_object():
        found.append("/EmbeddedFiles name tree")
    for number, page in enumerate(reader.pages, 1):
        for annotation in page.get("/Annots") or []:
            if annotation.get_object().get("/Subtype") == "/FileAttachment":
                found.append(f"file attachment annotation on page {number}")
    return found


def assert_only_roistory_attachment(pdf: Path, json_output: Path) -> None:
    """The one file a PDF may carry: roistory's own results (PDF/A-3b), byte for byte the .json
    output; nothing a theme or template asks for."""
    assert pdf_attachments(pdf) == [f"attachment {RESULTS_ATTACHMENT}", "/EmbeddedFiles name tree"]
    assert PdfReader(pdf).attachments[RESULTS_ATTACHMENT] == [json_output.read_bytes()]


@dataclass
class Recorder:
    port: int
    requests: list[str]


class _Handler(BaseHTTPRequestHandler):
    """Records every request; answers with something WeasyPrint would happily use."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.server.recorded.append(self.path)
        body, kind = b"body { color: red }", "text/css"
        if self.path.endswith((".png", ".jpg")):
            body, kind = jpeg_with_comment("FETCHED-FROM-NETWORK"), "image/jpeg"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def recorder():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.recorded = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # control: the recorder sees a request made to it
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/self-check", timeout=5) as reply:
            reply.read()
        assert server.recorded == ["/self-check"]
        server.recorded.clear()
        yield Recorder(server.server_port, server.recorded)
    finally:
        server.shutdown()
        server.server_close()


def themed_project(cli, root: Path, *, theme_yaml=None, template=None, style=None, formats=("html",)) -> Path:
    """A project in root/a/proj whose report.theme is the folder clienttheme/ in it."""
    config = cli.default_config()
    config["report"]["theme"] = THEME
    config["report"]["formats"] = list(formats)
    config_path = cli.write_project(root / "a" / "proj", config)
    theme = config_path.parent / THEME
    (theme / "templates").mkdir(parents=True, exist_ok=True)
    if theme_yaml is not None:
        (theme / "theme.yaml").write_text(theme_yaml, encoding="utf-8")
    if template is not None:
        (theme / "templates" / "report.html.j2").write_text(template, encoding="utf-8")
    if style is not None:
        (theme / "style.css").write_text(style, encoding="utf-8")
    return config_path


def cover_override(body: str, head: str = "") -> str:
    return (
        '{% extends "default:report.html.j2" %}\n'
        "{% block head %}\n" + head + "\n{% endblock %}\n"
        "{% block cover_footer %}\n" + body + "\n{% endblock %}\n"
    )


# ---------------------------------------------------------------- a hostile theme, rendered to PDF


@dataclass
class HostileRender:
    code: int
    output: str
    html: str
    pdf: Path
    json: Path
    requests: list[str]
    markers: dict[str, str]


@pytest.fixture(scope="module")
def hostile(cli, recorder, tmp_path_factory) -> HostileRender:
    root = tmp_path_factory.mktemp("security")
    port = recorder.port
    net = f"http://127.0.0.1:{port}"
    markers = {
        name: f"{name}-{uuid.uuid4().hex[:12]}"
        for name in (
            *("override", "inside-svg", "inside-jpeg", "nested-svg"),
            *("outside-svg", "outside-jpeg", "outside-css", "secret"),
        )
    }

    # outside the project: root/ (the project is root/a/proj, so ../../x is root/x)
    (root / "outside.svg").write_text(svg_with_text(markers["outside-svg"]), encoding="utf-8")
    (root / "outside.jpg").write_bytes(jpeg_with_comment(markers["outside-jpeg"]))
    (root / "outside.css").write_text(f'.cover::after {{ content: "{markers["outside-css"]}"; }}\n', encoding="utf-8")
    (root / "secret.txt").write_text(markers["secret"] + "\n", encoding="utf-8")

    template = cover_override(
        head=f"""
<link rel="attachment" href="file://{HOST_FILE}">
<link rel="attachment" href="file://{root}/secret.txt">
<link rel="attachment" href="../../secret.txt">
<link rel="stylesheet" href="{net}/link.css">
<style>
@font-face {{ font-family: Leak; src: url({net}/font.woff); }}
.cover {{ background: url({net}/background.png); }}
</style>""",
        body=f"""
<p>{markers["override"]}</p>
<img src="{net}/x.png" alt="">
<img src="//127.0.0.1:{port}/protocol-relative.png" alt="">
<img src="file://{HOST_FILE}" alt="">
<img src="../../outside.svg" alt="">
<img src="../../outside.jpg" alt="">
<img src="file://{root}/outside.jpg" alt="">
<img src="assets/linked.jpg" alt="">
<img src="assets/nested.svg" alt="">
<img src="assets/inside.svg" alt="">
<img src="assets/inside.jpg" alt="">
<a rel="attachment" href="file://{HOST_FILE}">attach</a>
<object data="{net}/object.svg"></object>
<embed src="file://{root}/outside.svg">
<iframe src="{net}/frame.html"></iframe>""",
    )
    style = f"""@import url({net}/s.css);
@import url("../../outside.css");
h1 {{ background-image: url({net}/h1.png); }}
"""
    config_path = themed_project(cli, root, template=template, style=style, formats=("html", "pdf", "json"))
    project = config_path.parent

    # inside the project's assets/: allowed, and the controls that prove the checks can see a leak
    (project / "assets").mkdir()
    (project / "assets" / "inside.svg").write_text(svg_with_text(markers["inside-svg"]), encoding="utf-8")
    (project / "assets" / "inside.jpg").write_bytes(jpeg_with_comment(markers["inside-jpeg"]))
    (project / "assets" / "linked.jpg").symlink_to(root / "outside.jpg")
    (project / "assets" / "nested.svg").write_text(
        svg_with_text(
            markers["nested-svg"],
            extra=(
                f'<image href="{net}/nested.png" width="8" height="8"/>'
                f'<image xlink:href="file://{root}/outside.jpg" width="8" height="8"/>'
                '<image href="../../../outside.jpg" width="8" height="8"/>'
                f'<image href="file://{HOST_FILE}" width="8" height="8"/>'
            ),
        ),
        encoding="utf-8",
    )

    out = root / "out"
    result = cli.run("run", config_path, "--out", out, cwd=root)
    pdfs = sorted(out.glob("*.pdf"))
    htmls = sorted(out.glob("*.html"))
    assert result.code == 0 and len(pdfs) == 1 and len(htmls) == 1, result.output
    return HostileRender(
        code=result.code,
        output=result.output,
        html=htmls[0].read_text(encoding="utf-8"),
        pdf=pdfs[0],
        json=pdfs[0].with_suffix(".json"),
        requests=list(recorder.requests),
        markers=markers,
    )


def test_control_the_override_and_project_files_do_render(hostile):
    """Without this, the 'not in the PDF' checks below could pass on a blank PDF."""
    text = pdf_text(hostile.pdf)
    assert hostile.markers["override"] in hostile.html, "the theme's template override was not used"
    assert hostile.markers["override"] in text
    assert hostile.markers["inside-svg"] in text, "an SVG inside the project should render"
    assert hostile.markers["nested-svg"] in text, "an SVG inside the project should render"
    assert hostile.markers["inside-jpeg"].encode() in pdf_bytes(hostile.pdf), "a JPEG inside the project should render"


def test_no_network_request_is_made(hostile):
    assert hostile.requests == [], f"the renderer fetched from the network: {hostile.requests}"


def test_no_file_but_the_results_is_attached(hostile):
    assert_only_roistory_attachment(hostile.pdf, hostile.json)


def test_no_local_file_outside_the_project_reaches_the_pdf(hostile):
    text = pdf_text(hostile.pdf)
    everything = pdf_bytes(hostile.pdf)
    for name in ("outside-svg", "outside-jpeg", "outside-css", "secret"):
        marker = hostile.markers[name]
        assert marker not in text, f"{name} leaked into the PDF text"
        assert marker.encode() not in everything, f"{name} leaked into the PDF bytes"
    assert b"FETCHED-FROM-NETWORK" not in everything
    host = HOST_FILE.read_text(encoding="utf-8").strip() or "<empty>"
    assert host.splitlines()[0] not in text.split(), f"{HOST_FILE} leaked into the PDF text"
    if len(host) >= 8:  # long enough not to occur by chance in the report's own text
        assert host not in text


def test_detectors_see_what_the_default_fetcher_leaks(tmp_path):
    """Control for the checks above: WeasyPrint's own fetcher, given the same tricks,
    produces a PDF in which pdf_attachments and pdf_bytes do find the leaks."""
    from weasyprint import HTML

    marker = f"leak-{uuid.uuid4().hex[:12]}"
    (tmp_path / "secret.txt").write_text(marker, encoding="utf-8")
    (tmp_path / "photo.jpg").write_bytes(jpeg_with_comment(marker + "-jpeg"))
    html = f'<link rel="attachment" href="file://{tmp_path}/secret.txt"><img src="file://{tmp_path}/photo.jpg">'
    pdf = tmp_path / "leaky.pdf"
    HTML(string=html, base_url=str(tmp_path) + "/").write_pdf(pdf)
    assert pdf_attachments(pdf) != []
    assert marker.encode() in pdf_bytes(pdf)
    assert (marker + "-jpeg").encode() in pdf_bytes(pdf)


# ---------------------------------------------------------------- symlinks out of the theme folder


@pytest.mark.parametrize("what", ["template", "stylesheet"])
def test_theme_files_symlinked_out_of_the_project_are_not_read(cli, tmp_path, what):
    """A theme folder (say, an agency's, unpacked from an archive) holding a symlink to a
    file elsewhere on the machine must not pull that file into the report."""
    marker = f"secret-{uuid.uuid4().hex[:12]}"
    secret = tmp_path / "secret.txt"
    secret.write_text(f"/* {marker} */\n", encoding="utf-8")
    if what == "template":
        config_path = themed_project(cli, tmp_path, template=cover_override('<p>{% include "host.html.j2" %}</p>'))
        (config_path.parent / THEME / "templates" / "host.html.j2").symlink_to(secret)
    else:
        config_path = themed_project(cli, tmp_path)
        (config_path.parent / THEME / "style.css").symlink_to(secret)
    out = tmp_path / "out"
    result = cli.run("run", config_path, "--out", out, cwd=tmp_path)
    written = "".join(p.read_text(encoding="utf-8", errors="replace") for p in out.rglob("*") if p.is_file())
    assert marker not in written + result.output, f"the {what} symlinked out of the project was read"
    if result.code != 0:
        cli.assert_rejected(result, out)


# ---------------------------------------------------------------- the Jinja sandbox


@pytest.mark.parametrize(
    "payload",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ report.__class__ }}",
        "{% set grown = sections.append(1) %}",
        "{% for i in range(10**9) %}{% endfor %}",
        "{% include '../../../../../../../../etc/hostname' %}",
        "{% if %}",
    ],
    ids=[
        "str-mro",
        "report-class",
        "mutate-context",
        "huge-range",
        "include-parent",
        "syntax-error",
    ],
)
def test_hostile_or_broken_template_is_bad_input(cli, tmp_path, payload):
    """The sandbox refuses; the user sees one line and exit code 2 (a bad template),
    no traceback, no Python internals, no half-written report."""
    config_path = themed_project(cli, tmp_path, template=cover_override(payload))
    out = tmp_path / "out"
    result = cli.run("run", config_path, "--out", out, cwd=tmp_path)
    line = cli.assert_rejected(result, out)
    assert "<class '" not in line and "<module" not in line, line


# ---------------------------------------------------------------- brand settings go into CSS


@pytest.mark.parametrize(
    ("brand", "named"),
    [
        ('primary_color: "red;} body{display:none"', ("primary_color", THEME)),
        ('font_family: "Arial; } body { display: none"', ("font_family", THEME)),
        ("logo: ../../outside.jpg", ("logo",)),
    ],
    ids=["colour", "font", "logo-outside-project"],
)
def test_unsafe_brand_value_is_rejected(cli, tmp_path, brand, named):
    (tmp_path / "outside.jpg").write_bytes(jpeg_with_comment("outside"))
    config_path = themed_project(cli, tmp_path, theme_yaml=f"brand:\n  {brand}\n")
    out = tmp_path / "out"
    result = cli.run("run", config_path, "--out", out, cwd=tmp_path)
    cli.assert_rejected(result, out, *named)


def test_validate_rejects_an_unsafe_brand_colour(cli, tmp_path):
    """`validate` checks config before the board-report run: the theme's theme.yaml is
    config too, so a colour that makes `run` exit 2 must not be called valid."""
    config_path = themed_project(cli, tmp_path, theme_yaml='brand:\n  primary_color: "red;} body{display:none"\n')
    result = cli.run("validate", config_path, cwd=tmp_path)
    cli.assert_rejected(result, None, "primary_color")


# ---------------------------------------------------------------- markup in data values

MARKUP = '<script>alert("{n}")</script><b class="{n}">{n}</b>'


def test_markup_in_every_data_value_is_escaped(cli, tmp_path):
    """Every value from the config and the exports that reaches the HTML carries markup and a
    script; none survives as markup (autoescape covers data, not only the templates)."""
    names = {
        key: MARKUP.format(n=f"M{key}")
        for key in ("title", "client", "source", "channel", "campaign", "lead_channel", "objective", "owner", "label")
    }
    config = cli.default_config()
    config["report"].update({"title": names["title"], "client": names["client"], "formats": ["html"]})
    config["sources"][0]["name"] = names["source"]
    config["custom_metrics"] = [{"id": "margin_roas", "label": names["label"], "formula": "revenue / spend"}]
    config["goals"] = [
        {
            "id": "g1",
            "objective": names["objective"],
            "metric": "revenue",
            "target": 2000,
            "deadline": "2026-12-31",
            "owner": names["owner"],
            "baseline": 100,
        }
    ]
    quoted = '"' + names["channel"].replace('"', '""') + '"'
    campaign = '"' + names["campaign"].replace('"', '""') + '"'
    files = {
        "data/spend.csv": (
            "date,channel,campaign,cost,impressions,clicks\n"
            f"2026-09-03,{quoted},{campaign},90.00,900,30\n"
            f"2026-10-01,{quoted},{campaign},120.50,1000,40\n"
            "2026-10-02,Email,Newsletter,20.00,600,30\n"
        ),
        "data/touchpoints.csv": (
            "person_id,timestamp,channel,campaign\n"
            f"P1,2026-10-01T10:00:00,{quoted},{campaign}\n"
            "P2,2026-10-02T11:00:00,Email,Newsletter\n"
        ),
        "data/leads.csv": (
            "lead_id,created_at,person_id,source_channel,mql_at,sql_at\n"
            "L1,2026-10-01,P1," + '"' + names["lead_channel"].replace('"', '""') + '"' + ",2026-10-02,2026-10-04\n"
            "L2,2026-10-02,P2,Email,2026-10-03,\n"
        ),
    }
    config_path = cli.write_project(tmp_path / "proj", config, files=files)
    result = cli.run("run", config_path, "--out", tmp_path / "out", cwd=tmp_path)
    assert result.code == 0, result.output
    html = next((tmp_path / "out").glob("*.html")).read_text(encoding="utf-8")
    for key in names:
        marker = f"M{key}"
        assert f'<b class="{marker}">' not in html, f"{key}: markup reached the HTML unescaped"
        assert f'alert("{marker}")</script>' not in html and f"alert(&#34;{marker}&#34;)</script>" not in html, key
    shown = [
        key
        for key in names
        if f"&lt;b class=&#34;M{key}&#34;&gt;" in html or f"&lt;b class=&quot;M{key}&quot;&gt;" in html
    ]
    # the values the report shows (escaped): the check above is not vacuous for them
    assert {"title", "channel", "objective", "owner"} <= set(shown), shown


# ---------------------------------------------------------------- the PDF's URL fetcher


def test_url_fetcher_refuses_a_sibling_folder_sharing_the_name_prefix(tmp_path):
    """``/x/acme-old`` is not inside ``/x/acme``: containment is by path, never by string prefix."""
    from roistory.pdf import make_url_fetcher
    from roistory.safety import inside

    project, sibling = tmp_path / "acme", tmp_path / "acme-old"
    for folder in (project / "assets", sibling / "assets"):
        folder.mkdir(parents=True)
        (folder / "style.css").write_text("p { color: red }", encoding="utf-8")
    assert inside(project / "assets" / "style.css", project)
    assert not inside(sibling / "assets" / "style.css", project)
    fetcher = make_url_fetcher([project / "assets"])
    allowed = fetcher.fetch((project / "assets" / "style.css").as_uri())
    assert allowed is not None  # the control: the project's own asset is fetched
    with pytest.raises(ValueError, match="refusing to read"):
        fetcher.fetch((sibling / "assets" / "style.css").as_uri())
    with pytest.raises(ValueError, match="refusing to read"):
        fetcher.fetch((tmp_path / "acme" / ".." / "acme-old" / "assets" / "style.css").as_uri())
