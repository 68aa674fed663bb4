"""Shared helpers for the command-line tests (bad input, render security, determinism).

They run the real ``roistory`` command in a child process, as a user would, on a
tiny report project written into ``tmp_path``: four CSV files with SPEC's
canonical columns and a ``report.yaml`` in SPEC's format.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml


def roistory_command() -> list[str]:
    """The installed console script beside this Python, else ``python -m roistory.cli``."""
    script = Path(sys.executable).with_name("roistory")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "roistory.cli"]


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> CliResult:
    done = subprocess.run(
        [*roistory_command(), *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return CliResult(done.returncode, done.stdout, done.stderr)


# October 2026 is the report period; September gives the "previous" comparison numbers.
DATA_FILES: dict[str, str] = {
    "data/spend.csv": (
        "date,channel,campaign,cost,impressions,clicks\n"
        "2026-09-03,Paid Search,Brand,90.00,900,30\n"
        "2026-09-10,Email,Newsletter,15.00,500,25\n"
        "2026-10-01,Paid Search,Brand,120.50,1000,40\n"
        "2026-10-02,Email,Newsletter,20.00,600,30\n"
        "2026-10-08,Paid Social,Prospecting,75.25,3000,45\n"
        "2026-10-15,Paid Search,Brand,80.00,800,20\n"
    ),
    "data/touchpoints.csv": (
        "person_id,timestamp,channel,campaign\n"
        "P0,2026-09-05T10:00:00,Paid Search,Brand\n"
        "P1,2026-10-01T10:00:00,Paid Search,Brand\n"
        "P1,2026-10-03T09:00:00,Email,Newsletter\n"
        "P2,2026-10-02T11:00:00,Email,Newsletter\n"
        "P3,2026-10-08T08:30:00,Paid Social,Prospecting\n"
        "P3,2026-10-12T14:00:00,Paid Search,Brand\n"
    ),
    "data/conversions.csv": (
        "person_id,timestamp,revenue\n"
        "P0,2026-09-07T12:00:00,300\n"
        "P1,2026-10-05T12:00:00,500\n"
        "P2,2026-10-06T12:00:00,250\n"
        "P3,2026-10-13T16:00:00,900\n"
    ),
    "data/leads.csv": (
        "lead_id,created_at,person_id,source_channel,mql_at,sql_at\n"
        "L0,2026-09-05,P0,Paid Search,2026-09-06,2026-09-06\n"
        "L1,2026-10-01,P1,Paid Search,2026-10-02,2026-10-04\n"
        "L2,2026-10-02,P2,Email,2026-10-03,\n"
        "L3,2026-10-08,P3,Paid Social,,\n"
    ),
}


def default_config() -> dict[str, Any]:
    """A fresh report.yaml mapping for the files in DATA_FILES (tests edit their copy)."""
    return copy.deepcopy(
        {
            "report": {
                "title": "Tiny Co — Marketing Performance",
                "period": "2026-10",
                "compare": ["previous"],
                "currency": "USD",
                "locale": "en",
                "timezone": "UTC",
                "formats": ["json"],
            },
            "sources": [
                {"name": name, "type": "csv", "path": f"data/{name}.csv", "table": name}
                for name in ("spend", "touchpoints", "conversions", "leads")
            ],
            "attribution": {"models": ["first_touch", "last_touch", "linear"], "primary": "linear"},
        }
    )


def write_project(
    folder: Path,
    config: dict[str, Any] | None = None,
    *,
    files: dict[str, str | bytes | None] | None = None,
    config_text: str | None = None,
) -> Path:
    """Write DATA_FILES (``files`` replaces, adds, or with None removes one) and report.yaml
    (``config_text`` verbatim, else ``config`` or :func:`default_config` as YAML) into
    ``folder``; return the path of report.yaml."""
    folder.mkdir(parents=True, exist_ok=True)
    contents: dict[str, str | bytes | None] = {**DATA_FILES, **(files or {})}
    for relative, content in contents.items():
        if content is None:
            continue
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    config_path = folder / "report.yaml"
    if config_text is None:
        config_text = yaml.safe_dump(config or default_config(), sort_keys=False, allow_unicode=True)
    config_path.write_text(config_text, encoding="utf-8")
    return config_path


def files_under(folder: Path) -> list[str]:
    """Every file below ``folder`` (relative paths), [] when it does not exist."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if not p.is_dir())


def assert_rejected(result: CliResult, out: Path | None, *fragments: str) -> str:
    """Bad input: exit code 2, exactly one line on stderr holding every fragment, nothing
    on stdout, no traceback, and no file in the ``--out`` folder. Returns the line."""
    assert "Traceback" not in result.output, result.output
    assert result.code == 2, f"exit code {result.code}, expected 2 (bad input)\n{result.output}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected a one-line error, got {len(lines)} lines:\n{result.stderr}"
    line = lines[0]
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} missing from the error: {line}"
    assert result.stdout.strip() == "", f"nothing should be printed on stdout: {result.stdout!r}"
    if out is not None:
        assert files_under(out) == [], f"{out} should hold no report after a failure"
    return line


class Cli:
    """The helpers above, handed to tests by the ``cli`` fixture (no conftest imports)."""

    run = staticmethod(_run)  # cli.run("run", config, "--out", out, cwd=folder) -> CliResult
    write_project = staticmethod(write_project)
    default_config = staticmethod(default_config)
    assert_rejected = staticmethod(assert_rejected)
    files_under = staticmethod(files_under)
    data_files = DATA_FILES  # the tiny project's files, to edit a copy of one


@pytest.fixture(scope="session")
def cli() -> type[Cli]:
    return Cli
