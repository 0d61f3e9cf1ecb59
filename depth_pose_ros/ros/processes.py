"""Starting the package's ROS programs as a user would: their environment, config and processes
(the demo and the node benchmark use them)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config"


def config_dir() -> Path:
    """config/ of a checkout, or share/depth_pose_ros/config of a ROS install."""
    if REPO_CONFIG.is_dir():
        return REPO_CONFIG
    from ament_index_python.packages import get_package_share_directory
    return Path(get_package_share_directory("depth_pose_ros")) / "config"


def ros_environment() -> dict:
    """Loopback-only discovery and the large-image transport profile, unless already set."""
    env = dict(os.environ)
    env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    env.setdefault("FASTDDS_DEFAULT_PROFILES_FILE",
                   str(config_dir() / "fastdds_large_images.xml"))
    env.setdefault("RCUTILS_LOGGING_BUFFERED_STREAM", "0")
    return env


def pose_node_arguments(*ros_args: str) -> list[str]:
    """pose_node's command-line ROS arguments: config/pose.yaml, listening to the synthetic
    camera's topics, then ros_args."""
    return ["--ros-args", "--params-file", str(config_dir() / "pose.yaml"),
            "-r", "depth:=/camera/depth/image_raw",
            "-r", "camera_info:=/camera/depth/camera_info", *ros_args]


def start_pose_node(*ros_args: str, stderr=None) -> subprocess.Popen:
    """depth-pose-node (pose_node_arguments) as its own process."""
    node = Path(sys.executable).parent / "depth-pose-node"
    return subprocess.Popen([str(node), *pose_node_arguments(*ros_args)],
                            env=ros_environment(), stderr=stderr)


def start_synthetic_camera(*ros_args: str, stdout=None) -> subprocess.Popen:
    """depth-pose-camera (the synthetic camera) as its own process."""
    camera = Path(sys.executable).parent / "depth-pose-camera"
    return subprocess.Popen([str(camera), "--ros-args", *ros_args], stdout=stdout, text=True,
                            env=ros_environment())
