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
from scipy.spatial.transform import Rotation
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import ColorRGBA, Header
from tf2_msgs.msg import TFMessage
from visualization_msgs.msg import Marker, MarkerArray

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.depth_image import encode, image_array
from depth_pose_ros.joints import BONES
from depth_pose_ros.msg import Bodies, Body, BodyJoints
from depth_pose_ros.runtime.frame_stats import WindowSummary
from depth_pose_ros.runtime.pipeline import PersonPose
from depth_pose_ros.runtime.tracking import LOST, NEW, TRACKED, Track, track_pose
from depth_pose_ros.synth.scenes import truth_bodies

# tf2_ros.qos.DynamicBroadcasterQoS
TF_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                    durability=DurabilityPolicy.VOLATILE)
MARKER_NAMESPACE = "body_joints"
MIN_MARKER_ALPHA = 0.15  # a joint sphere at confidence 0 (still visible, clearly faded)


def image_to_raw(msg: Image) -> np.ndarray:
    """sensor_msgs/Image -> (H, W) array view in the encoding's dtype (DepthImageError if bad)."""
    return image_array(msg.encoding, msg.height, msg.width, msg.step, bool(msg.is_bigendian),
                       msg.data)


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


def bodies_truth(header: Header, joints3d: np.ndarray, pixels: np.ndarray, visible: np.ndarray,
                 camera: PinholeCamera) -> Bodies:
    """The truth of a synthetic frame as /bodies_gt (synth.truth_bodies)."""
    return Bodies(header=header, bodies=[Body(
        id=t["id"], state=Body.TRACKED if t["tracked"] else Body.LOST, names=t["names"],
        positions=[Point(x=x, y=y, z=z) for x, y, z in t["positions"].tolist()],
        pixel_u=t["pixel_u"].tolist(), pixel_v=t["pixel_v"].tolist(),
        in_view=t["in_view"].tolist(), confidence=t["confidence"].tolist())
        for t in truth_bodies(joints3d, pixels, visible, camera)])


NETWORK_INPUT_FRAME = "network_input"  # <frame_prefix>network_input: the turned virtual camera


def network_input(header: Header, pose: PersonPose, camera: PinholeCamera, frame: str):
    """What the network saw for one person, for other tools (RViz, depth_image_proc): a 32FC1
    image in metres with NaN where there is no return (REP-118), its CameraInfo (the virtual
    camera's, undistorted) and the TF frame it lies in: the source's optical frame turned to
    look at the person (PersonPose.view_rotation), both stamped with the input's stamp.
    Returns (Image, CameraInfo, TransformStamped)."""
    own = Header(stamp=header.stamp, frame_id=frame)
    depth = np.where(pose.network_input > 0, pose.network_input, np.float32(np.nan))
    turned = TransformStamped(header=header, child_frame_id=frame)
    q = turned.transform.rotation
    q.x, q.y, q.z, q.w = (float(v) for v in Rotation.from_matrix(pose.view_rotation).as_quat())
    return depth_image(own, depth.astype(np.float32), "32FC1"), camera_info(own, camera), turned


class PoseMessages:
    """The node's outputs for one frame. /body_joints' message is built once and refilled per
    frame (constructing ROS messages in Python costs more than the network's inference); the
    per-person messages are built for the people there are."""

    def __init__(self, names: tuple[str, ...], frame_prefix: str):
        self._names = list(names)
        self._points = [Point() for _ in names]
        self._joints = BodyJoints(person_detected=True, names=self._names, positions=self._points)
        self._nobody = BodyJoints(person_detected=False)
        self.frame_prefix = frame_prefix

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

    def bodies(self, header: Header, tracks: list[Track]) -> Bodies:
        """Every track: new and tracked ones with this frame's estimate, lost ones their last."""
        bodies = []
        for track in tracks:
            pose = track_pose(track)
            bodies.append(Body(
                id=track.id, state=_BODY_STATE[track.state], names=self._names,
                positions=[Point(x=x, y=y, z=z) for x, y, z in pose.joints3d.tolist()],
                pixel_u=pose.pixels[:, 0].astype(np.float32).tolist(),
                pixel_v=pose.pixels[:, 1].astype(np.float32).tolist(),
                in_view=pose.in_view.tolist(),
                confidence=pose.confidence.astype(np.float32).tolist()))
        return Bodies(header=header, bodies=bodies)

    def joint_frame(self, track_id: int, name: str) -> str:
        return f"{self.frame_prefix}{track_id}_{name}"

    def transforms(self, header: Header, tracks: list[Track]) -> TFMessage:
        """One transform per joint of each person seen in this frame: parent = the image's
        frame, child = <prefix><id>_<joint name>; joints carry no orientation."""
        transforms = []
        for track in tracks:
            if track.state == LOST:
                continue
            for name, (x, y, z) in zip(self._names, track.joints3d.tolist()):
                t = TransformStamped(header=header, child_frame_id=self.joint_frame(track.id, name))
                t.transform.translation.x, t.transform.translation.y = x, y
                t.transform.translation.z = z
                t.transform.rotation.w = 1.0
                transforms.append(t)
        return TFMessage(transforms=transforms)

    def markers(self, header: Header, tracks: list[Track], gone: set[int]) -> MarkerArray:
        """For each person seen in this frame, in its own namespace body_<id> and colour: joint
        spheres (ids 0-6; a sphere fades with its joint's confidence, alpha MIN_MARKER_ALPHA at
        0, 1 at 1), the bones as one line list (7) and the ID as text over the head (8). The
        markers of the people in `gone` (shown before, not now) are deleted."""
        markers = []
        for track in tracks:
            if track.state == LOST:
                continue
            namespace, colour = f"{MARKER_NAMESPACE}_{track.id}", _id_colour(track.id)
            joints = track.joints3d.tolist()
            confidence = track.detection.confidence.tolist()
            for i, ((x, y, z), c) in enumerate(zip(joints, confidence)):
                m = _marker(header, namespace, i, Marker.SPHERE, colour, 0.08)
                m.color.a = MIN_MARKER_ALPHA + (1.0 - MIN_MARKER_ALPHA) * min(max(c, 0.0), 1.0)
                m.pose.position.x, m.pose.position.y, m.pose.position.z = x, y, z
                markers.append(m)
            bones = _marker(header, namespace, len(joints), Marker.LINE_LIST, colour, 0.02)
            bones.points = [Point(x=joints[k][0], y=joints[k][1], z=joints[k][2])
                            for bone in BONES for k in bone]
            markers.append(bones)
            text = _marker(header, namespace, len(joints) + 1, Marker.TEXT_VIEW_FACING, colour,
                           0.15)
            top = np.mean([joints[1], joints[4]], axis=0)  # the shoulders' midpoint
            text.pose.position.x, text.pose.position.y = float(top[0]), float(top[1]) - 0.35
            text.pose.position.z = float(top[2])  # y points down in the optical frame
            text.text = str(track.id)
            markers.append(text)
        for track_id in sorted(gone):
            for i in range(len(self._names) + 2):
                markers.append(Marker(header=header, ns=f"{MARKER_NAMESPACE}_{track_id}", id=i,
                                      action=Marker.DELETE))
        return MarkerArray(markers=markers)


_BODY_STATE = {NEW: Body.NEW, TRACKED: Body.TRACKED, LOST: Body.LOST}
# One colour per ID, cycling: distinguishable on RViz's dark background.
_ID_COLOURS = ((0.9, 0.3, 0.3), (0.3, 0.7, 1.0), (0.4, 0.9, 0.4), (1.0, 0.8, 0.2),
               (0.8, 0.4, 1.0), (0.3, 0.9, 0.9), (1.0, 0.5, 0.1), (0.9, 0.9, 0.9))


def _id_colour(track_id: int) -> ColorRGBA:
    r, g, b = _ID_COLOURS[(track_id - 1) % len(_ID_COLOURS)]
    return ColorRGBA(r=r, g=g, b=b, a=1.0)


def _marker(header: Header, namespace: str, index: int, kind: int, colour: ColorRGBA,
            size: float) -> Marker:
    m = Marker(header=header, ns=namespace, id=index, type=kind, action=Marker.ADD,
               color=ColorRGBA(r=colour.r, g=colour.g, b=colour.b, a=colour.a))
    m.pose.orientation.w = 1.0
    m.scale.x = m.scale.y = m.scale.z = size
    return m


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
