"""Example for deliver: `{type: index, path: index.csv}` adds a line per delivered file to a CSV
that a client portal reads."""

import csv
from datetime import date

from roistory.api import ConfigError, Receipt, hookimpl


@hookimpl
def deliver(destination, run, dry_run):
    if destination.type != "index":
        return None  # another plugin's type
    path = (destination.model_extra or {}).get("path")
    if not path:
        raise ConfigError("required: the CSV file to add lines to", key="path")
    if run is None:  # only checking the settings, before rendering
        return Receipt(location=path)
    index = run.base_dir / path
    rows = [[date.today().isoformat(), run.client, run.period, file.name, run.recorded_sha256[fmt]]
            for fmt, file in run.outputs.items()]
    if not dry_run:
        with index.open("a", newline="", encoding="utf-8") as out:
            csv.writer(out).writerows(rows)
    return Receipt(location=str(index), detail=f"{len(rows)} files")
