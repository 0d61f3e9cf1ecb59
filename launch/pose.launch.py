"""ros2 launch depth_pose_ros pose.launch.py [depth_topic:=...] [camera_info_topic:=...] [rviz:=true]

Starts pose_node with config/pose.yaml; the common parameters can be overridden as launch
arguments (their defaults are config/pose.yaml's, a test keeps them in step).
"""
from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue

# Launch argument -> (default, description, parameter type) for parameters of pose_node.
PARAMETER_ARGUMENTS = {
    "model_path": ("", "model directory; empty: the shipped DNN33", str),
    "precision": ("", "int8, bf16 or f32; empty: the model's choice", str),
    "frame_prefix": ("body_", "TF child frames are <frame_prefix><joint>", str),
    "min_depth": ("0.5", "metres", float),
    "max_depth": ("4.5", "metres", float),
    "remove_floor": ("true", "remove the floor plane before isolating the person", bool),
    "smoothing": ("true", "One-Euro filter on the joints", bool),
    "publish_network_input": ("false", "publish the 60 x 50 network input", bool),
}


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
    ] + [DeclareLaunchArgument(name, default_value=default, description=description)
         for name, (default, description, _) in PARAMETER_ARGUMENTS.items()]
    overrides = {name: ParameterValue(LaunchConfiguration(name), value_type=kind)
                 for name, (_, _, kind) in PARAMETER_ARGUMENTS.items()}
    pose_node = Node(
        package="depth_pose_ros", executable="pose_node", name="pose_node", output="screen",
        parameters=[LaunchConfiguration("params_file"), overrides],
        remappings=[("depth", LaunchConfiguration("depth_topic")),
                    ("camera_info", LaunchConfiguration("camera_info_topic"))])
    rviz = Node(package="rviz2", executable="rviz2", name="rviz2",
                arguments=["-d", str(share / "config" / "pose.rviz")],
                condition=IfCondition(LaunchConfiguration("rviz")))
    return LaunchDescription(arguments + [pose_node, rviz])
