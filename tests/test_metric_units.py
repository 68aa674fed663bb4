"""roistory.metrics' building blocks, one at a time (issue 14's mutation run over metrics).

The end-to-end values test (tests/test_metric_values.py) checks every built-in metric
on the example; these check what a built-in metric never exercises there but a
plugin's metric can: each table's dimension columns and each table's channels.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from roistory.errors import ConfigError
from roistory.metrics import (
    DIMENSIONS,
    Metric,
    MetricEngine,
    PeriodData,
    check_formula_names,
    finite_or_nan,
    marketing_channels,
    missing_inputs,
    parse_formula,
    period_total,
    placed_metrics,
)
from roistory.periods import Period

OCTOBER = Period(date(2026, 10, 1), date(2026, 10, 31), "October 2026", months=1)
TEN_DAYS = Period(date(2026, 2, 20), date(2026, 3, 1), "20 February - 1 March")  # a custom period: no months


def _touchpoints() -> pd.DataFrame:
    rows = [
        # timestamp, channel, campaign, media_type, audience, market
        ("2026-09-30 23:59", "Email", "welcome", "newsletter", "buyers", "DE"),  # before the period
        ("2026-10-01 00:00", "Email", "welcome", "newsletter", "buyers", "DE"),
        ("2026-10-02 10:00", "Paid Search", "brand", "search", None, "FR"),
        ("2026-10-15 12:00", "Paid Search", "generic", "search", "prospects", "FR"),
        ("2026-10-31 23:59", "Display", None, "banner", "prospects", None),
        ("2026-11-01 00:00", "Display", "retarget", "banner", "buyers", "DE"),  # after the period
    ]
    frame = pd.DataFrame(rows, columns=["timestamp", *DIMENSIONS])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    frame["person_id"] = [f"p{i}" for i in range(len(frame))]
    return frame


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_a_touchpoints_total_splits_by_every_dimension(dimension):
    """A plugin metric counting touchpoints (``period_total("touchpoints", "timestamp")``) per segment."""
    touchpoints = _touchpoints()
    data = PeriodData(OCTOBER, {"touchpoints": touchpoints})
    counted = period_total("touchpoints", "timestamp")(data, dimension)

    in_october = touchpoints[touchpoints["timestamp"].dt.month == 10]
    expected = in_october[dimension].fillna("(not set)").value_counts().to_dict()
    # every segment of the whole table is listed, with 0 where October has none
    for segment in touchpoints[dimension].fillna("(not set)").unique():
        expected.setdefault(segment, 0)
    assert counted.index.name == dimension
    assert counted.to_dict() == {k: float(v) for k, v in expected.items()}
    assert period_total("touchpoints", "timestamp")(data, None) == 4.0


def test_marketing_channels_are_the_spend_touchpoint_and_web_channels():
    tables = {
        "spend": pd.DataFrame({"channel": ["Paid Search", None]}),
        "touchpoints": pd.DataFrame({"channel": ["Email", "Email"]}),
        "web": pd.DataFrame({"channel": ["Organic Search"]}),
        # leads name where a lead came from; that does not make it a marketing channel
        "leads": pd.DataFrame({"channel": ["Referral"], "source_channel": ["Referral"]}),
    }
    assert marketing_channels(tables) == {"Paid Search", "Email", "Organic Search"}
    for table in ("spend", "touchpoints", "web"):
        without = {name: frame for name, frame in tables.items() if name != table}
        assert marketing_channels(without) == {"Paid Search", "Email", "Organic Search"} - set(
            tables[table]["channel"].dropna()
        )
    assert marketing_channels({"spend": pd.DataFrame({"cost": [1.0]})}) == set()


def _metric(metric_id: str, **fields) -> Metric:
    fields.setdefault("formula", "margin")
    return Metric(id=metric_id, label=metric_id, unit="count", definition="a test metric", **fields)


def test_placed_metrics_puts_numbers_in_order_then_true_in_registration_order():
    metrics = [
        _metric("late", headline=True),
        _metric("second", headline=20),
        _metric("hidden"),
        _metric("first", headline=10),
        _metric("later", headline=True),
        _metric("early", headline=0.5),
    ]
    assert [m.id for m in placed_metrics(metrics, "headline")] == ["early", "first", "second", "late", "later"]
    assert placed_metrics(metrics, "trend") == []


@pytest.mark.parametrize(
    ("period", "margin", "months"), [(OCTOBER, None, 1.0), (OCTOBER, 0.4, 1.0), (TEN_DAYS, 0.4, 10 / 30.4375)]
)
def test_formula_constants_are_the_margin_and_the_period_in_months(period, margin, months):
    """``margin`` is 1 unless the report sets it; ``period_months`` is a custom period's days in average months."""
    metrics = {"m": _metric("m", formula="margin"), "pm": _metric("pm", formula="period_months")}
    data = PeriodData(period, {}) if margin is None else PeriodData(period, {}, margin)
    engine = MetricEngine(metrics, data)
    assert engine.value("m") == (1.0 if margin is None else margin)
    assert engine.value("pm") == pytest.approx(months, rel=1e-12)


def test_has_a_table_and_a_column_with_values():
    spend = pd.DataFrame({"date": pd.to_datetime(["2026-10-01"]), "cost": [5.0], "clicks": [float("nan")]})
    data = PeriodData(OCTOBER, {"spend": spend})
    assert data.has("spend") and data.has("spend", "cost")
    assert not data.has("leads") and not data.has("leads", "amount")
    assert not data.has("spend", "clicks")  # present, but never filled in
    assert not data.has("spend", "impressions")  # absent


def test_totals_of_empty_periods_and_medians():
    leads = pd.DataFrame(
        {
            "created_at": pd.to_datetime(["2026-10-03", "2026-10-04", "2026-10-05", "2026-11-02"]),
            "source_channel": ["Email", "Email", "Paid Search", "Display"],
            "amount": [100.0, 300.0, 50.0, 999.0],
        }
    )
    data = PeriodData(OCTOBER, {"leads": leads})
    rows = data.rows("leads", "created_at")
    assert data.total(rows, "leads", None, "amount") == 450.0
    assert data.total(rows, "leads", None, "amount", how="median") == 100.0
    assert data.total(rows, "leads", None) == 3.0
    empty = rows.iloc[0:0]
    assert data.total(empty, "leads", None, "amount") == 0.0  # nothing spent is 0
    assert np.isnan(data.total(empty, "leads", None, "amount", how="median"))  # no median of nothing
    # per segment: sorted, sums list every segment of the whole table (0 when absent this period)
    by_channel = data.total(rows, "leads", "channel", "amount")
    assert list(by_channel.items()) == [("Display", 0.0), ("Email", 400.0), ("Paid Search", 50.0)]
    medians = data.total(rows.iloc[::-1], "leads", "channel", "amount", how="median")
    assert list(medians.items()) == [("Email", 200.0), ("Paid Search", 50.0)]
    counts = data.total(rows.iloc[::-1], "leads", "channel")
    assert list(counts.index) == ["Display", "Email", "Paid Search"] and counts.to_dict()["Email"] == 2.0
    # a dimension the table has no column for, or whose column this frame lacks: not segmentable
    assert data.total(rows, "leads", "audience", "amount") is None
    assert data.total(rows.drop(columns=["source_channel"]), "leads", "channel", "amount") is None


def test_missing_inputs_name_every_table_a_formula_needs_once():
    """What the JSON's ``maturity`` list says a metric needs (formulas: their inputs' needs, in name order)."""
    spend = pd.DataFrame({"date": pd.to_datetime(["2026-10-01"]), "cost": [5.0]})
    metrics = {
        "cost": _metric("cost", formula=None, compute=lambda d, dim: 0.0, needs=("spend.cost",)),
        "won": _metric("won", formula=None, compute=lambda d, dim: 0.0, needs=("leads.won_at",)),
        "revenue": _metric(
            "revenue", formula=None, compute=lambda d, dim: 0.0, needs=("conversions|touchpoints.conversion",)
        ),
        "aov": _metric("aov", formula="revenue / won"),
        "mixed": _metric("mixed", formula="won + aov + cost / period_months"),
    }
    data = PeriodData(OCTOBER, {"spend": spend})
    assert missing_inputs(metrics["cost"], data, metrics) == []
    assert missing_inputs(metrics["revenue"], data, metrics) == ["conversions or touchpoints.conversion"]
    assert missing_inputs(metrics["aov"], data, metrics) == ["conversions or touchpoints.conversion", "leads.won_at"]
    assert missing_inputs(metrics["mixed"], data, metrics) == ["conversions or touchpoints.conversion", "leads.won_at"]
    engine = MetricEngine(metrics, data)
    assert np.isnan(engine.value("mixed")) and engine.value("cost") == 0.0
    assert engine.value("mixed", "channel") is None  # not measurable: no segments either


def test_values_that_overflow_are_not_measurable():
    big = pd.Series([1e200, -1e200, 3.0], index=["Email", "Display", "Search"])
    metrics = {
        "x": _metric("x", formula=None, compute=lambda d, dim: big if dim else 1e200),
        "square": _metric("square", formula="x * x"),
        "signed": _metric("signed", formula="x * x * x"),
    }
    engine = MetricEngine(metrics, PeriodData(OCTOBER, {}))
    assert np.isnan(engine.value("square"))
    signed = engine.value("signed", "channel")
    assert np.isnan(signed["Email"]) and np.isnan(signed["Display"]) and signed["Search"] == 27.0
    # the values a compute function returns get the same treatment
    assert np.isnan(finite_or_nan(float("-inf")))
    cleaned = finite_or_nan(pd.Series([np.inf, -np.inf, 2.5]))
    assert cleaned.isna().tolist() == [True, True, False] and cleaned.iloc[2] == 2.5
    whole = pd.Series([1, 2], dtype="int64")
    assert finite_or_nan(whole) is whole


def test_unknown_ids_in_a_formula_name_the_position_and_the_closest_id():
    with pytest.raises(ConfigError) as error:
        check_formula_names(parse_formula("spend / leds"), {"spend", "leads"}, key="custom_metrics[0].formula")
    assert error.value.key == "custom_metrics[0].formula"
    assert (
        error.value.message == "formula 'spend / leds' at position 9: unknown metric id 'leds' (did you mean 'leads'?)"
    )
    with pytest.raises(ConfigError) as error:
        check_formula_names(parse_formula("zzz * 2"), {"spend", "leads"}, key="k")
    assert error.value.message == "formula 'zzz * 2' at position 1: unknown metric id 'zzz'"
    check_formula_names(parse_formula("spend * margin / period_months"), {"spend"}, key="k")  # constants are known
