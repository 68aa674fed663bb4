"""Sending approved runs through delivery plugins, and the record of every delivery.

A report's ``delivery:`` entries each name a ``type``; the plugin implementing
the ``deliver`` hook for that type sends the run's outputs and returns a
:class:`Receipt`. Every delivery is appended to ``<name>.deliveries.json`` beside
the manifest: when, which destination, to whom, where, and the SHA-256 of the
outputs sent. A destination that already received these outputs is refused
unless forced, so a re-run of the month-end script does not e-mail a client twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pluggy
from pydantic import ValidationError

from roistory.config import Config, DeliveryConfig
from roistory.errors import BadInputError, ConfigError, PluginError
from roistory.plugin_manager import get_plugin_manager
from roistory.review import Run


@dataclass(frozen=True)
class Receipt:
    """What a delivery plugin did (or, in a dry run, would do).

    ``recipients``: the addresses or people it went to; ``location``: where
    (a folder, ``smtp.example.com:587``); ``detail``: anything else worth recording
    (a message id, the files written).
    """

    recipients: list[str] = field(default_factory=list)
    location: str = ""
    detail: str = ""


def _deliver_one(
    pm: pluggy.PluginManager,
    destination: DeliveryConfig,
    run: Run | None,
    *,
    dry_run: bool,
    where: str,
    file: str | None = None,
) -> Receipt:
    try:
        receipt = pm.hook.deliver(destination=destination, run=run, dry_run=dry_run)
    except ConfigError as exc:  # the plugin names its own key; say which entry it is in
        key = f"{where}.{exc.key}" if exc.key else where
        raise ConfigError(exc.message, file=exc.file or file, key=key) from None
    if receipt is None:
        raise ConfigError(f"no installed plugin delivers type '{destination.type}'", file=file, key=f"{where}.type")
    if not isinstance(receipt, Receipt):
        raise PluginError(f"a deliver hook returned {type(receipt).__name__!r} where a Receipt was expected")
    return receipt


def check_destinations(config: Config, pm: pluggy.PluginManager | None = None) -> None:
    """Each ``delivery:`` entry has a plugin for its type and settings that plugin accepts."""
    pm = pm or get_plugin_manager()
    for index, destination in enumerate(config.delivery):
        file = str(config.path) if config.path else None
        _deliver_one(pm, destination, None, dry_run=True, where=f"delivery[{index}]", file=file)


def destinations(run: Run) -> list[DeliveryConfig]:
    entries = run.manifest.get("config", {}).get("delivery") or []
    try:
        return [DeliveryConfig.model_validate(entry) for entry in entries]
    except ValidationError as exc:
        raise ConfigError(f"delivery: {exc.errors()[0]['msg']}", file=str(run.manifest_path)) from None


def delivery_records(run: Run) -> list[dict[str, Any]]:
    path = run.sibling("deliveries")
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def deliver_run(
    run: Run, *, force: bool = False, dry_run: bool = False, pm: pluggy.PluginManager | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Send an approved run to every destination of its config.

    Returns the new delivery records and the destinations skipped because they
    already received these exact outputs (all skipped, without ``force``, is an error).
    """
    pm = pm or get_plugin_manager()
    if run.draft:
        raise BadInputError(f"{run.manifest_path}: a draft is never delivered")
    approval = run.approval
    if approval is None:
        raise BadInputError(f"{run.folder}: not approved; review it, then `roistory approve {run.folder}`")
    run.check_outputs_unchanged(approval["outputs"])
    targets = destinations(run)
    if not targets:
        raise ConfigError("the report's config has no delivery: entries", file=str(run.manifest_path))
    records = delivery_records(run)
    sent_before = {r["destination"]: r for r in records if r["outputs"] == approval["outputs"]}
    skipped = [] if force else [d.key for d in targets if d.key in sent_before]
    todo = [d for d in targets if d.key not in skipped]
    if not todo:
        last = sent_before[skipped[-1]]
        raise BadInputError(
            f"{run.folder}: already delivered to every destination (last {last['delivered_at']}); "
            "use --force to send again"
        )
    new = []
    for destination in todo:
        where = f"delivery[{targets.index(destination)}]"
        receipt = _deliver_one(pm, destination, run, dry_run=dry_run, where=where, file=str(run.manifest_path))
        record = {
            "delivered_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "destination": destination.key,
            "type": destination.type,
            "recipients": list(receipt.recipients),
            "location": receipt.location,
            "detail": receipt.detail,
            "outputs": approval["outputs"],
            "forced": force and destination.key in sent_before,
        }
        new.append(record)
        if not dry_run:  # recorded one by one: a later failure keeps the earlier sends on record
            records.append(record)
            run.sibling("deliveries").write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    return new, skipped
