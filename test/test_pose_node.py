"""pose_node over the real middleware (loopback): the node runs in its own process, this test
process publishes depth frames and CameraInfo and listens to /body_joints, /tf, /body_markers."""
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from depth_pose_ros.ros.messages import MIN_MARKER_ALPHA
from depth_pose_ros.runtime.estimator import default_model_dir

REPO = Path(__file__).resolve().parents[1]
FRAME = "camera_depth_optical_frame"
NAMES = ["root", "right_shoulder", "right_elbow", "right_hand", "left_shoulder", "left_elbow",
         "left_hand"]


def start_node(log_path: Path, *ros_args: str, topics: str = "/test") -> subprocess.Popen:
    command = [str(Path(sys.prefix) / "bin" / "depth-pose-node"), "--ros-args",
               "--params-file", str(REPO / "config" / "pose.yaml"),
               "-r", f"depth:={topics}/depth", "-r", f"camera_info:={topics}/camera_info",
               "-p", "stats_period:=0.0", *ros_args]
    env = dict(os.environ, RCUTILS_LOGGING_BUFFERED_STREAM="0")
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log_path.open("w"),
                            env=env)


class Harness:
    """This process's side: publishes frames, collects what the node publishes, by stamp."""

    def __init__(self, topics: str = "/test"):
        import rclpy
        from depth_pose_ros.msg import Bodies, BodyJoints
        from rclpy.qos import qos_profile_sensor_data
        from sensor_msgs.msg import CameraInfo, Image
        from tf2_msgs.msg import TFMessage
        from visualization_msgs.msg import MarkerArray

        from depth_pose_ros.ros import messages as ros_messages
        from depth_pose_ros.synth.scenes import DEMO_CAMERA, demo_sequence

        self.rclpy, self.ros_messages, self.camera = rclpy, ros_messages, DEMO_CAMERA
        self.node = rclpy.create_node("pose_node_test" + topics.replace("/", "_"))
        self.image_pub = self.node.create_publisher(Image, f"{topics}/depth",
                                                    qos_profile_sensor_data)
        self.info_pub = self.node.create_publisher(CameraInfo, f"{topics}/camera_info",
                                                   qos_profile_sensor_data)
        self.joints, self.tf, self.markers, self.bodies = {}, {}, {}, {}
        self.node.create_subscription(BodyJoints, "/body_joints",
                                      lambda m: self.joints.setdefault(self._key(m.header), m), 10)
        self.node.create_subscription(Bodies, "/bodies",
                                      lambda m: self.bodies.setdefault(self._key(m.header), m), 10)
        self.node.create_subscription(
            TFMessage, "/tf", lambda m: self.tf.setdefault(self._key(m.transforms[0].header), m),
            ros_messages.TF_QOS)
        self.node.create_subscription(
            MarkerArray, "/body_markers",
            lambda m: self.markers.setdefault(self._key(m.markers[0].header), m), 10)
        self.sequence = demo_sequence(seed=1, keyframes=2, steps=2)
        self._count = 0

    @staticmethod
    def _key(header):
        return header.stamp.sec, header.stamp.nanosec

    def spin(self, seconds: float, until=lambda: False) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not until():
            self.rclpy.spin_once(self.node, timeout_sec=0.02)

    def wait_for_node(self, process: subprocess.Popen) -> None:
        def connected():
            return (self.image_pub.get_subscription_count() > 0
                    and self.info_pub.get_subscription_count() > 0
                    and self.node.count_publishers("/body_joints") > 0)
        self.spin(60.0, until=lambda: connected() or process.poll() is not None)
        assert connected(), "pose_node did not come up (see its log)"
        # Until discovery has matched this side's subscriptions too, the node's first outputs
        # can be lost (seen on a loaded machine): wait for them, briefly.
        self.spin(10.0, until=lambda: all(s.get_publisher_count() > 0
                                          for s in self.node.subscriptions))
        self.spin(1.0)  # and the node's side of each match, which this side cannot see

    def header(self):
        from std_msgs.msg import Header
        self._count += 1
        return Header(frame_id=FRAME, stamp=self.rclpy.time.Time(
            seconds=1000 + self._count).to_msg())

    def image(self, depth_m, encoding="16UC1"):
        return self.ros_messages.depth_image(self.header(), depth_m, encoding)

    def info(self, camera=None):
        return self.ros_messages.camera_info(self.header(), camera or self.camera)

    def send(self, image, info=None, expect_output=True, tries=4):
        """Publish (info, then) image; return the BodyJoints for it, or None after a while."""
        for _ in range(tries if expect_output else 1):
            if info is not None:
                info.header.stamp = image.header.stamp
                self.info_pub.publish(info)
            self.image_pub.publish(image)
            key = self._key(image.header)
            self.spin(2.5 if expect_output else 1.0, until=lambda: key in self.joints)
            if key in self.joints:
                self.spin(0.3, until=lambda: key in self.tf and key in self.markers
                          and key in self.bodies)
                return self.joints[key]
            image.header = self.header()  # sensor-data QoS is best effort: try again
        return None


@pytest.fixture(scope="module")
def ros():
    import rclpy
    rclpy.init()
    yield
    rclpy.shutdown()


@pytest.fixture(scope="module")
def running(ros, tmp_path_factory):
    log = tmp_path_factory.mktemp("pose_node") / "stderr.log"
    # Every warning, to check each; no smoothing, so each frame's joints are its own; markers
    # for every frame.
    process = start_node(log, "-p", "warning_period:=0.0", "-p", "smoothing:=false",
                         "-p", "markers_max_rate:=0.0")
    harness = Harness()
    try:
        harness.wait_for_node(process)
        yield harness, process, log
    finally:
        process.send_signal(2)  # SIGINT, as Ctrl-C
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        harness.node.destroy_node()


def test_joints_tf_and_markers_for_synthetic_frames(running):
    harness, _, _ = running
    errors = []
    for depth, truth in zip(harness.sequence.depth, harness.sequence.joints3d):
        image = harness.image(depth)
        msg = harness.send(image, harness.info())
        assert msg is not None, "no /body_joints for a good frame"
        assert msg.person_detected and list(msg.names) == NAMES
        assert msg.header.frame_id == FRAME and msg.header.stamp == image.header.stamp
        positions = np.array([[p.x, p.y, p.z] for p in msg.positions])
        errors.append(np.linalg.norm(positions - truth, axis=1))
        pixels = np.stack([msg.pixel_u, msg.pixel_v], axis=1)
        np.testing.assert_allclose(pixels, harness.camera.project(positions), atol=30)
        assert list(msg.in_view) == [True] * 7
        confidence = np.array(msg.confidence)
        assert confidence.shape == (7,) and ((confidence >= 0) & (confidence <= 1)).all()

        key = Harness._key(image.header)
        bodies = harness.bodies[key].bodies
        assert len(bodies) == 1 and bodies[0].state in (bodies[0].NEW, bodies[0].TRACKED)
        np.testing.assert_allclose(_positions(bodies[0]), positions)
        person = bodies[0].id
        tf = harness.tf[key]
        assert [t.child_frame_id for t in tf.transforms] == [f"body_{person}_{n}" for n in NAMES]
        assert all(t.header.frame_id == FRAME for t in tf.transforms)
        np.testing.assert_allclose([[t.transform.translation.x, t.transform.translation.y,
                                     t.transform.translation.z] for t in tf.transforms],
                                   positions, atol=1e-6)
        assert all(t.transform.rotation.w == 1.0 for t in tf.transforms)
        markers = harness.markers[key].markers
        assert len(markers) == 9 and all(m.header.frame_id == FRAME for m in markers)
        assert {m.ns for m in markers} == {f"body_joints_{person}"}
        np.testing.assert_allclose([[m.pose.position.x, m.pose.position.y, m.pose.position.z]
                                    for m in markers[:7]], positions, atol=1e-6)
        assert len(markers[7].points) == 14  # seven bones as a line list
        assert markers[8].text == str(person)  # the ID over the head
        alpha = np.array([m.color.a for m in markers[:7]])
        np.testing.assert_allclose(alpha, MIN_MARKER_ALPHA + (1 - MIN_MARKER_ALPHA) * confidence,
                                   atol=1e-6)  # spheres fade with their joint's confidence
    errors = np.median(errors, axis=0)
    assert errors[[0, 1, 4]].max() < 0.12, errors  # root and shoulders
    assert errors.max() < 0.3, errors


def _positions(msg):
    return np.array([[p.x, p.y, p.z] for p in msg.positions])


def test_every_encoding_and_layout_gives_the_same_joints(running):
    harness, _, _ = running
    depth = harness.sequence.depth[1]
    reference = harness.send(harness.image(depth), harness.info())
    assert reference is not None and reference.person_detected
    variants = {"32FC1": harness.image(depth, "32FC1")}
    big = harness.image(depth)  # 16UC1 big-endian
    big.data = np.frombuffer(bytes(big.data), "<u2").astype(">u2").tobytes()
    big.is_bigendian = 1
    variants["big-endian"] = big
    padded = harness.image(depth)  # rows padded to 1,300 bytes
    rows = np.frombuffer(bytes(padded.data), np.uint8).reshape(padded.height, -1)
    padded.data = np.pad(rows, ((0, 0), (0, 20))).tobytes()
    padded.step = rows.shape[1] + 20
    variants["padded"] = padded
    for name, image in variants.items():
        msg = harness.send(image)
        assert msg is not None and msg.person_detected, name
        # 32FC1 carries the depth unrounded (16UC1: whole millimetres).
        np.testing.assert_allclose(_positions(msg), _positions(reference), atol=0.02,
                                   err_msg=name)


def test_bad_input_is_dropped_with_a_warning_and_the_node_carries_on(running):
    harness, process, log = running
    good = harness.sequence.depth[0]
    tiny = np.ones((4, 4), np.float32)

    def bad(**fields):
        image = harness.image(good)
        for key, value in fields.items():
            setattr(image, key, value)
        return image

    cases = {
        "unsupported encoding 'rgb8'": bad(encoding="rgb8"),
        "step 10 is shorter than a row": bad(step=10),
        "truncated image": bad(data=bytes(1000)),
        "image is 0 x 0 but its CameraInfo": bad(width=0, height=0, step=0, data=b""),
        "image is 4 x 4 but its CameraInfo": harness.image(tiny),
    }
    assert harness.send(harness.image(good), harness.info()).person_detected
    for warning, image in cases.items():
        assert harness.send(image, expect_output=False) is None, warning
        assert harness.send(harness.image(good)).person_detected, f"dead after: {warning}"
        harness.spin(0.3)
        assert warning in log.read_text(), f"no warning: {warning}"

    # A frame of impossible size: refused before any work, and the node is still fine.
    huge = harness.info(harness.camera.__class__(100_000, 100_000, 1e5, 1e5, 5e4, 5e4))
    assert harness.send(bad(width=100_000, height=100_000, step=200_000), huge,
                        expect_output=False) is None
    harness.spin(0.3)
    assert "larger than the" in log.read_text()

    # Nonsensical CameraInfo: warned about, frames wait for a good one.
    for k in ([0.0] * 9, [float("nan")] * 9):
        info = harness.info()
        info.k = k
        assert harness.send(harness.image(good), info, expect_output=False) is None
    harness.spin(0.3)
    assert "ignoring CameraInfo: camera matrix K must be 9 finite numbers" in log.read_text() \
        or "ignoring CameraInfo: focal lengths must be positive" in log.read_text()

    # No person: all zeros (16UC1), all NaN (32FC1), only a wall. person_detected false,
    # markers deleted, no TF.
    for name, image in {"zeros": harness.image(np.zeros_like(good)),
                        "nan": harness.image(np.full_like(good, np.nan), "32FC1"),
                        "wall": harness.image(np.full_like(good, 3.0))}.items():
        msg = harness.send(image, harness.info())
        assert msg is not None and not msg.person_detected, name
        assert len(msg.names) == len(msg.positions) == 0, name
    key = Harness._key(image.header)
    assert key not in harness.tf
    from visualization_msgs.msg import Marker
    deleted = [m for k, ms in harness.markers.items() for m in ms.markers
               if m.action == Marker.DELETE]
    assert deleted, "markers of the last person were not removed"
    assert {m.id for m in deleted} == set(range(9))  # spheres, bones, text
    assert harness.send(harness.image(good), harness.info()).person_detected
    assert process.poll() is None and "Traceback" not in log.read_text()


def test_an_unknown_lens_model_is_one_warning_then_a_pinhole(running):
    harness, process, log = running
    good = harness.sequence.depth[0]
    for _ in range(3):
        info = harness.info()
        info.distortion_model, info.d = "kannala_brandt_v9", [0.1, 0.0, 0.0, 0.0]
        msg = harness.send(harness.image(good), info)
        assert msg is not None and msg.person_detected  # processed as a pinhole
    harness.spin(0.3)
    assert log.read_text().count("distortion model 'kannala_brandt_v9' is not one of") == 1


def test_parameters_are_validated_when_set(running):
    harness, _, _ = running
    from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
    from rcl_interfaces.srv import SetParameters

    client = harness.node.create_client(SetParameters, "/pose_node/set_parameters")
    assert client.wait_for_service(timeout_sec=20)

    def set_param(name, value):
        kind = {float: ParameterType.PARAMETER_DOUBLE, str: ParameterType.PARAMETER_STRING,
                bool: ParameterType.PARAMETER_BOOL}
        field = {float: "double_value", str: "string_value", bool: "bool_value"}[type(value)]
        request = SetParameters.Request(parameters=[Parameter(
            name=name, value=ParameterValue(type=kind[type(value)], **{field: value}))])
        future = client.call_async(request)
        harness.spin(10.0, until=future.done)
        return future.result().results[0]

    assert set_param("min_depth", 6.0).reason == "min_depth (6.0) must be < max_depth (5.5)"
    assert not set_param("min_depth", 100.0).successful  # outside the declared range
    assert not set_param("frame_prefix", "/person_").successful
    assert not set_param("model_path", "/elsewhere").successful  # read-only
    assert set_param("frame_prefix", "person_").successful
    image = harness.image(harness.sequence.depth[0])
    assert harness.send(image, harness.info()) is not None
    tf = harness.tf[Harness._key(image.header)]
    person = harness.bodies[Harness._key(image.header)].bodies[0].id
    assert tf.transforms[0].child_frame_id == f"person_{person}_root"
    assert set_param("frame_prefix", "body_").successful

    # Smoothing switched on at run time: the same frame twice, after a different one, gives
    # joints that move towards the frame's own (the filter lags behind a jump).
    first, second = harness.sequence.depth[0], harness.sequence.depth[3]
    raw = _positions(harness.send(harness.image(second), harness.info()))
    assert set_param("smoothing", True).successful
    harness.send(harness.image(first), harness.info())
    lagged = _positions(harness.send(harness.image(second), harness.info()))
    assert not np.allclose(lagged, raw, atol=1e-3)
    assert set_param("smoothing", False).successful


def test_frames_wait_for_camera_info(ros, tmp_path):
    """A node of its own (other topics and name than the module's running one)."""
    log = tmp_path / "stderr.log"
    process = start_node(log, "-r", "__node:=pose_node_fresh", topics="/fresh")
    harness = Harness(topics="/fresh")
    try:
        harness.wait_for_node(process)
        for _ in range(3):
            assert harness.send(harness.image(harness.sequence.depth[0]),
                                expect_output=False) is None
        harness.spin(0.5)
        # Warned once: the default warning_period (5 s) holds back the repeats.
        assert log.read_text().count("no valid CameraInfo on /fresh/camera_info yet") == 1
    finally:
        process.send_signal(2)
        assert process.wait(timeout=20) == 0
        harness.node.destroy_node()


def test_network_input_is_a_depth_image_with_its_camera_info_and_frame(ros, tmp_path):
    """~/network_input/image_rect (32FC1, NaN for no return), its CameraInfo beside it, and
    the turned camera's TF frame: the image's points, turned into the camera's frame, lie on
    the person /body_joints reports."""
    from rclpy.qos import qos_profile_sensor_data
    from scipy.spatial.transform import Rotation
    from sensor_msgs.msg import CameraInfo, Image

    from depth_pose_ros.camera import PinholeCamera

    process = start_node(tmp_path / "stderr.log", "-r", "__node:=pose_node_input",
                         "-p", "publish_network_input:=true", topics="/input")
    harness = Harness(topics="/input")
    images, infos = {}, {}
    harness.node.create_subscription(
        Image, "/pose_node_input/network_input/image_rect",
        lambda m: images.setdefault(Harness._key(m.header), m), qos_profile_sensor_data)
    harness.node.create_subscription(
        CameraInfo, "/pose_node_input/network_input/camera_info",
        lambda m: infos.setdefault(Harness._key(m.header), m), qos_profile_sensor_data)
    try:
        harness.wait_for_node(process)
        image = harness.image(harness.sequence.depth[0])
        joints = harness.send(image, harness.info())
        assert joints is not None and joints.person_detected
        key = Harness._key(image.header)
        harness.spin(5.0, until=lambda: key in images and key in infos)
        msg, info = images[key], infos[key]
        virtual = PinholeCamera.virtual()
        assert msg.encoding == "32FC1" and (msg.width, msg.height) == (virtual.width,
                                                                      virtual.height)
        assert msg.header.frame_id == info.header.frame_id == "body_network_input"
        np.testing.assert_allclose(info.k, [virtual.fx, 0, virtual.cx, 0, virtual.fy,
                                            virtual.cy, 0, 0, 1])
        depth = np.frombuffer(bytes(msg.data), "<f4").reshape(virtual.shape)
        seen = ~np.isnan(depth)
        assert 50 < seen.sum() < depth.size and (depth[seen] > 0).all()  # no zeros: NaN
        turned = [t for t in harness.tf[key].transforms
                  if t.child_frame_id == "body_network_input"]
        assert len(turned) == 1 and turned[0].header.frame_id == FRAME
        q = turned[0].transform.rotation
        rotation = Rotation.from_quat([q.x, q.y, q.z, q.w]).as_matrix()
        v, u = np.nonzero(seen)
        points = virtual.back_project(u, v, depth[seen]) @ rotation.T
        root = np.array([joints.positions[0].x, joints.positions[0].y, joints.positions[0].z])
        assert np.linalg.norm(np.median(points, axis=0) - root) < 0.3
    finally:
        process.send_signal(2)
        assert process.wait(timeout=20) == 0
        harness.node.destroy_node()


def test_markers_are_limited_to_markers_max_rate(ros, tmp_path):
    """Frames faster than markers_max_rate: /body_joints for every one, markers for the first
    (a new person) and then at most markers_max_rate a second."""
    process = start_node(tmp_path / "stderr.log", "-r", "__node:=pose_node_markers",
                         "-p", "markers_max_rate:=0.2", topics="/markers")
    harness = Harness(topics="/markers")
    try:
        harness.wait_for_node(process)
        started, keys = time.monotonic(), []
        for _ in range(8):
            image = harness.image(harness.sequence.depth[0])
            assert harness.send(image, harness.info()) is not None
            keys.append(Harness._key(image.header))
        harness.spin(0.5)
        seconds = time.monotonic() - started
        marked = [key for key in keys if key in harness.markers]
        assert keys[0] in harness.markers  # a person appearing is shown at once
        assert len(marked) <= 1 + int(seconds * 0.2) + 1, (marked, seconds)
        assert len(marked) < len(keys) / 2
    finally:
        process.send_signal(2)
        assert process.wait(timeout=20) == 0
        harness.node.destroy_node()


def test_a_precision_the_export_found_too_inaccurate_is_warned_of(tmp_path):
    # The default model's INT8 IR measured 16 cm median error at export (its model.json).
    log = tmp_path / "stderr.log"
    process = start_node(log, "-p", "precision:=int8", "-r", "__node:=pose_node_int8",
                         topics="/int8")
    try:
        deadline = time.monotonic() + 60
        while "model " not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)
        lines = [line for line in log.read_text().splitlines() if "precision int8" in line]
        assert len(lines) == 1 and "WARN" in lines[0], log.read_text()
        assert "int8 measured a median joint error of" in lines[0]
        assert "the model ships bf16 (leave precision empty for it)" in lines[0]
    finally:
        process.send_signal(2)
        assert process.wait(timeout=20) == 0


def test_a_missing_model_is_one_clear_error(tmp_path):
    log = tmp_path / "stderr.log"
    process = start_node(log, "-p", f"model_path:={tmp_path / 'no-model'}")
    assert process.wait(timeout=60) == 2
    text = log.read_text()
    assert "no-model" in text and "model.json is missing" in text
    assert "Traceback" not in text and len(text.strip().splitlines()) <= 2


def test_diagnostics_report_rates_latency_and_bad_input(running):
    harness, _, _ = running
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
    received = []
    subscription = harness.node.create_subscription(DiagnosticArray, "/diagnostics",
                                                    received.append, 10)

    def status_after(send_frames, until):
        """Statuses of pose_node until one satisfies until (frames sent meanwhile)."""
        deadline = time.monotonic() + 15.0
        while time.monotonic() < deadline:
            send_frames()
            for array in received:
                for status in array.status:
                    if status.name == "pose_node: pose estimation" and until(status):
                        return status
            received.clear()
        raise AssertionError("no such status on /diagnostics")

    def values(status):
        return {kv.key: kv.value for kv in status.values}

    try:
        good = harness.sequence.depth[0]
        ok = status_after(lambda: harness.send(harness.image(good), harness.info()),
                          lambda s: s.level == DiagnosticStatus.OK)
        figures = values(ok)
        assert float(figures["input rate (Hz)"]) > 0 and float(figures["output rate (Hz)"]) > 0
        assert float(figures["latency p50 (ms)"]) > 0 and figures["people seen"] == "1"
        assert figures["dropped frames"] == "0" and figures["precision"] in ("bf16", "f32")
        assert figures["arithmetic"] in ("bf16", "f32")
        assert ok.hardware_id == FRAME and figures["model"] == str(default_model_dir())

        rgb = harness.image(good)
        rgb.encoding = "rgb8"
        warn = status_after(lambda: harness.send(rgb, expect_output=False),
                            lambda s: s.level == DiagnosticStatus.WARN)
        assert "unsupported encoding 'rgb8'" in warn.message
        assert int(values(warn)["dropped frames"]) >= 1
        # Nothing arrives: a warning that says so.
        idle = status_after(lambda: harness.spin(0.2),
                            lambda s: s.level == DiagnosticStatus.WARN and "no depth" in s.message)
        assert values(idle)["input rate (Hz)"] == "0.00"
    finally:
        harness.node.destroy_subscription(subscription)


def test_a_bad_start_up_parameter_ends_the_process_with_one_line(tmp_path):
    yaml = tmp_path / "bad.yaml"
    yaml.write_text("pose_node:\n  ros__parameters:\n    smoothing_beta: -1.0\n")
    for arguments, words in (
            (["-p", "min_depth:=6.0"], "min_depth (6.0) must be < max_depth (5.5)"),
            (["-p", "frame_prefix:=/x y"], "frame_prefix must not start with '/'"),
            (["-p", "min_depth:=12.0"], "Parameter min_depth out of range"),
            (["--params-file", str(yaml)], "parameter smoothing_beta: Parameter smoothing_beta "
                                           "out of range Min: 0.0, Max: 100.0, value: -1.0")):
        argument = " ".join(arguments)
        log = tmp_path / "stderr.log"
        process = start_node(log, *arguments)
        assert process.wait(timeout=60) == 2, argument
        text = log.read_text()
        assert words in text and "Traceback" not in text, text
        assert len(text.strip().splitlines()) == 1, text


def test_managed_node_follows_its_lifecycle(ros, tmp_path):
    """managed:=true: nothing until configured (model loaded) and activated (subscribed);
    deactivate stops the output, cleanup returns it to unconfigured; via the lifecycle services."""
    from lifecycle_msgs.msg import State, Transition
    from lifecycle_msgs.srv import ChangeState, GetState

    log = tmp_path / "stderr.log"
    process = start_node(log, "-p", "managed:=true", "-r", "__node:=pose_node_managed",
                         topics="/managed")
    harness = Harness(topics="/managed")
    change = harness.node.create_client(ChangeState, "/pose_node_managed/change_state")
    get = harness.node.create_client(GetState, "/pose_node_managed/get_state")

    def call(client, request):
        # A service can be matched before its replies reach this client (DDS discovery): a
        # request whose reply does not come is sent again, as a caller would.
        for _ in range(3):
            future = client.call_async(request)
            harness.spin(10.0, until=future.done)
            if future.done():
                return future.result()
            client.remove_pending_request(future)
        raise AssertionError(f"no reply from {client.service_name} in 30 s")

    def state():
        return call(get, GetState.Request()).current_state.id

    def transition(transition_id):
        return call(change, ChangeState.Request(
            transition=Transition(id=transition_id))).success

    def subscribed():
        return harness.image_pub.get_subscription_count() > 0

    try:
        assert change.wait_for_service(timeout_sec=30) and get.wait_for_service(timeout_sec=10)
        assert state() == State.PRIMARY_STATE_UNCONFIGURED and not subscribed()
        assert transition(Transition.TRANSITION_CONFIGURE)
        assert state() == State.PRIMARY_STATE_INACTIVE and not subscribed()
        assert transition(Transition.TRANSITION_ACTIVATE)
        harness.spin(10.0, until=subscribed)
        msg = harness.send(harness.image(harness.sequence.depth[0]), harness.info())
        assert msg is not None and msg.person_detected
        assert transition(Transition.TRANSITION_DEACTIVATE)
        harness.spin(10.0, until=lambda: not subscribed())
        assert not subscribed()
        assert harness.send(harness.image(harness.sequence.depth[0]), harness.info(),
                            expect_output=False) is None
        assert transition(Transition.TRANSITION_CLEANUP)
        assert state() == State.PRIMARY_STATE_UNCONFIGURED
        assert process.poll() is None and "Traceback" not in log.read_text()
    finally:
        process.send_signal(2)
        assert process.wait(timeout=20) == 0
        harness.node.destroy_node()
