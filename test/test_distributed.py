"""Training anywhere: device selection, resuming elsewhere, data-parallel ranks (torchrun,
gloo) that train exactly as one process does, and datasets made of shards."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from depth_pose_ros.learn.devices import (
    DeviceError,
    autocast_dtype,
    describe,
    native_bf16,
    pick_device,
)
from depth_pose_ros.learn.train import TrainConfig, TrainConfigError, train
from depth_pose_ros.synth.generate import write_dataset

VENV_BIN = Path(sys.executable).parent


def test_device_selection_falls_back_cleanly():
    device = pick_device("auto")
    expected = "cuda" if torch.cuda.is_available() else (
        "xpu" if hasattr(torch, "xpu") and torch.xpu.is_available() else "cpu")
    assert device.type == expected
    assert pick_device("cpu").type == "cpu"
    for kind in ("cuda", "xpu"):
        if not getattr(torch, kind).is_available():
            with pytest.raises(DeviceError, match=f"no {kind} device"):
                pick_device(kind)
    with pytest.raises(DeviceError, match="must be one of"):
        pick_device("tpu")
    cpu = torch.device("cpu")
    assert (autocast_dtype(cpu) == torch.bfloat16) == native_bf16(cpu)
    assert describe(cpu).startswith("cpu (") and ("bf16" in describe(cpu)) == native_bf16(cpu)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("distributed")
    write_dataset(root / "data", 700, seed=4, progress=False)
    return root / "data"


def _weights(run: Path) -> dict:
    return torch.load(run / "checkpoint.pt", weights_only=False, map_location="cpu")["model"]


# The paper's recipe (SGD, f32): no bf16 rounding, so ranks and one process agree to float
# tolerance; augmentation on, so the shared draws are checked too.
TINY = dict(arch="dnn33", recipe="paper", epochs=1, val_frames=60, batch_size=64,
            max_train_frames=256, augment=True, threads=1, device="cpu")


@pytest.mark.slow
def test_two_gloo_ranks_train_as_one_process_with_the_same_global_batch(data, tmp_path):
    train(TrainConfig(**TINY), data, tmp_path / "one", progress_bar=False)
    command = [str(VENV_BIN / "torchrun"), "--standalone", "--nproc_per_node", "2",
               "-m", "depth_pose_ros.tools.cli", "train", "--data", str(data),
               "--out", str(tmp_path / "two"),
               "--arch", "dnn33", "--recipe", "paper", "--epochs", "1", "--val-frames", "60",
               "--batch-size", "64", "--max-train-frames", "256", "--augment", "--threads", "1",
               "--device", "cpu", "--quiet"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert result.stdout.count("epoch 1:") == 1  # rank 0 alone reports and writes
    one, two = _weights(tmp_path / "one"), _weights(tmp_path / "two")
    for name in one:
        np.testing.assert_allclose(two[name].numpy(), one[name].numpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=name)


def test_a_run_resumes_with_other_threads_or_device_from_a_checkpoint(data, tmp_path):
    train(TrainConfig(**TINY), data, tmp_path / "run", progress_bar=False)
    checkpoint = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)
    checkpoint["state"]["epoch"] = 0  # as if stopped before its first epoch ended
    torch.save(checkpoint, tmp_path / "run" / "checkpoint.pt")
    elsewhere = TrainConfig(**{**TINY, "threads": 2, "device": "auto"})
    result = train(elsewhere, data, tmp_path / "run", progress_bar=False)
    assert result["epochs"] == 1  # resumed: where a run runs is not what it computes
    with pytest.raises(TrainConfigError, match="another configuration"):
        train(TrainConfig(**{**TINY, "batch_size": 32}), data, tmp_path / "run",
              progress_bar=False)
    saved = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False, map_location="cpu")
    assert all(t.device.type == "cpu" for t in saved["model"].values())


def test_training_on_shards_is_training_on_the_whole(data, tmp_path):
    for i in range(2):
        write_dataset(tmp_path / f"shard{i}", 700, seed=4, progress=False, shard=(i, 2))
    cfg = TrainConfig(**{**TINY, "max_train_frames": 128})
    train(cfg, data, tmp_path / "whole", progress_bar=False)
    train(cfg, [tmp_path / "shard0", tmp_path / "shard1"], tmp_path / "shards",
          progress_bar=False)
    whole, shards = _weights(tmp_path / "whole"), _weights(tmp_path / "shards")
    assert all(torch.equal(whole[k], shards[k]) for k in whole)


def test_a_mixture_of_datasets_trains_on_each_split_as_if_alone(data, tmp_path):
    """train --data A B (two whole datasets, e.g. two worlds): each split alone, the validation
    frames shared by size, their training frames together; another zoom is refused."""
    from depth_pose_ros.learn.train import TrainingFrames
    from depth_pose_ros.synth.dataset import DatasetError, load_dataset, split_indices
    from depth_pose_ros.synth.wide import WideConfig
    write_dataset(tmp_path / "other", 350, seed=6, progress=False)
    cfg = TrainConfig(**{**TINY, "max_train_frames": None})
    frames = TrainingFrames.load(cfg, [data, tmp_path / "other"], None)
    expected_depth, expected_true3d = [], []
    for directory, val_frames in ((data, 40), (tmp_path / "other", 20)):  # 60 by 700 : 350
        depth, joints3d, _, _ = load_dataset(directory)
        train_idx, val_idx, _ = split_indices(len(depth), val_frames)
        expected_depth.append(depth[train_idx])
        expected_true3d.append(joints3d[val_idx])
    np.testing.assert_array_equal(frames.depth_mm, np.concatenate(expected_depth))
    np.testing.assert_array_equal(frames.val_true3d, np.concatenate(expected_true3d))
    assert frames.data_meta["count"] == 1050
    assert [d["seed"] for d in frames.data_meta["datasets"]] == [4, 6]
    assert train(cfg, [data, tmp_path / "other"], tmp_path / "mixed",
                 progress_bar=False)["epochs"] == 1
    write_dataset(tmp_path / "zoomed", 8, seed=7, progress=False,
                  config=WideConfig(zoom_reference=2.2))
    with pytest.raises(DatasetError, match="share the zoom"):
        TrainingFrames.load(cfg, [data, tmp_path / "zoomed"], None)


def test_online_frames_replace_the_oldest_with_their_own_seed_stream(data):
    import time

    from depth_pose_ros.synth.dataset import load_dataset
    from depth_pose_ros.synth.generate import CHUNK, OnlineFrames, _generate_chunk, world_config
    depth, joints3d, pixels, meta = load_dataset(data)
    arrays = tuple(np.array(a[:600]) for a in (depth, joints3d, pixels))
    before = arrays[0].copy()
    online = OnlineFrames(meta, workers=1, arrays=arrays)
    try:
        deadline = time.monotonic() + 60
        while online.refresh() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        online.close()
    assert online.frames >= CHUNK
    _, expected, *_ = _generate_chunk((meta["seed"], OnlineFrames.ONLINE_CHUNKS, CHUNK,
                                       world_config(meta)))
    np.testing.assert_array_equal(arrays[0][:CHUNK], expected)  # the oldest went first
    assert not np.array_equal(arrays[0][:CHUNK], before[:CHUNK])


def test_training_with_online_frames_runs_and_counts_them(data, tmp_path):
    import csv
    cfg = TrainConfig(**{**TINY, "epochs": 2, "synth_online": 1})
    assert train(cfg, data, tmp_path / "online", progress_bar=False)["epochs"] == 2
    rows = list(csv.DictReader(open(tmp_path / "online" / "history.csv")))
    assert float(rows[-1]["samples_per_s"]) > 0 and int(rows[-1]["fresh_frames"]) >= 0
