"""A real third-party plugin, installed with pip and found through its entry point.

examples/plugins/roistory-crm-csv (and, for the failure test, a deliberately
broken package) is built and installed with pip, then driven through the
``roistory`` console script in subprocesses, as a user would.

Where it is installed: by default ``pip install --target`` into a temporary
folder that only this module's subprocesses see (``PYTHONPATH``), so the
shared virtualenv never holds a broken plugin and other test runs in it are
unaffected. ``ROISTORY_TEST_INSTALL=venv`` installs into the current
virtualenv instead and uninstalls at teardown.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import uuid
from pathlib import Path

import pandas as pd
import pytest

from roistory.testing import make_spend, write_project

PLUGIN_DIR = Path(__file__).parents[1] / "examples" / "plugins" / "roistory-crm-csv"
DEALS = PLUGIN_DIR / "tests" / "data" / "deals.csv"
PLUGIN_VERSION = tomllib.loads((PLUGIN_DIR / "pyproject.toml").read_text())["project"]["version"]
INTO_VENV = os.environ.get("ROISTORY_TEST_INSTALL") == "venv"
TIMEOUT = 300


def _build_flags() -> list[str]:
    """Build with the venv's setuptools when it can make wheels by itself (no index needed),
    else let pip fetch the build backend into an isolated environment."""
    try:
        import setuptools
    except ImportError:
        return []
    major, minor = (int(p) for p in setuptools.__version__.split(".")[:2])
    if (major, minor) >= (70, 1):
        return ["--no-build-isolation"]
    try:
        import wheel  # noqa: F401  (setuptools < 70.1 needs it for bdist_wheel)
    except ImportError:
        return []
    return ["--no-build-isolation"]


def _pip(*args: str) -> None:
    # one pip at a time in this venv: pytest-xdist workers share it (ROISTORY_TEST_INSTALL=venv)
    with open(Path(sys.prefix) / ".roistory-test-pip.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = subprocess.run(
            [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    if done.returncode != 0:
        pytest.fail(f"pip {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


class Installation:
    """Packages installed for one test module, and the environment that sees them."""

    def __init__(self, site: Path):
        self.site = site
        self.distributions: list[str] = []

    def install(self, project: Path, distribution: str) -> None:
        # a copy, so that setuptools' build/ and *.egg-info never land in the repository
        source = Path(tempfile.mkdtemp(prefix=f"src-{distribution}-", dir=self.site.parent)) / "src"
        shutil.copytree(project, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
        target = [] if INTO_VENV else ["--target", str(self.site)]
        _pip("install", "--no-deps", "--quiet", *_build_flags(), *target, str(source))
        self.distributions.append(distribution)

    def uninstall(self, distribution: str) -> None:
        if INTO_VENV:
            _pip("uninstall", "--yes", "--quiet", distribution)
        else:
            normalised = distribution.replace("-", "_")
            for path in self.site.glob(f"{normalised}*"):
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        self.distributions.remove(distribution)

    def env(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ROISTORY_")}
        if not INTO_VENV:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(self.site), env.get("PYTHONPATH")]))
        env.update(overrides)
        return env

    def roistory(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        script = Path(sys.executable).with_name("roistory")
        command = [str(script)] if script.exists() else [sys.executable, "-m", "roistory.cli"]
        return subprocess.run([*command, *args], capture_output=True, text=True, env=self.env(**env), timeout=TIMEOUT)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installation:
    """roistory-crm-csv, installed once for this module and removed at the end."""
    installation = Installation(tmp_path_factory.mktemp("third-party") / "site")
    installation.install(PLUGIN_DIR, "roistory-crm-csv")
    yield installation
    for distribution in list(installation.distributions):
        installation.uninstall(distribution)


def crm_project(tmp_path: Path, *, spend: bool = True) -> Path:
    """October 2026: the example export through crm_csv, and (first) spend from a csv file."""
    shutil.copy(DEALS, tmp_path / "deals.csv")
    return write_project(
        tmp_path,
        {"spend": make_spend(date=["2026-10-02"] * 3 + ["2026-10-16"] * 3)} if spend else {},
        sources=[{"name": "crm", "type": "crm_csv", "path": "deals.csv", "table": "leads"}],
        period="2026-10",
        title="CRM plugin report",
    )


def test_plugins_lists_it_with_distribution_version_and_hooks(installed):
    done = installed.roistory("plugins", "--json")
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert rows["crm_csv"] == {
        "name": "crm_csv",
        "distribution": "roistory-crm-csv",
        "version": PLUGIN_VERSION,
        "builtin": False,
        "templates": False,
        "hooks": ["register_data_sources", "register_metrics"],
    }
    assert rows["file_sources"]["builtin"] is True

    text = installed.roistory("plugins").stdout
    assert any(line.split()[:3] == ["crm_csv", "roistory-crm-csv", PLUGIN_VERSION] for line in text.splitlines()), text

    by_hook = json.loads(installed.roistory("plugins", "--json", "--hook", "register_data_sources").stdout)
    names = {row["name"] for row in by_hook}
    assert {"crm_csv", "file_sources"} <= names
    assert all("register_data_sources" in row["hooks"] for row in by_hook)
    assert "core_metrics" not in names  # the filter filters


def test_report_from_a_crm_export(installed, tmp_path):
    done = installed.roistory("run", str(crm_project(tmp_path)), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / f"{tmp_path.name}-2026-10.json").read_text())
    metrics = {m["id"]: m["value"] for m in report["metrics"] if m["period"] == "current" and not m["segment"]}

    # the won amounts, computed here from the export itself
    deals = pd.read_csv(DEALS, dtype=str)
    closed = pd.to_datetime(deals["Close Date"], format="%m/%d/%Y")
    amount = deals["Amount"].str.replace(r"[$,]", "", regex=True).astype(float)
    won = (deals["Deal Stage"] == "Closed Won") & closed.between("2026-10-01", "2026-10-31")
    assert won.sum() == 4
    assert metrics["revenue"] == pytest.approx(amount[won].sum())
    lost = (deals["Deal Stage"] == "Closed Lost") & closed.between("2026-10-01", "2026-10-31")
    assert metrics["crm_win_rate"] == pytest.approx(won.sum() / (won.sum() + lost.sum()))
    assert metrics["leads"] == (pd.to_datetime(deals["Create Date"], format="%m/%d/%Y").dt.month == 10).sum()
    assert metrics["roi"] == pytest.approx((amount[won].sum() - 2100) / 2100)
    assert {"source": "crm", "table": "leads", "rows": len(deals)}.items() <= report["inputs"][1].items()

    html = (tmp_path / "out" / f"{tmp_path.name}-2026-10.html").read_text()
    assert "Deal win rate" in html
    manifest = json.loads((tmp_path / "out" / f"{tmp_path.name}-2026-10.manifest.json").read_text())
    assert {
        "name": "crm_csv",
        "distribution": "roistory-crm-csv",
        "version": PLUGIN_VERSION,
    } in manifest["plugins"]


HIDING = [
    pytest.param({"ROISTORY_LOAD_PLUGINS": ""}, id="built-ins-only"),
    pytest.param({"ROISTORY_BLOCK_PLUGINS": "crm_csv"}, id="blocked"),
]


@pytest.mark.parametrize("env", HIDING)
def test_load_controls_hide_it(installed, env):
    done = installed.roistory("plugins", "--json", **env)
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert "file_sources" in rows
    # not loaded: absent, or (blocked, as docs/plugins.md describes) listed with no hooks
    assert rows.get("crm_csv", {}).get("hooks", []) == []
    assert rows.get("crm_csv", {}).get("distribution") is None


@pytest.mark.parametrize("env", HIDING)
def test_config_naming_a_hidden_source_type_is_bad_input(installed, tmp_path, env):
    config = crm_project(tmp_path, spend=False)
    done = installed.roistory("run", str(config), "--out", str(tmp_path / "out"), **env)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "sources[0].type: unknown source type 'crm_csv'" in done.stderr
    assert not (tmp_path / "out").exists()


def test_allow_list_by_distribution_name(installed):
    done = installed.roistory("plugins", "--json", ROISTORY_LOAD_PLUGINS="roistory-crm-csv")
    assert "crm_csv" in {row["name"] for row in json.loads(done.stdout)}


def test_the_plugins_own_tests_pass(installed, tmp_path):
    project = tmp_path / "roistory-crm-csv"
    shutil.copytree(PLUGIN_DIR, project, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        env=installed.env(),
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert " passed" in done.stdout and "failed" not in done.stdout


PLUGIN_PYPROJECT = """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "{distribution}"
version = "0.0.1"

[project.entry-points.roistory]
{entry_point} = "{module}"

[tool.setuptools]
py-modules = ["{module}"]
"""


def install_plugin(installed: Installation, tmp_path: Path, entry_point: str, source: str) -> tuple[str, str]:
    """A one-module plugin package, uniquely named (xdist workers may share the venv);
    returns (entry-point name, distribution)."""
    suffix = uuid.uuid4().hex[:8]
    distribution, module = f"roistory-{entry_point}-{suffix}", f"roistory_{entry_point}_{suffix}"
    project = tmp_path / distribution
    project.mkdir()
    (project / "pyproject.toml").write_text(
        PLUGIN_PYPROJECT.format(distribution=distribution, entry_point=entry_point, module=module)
    )
    (project / f"{module}.py").write_text(source)
    installed.install(project, distribution)
    return entry_point, distribution


BROKEN_MODULES = [
    pytest.param(
        ("import roistory_missing_dependency  # noqa\n", "roistory_missing_dependency"),
        id="import-error",
    ),
    pytest.param(
        (
            "from roistory import hookimpl\n\n\n@hookimpl\ndef register_metric(register):\n    pass\n",
            "register_metric",
        ),
        id="misspelt-hook",
    ),
]


@pytest.fixture(params=BROKEN_MODULES)
def broken(request, installed, tmp_path):
    """A plugin that cannot load, installed for one test only; yields its names and the cause."""
    module, cause = request.param
    name, distribution = install_plugin(installed, tmp_path, "broken", module)
    yield installed, name, distribution, cause
    installed.uninstall(distribution)


def test_a_broken_plugin_is_disabled_with_one_warning_and_the_rest_works(broken, tmp_path):
    installed, name, distribution, cause = broken
    done = installed.roistory("plugins")
    assert done.returncode == 0, done.stderr
    assert "crm_csv" in done.stdout and "file_sources" in done.stdout
    [warning] = done.stderr.strip().splitlines()
    assert warning.startswith("Warning: ") and "disabled" in warning
    assert f"'{name}'" in warning and distribution in warning and cause in warning
    assert "Traceback" not in done.stderr

    run = installed.roistory("run", str(crm_project(tmp_path)), "--out", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("Warning: ") == 1 and distribution in run.stderr
    assert (tmp_path / "out" / f"{tmp_path.name}-2026-10.json").is_file()

    # blocking it by name silences it
    done = installed.roistory("plugins", ROISTORY_BLOCK_PLUGINS=name)
    assert done.returncode == 0 and done.stderr == ""


RAISING = """\
from roistory import hookimpl


@hookimpl
def prepare_jinja2_environment(env, report):
    env.globals["per_lead"] = report.value("spend") / 0
"""


def test_an_exception_inside_a_plugins_hook_is_one_line_naming_it(installed, tmp_path):
    name, distribution = install_plugin(installed, tmp_path, "raising", RAISING)
    try:
        config = crm_project(tmp_path)
        done = installed.roistory("run", str(config), "--out", str(tmp_path / "out"))
        assert done.returncode == 1
        [line] = done.stderr.strip().splitlines()
        assert f"plugin '{name}' from {distribution}" in line
        assert "hook prepare_jinja2_environment" in line and "ZeroDivisionError" in line
        assert not (tmp_path / "out").exists()

        verbose = installed.roistory("-v", "run", str(config), "--out", str(tmp_path / "out"))
        assert verbose.returncode == 1 and "Traceback" in verbose.stderr and "/ 0" in verbose.stderr

        # in a batch, the client that hit it fails with the same line
        batch = installed.roistory("batch", str(config), "--out", str(tmp_path / "batch"), "--format", "html")
        assert batch.returncode == 1
        assert f"plugin '{name}' from {distribution} failed in hook prepare_jinja2_environment" in batch.stdout
    finally:
        installed.uninstall(distribution)
