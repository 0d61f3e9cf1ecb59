"""The Kinect-style random-forest baseline on a tiny set."""
import numpy as np

from depth_pose_ros.camera import PinholeCamera
from depth_pose_ros.learn.forest import (
    FAR_M,
    OTHER,
    ForestConfig,
    ForestPoseEstimator,
    depth_features,
    pixel_classes,
)
from depth_pose_ros.synth.generate import generate


def test_depth_difference_features_scale_with_depth_and_see_far_off_the_body():
    depth = np.zeros((50, 60), np.float32)
    depth[10:40, 20:40] = 2.0
    offsets = np.array([[[0.0, 10.0], [0.0, 0.0]],    # 10 px-m right: 5 px at 2 m
                        [[0.0, 100.0], [0.0, 0.0]]])  # 50 px right: off the body
    f = depth_features(depth, np.array([20]), np.array([25]), offsets)
    np.testing.assert_allclose(f, [[0.0, FAR_M - 2.0]])
    f = depth_features(depth * 0.5, np.array([20]), np.array([36]), offsets[:1])
    assert f[0, 0] == FAR_M - 1.0  # at 1 m, 10 px-m is 10 px: past the body's edge


def test_pixel_classes_are_the_nearest_joint_on_the_arms_and_torso():
    camera = PinholeCamera.virtual()
    scenes = generate(np.random.default_rng(0), 3, with_labels=True)
    for depth, labels, joints in zip(scenes.depth, scenes.labels, scenes.joints3d):
        classes = pixel_classes(depth, labels, joints, camera)
        assert ((classes >= 0) == (depth > 0)).all()
        assert set(np.unique(classes)) <= set(range(OTHER + 1)) | {-1}
        assert (classes == 0).any()  # the root's region


def test_forest_trains_and_estimates_on_a_tiny_set():
    rng = np.random.default_rng(1)
    train = generate(rng, 150, with_labels=True)
    model = ForestPoseEstimator(ForestConfig(features=60, trees=2, max_depth=12))
    info = model.fit(train.depth, train.labels, train.joints3d)
    assert info["samples"] > 10_000 and model.z_offsets[0] > 0  # the hip lies behind the skin
    test = generate(rng, 30)
    joints = np.array([model.estimate(d) for d in test.depth])
    root_error = np.linalg.norm(joints[:, 0] - test.joints3d[:, 0], axis=1)
    assert np.median(root_error) < 0.10
    assert np.isnan(model.estimate(np.zeros((50, 60), np.float32))).all()
