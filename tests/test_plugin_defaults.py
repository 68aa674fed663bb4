"""A third-party plugin takes part in the default report exactly where a built-in would.

tests/fixtures/plugins/roistory-board-extras is installed with pip (as
tests/test_third_party_plugin.py installs its plugin) and registers a section
with ``order=35``, a metric with ``headline=25`` and ``trend=35``, and a metric
with no placement. The report is rendered by the ``roistory`` console script
twice, with the plugin and with it blocked, so the expected positions come from
the built-ins' own order rather than from a list written here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from test_third_party_plugin import Installation

from roistory.testing import (
    make_conversions,
    make_leads,
    make_spend,
    make_touchpoints,
    pdf_text,
    write_project,
)

PLUGIN_DIR = Path(__file__).parent / "fixtures" / "plugins" / "roistory-board-extras"
BLOCKED = {"ROISTORY_BLOCK_PLUGINS": "board_extras"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installation:
    installation = Installation(tmp_path_factory.mktemp("board-extras") / "site")
    installation.install(PLUGIN_DIR, "roistory-board-extras")
    yield installation
    for distribution in list(installation.distributions):
        installation.uninstall(distribution)


TABLES = {
    "spend": make_spend(),
    "touchpoints": make_touchpoints(),
    "conversions": make_conversions(),
    "leads": make_leads(),
}


def _run(installed: Installation, project: Path, out: Path, **env: str) -> dict[str, Path]:
    done = installed.roistory("run", str(project), "--out", str(out), **env)
    assert done.returncode == 0, done.stderr
    return {path.suffix[1:]: path for path in out.iterdir() if not path.name.endswith(".manifest.json")}


def _section_ids(html: str) -> list[str]:
    return re.findall(r'<section class="section section-([a-z_]+)"', html)


def _tile_ids(html: str) -> list[str]:
    return re.findall(r'<div class="tile tile-([a-z_]+)">', html)


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section class="section section-{section_id}"')
    return html[start : html.index("</section>", start)]


def test_default_section_and_metric_sit_where_their_order_puts_them(installed, tmp_path):
    project = write_project(tmp_path / "project", TABLES, formats=["html", "json", "pdf"])
    with_plugin = _run(installed, project, tmp_path / "with")
    built_ins = _run(installed, project, tmp_path / "without", **BLOCKED)
    html = with_plugin["html"].read_text(encoding="utf-8")
    html_without = built_ins["html"].read_text(encoding="utf-8")

    # the section: right after trends (order 30), before channels (40), as a built-in at 35 would be
    sections = _section_ids(html_without)
    assert "lead_value" not in sections and sections.index("trends") + 1 == sections.index("channels")
    at = sections.index("trends") + 1
    assert _section_ids(html) == [*sections[:at], "lead_value", *sections[at:]]

    # the KPI tile: right after revenue (headline 20), before ROI (30)
    tiles = _tile_ids(html_without)
    at = tiles.index("revenue") + 1
    assert tiles[at] == "roi"
    assert _tile_ids(html) == [*tiles[:at], "revenue_per_lead", *tiles[at:]]

    # the value, recomputed from the tables: revenue of March's conversions over March's leads
    conversions, leads = TABLES["conversions"], TABLES["leads"]
    march = pd.to_datetime(leads["created_at"]).dt.strftime("%Y-%m") == "2026-03"
    expected = conversions["revenue"].sum() / march.sum()
    assert expected == pytest.approx(1000.0)
    assert "Each lead brought $1,000 of revenue." in _section(html, "lead_value")

    # the PDF reads in the same order: trends, the plugin's section, channels; tiles likewise
    text = pdf_text(with_plugin["pdf"])
    text = text[text.index("\f") + 1 :]  # after the cover page, whose contents list every title first
    order = [
        text.index("Trends\n"),
        text.index("Lead value\n"),
        text.index("Each lead brought $1,000"),
        text.index("Channels\n"),
    ]
    assert order == sorted(order), text
    tiles_text = text[text.index("Key figures") : text.index("Trends\n")]  # labels print in capitals
    labels = [tiles_text.index("REVENUE "), tiles_text.index("REVENUE PER LEAD"), tiles_text.index("ROI ")]
    assert labels == sorted(labels), tiles_text

    # the JSON trend series: right after roi (trend 30), before roas (40), valued as above
    report = json.loads(with_plugin["json"].read_text(encoding="utf-8"))
    without = json.loads(built_ins["json"].read_text(encoding="utf-8"))
    series = list(dict.fromkeys(r["id"] for r in without["trends"]))
    at = series.index("roi") + 1
    assert list(dict.fromkeys(r["id"] for r in report["trends"])) == [*series[:at], "revenue_per_lead", *series[at:]]
    points = [(r["month"], r["value"]) for r in report["trends"] if r["id"] == "revenue_per_lead"]
    assert points == [("2026-03", pytest.approx(expected))]

    # the unplaced metric is not a default tile, trend or column (it is listed by maturity, as any metric)
    for section_id in ("kpis", "trends", "channels"):
        assert "Spend to revenue" not in _section(html, section_id)
    assert "spend_to_revenue" not in {r["id"] for r in report["trends"]}


def test_a_metric_named_in_metrics_shows_on_tiles_trends_and_channels(installed, tmp_path):
    project = write_project(
        tmp_path / "project",
        TABLES,
        config={"metrics": ["spend", "revenue", "roi", "leads", "spend_to_revenue"]},
    )
    html = _run(installed, project, tmp_path / "out")["html"].read_text(encoding="utf-8")
    spend, conversions = TABLES["spend"], TABLES["conversions"]
    ratio = spend["cost"].sum() / conversions["revenue"].sum()
    assert ratio == pytest.approx(0.525)

    tiles = _section(html, "kpis")
    assert "tile-spend_to_revenue" in tiles
    assert re.search(r"Spend to revenue</div>\s*<div class=\"tile-value\">52\.5%</div>", tiles), tiles

    trends = _section(html, "trends")
    assert "Spend to revenue" in trends and "52.5%" in trends

    channels = _section(html, "channels")
    headers = re.findall(r'<th (?:scope="col" )?class="num">([^<]*)</th>', channels)
    column = headers.index("Spend to revenue")
    rows = {
        channel: re.findall(r'<td class="num">([^<]*)</td>', cells)
        for channel, cells in re.findall(r'<tr><th scope="row">([^<]*)</th>(.*?)</tr>', channels)
    }
    # per channel: its spend over the revenue the primary model (first touch, the first
    # default model) credits it with, each conversion going to the person's earliest touch
    touchpoints = TABLES["touchpoints"].assign(timestamp=lambda t: pd.to_datetime(t["timestamp"]))
    credited: dict[str, float] = {}
    for _, conversion in conversions.iterrows():
        touches = touchpoints[
            (touchpoints["person_id"] == conversion["person_id"])
            & (touchpoints["timestamp"] < pd.Timestamp(conversion["timestamp"]))
        ]
        first = touches.sort_values("timestamp")["channel"].iloc[0]
        credited[first] = credited.get(first, 0.0) + conversion["revenue"]
    by_channel = spend.groupby("channel")["cost"].sum()
    assert set(credited) == set(by_channel.index)
    for channel, revenue in credited.items():
        assert rows[channel][column] == f"{by_channel[channel] / revenue:.1%}", rows
