import json

import numpy as np
import pytest

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.joints import HANDS
from depth_pose_ros.synth.dataset import load_dataset
from depth_pose_ros.synth.generate import CHUNK, generate, hands_out_of_view, write_dataset

CAM = PinholeCamera.virtual()
COUNT = CHUNK + 200  # two chunks, the second one partial


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("ds") / "a"
    write_dataset(out, COUNT, seed=7, workers=1, progress=False)
    return out


def test_files_have_the_documented_layout(dataset):
    depth, joints3d, pixels, meta = load_dataset(dataset)
    assert depth.shape == (COUNT, 50, 60) and depth.dtype == np.uint16
    assert joints3d.shape == (COUNT, 7, 3) and joints3d.dtype == np.float32
    assert pixels.shape == (COUNT, 7, 2) and pixels.dtype == np.float32
    assert meta["count"] == COUNT and meta["seed"] == 7
    assert meta["camera"] == CAM.to_dict()
    assert meta["joint_names"][0] == "root" and len(meta["joint_names"]) == 7
    assert meta["frames_with_hand_out_of_view"] == int(hands_out_of_view(CAM, pixels).sum())
    assert "generator_version" in meta


def test_depth_is_millimetres_with_empty_background(dataset):
    depth = np.load(dataset / "depth.npy")
    body = depth > 0
    assert depth[body].min() > 1000 and depth.max() < 6000
    per_frame = body.mean(axis=(1, 2))
    assert per_frame.min() > 0.01 and per_frame.max() < 0.5  # a figure, never an empty frame
    # The root joint sits behind the body's surface, within a pelvis' depth of it.
    joints = np.load(dataset / "joints3d.npy")
    pixels = np.load(dataset / "pixels.npy")
    u, v = np.round(pixels[:, 0]).astype(int).T
    surface = depth[np.arange(len(depth)), v, u] / 1000.0
    gap = joints[:, 0, 2] - surface
    assert np.median(gap) > 0.03 and np.percentile(gap, 95) < 0.25


def test_2d_ground_truth_is_the_projection_of_3d(dataset):
    _, joints3d, pixels, _ = load_dataset(dataset)
    np.testing.assert_allclose(pixels, CAM.project(joints3d.astype(np.float64)), atol=1e-3)


def test_everything_but_the_hands_in_view(dataset):
    _, _, pixels, _ = load_dataset(dataset)
    not_hands = [j for j in range(7) if j not in HANDS]
    assert CAM.in_view(pixels[:, [0, 1, 4]]).all()  # root and shoulders always
    assert CAM.in_view(pixels[:, not_hands]).mean() > 0.97  # elbows nearly always


def test_hand_out_of_view_share_as_in_the_paper():
    # Paper: 24,000 of 80,000 test frames (30 %) had a hand out of the frame.
    scenes = generate(np.random.default_rng(0), 3000)
    share = hands_out_of_view(CAM, scenes.pixels).mean()
    assert 0.15 < share < 0.40, share


def test_same_seed_same_files_whatever_the_workers(dataset, tmp_path):
    write_dataset(tmp_path / "b", COUNT, seed=7, workers=2, progress=False)
    for name in ("depth.npy", "joints3d.npy", "pixels.npy", "meta.json"):
        assert (dataset / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_other_seed_other_frames(dataset, tmp_path):
    write_dataset(tmp_path / "c", 50, seed=8, progress=False)
    a = np.load(dataset / "joints3d.npy")[:50]
    b = np.load(tmp_path / "c" / "joints3d.npy")
    assert not np.allclose(a, b)
    assert json.loads((tmp_path / "c" / "meta.json").read_text())["seed"] == 8


def test_scene_ranges(dataset):
    _, joints3d, _, meta = load_dataset(dataset)
    near, far = meta["scene"]["root_distance"]
    assert joints3d[:, 0, 2].min() >= near and joints3d[:, 0, 2].max() <= far
    # Near-frontal: the shoulder line runs mostly along the image's x axis, right shoulder on
    # the image's left (the person faces the camera).
    line = joints3d[:, 4] - joints3d[:, 1]
    assert (line[:, 0] > 0).all()
    yaw = np.degrees(np.arctan2(np.abs(line[:, 2]), line[:, 0]))
    assert np.percentile(yaw, 99) < 35


def test_shards_are_the_unsharded_dataset_byte_for_byte(tmp_path):
    """synth --shard I/N: the N parts in order are exactly one run's frames (count not a
    multiple of the chunk, more shards than some get chunks of), and load as one dataset."""
    from depth_pose_ros.synth.dataset import DatasetError, load_dataset
    from depth_pose_ros.synth.generate import CHUNK, write_dataset
    count = 2 * CHUNK + 100
    write_dataset(tmp_path / "whole", count, seed=5, progress=False)
    for i in range(3):
        write_dataset(tmp_path / f"part{i}", count, seed=5, progress=False, shard=(i, 3))
    whole = load_dataset(tmp_path / "whole")
    parts = load_dataset([tmp_path / f"part{i}" for i in range(3)])
    for a, b in zip(whole[:3], parts[:3]):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    assert parts[3]["count"] == count and parts[3]["shard"]["indices"] == [0, 1, 2]
    with pytest.raises(DatasetError, match="does not follow"):
        load_dataset([tmp_path / "part0", tmp_path / "part2"])
    with pytest.raises(DatasetError, match="not a shard"):
        load_dataset([tmp_path / "whole", tmp_path / "part1"])


def test_shard_option_is_checked(capsys):
    from depth_pose_ros.tools.cli import main
    with pytest.raises(SystemExit) as exit_:
        main(["synth", "--count", "10", "--out", "/tmp/x", "--shard", "3/3"])
    assert exit_.value.code == 2 and "0 <= I < N" in capsys.readouterr().err
