"""The run manifest: what a report was made from and what it produced, for the audit trail.

``<name>.manifest.json`` records roistory, Python, library and plugin versions,
the effective config, every input (path, rows, SHA-256), every output's SHA-256
and the headline metrics. Everything except ``timings`` depends only on the
inputs, so re-running a month with the same data and software gives the same
manifest apart from ``timings`` (``roistory diff`` ignores them).
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roistory import __version__
from roistory.errors import ConfigError
from roistory.plugin_manager import get_plugin_manager, loaded_plugins, plugin_info
from roistory.sources import file_sha256

if TYPE_CHECKING:
    from roistory.context import ReportContext as Report

MANIFEST_SUFFIX = ".manifest.json"
# the libraries whose versions can change a number or a page
LIBRARIES = (
    "pandas",
    "numpy",
    "pyarrow",
    "scipy",
    "duckdb",
    "pluggy",
    "pydantic",
    "jinja2",
    "babel",
    "weasyprint",
    "pydyf",
    "matplotlib",
    "pyyaml",
    "click",
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return versions


def headline_metrics(report: Report) -> dict[str, float]:
    """Every measurable metric of the whole report in the current period."""
    values = {}
    for metric_id in report.selected_metrics:
        value = report.value(metric_id, "current")
        if isinstance(value, int | float) and not math.isnan(value):
            values[metric_id] = float(value)
    return values


def build_manifest(
    report: Report, outputs: dict[str, tuple[Path, bytes]], *, draft: bool = False, seconds: float | None = None
) -> dict[str, Any]:
    """The manifest of one rendered report; ``outputs`` maps format to (path, content)."""
    pm = report.pm or get_plugin_manager()
    plugins = []
    for name, _plugin in loaded_plugins(pm):
        info = plugin_info(pm, name)
        plugins.append({"name": name, "distribution": info.distribution, "version": info.version})
    settings = report.config.report
    return {
        "roistory_version": __version__,
        "report": {
            "title": settings.title,
            "client": settings.client,
            "period": report.period.label,
            "period_name": report.formatter.period(report.period),  # in the report's language
            "locale": settings.locale,
        },
        "draft": draft,
        "python": {"version": platform.python_version(), "implementation": platform.python_implementation()},
        "libraries": library_versions(),
        "plugins": plugins,
        "config": report.config.model_dump(mode="json", exclude={"base_dir", "path"}),
        "config_path": str(report.config.path.resolve()) if report.config.path else None,
        "inputs": [
            {**source.as_json(), "type": source.type, "path": str(source.path) if source.path else None}
            for source in report.inputs
        ],
        # measured lift / MMM files shown beside the attribution models (roistory.incrementality)
        "incrementality_inputs": [
            {
                "name": item.name,
                "type": item.type,
                "path": str(report.config.resolve(item.path)),
                "rows": int((report.incrementality["source"] == item.name).sum()),
                "sha256": file_sha256(report.config.resolve(item.path)),
            }
            for item in report.config.incrementality
        ],
        "outputs": {
            fmt: {"file": path.name, "sha256": sha256(data), "bytes": len(data)}
            for fmt, (path, data) in outputs.items()
        },
        "metrics": headline_metrics(report),
        "timings": {
            "rendered_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(seconds, 3) if seconds is not None else None,
        },
    }


def manifest_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def find_manifest(run: Path) -> Path:
    """RUN is a run's output folder (holding one manifest) or a manifest file."""
    if run.is_file() and run.name.endswith(MANIFEST_SUFFIX):
        return run
    if not run.is_dir():
        raise ConfigError("not a run's output folder or a *.manifest.json file", file=str(run))
    found = sorted(run.glob(f"*{MANIFEST_SUFFIX}"))
    if not found:
        raise ConfigError("no *.manifest.json here: is this a run's output folder?", file=str(run))
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise ConfigError(f"holds {len(found)} reports ({names}); name one manifest file", file=str(run))
    return found[0]


def load_manifest(run: Path) -> tuple[Path, dict[str, Any]]:
    path = find_manifest(run)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the manifest: {exc}", file=str(path)) from None
    if not isinstance(data, dict) or "outputs" not in data:
        raise ConfigError("not a roistory manifest", file=str(path))
    return path, data
