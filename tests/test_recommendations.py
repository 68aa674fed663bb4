"""Recommendations and the summary's drivers on crafted datasets.

Channel A's spend doubles while its revenue stays flat; channel B's revenue
triples on the same spend. Every journey touches one channel, so every model
credits the same way and agrees: budget moves from A to B. A second dataset,
where first-touch and last-touch credit disagree, yields a test instead.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from roistory.config import load_config
from roistory.pipeline import build_report
from roistory.recommendations import SHIFT_SHARE, recommend
from roistory.testing import render_report, write_project

MODELS = {"models": ["first_touch", "last_touch", "linear"], "primary": "linear"}


def _people(prefix: str, month: str, channels: list[str], revenue: float, count: int):
    """``count`` people who touch ``channels`` in order, then convert for ``revenue`` each."""
    touches, conversions = [], []
    for i in range(count):
        person = f"{prefix}{month}-{i}"
        day = 2 + i
        for hour, channel in enumerate(channels):
            touches.append(
                {"person_id": person, "timestamp": f"{month}-{day:02d}T{8 + hour:02d}:00:00", "channel": channel}
            )
        conversions.append({"person_id": person, "timestamp": f"{month}-{day:02d}T20:00:00", "revenue": revenue})
    return touches, conversions


def _project(tmp_path, spend_rows, groups):
    touches, conversions = [], []
    for group in groups:
        t, c = _people(*group)
        touches += t
        conversions += c
    tables = {
        "spend": pd.DataFrame(spend_rows, columns=["date", "channel", "cost"]),
        "touchpoints": pd.DataFrame(touches),
        "conversions": pd.DataFrame(conversions),
    }
    return write_project(
        tmp_path,
        tables,
        config={"attribution": MODELS, "sections": ["summary", "recommendations"]},
        compare=["previous"],
        formats=["html", "json"],
    )


@pytest.fixture(scope="module")
def agreeing(tmp_path_factory):
    """A: spend 1,000 → 2,000, revenue 3,000 → 3,000; B: spend 1,000 → 1,000, revenue 1,000 → 3,000."""
    spend = [
        ("2026-02-10", "A", 1000.0),
        ("2026-02-10", "B", 1000.0),
        ("2026-03-10", "A", 2000.0),
        ("2026-03-10", "B", 1000.0),
    ]
    groups = [
        ("a", "2026-02", ["A"], 300.0, 10),
        ("b", "2026-02", ["B"], 100.0, 10),
        ("a", "2026-03", ["A"], 300.0, 10),
        ("b", "2026-03", ["B"], 300.0, 10),
    ]
    return render_report(_project(tmp_path_factory.mktemp("agree"), spend, groups))


def _sentences(rendered, section):
    return [n for n in rendered.json["narrative"] if n["section"] == section]


def test_summary_names_both_drivers_in_the_right_direction(agreeing):
    drivers = {
        n["numbers"][0]["segment"]["channel"]: n["text"]
        for n in _sentences(agreeing, "summary")
        if n["numbers"] and n["numbers"][0]["source"] == "drivers"
    }
    assert "lowered ROI" in drivers["A"]
    assert "raised ROI" in drivers["B"]
    # the contributions are A: 3000/3000 - 3000/2000 = -0.5 and B: 3000/3000 - 1000/2000 = +0.5
    records = {r["segment"]["channel"]: r["contribution"] for r in agreeing.json["drivers"] if r["metric"] == "roi"}
    assert records["A"] == pytest.approx(-0.5)
    assert records["B"] == pytest.approx(0.5)


def test_models_agree_so_budget_shifts_from_a_to_b(agreeing):
    (rec,) = agreeing.json["recommendations"]
    assert rec["action"] == "shift"
    assert rec["from"] == {"channel": "A"} and rec["to"] == {"channel": "B"}
    # returns per unit of spend: A 3,000 / 2,000 = 1.5, B 3,000 / 1,000 = 3; every model the same
    amount = SHIFT_SHARE * 2000.0
    assert rec["amount"] == pytest.approx(amount)
    assert rec["effect_low"] == pytest.approx(amount * 1.5)
    assert rec["effect_high"] == pytest.approx(amount * 1.5)
    assert rec["assumptions"]
    text = " ".join(n["text"] for n in _sentences(agreeing, "recommendations"))
    assert "Move $400 from A to B" in text


def test_measured_lift_outranks_model_credit(agreeing):
    report = build_report(load_config(agreeing.report.config.path), write_history=False)
    # a lift test finds only 10% of B's credited revenue incremental: B returns 0.3, below A's 1.5
    (rec,) = recommend(report, {"B": 0.1})
    assert rec.measured == ("B",)
    assert (rec.source, rec.target) == ("B", "A")
    assert rec.returns["first_touch"] == pytest.approx((0.3, 1.5))


@pytest.fixture(scope="module")
def disagreeing(tmp_path_factory):
    """Ten people touch A then B; two touch B alone (100 each). First touch credits A 1,000 and
    B 200; last touch B 1,200 and A nothing; linear A 500, B 700."""
    spend = [
        ("2026-03-10", "A", 1000.0),
        ("2026-03-10", "B", 1000.0),
        ("2026-02-10", "A", 1000.0),
        ("2026-02-10", "B", 1000.0),
    ]
    groups = [
        ("ab", "2026-03", ["A", "B"], 100.0, 10),
        ("b", "2026-03", ["B"], 100.0, 2),
        ("ab", "2026-02", ["A", "B"], 100.0, 10),
    ]
    return render_report(_project(tmp_path_factory.mktemp("disagree"), spend, groups))


def test_models_disagree_so_the_recommendation_is_a_test(disagreeing):
    (rec,) = disagreeing.json["recommendations"]
    assert rec["action"] == "test"
    assert rec["from"] == {"channel": "A"} and rec["to"] == {"channel": "B"}
    gaps = {model: r["to"] - r["from"] for model, r in rec["returns"].items()}
    assert gaps == pytest.approx({"first_touch": -0.8, "last_touch": 1.2, "linear": 0.2})
    assert rec["effect_low"] < 0 < rec["effect_high"]
    assert math.isclose(rec["effect_low"], rec["amount"] * -0.8)
    html = disagreeing.html
    assert "holdout or geo split" in html
    assert "disagree" in html


# -- honest claims: small samples, unreached revenue, a source missing for the period --------


def _small_project(tmp_path, **tables):
    from roistory.testing import make_conversions, make_spend, make_touchpoints

    frames = {"spend": make_spend(), "touchpoints": make_touchpoints(), "conversions": make_conversions()}
    frames.update(tables)
    return write_project(tmp_path, frames, config={"sections": ["summary"]}, formats=["html", "json"])


def test_few_conversions_replace_the_channel_claim_with_a_caveat(tmp_path):
    rendered = render_report(_small_project(tmp_path))
    texts = [n for n in rendered.json["narrative"] if n["section"] == "summary"]
    best = next(n for n in texts if "highest ROI" in n["text"])
    assert "too few to rely on" in best["text"]
    conversions = next(x for x in best["numbers"] if x["metric"] == "conversions")
    assert conversions["value"] == rendered.metric("conversions", segment=conversions["segment"])
    assert conversions["value"] < 10
    assert not any("returned the most per dollar" in n["text"] for n in texts)
    # three conversions in the whole period: the caveat about the period's return
    assert any("rests on 3 conversions" in n["text"] for n in texts)


def test_revenue_no_touchpoint_reached_qualifies_the_channel_claims(tmp_path):
    from roistory.testing import make_conversions

    conversions = pd.concat(
        [
            make_conversions(),
            pd.DataFrame(
                [
                    {
                        "person_id": "P9",
                        "timestamp": "2026-03-20T10:00:00",
                        "revenue": 9000.0,
                        "conversion_type": "closed_won",
                        "deal_id": "D9",
                    }
                ]
            ),
        ]
    )
    rendered = render_report(_small_project(tmp_path, conversions=conversions))
    sentence = next(n for n in rendered.json["narrative"] if "no touchpoint reached" in n["text"])
    (number,) = sentence["numbers"]
    assert number["value"] == 9000.0 == rendered.metric("revenue", segment=number["segment"])


def test_a_source_missing_for_the_period_replaces_the_return_claims(tmp_path):
    from roistory.testing import make_spend

    rendered = render_report(_small_project(tmp_path, spend=make_spend(date="2026-02-10")))
    texts = [n["text"] for n in rendered.json["narrative"]]
    assert any("cannot be stated" in t and "spend" in t for t in texts)
    assert not any("ROI" in t and "raised" in t for t in texts)
    assert not any("Marketing returned" in t for t in texts)
