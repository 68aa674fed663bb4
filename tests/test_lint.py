"""The code passes ruff's checks (pyflakes, pycodestyle with the line length, isort, bugbear,
pyupgrade, banned bare imports) and is formatted by ``ruff format``."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = ["core", "plugins", "tests", "benchmarks", "scripts/mutation_fast.py"]


def _ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", *args, *CODE], cwd=ROOT, capture_output=True, text=True)


def test_ruff_check_passes():
    done = _ruff("check")
    assert done.returncode == 0, done.stdout + done.stderr


def test_code_is_formatted():
    done = _ruff("format", "--check")
    assert done.returncode == 0, "run `ruff format " + " ".join(CODE) + "`:\n" + done.stdout + done.stderr
