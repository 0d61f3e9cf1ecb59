"""ros2 launch depth_pose_ros pose.launch.py [depth_topic:=...] [camera_info_topic:=...] [rviz:=true]

Starts pose_node with config/pose.yaml (or params_file:=yours). The common parameters can also be
set as launch arguments; left empty (the default) they keep the params file's value. The node's
process gets config/fastdds_large_images.xml as its Fast DDS profile (fastdds_profile:= another
file, or none for Fast DDS's defaults): with the defaults, large images between processes are
often lost (README, "Large images").
"""
from pathlib import Path

from ament_index_python.packages import (PackageNotFoundError, get_package_prefix,
                                         get_package_share_directory)
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import EnvironmentVariable, LaunchConfiguration
from launch_ros.actions import Node

# Launch argument (= pose_node parameter) -> (parameter type, description).
PARAMETER_ARGUMENTS = {
    "model_path": (str, "model directory written by `depth-pose export`"),
    "precision": (str, "int8, bf16 or f32"),
    "mirror_average": (bool, "average each frame's estimate with its mirror image's"),
    "frame_prefix": (str, "TF child frames are <frame_prefix><id>_<joint>"),
    "max_people": (int, "at most this many people per frame, closest first"),
    "body_joints_person": (str, "who /body_joints carries: central or nearest"),
    "min_depth": (float, "metres"),
    "max_depth": (float, "metres"),
    "remove_floor": (bool, "remove the floor plane before isolating the person"),
    "remove_walls": (bool, "remove the walls before isolating the person"),
    "smoothing": (bool, "One-Euro filter on the joints"),
    "publish_network_input": (bool, "publish the 60 x 50 network input"),
    "managed": (bool, "a lifecycle manager configures and activates the node"),
}
RVIZ_MISSING = ("rviz:=true, but rviz2 is not installed: install it (sudo apt install "
                "ros-$ROS_DISTRO-rviz2) or leave rviz:=false")


def _typed(text: str, kind: type):
    if kind is bool:
        if text.lower() not in ("true", "false"):
            raise ValueError(f"expected true or false, got {text!r}")
        return text.lower() == "true"
    return kind(text)


def _rviz_installed() -> bool:
    try:
        get_package_prefix("rviz2")
        return True
    except PackageNotFoundError:
        return False


def _nodes(context):
    """Checks first, then starts: a missing rviz2 stops the launch before any process runs."""
    rviz = _typed(LaunchConfiguration("rviz").perform(context), bool)
    if rviz and not _rviz_installed():
        raise RuntimeError(RVIZ_MISSING)
    overrides = {name: _typed(LaunchConfiguration(name).perform(context), kind)
                 for name, (kind, _) in PARAMETER_ARGUMENTS.items()
                 if LaunchConfiguration(name).perform(context) != ""}
    profile = LaunchConfiguration("fastdds_profile").perform(context)
    profile = "" if profile == "none" else profile  # ros2 launch refuses an empty argument
    nodes = [Node(
        package="depth_pose_ros", executable="pose_node", name="pose_node", output="screen",
        parameters=[LaunchConfiguration("params_file"), overrides],
        remappings=[("depth", LaunchConfiguration("depth_topic")),
                    ("camera_info", LaunchConfiguration("camera_info_topic"))],
        additional_env={"FASTDDS_DEFAULT_PROFILES_FILE": profile} if profile else None)]
    if rviz:
        share = Path(get_package_share_directory("depth_pose_ros"))
        nodes.append(Node(package="rviz2", executable="rviz2", name="rviz2",
                          arguments=["-d", str(share / "config" / "pose.rviz")]))
    return nodes


def generate_launch_description():
    share = Path(get_package_share_directory("depth_pose_ros"))
    arguments = [
        DeclareLaunchArgument("depth_topic", default_value="/camera/depth/image_raw",
                              description="sensor_msgs/Image, 16UC1 (mm) or 32FC1 (m)"),
        DeclareLaunchArgument("camera_info_topic", default_value="/camera/depth/camera_info",
                              description="the depth image's sensor_msgs/CameraInfo"),
        DeclareLaunchArgument("params_file", default_value=str(share / "config" / "pose.yaml"),
                              description="YAML with pose_node's parameters"),
        DeclareLaunchArgument("rviz", default_value="false",
                              description="also start RViz with config/pose.rviz"),
        DeclareLaunchArgument(
            "fastdds_profile",
            default_value=EnvironmentVariable(
                "FASTDDS_DEFAULT_PROFILES_FILE",
                default_value=str(share / "config" / "fastdds_large_images.xml")),
            description="Fast DDS XML profile for pose_node's process (default: "
                        "$FASTDDS_DEFAULT_PROFILES_FILE, else the package's large-image "
                        "profile); none: Fast DDS's defaults"),
    ] + [DeclareLaunchArgument(name, default_value="",
                               description=f"{description}; empty: the params file's value")
         for name, (_, description) in PARAMETER_ARGUMENTS.items()]
    return LaunchDescription(arguments + [OpaqueFunction(function=_nodes)])
