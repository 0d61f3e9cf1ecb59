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
