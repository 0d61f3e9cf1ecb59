"""rosbag2 recordings, read and written with the `rosbags` library (no ROS install needed).

- record_synth(): a bag of the synthetic camera (16UC1 640 x 480 + CameraInfo) with the truth
  on /bodies_gt (depth_pose_ros/msg/Bodies) and, for one person, /body_joints_gt
  (depth_pose_ros/msg/BodyJoints), sqlite3 or mcap; people=N: N people walking and crossing.
- evaluate_bag(): the node's per-frame step (runtime.frame_tracker: the pipeline, the IDs, the
  one person of /body_joints) over every depth frame of any bag, with metrics, plots and,
  optionally, a bag of the estimates (/body_joints, /bodies, /tf, /body_markers). With
  /bodies_gt: detection recall and precision, ID switches and fragmentations (motmetrics), and
  AP@10cm on the people matched.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from depth_pose_ros.joints import JOINT_NAMES, points_array
from depth_pose_ros.learn.metrics import MATCH_DISTANCE_M
from depth_pose_ros.synth.scenes import VISIBLE_TO_COUNT, truth_bodies

DEPTH_TOPIC = "/camera/depth/image_raw"
INFO_TOPIC = "/camera/depth/camera_info"
GT_TOPIC = "/body_joints_gt"
BODIES_GT_TOPIC = "/bodies_gt"
FRAME_ID = "camera_depth_optical_frame"
STORAGES = ("mcap", "sqlite3")
IMAGE, INFO, JOINTS = "sensor_msgs/msg/Image", "sensor_msgs/msg/CameraInfo", \
    "depth_pose_ros/msg/BodyJoints"
BODY, BODIES = "depth_pose_ros/msg/Body", "depth_pose_ros/msg/Bodies"


class BagError(RuntimeError):
    """A bag that cannot be read, or lacks what was asked for; the message says what."""


def _msg_definition(name: str) -> str:
    """msg/<name>.msg of a checkout, or of share/depth_pose_ros in a ROS install."""
    checkout = Path(__file__).resolve().parents[2] / "msg" / f"{name}.msg"
    if checkout.is_file():
        return checkout.read_text()
    from ament_index_python.packages import get_package_share_directory
    return (Path(get_package_share_directory("depth_pose_ros")) / "msg" /
            f"{name}.msg").read_text()


def typestore():
    """ROS 2 kilted's message types plus depth_pose_ros/msg/BodyJoints, Body and Bodies."""
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    store = get_typestore(Stores.ROS2_KILTED)
    types = {}
    for kind in (JOINTS, BODY, BODIES):
        types.update(get_types_from_msg(_msg_definition(kind.rsplit("/", 1)[1]), kind))
    store.register(types)
    return store


def _stamp(store, nanoseconds: int):
    Time = store.types["builtin_interfaces/msg/Time"]
    return Time(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def record_synth(out: Path, seconds: float, rate: float = 30.0, storage: str = "mcap",
                 seed: int = 0, encoding: str = "16UC1", people: int = 1,
                 progress: bool = True, leave: bool = False) -> dict:
    """Write the synthetic camera for `seconds` at `rate` Hz: its one-person loop
    (synth.demo_sequence), or people walking and crossing (synth.people_scene, rendered frame by
    frame, never looped); leave: walking out of the image at its sides and back (people_scene's
    leave), for any number of people."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    from tqdm import tqdm

    from depth_pose_ros.depth_image import encode
    from depth_pose_ros.synth.scenes import DEMO_CAMERA, PeopleSequence, demo_sequence, people_scene

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
    looped = people == 1 and not leave  # the one-person loop, with /body_joints_gt
    if looped:
        steps = 20
        # A short bag renders only the keyframes it reaches (the loop has up to four).
        loop = PeopleSequence.of_one(demo_sequence(
            seed, keyframes=min(4, max(2, -(-count // steps))), steps=steps))
        encoded = [encode(d, encoding) for d in loop.depth]

        def frame(k):
            i = k % len(loop.depth)
            return encoded[i], loop.joints3d[i], loop.pixels[i], loop.visible[i]
    else:
        scene = people_scene(seed, people, count, rate, leave=leave)

        def frame(k):
            depth, joints3d, pixels, visible = scene.frame(k)
            return encode(depth, encoding), joints3d, pixels, visible
    start_ns = 1_700_000_000 * 1_000_000_000  # a fixed start: the same command, the same bag
    plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
    with Writer(out, version=9, storage_plugin=plugin) as writer:
        image_c = writer.add_connection(DEPTH_TOPIC, IMAGE, typestore=store)
        info_c = writer.add_connection(INFO_TOPIC, INFO, typestore=store)
        bodies_c = writer.add_connection(BODIES_GT_TOPIC, BODIES, typestore=store)
        gt_c = writer.add_connection(GT_TOPIC, JOINTS, typestore=store) if looped else None
        for k in tqdm(range(count), desc="bag", unit="frame", disable=not progress):
            t = start_ns + int(round(k * 1e9 / rate))
            header = Header(stamp=_stamp(store, t), frame_id=FRAME_ID)
            (step, data), joints3d, pixels, visible = frame(k)
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
            fields = [dict(t, positions=[Point(x=x, y=y, z=z) for x, y, z in
                                         t.pop("positions").tolist()])
                      for t in truth_bodies(joints3d, pixels, visible, camera)]
            for f in fields:
                f["state"] = types[BODY].TRACKED if f.pop("tracked") else types[BODY].LOST
            truth = types[BODIES](header=header, bodies=[types[BODY](**f) for f in fields])
            writer.write(info_c, t, store.serialize_cdr(info, INFO))
            writer.write(image_c, t, store.serialize_cdr(image, IMAGE))
            writer.write(bodies_c, t, store.serialize_cdr(truth, BODIES))
            if gt_c is not None:
                writer.write(gt_c, t, store.serialize_cdr(
                    types[JOINTS](header=header, person_detected=True, **{
                        k: v for k, v in fields[0].items() if k not in ("id", "state")}), JOINTS))
    return {"bag": str(out), "frames": count, "rate_hz": rate, "storage": storage,
            "encoding": encoding, "people": people, "leave": leave,
            "truth_topics": [BODIES_GT_TOPIC] + ([GT_TOPIC] if looped else [])}


@dataclass
class BagTopics:
    depth: str
    info: str
    truth: str | None
    bodies: str | None = None  # /bodies_gt, when the bag has it


def _choose_topics(reader, depth_topic, info_topic, gt_topic) -> BagTopics:
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
    return BagTopics(depth_topic, info_topic, gt_topic,
                   BODIES_GT_TOPIC if topics.get(BODIES_GT_TOPIC) == BODIES else None)


def _key(header) -> tuple[int, int]:
    return header.stamp.sec, header.stamp.nanosec


@dataclass
class EvaluatedFrame:
    """What the node's per-frame step made of one depth frame."""

    key: tuple[int, int]  # the header stamp
    seconds: float  # processing time
    header: object
    bag_time: int
    pose: object  # the /body_joints person: pipeline.PersonPose as estimated (or nobody())
    published: object  # and as published: their track's (smoothed) joints
    tracks: list  # tracking.Track snapshots, lost ones too


def evaluate_bag(bag: Path, out: Path, depth_topic: str | None = None,
                 info_topic: str | None = None, gt_topic: str | None = None,
                 write_bag: Path | None = None, model: Path | None = None,
                 progress: bool = True) -> dict:
    """Run the node's per-frame step over every depth frame; write metrics.json, report.md,
    plots."""
    from rosbags.highlevel import AnyReader

    from depth_pose_ros.runtime.frame_tracker import FrameTracker

    bag, out = Path(bag), Path(out)
    if not bag.exists():
        raise BagError(f"{bag} does not exist")
    step = FrameTracker.like_the_node(model)
    store = typestore()
    try:
        reader = AnyReader([bag], default_typestore=store)
        reader.open()
    except Exception as error:  # rosbags raises several kinds for unreadable bags
        raise BagError(f"cannot read {bag} as a rosbag2 bag: {error}") from error
    try:
        topics = _choose_topics(reader, depth_topic, info_topic, gt_topic)
        frames, truths, bodies_truth, skipped = _run(reader, topics, step, bag, progress)
    finally:
        reader.close()
    if not frames:
        raise BagError(f"no depth frame of {topics.depth} could be processed: {skipped}")
    metrics = _metrics(frames, truths, topics, skipped)
    if bodies_truth:
        metrics["people"] = _people_metrics(frames, bodies_truth)
    if write_bag:
        from depth_pose_ros.ros.estimates_bag import write_estimates
        write_estimates(Path(write_bag), bag, frames, topics)
        metrics["estimates_bag"] = str(write_bag)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    _plots(frames, truths, out)
    (out / "report.md").write_text(_report(bag, metrics))
    return metrics


def _run(reader, topics: BagTopics, step, bag: Path, progress: bool):
    """The per-frame step (a FrameTracker) over the bag's depth frames, in order, with the
    CameraInfo before each. Returns (frames, truth of /body_joints_gt by stamp, truth of
    /bodies_gt by stamp, {reason a frame was skipped: count})."""
    from dataclasses import replace

    from tqdm import tqdm

    from depth_pose_ros.runtime.frame_tracker import FrameDropped
    from depth_pose_ros.runtime.pipeline import CameraError, nobody
    from depth_pose_ros.runtime.tracking import track_pose

    frames: list[EvaluatedFrame] = []
    truths, bodies_truth, skipped = {}, {}, {}
    wanted = [c for c in reader.connections
              if c.topic in (topics.depth, topics.info, topics.truth, topics.bodies)]
    count = sum(c.msgcount for c in wanted if c.topic == topics.depth)
    with tqdm(total=count, desc="bag-eval", unit="frame", disable=not progress) as bar:
        for connection, bag_time, msg in _messages(reader, wanted, bag):
            if connection.topic == topics.info:
                try:
                    step.camera_info(msg.width, msg.height, msg.k, msg.distortion_model, msg.d)
                except CameraError as error:  # unknown distortion: counted, used as a pinhole
                    reason = f"CameraInfo: {error}"
                    skipped[reason] = skipped.get(reason, 0) + 1
            elif connection.topic == topics.truth:
                if msg.person_detected:
                    truths[_key(msg.header)] = points_array(msg.positions)
            elif connection.topic == topics.bodies:
                bodies_truth[_key(msg.header)] = [
                    (b.id, b.state != b.LOST, points_array(b.positions)) for b in msg.bodies]
            else:
                bar.update()
                key = _key(msg.header)
                started = time.perf_counter()
                try:
                    tracks, chosen = step.depth_image(
                        msg.encoding, msg.height, msg.width, msg.step, bool(msg.is_bigendian),
                        msg.data, key[0] + 1e-9 * key[1])
                except FrameDropped as error:
                    skipped[str(error)] = skipped.get(str(error), 0) + 1
                    continue
                frames.append(EvaluatedFrame(
                    key, time.perf_counter() - started, msg.header, bag_time,
                    chosen.detection if chosen is not None else nobody(),
                    track_pose(chosen) if chosen is not None else nobody(),
                    [replace(t, joints3d=t.joints3d.copy()) for t in tracks]))
    return frames, truths, bodies_truth, skipped


def _messages(reader, connections, bag: Path):
    """The bag's messages, deserialised; what the bag's reading raises becomes BagError (a bad
    bag), while what the pipeline raises stays what it is (a bug)."""
    iterator = reader.messages(connections=connections)
    while True:
        try:
            connection, bag_time, raw = next(iterator)
            msg = reader.deserialize(raw, connection.msgtype)
        except StopIteration:
            return
        except Exception as error:  # rosbags raises several kinds for damaged bags
            raise BagError(f"cannot read {bag}: {error}") from error
        yield connection, bag_time, msg


def _jitter_cm(joints: np.ndarray, truth: np.ndarray | None) -> float | None:
    """RMS over joints and frames of the frame-to-frame motion (minus the truth's, if known)."""
    motion = np.diff(joints, axis=0)
    if truth is not None:
        motion = motion - np.diff(truth, axis=0)
    ok = np.isfinite(motion).all(axis=(1, 2))
    if not ok.any():
        return None
    return round(100 * float(np.sqrt((motion[ok] ** 2).sum(axis=2).mean())), 2)


def _metrics(frames: list[EvaluatedFrame], truths, topics, skipped) -> dict:
    """The /body_joints person's figures: as estimated ("raw") and as published (smoothed)."""
    from depth_pose_ros.learn.metrics import average_precision, mean_without_root

    latency = np.array([f.seconds for f in frames]) * 1e3
    detected = np.array([f.pose.detected for f in frames])
    raw = np.array([f.pose.joints3d for f in frames])
    smoothed = np.array([f.published.joints3d for f in frames])
    metrics = {
        "frames": len(frames), "frames_with_person": int(detected.sum()),
        "frames_skipped": skipped,
        "topics": {"depth": topics.depth, "camera_info": topics.info, "truth": topics.truth,
                   "bodies_truth": topics.bodies},
        "latency_ms": {"p50": round(float(np.percentile(latency, 50)), 3),
                       "p99": round(float(np.percentile(latency, 99)), 3)},
    }
    matched = [k for k, f in enumerate(frames) if f.key in truths]
    truth = np.array([truths[frames[k].key] for k in matched]) if matched else None
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
                "ap10_mean_no_root": round(float(mean_without_root(ap)), 4),
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


def _people_metrics(frames: list[EvaluatedFrame], bodies_truth: dict) -> dict:
    """Against /bodies_gt: the MOT counts (motmetrics) over the people at least
    VISIBLE_TO_COUNT visible, matched as metrics.match_people does; an estimate of a person
    less visible than that is neither a hit nor a false alarm. AP@10cm of the six non-root
    joints (as published, smoothed) over every matched pair, and per person."""
    import motmetrics

    from depth_pose_ros.learn.metrics import average_precision, match_people, mean_without_root
    from depth_pose_ros.runtime.tracking import LOST

    accumulator = motmetrics.MOTAccumulator(auto_id=True)
    pairs: dict[int, list] = {}  # true ID -> joint distances of its matches
    person_frames = 0
    for frame in frames:
        truth = bodies_truth.get(frame.key)
        if truth is None:
            continue
        match = match_people([(t.id, t.joints3d) for t in frame.tracks if t.state != LOST], truth)
        accumulator.update(match.counted, match.kept, match.distance2)
        person_frames += len(match.counted)
        for person, _, distance in match.pairs:
            pairs.setdefault(person, []).append(distance)
    summary = motmetrics.metrics.create().compute(
        accumulator, metrics=["recall", "precision", "num_switches", "num_fragmentations",
                              "num_unique_objects", "mota", "num_false_positives",
                              "num_misses"], name="all").iloc[0]
    rate = len(frames) / max(1e-9, (_seconds(frames[-1].key) - _seconds(frames[0].key))) \
        if len(frames) > 1 else 30.0
    person_minutes = person_frames / rate / 60
    every = np.concatenate([np.array(p) for p in pairs.values()]) if pairs else np.zeros((0, 7))
    return {
        "people": int(summary["num_unique_objects"]),
        "person_frames_counted": person_frames,
        "recall": round(float(summary["recall"]), 4),
        "precision": round(float(summary["precision"]), 4),
        "id_switches": int(summary["num_switches"]),
        "fragmentations": int(summary["num_fragmentations"]),
        "id_switches_per_person_minute": round(int(summary["num_switches"])
                                               / max(person_minutes, 1e-9), 3),
        "mota": round(float(summary["mota"]), 4),
        "misses": int(summary["num_misses"]),
        "false_positives": int(summary["num_false_positives"]),
        "ap10_no_root_matched": round(float(mean_without_root(average_precision(every))), 4)
        if len(every) else None,
        "ap10_no_root_per_person": {
            str(i): round(float(mean_without_root(average_precision(np.array(d)))), 4)
            for i, d in sorted(pairs.items())},
    }


def _seconds(key: tuple[int, int]) -> float:
    return key[0] + 1e-9 * key[1]


def _plots(frames: list[EvaluatedFrame], truths, out: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from depth_pose_ros.runtime.tracking import LOST

    latency = np.array([f.seconds for f in frames]) * 1e3
    raw = np.array([f.pose.joints3d for f in frames])
    smoothed = np.array([f.published.joints3d for f in frames])
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.5))
    axes[0].hist(latency, bins=50, color="tab:blue")
    axes[0].set_xlabel("pipeline time per frame (ms)")
    axes[0].set_ylabel("frames")
    hand = JOINT_NAMES.index("right_hand")
    t = np.arange(len(frames))
    axes[1].plot(t, raw[:, hand, 2], ".", markersize=2, label="estimate", color="tab:orange")
    axes[1].plot(t, smoothed[:, hand, 2], "-", linewidth=1, label="smoothed (node default)")
    keyed = [k for k, f in enumerate(frames) if f.key in truths]
    if keyed:
        axes[1].plot(keyed, [truths[frames[k].key][hand, 2] for k in keyed], "-", color="k",
                     linewidth=0.8, label="ground truth")
    axes[1].set_xlabel("frame")
    axes[1].set_ylabel("/body_joints right hand depth z (m)")
    axes[1].legend(fontsize=7)
    for k, frame in enumerate(frames):  # every ID's mid-hip across the image, over time
        for track in frame.tracks:
            if track.state != LOST:
                axes[2].plot(track.joints3d[0, 0], k, ".", markersize=1.5,
                             color=f"C{track.id % 10}")
    axes[2].set_xlabel("mid-hip x (m), one colour per ID")
    axes[2].set_ylabel("frame")
    axes[2].invert_yaxis()
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
    if "people" in m:
        p = m["people"]
        ap = p["ap10_no_root_matched"]
        lines += ["", f"Everyone, against /bodies_gt ({p['people']} people, "
                  f"{p['person_frames_counted']} person-frames at least "
                  f"{VISIBLE_TO_COUNT:.0%} visible; matched by the mid-hip within "
                  f"{MATCH_DISTANCE_M} m):", "",
                  "| recall | precision | ID switches | per person-minute | fragmentations | "
                  "MOTA | AP@10cm non-root, matched |", "| --- | --- | --- | --- | --- | --- | --- |",
                  f"| {p['recall']:.3f} | {p['precision']:.3f} | {p['id_switches']} | "
                  f"{p['id_switches_per_person_minute']:.2f} | {p['fragmentations']} | "
                  f"{p['mota']:.3f} | {'' if ap is None else f'{ap:.3f}'} |", "",
                  "AP@10cm non-root per true person: " + ", ".join(
                      f"{i}: {a:.3f}" for i, a in p["ap10_no_root_per_person"].items())]
    lines += ["", "![timeline](timeline.png)", ""]
    return "\n".join(lines)
