"""pose_node: a depth image and its CameraInfo in; /bodies (everyone, with IDs), /body_joints
(one person), /tf, /body_markers, /diagnostics, and with hri.enabled the ROS4HRI topics, out.
A lifecycle node: managed:=true leaves configure (load the model) and activate (subscribe) to a
bring-up manager; by default it does both itself at start."""
from __future__ import annotations

import math
import sys
import time
import traceback
from collections import deque

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    SetParametersResult,
)
from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException
from rclpy.executors import ExternalShutdownException
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.qos import QoSProfile, qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header
from tf2_msgs.msg import TFMessage
from visualization_msgs.msg import MarkerArray

from depth_pose_ros.joints import JOINT_NAMES
from depth_pose_ros.msg import Bodies, BodyJoints
from depth_pose_ros.ros import messages as ros_messages
from depth_pose_ros.runtime.estimator import ModelError, PoseEstimator
from depth_pose_ros.runtime.frame_stats import FrameStats
from depth_pose_ros.runtime.frame_tracker import FrameDropped, FrameTracker
from depth_pose_ros.runtime.node_parameters import PARAMETERS, ParameterError, check_parameters
from depth_pose_ros.runtime.pipeline import CameraError, PosePipeline, UnknownDistortion, nobody
from depth_pose_ros.runtime.tracking import LOST, PeopleTracker, track_pose


def _descriptor(description: str, extra: dict) -> ParameterDescriptor:
    """A table entry (node_parameters.PARAMETERS) -> its ParameterDescriptor."""
    extra = dict(extra)
    low_high = extra.pop("range", None)
    if isinstance(low_high, tuple) and isinstance(low_high[0], int):
        extra["integer_range"] = [IntegerRange(from_value=low_high[0], to_value=low_high[1],
                                               step=1)]
    elif low_high is not None:
        extra["floating_point_range"] = [FloatingPointRange(from_value=low_high[0],
                                                            to_value=low_high[1])]
    return ParameterDescriptor(description=description, **extra)


DIAGNOSTICS_QOS = QoSProfile(depth=10)  # as diagnostic_updater: reliable, volatile


def _refusal(name: str, error: Exception) -> str:
    """rclpy's exception for a declared parameter's bad start-up value -> the reason alone,
    the same words `ros2 param set` shows for the same value."""
    text = str(error).removesuffix(f": {name}")
    return text.partition("Reason: ")[2] or text


class PoseNode(LifecycleNode):
    """Estimates every person's upper-body joints in every depth frame that has a CameraInfo,
    and gives each an ID that lasts.

    Lifecycle: configure loads the model, activate subscribes and starts the timers, deactivate
    unsubscribes (so nothing more is published), cleanup frees the model.
    """

    def __init__(self, **kwargs):
        super().__init__("pose_node", **kwargs)
        for name, (default, description, extra) in PARAMETERS.items():
            try:
                self.declare_parameter(name, default, _descriptor(description, extra))
            except (InvalidParameterTypeException, InvalidParameterValueException) as error:
                raise ParameterError(f"parameter {name}: {_refusal(name, error)}") from None
        problem = check_parameters(self._values())
        if problem:
            raise ParameterError(problem)
        self.add_on_set_parameters_callback(self.on_set_parameters)
        self._pipeline: PosePipeline | None = None
        self._step: FrameTracker | None = None  # the per-frame step, once configured
        self._tracker = PeopleTracker()  # IDs are never reused in the node's life
        self._marked: set[int] = set()  # the IDs whose markers are shown
        self._unknown_models: set[str] = set()  # distortion models warned about
        self._hri = None
        self._messages = ros_messages.PoseMessages(JOINT_NAMES, self._param("frame_prefix"))
        self._hardware_id = ""
        # seconds from a depth image's receipt to its /body_joints (the node benchmark reads it)
        self.latencies: deque[float] = deque(maxlen=100_000)
        self._frames, self._markers_shown, self._markers_time = 0, False, -math.inf
        self._last_warning: dict[str, float] = {}
        self._stats = FrameStats(start=time.monotonic())
        self._inputs: list = []  # the subscriptions, while active
        self._timers_active: list = []
        self._configure_error: Exception | None = None
        self._joints_pub = self.create_publisher(BodyJoints, "body_joints", 10)
        self._bodies_pub = self.create_publisher(Bodies, "bodies", 10)
        self._tf_pub = self.create_publisher(TFMessage, "/tf", ros_messages.TF_QOS)
        self._markers_pub = self.create_publisher(MarkerArray, "body_markers", 10)
        self._input_pub = self.create_publisher(Image, "~/network_input/image_rect",
                                                qos_profile_sensor_data)
        self._input_info_pub = self.create_publisher(CameraInfo, "~/network_input/camera_info",
                                                     qos_profile_sensor_data)
        self._diagnostics_pub = self.create_publisher(DiagnosticArray, "/diagnostics",
                                                      DIAGNOSTICS_QOS)
        if not self._param("managed"):
            if self.trigger_configure() != TransitionCallbackReturn.SUCCESS:
                raise self._configure_error or RuntimeError("pose_node failed to configure")
            self.trigger_activate()

    def _param(self, name):
        return self.get_parameter(name).value

    def _values(self) -> dict:
        return {name: self._param(name) for name in PARAMETERS}

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            estimator = PoseEstimator.load(
                self._param("model_path") or None, precision=self._param("precision") or None,
                threads=self._param("inference_threads") or None,
                mirror_average=self._param("mirror_average"))
        except ModelError as error:  # the user's model: say so, stay unconfigured
            self._configure_error = error
            self.get_logger().error(str(error))
            return TransitionCallbackReturn.FAILURE
        except Exception as error:  # a bug: rclpy would swallow it silently
            self._configure_error = error
            self.get_logger().error(f"configure failed:\n{traceback.format_exc()}")
            return TransitionCallbackReturn.ERROR
        if self._param("hri.enabled"):
            try:
                from depth_pose_ros.ros.hri_output import HriOutput
            except ImportError:
                self._configure_error = ParameterError(
                    "hri.enabled needs the ROS4HRI messages: install them (sudo apt install "
                    "ros-$ROS_DISTRO-hri-msgs) or leave hri.enabled false")
                self.get_logger().error(str(self._configure_error))
                return TransitionCallbackReturn.FAILURE
            self._hri = HriOutput(self)
        self._pipeline = PosePipeline(estimator)
        self._step = FrameTracker(self._pipeline, self._tracker)
        self._apply_parameters()
        self.get_logger().info(
            f"model {estimator.model_dir} ({estimator.describe_precision()}"
            f"{', mirror-averaged' if estimator.mirror_average else ''})")
        if estimator.precision_cost:
            self.get_logger().warning(
                f"precision {estimator.precision}: {estimator.precision_cost}; the model ships "
                f"{estimator.info['inference_precision']} (leave precision empty for it)")
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stats = FrameStats(start=time.monotonic())
        self._inputs = [
            self.create_subscription(CameraInfo, "camera_info", self.on_camera_info,
                                     qos_profile_sensor_data),
            self.create_subscription(Image, "depth", self.on_depth, qos_profile_sensor_data)]
        self._timers_active = [
            self.create_timer(period, callback)
            for period, callback in ((self._param("stats_period"), self.on_stats),
                                     (self._param("diagnostics_period"), self.on_diagnostics))
            if period > 0]
        self.get_logger().info(f"waiting for images on {self.resolve_topic_name('depth')} and "
                               f"{self.resolve_topic_name('camera_info')}")
        return TransitionCallbackReturn.SUCCESS

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        for subscription in self._inputs:
            self.destroy_subscription(subscription)
        for timer in self._timers_active:
            self.destroy_timer(timer)
        self._inputs, self._timers_active = [], []
        self._tracker.clear()
        return TransitionCallbackReturn.SUCCESS

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._pipeline = self._step = None  # the model's memory goes with it
        if self._hri is not None:
            self._hri.close()
            self._hri = None
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self._inputs:
            self.on_deactivate(state)
        return self.on_cleanup(state)

    def _apply_parameters(self, overrides: dict | None = None) -> None:
        p = self._values() | (overrides or {})
        self._messages.frame_prefix = p["frame_prefix"]
        self._step.configure(p)
        self._publish = {k: p[f"publish_{k}"] for k in ("tf", "markers", "network_input")}

    def on_set_parameters(self, params) -> SetParametersResult:
        changed = {p.name: p.value for p in params}
        problem = check_parameters(self._values() | changed)
        if problem:
            return SetParametersResult(successful=False, reason=problem)
        if self._pipeline is not None:  # unconfigured: configure applies them
            self._apply_parameters(changed)
        return SetParametersResult(successful=True)

    def _warn(self, kind: str, message: str, dropped: bool = True) -> None:
        """A warning at most every warning_period seconds per kind: one bad kind of input
        neither floods the log nor hides another. /diagnostics counts every one."""
        self._stats.problem(kind, message, dropped)
        now = time.monotonic()
        if now - self._last_warning.get(kind, -math.inf) >= self._param("warning_period"):
            self._last_warning[kind] = now
            self.get_logger().warning(message)

    def on_camera_info(self, msg: CameraInfo) -> None:
        try:
            self._step.camera_info(msg.width, msg.height, msg.k, msg.distortion_model, msg.d)
        except UnknownDistortion as error:  # one clear warning per model, then a pinhole
            if msg.distortion_model not in self._unknown_models:
                self._unknown_models.add(msg.distortion_model)
                self.get_logger().warning(f"CameraInfo: {error}")
        except CameraError as error:
            self._warn("camera_info", f"ignoring CameraInfo: {error}", dropped=False)

    def on_depth(self, msg: Image) -> None:
        start = time.perf_counter()
        self._stats.received()
        self._hardware_id = msg.header.frame_id
        stamp = msg.header.stamp.sec + 1e-9 * msg.header.stamp.nanosec
        try:
            tracks, chosen = self._step.depth_image(msg.encoding, msg.height, msg.width, msg.step,
                                                    bool(msg.is_bigendian), msg.data, stamp)
        except FrameDropped as error:
            if error.kind == "no_camera_info":
                self._warn(error.kind, "no valid CameraInfo on "
                           f"{self.resolve_topic_name('camera_info')} yet; dropping depth images")
            else:
                self._warn(error.kind, f"dropping depth image: {error}")
            return
        pose = track_pose(chosen) if chosen is not None else nobody()
        self._joints_pub.publish(self._messages.body_joints(msg.header, pose))
        self._bodies_pub.publish(self._messages.bodies(msg.header, tracks))
        self.latencies.append(time.perf_counter() - start)
        seen = [t for t in tracks if t.state != LOST]
        self._stats.published(self.latencies[-1], len(seen))
        self._frames += 1
        frames = self._hri.publish(msg, tracks, self._step.camera) if self._hri else []
        if self._publish["tf"] and seen:
            frames = self._messages.transforms(msg.header, tracks).transforms + frames
        if self._publish["network_input"] and pose.detected:
            image, info, turned = ros_messages.network_input(
                msg.header, pose, self._pipeline.estimator.camera,
                self._messages.frame_prefix + ros_messages.NETWORK_INPUT_FRAME)
            self._input_pub.publish(image)
            self._input_info_pub.publish(info)
            frames.append(turned)
        if frames:
            self._tf_pub.publish(TFMessage(transforms=frames))
        shown = {t.id for t in seen}
        if self._publish["markers"] and (shown or self._marked):
            rate = self._param("markers_max_rate")
            if shown != self._marked or rate == 0 or start - self._markers_time >= 1.0 / rate:
                self._markers_pub.publish(self._messages.markers(msg.header, tracks,
                                                                 self._marked - shown))
                self._marked, self._markers_time = shown, start

    def latency_stats(self) -> dict:
        """Processing time from image receipt to /body_joints publish, over the frames so far."""
        if not self.latencies:
            return {"frames": 0}
        ms = np.asarray(self.latencies) * 1e3
        return {"frames": len(ms), "p50_ms": float(np.percentile(ms, 50)),
                "p99_ms": float(np.percentile(ms, 99)), "max_ms": float(ms.max())}

    def on_stats(self) -> None:
        period = self._param("stats_period")
        stats = self.latency_stats()
        if stats["frames"]:
            self.get_logger().info(
                f"{self._frames / period:.1f} frames/s; receipt to /body_joints: p50 "
                f"{stats['p50_ms']:.2f} ms, p99 {stats['p99_ms']:.2f} ms")
        self._frames = 0

    def on_diagnostics(self) -> None:
        estimator = self._pipeline.estimator
        self._diagnostics_pub.publish(ros_messages.diagnostics(
            Header(stamp=self.get_clock().now().to_msg()),
            f"{self.get_name()}: pose estimation", self._hardware_id,
            self._stats.summary(time.monotonic()),
            {"model": str(estimator.model_dir), "precision": estimator.precision,
             "arithmetic": estimator.arithmetic,
             "mirror average": str(estimator.mirror_average).lower()}))


def main(args=None) -> int:
    # As ros2/examples: a Ctrl-C may land anywhere, shutdown included; catch it around it all.
    try:
        with rclpy.init(args=args):
            try:
                node = PoseNode()
            except (ModelError, ParameterError) as error:
                print(f"pose_node: {error}", file=sys.stderr)
                return 2
            rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
