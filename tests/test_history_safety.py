"""``history.path`` can never destroy a file: whatever it points at that is not a roistory
store is refused with exit 2 naming the key, and left byte-identical; a failed run leaves
the store as it was."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest


def _digest(path: Path) -> str:
    """A fingerprint of a file or of a whole folder (names and contents)."""
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    parts = [f"{p.relative_to(path)}:{p.read_bytes().hex() if p.is_file() else 'dir'}" for p in sorted(path.rglob("*"))]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@pytest.mark.parametrize("target", ["config", "data-folder", "data-file", "outside-file", "outside-symlink"])
@pytest.mark.parametrize("command", ["run", "validate"])
def test_history_path_at_something_else_is_refused(cli, tmp_path, target, command):
    project = tmp_path / "proj"
    outside = tmp_path / "precious.duckdb"
    outside.write_bytes(b"someone else's file\n")
    config = cli.default_config()
    value = {
        "config": "report.yaml",
        "data-folder": "data",
        "data-file": "data/spend.csv",
        "outside-file": str(outside),
        "outside-symlink": "link.duckdb",
    }[target]
    config["history"] = {"path": value}
    config_path = cli.write_project(project, config)
    if target == "outside-symlink":
        (project / "link.duckdb").symlink_to(outside)
    victim = {"config": config_path, "data-folder": project / "data", "data-file": project / "data/spend.csv"}.get(
        target, outside
    )
    before = _digest(victim)
    listing = sorted(p.name for p in tmp_path.rglob("*"))
    out = tmp_path / "out"
    args = ("run", config_path, "--out", out) if command == "run" else ("validate", config_path)
    result = cli.run(*args, cwd=tmp_path)
    cli.assert_rejected(result, out, "history.path")
    assert _digest(victim) == before
    assert sorted(p.name for p in tmp_path.rglob("*")) == listing  # nothing moved aside or created


def test_outside_the_project_when_asked_for(cli, tmp_path):
    config = cli.default_config()
    config["history"] = {"path": str(tmp_path / "stores" / "tiny.duckdb"), "allow_outside": True}
    (tmp_path / "stores").mkdir()
    config_path = cli.write_project(tmp_path / "proj", config)
    result = cli.run("run", config_path, "--out", tmp_path / "out", cwd=tmp_path)
    assert result.code == 0, result.output
    listed = cli.run("history", config_path, cwd=tmp_path)
    assert listed.code == 0 and "2026-10" in listed.stdout, listed.output


def test_a_failed_run_leaves_the_store_as_it_was(cli, tmp_path):
    config = cli.default_config()
    config["history"] = {"path": "history.duckdb"}
    config_path = cli.write_project(tmp_path / "proj", config)
    store = config_path.parent / "history.duckdb"
    assert cli.run("run", config_path, "--out", tmp_path / "out1", cwd=tmp_path).code == 0
    before = store.read_bytes()
    # November's data, but a template error stops the run after the data is read
    theme = config_path.parent / "broken"
    (theme / "templates").mkdir(parents=True)
    (theme / "templates" / "report.html.j2").write_text("{% if %}", encoding="utf-8")
    spend = (config_path.parent / "data/spend.csv").read_text() + "2026-11-02,Email,Newsletter,5.00,10,1\n"
    (config_path.parent / "data/spend.csv").write_text(spend)
    config["report"].update(theme="broken", formats=["html"])
    cli.write_project(tmp_path / "proj", config, files={"data/spend.csv": spend})
    out = tmp_path / "out2"
    result = cli.run("run", config_path, "--out", out, cwd=tmp_path)
    cli.assert_rejected(result, out)
    assert store.read_bytes() == before
    assert sorted(p.name for p in store.parent.iterdir() if p.name.startswith((".history", "history"))) == [
        "history.duckdb"
    ]
