"""The demo's JSON and HTML are pinned by hash, so a refactor cannot change output unnoticed.

When a change is *meant* to change the demo report (a new number, a wording fix, a layout
change), update the hashes deliberately: run ``.venv/bin/roistory demo --out /tmp/demo``
(or ``roistory run examples/acme/report.yaml``, as this test does),
look at the new outputs, then paste ``sha256sum /tmp/demo/acme-2026-10.{json,html}`` here
and say in the commit message what changed and why.
"""

import hashlib
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).parent.parent / "examples" / "acme" / "report.yaml"

GOLDEN = {
    "acme-2026-10.json": "1b9c87d0bb1fb3b022fffcbb428a48f509860972cd452dacca5ee859456005e7",
    "acme-2026-10.html": "37513cac98039e46e3c972be174ef2818dd0a3a2ed7ee135ae1d4812f38d36f3",
}


def test_demo_outputs_match_the_golden_hashes(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "roistory.cli", "run", str(EXAMPLE), "--out", str(tmp_path), "--format", "html,json"],
        check=True,
        capture_output=True,
    )
    actual = {name: hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() for name in GOLDEN}
    assert actual == GOLDEN
