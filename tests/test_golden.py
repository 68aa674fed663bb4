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
    "acme-2026-10.json": "d2b12232a956424a4ba1240281e5f788e8a5a15ff6545ab4e2df5b7188043923",
    "acme-2026-10.html": "0d1ce83692fd30e8e9549a965daeb9db2464320ed087ff32e8ec8446ce4afcaf",
}


def test_demo_outputs_match_the_golden_hashes(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "roistory.cli", "run", str(EXAMPLE), "--out", str(tmp_path), "--format", "html,json"],
        check=True,
        capture_output=True,
    )
    actual = {name: hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() for name in GOLDEN}
    assert actual == GOLDEN
