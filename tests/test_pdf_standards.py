"""``report.pdf.variant``: PDF/A-3b, PDF/UA-1 and plain PDFs, checked with pikepdf.

veraPDF cannot be installed from the registries these machines reach, so the checks are the
structural ones documented in docs/theming.md#pdf-standards: XMP identification, output intent,
embedded fonts and the results attachment (PDF/A-3b); structure tree, marked content, document
language, alt text of figures and header cells (PDF/UA-1); metadata and byte-identical reruns
for every variant; no e-mail address of the input data in any output.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

pikepdf = pytest.importorskip("pikepdf")

VARIANTS = ("pdf/a-3b", "pdf/ua-1", "none")
EXAMPLE = Path(__file__).parents[1] / "examples" / "acme" / "report.yaml"


@pytest.fixture(scope="module")
def renders(cli, tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """The tiny project in every variant, twice, in processes that differ in hash seed, time zone and folder."""
    root = tmp_path_factory.mktemp("standards")
    found = {}
    for variant in VARIANTS:
        config = cli.default_config()
        config["report"]["pdf"] = {"variant": variant}
        config["report"]["client"] = "Tiny Co"
        config["report"]["title"] = "Board pack"
        config["report"]["formats"] = ["html", "pdf", "json"]
        project = cli.write_project(root / variant.replace("/", "-") / "proj", config)
        outs = []
        for n, (seed, zone) in enumerate((("1", "UTC"), ("2", "Asia/Jakarta"))):
            out = project.parent / f"out{n}"
            env = {**os.environ, "PYTHONHASHSEED": seed, "TZ": zone}
            result = cli.run("run", project, "--out", out, cwd=project.parent, env=env)
            assert result.code == 0, result.output
            outs.append(out)
        found[variant] = tuple(outs)
    return found


def _one(folder: Path, ext: str) -> Path:
    [path] = [p for p in folder.glob(f"*.{ext}") if not p.name.endswith(".manifest.json")]
    return path


def _xmp(pdf) -> str:
    return bytes(pdf.Root.Metadata.read_bytes()).decode("utf-8")


def _fonts(pdf) -> list:
    fonts = []
    for page in pdf.pages:
        resources = page.obj.get("/Resources", {})
        for font in resources.get("/Font", {}).values():
            fonts.append(font)
            fonts.extend(font.get("/DescendantFonts", []))
    return fonts


def _struct_types(node, found: list) -> list:
    """Every structure element under ``node``: (type, its /Alt or None)."""
    kids = node.get("/K")
    if kids is None:
        return found
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            found.append((str(kid.S), str(kid.Alt) if "/Alt" in kid else None))
            _struct_types(kid, found)
    return found


@pytest.mark.parametrize("variant", VARIANTS)
def test_reruns_are_byte_identical(renders, variant):
    first, second = renders[variant]
    for ext in ("pdf", "html", "json"):
        assert _one(first, ext).read_bytes() == _one(second, ext).read_bytes(), f"{variant}: the {ext} differs"


@pytest.mark.parametrize("variant", VARIANTS)
def test_metadata(renders, variant):
    pdf_path = _one(renders[variant][0], "pdf")
    info = dict(
        line.split(":", 1)
        for line in subprocess.run(
            ["pdfinfo", "-isodates", str(pdf_path)], capture_output=True, text=True, check=True
        ).stdout.splitlines()
        if ":" in line
    )
    info = {k.strip(): v.strip() for k, v in info.items()}
    assert info["Title"] == "Board pack — October 2026"
    assert info["Subject"] == "Tiny Co — Board pack — October 2026"
    assert "Tiny Co" in info["Keywords"] and "Channels" in info["Keywords"]
    assert info["Author"] == "Prepared with roistory"
    assert info["CreationDate"].startswith("2026-10-31T00:00:00")  # the period's last day, not the clock
    with pikepdf.open(pdf_path) as pdf:
        assert str(pdf.Root.Lang) == "en"
        # PDF bookmarks: one per section heading of the contents
        with pdf.open_outline() as outline:
            titles = [item.title for item in outline.root]
        assert "Channels" in titles and "Key figures" in titles


def test_pdf_a_3b_identification_fonts_and_intent(renders):
    with pikepdf.open(_one(renders["pdf/a-3b"][0], "pdf")) as pdf:
        xmp = _xmp(pdf)
        assert re.search(r"pdfaid:part[>=\"']+3", xmp) and re.search(r"pdfaid:conformance[>=\"']+B", xmp), xmp
        [intent] = pdf.Root.OutputIntents
        assert str(intent.S) == "/GTS_PDFA1" and "/DestOutputProfile" in intent
        fonts = _fonts(pdf)
        assert fonts
        for font in fonts:
            descriptor = font.get("/FontDescriptor")
            if descriptor is not None:  # Type0 parents have none; their descendants do
                assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.keys()), (
                    f"{font.get('/BaseFont')} not embedded"
                )


def test_pdf_a_3b_carries_exactly_the_json_output(renders):
    out = renders["pdf/a-3b"][0]
    with pikepdf.open(_one(out, "pdf")) as pdf:
        attachments = dict(pdf.attachments)
        assert list(attachments) == ["roistory-results.json"]
        spec = attachments["roistory-results.json"]
        assert spec.get_file().read_bytes() == _one(out, "json").read_bytes()
        assert str(spec.obj.AFRelationship) == "/Data"
        # the associated file PDF/A-3 asks for (WeasyPrint 70 lists it twice: the same object)
        assert {entry.objgen for entry in pdf.Root.AF} == {spec.obj.objgen}


@pytest.mark.parametrize("variant", ["pdf/ua-1", "none"])
def test_other_variants_attach_nothing(renders, variant):
    with pikepdf.open(_one(renders[variant][0], "pdf")) as pdf:
        assert dict(pdf.attachments) == {}


def test_pdf_ua_1_is_tagged(renders):
    with pikepdf.open(_one(renders["pdf/ua-1"][0], "pdf")) as pdf:
        assert re.search(r"pdfuaid:part[>=\"']+1", _xmp(pdf))
        assert bool(pdf.Root.MarkInfo.Marked) is True
        assert bool(pdf.Root.ViewerPreferences.DisplayDocTitle) is True
        assert str(pdf.Root.Lang) == "en"
        elements = _struct_types(pdf.Root.StructTreeRoot, [])
        types = {t for t, _alt in elements}
        assert {"/Document", "/H1", "/H2", "/Table", "/TH", "/TD", "/Figure"} <= types, types
        figures = [alt for t, alt in elements if t == "/Figure"]
        # every chart's alt text is its takeaway sentence (the logo-less cover has no other image)
        assert figures and all(alt for alt in figures), figures
        assert any("brought the most revenue" in alt for alt in figures), figures


def test_no_email_of_the_input_data_in_any_output(cli, tmp_path):
    """The example's CRM export holds people's e-mail addresses (duplicates are merged and
    reported as findings): none is printed, in any format."""
    leads = pd.read_csv(EXAMPLE.parent / "data" / "leads.csv")
    emails = set(leads["email"].dropna().str.strip().str.lower())
    assert len(emails) > 100
    out = tmp_path / "out"
    result = cli.run("run", EXAMPLE, "--out", out, cwd=tmp_path)
    assert result.code == 0, result.output
    text = subprocess.run(["pdftotext", str(_one(out, "pdf")), "-"], capture_output=True, text=True, check=True).stdout
    outputs = {"pdf": text, "html": _one(out, "html").read_text(), "json": _one(out, "json").read_text()}
    for fmt, content in outputs.items():
        printed = {e.lower() for e in re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", content)}
        assert not printed & emails, f"{fmt} prints {sorted(printed & emails)[:3]}"
    assert "***@" in outputs["html"]  # the duplicate-lead finding gives masked examples instead


def test_a_campaign_named_after_an_email_address_is_masked(cli, tmp_path):
    """Segment labels come from the data: a campaign named after a person's address is
    printed masked in the segments table and the JSON's metric segments."""
    config = cli.default_config()
    spend = cli.data_files["data/spend.csv"].replace("Newsletter", "john.doe@example.com")
    touchpoints = cli.data_files["data/touchpoints.csv"].replace("Newsletter", "john.doe@example.com")
    path = cli.write_project(
        tmp_path / "proj", config, files={"data/spend.csv": spend, "data/touchpoints.csv": touchpoints}
    )
    out = tmp_path / "out"
    result = cli.run("run", path, "--out", out, "--format", "html,json", cwd=tmp_path)
    assert result.code == 0, result.output
    html, json_text = _one(out, "html").read_text(), _one(out, "json").read_text()
    assert "Newsletter" in cli.data_files["data/spend.csv"] and "john.doe" not in html + json_text
    segments = [m["segment"].get("campaign") for m in json.loads(json_text)["metrics"] if m["segment"]]
    assert "j***@example.com" in segments
