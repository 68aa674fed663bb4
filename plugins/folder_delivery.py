"""Delivery to a folder (a file share, a synced drive), in a dated layout.

``{type: folder, path: /srv/reports}`` copies the approved outputs to
``/srv/reports/<delivery date>/<client>/<file>``; ``formats: [pdf]`` limits
which outputs are copied (default: all). A relative ``path`` is relative to the
report's config.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import date
from pathlib import Path

from roistory.api import ConfigError, DeliveryError, Receipt, hookimpl

KEYS = {"path", "formats"}


def _settings(destination) -> tuple[str, list[str] | None]:
    extra = dict(destination.model_extra or {})
    unknown = sorted(set(extra) - KEYS)
    if unknown:
        raise ConfigError(f"unknown key for a folder delivery; use {', '.join(sorted(KEYS))}", key=unknown[0])
    path = extra.get("path")
    if not isinstance(path, str) or not path.strip():
        raise ConfigError("required: the folder to deliver into", key="path")
    formats = extra.get("formats")
    if formats is not None and not (isinstance(formats, list) and all(f in ("html", "pdf", "json") for f in formats)):
        raise ConfigError("a list of html, pdf, json", key="formats")
    return path, formats


def _copy(source: Path, target: Path) -> None:
    """Copy under a temporary name, then rename: a reader never sees half a PDF."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(handle)
    try:
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@hookimpl
def deliver(destination, run, dry_run):
    if destination.type != "folder":
        return None
    path, formats = _settings(destination)
    if run is None:
        return Receipt(location=path)
    folder = (run.base_dir / path).resolve() / date.today().isoformat() / (run.client or run.name)
    # with editions the outputs are keyed <edition>.<format>
    files = [p for key, p in run.outputs.items() if formats is None or key.rsplit(".", 1)[-1] in formats]
    if not dry_run:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for file in files:
                _copy(file, folder / file.name)
        except OSError as exc:
            raise DeliveryError(f"folder delivery to {folder}: {exc.strerror or exc}") from None
    return Receipt(location=str(folder), detail=", ".join(f.name for f in files))
