"""synthetic_camera: a depth camera made of the project's renderer, for the demo, tests and benchmarks.

Publishes a person moving through poses in a room (synth.demo_sequence, looped) as
sensor_msgs/Image (16UC1 or 32FC1) with a matching CameraInfo, stamped with the current time.
Knows the ground truth of every frame it sends (truth_for_stamp).
"""
from __future__ import annotations

import sys
import time

import numpy as np
import rclpy
from rcl_interfaces.msg import FloatingPointRange, ParameterDescriptor
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from depth_pose_ros import ros_messages
from depth_pose_ros.depth_image import ENCODINGS
from depth_pose_ros.synth import DEMO_CAMERA, Sequence, demo_sequence


class SyntheticCamera(Node):
    """Publishes a pre-rendered looping sequence at a fixed rate."""

    def __init__(self, sequence: Sequence | None = None, **kwargs):
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
        self._encoding = self.get_parameter("encoding").value
        if self._encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {list(ENCODINGS)}")
        self.sequence = sequence or demo_sequence(self.get_parameter("seed").value,
                                                  self.get_parameter("keyframes").value,
                                                  self.get_parameter("steps").value)
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
        self._index_of_stamp[(stamp.sec, stamp.nanosec)] = index
        if len(self._index_of_stamp) > 4096:  # remember the last few seconds only
            del self._index_of_stamp[next(iter(self._index_of_stamp))]
        self.sent += 1

    def truth_for_stamp(self, stamp) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(depth, joints3d, pixels) of the frame sent with this stamp, or None."""
        index = self._index_of_stamp.get((stamp.sec, stamp.nanosec))
        if index is None:
            return None
        s = self.sequence
        return s.depth[index], s.joints3d[index], s.pixels[index]


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
