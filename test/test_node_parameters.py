"""Every pose_node parameter's bad value is refused the same way at start-up and when set:
one line naming the parameter, no traceback (the real node class; no middleware traffic)."""
import pytest

from depth_pose_ros.ros.pose_node import PARAMETERS, ParameterError, check_parameters

# A bad value for each parameter: the wrong type, outside its range, or against a rule.
BAD = {
    "model_path": "/no/such/model",
    "precision": "fp64",
    "mirror_average": "yes",
    "inference_threads": -1,
    "frame_prefix": "/x y",
    "max_people": 0,
    "lost_timeout": -1.0,
    "tracking_gate": 0.0,
    "body_joints_person": "tallest",
    "hri.enabled": "yes",
    "min_depth": 12.0,
    "max_depth": 0.4,  # below min_depth (0.5)
    "remove_floor": 1,
    "remove_walls": "no",
    "roi_x_offset": -5,
    "roi_y_offset": 20000,
    "roi_width": -1,
    "roi_height": 1.5,
    "smoothing": "on",
    "smoothing_min_cutoff": 0.0,
    "smoothing_beta": -1.0,
    "publish_tf": "x",
    "publish_markers": 2,
    "markers_max_rate": -1.0,
    "publish_network_input": "false",
    "warning_period": -1.0,
    "stats_period": 4000.0,
    "diagnostics_period": -0.5,
    "managed": 0,
}


def test_every_parameter_has_a_bad_value_here():
    assert set(BAD) == set(PARAMETERS)


@pytest.fixture(scope="module")
def ros():
    import rclpy
    rclpy.init()
    yield
    rclpy.shutdown()


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_start_up_value_is_one_clear_line(ros, name):
    from rclpy.parameter import Parameter

    from depth_pose_ros.ros.pose_node import PoseNode
    from depth_pose_ros.runtime.estimator import ModelError

    expected = ModelError if name == "model_path" else ParameterError  # found when loading
    with pytest.raises(expected) as error:
        PoseNode(parameter_overrides=[Parameter(name, value=BAD[name])])
    message = str(error.value)
    assert "\n" not in message and (name in message or str(BAD[name]) in message), message


@pytest.fixture(scope="module")
def node(ros):
    from depth_pose_ros.ros.pose_node import PoseNode
    node = PoseNode()
    yield node
    node.destroy_node()


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_value_set_at_run_time_is_refused(node, name):
    from rclpy.parameter import Parameter
    before = node.get_parameter(name).value
    result = node.set_parameters([Parameter(name, value=BAD[name])])[0]
    assert not result.successful and result.reason
    assert "\n" not in result.reason
    assert node.get_parameter(name).value == before


def test_start_up_and_run_time_give_the_same_reason(ros, node):
    """The node's own rules are one function: the same words at start-up and when set."""
    from rclpy.parameter import Parameter

    from depth_pose_ros.ros.pose_node import PoseNode
    with pytest.raises(ParameterError) as start:
        PoseNode(parameter_overrides=[Parameter("min_depth", value=6.0)])
    runtime = node.set_parameters([Parameter("min_depth", value=6.0)])[0].reason
    assert str(start.value) == runtime == "min_depth (6.0) must be < max_depth (5.5)"
    # a range: rclpy's descriptor check, the same words both ways too
    with pytest.raises(ParameterError) as start:
        PoseNode(parameter_overrides=[Parameter("min_depth", value=12.0)])
    runtime = node.set_parameters([Parameter("min_depth", value=12.0)])[0].reason
    assert str(start.value) == f"parameter min_depth: {runtime}"
    assert "Min: 0.1, Max: 10.0, value: 12.0" in runtime


def test_the_rules_accept_the_defaults_and_name_what_is_wrong():
    defaults = {name: default for name, (default, _, _) in PARAMETERS.items()}
    assert check_parameters(defaults) is None
    assert "precision" in check_parameters(defaults | {"precision": "fp64"})
    assert "frame_prefix" in check_parameters(defaults | {"frame_prefix": "a b"})
    assert check_parameters(defaults | {"frame_prefix": ""}) is None
