"""pip install of the depth_pose_ros Python package, for training and evaluation without ROS.

In a ROS 2 workspace colcon builds this package with CMakeLists.txt (ament_cmake) instead.
The distribution is named depth-pose (not depth_pose_ros) so that pip never mistakes the
interfaces rosidl generates for an older install of itself.
"""
from setuptools import find_packages, setup

setup(
    name="depth-pose",
    version="0.1.0",
    description="Upper-body 3D pose from a single very low resolution depth image (ROS 2 + CPU)",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["depth_pose_ros", "depth_pose_ros.*"]),
    # The runtime (camera, body, synth, estimator, pipeline) needs only these; the people
    # tracker (IDs: the node, bag-eval) adds scipy's assignment solver.
    install_requires=["numpy>=1.24", "openvino>=2024.0"],
    extras_require={
        "tracking": ["scipy"],
        "train": ["torch==2.13.0", "matplotlib", "tqdm", "threadpoolctl"],
        "eval": ["matplotlib", "tqdm", "rosbags", "onnxruntime", "onnx", "scipy", "motmetrics",
                 "threadpoolctl"],
        "test": ["pytest"],
    },
    entry_points={"console_scripts": ["depth-pose = depth_pose_ros.tools.cli:main",
                                      "depth-pose-node = depth_pose_ros.ros.pose_node:main",
                                      "depth-pose-camera = depth_pose_ros.ros.synthetic_camera:main"]},
)
