"""A finished run read back from its folder, and its review state (draft, approved).

A run is an output folder holding ``<name>.{html,pdf,json}`` and
``<name>.manifest.json``. ``roistory run --draft`` marks the manifest as a draft
(and watermarks the pages); ``roistory approve RUN`` writes
``<name>.approval.json`` with the outputs' SHA-256 at the time of review, so a
file changed after approval is never delivered.
"""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from roistory.audit import MANIFEST_SUFFIX, load_manifest, sha256
from roistory.errors import BadInputError


@dataclass
class Run:
    """A finished run read back from its folder: what it produced and its review state."""

    manifest_path: Path
    manifest: dict[str, Any]

    @classmethod
    def load(cls, run: Path) -> Run:
        return cls(*load_manifest(run))

    @property
    def folder(self) -> Path:
        return self.manifest_path.parent

    @property
    def name(self) -> str:
        return self.manifest_path.name.removesuffix(MANIFEST_SUFFIX)

    @property
    def draft(self) -> bool:
        return bool(self.manifest.get("draft"))

    @property
    def title(self) -> str:
        return self.manifest["report"]["title"]

    @property
    def client(self) -> str | None:
        return self.manifest["report"].get("client")

    @property
    def period(self) -> str:
        return self.manifest["report"]["period"]

    @property
    def period_name(self) -> str:
        """The period as the report names it, in its language ("octubre de 2026")."""
        return self.manifest["report"].get("period_name") or self.period

    @property
    def locale(self) -> str:
        return self.manifest["report"].get("locale", "en")

    @property
    def base_dir(self) -> Path:
        """The folder of the report's config: relative paths in its settings start here."""
        config_path = self.manifest.get("config_path")
        return Path(config_path).parent if config_path else self.folder

    @property
    def outputs(self) -> dict[str, Path]:
        return {fmt: self.folder / entry["file"] for fmt, entry in self.manifest["outputs"].items()}

    @property
    def recorded_sha256(self) -> dict[str, str]:
        return {fmt: entry["sha256"] for fmt, entry in self.manifest["outputs"].items()}

    def sibling(self, kind: str) -> Path:
        return self.folder / f"{self.name}.{kind}.json"

    def check_outputs_unchanged(self, expected: dict[str, str]) -> None:
        """Every output still exists with the SHA-256 it had (when rendered, or when approved)."""
        for fmt, path in self.outputs.items():
            if not path.is_file():
                raise BadInputError(f"{path}: missing; the run is incomplete")
            if sha256(path.read_bytes()) != expected.get(fmt):
                raise BadInputError(f"{path}: changed since it was rendered or approved; render and approve again")

    @property
    def approval(self) -> dict[str, Any] | None:
        path = self.sibling("approval")
        if not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment (a container without a passwd entry)
        return "unknown"


def approve(run: Run, *, by: str | None = None, note: str | None = None) -> dict[str, Any]:
    """Mark a reviewed, final run as approved for delivery; returns the approval record."""
    if run.draft:
        raise BadInputError(f"{run.manifest_path}: a draft cannot be approved; render it again without --draft")
    run.check_outputs_unchanged(run.recorded_sha256)
    record = {
        "approved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "approved_by": by or _user(),
        "note": note,
        "outputs": run.recorded_sha256,
    }
    run.sibling("approval").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record
