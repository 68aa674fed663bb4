"""The docs say what the code does: generated pages are current, every metric,
model and report.yaml key is documented, links resolve, and the worked examples
of docs/plugin_hooks.md run. (Hook headings are checked in test_hooks.py.)"""

from __future__ import annotations

import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from roistory.config import Config
from roistory.plugin_manager import build_registry, new_plugin_manager, plugin_info

DOCS = Path(__file__).parents[1] / "docs"


def _mentioned(text: str, name: str) -> bool:
    """``name`` appears as code: `name`, or as the start of `name(...)`/`name: ...`."""
    return re.search(rf"`{re.escape(name)}(`|[(:.\[ ])", text) is not None


@pytest.fixture(scope="module")
def builtin_ids():
    """Metric and model ids provided by roistory's own plugins (others document themselves)."""
    pm = new_plugin_manager()
    registry = build_registry(pm)

    def ids(kind: str) -> list[str]:
        return [name for name in registry.items[kind] if plugin_info(pm, registry.provider(kind, name)).builtin]

    metrics = [m for m in ids("metric") if registry.metrics[m].family != "internal"]
    return {"metric": metrics, "model": ids("model")}


@pytest.mark.parametrize("page", ["cli.md", "plugin_hooks.md", "metrics.md"])
def test_generated_docs_are_current(page):
    """cli.md: every command's --help; plugin_hooks.md: the example files; metrics.md: the registry."""
    done = subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", str(DOCS / page)],
        capture_output=True,
        text=True,
        cwd=DOCS.parent,
    )
    assert done.returncode == 0, f"docs/{page} is out of date: run `cog -r docs/{page}`\n" + done.stdout + done.stderr


def test_every_metric_is_documented(builtin_ids):
    text = (DOCS / "metrics.md").read_text(encoding="utf-8")
    assert builtin_ids["metric"]
    missing = [m for m in builtin_ids["metric"] if not _mentioned(text, m)]
    assert not missing, f"metrics not documented in docs/metrics.md: {missing}"


def test_every_attribution_model_is_documented(builtin_ids):
    text = (DOCS / "metrics.md").read_text(encoding="utf-8")
    assert builtin_ids["model"]
    missing = [m for m in builtin_ids["model"] if not _mentioned(text, m)]
    assert not missing, f"attribution models not documented in docs/metrics.md: {missing}"


def _models_in(annotation) -> list[type[BaseModel]]:
    """The pydantic models inside an annotation such as ``list[SourceConfig] | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def config_keys(model: type[BaseModel] = Config, prefix: str = "") -> list[str]:
    """Every report.yaml key as a dotted path (list items written ``[]``)."""
    keys = []
    for name, field in model.model_fields.items():
        if model is Config and name in ("base_dir", "path"):
            continue  # set by load_config, not read from YAML
        path = f"{prefix}{name}"
        keys.append(path)
        is_list = typing.get_origin(field.annotation) is list or any(
            typing.get_origin(arg) is list for arg in typing.get_args(field.annotation)
        )
        for sub in _models_in(field.annotation):
            keys += config_keys(sub, f"{path}[]." if is_list else f"{path}.")
    return keys


def test_config_keys_are_found():
    keys = config_keys()
    assert "report.period" in keys and "sources[].columns" in keys and "goals[].deadline" in keys
    assert "base_dir" not in keys and "path" not in keys


def test_every_config_key_is_documented():
    """Each key has a row in a reference table (| `key` |) or a heading (## `key`)."""
    text = (DOCS / "config.md").read_text(encoding="utf-8")

    def documented(name: str) -> bool:
        pattern = rf"^(\| `{re.escape(name)}` \||#+ `{re.escape(name)}`$)"
        return re.search(pattern, text, flags=re.MULTILINE) is not None

    missing = [key for key in config_keys() if not documented(key.rsplit(".", 1)[-1])]
    assert not missing, f"report.yaml keys not documented in docs/config.md: {missing}"


def test_docs_links_point_at_existing_files():
    broken = []
    for page in DOCS.glob("*.md"):
        text = page.read_text(encoding="utf-8")
        # links in prose only: not in HTML comments (cog code) or fenced code blocks
        text = re.sub(r"<!--.*?-->|^```.*?^```", "", text, flags=re.DOTALL | re.MULTILINE)
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.name}: {target}")
    assert not broken, f"broken links: {broken}"


# --------------------------------------------------------------------------
# The worked examples of docs/plugin_hooks.md (docs/examples/hooks/) work
# --------------------------------------------------------------------------

EXAMPLES = DOCS / "examples" / "hooks"

PROJECT_FILES = {
    "spend.csv": """date,channel,campaign,cost
2026-03-02,Paid Search,Brand,400
2026-03-03,Paid Search,Generic,900
2026-03-04,Email,Newsletter,150
2026-03-05,Paid Social,Prospecting,700
""",
    "podcasts.jsonl": '{"date": "2026-03-10", "channel": "Podcasts", "campaign": "Data Show", "cost": 1200}\n',
    "touchpoints.csv": """person_id,timestamp,channel,campaign
p1,2026-03-02T09:00:00,Paid Search,Brand
p1,2026-03-06T09:00:00,Email,Newsletter
p1,2026-03-08T09:00:00,Paid Social,Prospecting
p2,2026-03-04T10:00:00,Email,Newsletter
""",
    "conversions.csv": """person_id,timestamp,revenue
p1,2026-03-09T12:00:00,1000
p2,2026-03-05T12:00:00,500
""",
    "leads.csv": """lead_id,created_at,person_id,won_at,lost_at,amount
L1,2026-03-02,p1,2026-03-09,,1000
L2,2026-03-04,p2,2026-03-05,,500
L3,2026-03-04,p3,,2026-03-20,
""",
    "report.yaml": """report: {title: Hook examples, client: example, period: 2026-03, compare: [], theme: northwind}
sources:
  - {name: spend, type: csv, path: spend.csv, table: spend}
  - {name: podcasts, type: jsonl, path: podcasts.jsonl, table: spend}
  - {name: touchpoints, type: csv, path: touchpoints.csv, table: touchpoints}
  - {name: conversions, type: csv, path: conversions.csv, table: conversions}
  - {name: leads, type: csv, path: leads.csv, table: leads}
attribution:
  models: [linear, first_last]
  params: {first_last: {first_share: 0.6}}
sections: [summary, top_campaigns]
""",
}


def _load_example(name: str):
    import importlib.util

    path = EXAMPLES / name
    if path.is_dir():
        path = path / "__init__.py"
    spec = importlib.util.spec_from_file_location(f"roistory_docs_example_{name.removesuffix('.py')}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example_report(tmp_path_factory):
    from roistory.config import load_config
    from roistory.pipeline import build_report

    project = tmp_path_factory.mktemp("hook-examples")
    for name, text in PROJECT_FILES.items():
        (project / name).write_text(text, encoding="utf-8")
    pm = new_plugin_manager()
    for name in (
        "jsonl_source.py",
        "lost_deals_metrics.py",
        "first_last_model.py",
        "top_campaigns_section.py",
        "northwind_theme",
        "jinja_filters.py",
    ):
        pm.register(_load_example(name), name=f"docs_{name.removesuffix('.py')}")
    return build_report(load_config(project / "report.yaml"), pm=pm), project


def test_example_source_metrics_and_model(example_report):
    report, _ = example_report
    assert [s.rows for s in report.inputs if s.name == "podcasts"] == [1]
    assert report.value("spend") == 3350.0
    assert report.value("lost_deals") == 1.0
    assert report.value("win_share") == pytest.approx(2 / 3)
    credit = report.attribution["first_last"]["channel"]["revenue"]
    assert credit.to_dict() == pytest.approx({"Email": 500.0, "Paid Search": 600.0, "Paid Social": 400.0})


def test_example_model_rejects_a_bad_parameter(example_report):
    from roistory.attribution import run_model
    from roistory.errors import ConfigError

    report, _ = example_report
    journeys, _ = report.journeys["channel"]
    with pytest.raises(ConfigError, match=r"attribution\.params\.first_last\.first_share: must be a number"):
        run_model(report.registry.models["first_last"], journeys, {"first_share": 2})


def test_example_section_theme_and_filter(example_report):
    from roistory.render import make_environment, render_html, resolve_theme

    report, _ = example_report
    html = render_html(report)
    assert 'id="top_campaigns"' in html and "Data Show" in html and "$1,200" in html
    assert '<meta name="author" content="Northwind Agency">' in html
    assert "Prepared by Northwind Agency" in html and "#0b3d2e" in html
    env = make_environment(report, resolve_theme(report))
    assert env.from_string("{{ 'Hook Examples' | initials }} FY{{ fiscal_year }}").render() == "HE FY2026"


def test_example_command(example_report):
    import click
    from click.testing import CliRunner

    _, project = example_report
    group = click.Group()
    _load_example("periods_command.py").register_commands(cli=group)
    result = CliRunner().invoke(group, ["periods", str(project / "report.yaml")])
    assert result.exit_code == 0, result.output
    assert result.output == "current   2026-03-01 .. 2026-03-31\n"
