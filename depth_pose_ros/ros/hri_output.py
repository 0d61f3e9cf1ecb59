"""ROS4HRI output (REP-155) for pose_node's hri.enabled: what a body tracker publishes there.

- /humans/bodies/tracked (hri_msgs/IdsList): the bodies seen in this frame.
- per body, /humans/bodies/<body ID>/skeleton2d (hri_msgs/Skeleton2D): our joints in their
  OpenPose COCO slots, coordinates normalised to [0, 1] by the image size; the neck is the
  shoulders' midpoint (OpenPose's neck); slots we do not estimate, and joints outside the image,
  have confidence 0;
- per body, /humans/bodies/<body ID>/roi (sensor_msgs/RegionOfInterest, as the REP's table
  says): the person's pixels in the source image, and /cropped (sensor_msgs/Image): that region
  of the depth image, in its own encoding;
- TF body_<body ID> at the mid-hip (the REP's body frame): x forward out of the chest, z up
  towards the shoulders, parent the camera's frame; the joints as its children, named as the
  REP's kinematic model names its links: r_shoulder_<body ID>, r_elbow_, r_wrist_, l_...
A body's topics are created when it is first seen and removed when the tracker drops it (after
lost_timeout); while it is lost it is left out of /tracked. Body IDs are "b" + the tracker's ID:
ROS 2 name tokens may not start with a digit.
"""
from __future__ import annotations

import numpy as np
from geometry_msgs.msg import TransformStamped
from hri_msgs.msg import IdsList, NormalizedPointOfInterest2D, Skeleton2D
from scipy.spatial.transform import Rotation
from sensor_msgs.msg import Image, RegionOfInterest
from std_msgs.msg import Header

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.depth_image import ENCODINGS
from depth_pose_ros.joints import SHOULDERS
from depth_pose_ros.runtime.tracking import LOST, Track, track_pose

# Our joints (joints.JOINT_NAMES order, root first) -> Skeleton2D slots and REP-155 link names.
SKELETON2D_SLOTS = {1: Skeleton2D.RIGHT_SHOULDER, 2: Skeleton2D.RIGHT_ELBOW,
                    3: Skeleton2D.RIGHT_WRIST, 4: Skeleton2D.LEFT_SHOULDER,
                    5: Skeleton2D.LEFT_ELBOW, 6: Skeleton2D.LEFT_WRIST}
LINK_NAMES = ("r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist")


def body_id(track_id: int) -> str:
    return f"b{track_id}"


def body_rotation(joints3d: np.ndarray) -> np.ndarray:
    """(7, 3) joints in the camera frame -> (3, 3) the body frame's axes as columns: z from the
    mid-hip to the shoulders' midpoint, y towards the left shoulder (made square to z), x = y x z
    (forward, out of the chest)."""
    up = joints3d[SHOULDERS].mean(axis=0) - joints3d[0]
    z = up / np.linalg.norm(up)
    left = joints3d[4] - joints3d[1]
    y = left - (left @ z) * z
    y /= np.linalg.norm(y)
    return np.stack([np.cross(y, z), y, z], axis=1)


def skeleton2d(header: Header, pose, camera: PinholeCamera) -> Skeleton2D:
    points = [NormalizedPointOfInterest2D() for _ in range(18)]
    x = (pose.pixels[:, 0] + 0.5) / camera.width  # pixel centres at integers (camera.py)
    y = (pose.pixels[:, 1] + 0.5) / camera.height
    seen = np.where(pose.in_view, pose.confidence, 0.0)
    for joint, slot in SKELETON2D_SLOTS.items():
        points[slot] = NormalizedPointOfInterest2D(
            x=float(np.clip(x[joint], 0, 1)), y=float(np.clip(y[joint], 0, 1)), c=float(seen[joint]))
    points[Skeleton2D.NECK] = NormalizedPointOfInterest2D(
        x=float(np.clip(x[SHOULDERS].mean(), 0, 1)), y=float(np.clip(y[SHOULDERS].mean(), 0, 1)),
        c=float(seen[SHOULDERS].min()))
    return Skeleton2D(header=header, skeleton=points)


def body_transforms(header: Header, track: Track) -> list[TransformStamped]:
    """body_<id> in the camera frame, and its joints' frames under it."""
    joints = track.joints3d
    rotation = body_rotation(joints)
    x, y, z, w = Rotation.from_matrix(rotation).as_quat()
    name = body_id(track.id)
    root = TransformStamped(header=header, child_frame_id=f"body_{name}")
    root.transform.translation.x, root.transform.translation.y, root.transform.translation.z = \
        joints[0].tolist()
    q = root.transform.rotation
    q.x, q.y, q.z, q.w = float(x), float(y), float(z), float(w)
    frames = [root]
    for link, offset in zip(LINK_NAMES, ((joints[1:] - joints[0]) @ rotation).tolist()):
        child = TransformStamped(header=Header(stamp=header.stamp, frame_id=f"body_{name}"),
                                 child_frame_id=f"{link}_{name}")
        t = child.transform.translation
        t.x, t.y, t.z = offset
        child.transform.rotation.w = 1.0
        frames.append(child)
    return frames


def crop(image: Image, box: tuple[int, int, int, int]) -> Image:
    """The region (x, y, width, height) of an image, in its encoding and byte order."""
    x, y, width, height = box
    pixel = ENCODINGS[image.encoding].itemsize  # the frame was decoded: a known encoding
    rows = np.frombuffer(bytes(image.data), np.uint8).reshape(image.height, image.step)
    part = rows[y:y + height, x * pixel:(x + width) * pixel]
    return Image(header=image.header, height=part.shape[0], width=width,
                 encoding=image.encoding, is_bigendian=image.is_bigendian,
                 step=width * pixel, data=part.tobytes())


class HriOutput:
    """The REP-155 publishers of one node: /tracked, and each body's while it is tracked."""

    def __init__(self, node):
        self._node = node
        self._tracked = node.create_publisher(IdsList, "/humans/bodies/tracked", 10)
        self._bodies: dict[int, tuple] = {}  # tracker ID -> (skeleton2d, roi, cropped)

    def publish(self, image: Image, tracks: list[Track], camera: PinholeCamera) -> list:
        """This depth image's messages; returns the TF frames to send with the node's own."""
        header = image.header
        seen = [t for t in tracks if t.state != LOST]
        self._tracked.publish(IdsList(header=header, ids=[body_id(t.id) for t in seen]))
        for gone in set(self._bodies) - {t.id for t in tracks}:  # dropped by the tracker
            for publisher in self._bodies.pop(gone):
                self._node.destroy_publisher(publisher)
        frames = []
        for track in seen:
            if track.id not in self._bodies:
                prefix = f"/humans/bodies/{body_id(track.id)}"
                self._bodies[track.id] = (
                    self._node.create_publisher(Skeleton2D, f"{prefix}/skeleton2d", 10),
                    self._node.create_publisher(RegionOfInterest, f"{prefix}/roi", 10),
                    self._node.create_publisher(Image, f"{prefix}/cropped", 10))
            skeleton, roi, cropped = self._bodies[track.id]
            pose = track_pose(track)
            skeleton.publish(skeleton2d(header, pose, camera))
            x, y, width, height = pose.box
            roi.publish(RegionOfInterest(x_offset=x, y_offset=y, width=width, height=height))
            cropped.publish(crop(image, pose.box))
            frames += body_transforms(header, track)
        return frames

    def close(self) -> None:
        for publishers in self._bodies.values():
            for publisher in publishers:
                self._node.destroy_publisher(publisher)
        self._bodies = {}
