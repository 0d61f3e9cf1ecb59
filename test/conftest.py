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
    """The default model (models/dnn32d8w: the wide world's deepened DNN, 32 filters wide, trained on
    frames zoomed to each person, so the pipeline zooms), compiled once for the whole session."""
    from depth_pose_ros.runtime.estimator import PoseEstimator
    estimator = PoseEstimator.load()
    assert estimator.zoom_reference == 2.2  # the zoom tests rely on it
    return estimator


@pytest.fixture(scope="session")
def paper_estimator():
    """The paper's reproduction (models/dnn33-paper): no zoom, for the pipeline's plain path."""
    from depth_pose_ros.runtime.estimator import PoseEstimator, default_model_dir
    return PoseEstimator.load(default_model_dir().parent / "dnn33-paper")


@pytest.fixture
def blas_threads_in(monkeypatch):
    """record(owner, name) -> a list that gets, on each call of owner.name, the set of thread
    counts of the BLAS libraries loaded at that moment (threadpoolctl)."""
    from threadpoolctl import threadpool_info

    def record(owner, name: str) -> list:
        seen, original = [], getattr(owner, name)

        def recording(*args, **kwargs):
            seen.append({lib["num_threads"] for lib in threadpool_info()
                         if lib["user_api"] == "blas"})
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, recording)
        return seen
    return record
