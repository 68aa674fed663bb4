"""Currency conversion (roistory.sources.fx): every money column in the report currency; mixing
currencies without a rate is an error, never a silent sum."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from roistory.config import config_from_dict
from roistory.errors import ConfigError, DataError
from roistory.plugin_manager import build_registry
from roistory.source_settings import FxConfig
from roistory.sources import load_sources
from roistory.sources.fx import convert_frame, read_rate_table

SPEND = "date,channel,cost,currency\n2026-09-30,Email,100,EUR\n2026-10-01,Email,100,EUR\n2026-10-02,Email,50,USD\n2026-10-03,Email,10,GBP\n"  # noqa: E501 (data as exported)


def load(tmp_path: Path, fx: dict | None, content: str = SPEND, currency: str = "USD"):
    (tmp_path / "spend.csv").write_text(content)
    config = config_from_dict(
        {
            "report": {"period": "2026-10", "currency": currency},
            "sources": [{"name": "s", "type": "csv", "path": "spend.csv", "table": "spend"}],
        },
        path=tmp_path / "report.yaml",
    )
    if fx is not None:
        config = config.model_copy(update={"fx": FxConfig.model_validate(fx)})  # until Config has the field
    tables, inputs = load_sources(config, build_registry().sources)
    return tables["spend"], inputs[0]


def test_fixed_rates(tmp_path):
    frame, loaded = load(tmp_path, {"rates": {"EUR": 1.1, "GBP": 1.25}})
    assert list(frame["cost"]) == [pytest.approx(110.0), pytest.approx(110.0), 50.0, 12.5]
    assert set(frame["currency"]) == {"USD"}
    finding = next(f for f in loaded.findings if f.code == "currency_converted")
    assert finding.count == 3 and "2 in EUR, 1 in GBP" in finding.message


def test_rate_table_uses_the_latest_rate_on_or_before_each_date(tmp_path):
    (tmp_path / "rates.csv").write_text(
        "date,currency,rate\n2026-09-01,EUR,1.05\n2026-10-01,EUR,1.10\n2026-09-01,GBP,1.20\n"
    )
    frame, _ = load(tmp_path, {"path": "rates.csv"})
    assert list(frame["cost"]) == [pytest.approx(105.0), pytest.approx(110.0), 50.0, pytest.approx(12.0)]


def test_fixed_rates_fill_in_where_the_table_has_none(tmp_path):
    (tmp_path / "rates.csv").write_text("date,currency,rate\n2026-10-01,EUR,1.10\n")
    frame, _ = load(tmp_path, {"path": "rates.csv", "rates": {"EUR": 1.0, "GBP": 1.25}})
    # 30 Sep has no table rate yet: the fixed rate applies
    assert list(frame["cost"]) == [pytest.approx(100.0), pytest.approx(110.0), 50.0, 12.5]


def test_mixing_currencies_without_a_rate_is_an_error(tmp_path):
    with pytest.raises(DataError, match=r"spend.csv, row 2, column 'currency': amount in EUR but no EUR→USD rate"):
        load(tmp_path, None)
    with pytest.raises(DataError, match=r"row 5, column 'currency': amount in GBP"):
        load(tmp_path, {"rates": {"EUR": 1.1}})


def test_one_currency_needs_no_rate(tmp_path):
    frame, loaded = load(
        tmp_path, None, content="date,channel,cost,currency\n2026-10-01,Email,100,eur \n", currency="EUR"
    )
    assert frame["cost"].iloc[0] == 100.0 and frame["currency"].iloc[0] == "EUR"
    assert not any(f.code == "currency_converted" for f in loaded.findings)


def test_rates_are_validated():
    with pytest.raises(ValidationError, match="ISO 4217"):
        FxConfig(rates={"euro": 1.1})
    with pytest.raises(ValidationError, match="positive"):
        FxConfig(rates={"EUR": 0})


# ---------------------------------------------------------------- the rate table at its edges (mutation testing)


def rates_file(tmp_path: Path, text: str, name: str = "rates.csv") -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path / name


def test_a_rate_table_sorted_by_currency_and_date_with_decimal_commas(tmp_path):
    """A semicolon table written out of order, rates with decimal commas, lower-case codes."""
    path = rates_file(tmp_path, "Date;Currency;Rate\n2026-10-01;eur;1,10\n2026-09-01;EUR;1,05\n2026-09-01;gbp; 1,2 \n")
    table = read_rate_table(path)
    assert table.to_dict("list") == {
        "date": [pd.Timestamp("2026-09-01"), pd.Timestamp("2026-10-01"), pd.Timestamp("2026-09-01")],
        "currency": ["EUR", "EUR", "GBP"],
        "rate": [1.05, 1.10, 1.2],
    }
    assert list(table.index) == [0, 1, 2]


def test_a_parquet_rate_table_counts_rows_from_one(tmp_path):
    path = tmp_path / "rates.parquet"
    pd.DataFrame({"date": ["2026-09-01", "2026-10-01"], "currency": ["EUR", "EUR"], "rate": ["1.05", "0"]}).to_parquet(
        path
    )
    with pytest.raises(DataError, match=r"rates.parquet, row 2, column 'rate': '0' is not a positive rate"):
        read_rate_table(path)
    pd.DataFrame({"date": ["2026-09-01"], "currency": ["EUR"], "rate": [1.05]}).to_parquet(path)
    frame, _ = load(tmp_path, {"path": "rates.parquet", "rates": {"GBP": 1.25}})
    assert list(frame["cost"]) == [pytest.approx(105.0), pytest.approx(105.0), 50.0, 12.5]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        # rows are numbered as in a spreadsheet: the header is row 1
        ("2026-09-01,EUR,1.05\n2026-10-01,EUR,-1\n", r"row 3, column 'rate': '-1' is not a positive rate"),
        ("2026-09-01,EUR,0\n", r"row 2, column 'rate': '0' is not a positive rate"),
        ("2026-09-01,EUR,0.5\n2026-10-01,EUR,NA\n", r"row 3, column 'rate': 'NA' is not a positive rate"),
        ("2026-09-01,EUR,1.05\n2026-10-01,EUR,\n", r"row 3, column 'rate': 'nan' is not a positive rate"),
        ("2026-09-01,EUR,1.05\n01/10/2026,EUR,1.1\n", r"row 3, column 'date': cannot read '01/10/2026' as an ISO date"),
    ],
)
def test_a_bad_rate_table_row_is_named(tmp_path, rows, message):
    path = rates_file(tmp_path, "date,currency,rate\n" + rows)
    with pytest.raises(DataError, match=message):
        read_rate_table(path)


def test_a_rate_below_one_is_a_rate(tmp_path):
    """Rates below 1 are ordinary (1 JPY buys 0.0067 USD); only zero and negatives are refused."""
    path = rates_file(tmp_path, "date,currency,rate\n2026-09-01,EUR,0.5\n")
    assert read_rate_table(path)["rate"].tolist() == [0.5]


def test_a_rate_table_without_a_column_names_it(tmp_path):
    path = rates_file(tmp_path, "date,currency,value\n2026-09-01,EUR,1.05\n")
    with pytest.raises(
        DataError, match=r"column 'rate': the currency table needs columns date, currency, rate; 'rate' is missing"
    ):
        read_rate_table(path)


def test_a_missing_rate_table_names_the_key(tmp_path):
    with pytest.raises(ConfigError) as error:
        read_rate_table(tmp_path / "nowhere.csv")
    assert str(error.value) == f"{tmp_path / 'nowhere.csv'}: fx.path: file not found"


def test_a_rewritten_rate_table_is_read_again(tmp_path):
    path = rates_file(tmp_path, "date,currency,rate\n2026-09-01,EUR,1.05\n")
    assert read_rate_table(path)["rate"].tolist() == [1.05]
    path.write_text("date,currency,rate\n2026-09-01,EUR,1.07\n2026-09-02,EUR,1.08\n", encoding="utf-8")
    assert read_rate_table(path)["rate"].tolist() == [1.07, 1.08]


def test_rows_without_a_currency_stay_in_the_report_currency(tmp_path):
    frame, loaded = load(
        tmp_path,
        {"rates": {"EUR": 1.1}},
        content="date,channel,cost,currency\n2026-10-01,Email,100,EUR\n2026-10-02,Email,50,\n",
    )
    assert list(frame["cost"]) == [pytest.approx(110.0), 50.0]
    assert frame["currency"].iloc[0] == "USD" and pd.isna(frame["currency"].iloc[1])
    assert [f.count for f in loaded.findings if f.code == "currency_converted"] == [1]


def test_a_source_entirely_in_another_currency_is_converted(tmp_path):
    frame, loaded = load(
        tmp_path,
        {"rates": {"EUR": 1.1}},
        content="date,channel,cost,currency\n2026-10-01,Email,100,EUR\n2026-10-02,Email,50,eur\n",
    )
    assert list(frame["cost"]) == [pytest.approx(110.0), pytest.approx(55.0)] and set(frame["currency"]) == {"USD"}
    assert [f.count for f in loaded.findings if f.code == "currency_converted"] == [2]


def test_a_frame_without_currency_or_money_is_left_alone(tmp_path):
    source = {"name": "s", "type": "csv", "path": "spend.csv", "table": "spend"}
    config = config_from_dict(
        {"report": {"period": "2026-10", "currency": "USD"}, "sources": [source]}, path=tmp_path / "report.yaml"
    )
    no_currency = pd.DataFrame({"date": pd.to_datetime(["2026-10-01"]), "cost": [100.0]})
    assert convert_frame(no_currency, "spend", config, file="spend.csv") == (no_currency, [])
    no_money = pd.DataFrame({"date": pd.to_datetime(["2026-10-01"]), "clicks": [3.0], "currency": ["EUR"]})
    assert convert_frame(no_money, "spend", config, file="spend.csv") == (no_money, [])


@pytest.mark.parametrize(
    ("fx", "message"),
    [
        # the table has EUR from 1 October only: the 30 September row has no rate yet
        (
            {"path": "rates.csv", "rates": {"GBP": 1.25}},
            r"row 2, column 'currency': amount in EUR but no EUR→USD rate on or before 2026-09-30 \(1 row\);",
        ),
        # no GBP anywhere: both GBP rows are counted, the first is named
        (
            {"rates": {"EUR": 1.1}},
            r"row 5, column 'currency': amount in GBP but no GBP→USD rate \(2 rows\); add fx.rates.GBP",
        ),
    ],
)
def test_a_missing_rate_names_the_first_row_the_date_and_the_count(tmp_path, fx, message):
    (tmp_path / "rates.csv").write_text("date,currency,rate\n2026-10-01,EUR,1.10\n", encoding="utf-8")
    with pytest.raises(DataError, match=message):
        load(tmp_path, fx, content=SPEND + "2026-10-04,Email,20,GBP\n")
