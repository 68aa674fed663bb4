"""Time `roistory demo` end to end against WeasyPrint alone on the same HTML.

    .venv/bin/python benchmarks/bench_report.py [--repeat 3]

Both are measured in fresh processes (imports included), in the same run, taking
turns. Target: ratio <= 1.3. The ratio of the fastest runs is printed too: on a
shared machine a run is only ever slowed down by its neighbours, so the fastest
of several is the steadier estimate of what each job costs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WEASYPRINT_ALONE = """
import sys
from weasyprint import HTML
HTML(filename=sys.argv[1]).write_pdf(sys.argv[2], pdf_variant="pdf/a-3b")
"""


# as on a user's machine: bytecode cached (a sandbox may set PYTHONDONTWRITEBYTECODE)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    roistory = [str(Path(sys.executable).parent / "roistory")]  # the command a user runs
    with tempfile.TemporaryDirectory() as out:
        demo_times, weasy_times = [], []
        timed([*roistory, "demo", "--out", out])  # warm-up: bytecode and font caches, not timed
        for _ in range(args.repeat):
            demo_times.append(timed([*roistory, "demo", "--out", out]))
            html = next(Path(out).glob("*.html"))
            weasy_times.append(timed([sys.executable, "-c", WEASYPRINT_ALONE, str(html), str(Path(out) / "alone.pdf")]))
    demo, weasy = statistics.median(demo_times), statistics.median(weasy_times)
    print(f"roistory demo (html+pdf+json): {demo:.2f} s (median of {args.repeat}; fastest {min(demo_times):.2f} s)")
    print(f"weasyprint alone, same HTML:   {weasy:.2f} s (fastest {min(weasy_times):.2f} s)")
    fastest = min(demo_times) / min(weasy_times)
    print(f"ratio: {demo / weasy:.2f}x of the medians, {fastest:.2f}x of the fastest (target <= 1.3x)")


if __name__ == "__main__":
    main()
