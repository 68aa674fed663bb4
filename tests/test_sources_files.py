"""The csv, excel and parquet source types: files as the tools write them.

Each test loads through :func:`roistory.sources.load_sources`, the path a report takes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from roistory.api import TABLE_COLUMNS
from roistory.config import config_from_dict
from roistory.errors import DataError
from roistory.plugin_manager import build_registry
from roistory.sources import load_sources, normalise_table


def load(tmp_path: Path, source: dict, **report):
    config = config_from_dict(
        {"report": {"period": "2026-10", **report}, "sources": [source]}, path=tmp_path / "report.yaml"
    )
    tables, inputs = load_sources(config, build_registry().sources)
    return tables[source["table"]], inputs[0]


def write(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return name


def spend(path: str, **extra) -> dict:
    return {"name": "spend", "type": "csv", "path": path, "table": "spend", **extra}


SPEND = "date,channel,cost\n2026-10-01,Email,5.5\n2026-10-02,Paid Search,12\n"


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-8", b""),
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
        ("utf-16-le", b""),
        ("utf-32-le", b"\xff\xfe\x00\x00"),
        ("utf-32-be", b"\x00\x00\xfe\xff"),
    ],
    ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "utf16le-no-bom", "utf32le-bom", "utf32be-bom"],
)
def test_encodings_are_detected(tmp_path, encoding, bom):
    name = write(tmp_path, "spend.csv", bom + SPEND.encode(encoding))
    frame, _ = load(tmp_path, spend(name))
    assert list(frame["cost"]) == [5.5, 12.0]
    assert list(frame["channel"]) == ["Email", "Paid Search"]


def test_windows_1252_file_with_euro_signs_and_accents(tmp_path):
    content = "date;channel;campaign;cost\n01.10.2026;Email;Été €uro;1.234,56\n02.10.2026;Email;Größe;12,50\n"
    name = write(tmp_path, "spend.csv", content, encoding="cp1252")
    frame, _ = load(tmp_path, spend(name))
    assert list(frame["campaign"]) == ["Été €uro", "Größe"]
    assert list(frame["cost"]) == [1234.56, 12.5]
    assert list(frame["date"]) == [pd.Timestamp("2026-10-01"), pd.Timestamp("2026-10-02")]


def test_latin1_only_bytes(tmp_path):
    content = "date,channel,campaign,cost\n2026-10-01,Email,Caf\xe9 \x81,5\n"  # 0x81: undefined in cp1252
    name = write(tmp_path, "spend.csv", content.encode("latin-1"))
    frame, _ = load(tmp_path, spend(name))
    assert frame["campaign"].iloc[0] == "Café \x81"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_are_detected(tmp_path, delimiter):
    name = write(tmp_path, "spend.csv", SPEND.replace(",", delimiter))
    frame, _ = load(tmp_path, spend(name))
    assert list(frame["cost"]) == [5.5, 12.0]


def test_european_numbers_and_semicolons(tmp_path):
    content = 'date;channel;cost;impressions\n2026-10-01;Email;"1.234,56";"12.000"\n2026-10-02;Email;0,5;"1.000.000"\n'
    name = write(tmp_path, "spend.csv", content)
    frame, _ = load(tmp_path, spend(name))
    assert list(frame["cost"]) == [1234.56, 0.5]
    assert list(frame["impressions"]) == [12000.0, 1_000_000.0]


def test_number_styles_currency_percent_parentheses(tmp_path):
    content = (
        "date,channel,cost,impression_share,clicks\n"
        '2026-10-01,Email,"$1,153.81",12.5%,"1,234"\n'
        "2026-10-02,Email,$ 12.00,< 10%,--\n"
        "2026-10-03,Email,USD 7,> 90%,N/A\n"
    )
    name = write(tmp_path, "spend.csv", content)
    frame, loaded = load(tmp_path, spend(name, values={}), currency="USD")
    assert list(frame["impression_share"]) == [0.125, 0.10, 0.90]
    assert frame["clicks"].iloc[0] == 1234 and frame["clicks"].iloc[1:].isna().all()
    assert [f.code for f in loaded.findings].count("placeholder_values") == 1


def test_amounts_in_another_currency_are_never_summed_unconverted(tmp_path):
    name = write(tmp_path, "spend.csv", "date,channel,cost\n2026-10-01,Email,12.00\n2026-10-02,Email,€ 12.00\n")
    with pytest.raises(DataError, match=r"row 3, column 'currency'.*EUR.*no EUR→USD rate"):
        load(tmp_path, spend(name))


def test_title_lines_above_the_header_are_skipped(tmp_path):
    content = 'Campaign report\n"October 1, 2026 - October 31, 2026"\n' + SPEND
    name = write(tmp_path, "spend.csv", content)
    frame, _ = load(tmp_path, spend(name))
    assert len(frame) == 2


@pytest.mark.parametrize("row", [2, 1706])
def test_a_field_longer_than_128_kib_is_read_wherever_it_is(tmp_path, row):
    """csv's default field limit (131,072 characters) is not the reader's: a long field loads
    in the sniffed sample as after it."""
    long_name = "A" * 200_000
    lines = ["date,channel,campaign,cost"] + [f"2026-10-01,Email,Short,{i}" for i in range(2, row)]
    content = "\n".join([*lines, f"2026-10-02,Email,{long_name},5", ""])
    name = write(tmp_path, "spend.csv", content)
    frame, _ = load(tmp_path, spend(name))
    assert len(frame) == row - 1 and frame["campaign"].iloc[-1] == long_name


@pytest.mark.parametrize(
    "content",
    [
        "date,channel,campaign,cost,\n2026-10-01,Email,News,5.5,\n",  # a trailing delimiter
        "date,channel,campaign,cost\n2026-10-01,Email,News,5.5\n\nNote,a,b,c,d\nGenerated,a,b,c,d\n",  # footers
    ],
    ids=["trailing-delimiter", "wider-footer-lines"],
)
def test_the_header_is_the_first_line_when_widths_tie(tmp_path, content):
    from roistory.sources.sniff import sniff

    path = tmp_path / "spend.csv"
    path.write_text(content, encoding="utf-8")
    sniffed = sniff(path, {})
    assert sniffed.skip_lines == 0 and sniffed.header[:4] == ["date", "channel", "campaign", "cost"]


@pytest.mark.parametrize("title", ['"October 1, 2026 - October 31, 2026"\n\n', "October 1, 2026 - October 31, 2026\n"])
def test_title_lines_above_a_one_row_table_are_skipped(tmp_path, title):
    """As many title lines as table lines: the table's width is the widest of the tied ones."""
    content = "Campaign report\n" + title + "date,channel,campaign,cost\n2026-10-01,Email,News,5.5\n"
    name = write(tmp_path, "spend.csv", content)
    frame, _ = load(tmp_path, spend(name))
    assert len(frame) == 1


def test_footer_lines_are_skipped_and_counted(tmp_path):
    content = SPEND + '\n"Confidential Information - Do Not Distribute"\n"Generated By: Jane Doe"\n'
    name = write(tmp_path, "spend.csv", content)
    frame, loaded = load(tmp_path, spend(name))
    assert len(frame) == 2
    skipped = [f for f in loaded.findings if f.code == "lines_skipped"]
    assert skipped and skipped[0].count == 2


def test_a_row_with_too_many_fields_names_its_line(tmp_path):
    content = "date,channel,cost\n2026-10-01,Email,5\n2026-10-02,Email,6,7\n"
    name = write(tmp_path, "spend.csv", content)
    with pytest.raises(DataError, match=r"row 3.*3 fields|row 3.*4 fields") as info:
        load(tmp_path, spend(name))
    assert "spend.csv" in str(info.value)


def test_line_numbers_count_blank_lines_and_quoted_newlines(tmp_path):
    content = 'date,channel,campaign,cost\n2026-10-01,Email,"two\nlines",5\n\n2026-10-02,Email,x,oops\n'
    name = write(tmp_path, "spend.csv", content)
    with pytest.raises(DataError, match=r"row 5, column 'cost'.*oops"):
        load(tmp_path, spend(name))


def test_ids_keep_leading_zeros(tmp_path):
    content = "lead_id,created_at,person_id\n00123,2026-10-01,0042\n"
    name = write(tmp_path, "leads.csv", content)
    frame, _ = load(tmp_path, {"name": "leads", "type": "csv", "path": name, "table": "leads"})
    assert frame["lead_id"].iloc[0] == "00123" and frame["person_id"].iloc[0] == "0042"


def test_output_types_are_the_canonical_ones(tmp_path):
    name = write(tmp_path, "spend.csv", "date,channel,cost,campaign\n2026-10-01, Email ,5,\n")
    frame, _ = load(tmp_path, spend(name))
    assert frame["date"].dtype == "datetime64[ns]"
    assert frame["cost"].dtype == "float64"
    assert frame["channel"].dtype == "str" and frame["channel"].iloc[0] == "Email"
    assert frame["campaign"].isna().all()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["10/15/2026", "10/16/2026"], ["2026-10-15", "2026-10-16"]),
        (["15/10/2026", "16/10/2026"], ["2026-10-15", "2026-10-16"]),
        (["15.10.2026", "16.10.2026"], ["2026-10-15", "2026-10-16"]),
        (["Oct 15, 2026", "Oct 16, 2026"], ["2026-10-15", "2026-10-16"]),
        (["20261015", "20261016"], ["2026-10-15", "2026-10-16"]),
        (["Oct 15, 2026 10:00 am", "Oct 16, 2026 02:30 pm"], ["2026-10-15", "2026-10-16"]),
    ],
)
def test_date_formats_are_detected_per_column(tmp_path, values, expected):
    rows = "".join(f'"{v}",Email,1\n' for v in values)
    name = write(tmp_path, "spend.csv", "date,channel,cost\n" + rows)
    frame, _ = load(tmp_path, spend(name))
    assert [d.strftime("%Y-%m-%d") for d in frame["date"]] == expected


def test_ambiguous_day_month_needs_an_option(tmp_path):
    name = write(tmp_path, "spend.csv", "date,channel,cost\n01/10/2026,Email,1\n02/10/2026,Email,1\n")
    with pytest.raises(DataError, match=r"row 2, column 'date'.*day from month.*date_format"):
        load(tmp_path, spend(name))
    frame, _ = load(tmp_path, spend(name, options={"date_order": "dmy"}))
    assert frame["date"].iloc[0] == pd.Timestamp("2026-10-01")
    frame, _ = load(tmp_path, spend(name, options={"date_format": "%m/%d/%Y"}))
    assert frame["date"].iloc[0] == pd.Timestamp("2026-01-10")


def test_excel_named_sheet(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active["A1"] = "nothing here"
    sheet = book.create_sheet("Spend")
    sheet.append(["Spend report October"])
    sheet.append([])
    sheet.append(["Day", "Channel", "Cost"])
    import datetime as dt

    sheet.append([dt.datetime(2026, 10, 1), "Email", 5.5])
    sheet.append([dt.datetime(2026, 10, 2), "Paid Search", 1200])
    sheet.append(["Total", None, 1205.5])
    book.save(tmp_path / "spend.xlsx")
    source = {
        "name": "x",
        "type": "excel",
        "path": "spend.xlsx",
        "table": "spend",
        "columns": {"Day": "date", "Channel": "channel", "Cost": "cost"},
        "options": {"sheet": "Spend"},
    }
    frame, loaded = load(tmp_path, source)
    assert list(frame["cost"]) == [5.5, 1200.0]
    assert any(f.code == "totals_rows_dropped" for f in loaded.findings)
    with pytest.raises(DataError, match="has no sheet 'Costs' .*Notes, Spend"):
        load(tmp_path, {**source, "options": {"sheet": "Costs"}})


def test_parquet_reads_only_the_columns_it_needs(tmp_path):
    frame = pd.DataFrame(
        {
            "person_id": ["P1", "P2"],
            "timestamp": pd.to_datetime(["2026-10-01 10:00", "2026-10-02 11:00"]),
            "channel": ["Email", "Direct"],
            "payload": [b"\x00" * 10, b"\x01" * 10],
        }
    )
    frame.to_parquet(tmp_path / "t.parquet")
    out, _ = load(tmp_path, {"name": "t", "type": "parquet", "path": "t.parquet", "table": "touchpoints"})
    assert list(out.columns) == ["person_id", "timestamp", "channel"]
    assert out["timestamp"].dtype == "datetime64[ns]"


def test_parquet_streamed_in_chunks_gives_the_same_rows(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "date": pd.Timestamp("2026-10-01") + pd.to_timedelta(rng.integers(0, 30, 5000), unit="D"),
            "channel": rng.choice(["Email", "Direct"], 5000),
            "cost": rng.random(5000).round(2),
        }
    )
    frame.to_parquet(tmp_path / "s.parquet", row_group_size=700)
    whole, _ = load(tmp_path, {"name": "s", "type": "parquet", "path": "s.parquet", "table": "spend"})
    chunked, _ = load(
        tmp_path,
        {"name": "s", "type": "parquet", "path": "s.parquet", "table": "spend", "options": {"chunk_rows": 1000}},
    )
    pd.testing.assert_frame_equal(whole, chunked)


def test_csv_streamed_in_chunks_gives_the_same_rows(tmp_path, monkeypatch):
    from roistory.sources import csv_reader

    lines = ["date,channel,cost"] + [f"2026-10-{1 + i % 28:02d},Email,{i % 97}.5" for i in range(20_000)]
    lines[5000] = lines[4999]  # a duplicate row across the chunk boundary is still found
    name = write(tmp_path, "spend.csv", "\n".join(lines) + "\n")
    whole, whole_loaded = load(tmp_path, spend(name))
    monkeypatch.setattr(csv_reader, "STREAM_ABOVE_BYTES", 1)
    chunked, loaded = load(tmp_path, spend(name, options={"chunk_mb": 0.05}))
    pd.testing.assert_frame_equal(whole, chunked)
    assert [f.count for f in loaded.findings if f.code == "duplicate_rows"] == [
        f.count for f in whole_loaded.findings if f.code == "duplicate_rows"
    ]


def test_normalise_table_keeps_its_signature_for_plugins(tmp_path):
    """Plugins and tests call normalise_table on a frame they built themselves."""
    from roistory.config import SourceConfig

    raw = pd.DataFrame({"Day": ["2026-10-01"], "Cost": [5]}, index=pd.RangeIndex(2, 3))
    source = SourceConfig(
        name="x", type="csv", table="spend", columns={"Day": "date", "Cost": "cost"}, values={"channel": "Email"}
    )
    frame = normalise_table(raw, source, file="x.csv")
    assert set(frame.columns) == {"date", "cost", "channel"}
    assert set(frame.columns) <= set(TABLE_COLUMNS["spend"])


def test_decimal_option_forces_the_style(tmp_path):
    """'1,234' alone could be either; options.decimal says which."""
    name = write(tmp_path, "spend.csv", 'date,channel,cost\n2026-10-01,Email,"1,234"\n2026-10-02,Email,"2,5"\n')
    with pytest.raises(DataError, match=r"row 3, column 'cost': cannot read '2,5'"):
        load(tmp_path, spend(name, options={"decimal": "."}))
    frame, _ = load(tmp_path, spend(name, options={"decimal": ","}))
    assert list(frame["cost"]) == [1.234, 2.5]


def test_timestamps_with_different_utc_offsets_are_the_same_instants_in_utc(tmp_path):
    content = (
        "person_id,timestamp,channel\n"
        "P1,2026-10-01T12:00:00+02:00,Email\n"
        "P1,2026-10-01T10:00:00Z,Email\n"
        "P1,2026-10-01T05:00:00-05:00,Email\n"
    )
    name = write(tmp_path, "touchpoints.csv", content)
    frame, _ = load(tmp_path, {"name": "t", "type": "csv", "path": name, "table": "touchpoints"})
    assert frame["timestamp"].nunique() == 1  # one instant: 10:00 UTC, written three ways
    assert frame["timestamp"].iloc[0] == pd.Timestamp("2026-10-01T10:00:00")  # the report's zone, UTC


def test_timestamps_with_and_without_a_zone_name_the_first_that_differs(tmp_path):
    content = (
        "person_id,timestamp,channel\n"
        "P1,2026-10-01T12:00:00+02:00,Email\n"
        "P1,2026-10-01T10:00:00Z,Email\n"
        "P1,2026-10-02T09:00:00,Email\n"
    )
    name = write(tmp_path, "touchpoints.csv", content)
    with pytest.raises(DataError, match=r"row 4, column 'timestamp': '2026-10-02T09:00:00' has no time zone, unlike "):
        load(tmp_path, {"name": "t", "type": "csv", "path": name, "table": "touchpoints"})


@pytest.mark.parametrize("row", ["2026-10-01,Paid Search,5", '2026-10-01,Paid Search,"A,5'], ids=["short", "quote"])
def test_a_first_data_row_short_of_fields_is_named_not_taken_for_the_header(tmp_path, row):
    name = write(tmp_path, "spend.csv", f"date,channel,campaign,cost\n{row}\n")
    with pytest.raises(DataError, match=r"row 2: has 3 fields where the header has 4"):
        load(tmp_path, spend(name))
