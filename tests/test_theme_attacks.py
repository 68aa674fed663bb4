"""A hostile theme, case by case: server-side template injection, includes, the network,
local and project files, brand injection, resource bombs, attachments, a logo that is not
an image.

Every case runs ``roistory run`` on a small project (root/a/proj) whose theme folder
holds the attack, with a local HTTP server recording any request, and checks:

- the outcome: ``rejected`` (exit 2, one stderr line naming the culprit, nothing in
  ``--out``), ``timeout`` (exit 1, one line naming the time limit, nothing in ``--out``)
  or ``neutralised`` (exit 0, nothing on stderr, the attack simply has no effect);
- no network request reached the server;
- no secret leaked into the outputs or the messages: a file outside the project, a file
  in a sibling folder whose name starts with the project's, the config, a data file's
  unshown column, a project file outside ``assets/``;
- no file attached to the PDF but roistory's own results (equal to the JSON output).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from test_render_security import (  # the PDF inspection helpers and the recording server
    HOST_FILE,
    assert_only_roistory_attachment,
    jpeg_with_comment,
    pdf_bytes,
    recorder,  # noqa: F401  (a fixture)
    svg_with_text,
)

THEME = "evil"
SECRETS = ("outside", "sibling", "config", "data", "not-asset")


@dataclass
class Attack:
    id: str
    outcome: str  # rejected | neutralised | timeout
    body: str = ""  # the cover footer of an override of default:report.html.j2
    head: str = ""  # extra <head> content in that override
    template: str | None = None  # the whole report.html.j2 instead of an override
    style: str | None = None  # the theme's style.css
    brand: str | None = None  # YAML lines under brand: in theme.yaml
    files: dict[str, bytes | str] = field(default_factory=dict)  # extra project files
    links: dict[str, str] = field(default_factory=dict)  # project path -> symlink target (@ROOT@...)
    fifo: str | None = None  # a project path made a FIFO
    fragments: tuple[str, ...] = ()  # what the error line must name
    pdf: bool = False  # render the PDF too (for what only the PDF renderer fetches)

    def __str__(self) -> str:
        return self.id


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def ssti(name: str, payload: str, *fragments: str) -> Attack:
    return Attack(f"ssti-{name}", "rejected", body=payload, fragments=("template error", *fragments))


def include(name: str, payload: str) -> Attack:
    return Attack(f"include-{name}", "rejected", body=payload)


def bomb(name: str, payload: str, *fragments: str) -> Attack:
    return Attack(f"bomb-{name}", "rejected", body=payload, fragments=("template error", *fragments))


def logo(name: str, value: str, **kwargs) -> Attack:
    return Attack(f"logo-{name}", "rejected", brand=f"logo: {value}", fragments=("brand.logo",), **kwargs)


def neutral(name: str, **kwargs) -> Attack:
    return Attack(name, "neutralised", pdf=True, **kwargs)


ATTACKS = [
    # ---------------------------------------------------------------- template injection
    ssti("str-mro", "{{ ''.__class__.__mro__ }}"),
    ssti("cycler-globals", "{{ cycler.__init__.__globals__ }}"),
    ssti("joiner-globals", "{{ joiner.__init__.__globals__.os }}"),
    ssti("namespace-class", "{{ namespace.__class__.__subclasses__() }}"),
    ssti("attr-filter", "{{ ''|attr('__class__') }}"),
    ssti("format-attribute", "{{ '{0.__class__.__mro__}'.format('') }}"),
    ssti("template-context", "{{ self._TemplateReference__context }}"),
    ssti("gettext-globals", "{{ _.__globals__ }}"),
    ssti("mutate-sections", "{% set grown = sections.append(1) %}"),
    ssti("mutate-brand", "{% set changed = brand.update({'logo': 'x'}) %}"),
    ssti("lipsum-globals", "{{ lipsum.__globals__ }}"),
    ssti("undefined-config", "{{ config.items() }}"),
    # ---------------------------------------------------------------- includes of other files
    include("absolute", "{% include '/etc/hostname' %}"),
    include("parent-dirs", "{% include '../../../../../../etc/hostname' %}"),
    include("the-config", "{% include '../../report.yaml' %}"),
    include("a-data-file", "{% include '../../data/leads.csv' %}"),
    include("import-config", "{% import '../../report.yaml' as settings %}{{ settings }}"),
    include("default-prefix-escape", "{% include 'default:../../report.yaml' %}"),
    Attack(
        "include-symlink-out",
        "rejected",
        body="{% include 'leak.html.j2' %}",
        links={f"{THEME}/templates/leak.html.j2": "@ROOT@/secret.txt"},
    ),
    Attack("extends-the-config", "rejected", template="{% extends '../../report.yaml' %}"),
    # ---------------------------------------------------------------- resource bombs
    bomb("power", "{{ 9 ** (9 ** 9) }}", "**"),
    bomb("string-repeat", "{{ 'x' * 10**10 }}", "'*'"),
    bomb("list-repeat", "{{ ([1] * 10**9)|length }}", "'*'"),
    bomb("concat", "{{ ('x' * 9000000) + ('x' * 9000000) }}", "'+'"),
    bomb("recursive-macro", "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "too deeply"),
    bomb("percent-width", "{{ '%0999999999d' % 1 }}", "format field"),
    bomb("format-width", "{{ '{:>999999999}'.format(1) }}", "format field"),
    bomb("format-nested-width", "{{ '{:>{}}'.format(1, 10**9) }}", "format field"),
    bomb("center", "{{ 'x'|center(10**9) }}", "center"),
    bomb("indent", "{{ 'x\ny'|indent(10**9) }}", "indent"),
    bomb("format-filter", "{{ '%0999999999d'|format(1) }}", "format field"),
    bomb("huge-range", "{% for i in range(10**9) %}{% endfor %}"),
    bomb(
        "doubling-in-a-loop",
        "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length "
        "}}",
        "memory",
    ),
    Attack(
        "bomb-endless-loops",
        "timeout",
        body="{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
    ),
    # ---------------------------------------------------------------- brand settings (they go into CSS)
    Attack(
        "brand-colour-css", "rejected", brand='primary_color: "red;} body{display:none"', fragments=("primary_color",)
    ),
    Attack("brand-colour-newline", "rejected", brand='primary_color: "#112233\\n"', fragments=("primary_color",)),
    Attack("brand-colour-list", "rejected", brand="accent_color: ['#112233']", fragments=("accent_color",)),
    Attack(
        "brand-font-css", "rejected", brand='font_family: "Arial; } body { display: none"', fragments=("font_family",)
    ),
    Attack(
        "brand-font-style-close",
        "rejected",
        brand='font_family: "</style><script>alert(1)</script>"',
        fragments=("font_family",),
    ),
    Attack("brand-unknown-key", "rejected", brand="script: alert(1)", fragments=("script",)),
    neutral("brand-footer-markup", brand='footer_text: "</style><script>alert(1)</script><img src=@NET@/footer.png>"'),
    # ---------------------------------------------------------------- a logo that is not an image
    logo("renamed-csv", "assets/logo.png", files={"assets/logo.png": "date,channel,cost\n@SECRET-not-asset@,x,1\n"}),
    logo("the-config", "report.yaml"),
    logo("a-data-file", "data/leads.csv"),
    logo("data-copied-to-assets", "assets/leads.png", files={"assets/leads.png": "lead_id,email\nL1,@SECRET-data@\n"}),
    logo("html-named-svg", "assets/logo.svg", files={"assets/logo.svg": "<html><script>alert(1)</script></html>"}),
    logo("outside-project", "../../outside.png"),
    logo("sibling-folder", "../proj-old/logo.png"),
    logo("symlink-out", "assets/logo.png", links={"assets/logo.png": "@ROOT@/outside.png"}),
    logo("not-in-assets", "root.png", files={"root.png": PNG}),
    logo("a-fifo", "assets/logo.png", fifo="assets/logo.png"),
    logo("too-big", "assets/logo.png", files={"assets/logo.png": PNG + b"\x00" * (6 << 20)}),
    # ---------------------------------------------------------------- the network (PDF renderer)
    neutral("net-images", body='<img src="@NET@/x.png"><img src="//127.0.0.1:@PORT@/relative.png">'),
    neutral(
        "net-stylesheets", head='<link rel="stylesheet" href="@NET@/link.css"><style>@import url(@NET@/s.css);</style>'
    ),
    neutral(
        "net-font-and-background",
        style="@font-face { font-family: L; src: url(@NET@/f.woff); }\nh1 { background: url(@NET@/h1.png); }",
    ),
    neutral(
        "net-frames",
        body='<iframe src="@NET@/frame.html"></iframe><object data="@NET@/o.svg"></object><embed src="@NET@/e.svg">',
    ),
    neutral(
        "net-from-an-asset-svg",
        body='<img src="assets/net.svg">',
        files={"assets/net.svg": svg_with_text("ok", extra='<image href="@NET@/nested.png" width="8" height="8"/>')},
    ),
    # ---------------------------------------------------------------- local files outside the project
    neutral("local-host-file", body='<img src="file://@HOST@">', head='<link rel="attachment" href="file://@HOST@">'),
    neutral(
        "local-parent-dirs",
        body='<img src="../../outside.svg"><img src="file://@ROOT@/outside.jpg">',
        head='<link rel="stylesheet" href="../../outside.css">',
    ),
    neutral(
        "local-sibling-prefix",
        body='<img src="../proj-old/secret.svg"><img src="file://@ROOT@/a/proj-old/secret.jpg">',
        head='<link rel="stylesheet" href="../proj-old/secret.css">',
    ),
    neutral(
        "local-symlinked-asset", body='<img src="assets/linked.svg">', links={"assets/linked.svg": "@ROOT@/outside.svg"}
    ),
    # ---------------------------------------------------------------- project files that are not assets
    neutral("project-root-file", body='<img src="notes.svg"><img src="file://@PROJ@/notes.svg">'),
    neutral("project-data-as-image", body='<img src="data/leads.csv"><object data="data/leads.csv"></object>'),
    neutral("project-data-in-css", style="body { background: url(data/leads.csv); }\n@import url(report.yaml);"),
    neutral(
        "project-asset-svg-pulls-data",
        body='<img src="assets/pull.svg">',
        files={"assets/pull.svg": svg_with_text("ok", extra='<image href="../data/leads.csv" width="8" height="8"/>')},
    ),
    # ---------------------------------------------------------------- attachments (roistory adds only its results)
    neutral("attach-data-file", head='<link rel="attachment" href="data/leads.csv">'),
    neutral("attach-config", body='<a rel="attachment" href="report.yaml">config</a>'),
    neutral(
        "attach-an-asset",
        head='<link rel="attachment" href="assets/ok.svg">',
        files={"assets/ok.svg": svg_with_text("ok")},
    ),
    neutral(
        "attach-rel-variants",
        body='<a rel="nofollow ATTACHMENT" href="data/leads.csv">x</a><a rel=attachment href=report.yaml>y</a>',
    ),
    neutral("attach-entity-encoded", head='<link rel="&#97;ttachment" href="data/leads.csv">'),
]


def test_the_suite_is_big_enough():
    assert len(ATTACKS) >= 40 and len({a.id for a in ATTACKS}) == len(ATTACKS)


def _fill(text: str, tokens: dict[str, str]) -> str:
    for token, value in tokens.items():
        text = text.replace(token, value)
    return text


@pytest.fixture
def hostile_project(cli, tmp_path, recorder):  # noqa: F811  (the fixture imported above)
    """root/a/proj with its theme folder, secrets around it, and a fresh request log."""
    root = tmp_path
    secrets = {name: f"SECRET-{name}-{uuid.uuid4().hex[:10]}" for name in SECRETS}
    project = root / "a" / "proj"
    sibling = root / "a" / "proj-old"
    sibling.mkdir(parents=True)
    for suffix, content in (
        ("svg", svg_with_text(secrets["sibling"])),
        ("css", f'.cover::after {{ content: "{secrets["sibling"]}"; }}'),
    ):
        (sibling / f"secret.{suffix}").write_text(content, encoding="utf-8")
    (sibling / "secret.jpg").write_bytes(jpeg_with_comment(secrets["sibling"]))
    (sibling / "logo.png").write_bytes(PNG + secrets["sibling"].encode())
    (root / "secret.txt").write_text(secrets["outside"], encoding="utf-8")
    (root / "outside.svg").write_text(svg_with_text(secrets["outside"]), encoding="utf-8")
    (root / "outside.jpg").write_bytes(jpeg_with_comment(secrets["outside"]))
    (root / "outside.png").write_bytes(PNG + secrets["outside"].encode())
    (root / "outside.css").write_text(f'.cover::after {{ content: "{secrets["outside"]}"; }}', encoding="utf-8")

    config = cli.default_config()
    config["report"]["theme"] = THEME
    # the leads export carries a column the report never shows: the lead's email
    leads = (
        "lead_id,email,created_at,person_id,source_channel\n"
        f"L0,{secrets['data']},2026-09-05,P0,Paid Search\n"
        "L1,b@example.com,2026-10-01,P1,Paid Search\n"
        "L2,c@example.com,2026-10-02,P2,Email\n"
    )
    config_text = yaml.safe_dump(config, sort_keys=False) + f"# {secrets['config']}\n"
    cli.write_project(project, files={"data/leads.csv": leads}, config_text=config_text)
    (project / "notes.svg").write_text(svg_with_text(secrets["not-asset"]), encoding="utf-8")
    (project / THEME / "templates").mkdir(parents=True)
    (project / "assets").mkdir()
    recorder.requests.clear()
    tokens = {
        "@NET@": f"http://127.0.0.1:{recorder.port}",
        "@PORT@": str(recorder.port),
        "@ROOT@": str(root),
        "@PROJ@": str(project),
        "@HOST@": str(HOST_FILE),
        "@SECRET-not-asset@": secrets["not-asset"],
        "@SECRET-data@": secrets["data"],
    }
    return root, project, secrets, tokens


def _arm(attack: Attack, project: Path, tokens: dict[str, str]) -> None:
    theme = project / THEME
    if attack.template is not None:
        template = attack.template
    else:
        template = (
            '{% extends "default:report.html.j2" %}\n'
            "{% block head %}{{ super() }}\n" + attack.head + "\n{% endblock %}\n"
            "{% block cover_footer %}\n" + attack.body + "\n{% endblock %}\n"
        )
    (theme / "templates" / "report.html.j2").write_text(_fill(template, tokens), encoding="utf-8")
    if attack.style is not None:
        (theme / "style.css").write_text(_fill(attack.style, tokens), encoding="utf-8")
    if attack.brand is not None:
        (theme / "theme.yaml").write_text("brand:\n  " + _fill(attack.brand, tokens) + "\n", encoding="utf-8")
    for relative, content in attack.files.items():
        path = project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(_fill(content, tokens), encoding="utf-8")
    for relative, target in attack.links.items():
        (project / relative).symlink_to(_fill(target, tokens))
    if attack.fifo:
        os.mkfifo(project / attack.fifo)


@pytest.mark.parametrize("attack", ATTACKS, ids=str)
def test_theme_attack(cli, hostile_project, recorder, attack):  # noqa: F811
    root, project, secrets, tokens = hostile_project
    _arm(attack, project, tokens)
    out = root / "out"
    formats = "html,pdf,json" if attack.pdf else "html"
    limit = ["--time-limit", "8"] if attack.outcome == "timeout" else []
    result = cli.run("run", project / "report.yaml", "--out", out, "--format", formats, *limit, cwd=root, timeout=300)
    if attack.outcome == "rejected":
        cli.assert_rejected(result, out, *attack.fragments)
    elif attack.outcome == "timeout":
        assert result.code == 1 and len(result.stderr.strip().splitlines()) == 1, result.output
        assert "time limit" in result.stderr and cli.files_under(out) == []
    else:
        assert result.code == 0 and result.stderr == "", result.output
    assert recorder.requests == [], f"the report fetched from the network: {recorder.requests}"
    written = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file()) if out.exists() else b""
    for pdf in out.glob("*.pdf") if out.exists() else []:
        written += pdf_bytes(pdf)
        assert_only_roistory_attachment(pdf, pdf.with_suffix(".json"))
    for name, marker in secrets.items():
        assert marker.encode() not in written, f"the {name} secret leaked into the outputs"
        assert marker not in result.output, f"the {name} secret leaked into the messages"
    html = b"".join(p.read_bytes() for p in out.glob("*.html")) if out.exists() else b""
    assert b"<script>alert" not in html
