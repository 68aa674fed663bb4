"""A pytest kit for testing roistory plugins (and roistory itself).

Installed with roistory as a ``pytest11`` plugin, so its fixtures need no
import: any test in an environment where roistory is installed can ask for
``roistory_pm``. The helpers are imported from here::

    from roistory.testing import make_spend, register_plugin, render_report, write_project

- :func:`roistory_pm` (fixture): a fresh plugin manager with the installed plugins.
- :func:`register_plugin`: register a plugin object for the duration of a ``with`` block.
- :func:`plugin_registry`: what the plugins on a manager register, and who provided each item.
- :func:`make_spend`, :func:`make_touchpoints`, :func:`make_conversions`,
  :func:`make_leads`: small canonical tables that agree with each other
  (March 2026, three channels, four people, three conversions worth 4,000).
- :func:`write_project`: a report project (CSV files and ``report.yaml``) in a folder.
- :func:`render_report`: build and render a project; HTML text, parsed JSON, PDF text.

pytest imports this module at startup in every test run, so it imports only
the standard library and pytest at module level; pandas and the roistory core
are imported when a helper is first called.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import pandas as pd
    import pluggy

    from roistory.context import ReportContext
    from roistory.registry import Registry

__all__ = [
    "DEFAULT_PERIOD",
    "RenderedReport",
    "make_conversions",
    "make_leads",
    "make_spend",
    "make_touchpoints",
    "pdf_text",
    "plugin_registry",
    "register_plugin",
    "render_report",
    "roistory_pm",
    "write_project",
]

DEFAULT_PERIOD = "2026-03"
"""The month the factories' rows fall in; :func:`write_project` reports on it by default."""


# --------------------------------------------------------------------------
# Plugin manager
# --------------------------------------------------------------------------


@pytest.fixture
def roistory_pm() -> pluggy.PluginManager:
    """A new plugin manager with roistory's hookspecs and every installed plugin.

    Each test gets its own, so plugins registered on it never leak into other
    tests. Pass it to :func:`render_report` or ``build_report(config, pm=...)``.
    """
    from roistory.plugin_manager import new_plugin_manager

    return new_plugin_manager()


@contextmanager
def register_plugin(pm: pluggy.PluginManager, plugin: object, name: str | None = None) -> Iterator[object]:
    """Register ``plugin`` on ``pm`` inside a ``with`` block; always unregister it after.

    ``plugin`` is a module, class instance or any object with ``@hookimpl``
    functions. ``name`` defaults to the object's ``__name__``. A hook
    implementation whose name matches no hookspec (a typo) raises
    :class:`pluggy.PluginValidationError` here, and nothing stays registered.
    """
    registered = pm.register(plugin, name=name)
    if registered is None:
        raise ValueError(f"plugin {name or plugin!r} is blocked on this plugin manager")
    try:
        pm.check_pending()
        yield plugin
    finally:
        pm.unregister(name=registered)


def plugin_registry(pm: pluggy.PluginManager) -> Registry:
    """What the plugins on ``pm`` register, and who provided each item.

    ``registry.metrics["crm_win_rate"]`` is the registered :class:`~roistory.api.Metric`;
    ``registry.provider("metric", "crm_win_rate")`` names the plugin that registered it
    (kinds: ``source``, ``metric``, ``model``, ``section``, ``theme``).
    """
    from roistory.plugin_manager import build_registry

    return build_registry(pm)


# --------------------------------------------------------------------------
# Canonical tables
# --------------------------------------------------------------------------


def _frame(defaults: dict[str, list[Any]], overrides: dict[str, Any]) -> pd.DataFrame:
    """``defaults`` with columns replaced: a scalar fills every row, a list sets one value
    per row (and the row count: other columns repeat to fit), ``None`` drops the column."""
    import pandas as pd

    columns = dict(defaults)
    lists = {k: list(v) for k, v in overrides.items() if _is_list(v)}
    rows = len(next(iter(lists.values()))) if lists else len(next(iter(defaults.values())))
    if any(len(v) != rows for v in lists.values()):
        raise ValueError("list overrides must all have the same length")
    for name, value in overrides.items():
        if value is None:
            columns.pop(name, None)
        elif name in lists:
            columns[name] = lists[name]
        else:
            columns[name] = [value] * rows
    fitted = {name: [values[i % len(values)] for i in range(rows)] for name, values in columns.items()}
    return pd.DataFrame(fitted)


def _is_list(value: Any) -> bool:
    if isinstance(value, str | bytes):
        return False
    return isinstance(value, Sequence | Iterator) or getattr(value, "ndim", 0) > 0


def make_spend(**columns: Any) -> pd.DataFrame:
    """A ``spend`` table: six rows, three channels, 2,100 of cost in March 2026.

    Keyword arguments replace columns: ``make_spend(channel="Email")`` sets every
    row, ``make_spend(cost=[10, 20])`` gives two rows (other columns repeat),
    ``make_spend(clicks=None)`` drops a column. Dates are ISO strings, as in a file.
    """
    return _frame(
        {
            "date": ["2026-03-02"] * 3 + ["2026-03-16"] * 3,
            "channel": ["Paid Search", "Paid Social", "Email"],
            "campaign": ["Brand", "Prospecting", "Newsletter"],
            "cost": [500.0, 300.0, 100.0, 700.0, 400.0, 100.0],
            "impressions": [10_000, 20_000, 5_000, 12_000, 25_000, 5_000],
            "clicks": [400, 300, 150, 500, 350, 150],
        },
        columns,
    )


def make_touchpoints(**columns: Any) -> pd.DataFrame:
    """A ``touchpoints`` table: six touches of people P1–P4 in March 2026.

    P1 (Paid Search, then Email), P2 (Paid Social) and P3 (Email, then Paid
    Search) convert in :func:`make_conversions`; P4 (Paid Social) does not.
    Overrides work as in :func:`make_spend`.
    """
    return _frame(
        {
            "person_id": ["P1", "P1", "P2", "P3", "P3", "P4"],
            "timestamp": [
                "2026-03-01T10:00:00",
                "2026-03-05T09:00:00",
                "2026-03-03T12:00:00",
                "2026-03-04T08:00:00",
                "2026-03-10T15:00:00",
                "2026-03-12T11:00:00",
            ],
            "channel": [
                "Paid Search",
                "Email",
                "Paid Social",
                "Email",
                "Paid Search",
                "Paid Social",
            ],
            "campaign": [
                "Brand",
                "Newsletter",
                "Prospecting",
                "Newsletter",
                "Brand",
                "Prospecting",
            ],
            "interaction": ["click", "email_click", "click", "email_open", "click", "click"],
        },
        columns,
    )


def make_conversions(**columns: Any) -> pd.DataFrame:
    """A ``conversions`` table: P1, P2 and P3 convert in March 2026 for 1,200 + 800 + 2,000.

    Overrides work as in :func:`make_spend`.
    """
    return _frame(
        {
            "person_id": ["P1", "P2", "P3"],
            "timestamp": ["2026-03-06T12:00:00", "2026-03-04T09:30:00", "2026-03-11T16:00:00"],
            "revenue": [1200.0, 800.0, 2000.0],
            "conversion_type": ["closed_won"] * 3,
            "deal_id": ["D1", "D2", "D3"],
        },
        columns,
    )


def make_leads(**columns: Any) -> pd.DataFrame:
    """A ``leads`` table: L1–L4 for people P1–P4; L1–L3 won (4,000 in all), L4 lost.

    The won dates and amounts match :func:`make_conversions`. Empty cells are
    ``None``. Overrides work as in :func:`make_spend`.
    """
    return _frame(
        {
            "lead_id": ["L1", "L2", "L3", "L4"],
            "created_at": ["2026-03-01", "2026-03-03", "2026-03-04", "2026-03-12"],
            "person_id": ["P1", "P2", "P3", "P4"],
            "email": ["p1@example.com", "p2@example.com", "p3@example.com", "p4@example.com"],
            "source_channel": ["Paid Search", "Paid Social", "Email", "Paid Social"],
            "mql_at": ["2026-03-02", "2026-03-03", "2026-03-05", "2026-03-13"],
            "sql_at": ["2026-03-04", "2026-03-03", "2026-03-08", None],
            "won_at": ["2026-03-06", "2026-03-04", "2026-03-11", None],
            "lost_at": [None, None, None, "2026-03-20"],
            "amount": [1200.0, 800.0, 2000.0, None],
        },
        columns,
    )


# --------------------------------------------------------------------------
# Report projects
# --------------------------------------------------------------------------


def write_project(
    tmp_path: Path,
    tables: Mapping[str, pd.DataFrame],
    *,
    sources: Sequence[Mapping[str, Any]] = (),
    config: Mapping[str, Any] | None = None,
    **report_settings: Any,
) -> Path:
    """Write a report project into ``tmp_path``; return the path of its ``report.yaml``.

    :param tables: canonical table name → rows; each is written to
        ``data/<table>.csv`` and read by a ``csv`` source of the same name.
    :param sources: more ``sources:`` entries, as in report.yaml (paths relative
        to ``tmp_path``), e.g. a file in a plugin's own format.
    :param config: other top-level keys of report.yaml (``attribution``,
        ``metrics``, ``custom_metrics``, ``goals``, ``sections``).
    :param report_settings: keys of the ``report:`` mapping. Defaults: period
        :data:`DEFAULT_PERIOD`, no comparison periods, formats html and json.
    """
    import yaml

    tmp_path = Path(tmp_path)
    (tmp_path / "data").mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, Any]] = []
    for table, frame in tables.items():
        frame.to_csv(tmp_path / "data" / f"{table}.csv", index=False)
        entries.append({"name": table, "type": "csv", "path": f"data/{table}.csv", "table": table})
    report = {
        "title": "Test report",
        "period": DEFAULT_PERIOD,
        "compare": [],
        "formats": ["html", "json"],
    }
    report.update(report_settings)
    document = {"report": report, "sources": entries + [dict(s) for s in sources], **(config or {})}
    path = tmp_path / "report.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@dataclass
class RenderedReport:
    """What :func:`render_report` produced: text to assert on, and where the files are."""

    report: ReportContext
    paths: dict[str, Path]
    html: str | None = None
    json: dict[str, Any] | None = None
    pdf_text: str | None = None

    def metric(
        self, metric_id: str, *, segment: Mapping[str, str] | None = None, period: str = "current"
    ) -> float | None:
        """A value from the JSON ``metrics`` list, or ``None`` when it is not measurable."""
        assert self.json is not None, "render with 'json' in formats to read metrics"
        for record in self.json["metrics"]:
            if record["id"] == metric_id and record["period"] == period and record["segment"] == dict(segment or {}):
                return record["value"]
        return None


def render_report(
    config_path: str | Path,
    formats: Sequence[str] = ("html", "json"),
    pm: pluggy.PluginManager | None = None,
    *,
    out_dir: str | Path | None = None,
) -> RenderedReport:
    """Build and render the report ``config_path`` describes, as ``roistory run`` would.

    :param formats: any of ``html``, ``json``, ``pdf``.
    :param pm: the plugin manager to use (e.g. the ``roistory_pm`` fixture with a
        test plugin registered); default: the process-wide one.
    :param out_dir: where files are written; default ``out/`` beside the config.

    Returns the HTML text, the parsed JSON and, for ``pdf``, the PDF's text as
    ``pdftotext -layout`` (poppler-utils) extracts it, or pypdf when
    ``pdftotext`` is not installed.
    """
    from roistory.config import load_config
    from roistory.pipeline import build_report
    from roistory.render import write_report

    config_path = Path(config_path)
    report = build_report(load_config(config_path), pm=pm)
    paths = write_report(report, Path(out_dir) if out_dir else config_path.parent / "out", list(formats))
    return RenderedReport(
        report=report,
        paths=paths,
        html=paths["html"].read_text(encoding="utf-8") if "html" in paths else None,
        json=json.loads(paths["json"].read_text(encoding="utf-8")) if "json" in paths else None,
        pdf_text=pdf_text(paths["pdf"]) if "pdf" in paths else None,
    )


def pdf_text(path: str | Path) -> str:
    """The text of a PDF: ``pdftotext -layout`` when installed, else pypdf."""
    if shutil.which("pdftotext"):
        done = subprocess.run(
            ["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"],
            capture_output=True,
            check=True,
            timeout=120,
        )
        return done.stdout.decode("utf-8")
    try:
        from pypdf import PdfReader
    except ImportError:
        raise RuntimeError("reading PDF text needs pdftotext (poppler-utils) or pypdf") from None
    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)
