"""Currency conversion (roistory.sources.fx): every money column in the report currency; mixing
currencies without a rate is an error, never a silent sum."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from roistory.config import config_from_dict
from roistory.errors import DataError
from roistory.plugin_manager import build_registry
from roistory.source_settings import FxConfig
from roistory.sources import load_sources

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
