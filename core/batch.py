"""Many reports in one call (an agency's clients), in parallel processes.

Each report renders in its own child process: WeasyPrint is single-threaded and
does not return memory to the OS after a big render, so processes give both
parallelism and a clean slate per client. One client's failure is recorded and
the others go on.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path


@dataclass
class BatchResult:
    config: Path
    client: str
    ok: bool
    seconds: float
    outputs: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    exit_code: int = 0


def client_name(config_path: Path) -> str:
    """The config's ``report.client``, else its folder's name."""
    import yaml

    try:
        data = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
        client = (data.get("report") or {}).get("client")
    except Exception:  # the render reports a broken config properly
        client = None
    name = str(client or config_path.resolve().parent.name)
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "report"


def _render_one(config_path: str, out_dir: str) -> tuple[bool, dict[str, str], str | None, int]:
    from roistory.cli import render_config
    from roistory.errors import RoistoryError

    try:
        paths = render_config(Path(config_path), Path(out_dir))
        return True, {kind: str(path) for kind, path in paths.items()}, None, 0
    except RoistoryError as exc:
        return False, {}, str(exc), exc.exit_code
    except Exception as exc:  # one client's bug must not stop the batch
        return False, {}, f"internal error {type(exc).__name__}: {exc}", 1


def run_batch(configs: list[Path], out: Path, jobs: int = 2) -> list[BatchResult]:
    names = [client_name(c) for c in configs]
    clashes = {n for n in names if names.count(n) > 1}
    # two configs for the same client get numbered folders rather than overwriting each other
    seen: dict[str, int] = {}
    folders = []
    for name in names:
        if name in clashes:
            seen[name] = seen.get(name, 0) + 1
            name = f"{name}-{seen[name]}"
        folders.append(name)
    results: dict[int, BatchResult] = {}
    started = {}
    context = get_context("spawn")
    with ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=context, max_tasks_per_child=1) as pool:
        futures = {}
        for index, (config, folder) in enumerate(zip(configs, folders, strict=True)):
            started[index] = time.perf_counter()
            futures[pool.submit(_render_one, str(config), str(out / folder))] = index
        for future in as_completed(futures):
            index = futures[future]
            ok, outputs, error, code = future.result()
            results[index] = BatchResult(
                configs[index], folders[index], ok, time.perf_counter() - started[index], outputs, error, code
            )
    return [results[i] for i in range(len(configs))]
