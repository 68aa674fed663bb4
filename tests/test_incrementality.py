"""Measured incrementality beside the attribution models: roistory's CSV shape and the
Robyn, PyMC-Marketing and Meridian exports, their shares recomputed here with pandas,
and malformed files rejected naming file, row and column."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from roistory.api import incremental_shares
from roistory.testing import (
    make_conversions,
    make_leads,
    make_spend,
    make_touchpoints,
    render_report,
    write_project,
)

LIFT_CSV = (
    "name,channel,method,period_start,period_end,incremental_revenue,ci_low,ci_high\n"
    "Email holdout,Email,geo_holdout,2026-03-01,2026-03-31,1000,600,1400\n"
    "Search lift,Paid Search,conversion_lift,2026-03-01,2026-03-15,300,100,500\n"
)

# Robyn's pareto_aggregated.csv: two models; media rows carry total_spend, the others do not.
ROBYN_AGGREGATED = (
    "solID,rn,coef,xDecompAgg,xDecompPerc,xDecompMeanNon0,total_spend,mean_spend,spend_share,effect_share\n"
    "1_12_3,intercept,1.0,5000,0.5,50,NA,NA,NA,NA\n"
    "1_12_3,trend,0.2,1000,0.1,10,NA,NA,NA,NA\n"
    "1_12_3,Email,0.3,1500,0.15,15,2000,20,0.4,0.375\n"
    "1_12_3,Paid Search,0.4,2500,0.25,25,3000,30,0.6,0.625\n"
    "2_7_1,intercept,1.0,6000,0.6,60,NA,NA,NA,NA\n"
    "2_7_1,Email,0.1,1000,0.1,10,2000,20,0.4,0.333\n"
    "2_7_1,Paid Search,0.2,3000,0.3,30,3000,30,0.6,0.667\n"
)

MERIDIAN_OUTCOME = (
    "Channel Index,Channel,Incremental Outcome,Contribution Share,Analysis Period,Analysis Date Start,Analysis Date "
    "End\n"
    "0,baseline,2000,0.5,Mar 2026,2026-03-01,2026-03-31\n"
    "1,Paid Social,1200,0.3,Mar 2026,2026-03-01,2026-03-31\n"
    "2,Email,800,0.2,Mar 2026,2026-03-01,2026-03-31\n"
    "3,All Channels,2000,0.5,Mar 2026,2026-03-01,2026-03-31\n"
)


def pymc_draws() -> pd.DataFrame:
    """compute_channel_contribution_original_scale().to_dataframe(name=...).reset_index():
    2 chains × 5 draws × 4 weekly dates × 2 channels."""
    rng = np.random.default_rng(7)
    index = pd.MultiIndex.from_product(
        [[0, 1], range(5), pd.date_range("2026-03-02", periods=4, freq="7D"), ["Email", "Paid Social"]],
        names=["chain", "draw", "date", "channel"],
    )
    frame = pd.DataFrame({"channel_contribution": rng.gamma(4.0, 50.0, len(index))}, index=index).reset_index()
    frame["date"] = frame["date"].dt.strftime("%Y-%m-%d")
    return frame


def project(tmp_path, files: dict[str, str], incrementality: list[dict]):
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    tables = {
        "spend": make_spend(),
        "touchpoints": make_touchpoints(),
        "conversions": make_conversions(),
        "leads": make_leads(),
    }
    return write_project(tmp_path, tables, config={"incrementality": incrementality})


def march_revenue(start: str, end: str) -> float:
    conversions = make_conversions()
    days = pd.to_datetime(conversions["timestamp"]).dt.normalize()
    return float(conversions.loc[(days >= start) & (days <= end), "revenue"].sum())


def test_lift_csv_is_shown_beside_the_models_with_its_share(tmp_path):
    config = project(tmp_path, {"lift.csv": LIFT_CSV}, [{"name": "q1_tests", "type": "csv", "path": "lift.csv"}])
    rendered = render_report(config)

    records = {r["channel"]: r for r in rendered.json["incrementality"]}
    assert records["Email"]["kind"] == "experiment" and records["Email"]["ci_low"] == 600.0
    assert records["Email"]["share"] == pytest.approx(1000 / march_revenue("2026-03-01", "2026-03-31"))
    # the search test covers half the month: its share is over that window's revenue
    assert records["Paid Search"]["share"] == pytest.approx(300 / march_revenue("2026-03-01", "2026-03-15"))
    html = rendered.html
    assert "Measured incremental share" in html and "Email holdout" in html and "Experiment" in html
    manifest = json.loads(next(rendered.paths["json"].parent.glob("*.manifest.json")).read_text(encoding="utf-8"))
    (recorded,) = manifest["incrementality_inputs"]
    assert (
        recorded["rows"] == 2 and recorded["sha256"] == hashlib.sha256((tmp_path / "lift.csv").read_bytes()).hexdigest()
    )
    assert incremental_shares(rendered.report) == {
        "Email": pytest.approx(records["Email"]["share"]),
        "Paid Search": pytest.approx(records["Paid Search"]["share"]),
    }


def test_robyn_aggregated_needs_a_model_then_reads_its_media_rows(tmp_path, cli):
    entry = {
        "name": "robyn",
        "type": "robyn",
        "path": "pareto_aggregated.csv",
        "options": {"window_start": "2025-04-01", "window_end": "2026-03-31"},
    }
    config = project(tmp_path, {"pareto_aggregated.csv": ROBYN_AGGREGATED}, [entry])
    result = cli.run("run", config, "--out", tmp_path / "out", cwd=tmp_path)
    cli.assert_rejected(result, tmp_path / "out", "incrementality[robyn].options.solID", "2 Robyn models")

    entry["options"]["solID"] = "2_7_1"
    config = project(tmp_path, {}, [entry])
    rendered = render_report(config)
    expected = pd.read_csv(tmp_path / "pareto_aggregated.csv", na_values=["NA"])
    expected = expected[(expected["solID"] == "2_7_1") & expected["total_spend"].notna()].set_index("rn")
    records = {r["channel"]: r for r in rendered.json["incrementality"]}
    assert set(records) == {"Email", "Paid Search"}  # intercept and trend are not channels
    for channel, record in records.items():
        assert record["kind"] == "mmm" and record["name"] == "Robyn 2_7_1"
        assert record["incremental_revenue"] == expected.at[channel, "xDecompAgg"]
        assert record["share"] == expected.at[channel, "xDecompPerc"] and record["share_basis"] == "stated"
        assert record["period"] == {"start": "2025-04-01", "end": "2026-03-31"}
    assert "MMM" in rendered.html


def test_pymc_marketing_draws_become_a_mean_and_a_94_percent_interval(tmp_path):
    draws = pymc_draws()
    draws.to_csv(tmp_path / "contributions.csv", index=False)
    config = project(tmp_path, {}, [{"name": "pymc", "type": "pymc_marketing", "path": "contributions.csv"}])
    rendered = render_report(config)

    per_draw = draws.groupby(["channel", "chain", "draw"])["channel_contribution"].sum()
    records = {r["channel"]: r for r in rendered.json["incrementality"]}
    for channel in ("Email", "Paid Social"):
        totals = per_draw.loc[channel]
        assert records[channel]["incremental_revenue"] == pytest.approx(totals.mean())
        assert records[channel]["ci_low"] == pytest.approx(totals.quantile(0.03))
        assert records[channel]["ci_high"] == pytest.approx(totals.quantile(0.97))
        assert records[channel]["period"] == {"start": "2026-03-02", "end": "2026-03-23"}
        assert records[channel]["share"] == pytest.approx(totals.mean() / march_revenue("2026-03-02", "2026-03-23"))


def test_meridian_media_outcome_leaves_out_baseline_and_totals(tmp_path):
    config = project(
        tmp_path,
        {"media_outcome.csv": MERIDIAN_OUTCOME},
        [{"name": "meridian", "type": "meridian", "path": "media_outcome.csv"}],
    )
    rendered = render_report(config)
    records = {r["channel"]: r for r in rendered.json["incrementality"]}
    assert set(records) == {"Paid Social", "Email"}
    assert records["Paid Social"]["incremental_revenue"] == 1200.0 and records["Paid Social"]["share"] == 0.3


def test_an_experiment_outranks_an_mmm_for_the_same_channel(tmp_path):
    config = project(
        tmp_path,
        {"lift.csv": LIFT_CSV, "media_outcome.csv": MERIDIAN_OUTCOME},
        [
            {"name": "meridian", "type": "meridian", "path": "media_outcome.csv"},
            {"name": "tests", "type": "csv", "path": "lift.csv"},
        ],
    )
    rendered = render_report(config)
    shares = incremental_shares(rendered.report)
    assert shares["Email"] == pytest.approx(1000 / march_revenue("2026-03-01", "2026-03-31"))  # the holdout, not 0.2
    assert shares["Paid Social"] == pytest.approx(0.3)  # only the MMM measured it


@pytest.mark.parametrize(
    ("text", "row", "column"),
    [
        (LIFT_CSV.replace("1000,600", "10O0,600"), "row 2", "incremental_revenue"),
        (LIFT_CSV.replace("2026-03-15", "15/03/2026"), "row 3", "period_end"),
        (LIFT_CSV.replace(",Email,geo_holdout", ",,geo_holdout"), "row 2", "channel"),
        (LIFT_CSV.replace("300,100,500", "300,500,100"), "row 3", "ci_low"),
    ],
)
def test_a_malformed_file_is_bad_input_naming_file_row_and_column(tmp_path, cli, text, row, column):
    config = project(tmp_path, {"lift.csv": text}, [{"name": "tests", "type": "csv", "path": "lift.csv"}])
    result = cli.run("run", config, "--out", tmp_path / "out", cwd=tmp_path)
    cli.assert_rejected(result, tmp_path / "out", "lift.csv", row, f"column '{column}'")


def test_an_unknown_reader_type_names_the_key(tmp_path, cli):
    config = project(tmp_path, {"lift.csv": LIFT_CSV}, [{"name": "tests", "type": "robin", "path": "lift.csv"}])
    result = cli.run("run", config, "--out", tmp_path / "out", cwd=tmp_path)
    cli.assert_rejected(result, tmp_path / "out", "incrementality[0].type", "did you mean 'robyn'")


def test_robyn_decomposition_matrix_sums_each_media_column_over_its_dates(tmp_path):
    """pareto_alldecomp_matrix.csv: one row per date; the share is the channel's effect / dep_var."""
    dates = pd.date_range("2026-01-05", periods=8, freq="7D")
    rng = np.random.default_rng(3)
    matrix = pd.DataFrame(
        {
            "ds": dates.strftime("%Y-%m-%d"),
            "dep_var": rng.uniform(900, 1100, 8),
            "intercept": 500.0,
            "email_S": rng.uniform(50, 90, 8),
            "search_S": rng.uniform(100, 160, 8),
            "solID": "4_2_9",
        }
    )
    matrix.to_csv(tmp_path / "matrix.csv", index=False)
    entry = {
        "name": "robyn",
        "type": "robyn",
        "path": "matrix.csv",
        "options": {"channels": {"email_S": "Email", "search_S": "Paid Search"}},
    }
    rendered = render_report(project(tmp_path, {}, [entry]))

    records = {r["channel"]: r for r in rendered.json["incrementality"]}
    for column, channel in (("email_S", "Email"), ("search_S", "Paid Search")):
        assert records[channel]["incremental_revenue"] == pytest.approx(matrix[column].sum())
        assert records[channel]["share"] == pytest.approx(matrix[column].sum() / matrix["dep_var"].sum())
        assert records[channel]["period"] == {"start": "2026-01-05", "end": "2026-02-23"}
