"""ROS messages to and from the core's numpy types: the node's thin edge (imports ROS messages).

TF is published the way tf2_ros's TransformBroadcaster does it (tf2_msgs/TFMessage on /tf,
reliable, volatile, depth 100), without tf2_ros, which is not installable from PyPI.
"""
from __future__ import annotations

import numpy as np
from geometry_msgs.msg import Point, TransformStamped
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import ColorRGBA, Header
from tf2_msgs.msg import TFMessage
from visualization_msgs.msg import Marker, MarkerArray

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.depth_image import encode, image_array
from depth_pose_ros.joints import BONES
from depth_pose_ros.msg import BodyJoints
from depth_pose_ros.pipeline import PersonPose, camera_from_intrinsics

# tf2_ros.qos.DynamicBroadcasterQoS
TF_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                    durability=DurabilityPolicy.VOLATILE)
MARKER_NAMESPACE = "body_joints"
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


def body_joints(header: Header, pose: PersonPose) -> BodyJoints:
    msg = BodyJoints(header=header, person_detected=pose.detected)
    if pose.detected:
        msg.names = list(pose.names)
        msg.positions = [Point(x=float(x), y=float(y), z=float(z)) for x, y, z in pose.joints3d]
        msg.pixel_u = pose.pixels[:, 0].astype(np.float32).tolist()
        msg.pixel_v = pose.pixels[:, 1].astype(np.float32).tolist()
        msg.in_view = [bool(v) for v in pose.in_view]
    return msg


def transforms(header: Header, pose: PersonPose, frame_prefix: str) -> TFMessage:
    """One transform per joint: parent = the image's frame, child = <prefix><joint name>.
    Joints carry no orientation: identity rotations."""
    msg = TFMessage()
    for name, (x, y, z) in zip(pose.names, pose.joints3d):
        t = TransformStamped(header=header, child_frame_id=frame_prefix + name)
        t.transform.translation.x, t.transform.translation.y = float(x), float(y)
        t.transform.translation.z = float(z)
        t.transform.rotation.w = 1.0
        msg.transforms.append(t)
    return msg


def _colour(name: str, alpha: float = 1.0) -> ColorRGBA:
    r, g, b = _JOINT_RGBA[name.split("_")[0]] if "_" in name else _JOINT_RGBA["root"]
    return ColorRGBA(r=r, g=g, b=b, a=alpha)


def markers(header: Header, pose: PersonPose) -> MarkerArray:
    """Joint spheres (ids 0-6) and the bones as one line list (id 7); DELETEALL without a person."""
    if not pose.detected:
        return MarkerArray(markers=[Marker(header=header, ns=MARKER_NAMESPACE,
                                           action=Marker.DELETEALL)])
    spheres = []
    for i, (name, (x, y, z)) in enumerate(zip(pose.names, pose.joints3d)):
        m = Marker(header=header, ns=MARKER_NAMESPACE, id=i, type=Marker.SPHERE,
                   action=Marker.ADD, color=_colour(name))
        m.pose.position = Point(x=float(x), y=float(y), z=float(z))
        m.pose.orientation.w = 1.0
        m.scale.x = m.scale.y = m.scale.z = 0.08
        spheres.append(m)
    bones = Marker(header=header, ns=MARKER_NAMESPACE, id=len(spheres), type=Marker.LINE_LIST,
                   action=Marker.ADD, color=ColorRGBA(r=0.9, g=0.9, b=0.2, a=1.0))
    bones.pose.orientation.w = 1.0
    bones.scale.x = 0.02
    for i, j in BONES:
        for k in (i, j):
            x, y, z = pose.joints3d[k]
            bones.points.append(Point(x=float(x), y=float(y), z=float(z)))
    return MarkerArray(markers=spheres + [bones])
