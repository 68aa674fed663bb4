"""Data-quality findings in the report's language (issues 8 and 13).

A finding keeps the English ``message`` the JSON output and the CLI print (the demo JSON is
pinned by tests/test_golden.py) and the msgid it was made from; the data_quality section shows
the msgid translated, its numbers in the report's locale. Expected texts here are written out
from the catalogs' wording, their numbers formatted with Babel directly, not with roistory's
formatter.
"""

from __future__ import annotations

import ast
import gettext
import re
import string
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

from roistory.api import Finding, Joined, Phrase
from roistory.config import config_from_dict, load_config
from roistory.formatting import Formatter
from roistory.i18n import catalog_file, translations
from roistory.pipeline import build_report
from roistory.plugin_manager import build_registry
from roistory.sources import load_sources

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ("es", "id", "zh_Hant")
MARKERS = {"N_": 1, "Nn_": 2}  # marker -> how many msgids it takes (Nn_: singular, plural)


# --------------------------------------------------------------------------
# Every finding the code can produce is translatable, and translated
# --------------------------------------------------------------------------


def _marked(node: ast.AST) -> str | tuple[str, str] | None:
    """The msgid of an ``N_("...")`` / ``Nn_("...", "...")`` call, else None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MARKERS:
        texts = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if len(texts) == MARKERS[node.func.id] == len(node.args):
            return texts[0] if len(texts) == 1 else (texts[0], texts[1])
    return None


def _finding_sources() -> list[Path]:
    files = sorted((ROOT / "core").rglob("*.py")) + sorted((ROOT / "plugins").glob("*.py"))
    return [p for p in files if "Finding" in p.read_text(encoding="utf-8") and p.name != "api.py"]


def _functions(tree: ast.Module):
    yield tree
    yield from (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))


def finding_msgids() -> tuple[set[str | tuple[str, str]], list[str]]:
    """Every msgid a finding can be made of (Finding.of's, its phrases', list separators),
    and the construction sites that are not translatable (bare ``Finding(...)``, unmarked msgid)."""
    msgids: set[str | tuple[str, str]] = set()
    problems: list[str] = []
    for path in _finding_sources():
        where = path.relative_to(ROOT)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # in these modules every marked string belongs to a finding or one of its phrases
        msgids |= {m for node in ast.walk(tree) if (m := _marked(node))}
        for function in _functions(tree):
            bound = {}  # name -> is every assignment to it a marked msgid?
            for node in ast.walk(function):
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    name = node.targets[0].id
                    bound[name] = bound.get(name, True) and _marked(node.value) is not None
            for node in ast.walk(function):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                if isinstance(func, ast.Name) and func.id == "Finding" and path.name != "quality.py":
                    problems.append(
                        f"{where}:{node.lineno}: Finding(...) with English text; use Finding.of(msgid, **values)"
                    )
                if isinstance(func, ast.Attribute) and func.attr == "of" and getattr(func.value, "id", "") == "Finding":
                    msgid = node.args[3] if len(node.args) > 3 else None
                    ok = _marked(msgid) is not None or (isinstance(msgid, ast.Name) and bound.get(msgid.id, False))
                    if not ok:
                        problems.append(f"{where}:{node.lineno}: Finding.of's msgid is not N_(...) / Nn_(...)")
    return msgids, sorted(set(problems))  # a call inside a function is walked twice


def test_every_finding_is_made_from_a_marked_msgid():
    msgids, problems = finding_msgids()
    assert not problems, "\n".join(problems)
    assert len(msgids) >= 40  # the ~30 construction sites, their variants and phrases
    assert any(isinstance(m, tuple) for m in msgids)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_finding_msgid_is_translated_in_every_plural_form(locale):
    with catalog_file(locale).open("rb") as fp:
        catalog = read_po(fp, locale=locale.split("_")[0])
    msgids, _ = finding_msgids()
    problems = []
    for msgid in sorted(msgids, key=str):
        singular = msgid[0] if isinstance(msgid, tuple) else msgid
        entry = catalog.get(singular)
        if entry is None or entry.fuzzy:
            problems.append(f"missing or fuzzy: {msgid!r}")
            continue
        if isinstance(msgid, tuple):
            forms = entry.string if isinstance(entry.string, tuple) else ()
            if entry.id != msgid or len(forms) != catalog.num_plurals:
                problems.append(f"not a plural entry with {catalog.num_plurals} forms: {msgid!r}")
                continue
        else:
            forms = (entry.string,)
        if not all(form and form.strip() for form in forms):
            problems.append(f"untranslated: {msgid!r}")
    assert not problems, f"{locale}:\n" + "\n".join(problems)


def _sample_values(msgid: str | tuple[str, str]) -> dict:
    """A number for every placeholder (what a finding passes for counts, shares and totals)."""
    texts = msgid if isinstance(msgid, tuple) else (msgid,)
    names = {field for text in texts for _, field, _, _ in string.Formatter().parse(text) if field}
    return {name: 12345 for name in names}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_finding_msgid_renders_in_the_locale(locale):
    """Each translation fills in with the msgid's values (no placeholder lost or mistyped)
    for every plural form, and its numbers come out in the locale's grouping."""
    msgids, _ = finding_msgids()
    catalog, fmt = translations(locale), Formatter(locale, "EUR")
    grouped = format_decimal(12345, locale=locale)  # 12.345 in es and id, 12,345 in zh_Hant
    for msgid in msgids:
        values = _sample_values(msgid)
        for count in (1, 2, 12345):
            if "count" in values:
                values["count"] = count
            text = Phrase(msgid, **values).render(catalog, fmt)
            assert not re.search(r"\{[A-Za-z_]", text), (locale, msgid, text)  # every placeholder filled
            if set(values) - {"count"}:
                assert grouped in text, (locale, msgid, text)


# --------------------------------------------------------------------------
# The Phrase: English message, translation, locale numbers
# --------------------------------------------------------------------------

ROWS_OUTSIDE = (
    "{count} row falls outside the report period ({detail}); it is kept for comparisons and trends",
    "{count} rows fall outside the report period ({detail}); they are kept for comparisons and trends",
)


def _outside(count: int, by_table: dict[str, int]) -> Finding:
    detail = Joined([Phrase("{count} {table}", count=n, table=t) for t, n in by_table.items()])
    return Finding.of("info", "rows_outside_period", count, ROWS_OUTSIDE, detail=detail)


def test_the_english_message_is_the_msgid_filled_in_as_python_prints_it():
    finding = _outside(38128, {"spend": 5313, "touchpoints": 32815})
    assert finding.message == (
        "38128 rows fall outside the report period (5313 spend, 32815 touchpoints); they are kept for comparisons and "
        "trends"
    )
    assert finding.as_json() == {
        "severity": "info",
        "code": "rows_outside_period",
        "count": 38128,
        "message": finding.message,
    }
    assert _outside(1, {"spend": 1}).message.startswith("1 row falls outside the report period (1 spend); it is kept")


def test_a_finding_renders_in_spanish_with_spanish_numbers_and_plural():
    es = translations("es")
    text = _outside(38128, {"spend": 5313, "touchpoints": 32815}).render(es, Formatter("es", "EUR"))
    expected_numbers = [format_decimal(n, locale="es") for n in (38128, 32815)]
    assert expected_numbers == ["38.128", "32.815"]  # Babel's own Spanish grouping
    assert text == (
        f"{expected_numbers[0]} filas quedan fuera del período del informe (5313 spend, {expected_numbers[1]} "
        "touchpoints); se conservan para comparaciones y tendencias"
    )  # 5313: Spanish groups from five digits (CLDR minimumGroupingDigits 2)
    one = _outside(1, {"spend": 1}).render(es, Formatter("es", "EUR"))
    assert one == "1 fila queda fuera del período del informe (1 spend); se conserva para comparaciones y tendencias"


def test_english_report_groups_numbers_but_keeps_the_words():
    finding = _outside(38128, {"spend": 5313})
    text = finding.render(gettext.NullTranslations(), Formatter("en", "USD"))
    assert text == "38,128 rows fall outside the report period (5,313 spend); they are kept for comparisons and trends"


def test_percent_and_decimal_values_follow_the_locale():
    msgid = "source '{source}': {share:.1%} of the spread rows' cost falls on days outside the report period ({count} of their {days} days)"  # noqa: E501 (data as exported)
    finding = Finding.of("info", "multi_day_outside_period", 3, msgid, source="ads", share=0.3333, days=24)
    assert (
        finding.message
        == "source 'ads': 33.3% of the spread rows' cost falls on days outside the report period (3 of their 24 days)"
    )
    text = finding.render(translations("es"), Formatter("es", "EUR"))
    assert format_percent(0.3333, "#,##0.0%", locale="es") in text  # "33,3 %"
    assert text.startswith("fuente 'ads': el ") and "(3 de sus 24 días)" in text

    total = Phrase("{column} {value:,f}", column="cost", value=Decimal("13904.02"))
    assert total.render() == "cost 13,904.02"
    assert total.render(translations("es"), Formatter("es", "EUR")) == "cost " + format_decimal(
        Decimal("13904.02"), locale="es"
    )
    assert (
        Phrase("{column} {value:,f}", column="clicks", value=Decimal("1336")).render(
            translations("zh_Hant"), Formatter("zh_Hant", "TWD")
        )
        == "clicks 1,336"
    )


def test_names_and_codes_are_shown_as_they_are():
    finding = Finding.of("warning", "empty_source", 0, "source '{source}' has no rows", source="1234")
    assert finding.render(translations("es"), Formatter("es", "EUR")) == "la fuente '1234' no tiene filas"


def test_list_separators_are_translated():
    phrase = Phrase("{file}: {note}", file="a.csv", note=Joined(["'x'", "'y'"], "; "))
    assert phrase.render() == "a.csv: 'x'; 'y'"
    assert phrase.render(translations("zh_Hant"), Formatter("zh_Hant", "TWD")) == "a.csv：'x'；'y'"
    assert Phrase("{n}", n=Joined(["a", "b"])).render(translations("zh_Hant"), Formatter("zh_Hant")) == "a、b"


def test_a_finding_without_a_msgid_shows_its_message():
    """Third-party plugins that build Finding(severity, code, count, message) keep working."""
    finding = Finding("info", "my_plugin_note", 2, "2 things happened")
    assert finding.render(translations("es"), Formatter("es", "EUR")) == "2 things happened"
    assert finding == Finding.of("info", "my_plugin_note", 2, "{count} things happened")  # same four fields


# --------------------------------------------------------------------------
# Findings the readers produce, rendered
# --------------------------------------------------------------------------


def test_a_google_ads_export_findings_in_spanish(tmp_path):
    """A range-in-title export with a total row: its multi-day and reconciled-totals findings
    read in Spanish, with the totals written the Spanish way."""
    cost, impressions = 13904.02, 264551
    (tmp_path / "export.csv").write_text(
        'Campaign report\n"July 8, 2025 - July 31, 2025"\nCampaign,Campaign type,Cost,Impr.\n'
        f'Brand,Search,"{cost:,.2f}","{impressions:,}"\nTotal: Account,--,"{cost:,.2f}","{impressions:,}"\n',
        encoding="utf-8",
    )
    config = config_from_dict(
        {
            "report": {"period": "2025-07", "currency": "EUR"},
            "sources": [{"name": "ads", "type": "google_ads", "path": "export.csv", "table": "spend"}],
        },
        path=tmp_path / "report.yaml",
    )
    _, (loaded,) = load_sources(config, build_registry().sources)
    es, fmt = translations("es"), Formatter("es", "EUR")
    shown = {f.code: f.render(es, fmt) for f in loaded.findings}
    english = {f.code: f.message for f in loaded.findings}
    assert english["totals_reconciled"] == (
        f"source 'ads': the rows add up to the export's own total ('Total: Account'): cost {cost:,.2f}, impressions "
        f"{impressions:,}"
    )
    assert shown["totals_reconciled"] == (
        "fuente 'ads': las filas suman lo mismo que el total de la propia exportación ('Total: Account'): "
        f"cost {format_decimal(cost, '#,##0.00', locale='es')}, impressions {format_decimal(impressions, locale='es')}"
    )
    days = 24  # July 8 to 31
    assert shown["multi_day_rows"].startswith("fuente 'ads': 1 fila abarca varios días (p. ej., fila ")
    assert f"y se repartió por igual entre {days} días" in shown["multi_day_rows"]


@pytest.fixture(scope="module")
def example_report():
    return build_report(load_config(ROOT / "examples" / "acme" / "report.yaml"), write_history=False)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_finding_of_the_example_is_translated(example_report, locale):
    catalog, fmt = translations(locale), Formatter(locale, "USD")
    assert {f.code for f in example_report.data_quality} >= {
        "duplicate_leads",
        "rows_outside_period",
        "leads_without_touchpoints",
    }
    for finding in example_report.data_quality:
        assert finding.text is not None, finding.code
        msgid = finding.text.msgid
        singular = msgid[0] if isinstance(msgid, tuple) else msgid
        translated = catalog.ngettext(*msgid, finding.count) if isinstance(msgid, tuple) else catalog.gettext(msgid)
        assert translated not in (singular, msgid[-1] if isinstance(msgid, tuple) else msgid), (locale, finding.code)
        assert finding.render(catalog, fmt) != finding.message, (locale, finding.code)
