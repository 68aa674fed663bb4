"""Limits: a report stops after a set number of seconds; a template render, past a set memory.

``report.time_limit`` (``--time-limit``) bounds one whole report — reading, computing,
rendering, writing — so a pathological input or template fails with one line instead of
holding a CI job or a batch for good. Limits nest: an inner limit (the renderer's) never
extends or cancels an outer one.

Uses ``SIGALRM`` (``setitimer``), so it applies in the main thread of a POSIX process:
the CLI and every batch worker process. Elsewhere the block runs unbounded.
"""

from __future__ import annotations

import resource
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from roistory.errors import RoistoryError

DEFAULT_TIME_LIMIT = 900  # seconds; the example renders in about 5 s, a 2 GB export in about 60 s
TIME_LIMIT_RANGE = (1, 86_400)


class TimeLimitExceeded(RoistoryError):
    """A report took longer than its time limit. Exit code 1: the report failed."""


def _usable() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float, error: Callable[[], Exception]) -> Iterator[None]:
    """Raise ``error()`` in the main thread if the block runs longer than ``seconds``."""
    if not _usable() or seconds <= 0:
        yield
        return
    started = time.monotonic()
    outer_remaining, _ = signal.getitimer(signal.ITIMER_REAL)
    outer_handler = signal.getsignal(signal.SIGALRM)
    mine = seconds if not outer_remaining else min(seconds, outer_remaining)
    ours_first = not outer_remaining or seconds < outer_remaining

    def expired(signum, frame):
        if ours_first:
            raise error()
        if callable(outer_handler):  # the outer limit is the earlier one: let it report
            outer_handler(signum, frame)

    signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, mine)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, outer_handler)
        if outer_remaining:  # give the outer limit back what is left of it
            left = outer_remaining - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001))


def report_time_limit(seconds: float) -> Iterator[None]:
    """The per-report limit, with its one-line error naming the setting."""
    return time_limit(
        seconds,
        lambda: TimeLimitExceeded(
            f"the report took longer than its time limit of {seconds:g} s (report.time_limit or --time-limit)"
        ),
    )


TEMPLATE_MEMORY_BYTES = 1 << 30  # what rendering the templates may allocate on top of the data


def _data_bytes() -> int | None:
    """The process's data segment (private writable memory) now, from /proc; None elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


@contextmanager
def memory_limit(extra: int = TEMPLATE_MEMORY_BYTES) -> Iterator[None]:
    """Allocations beyond ``extra`` bytes more than now raise MemoryError (Linux; elsewhere
    unbounded). For template rendering: a 10 GB string doubled in a loop fails in time,
    before the machine swaps or the OOM killer picks a victim."""
    now = _data_bytes()
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if now is None or soft != resource.RLIM_INFINITY:
        yield  # not Linux, or a limit set by the user: leave it alone
        return
    target = now + extra if hard == resource.RLIM_INFINITY else min(now + extra, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (target, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))
