"""The story, traced: every number in every edition's narrative equals the value the JSON
holds for the metric, segment and period it names, in every locale; each edition's PDF
leads with its headline metric and leaves out the sections it does not choose."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from roistory.config import load_config
from roistory.pipeline import build_report
from roistory.plugin_manager import build_registry
from roistory.render import write_report
from roistory.testing import pdf_text

EXAMPLE = Path(__file__).parents[1] / "examples" / "acme"
EDITIONS = ["board", "cfo", "cmo", "sales"]
LOCALES = ["en", "es", "id", "zh_Hant"]


_RUNS: dict[str, tuple] = {}


def _rendered(locale: str, tmp_path_factory) -> tuple:
    """The example rendered once per locale, every edition (PDF in English only: it is slow)."""
    if locale not in _RUNS:
        project = tmp_path_factory.mktemp(f"story-{locale}")
        shutil.copytree(EXAMPLE, project, dirs_exist_ok=True)
        report = build_report(load_config(project / "report.yaml"), locale=locale, write_history=False)
        formats = ["html", "json", "pdf"] if locale == "en" else ["html", "json"]
        _RUNS[locale] = (locale, report, write_report(report, project / "out", formats, editions=EDITIONS))
    return _RUNS[locale]


@pytest.fixture(scope="module", params=LOCALES)
def run(request, tmp_path_factory):
    return _rendered(request.param, tmp_path_factory)


@pytest.fixture(scope="module")
def english_run(tmp_path_factory):
    return _rendered("en", tmp_path_factory)


def _lookup(document: dict, number: dict) -> list[float]:
    """The values the JSON holds at the number's reference."""
    source, metric, segment, period = number["source"], number["metric"], number["segment"], number["period"]
    if source == "metrics":
        return [
            m["value"] for m in document["metrics"] if (m["id"], m["segment"], m["period"]) == (metric, segment, period)
        ]
    if source == "drivers":
        return [
            d["contribution"]
            for d in document["drivers"]
            if (d["metric"], d["segment"], d["comparison"]) == (metric, segment, period)
        ]
    if source == "goals":
        return [g["progress"] for g in document["goals"] if g["id"] == metric]
    if source == "attribution":
        return [a["revenue"] for a in document["attribution"] if a["model"] == metric and a["segment"] == segment]
    if source == "recommendations":
        return [r[metric] for r in document["recommendations"] if r["from"] == segment]
    if source == "report":
        return [document["report"][metric]]
    raise AssertionError(f"unknown source {source!r}")


@pytest.mark.parametrize("edition", EDITIONS)
def test_every_narrative_number_is_the_value_it_references(run, edition):
    locale, _report, paths = run
    document = json.loads(paths[f"{edition}.json"].read_text(encoding="utf-8"))
    assert document["report"]["edition"] == edition
    narrative = document["narrative"]
    assert narrative and any(n["numbers"] for n in narrative)
    checked = 0
    for sentence in narrative:
        assert sentence["edition"] == edition
        for number in sentence["numbers"]:
            assert number["text"] in sentence["text"]
            values = _lookup(document, number)
            assert values, f"{number} is not in the JSON"
            assert any(math.isclose(v, number["value"], rel_tol=0, abs_tol=0) for v in values), (number, values)
            checked += 1
    assert checked >= 3
    texts = [n["text"] for n in narrative]
    assert len(texts) == len(set(texts)), "a sentence is repeated"


def test_html_numbers_carry_their_reference(run):
    locale, _report, paths = run
    document = json.loads(paths["cmo.json"].read_text(encoding="utf-8"))
    html = paths["cmo.html"].read_text(encoding="utf-8")
    spans = re.findall(
        r'<span class="figure" data-metric="([^"]*)" data-period="([^"]*)" data-segment="([^"]*)" data-source="([^"]*)">([^<]*)</span>',  # noqa: E501
        html,
    )
    expected = [(n["metric"], n["period"], n["source"]) for s in document["narrative"] for n in s["numbers"]]
    assert len(spans) == len(expected)
    assert [(m, p, s) for m, p, _seg, s, _t in spans] == expected


def _headline(document: dict) -> dict:
    return document["narrative"][0]["numbers"][0]


HEADLINE_METRIC = {"board": "roas", "cfo": "roi", "cmo": "roas", "sales": "pipeline"}


@pytest.mark.parametrize("edition", EDITIONS)
def test_edition_pdf_has_its_headline_and_only_its_sections(english_run, edition):
    _locale, report, paths = english_run
    document = json.loads(paths[f"{edition}.json"].read_text(encoding="utf-8"))
    headline = _headline(document)
    assert headline["metric"] == HEADLINE_METRIC[edition]
    text = pdf_text(paths[f"{edition}.pdf"])
    flat = " ".join(text.split())
    assert headline["text"] in flat
    registry = build_registry()
    chosen = registry.editions[edition].sections
    lines = {line.strip() for line in text.splitlines()}
    for section_id in report.config.sections or []:
        title = registry.sections[section_id].title
        if section_id in chosen:
            continue
        assert title not in lines, f"{edition} shows the {section_id} section it leaves out"
    if edition == "board":
        assert len(PdfReader(paths["board.pdf"]).pages) <= 2


def test_close_rate_above_100_percent_is_flagged_with_the_cohort_rate(run):
    locale, report, paths = run
    close = report.value("close_rate")
    document = json.loads(paths["sales.json"].read_text(encoding="utf-8"))
    referenced = {n["metric"] for s in document["narrative"] for n in s["numbers"]}
    if close > 1:
        assert "cohort_close_rate" in referenced
    else:
        assert "close_rate" in referenced


def test_an_unknown_edition_in_report_yaml_names_the_key(tmp_path):
    from roistory.errors import ConfigError
    from roistory.testing import make_spend, write_project

    config = write_project(tmp_path, {"spend": make_spend()}, edition=["board", "bord"])
    with pytest.raises(ConfigError, match=r"unknown edition 'bord' \(did you mean 'board'\?\)") as raised:
        build_report(load_config(config), write_history=False)
    assert "report.yaml: report.edition[1]: " in str(raised.value)


def test_a_single_edition_may_be_a_string(tmp_path):
    from roistory.testing import make_spend, write_project

    config = load_config(write_project(tmp_path, {"spend": make_spend()}, edition="cfo"))
    assert config.report.edition == ["cfo"]


def test_a_run_with_editions_delivers_every_edition(tmp_path):
    from datetime import date

    from roistory.runs import render_and_deliver
    from roistory.testing import make_spend, write_project

    config = write_project(
        tmp_path,
        {"spend": make_spend()},
        formats=["html", "json"],
        config={"delivery": [{"type": "folder", "path": "archive", "formats": ["json"]}]},
    )
    paths, records = render_and_deliver(config, tmp_path / "out", editions=["board", "cfo"], deliver=True)
    assert [r["destination"] for r in records] == ["folder"]
    archived = sorted(p.name for p in (tmp_path / "archive" / date.today().isoformat()).rglob("*") if p.is_file())
    assert archived == sorted([paths["board.json"].name, paths["cfo.json"].name])
