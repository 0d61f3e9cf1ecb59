"""Shared test set-up: ROS 2 stays on loopback, in a domain and log folder of its own."""
import os
import random

import pytest

# Set before anything imports rclpy: discovery on loopback only, logs out of ~/.ros, and a
# random domain so that parallel runs on one machine do not hear each other.
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.setdefault("ROS_DOMAIN_ID", str(random.randint(1, 100)))


@pytest.fixture(autouse=True, scope="session")
def _ros_log_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("ros_log")
    os.environ["ROS_LOG_DIR"] = str(path)
    os.environ["ROS_HOME"] = str(path)
    yield
