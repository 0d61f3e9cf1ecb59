import numpy as np

from depth_pose_ros.joints import JOINT_NAMES, NUM_TARGETS, from_targets, to_targets


def test_joint_order_is_the_datasets():
    assert JOINT_NAMES == ("root", "right_shoulder", "right_elbow", "right_hand",
                           "left_shoulder", "left_elbow", "left_hand")


def test_targets_layout_and_round_trip():
    rng = np.random.default_rng(0)
    joints = rng.normal(size=(5, 7, 3)).astype(np.float32)
    pixels = rng.uniform(0, 60, size=(5, 7, 2)).astype(np.float32)
    targets = to_targets(joints, pixels)
    assert targets.shape == (5, NUM_TARGETS) == (5, 33)
    np.testing.assert_array_equal(targets[:, 0:3], joints[:, 0])
    # right_elbow relative to the root is the second relative triple
    np.testing.assert_allclose(targets[:, 6:9], joints[:, 2] - joints[:, 0])
    # left_hand's pixels are the last pair
    np.testing.assert_array_equal(targets[:, 31:33], pixels[:, 6])
    joints_back, pixels_back = from_targets(targets)
    np.testing.assert_allclose(joints_back, joints, atol=1e-6)
    np.testing.assert_array_equal(pixels_back, pixels[:, 1:])
