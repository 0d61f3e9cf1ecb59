"""synthetic_camera: a depth camera made of the project's renderer, for the demo, tests and benchmarks.

Publishes a person moving through poses in a room (synth.demo_sequence, looped), or with
people:=N several people walking to and fro, crossing and hiding one another (synth.people_scene,
a 5 s loop), as sensor_msgs/Image (16UC1 or 32FC1) with a matching CameraInfo, stamped with the
current time, and their truth on /bodies_gt (depth_pose_ros/Bodies: person p has ID p + 1; a
person less than 70 % visible is LOST there). Knows the truth of every frame it sends
(truth_for_stamp).
"""
from __future__ import annotations

import sys
import time

import numpy as np
import rclpy
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from depth_pose_ros.depth_image import ENCODINGS
from depth_pose_ros.msg import Bodies
from depth_pose_ros.ros import messages as ros_messages
from depth_pose_ros.synth.scenes import (
    DEMO_CAMERA,
    PeopleSequence,
    Sequence,
    demo_sequence,
    people_loop,
)


class SyntheticCamera(Node):
    """Publishes a pre-rendered looping sequence at a fixed rate."""

    def __init__(self, sequence: Sequence | PeopleSequence | None = None, **kwargs):
        super().__init__("synthetic_camera", **kwargs)
        self.declare_parameter("rate", 30.0, ParameterDescriptor(
            description="frames per second", read_only=True,
            floating_point_range=[FloatingPointRange(from_value=0.1, to_value=2000.0)]))
        self.declare_parameter("encoding", "16UC1", ParameterDescriptor(
            description=f"one of {list(ENCODINGS)}", read_only=True))
        self.declare_parameter("frame_id", "camera_depth_optical_frame", ParameterDescriptor(
            description="the optical frame of the published images", read_only=True))
        self.declare_parameter("seed", 0, ParameterDescriptor(
            description="which person and poses", read_only=True))
        self.declare_parameter("keyframes", 4, ParameterDescriptor(
            description="poses in the loop", read_only=True))
        self.declare_parameter("steps", 20, ParameterDescriptor(
            description="frames from one pose to the next", read_only=True))
        self.declare_parameter("people", 1, ParameterDescriptor(
            description="1: one person moving through poses; more: people walking across the "
            "view, crossing and hiding one another (rendered at start, a few seconds each)",
            read_only=True, integer_range=[IntegerRange(from_value=1, to_value=8, step=1)]))
        self._encoding = self.get_parameter("encoding").value
        if self._encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {list(ENCODINGS)}")
        seed, people = self.get_parameter("seed").value, self.get_parameter("people").value
        if sequence is None and people > 1:
            sequence = people_loop(seed, people)
        sequence = sequence or demo_sequence(seed, self.get_parameter("keyframes").value,
                                             self.get_parameter("steps").value)
        self.sequence = sequence if isinstance(sequence, PeopleSequence) else \
            PeopleSequence.of_one(sequence)
        self._frame_id = self.get_parameter("frame_id").value
        # Encode once: publishing is then the only per-frame work.
        header = Header(frame_id=self._frame_id)
        self._images = [ros_messages.depth_image(header, d, self._encoding)
                        for d in self.sequence.depth]
        self._info = ros_messages.camera_info(header, DEMO_CAMERA)
        self._image_pub = self.create_publisher(Image, "/camera/depth/image_raw",
                                                qos_profile_sensor_data)
        self._info_pub = self.create_publisher(CameraInfo, "/camera/depth/camera_info",
                                               qos_profile_sensor_data)
        self._truth_pub = self.create_publisher(Bodies, "/bodies_gt", 10)
        self.sent, self._started = 0, time.monotonic()
        self._index_of_stamp: dict[tuple[int, int], int] = {}
        self.create_timer(1.0 / self.get_parameter("rate").value, self.publish_next)

    def publish_next(self) -> None:
        index = self.sent % len(self._images)
        stamp = self.get_clock().now().to_msg()
        image, self._info.header.stamp = self._images[index], stamp
        image.header.stamp = stamp
        self._info_pub.publish(self._info)
        self._image_pub.publish(image)
        s = self.sequence
        self._truth_pub.publish(ros_messages.bodies_truth(image.header, s.joints3d[index],
                                                          s.pixels[index], s.visible[index],
                                                          DEMO_CAMERA))
        self._index_of_stamp[(stamp.sec, stamp.nanosec)] = index
        if len(self._index_of_stamp) > 4096:  # remember the last few seconds only
            del self._index_of_stamp[next(iter(self._index_of_stamp))]
        self.sent += 1

    def truth_for_stamp(self, stamp) -> tuple[np.ndarray, ...] | None:
        """(depth, joints3d (P, 7, 3), pixels (P, 7, 2), visible (P,)) of the frame sent with
        this stamp, or None."""
        index = self._index_of_stamp.get((stamp.sec, stamp.nanosec))
        if index is None:
            return None
        s = self.sequence
        return s.depth[index], s.joints3d[index], s.pixels[index], s.visible[index]

    def rate_report(self) -> str:
        elapsed = time.monotonic() - self._started
        return f"sent {self.sent} frames in {elapsed:.2f} s ({self.sent / elapsed:.1f} Hz)"


def main(args=None) -> int:
    camera = None
    try:
        with rclpy.init(args=args):
            camera = SyntheticCamera()
            rclpy.spin(camera)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    if camera is not None:
        print(f"synthetic_camera: {camera.rate_report()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
