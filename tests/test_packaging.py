"""The wheel holds the package as `roistory/...` with its data; nothing leaks as bare core/ or plugins/."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_contents(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("roistory-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    tops = {name.split("/")[0] for name in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"roistory"}
    for expected in (
        "roistory/__init__.py",
        "roistory/hookspecs.py",
        "roistory/engines/rules.py",
        "roistory/plugins/core_metrics.py",
        "roistory/templates/report.html.j2",
        "roistory/templates/report.css",
        "roistory/templates/sections/summary.html.j2",
        "roistory/templates/scaffold/pyproject.toml.j2",
        "roistory/templates/locales/zh_Hant/LC_MESSAGES/roistory.po",
        "roistory/examples/acme/report.yaml",
        "roistory/examples/acme/data/touchpoints.csv",
        "roistory/py.typed",
    ):
        assert expected in names, expected
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[roistory]" in text and "core_metrics = roistory.plugins.core_metrics" in text
    assert "[pytest11]" in text
