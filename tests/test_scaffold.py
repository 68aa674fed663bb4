"""`roistory new-plugin`: the generated packages install, register and pass their own tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from roistory.scaffold import KINDS

ROISTORY = [sys.executable, "-m", "roistory.cli"]


def _env(site: Path) -> dict[str, str]:
    """This environment, seeing the packages installed into ``site`` (and nothing else does)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROISTORY_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    return env


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """One plugin of every kind, installed with ``pip --target`` into a folder only this
    module's subprocesses see: the shared virtualenv is never changed, so other tests
    running at the same time (pytest -n 2) are unaffected."""
    root = tmp_path_factory.mktemp("plugins")
    site = root / "site"
    folders = {}
    for kind in KINDS:
        name = f"scaffolded_{kind}"
        result = subprocess.run(
            [*ROISTORY, "new-plugin", name, "--kind", kind, "--dir", str(root)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        folders[kind] = root / f"roistory-scaffolded-{kind}"
    as_generated = {
        kind: sorted(str(p.relative_to(f)) for p in f.rglob("*") if p.is_file()) for kind, f in folders.items()
    }
    # setuptools and wheel come with the test extras: no build isolation, no download
    for folder in folders.values():
        # built from a copy, so setuptools' build/ and *.egg-info stay out of the generated folder
        source = root / "build-src" / folder.name
        shutil.copytree(folder, source)
        install = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(source),
        ]
        done = subprocess.run(install, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
    yield folders, as_generated, _env(site)


def test_files_of_a_generated_plugin(generated):
    folders, as_generated, _ = generated
    folder = folders["metrics"]
    assert as_generated["metrics"] == [
        "README.md",
        "pyproject.toml",
        "roistory_scaffolded_metrics/__init__.py",
        "tests/test_scaffolded_metrics.py",
    ]
    pyproject = (folder / "pyproject.toml").read_text()
    assert 'name = "roistory-scaffolded-metrics"' in pyproject
    assert 'scaffolded_metrics = "roistory_scaffolded_metrics"' in pyproject
    assert (folders["section"] / "roistory_scaffolded_section/templates/sections/scaffolded_section.html.j2").is_file()
    assert (folders["theme"] / "roistory_scaffolded_theme/templates/style.css").is_file()


def test_generated_plugins_are_listed(generated):
    listed = subprocess.run([*ROISTORY, "plugins"], capture_output=True, text=True, check=True, env=generated[2]).stdout
    for kind in KINDS:
        assert f"scaffolded_{kind}" in listed
        assert f"roistory-scaffolded-{kind} 0.1.0" in listed


@pytest.mark.parametrize("kind", list(KINDS))
def test_generated_plugin_passes_its_own_tests(generated, kind):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=generated[0][kind],
        capture_output=True,
        text=True,
        env=generated[2],
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert "2 passed" in result.stdout


def test_bad_names_and_existing_folders_are_refused(tmp_path):
    bad = subprocess.run(
        [*ROISTORY, "new-plugin", "Bad-Name", "--kind", "source", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "lowercase" in bad.stderr
    (tmp_path / "roistory-taken").mkdir()
    taken = subprocess.run(
        [*ROISTORY, "new-plugin", "taken", "--kind", "source", "--dir", str(tmp_path)], capture_output=True, text=True
    )
    assert taken.returncode == 2 and "already exists" in taken.stderr


def test_generated_code_has_no_leftover_template_syntax(generated):
    for folder in generated[0].values():
        for path in Path(folder).rglob("*.py"):
            text = path.read_text()
            assert "{{" not in text and "{%" not in text, path
