"""bag-eval --write-bag: the node's outputs for every frame of a bag, written beside the bag's own
depth and CameraInfo. Serialised by rclpy, so that the messages are the node's own
(ros.messages.PoseMessages); the rest of bag-eval needs no ROS install."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from depth_pose_ros.joints import JOINT_NAMES

if TYPE_CHECKING:
    from depth_pose_ros.tools.bags import BagTopics, EvaluatedFrame


def write_estimates(path: Path, source: Path, frames: list[EvaluatedFrame],
                    topics: BagTopics) -> None:
    """The input's topics and the node's outputs, as pose_node would have published them.
    Serialised by rclpy (one implementation of the messages: ros_messages.PoseMessages)."""
    from builtin_interfaces.msg import Time
    from rclpy.serialization import serialize_message
    from rosbags.highlevel import AnyReader
    from rosbags.rosbag2 import StoragePlugin, Writer
    from std_msgs.msg import Header

    from depth_pose_ros.ros.messages import PoseMessages
    from depth_pose_ros.runtime.node_parameters import PARAMETERS
    from depth_pose_ros.runtime.tracking import LOST
    from depth_pose_ros.tools.bags import BODIES, JOINTS, BagError, typestore

    if path.exists():
        raise BagError(f"{path} exists; rosbag2 writes a new directory")
    store = typestore()
    messages = PoseMessages(JOINT_NAMES, PARAMETERS["frame_prefix"][0])
    at_time = {frame.bag_time: frame for frame in frames}
    marked: set[int] = set()
    with AnyReader([source], default_typestore=store) as reader, \
            Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        copied = {c.topic: writer.add_connection(c.topic, c.msgtype, typestore=store)
                  for c in reader.connections if c.topic in (topics.depth, topics.info)}
        outputs = {name: writer.add_connection(name, kind, typestore=store) for name, kind in (
            ("/body_joints", JOINTS), ("/bodies", BODIES), ("/tf", "tf2_msgs/msg/TFMessage"),
            ("/body_markers", "visualization_msgs/msg/MarkerArray"))}
        wanted = [c for c in reader.connections if c.topic in copied]
        for connection, timestamp, raw in reader.messages(connections=wanted):
            writer.write(copied[connection.topic], timestamp, raw)
            frame = at_time.get(timestamp) if connection.topic == topics.depth else None
            if frame is None:
                continue
            header = Header(stamp=Time(sec=frame.header.stamp.sec,
                                       nanosec=frame.header.stamp.nanosec),
                            frame_id=frame.header.frame_id)
            writer.write(outputs["/body_joints"], timestamp,
                         serialize_message(messages.body_joints(header, frame.published)))
            writer.write(outputs["/bodies"], timestamp,
                         serialize_message(messages.bodies(header, frame.tracks)))
            shown = {t.id for t in frame.tracks if t.state != LOST}
            if shown:
                writer.write(outputs["/tf"], timestamp,
                             serialize_message(messages.transforms(header, frame.tracks)))
            if shown or marked:
                writer.write(outputs["/body_markers"], timestamp, serialize_message(
                    messages.markers(header, frame.tracks, marked - shown)))
            marked = shown

