"""rosbag2 recording and evaluation (the rosbags library; no ROS middleware)."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from depth_pose_ros.depth_image import encode
from depth_pose_ros.synth.scenes import DEMO_CAMERA, demo_sequence
from depth_pose_ros.tools.bags import BagError, evaluate_bag, record_synth, typestore

DEPTH_POSE = Path(sys.executable).parent / "depth-pose"


@pytest.fixture(scope="module")
def synth_bag(tmp_path_factory):
    path = tmp_path_factory.mktemp("bags") / "synth"
    record_synth(path, seconds=1.0, rate=30, storage="mcap", progress=False)
    return path


def _read_topics(path):
    from rosbags.highlevel import AnyReader
    with AnyReader([path], default_typestore=typestore()) as reader:
        counts = {c.topic: c.msgcount for c in reader.connections}
        first = {}
        for connection, _, raw in reader.messages():
            first.setdefault(connection.topic, reader.deserialize(raw, connection.msgtype))
    return counts, first


def test_recorded_bag_is_a_standard_rosbag2(synth_bag):
    assert (synth_bag / "metadata.yaml").is_file()
    counts, first = _read_topics(synth_bag)
    assert counts == {"/camera/depth/image_raw": 30, "/camera/depth/camera_info": 30,
                      "/body_joints_gt": 30, "/bodies_gt": 30}
    image = first["/camera/depth/image_raw"]
    assert (image.width, image.height, image.encoding) == (640, 480, "16UC1")
    truth = first["/body_joints_gt"]
    assert truth.person_detected and truth.names[0] == "root" and len(truth.positions) == 7
    assert image.header.stamp == truth.header.stamp


def test_round_trip_metrics_and_estimates_bag(synth_bag, tmp_path):
    out, estimates = tmp_path / "report", tmp_path / "estimates"
    result = subprocess.run([str(DEPTH_POSE), "bag-eval", str(synth_bag), "--out", str(out),
                             "--write-bag", str(estimates), "--quiet"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["frames"] == metrics["frames_with_person"] == metrics["frames_with_truth"] == 30
    # Sane, not a benchmark (30 frames of two poses): the root is easy, the rest near the truth.
    assert metrics["ap10"]["root"] > 0.9 and metrics["ap10_mean_no_root"] > 0.2
    assert max(metrics["median_error_cm"].values()) < 30
    assert metrics["latency_ms"]["p50"] > 0  # timed; p99 >= p50 holds by definition
    assert metrics["jitter_rms_cm"]["smoothed"] < metrics["jitter_rms_cm"]["raw"]
    assert set(metrics["ap10"]) == {"root", "right_shoulder", "right_elbow", "right_hand",
                                    "left_shoulder", "left_elbow", "left_hand"}
    assert (out / "report.md").is_file() and (out / "timeline.png").stat().st_size > 10_000

    counts, first = _read_topics(estimates)
    assert counts["/body_joints"] == counts["/camera/depth/image_raw"] == 30
    assert counts["/tf"] == 30 and counts["/body_markers"] == 30
    joints = first["/body_joints"]
    assert joints.person_detected and list(joints.names)[3] == "right_hand"
    assert first["/tf"].transforms[0].child_frame_id == "body_1_root"
    assert counts["/bodies"] == 30 and [b.id for b in first["/bodies"].bodies] == [1]
    # One person throughout: recall and precision 1, no ID switch.
    people = metrics["people"]
    assert (people["people"], people["recall"], people["precision"]) == (1, 1.0, 1.0)
    assert people["id_switches"] == 0 and people["ap10_no_root_matched"] > 0.2
    assert joints.header.stamp == first["/camera/depth/image_raw"].header.stamp


@pytest.mark.parametrize("storage, encoding", [("sqlite3", "32FC1"), ("sqlite3", "16UC1"),
                                               ("mcap", "32FC1")])
def test_both_storages_and_encodings_read_alike(synth_bag, tmp_path, storage, encoding):
    path = tmp_path / "bag"
    record_synth(path, seconds=1.0, rate=30, storage=storage, encoding=encoding, progress=False)
    reference = evaluate_bag(synth_bag, tmp_path / "ref", progress=False)
    metrics = evaluate_bag(path, tmp_path / "out", progress=False)
    assert metrics["frames"] == metrics["frames_with_person"] == 30
    for joint, value in reference["median_error_cm"].items():
        assert abs(metrics["median_error_cm"][joint] - value) < 1.0, joint


def _foreign_bag(path, with_info=True):
    """A bag as another tool would write it: other topic names, no ground truth, sqlite3."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    store = typestore()
    types = store.types
    depth = demo_sequence(seed=6, keyframes=2, steps=2).depth
    with Writer(path, version=9, storage_plugin=StoragePlugin.SQLITE3) as writer:
        image_c = writer.add_connection("/robot/head_camera/depth/image_rect_raw",
                                        "sensor_msgs/msg/Image", typestore=store)
        info_c = writer.add_connection("/robot/head_camera/depth/camera_info",
                                       "sensor_msgs/msg/CameraInfo", typestore=store)
        for k, d in enumerate(depth):
            t = 10**18 + k * 33_000_000
            header = types["std_msgs/msg/Header"](
                stamp=types["builtin_interfaces/msg/Time"](sec=t // 10**9, nanosec=t % 10**9),
                frame_id="head_camera_depth_optical_frame")
            step, data = encode(d, "16UC1")
            image = types["sensor_msgs/msg/Image"](
                header=header, height=480, width=640, encoding="16UC1", is_bigendian=0, step=step,
                data=np.frombuffer(data, np.uint8))
            c = DEMO_CAMERA
            info = types["sensor_msgs/msg/CameraInfo"](
                header=header, height=480, width=640, distortion_model="plumb_bob", d=np.zeros(5),
                k=np.array([c.fx, 0, c.cx, 0, c.fy, c.cy, 0, 0, 1.0]), r=np.eye(3).ravel(),
                p=np.zeros(12), binning_x=0, binning_y=0,
                roi=types["sensor_msgs/msg/RegionOfInterest"](
                    x_offset=0, y_offset=0, height=0, width=0, do_rectify=False))
            if with_info:
                writer.write(info_c, t, store.serialize_cdr(info, "sensor_msgs/msg/CameraInfo"))
            writer.write(image_c, t, store.serialize_cdr(image, "sensor_msgs/msg/Image"))


def test_a_bag_from_elsewhere_finds_its_topics(tmp_path):
    _foreign_bag(tmp_path / "foreign")
    metrics = evaluate_bag(tmp_path / "foreign", tmp_path / "out", progress=False)
    assert metrics["topics"] == {"depth": "/robot/head_camera/depth/image_rect_raw",
                                 "camera_info": "/robot/head_camera/depth/camera_info",
                                 "truth": None, "bodies_truth": None}
    assert metrics["frames"] == metrics["frames_with_person"] == 4
    assert "ap10" not in metrics and metrics["jitter_rms_cm"]["raw"] is not None


def test_missing_topics_and_corrupt_bags_are_clear_errors(synth_bag, tmp_path):
    with pytest.raises(BagError, match="no sensor_msgs/msg/Image topic /nope"):
        evaluate_bag(synth_bag, tmp_path / "a", depth_topic="/nope", progress=False)
    with pytest.raises(BagError, match="no depth_pose_ros/msg/BodyJoints topic /nope"):
        evaluate_bag(synth_bag, tmp_path / "b", gt_topic="/nope", progress=False)
    _foreign_bag(tmp_path / "no_info", with_info=False)
    # CameraInfo topic registered but empty: every frame lacks intrinsics.
    with pytest.raises(BagError, match="no valid CameraInfo"):
        evaluate_bag(tmp_path / "no_info", tmp_path / "c", progress=False)

    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "metadata.yaml").write_text((synth_bag / "metadata.yaml").read_text())
    (corrupt / "synth.mcap").write_bytes(b"\x89MCAP0\r\n" + b"\0garbage" * 100)
    result = subprocess.run([str(DEPTH_POSE), "bag-eval", str(corrupt), "--out",
                             str(tmp_path / "d"), "--quiet"], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 2 and "cannot read" in result.stderr
    assert "Traceback" not in result.stderr
    result = subprocess.run([str(DEPTH_POSE), "bag-eval", str(tmp_path / "absent"), "--out",
                             str(tmp_path / "e")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "does not exist" in result.stderr


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_a_bag_recorded_before_the_confidence_field_still_evaluates(tmp_path, storage):
    """BodyJoints gained `confidence`; ground truth recorded with the definition before it
    (the same file without its last field) must still read."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    from depth_pose_ros.joints import JOINT_NAMES
    from depth_pose_ros.tools import bags

    current = bags._msg_definition("BodyJoints")
    old = current.split("\n# Per joint, 0..1")[0] + "\n"
    assert "confidence" in current and "confidence" not in old
    store = get_typestore(Stores.ROS2_KILTED)
    store.register(get_types_from_msg(old, bags.JOINTS))
    types = store.types
    sequence = demo_sequence()
    camera = DEMO_CAMERA
    plugin = {"mcap": StoragePlugin.MCAP, "sqlite3": StoragePlugin.SQLITE3}[storage]
    with Writer(tmp_path / "old", version=8, storage_plugin=plugin) as writer:
        image_c = writer.add_connection(bags.DEPTH_TOPIC, bags.IMAGE, typestore=store)
        info_c = writer.add_connection(bags.INFO_TOPIC, bags.INFO, typestore=store)
        truth_c = writer.add_connection(bags.GT_TOPIC, bags.JOINTS, typestore=store)
        for k in range(15):
            t = 1_000_000_000 + k * 33_333_333
            header = types["std_msgs/msg/Header"](stamp=bags._stamp(store, t), frame_id="cam")
            step, data = encode(sequence.depth[k], "16UC1")
            image = types[bags.IMAGE](header=header, height=camera.height, width=camera.width,
                                      encoding="16UC1", is_bigendian=0, step=step,
                                      data=np.frombuffer(data, np.uint8))
            info = types[bags.INFO](
                header=header, height=camera.height, width=camera.width,
                distortion_model="plumb_bob", d=np.zeros(5),
                k=np.array([camera.fx, 0, camera.cx, 0, camera.fy, camera.cy, 0, 0, 1.0]),
                r=np.eye(3).ravel(), p=np.zeros(12), binning_x=0, binning_y=0,
                roi=types["sensor_msgs/msg/RegionOfInterest"](
                    x_offset=0, y_offset=0, height=0, width=0, do_rectify=False))
            point = types["geometry_msgs/msg/Point"]
            truth = types[bags.JOINTS](
                header=header, person_detected=True, names=list(JOINT_NAMES),
                positions=[point(x=float(x), y=float(y), z=float(z))
                           for x, y, z in sequence.joints3d[k]],
                pixel_u=sequence.pixels[k, :, 0].astype(np.float32),
                pixel_v=sequence.pixels[k, :, 1].astype(np.float32),
                in_view=np.ones(7, bool))
            writer.write(info_c, t, store.serialize_cdr(info, bags.INFO))
            writer.write(image_c, t, store.serialize_cdr(image, bags.IMAGE))
            writer.write(truth_c, t, store.serialize_cdr(truth, bags.JOINTS))
    metrics = evaluate_bag(tmp_path / "old", tmp_path / "report", progress=False)
    assert metrics["frames_with_truth"] == metrics["frames"] == 15
    assert metrics["ap10"]["root"] > 0.9


def test_bag_eval_runs_where_rclpy_is_not_installed(synth_bag, tmp_path):
    """bag-eval (without --write-bag) needs no ROS: rclpy hidden from the process."""
    probe = ("import sys\n"
             "sys.modules['rclpy'] = None  # import rclpy now raises ImportError\n"
             "from depth_pose_ros.tools.cli import main\n"
             f"sys.exit(main(['bag-eval', {str(synth_bag)!r}, '--out', "
             f"{str(tmp_path / 'report')!r}]))\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert metrics["frames"] == 30
    # --write-bag needs rclpy: said in one line before any frame is read
    probe = probe.replace("'--out'", f"'--write-bag', {str(tmp_path / 'estimates')!r}, '--out'")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 2 and "needs ROS 2 (rclpy)" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "estimates").exists()


def test_two_people_bag_with_their_truth_and_the_mot_counts(tmp_path):
    """2 s of two people walking (15 Hz): /bodies_gt holds both with IDs 1 and 2; bag-eval
    finds them, counts recall and precision against the visible ones, keeps their IDs."""
    bag = tmp_path / "two"
    record_synth(bag, seconds=2.0, rate=15, people=2, seed=3, progress=False)
    counts, first = _read_topics(bag)
    assert counts["/bodies_gt"] == counts["/camera/depth/image_raw"] == 30
    assert "/body_joints_gt" not in counts
    assert [b.id for b in first["/bodies_gt"].bodies] == [1, 2]
    metrics = evaluate_bag(bag, tmp_path / "report", write_bag=tmp_path / "estimates",
                           progress=False)
    people = metrics["people"]
    assert people["people"] == 2 and people["person_frames_counted"] > 30
    assert people["recall"] > 0.8 and people["precision"] > 0.8, people
    assert people["id_switches"] <= 1 and set(people["ap10_no_root_per_person"]) == {"1", "2"}
    report = (tmp_path / "report" / "report.md").read_text()
    assert "ID switches" in report and "recall" in report
    counts, first = _read_topics(tmp_path / "estimates")
    assert counts["/bodies"] == 30 and len(first["/bodies"].bodies) >= 1


def test_a_bag_of_people_leaving_the_image_marks_them_lost_while_they_are_out(tmp_path):
    """--leave: two people walk out of the image at its sides and back (10 s at 2 Hz); their
    truth on /bodies_gt goes LOST while they are out, and bag-eval counts only the visible."""
    from rosbags.rosbag2 import Reader

    bag = tmp_path / "leave"
    result = record_synth(bag, seconds=10.0, rate=2, people=2, seed=0, progress=False,
                          leave=True)
    assert result["leave"] is True and result["truth_topics"] == ["/bodies_gt"]
    store = typestore()
    with Reader(bag) as reader:
        assert "/body_joints_gt" not in reader.topics
        states = [[b.state for b in store.deserialize_cdr(raw, c.msgtype).bodies]
                  for c, _, raw in reader.messages() if c.topic == "/bodies_gt"]
    lost = store.types["depth_pose_ros/msg/Body"].LOST
    out = [sum(s == lost for s in frame) for frame in states]
    assert len(states) == 20 and 0 < sum(out) < 40, out
    metrics = evaluate_bag(bag, tmp_path / "report", progress=False)
    assert metrics["people"]["person_frames_counted"] == 40 - sum(out)
