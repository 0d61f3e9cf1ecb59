"""The generated msg/ interfaces, over the real middleware between two processes (loopback)."""
import subprocess
import sys
import textwrap
import time

import pytest

NAMES = ["root", "right_shoulder", "right_elbow", "right_hand", "left_shoulder", "left_elbow",
         "left_hand"]

PUBLISHER = textwrap.dedent("""
    import sys, time
    import rclpy
    from geometry_msgs.msg import Point
    from depth_pose_ros.msg import BodyJoints

    rclpy.init()
    node = rclpy.create_node("body_joints_test_publisher")
    pub = node.create_publisher(BodyJoints, sys.argv[1], 10)
    deadline = time.monotonic() + 20
    while pub.get_subscription_count() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)  # wait for discovery before publishing
    names = sys.argv[2].split(",")
    for i in range(200):
        msg = BodyJoints()
        msg.header.frame_id = "camera_depth_optical_frame"
        msg.header.stamp.sec, msg.header.stamp.nanosec = 1234, 5678
        msg.person_detected = True
        msg.names = names
        msg.positions = [Point(x=0.1 * k, y=-0.2 * k, z=2.5 + k) for k in range(7)]
        msg.pixel_u = [10.0 * k for k in range(7)]
        msg.pixel_v = [5.0 + k for k in range(7)]
        msg.in_view = [k % 2 == 0 for k in range(7)]
        pub.publish(msg)
        time.sleep(0.05)
    node.destroy_node()
    rclpy.shutdown()
""")


def test_body_joints_message_fields():
    from depth_pose_ros.msg import BodyJoints
    fields = BodyJoints.get_fields_and_field_types()
    assert fields == {
        "header": "std_msgs/Header", "person_detected": "boolean",
        "names": "sequence<string>", "positions": "sequence<geometry_msgs/Point>",
        "pixel_u": "sequence<float>", "pixel_v": "sequence<float>", "in_view": "sequence<boolean>",
        "confidence": "sequence<float>",
    }


def test_body_joints_survive_publish_subscribe_between_processes():
    import rclpy
    from depth_pose_ros.msg import BodyJoints

    topic = f"/body_joints_test_{int(time.time() * 1000) % 100000}"
    rclpy.init()
    node = rclpy.create_node("body_joints_test_subscriber")
    received = []
    node.create_subscription(BodyJoints, topic, received.append, 10)
    publisher = subprocess.Popen([sys.executable, "-c", PUBLISHER, topic, ",".join(NAMES)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not received and time.monotonic() < deadline and publisher.poll() is None:
            rclpy.spin_once(node, timeout_sec=0.1)
        if not received:
            out, err = publisher.communicate(timeout=5) if publisher.poll() is not None else ("", "")
            pytest.fail(f"no BodyJoints received; publisher said: {err[-2000:]}")
    finally:
        publisher.kill()
        publisher.wait()
        node.destroy_node()
        rclpy.shutdown()

    msg = received[0]
    assert msg.header.frame_id == "camera_depth_optical_frame"
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec) == (1234, 5678)
    assert msg.person_detected
    assert list(msg.names) == NAMES
    assert [p.z for p in msg.positions] == pytest.approx([2.5 + k for k in range(7)])
    assert msg.positions[3].x == pytest.approx(0.3)
    assert list(msg.pixel_u) == pytest.approx([10.0 * k for k in range(7)])
    assert list(msg.pixel_v) == pytest.approx([5.0 + k for k in range(7)])
    assert list(msg.in_view) == [k % 2 == 0 for k in range(7)]


def test_body_and_bodies_message_fields():
    from depth_pose_ros.msg import Bodies, Body
    assert Bodies.get_fields_and_field_types() == {
        "header": "std_msgs/Header", "bodies": "sequence<depth_pose_ros/Body>"}
    assert Body.get_fields_and_field_types() == {
        "id": "uint32", "state": "uint8", "names": "sequence<string>",
        "positions": "sequence<geometry_msgs/Point>", "pixel_u": "sequence<float>",
        "pixel_v": "sequence<float>", "in_view": "sequence<boolean>",
        "confidence": "sequence<float>"}
    assert (Body.NEW, Body.TRACKED, Body.LOST) == (0, 1, 2)


# ROS4HRI's hri_msgs 2.x (ROS 2, humble-devel branch of ros4hri/hri_msgs), as its .msg files
# define them: the fields and constants the dev stand-in (tools/hri_msgs) must match.
HRI_MSGS = {
    "IdsList": ({"header": "std_msgs/Header", "ids": "sequence<string>"}, {}),
    "NormalizedPointOfInterest2D": ({"x": "float", "y": "float", "c": "float"}, {}),
    "Skeleton2D": ({"header": "std_msgs/Header",
                    "skeleton": "hri_msgs/NormalizedPointOfInterest2D[18]"},
                   dict(NOSE=0, NECK=1, RIGHT_SHOULDER=2, RIGHT_ELBOW=3, RIGHT_WRIST=4,
                        LEFT_SHOULDER=5, LEFT_ELBOW=6, LEFT_WRIST=7, RIGHT_HIP=8, RIGHT_KNEE=9,
                        RIGHT_ANKLE=10, LEFT_HIP=11, LEFT_KNEE=12, LEFT_ANKLE=13, LEFT_EYE=14,
                        RIGHT_EYE=15, LEFT_EAR=16, RIGHT_EAR=17)),
}


@pytest.mark.parametrize("name", sorted(HRI_MSGS))
def test_the_hri_msgs_stand_in_matches_the_definitions(name):
    import hri_msgs.msg
    kind = getattr(hri_msgs.msg, name)
    fields, constants = HRI_MSGS[name]
    assert kind.get_fields_and_field_types() == fields
    assert {k: getattr(kind, k) for k in constants} == constants
