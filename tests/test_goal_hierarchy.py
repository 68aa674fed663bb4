"""Company goals and the SMART objectives under them: grouped by goal, marketing and sales
side by side, flagged "not attainable on history" (numbers recomputed here with pandas)
and "relevance not stated"; an objective naming an undeclared goal is bad input."""

from __future__ import annotations

import pandas as pd
import pytest

from roistory.testing import (
    make_conversions,
    make_spend,
    make_touchpoints,
    render_report,
    write_project,
)

MONTHLY_LEADS = [5, 8, 10, 12, 9, 7, 11, 6, 8, 10, 9, 12, 12]  # 2025-03 .. 2026-03 (the report month)
FACTOR = 1.5  # docs/config.md: more than 1.5 × the best month of the history


def leads() -> pd.DataFrame:
    rows = []
    for month, count in zip(pd.period_range("2025-03", "2026-03", freq="M"), MONTHLY_LEADS, strict=True):
        for i in range(count):
            rows.append(
                {
                    "lead_id": f"L{month}-{i}",
                    "created_at": (month.start_time + pd.Timedelta(days=i)).date().isoformat(),
                    "source_channel": "Email",
                }
            )
    return pd.DataFrame(rows)


def objective(goal_id: str, target: float, **extra) -> dict:
    return {
        "id": goal_id,
        "objective": f"{target:g} leads by June",
        "metric": "leads",
        "target": target,
        "start": "2026-03-01",
        "deadline": "2026-06-30",
        "owner": "Demand gen",
        **extra,
    }


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("hierarchy")
    tables = {
        "spend": make_spend(),
        "touchpoints": make_touchpoints(),
        "conversions": make_conversions(),
        "leads": leads(),
    }
    config = {
        "company_goals": [
            {"id": "more_leads", "statement": "Increase lead generation"},
            {"id": "unserved", "statement": "Enter the German market"},
        ],
        "goals": [
            objective("stretch", 300, goal="more_leads", team="marketing"),
            objective("steady", 40, goal="more_leads", team="sales"),
            objective("orphan", 30, team="marketing"),
        ],
        "sections": ["goals"],
    }
    return render_report(write_project(tmp_path, tables, config=config))


def required_and_best(target: float) -> tuple[float, float]:
    frame = leads()
    months = pd.to_datetime(frame["created_at"]).dt.to_period("M")
    per_month = frame.groupby(months).size()
    actual = per_month[pd.Period("2026-03", "M")]
    months_left = (pd.Timestamp("2026-06-30") - pd.Timestamp("2026-03-31")).days / 30.4375
    return (target - actual) / months_left, float(per_month.max())


def test_a_pace_beyond_the_history_is_flagged_with_its_numbers(rendered):
    goals = {g["id"]: g for g in rendered.json["goals"]}
    required, best = required_and_best(300)
    assert goals["stretch"]["required_pace"] == pytest.approx(required)
    assert goals["stretch"]["best_pace"] == best == 12
    assert required > FACTOR * best and "not_attainable_on_history" in goals["stretch"]["flags"]
    required, _ = required_and_best(40)
    assert required <= FACTOR * best and goals["steady"]["flags"] == []
    html = rendered.html
    assert "Not attainable on history" in html
    assert (
        f"Needs {required_and_best(300)[0]:,.0f} a month to the deadline; the best month of the last 13 reached 12."
        in html
    )


def test_an_objective_without_a_goal_has_no_stated_relevance(rendered):
    goals = {g["id"]: g for g in rendered.json["goals"]}
    assert goals["orphan"]["flags"] == ["relevance_not_stated"] and goals["orphan"]["goal"] is None
    assert goals["stretch"]["goal"] == "more_leads" and goals["stretch"]["team"] == "marketing"
    assert "Relevance not stated" in rendered.html


def test_objectives_sit_under_their_goal_marketing_beside_sales(rendered):
    html = rendered.html
    lead_gen = html.index("Increase lead generation")
    unserved = html.index("Enter the German market")
    no_goal = html.index("Objectives that name no company goal")
    assert lead_gen < html.index("300 leads by June") < html.index("40 leads by June") < unserved < no_goal
    assert no_goal < html.index("30 leads by June")
    group = html[lead_gen:unserved]
    # one table: the team headers, then marketing's objective beside sales' in one row
    assert "goal-grid" in group and group.index("Marketing") < group.index("Sales") < group.index("300 leads")
    between = group[group.index("300 leads") : group.index("40 leads")]
    assert "<tr><td>" not in between  # no new row of the grid starts between them
    assert "No objective serves this goal yet." in html[unserved:no_goal]


def test_an_undeclared_goal_is_bad_input(tmp_path, cli):
    config = cli.default_config()
    config["goals"] = [
        {"id": "x", "metric": "leads", "target": 10, "deadline": "2026-12-31", "owner": "Me", "goal": "nope"}
    ]
    config_path = cli.write_project(tmp_path / "proj", config)
    result = cli.run("run", config_path, "--out", tmp_path / "out", cwd=tmp_path)
    cli.assert_rejected(result, tmp_path / "out", "goals[0].goal", "'nope'", "declare it under company_goals")


def test_team_is_marketing_or_sales(tmp_path, cli):
    config = cli.default_config()
    config["goals"] = [
        {"id": "x", "metric": "leads", "target": 10, "deadline": "2026-12-31", "owner": "Me", "team": "finance"}
    ]
    config_path = cli.write_project(tmp_path / "proj", config)
    result = cli.run("run", config_path, "--out", tmp_path / "out", cwd=tmp_path)
    cli.assert_rejected(result, tmp_path / "out", "goals[0].team")
