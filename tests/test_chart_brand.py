"""A theme's brand colours reach the charts, and a channel has one colour in every chart.

The Norte example's theme sets primary #5b3a29 and accent #d9822b; its charts are read back
from the HTML report's SVG data URIs.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from roistory.chart_colours import OKABE_ITO, ChartStyle, tint

NORTE = Path(__file__).parents[1] / "examples" / "agency" / "clients" / "norte" / "report.yaml"


@pytest.fixture(scope="module")
def charts(cli, tmp_path_factory) -> dict[str, str]:
    """Section id → the SVG text of its first chart."""
    root = tmp_path_factory.mktemp("brand")
    result = cli.run("run", NORTE, "--format", "html", "--out", root / "out", cwd=root)
    assert result.code == 0, result.output
    html = next((root / "out").glob("*.html")).read_text(encoding="utf-8")
    found = {}
    for section_id, body in re.findall(r'<section class="section section-(\w+)" id="\w+">(.*?)</section>', html, re.S):
        uris = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', body)
        if uris:
            found[section_id] = base64.b64decode(uris[0]).decode("utf-8")
    return found


def _fills(svg: str) -> set[str]:
    return {c.lower() for c in re.findall(r"(?:fill|stroke): ?(#[0-9a-fA-F]{6})", svg)}


def test_brand_colours_reach_the_charts(charts):
    assert {"trends", "channels", "attribution"} <= set(charts)
    # the first series of the trend chart in the brand's primary colour, the second in its accent
    assert {"#5b3a29", "#d9822b"} <= _fills(charts["trends"])


def test_a_channel_has_one_colour_across_charts(charts):
    """The channels chart's revenue bar (solid) and the attribution chart's range bar (tinted)
    of the same channel derive from the same colour; different channels differ."""
    style = ChartStyle.from_brand({"primary_color": "#5b3a29", "accent_color": "#d9822b"})
    channels_fills, attribution_fills = _fills(charts["channels"]), _fills(charts["attribution"])
    solid = channels_fills & set(style.palette)
    assert len(solid) >= 4, channels_fills  # one colour per channel
    for colour in solid:
        assert tint(colour, 0.45) in attribution_fills, (colour, attribution_fills)


def test_the_palette_keeps_okabe_ito_colours_apart_from_the_brand():
    style = ChartStyle.from_brand({"primary_color": "#0072b2", "accent_color": "#0072b3"})
    assert style.palette[0] == "#0072b2"
    assert style.palette.count("#0072b2") == 1 and "#0072b3" not in style.palette  # too close to the primary
    assert len(set(style.palette)) == len(style.palette) >= 7
    assert [style.color(n) for n in ("Email", "Paid Search", "Email")] == [
        style.palette[0],
        style.palette[1],
        style.palette[0],
    ]
    assert set(style.palette[1:]) <= set(OKABE_ITO)
