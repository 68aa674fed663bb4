"""``roistory diff RUN_A RUN_B``: what changed between two runs, read from their manifests.

Compared: the report (title, client, period, locale, draft), headline metrics
whose relative change exceeds a threshold (or that became (not) measurable),
inputs (added, removed, rows, content), the effective config key by key,
plugin, library and Python versions, and the outputs' SHA-256. ``timings`` are
ignored: two runs of the same inputs with the same software show no change.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from roistory.audit import load_manifest
from roistory.cascade import item_key

DEFAULT_THRESHOLD = 0.01


def flatten(value: Any, key: str = "", list_name: str = "") -> dict[str, Any]:
    """Dotted keys to leaf values; entries of keyed lists (sources, goals …) by their name."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for name, child in value.items():
            out.update(flatten(child, f"{key}.{name}" if key else str(name), str(name)))
        return out
    if isinstance(value, list) and value and all(item_key(list_name, v) for v in value):
        out = {}
        for item in value:
            out.update(flatten(item, f"{key}[{item_key(list_name, item)}]"))
        return out
    return {key: value}


def _changed_keys(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"key": key, "a": a.get(key), "b": b.get(key)} for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)
    ]


def _metric_changes(a: dict[str, float], b: dict[str, float], threshold: float) -> list[dict[str, Any]]:
    changes = []
    for metric in [*a, *(m for m in b if m not in a)]:
        old, new = a.get(metric), b.get(metric)
        if old is None or new is None:
            changes.append({"id": metric, "a": old, "b": new, "change": None, "relative": None})
            continue
        relative = (new - old) / abs(old) if old else (0.0 if new == old else None)
        if relative is None or abs(relative) > threshold:
            changes.append({"id": metric, "a": old, "b": new, "change": new - old, "relative": relative})
    return changes


def _input_changes(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[dict[str, Any]]:
    before = {i["source"]: i for i in a}
    after = {i["source"]: i for i in b}
    changes = []
    for source in [*before, *(s for s in after if s not in before)]:
        old, new = before.get(source), after.get(source)
        if old is None or new is None:
            changes.append({"source": source, "change": "added" if old is None else "removed"})
            continue
        what = [k for k in ("rows", "sha256", "path", "type") if old.get(k) != new.get(k)]
        if what:
            changes.append(
                {
                    "source": source,
                    "change": ", ".join(what),
                    "a": {k: old.get(k) for k in what},
                    "b": {k: new.get(k) for k in what},
                }
            )
    return changes


def _versions(manifest: dict[str, Any]) -> dict[str, Any]:
    versions = {f"plugin {p['name']}": p.get("version") for p in manifest.get("plugins", [])}
    versions.update({f"library {k}": v for k, v in (manifest.get("libraries") or {}).items()})
    versions["python"] = (manifest.get("python") or {}).get("version")
    versions["roistory"] = manifest.get("roistory_version")
    return versions


def diff_manifests(a: dict[str, Any], b: dict[str, Any], threshold: float = DEFAULT_THRESHOLD) -> dict[str, Any]:
    report_a = {**a.get("report", {}), "draft": a.get("draft", False)}
    report_b = {**b.get("report", {}), "draft": b.get("draft", False)}
    outputs_a = {fmt: o.get("sha256") for fmt, o in a.get("outputs", {}).items()}
    outputs_b = {fmt: o.get("sha256") for fmt, o in b.get("outputs", {}).items()}
    result = {
        "threshold": threshold,
        "report": _changed_keys(report_a, report_b),
        "metrics": _metric_changes(a.get("metrics", {}), b.get("metrics", {}), threshold),
        "inputs": _input_changes(a.get("inputs", []), b.get("inputs", [])),
        "config": _changed_keys(flatten(a.get("config", {})), flatten(b.get("config", {}))),
        "versions": _changed_keys(_versions(a), _versions(b)),
        "outputs": _changed_keys(outputs_a, outputs_b),
    }
    result["changed"] = any(result[k] for k in ("report", "metrics", "inputs", "config", "versions", "outputs"))
    return result


def diff_runs(run_a: Path, run_b: Path, threshold: float = DEFAULT_THRESHOLD) -> dict[str, Any]:
    path_a, manifest_a = load_manifest(run_a)
    path_b, manifest_b = load_manifest(run_b)
    return {"a": str(path_a), "b": str(path_b), **diff_manifests(manifest_a, manifest_b, threshold)}


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return "—" if value is None else json.dumps(value, ensure_ascii=False)


def diff_text(diff: dict[str, Any]) -> str:
    """The diff as plain text, one change per line under a heading per kind."""
    lines = [f"A: {diff['a']}", f"B: {diff['b']}"]
    if not diff["changed"]:
        return "\n".join([*lines, "no change (timings aside)"])
    for kind in ("report", "config", "versions", "outputs"):
        if diff[kind]:
            lines.append(f"{kind}:")
            lines += [f"  {c['key']}: {_number(c['a'])} -> {_number(c['b'])}" for c in diff[kind]]
    if diff["inputs"]:
        lines.append("inputs:")
        for change in diff["inputs"]:
            detail = ""
            if "a" in change:
                detail = "  " + ", ".join(
                    f"{k} {_number(change['a'][k])} -> {_number(change['b'][k])}" for k in change["a"] if k != "sha256"
                )
            lines.append(f"  {change['source']}: {change['change']}{detail}")
    if diff["metrics"]:
        lines.append(f"metrics (moved more than {diff['threshold']:.1%}):")
        for change in diff["metrics"]:
            moved = "" if change["relative"] is None else f"  ({change['relative']:+.1%})"
            lines.append(f"  {change['id']}: {_number(change['a'])} -> {_number(change['b'])}{moved}")
    return "\n".join(lines)
