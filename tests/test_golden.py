"""The demo's JSON and HTML are pinned by hash, so a refactor cannot change output unnoticed.

When a change is *meant* to change the demo report (a new number, a wording fix, a layout
change), update the hashes deliberately: run ``.venv/bin/roistory demo --out /tmp/demo``
(or ``roistory run examples/acme/report.yaml``, as this test does),
look at the new outputs, then paste the hashes this test prints on failure here
and say in the commit message what changed and why.

The JSON is hashed with its numbers rounded to 10 significant digits: the last bits of a
float from a matrix inversion (Markov) differ between BLAS builds and numpy versions, which
is not a change in what the report says. The HTML prints rounded numbers and is hashed as is.
"""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).parent.parent / "examples" / "acme" / "report.yaml"

GOLDEN = {
    "acme-2026-10.json": "39fa23451d79b077b6665328b9b54ca47d97e1eeb8ccedf3d59a841651db7f02",
    "acme-2026-10.html": "1e7251443496df455876aca7a7b91868e31f934a35c962a06b4704fdc943e2f2",
}


def test_demo_outputs_match_the_golden_hashes(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "roistory.cli", "run", str(EXAMPLE), "--out", str(tmp_path), "--format", "html,json"],
        check=True,
        capture_output=True,
    )
    actual = {name: _digest(tmp_path / name) for name in GOLDEN}
    assert actual == GOLDEN, f"new hashes (update deliberately, see the docstring): {actual}"


def _rounded(value):
    if isinstance(value, float):
        return float(f"{value:.10g}")
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


def _digest(path: Path) -> str:
    if path.suffix == ".json":
        canonical = json.dumps(_rounded(json.loads(path.read_text())), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()
