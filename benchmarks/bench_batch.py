"""`roistory batch` on generated clients: parallel speed-up and peak memory against batch size.

    .venv/bin/python benchmarks/bench_batch.py [--clients 50] [--sizes 5,20]

Writes N small client projects (the testing kit's tables, PDF + JSON, one client
with a broken data file), then runs the real command in a child process:

- speed-up: `--jobs 2` against `--jobs 1` (the same reports one after another),
  wall-clock time of the whole batch; target >= 1.8x on 2 cores. Also against what a
  user without `batch` runs: one `roistory run` per client, one after another;
- the machine's own ceiling, measured in the same run: the same pure-Python CPU work
  in two processes against one after another. On a machine whose two cores slow each
  other down (shared physical core, throttling) no batch can beat that ratio, so the
  batch's speed-up is also printed as a share of it;
- memory: the peak memory (PSS) of the batch's whole process tree (the
  command, the fork server and its workers), sampled every 50 ms with psutil,
  for batches of different sizes at `--jobs 2`; target: it does not grow
  with the number of clients.

Each run is checked: N-1 PDFs, one failure line naming the broken client, exit code 1.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from roistory.testing import (
    make_conversions,
    make_leads,
    make_spend,
    make_touchpoints,
    write_project,
)

BROKEN = "client-01"


def write_clients(root: Path, count: int) -> None:
    tables = {
        "spend": make_spend(),
        "touchpoints": make_touchpoints(),
        "conversions": make_conversions(),
        "leads": make_leads(),
    }
    for index in range(count):
        name = f"client-{index:02d}"
        folder = write_project(root / name, tables, client=name, formats=["pdf", "json"], title=f"Client {index}")
        if name == BROKEN:
            (folder.parent / "data" / "spend.csv").write_text("date,channel,cost\n2026-03-02,Email,lots\n")


def sample_tree(process: psutil.Process, cpu: dict[int, float], memory: bool) -> int:
    """Proportional set size (PSS) of the process and its descendants — pages the fork
    server shares with its workers count once, not once per process as in RSS — and
    each one's CPU seconds so far, into ``cpu`` (by pid). Reading PSS walks every
    mapping (/proc/PID/smaps): costly, so only the memory runs do it."""
    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:  # the batch has just ended
        return 0
    for member in members:
        try:
            total += member.memory_full_info().pss if memory else 0
            times = member.cpu_times()
            cpu[member.pid] = times.user + times.system
        except psutil.Error:  # ended between listing and reading
            pass
    return total


def _spin(_: int) -> int:
    total = 0
    for i in range(15_000_000):
        total += i * i % 7
    return total


def machine_ceiling(rounds: int = 2) -> float:
    """Speed-up of two processes over one for the same CPU-bound work, on this machine now."""
    ratios = []
    for _ in range(rounds):
        start = time.perf_counter()
        _spin(0), _spin(1)
        serial = time.perf_counter() - start
        start = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(2) as pool:
            pool.map(_spin, [0, 1])
        ratios.append(serial / (time.perf_counter() - start))
    return statistics.median(ratios)


def run_each(clients: Path, out: Path) -> float:
    """Wall seconds of one `roistory run` per client, one after another (the broken one fails)."""
    start = time.perf_counter()
    for config in sorted(clients.glob("*/report.yaml")):
        done = subprocess.run(
            [sys.executable, "-m", "roistory.cli", "run", str(config), "--out", str(out / config.parent.name)],
            capture_output=True,
            text=True,
        )
        assert done.returncode == (2 if config.parent.name == BROKEN else 0), (config, done.stderr[-2000:])
    return time.perf_counter() - start


def run_batch(clients: Path, out: Path, jobs: int, *, memory: bool = False) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, peak bytes of the process tree if ``memory``) of one batch,
    after checking its outcome. CPU/wall is how many cores the batch really got on a shared
    machine (sampled: a process's last moments may be missed). A timed run samples CPU only,
    every 0.5 s, so the sampler does not take the cores it measures."""

    command = [
        sys.executable,
        "-m",
        "roistory.cli",
        "batch",
        str(clients / "*" / "report.yaml"),
        "--out",
        str(out),
        "--jobs",
        str(jobs),
    ]
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watched, peak, cpu, done = psutil.Process(child.pid), [0], {}, threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], sample_tree(watched, cpu, memory))
            time.sleep(0.05 if memory else 0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = child.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()

    count = len(list(clients.iterdir()))
    pdfs = list(out.rglob("*.pdf"))
    failures = [line for line in stderr.splitlines() if "FAILED" in line]
    assert child.returncode == 1, (child.returncode, stderr[-2000:])
    assert len(pdfs) == count - 1, f"{len(pdfs)} PDFs for {count} clients"
    assert len(failures) == 1 and BROKEN in failures[0], failures
    assert stdout.strip().splitlines()[-1] == f"{count - 1} of {count} reports rendered"
    return seconds, sum(cpu.values()), peak[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--sizes", default="5,20", help="smaller batches for the memory comparison")
    parser.add_argument("--no-runs", dest="runs", action="store_false", help="skip one `roistory run` per client")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        root = Path(tmp)
        batches = {}
        for size in sorted({*(int(s) for s in args.sizes.split(",") if s), args.clients}):
            write_clients(root / f"clients-{size}", size)
            batches[size] = root / f"clients-{size}"

        load = psutil.getloadavg()[0]
        ceiling = machine_ceiling()
        sequential, sequential_cpu, _ = run_batch(batches[args.clients], root / "out-seq", jobs=1)
        parallel, parallel_cpu, _ = run_batch(batches[args.clients], root / "out-par", jobs=2)
        each = run_each(batches[args.clients], root / "out-each") if args.runs else None
        print(
            f"{args.clients} clients (1 broken), {psutil.cpu_count()} cores, load average "
            f"{load:.1f} before, {psutil.getloadavg()[0]:.1f} after:"
        )
        print(
            f"  one after another (--jobs 1): {sequential:7.1f} s  ({sequential_cpu:.0f} CPU-s: "
            f"{sequential_cpu / sequential:.2f} cores on average)"
        )
        print(
            f"  parallel          (--jobs 2): {parallel:7.1f} s  ({parallel_cpu:.0f} CPU-s: "
            f"{parallel_cpu / parallel:.2f} cores on average)"
        )
        if each is not None:
            print(f"  one `roistory run` per client:  {each:7.1f} s")
        print(f"  speed-up: {sequential / parallel:.2f}x over --jobs 1 (target >= 1.8x)", end="")
        print(f", {each / parallel:.2f}x over one run per client" if each is not None else "")
        print(
            f"  this machine's ceiling (pure-Python work, 2 processes vs 1): {ceiling:.2f}x; "
            f"the batch reaches {sequential / parallel / ceiling:.0%} of it"
        )

        print("peak memory (PSS) of the batch's process tree (--jobs 2):")
        peaks = {}
        for size, clients in batches.items():
            _, _, peaks[size] = run_batch(clients, root / f"out-mem-{size}", jobs=2, memory=True)
        for size in sorted(peaks):
            print(f"  {size:3d} clients: {peaks[size] / 2**20:6.0f} MiB")
        smallest, largest = min(peaks), max(peaks)
        print(f"  {largest} vs {smallest} clients: {peaks[largest] / peaks[smallest]:.2f}x (target: ~1.0x, no growth)")


if __name__ == "__main__":
    main()
