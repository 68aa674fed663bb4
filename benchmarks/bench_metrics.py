"""Time every metric for 13 months × 5 dimensions on 1M spend rows and 100k leads.

    .venv/bin/python benchmarks/bench_metrics.py [--spend-rows 1000000] [--leads 100000] [--repeat 3]

Builds a report through roistory's own pipeline (config_from_dict + build_report
on Parquet sources written to a temporary folder), then asks
``Report.engine_for(month).value(metric, dimension)`` for every metric the
registry has (internal building blocks included), every one of the 13 trend
months and the total plus each of channel, campaign, media_type, audience and
market. The time is printed next to what pandas needs for one groupby-sum over
the same spend rows, with the ratio. Target (issue 5): ≤ 3 s for all metrics.
Only roistory's built-in plugins are loaded.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("ROISTORY_LOAD_PLUGINS", "")  # built-ins only: the numbers are roistory's own

FIRST, LAST = pd.Timestamp("2025-10-01"), pd.Timestamp("2026-10-31")  # 13 months
TARGET_SECONDS = 3.0
DIMENSIONS = ("channel", "campaign", "media_type", "audience", "market")


def make_spend(n: int, rng: np.random.Generator) -> pd.DataFrame:
    days = (LAST - FIRST).days + 1
    channels = np.array(["Paid Search", "Paid Social", "Display", "Video", "Email", "Affiliate", "Events", "Print"])
    channel_code = rng.integers(0, len(channels), n)
    has_clicks = channels[channel_code] != "Events"
    return pd.DataFrame(
        {
            "date": FIRST + pd.to_timedelta(rng.integers(0, days, n), unit="D"),
            "channel": channels[channel_code],
            "campaign": np.char.add("campaign-", rng.integers(0, 300, n).astype(str)),
            "media_type": np.array(["search", "social", "display", "video", "owned"])[rng.integers(0, 5, n)],
            "audience": np.char.add("audience-", rng.integers(0, 12, n).astype(str)),
            "market": np.array(["NA", "EMEA", "APAC", "LATAM", "UK", "DE", "FR", "JP", "AU", "BR", "IN", "SG"])[
                rng.integers(0, 12, n)
            ],
            "cost": np.round(rng.uniform(1, 500, n), 2),
            "impressions": np.where(has_clicks, rng.integers(100, 50_000, n), np.nan),
            "clicks": np.where(has_clicks, rng.integers(0, 800, n), np.nan),
            "impression_share": np.where(channels[channel_code] == "Paid Search", rng.uniform(0.1, 0.95, n), np.nan),
        }
    )


def make_leads(n: int, rng: np.random.Generator) -> pd.DataFrame:
    days = (LAST - FIRST).days + 1
    created = FIRST + pd.to_timedelta(rng.integers(0, days, n), unit="D")

    def later(base, p, low, high):
        out = base + pd.to_timedelta(rng.integers(low, high, n), unit="D")
        out = pd.Series(out).where(rng.random(n) < p)
        out = out.where(pd.Series(base).notna())
        return out.where(out <= LAST)

    mql = later(created, 0.6, 0, 15)
    sql = later(mql, 0.5, 1, 20)
    opp = later(sql, 0.7, 1, 15)
    won = later(opp, 0.5, 5, 60)
    return pd.DataFrame(
        {
            "lead_id": np.char.add("L", np.arange(n).astype(str)),
            "created_at": created,
            "source_channel": np.array(["Paid Search", "Paid Social", "Display", "Email", "Organic", "Outbound"])[
                rng.integers(0, 6, n)
            ],
            "source_campaign": np.char.add("campaign-", rng.integers(0, 300, n).astype(str)),
            "market": np.array(["NA", "EMEA", "APAC", "LATAM"])[rng.integers(0, 4, n)],
            "mql_at": mql,
            "sql_at": sql,
            "opportunity_at": opp,
            "won_at": won,
            "amount": np.where(opp.notna(), np.round(rng.uniform(500, 50_000, n), 2), np.nan),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spend-rows", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="fresh reports timed (median reported)")
    args = parser.parse_args()

    from roistory.config import config_from_dict
    from roistory.pipeline import build_report

    rng = np.random.default_rng(5)
    started = time.perf_counter()
    spend, leads = make_spend(args.spend_rows, rng), make_leads(args.leads, rng)
    print(f"generated {len(spend):,} spend rows and {len(leads):,} leads in {time.perf_counter() - started:.1f} s")

    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        spend.to_parquet(base / "spend.parquet", index=False)
        leads.to_parquet(base / "leads.parquet", index=False)
        config = config_from_dict(
            {
                "report": {"title": "Benchmark", "period": "2026-10", "formats": ["json"]},
                "sources": [
                    {"name": "spend", "type": "parquet", "path": "spend.parquet", "table": "spend"},
                    {"name": "leads", "type": "parquet", "path": "leads.parquet", "table": "leads"},
                ],
            },
            path=base / "report.yaml",
        )

        load_times, compute_times, compute_cpu = [], [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            report = build_report(config)
            load_times.append(time.perf_counter() - started)
            months = report.trend_periods()
            metric_ids = list(report.metrics)
            started, cpu = time.perf_counter(), time.process_time()
            calls = measured = 0
            for month in months:
                engine = report.engine_for(month)
                for metric_id in metric_ids:
                    for dimension in (None, *DIMENSIONS):
                        value = engine.value(metric_id, dimension)
                        calls += 1
                        measured += value is not None
            compute_times.append(time.perf_counter() - started)
            compute_cpu.append(time.process_time() - cpu)

        groupby_times, groupby_cpu = [], []
        for _ in range(max(5, args.repeat)):
            started, cpu = time.perf_counter(), time.process_time()
            spend.groupby("channel")["cost"].sum()
            groupby_times.append(time.perf_counter() - started)
            groupby_cpu.append(time.process_time() - cpu)

    load, compute, groupby = (statistics.median(t) for t in (load_times, compute_times, groupby_times))
    compute_cpu_s, groupby_cpu_s = statistics.median(compute_cpu), statistics.median(groupby_cpu)
    print(
        f"metrics: {len(metric_ids)} ids × {len(months)} months × {1 + len(DIMENSIONS)} (total + 5 dimensions) "
        f"= {calls:,} values ({measured:,} computed, the rest not segmentable)"
    )
    print(f"load + build_report (parquet, 2 tables):  {load:7.3f} s (median of {args.repeat})")
    print(
        f"every metric, 13 months × 5 dimensions:   {compute:7.3f} s wall, {compute_cpu_s:.3f} s CPU "
        f"(median of {args.repeat})"
    )
    print(
        f"pandas, one groupby-sum over the spend rows: {groupby:7.3f} s wall, {groupby_cpu_s:.3f} s CPU "
        f"(median of {len(groupby_times)})"
    )
    print(f"ratio: {compute / groupby:,.0f}× one groupby-sum (wall), {compute_cpu_s / groupby_cpu_s:,.0f}× (CPU)")
    print(
        f"pandas {pd.__version__}, numpy {np.__version__}, {os.cpu_count()} CPUs, load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    verdict = "ok" if compute <= TARGET_SECONDS else "OVER TARGET"
    print(f"target: ≤ {TARGET_SECONDS:.0f} s for every metric → {compute:.2f} s {verdict}")
    sys.exit(0)


if __name__ == "__main__":
    main()
