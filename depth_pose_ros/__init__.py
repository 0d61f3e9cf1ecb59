"""depth_pose_ros: upper-body 3D pose from a single very low resolution depth image."""
# The generated interfaces (depth_pose_ros.msg) may live in another directory of the same
# package name (a ROS install space, or site-packages of the development venv): find them too.
import pkgutil

__path__ = pkgutil.extend_path(__path__, __name__)
__version__ = "0.1.0"
