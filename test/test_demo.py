"""The demo's audience (depth_pose_ros.ros.demo): what pose_node said about frames sent before
streaming began (while the demo waited for the node) stays out of the summary, /bodies as
/body_joints; the IDs the demo reports are those of the frames it streamed."""
import pytest


@pytest.fixture
def node():
    import rclpy
    rclpy.init()
    node = rclpy.create_node("demo_audience_test")
    yield node
    node.destroy_node()
    rclpy.shutdown()


def _stamped(message, seconds: float):
    message.header.stamp.sec = int(seconds)
    message.header.stamp.nanosec = int(round((seconds % 1) * 1e9))
    return message


def test_audience_keeps_only_answers_to_streamed_frames(node):
    from depth_pose_ros.msg import Bodies, Body, BodyJoints
    from depth_pose_ros.ros.demo import _Audience

    heard = _Audience(node)
    heard.stream_start = 100.0
    for seconds, body_id in ((99.5, 3), (100.5, 1)):
        bodies = _stamped(Bodies(), seconds)
        bodies.bodies = [Body(id=body_id)]
        heard._on_bodies(bodies)
        heard._on_joints(_stamped(BodyJoints(), seconds))
    assert [m.bodies[0].id for m in heard.bodies.values()] == [1]
    assert [m.header.stamp.sec for m, _ in heard.received] == [100]
