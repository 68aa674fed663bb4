"""``extends:``: agency → client → report settings, merged by the rules in docs/agencies.md."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from roistory.config import explain_config, load_config
from roistory.errors import ConfigError


def write_yaml(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def chain(tmp_path: Path, cli) -> dict[str, Path]:
    """agency.yaml ← clients/acme/client.yaml ← clients/acme/q4/report.yaml, with the tiny data
    of the CLI tests in the agency's folder (so its source paths are relative to agency.yaml)."""
    cli.write_project(tmp_path / "agency")  # data/*.csv (and a report.yaml we do not use)
    agency = write_yaml(
        tmp_path / "agency" / "agency.yaml",
        {
            "report": {
                "title": "Agency default",
                "period": "2026-10",
                "currency": "EUR",
                "compare": ["previous"],
                "formats": ["json", "html"],
            },
            "sources": [
                {"name": n, "type": "csv", "path": f"data/{n}.csv", "table": n}
                for n in ("spend", "touchpoints", "conversions", "leads")
            ],
            "attribution": {"models": ["first_touch", "linear"], "primary": "linear", "lookback_days": 60},
            "goals": [
                {"id": "sqls", "metric": "sqls", "target": 10, "owner": "Agency", "deadline": "2026-12-31"},
                {"id": "leads", "metric": "leads", "target": 5, "deadline": "2026-12-31", "owner": "Agency"},
            ],
            "custom_metrics": [{"id": "rev_per_spend", "formula": "revenue / spend"}],
            "sections": ["summary", "kpis", "goals"],
            "delivery": [{"type": "folder", "name": "archive", "path": "archive"}],
        },
    )
    client = write_yaml(
        tmp_path / "agency" / "clients" / "acme" / "client.yaml",
        {
            "extends": "../../agency.yaml",
            "report": {"client": "acme", "currency": "USD"},
            "sources": [{"name": "leads", "path": "../../data/leads.csv", "columns": {}}],
            "goals": [{"id": "sqls", "target": 20}],
            "attribution": {"models": ["last_touch", "linear"]},
            "delivery": [
                {"type": "smtp", "host": "smtp.example.com", "from": "r@agency.example", "to": ["cfo@acme.example"]}
            ],
        },
    )
    report = write_yaml(
        tmp_path / "agency" / "clients" / "acme" / "q4" / "report.yaml",
        {
            "extends": "../client.yaml",
            "report": {"title": "Acme Q4", "formats": ["json"]},
            "custom_metrics": [
                {"id": "rev_per_spend", "label": "Revenue per $"},
                {"id": "cost_per_lead", "formula": "spend / leads"},
            ],
        },
    )
    return {"agency": agency, "client": client, "report": report, "root": tmp_path / "agency"}


def test_nearest_setting_wins_and_maps_merge_key_by_key(chain):
    config = load_config(chain["report"])
    assert config.report.title == "Acme Q4"  # the report itself
    assert config.report.currency == "USD"  # the client over the agency
    assert config.report.client == "acme"
    assert config.report.period == "2026-10" and config.report.compare == ["previous"]  # agency
    # attribution is a map: the client's models, the agency's primary and lookback
    assert config.attribution.models == ["last_touch", "linear"]
    assert config.attribution.primary == "linear" and config.attribution.lookback_days == 60


def test_other_lists_are_replaced_whole(chain):
    config = load_config(chain["report"])
    assert config.report.formats == ["json"]  # not json + html
    assert config.sections == ["summary", "kpis", "goals"]  # only the agency set it


def test_goals_merge_by_id(chain):
    goals = {g.id: g for g in load_config(chain["report"]).goals}
    assert list(goals) == ["sqls", "leads"]
    assert goals["sqls"].target == 20 and goals["sqls"].owner == "Agency" and goals["sqls"].metric == "sqls"
    assert goals["leads"].target == 5


def test_custom_metrics_merge_by_id_and_new_ones_are_appended(chain):
    metrics = load_config(chain["report"]).custom_metrics
    assert [(m.id, m.label, m.formula) for m in metrics] == [
        ("rev_per_spend", "Revenue per $", "revenue / spend"),
        ("cost_per_lead", None, "spend / leads"),
    ]


def test_sources_merge_by_name_and_paths_resolve_against_the_file_that_set_them(chain):
    config = load_config(chain["report"])
    by_name = {s.name: s for s in config.sources}
    assert list(by_name) == ["spend", "touchpoints", "conversions", "leads"]
    data = chain["root"] / "data"
    for name in ("spend", "touchpoints", "conversions"):  # set in agency.yaml: relative to it
        assert config.resolve(by_name[name].path) == (data / f"{name}.csv").resolve()
    # leads: the client's own path (relative to client.yaml), the agency's type and table
    assert config.resolve(by_name["leads"].path) == (data / "leads.csv").resolve()
    assert by_name["leads"].type == "csv" and by_name["leads"].table == "leads"


def test_deliveries_merge_by_name_else_type(chain):
    delivery = load_config(chain["report"]).delivery
    assert [(d.key, d.type) for d in delivery] == [("archive", "folder"), ("smtp", "smtp")]
    archive = delivery[0].model_extra["path"]
    assert (chain["report"].parent / archive).resolve() == (chain["root"] / "archive").resolve()


def test_the_cascaded_report_reads_the_agencys_data(chain, cli, tmp_path):
    result = cli.run("run", chain["report"], "--out", tmp_path / "out", cwd=tmp_path)
    assert result.code == 0, result.output
    report = json.loads((tmp_path / "out" / "acme-2026-10.json").read_text())
    spend = pd.read_csv(chain["root"] / "data" / "spend.csv", parse_dates=["date"])
    october = spend[spend["date"].dt.month == 10]["cost"].sum()
    metrics = {m["id"]: m["value"] for m in report["metrics"] if m["period"] == "current" and not m["segment"]}
    assert metrics["spend"] == pytest.approx(october)
    assert report["report"]["currency"] == "USD" and report["report"]["title"] == "Acme Q4"
    assert metrics["cost_per_lead"] == pytest.approx(october / 3)  # three leads created in October


def test_config_command_names_the_file_behind_each_value(chain, cli, tmp_path):
    result = cli.run("config", chain["report"], "--json", cwd=tmp_path)
    assert result.code == 0, result.output
    shown = json.loads(result.stdout)
    assert [Path(f).resolve() for f in shown["files"]] == [
        chain["report"].resolve(),
        chain["client"].resolve(),
        chain["agency"].resolve(),
    ]
    origin = {v["key"]: (v["value"], v["from"] and Path(v["from"]).resolve()) for v in shown["values"]}
    assert origin["report.title"] == ("Acme Q4", chain["report"].resolve())
    assert origin["report.currency"] == ("USD", chain["client"].resolve())
    assert origin["report.period"] == ("2026-10", chain["agency"].resolve())
    assert origin["report.margin"] == (1.0, None)  # a default
    assert origin["goals[sqls].target"] == (20, chain["client"].resolve())
    assert origin["goals[sqls].owner"] == ("Agency", chain["agency"].resolve())
    assert origin["sources[leads].path"][1] == chain["client"].resolve()
    assert origin["sources[spend].path"][1] == chain["agency"].resolve()

    text = cli.run("config", chain["report"], cwd=tmp_path).stdout
    line = next(line for line in text.splitlines() if line.startswith("report.currency:"))
    assert '"USD"' in line and line.endswith(str(chain["client"]))


def test_explain_config_lists_every_effective_value(chain):
    files, rows = explain_config(chain["report"])
    keys = [key for key, _, _ in rows]
    assert "report.timezone" in keys and "attribution.dormancy_days" in keys
    assert len(files) == 3


def test_an_extends_loop_is_bad_input_naming_the_files(tmp_path, cli):
    a = write_yaml(tmp_path / "a" / "report.yaml", {"extends": "../b/base.yaml", "report": {"period": "2026-10"}})
    write_yaml(tmp_path / "b" / "base.yaml", {"extends": "../a/report.yaml"})
    result = cli.run("run", a, "--out", tmp_path / "out", cwd=tmp_path)
    line = cli.assert_rejected(result, tmp_path / "out", "extends loop", "a/report.yaml", "b/base.yaml")
    assert line.count("a/report.yaml") == 2  # where the loop closes
    with pytest.raises(ConfigError, match="extends loop"):
        load_config(a)


def test_extending_a_missing_file_is_bad_input(tmp_path, cli):
    config = write_yaml(tmp_path / "report.yaml", {"extends": "agency.yaml", "report": {"period": "2026-10"}})
    result = cli.run("validate", config, cwd=tmp_path)
    cli.assert_rejected(result, None, "report.yaml: extends: 'agency.yaml' not found")


def test_an_error_names_the_file_that_set_the_bad_value(chain, cli, tmp_path):
    data = yaml.safe_load(chain["agency"].read_text())
    data["report"]["currency"] = "euros"
    data["report"]["client"] = "x"
    write_yaml(chain["agency"], data)
    chain["client"].write_text(chain["client"].read_text().replace("currency: USD", "title: Client"))
    result = cli.run("validate", chain["report"], cwd=tmp_path)
    cli.assert_rejected(result, None, f"{chain['agency']}", "report.currency", "'euros'")
