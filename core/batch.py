"""Many reports in one call (an agency's clients at month end), in parallel processes.

Every client renders in a process of its own, forked from a server that has
already imported pandas, WeasyPrint and roistory (``forkserver``), so a worker
starts in milliseconds and ends with its client: memory never accumulates over
a batch of hundreds, and one client's crash, hang or leak stays its own. One
client's failure is recorded with a one-line reason and the others go on.
"""

from __future__ import annotations

import glob
import multiprocessing
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from roistory.cascade import load_layers
from roistory.errors import BadInputError, ConfigError, RoistoryError
from roistory.plugin_manager import ENTRY_POINT_GROUP, plugin_at_fault, quiet_disabled_plugins

CONFIG_SUFFIXES = (".yaml", ".yml")
# what every worker imports anyway: paid once in the fork server, not once per client
PRELOAD = ["roistory.api", "roistory.runs", "roistory.charts", "weasyprint", "pypdf"]


@dataclass(frozen=True)
class BatchOptions:
    """What ``roistory batch`` applies to every client, over each config's own settings."""

    period: str | None = None
    locale: str | None = None
    formats: list[str] | None = None
    editions: list[str] | None = None
    draft: bool = False
    deliver: bool = False
    force: bool = False


@dataclass
class BatchResult:
    config: Path
    client: str
    ok: bool
    seconds: float = 0.0  # the client's own render time, in its worker
    pages: int | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    exit_code: int = 0
    delivered: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------
# Which configs: files, globs and batch files
# --------------------------------------------------------------------------


def _is_glob(text: str) -> bool:
    return any(char in text for char in "*?[")


def _from_batch_file(path: Path) -> list[Path]:
    """A batch file: one config path or glob per line, relative to the file; # starts a comment."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the batch file: {exc}", file=str(path)) from None
    configs: list[Path] = []
    for number, line in enumerate(lines, start=1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        target = entry if os.path.isabs(entry) else str(path.parent / entry)
        found = sorted(glob.glob(target, recursive=True)) if _is_glob(entry) else [target]
        if not found or not all(Path(f).is_file() for f in found):
            raise ConfigError(f"line {number}: '{entry}' not found", file=str(path))
        configs += [Path(f) for f in found]
    return configs


def expand_targets(targets: list[str]) -> list[Path]:
    """Configs named by files, globs (quoted, so the shell leaves them) and batch files."""
    configs: list[Path] = []
    for target in targets:
        if _is_glob(target):
            found = sorted(glob.glob(target, recursive=True))
            if not found:
                raise BadInputError(f"{target}: no config matches")
            configs += [Path(f) for f in found]
        elif not Path(target).is_file():
            raise ConfigError("file not found", file=target)
        elif target.endswith(CONFIG_SUFFIXES):
            configs.append(Path(target))
        else:
            configs += _from_batch_file(Path(target))
    unique: dict[Path, Path] = {}
    for config in configs:
        unique.setdefault(config.resolve(), config)
    return list(unique.values())


def client_name(config_path: Path) -> str:
    """The config's ``report.client`` (through ``extends``), else its folder's name."""
    try:
        client = (load_layers(config_path).data.get("report") or {}).get("client")
    except RoistoryError:  # the worker reports a broken config properly
        client = None
    name = str(client or config_path.resolve().parent.name)
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "report"


def client_folders(configs: list[Path]) -> list[str]:
    """One output folder per config; two configs for one client get numbered folders."""
    names = [client_name(c) for c in configs]
    seen: dict[str, int] = {}
    folders = []
    for name in names:
        if names.count(name) > 1:
            seen[name] = seen.get(name, 0) + 1
            name = f"{name}-{seen[name]}"
        folders.append(name)
    return folders


# --------------------------------------------------------------------------
# One client, in its worker process
# --------------------------------------------------------------------------


def _page_count(pdf: Path | None) -> int | None:
    if pdf is None:
        return None
    from pypdf import PdfReader  # only batches count pages

    return len(PdfReader(pdf).pages)


def render_client(config: Path, out: Path, options: BatchOptions) -> dict[str, Any]:
    """Render (and maybe deliver) one client; never raises: the outcome is a plain dict."""
    # imported here: the parent never renders, so it never loads pandas (workers have it preloaded)
    from roistory.runs import render_and_deliver

    started = time.perf_counter()
    outcome: dict[str, Any] = {"ok": False}
    try:
        paths, records = render_and_deliver(
            config,
            out,
            period=options.period,
            locale=options.locale,
            formats=options.formats,
            editions=options.editions,
            draft=options.draft,
            deliver=options.deliver,
            force=options.force,
            approved_by="roistory batch --deliver",
        )
        outcome.update(
            ok=True,
            outputs={kind: str(path) for kind, path in paths.items() if kind != "manifest"},
            pages=_page_count(next((p for kind, p in paths.items() if kind.endswith("pdf")), None)),
            delivered=[record["destination"] for record in records],
        )
    except RoistoryError as exc:
        outcome.update(error=str(exc), exit_code=exc.exit_code)
    except Exception as exc:  # one client's bug must not stop the batch
        outcome.update(error=plugin_at_fault(exc) or f"internal error {type(exc).__name__}: {exc}", exit_code=1)
    outcome["seconds"] = time.perf_counter() - started
    return outcome


def _worker(connection, config: str, out: str, options: BatchOptions) -> None:
    quiet_disabled_plugins()  # the parent warned once already
    connection.send(render_client(Path(config), Path(out), options))
    connection.close()


# --------------------------------------------------------------------------
# The batch: at most `jobs` workers at a time, one per client
# --------------------------------------------------------------------------


def _plugin_modules() -> list[str]:
    """The installed plugins' modules (a broken one fails later, in the worker, as usual)."""
    return sorted({ep.value.split(":")[0] for ep in entry_points(group=ENTRY_POINT_GROUP)})


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([*PRELOAD, *_plugin_modules()])
        return context
    return multiprocessing.get_context("spawn")


def run_batch(
    configs: list[Path],
    out: Path,
    jobs: int = 2,
    options: BatchOptions | None = None,
    *,
    on_start: Callable[[str], None] | None = None,
    on_done: Callable[[BatchResult], None] | None = None,
) -> list[BatchResult]:
    """Render every config into ``out/<client>/``; results in the order of ``configs``."""
    options = options or BatchOptions()
    folders = client_folders(configs)
    context = _context()
    waiting = list(range(len(configs)))
    running: dict[Any, tuple[int, Any]] = {}  # the worker's pipe -> (index, process)
    results: dict[int, BatchResult] = {}
    while waiting or running:
        while waiting and len(running) < max(1, jobs):
            index = waiting.pop(0)
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(
                target=_worker, args=(sender, str(configs[index]), str(out / folders[index]), options)
            )
            process.start()
            sender.close()
            running[receiver] = (index, process)
            if on_start:
                on_start(folders[index])
        for receiver in wait(list(running)):  # a result, or the end of a worker that died
            index, process = running.pop(receiver)
            try:
                outcome = receiver.recv()
            except EOFError:
                outcome = None
            process.join()
            receiver.close()
            if outcome is None:  # killed (out of memory?) or crashed in native code
                outcome = {"ok": False, "error": f"worker stopped with exit code {process.exitcode}", "exit_code": 1}
            results[index] = BatchResult(configs[index], folders[index], **outcome)
            if on_done:
                on_done(results[index])
    return [results[i] for i in range(len(configs))]
