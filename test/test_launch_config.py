"""config/pose.yaml, launch/pose.launch.py and config/pose.rviz agree with the node.

`ros2 launch` cannot be installed here (launch and launch_ros are not on PyPI), so the launch
file is read, not run: its launch arguments are checked against the node's parameters.
"""
import ast
from pathlib import Path

import pytest
import yaml

from depth_pose_ros.ros.pose_node import PARAMETERS

REPO = Path(__file__).resolve().parents[1]


def _flat(tree: dict, prefix: str = "") -> dict:
    """A params file's nested keys as ROS 2 names them: hri: {enabled: x} -> hri.enabled."""
    flat = {}
    for key, value in tree.items():
        flat |= _flat(value, f"{prefix}{key}.") if isinstance(value, dict) else \
            {prefix + key: value}
    return flat


def _yaml_parameters():
    return _flat(yaml.safe_load((REPO / "config" / "pose.yaml").read_text())
                 ["pose_node"]["ros__parameters"])


def test_yaml_holds_every_parameter_with_the_declared_default():
    assert _yaml_parameters() == {name: default for name, (default, _, _) in PARAMETERS.items()}


def test_node_declares_the_yaml_parameters(tmp_path):
    """The real node, its declared parameters and descriptors (no middleware traffic)."""
    import rclpy

    from depth_pose_ros.ros.pose_node import PoseNode

    rclpy.init(args=["--ros-args", "--params-file", str(REPO / "config" / "pose.yaml")])
    try:
        node = PoseNode()
        declared = {p.name: p.value for p in node.get_parameters(list(PARAMETERS))}
        assert declared == _yaml_parameters()
        for name, descriptor in zip(PARAMETERS, node.describe_parameters(list(PARAMETERS))):
            assert descriptor.description, f"{name} has no description"
        ranges = node.describe_parameters(["min_depth"])[0].floating_point_range[0]
        assert (ranges.from_value, ranges.to_value) == (0.1, 10.0)
        node.destroy_node()
    finally:
        rclpy.shutdown()


def _launch_source():
    return ast.parse((REPO / "launch" / "pose.launch.py").read_text())


def _launch_arguments():
    """The launch file's DeclareLaunchArgument names with their defaults (as source text), and
    its PARAMETER_ARGUMENTS table: launch argument -> parameter type name."""
    declared, table = {}, {}
    for node in ast.walk(_launch_source()):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "DeclareLaunchArgument":
            name = ast.unparse(node.args[0])
            default = next(k.value for k in node.keywords if k.arg == "default_value")
            declared[name] = ast.unparse(default)
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == \
                "PARAMETER_ARGUMENTS":
            for key, value in zip(node.value.keys, node.value.values):
                table[key.value] = value.elts[0].id
    return declared, table


def test_launch_arguments_are_node_parameters_that_default_to_the_params_file():
    declared, table = _launch_arguments()
    assert {"'depth_topic'", "'camera_info_topic'", "'params_file'", "'rviz'"} <= set(declared)
    assert declared["'depth_topic'"] == "'/camera/depth/image_raw'"
    assert declared["name"] == "''"  # every parameter argument: empty keeps the file's value
    yaml_values = _yaml_parameters()
    assert table, "PARAMETER_ARGUMENTS not found"
    for name, kind in table.items():
        assert name in PARAMETERS, f"launch argument {name} is no parameter of pose_node"
        assert kind == type(yaml_values[name]).__name__, name


def test_launch_argument_text_becomes_the_parameter_type():
    function = next(node for node in ast.walk(_launch_source())
                    if isinstance(node, ast.FunctionDef) and node.name == "_typed")
    namespace = {}
    exec(compile(ast.Module(body=[function], type_ignores=[]), "pose.launch.py", "exec"),
         namespace)
    typed = namespace["_typed"]
    assert typed("True", bool) is True and typed("false", bool) is False
    assert typed("0.75", float) == 0.75 and typed("person_", str) == "person_"
    with pytest.raises(ValueError):
        typed("yes", bool)


def test_launch_file_starts_the_installed_node_with_the_config_and_remaps():
    source = (REPO / "launch" / "pose.launch.py").read_text()
    ast.parse(source)
    for needle in ('executable="pose_node"', '"config" / "pose.yaml"', '("depth", ',
                   '("camera_info", ', '"config" / "pose.rviz"', "OpaqueFunction",
                   '"config" / "fastdds_large_images.xml"', "additional_env=",
                   '"FASTDDS_DEFAULT_PROFILES_FILE"'):
        assert needle in source, needle


def test_a_missing_rviz_stops_the_launch_before_any_node_starts():
    """rviz:=true checks for rviz2 first (run for real with ros2 launch: one error line)."""
    function = next(node for node in ast.walk(_launch_source())
                    if isinstance(node, ast.FunctionDef) and node.name == "_nodes")
    body = ast.unparse(function)
    assert body.index("raise RuntimeError(RVIZ_MISSING)") < body.index("Node(")
    missing = next(node for node in ast.walk(_launch_source()) if isinstance(node, ast.Assign)
                   and getattr(node.targets[0], "id", "") == "RVIZ_MISSING")
    assert "apt install ros-$ROS_DISTRO-rviz2" in ast.literal_eval(missing.value)


def test_rviz_config_shows_the_depth_image_markers_and_tf():
    config = yaml.safe_load((REPO / "config" / "pose.rviz").read_text())
    displays = config["Visualization Manager"]["Displays"]
    shown = {(d["Class"], d.get("Topic", {}).get("Value")) for d in displays if d["Enabled"]}
    assert ("rviz_default_plugins/MarkerArray", "/body_markers") in shown
    assert ("rviz_default_plugins/Image", "/camera/depth/image_raw") in shown
    assert ("rviz_default_plugins/TF", None) in shown
    depth = next(d for d in displays if d["Class"] == "rviz_default_plugins/Image")
    # RViz's Min / Max Value are in the image's units: millimetres for 16UC1, metres for 32FC1
    assert depth["Normalize Range"] is True
    assert config["Visualization Manager"]["Global Options"]["Fixed Frame"] == \
        "camera_depth_optical_frame"
