"""One small env of the tox version matrix, for real: run it, merge it, read the merge.

The whole matrix (docs/version-matrix.md) is too long for CI; this runs the smallest env on
a few cases, then the `matrix` env that merges whatever results are present.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOX = shutil.which("tox") or str(Path(sys.executable).with_name("tox"))


@pytest.mark.skipif(not Path(TOX).exists(), reason="tox is not installed (pip install '.[test]')")
def test_a_matrix_env_runs_and_merges(tmp_path):
    env = "torch213"
    out = ROOT / "reports" / "matrix" / f"{env}.json"
    out.unlink(missing_ok=True)
    run = subprocess.run([TOX, "-e", env, "--", "-k", "chain-rule"], cwd=ROOT,
                         capture_output=True, text=True, timeout=1500)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    doc = json.loads(out.read_text())
    assert doc["run"]["label"] == env and doc["run"]["complete"]
    assert doc["environment"]["frameworks"]["torch"].startswith("2.13.0")
    assert {r["backend"] for r in doc["rows"]} == {"reference", "torch"}
    assert all(r["status"] == "pass" for r in doc["rows"])

    merged = subprocess.run([TOX, "-e", "matrix"], cwd=ROOT, capture_output=True, text=True,
                            timeout=600)
    assert merged.returncode == 0, merged.stdout[-3000:] + merged.stderr[-3000:]
    html = (ROOT / "reports" / "matrix.html").read_text()
    assert "torch 2.13.0" in html
