"""The ``ga4_report`` source: reports downloaded from the GA4 UI (Share this report → Download
File → CSV) in the shapes found in public projects reading real downloads (docs/sources.md):
a comment block with the date range, a Grand total row, a second table after a blank line,
headers in the UI language. Every expected number is recomputed here with pandas from the
values typed below, not through roistory."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from roistory.config import config_from_dict
from roistory.errors import DataError
from roistory.plugin_manager import build_registry
from roistory.sources import load_sources

FIXTURES = Path(__file__).parent / "fixtures" / "sources"

# ga4_traffic_acquisition_en.csv, typed from the file: channel, users, sessions, key events
EN_ROWS = [
    ("Organic Search", 5120, 6874, 143),
    ("Direct", 3411, 4102, 71),
    ("Paid Search", 2209, 2874, 97),
    ("Email", 801, 1210, 48),
    ("Organic Social", 690, 902, 9),
    ("Referral", 301, 340, 6),
]
# ga4_traffic_acquisition_es.csv: date, channel, sessions, users, new users, key events, views
ES_ROWS = [
    ("2026-09-30", "Organic Search", 1204, 980, 611, 12, 3810),
    ("2026-09-30", "Direct", 455, 401, 120, 3, 1020),
    ("2026-10-01", "Organic Search", 1311, 1022, 644, 15, 4102),
    ("2026-10-01", "Direct", 498, 433, 131, 4, 1187),
    ("2026-10-01", "Email", 210, 188, 20, 6, 502),
    ("2026-10-02", "Organic Search", 1188, 967, 590, 11, 3655),
    ("2026-10-02", "Paid Search", 377, 340, 201, 9, 880),
]
# ga4_traffic_acquisition_fr.csv (28 Sep to 4 Oct 2026): channel, sessions, active users, key events
FR_ROWS = [("Organic Search", 1260, 950, 42), ("Direct", 805, 700, 14), ("Paid Search", 391, 352, 21)]


def load(tmp_path: Path, fixture: str | None = None, *, content: str | None = None, period: str = "2026-10", **source):
    name = fixture or "report.csv"
    if fixture:
        shutil.copy(FIXTURES / fixture, tmp_path / name)
    else:
        (tmp_path / name).write_text(content or "", encoding="utf-8")
    config = config_from_dict(
        {
            "report": {"period": period},
            "sources": [{"name": "ga4", "type": "ga4_report", "path": name, "table": "web", **source}],
        },
        path=tmp_path / "report.yaml",
    )
    tables, inputs = load_sources(config, build_registry().sources)
    return tables["web"], inputs[0]


def finding(loaded, code: str):
    return next((f for f in loaded.findings if f.code == code), None)


def test_english_traffic_acquisition_without_a_date_is_spread_over_its_month(tmp_path):
    frame, loaded = load(tmp_path, "ga4_traffic_acquisition_en.csv")
    typed = pd.DataFrame(EN_ROWS, columns=["channel", "users", "sessions", "conversions"])
    # every channel row covers 1-31 October: one row per channel and day, a 31st of it each
    assert len(frame) == len(typed) * 31
    assert frame["date"].min() == pd.Timestamp("2026-10-01") and frame["date"].max() == pd.Timestamp("2026-10-31")
    per_channel = frame.groupby("channel")[["sessions", "users", "conversions"]].sum()
    expected = typed.set_index("channel")
    for column in ("sessions", "users", "conversions"):
        assert per_channel[column].to_dict() == pytest.approx(expected[column].astype(float).to_dict())
    day = frame[(frame["channel"] == "Paid Search") & (frame["date"] == pd.Timestamp("2026-10-17"))]
    assert day["sessions"].tolist() == pytest.approx([2874 / 31])
    assert frame["sessions"].sum() == pytest.approx(typed["sessions"].sum())
    # the Grand total row is not data; its sessions and key events match the rows', its users
    # (GA4 counts each person once) are not compared
    assert finding(loaded, "totals_rows_dropped").count == 1
    reconciled = finding(loaded, "totals_reconciled")
    assert f"sessions {typed['sessions'].sum():,}" in reconciled.message
    assert f"conversions {typed['conversions'].sum():,}" in reconciled.message
    assert finding(loaded, "totals_mismatch") is None
    assert "total counts 11873 users" in finding(loaded, "ga4_total_users").message
    assert frame["users"].sum() == pytest.approx(typed["users"].sum()) != 11873
    assert finding(loaded, "multi_day_rows").count == len(typed)
    assert finding(loaded, "ga4_tables_skipped").count == 1  # the chart's "Nth day" table


def test_a_wrong_grand_total_is_a_warning(tmp_path):
    text = (FIXTURES / "ga4_traffic_acquisition_en.csv").read_text(encoding="utf-8")
    frame, loaded = load(tmp_path, content=text.replace("Grand total,11873,16302,", "Grand total,11873,19302,"))
    mismatch = finding(loaded, "totals_mismatch")
    assert mismatch is not None and "sessions 19,302" in mismatch.message
    assert f"{sum(r[2] for r in EN_ROWS):,}" in mismatch.message


def test_spanish_download_with_a_date_dimension(tmp_path):
    frame, loaded = load(tmp_path, "ga4_traffic_acquisition_es.csv")
    typed = pd.DataFrame(
        ES_ROWS, columns=["date", "channel", "sessions", "users", "new_users", "conversions", "pageviews"]
    )
    typed["date"] = pd.to_datetime(typed["date"])
    got = frame.sort_values(["date", "channel"]).reset_index(drop=True)
    want = typed.sort_values(["date", "channel"]).reset_index(drop=True)
    assert got["date"].tolist() == want["date"].tolist()
    assert got["channel"].tolist() == want["channel"].tolist()
    # "1.204" in a Spanish file is a thousands group (the header language settles it)
    for column in ("sessions", "users", "new_users", "conversions", "pageviews"):
        assert got[column].tolist() == want[column].astype(float).tolist(), column
    october = frame[frame["date"] >= pd.Timestamp("2026-10-01")]
    assert october["sessions"].sum() == typed.loc[typed["date"] >= "2026-10-01", "sessions"].sum()
    assert finding(loaded, "multi_day_rows") is None


def test_french_weekly_download_across_a_month_boundary_is_split_pro_rata(tmp_path):
    frame, loaded = load(tmp_path, "ga4_traffic_acquisition_fr.csv")
    typed = pd.DataFrame(FR_ROWS, columns=["channel", "sessions", "users", "conversions"])
    days = pd.date_range("2026-09-28", "2026-10-04")
    assert sorted(frame["date"].unique()) == list(days)
    october = frame[frame["date"] >= pd.Timestamp("2026-10-01")]
    # 4 of the week's 7 days are in October ("1 260" is 1260: a French space grouping)
    assert october["sessions"].sum() == pytest.approx(typed["sessions"].sum() * 4 / 7)
    assert october.groupby("channel")["conversions"].sum().to_dict() == pytest.approx(
        (typed.set_index("channel")["conversions"] * 4 / 7).to_dict()
    )
    assert frame["users"].sum() == pytest.approx(typed["users"].sum())
    assert finding(loaded, "multi_day_rows").count == len(typed)


def test_german_download_with_semicolons_and_dot_grouping(tmp_path):
    # the shape of a de download a public parser keeps as its fixture: "# Alle Nutzer", ";",
    # "1.200" grouped, "67,8%"; its range lines were not found, so the range is given here
    rows = [("Paid Search", 1200, 700), ("Direct", 95, 51), ("Organic Search", 2310, 1406)]
    content = "# Property: Demo\n# Alle Nutzer\nSitzung – primäre Channelgruppe (Standard-Channelgruppe);Sitzungen;Sitzungen mit Interaktionen;Engagement-Rate\n"  # noqa: E501 (data as exported)
    content += "".join(f"{c};{s:,}".replace(",", ".") + f";{e};58,3%\n" for c, s, e in rows)
    frame, _ = load(tmp_path, content=content, values={"date": "2026-10-01", "end_date": "2026-10-31"})
    typed = pd.DataFrame(rows, columns=["channel", "sessions", "engaged"])
    assert frame.groupby("channel")["sessions"].sum().to_dict() == pytest.approx(
        typed.set_index("channel")["sessions"].astype(float).to_dict()
    )


def test_indonesian_range_lines_and_grouping(tmp_path):
    # the labels a parser of id downloads reads: "# Tanggal mulai:", "# Tanggal akhir:", "Sesi"
    content = "# Properti: Demo\n# Tanggal mulai: 20261001\n# Tanggal akhir: 20261010\nGrup saluran utama sesi,Sesi\nDirect,1.550\nEmail,40\n"  # noqa: E501 (data as exported)
    frame, _ = load(tmp_path, content=content)
    assert frame["date"].min() == pd.Timestamp("2026-10-01") and frame["date"].max() == pd.Timestamp("2026-10-10")
    assert frame.groupby("channel")["sessions"].sum().to_dict() == pytest.approx({"Direct": 1550.0, "Email": 40.0})


def test_a_date_range_can_be_given_when_the_file_has_none(tmp_path):
    content = "Session default channel group,Sessions\nDirect,310\nEmail,62\n"
    frame, _ = load(tmp_path, content=content, values={"date": "2026-10-01", "end_date": "2026-10-10"})
    assert len(frame) == 2 * 10
    assert frame["sessions"].sum() == pytest.approx(310 + 62)


def test_an_explorations_range_line(tmp_path):
    content = "# ----------------------------------------\n# All Users\n# 20261001-20261015\n# ---\nSession default channel group,Sessions\nDirect,150\n"  # noqa: E501 (data as exported)
    frame, _ = load(tmp_path, content=content)
    assert frame["date"].min() == pd.Timestamp("2026-10-01") and frame["date"].max() == pd.Timestamp("2026-10-15")
    assert frame["sessions"].tolist() == pytest.approx([10.0] * 15)


def test_hourly_rows_are_their_day_and_never_taken_for_repeats(tmp_path):
    content = (
        "# Start date: 20261001\n# End date: 20261002\n"
        "Date + hour (YYYYMMDDHH),Session primary channel group (Default Channel Group),Sessions,Key events\n"
        "2026100109,Direct,7,1\n2026100110,Direct,7,1\n2026100214,Email,3,0\n"
    )
    frame, loaded = load(tmp_path, content=content)
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == ["2026-10-01", "2026-10-01", "2026-10-02"]
    assert frame["sessions"].sum() == 7 + 7 + 3
    assert finding(loaded, "duplicate_rows") is None and finding(loaded, "multi_day_rows") is None


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        # no Date column and no Start/End date lines: which days would it cover?
        (
            "# Traffic acquisition\nSession default channel group,Sessions\nDirect,10\n",
            ["row 2", "column 'Date'", "Date as a secondary dimension"],
        ),
        # a landing-page report: sessions, but no channel
        (
            "# Start date: 20261001\n# End date: 20261031\nLanding page + query string,Sessions,Key events\n/,100,2\n",
            ["row 3", "no session channel column", "'Landing page + query string'", "Traffic acquisition"],
        ),
        # not a GA4 report at all
        ("a,b\n1,2\n", ["row 1", "not a GA4 report", "column 'Sessions'"]),
        # a comparison: two ranges, the rows of which cannot be told apart here
        (
            "# Start date: 20261001\n# End date: 20261031\n# Start date: 20260901\n# End date: 20260930\n"
            "Session default channel group,Sessions\nDirect,10\n",
            ["several date ranges", "column 'Date'"],
        ),
        (
            "# Start date: 20261031\n# End date: 20261001\nSession default channel group,Sessions\nDirect,10\n",
            ["before it starts"],
        ),
        (
            "# Start date: 20261001\n# End date: 20261031\nSession default channel group,Sessions\nDirect,10,4\n",
            ["row 4", "3 fields"],
        ),
    ],
    ids=["no-range", "no-channel", "not-ga4", "comparison", "backwards", "ragged"],
)
def test_bad_downloads_name_file_row_and_column(tmp_path, content, fragments):
    with pytest.raises(DataError) as error:
        load(tmp_path, content=content)
    message = str(error.value)
    assert message.startswith(str(tmp_path / "report.csv"))
    for fragment in fragments:
        assert fragment in message, message


def test_bad_download_exits_2_with_one_line(cli, tmp_path):
    config_path = cli.write_project(
        tmp_path / "proj",
        {
            "report": {"title": "T", "period": "2026-10", "currency": "USD", "formats": ["json"]},
            "sources": [
                {"name": "spend", "type": "csv", "path": "data/spend.csv", "table": "spend"},
                {"name": "ga4", "type": "ga4_report", "path": "data/ga4.csv", "table": "web"},
            ],
        },
        files={"data/ga4.csv": "# Traffic acquisition\nSession default channel group,Sessions\nDirect,10\n"},
    )
    out = tmp_path / "out"
    result = cli.run("run", config_path, "--out", out, cwd=tmp_path)
    cli.assert_rejected(result, out, "ga4.csv", "row 2", "column 'Date'")


def test_only_the_web_table(tmp_path):
    shutil.copy(FIXTURES / "ga4_traffic_acquisition_en.csv", tmp_path / "r.csv")
    config = config_from_dict(
        {
            "report": {"period": "2026-10"},
            "sources": [{"name": "g", "type": "ga4_report", "path": "r.csv", "table": "touchpoints"}],
        },
        path=tmp_path / "report.yaml",
    )
    with pytest.raises(DataError, match="web table"):
        load_sources(config, build_registry().sources)


def test_the_bigquery_type_points_a_ui_download_to_ga4_report(tmp_path):
    shutil.copy(FIXTURES / "ga4_traffic_acquisition_en.csv", tmp_path / "r.csv")
    config = config_from_dict(
        {"report": {"period": "2026-10"}, "sources": [{"name": "g", "type": "ga4", "path": "r.csv", "table": "web"}]},
        path=tmp_path / "report.yaml",
    )
    with pytest.raises(DataError, match="use type: ga4_report"):
        load_sources(config, build_registry().sources)
