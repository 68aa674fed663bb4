"""``kill -9`` of ``roistory run`` at any moment leaves no process behind (the prestarted PDF
worker dies with its parent) and no half-written output or history store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from roistory.history import list_stored


def _group_members(pgid: int) -> list[int]:
    """Every live process in process group ``pgid`` (zombies excluded), from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            members.append(int(entry.name))
    return members


def _complete(path: Path) -> bool:
    data = path.read_bytes()
    if path.suffix == ".pdf":
        return data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    if path.suffix == ".html":
        return data.rstrip().endswith(b"</html>")
    if path.suffix == ".json":
        json.loads(data)
        return True
    return True


@pytest.fixture(scope="module")
def project(cli, tmp_path_factory):
    config = cli.default_config()
    config["report"]["formats"] = ["html", "pdf", "json"]
    config["history"] = {"path": "history.duckdb"}
    return cli.write_project(tmp_path_factory.mktemp("kill") / "proj", config)


@pytest.mark.parametrize("delay", [0.3, 1.0, 2.0, 3.0, 4.5])
def test_sigkill_leaves_no_process_and_no_partial_file(cli, project, tmp_path, delay):
    from conftest import roistory_command

    out = tmp_path / "out"
    process = subprocess.Popen(
        [*roistory_command(), "run", str(project), "--out", str(out)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: every child it starts is found by pgid
    )
    time.sleep(delay)
    members_before = _group_members(process.pid)
    process.kill()  # SIGKILL to the parent only, as the OOM killer or `kill -9 PID` would
    process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while (left := _group_members(process.pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    if left:  # do not leak them into the rest of the test run
        os.killpg(process.pid, signal.SIGKILL)
    assert left == [], f"processes survived the kill (group had {members_before})"
    for path in out.glob("*") if out.exists() else []:
        if not path.name.startswith("."):
            assert _complete(path), f"{path.name} is half-written"
    store = project.parent / "history.duckdb"
    if store.exists():
        list_stored(store)  # opens as a roistory store: never half-written


def test_a_run_after_a_kill_succeeds_and_tidies_up(cli, project, tmp_path):
    out = tmp_path / "out"
    result = cli.run("run", project, "--out", out, cwd=tmp_path)
    assert result.code == 0, result.output
    litter = [p.name for p in project.parent.iterdir() if p.name.startswith(".history.duckdb.new-")]
    assert litter == []
    assert {m.month for m in list_stored(project.parent / "history.duckdb")} == {"2026-09", "2026-10"}
