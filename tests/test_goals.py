"""SMART goals: actual, progress, forecast and status recomputed independently, and bad goals rejected.

SPEC's example: actual 830, target 1200 → progress 0.69 (actual / target).
The forecast methods and status thresholds are the documented ones
(roistory.goals' docstring, shown in the report next to each goal):

- flows that add up over time (counts, sums) use the run-rate: the value so far ×
  the goal window's days / the days elapsed;
- rates and ratios use a straight line through the last six monthly values,
  extended to the deadline's month;
- a goal whose deadline has passed forecasts its final value;
- on track when the forecast reaches the target (at or below it for
  lower-is-better metrics), at risk when it falls short by at most 10 % of the
  target, off track beyond.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

_DATASET = Path(__file__).parent / "fixtures" / "metrics" / "dataset.py"
if "roistory_metric_fixture" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("roistory_metric_fixture", _DATASET)
    sys.modules["roistory_metric_fixture"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["roistory_metric_fixture"])
D = sys.modules["roistory_metric_fixture"]

TOL = {"rel": 1e-9, "abs": 1e-9}
ALL_TABLES = list(D.DATE_COLUMNS)
PERIOD = D.PERIODS["current"]  # 2026-10-01 .. 2026-10-31
DEADLINE = date(2026, 12, 31)
AT_RISK_MARGIN = 0.10


# --------------------------------------------------------------------------
# Independent goal arithmetic
# --------------------------------------------------------------------------


def _segment_value(E, metric_id, window, segment):
    if not segment:
        return E.value(metric_id, window, None)
    ((dim, wanted),) = segment.items()
    seg = E.value(metric_id, window, dim)
    return float(seg.value.get(wanted, 0.0))


def run_rate(E, metric_id, segment, start, deadline):
    """Actual over start..min(period end, deadline) and its run-rate to the deadline."""
    as_of = min(PERIOD[1], deadline)
    actual = _segment_value(E, metric_id, (start, as_of), segment)
    if as_of >= deadline:
        return actual, actual
    elapsed = (as_of - start).days + 1
    total = (deadline - start).days + 1
    return actual, actual * total / elapsed


def linear_trend(E, metric_id, segment, deadline, months=6):
    """Actual in the period and a least-squares line through the last six months, at the deadline's month."""
    actual = _segment_value(E, metric_id, PERIOD, segment)
    ys = [_segment_value(E, metric_id, month, segment) for month in D.months_back(PERIOD[1], months)]
    n = len(ys)
    xs = list(range(n))
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum((x - mean_x) ** 2 for x in xs)
    ahead = (deadline.year - PERIOD[1].year) * 12 + deadline.month - PERIOD[1].month
    return actual, mean_y + slope * ((n - 1 + ahead) - mean_x)


def status(forecast, target, lower_is_better=False):
    gap = (forecast - target) / (abs(target) or 1.0)
    if lower_is_better:
        gap = -gap
    if gap >= 0:
        return "on_track"
    return "at_risk" if gap >= -AT_RISK_MARGIN else "off_track"


# --------------------------------------------------------------------------
# A run with goals of every kind
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def goals_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("goals")
    project = folder / "project"
    config = D.base_config(ALL_TABLES)
    D.write_project(project, config)
    E = D.Expected(D.read_tables(project / "data", ALL_TABLES))

    expected = {}
    goals = []

    def add(goal, actual, forecast, lower=False, method=None):
        goals.append(goal)
        target = float(str(goal["target"]).rstrip("%")) / (100 if str(goal["target"]).endswith("%") else 1)
        expected[goal["id"]] = {
            "actual": actual,
            "forecast": forecast,
            "target": target,
            "status": status(forecast, target, lower),
            "lower": lower,
            "method": method,
        }

    # run-rate goals, total and by segment, with targets on either side of the thresholds
    actual, forecast = run_rate(E, "sqls", {}, PERIOD[0], DEADLINE)
    add(
        {
            "id": "sqls_on_track",
            "objective": "More SQLs this quarter",
            "metric": "sqls",
            "baseline": 10,
            "target": round(forecast * 0.95),
            "deadline": DEADLINE,
            "owner": "Demand gen",
        },
        actual,
        forecast,
        method="run-rate",
    )
    actual, forecast = run_rate(E, "sqls", {"market": "APAC"}, PERIOD[0], DEADLINE)
    add(
        {
            "id": "apac_sqls_at_risk",
            "metric": "sqls",
            "segment": {"market": "APAC"},
            "baseline": 5,
            "target": round(forecast / 0.95, 2),
            "deadline": DEADLINE,
            "owner": "APAC team",
        },
        actual,
        forecast,
        method="run-rate",
    )
    actual, forecast = run_rate(E, "leads", {"channel": "Email"}, PERIOD[0], DEADLINE)
    add(
        {
            "id": "email_leads_off_track",
            "metric": "leads",
            "segment": {"channel": "Email"},
            "baseline": 1,
            "target": round(forecast / 0.8, 2),
            "deadline": DEADLINE,
            "owner": "Email team",
        },
        actual,
        forecast,
        method="run-rate",
    )
    started = date(2026, 7, 1)
    actual, forecast = run_rate(E, "pipeline", {}, started, DEADLINE)
    add(
        {
            "id": "pipeline_since_july",
            "metric": "pipeline",
            "start": started,
            "baseline": 1000,
            "target": round(forecast * 1.05, 2),
            "deadline": DEADLINE,
            "owner": "Sales",
        },
        actual,
        forecast,
        method="run-rate",
    )
    # a deadline inside the period: the value at the deadline is final
    early = date(2026, 10, 20)
    actual, forecast = run_rate(E, "revenue", {}, PERIOD[0], early)
    add(
        {
            "id": "revenue_by_the_20th",
            "metric": "revenue",
            "baseline": 100,
            "target": round(actual * 0.9, 2),
            "deadline": early,
            "owner": "CMO",
        },
        actual,
        forecast,
        method="final",
    )
    # rates: linear trend of the last six months; a percent target written as "NN.N%"
    actual, forecast = linear_trend(E, "mql_rate", {}, DEADLINE)
    add(
        {
            "id": "mql_rate_goal",
            "metric": "mql_rate",
            "baseline": 0.1,
            "target": f"{forecast * 100 * 1.04:.2f}%",
            "deadline": DEADLINE,
            "owner": "Marketing ops",
        },
        actual,
        forecast,
        method="linear",
    )
    # lower is better: on track when the forecast is at or below the target
    actual, forecast = linear_trend(E, "cpl", {}, DEADLINE)
    add(
        {
            "id": "cpl_goal",
            "metric": "cpl",
            "baseline": 10_000,
            "target": round(forecast * 1.02, 2),
            "deadline": DEADLINE,
            "owner": "Performance team",
        },
        actual,
        forecast,
        lower=True,
        method="linear",
    )
    actual, forecast = linear_trend(E, "cpl", {"channel": "Paid Search"}, DEADLINE)
    add(
        {
            "id": "paid_search_cpl_goal",
            "metric": "cpl",
            "segment": {"channel": "Paid Search"},
            "baseline": 10_000,
            "target": round(forecast * 0.85, 2),
            "deadline": DEADLINE,
            "owner": "Search team",
        },
        actual,
        forecast,
        lower=True,
        method="linear",
    )

    config["goals"] = goals
    path = D.write_project(project, config)
    data, _done = D.run_json(path, folder / "out")
    return data, expected


def _goal(data, goal_id):
    found = [g for g in data["goals"] if g["id"] == goal_id]
    assert len(found) == 1, f"goal {goal_id} appears {len(found)} times in the JSON goals"
    return found[0]


GOAL_IDS = [
    "sqls_on_track",
    "apac_sqls_at_risk",
    "email_leads_off_track",
    "pipeline_since_july",
    "revenue_by_the_20th",
    "mql_rate_goal",
    "cpl_goal",
    "paid_search_cpl_goal",
]


def test_statuses_cover_every_threshold(goals_run):
    _data, expected = goals_run
    statuses = {e["status"] for e in expected.values()}
    assert statuses == {"on_track", "at_risk", "off_track"}, statuses


@pytest.mark.parametrize("goal_id", GOAL_IDS)
def test_goal_actual_target_forecast_status(goals_run, goal_id):
    data, expected = goals_run
    goal, want = _goal(data, goal_id), expected[goal_id]
    assert goal["actual"] == pytest.approx(want["actual"], **TOL), "actual"
    assert goal["target"] == pytest.approx(want["target"], **TOL), "target (percent targets are fractions)"
    assert goal["forecast"] == pytest.approx(want["forecast"], **TOL), f"forecast ({goal.get('method')})"
    assert goal["status"] == want["status"], f"status for forecast {want['forecast']} against target {want['target']}"


@pytest.mark.parametrize("goal_id", [g for g in GOAL_IDS if g not in ("cpl_goal", "paid_search_cpl_goal")])
def test_progress_is_actual_over_target(goals_run, goal_id):
    """SPEC's example: actual 830 of target 1200 → progress 0.69."""
    data, expected = goals_run
    goal, want = _goal(data, goal_id), expected[goal_id]
    assert goal["progress"] == pytest.approx(want["actual"] / want["target"], **TOL)


@pytest.mark.parametrize("goal_id", GOAL_IDS)
def test_goal_states_its_forecast_method(goals_run, goal_id):
    data, expected = goals_run
    method = (_goal(data, goal_id).get("method") or "").lower()
    word = {"run-rate": "run-rate", "linear": "linear", "final": "final"}[expected[goal_id]["method"]]
    assert word in method, f"the forecast method should say '{word}', got {method!r}"


def test_goal_json_has_spec_keys(goals_run):
    data, _expected = goals_run
    for goal in data["goals"]:
        assert {"id", "actual", "target", "progress", "forecast", "status"} <= set(goal), goal
        assert goal["status"] in ("on_track", "at_risk", "off_track", "not_measurable")


# --------------------------------------------------------------------------
# Bad goals and formulas: exit 2, one line naming the key (and the SMART letter)
# --------------------------------------------------------------------------

GOOD_GOAL = {
    "id": "g1",
    "objective": "More SQLs",
    "metric": "sqls",
    "baseline": 10,
    "target": 40,
    "deadline": "2026-12-31",
    "owner": "Demand gen",
}


@pytest.fixture(scope="module")
def data_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad-data")
    D.write_project(folder, D.base_config(ALL_TABLES))
    return folder


def _reject(folder: Path, tmp_path: Path, **changes):
    """Run a project whose report.yaml has ``changes``; return (exit code, stdout, stderr, files written)."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "data").symlink_to(folder / "data", target_is_directory=True)
    config = copy.deepcopy(D.base_config(ALL_TABLES))
    config.update(changes)
    (project / "report.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    done = D.run_cli("run", project / "report.yaml", "--out", out, "--format", "json")
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) if out.exists() else []
    return done, written


def _assert_rejected(done, written, *fragments):
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    assert done.returncode == 2, f"exit code {done.returncode}, expected 2 (bad input)\n{output}"
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected a one-line reason, got:\n{done.stderr}"
    for fragment in fragments:
        assert fragment.lower() in lines[0].lower(), f"{fragment!r} missing from: {lines[0]}"
    assert written == [], f"a rejected report wrote {written}"
    return lines[0]


def _goal_with(**changes):
    goal = {**GOOD_GOAL, **changes}
    return [{k: v for k, v in goal.items() if v is not None}]


@pytest.mark.parametrize(
    "changes, fragments",
    [
        pytest.param(
            {"deadline": "2026-09-15"},
            ["goals[0].deadline", "Time-bound"],
            id="deadline-before-period",
        ),
        pytest.param({"deadline": None}, ["goals[0].deadline", "Time-bound"], id="no-deadline"),
        pytest.param({"owner": None}, ["goals[0].owner", "Assign"], id="no-owner"),
        pytest.param({"metric": None}, ["goals[0].metric", "Measurable"], id="no-metric"),
        pytest.param({"target": None}, ["goals[0].target", "Measurable"], id="no-target"),
        pytest.param({"metric": "sqlz"}, ["goals[0].metric", "Measurable", "sqls"], id="unknown-metric"),
        pytest.param({"target": "lots"}, ["goals[0].target", "Measurable"], id="target-not-a-number"),
        pytest.param(
            {"metric": "mql_rate", "target": 25},
            ["goals[0].target", "percent"],
            id="percent-metric-target-25",
        ),
        pytest.param(
            {"metric": "cpl", "target": "20%"},
            ["goals[0].target", "currency"],
            id="currency-metric-target-20pct",
        ),
        pytest.param(
            {"segment": {"region": "APAC"}},
            ["goals[0].segment", "Specific"],
            id="unknown-segment-dimension",
        ),
    ],
)
def test_bad_goal_is_rejected(data_folder, tmp_path, changes, fragments):
    done, written = _reject(data_folder, tmp_path, goals=_goal_with(**changes))
    _assert_rejected(done, written, *fragments)


@pytest.mark.parametrize(
    "custom, fragments",
    [
        pytest.param(
            [{"id": "floor_spend", "formula": "max(spend, 1)"}],
            ["custom_metrics[0].formula", "function"],
            id="function-call",
        ),
        pytest.param(
            [{"id": "loop", "formula": "loop / spend"}],
            ["custom_metrics[0]", "itself"],
            id="self-reference",
        ),
        pytest.param(
            [{"id": "a_per", "formula": "b_per / spend"}, {"id": "b_per", "formula": "a_per * 2"}],
            ["custom_metrics", "cycle"],
            id="cycle",
        ),
        pytest.param(
            [{"id": "cost_per_lead2", "formula": "spnd / leads"}],
            ["custom_metrics[0].formula", "spnd", "did you mean 'spend'"],
            id="unknown-id",
        ),
        pytest.param(
            [{"id": "bad_syntax", "formula": "spend / (leads"}],
            ["custom_metrics[0].formula", "spend / (leads"],
            id="syntax-error",
        ),
    ],
)
def test_bad_custom_formula_is_rejected(data_folder, tmp_path, custom, fragments):
    done, written = _reject(data_folder, tmp_path, custom_metrics=custom)
    _assert_rejected(done, written, *fragments)


def test_cycle_is_rejected_even_when_metrics_are_listed(data_folder, tmp_path):
    """A cycle must not depend on which metrics are selected: reject it at validation."""
    custom = [{"id": "a_per", "formula": "b_per / spend"}, {"id": "b_per", "formula": "a_per * 2"}]
    done, written = _reject(data_folder, tmp_path, custom_metrics=custom, metrics=["spend", "roi"])
    _assert_rejected(done, written, "custom_metrics", "cycle")


def test_validate_rejects_a_cycle_too(data_folder, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "data").symlink_to(data_folder / "data", target_is_directory=True)
    config = D.base_config(ALL_TABLES)
    config["custom_metrics"] = [
        {"id": "a_per", "formula": "b_per / spend"},
        {"id": "b_per", "formula": "a_per * 2"},
    ]
    (project / "report.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    done = D.run_cli("validate", project / "report.yaml")
    assert done.returncode == 2, f"`roistory validate` accepted a formula cycle:\n{done.stdout}{done.stderr}"
    assert "cycle" in done.stderr


def test_target_met_at_baseline_is_a_warning_not_an_error(data_folder, tmp_path):
    goals = _goal_with(id="already_met", baseline=500, target=400)
    project = tmp_path / "project"
    project.mkdir()
    (project / "data").symlink_to(data_folder / "data", target_is_directory=True)
    config = D.base_config(ALL_TABLES)
    config["goals"] = goals
    (project / "report.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    data, _done = D.run_json(project / "report.yaml", tmp_path / "out")
    warnings = [f for f in data["data_quality"] if f["severity"] == "warning" and "already_met" in f["message"]]
    assert warnings, f"no data_quality warning for a target met at baseline: {data['data_quality']}"
    assert [g["id"] for g in data["goals"]] == ["already_met"], "the goal is still evaluated"


def test_lower_is_better_target_met_at_baseline_is_a_warning(data_folder, tmp_path):
    goals = _goal_with(id="cpl_already_met", metric="cpl", baseline=50, target=80)
    project = tmp_path / "project"
    project.mkdir()
    (project / "data").symlink_to(data_folder / "data", target_is_directory=True)
    config = D.base_config(ALL_TABLES)
    config["goals"] = goals
    (project / "report.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    data, _done = D.run_json(project / "report.yaml", tmp_path / "out")
    assert any("cpl_already_met" in f["message"] for f in data["data_quality"] if f["severity"] == "warning")
