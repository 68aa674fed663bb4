"""Every hook: documented with its exact signature, and shown to work through the real pipeline.

Each ``test_hook_<name>`` registers a small plugin object (a class named
``XPlugin`` with ``__name__`` set, as datasette's tests do) on a fresh plugin
manager with :func:`roistory.testing.register_plugin`, renders a report with
it and checks the effect in the HTML or JSON (or, for ``register_commands``,
runs the new command).
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import re
from importlib.resources import files
from pathlib import Path

import click
import pandas as pd
import pluggy
import pytest
from click.testing import CliRunner

from roistory import hookimpl, hookspecs
from roistory.api import (
    AttributionModel,
    ConfigError,
    DataError,
    Metric,
    PluginError,
    ReportSection,
    SourceType,
    Theme,
)
from roistory.hookspecs import HOOK_NAMES
from roistory.plugin_manager import build_registry
from roistory.runs import render_and_deliver
from roistory.testing import (
    make_conversions,
    make_leads,
    make_spend,
    make_touchpoints,
    register_plugin,
    render_report,
    write_project,
)

PLUGIN_HOOKS_MD = Path(__file__).parents[1] / "docs" / "plugin_hooks.md"


def project(tmp_path: Path, **settings) -> Path:
    """The testing kit's four tables: March 2026, spend 2,100, three conversions worth 4,000."""
    tables = {
        "spend": make_spend(),
        "touchpoints": make_touchpoints(),
        "conversions": make_conversions(),
        "leads": make_leads(),
    }
    return write_project(tmp_path, tables, **settings)


# --------------------------------------------------------------------------
# Meta-tests: documentation and coverage of every hook
# --------------------------------------------------------------------------


def signature(pm: pluggy.PluginManager, hook: str) -> str:
    """``register_metrics(register)``: the hook's name and argument names, from its spec."""
    return f"{hook}({', '.join(getattr(pm.hook, hook).spec.argnames)})"


@pytest.fixture(scope="module")
def documented_headings() -> list[str]:
    """The headings of docs/plugin_hooks.md, without markdown's # and backticks."""
    if not PLUGIN_HOOKS_MD.is_file():
        return []
    headings, in_code = [], False
    for line in PLUGIN_HOOKS_MD.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif line.startswith("#") and not in_code:
            headings.append(line.lstrip("#").strip().replace("`", ""))
    return headings


def test_plugin_hooks_reference_exists():
    assert PLUGIN_HOOKS_MD.is_file(), f"{PLUGIN_HOOKS_MD} is missing: every hook needs a section there"


@pytest.mark.parametrize("hook", HOOK_NAMES)
def test_hook_is_documented_with_its_signature(hook, documented_headings, roistory_pm):
    expected = signature(roistory_pm, hook)
    assert any(expected in heading for heading in documented_headings), (
        f"docs/plugin_hooks.md needs a heading containing {expected!r}"
    )


def test_documented_hooks_exist(documented_headings):
    named = {m.group(1) for h in documented_headings if (m := re.match(r"([a-z][a-z0-9]*_[a-z0-9_]+)\(", h))}
    assert named - set(HOOK_NAMES) == set(), "docs/plugin_hooks.md documents hooks that do not exist"


@pytest.mark.parametrize("hook", HOOK_NAMES)
def test_hook_has_a_behavioural_test(hook):
    assert callable(globals().get(f"test_hook_{hook}")), f"add test_hook_{hook} to tests/test_hooks.py"


@pytest.mark.parametrize("hook", HOOK_NAMES)
def test_hookspec_docstring_documents_every_argument(hook, roistory_pm):
    doc = getattr(hookspecs, hook).__doc__ or ""
    for argument in getattr(roistory_pm.hook, hook).spec.argnames:
        assert f":param {argument}:" in doc, f"{hook}: document argument {argument!r}"
    assert re.search(r"Added in \d+\.\d+", doc), f"{hook}: say which version added it"


def test_hook_names_are_the_specs(roistory_pm):
    specs = {name for name in vars(roistory_pm.hook) if getattr(roistory_pm.hook, name).spec}
    assert set(HOOK_NAMES) == specs


# --------------------------------------------------------------------------
# One behavioural test per hook
# --------------------------------------------------------------------------


# -- start source --
def test_hook_register_data_sources(tmp_path, roistory_pm):
    class SourcePlugin:
        __name__ = "SourcePlugin"

        @hookimpl
        def register_data_sources(self, register):
            def read(source, config):
                return make_spend(channel=source.options["channel"])

            register(SourceType("inline_spend", read, "Spend rows made in the test."))

    source = {
        "name": "podcasts",
        "type": "inline_spend",
        "table": "spend",
        "options": {"channel": "Podcasts"},
    }
    config = write_project(tmp_path, {}, sources=[source])
    with register_plugin(roistory_pm, SourcePlugin()):
        rendered = render_report(config, formats=["json"], pm=roistory_pm)

    assert rendered.metric("spend", segment={"channel": "Podcasts"}) == 2100
    assert rendered.json["inputs"] == [{"source": "podcasts", "table": "spend", "rows": 6, "sha256": None}]


# -- end source --


def test_source_output_is_validated_like_a_file(tmp_path, roistory_pm):
    class SourcePlugin:
        __name__ = "SourcePlugin"

        @hookimpl
        def register_data_sources(self, register):
            register(SourceType("no_cost", lambda source, config: make_spend(cost=None)))

    config = write_project(tmp_path, {}, sources=[{"name": "ads", "type": "no_cost", "table": "spend"}])
    with register_plugin(roistory_pm, SourcePlugin()):
        with pytest.raises(DataError, match="ads, column 'cost': missing required column 'cost'"):
            render_report(config, formats=["json"], pm=roistory_pm)


def test_hook_register_incrementality_readers(tmp_path, roistory_pm):
    """A plugin's format of lift results: its rows are checked by the core and shown beside the models."""
    from roistory.api import IncrementalityReader

    class LiftPlugin:
        __name__ = "LiftPlugin"

        @hookimpl
        def register_incrementality_readers(self, register):
            def read(item, config):
                text = config.resolve(item.path).read_text(encoding="utf-8").split()
                rows = [line.split("|") for line in text]
                return pd.DataFrame(
                    {
                        "channel": [r[0] for r in rows],
                        "incremental_revenue": [r[1] for r in rows],
                        "method": "conversion_lift",
                        "period_start": "2026-03-01",
                        "period_end": "2026-03-31",
                    },
                    index=range(1, len(rows) + 1),
                )

            register(IncrementalityReader("pipes", read, "channel|revenue lines"))

    (tmp_path / "lift.txt").write_text("Email|800\nPaid_Social|oops\n", encoding="utf-8")
    tables = {"spend": make_spend(), "touchpoints": make_touchpoints(), "conversions": make_conversions()}
    config = write_project(
        tmp_path, tables, config={"incrementality": [{"name": "lift", "type": "pipes", "path": "lift.txt"}]}
    )
    with register_plugin(roistory_pm, LiftPlugin()):
        with pytest.raises(DataError, match=r"lift.txt, row 2, column 'incremental_revenue': 'oops' is not a number"):
            render_report(config, pm=roistory_pm)
        (tmp_path / "lift.txt").write_text("Email|800\n", encoding="utf-8")
        rendered = render_report(config, pm=roistory_pm)

    (record,) = rendered.json["incrementality"]
    assert record["channel"] == "Email" and record["kind"] == "experiment"
    assert record["share"] == pytest.approx(800 / make_conversions()["revenue"].sum())
    assert "Measured incremental share" in rendered.html


# -- start metrics --
def test_hook_register_metrics(tmp_path, roistory_pm):
    def touches(data, dimension):
        return data.total(data.rows("touchpoints", "timestamp"), "touchpoints", dimension)

    class MetricsPlugin:
        __name__ = "MetricsPlugin"

        @hookimpl
        def register_metrics(self, register):
            register(
                Metric(
                    "touches",
                    "Touches",
                    "count",
                    "Touchpoints in the period.",
                    compute=touches,
                    needs=("touchpoints",),
                )
            )
            register(
                Metric(
                    "revenue_per_touch",
                    "Revenue per touch",
                    "currency",
                    "Revenue / touches.",
                    formula="revenue / touches",
                )
            )

    with register_plugin(roistory_pm, MetricsPlugin()):
        rendered = render_report(project(tmp_path), pm=roistory_pm)

    assert rendered.metric("touches") == 6
    assert rendered.metric("revenue_per_touch") == pytest.approx(4000 / 6)
    # per channel: the channel's first-touch revenue over the channel's touches
    assert rendered.metric("revenue_per_touch", segment={"channel": "Email"}) == 2000 / 2
    assert "Revenue per touch" in rendered.html


# -- end metrics --


def test_hook_register_attribution_models(tmp_path, roistory_pm):
    def house(journeys, params):
        conversions = journeys.converted.sum()
        revenue = (journeys.converted * journeys.revenue).sum()
        index = pd.Index([params["segment"]], name="segment")
        return pd.DataFrame({"conversions": [conversions], "revenue": [revenue]}, index=index)

    class ModelPlugin:
        __name__ = "ModelPlugin"

        @hookimpl
        def register_attribution_models(self, register):
            register(AttributionModel("house", "House", "All credit to one segment.", house, {"segment": "House"}))

    attribution = {
        "models": ["first_touch", "house"],
        "primary": "house",
        "params": {"house": {"segment": "All"}},
    }
    config = project(tmp_path, config={"attribution": attribution})
    with register_plugin(roistory_pm, ModelPlugin()):
        rendered = render_report(config, pm=roistory_pm)

    by_channel = [r for r in rendered.json["attribution"] if r["model"] == "house" and "channel" in r["segment"]]
    assert by_channel == [{"model": "house", "segment": {"channel": "All"}, "conversions": 3.0, "revenue": 4000.0}]
    assert rendered.metric("revenue", segment={"channel": "All"}) == 4000  # the primary model's credit
    assert "All credit to one segment." in rendered.html


def test_attribution_model_must_conserve_credit(tmp_path, roistory_pm):
    class LeakyPlugin:
        __name__ = "LeakyPlugin"

        @hookimpl
        def register_attribution_models(self, register):
            register(AttributionModel("leaky", "Leaky", "Loses half.", lambda j, p: 0.5 / j.lengths.repeat(j.lengths)))

    config = project(tmp_path, config={"attribution": {"models": ["leaky"]}})
    with register_plugin(roistory_pm, LeakyPlugin()):
        with pytest.raises(
            PluginError, match="plugin 'LeakyPlugin': model 'leaky' credits 1.5 conversions, journeys have 3.0"
        ):
            render_report(config, formats=["json"], pm=roistory_pm)


# -- start section --
def test_hook_register_report_sections(tmp_path, roistory_pm):
    # a plugin ships its section templates in a folder of its own
    templates = tmp_path / "plugin_templates"
    (templates / "sections").mkdir(parents=True)
    (templates / "sections" / "board_note.html.j2").write_text("<p class='note'>{{ data.note }}</p>\n")

    def board_note(report):
        return {"note": f"Spend this month: {report.formatter.money(report.value('spend'))}."}

    class SectionPlugin:
        __name__ = "SectionPlugin"

        @hookimpl
        def register_report_sections(self, register):
            register(
                ReportSection(
                    "board_note",
                    "Note for the board",
                    "sections/board_note.html.j2",
                    board_note,
                    templates=templates,
                )
            )
            register(ReportSection("nothing", "Nothing to say", "sections/board_note.html.j2", lambda report: None))

    config = project(tmp_path, config={"sections": ["board_note", "nothing", "kpis"]})
    with register_plugin(roistory_pm, SectionPlugin()):
        rendered = render_report(config, formats=["html"], pm=roistory_pm)

    assert 'id="board_note"' in rendered.html and "Note for the board" in rendered.html
    assert "<p class='note'>Spend this month: $2,100.</p>" in rendered.html
    assert 'id="nothing"' not in rendered.html  # build() returned None: section left out
    assert rendered.html.index('id="board_note"') < rendered.html.index('id="kpis"')


# -- end section --


def test_hook_register_editions(tmp_path, roistory_pm):
    """A plugin's edition renders its own document with its sections and headline metric."""
    from roistory.api import Edition

    class EditionPlugin:
        __name__ = "EditionPlugin"

        @hookimpl
        def register_editions(self, register):
            register(
                Edition(
                    "investors",
                    "Investor update",
                    sections=("summary", "channels", "no_such_section"),
                    headline="revenue",
                    topics=("headline",),
                )
            )

    config = project(tmp_path, config={"sections": ["summary", "kpis", "channels"]}, edition="investors")
    with register_plugin(roistory_pm, EditionPlugin()):
        rendered = render_and_deliver(config, tmp_path / "out", pm=roistory_pm, formats=["html", "json"])[0]
    assert set(rendered) == {"investors.html", "investors.json", "manifest"}
    assert rendered["investors.html"].name.endswith("-investors.html")
    html = rendered["investors.html"].read_text(encoding="utf-8")
    assert "section-channels" in html
    assert "section-kpis" not in html  # the edition leaves it out although the report lists it
    document = json.loads(rendered["investors.json"].read_text(encoding="utf-8"))
    headline = document["narrative"][0]
    assert headline["numbers"][0]["metric"] == "revenue"
    assert headline["numbers"][0]["value"] == next(
        m["value"]
        for m in document["metrics"]
        if m["id"] == "revenue" and m["segment"] == {} and m["period"] == "current"
    )
    with register_plugin(roistory_pm, EditionPlugin()), pytest.raises(ConfigError, match="unknown edition 'bored'"):
        render_and_deliver(config, tmp_path / "out2", pm=roistory_pm, editions=["bored"])
    assert not (tmp_path / "out2").exists()


def test_hook_register_translations(tmp_path, roistory_pm):
    """A plugin's section title and its own message come out in Spanish; roistory's stay roistory's."""
    from roistory.api import Catalog

    folder = tmp_path / "locales"
    (folder / "es" / "LC_MESSAGES").mkdir(parents=True)
    (folder / "es" / "LC_MESSAGES" / "board_note.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Note for the board"\nmsgstr "Nota para el consejo"\n\n'
        'msgid "Spend this month"\nmsgstr "Inversión del mes"\n\n'
        'msgid "Summary"\nmsgstr "NO: roistory translates its own title"\n',
        encoding="utf-8",
    )
    templates = tmp_path / "plugin_templates"
    (templates / "sections").mkdir(parents=True)
    (templates / "sections" / "board_note.html.j2").write_text("<p class='note'>{{ data.note }}</p>\n")

    class TranslatedPlugin:
        __name__ = "TranslatedPlugin"

        @hookimpl
        def register_translations(self, register):
            register(Catalog(domain="board_note", folder=folder))

        @hookimpl
        def register_report_sections(self, register):
            register(
                ReportSection(
                    "board_note",
                    "Note for the board",
                    "sections/board_note.html.j2",
                    lambda report: {"note": report.gettext("Spend this month")},
                    templates=templates,
                )
            )

    config = project(tmp_path, locale="es", config={"sections": ["summary", "board_note"]})
    with register_plugin(roistory_pm, TranslatedPlugin()):
        rendered = render_report(config, formats=["html"], pm=roistory_pm)

    assert "Nota para el consejo" in rendered.html
    assert "<p class='note'>Inversión del mes</p>" in rendered.html
    assert "Resumen" in rendered.html and "NO: roistory" not in rendered.html


def test_hook_register_themes(tmp_path, roistory_pm):
    stylesheet = tmp_path / "board.css"
    stylesheet.write_text(".cover { border-left-color: var(--accent); } /* board theme */\n")

    class ThemePlugin:
        __name__ = "ThemePlugin"

        @hookimpl
        def register_themes(self, register):
            register(
                Theme(
                    "board",
                    stylesheets=(stylesheet,),
                    brand={"primary_color": "#123456"},
                    extends="default",
                )
            )

    with register_plugin(roistory_pm, ThemePlugin()):
        rendered = render_report(project(tmp_path, theme="board"), formats=["html"], pm=roistory_pm)

    html = rendered.html
    assert "/* board theme */" in html
    assert "--primary: #123456" in html
    default_css = files("roistory.templates").joinpath("report.css").read_text(encoding="utf-8")
    assert html.index(default_css.splitlines()[0]) < html.index("/* board theme */")  # extends default


# -- start jinja --
def test_hook_prepare_jinja2_environment(tmp_path, roistory_pm):
    class JinjaPlugin:
        __name__ = "JinjaPlugin"

        @hookimpl
        def prepare_jinja2_environment(self, env, report):
            env.filters["shout"] = lambda text: f"{text.upper()}!"
            env.globals["report_title"] = report.config.report.title

    # a theme folder in the project overrides the summary template to use them
    template = tmp_path / "brand" / "templates" / "sections" / "summary.html.j2"
    template.parent.mkdir(parents=True)
    template.write_text("<p class='shout'>{{ report_title | shout }}</p>\n")
    with register_plugin(roistory_pm, JinjaPlugin()):
        rendered = render_report(project(tmp_path, theme="brand", title="Q1 board"), pm=roistory_pm)

    assert "<p class='shout'>Q1 BOARD!</p>" in rendered.html


# -- end jinja --


# -- start command --
def test_hook_register_commands(roistory_pm):
    class CommandPlugin:
        __name__ = "CommandPlugin"

        @hookimpl
        def register_commands(self, cli):
            @cli.command()
            @click.argument("name")
            def hello(name):
                """Say hello to NAME."""
                click.echo(f"Hello, {name}!")

    from roistory.cli import cli as root
    from roistory.cli import make_cli

    with register_plugin(roistory_pm, CommandPlugin()):
        cli = make_cli(roistory_pm)
        result = CliRunner().invoke(cli, ["hello", "board"])
        listed = CliRunner().invoke(cli, ["--help"]).output

    assert "hello" not in root.commands  # the module-level group is left as it was
    assert result.exit_code == 0, result.output
    assert result.output == "Hello, board!\n"
    assert "Say hello to NAME." in listed


# -- end command --


# -- start deliver --
def test_hook_deliver(tmp_path, roistory_pm):
    # the worked example of docs/plugin_hooks.md: a line per delivered file in a CSV index
    spec = importlib.util.spec_from_file_location(
        "roistory_docs_index_delivery", Path(__file__).parents[1] / "docs/examples/hooks/index_delivery.py"
    )
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)

    config = project(tmp_path, client="acme", config={"delivery": [{"type": "index", "path": "index.csv"}]})
    with register_plugin(roistory_pm, plugin, name="index_delivery"):
        paths, records = render_and_deliver(
            config, tmp_path / "out", formats=["json", "html"], deliver=True, pm=roistory_pm
        )

    digests = {fmt: hashlib.sha256(paths[fmt].read_bytes()).hexdigest() for fmt in ("json", "html")}
    lines = list(csv.reader((tmp_path / "index.csv").open()))
    assert sorted(line[3:] for line in lines) == sorted([paths[fmt].name, digests[fmt]] for fmt in ("json", "html"))
    assert {tuple(line[1:3]) for line in lines} == {("acme", "2026-03")}
    assert records[0]["destination"] == "index" and records[0]["outputs"] == digests
    assert records[0]["location"] == str(tmp_path / "index.csv")

    # the settings are checked (a dry run without a run) before anything is computed
    bad = project(tmp_path / "bad", config={"delivery": [{"type": "index"}]})
    with register_plugin(roistory_pm, plugin, name="index_delivery"):
        with pytest.raises(ConfigError, match=r"delivery\[0\]\.path: required"):
            render_and_deliver(bad, tmp_path / "bad" / "out", pm=roistory_pm)
    assert not (tmp_path / "bad" / "out").exists()


# -- end deliver --


# --------------------------------------------------------------------------
# Invalid plugins fail loudly, naming the plugin
# --------------------------------------------------------------------------


# -- start invalid --
@pytest.mark.parametrize(
    "item, message",
    [
        ({"id": "roi"}, "plugin 'BadPlugin' registered 'dict' where a Metric was expected"),
        (
            Metric("roi", "ROI again", "ratio", "A second roi.", formula="revenue / spend"),
            "plugin 'BadPlugin' registers metric 'roi', already registered by plugin 'core_metrics'",
        ),
    ],
    ids=["not-a-metric", "duplicate-id"],
)
def test_invalid_registration_names_the_plugin(tmp_path, roistory_pm, item, message):
    class BadPlugin:
        __name__ = "BadPlugin"

        @hookimpl
        def register_metrics(self, register):
            register(item)

    with register_plugin(roistory_pm, BadPlugin()):
        with pytest.raises(PluginError, match=re.escape(message)):
            render_report(project(tmp_path), formats=["json"], pm=roistory_pm)


# -- end invalid --


def test_error_inside_a_hook_names_the_plugin_and_hook(roistory_pm):
    class BrokenPlugin:
        __name__ = "BrokenPlugin"

        @hookimpl
        def register_metrics(self, register):
            register(Metric("spend_in_dollars", "Spend", "dollars", "Spend.", formula="spend"))

    with register_plugin(roistory_pm, BrokenPlugin()):
        with pytest.raises(
            PluginError,
            match=r"plugin 'BrokenPlugin' failed in register_metrics: ValueError: .*'dollars'",
        ):
            build_registry(roistory_pm)


def test_misspelt_hook_is_rejected_when_registered(roistory_pm):
    class TypoPlugin:
        __name__ = "TypoPlugin"

        @hookimpl
        def register_metric(self, register):  # no such hook: register_metrics
            pass

    with pytest.raises(pluggy.PluginValidationError, match="register_metric"):
        with register_plugin(roistory_pm, TypoPlugin()):
            pass
    assert not roistory_pm.has_plugin("TypoPlugin")
