"""depth-pose compare on a tiny dataset and budget: every kind of run, the table and chart."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

DEPTH_POSE = Path(sys.executable).parent / "depth-pose"


@pytest.mark.slow
def test_compare_networks_and_forest(tmp_path):
    data = tmp_path / "data"
    assert subprocess.run([str(DEPTH_POSE), "synth", "--count", "500", "--seed", "2", "--out",
                           str(data), "--quiet"], timeout=300).returncode == 0
    out = tmp_path / "compare"
    command = [str(DEPTH_POSE), "compare", "--data", str(data), "--budget", "0.02", "--out",
               str(out), "--runs", "dnn33,squeezenet_s,forest", "--eval-frames", "80",
               "--forest-frames", "60", "--val-frames", "50", "--speed-seconds", "0.2",
               "--quiet"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {r["run"]: r for r in json.loads((out / "comparison.json").read_text())["rows"]}
    assert set(rows) == {"dnn33", "squeezenet_s", "forest"}
    assert rows["squeezenet_s"]["weights"] > 0 and rows["forest"]["weights"] is None
    assert all(0 <= r["ap10_mean_no_root"] <= 1 and r["b1_fps"] > 0 for r in rows.values())
    table = (out / "comparison.md").read_text()
    assert "| squeezenet_s |" in table and "| forest |" in table
    assert (out / "comparison.png").stat().st_size > 10_000
    # Finished runs are reused: a second call only redraws.
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and (out / "dnn33" / "report" / "metrics.json").is_file()
