"""Training objectives over the network's 33 normalised outputs (training and export).

- "mae": the paper's mean absolute error of the min-max normalised outputs. Each output is
  weighted by one over its training range, so a centimetre on a shoulder (range about 0.26 m
  relative to the root) costs five times a centimetre on a hand (about 1.38 m): the easy joints
  get the attention.
- "joints": what AP@10cm measures. The mean 3D distance in metres between estimated and true
  joints (root + relative offsets, so the root's error counts in every joint), plus the 2D pixel
  outputs' absolute error at PIXEL_WEIGHT metres per pixel: they serve the 2D figures and
  previews, not the 3D estimate.
"""
from __future__ import annotations

import numpy as np

from depth_pose_ros.joints import NUM_JOINTS, PIXEL_TARGETS, RELATIVE_TARGETS, ROOT_TARGETS

LOSSES = ("mae", "joints")
PIXEL_WEIGHT = 0.01  # m per pixel; one virtual pixel spans about 5.4 cm at 3 m
_EPS_M2 = 1e-6  # keeps the distance's gradient finite at zero error (1 mm)


def training_loss(name: str, target_min: np.ndarray, target_max: np.ndarray):
    """loss(outputs, targets) for normalised (N, 33) tensors, by name (see LOSSES)."""
    import torch  # here, so that the command line can list LOSSES without importing torch
    import torch.nn.functional as F

    if name == "mae":
        return F.l1_loss
    if name != "joints":
        raise ValueError(f"loss must be one of {LOSSES}, got {name!r}")
    span = torch.as_tensor(np.asarray(target_max) - np.asarray(target_min), dtype=torch.float32)

    def joint_distance_loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        error = (outputs.float() - targets) * span  # metres and pixels
        root = error[:, None, ROOT_TARGETS]
        relative = error[:, RELATIVE_TARGETS].reshape(len(error), NUM_JOINTS - 1, 3)
        joints = torch.cat([root, relative + root], dim=1)
        distance = torch.sqrt((joints ** 2).sum(dim=2) + _EPS_M2)
        return distance.mean() + PIXEL_WEIGHT * error[:, PIXEL_TARGETS].abs().mean()

    return joint_distance_loss
