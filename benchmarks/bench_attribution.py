"""Attribution benchmark: roistory's models against ChannelAttribution (and mam, optional).

Run (needs the ``bench`` extra: ``pip install -e '.[bench]'``)::

    python benchmarks/bench_attribution.py                # full size: 10M touchpoints, 1M journeys
    python benchmarks/bench_attribution.py --scale 0.1    # a quick look
    python benchmarks/bench_attribution.py --mam          # also time marketing-attribution-models

Everything is measured in the same run on generated data with 12 channels, and
printed as ratios. Timings are the best of ``--repeat`` warm runs (the first
run of each of ours is discarded as a warm-up). Each reference gets its natural
input, prepared outside the timing: the path table with ``'a > b'`` strings
(roistory's own aggregation step, :func:`roistory.paths.aggregate_paths`,
makes it). Ours start from integer-coded :class:`~roistory.attribution.Journeys`.

Sections:

1. all heuristic models on 10M touchpoints vs ChannelAttribution ``heuristic_models``
   (first, last, linear — all it has);
2. Markov order 1 on 1M journeys (exact) vs ChannelAttribution at its defaults
   and at 1e7 simulated walks (``nfold=1, seed=0, max_step=10000``); the largest
   per-channel difference to the exact solution in its standard errors;
3. Markov order 2 vs order 1;
4. peak memory (tracemalloc) of journey building + every heuristic on the 10M
   touchpoint table, against the table's own size;
5. ``roistory attribute`` end to end on the 10M-touchpoint Parquet file;
6. the whole job, each in a fresh process (imports included): ``roistory attribute``
   on 1M journeys (4M touchpoints) in Parquet → exact Markov credits, against a
   ChannelAttribution user's whole job on the same files (read with pyarrow,
   build the path strings, ``markov_model`` with its defaults). Goal: ≥ 5×.
   ``--whole-job-only`` runs just this section.

No assertion: the figures go in the issue's closing note.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import os
import sys
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import pandas as pd

from roistory.attribution import Journeys, build_journeys, conversion_events, run_model
from roistory.paths import aggregate_paths
from roistory.plugins.heuristic_attribution import MODELS as HEURISTICS
from roistory.plugins.markov_attribution import MODELS as MARKOV
from roistory.plugins.markov_attribution import removal_effects

CHANNELS = (
    "Direct",
    "Paid Search",
    "Organic Search",
    "Email",
    "Display",
    "Social Paid",
    "Social Organic",
    "Affiliate",
    "Referral",
    "Video",
    "Podcast",
    "Events",
)


def generate_journeys(n_journeys: int, *, seed: int = 0, mean_length: float = 4.0, n_channels: int = 12) -> Journeys:
    """Journeys with Markov-ish channel sequences, repeats, and channel-dependent conversion."""
    rng = np.random.default_rng(seed)
    lengths = rng.geometric(1.0 / mean_length, n_journeys).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    n = int(offsets[-1])
    popularity = rng.dirichlet(np.full(n_channels, 2.0))
    codes = rng.choice(n_channels, n, p=popularity).astype(np.int32)
    repeat = rng.random(n) < 0.25
    repeat[offsets[:-1]] = False
    source = np.arange(n)
    source[repeat] = 0
    codes = codes[np.maximum.accumulate(source)]
    journey = np.repeat(np.arange(n_journeys), lengths)
    lift = rng.uniform(0.01, 0.12, n_channels)
    log_stay = np.bincount(journey, np.log1p(-lift[codes]), n_journeys)
    converted = (rng.random(n_journeys) < 1.0 - np.exp(log_stay)).astype(float)
    revenue = np.where(converted > 0, rng.lognormal(4.0, 1.0, n_journeys).round(2), 0.0)
    gaps = rng.exponential(36.0, n)
    # hours before the end: cumulative gaps counted from the journey's last touch backwards
    reverse = np.cumsum(gaps[::-1])[::-1]
    hours = reverse - np.repeat(reverse[offsets[1:] - 1], lengths)
    hours += np.repeat(rng.exponential(12.0, n_journeys) * converted, lengths)
    end = np.datetime64("2026-06-30T00:00:00", "ns") - (rng.random(n_journeys) * 150 * 86400e9).astype(
        "timedelta64[ns]"
    )
    return Journeys(
        labels=CHANNELS[:n_channels],
        offsets=offsets.astype(np.int64),
        codes=codes,
        hours_before=hours,
        converted=converted,
        revenue=revenue,
        end=end,
    )


def touchpoint_table(journeys: Journeys) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The canonical touchpoints and conversions tables the journeys came from (one person per journey)."""
    import pyarrow as pa

    person = pa.array(journeys.journey_of_touch.astype(np.int64)).cast(pa.string())
    # whole seconds, as exports have them
    end = journeys.end.astype("datetime64[s]")
    touch_time = (np.repeat(end, journeys.lengths) - (journeys.hours_before * 3600).astype("timedelta64[s]")).astype(
        "datetime64[ns]"
    )
    touchpoints = pd.DataFrame(
        {
            "person_id": pd.Series(pd.arrays.ArrowStringArray(person)),
            "timestamp": touch_time.astype("datetime64[ns]"),
            # as roistory.sources.normalise_table leaves it: a string column, not a categorical
            "channel": pd.Series(
                pd.arrays.ArrowStringArray(
                    pa.DictionaryArray.from_arrays(pa.array(journeys.codes), pa.array(journeys.labels))
                    .cast(pa.large_string())
                    .cast(pa.string())
                )
            ),
        }
    )
    converting = np.flatnonzero(journeys.converted > 0)
    conversions = pd.DataFrame(
        {
            "person_id": pd.Series(pd.arrays.ArrowStringArray(pa.array(converting).cast(pa.string()))),
            "timestamp": end[converting].astype("datetime64[ns]"),
            "revenue": journeys.revenue[converting],
        }
    )
    return touchpoints, conversions


def best_of(fn: Callable[[], object], repeat: int, warmup: bool = True) -> float:
    if warmup:
        fn()
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


@contextlib.contextmanager
def quiet():
    """ChannelAttribution prints banners and progress on stdout."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def ca_input(journeys: Journeys) -> pd.DataFrame:
    table = aggregate_paths(journeys).to_frame(separator=" > ")
    return table.rename(columns={"total_conversion_value": "total_value"})


CA_USER_JOB = r"""
import sys, time
start = time.perf_counter()
import pyarrow.parquet as pq
from ChannelAttribution import markov_model
touchpoints = pq.read_table(sys.argv[1]).to_pandas()
conversions = pq.read_table(sys.argv[2]).to_pandas()
touchpoints = touchpoints.sort_values(["person_id", "timestamp"], kind="stable")
paths = touchpoints.groupby("person_id", sort=False)["channel"].agg(" > ".join).rename("path")
converted = conversions.groupby("person_id").agg(
    total_conversions=("revenue", "size"), total_conversion_value=("revenue", "sum")
)
table = paths.to_frame().join(converted).fillna(0.0)
table["total_null"] = (table["total_conversions"] == 0).astype(int)
table = table.groupby("path", as_index=False)[["total_conversions", "total_conversion_value", "total_null"]].sum()
markov_model(
    table, "path", "total_conversions", var_value="total_conversion_value", var_null="total_null", verbose=False
)
print(time.perf_counter() - start)
"""


def whole_job(n_journeys: int, repeat: int) -> tuple[float, float]:
    """Seconds of `roistory attribute --model markov` and of a ChannelAttribution user's job (fresh processes)."""
    import subprocess
    import tempfile
    from pathlib import Path

    journeys = generate_journeys(n_journeys, seed=3)
    touchpoints, conversions = touchpoint_table(journeys)
    with tempfile.TemporaryDirectory() as folder:
        tp_path, cv_path = Path(folder) / "touchpoints.parquet", Path(folder) / "conversions.parquet"
        touchpoints.to_parquet(tp_path)
        conversions.to_parquet(cv_path)
        print(
            f"\n[6] whole job: {len(journeys):,} journeys, {len(touchpoints):,} touchpoints in Parquet "
            f"({tp_path.stat().st_size / 2**20:.0f} MiB), fresh processes, best of {repeat}"
        )
        del touchpoints, conversions, journeys
        roistory = [
            sys.executable,
            "-m",
            "roistory.cli",
            "attribute",
            str(tp_path),
            "--conversions",
            str(cv_path),
            "--model",
            "markov",
            "--format",
            "csv",
            "--no-progress",
        ]
        ca = [sys.executable, "-c", CA_USER_JOB, str(tp_path), str(cv_path)]

        def timed(command: list[str]) -> float:
            start = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"failed: {' '.join(command[:4])}: {done.stderr.strip()[-500:]}")
            return time.perf_counter() - start

        ours = min(timed(roistory) for _ in range(repeat))
        theirs = min(timed(ca) for _ in range(repeat))
    print(f"    roistory attribute --model markov (exact): {ours:.2f} s")
    print(f"    ChannelAttribution user's job (pyarrow read, path strings, markov_model defaults): {theirs:.2f} s")
    print(f"    ratio: {theirs / ours:.1f}x (goal >= 5x)")
    return ours, theirs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of the full sizes (10M touchpoints, 1M journeys)"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--mam", action="store_true", help="also time marketing-attribution-models (slow, memory hungry)"
    )
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument(
        "--whole-job-only", action="store_true", help="only section 6 (roistory attribute vs a ChannelAttribution job)"
    )
    args = parser.parse_args(argv)
    if args.whole_job_only:
        whole_job(int(1_000_000 * args.scale), args.repeat)
        return
    with quiet():
        import ChannelAttribution as ca

    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, pandas {pd.__version__}, {os.cpu_count()} cores")
    results: list[tuple[str, str]] = []

    # ---------------------------------------------------------------- heuristics
    n_big = int(2_500_000 * args.scale)
    big = generate_journeys(n_big, seed=1)
    touches = len(big.codes)
    print(f"\n[1] heuristics: {n_big:,} journeys, {touches:,} touchpoints, 12 channels")

    def all_heuristics() -> None:
        for model in HEURISTICS:
            run_model(model, big)

    ours = best_of(all_heuristics, args.repeat)
    per_model = {m.id: best_of(lambda m=m: run_model(m, big), args.repeat) for m in HEURISTICS}
    start = time.perf_counter()
    table = ca_input(big)
    prep = time.perf_counter() - start
    print(
        f"    path table for the references: {len(table):,} distinct paths (aggregate + strings {prep:.2f} s, untimed)"
    )
    with quiet():
        theirs = best_of(
            lambda: ca.heuristic_models(table, "path", "total_conversions", var_value="total_value", flg_pro=False),
            1,
            warmup=False,
        )
        theirs_journeys = best_of(
            lambda: ca.heuristic_models(table, "path", "total_conversions", flg_pro=False), 1, warmup=False
        )
    print(f"    roistory, all {len(HEURISTICS)} heuristics (warm, best of {args.repeat}): {ours:.3f} s")
    for model_id, seconds in per_model.items():
        print(f"        {model_id:<16} {seconds * 1000:7.1f} ms")
    print(
        f"    ChannelAttribution heuristic_models (first, last, linear; with value): {theirs:.3f} s (without value "
        f"{theirs_journeys:.3f} s)"
    )
    results.append(
        (
            f"heuristics, {touches / 1e6:.1f}M touchpoints: roistory (all six) vs CA heuristic_models",
            f"{ours:.3f} s vs {theirs:.3f} s = {theirs / ours:.1f}x faster",
        )
    )

    if args.mam:
        import mam

        frame = table.rename(columns={"total_conversions": "conv"})
        frame = frame.loc[frame.index.repeat(1)]
        grouped = pd.concat(
            [
                frame.assign(occurrences=frame["conv"], has_conv=True)[lambda d: d.occurrences > 0],
                frame.assign(occurrences=frame["total_null"], has_conv=False)[lambda d: d.occurrences > 0],
            ]
        )[["path", "occurrences", "has_conv"]]
        start = time.perf_counter()
        model = mam.MAM(
            grouped,
            format_type="grouped_journey",
            channels_colname="path",
            journey_with_conv_colname="has_conv",
            occurrences_colname="occurrences",
        )
        mam_prep = time.perf_counter() - start
        start = time.perf_counter()
        model.run_first_click(), model.run_last_click(), model.run_linear(), model.run_position_based()
        mam_time = time.perf_counter() - start
        print(f"    mam: prep {mam_prep:.2f} s + first/last/linear/position {mam_time:.2f} s")
        results.append(
            (
                "heuristics: mam (prep + 4 models)",
                f"{mam_prep + mam_time:.2f} s = {(mam_prep + mam_time) / ours:.1f}x ours",
            )
        )

    # ---------------------------------------------------------------- markov
    n_mid = int(1_000_000 * args.scale)
    mid = generate_journeys(n_mid, seed=2)
    print(f"\n[2] markov: {n_mid:,} journeys, {len(mid.codes):,} touchpoints, 12 channels")
    markov, _ = MARKOV
    order1 = best_of(lambda: run_model(markov, mid, {"order": 1}), args.repeat)
    order2 = best_of(lambda: run_model(markov, mid, {"order": 2}), args.repeat)
    order3 = best_of(lambda: run_model(markov, mid, {"order": 3}), max(1, args.repeat - 1))
    table = ca_input(mid)
    print(f"    path table: {len(table):,} distinct paths")
    with quiet():
        ca_default = best_of(
            lambda: ca.markov_model(
                table,
                "path",
                "total_conversions",
                var_value="total_value",
                var_null="total_null",
                ncore=1,
                verbose=False,
                flg_pro=False,
            ),
            1,
            warmup=False,
        )
        start = time.perf_counter()
        ca_1e7 = ca.markov_model(
            table,
            "path",
            "total_conversions",
            var_value="total_value",
            var_null="total_null",
            nsim_start=1e7,
            max_step=10_000,
            nfold=1,
            seed=0,
            ncore=1,
            out_more=True,
            verbose=False,
            flg_pro=False,
        )
        ca_1e7_time = time.perf_counter() - start
        ca_default_result = ca.markov_model(
            table,
            "path",
            "total_conversions",
            var_value="total_value",
            var_null="total_null",
            ncore=1,
            out_more=True,
            verbose=False,
            flg_pro=False,
        )
    exact = removal_effects(aggregate_paths(mid), 1)
    re_exact = pd.Series(exact.conversions, index=mid.labels)
    nsim = 1e7
    sd = np.sqrt(re_exact * (1 - re_exact) / (nsim * exact.p_conversion))
    ca_re = ca_1e7["removal_effects"].set_index("channel_name")["removal_effects_conversion"].reindex(mid.labels)
    z = ((ca_re - re_exact) / sd).abs()
    credit_exact = run_model(markov, mid, {"order": 1})["conversions"]
    ca_default_credit = ca_default_result["result"].set_index("channel_name")["total_conversions"].reindex(mid.labels)
    off_default = ((ca_default_credit - credit_exact) / credit_exact).abs().max()
    print(
        f"    roistory markov order 1 (exact): {order1:.3f} s; order 2: {order2:.3f} s ({order2 / order1:.2f}x order "
        f"1); order 3: {order3:.3f} s"
    )
    print(
        f"    ChannelAttribution defaults: {ca_default:.3f} s (largest per-channel credit difference to exact: "
        f"{off_default:.1%})"
    )
    print(f"    ChannelAttribution 1e7 walks: {ca_1e7_time:.3f} s; max |z| vs exact removal effects: {z.max():.2f}")
    results.append(
        (
            f"markov order 1, {n_mid / 1e6:.1f}M journeys vs CA defaults",
            f"{order1:.3f} s vs {ca_default:.3f} s = {ca_default / order1:.1f}x faster (CA up to {off_default:.1%} "
            "off)",
        )
    )
    results.append(
        (
            "markov order 1 vs CA 1e7 walks",
            f"{order1:.3f} s vs {ca_1e7_time:.3f} s = {ca_1e7_time / order1:.1f}x faster (max |z| {z.max():.2f})",
        )
    )
    results.append(("markov order 2 / order 1", f"{order2:.3f} s / {order1:.3f} s = {order2 / order1:.2f}x"))

    # ---------------------------------------------------------------- memory
    if not args.skip_memory:
        touchpoints, conversions = touchpoint_table(big)
        input_bytes = int(touchpoints.memory_usage(deep=True).sum() + conversions.memory_usage(deep=True).sum())
        del big
        gc.collect()
        events = conversion_events(touchpoints, conversions)
        tracemalloc.start()
        start = time.perf_counter()
        journeys, _ = build_journeys(touchpoints, events)
        build_time = time.perf_counter() - start
        for model in HEURISTICS:
            run_model(model, journeys)
        run_model(markov, journeys)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"\n[4] memory: touchpoints + conversions tables {input_bytes / 2**20:,.0f} MiB ({len(touchpoints):,} "
            "touchpoints)"
        )
        print(
            f"    build_journeys ({build_time:.2f} s, traced) + every heuristic + markov: peak {peak / 2**20:,.0f} MiB "
            f"= {peak / input_bytes:.2f}x the input"
        )
        try:
            import resource

            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
            print(f"    process peak RSS so far (everything above included): {rss:,.0f} MiB")
        except ImportError:  # pragma: no cover
            pass
        results.append(
            (
                f"traced peak, {touches / 1e6:.1f}M touchpoints (journeys + models)",
                f"{peak / 2**20:,.0f} MiB = {peak / input_bytes:.2f}x input",
            )
        )

    # ---------------------------------------------------------------- end to end
    if not args.skip_memory:
        import resource
        import subprocess
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as folder:
            tp_path, cv_path = Path(folder) / "touchpoints.parquet", Path(folder) / "conversions.parquet"
            touchpoints.to_parquet(tp_path)
            conversions.to_parquet(cv_path)
            del touchpoints, conversions, journeys, events
            gc.collect()
            models = ",".join([m.id for m in HEURISTICS] + ["markov", "shapley"])
            # the child reports its own high-water mark (VmHWM): ru_maxrss of children would
            # count the pages it shared with this (large) process before exec
            wrapper = (
                "import atexit, sys\n"
                "def hwm():\n"
                "    status = open('/proc/self/status').read()\n"
                "    sys.stderr.write('VmHWM ' + status.split('VmHWM:')[1].split()[0] + '\\n')\n"
                "atexit.register(hwm)\n"
                "from roistory.cli import main\n"
                "sys.argv = ['roistory'] + sys.argv[1:]\n"
                "main()\n"
            )
            command = [
                sys.executable,
                "-c",
                wrapper,
                "attribute",
                str(tp_path),
                "--conversions",
                str(cv_path),
                "--model",
                models,
                "--format",
                "csv",
                "--no-progress",
            ]
            start = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True)
            wall = time.perf_counter() - start
            reported = [line for line in done.stderr.splitlines() if line.startswith("VmHWM ")]
            child_rss = (
                int(reported[-1].split()[1]) / 2**10
                if reported
                else resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**10
            )
        status = "ok" if done.returncode == 0 else f"FAILED: {done.stderr.strip()[-300:]}"
        print(
            f"\n[5] roistory attribute on the {touches:,}-touchpoint Parquet file, {len(models.split(','))} models: "
            f"{wall:.2f} s wall, peak RSS {child_rss:,.0f} MiB ({status})"
        )
        results.append(
            (
                f"roistory attribute, {touches / 1e6:.1f}M touchpoints Parquet, 8 models",
                f"{wall:.2f} s, peak RSS {child_rss / 1024:.2f} GiB",
            )
        )

    ours, theirs = whole_job(int(1_000_000 * args.scale), args.repeat)
    results.append(
        ("whole job: roistory attribute markov vs ChannelAttribution user, 1M journeys", f"{theirs / ours:.1f}x")
    )
    print("\nsummary")
    for label, value in results:
        print(f"  {label:<66} {value}")


if __name__ == "__main__":
    main()
