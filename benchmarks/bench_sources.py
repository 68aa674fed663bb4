"""Loading speed of the source plugins against pyarrow's readers alone on the same files.

    .venv/bin/python benchmarks/bench_sources.py [--spend-rows 1000000] [--touchpoints 10000000] [--repeat 3]

- CSV: 1M spend rows (a Google Ads-like daily campaign export: date, campaign,
  impressions, clicks, cost, currency) loaded by the ``csv`` source type
  (sniffing, parsing, validation, duplicate check, into the canonical table)
  against ``pyarrow.csv.read_csv`` alone. Target: ratio <= 2.
- Parquet: 10M touchpoints (person_id, timestamp, channel, campaign, interaction)
  loaded by the ``parquet`` source type against ``pyarrow.parquet.read_table``
  alone. Target: ratio <= 1.5.

Each figure is the best of ``--repeat`` runs in this process (files warm in the
page cache for both sides). Prints one line per benchmark and the ratios.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from roistory.config import config_from_dict
from roistory.plugin_manager import build_registry
from roistory.sources import load_source


def make_spend_csv(path: Path, rows: int) -> None:
    rng = np.random.default_rng(1)
    days = pd.date_range("2025-01-01", periods=730).strftime("%Y-%m-%d").to_numpy()
    campaigns = np.array([f"Campaign {i:03d} - {kind}" for i in range(200) for kind in ("Search", "Display")])
    frame = pd.DataFrame(
        {
            "Day": days[rng.integers(0, len(days), rows)],
            "Campaign": campaigns[rng.integers(0, len(campaigns), rows)],
            "Currency code": "USD",
            "Impressions": rng.integers(0, 20_000, rows),
            "Clicks": rng.integers(0, 900, rows),
            "Cost": np.round(rng.random(rows) * 900, 2),
        }
    )
    frame.to_csv(path, index=False)


def make_touchpoints_parquet(path: Path, rows: int) -> None:
    rng = np.random.default_rng(2)
    channels = np.array(["Paid Search", "Paid Social", "Email", "Organic Search", "Direct", "Referral", "Display"])
    campaigns = np.array([f"Campaign {i:03d}" for i in range(300)])
    interactions = np.array(["click", "visit", "email_open", "email_click", "impression", "form"])
    people = np.char.add("P-", rng.integers(0, rows // 20, rows).astype(str))
    start = pd.Timestamp("2025-01-01").value
    table = pa.table(
        {
            "person_id": pa.array(people),
            "timestamp": pa.array(start + rng.integers(0, 730 * 86_400, rows) * 1_000_000_000, pa.timestamp("ns")),
            "channel": pa.array(channels[rng.integers(0, len(channels), rows)]),
            "campaign": pa.array(campaigns[rng.integers(0, len(campaigns), rows)]),
            "interaction": pa.array(interactions[rng.integers(0, len(interactions), rows)]),
        }
    )
    pq.write_table(table, path, row_group_size=1_000_000)


def best(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spend-rows", type=int, default=1_000_000)
    parser.add_argument("--touchpoints", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    registry = build_registry()
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        spend_csv = base / "google_ads.csv"
        touch_parquet = base / "touchpoints.parquet"
        make_spend_csv(spend_csv, args.spend_rows)
        make_touchpoints_parquet(touch_parquet, args.touchpoints)
        config = config_from_dict(
            {
                "report": {"period": "2026-10"},
                "sources": [
                    {
                        "name": "google_ads",
                        "type": "csv",
                        "path": str(spend_csv),
                        "table": "spend",
                        "columns": {
                            "Day": "date",
                            "Campaign": "campaign",
                            "Currency code": "currency",
                            "Impressions": "impressions",
                            "Clicks": "clicks",
                            "Cost": "cost",
                        },
                        "values": {"channel": "Paid Search"},
                    },
                    {"name": "touchpoints", "type": "parquet", "path": str(touch_parquet), "table": "touchpoints"},
                ],
            },
            path=base / "report.yaml",
        )
        spend_source, touch_source = config.sources
        results = []
        for label, source, baseline, target in (
            (f"CSV, {args.spend_rows:,} spend rows", spend_source, lambda: pacsv.read_csv(spend_csv), 2.0),
            (f"Parquet, {args.touchpoints:,} touchpoints", touch_source, lambda: pq.read_table(touch_parquet), 1.5),
        ):
            # alternate the two sides so that a busy machine slows both alike
            arrow_times, our_times, rows = [], [], 0
            for _ in range(args.repeat):
                arrow_times.append(best(baseline, 1))
                start = time.perf_counter()
                frame, _ = load_source(config, source, registry.sources[source.type])
                our_times.append(time.perf_counter() - start)
                rows = len(frame)
                del frame
            arrow, ours = min(arrow_times), min(our_times)
            ratio = ours / arrow
            results.append((label, ratio, target))
            print(
                f"{label}: roistory {ours:.3f} s, pyarrow alone {arrow:.3f} s, ratio {ratio:.2f} (target <= {target}), "
                f"{rows:,} rows"
            )
        print("ratios: " + ", ".join(f"{label.split(',')[0]} {ratio:.2f}" for label, ratio, _ in results))


if __name__ == "__main__":
    main()
