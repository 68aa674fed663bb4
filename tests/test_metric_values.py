"""Every metric in the JSON output, recomputed independently with pandas.

The fixture project (tests/fixtures/metrics/dataset.py) has all eight canonical
tables over 14 months; `roistory run --format json` runs in a child process and
each metric's value — total and per segment, for the current, previous and
year-ago periods — is compared with the same definition computed straight from
the CSV files (SPEC's definitions; the metric's documented definition where
SPEC is silent). No roistory code computes an expectation; the registry is only
read to know which ids must be covered.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import sys
from pathlib import Path

import pytest

_DATASET = Path(__file__).parent / "fixtures" / "metrics" / "dataset.py"
if "roistory_metric_fixture" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("roistory_metric_fixture", _DATASET)
    sys.modules["roistory_metric_fixture"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["roistory_metric_fixture"])
D = sys.modules["roistory_metric_fixture"]

TOL = {"rel": 1e-9, "abs": 1e-9}
ALL_TABLES = list(D.DATE_COLUMNS)

CUSTOM_METRICS = [
    {"id": "pipeline_per_dollar", "label": "Pipeline per $", "formula": "pipeline / spend"},
    {
        "id": "pipeline_per_dollar_x2",
        "formula": "pipeline_per_dollar * 2",
    },  # a custom metric over a custom metric
    {
        "id": "spend_per_bounce",
        "formula": "spend / email_bounces",
        "unit": "currency",
    },  # no bounces in 2026-10
    {"id": "margin_after_spend", "formula": "(revenue × margin − spend) ÷ 1", "unit": "currency"},
]
CUSTOM = {
    "pipeline_per_dollar": lambda E, p, d: D.combine(D._div, E.value("pipeline", p, d), E.value("spend", p, d)),
    "pipeline_per_dollar_x2": lambda E, p, d: D.combine(
        lambda a, b: D._div(a, b) * 2, E.value("pipeline", p, d), E.value("spend", p, d)
    ),
    "spend_per_bounce": lambda E, p, d: D.combine(D._div, E.value("spend", p, d), E.value("email_bounces", p, d)),
    "margin_after_spend": lambda E, p, d: D.combine(
        lambda r, s: r * E.margin - s, E.value("revenue", p, d), E.value("spend", p, d)
    ),
}


def _registry_ids() -> list[str]:
    return [m.id for m in D.builtin_registry().metrics.values() if m.family != "internal"]


REGISTRY_IDS = _registry_ids()


def _run(folder: Path, margin: float) -> tuple[dict, object, str]:
    config = D.base_config(ALL_TABLES)
    config["report"]["margin"] = margin
    config["custom_metrics"] = CUSTOM_METRICS
    path = D.write_project(folder / "project", config)
    data, _done = D.run_json(path, folder / "out")
    raw = next(p for p in (folder / "out").glob("*.json") if not p.name.endswith(".manifest.json")).read_text()
    tables = D.read_tables(folder / "project" / "data", ALL_TABLES)
    return data, D.Expected(tables, margin=margin), raw


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("metrics"), 1.0)


@pytest.fixture(scope="module")
def run_margin(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("margin"), 0.8)


def _expected(E, metric_id, period, dim):
    if metric_id in CUSTOM:
        return CUSTOM[metric_id](E, period, dim)
    return E.value(metric_id, period, dim)


def _is_nan(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _mismatches(data, E, metric_id, *, periods=tuple(D.PERIODS), dims=(None, *D.DIMENSIONS), check_required=True):
    """Every disagreement between the JSON and the independent values, as readable lines."""
    got_all = D.json_values(data)
    problems = []
    for period_name in periods:
        period = D.PERIODS[period_name]
        for dim in dims:
            expected = _expected(E, metric_id, period, dim)
            got = {k[3]: v for k, v in got_all.items() if k[0] == metric_id and k[1] == period_name and k[2] == dim}
            where = f"{metric_id} {period_name} {dim or 'total'}"
            if dim is None:
                value = got.get(None)
                if _is_nan(expected):
                    if value is not None:
                        problems.append(f"{where}: JSON has {value}, expected not measurable (absent)")
                elif value is None:
                    problems.append(f"{where}: absent from JSON, expected {expected}")
                elif value != pytest.approx(expected, **TOL):
                    problems.append(f"{where}: JSON {value} != expected {expected}")
                continue
            if expected is None:
                if got:
                    problems.append(f"{where}: not segmentable by {dim}, JSON has {sorted(got)[:4]}")
                continue
            for segment, value in got.items():
                if segment in expected.value.index:
                    want = float(expected.value[segment])
                else:  # a segment the expectation does not list: a sum over no rows
                    want = 0.0 if expected.kind in ("sum", "level") else math.nan
                if math.isnan(want):
                    problems.append(f"{where}[{segment}]: JSON has {value}, expected not measurable (absent)")
                elif value != pytest.approx(want, **TOL):
                    problems.append(f"{where}[{segment}]: JSON {value} != expected {want}")
            if check_required:
                missing = sorted(s for s in expected.required if s not in got)
                if missing:
                    shown = ", ".join(f"{s}={float(expected.value[s]):.4g}" for s in missing[:6])
                    problems.append(f"{where}: measurable segments missing from JSON: {shown}")
    return problems


# --------------------------------------------------------------------------
# Coverage: every id in the JSON and in the registry / `roistory metrics`
# --------------------------------------------------------------------------


def test_every_json_metric_has_an_independent_expectation(run):
    data, E, _raw = run
    known = set(E.definitions()) | set(CUSTOM)
    unknown = sorted({r["id"] for r in data["metrics"]} - known)
    assert not unknown, f"metrics in the JSON without an independent expectation in dataset.py: {unknown}"


def test_roistory_metrics_lists_every_registered_metric():
    done = D.run_cli("metrics")
    assert done.returncode == 0, done.stderr
    listed = {m.group(1) for m in re.finditer(r"^([a-z][a-z0-9_]*)\s", done.stdout, flags=re.M)}
    assert set(REGISTRY_IDS) <= listed, f"not listed by `roistory metrics`: {sorted(set(REGISTRY_IDS) - listed)}"


@pytest.mark.parametrize("metric_id", REGISTRY_IDS)
def test_registered_metric_has_an_expectation_and_is_in_the_json(run, metric_id):
    data, E, _raw = run
    assert metric_id in E.definitions(), f"{metric_id}: no independent expectation in tests/fixtures/metrics/dataset.py"
    ids = {r["id"] for r in data["metrics"] if r["period"] == "current" and not r["segment"]}
    assert metric_id in ids, f"{metric_id}: measurable with all eight tables, but no current total in the JSON"


# --------------------------------------------------------------------------
# Values: total and every segment, current / previous / year ago
# --------------------------------------------------------------------------


@pytest.mark.parametrize("metric_id", REGISTRY_IDS)
def test_total_matches_pandas(run, metric_id):
    data, E, _raw = run
    problems = _mismatches(data, E, metric_id, dims=(None,))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("metric_id", REGISTRY_IDS)
def test_segment_values_match_pandas(run, metric_id):
    """Every per-segment value the JSON reports equals the segment's own totals recomputed."""
    data, E, _raw = run
    problems = _mismatches(data, E, metric_id, dims=D.DIMENSIONS, check_required=False)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("metric_id", REGISTRY_IDS)
def test_measurable_segments_are_reported(run, metric_id):
    """A segment whose value is measurable is in the JSON: e.g. a channel with 12 leads and
    no MQL this month has an MQL rate of 0 % (SPEC: not measurable only for missing inputs
    or a zero denominator)."""
    data, E, _raw = run
    problems = [p for p in _mismatches(data, E, metric_id, dims=D.DIMENSIONS) if "missing from JSON" in p]
    assert not problems, "\n".join(problems)


def test_one_channel_example_by_hand(run):
    """A readable spot check of the last-touch crediting the per-segment revenue relies on."""
    data, E, _raw = run
    got = D.json_values(data)
    credited = E.last_touch()
    october = credited[(credited["timestamp"] >= "2026-10-01") & (credited["timestamp"] < "2026-11-01")]
    paid_search = october[october["channel"] == "Paid Search"]
    assert got[("revenue", "current", "channel", "Paid Search")] == pytest.approx(paid_search["revenue"].sum(), **TOL)
    assert got[("conversions", "current", "channel", "Paid Search")] == pytest.approx(len(paid_search), **TOL)
    orphans = october[october["channel"] == D.NO_TOUCHPOINTS]
    assert len(orphans), "the fixture should have conversions without touchpoints in the period"
    assert got[("revenue", "current", "channel", D.NO_TOUCHPOINTS)] == pytest.approx(orphans["revenue"].sum(), **TOL)
    total = sum(v for (m, p, d, _s), v in got.items() if (m, p, d) == ("revenue", "current", "channel"))
    assert total == pytest.approx(got[("revenue", "current", None, None)], **TOL), "segments must add up to the total"


def test_trends_are_monthly_totals(run):
    """The 13-month trend in the JSON is each month's total, recomputed per month."""
    data, E, _raw = run
    problems = []
    months = D.months_back(D.PERIODS["current"][1], 13)
    by_key = {(r["id"], r["month"]): r["value"] for r in data.get("trends", [])}
    assert by_key, "the JSON has no 13-month trends"
    for metric_id in sorted({k[0] for k in by_key}):
        for start, end in months:
            label = f"{start.year}-{start.month:02d}"
            expected = E.value(metric_id, (start, end), None)
            value = by_key.get((metric_id, label))
            if _is_nan(expected):
                if value is not None:
                    problems.append(f"{metric_id} {label}: {value}, expected absent")
            elif value is None or value != pytest.approx(expected, **TOL):
                problems.append(f"{metric_id} {label}: {value} != {expected}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------
# Custom metrics
# --------------------------------------------------------------------------


@pytest.mark.parametrize("metric_id", list(CUSTOM))
def test_custom_metric_values(run, metric_id):
    data, E, _raw = run
    # values only: a measurable segment left out is test_measurable_segments_are_reported's finding
    problems = _mismatches(data, E, metric_id, check_required=False)
    assert not problems, "\n".join(problems)
    assert any(r["id"] == metric_id for r in data["metrics"]), f"custom metric {metric_id} is not in the JSON"


def test_custom_metric_division_by_zero_is_omitted_and_listed_as_not_measurable(run):
    data, _E, raw = run
    current = [r for r in data["metrics"] if r["id"] == "spend_per_bounce" and r["period"] == "current"]
    assert current == [], f"spend / 0 bounces must be omitted, not {current[:3]}"
    previous = [
        r for r in data["metrics"] if r["id"] == "spend_per_bounce" and r["period"] == "previous" and not r["segment"]
    ]
    assert len(previous) == 1, "the previous month had bounces: spend_per_bounce is measurable there"
    record = next((r for r in data["maturity"] if r["metric"] == "spend_per_bounce"), None)
    assert record is not None, "a custom metric not measurable this period must be listed in maturity"
    assert record["measurable"] is False, record
    for token in ("NaN", "Infinity"):
        assert token not in raw, f"{token} in the JSON output"


def test_custom_metric_unit_is_reported(run):
    data, _E, _raw = run
    units = {r["id"]: r["unit"] for r in data["metrics"] if r["id"] in CUSTOM}
    assert units["pipeline_per_dollar"] == "ratio"
    assert units["margin_after_spend"] == "currency"


# --------------------------------------------------------------------------
# The margin setting
# --------------------------------------------------------------------------


@pytest.mark.parametrize("metric_id", ["roi", "clv", "payback_months", "clv_to_cac", "margin_after_spend"])
def test_margin_changes_margin_metrics_exactly(run_margin, metric_id):
    data, E, _raw = run_margin
    assert E.margin == 0.8
    problems = _mismatches(
        data,
        E,
        metric_id,
        periods=("current", "previous"),
        dims=(None, "channel", "market"),
        check_required=False,
    )
    assert not problems, "\n".join(problems)


def test_margin_scales_exactly_as_defined(run, run_margin):
    """roi(m) = (revenue × m − spend) / spend; clv ∝ m; payback ∝ 1/m; roas and cac do not move."""
    one, _E1, _r1 = run
    low, _E2, _r2 = run_margin
    a, b = D.json_values(one), D.json_values(low)
    key = lambda m: (m, "current", None, None)  # noqa: E731
    revenue, spend = a[key("revenue")], a[key("spend")]
    assert b[key("roi")] == pytest.approx((revenue * 0.8 - spend) / spend, **TOL)
    assert b[key("clv")] == pytest.approx(a[key("clv")] * 0.8, **TOL)
    assert b[key("clv_to_cac")] == pytest.approx(a[key("clv_to_cac")] * 0.8, **TOL)
    assert b[key("payback_months")] == pytest.approx(a[key("payback_months")] / 0.8, **TOL)
    for unchanged in ("roas", "cac", "revenue", "spend", "avg_mrr", "churn_rate"):
        assert b[key(unchanged)] == pytest.approx(a[key(unchanged)], **TOL), unchanged


def test_json_is_strict(run):
    """No NaN/Infinity tokens, and every metric record has SPEC's keys."""
    data, _E, raw = run
    json.loads(raw, parse_constant=lambda token: pytest.fail(f"non-JSON constant {token}"))
    for record in data["metrics"]:
        assert set(record) >= {"id", "period", "segment", "value", "unit"}
        assert record["period"] in ("current", "previous", "year_ago")
        assert math.isfinite(record["value"])


# --------------------------------------------------------------------------
# The same values computed in this process (for the mutation run)
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def in_process(tmp_path_factory):
    """The report computed through the Python API in this process, margin 0.8.

    The tests above run ``roistory`` in a child process, where a mutant swapped into this
    process is invisible; scripts/mutation maps ``metrics`` to this test (docs/testing.md).
    """
    from roistory.plugin_manager import new_plugin_manager
    from roistory.runs import render_config

    folder = tmp_path_factory.mktemp("in_process")
    config = D.base_config(ALL_TABLES)
    config["report"]["margin"] = 0.8
    config["custom_metrics"] = CUSTOM_METRICS
    path = D.write_project(folder / "project", config)
    saved = os.environ.get("ROISTORY_LOAD_PLUGINS")
    os.environ["ROISTORY_LOAD_PLUGINS"] = ""  # roistory's own plugins only, as in builtin_env()
    try:
        pm = new_plugin_manager()
    finally:
        if saved is None:
            del os.environ["ROISTORY_LOAD_PLUGINS"]
        else:
            os.environ["ROISTORY_LOAD_PLUGINS"] = saved
    paths = render_config(path, folder / "out", formats=["json"], pm=pm)
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    return data, D.Expected(D.read_tables(folder / "project" / "data", ALL_TABLES), margin=0.8)


def test_every_value_computed_in_process_matches_pandas(in_process):
    """Every registered and custom metric, total and per segment, every period, and the trends."""
    data, E = in_process
    for metric_id in [*REGISTRY_IDS, *CUSTOM]:  # one metric at a time: the first mismatch fails
        problems = _mismatches(data, E, metric_id, check_required=metric_id not in CUSTOM)
        assert not problems, "\n".join(problems[:40])
    problems = []
    by_key = {(r["id"], r["month"]): r["value"] for r in data.get("trends", [])}
    assert by_key, "the JSON has no 13-month trends"
    for metric_id in sorted({k[0] for k in by_key}):
        for start, end in D.months_back(D.PERIODS["current"][1], 13):
            expected, value = E.value(metric_id, (start, end), None), by_key.get((metric_id, f"{start:%Y-%m}"))
            if _is_nan(expected) != (value is None) or (value is not None and value != pytest.approx(expected, **TOL)):
                problems.append(f"trend {metric_id} {start:%Y-%m}: {value} != {expected}")
    assert not problems, "\n".join(problems[:40])
    not_measurable = {r["metric"] for r in data["maturity"] if r["measurable"] is False}
    assert "spend_per_bounce" in not_measurable
