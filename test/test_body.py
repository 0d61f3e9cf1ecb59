import numpy as np
import pytest

from depth_pose_ros.synth import body as body_model
from depth_pose_ros.synth.body import (
    ELBOW_MAX_FLEXION_DEG,
    SHOULDER_MAX_EXTENSION_DEG,
    WRIST_MIN_FORWARD_M,
    build_bodies,
    rotation_about,
    sample_arm_poses,
    sample_shapes,
    shoulder_positions,
)


def _angle_deg(u, v):
    cos = np.einsum("...i,...i", u, v) / np.linalg.norm(u, axis=-1) / np.linalg.norm(v, axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


@pytest.fixture(scope="module")
def one_person_many_poses():
    rng = np.random.default_rng(11)
    shape = sample_shapes(rng, 1).take(np.zeros(500, dtype=int))
    return shape, build_bodies(rng, shape)


def test_rotations_are_proper():
    r = rotation_about("y", np.linspace(-3, 3, 7)) @ rotation_about("x", np.linspace(0, 1, 7))
    np.testing.assert_allclose(r @ np.swapaxes(r, 1, 2), np.broadcast_to(np.eye(3), r.shape),
                               atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(r), 1.0)


def test_adult_heights_and_proportions():
    shape = sample_shapes(np.random.default_rng(0), 2000)
    assert shape.height.min() >= 1.5 and shape.height.max() <= 2.0
    arm = (shape.upper_arm + shape.forearm) / shape.height
    assert 0.27 < arm.min() and arm.max() < 0.37
    assert shape.torso_girth.min() >= 0.85 and shape.torso_girth.max() <= 1.35


def test_bone_lengths_constant_across_poses_of_one_body(one_person_many_poses):
    shape, bodies = one_person_many_poses
    j = bodies.joints
    for shoulder, elbow, hand in ((1, 2, 3), (4, 5, 6)):
        upper = np.linalg.norm(j[:, elbow] - j[:, shoulder], axis=1)
        fore = np.linalg.norm(j[:, hand] - j[:, elbow], axis=1)
        np.testing.assert_allclose(upper, shape.upper_arm[0], rtol=1e-9)
        np.testing.assert_allclose(fore, shape.forearm[0], rtol=1e-9)
    shoulder_width = np.linalg.norm(j[:, 4] - j[:, 1], axis=1)
    np.testing.assert_allclose(shoulder_width, 2 * shape.shoulder_half_width[0], rtol=1e-9)
    spine = np.linalg.norm((j[:, 1] + j[:, 4]) / 2 - j[:, 0], axis=1)
    np.testing.assert_allclose(spine, shape.spine[0], rtol=1e-9)


def test_poses_vary(one_person_many_poses):
    _, bodies = one_person_many_poses
    hands = bodies.joints[:, [3, 6]]
    assert hands.std(axis=0).min() > 0.1  # metres, every axis of both hands


@pytest.fixture(scope="module")
def upright_arms():
    rng = np.random.default_rng(5)
    shape = sample_shapes(rng, 3000)
    return shape, sample_arm_poses(rng, shape)


def test_arm_joint_limits_hold(upright_arms):
    shape, arms = upright_arms
    shoulders = shoulder_positions(shape)
    upper_dir = arms.elbows - shoulders
    fore_dir = arms.wrists - arms.elbows
    flexion = _angle_deg(upper_dir, fore_dir)
    assert flexion.max() <= ELBOW_MAX_FLEXION_DEG + 1e-6
    assert flexion.min() >= 0
    behind = np.degrees(np.arcsin(np.clip(-upper_dir[..., 2] / shape.upper_arm[:, None], -1, 1)))
    assert behind.max() <= SHOULDER_MAX_EXTENSION_DEG + 1e-6
    assert (arms.wrists[..., 2] - shoulders[..., 2]).min() >= WRIST_MIN_FORWARD_M - 1e-9
    np.testing.assert_allclose(np.linalg.norm(upper_dir, axis=-1),
                               np.broadcast_to(shape.upper_arm[:, None], (len(shape), 2)))


def test_no_arm_passes_through_the_torso(upright_arms):
    shape, arms = upright_arms
    shoulders = shoulder_positions(shape)
    t = np.linspace(0, 1, 50)[None, :, None]
    for side in range(2):
        fore = arms.elbows[:, side, None] + t * (arms.wrists - arms.elbows)[:, side, None]
        upper = shoulders[:, side, None] + t * (arms.elbows - shoulders)[:, side, None]
        bone = np.concatenate([fore, upper[:, 25:]], axis=1)  # upper arm beyond the shoulder
        for centre, radii in body_model._torso_ellipsoids(shape):
            q = (bone - centre[:, None]) / radii[:, None]
            assert (np.einsum("nki,nki->nk", q, q) > 1.0).all()


def test_wrists_cover_the_reachable_space_in_front(upright_arms):
    shape, arms = upright_arms
    rel = (arms.wrists - shoulder_positions(shape)) / (shape.upper_arm + shape.forearm)[:, None,
                                                                                         None]
    reach = np.linalg.norm(rel, axis=-1)
    # Volume-uniform sampling puts most wrists far out: median radius near 0.79 of the reach.
    assert 0.7 < np.median(reach) < 0.9
    assert reach.max() <= 1.0 + 1e-9
    # Above and below the shoulder, left and right of it, near and far in front: all occur.
    for axis in range(3):
        assert (rel[..., axis] > 0.4).mean() > 0.05
    assert (rel[..., 0] < -0.4).mean() > 0.05 and (rel[..., 1] < -0.4).mean() > 0.05
