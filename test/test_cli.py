"""The depth-pose console script, run as a user runs it."""
import json
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
    for world in (["--world", "paper"], ["--world", "wide", "--no-centred"]):
        result = run("synth", "--count", 8, "--out", tmp_path / "ds", "--zoom", 2.2, *world)
        assert result.returncode == 2 and "--zoom needs --world wide, centred" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert run("synth", "--count", 8, "--out", tmp_path / "ds", "--zoom", -1).returncode == 2
    result = run("synth", "--count", 8, "--out", tmp_path / "ds", "--person-occluders", 0.2)
    assert result.returncode == 2 and "--person-occluders needs --world wide" in result.stderr
    result = run("synth", "--count", 8, "--out", tmp_path / "ds", "--world", "wide",
                 "--person-occluders", 1.5)
    assert result.returncode == 2 and "from 0 to 1" in result.stderr
    for option in ("--feet-cut", "--chest-cut", "--back-views"):
        result = run("synth", "--count", 8, "--out", tmp_path / "ds", option, 0.5)
        assert result.returncode == 2 and f"{option} needs --world wide" in result.stderr
    result = run("synth", "--count", 8, "--out", tmp_path / "ds", "--world", "wide",
                 "--no-facing", "--back-views", 0.5)
    assert result.returncode == 2 and "--back-views needs --facing" in result.stderr
    result = run("synth", "--count", 8, "--out", tmp_path / "ds", "--generator-version", 2)
    assert result.returncode == 2 and "--generator-version needs --world wide" in result.stderr
    result = run("synth", "--count", 8, "--out", tmp_path / "ds", "--world", "wide",
                 "--generator-version", 1)
    assert result.returncode == 2 and "invalid choice" in result.stderr
    # version 2's frames, for the datasets recorded before version 3, say so in meta.json
    assert run("synth", "--count", 4, "--out", tmp_path / "v2", "--world", "wide",
               "--generator-version", 2, "--quiet").returncode == 0
    meta = json.loads((tmp_path / "v2" / "meta.json").read_text())
    assert meta["generator_version"] == 2 and meta["scene"]["floor_under_feet"] is False


def test_training_on_too_little_data_says_which_option_to_change(tmp_path):
    """600 frames cannot hold the default 4,000 validation frames: one line naming
    --val-frames, exit 2 (it was an AssertionError)."""
    assert run("synth", "--count", 600, "--seed", 1, "--out", tmp_path / "ds",
               "--quiet").returncode == 0
    result = run("train", "--data", tmp_path / "ds", "--out", tmp_path / "run", "--epochs", 1,
                 "--quiet")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "--val-frames 4000 must be below the 360 training frames" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_estimate_one_depth_file(tmp_path):
    """A rendered 640 x 480 room frame as .npy (uint16 mm) and as a 16-bit PNG."""
    from PIL import Image

    from depth_pose_ros.depth_image import to_millimetres
    from depth_pose_ros.synth.scenes import DEMO_CAMERA, demo_sequence

    sequence = demo_sequence(seed=4, keyframes=2, steps=1)
    mm = to_millimetres(sequence.depth[0])
    np.save(tmp_path / "frame.npy", mm)
    Image.fromarray(mm).save(tmp_path / "frame.png")
    intrinsics = ["--fx", DEMO_CAMERA.fx, "--cx", DEMO_CAMERA.cx, "--cy", DEMO_CAMERA.cy]
    for name in ("frame.npy", "frame.png"):
        result = run("estimate", tmp_path / name, *intrinsics, "--out", tmp_path / "o.png")
        assert result.returncode == 0, result.stderr
        rows = {line.split()[0]: [float(v) for v in line.split()[1:6]]
                for line in result.stdout.splitlines() if line.split()[0] in ("root", "left_hand")}
        truth = sequence.joints3d[0]
        assert np.linalg.norm(np.array(rows["root"][:3]) - truth[0]) < 0.15
        assert (tmp_path / "o.png").stat().st_size > 10_000

    # The network's input saved, then drawn beside a dataset's frames.
    result = run("estimate", tmp_path / "frame.npy", *intrinsics, "--save-inputs",
                 tmp_path / "inputs.npy")
    assert result.returncode == 0, result.stderr
    inputs = np.load(tmp_path / "inputs.npy")
    assert inputs.shape == (1, 50, 60) and 100 < (inputs > 0).sum() < 1500
    assert run("synth", "--count", 8, "--out", tmp_path / "ds", "--quiet").returncode == 0
    result = run("synth-preview", tmp_path / "ds", "--out", tmp_path / "sheet.png", "--frames", 4,
                 "--beside", tmp_path / "inputs.npy")
    assert result.returncode == 0, result.stderr
    assert "4 of 8 frames after 1 real network inputs" in result.stdout

    np.save(tmp_path / "empty.npy", np.zeros((480, 640), np.uint16))
    result = run("estimate", tmp_path / "empty.npy", *intrinsics)
    assert result.returncode == 1 and "no person found" in result.stdout
    result = run("estimate", tmp_path / "frame.npy", "--fx", 0)
    assert result.returncode == 2 and "--fx: must be a positive number" in result.stderr
    np.save(tmp_path / "rgb.npy", np.zeros((4, 4, 3), np.uint8))
    result = run("estimate", tmp_path / "rgb.npy", "--fx", 500)
    assert result.returncode == 2 and "expected a 2-D depth image" in result.stderr
    assert "Traceback" not in result.stderr

    # Its reader gone (`depth-pose estimate F | head -3`): no traceback, the shell's status.
    reader_gone = subprocess.Popen([str(DEPTH_POSE), "estimate", tmp_path / "frame.npy",
                                    *map(str, intrinsics)], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
    reader_gone.stdout.close()
    assert reader_gone.wait(timeout=300) == 141 and reader_gone.stderr.read() == ""


# Every command with a user mistake: exit 2, one line naming what is wrong, no traceback.
# (None of these gets as far as rendering, training or the middleware.)
BAD_VALUES = {
    "synth": (["--count", "0", "--out", "{tmp}/ds"], "--count"),
    "synth-preview": (["{tmp}/none", "--out", "{tmp}/x.png"], "not a dataset directory"),
    "train": (["--data", "{tmp}/none", "--out", "{tmp}/run"], "not a dataset directory"),
    "compare": (["--data", "{tmp}/none", "--budget", "-1", "--out", "{tmp}/c"], "--budget"),
    "forest": (["--out", "{tmp}/f", "--trees", "0"], "--trees"),
    "export": (["{tmp}/none", "--out", "{tmp}/m"], "training run directory"),
    "evaluate": (["--model", "{tmp}/none", "--data", "{tmp}/none", "--out", "{tmp}/r"],
                 "not a dataset directory"),
    "estimate": (["{tmp}/none.npy", "--fx", "0"], "--fx"),
    "demo": (["--people", "0"], "--people"),
    "bag-record-synth": (["--out", "{tmp}/b", "--seconds", "-1"], "--seconds"),
    "bag-eval": (["{tmp}/none", "--out", "{tmp}/r"], "does not exist"),
    "bench": (["--engines", "tensorflow"], "--engines"),
    "bench-node": (["--rate", "0"], "--rate"),
    "bench-smoothing": (["--model", "{tmp}/none"], "not a model directory"),
    "bench-people": (["--seconds", "nan"], "--seconds"),
    "speed": (["--seconds", "-1"], "--seconds"),
}


def test_every_command_says_a_user_mistake_in_one_line(tmp_path):
    commands = subprocess.run([str(DEPTH_POSE), "--help"], capture_output=True,
                              text=True).stdout
    listed = {line.split()[0] for line in commands.split("positional arguments:")[1]
              .split("options:")[0].splitlines()[2:] if line.startswith("    ") and
              not line.startswith("     ")}
    assert listed == set(BAD_VALUES), "a command without a bad-value case, or a stale one"
    for command, (args, says) in BAD_VALUES.items():
        result = run(command, *(a.format(tmp=tmp_path) for a in args))
        assert result.returncode == 2, (command, result.stderr[-2000:])
        assert "Traceback" not in result.stderr, (command, result.stderr[-2000:])
        assert says in result.stderr.splitlines()[-1], (command, result.stderr)
