"""The seven joints we estimate, and the paper's 33-value regression target built from them.

This module is the one place that knows how the target vector is laid out (paper §3):
  [0:3]   root 3D in the camera frame (m)
  [3:21]  the six other joints 3D relative to the root (m), in JOINT_NAMES order
  [21:33] the six other joints' 2D pixel coordinates (u, v) in the 60 x 50 image
and where a network's error scales follow it ([33:40], ERROR_SCALES).
"""
from __future__ import annotations

import numpy as np

from depth_pose_ros.camera import VIRTUAL_HEIGHT, VIRTUAL_WIDTH

JOINT_NAMES = (
    "root",  # mid-hip
    "right_shoulder",
    "right_elbow",
    "right_hand",  # the wrist
    "left_shoulder",
    "left_elbow",
    "left_hand",
)
NUM_JOINTS = len(JOINT_NAMES)
ROOT = 0
HANDS = (JOINT_NAMES.index("right_hand"), JOINT_NAMES.index("left_hand"))
SHOULDERS = [JOINT_NAMES.index("right_shoulder"), JOINT_NAMES.index("left_shoulder")]
NUM_TARGETS = 3 + 3 * (NUM_JOINTS - 1) + 2 * (NUM_JOINTS - 1)  # 33
# Where each part lies in the target vector.
ROOT_TARGETS = slice(0, 3)
RELATIVE_TARGETS = slice(3, 3 + 3 * (NUM_JOINTS - 1))  # 3:21
PIXEL_TARGETS = slice(RELATIVE_TARGETS.stop, NUM_TARGETS)  # 21:33
# Networks with error scales (beyond the paper) add one output per joint after the targets: the
# log (natural, of metres) of the scale b of its 3D error, modelled as Gamma(3, b) (losses.py).
ERROR_SCALES = slice(NUM_TARGETS, NUM_TARGETS + NUM_JOINTS)  # 33:40
NUM_OUTPUTS_WITH_SCALES = ERROR_SCALES.stop
CONFIDENCE_RADIUS_M = 0.10  # confidence = P(error < this): AP@10cm's threshold
# Pixel targets are bounded to one image beyond each side of the 60 x 50 image: a hand almost in
# the camera's plane projects thousands of pixels off, and that one frame stretched the min-max
# range of its output (stage 18, session 33: a hand's u from -10,418 to 892), so that a bf16
# step of it spanned tens of pixels. A joint out of view stays out of view.
PIXEL_TARGET_LOW = -np.array([VIRTUAL_WIDTH, VIRTUAL_HEIGHT], np.float32)  # (u, v)
PIXEL_TARGET_HIGH = 2 * np.array([VIRTUAL_WIDTH, VIRTUAL_HEIGHT], np.float32) - 1

# Lines of the skeleton drawn in previews and RViz markers, as joint-index pairs.
BONES = ((0, 1), (0, 4), (1, 4), (1, 2), (2, 3), (4, 5), (5, 6))


def to_targets(joints3d: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """(N, 7, 3) joints in metres and (N, 7, 2) pixels -> (N, 33) float32 targets (the pixels
    bounded to PIXEL_TARGET_LOW..HIGH)."""
    root = joints3d[:, ROOT]
    relative = joints3d[:, ROOT + 1:] - root[:, None]
    n = joints3d.shape[0]
    bounded = np.clip(pixels[:, ROOT + 1:], PIXEL_TARGET_LOW, PIXEL_TARGET_HIGH)
    targets = np.concatenate([root, relative.reshape(n, -1), bounded.reshape(n, -1)], axis=1)
    assert targets.shape[1] == NUM_TARGETS, targets.shape
    return targets.astype(np.float32)


def from_targets(targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 33) targets -> (N, 7, 3) joints in metres and (N, 6, 2) pixels of the non-root joints.

    The root's pixel position is not part of the target; project joints3d[:, 0] for it.
    """
    targets = np.asarray(targets)
    n = targets.shape[0]
    root = targets[:, ROOT_TARGETS]
    relative = targets[:, RELATIVE_TARGETS].reshape(n, NUM_JOINTS - 1, 3)
    joints3d = np.concatenate([root[:, None], relative + root[:, None]], axis=1)
    pixels = targets[:, PIXEL_TARGETS].reshape(n, NUM_JOINTS - 1, 2)
    return joints3d, pixels


def error_confidence(log_scale: np.ndarray, radius: float = CONFIDENCE_RADIUS_M) -> np.ndarray:
    """Log error scales (any shape) -> P(distance < radius) under Gamma(3, b), in 0..1: what
    the runtime publishes as a joint's confidence (losses.py trains the scales)."""
    x = radius / np.exp(np.asarray(log_scale, np.float64))
    return (1.0 - np.exp(-x) * (1.0 + x + 0.5 * x * x)).astype(np.float32)


def points_array(points) -> np.ndarray:
    """A message's geometry_msgs/Point list (anything with x, y, z) -> (N, 3) float64 array."""
    return np.array([[p.x, p.y, p.z] for p in points], dtype=np.float64).reshape(-1, 3)
