import numpy as np

from depth_pose_ros.joints import JOINT_NAMES, NUM_TARGETS, PIXEL_TARGETS, from_targets, to_targets


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


def test_pixel_targets_are_bounded_so_one_frame_cannot_stretch_an_outputs_range():
    """A hand almost in the camera's plane projects thousands of pixels off; its target stays
    one image beyond the side, so the training set's min-max range (Preprocessor.fit) does too,
    and it still lies out of view."""
    from depth_pose_ros.runtime.encoding import Preprocessor

    rng = np.random.default_rng(1)
    joints = rng.normal(size=(4, 7, 3)).astype(np.float32)
    pixels = rng.uniform(0, 50, size=(4, 7, 2)).astype(np.float32)
    pixels[0, 3] = (-10418.0, 20.0)  # a right hand seen in a wide world frame (session 33)
    pixels[1, 6] = (30.0, 5000.0)
    targets = to_targets(joints, pixels)
    assert targets[0, 25] == -60.0 and targets[1, 32] == 99.0
    np.testing.assert_array_equal(targets[2:, PIXEL_TARGETS], pixels[2:, 1:].reshape(2, -1))
    pre = Preprocessor.fit(np.ones((4, 50, 60), np.float32), joints, pixels)
    assert pre.target_min[PIXEL_TARGETS].min() == -60.0
    assert pre.target_max[PIXEL_TARGETS].max() == 99.0
