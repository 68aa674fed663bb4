"""Time `roistory demo` end to end against WeasyPrint alone on the same HTML.

    .venv/bin/python benchmarks/bench_report.py [--repeat 3]

Both are measured in fresh processes (imports included), in the same run.
Target: ratio <= 1.3.
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
    parser.add_argument("--repeat", type=int, default=3)
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
    print(f"roistory demo (html+pdf+json): {demo:.2f} s (median of {args.repeat})")
    print(f"weasyprint alone, same HTML:   {weasy:.2f} s")
    print(f"ratio: {demo / weasy:.2f}x (target <= 1.3x)")


if __name__ == "__main__":
    main()
