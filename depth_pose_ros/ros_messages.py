"""ROS messages to and from the core's numpy types: the node's thin edge (imports ROS messages).

TF is published the way tf2_ros's TransformBroadcaster does it (tf2_msgs/TFMessage on /tf,
reliable, volatile, depth 100), without tf2_ros, which is not installable from PyPI.
"""
from __future__ import annotations

import math

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Point, TransformStamped
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import ColorRGBA, Header
from tf2_msgs.msg import TFMessage
from visualization_msgs.msg import Marker, MarkerArray

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.depth_image import encode, image_array
from depth_pose_ros.frame_stats import WindowSummary
from depth_pose_ros.joints import BONES
from depth_pose_ros.msg import BodyJoints
from depth_pose_ros.pipeline import PersonPose, camera_from_intrinsics

# tf2_ros.qos.DynamicBroadcasterQoS
TF_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                    durability=DurabilityPolicy.VOLATILE)
MARKER_NAMESPACE = "body_joints"
MIN_MARKER_ALPHA = 0.15  # a joint sphere at confidence 0 (still visible, clearly faded)
_JOINT_RGBA = {"root": (1.0, 1.0, 1.0), "right": (0.9, 0.2, 0.2), "left": (0.2, 0.6, 1.0)}


def image_to_raw(msg: Image) -> np.ndarray:
    """sensor_msgs/Image -> (H, W) array view in the encoding's dtype (DepthImageError if bad)."""
    return image_array(msg.encoding, msg.height, msg.width, msg.step, bool(msg.is_bigendian),
                       msg.data)


def camera_from_info(msg: CameraInfo) -> PinholeCamera:
    return camera_from_intrinsics(msg.width, msg.height, np.asarray(msg.k))


def depth_image(header: Header, depth_m: np.ndarray, encoding: str = "16UC1") -> Image:
    step, data = encode(depth_m, encoding)
    return Image(header=header, height=depth_m.shape[0], width=depth_m.shape[1],
                 encoding=encoding, is_bigendian=0, step=step, data=data)


def camera_info(header: Header, camera: PinholeCamera) -> CameraInfo:
    return CameraInfo(
        header=header, width=camera.width, height=camera.height, distortion_model="plumb_bob",
        d=[0.0] * 5, k=[camera.fx, 0.0, camera.cx, 0.0, camera.fy, camera.cy, 0.0, 0.0, 1.0],
        r=[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
        p=[camera.fx, 0.0, camera.cx, 0.0, 0.0, camera.fy, camera.cy, 0.0, 0.0, 0.0, 1.0, 0.0])


class PoseMessages:
    """The node's outputs for one frame. Each message is built once and refilled per frame:
    constructing ROS messages in Python costs more than the network's inference."""

    def __init__(self, names: tuple[str, ...], frame_prefix: str):
        self._names = list(names)
        self._points = [Point() for _ in names]
        self._joints = BodyJoints(person_detected=True, names=self._names, positions=self._points)
        self._nobody = BodyJoints(person_detected=False)
        self._tf = TFMessage(transforms=[TransformStamped() for _ in names])
        for t in self._tf.transforms:
            t.transform.rotation.w = 1.0  # joints carry no orientation
        self.frame_prefix = frame_prefix
        spheres = []
        for i, name in enumerate(names):
            m = Marker(ns=MARKER_NAMESPACE, id=i, type=Marker.SPHERE, action=Marker.ADD,
                       color=_colour(name))
            m.pose.orientation.w = 1.0
            m.scale.x = m.scale.y = m.scale.z = 0.08
            spheres.append(m)
        bones = Marker(ns=MARKER_NAMESPACE, id=len(names), type=Marker.LINE_LIST,
                       action=Marker.ADD, color=ColorRGBA(r=0.9, g=0.9, b=0.2, a=1.0),
                       points=[Point() for _ in range(2 * len(BONES))])
        bones.pose.orientation.w = 1.0
        bones.scale.x = 0.02
        self._markers = MarkerArray(markers=spheres + [bones])
        self._delete = MarkerArray(markers=[Marker(ns=MARKER_NAMESPACE, action=Marker.DELETEALL)])

    @property
    def frame_prefix(self) -> str:
        return self._prefix

    @frame_prefix.setter
    def frame_prefix(self, prefix: str) -> None:
        self._prefix = prefix
        for t, name in zip(self._tf.transforms, self._names):
            t.child_frame_id = prefix + name

    def body_joints(self, header: Header, pose: PersonPose) -> BodyJoints:
        if not pose.detected:
            self._nobody.header = header
            return self._nobody
        msg = self._joints
        msg.header = header
        for point, (x, y, z) in zip(self._points, pose.joints3d.tolist()):
            point.x, point.y, point.z = x, y, z
        msg.pixel_u = pose.pixels[:, 0].astype(np.float32).tolist()
        msg.pixel_v = pose.pixels[:, 1].astype(np.float32).tolist()
        msg.in_view = pose.in_view.tolist()
        msg.confidence = pose.confidence.astype(np.float32).tolist()
        return msg

    def transforms(self, header: Header, pose: PersonPose) -> TFMessage:
        """One transform per joint: parent = the image's frame, child = <prefix><joint name>."""
        for t, (x, y, z) in zip(self._tf.transforms, pose.joints3d.tolist()):
            t.header = header
            translation = t.transform.translation
            translation.x, translation.y, translation.z = x, y, z
        return self._tf

    def markers(self, header: Header, pose: PersonPose) -> MarkerArray:
        """Joint spheres (ids 0-6), the bones as one line list (id 7); DELETEALL for no person.
        A sphere fades with its joint's confidence (alpha MIN_MARKER_ALPHA at 0, 1 at 1)."""
        if not pose.detected:
            self._delete.markers[0].header = header
            return self._delete
        joints = pose.joints3d.tolist()
        *spheres, bones = self._markers.markers
        for marker, (x, y, z), confidence in zip(spheres, joints, pose.confidence.tolist()):
            marker.header = header
            marker.color.a = MIN_MARKER_ALPHA + (1.0 - MIN_MARKER_ALPHA) * min(max(confidence, 0.0), 1.0)
            position = marker.pose.position
            position.x, position.y, position.z = x, y, z
        bones.header = header
        for point, k in zip(bones.points, [k for bone in BONES for k in bone]):
            point.x, point.y, point.z = joints[k]
        return self._markers


def _colour(name: str, alpha: float = 1.0) -> ColorRGBA:
    r, g, b = _JOINT_RGBA[name.split("_")[0]] if "_" in name else _JOINT_RGBA["root"]
    return ColorRGBA(r=r, g=g, b=b, a=alpha)


def diagnostics(header: Header, name: str, hardware_id: str, summary: WindowSummary,
                details: dict[str, str]) -> DiagnosticArray:
    """One DiagnosticStatus for a window (as ROS drivers publish on /diagnostics): WARN while
    frames are dropped or none arrive, OK otherwise; the figures and details as key-values."""
    if summary.problems:
        level, message = DiagnosticStatus.WARN, "; ".join(summary.problems.values())
    elif summary.input_hz == 0:
        level, message = DiagnosticStatus.WARN, f"no depth images in the last {summary.seconds:.1f} s"
    else:
        level, message = DiagnosticStatus.OK, f"{summary.output_hz:.1f} poses/s"
    figures = {"input rate (Hz)": f"{summary.input_hz:.2f}",
               "output rate (Hz)": f"{summary.output_hz:.2f}",
               "dropped frames": str(summary.dropped),
               "latency p50 (ms)": _ms(summary.latency_p50_ms),
               "latency p99 (ms)": _ms(summary.latency_p99_ms),
               "people seen": str(summary.people_seen)}
    status = DiagnosticStatus(level=level, name=name, message=message, hardware_id=hardware_id,
                              values=[KeyValue(key=k, value=v)
                                      for k, v in (figures | details).items()])
    return DiagnosticArray(header=header, status=[status])


def _ms(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.2f}"
