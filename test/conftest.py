"""Shared test set-up: ROS 2 stays on loopback, in a domain and log folder of its own."""
import os
import random
from pathlib import Path

import pytest

# Set before anything imports rclpy: discovery on loopback only, logs out of ~/.ros, and a
# random domain so that parallel runs on one machine do not hear each other.
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.setdefault("ROS_DOMAIN_ID", str(random.randint(1, 100)))
# Fast DDS's defaults lose many large best-effort images between processes here; the profile
# the package ships for that (see the file) makes delivery reliable.
os.environ.setdefault("FASTDDS_DEFAULT_PROFILES_FILE", str(
    Path(__file__).resolve().parents[1] / "config" / "fastdds_large_images.xml"))


@pytest.fixture(autouse=True, scope="session")
def _ros_log_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("ros_log")
    os.environ["ROS_LOG_DIR"] = str(path)
    os.environ["ROS_HOME"] = str(path)
    yield


@pytest.fixture(scope="session")
def shipped_estimator():
    """The shipped DNN33 (models/dnn33), compiled once for the whole session."""
    from depth_pose_ros.runtime.estimator import PoseEstimator
    return PoseEstimator.load()


@pytest.fixture(scope="session")
def zoomed_estimator(tmp_path_factory):
    """The shipped model's files, its model.json saying it was trained on synth --zoom 2.2
    frames: the pipeline then zooms (the network's answers are not the point here)."""
    import json
    import shutil

    from depth_pose_ros.runtime.estimator import PoseEstimator, default_model_dir
    model = tmp_path_factory.mktemp("zoomed") / "model"
    shutil.copytree(default_model_dir(), model)
    info = json.loads((model / "model.json").read_text())
    (model / "model.json").write_text(json.dumps(info | {"zoom_reference_m": 2.2}))
    return PoseEstimator.load(model)
