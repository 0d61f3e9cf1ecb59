"""`depth-pose demo` (make demo): pose_node on a live synthetic depth camera, over real ROS 2.

The node runs as its own process (`depth-pose-node`, with config/pose.yaml), exactly as a user
starts it; this process is the camera (a rendered person moving through poses, 640 x 480 16UC1
at 30 Hz with CameraInfo) and the audience: it prints the joints, the rate, the latency and the
error against the ground truth it rendered, then draws the last frame with the estimate.
Everything stays on loopback.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.joints import points_array
from depth_pose_ros.ros.processes import ros_environment, start_pose_node


def run(out: Path, duration: float = 10.0, rate: float = 30.0, seed: int = 0,
        people: int = 1) -> int:
    os.environ.update(ros_environment())
    import rclpy
    from rclpy.parameter import Parameter

    from depth_pose_ros.ros.synthetic_camera import SyntheticCamera

    out.mkdir(parents=True, exist_ok=True)
    sequence = _render(seed, people)
    node = start_pose_node("-p", "stats_period:=2.0", "-p", "publish_network_input:=true")
    rclpy.init()
    try:
        camera = SyntheticCamera(sequence, parameter_overrides=[Parameter("rate", value=rate)])
        heard = _Audience(camera)
        deadline = time.monotonic() + 60
        while camera.count_subscribers("/camera/depth/image_raw") == 0:
            if node.poll() is not None or time.monotonic() > deadline:
                print("demo: pose_node did not start (see above)", file=sys.stderr)
                return 1
            rclpy.spin_once(camera, timeout_sec=0.1)
        print(f"demo: pose_node is up; streaming at {rate:g} Hz for {duration:g} s\n")
        # The camera's loop runs on from where it is: restarting it would make the people
        # the node already tracks jump back to their first places (and take new IDs).
        heard.stream_start, camera_sent_before = time.time(), camera.sent
        start = time.monotonic()
        next_report = start + 1.0
        while time.monotonic() - start < duration:
            rclpy.spin_once(camera, timeout_sec=0.01)
            if time.monotonic() >= next_report:
                next_report += 1.0
                _report(camera, camera.sent - camera_sent_before, heard.received,
                        time.monotonic() - start)
        summary = _summary(camera, camera.sent - camera_sent_before, heard.received,
                           time.monotonic() - start, heard.bodies)
        _draw_last_frame(camera, heard, out / "overlay.png")
        (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        print(f"demo: wrote {out / 'summary.json'}")
        camera.destroy_node()
    finally:
        rclpy.try_shutdown()
        node.send_signal(signal.SIGINT)
        try:
            node.wait(timeout=20)
        except subprocess.TimeoutExpired:
            node.kill()
    return 0 if summary["frames_with_person"] > 0 else 1


def _render(seed: int, people: int):
    from depth_pose_ros.synth.scenes import DEMO_CAMERA, demo_sequence, people_loop

    started = time.perf_counter()
    sequence = demo_sequence(seed) if people == 1 else people_loop(seed, people, progress=True)
    who = "a person moving" if people == 1 else f"{people} people walking"
    print(f"demo: rendered {len(sequence.depth)} frames of {who} in a room "
          f"({DEMO_CAMERA.width} x {DEMO_CAMERA.height}, {time.perf_counter() - started:.1f} s)")
    return sequence


class _Audience:
    """What the demo hears back from pose_node: /body_joints (with the time each arrived) and
    /bodies, both from stream_start on, and the network input, by header stamp."""

    def __init__(self, node):
        from rclpy.qos import qos_profile_sensor_data
        from sensor_msgs.msg import Image

        from depth_pose_ros.msg import Bodies, BodyJoints

        self.received = []  # (BodyJoints, receive time)
        self.bodies, self.network_inputs = {}, {}
        self.stream_start = float("inf")  # answers to frames sent before streaming do not count
        node.create_subscription(BodyJoints, "/body_joints", self._on_joints, 10)
        node.create_subscription(Bodies, "/bodies", self._on_bodies, 10)
        node.create_subscription(Image, "/pose_node/network_input/image_rect",
                                 self._on_network_input, qos_profile_sensor_data)

    def _on_joints(self, msg) -> None:
        if _stamp(msg) >= self.stream_start:
            self.received.append((msg, time.time()))

    def _on_bodies(self, msg) -> None:
        if _stamp(msg) >= self.stream_start:
            self.bodies[_key(msg)] = msg

    def _on_network_input(self, msg) -> None:
        from depth_pose_ros.depth_image import to_metres
        from depth_pose_ros.ros import messages as ros_messages

        self.network_inputs[_key(msg)] = np.nan_to_num(
            to_metres(ros_messages.image_to_raw(msg)), nan=0.0)


def _draw_last_frame(camera, heard: _Audience, path: Path) -> None:
    """The last frame whose /bodies (and network input) arrived too, streaming having stopped
    between the topics of the newest one: every person seen with their ID, and the truth."""
    from depth_pose_ros.runtime.pipeline import PersonPose
    from depth_pose_ros.tools.preview import pose_overlay

    complete = [m for m, _ in heard.received
                if _key(m) in heard.bodies and _key(m) in heard.network_inputs] \
        or [m for m, _ in heard.received if _key(m) in heard.bodies]
    if not complete:
        return
    msg = complete[-1]
    key = _key(msg)
    depth, _, truth_pixels, _ = camera.truth_for_stamp(msg.header.stamp)
    seen = [b for b in heard.bodies[key].bodies if b.state != b.LOST]
    poses = []
    for body in seen:
        chosen = msg.person_detected and [p.x for p in body.positions] == \
            [p.x for p in msg.positions]
        poses.append(PersonPose(
            True, tuple(body.names), points_array(body.positions),
            np.stack([body.pixel_u, body.pixel_v], axis=1), np.array(body.in_view),
            heard.network_inputs[key] if chosen and key in heard.network_inputs
            else np.zeros(PinholeCamera.virtual().shape, np.float32),
            np.array(body.confidence, np.float32)))
    overlay = pose_overlay(depth, poses, path,
                           title="pose_node on the synthetic camera: estimates with "
                                 "their IDs (solid), truth (dashed)",
                           truth_pixels=truth_pixels, ids=[b.id for b in seen])
    print(f"demo: wrote {overlay}")


def _key(msg) -> tuple[int, int]:
    return msg.header.stamp.sec, msg.header.stamp.nanosec


def _stamp(msg) -> float:
    return msg.header.stamp.sec + 1e-9 * msg.header.stamp.nanosec


def _errors(camera, received):
    """Per answered frame with a person, the /body_joints estimate's joint errors against the
    true person nearest it (by the mid-hip)."""
    rows = []
    for msg, _ in received:
        truth = camera.truth_for_stamp(msg.header.stamp)
        if msg.person_detected and truth is not None:
            positions = points_array(msg.positions)
            person = np.argmin(np.linalg.norm(truth[1][:, 0] - positions[0], axis=1))
            rows.append(np.linalg.norm(positions - truth[1][person], axis=1))
    return np.array(rows).reshape(-1, 7)


def _latencies_ms(received):
    return np.array([(t - _stamp(m)) * 1e3 for m, t in received])


def _report(camera, sent, received, elapsed):
    if not received:
        print(f"t={elapsed:4.1f} s  sent {sent}, nothing back yet")
        return
    msg = received[-1][0]
    latency = _latencies_ms(received[-30:])
    line = (f"t={elapsed:4.1f} s  in {sent / elapsed:4.1f} Hz, out "
            f"{len(received) / elapsed:4.1f} Hz, latency p50 {np.median(latency):5.1f} ms  ")
    if msg.person_detected:
        hand = msg.positions[list(msg.names).index("right_hand")]
        error = _errors(camera, received[-30:])
        line += (f"right hand ({hand.x:+.2f}, {hand.y:+.2f}, {hand.z:.2f}) m  "
                 f"median error {100 * np.median(error):4.1f} cm")
    else:
        line += "no person"
    print(line)


def _summary(camera, sent, received, elapsed, bodies) -> dict:
    from depth_pose_ros.joints import JOINT_NAMES

    errors = _errors(camera, received)
    latency = _latencies_ms(received)
    counts = [sum(b.state != b.LOST for b in m.bodies) for m in bodies.values()]
    summary = {
        "seconds": round(elapsed, 2), "frames_sent": sent,
        "frames_answered": len(received),
        "frames_with_person": int(sum(m.person_detected for m, _ in received)),
        "people_per_frame": {str(n): counts.count(n) for n in sorted(set(counts))},
        "ids_seen": sorted({b.id for m in bodies.values() for b in m.bodies}),
        "latency_ms_image_stamp_to_body_joints": {
            "p50": round(float(np.median(latency)), 2) if len(latency) else None,
            "p99": round(float(np.percentile(latency, 99)), 2) if len(latency) else None},
        "median_error_cm": {name: round(100 * float(np.median(errors[:, k])), 1)
                            for k, name in enumerate(JOINT_NAMES)} if len(errors) else {},
    }
    print(f"\ndemo: {summary['frames_answered']} of {summary['frames_sent']} frames answered "
          f"in {elapsed:.1f} s, {summary['frames_with_person']} with a person")
    print(f"demo: /bodies: frames by people seen {summary['people_per_frame']}, IDs "
          f"{summary['ids_seen']}")
    if len(latency):
        print(f"demo: image stamp to /body_joints received (two hops and the node): p50 "
              f"{np.median(latency):.1f} ms, p99 {np.percentile(latency, 99):.1f} ms")
    if len(errors):
        print("demo: median 3D error against the rendered truth: " + ", ".join(
            f"{name} {value:.1f} cm" for name, value in summary["median_error_cm"].items()))
    return summary
