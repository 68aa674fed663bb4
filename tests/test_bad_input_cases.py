"""The bad-input suite (issue 14): config, YAML, brand, data and command-line cases, each
exiting 2 with ONE stderr line that names the culprit (file, key, row, column), nothing on
stdout, no report in --out and no process left behind.

The cases run ``roistory`` in this process (``roistory.cli.main`` with its own argv,
stdout and stderr), so the suite takes seconds; tests/test_bad_input.py runs its cases as
a real child process, and the few cases below that need one say so. Every case breaks ONE
thing of the project in tests/conftest.py, which itself renders (the first test).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from roistory import cli as cli_module
from roistory import pdf_worker

GOAL = {
    "id": "g1",
    "objective": "More SQLs",
    "metric": "sqls",
    "baseline": 10,
    "target": 40,
    "deadline": "2026-12-31",
    "owner": "Demand gen",
}
SPEND = "date,channel,campaign,cost,impressions,clicks\n"
CONVERSIONS = "person_id,timestamp,revenue\n"
TOUCHPOINTS = "person_id,timestamp,channel,campaign\n"
LEADS = "lead_id,created_at,person_id,source_channel,mql_at,sql_at\n"


@dataclass(frozen=True)
class Case:
    """One broken thing: ``edit`` changes the config mapping, ``files`` replace project files
    (None removes one), ``args`` follow ``run CONFIG --out OUT``; ``expect`` are the fragments
    the error line must hold (besides the file, checked by each group)."""

    id: str
    expect: tuple[str, ...]
    edit: Callable[[dict[str, Any]], None] | None = None
    files: dict[str, str | bytes | None] = field(default_factory=dict)
    config_text: str | None = None
    args: tuple[str, ...] = ()
    command: str = "run"
    raw_args: bool = False  # args are the whole command line (CONFIG: the config's path)

    def __str__(self) -> str:
        return self.id


def setting(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """An edit setting one key: ``report.currency``, ``sources[0].options.delimiter`` ..."""

    def edit(config: dict[str, Any]) -> None:
        node: Any = config
        parts = path.replace("[", ".").replace("]", "").split(".")
        for part in parts[:-1]:
            key: Any = int(part) if part.isdigit() else part
            if isinstance(node, dict):
                node = node.setdefault(key, {})
            else:
                node = node[key]
        last = parts[-1]
        node[int(last) if last.isdigit() else last] = value

    return edit


def goals(*entries: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def edit(config: dict[str, Any]) -> None:
        config["goals"] = [{**GOAL, **entry} for entry in entries]

    return edit


def key(path: str, value: Any, *expect: str, id: str | None = None) -> Case:
    return Case(id or f"{path}={value!r}"[:60], (path, *expect), edit=setting(path, value))


# ---------------------------------------------------------------- in-process runner


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def child_processes() -> set[int]:
    """Live processes whose parent is this one (read from /proc)."""
    me, children = os.getpid(), set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == me and fields[0] != "Z":
                children.add(int(entry.name))
    return children


def run_inprocess(*args: str | Path, cwd: Path) -> Result:
    """``roistory ARGS`` as the console script runs it (roistory.cli.main), in this process."""
    out, err = io.StringIO(), io.StringIO()
    previous_dir, previous_argv = os.getcwd(), sys.argv
    os.chdir(cwd)
    sys.argv = ["roistory", *map(str, args)]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                cli_module.main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        os.chdir(previous_dir)
        sys.argv = previous_argv
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def project(cli, tmp_path, monkeypatch):
    """Writes the case's project, runs it, checks the common promises; returns the error line."""
    # the PDF worker is started ahead for `run`; these reports are JSON only, and a worker
    # started in the test process would outlive the case (the subprocess tests cover it)
    monkeypatch.setattr(pdf_worker, "prestart", lambda: None)

    def check(case: Case, *where: str) -> str:
        config = cli.default_config()
        if case.edit:
            case.edit(config)
        config_path = cli.write_project(tmp_path / "proj", config, files=case.files, config_text=case.config_text)
        out = tmp_path / "out"
        before = child_processes()
        if not case.raw_args:
            args: tuple[Any, ...] = ("run", config_path, "--out", out, *case.args)
        else:
            args = (case.command, *[str(a).replace("CONFIG", str(config_path)) for a in case.args])
        result = run_inprocess(*args, cwd=tmp_path)
        line = cli.assert_rejected(result, out, *where, *case.expect)
        assert child_processes() <= before, "a process started by the run is still alive"
        return line

    return check


def test_the_unbroken_project_renders_in_process(cli, tmp_path, monkeypatch):
    """The baseline every case breaks one thing of (in this process, as the cases run)."""
    monkeypatch.setattr(pdf_worker, "prestart", lambda: None)
    config_path = cli.write_project(tmp_path / "proj")
    result = run_inprocess("run", config_path, "--out", tmp_path / "out", cwd=tmp_path)
    assert result.code == 0, result.output
    assert len(cli.files_under(tmp_path / "out")) == 2


# ---------------------------------------------------------------- report.yaml values

CONFIG_CASES = [
    # currencies: ISO 4217 codes Babel knows, nothing else
    *(
        key("report.currency", v, repr(v) if not isinstance(v, str) else f"'{v}'")
        for v in ("XYZ", "usd", "US", "EURO", "")
    ),
    key("report.currency", 840, "currency"),
    key("fx.rates", {"XYZ": 1.1}, "'XYZ'"),
    key("fx.rates", {"eur": 1.1}, "'eur'"),
    key("fx.rates", {"EUR": 0}, "EUR", id="fx-rate-zero"),
    key("fx.rates", {"EUR": -1.08}, "EUR", id="fx-rate-negative"),
    key("fx.rates", {"EUR": 1e12}, "EUR", id="fx-rate-huge"),
    key("fx.rates", {"EUR": float("inf")}, "EUR", id="fx-rate-inf"),
    key("fx.rates", {"EUR": float("nan")}, "EUR", id="fx-rate-nan"),
    key("fx.path", "data/rates.csv", "data/rates.csv", "not found", id="fx-file-missing"),
    key("fx.path", "data", "not found", id="fx-path-is-a-folder"),
    # other report settings
    key("report.locale", "xx_YY", "xx_YY"),
    key("report.timezone", "Mars/Olympus_Mons", "Mars/Olympus_Mons"),
    key("report.margin", 0, "greater than 0"),
    key("report.margin", -0.5, "greater than 0"),
    key("report.margin", 11, "less than or equal to 10"),
    key("report.margin", "high", "number"),
    key("report.margin", float("nan"), "margin", id="report.margin=nan"),
    key("report.margin", float("inf"), "margin", id="report.margin=inf"),
    key("report.time_limit", 0, "greater than or equal to 1"),
    key("report.time_limit", 10**9, "less than or equal to 86400"),
    key("report.compare", ["yesterday"], "yesterday", id="report.compare-unknown"),
    key("report.formats", ["docx"], "docx", id="report.formats-unknown"),
    key("report.page_size", "A3", "A3"),
    key("report.title", ["a", "b"], "string", id="report.title-a-list"),
    # periods: forms, and dates a table can hold (1677-09-22..2262-04-11) with their comparisons
    key("report.period", "2026-13", "2026-13"),
    key("report.period", "2026-02-30..2026-03-31", "2026-02-30"),
    key("report.period", "last month", "last month"),
    key("report.period", "", "is not a period", id="report.period-empty"),
    key("report.period", "0001-01-01..9999-12-31", "outside the supported dates 1677-09-22..2262-04-11"),
    key("report.period", "9999", "'9999'"),
    key("report.period", "1600-Q1", "outside the supported dates"),
    key("report.period", "2262-05", "outside the supported dates"),
    key("report.period", "1677-10", "too early", "1677-09-22"),
    key("report.period", "1678-01-01..2262-01-01", "too early", "previous"),
    # sources
    key("sources", [], "sources", "at least 1", id="sources-empty"),
    key("sources[0].table", "sales", "sales"),
    key("sources[0].name", None, "string", id="sources[0].name-null"),
    key("sources[0].colums", {"Day": "date"}, "unknown key"),
    # reader options: checked before any file is opened
    key("sources[0].options.delimiter", "::", "'::'"),
    key("sources[0].options.delimiter", "", "one character", id="delimiter-empty"),
    key("sources[0].options.delimiter", ",,", "',,'"),
    key("sources[0].options.delimiter", 5, "5"),
    key("sources[0].options.delimiter", "\n", "one character", id="delimiter-newline"),
    key("sources[0].options.delimiter", '"', "one character", id="delimiter-quote"),
    key("sources[0].options.decimal", "x", "'x'"),
    key("sources[0].options.decimal", ",,", "',,'"),
    key("sources[0].options.decimal", "", "must be '.' or ','", id="decimal-empty"),
    key("sources[0].options.decimal", 1, "must be '.' or ','"),
    key("sources[0].options.thousands", "x", "'x'"),
    key("sources[0].options.thousands", "..", "'..'"),
    Case(
        "thousands-same-as-decimal",
        ("sources[0].options.thousands", "differ from the decimal mark"),
        edit=setting("sources[0].options", {"decimal": ",", "thousands": ","}),
    ),
    key("sources[0].options.date_format", "%Q/%Z", "%Q/%Z"),
    key("sources[0].options.date_format", "%d/%m", "year"),
    key("sources[0].options.date_format", "%Y-%m", "day"),
    key("sources[0].options.date_format", "YYYY-MM-DD", "year, month, day"),
    key("sources[0].options.date_format", "", "strptime format", id="date_format-empty"),
    key("sources[0].options.date_format", 20261015, "strptime format"),
    key("sources[0].options.date_format", "%d/%d/%Y", "month"),
    key("sources[0].options.date_order", "ymd", "'ymd'"),
    key("sources[0].options.skiprows", -1, "-1"),
    key("sources[0].options.skiprows", "two", "'two'"),
    key("sources[0].options.skiprows", 10**9, "1000000000"),
    # attribution windows and model parameters
    key("attribution.lookback_days", 0, "greater than 0"),
    key("attribution.lookback_days", -90, "greater than 0"),
    key("attribution.lookback_days", 10**12, "less than or equal to 3660"),
    key("attribution.lookback_days", 3661, "less than or equal to 3660"),
    key("attribution.lookback_days", "ninety", "integer"),
    key("attribution.dormancy_days", 0, "greater than 0"),
    key("attribution.dormancy_days", 10**12, "less than or equal to 3660"),
    Case(
        "shapley-samples-10**12",
        ("attribution.params.shapley", "samples", "1000000"),
        edit=setting("attribution", {"models": ["shapley"], "params": {"shapley": {"samples": 10**12}}}),
    ),
    Case(
        "shapley-samples-0",
        ("attribution.params.shapley", "samples"),
        edit=setting("attribution", {"models": ["shapley"], "params": {"shapley": {"samples": 0}}}),
    ),
    Case(
        "shapley-max-exact-size-99",
        ("attribution.params.shapley", "max_exact_size", "99"),
        edit=setting("attribution", {"models": ["shapley"], "params": {"shapley": {"max_exact_size": 99}}}),
    ),
    Case(
        "shapley-seed-negative",
        ("attribution.params.shapley", "seed"),
        edit=setting("attribution", {"models": ["shapley"], "params": {"shapley": {"seed": -1}}}),
    ),
    key("attribution.primary", "lienar", "lienar"),
    key("engine.backend", "gpu", "gpu"),
    # goals: ids once each, positive finite targets
    Case("goal-negative-target", ("goals[0].target", "positive"), edit=goals({"target": -5})),
    Case("goal-zero-target", ("goals[0].target", "positive"), edit=goals({"target": 0})),
    Case("goal-infinite-target", ("goals[0].target", "positive"), edit=goals({"target": float("inf")})),
    Case("goal-negative-text-target", ("goals[0].target", "positive"), edit=goals({"target": "-40"})),
    Case(
        "goal-negative-percent-target",
        ("goals[0].target", "positive"),
        edit=goals({"metric": "conversion_rate", "target": "-5%"}),
    ),
    Case("goal-duplicate-id", ("goals[1].id", "'g1'", "goals[0]"), edit=goals({}, {"target": 50})),
    Case("goal-infinite-baseline", ("goals[0].baseline", "finite"), edit=goals({"baseline": float("inf")})),
    Case("goal-target-not-a-number", ("goals[0].target", "'lots'"), edit=goals({"target": "lots"})),
    # custom metric formulas
    Case(
        "formula-number-overflows",
        ("custom_metrics", "1e999", "out of range"),
        edit=setting("custom_metrics", [{"id": "big", "formula": "1e999*spend"}]),
    ),
    Case(
        "formula-20000-terms",
        ("custom_metrics", "longer than 2000 characters"),
        edit=setting("custom_metrics", [{"id": "long", "formula": "+".join(["spend"] * 20_000)}]),
    ),
    Case(
        "formula-power",
        ("custom_metrics", "not allowed"),
        edit=setting("custom_metrics", [{"id": "power", "formula": "spend ** 99"}]),
    ),
    Case(
        "formula-call",
        ("custom_metrics", "function call"),
        edit=setting("custom_metrics", [{"id": "call", "formula": "__import__('os').getcwd()"}]),
    ),
    Case(
        "formula-bad-id",
        ("custom_metrics[0].id", "pattern"),
        edit=setting("custom_metrics", [{"id": "Bad-Id", "formula": "spend"}]),
    ),
    # the rest of the file
    key(
        "delivery",
        [{"type": "folder", "path": "sent", "to": ["not-an-address"]}],
        "not-an-address",
        id="delivery-bad-address",
    ),
    key("history", {"path": "report.yaml"}, "history.path", id="history-at-the-config"),
    key("extends", "agency.yaml", "agency.yaml", id="extends-missing-file"),
]


@pytest.mark.parametrize("case", CONFIG_CASES, ids=str)
def test_config_value(project, case):
    project(case, "report.yaml")


# ---------------------------------------------------------------- report.yaml as YAML


def yaml_case(id: str, text: str, *expect: str) -> Case:
    return Case(id, expect, config_text=text)


GOOD_YAML = """report:
  title: Tiny Co
  period: 2026-10
  formats: [json]
sources:
  - {name: spend, type: csv, path: data/spend.csv, table: spend}
"""

YAML_CASES = [
    yaml_case("duplicate-top-key", GOOD_YAML + "report:\n  period: 2026-09\n", "line 7", "duplicate key 'report'"),
    yaml_case(
        "duplicate-nested-key",
        GOOD_YAML.replace("  formats", "  period: 2026-09\n  formats"),
        "line 4",
        "duplicate key 'period'",
    ),
    yaml_case(
        "duplicate-key-in-a-flow-mapping",
        GOOD_YAML.replace("type: csv,", "type: csv, type: excel,"),
        "duplicate key 'type'",
    ),
    yaml_case(
        "duplicate-key-in-a-source",
        GOOD_YAML
        + "  - name: leads\n    type: csv\n    path: data/leads.csv\n    path: data/spend.csv\n    table: leads\n",
        "line 10",
        "duplicate key 'path'",
    ),
    yaml_case("tab-indentation", GOOD_YAML.replace("  title", "\ttitle"), "line 2", "malformed YAML"),
    yaml_case("unclosed-quote", GOOD_YAML.replace("Tiny Co", '"Tiny Co'), "malformed YAML"),
    yaml_case("a-list-not-a-mapping", "- report\n- sources\n", "must be a mapping"),
    yaml_case("empty-file", "", "must be a mapping"),
    yaml_case("only-a-comment", "# nothing yet\n", "must be a mapping"),
    yaml_case("python-object-tag", GOOD_YAML + "x: !!python/object/apply:os.getcwd []\n", "malformed YAML"),
    yaml_case(
        "missing-report",
        "sources:\n  - {name: s, type: csv, path: data/spend.csv, table: spend}\n",
        "report",
        "required key is missing",
    ),
    yaml_case(
        "missing-period", GOOD_YAML.replace("  period: 2026-10\n", ""), "report.period", "required key is missing"
    ),
    # aliases and nesting every reader of the config would recurse through
    yaml_case("alias-contains-itself", GOOD_YAML + "extra: &loop [1, *loop]\n", "extra", "contains it"),
    yaml_case(
        "billion-laughs",
        GOOD_YAML
        + "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9)),
        "more than 1,000,000 values",
    ),
    yaml_case("nested-3000-deep", GOOD_YAML + "deep: " + "[" * 3000 + "]" * 3000 + "\n", "nested more than 100"),
    yaml_case("nested-150-deep", GOOD_YAML + "deep: " + "[" * 150 + "]" * 150 + "\n", "nested more than 100"),
    yaml_case(
        "nul-in-a-path",
        GOOD_YAML.replace("path: data/spend.csv", 'path: "data/sp\\0end.csv"'),
        "sources[0].path",
        "NUL character",
    ),
]


@pytest.mark.parametrize("case", YAML_CASES, ids=str)
def test_config_yaml(project, case):
    project(case, "report.yaml")


# ---------------------------------------------------------------- theme.yaml brand values


def brand_case(id: str, brand_yaml: str, *expect: str) -> Case:
    return Case(
        id,
        expect,
        edit=setting("report.theme", "brand"),
        files={"brand/theme.yaml": brand_yaml},
    )


BRAND_CASES = [
    brand_case("colour-five-digits", "brand: {primary_color: '#12345'}\n", "primary_color", "#12345"),
    brand_case("colour-seven-digits", "brand: {accent_color: '#1234567'}\n", "accent_color", "#1234567"),
    brand_case("colour-name", "brand: {text_color: red}\n", "text_color", "red"),
    brand_case("colour-trailing-newline", 'brand: {primary_color: "#aabbcc\\n"}\n', "primary_color"),
    brand_case("colour-css-injection", "brand: {primary_color: '#aabbcc; } body { display: none'}\n", "primary_color"),
    brand_case("colour-a-number", "brand: {primary_color: 123456}\n", "primary_color", "123456"),
    brand_case(
        "font-unbalanced-double-quote", "brand: {font_family: '\"Open Sans, Arial'}\n", "font_family", "matching quotes"
    ),
    brand_case(
        "font-unbalanced-single-quote", 'brand: {font_family: "\'Open Sans, Arial"}\n', "font_family", "matching quotes"
    ),
    brand_case("font-quote-inside-a-name", "brand: {font_family: 'Open\"Sans'}\n", "font_family"),
    brand_case("font-css-injection", "brand: {font_family: 'Arial; } body { color: red'}\n", "font_family"),
    brand_case("font-empty-name", "brand: {font_family: 'Arial,,serif'}\n", "font_family"),
    brand_case("font-a-list", "brand: {font_family: [Arial, serif]}\n", "font_family"),
    brand_case("unknown-brand-key", "brand: {primary_colour: '#aabbcc'}\n", "primary_colour", "unknown brand key"),
    brand_case(
        "duplicate-key-in-theme-yaml",
        "brand: {primary_color: '#aabbcc'}\nbrand: {}\n",
        "theme.yaml",
        "duplicate key 'brand'",
    ),
    brand_case("theme-yaml-not-a-mapping", "- brand\n", "theme.yaml", "must be a mapping"),
]


@pytest.mark.parametrize("case", BRAND_CASES, ids=str)
def test_theme_brand(project, case):
    project(case)


def style_case(id: str, css: str, *expect: str, files: dict[str, str | bytes] | None = None) -> Case:
    """A theme whose style.css names a file that is not there (a report with HTML: the JSON
    alone never reads the theme)."""
    return Case(
        id,
        ("brand/style.css", *expect),
        edit=setting("report.theme", "brand"),
        files={"brand/theme.yaml": "brand: {}\n", "brand/style.css": css, **(files or {})},
        args=("--format", "html"),
    )


STYLE_CASES = [
    style_case(  # the font would silently fall back: a url resolves against the project, not the theme
        "font-relative-to-the-theme-folder",
        "/* url(old.ttf) */ @font-face { font-family: Brand; src: url(brand.ttf) format('truetype') }\n",
        "url(brand.ttf)",
        "did you mean url(brand/brand.ttf)?",
        files={"brand/brand.ttf": b"\0"},
    ),
    style_case("image-not-there", "h1 { background: url('assets/gone.png') }\n", "url(assets/gone.png)"),
]


@pytest.mark.parametrize("case", STYLE_CASES, ids=str)
def test_theme_stylesheet(project, case):
    project(case)


# ---------------------------------------------------------------- data files


def data_case(id: str, name: str, content: str | bytes | None, *expect: str) -> Case:
    return Case(id, expect, files={f"data/{name}.csv": content})


ROW_2_SPEND = "2026-10-01,Email,Newsletter,{cost},100,10\n"
DATA_CASES = [
    # dates outside what a table can hold; year 9999 is "no end" only where a date may be missing
    data_case(
        "spend-date-9999-12-31",
        "spend",
        SPEND + "9999-12-31,Email,News,5,1,1\n",
        "spend.csv",
        "row 2",
        "'date'",
        "9999-12-31",
        "no end",
    ),
    data_case(
        "spend-date-0001-01-01",
        "spend",
        SPEND + "0001-01-01,Email,News,5,1,1\n",
        "spend.csv",
        "row 2",
        "'date'",
        "0001-01-01",
        "1677-09-22..2262-04-11",
    ),
    data_case(
        "spend-date-1600",
        "spend",
        SPEND + "2026-10-01,Email,News,5,1,1\n1600-06-01,Email,News,5,1,1\n",
        "spend.csv",
        "row 3",
        "1600-06-01",
    ),
    data_case("spend-date-2263", "spend", SPEND + "2263-01-01,Email,News,5,1,1\n", "spend.csv", "row 2", "2263-01-01"),
    data_case(
        "spend-date-day-after-the-last",
        "spend",
        SPEND + "2262-04-12,Email,News,5,1,1\n",
        "spend.csv",
        "row 2",
        "2262-04-12",
    ),
    data_case(
        "spend-date-day-before-the-first",
        "spend",
        SPEND + "1677-09-21,Email,News,5,1,1\n",
        "spend.csv",
        "row 2",
        "1677-09-21",
    ),
    data_case(
        "conversion-timestamp-9999",
        "conversions",
        CONVERSIONS + "P1,2026-10-05T12:00:00,500\nP2,9999-12-31T23:59:59,250\n",
        "conversions.csv",
        "row 3",
        "'timestamp'",
        "no end",
    ),
    data_case(
        "touchpoint-timestamp-year-1",
        "touchpoints",
        TOUCHPOINTS + "P1,0001-01-01T00:00:00,Email,News\n",
        "touchpoints.csv",
        "row 2",
        "'timestamp'",
    ),
    data_case(
        "lead-created-9999",
        "leads",
        LEADS + "L1,9999-12-31,P1,Email,,\n",
        "leads.csv",
        "row 2",
        "'created_at'",
        "no end",
    ),
    data_case(
        "lead-mql-year-1500",
        "leads",
        LEADS + "L1,2026-10-01,P1,Email,1500-01-01,\n",
        "leads.csv",
        "row 2",
        "'mql_at'",
        "1500-01-01",
    ),
    Case(
        "dd-mm-yyyy-date-9999-in-a-required-column",
        ("spend.csv", "row 2", "'date'", "31/12/9999"),
        edit=setting("sources[0].options", {"date_format": "%d/%m/%Y"}),
        files={"data/spend.csv": SPEND + "31/12/9999,Email,News,5,1,1\n"},
    ),
    Case(
        "dd-mm-yyyy-date-year-1000",
        ("spend.csv", "row 3", "'date'", "01/01/1000"),
        edit=setting("sources[0].options", {"date_format": "%d/%m/%Y"}),
        files={"data/spend.csv": SPEND + "15/10/2026,Email,News,5,1,1\n01/01/1000,Email,News,5,1,1\n"},
    ),
    # numbers that are not numbers a report can add up
    *(
        data_case(f"cost-{value}", "spend", SPEND + ROW_2_SPEND.format(cost=value), "spend.csv", "row 2", "'cost'")
        for value in ("inf", "-inf", "nan", "Infinity", "1e400", "twelve", "1.2.3", "-5")
    ),
    data_case(
        "revenue-abc",
        "conversions",
        CONVERSIONS + "P1,2026-10-05T12:00:00,abc\n",
        "conversions.csv",
        "row 2",
        "'revenue'",
    ),
    data_case(
        "revenue-1e999",
        "conversions",
        CONVERSIONS + "P1,2026-10-05T12:00:00,1e999\n",
        "conversions.csv",
        "row 2",
        "'revenue'",
    ),
    data_case("clicks-inf", "spend", SPEND + "2026-10-01,Email,News,5,100,inf\n", "spend.csv", "row 2", "'clicks'"),
    # a header written twice on a column roistory reads: which one holds the data?
    data_case(
        "spend-cost-twice",
        "spend",
        "date,channel,cost,cost\n2026-10-01,Email,5,6\n",
        "spend.csv",
        "columns 3 and 4",
        "'cost'",
    ),
    data_case(
        "conversions-revenue-twice",
        "conversions",
        "person_id,revenue,timestamp,revenue\nP1,5,2026-10-05T12:00:00,6\n",
        "conversions.csv",
        "columns 2 and 4",
        "'revenue'",
    ),
    data_case(
        "touchpoints-person-twice",
        "touchpoints",
        "person_id,timestamp,channel,person_id\nP1,2026-10-01T10:00:00,Email,P2\n",
        "touchpoints.csv",
        "columns 1 and 4",
        "'person_id'",
    ),
    data_case(
        "leads-created-three-times",
        "leads",
        "lead_id,created_at,created_at,person_id,created_at\nL1,2026-10-01,2026-10-02,P1,2026-10-03\n",
        "leads.csv",
        "columns 2 and 3",
        "'created_at'",
    ),
    Case(
        "mapped-header-twice",
        ("spend.csv", "columns 3 and 4", "'Spend'", "'cost'"),
        edit=setting("sources[0].columns", {"Spend": "cost"}),
        files={"data/spend.csv": "date,channel,Spend,Spend\n2026-10-01,Email,5,6\n"},
    ),
    # files that are not the export
    *(
        data_case(f"{name}-empty", name, "", f"{name}.csv", "empty")
        for name in ("spend", "touchpoints", "conversions", "leads")
    ),
    *(
        data_case(f"{name}-missing", name, None, f"{name}.csv", "not found")
        for name in ("spend", "touchpoints", "conversions", "leads")
    ),
    data_case("spend-a-png", "spend", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "spend.csv"),
    data_case(
        "leads-date-not-a-date", "leads", LEADS + "L1,soon,P1,Email,,\n", "leads.csv", "row 2", "'created_at'", "'soon'"
    ),
    data_case(
        "touchpoint-impossible-day",
        "touchpoints",
        TOUCHPOINTS + "P1,2026-02-30T10:00:00,Email,News\n",
        "touchpoints.csv",
        "row 2",
        "'timestamp'",
    ),
    data_case(
        "spend-missing-cost-column",
        "spend",
        "date,channel,costs\n2026-10-01,Email,5\n",
        "spend.csv",
        "'cost'",
        "did you mean",
    ),
]


@pytest.mark.parametrize("case", DATA_CASES, ids=str)
def test_data(project, case):
    project(case)


# ---------------------------------------------------------------- the command line


def parquet_touchpoints(column: str, values: Any) -> bytes:
    """A two-row touchpoints Parquet file whose ``column`` holds ``values`` (an Arrow array)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = {
        "person_id": pa.array(["P1", "P1"]),
        "timestamp": pa.array([1_791_000_000, 1_791_086_400], pa.timestamp("s")),
        "channel": pa.array(["Email", "Paid Search"]),
        "conversion": pa.array([0, 1]),
        "revenue": pa.array([0.0, 10.0]),
    }
    sink = io.BytesIO()
    pq.write_table(pa.table({**table, column: values}), sink)
    return sink.getvalue()


def _parquet_cells() -> list[tuple[str, str, Any, str]]:
    import pyarrow as pa

    return [
        ("person_id", "bytes", pa.array([b"\x00\xff", b"P1"], pa.binary()), "bytes that are not UTF-8 text"),
        ("timestamp", "lists", pa.array([[1], [2]]), "lists"),
        ("revenue", "structs", pa.array([{"a": 1}, {"a": 2}]), "records (structs)"),
        ("timestamp", "year-33658", pa.array([10**12, 10**12 + 1], pa.timestamp("s")), "'year 33658'"),
    ]


PARQUET_CELLS = _parquet_cells()


def cli_case(id: str, command: str, args: tuple[str, ...], *expect: str) -> Case:
    return Case(id, expect, command=command, args=args, raw_args=True)


CLI_CASES = [
    Case("run-period-q5", ("2026-Q5",), args=("--period", "2026-Q5")),
    Case(
        "run-period-beyond-dates",
        ("0001-01-01..9999-12-31", "supported dates"),
        args=("--period", "0001-01-01..9999-12-31"),
    ),
    Case("run-period-reversed", ("ends before it starts",), args=("--period", "2026-10-31..2026-10-01")),
    Case("run-locale-unknown", ("xx_YY",), args=("--locale", "xx_YY")),
    Case("run-format-docx", ("docx",), args=("--format", "docx")),
    Case("run-time-limit-zero", ("time",), args=("--time-limit", "0")),
    Case("run-time-limit-text", ("--time-limit",), args=("--time-limit", "soon")),
    Case("run-engine-gpu", ("gpu",), args=("--engine", "gpu")),
    Case("run-unknown-option", ("--outt",), args=("--outt", "x")),
    cli_case("unknown-command", "rnu", ("CONFIG",), "rnu"),
    cli_case("run-without-config", "run", (), "CONFIG"),
    cli_case("run-config-missing", "run", ("nowhere/report.yaml",), "nowhere/report.yaml"),
    cli_case("run-config-a-folder", "run", ("proj",), "proj"),
    cli_case("validate-period", "validate", ("CONFIG", "--period", "2026-00"), "2026-00"),
    cli_case("validate-config-missing", "validate", ("missing.yaml",), "missing.yaml"),
    # where the outputs cannot go: found before any work, nothing left behind
    cli_case("run-out-dev-null", "run", ("CONFIG", "--out", "/dev/null"), "/dev/null", "is a file"),
    cli_case("run-out-below-a-data-file", "run", ("CONFIG", "--out", "proj/data/spend.csv/x"), "spend.csv/x", "a file"),
    cli_case("run-out-in-proc", "run", ("CONFIG", "--out", "/proc/roistory-out"), "/proc/roistory-out"),
    cli_case("run-out-name-too-long", "run", ("CONFIG", "--out", "d" * 300), "File name too long"),
    # a device as the config: refused by its kind, never read (it would fill the memory)
    cli_case("run-config-a-device", "run", ("/dev/zero",), "/dev/zero", "is a device"),
    cli_case("config-config-a-device", "config", ("/dev/zero",), "/dev/zero", "is a device"),
    cli_case("validate-config-a-device", "validate", ("/dev/urandom",), "/dev/urandom", "is a device"),
    # attribute: a date range that keeps nothing, a database that is not PostgreSQL, Parquet cells of no use
    cli_case(
        "attribute-since-after-until",
        "attribute",
        ("proj/data/touchpoints.csv", "--model", "linear", "--since", "2027-01-01", "--until", "2026-01-01"),
        "--until",
        "not after --since",
    ),
    cli_case(
        "attribute-sqlite-url",
        "attribute",
        ("sqlite:////etc/passwd", "--model", "linear", "--query", "x"),
        "'sqlite' is not PostgreSQL",
    ),
    *(
        Case(
            f"attribute-parquet-{column}-{kind}",
            (f"{column}.parquet", f"'{column}'", expect),
            files={f"data/{column}.parquet": parquet_touchpoints(column, values)},
            command="attribute",
            args=(f"proj/data/{column}.parquet", "--model", "linear"),
            raw_args=True,
        )
        for column, kind, values, expect in PARQUET_CELLS
    ),
]


@pytest.mark.parametrize("case", CLI_CASES, ids=str)
def test_command_line(project, case):
    project(case)


def test_a_folder_in_the_way_of_one_output_leaves_none_of_them(cli, tmp_path, monkeypatch):
    """A folder where the manifest goes fails the run after rendering, before any output is
    moved in (the JSON's temporary file is removed too)."""
    monkeypatch.setattr(pdf_worker, "prestart", lambda: None)
    config_path = cli.write_project(tmp_path / "proj")
    out = tmp_path / "out"
    (out / "proj-2026-10.manifest.json").mkdir(parents=True)
    result = run_inprocess("run", config_path, "--out", out, cwd=tmp_path)
    cli.assert_rejected(result, out, "proj-2026-10.manifest.json", "is a folder where an output file goes")
    assert sorted(p.name for p in out.iterdir()) == ["proj-2026-10.manifest.json"]


def test_a_failure_while_moving_outputs_in_restores_the_earlier_run(tmp_path, monkeypatch):
    """The second of three outputs cannot be moved in: the first is taken back and the earlier
    run's files are as they were; no temporary file is left."""
    from roistory import render

    earlier = {"a.html": b"old html", "b.json": b"old json"}
    for name, data in earlier.items():
        (tmp_path / name).write_bytes(data)
    real_replace, calls = os.replace, []

    def second_fails(source, target):
        calls.append(target)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(source))
        return real_replace(source, target)

    monkeypatch.setattr(render.os, "replace", second_fails)
    outputs = [(tmp_path / "a.html", b"new html"), (tmp_path / "b.json", b"new json"), (tmp_path / "c.pdf", b"%PDF")]
    with pytest.raises(render.OutputError, match=r"b\.json: cannot hold the outputs: No space left on device"):
        render.write_all(outputs)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == earlier


def test_a_data_file_that_is_a_symlink_loop_is_named(cli, tmp_path, monkeypatch):
    monkeypatch.setattr(pdf_worker, "prestart", lambda: None)
    config_path = cli.write_project(tmp_path / "proj", files={"data/spend.csv": None})
    (tmp_path / "proj" / "data" / "spend.csv").symlink_to("spend.csv")
    result = run_inprocess("run", config_path, "--out", tmp_path / "out", cwd=tmp_path)
    cli.assert_rejected(result, tmp_path / "out", "spend.csv", "symbolic link to nothing")


def test_a_fifo_as_the_config_is_refused_not_waited_on(cli, tmp_path):
    os.mkfifo(tmp_path / "report.yaml")
    for command in ("run", "validate", "config"):
        result = cli.run(command, tmp_path / "report.yaml", cwd=tmp_path, timeout=60)
        cli.assert_rejected(result, None, "report.yaml", "is a FIFO (named pipe), not a regular file")


ALL_CASES = CONFIG_CASES + YAML_CASES + BRAND_CASES + DATA_CASES + CLI_CASES


def test_the_suite_is_big_enough():
    assert len(ALL_CASES) >= 150, len(ALL_CASES)
    assert len({case.id for case in ALL_CASES}) == len(ALL_CASES), "case ids must be unique"
