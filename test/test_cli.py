"""The depth-pose console script, run as a user runs it."""
import subprocess
import sys
from pathlib import Path

import numpy as np

DEPTH_POSE = Path(sys.executable).parent / "depth-pose"


def run(*args):
    return subprocess.run([str(DEPTH_POSE), *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def test_synth_then_preview(tmp_path):
    result = run("synth", "--count", 64, "--seed", 3, "--out", tmp_path / "ds", "--workers", 2)
    assert result.returncode == 0, result.stderr
    assert "wrote 64 frames" in result.stdout
    assert np.load(tmp_path / "ds" / "depth.npy").shape == (64, 50, 60)

    sheet = tmp_path / "sheet.png"
    result = run("synth-preview", tmp_path / "ds", "--out", sheet, "--frames", 12)
    assert result.returncode == 0, result.stderr
    assert sheet.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sheet.stat().st_size > 10_000


def test_clear_errors(tmp_path):
    result = run("synth-preview", tmp_path, "--out", tmp_path / "x.png")
    assert result.returncode == 2
    assert "not a dataset directory" in result.stderr
    result = run("synth", "--count", 0, "--out", tmp_path / "ds")
    assert result.returncode == 2
    assert "positive" in result.stderr
    assert "Traceback" not in result.stderr
