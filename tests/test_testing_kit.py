"""roistory.testing, the pytest kit for plugin authors: fixtures, factories, projects, rendering.

Several tests here are also the examples in docs/testing_plugins.md (the code
between ``# -- start x --`` and ``# -- end x --``); ``test_docs_are_in_sync``
checks the docs still match.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from roistory import hookimpl
from roistory.api import Metric, SourceConfig, load_config
from roistory.plugin_manager import get_plugin_manager
from roistory.sources import normalise_table
from roistory.testing import (
    DEFAULT_PERIOD,
    make_conversions,
    make_leads,
    make_spend,
    make_touchpoints,
    plugin_registry,
    register_plugin,
    render_report,
    write_project,
)

ROOT = Path(__file__).parents[1]
FACTORIES = {
    "spend": make_spend,
    "touchpoints": make_touchpoints,
    "conversions": make_conversions,
    "leads": make_leads,
}


class HelloPlugin:
    __name__ = "HelloPlugin"

    @hookimpl
    def register_metrics(self, register):
        register(Metric("hello", "Hello", "count", "Always 1.", compute=lambda data, dimension: 1.0))


# --------------------------------------------------------------------------
# roistory_pm and register_plugin
# --------------------------------------------------------------------------


def test_roistory_pm_has_the_installed_plugins(roistory_pm):
    names = {name for name, _ in roistory_pm.list_name_plugin()}
    assert {"file_sources", "core_metrics", "heuristic_attribution", "default_theme"} <= names
    assert roistory_pm is not get_plugin_manager()


# -- start register --
def test_register_plugin_is_undone_after_the_block(roistory_pm):
    with register_plugin(roistory_pm, HelloPlugin()):
        assert "hello" in plugin_registry(roistory_pm).metrics
    assert "hello" not in plugin_registry(roistory_pm).metrics


# -- end register --


def test_register_plugin_is_undone_when_the_block_fails(roistory_pm):
    with pytest.raises(RuntimeError):
        with register_plugin(roistory_pm, HelloPlugin(), name="hello_plugin"):
            assert roistory_pm.has_plugin("hello_plugin")
            raise RuntimeError("test failed inside the block")
    assert not roistory_pm.has_plugin("hello_plugin")


def test_register_plugin_refuses_a_blocked_name(roistory_pm):
    roistory_pm.set_blocked("HelloPlugin")
    with pytest.raises(ValueError, match="blocked"):
        with register_plugin(roistory_pm, HelloPlugin()):
            pass


def test_each_test_gets_a_fresh_manager(roistory_pm):
    # a plugin left registered on the previous tests' managers would show up here
    assert not roistory_pm.has_plugin("HelloPlugin")
    assert not roistory_pm.has_plugin("hello_plugin")


# --------------------------------------------------------------------------
# Table factories
# --------------------------------------------------------------------------


@pytest.mark.parametrize("table", FACTORIES)
def test_factory_tables_pass_the_canonical_checks(table):
    frame = FACTORIES[table]()
    source = SourceConfig(name=table, type="csv", table=table)
    normalised = normalise_table(frame.copy(), source, file=f"{table}.csv")
    assert len(normalised) == len(frame)


def test_factory_tables_agree_with_each_other():
    touchpoints, conversions, leads = make_touchpoints(), make_conversions(), make_leads()
    assert set(conversions["person_id"]) <= set(touchpoints["person_id"])
    won = leads[leads["won_at"].notna()]
    assert sorted(won["amount"]) == sorted(conversions["revenue"]) and conversions["revenue"].sum() == 4000
    assert make_spend()["cost"].sum() == 2100
    for frame, column in [
        (make_spend(), "date"),
        (touchpoints, "timestamp"),
        (leads, "created_at"),
    ]:
        assert frame[column].str.startswith(DEFAULT_PERIOD).all()


# -- start factories --
def test_factory_overrides():
    assert set(make_spend(channel="Email")["channel"]) == {"Email"}  # a scalar fills every row

    spend = make_spend(cost=[10.0, 20.0])  # a list sets the rows; other columns repeat to fit
    assert list(spend["cost"]) == [10.0, 20.0]
    assert list(spend["channel"]) == ["Paid Search", "Paid Social"]

    assert "clicks" not in make_spend(clicks=None).columns  # None drops a column
    assert list(make_leads(market="DE")["market"]) == ["DE"] * 4  # new columns are fine


# -- end factories --


def test_factory_overrides_accept_series_and_reject_ragged_lists():
    assert list(make_conversions(revenue=pd.Series([1.0, 2.0]))["revenue"]) == [1.0, 2.0]
    with pytest.raises(ValueError, match="same length"):
        make_spend(cost=[1.0, 2.0], date=["2026-03-01"])


# --------------------------------------------------------------------------
# write_project and render_report
# --------------------------------------------------------------------------


def test_write_project_writes_csv_files_and_a_spec_config(tmp_path):
    deals = tmp_path / "exports" / "deals.csv"
    deals.parent.mkdir()
    deals.write_text("lead_id,created_at\nL9,2026-03-09\n")
    path = write_project(
        tmp_path,
        {"spend": make_spend(), "leads": make_leads()},
        sources=[{"name": "crm", "type": "csv", "path": "exports/deals.csv", "table": "leads"}],
        config={"attribution": {"models": ["linear"]}, "sections": ["summary"]},
        title="Acme",
        currency="EUR",
    )
    assert path == tmp_path / "report.yaml"
    assert (tmp_path / "data" / "spend.csv").read_text().startswith("date,channel,campaign,cost")
    config = load_config(path)
    assert [(s.name, s.type, s.table, s.path) for s in config.sources] == [
        ("spend", "csv", "spend", "data/spend.csv"),
        ("leads", "csv", "leads", "data/leads.csv"),
        ("crm", "csv", "leads", "exports/deals.csv"),
    ]
    settings = config.report
    assert (settings.title, settings.currency, settings.period) == ("Acme", "EUR", DEFAULT_PERIOD)
    assert settings.compare == [] and settings.formats == ["html", "json"]
    assert config.attribution.models == ["linear"] and config.sections == ["summary"]


# -- start render --
def test_render_report_gives_html_and_json(tmp_path):
    tables = {
        "spend": make_spend(),
        "touchpoints": make_touchpoints(),
        "conversions": make_conversions(),
        "leads": make_leads(),
    }
    rendered = render_report(write_project(tmp_path, tables, title="Kit check"))

    assert rendered.metric("spend") == 2100
    assert rendered.metric("revenue") == 4000
    assert rendered.metric("roi") == pytest.approx((4000 - 2100) / 2100)
    assert rendered.metric("spend", segment={"channel": "Email"}) == 200
    assert "Kit check" in rendered.html
    assert rendered.pdf_text is None  # not asked for


# -- end render --


def test_render_report_paths_and_out_dir(tmp_path):
    rendered = render_report(
        write_project(tmp_path, {"spend": make_spend()}),
        formats=["json"],
        out_dir=tmp_path / "elsewhere",
    )
    assert set(rendered.paths) == {"json", "manifest"}
    assert rendered.paths["json"].parent == tmp_path / "elsewhere"
    assert rendered.html is None and rendered.metric("revenue") is None  # not measurable


# -- start pdf --
def test_render_report_gives_pdf_text(tmp_path):
    config = write_project(tmp_path, {"spend": make_spend(), "conversions": make_conversions()})
    rendered = render_report(config, formats=["pdf"])

    assert rendered.paths["pdf"].read_bytes().startswith(b"%PDF")
    text = " ".join(rendered.pdf_text.split())  # pdftotext -layout keeps columns apart
    assert "Test report" in text and "March 2026" in text
    assert "Marketing spent $2,100 and generated $4,000 in revenue: an ROI of 90.5%" in text


# -- end pdf --


# --------------------------------------------------------------------------
# The kit as a pytest plugin
# --------------------------------------------------------------------------


def test_importing_the_kit_is_light():
    code = (
        "import sys, roistory.testing\n"
        "heavy = ['pandas', 'yaml', 'weasyprint', 'roistory.pipeline', 'roistory.plugin_manager']\n"
        "print([m for m in heavy if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_fixtures_need_no_import_in_a_plugins_tests(tmp_path):
    (tmp_path / "test_example.py").write_text(
        textwrap.dedent(
            """
            def test_fixture(roistory_pm):
                assert roistory_pm.has_plugin("core_metrics")
            """
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout
    assert "1 passed" in done.stdout


# --------------------------------------------------------------------------
# Docs
# --------------------------------------------------------------------------


def test_docs_are_in_sync():
    """The code in the plugin docs is copied from tested files by cog; regenerate with
    ``cog -r docs/writing_plugins.md docs/testing_plugins.md``."""
    docs = ["docs/writing_plugins.md", "docs/testing_plugins.md"]
    done = subprocess.run([sys.executable, "-m", "cogapp", "--check", *docs], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
