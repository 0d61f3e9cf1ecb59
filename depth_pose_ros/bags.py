"""rosbag2 recordings, read and written with the `rosbags` library (no ROS install needed).

- record_synth(): a bag of the synthetic camera (16UC1 640 x 480 + CameraInfo) with the ground
  truth on /body_joints_gt (depth_pose_ros/msg/BodyJoints), sqlite3 or mcap.
- evaluate_bag(): the node's pipeline (pipeline.PosePipeline) over every depth frame of any bag,
  with metrics, plots and, optionally, a bag of the estimates (/body_joints, /tf, /body_markers).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from depth_pose_ros.joints import JOINT_NAMES

DEPTH_TOPIC = "/camera/depth/image_raw"
INFO_TOPIC = "/camera/depth/camera_info"
GT_TOPIC = "/body_joints_gt"
FRAME_ID = "camera_depth_optical_frame"
STORAGES = ("mcap", "sqlite3")
IMAGE, INFO, JOINTS = "sensor_msgs/msg/Image", "sensor_msgs/msg/CameraInfo", \
    "depth_pose_ros/msg/BodyJoints"


class BagError(RuntimeError):
    """A bag that cannot be read, or lacks what was asked for; the message says what."""


def _msg_definition() -> str:
    """msg/BodyJoints.msg of a checkout, or of share/depth_pose_ros in a ROS install."""
    checkout = Path(__file__).resolve().parent.parent / "msg" / "BodyJoints.msg"
    if checkout.is_file():
        return checkout.read_text()
    from ament_index_python.packages import get_package_share_directory
    return (Path(get_package_share_directory("depth_pose_ros")) / "msg" /
            "BodyJoints.msg").read_text()


def typestore():
    """ROS 2 kilted's message types plus depth_pose_ros/msg/BodyJoints."""
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    store = get_typestore(Stores.ROS2_KILTED)
    store.register(get_types_from_msg(_msg_definition(), JOINTS))
    return store


def _stamp(store, nanoseconds: int):
    Time = store.types["builtin_interfaces/msg/Time"]
    return Time(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def record_synth(out: Path, seconds: float, rate: float = 30.0, storage: str = "mcap",
                 seed: int = 0, encoding: str = "16UC1", progress: bool = True) -> dict:
    """Write the synthetic camera's loop (synth.demo_sequence) for `seconds` at `rate` Hz."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    from tqdm import tqdm

    from depth_pose_ros.depth_image import encode
    from depth_pose_ros.synth import DEMO_CAMERA, demo_sequence

    if storage not in STORAGES:
        raise BagError(f"storage must be one of {STORAGES}, got {storage!r}")
    out = Path(out)
    if out.exists():
        raise BagError(f"{out} exists; rosbag2 writes a new directory")
    store = typestore()
    types = store.types
    Header, Point = types["std_msgs/msg/Header"], types["geometry_msgs/msg/Point"]
    camera = DEMO_CAMERA
    count = max(1, int(round(seconds * rate)))
    steps = 20
    # A short bag renders only the keyframes it reaches (the loop has up to four).
    sequence = demo_sequence(seed, keyframes=min(4, max(2, -(-count // steps))), steps=steps)
    start_ns = 1_700_000_000 * 1_000_000_000  # a fixed start: the same command, the same bag
    plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
    with Writer(out, version=9, storage_plugin=plugin) as writer:
        image_c = writer.add_connection(DEPTH_TOPIC, IMAGE, typestore=store)
        info_c = writer.add_connection(INFO_TOPIC, INFO, typestore=store)
        gt_c = writer.add_connection(GT_TOPIC, JOINTS, typestore=store)
        encoded = [encode(d, encoding) for d in sequence.depth]
        for k in tqdm(range(count), desc="bag", unit="frame", disable=not progress):
            t = start_ns + int(round(k * 1e9 / rate))
            header = Header(stamp=_stamp(store, t), frame_id=FRAME_ID)
            i = k % len(sequence.depth)
            step, data = encoded[i]
            image = types[IMAGE](header=header, height=camera.height, width=camera.width,
                                 encoding=encoding, is_bigendian=0, step=step,
                                 data=np.frombuffer(data, np.uint8))
            info = types[INFO](
                header=header, height=camera.height, width=camera.width,
                distortion_model="plumb_bob", d=np.zeros(5),
                k=np.array([camera.fx, 0, camera.cx, 0, camera.fy, camera.cy, 0, 0, 1.0]),
                r=np.eye(3).ravel(),
                p=np.array([camera.fx, 0, camera.cx, 0, 0, camera.fy, camera.cy, 0, 0, 0, 1, 0.0]),
                binning_x=0, binning_y=0,
                roi=types["sensor_msgs/msg/RegionOfInterest"](x_offset=0, y_offset=0, height=0,
                                                              width=0, do_rectify=False))
            joints, pixels = sequence.joints3d[i], sequence.pixels[i]
            truth = types[JOINTS](
                header=header, person_detected=True, names=list(JOINT_NAMES),
                positions=[Point(x=float(x), y=float(y), z=float(z)) for x, y, z in joints],
                pixel_u=pixels[:, 0].astype(np.float32), pixel_v=pixels[:, 1].astype(np.float32),
                in_view=camera.in_view(pixels).astype(bool),
                confidence=np.ones(len(JOINT_NAMES), np.float32))  # the truth is certain
            writer.write(info_c, t, store.serialize_cdr(info, INFO))
            writer.write(image_c, t, store.serialize_cdr(image, IMAGE))
            writer.write(gt_c, t, store.serialize_cdr(truth, JOINTS))
    return {"bag": str(out), "frames": count, "rate_hz": rate, "storage": storage,
            "encoding": encoding}


@dataclass
class _Topics:
    depth: str
    info: str
    truth: str | None


def _choose_topics(reader, depth_topic, info_topic, gt_topic) -> _Topics:
    topics = {name: info.msgtype for name, info in reader.topics.items()}
    images = sorted(name for name, kind in topics.items() if kind == IMAGE)
    if depth_topic is None:
        if DEPTH_TOPIC in images or len(images) != 1:
            depth_topic = DEPTH_TOPIC
        else:
            depth_topic = images[0]
    if topics.get(depth_topic) != IMAGE:
        raise BagError(f"the bag has no sensor_msgs/msg/Image topic {depth_topic}; its image "
                       f"topics: {images or 'none'} (choose one with --depth-topic)")
    if info_topic is None:  # the conventional sibling: .../image_raw -> .../camera_info
        info_topic = depth_topic.rsplit("/", 1)[0] + "/camera_info"
    if topics.get(info_topic) != INFO:
        raise BagError(f"the bag has no sensor_msgs/msg/CameraInfo topic {info_topic} for "
                       f"{depth_topic} (choose one with --info-topic)")
    if gt_topic is not None and topics.get(gt_topic) != JOINTS:
        raise BagError(f"the bag has no {JOINTS} topic {gt_topic}")
    if gt_topic is None and topics.get(GT_TOPIC) == JOINTS:
        gt_topic = GT_TOPIC
    return _Topics(depth_topic, info_topic, gt_topic)


def _key(header) -> tuple[int, int]:
    return header.stamp.sec, header.stamp.nanosec


def evaluate_bag(bag: Path, out: Path, depth_topic: str | None = None,
                 info_topic: str | None = None, gt_topic: str | None = None,
                 write_bag: Path | None = None, model: Path | None = None,
                 progress: bool = True) -> dict:
    """Run the node's pipeline over every depth frame; write metrics.json, report.md, plots."""
    from rosbags.highlevel import AnyReader
    from tqdm import tqdm

    from depth_pose_ros.depth_image import DepthImageError, image_array
    from depth_pose_ros.estimator import PoseEstimator
    from depth_pose_ros.pipeline import CameraError, PosePipeline, camera_from_intrinsics

    bag, out = Path(bag), Path(out)
    if not bag.exists():
        raise BagError(f"{bag} does not exist")
    pipeline = PosePipeline(PoseEstimator.load(model))
    store = typestore()
    frames = []  # (header stamp key, PersonPose, seconds, header, bag time)
    truths = {}
    skipped = {}
    try:
        reader = AnyReader([bag], default_typestore=store)
        reader.open()
    except Exception as error:  # rosbags raises several kinds for unreadable bags
        raise BagError(f"cannot read {bag} as a rosbag2 bag: {error}") from error
    try:
        topics = _choose_topics(reader, depth_topic, info_topic, gt_topic)
        wanted = [c for c in reader.connections
                  if c.topic in (topics.depth, topics.info, topics.truth)]
        camera = None
        count = sum(c.msgcount for c in wanted if c.topic == topics.depth)
        bar = tqdm(total=count, desc="bag-eval", unit="frame", disable=not progress)
        try:
            for connection, bag_time, raw in reader.messages(connections=wanted):
                msg = reader.deserialize(raw, connection.msgtype)
                if connection.topic == topics.info:
                    try:
                        camera = camera_from_intrinsics(msg.width, msg.height, msg.k)
                    except CameraError as error:
                        skipped[f"CameraInfo: {error}"] = skipped.get(f"CameraInfo: {error}",
                                                                      0) + 1
                        camera = None
                elif connection.topic == topics.truth:
                    if msg.person_detected:
                        truths[_key(msg.header)] = np.array(
                            [[p.x, p.y, p.z] for p in msg.positions])
                else:
                    bar.update()
                    if camera is None or (msg.width, msg.height) != (camera.width,
                                                                      camera.height):
                        reason = "no matching CameraInfo before the frame"
                        skipped[reason] = skipped.get(reason, 0) + 1
                        continue
                    try:
                        depth = image_array(msg.encoding, msg.height, msg.width, msg.step,
                                            bool(msg.is_bigendian), msg.data)
                    except DepthImageError as error:
                        skipped[str(error)] = skipped.get(str(error), 0) + 1
                        continue
                    started = time.perf_counter()
                    pose = pipeline.process(depth, camera)
                    frames.append((_key(msg.header), pose, time.perf_counter() - started,
                                   msg.header, bag_time))
        except Exception as error:
            raise BagError(f"cannot read {bag}: {error}") from error
        finally:
            bar.close()
    finally:
        reader.close()
    if not frames:
        raise BagError(f"no depth frame of {topics.depth} could be processed: {skipped}")
    smoothed = _smoothed(frames)  # as the node would publish them
    metrics = _metrics(frames, smoothed, truths, topics, skipped)
    if write_bag:
        _write_estimates(Path(write_bag), bag, frames, topics)
        metrics["estimates_bag"] = str(write_bag)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    _plots(frames, smoothed, truths, out)
    (out / "report.md").write_text(_report(bag, metrics))
    return metrics


def _smoothed(frames) -> np.ndarray:
    """The estimates as the node publishes them with its default smoothing."""
    from depth_pose_ros.node_parameters import PARAMETERS  # the node's defaults, one place
    from depth_pose_ros.smoothing import OneEuroFilter

    smooth = OneEuroFilter(PARAMETERS["smoothing_min_cutoff"][0], PARAMETERS["smoothing_beta"][0])
    result = []
    for (sec, nsec), pose, *_ in frames:
        if pose.detected:
            result.append(smooth(pose.joints3d, sec + 1e-9 * nsec))
        else:
            smooth.reset()
            result.append(pose.joints3d)
    return np.array(result)


def _jitter_cm(joints: np.ndarray, truth: np.ndarray | None) -> float | None:
    """RMS over joints and frames of the frame-to-frame motion (minus the truth's, if known)."""
    motion = np.diff(joints, axis=0)
    if truth is not None:
        motion = motion - np.diff(truth, axis=0)
    ok = np.isfinite(motion).all(axis=(1, 2))
    if not ok.any():
        return None
    return round(100 * float(np.sqrt((motion[ok] ** 2).sum(axis=2).mean())), 2)


def _metrics(frames, smoothed, truths, topics, skipped) -> dict:
    from depth_pose_ros.metrics import average_precision

    latency = np.array([f[2] for f in frames]) * 1e3
    detected = np.array([f[1].detected for f in frames])
    raw = np.array([f[1].joints3d for f in frames])
    metrics = {
        "frames": len(frames), "frames_with_person": int(detected.sum()),
        "frames_skipped": skipped,
        "topics": {"depth": topics.depth, "camera_info": topics.info, "truth": topics.truth},
        "latency_ms": {"p50": round(float(np.percentile(latency, 50)), 3),
                       "p99": round(float(np.percentile(latency, 99)), 3)},
    }
    matched = [k for k, f in enumerate(frames) if f[0] in truths]
    truth = np.array([truths[frames[k][0]] for k in matched]) if matched else None
    whole = truth is not None and len(matched) == len(frames)
    metrics["jitter_rms_cm"] = {"raw": _jitter_cm(raw, truth if whole else None),
                                "smoothed": _jitter_cm(smoothed, truth if whole else None),
                                "minus_truth_motion": bool(whole)}
    if truth is not None:
        metrics["frames_with_truth"] = len(matched)
        for name, estimates in (("raw", raw), ("smoothed", smoothed)):
            # A frame without a detection counts as a miss for every joint.
            distance = np.linalg.norm(estimates[matched] - truth, axis=2)
            distance = np.where(np.isfinite(distance), distance, np.inf)
            ap = average_precision(distance)
            block = {
                "ap10": {n: round(float(a), 4) for n, a in zip(JOINT_NAMES, ap)},
                "ap10_mean": round(float(ap.mean()), 4),
                "ap10_mean_no_root": round(float(ap[1:].mean()), 4),
                "median_error_cm": {n: round(100 * float(np.median(d)), 2)
                                    for n, d in zip(JOINT_NAMES, distance.T)},
                "p90_error_cm": {n: round(100 * float(np.percentile(d, 90)), 2)
                                 for n, d in zip(JOINT_NAMES, distance.T)},
            }
            if name == "raw":
                metrics.update(block)
            else:
                metrics["smoothed"] = block
    return metrics


def _plots(frames, smoothed, truths, out: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    latency = np.array([f[2] for f in frames]) * 1e3
    raw = np.array([f[1].joints3d for f in frames])
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
    axes[0].hist(latency, bins=50, color="tab:blue")
    axes[0].set_xlabel("pipeline time per frame (ms)")
    axes[0].set_ylabel("frames")
    hand = JOINT_NAMES.index("right_hand")
    t = np.arange(len(frames))
    axes[1].plot(t, raw[:, hand, 2], ".", markersize=2, label="estimate", color="tab:orange")
    axes[1].plot(t, smoothed[:, hand, 2], "-", linewidth=1, label="smoothed (node default)")
    keyed = [k for k, f in enumerate(frames) if f[0] in truths]
    if keyed:
        axes[1].plot(keyed, [truths[frames[k][0]][hand, 2] for k in keyed], "-", color="k",
                     linewidth=0.8, label="ground truth")
    axes[1].set_xlabel("frame")
    axes[1].set_ylabel("right hand depth z (m)")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "timeline.png", dpi=100)
    plt.close(fig)


def _report(bag: Path, m: dict) -> str:
    lines = [f"# bag-eval: {bag}", "",
             f"- frames: {m['frames']}, with a person: {m['frames_with_person']}",
             f"- pipeline time per frame: p50 {m['latency_ms']['p50']:.2f} ms, "
             f"p99 {m['latency_ms']['p99']:.2f} ms",
             f"- jitter (RMS frame-to-frame motion"
             f"{' minus the truth' if m['jitter_rms_cm']['minus_truth_motion'] else ''}): "
             f"raw {m['jitter_rms_cm']['raw']} cm, smoothed {m['jitter_rms_cm']['smoothed']} cm"]
    if m["frames_skipped"]:
        lines.append(f"- skipped: {m['frames_skipped']}")
    if "ap10" in m:
        lines += ["", f"Ground truth on {m['topics']['truth']} for {m['frames_with_truth']} "
                  "frames. AP@10cm = share of frames with the joint within 10 cm.", "",
                  "| joint | AP@10cm | smoothed | median error | 90th percentile |",
                  "| --- | --- | --- | --- | --- |"]
        for name in JOINT_NAMES:
            lines.append(f"| {name} | {m['ap10'][name]:.3f} | {m['smoothed']['ap10'][name]:.3f} "
                         f"| {m['median_error_cm'][name]:.1f} cm | {m['p90_error_cm'][name]:.1f} cm |")
        lines.append(f"| **mean, six non-root** | **{m['ap10_mean_no_root']:.3f}** | "
                     f"{m['smoothed']['ap10_mean_no_root']:.3f} | | |")
    lines += ["", "![timeline](timeline.png)", ""]
    return "\n".join(lines)


def _write_estimates(path: Path, source: Path, frames, topics: _Topics) -> None:
    """The input's topics and the node's outputs, as pose_node would have published them.
    Serialised by rclpy (one implementation of the messages: ros_messages.PoseMessages)."""
    from rclpy.serialization import serialize_message
    from rosbags.highlevel import AnyReader
    from rosbags.rosbag2 import StoragePlugin, Writer
    from std_msgs.msg import Header
    from builtin_interfaces.msg import Time

    from depth_pose_ros.node_parameters import PARAMETERS
    from depth_pose_ros.ros_messages import PoseMessages

    if path.exists():
        raise BagError(f"{path} exists; rosbag2 writes a new directory")
    store = typestore()
    messages = PoseMessages(JOINT_NAMES, PARAMETERS["frame_prefix"][0])
    at_time = {bag_time: (pose, header) for _, pose, _, header, bag_time in frames}
    with AnyReader([source], default_typestore=store) as reader, \
            Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        copied = {c.topic: writer.add_connection(c.topic, c.msgtype, typestore=store)
                  for c in reader.connections if c.topic in (topics.depth, topics.info)}
        outputs = {name: writer.add_connection(name, kind, typestore=store) for name, kind in (
            ("/body_joints", JOINTS), ("/tf", "tf2_msgs/msg/TFMessage"),
            ("/body_markers", "visualization_msgs/msg/MarkerArray"))}
        wanted = [c for c in reader.connections if c.topic in copied]
        for connection, timestamp, raw in reader.messages(connections=wanted):
            writer.write(copied[connection.topic], timestamp, raw)
            if connection.topic != topics.depth:
                continue
            found = at_time.get(timestamp)
            if found is None:
                continue
            pose, source_header = found
            header = Header(stamp=Time(sec=source_header.stamp.sec,
                                       nanosec=source_header.stamp.nanosec),
                            frame_id=source_header.frame_id)
            writer.write(outputs["/body_joints"], timestamp,
                         serialize_message(messages.body_joints(header, pose)))
            if pose.detected:
                writer.write(outputs["/tf"], timestamp,
                             serialize_message(messages.transforms(header, pose)))
            writer.write(outputs["/body_markers"], timestamp,
                         serialize_message(messages.markers(header, pose)))
